"""Offline geocoding: coordinates, grid references, postcodes, place text → BNG points.

Every row gets either a point in British National Grid (EPSG:27700, metres) with
the method used and an uncertainty radius in metres, or a rejection naming the
field, the value and the reason. Nothing is guessed: an ambiguous street or place
is rejected with its candidates.

Precedence (the first usable location wins):

1. ``easting``/``northing`` — ``bng``, ``bng_swapped``, ``wgs84_in_bng_fields``;
2. ``latitude``/``longitude`` — ``wgs84``, ``wgs84_swapped``;
3. ``postcode`` — ``postcode_unit``, ``postcode_sector``, ``postcode_district``;
4. ``location_text`` — ``junction``, ``street``, ``place``.

The gazetteer under ``data/gazetteer/`` is built by ``scripts/build_gazetteer.py``
from Code-Point Open, police.uk street names and GeoNames (see its README).
"""

from __future__ import annotations

from hotspot.geocode.gazetteer import (
    GAZETTEER_DIR,
    GAZETTEER_TABLES,
    HIPS_BOX_MARGIN_M,
    Box,
    Gazetteer,
    load_gazetteer,
)
from hotspot.geocode.normalise import (
    NON_STREET_LOCATIONS,
    normalise_postcode,
    normalise_text,
)
from hotspot.geocode.points import (
    COORDINATE_UNCERTAINTY_M,
    GEOCODE_COLUMNS,
    MIN_AREA_UNCERTAINTY_M,
    POSTCODE_UNIT_UNCERTAINTY_M,
    geocode,
)
from hotspot.geocode.text import TextMatch

__all__ = [
    "COORDINATE_UNCERTAINTY_M",
    "GAZETTEER_DIR",
    "GAZETTEER_TABLES",
    "GEOCODE_COLUMNS",
    "HIPS_BOX_MARGIN_M",
    "MIN_AREA_UNCERTAINTY_M",
    "NON_STREET_LOCATIONS",
    "POSTCODE_UNIT_UNCERTAINTY_M",
    "Box",
    "Gazetteer",
    "TextMatch",
    "geocode",
    "load_gazetteer",
    "normalise_postcode",
    "normalise_text",
]

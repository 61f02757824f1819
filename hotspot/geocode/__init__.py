"""Offline geocoding: coordinates, grid references, postcodes, place text → BNG points.

Every row gets either a point in British National Grid (EPSG:27700, metres) with
the method used, a precision class and an uncertainty radius in metres, or a
rejection naming the field, the value and the reason. Nothing is guessed: an
ambiguous or unknown street is never placed; its candidates are named.

Precedence (the first usable location wins):

1. ``easting``/``northing`` — ``bng``, ``bng_swapped``, ``wgs84_in_bng_fields``;
2. ``latitude``/``longitude`` — ``wgs84``, ``wgs84_swapped`` (police.uk rows:
   precision ``snap_point``);
3. ``postcode`` — ``postcode_unit``, ``postcode_sector``, ``postcode_district``;
4. ``location_text`` — ``junction``, ``street``, ``place``.

Which points an analysis may use is decided by one rule,
:func:`~hotspot.geocode.precision.precise_enough` (see ``docs/geocoding.md``).

Modules: :mod:`~hotspot.geocode.normalise` (text and postcodes),
:mod:`~hotspot.geocode.gazetteer` (tables and loader),
:mod:`~hotspot.geocode.points` (:func:`geocode`), :mod:`~hotspot.geocode.text`
(free text), :mod:`~hotspot.geocode.precision` (classes and the rule). The
gazetteer under ``data/gazetteer/`` is built by ``scripts/build_gazetteer.py`` from
Code-Point Open, police.uk street names and snap points, and GeoNames.
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
from hotspot.geocode.precision import (
    MAPPABLE_PRECISIONS,
    PRECISIONS,
    fill_precision,
    h3_edge_m,
    lsoa_is_certain,
    precise_enough,
    precision_summary,
)
from hotspot.geocode.text import TextMatch

__all__ = [
    "COORDINATE_UNCERTAINTY_M",
    "GAZETTEER_DIR",
    "GAZETTEER_TABLES",
    "GEOCODE_COLUMNS",
    "HIPS_BOX_MARGIN_M",
    "MAPPABLE_PRECISIONS",
    "MIN_AREA_UNCERTAINTY_M",
    "NON_STREET_LOCATIONS",
    "POSTCODE_UNIT_UNCERTAINTY_M",
    "PRECISIONS",
    "Box",
    "Gazetteer",
    "TextMatch",
    "fill_precision",
    "geocode",
    "h3_edge_m",
    "load_gazetteer",
    "lsoa_is_certain",
    "normalise_postcode",
    "normalise_text",
    "precise_enough",
    "precision_summary",
]

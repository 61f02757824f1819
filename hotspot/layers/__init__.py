"""Pure builders: tables and rasters → pydeck layers and decks (no Streamlit here).

Every builder takes plain tables (GeoDataFrames in EPSG:27700, or a
:class:`~hotspot.detect.kde.KDEResult`) and returns ``pydeck.Layer`` objects in
WGS84. One module per part of the map: :mod:`~hotspot.layers.style` (the one
palette), ``geometry``, ``base`` (the shipped base map), ``analysis`` (Gi*,
density, overlays), ``operations``, ``deck``, ``legend`` and ``maps`` (the whole
map in order).
"""

from __future__ import annotations

from hotspot.layers.analysis import (
    arson_layer,
    cells_outline_layer,
    choropleth_layer,
    focus_layer,
    gistar_layer,
    gistar_table,
    kde_image,
    kde_layer,
    points_layer,
)
from hotspot.layers.base import (
    area_labels,
    label_layer,
    land_layer,
    outline_layer,
    place_labels,
    sea_layer,
)
from hotspot.layers.deck import (
    CompactDeck,
    bounds_of,
    build_deck,
    metres_per_pixel,
    view_for_bounds,
)
from hotspot.layers.geometry import (
    lonlat_of,
    plain,
)
from hotspot.layers.legend import (
    base_legend,
    decile_legend,
    gistar_legend,
    legend_html,
    ramp_legend,
)
from hotspot.layers.maps import (
    BaseLayers,
    MapInputs,
    base_layers,
    map_layers,
)
from hotspot.layers.operations import (
    ACTIVITY_STYLES,
    OPERATION_RGB,
    OTHER_ACTIVITY_STYLE,
    activity_layers,
    activity_legend,
    activity_style,
    operation_area_layer,
    operation_layers,
)
from hotspot.layers.style import (
    ARSON_RGB,
    BIN_COLOURS,
    BIN_LABELS,
    COLOCATION_RGB,
    EMERGING_COLOURS,
    FIRE_RGB,
    FOCUS_RGB,
    LAND_RGB,
    NO_BASEMAP_STYLE,
    ONLINE_MAP_STYLE,
    OUTLINE_RGB,
    OUTSIDE_LAND_RGB,
    POINT_MIN_ZOOM,
    POINT_RGB,
    RAMP,
    RGBA,
    SEA_EXTENT,
    SEA_RGB,
    TOOLTIP,
    WARD_RGB,
    LegendEntry,
)
from hotspot.layers.trends import emerging_layer, emerging_legend

__all__ = [
    "ACTIVITY_STYLES",
    "ARSON_RGB",
    "BIN_COLOURS",
    "BIN_LABELS",
    "BaseLayers",
    "COLOCATION_RGB",
    "EMERGING_COLOURS",
    "CompactDeck",
    "FIRE_RGB",
    "FOCUS_RGB",
    "LAND_RGB",
    "OUTSIDE_LAND_RGB",
    "LegendEntry",
    "MapInputs",
    "NO_BASEMAP_STYLE",
    "ONLINE_MAP_STYLE",
    "OPERATION_RGB",
    "OTHER_ACTIVITY_STYLE",
    "OUTLINE_RGB",
    "POINT_MIN_ZOOM",
    "POINT_RGB",
    "RAMP",
    "RGBA",
    "SEA_EXTENT",
    "SEA_RGB",
    "TOOLTIP",
    "WARD_RGB",
    "activity_layers",
    "activity_legend",
    "activity_style",
    "area_labels",
    "arson_layer",
    "base_layers",
    "base_legend",
    "decile_legend",
    "emerging_layer",
    "emerging_legend",
    "bounds_of",
    "build_deck",
    "cells_outline_layer",
    "choropleth_layer",
    "focus_layer",
    "gistar_layer",
    "gistar_legend",
    "gistar_table",
    "kde_image",
    "kde_layer",
    "label_layer",
    "land_layer",
    "legend_html",
    "lonlat_of",
    "map_layers",
    "metres_per_pixel",
    "operation_area_layer",
    "operation_layers",
    "outline_layer",
    "place_labels",
    "plain",
    "points_layer",
    "ramp_legend",
    "sea_layer",
    "view_for_bounds",
]

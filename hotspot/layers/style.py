"""The map's style: the one palette (Gi* bins and every layer's colours), the tooltip.

The layer builders live beside this module in :mod:`hotspot.layers`:

Every builder takes plain tables (GeoDataFrames in EPSG:27700, or a
:class:`~hotspot.detect.kde.KDEResult`) and returns ``pydeck.Layer`` objects in
WGS84, reprojected through :mod:`hotspot.crs`. The base layer (land outside
HIPS and an approximate sea, HIPS land fill, CSP and ward outlines, place
labels) is shipped with the app, so the map looks right with no internet and
no basemap tiles (``map_style=None``); online tiles are an opt-in.

Colours are colour-blind safe: Gi* bins use ColorBrewer's diverging RdBu
(7 classes), the density surface and the deprivation deciles use viridis,
fires use dark pink (#c51b7d, not one of the hot-spot reds and oranges) and
co-location purple (#5d3a9b).

Every pickable layer carries ``title`` and ``tooltip`` columns of plain text,
shown by the deck's one tooltip template :data:`TOOLTIP`; the chart inserts them
as text (HTML-escaped), so the markup lives only in the template.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

RGBA = list[int]

#: Sea, HIPS land and land outside HIPS (drawn as land, greyer: not analysed).
SEA_RGB: tuple[int, int, int] = (170, 211, 223)
LAND_RGB: tuple[int, int, int] = (242, 239, 233)
OUTSIDE_LAND_RGB: tuple[int, int, int] = (222, 219, 212)
#: Gi* bin → fill colour (ColorBrewer RdBu, 7 classes; colour-blind safe).
BIN_COLOURS: dict[int, tuple[int, int, int]] = {
    3: (178, 24, 43),
    2: (239, 138, 98),
    1: (253, 219, 199),
    0: (200, 200, 200),
    -1: (209, 229, 240),
    -2: (103, 169, 207),
    -3: (33, 102, 172),
}
BIN_LABELS: dict[int, str] = {
    3: "Hot spot, 99% confidence",
    2: "Hot spot, 95% confidence",
    1: "Hot spot, 90% confidence",
    0: "Not significant (occurrences present)",
    -1: "Cold spot, 90% confidence",
    -2: "Cold spot, 95% confidence",
    -3: "Cold spot, 99% confidence",
}
#: Deliberate fires: PiYG's dark pink, apart from the Gi* reds and oranges,
#: the blues and the viridis ramp.
FIRE_RGB: tuple[int, int, int] = (197, 27, 125)
COLOCATION_RGB: tuple[int, int, int] = (93, 58, 155)
#: Police.uk criminal damage and arson circles (BrBG's dark brown).
ARSON_RGB: tuple[int, int, int] = (140, 81, 10)
OUTLINE_RGB: tuple[int, int, int] = (40, 40, 40)
WARD_RGB: tuple[int, int, int] = (110, 110, 110)
POINT_RGB: tuple[int, int, int] = (20, 20, 20)
FOCUS_RGB: tuple[int, int, int] = (0, 0, 0)
#: Zoom at and beyond which occurrence points may be drawn (about 1:17,000).
POINT_MIN_ZOOM = 14.0
#: Colour ramp of the density surface and deprivation deciles.
RAMP = "viridis"
#: The deck's tooltip: every pickable layer has ``title`` and ``tooltip`` columns.
TOOLTIP: dict[str, Any] = {
    "html": "<div style='max-width:300px;font-size:13px;line-height:1.35'>"
    "<b>{title}</b><br/>{tooltip}</div>",
    "style": {"backgroundColor": "#ffffff", "color": "#111111",
              "border": "1px solid #555"},
}
#: Online basemap (opt-in only): Carto's light style.
ONLINE_MAP_STYLE = "light"
#: pydeck's "no style given" sentinel. Streamlit's deck chart treats a missing or
#: null ``mapStyle`` as "pick a Carto basemap for the theme" (it then fetches
#: basemaps.cartocdn.com), whereas this sentinel with no map provider makes it
#: drop the basemap entirely: no tiles, no network requests.
NO_BASEMAP_STYLE = "__MAP_STYLE__"
#: Extent painted as sea behind everything (lon/lat), a little beyond HIPS.
SEA_EXTENT: tuple[float, float, float, float] = (-3.2, 50.2, 0.4, 51.8)


@dataclass(frozen=True)
class LegendEntry:
    """One legend line: a swatch colour and its label."""

    rgb: tuple[int, int, int]
    label: str
    shape: str = "square"  # square | line | dot | glyph
    glyph: str = ""  # the letters drawn on the map, for shape "glyph"


#: Emerging hot-spot category → fill (hot: YlOrRd, darkest for the worst news;
#: cold: Blues). "no pattern" is not drawn.
EMERGING_COLOURS: dict[str, tuple[int, int, int]] = {
    "intensifying hot spot": (128, 0, 38),
    "new hot spot": (227, 26, 28),
    "consecutive hot spot": (252, 78, 42),
    "persistent hot spot": (253, 141, 60),
    "diminishing hot spot": (254, 178, 76),
    "oscillating hot spot": (254, 217, 118),
    "sporadic hot spot": (255, 237, 160),
    "historical hot spot": (189, 189, 189),
    "intensifying cold spot": (8, 48, 107),
    "new cold spot": (33, 113, 181),
    "consecutive cold spot": (66, 146, 198),
    "persistent cold spot": (107, 174, 214),
    "diminishing cold spot": (158, 202, 225),
    "oscillating cold spot": (198, 219, 239),
    "sporadic cold spot": (222, 235, 247),
    "historical cold spot": (150, 150, 170),
}

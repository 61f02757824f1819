"""Pure builders: tables and rasters → pydeck layers and decks (no Streamlit here).

Every builder takes plain tables (GeoDataFrames in EPSG:27700, or a
:class:`~hotspot.detect.kde.KDEResult`) and returns ``pydeck.Layer`` objects in
WGS84, reprojected through :mod:`hotspot.crs`. The base layer (sea-coloured
background, HIPS land fill, CSP and ward outlines, place labels) is shipped with
the app, so the map looks right with no internet and no basemap tiles
(``map_style=None``); online tiles are an opt-in.

Colours are colour-blind safe: Gi* bins use ColorBrewer's diverging RdBu
(7 classes), the density surface and the deprivation deciles use viridis,
fires use orange (#e66100) and co-location purple (#5d3a9b), a pair that stays
distinct under the common colour-vision deficiencies.

Every pickable layer carries ``title`` and ``tooltip`` columns of plain text,
shown by the deck's one tooltip template :data:`TOOLTIP`; the chart inserts them
as text (HTML-escaped), so the markup lives only in the template.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize

from hotspot.crs import bng_to_lonlat, require_bng, to_wgs84
from hotspot.errors import ParameterError

if TYPE_CHECKING:  # the density code (rasterio, scipy.signal) loads when needed
    from hotspot.detect.kde import KDEResult

logger = logging.getLogger(__name__)

RGBA = list[int]

#: Background (sea) and land colours of the shipped base layer.
SEA_RGB: tuple[int, int, int] = (170, 211, 223)
LAND_RGB: tuple[int, int, int] = (242, 239, 233)
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
FIRE_RGB: tuple[int, int, int] = (230, 97, 0)
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


# ----------------------------------------------------------------------------
# geometry helpers
# ----------------------------------------------------------------------------


def _colormap(name: str) -> Any:
    """Return a matplotlib colour map (imported here: it is slow to import)."""
    import matplotlib as mpl

    return mpl.colormaps[name]


def _rounded(coords: np.ndarray) -> list[list[float]]:
    rounded: list[list[float]] = np.round(coords[:, :2], 6).tolist()
    return rounded


def _polygon_rings(geom: shapely.Geometry) -> list[list[list[list[float]]]]:
    """Each polygon part of ``geom`` as [exterior, *holes] rings of [lon, lat]."""
    parts = getattr(geom, "geoms", [geom])
    out = []
    for part in parts:
        if part.is_empty or part.geom_type != "Polygon":
            continue
        rings = [_rounded(np.asarray(part.exterior.coords))]
        rings += [_rounded(np.asarray(r.coords)) for r in part.interiors]
        out.append(rings)
    return out


def _paths(geom: shapely.Geometry) -> list[list[list[float]]]:
    """Every ring of ``geom`` as a path of [lon, lat]."""
    return [ring for part in _polygon_rings(geom) for ring in part]


def _display(frame: gpd.GeoDataFrame, *, simplify_m: float = 0.0,
             name: str = "frame") -> gpd.GeoDataFrame:
    """``frame`` simplified in metres (EPSG:27700) then in WGS84 for display."""
    require_bng(frame, name=name)
    out = frame
    if simplify_m > 0:
        out = frame.copy()
        out["geometry"] = frame.geometry.simplify(simplify_m)
    return to_wgs84(out)


def lonlat_of(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of the representative point of each geometry."""
    require_bng(frame, name="frame")
    pts = frame.geometry.representative_point()
    return bng_to_lonlat(pts.x.to_numpy(), pts.y.to_numpy())


def _check_columns(frame: pd.DataFrame, needed: Sequence[str], *, name: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{name} must have columns {list(needed)}; missing {missing}"
        )


def plain(text: pd.Series) -> pd.Series:
    """Return a text column for tooltips: strings, empty where missing.

    No escaping here: the deck chart inserts values into :data:`TOOLTIP` as
    text, so markup in a value is shown, never run.
    """
    return text.astype("string").fillna("").astype(object)


# ----------------------------------------------------------------------------
# base layer
# ----------------------------------------------------------------------------


def sea_layer(extent: tuple[float, float, float, float] = SEA_EXTENT) -> pdk.Layer:
    """Build a sea-coloured rectangle behind everything (the background)."""
    w, s, e, n = extent
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    return pdk.Layer(
        "PolygonLayer", data=[{"polygon": ring}], id="sea", get_polygon="polygon",
        get_fill_color=list(SEA_RGB), stroked=False, filled=True, pickable=False,
    )


def land_layer(outline: gpd.GeoDataFrame, *, simplify_m: float = 60.0) -> pdk.Layer:
    """Build the HIPS land area (coastline-clipped outline) as a light fill."""
    shown = _display(outline, simplify_m=simplify_m, name="outline")
    data = [{"polygon": rings} for g in shown.geometry for rings in _polygon_rings(g)]
    return pdk.Layer(
        "PolygonLayer", data=data, id="land", get_polygon="polygon",
        get_fill_color=list(LAND_RGB), stroked=False, filled=True, pickable=False,
    )


def outline_layer(
    areas: gpd.GeoDataFrame,
    *,
    layer_id: str,
    rgb: tuple[int, int, int] = OUTLINE_RGB,
    width_px: float = 2.0,
    simplify_m: float = 40.0,
) -> pdk.Layer:
    """Outlines of polygons (CSPs, wards) as paths, not pickable."""
    shown = _display(areas, simplify_m=simplify_m, name=layer_id)
    data = [{"path": path} for g in shown.geometry for path in _paths(g)]
    return pdk.Layer(
        "PathLayer", data=data, id=layer_id, get_path="path", get_color=list(rgb),
        get_width=width_px, width_units="'pixels'", width_min_pixels=1,
        pickable=False,
    )


def label_layer(
    labels: pd.DataFrame,
    *,
    layer_id: str,
    size_px: float = 14.0,
    rgb: tuple[int, int, int] = OUTLINE_RGB,
    bold: bool = False,
) -> pdk.Layer:
    """Text labels from a table with ``lon``, ``lat`` and ``text`` columns."""
    _check_columns(labels, ("lon", "lat", "text"), name="labels")
    data = pd.DataFrame({
        "position": [[round(float(x), 6), round(float(y), 6)]
                     for x, y in zip(labels["lon"], labels["lat"], strict=True)],
        "text": labels["text"].astype(str).to_numpy(),
    })
    return pdk.Layer(
        "TextLayer", data=data, id=layer_id, get_position="position",
        get_text="text", get_size=size_px, size_units="'pixels'",
        get_color=list(rgb), font_weight=700 if bold else 400,
        outline_width=4, outline_color=[255, 255, 255, 220],
        font_settings={"sdf": True}, font_family="'Helvetica, Arial, sans-serif'",
        get_text_anchor="'middle'",
        get_alignment_baseline="'center'", pickable=False,
    )


def area_labels(areas: gpd.GeoDataFrame, *, name_column: str,
                m_per_px: float | None = None, size_px: float = 14.0) -> pd.DataFrame:
    """Label positions and texts for ``areas``.

    Each label sits at the pole of inaccessibility of the area's largest part
    (the inside point farthest from its edge, ``shapely.ops.polylabel``), so a
    name stays inside its area and as far as it can from its neighbours' names.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Polygons in EPSG:27700.
    name_column : str, keyword-only
        Column holding the names.
    m_per_px : float, optional, keyword-only
        Metres per screen pixel at the zoom the map opens at. When given, a
        label whose text would overlap a larger area's label is moved (up to
        three lines up or down, half its width sideways), staying inside its
        own area, until it does not, so that neighbours such as Hart and
        Rushmoor stay readable.
    size_px : float, keyword-only
        Text height in pixels (for the overlap test).
    """
    _check_columns(areas, (name_column,), name="areas")
    require_bng(areas, name="areas")
    spots = [_label_point(g) for g in areas.geometry]
    x = np.array([p.x for p in spots], dtype=float)
    y = np.array([p.y for p in spots], dtype=float)
    texts = areas[name_column].astype(str).to_numpy()
    if m_per_px is not None and len(texts) > 1:
        x, y = _spread_labels(x, y, texts, areas.geometry, m_per_px=m_per_px,
                              size_px=size_px)
    lon, lat = bng_to_lonlat(x, y)
    return pd.DataFrame({"lon": lon, "lat": lat, "text": texts})


def _spread_labels(x: np.ndarray, y: np.ndarray, texts: np.ndarray,
                   shapes: gpd.GeoSeries, *, m_per_px: float,
                   size_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Label anchors moved so that label boxes do not overlap.

    Labels are placed one by one; each tries moves of up to three lines (a
    line is 1.2 × the text height) up or down and up to its width sideways,
    nearest first, and takes the first spot that is free and still inside its
    own area, or stays where it was. Placing the largest areas first and the
    smallest first are both tried; the one leaving fewer overlaps wins (ties:
    largest first). Box widths assume an average bold character 0.62 × the
    text height wide.
    """
    line = 1.2 * size_px * m_per_px
    half_w = np.array([0.31 * size_px * len(t) for t in texts]) * m_per_px

    def clashes(i: int, tx: float, ty: float, placed: list[int],
                px: np.ndarray, py: np.ndarray) -> bool:
        return any(abs(tx - px[j]) < half_w[i] + half_w[j]
                   and abs(ty - py[j]) < line for j in placed)

    def place(order: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        px, py = x.copy(), y.copy()
        placed: list[int] = []
        left = 0
        for i in order:
            moves = sorted(((dx * half_w[i], dy * line)
                            for dx in (0, -0.5, 0.5, -1, 1)
                            for dy in (0, -0.5, 0.5, -1, 1, -1.5, 1.5, -2, 2,
                                       -3, 3)),
                           key=lambda m: math.hypot(*m))
            for dx, dy in moves:
                tx, ty = x[i] + dx, y[i] + dy
                if not clashes(i, tx, ty, placed, px, py) and (
                        dx == dy == 0
                        or shapely.contains_xy(shapes.iloc[i], tx, ty)):
                    px[i], py[i] = tx, ty
                    break
            else:
                left += 1
            placed.append(int(i))
        return px, py, left

    by_area = np.argsort(-shapes.area.to_numpy(), kind="stable")
    big_first = place(by_area)
    small_first = place(by_area[::-1])
    best = small_first if small_first[2] < big_first[2] else big_first
    return best[0], best[1]


def _label_point(geom: Any) -> shapely.Point:
    from shapely.ops import polylabel

    parts = list(getattr(geom, "geoms", [geom]))
    largest = max(parts, key=lambda g: g.area)
    tolerance = max(largest.area ** 0.5 / 200, 1.0)  # metres
    return polylabel(largest, tolerance=tolerance)


def place_labels(places: pd.DataFrame, *, within: gpd.GeoDataFrame | None = None,
                 min_spacing_m: float = 3000.0, limit: int = 60,
                 avoid: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Place-name labels from the gazetteer, thinned so they do not overlap.

    Parameters
    ----------
    places : pandas.DataFrame
        ``data/gazetteer/places.parquet``: ``name``, ``x``, ``y`` (EPSG:27700).
    within : geopandas.GeoDataFrame, optional, keyword-only
        Keep only places inside these polygons (EPSG:27700).
    min_spacing_m : float, keyword-only
        Keep a place only when it is at least this far from every place kept
        before it (in the gazetteer's order), so labels stay readable.
    limit : int, keyword-only
        At most this many labels.
    avoid : geopandas.GeoDataFrame, optional, keyword-only
        Areas labelled by name on the same map (the CSPs, ``csp_name``): a
        place is left out when it has an area's name, or would sit within
        ``min_spacing_m`` of an area's label, so the two do not overlap.
    """
    _check_columns(places, ("name", "x", "y"), name="places")
    table = places.dropna(subset=["x", "y"]).drop_duplicates("name")
    if avoid is not None and len(avoid):
        require_bng(avoid, name="avoid")
        names = set(avoid["csp_name"].astype(str).str.casefold())
        table = table[~table["name"].astype(str).str.casefold().isin(names)]
        spots = [_label_point(g) for g in avoid.geometry]
        sx = np.array([p.x for p in spots])
        sy = np.array([p.y for p in spots])
        gap = np.hypot(table["x"].to_numpy(float)[:, None] - sx[None],
                       table["y"].to_numpy(float)[:, None] - sy[None])
        table = table[(gap >= min_spacing_m).all(axis=1)]
    if "kind" in table.columns:
        table = table[table["kind"].astype(str) != "district"]
    if within is not None:
        require_bng(within, name="within")
        area = within.geometry.union_all()
        inside = shapely.contains_xy(area, table["x"].to_numpy(float),
                                     table["y"].to_numpy(float))
        table = table[inside]
    if min_spacing_m <= 0:
        raise ParameterError(f"min_spacing_m must be > 0, got {min_spacing_m!r}")
    # greedy, in the gazetteer's order: a place is kept when it is at least
    # min_spacing_m from every place kept before it
    xs, ys = table["x"].to_numpy(float), table["y"].to_numpy(float)
    kept: list[int] = []
    for i in range(len(table)):
        if len(kept) >= limit:
            break
        if not kept or np.min(np.hypot(xs[kept] - xs[i], ys[kept] - ys[i])) \
                >= min_spacing_m:
            kept.append(i)
    table = table.iloc[kept]
    lon, lat = bng_to_lonlat(table["x"].to_numpy(float), table["y"].to_numpy(float))
    return pd.DataFrame({"lon": lon, "lat": lat,
                         "text": table["name"].astype(str).to_numpy()})


# ----------------------------------------------------------------------------
# analysis layers
# ----------------------------------------------------------------------------


def gistar_table(cells: gpd.GeoDataFrame, *, show_zero: bool = False) -> pd.DataFrame:
    """Return the rows and columns of a Gi* cell table that the hexagons draw.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Gi* cells (EPSG:27700) with ``h3``, ``count``, ``bin`` and
        ``explanation`` (``csp_name``, ``harm`` and ``z`` when present).
    show_zero : bool, keyword-only
        Keep cells that are neither significant nor hold an occurrence.

    Returns
    -------
    pandas.DataFrame
        ``h3``, ``bin``, ``fill`` and ``line`` (RGBA), ``title`` and
        ``tooltip`` (plain text). No geometry: the H3 index is the shape.
    """
    _check_columns(cells, ("h3", "count", "bin", "explanation"), name="cells")
    keep = (cells["bin"] != 0) | (cells["count"] > 0) | show_zero
    shown = cells[keep]
    bins = shown["bin"].astype(int).to_numpy()
    alpha = np.where(bins == 0, 120, 210)
    fill = [[*BIN_COLOURS[int(b)], int(a)] for b, a in zip(bins, alpha, strict=True)]
    line = [[*BIN_COLOURS[int(b)], 255] if b != 0 else [255, 255, 255, 140]
            for b in bins]
    area = plain(shown.get("csp_name", pd.Series("", index=shown.index)))
    title = area + " · cell " + plain(shown["h3"])
    return pd.DataFrame({
        "h3": shown["h3"].astype(str).to_numpy(),
        "bin": bins,
        "fill": fill,
        "line": line,
        "title": title.to_numpy(),
        "tooltip": plain(shown["explanation"]).to_numpy(),
    })


def gistar_layer(cells: gpd.GeoDataFrame, *, show_zero: bool = False,
                 line_px: float = 1.0) -> pdk.Layer:
    """Gi* bins as flat H3 hexagons (diverging RdBu fill).

    An ``H3HexagonLayer``: the browser draws each hexagon from its H3 index
    (h3-js ships inside the deck.gl bundle), so no vertices are sent.

    Significant cells are edged in their own colour, so that far out (a
    hexagon smaller than a pixel) they still show as coloured dots; other cells
    get a thin white edge.

    ``highPrecision`` is off: deck.gl then draws every hexagon as one instance
    of the hexagon at the view's centre (exact enough across HIPS, about
    100 km) instead of a polygon and an outline path per cell. In Chromium with
    software GL the per-cell outlines cost about 1.5 s of the first frame
    (measured: 3.4-3.7 s against 2.0-2.2 s for the same deck), and the
    pictures are the same.
    """
    data = gistar_table(cells, show_zero=show_zero)
    return pdk.Layer(
        "H3HexagonLayer", data=data, id="gistar", get_hexagon="h3",
        get_fill_color="fill", get_line_color="line",
        get_line_width=line_px, line_width_units="'pixels'", stroked=True,
        filled=True, extruded=False, high_precision=False, pickable=True,
        auto_highlight=True,
    )


def focus_layer(cells: gpd.GeoDataFrame) -> pdk.Layer:
    """Build a thick outline around the hot spot cell(s) zoomed to."""
    shown = _display(cells, name="focus")
    data = [{"path": path} for g in shown.geometry for path in _paths(g)]
    return pdk.Layer(
        "PathLayer", data=data, id="focus", get_path="path",
        get_color=list(FOCUS_RGB), get_width=4, width_units="'pixels'",
        pickable=False,
    )


def kde_image(
    values: np.ndarray, *, vmax: float | None = None, ramp: str = RAMP
) -> tuple[str, float]:
    """Render a density raster as a PNG data URI (transparent where zero or NaN).

    Parameters
    ----------
    values : numpy.ndarray
        2-D densities (rows north to south), NaN outside the study area.
    vmax : float, optional, keyword-only
        Density drawn at full colour; default the 99.5th percentile of the
        positive values (so one extreme cell does not wash out the rest).
    ramp : str, keyword-only
        Matplotlib colour map name.

    Returns
    -------
    uri : str
        ``data:image/png;base64,...``.
    vmax : float
        The density at full colour (for the legend).
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ParameterError(f"values must be a 2-D raster, got shape {arr.shape}")
    positive = arr[np.isfinite(arr) & (arr > 0)]
    if vmax is None:
        vmax = float(np.quantile(positive, 0.995)) if positive.size else 1.0
    vmax = vmax if vmax > 0 else 1.0
    norm = np.clip(np.nan_to_num(arr, nan=0.0) / vmax, 0.0, 1.0)
    rgba = _colormap(ramp)(norm)
    rgba[..., 3] = np.where(norm > 0.02, 0.25 + 0.6 * np.sqrt(norm), 0.0)
    buf = io.BytesIO()
    import matplotlib.image

    matplotlib.image.imsave(buf, rgba, format="png")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return uri, vmax


def kde_layer(result: KDEResult, *, vmax: float | None = None) -> pdk.Layer:
    """Build the kernel density surface as a bitmap placed by its four corners.

    The raster is north-up in British National Grid; its corners are projected
    to WGS84 and the image is stretched between them (a BNG rectangle is a
    near-rectangle in WGS84 at this scale, off by well under a raster cell).
    """
    uri, _ = kde_image(result.values, vmax=vmax)
    x0, y0, x1, y1 = result.bounds
    lon, lat = bng_to_lonlat([x0, x0, x1, x1], [y0, y1, y1, y0])
    corners = [[round(float(a), 6), round(float(b), 6)]
               for a, b in zip(lon, lat, strict=True)]
    # quoted: pydeck would otherwise turn the string into an accessor expression
    return pdk.Layer("BitmapLayer", data=None, id="kde", image=f"'{uri}'",
                     bounds=corners,
                     opacity=0.85, pickable=False)


def choropleth_layer(
    areas: gpd.GeoDataFrame,
    *,
    value: str,
    layer_id: str,
    tooltip: str,
    title: str = "Deprivation",
    classes: int = 10,
    reverse: bool = True,
    simplify_m: float = 10.0,
) -> pdk.Layer:
    """Polygons filled by an integer class 1..``classes`` (IMD deciles, say).

    Decile 1 (most deprived) is the darkest when ``reverse`` is on. Polygons
    without a value are left out.
    """
    _check_columns(areas, (value, tooltip), name=layer_id)
    has = areas[value].notna()
    shown = _display(areas[has], simplify_m=simplify_m, name=layer_id)
    cls = shown[value].astype(int).clip(1, classes).to_numpy()
    pos = (cls - 1) / (classes - 1) if reverse else (classes - cls) / (classes - 1)
    rgb = (_colormap(RAMP)(pos)[:, :3] * 255).round().astype(int)
    rows = []
    tips = plain(shown[tooltip]).to_numpy()
    for geom, colour, tip in zip(shown.geometry, rgb, tips, strict=True):
        for rings in _polygon_rings(geom):
            rows.append({"polygon": rings, "fill": [*colour.tolist(), 120],
                         "title": title, "tooltip": tip})
    return pdk.Layer(
        "PolygonLayer", data=rows, id=layer_id, get_polygon="polygon",
        get_fill_color="fill", stroked=False, filled=True, pickable=True,
    )


def points_layer(
    points: gpd.GeoDataFrame,
    *,
    layer_id: str,
    rgb: tuple[int, int, int] = POINT_RGB,
    radius_m: float = 12.0,
    tooltip: str | None = None,
    title: str = "",
) -> pdk.Layer:
    """Points (occurrences, fires) as small dots in metres."""
    require_bng(points, name=layer_id)
    ok = points.geometry.notna() & ~points.geometry.is_empty
    pts = points[ok]
    lon, lat = bng_to_lonlat(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    tips = (plain(pts[tooltip]) if tooltip
            else pd.Series("", index=pts.index, dtype=object))
    data = pd.DataFrame({
        "position": [[round(float(a), 6), round(float(b), 6)]
                     for a, b in zip(lon, lat, strict=True)],
        "title": title,
        "tooltip": tips.to_numpy(),
    })
    return pdk.Layer(
        "ScatterplotLayer", data=data, id=layer_id, get_position="position",
        get_fill_color=[*rgb, 200], get_radius=radius_m, radius_units="'meters'",
        radius_min_pixels=2, radius_max_pixels=8, pickable=tooltip is not None,
        stroked=True, get_line_color=[255, 255, 255, 200], line_width_min_pixels=1,
    )


def arson_layer(cells: gpd.GeoDataFrame, *, months: str) -> pdk.Layer:
    """Police.uk criminal damage and arson counts as circles at cell centres.

    The circle's area grows with the count (radius ∝ √count, 3 to 18 pixels),
    so the layer reads as a proportional-symbol map on top of the hexagons.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        :func:`hotspot.context.fires.arson_per_cell` (``h3``, ``count``, centre points).
    months : str, keyword-only
        The period counted, for the tooltip (e.g. ``"2024-10 to 2025-09"``).
    """
    _check_columns(cells, ("h3", "count"), name="cells")
    require_bng(cells, name="cells")
    lon, lat = bng_to_lonlat(cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy())
    counts = cells["count"].astype(int).to_numpy()
    top = max(int(counts.max()), 1) if len(counts) else 1
    data = pd.DataFrame({
        "position": [[round(float(a), 6), round(float(b), 6)]
                     for a, b in zip(lon, lat, strict=True)],
        "radius": np.round(3 + 15 * np.sqrt(counts / top), 1),
        "title": "Criminal damage and arson (police.uk)",
        "tooltip": [f"{n:,} police.uk crime{'s' if n != 1 else ''} recorded as "
                    f"criminal damage and arson in this area, {months}. Criminal "
                    "damage is included: not a count of fires." for n in counts],
    })
    return pdk.Layer(
        "ScatterplotLayer", data=data, id="arson", get_position="position",
        get_radius="radius", radius_units="'pixels'", get_fill_color=[*ARSON_RGB, 60],
        stroked=True, get_line_color=[*ARSON_RGB, 230], line_width_min_pixels=1.5,
        pickable=True,
    )


def cells_outline_layer(
    cells: gpd.GeoDataFrame, *, layer_id: str, rgb: tuple[int, int, int],
    tooltip: str, title: str = "", width_px: float = 3.0,
) -> pdk.Layer:
    """H3 cells drawn as thick coloured outlines (fire/violence co-location)."""
    _check_columns(cells, (tooltip,), name=layer_id)
    shown = _display(cells, name=layer_id)
    data = pd.DataFrame({
        "polygon": [_rounded(np.asarray(g.exterior.coords)) for g in shown.geometry],
        "title": title,
        "tooltip": plain(shown[tooltip]).to_numpy(),
    })
    return pdk.Layer(
        "PolygonLayer", data=data, id=layer_id, get_polygon="polygon",
        get_fill_color=[*rgb, 40], get_line_color=[*rgb, 255],
        get_line_width=width_px, line_width_units="'pixels'", stroked=True,
        filled=True, pickable=True,
    )


#: Activity kind → (colour, glyph). Okabe-Ito colours (colour-blind safe) with a
#: short glyph drawn on every feature, so kinds differ by more than colour.
ACTIVITY_STYLES: dict[str, tuple[tuple[int, int, int], str]] = {
    "patrol_zone": ((213, 94, 0), "P"),
    "s60_area": ((0, 114, 178), "60"),
    "s35_zone": ((204, 121, 167), "35"),
    "cctv": ((0, 0, 0), "C"),
    "outreach": ((0, 158, 115), "Y"),
    "school": ((86, 180, 233), "S"),
    "test_purchase": ((230, 159, 0), "T"),
    "surrender_bin": ((120, 94, 240), "B"),
    "community_event": ((150, 130, 0), "E"),
}
#: Style of a kind not in :data:`ACTIVITY_STYLES`.
OTHER_ACTIVITY_STYLE: tuple[tuple[int, int, int], str] = ((90, 90, 90), "?")
#: Outline colour of an operation's area.
OPERATION_RGB: tuple[int, int, int] = (17, 17, 17)


def activity_style(kind: str) -> tuple[tuple[int, int, int], str]:
    """Colour and glyph of an activity kind (a grey "?" for an unknown kind)."""
    return ACTIVITY_STYLES.get(kind, OTHER_ACTIVITY_STYLE)


def operation_area_layer(
    areas: gpd.GeoDataFrame, *, layer_id: str = "operation_areas"
) -> pdk.Layer:
    """Operation areas as thick dark outlines with a faint fill, pickable.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        :func:`hotspot.operations.model.operations_table`: ``name``, ``period_start``,
        ``period_end``, ``status`` and the area (EPSG:27700).
    layer_id : str, keyword-only
        Layer id.
    """
    _check_columns(areas, ("name", "period_start", "period_end", "status"),
                   name=layer_id)
    shown = _display(areas, name=layer_id)
    rows = []
    for _, row in shown.iterrows():
        tip = (f"{row['period_start']} to {row['period_end']}, {row['status']}")
        for rings in _polygon_rings(row.geometry):
            rows.append({"polygon": rings, "title": f"Operation: {row['name']}",
                         "tooltip": tip})
    return pdk.Layer(
        "PolygonLayer", data=rows, id=layer_id, get_polygon="polygon",
        get_fill_color=[*OPERATION_RGB, 18], get_line_color=[*OPERATION_RGB, 255],
        get_line_width=3, line_width_units="'pixels'", stroked=True, filled=True,
        pickable=True,
    )


def activity_layers(
    activities: gpd.GeoDataFrame, *, layer_id: str = "activities"
) -> list[pdk.Layer]:
    """Draw an operation's activities: one colour and glyph per kind.

    Polygons (patrol zones, section 60 and 35 areas, ...) are drawn as coloured
    outlines with a light fill; points (CCTV, schools, ...) as coloured discs;
    every feature carries its kind's glyph (:data:`ACTIVITY_STYLES`) as a label.

    Parameters
    ----------
    activities : geopandas.GeoDataFrame
        :func:`hotspot.operations.model.activities_table`: ``kind``, ``kind_label``,
        ``label`` and geometry (EPSG:27700).
    layer_id : str, keyword-only
        Prefix of the layer ids (``_areas``, ``_points``, ``_glyphs``).

    Returns
    -------
    list of pydeck.Layer
        Areas, points and glyphs, bottom first (empty layers left out).
    """
    _check_columns(activities, ("kind", "kind_label", "label"), name=layer_id)
    ok = activities.geometry.notna() & ~activities.geometry.is_empty
    shown = _display(activities[ok.to_numpy()], name=layer_id)
    lon, lat = lonlat_of(activities[ok.to_numpy()])
    areas, points, glyphs = [], [], []
    for i, (_, row) in enumerate(shown.iterrows()):
        rgb, glyph = activity_style(str(row["kind"]))
        common = {"title": str(row["kind_label"]), "tooltip": str(row["label"]),
                  "colour": [*rgb, 255]}
        if row.geometry.geom_type in ("Polygon", "MultiPolygon"):
            for rings in _polygon_rings(row.geometry):
                areas.append({**common, "polygon": rings, "fill": [*rgb, 45]})
        else:
            for part in getattr(row.geometry, "geoms", [row.geometry]):
                points.append({**common, "position": [round(part.x, 6),
                                                      round(part.y, 6)]})
        glyphs.append({"position": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
                       "text": glyph, "colour": [*rgb, 255]})
    out: list[pdk.Layer] = []
    if areas:
        out.append(pdk.Layer(
            "PolygonLayer", data=areas, id=f"{layer_id}_areas",
            get_polygon="polygon", get_fill_color="fill", get_line_color="colour",
            get_line_width=2.5, line_width_units="'pixels'", stroked=True,
            filled=True, pickable=True,
        ))
    if points:
        out.append(pdk.Layer(
            "ScatterplotLayer", data=points, id=f"{layer_id}_points",
            get_position="position", get_fill_color="colour", get_radius=40,
            radius_units="'meters'", radius_min_pixels=7, radius_max_pixels=14,
            stroked=True, get_line_color=[255, 255, 255, 255],
            line_width_min_pixels=2, pickable=True,
        ))
    if glyphs:
        out.append(pdk.Layer(
            "TextLayer", data=glyphs, id=f"{layer_id}_glyphs",
            get_position="position", get_text="text", get_size=12,
            size_units="'pixels'", get_color="colour", font_weight=700,
            outline_width=5, outline_color=[255, 255, 255, 235],
            font_settings={"sdf": True},
            font_family="'Helvetica, Arial, sans-serif'",
            get_text_anchor="'middle'", get_alignment_baseline="'center'",
            get_pixel_offset=[0, -16], pickable=False,
        ))
    return out


def operation_layers(
    operations: gpd.GeoDataFrame | None = None,
    activities: gpd.GeoDataFrame | None = None,
) -> list[pdk.Layer]:
    """Operation areas and, when given, their activities (bottom first).

    Parameters
    ----------
    operations : geopandas.GeoDataFrame or None
        :func:`hotspot.operations.model.operations_table`; None or empty for none.
    activities : geopandas.GeoDataFrame or None
        :func:`hotspot.operations.model.activities_table` (one or more operations).
    """
    out: list[pdk.Layer] = []
    if operations is not None and len(operations):
        out.append(operation_area_layer(operations))
    if activities is not None and len(activities):
        out.extend(activity_layers(activities))
    return out


def activity_legend(kinds: Sequence[str], labels: dict[str, str]) -> list[LegendEntry]:
    """Legend lines for the activity kinds present, in the given order.

    Parameters
    ----------
    kinds : sequence of str
        Kinds present (duplicates are shown once).
    labels : dict of str to str
        Kind → label shown (``ACTIVITY_KINDS[kind].label``).
    """
    out = [LegendEntry(OPERATION_RGB, "Operation area", shape="line")]
    for kind in dict.fromkeys(kinds):
        rgb, glyph = activity_style(kind)
        out.append(LegendEntry(rgb, labels.get(kind, kind), shape="glyph",
                               glyph=glyph))
    return out


# ----------------------------------------------------------------------------
# the deck
# ----------------------------------------------------------------------------


def view_for_bounds(
    bounds: tuple[float, float, float, float],
    *,
    width_px: int = 640,
    height_px: int = 470,
    max_zoom: float = 16.0,
) -> pdk.ViewState:
    """Return a view state that fits lon/lat ``bounds`` (west, south, east, north).

    deck.gl's world is 512 pixels wide at zoom 0 (Web Mercator), so the zoom
    that fits a span of ``d`` degrees across ``w`` pixels is
    ``log2(w * 360 / (512 d))``; the smaller of the two axes' zooms wins.
    """
    w, s, e, n = bounds
    lon, lat = (w + e) / 2, (s + n) / 2
    span_lon = max(e - w, 1e-4)
    y = [math.log(math.tan(math.pi / 4 + math.radians(v) / 2)) for v in (s, n)]
    span_merc = max(y[1] - y[0], 1e-6)
    zoom_x = math.log2(width_px * 360.0 / (512.0 * span_lon))
    zoom_y = math.log2(height_px * 2 * math.pi / (512.0 * span_merc))
    zoom = max(0.0, min(zoom_x, zoom_y, max_zoom) - 0.15)
    return pdk.ViewState(longitude=lon, latitude=lat, zoom=round(zoom, 2),
                         pitch=0, bearing=0)


def metres_per_pixel(view: pdk.ViewState) -> float:
    """Ground metres per screen pixel at a view's centre and zoom.

    deck.gl's Web Mercator world is 512 pixels wide at zoom 0.
    """
    lat = math.radians(float(view.latitude or 0.0))
    return 40_075_016.686 * math.cos(lat) / (512.0 * 2.0 ** float(view.zoom or 0.0))


def bounds_of(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """Lon/lat bounds (west, south, east, north) of a frame in EPSG:27700."""
    require_bng(frame, name="frame")
    x0, y0, x1, y1 = frame.total_bounds
    lon, lat = bng_to_lonlat([x0, x0, x1, x1], [y0, y1, y0, y1])
    return (float(min(lon)), float(min(lat)), float(max(lon)), float(max(lat)))


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation.

    pydeck indents its JSON by two spaces, one value per line, which more than
    doubles what the browser receives and parses on every rerun (2.0 MB against
    0.8 MB for the default view); the content is identical.
    """

    def to_json(self) -> str:
        """Return the deck specification as compact JSON."""
        return json.dumps(self, sort_keys=True, default=default_serialize,
                          separators=(",", ":"))


def build_deck(
    layers: Sequence[pdk.Layer],
    *,
    view_state: pdk.ViewState,
    basemap: bool = False,
) -> pdk.Deck:
    """Assemble the deck: offline by default (no tiles), with the shared tooltip.

    Parameters
    ----------
    layers : sequence of pydeck.Layer
        Bottom first; include :func:`sea_layer` and :func:`land_layer` first
        for the offline base.
    view_state : pydeck.ViewState
        Where the map opens.
    basemap : bool, keyword-only
        Use online Carto tiles under the layers (needs the internet).
    """
    return CompactDeck(
        layers=list(layers),
        initial_view_state=view_state,
        map_provider="carto" if basemap else None,
        map_style=ONLINE_MAP_STYLE if basemap else NO_BASEMAP_STYLE,
        tooltip=TOOLTIP,
    )


# ----------------------------------------------------------------------------
# legend
# ----------------------------------------------------------------------------


def gistar_legend(bins_present: Sequence[int] | None = None) -> list[LegendEntry]:
    """Legend lines of the Gi* bins (all seven, or those present)."""
    order = [3, 2, 1, 0, -1, -2, -3]
    show = order if bins_present is None else [b for b in order
                                               if b in set(bins_present)]
    return [LegendEntry(BIN_COLOURS[b], BIN_LABELS[b]) for b in show]


def ramp_legend(title: str, *, low: str, high: str, steps: int = 5,
                reverse: bool = False) -> list[LegendEntry]:
    """Legend lines sampling the viridis ramp from ``low`` to ``high``."""
    pos = np.linspace(0, 1, steps)
    if reverse:
        pos = pos[::-1]
    rgb = (_colormap(RAMP)(pos)[:, :3] * 255).round().astype(int)
    labels = [f"{title}: {low}"] + [""] * (steps - 2) + [f"{high}"]
    return [LegendEntry((int(c[0]), int(c[1]), int(c[2])), lab)
            for c, lab in zip(rgb, labels, strict=True)]


def legend_html(sections: Sequence[tuple[str, Sequence[LegendEntry]]]) -> str:
    """Render legend sections as compact HTML (our own strings, escaped)."""
    parts = ["<div style='font-size:12px;line-height:1.35'>"]
    for title, entries in sections:
        if not entries:
            continue
        parts.append(f"<div style='font-weight:600;margin-top:4px'>"
                     f"{html.escape(title)}</div>")
        for entry in entries:
            r, g, b = entry.rgb
            if entry.shape == "line":
                swatch = (f"display:inline-block;width:16px;height:0;border-top:3px "
                          f"solid rgb({r},{g},{b});vertical-align:middle")
            elif entry.shape == "glyph":
                swatch = (f"display:inline-block;min-width:16px;padding:0 2px;"
                          f"font-weight:700;font-size:11px;text-align:center;"
                          f"color:#fff;background:rgb({r},{g},{b});border-radius:3px")
                parts.append(f"<div><span style='{swatch}'>"
                             f"{html.escape(entry.glyph)}</span>&nbsp;"
                             f"{html.escape(entry.label)}</div>")
                continue
            elif entry.shape == "dot":
                swatch = (f"display:inline-block;width:10px;height:10px;"
                          f"border-radius:5px;background:rgb({r},{g},{b})")
            else:
                swatch = (f"display:inline-block;width:16px;height:12px;"
                          f"background:rgb({r},{g},{b});border:1px solid #888")
            parts.append(f"<div><span style='{swatch}'></span>&nbsp;"
                         f"{html.escape(entry.label)}</div>")
    parts.append("</div>")
    return "".join(parts)


def base_legend() -> list[LegendEntry]:
    """Legend lines of the shipped base layer."""
    return [
        LegendEntry(LAND_RGB, "Land inside HIPS"),
        LegendEntry(SEA_RGB, "Sea, and land outside HIPS (not drawn)"),
        LegendEntry(OUTLINE_RGB, "CSP boundary", shape="line"),
    ]


# ----------------------------------------------------------------------------
# the whole map
# ----------------------------------------------------------------------------


@dataclass
class MapInputs:
    """Everything the map page draws, as plain tables (EPSG:27700).

    ``gistar_cells`` is a Gi* cell table with explanations; ``kde`` a density
    surface; ``imd`` LSOA polygons with ``imd_decile`` and ``tooltip``;
    ``fires`` fire points with ``tooltip``; ``colocation`` H3 cells hot for both
    fires and violence, with ``tooltip``; ``points`` occurrences (drawn only
    when zoomed in); ``arson`` police.uk criminal damage and arson counts per
    cell (:func:`hotspot.context.fires.arson_per_cell`) over ``arson_months``;
    ``operations`` operation areas
    (:func:`hotspot.operations.model.operations_table`) and ``activities`` their
    activities (:func:`hotspot.operations.model.activities_table`).
    """

    csps: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    outline: gpd.GeoDataFrame
    places: pd.DataFrame
    gistar_cells: gpd.GeoDataFrame | None = None
    kde: KDEResult | None = None
    imd: gpd.GeoDataFrame | None = None
    fires: gpd.GeoDataFrame | None = None
    colocation: gpd.GeoDataFrame | None = None
    points: gpd.GeoDataFrame | None = None
    arson: gpd.GeoDataFrame | None = None
    arson_months: str = ""
    operations: gpd.GeoDataFrame | None = None
    activities: gpd.GeoDataFrame | None = None


@dataclass
class BaseLayers:
    """The shipped base map, split where the analysis layers go between."""

    under: list[pdk.Layer]  # sea, land
    lines: list[pdk.Layer]  # ward and CSP outlines
    labels: list[pdk.Layer]  # place, ward and CSP names


def base_layers(
    inputs: MapInputs, *, layers: Sequence[str], csp: str | None = None
) -> BaseLayers:
    """Build the base map: sea, land, outlines and labels (no analysis).

    It depends only on the boundaries, the CSP shown and the layer toggles, so
    a caller may build it once and reuse it across filter changes.
    """
    on = set(layers)
    csps = inputs.csps if csp is None else inputs.csps[inputs.csps["csp_code"] == csp]
    # coarser shapes for the whole of HIPS, where a pixel is a few hundred metres:
    # less for the browser to redraw on every rerun
    detail_m = 200.0 if csp is None else 40.0
    base = BaseLayers(under=[sea_layer(),
                             land_layer(inputs.outline, simplify_m=detail_m)],
                      lines=[], labels=[])
    wards = inputs.wards
    if csp is not None and "lad_code" in wards.columns and "lad_code" in csps:
        wards = wards[wards["lad_code"].isin(csps["lad_code"])]
    if "wards" in on:
        base.lines.append(outline_layer(wards, layer_id="wards", rgb=WARD_RGB,
                                        width_px=1))
    if "csp" in on:
        base.lines.append(outline_layer(inputs.csps, layer_id="csp", width_px=1.8,
                                        simplify_m=detail_m))
    if "places" in on and len(inputs.places):
        spacing = 14000.0 if csp is None else 2500.0
        base.labels.append(label_layer(
            place_labels(inputs.places, within=csps, min_spacing_m=spacing,
                         avoid=csps if "csp" in on else None),
            layer_id="places", size_px=12, rgb=(70, 70, 70)))
    if "wards" in on and csp is not None and "ward22_name" in wards.columns:
        base.labels.append(label_layer(area_labels(wards, name_column="ward22_name"),
                                       layer_id="ward_labels", size_px=11,
                                       rgb=WARD_RGB))
    if "csp" in on:
        size = 14 if csp is None else 16
        base.labels.append(label_layer(
            area_labels(csps, name_column="csp_name", size_px=size,
                        m_per_px=metres_per_pixel(view_for_bounds(bounds_of(csps)))),
            layer_id="csp_labels", size_px=size, bold=True))
    return base


def map_layers(
    inputs: MapInputs,
    *,
    layers: Sequence[str],
    csp: str | None = None,
    focus: str | None = None,
    zoom: float = 0.0,
    base: BaseLayers | None = None,
) -> list[pdk.Layer]:
    """Return all layers of the map page, bottom first, for the toggles on.

    Parameters
    ----------
    inputs : MapInputs
        Tables to draw.
    layers : sequence of str, keyword-only
        Keys of :data:`hotspot.view.LAYERS` switched on.
    csp : str or None, keyword-only
        CSP code shown (wards and labels are limited to it), None for all.
    focus : str or None, keyword-only
        H3 cell zoomed to (outlined).
    zoom : float, keyword-only
        Zoom the map opens at: occurrence points are drawn only at
        :data:`POINT_MIN_ZOOM` or closer; further out they stay aggregated in
        the hexagons.
    base : BaseLayers, optional, keyword-only
        A prebuilt :func:`base_layers` for the same inputs, CSP and toggles.
    """
    on = set(layers)
    base = base or base_layers(inputs, layers=layers, csp=csp)
    out: list[pdk.Layer] = list(base.under)
    if "imd" in on and inputs.imd is not None and len(inputs.imd):
        out.append(choropleth_layer(inputs.imd, value="imd_decile", layer_id="imd",
                                    tooltip="tooltip"))
    if "kde" in on and inputs.kde is not None:
        out.append(kde_layer(inputs.kde))
    if "gistar" in on and inputs.gistar_cells is not None and len(inputs.gistar_cells):
        out.append(gistar_layer(inputs.gistar_cells,
                                line_px=2.0 if zoom < 10 else 1.0))
    if "colocation" in on and inputs.colocation is not None and len(inputs.colocation):
        out.append(cells_outline_layer(inputs.colocation, layer_id="colocation",
                                       rgb=COLOCATION_RGB, tooltip="tooltip",
                                       title="Fires and violence both hot"))
    if "fires" in on and inputs.fires is not None and len(inputs.fires):
        out.append(points_layer(inputs.fires, layer_id="fires", rgb=FIRE_RGB,
                                radius_m=40, tooltip="tooltip",
                                title="Deliberate fire"))
    if "arson" in on and inputs.arson is not None and len(inputs.arson):
        out.append(arson_layer(inputs.arson, months=inputs.arson_months))
    out.extend(base.lines)
    if "points" in on and inputs.points is not None and zoom >= POINT_MIN_ZOOM:
        out.append(points_layer(inputs.points, layer_id="points",
                                title="Occurrence"))
    if focus is not None and inputs.gistar_cells is not None:
        cell = inputs.gistar_cells[inputs.gistar_cells["h3"] == focus]
        if len(cell):
            out.append(focus_layer(cell))
    if "operations" in on:
        out.extend(operation_layers(inputs.operations, inputs.activities))
    out.extend(base.labels)
    return out

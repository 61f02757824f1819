"""The shipped base map: sea, HIPS land, CSP and ward outlines, place labels."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

from hotspot.crs import bng_to_lonlat, require_bng
from hotspot.errors import ParameterError
from hotspot.layers.geometry import _check_columns, _display, _paths, _polygon_rings
from hotspot.layers.style import (
    LAND_RGB,
    OUTLINE_RGB,
    OUTSIDE_LAND_RGB,
    SEA_EXTENT,
    SEA_RGB,
)

# ----------------------------------------------------------------------------
# base layer
# ----------------------------------------------------------------------------


#: The south coast outside HIPS (lon, lat), west to east, hand-drawn to about
#: 1 km from Lyme Bay to Beachy Head; across HIPS the line runs inland, where the
#: HIPS land fill covers it, so only the coasts of Dorset and West and East
#: Sussex depend on it. South of it is sea; everything else outside HIPS is land.
CHANNEL_COAST: tuple[tuple[float, float], ...] = (
    (-3.2, 50.66), (-2.94, 50.72), (-2.62, 50.66), (-2.46, 50.60), (-2.45, 50.52),
    (-2.42, 50.60), (-2.25, 50.62), (-2.06, 50.59), (-1.95, 50.60), (-1.94, 50.64),
    (-1.95, 50.68), (-1.88, 50.715), (-1.80, 50.72), (-1.76, 50.71),
    (-1.74, 50.725), (-1.70, 50.737), (-1.686, 50.742), (-1.62, 50.84),
    (-1.45, 50.95), (-1.20, 50.93), (-1.00, 50.90), (-0.94, 50.86),
    (-0.935, 50.845), (-0.93, 50.80), (-0.92, 50.78), (-0.87, 50.76),
    (-0.79, 50.72), (-0.68, 50.78), (-0.54, 50.80), (-0.37, 50.81), (-0.25, 50.83),
    (-0.14, 50.82), (0.05, 50.78), (0.25, 50.74), (0.4, 50.76),
)


def sea_layer(extent: tuple[float, float, float, float] = SEA_EXTENT) -> pdk.Layer:
    """Build the background: land outside HIPS, and the sea south of the coast.

    Land outside HIPS is drawn as land (:data:`OUTSIDE_LAND_RGB`, greyer than
    HIPS), the English Channel south of :data:`CHANNEL_COAST` as sea; the HIPS
    land fill (:func:`land_layer`) on top leaves the Solent, Southampton Water
    and the harbours as sea.
    """
    w, s, e, n = extent
    land = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    coast = [[x, y] for x, y in CHANNEL_COAST]
    sea = [[w, s], *coast, [e, coast[-1][1]], [e, s], [w, s]]
    return pdk.Layer(
        "PolygonLayer", data=[{"polygon": land, "fill": list(OUTSIDE_LAND_RGB)},
                              {"polygon": sea, "fill": list(SEA_RGB)}],
        id="sea", get_polygon="polygon", get_fill_color="fill", stroked=False,
        filled=True, pickable=False,
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

"""Analysis layers: Gi* hexagons, the focus, density, choropleths, points, arson."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk

from hotspot.crs import bng_to_lonlat, require_bng
from hotspot.errors import ParameterError
from hotspot.layers.geometry import (
    _check_columns,
    _colormap,
    _display,
    _paths,
    _polygon_rings,
    _rounded,
    plain,
)
from hotspot.layers.style import (
    ARSON_RGB,
    BIN_COLOURS,
    FOCUS_RGB,
    POINT_RGB,
    RAMP,
)

if TYPE_CHECKING:  # the density code (rasterio, scipy.signal) loads when needed
    from hotspot.detect.kde import KDEResult

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

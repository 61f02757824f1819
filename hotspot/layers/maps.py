"""The whole map: inputs, the base layers and every analysis layer in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pydeck as pdk

from hotspot.layers.analysis import (
    arson_layer,
    cells_outline_layer,
    choropleth_layer,
    focus_layer,
    gistar_layer,
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
from hotspot.layers.deck import bounds_of, metres_per_pixel, view_for_bounds
from hotspot.layers.operations import operation_layers
from hotspot.layers.style import COLOCATION_RGB, FIRE_RGB, POINT_MIN_ZOOM, WARD_RGB

if TYPE_CHECKING:  # the density code (rasterio, scipy.signal) loads when needed
    from hotspot.detect.kde import KDEResult

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

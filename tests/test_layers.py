"""Layer builders: tiny hand-checkable inputs → pydeck layers (hotspot.layers)."""

from __future__ import annotations

import base64
import io
import json

import geopandas as gpd
import matplotlib.image
import numpy as np
import pandas as pd
import pydeck as pdk
import pytest
import shapely
from affine import Affine

from hotspot import layers
from hotspot.crs import BNG, lonlat_to_bng
from hotspot.detect.kde import KDEResult
from hotspot.errors import CRSError, ParameterError
from hotspot.grid import cell_polygons

# three cells in central Southampton at resolution 9
CENTRE = (-1.404, 50.904)


def square(x: float, y: float, size: float = 1000.0) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    """Two 1 km squares side by side near Southampton (EPSG:27700)."""
    x, y = lonlat_to_bng([CENTRE[0]], [CENTRE[1]])
    x0, y0 = float(x[0]), float(y[0])
    return gpd.GeoDataFrame(
        {"csp_code": ["A", "B"], "csp_name": ["Alpha", "Beta"],
         "lad_code": ["A", "B"]},
        geometry=[square(x0, y0), square(x0 + 1000, y0)], crs=BNG,
    )


@pytest.fixture
def cells() -> gpd.GeoDataFrame:
    """Four Gi* cells: a 99% hot spot, a 95% cold spot, a plain cell, an empty one."""
    import h3

    centre = h3.latlng_to_cell(CENTRE[1], CENTRE[0], 9)
    ids = [centre, *sorted(h3.grid_ring(centre, 1))[:3]]
    return gpd.GeoDataFrame(
        {"h3": ids, "csp_name": ["Alpha"] * 4, "count": [14, 0, 2, 0],
         "bin": [3, -2, 0, 0], "z": [6.2, -2.1, 0.3, 0.0],
         "explanation": ["14 robberies here; p < 0.001 <b>", "cold", "plain",
                         "empty"]},
        geometry=cell_polygons(ids, crs=BNG).values, crs=BNG,
    )


def as_json(layer: object) -> dict:  # type: ignore[type-arg]
    return json.loads(layer.to_json())  # type: ignore[attr-defined]


def test_gistar_layer_draws_significant_and_occupied_cells_only(
    cells: gpd.GeoDataFrame,
) -> None:
    table = layers.gistar_table(cells)
    assert list(table["bin"]) == [3, -2, 0]  # the empty, plain cell is left out
    assert table["fill"].iloc[0][:3] == list(layers.BIN_COLOURS[3])
    assert table["fill"].iloc[1][:3] == list(layers.BIN_COLOURS[-2])
    assert list(table["h3"]) == list(cells["h3"][:3])
    assert table["line"].iloc[0] == [*layers.BIN_COLOURS[3], 255]
    # plain text: the chart inserts it into the tooltip template as text
    assert table["tooltip"].iloc[0] == "14 robberies here; p < 0.001 <b>"
    assert table["title"].iloc[0] == f"Alpha · cell {cells['h3'][0]}"
    spec = as_json(layers.gistar_layer(cells))
    assert spec["@@type"] == "H3HexagonLayer" and spec["pickable"] is True
    assert spec["getHexagon"] == "@@=h3"
    assert spec["lineWidthUnits"] == "pixels"  # a unit, not an accessor


def test_gistar_layer_with_zero_cells_draws_them(cells: gpd.GeoDataFrame) -> None:
    assert len(layers.gistar_table(cells, show_zero=True)) == 4


def test_gistar_layer_needs_its_columns(cells: gpd.GeoDataFrame) -> None:
    with pytest.raises(ParameterError, match="explanation"):
        layers.gistar_table(cells.drop(columns="explanation"))


def test_layers_refuse_frames_not_in_bng(areas: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSError, match="EPSG:27700"):
        layers.outline_layer(areas.to_crs("EPSG:4326"), layer_id="csp")


def test_bin_palette_is_diverging_and_labelled() -> None:
    reds = [layers.BIN_COLOURS[b][0] for b in (1, 2, 3)]
    blues = [layers.BIN_COLOURS[b][2] for b in (-1, -2, -3)]
    assert reds == sorted(reds, reverse=True) or reds[2] < reds[0]
    assert all(layers.BIN_COLOURS[b][0] > layers.BIN_COLOURS[b][2] for b in (2, 3))
    assert all(layers.BIN_COLOURS[b][2] > layers.BIN_COLOURS[b][0] for b in (-2, -3))
    assert blues[2] > 150
    legend = layers.gistar_legend()
    assert [e.label for e in legend][0] == "Hot spot, 99% confidence"
    assert len(legend) == 7
    assert [e.label for e in layers.gistar_legend([3, 0])] == [
        "Hot spot, 99% confidence", "Not significant (occurrences present)"]


def test_outline_layer_paths_follow_every_ring(areas: gpd.GeoDataFrame) -> None:
    spec = as_json(layers.outline_layer(areas, layer_id="csp"))
    assert spec["@@type"] == "PathLayer" and spec["widthUnits"] == "pixels"
    assert len(spec["data"]) == 2
    assert all(len(row["path"]) == 5 for row in spec["data"])


def test_labels_sit_inside_their_areas(areas: gpd.GeoDataFrame) -> None:
    labels = layers.area_labels(areas, name_column="csp_name")
    assert list(labels["text"]) == ["Alpha", "Beta"]
    x, y = lonlat_to_bng(labels["lon"], labels["lat"])
    assert all(shapely.contains_xy(g, xi, yi)
               for g, xi, yi in zip(areas.geometry, x, y, strict=True))
    spec = as_json(layers.label_layer(labels, layer_id="csp_labels"))
    assert spec["@@type"] == "TextLayer" and spec["sizeUnits"] == "pixels"


def test_place_labels_are_thinned_and_clipped(areas: gpd.GeoDataFrame) -> None:
    x0, y0, _, _ = areas.total_bounds
    places = pd.DataFrame({
        "name": ["In1", "In1b", "In2", "Out", "District"],
        "kind": ["geonames", "geonames", "geonames", "geonames", "district"],
        "x": [x0 + 100, x0 + 150, x0 + 1500, x0 + 9000, x0 + 500],
        "y": [y0 + 100, y0 + 150, y0 + 500, y0 + 500, y0 + 500],
    })
    out = layers.place_labels(places, within=areas, min_spacing_m=500)
    assert list(out["text"]) == ["In1", "In2"]
    with pytest.raises(ParameterError, match="min_spacing_m"):
        layers.place_labels(places, min_spacing_m=0)


def test_place_labels_keep_clear_of_area_labels(areas: gpd.GeoDataFrame) -> None:
    # Alpha's label sits at its representative point, the square's centre
    x0, y0, _, _ = areas.total_bounds
    places = pd.DataFrame({
        "name": ["Near the label", "ALPHA", "Corner", "Far corner"],
        "x": [x0 + 520, x0 + 900, x0 + 60, x0 + 1940],
        "y": [y0 + 480, y0 + 900, y0 + 60, y0 + 940],
    })
    kept = layers.place_labels(places, within=areas, min_spacing_m=500,
                               avoid=areas)
    # same name as an area (any case) and within 500 m of a label are left out
    assert list(kept["text"]) == ["Corner", "Far corner"]
    plain_list = layers.place_labels(places, within=areas, min_spacing_m=500)
    assert "Near the label" in list(plain_list["text"])


def test_kde_image_is_transparent_outside_and_at_zero() -> None:
    values = np.array([[np.nan, 0.0], [5.0, 10.0]])
    uri, vmax = layers.kde_image(values, vmax=10.0)
    assert vmax == 10.0 and uri.startswith("data:image/png;base64,")
    rgba = matplotlib.image.imread(io.BytesIO(base64.b64decode(uri.split(",")[1])))
    assert rgba.shape == (2, 2, 4)
    assert rgba[0, 0, 3] == 0 and rgba[0, 1, 3] == 0
    assert 0 < rgba[1, 0, 3] < rgba[1, 1, 3]


def test_kde_image_refuses_a_1d_array() -> None:
    with pytest.raises(ParameterError, match="2-D"):
        layers.kde_image(np.zeros(4))


def test_kde_layer_is_placed_by_its_projected_corners() -> None:
    x, y = lonlat_to_bng([CENTRE[0]], [CENTRE[1]])
    transform = Affine(50.0, 0, float(x[0]), 0, -50.0, float(y[0]))
    result = KDEResult(values=np.ones((4, 6)), transform=transform, crs=BNG,
                       bandwidth_m=200.0, bandwidth_auto=True, bandwidth_reason="t",
                       cell_size_m=50.0, n_points=1, n_points_outside=0,
                       weight_total=1.0, total_mass=1.0, method="fft")
    spec = as_json(layers.kde_layer(result))
    assert spec["@@type"] == "BitmapLayer"
    assert spec["image"].startswith("data:image/png;base64,")  # not an accessor
    corners = np.asarray(spec["bounds"])
    assert corners.shape == (4, 2)
    # [left, bottom], [left, top], [right, top], [right, bottom]
    assert np.allclose(corners[1], CENTRE, atol=1e-5)
    assert corners[0][1] < corners[1][1] and corners[2][0] > corners[1][0]


def test_choropleth_darkest_for_the_most_deprived(areas: gpd.GeoDataFrame) -> None:
    frame = areas.assign(imd_decile=[1, 10], tooltip=["most", "least"])
    spec = as_json(layers.choropleth_layer(frame, value="imd_decile",
                                           layer_id="imd", tooltip="tooltip"))
    first, last = (np.asarray(row["fill"][:3]) for row in spec["data"])
    assert first.sum() < last.sum()


def test_points_layer_uses_metres_and_tooltips(areas: gpd.GeoDataFrame) -> None:
    pts = gpd.GeoDataFrame({"tooltip": ["a <fire>"]},
                           geometry=[areas.geometry.iloc[0].centroid], crs=BNG)
    spec = as_json(layers.points_layer(pts, layer_id="fires", tooltip="tooltip"))
    assert spec["radiusUnits"] == "meters"
    assert spec["data"][0]["tooltip"] == "a <fire>"


def test_operation_layers_are_empty_without_operations() -> None:
    assert layers.operation_layers(None) == []
    assert layers.operation_layers(None, None) == []


def test_activity_layers_give_each_kind_its_colour_and_glyph(
    areas: gpd.GeoDataFrame,
) -> None:
    zone, other = areas.geometry.iloc[0], areas.geometry.iloc[1]
    acts = gpd.GeoDataFrame(
        {"kind": ["patrol_zone", "cctv", "school", "mystery"],
         "kind_label": ["Patrol zone", "CCTV", "School engaged", "mystery"],
         "label": ["Zone 1", "Camera", "School A", "?"]},
        geometry=[zone, other.centroid, zone.centroid, other.centroid], crs=BNG)
    ops = gpd.GeoDataFrame(
        {"name": ["Op Test"], "period_start": ["2025-06-01"],
         "period_end": ["2025-07-31"], "status": ["draft"]},
        geometry=[zone.union(other)], crs=BNG)
    built = layers.operation_layers(ops, acts)
    specs = {spec["id"]: spec for spec in map(as_json, built)}
    assert list(specs) == ["operation_areas", "activities_areas",
                           "activities_points", "activities_glyphs"]
    assert specs["operation_areas"]["data"][0]["title"] == "Operation: Op Test"
    zone_row = specs["activities_areas"]["data"][0]
    assert zone_row["colour"][:3] == list(layers.ACTIVITY_STYLES["patrol_zone"][0])
    assert zone_row["tooltip"] == "Zone 1"
    points = specs["activities_points"]["data"]
    assert [p["title"] for p in points] == ["CCTV", "School engaged", "mystery"]
    assert points[2]["colour"][:3] == list(layers.OTHER_ACTIVITY_STYLE[0])
    glyphs = [g["text"] for g in specs["activities_glyphs"]["data"]]
    assert glyphs == ["P", "C", "S", "?"]
    # positions are lon/lat near Southampton, not metres
    lon, lat = points[0]["position"]
    assert -1.5 < lon < -1.3 and 50.8 < lat < 51.0


def test_activity_styles_are_distinct() -> None:
    colours = [rgb for rgb, _ in layers.ACTIVITY_STYLES.values()]
    glyphs = [g for _, g in layers.ACTIVITY_STYLES.values()]
    assert len(set(colours)) == len(colours)
    assert len(set(glyphs)) == len(glyphs)
    from hotspot.operations import ACTIVITY_KINDS

    assert set(layers.ACTIVITY_STYLES) == set(ACTIVITY_KINDS)


def test_activity_legend_shows_glyphs_once_per_kind() -> None:
    entries = layers.activity_legend(["cctv", "patrol_zone", "cctv"],
                                     {"cctv": "CCTV", "patrol_zone": "Patrol zone"})
    assert [e.label for e in entries] == ["Operation area", "CCTV", "Patrol zone"]
    assert [e.glyph for e in entries] == ["", "C", "P"]
    html_text = layers.legend_html([("Operation", entries)])
    assert ">C</span>&nbsp;CCTV" in html_text


def test_view_for_bounds_fits_the_box() -> None:
    wide = layers.view_for_bounds((-2.0, 50.5, -0.7, 51.4))
    narrow = layers.view_for_bounds((-1.45, 50.88, -1.35, 50.95))
    assert 7.5 < wide.zoom < 9.5
    assert narrow.zoom > wide.zoom + 3
    assert narrow.longitude == pytest.approx(-1.4)


def test_deck_is_offline_unless_the_basemap_is_asked_for() -> None:
    view = layers.view_for_bounds((-2.0, 50.5, -0.7, 51.4))
    offline = json.loads(layers.build_deck([layers.sea_layer()],
                                           view_state=view).to_json())
    assert offline["mapStyle"] == layers.NO_BASEMAP_STYLE
    assert "mapProvider" not in offline or offline["mapProvider"] is None
    online = json.loads(layers.build_deck([], view_state=view,
                                          basemap=True).to_json())
    assert "cartocdn" in online["mapStyle"]


def test_map_layers_order_and_toggles(areas: gpd.GeoDataFrame,
                                      cells: gpd.GeoDataFrame) -> None:
    inputs = layers.MapInputs(
        csps=areas, wards=areas.rename(columns={"csp_name": "ward22_name"}),
        outline=areas.dissolve(), places=pd.DataFrame(
            {"name": ["P"], "x": [areas.total_bounds[0] + 10],
             "y": [areas.total_bounds[1] + 10]}),
        gistar_cells=cells, points=cells.assign(geometry=cells.centroid),
    )
    ids = [layer.id for layer in layers.map_layers(
        inputs, layers=["gistar", "csp", "places", "points"], zoom=10)]
    assert ids == ["sea", "land", "gistar", "csp", "places", "csp_labels"]
    ids = [layer.id for layer in layers.map_layers(
        inputs, layers=["gistar", "points", "wards"], csp="A", focus=cells["h3"][0],
        zoom=15)]
    assert ids == ["sea", "land", "gistar", "wards", "points", "focus",
                   "ward_labels"]


def test_legend_html_escapes_labels() -> None:
    html = layers.legend_html([("Title <x>", [layers.LegendEntry((1, 2, 3),
                                                                 "a & b")])])
    assert "Title &lt;x&gt;" in html and "a &amp; b" in html
    assert "rgb(1,2,3)" in html


def test_arson_circles_grow_with_the_count() -> None:
    cells = gpd.GeoDataFrame(
        {"h3": ["a", "b", "c"], "count": [100, 25, 1]},
        geometry=gpd.points_from_xy([440000, 441000, 442000], [110000] * 3),
        crs="EPSG:27700")
    layer = layers.arson_layer(cells, months="2025-01 to 2025-03")
    data = layer.data if isinstance(layer.data, list) else layer.data.to_dict("records")
    radii = [d["radius"] for d in data]
    assert radii[0] == 18.0 and radii[1] == 10.5  # area ∝ count: 3 + 15·√(25/100)
    assert radii[0] > radii[1] > radii[2] >= 3
    assert data[2]["tooltip"].startswith("1 police.uk crime recorded")
    assert data[0]["tooltip"].startswith("100 police.uk crimes recorded")
    assert "2025-01 to 2025-03" in data[0]["tooltip"]


def test_hexagons_are_drawn_as_instances(cells: gpd.GeoDataFrame) -> None:
    # per-cell polygons and outline paths cost ~1.5 s of the first frame in
    # software GL (layers.gistar_layer); instanced hexagons look the same
    spec = as_json(layers.gistar_layer(cells))
    assert spec["@@type"] == "H3HexagonLayer"
    assert spec["highPrecision"] is False and spec["extruded"] is False
    assert spec["stroked"] is True


def test_metres_per_pixel_by_hand() -> None:
    # Web Mercator in deck.gl: 512 px round the equator at zoom 0
    at_zero = layers.metres_per_pixel(pdk.ViewState(latitude=0, longitude=0, zoom=0))
    assert at_zero == pytest.approx(40_075_016.686 / 512)
    at_60 = layers.metres_per_pixel(pdk.ViewState(latitude=60, longitude=0, zoom=3))
    assert at_60 == pytest.approx(40_075_016.686 * 0.5 / (512 * 8))


def test_overlapping_area_labels_are_moved_apart() -> None:
    from shapely.geometry import box

    # two 1 km × 4 km strips side by side; at 30 m a pixel their names (5
    # letters, 14 px: half-width 0.31 × 14 × 5 × 30 = 651 m) overlap, 1 km apart
    x0, y0 = 440_000.0, 110_000.0
    strips = gpd.GeoDataFrame(
        {"csp_name": ["Alpha", "Betas"]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 4000),
                  box(x0 + 1000, y0, x0 + 2000, y0 + 4000)], crs=BNG)
    apart = layers.area_labels(strips, name_column="csp_name")
    spread = layers.area_labels(strips, name_column="csp_name", m_per_px=30.0,
                                size_px=14.0)
    x, y = lonlat_to_bng(spread["lon"], spread["lat"])
    xa, ya = lonlat_to_bng(apart["lon"], apart["lat"])
    line = 1.2 * 14 * 30
    assert (x[0], y[0]) == pytest.approx((xa[0], ya[0]), abs=0.01)  # first stays
    # the nearest free spot inside its strip: half a line up or down and half
    # its width sideways (clearing the first label's box by 1 km - 651 m...)
    moved = np.hypot(x[1] - xa[1], y[1] - ya[1])
    assert 0 < moved <= np.hypot(651, 3 * line)
    overlap_x = abs(x[1] - x[0]) < 2 * 651
    assert not (overlap_x and abs(y[1] - y[0]) < line)  # no longer overlapping
    assert strips.geometry.iloc[1].contains(shapely.Point(x[1], y[1]))
    # a label is never pushed out of its own area: at 300 m a pixel no spot
    # inside is free, so it stays where it was
    tight = layers.area_labels(strips, name_column="csp_name", m_per_px=300.0)
    assert tight["lat"].to_numpy() == pytest.approx(apart["lat"].to_numpy())

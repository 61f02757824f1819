"""Tests of hotspot.grid: the H3 fill, the land rule and counts per cell."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from hotspot.crs import BNG, WGS84, bng_to_lonlat, lonlat_to_bng
from hotspot.errors import CRSError, ParameterError
from hotspot.grid import (
    HIPS_AREA,
    cell_centres_bng,
    cell_polygons,
    count_points,
    points_to_cells,
    shipped_cells_path,
    study_cells,
)


@pytest.fixture
def two_csps() -> gpd.GeoDataFrame:
    """Two adjacent 2 km squares near Southampton; the west one has a 'sea' bite."""
    west = box(440000, 110000, 442000, 112000).difference(
        box(440000, 110000, 440800, 110800)
    )
    east = box(442000, 110000, 444000, 112000)
    return gpd.GeoDataFrame(
        {"csp_code": ["E1", "E2"], "csp_name": ["West", "East"]},
        geometry=[west, east],
        crs=BNG,
    )


def brute_force_cells(csps: gpd.GeoDataFrame, resolution: int) -> set[str]:
    """Every cell near the squares whose centre lies in a polygon (slow, obvious)."""
    lon, lat = bng_to_lonlat([442000], [111000])
    seed = h3.latlng_to_cell(lat[0], lon[0], resolution)
    near = sorted(h3.grid_disk(seed, 30))
    x, y = cell_centres_bng(near)
    union = csps.union_all()
    inside = shapely.contains_xy(union, x, y)
    return {c for c, keep in zip(near, inside, strict=True) if keep}


def test_fill_matches_centre_rule(two_csps):
    cells = study_cells(two_csps, resolution=9)
    assert set(cells["h3"]) == brute_force_cells(two_csps, 9)
    assert cells["h3"].is_unique
    x, y = cell_centres_bng(cells["h3"].tolist())
    for code, geom in zip(two_csps["csp_code"], two_csps.geometry, strict=True):
        mine = cells["csp_code"].to_numpy() == code
        assert shapely.contains_xy(geom, x[mine], y[mine]).all()
    # the 'sea' bite holds no cell centre
    bite = box(440000, 110000, 440800, 110800)
    assert not shapely.contains_xy(bite, x, y).any()


def test_scopes(two_csps):
    per_csp = study_cells(two_csps, resolution=9, scope="csp")
    hips = study_cells(two_csps, resolution=9, scope="hips")
    assert per_csp["study_area"].tolist() == per_csp["csp_code"].tolist()
    assert set(hips["study_area"]) == {HIPS_AREA}
    assert set(hips["h3"]) == set(per_csp["h3"])
    assert hips.attrs == {"resolution": 9, "scope": "hips"}


def test_cell_count_is_area_over_cell_area(two_csps):
    cells = study_cells(two_csps, resolution=10)
    expected = two_csps.area.sum() / (h3.average_hexagon_area(10, unit="m^2"))
    assert abs(len(cells) - expected) / expected < 0.1


def test_cell_polygons_bng_and_wgs84(two_csps):
    cells = study_cells(two_csps, resolution=9)["h3"].tolist()[:20]
    bng = cell_polygons(cells, crs=BNG)
    wgs = cell_polygons(cells, crs=WGS84)
    assert bng.crs.to_epsg() == 27700 and wgs.crs.to_epsg() == 4326
    x, y = cell_centres_bng(cells)
    assert shapely.contains_xy(bng.values, x, y).all()
    # lon/lat order: Southampton is at about -1.4 E, 50.9 N
    first = np.asarray(wgs.iloc[0].exterior.coords)
    assert (first[:, 0] > -1.6).all() and (first[:, 0] < -1.2).all()
    assert (first[:, 1] > 50.8).all() and (first[:, 1] < 51.0).all()
    areas = np.array([h3.cell_area(c, unit="m^2") for c in cells])
    np.testing.assert_allclose(bng.area, areas, rtol=0.01)


def test_points_to_cells_uses_lat_lng_order():
    x, y = lonlat_to_bng([-1.4044, -1.0912], [50.9097, 50.7986])
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=BNG, index=[7, 9])
    out = points_to_cells(pts, resolution=9)
    assert out.index.tolist() == [7, 9]
    assert out.tolist() == [
        h3.latlng_to_cell(50.9097, -1.4044, 9),
        h3.latlng_to_cell(50.7986, -1.0912, 9),
    ]


def test_count_points_counts_harm_and_outside(two_csps):
    cells = study_cells(two_csps, resolution=9)
    target = cells["h3"].iloc[3]
    x, y = cell_centres_bng([target])
    pts = gpd.GeoDataFrame(
        {"harm_weight": [2.0, 3.5, None, 1.0]},
        geometry=[Point(x[0], y[0]), Point(x[0] + 5, y[0] - 5), Point(x[0], y[0] + 3),
                  Point(440100, 110100)],  # last one in the sea bite
        crs=BNG,
    )
    before = cells.copy()
    out = count_points(pts, cells, weight="harm_weight")
    pd.testing.assert_frame_equal(cells, before)  # input untouched
    assert out["count"].sum() == 3
    assert out.loc[out["h3"] == target, "count"].iloc[0] == 3
    assert out.loc[out["h3"] == target, "harm"].iloc[0] == pytest.approx(5.5)
    assert out.attrs["points_outside"] == 1
    assert out.attrs["missing_weights"] == 1
    assert (out["count"] == 0).sum() == len(cells) - 1  # zero cells kept
    unweighted = count_points(pts, cells)
    np.testing.assert_array_equal(unweighted["harm"], unweighted["count"])


@pytest.mark.parametrize(
    "resolution", [6, 12, 9.0, True], ids=["6", "12", "float", "bool"]
)
def test_resolution_checked(two_csps, resolution):
    with pytest.raises(ParameterError, match="resolution"):
        study_cells(two_csps, resolution=resolution)


def test_scope_and_crs_checked(two_csps):
    with pytest.raises(ParameterError, match="scope"):
        study_cells(two_csps, scope="county")  # type: ignore[arg-type]
    with pytest.raises(CRSError, match="to_crs"):
        study_cells(two_csps.to_crs(WGS84))


# ----------------------------------------------------------------------------
# shipped cells (data/grid, built by scripts/build_grid.py)
# ----------------------------------------------------------------------------

needs_shipped = pytest.mark.skipif(
    not shipped_cells_path(9).is_file(),
    reason="shipped study cells not built (scripts/build_grid.py)")


def assert_same_cells(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame) -> None:
    """Same rows, columns, order, attrs and hexagons."""
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")),
                                  pd.DataFrame(want.drop(columns="geometry")))
    assert bool(got.geometry.geom_equals_exact(want.geometry, tolerance=1e-6).all())
    assert got.attrs == want.attrs
    assert got.crs == want.crs


@needs_shipped
@pytest.mark.parametrize(
    ("codes", "scope"),
    [(None, "csp"), (None, "hips"), (("E06000045",), "csp"),
     (("E06000044", "E07000086"), "hips")],
    ids=["all-csp", "all-hips", "southampton", "two-hips"],
)
def test_shipped_cells_equal_a_fresh_fill(codes: tuple[str, ...] | None,
                                          scope: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    from hotspot.boundaries import load_csps

    csps = load_csps(grouping="district")
    if codes is not None:
        csps = csps[csps["csp_code"].isin(codes)]
    with caplog.at_level("INFO", logger="hotspot.grid"):
        shipped = study_cells(csps, resolution=9, scope=scope)  # type: ignore[arg-type]
    assert "shipped cells" in caplog.text
    fresh = study_cells(csps, resolution=9, scope=scope,  # type: ignore[arg-type]
                        shipped=False)
    assert len(shipped) > 100
    assert_same_cells(shipped, fresh)


@needs_shipped
def test_a_changed_polygon_is_filled_afresh(caplog: pytest.LogCaptureFixture) -> None:
    from hotspot.boundaries import load_csps

    csps = load_csps(grouping="district")
    one = csps[csps["csp_code"] == "E06000045"].copy()
    one["geometry"] = one.geometry.buffer(-300)
    with caplog.at_level("INFO", logger="hotspot.grid"):
        got = study_cells(one, resolution=9)
    assert "fresh fill" in caplog.text and "shipped cells" not in caplog.text
    assert_same_cells(got, study_cells(one, resolution=9, shipped=False))
    assert len(got) < len(study_cells(csps[csps["csp_code"] == "E06000045"],
                                      resolution=9))


def test_no_shipped_file_means_a_fresh_fill(two_csps, tmp_path) -> None:
    got = study_cells(two_csps, resolution=9, shipped_dir=tmp_path)
    assert_same_cells(got, study_cells(two_csps, resolution=9, shipped=False))

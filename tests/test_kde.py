"""Tests of hotspot.detect.kde: hand-checked values, the exact reference, files."""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from shapely.geometry import Point, box

from hotspot.detect.kde import (
    GEOTIFF_NODATA,
    UNITS,
    KDEResult,
    kde_exact,
    kde_surface,
    kernel_sum_per_m2,
    quartic_kernel_per_m2,
    sample_to_cells,
    silverman_bandwidth_m,
    write_geotiff,
)
from hotspot.errors import CRSError, ParameterError
from hotspot.settings import SHARED_DATA_DIR

# A 10 km square in British National Grid, away from any coast.
X0, Y0 = 400_000.0, 100_000.0
AREA = box(X0, Y0, X0 + 10_000, Y0 + 10_000)
# A cell centre of the 50 m grid near the middle of AREA (cell edges at 50 m multiples).
CX, CY = X0 + 5_025.0, Y0 + 5_025.0


def _points(
    xy: list[tuple[float, float]] | np.ndarray, **columns: object
) -> gpd.GeoDataFrame:
    arr = np.asarray(xy, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame(
        dict(columns), geometry=gpd.points_from_xy(arr[:, 0], arr[:, 1]), crs=27700
    )


def _value_at(result: KDEResult, x: float, y: float) -> float:
    col, row = ~result.transform @ (x, y)
    return float(result.values[int(math.floor(row)), int(math.floor(col))])


def _clustered(n: int, seed: int) -> np.ndarray:
    """Points in a few tight clusters and a diffuse background inside AREA."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(2_500, 7_500, size=(5, 2))
    k = rng.integers(0, 6, size=n)
    xy = np.where(
        (k < 5)[:, None],
        centres[np.minimum(k, 4)] + rng.normal(0, 150, size=(n, 2)),
        rng.uniform(1_500, 8_500, size=(n, 2)),
    )
    return xy + [X0, Y0]


def assert_close_to_exact(fast: KDEResult, exact: KDEResult, *, tol: float) -> None:
    """Every cell of ``fast`` within ``tol`` times the peak of ``exact``."""
    assert fast.values.shape == exact.values.shape
    assert fast.transform == exact.transform
    np.testing.assert_array_equal(np.isnan(fast.values), np.isnan(exact.values))
    peak = np.nanmax(exact.values)
    worst = np.nanmax(np.abs(fast.values.astype(float) - exact.values))
    assert worst <= tol * peak, (
        f"max abs diff {worst:.4g} is {worst / peak:.3%} of peak"
    )


# ---- kernel and hand-checked surfaces


def test_quartic_kernel_values_and_unit_integral():
    h = 500.0
    k0 = 3 / (math.pi * h * h)
    got = quartic_kernel_per_m2([0.0, h / 2, h, 2 * h], bandwidth_m=h)
    np.testing.assert_allclose(got, [k0, k0 * 0.75**2, 0.0, 0.0], rtol=1e-12)
    # ∫ K dA = ∫ 2πr K(r) dr = 1
    r = np.linspace(0, h, 200_001)
    integral = np.trapezoid(2 * np.pi * r * quartic_kernel_per_m2(r, bandwidth_m=h), r)
    assert integral == pytest.approx(1.0, rel=1e-8)


@pytest.mark.parametrize("method", ["exact", "fft"], ids=["exact", "fft"])
def test_one_point_by_hand(method):
    h = 500.0
    res = kde_surface(
        _points([(CX, CY)]), area=AREA, cell_size_m=50, bandwidth_m=h, method=method
    )
    k0 = 3 / (math.pi * h * h) * 1e6  # per km²: 3.8197
    rel = 1e-12 if method == "exact" else 5e-3
    assert _value_at(res, CX, CY) == pytest.approx(k0, rel=rel)
    # d = h/2 = 250 m east: (1 - 1/4)² of the peak
    assert _value_at(res, CX + 250, CY) == pytest.approx(k0 * 0.5625, rel=rel)
    # d = h: zero (and beyond)
    assert _value_at(res, CX + 500, CY) == pytest.approx(0.0, abs=1e-6 * k0)
    assert res.n_points == 1
    assert res.bandwidth_auto is False


@pytest.mark.parametrize("method", ["exact", "fft"], ids=["exact", "fft"])
def test_two_points_by_hand(method):
    h = 500.0
    pts = _points([(CX, CY), (CX + 300, CY)])
    res = kde_surface(pts, area=AREA, cell_size_m=50, bandwidth_m=h, method=method)
    k0 = 3 / (math.pi * h * h) * 1e6
    rel = 1e-12 if method == "exact" else 5e-3
    # at the first point: itself plus the other at 300 m, (1 - 0.36)² = 0.4096
    assert _value_at(res, CX, CY) == pytest.approx(k0 * 1.4096, rel=rel)
    # halfway, 150 m from each: 2 (1 - 0.09)² = 1.6562
    assert _value_at(res, CX + 150, CY) == pytest.approx(k0 * 1.6562, rel=rel)


def test_fft_off_centre_point_matches_exact():
    # a point between cell centres exercises the linear binning
    h = 400.0
    pts = _points([(CX + 17.0, CY - 31.0)])
    fast = kde_surface(pts, area=AREA, cell_size_m=50, bandwidth_m=h)
    exact = kde_exact(pts, area=AREA, cell_size_m=50, bandwidth_m=h)
    assert_close_to_exact(fast, exact, tol=0.01)


# ---- mass and accuracy


@pytest.mark.parametrize("method", ["exact", "fft"], ids=["exact", "fft"])
@pytest.mark.parametrize("h", [150.0, 400.0, 1000.0], ids=["h150", "h400", "h1000"])
def test_mass_conserved_when_kernels_inside_area(method, h):
    rng = np.random.default_rng(1)
    xy = rng.uniform(X0 + 2_000, X0 + 8_000, size=(300, 2))
    xy[:, 1] += Y0 - X0
    res = kde_surface(
        _points(xy), area=AREA, cell_size_m=50, bandwidth_m=h, method=method
    )
    mass = np.nansum(res.values, dtype=np.float64) * 0.05 * 0.05
    assert mass == pytest.approx(300, rel=0.005)
    assert res.total_mass == pytest.approx(mass, rel=1e-9)
    assert res.parameters["mass_in_area_fraction"] == pytest.approx(1.0, rel=0.005)


def test_mass_lost_at_the_edge_is_reported():
    # a point on the area's edge keeps only about half its kernel inside
    pts = _points([(X0 + 25.0, CY)])
    res = kde_surface(pts, area=AREA, cell_size_m=50, bandwidth_m=500)
    assert 0.45 < res.total_mass < 0.6
    assert res.parameters["mass_in_area_fraction"] == pytest.approx(res.total_mass)


@pytest.mark.parametrize(
    ("cell", "h"),
    [(50.0, 300.0), (25.0, 500.0), (50.0, 120.0), (100.0, 800.0)],
    ids=["c50-h300", "c25-h500", "c50-h120", "c100-h800"],
)
def test_fft_within_one_percent_of_exact_on_clustered_points(cell, h):
    pts = _points(_clustered(2_000, seed=7))
    fast = kde_surface(pts, area=AREA, cell_size_m=cell, bandwidth_m=h)
    exact = kde_exact(pts, area=AREA, cell_size_m=cell, bandwidth_m=h)
    assert_close_to_exact(fast, exact, tol=0.01)


def _southampton_points() -> tuple[gpd.GeoDataFrame, shapely.Geometry]:
    from hotspot.boundaries import load_csps
    from hotspot.crs import lonlat_to_bng

    folder = SHARED_DATA_DIR / "police_uk"
    files = [folder / f"2025-0{m}-hampshire-street.csv" for m in (1, 2, 3, 4)]
    if not all(f.exists() for f in files):
        pytest.skip(f"police.uk files not found in {folder}")
    df = pd.concat(
        pd.read_csv(f, usecols=["Longitude", "Latitude", "Crime type"]) for f in files
    ).dropna(subset=["Longitude", "Latitude"])
    x, y = lonlat_to_bng(df["Longitude"], df["Latitude"])
    csps = load_csps()
    area = csps.loc[csps["lad_code"] == "E06000045", "geometry"].union_all()
    pts = _points(np.column_stack([x, y]))
    inside = shapely.contains_xy(area, x, y)
    return pts[inside].iloc[:2_000], area


def test_fft_within_one_percent_of_exact_on_real_southampton_points():
    pts, area = _southampton_points()
    assert len(pts) == 2_000
    fast = kde_surface(pts, area=area, cell_size_m=50)
    exact = kde_exact(pts, area=area, cell_size_m=50, bandwidth_m=fast.bandwidth_m)
    assert fast.bandwidth_auto is True
    assert fast.n_points == 2_000
    assert_close_to_exact(fast, exact, tol=0.01)


# ---- weights


@pytest.mark.parametrize("method", ["exact", "fft"], ids=["exact", "fft"])
def test_integer_weights_equal_repeated_points(method):
    xy = _clustered(200, seed=3)
    w = np.random.default_rng(3).integers(0, 4, size=len(xy)).astype(float)
    weighted = kde_surface(
        _points(xy, harm=w),
        area=AREA,
        bandwidth_m=300,
        weights="harm",
        method=method,
    )
    repeated = kde_surface(
        _points(np.repeat(xy, w.astype(int), axis=0)),
        area=AREA,
        bandwidth_m=300,
        method=method,
    )
    np.testing.assert_allclose(
        weighted.values,
        repeated.values,
        rtol=1e-5,
        atol=1e-6 * np.nanmax(repeated.values),
    )
    assert weighted.weight_total == pytest.approx(w.sum())
    assert weighted.parameters["weighted"] is True


def test_weights_series_aligned_by_index_not_position():
    pts = _points([(CX, CY), (CX + 2_000, CY)])
    pts.index = pd.Index([10, 20])
    series = pd.Series([0.0, 3.0], index=[10, 20]).iloc[::-1]  # other order
    res = kde_surface(pts, area=AREA, bandwidth_m=300, weights=series, method="exact")
    k0 = 3 / (math.pi * 300**2) * 1e6
    assert _value_at(res, CX, CY) == pytest.approx(0.0)
    assert _value_at(res, CX + 2_000, CY) == pytest.approx(3 * k0)


def test_weights_rejected_when_bad():
    pts = _points([(CX, CY)], harm=[-1.0])
    with pytest.raises(ParameterError, match="non-negative"):
        kde_surface(pts, area=AREA, bandwidth_m=300, weights="harm")
    with pytest.raises(ParameterError, match="not a column"):
        kde_surface(pts, area=AREA, bandwidth_m=300, weights="nope")
    with pytest.raises(ParameterError, match="indexed like points"):
        kde_surface(
            pts, area=AREA, bandwidth_m=300, weights=pd.Series([1.0], index=[5])
        )


# ---- bandwidth


def test_silverman_standard_distance_branch_by_hand():
    # square of side 2: centre (1, 1), every d = √2, so SD = Dm = √2 and
    # min(√2, 1.2011·√2) = √2; h = 0.9 · √2 · 4^-0.2 = 0.964596
    xy = np.array([(0, 0), (2, 0), (0, 2), (2, 2)], dtype=float) + [X0, Y0]
    assert silverman_bandwidth_m(xy) == pytest.approx(0.964596116, rel=1e-8)


def test_silverman_median_distance_branch_by_hand():
    # x = 0, 1, 2, 3, 100 on a line: centre 21.2; d = 21.2, 20.2, 19.2, 18.2, 78.8;
    # SD = √(7766.8 / 5) = 39.4127; Dm = 20.2, √(1/ln 2)·Dm = 24.2627 < SD;
    # h = 0.9 · 24.2627 · 5^-0.2 = 15.82658
    xy = np.array([(0, 0), (1, 0), (2, 0), (3, 0), (100, 0)], dtype=float) + [X0, Y0]
    assert silverman_bandwidth_m(xy) == pytest.approx(15.8265826, rel=1e-7)


def test_silverman_integer_weights_equal_repeated_points():
    rng = np.random.default_rng(5)
    xy = rng.normal(0, 500, size=(50, 2)) + [X0, Y0]
    w = rng.integers(1, 4, size=50)
    assert silverman_bandwidth_m(xy, weights=w) == pytest.approx(
        silverman_bandwidth_m(np.repeat(xy, w, axis=0)), rel=1e-12
    )


def test_silverman_rejects_too_few_or_coincident_points():
    with pytest.raises(ParameterError, match="at least two"):
        silverman_bandwidth_m(np.array([[X0, Y0]]))
    with pytest.raises(ParameterError, match="give bandwidth_m"):
        silverman_bandwidth_m(np.array([[X0, Y0]] * 3))
    with pytest.raises(ParameterError, match=r"\(n, 2\)"):
        silverman_bandwidth_m(np.array([X0, Y0, X0]))


def test_automatic_bandwidth_is_reported_and_logged(caplog):
    xy = _clustered(500, seed=11)
    with caplog.at_level(logging.INFO, logger="hotspot.detect.kde"):
        res = kde_surface(_points(xy), area=AREA, cell_size_m=50,
                          bandwidth_rule="silverman")
    assert res.bandwidth_auto is True
    assert res.bandwidth_m == pytest.approx(silverman_bandwidth_m(xy), rel=1e-12)
    assert "Silverman" in res.bandwidth_reason
    assert res.parameters["bandwidth_m"] == res.bandwidth_m
    assert any("bandwidth chosen automatically" in r.message for r in caplog.records)


def test_bandwidth_smaller_than_cell_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="hotspot.detect.kde"):
        res = kde_surface(
            _points([(CX, CY)]), area=AREA, cell_size_m=50, bandwidth_m=30
        )
    assert any("smaller than cell_size_m" in w for w in res.warnings)
    assert any("smaller than cell_size_m" in r.message for r in caplog.records)
    # read at cell centres, as the exact sum: the point's own cell has K(0)
    k0 = 3 / (math.pi * 30**2) * 1e6
    assert _value_at(res, CX, CY) == pytest.approx(k0, rel=5e-3)
    assert res.parameters["supersample"] == 17  # 10 · 50 / 30 = 16.7 → odd 17
    ok = kde_surface(_points([(CX, CY)]), area=AREA, cell_size_m=50, bandwidth_m=300)
    assert ok.warnings == []


# ---- grid, clipping, inputs


def test_grid_aligned_and_covers_area_plus_bandwidth():
    area = box(X0 + 13, Y0 + 7, X0 + 1_013, Y0 + 2_007)
    res = kde_surface(_points([(X0 + 500, Y0 + 500)]), area=area, bandwidth_m=210)
    left, bottom, right, top = res.bounds
    for edge in (left, bottom, right, top):
        assert edge % 50 == 0
    assert left <= X0 + 13 - 210 and right >= X0 + 1_013 + 210
    assert bottom <= Y0 + 7 - 210 and top >= Y0 + 2_007 + 210
    assert res.crs == "EPSG:27700"
    assert res.transform.a == 50 and res.transform.e == -50


def test_clipped_to_area_and_outside_points_left_out():
    # an L-shaped area: the notch is outside, and a point in it is left out
    area = shapely.difference(
        AREA, box(X0 + 5_000, Y0 + 5_000, X0 + 10_000, Y0 + 10_000)
    )
    pts = _points([(X0 + 2_025, Y0 + 2_025), (X0 + 7_525, Y0 + 7_525)])
    res = kde_surface(pts, area=area, bandwidth_m=400)
    assert res.n_points == 1 and res.n_points_outside == 1
    assert any("outside the area" in w for w in res.warnings)
    assert math.isnan(_value_at(res, X0 + 7_525, Y0 + 7_525))
    assert _value_at(res, X0 + 2_025, Y0 + 2_025) > 0
    xs, ys = res.cell_centres()
    inside = shapely.contains_xy(area, xs[None, :], ys[:, None])
    np.testing.assert_array_equal(~np.isnan(res.values), inside)


def test_inputs_not_modified():
    pts = _points(_clustered(100, seed=2), harm=np.ones(100))
    before = pts.copy()
    area_wkb = AREA.wkb
    kde_surface(pts, area=AREA, weights="harm")
    pd.testing.assert_frame_equal(pts, before)
    assert AREA.wkb == area_wkb


def test_non_bng_points_raise_crs_error_with_fix():
    pts = _points([(CX, CY)]).set_crs(4326, allow_override=True)
    with pytest.raises(CRSError, match="to_crs"):
        kde_surface(pts, area=AREA, bandwidth_m=300)
    no_crs = gpd.GeoDataFrame(geometry=[Point(CX, CY)])
    with pytest.raises(CRSError, match="no CRS"):
        kde_surface(no_crs, area=AREA, bandwidth_m=300)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bandwidth_m": -100.0}, "bandwidth_m must be a positive"),
        ({"bandwidth_m": float("nan")}, "bandwidth_m must be a positive"),
        ({"cell_size_m": 0.0}, "cell_size_m must be a positive"),
        ({"method": "gaussian"}, "method must be 'fft' or 'exact'"),
        ({"area": Point(CX, CY).buffer(1).exterior}, "area must be a shapely Polygon"),
        ({"area": box(-1.5, 50.8, -1.3, 51.0)}, "not British National Grid"),
        ({"cell_size_m": 0.01}, "over 200 million cells"),
    ],
    ids=[
        "negative-bw",
        "nan-bw",
        "zero-cell",
        "method",
        "line-area",
        "lonlat-area",
        "huge-raster",
    ],
)
def test_invalid_parameters_raise(kwargs, match):
    args = {"area": AREA, "bandwidth_m": 300.0} | kwargs
    with pytest.raises(ParameterError, match=match):
        kde_surface(_points([(CX, CY)]), **args)


def test_empty_points_give_zero_surface_or_clear_error():
    empty = _points(np.empty((0, 2)))
    res = kde_surface(empty, area=AREA, bandwidth_m=300)
    assert res.n_points == 0
    assert np.nanmax(res.values) == 0.0
    assert any("no points" in w for w in res.warnings)
    with pytest.raises(ParameterError, match="give bandwidth_m"):
        kde_surface(empty, area=AREA)


def test_missing_geometries_rejected():
    pts = gpd.GeoDataFrame(geometry=[Point(CX, CY), None], crs=27700)
    with pytest.raises(ParameterError, match="missing or empty"):
        kde_surface(pts, area=AREA, bandwidth_m=300)


def test_kernel_sum_matches_brute_force():
    rng = np.random.default_rng(9)
    pts = rng.uniform(0, 1_000, size=(300, 2))
    at = rng.uniform(0, 1_000, size=(50, 2))
    w = rng.uniform(0, 2, size=300)
    d = np.hypot(at[:, None, 0] - pts[None, :, 0], at[:, None, 1] - pts[None, :, 1])
    brute = (quartic_kernel_per_m2(d, bandwidth_m=250) * w).sum(axis=1)
    got = kernel_sum_per_m2(at, pts, bandwidth_m=250, weights=w)
    np.testing.assert_allclose(got, brute, rtol=1e-12, atol=0)


# ---- output


def test_geotiff_round_trip(tmp_path):
    area = shapely.difference(
        AREA, box(X0 + 5_000, Y0 + 5_000, X0 + 10_000, Y0 + 10_000)
    )
    res = kde_surface(_points(_clustered(300, seed=4)), area=area, cell_size_m=100)
    out = write_geotiff(res, tmp_path / "kde.tif", tags={"period": "2025-01/2025-09"})
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 27700
        assert src.transform == res.transform
        assert src.nodata == GEOTIFF_NODATA
        assert src.compression is not None and src.compression.name.lower() == "deflate"
        band = src.read(1, masked=True)
        tags = src.tags()
        units = src.units
    np.testing.assert_array_equal(band.mask, np.isnan(res.values))
    np.testing.assert_allclose(
        band.filled(np.nan), res.values.astype(np.float32), rtol=0, equal_nan=True
    )
    assert float(tags["bandwidth_m"]) == pytest.approx(res.bandwidth_m, abs=1e-3)
    assert tags["bandwidth_auto"] == "True"
    assert float(tags["cell_size_m"]) == 100
    assert tags["period"] == "2025-01/2025-09"
    assert int(tags["n_points"]) == res.n_points
    assert tags["units"] == UNITS
    assert tags["method"] == "fft"
    assert units == (UNITS,)


def test_geotiff_needs_existing_folder(tmp_path):
    res = kde_surface(_points([(CX, CY)]), area=AREA, bandwidth_m=300)
    with pytest.raises(ParameterError, match="existing folder"):
        write_geotiff(res, tmp_path / "missing" / "kde.tif")


def test_sample_to_cells_mean_centroid_and_outside():
    res = kde_surface(_points([(CX, CY)]), area=AREA, bandwidth_m=500, method="exact")
    # a 200 m square on cell edges holds 16 raster cell centres
    square = box(CX - 125, CY - 125, CX + 75, CY + 75)
    # a 10 m square inside one raster cell holds none: centroid value
    tiny = box(CX + 245, CY - 5, CX + 255, CY + 5)
    outside = box(X0 - 5_000, Y0 - 5_000, X0 - 4_000, Y0 - 4_000)
    cells = gpd.GeoDataFrame(
        {"h3": ["a", "b", "c"]}, geometry=[square, tiny, outside], crs=27700
    ).set_index("h3")
    got = sample_to_cells(res, cells)
    xs, ys = res.cell_centres()
    cols = np.flatnonzero((xs > CX - 125) & (xs < CX + 75))
    rows = np.flatnonzero((ys > CY - 125) & (ys < CY + 75))
    assert len(cols) * len(rows) == 16
    expected = res.values[np.ix_(rows, cols)].mean()
    assert list(got.index) == ["a", "b", "c"]
    assert got.name == "kde_per_km2"
    assert got["a"] == pytest.approx(expected, rel=1e-12)
    assert got["b"] == pytest.approx(_value_at(res, CX + 250, CY), rel=1e-12)
    assert math.isnan(got["c"])


def test_sample_to_cells_needs_bng():
    res = kde_surface(_points([(CX, CY)]), area=AREA, bandwidth_m=500)
    cells = gpd.GeoDataFrame(geometry=[box(-1.4, 50.9, -1.39, 50.91)], crs=4326)
    with pytest.raises(CRSError, match="to_crs"):
        sample_to_cells(res, cells)


def test_sample_to_real_h3_cells_equals_mean_of_centres_inside():
    import h3

    from hotspot.crs import bng_to_lonlat, to_bng

    xy = _clustered(400, seed=12)
    res = kde_surface(_points(xy), area=AREA, cell_size_m=25, bandwidth_m=400)
    lon, lat = bng_to_lonlat([CX], [CY])
    ids = sorted(h3.grid_disk(h3.latlng_to_cell(lat[0], lon[0], 9), 2))
    polys = [shapely.Polygon([(g, a) for a, g in h3.cell_to_boundary(c)]) for c in ids]
    cells = to_bng(gpd.GeoDataFrame({"h3": ids}, geometry=polys, crs=4326))
    got = sample_to_cells(res, cells)
    assert list(got.index) == list(cells.index)
    xs, ys = res.cell_centres()
    gx, gy = np.meshgrid(xs, ys)
    for i, poly in enumerate(cells.geometry):
        inside = shapely.contains_xy(poly, gx, gy) & ~np.isnan(res.values)
        assert inside.sum() > 100  # a resolution-9 cell holds ~170 cells of 25 m
        assert got.iloc[i] == pytest.approx(res.values[inside].mean(), rel=1e-5)


def test_silverman_unit_weights_equal_unweighted():
    rng = np.random.default_rng(6)
    for n in (50, 51):  # even and odd: the median of an even count is halfway
        xy = rng.normal(0, 500, size=(n, 2)) + [X0, Y0]
        assert silverman_bandwidth_m(xy, weights=np.ones(n)) == pytest.approx(
            silverman_bandwidth_m(xy), rel=1e-12
        )


def test_raster_point_in_area_test_equals_shapely(monkeypatch):
    from hotspot.detect import kde

    # a ragged coastline-like area: a star with a hole, and points on its edges
    star = shapely.Polygon(
        [
            (CX + r * math.cos(t), CY + r * math.sin(t))
            for t, r in zip(
                np.linspace(0, 2 * math.pi, 400, endpoint=False),
                np.tile([4_000.0, 1_500.0], 200),
                strict=True,
            )
        ]
    )
    area = star.difference(Point(CX, CY).buffer(300))
    rng = np.random.default_rng(8)
    x = rng.uniform(CX - 4_500, CX + 4_500, 30_000)
    y = rng.uniform(CY - 4_500, CY + 4_500, 30_000)
    ex, ey = np.asarray(area.exterior.coords[:200]).T  # exactly on the boundary
    x, y = np.concatenate([x, ex]), np.concatenate([y, ey])
    expected = shapely.intersects_xy(area, x, y)
    monkeypatch.setattr(kde, "RASTER_POINT_TEST_MIN", 1)
    got = kde._inside_area(area, x, y)
    np.testing.assert_array_equal(got, expected)
    assert 0.1 < expected.mean() < 0.9
    assert expected[-200:].all()


# ---- edge correction


@pytest.mark.parametrize("method", ["exact", "fft"], ids=["exact", "fft"])
def test_edge_correction_keeps_the_mass_of_a_point_on_the_edge(method):
    pts = _points([(X0 + 25.0, CY), (X0 + 2_025.0, CY)])
    plain = kde_surface(pts, area=AREA, bandwidth_m=500, method=method)
    fixed = kde_surface(
        pts, area=AREA, bandwidth_m=500, method=method, edge_correction=True
    )
    assert plain.total_mass < 1.6
    assert fixed.total_mass == pytest.approx(2.0, rel=1e-5)
    assert fixed.parameters["edge_correction"] is True
    assert 1.8 < fixed.parameters["edge_correction_max_factor"] < 2.2
    # the interior point's kernel is untouched
    k0 = 3 / (math.pi * 500**2) * 1e6
    assert _value_at(fixed, X0 + 2_025, CY) == pytest.approx(k0, rel=5e-3)


def test_edge_correction_fft_within_one_percent_of_exact():
    area = shapely.difference(
        AREA, box(X0 + 5_000, Y0 + 5_000, X0 + 10_000, Y0 + 10_000)
    )
    xy = _clustered(2_000, seed=21)
    pts = _points(xy)
    fast = kde_surface(pts, area=area, bandwidth_m=400, edge_correction=True)
    exact = kde_exact(pts, area=area, bandwidth_m=400, edge_correction=True)
    assert_close_to_exact(fast, exact, tol=0.01)
    assert fast.total_mass == pytest.approx(fast.n_points, rel=1e-4)
    assert exact.total_mass == pytest.approx(exact.n_points, rel=1e-9)
    assert fast.parameters["edge_correction_max_factor"] > 1.5


@pytest.mark.parametrize("shape, kernel_shape", [
    ((50, 37), (9, 9)), ((64, 64), (11, 7)), ((33, 80), (8, 6)), ((5, 4), (9, 9))])
def test_convolution_equals_scipy_signal_fftconvolve_same(shape, kernel_shape):
    import scipy.signal  # the reference, here only

    from hotspot.detect.kde import _convolve_same

    rng = np.random.default_rng(7)
    values = rng.random(shape).astype(np.float32)
    kernel = rng.random(kernel_shape).astype(np.float32)
    ours = _convolve_same(values, kernel)
    reference = scipy.signal.fftconvolve(values.astype(np.float64),
                                         kernel.astype(np.float64), mode="same")
    assert ours.shape == values.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-4 * reference.max())


def test_linear_binning_in_one_bincount_shares_each_weight_by_hand():
    from hotspot.detect.kde import _Grid, _linear_bin

    grid = _Grid(x0=0.0, y1=100.0, cell_size_m=10.0, rows=10, cols=10)
    # a point a quarter of the way from the centre of cell (row 2, col 3)
    # towards the centre of cell (row 3, col 4), weight 2
    xy = np.array([[35.0 + 2.5, 100.0 - 25.0 - 2.5]])
    binned = _linear_bin(xy, np.array([2.0]), grid=grid)
    assert binned[2, 3] == pytest.approx(2 * 0.75 * 0.75)
    assert binned[2, 4] == pytest.approx(2 * 0.25 * 0.75)
    assert binned[3, 3] == pytest.approx(2 * 0.75 * 0.25)
    assert binned[3, 4] == pytest.approx(2 * 0.25 * 0.25)
    assert binned.sum() == pytest.approx(2.0)


def test_kernel_density_command_does_not_import_scipy_signal():
    """scipy.signal costs most of a second at start: the KDE path never needs it."""
    import subprocess
    import sys

    code = ("import sys, hotspot.cli.detect, hotspot.analysis, hotspot.detect.kde, "
            "hotspot.export.results; print('scipy.signal' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "False"


# --------------------------------------------------------------------------------------
# Points gathered at their locations (PointCounts): the surface of the rows
# --------------------------------------------------------------------------------------


def _gathered(xy: np.ndarray, w: np.ndarray | None = None):  # type: ignore[no-untyped-def]
    from hotspot.detect.kde import PointCounts

    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1],
                          "w": np.ones(len(xy)) if w is None else w})
    g = frame.groupby(["x", "y"]).agg(n=("w", "size"), w=("w", "sum")).reset_index()
    return PointCounts(g[["x", "y"]].to_numpy(), g["n"].to_numpy(dtype=np.int64),
                       None if w is None else g["w"].to_numpy())


def _snapped(n: int, seed: int) -> np.ndarray:
    """Clustered points snapped to a 75 m lattice: many share a location."""
    return np.round(_clustered(n, seed) / 75.0) * 75.0 + 12.5


def test_median_of_repeated_values_by_hand() -> None:
    from hotspot.detect.kde import _median_repeated

    # 1, 1, 1, 4, 9, 9: the middle two are 1 and 4
    assert _median_repeated(np.array([9.0, 1.0, 4.0]), np.array([2, 3, 1])) == 2.5
    # 1, 1, 1, 4, 9: the middle one is 1
    assert _median_repeated(np.array([9.0, 1.0, 4.0]), np.array([1, 3, 1])) == 1.0
    rng = np.random.default_rng(3)
    for _ in range(20):
        v = rng.integers(0, 50, size=12).astype(float)
        m = rng.integers(1, 5, size=12)
        assert _median_repeated(v, m) == np.median(np.repeat(v, m))


def test_kth_other_distance_counts_the_occurrences_at_a_location() -> None:
    from hotspot.detect.kde import _kth_other_distance

    # three at the origin, one 10 m east, two 30 m north
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 30.0]])
    m = np.array([3, 1, 2])
    # from the origin: 2 others at 0, then 1 at 10 m, then 2 at 30 m; from
    # 30 m north: 1 other there, then 3 at the origin 30 m away
    assert list(_kth_other_distance(xy, m, 2)) == [0.0, 10.0, 30.0]
    assert list(_kth_other_distance(xy, m, 3)) == [10.0, 10.0, 30.0]
    assert _kth_other_distance(xy, m, 4)[0] == 30.0
    assert np.isinf(_kth_other_distance(xy, m, 6)).all()  # only 5 others
    # the reference: the same points repeated, the k-th other by a k-d tree
    from scipy.spatial import cKDTree

    rows = np.repeat(xy, m, axis=0)
    want = cKDTree(rows).query(rows, k=4)[0][:, 3]
    got = np.repeat(_kth_other_distance(xy, m, 3), m)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("rule", ["hotspot", "silverman"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gathered_points_give_the_surface_of_their_rows(rule: str,
                                                        weighted: bool) -> None:
    xy = _snapped(3_000, seed=21)
    w = np.random.default_rng(5).choice([1.0, 2.5, 40.0], size=len(xy))
    rows = _points(xy, harm=w)
    gathered = _gathered(xy, w if weighted else None)
    assert len(gathered) < len(xy) // 2  # most points share a location
    a = kde_surface(rows, area=AREA, cell_size_m=100, bandwidth_rule=rule,  # type: ignore[arg-type]
                    weights="harm" if weighted else None)
    b = kde_surface(gathered, area=AREA, cell_size_m=100, bandwidth_rule=rule)  # type: ignore[arg-type]
    assert b.bandwidth_m == pytest.approx(a.bandwidth_m, rel=1e-12)
    assert b.bandwidth_reason == a.bandwidth_reason
    assert (b.n_points, b.n_points_outside) == (a.n_points, a.n_points_outside)
    assert b.weight_total == pytest.approx(a.weight_total)
    np.testing.assert_allclose(b.values, a.values, rtol=1e-6, atol=1e-9)


def test_gathered_points_keep_the_edge_correction_and_the_outside_count() -> None:
    xy = np.vstack([_snapped(800, seed=4), [[X0 - 500.0, Y0 + 10.0]] * 3])
    a = kde_surface(_points(xy), area=AREA, cell_size_m=100, bandwidth_m=400,
                    edge_correction=True)
    b = kde_surface(_gathered(xy), area=AREA, cell_size_m=100, bandwidth_m=400,
                    edge_correction=True)
    assert a.n_points_outside == b.n_points_outside == 3
    np.testing.assert_allclose(b.values, a.values, rtol=1e-6, atol=1e-9)


def test_gathered_points_are_checked() -> None:
    from hotspot.detect.kde import PointCounts

    good = PointCounts(np.array([[X0 + 10.0, Y0 + 10.0]]), np.array([2]))
    with pytest.raises(ParameterError, match="carry their own weights"):
        kde_surface(good, area=AREA, bandwidth_m=100, weights="harm")
    with pytest.raises(ParameterError, match="integer >= 1"):
        kde_surface(PointCounts(good.xy, np.array([0])), area=AREA, bandwidth_m=100)
    with pytest.raises(ParameterError, match="finite and non-negative"):
        kde_surface(PointCounts(good.xy, np.array([1]), np.array([-1.0])),
                    area=AREA, bandwidth_m=100)

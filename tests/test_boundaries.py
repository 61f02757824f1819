"""Tests for hotspot.boundaries and the files scripts/build_boundaries.py builds."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon

from hotspot import boundaries, settings
from hotspot.crs import lonlat_to_bng
from hotspot.errors import CRSError, DataNotFoundError, ParameterError

HIPS_LADS = {
    "E06000044": "Portsmouth",
    "E06000045": "Southampton",
    "E06000046": "Isle of Wight",
    "E07000084": "Basingstoke and Deane",
    "E07000085": "East Hampshire",
    "E07000086": "Eastleigh",
    "E07000087": "Fareham",
    "E07000088": "Gosport",
    "E07000089": "Hart",
    "E07000090": "Havant",
    "E07000091": "New Forest",
    "E07000092": "Rushmoor",
    "E07000093": "Test Valley",
    "E07000094": "Winchester",
}
NORTH_HAMPSHIRE = "E22000374"
POLICE_UK = settings.DATA_DIR / "police_uk" / "hampshire_street_2024-01_2025-09.parquet"

# Hand-picked places (lon, lat), checked on a map.
SOUTHAMPTON_BARGATE = (-1.4044, 50.9038)
SOLENT_SEA = (-1.30, 50.78)  # open water between Calshot and Cowes
PORTSMOUTH_GUILDHALL = (-1.0913, 50.7989)
FLEET_HART = (-0.8340, 51.2790)
# A real LSOA 2021 in Portsmouth (Portsmouth 012A) and one in Southampton.
PORTSMOUTH_LSOA = "E01017013"


def bng_points(lonlat: list[tuple[float, float]], *, index: list[int] | None = None):
    lon, lat = zip(*lonlat, strict=True)
    x, y = lonlat_to_bng(lon, lat)
    return gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(x, y), crs="EPSG:27700", index=index
    )


def holes(geom) -> int:
    return int(sum(shapely.get_num_interior_rings(p) for p in shapely.get_parts(geom)))


def assert_valid_polygons(gdf: gpd.GeoDataFrame) -> None:
    assert gdf.crs.to_epsg() == 27700
    assert shapely.is_valid(gdf.geometry.values).all()
    assert not shapely.is_empty(gdf.geometry.values).any()
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}


# ---------------------------------------------------------------- boundary files
def test_district_csps_match_the_fourteen_districts():
    csps = boundaries.load_csps()
    assert list(csps.columns) == [
        "csp_code",
        "csp_name",
        "lad_code",
        "area_km2",
        "geometry",
    ]
    assert dict(zip(csps["csp_code"], csps["csp_name"], strict=True)) == HIPS_LADS
    assert (csps["csp_code"] == csps["lad_code"]).all()
    assert_valid_polygons(csps)
    assert boundaries.csp_names() == HIPS_LADS


def test_district_csps_have_no_holes_gaps_or_overlaps():
    csps = boundaries.load_csps()
    assert [holes(g) for g in csps.geometry] == [0] * 14
    union = shapely.union_all(csps.geometry.values)
    assert holes(union) == 0
    overlap_m2 = csps.geometry.area.sum() - union.area
    assert abs(overlap_m2) < 1.0


def test_ons2024_grouping_has_north_hampshire():
    csps = boundaries.load_csps(grouping="ons2024")
    assert len(csps) == 12
    assert_valid_polygons(csps)
    north = csps.set_index("csp_code").loc[NORTH_HAMPSHIRE]
    assert north["csp_name"] == "North Hampshire"
    assert north["lad_code"] == "E07000084,E07000089,E07000092"
    districts = boundaries.load_csps().set_index("lad_code")
    parts = districts.loc[["E07000084", "E07000089", "E07000092"], "area_km2"].sum()
    assert north["area_km2"] == pytest.approx(parts, abs=0.01)
    # every district appears in exactly one ONS CSP
    lads = ",".join(csps["lad_code"]).split(",")
    assert sorted(lads) == sorted(HIPS_LADS)
    assert boundaries.csp_names("ons2024")[NORTH_HAMPSHIRE] == "North Hampshire"


@pytest.mark.parametrize(
    ("code", "low_km2", "high_km2"),
    [
        ("E06000045", 48.0, 52.0),  # Southampton: 49.9 km² measured
        ("E06000046", 375.0, 385.0),  # Isle of Wight: 380.2 km²
        ("E06000044", 38.0, 43.0),  # Portsmouth: 40.4 km²
        ("E07000091", 740.0, 765.0),  # New Forest: 753.1 km²
    ],
    ids=["southampton", "isle-of-wight", "portsmouth", "new-forest"],
)
def test_district_areas_are_plausible(code, low_km2, high_km2):
    csps = boundaries.load_csps().set_index("csp_code")
    area = csps.loc[code, "area_km2"]
    assert low_km2 < area < high_km2
    assert area == pytest.approx(csps.loc[code, "geometry"].area / 1e6)


def test_hips_outline_is_the_union_of_the_districts():
    outline = boundaries.load_hips_outline()
    assert len(outline) == 1
    assert_valid_polygons(outline)
    # Land area clipped to the coast: 4,149 km² measured (Hampshire 3,679 km² +
    # Portsmouth, Southampton and the Isle of Wight).
    assert 4_100 < outline["area_km2"].iloc[0] < 4_200
    districts_km2 = boundaries.load_csps()["area_km2"].sum()
    assert outline["area_km2"].iloc[0] == pytest.approx(districts_km2, abs=0.01)


def test_lsoa_and_ward_files():
    lsoa21 = boundaries.load_lsoa21()
    assert len(lsoa21) == 1231 and lsoa21["lsoa21_code"].is_unique
    assert {"lsoa21_code", "lsoa21_name", "lad_code", "lad_name", "ward24_code"} <= set(
        lsoa21.columns
    )
    assert set(lsoa21["lad_code"]) == set(HIPS_LADS)
    assert lsoa21["ward24_code"].notna().all()
    assert_valid_polygons(lsoa21)

    lsoa11 = boundaries.load_lsoa11()
    assert len(lsoa11) == 1194 and lsoa11["lsoa11_code"].is_unique
    assert_valid_polygons(lsoa11)
    successors = lsoa11["lsoa21_codes"].str.split(",").explode()
    assert set(successors) == set(lsoa21["lsoa21_code"])

    wards = boundaries.load_wards()
    assert len(wards) == 268 and wards["ward22_code"].is_unique
    assert set(wards["lad_code"]) == set(HIPS_LADS)
    assert wards["lad_share"].between(0.5, 1.0 + 1e-9).all()
    assert_valid_polygons(wards)


def test_loaders_return_copies():
    first = boundaries.load_csps()
    first.loc[0, "csp_name"] = "changed"
    del first["area_km2"]
    again = boundaries.load_csps()
    assert again.loc[0, "csp_name"] == "Portsmouth"
    assert "area_km2" in again.columns


def test_missing_file_names_the_file_and_the_build_script(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(settings, "BOUNDARIES_DIR", tmp_path)
    with pytest.raises(
        DataNotFoundError, match=r"csp_districts\.parquet.*build_boundaries"
    ):
        boundaries.load_csps()
    with pytest.raises(FileNotFoundError, match="lsoa21.parquet"):
        boundaries.load_lsoa21()


def test_unknown_grouping_is_rejected():
    with pytest.raises(ParameterError, match="grouping must be one of"):
        boundaries.load_csps(grouping="county")  # type: ignore[arg-type]


# -------------------------------------------------------------------- assignment
def test_assign_hand_made_points_keeps_the_index():
    pts = bng_points(
        [SOUTHAMPTON_BARGATE, SOLENT_SEA, PORTSMOUTH_GUILDHALL], index=[30, 10, 20]
    )
    got = boundaries.assign_areas(pts)
    assert list(got.columns) == ["csp_code", "csp_name", "lsoa21_code", "assigned_by"]
    assert list(got.index) == [30, 10, 20]
    assert all(isinstance(t, pd.StringDtype) for t in got.dtypes)
    assert got.loc[30, "csp_name"] == "Southampton"
    assert got.loc[20, "csp_code"] == "E06000044"
    assert got.loc[10].isna().all()
    lsoa21 = boundaries.load_lsoa21().set_index("lsoa21_code")
    assert lsoa21.loc[got.loc[30, "lsoa21_code"], "lad_code"] == "E06000045"
    assert lsoa21.loc[got.loc[20, "lsoa21_code"], "lad_code"] == "E06000044"
    assert list(got["assigned_by"].iloc[[0, 2]]) == ["polygon", "polygon"]


def test_assign_ons2024_puts_hart_in_north_hampshire():
    pts = bng_points([FLEET_HART, SOUTHAMPTON_BARGATE])
    got = boundaries.assign_areas(pts, grouping="ons2024")
    assert list(got["csp_code"]) == [NORTH_HAMPSHIRE, "E22000120"]
    assert list(got["csp_name"]) == ["North Hampshire", "Southampton"]


def test_recorded_lsoa_wins_where_valid():
    pts = bng_points(
        [
            SOUTHAMPTON_BARGATE,
            SOUTHAMPTON_BARGATE,
            SOLENT_SEA,
            SOUTHAMPTON_BARGATE,
            SOUTHAMPTON_BARGATE,
        ],
        index=[1, 2, 3, 4, 5],
    )
    recorded = pd.Series(
        [PORTSMOUTH_LSOA, None, f" {PORTSMOUTH_LSOA.lower()} ", "E01999999", ""],
        index=pts.index,
    )
    got = boundaries.assign_areas(pts, recorded_lsoa=recorded)
    # a valid recorded code is used as it stands, and its district gives the CSP
    assert got.loc[1, "csp_name"] == "Portsmouth"
    assert got.loc[1, "lsoa21_code"] == PORTSMOUTH_LSOA
    assert got.loc[1, "assigned_by"] == "recorded_lsoa"
    # a point at sea with a valid recorded code still gets it
    assert got.loc[3, "csp_code"] == "E06000044"
    assert got.loc[3, "lsoa21_code"] == PORTSMOUTH_LSOA
    # missing, unknown and blank codes fall back to the polygons
    for i in (2, 4, 5):
        assert got.loc[i, "csp_name"] == "Southampton"
        assert got.loc[i, "assigned_by"] == "polygon"


def test_point_on_a_shared_edge_goes_to_the_lower_code():
    csps = boundaries.load_csps().set_index("csp_code")
    edge = shapely.intersection(
        csps.loc["E06000045", "geometry"].boundary,
        csps.loc["E07000086", "geometry"].boundary,
    )
    vertex = shapely.get_coordinates(edge)[0]
    pts = gpd.GeoDataFrame(geometry=[Point(vertex)], crs="EPSG:27700")
    assert csps.loc["E06000045", "geometry"].intersects(pts.geometry[0])
    assert csps.loc["E07000086", "geometry"].intersects(pts.geometry[0])
    got = boundaries.assign_areas(pts)
    assert got.loc[0, "csp_code"] == "E06000045"


def test_missing_and_empty_geometries_get_na():
    x, y = lonlat_to_bng(*PORTSMOUTH_GUILDHALL)
    pts = gpd.GeoDataFrame(
        geometry=[None, Point(), Point(float(x[()]), float(y[()]))], crs="EPSG:27700"
    )
    got = boundaries.assign_areas(pts)
    assert got["csp_code"].isna().tolist() == [True, True, False]


def test_empty_input_gives_empty_result():
    pts = gpd.GeoDataFrame(geometry=[], crs="EPSG:27700")
    got = boundaries.assign_areas(pts)
    assert got.empty and list(got.columns) == list(boundaries.ASSIGN_COLUMNS)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda: bng_points([SOUTHAMPTON_BARGATE]).to_crs("EPSG:4326"),
            CRSError,
            "EPSG:27700",
        ),
        (
            lambda: gpd.GeoDataFrame(
                geometry=[Polygon([(0, 0), (1, 0), (1, 1)])], crs="EPSG:27700"
            ),
            ParameterError,
            "Point geometries",
        ),
        (lambda: pd.DataFrame({"x": [1.0]}), ParameterError, "GeoDataFrame"),
    ],
    ids=["wgs84", "polygons", "plain-frame"],
)
def test_bad_points_are_rejected(make, error, match):
    with pytest.raises(error, match=match):
        boundaries.assign_areas(make())


def test_recorded_lsoa_must_be_indexed_like_points():
    pts = bng_points([SOUTHAMPTON_BARGATE, PORTSMOUTH_GUILDHALL], index=[5, 6])
    with pytest.raises(ParameterError, match="indexed like points"):
        boundaries.assign_areas(pts, recorded_lsoa=pd.Series([PORTSMOUTH_LSOA] * 2))


def test_assignment_matches_geopandas_sjoin():
    """Reference implementation: a plain geopandas spatial join on the CSP polygons."""
    csps = boundaries.load_csps()
    rng = np.random.default_rng(42)
    xmin, ymin, xmax, ymax = csps.total_bounds
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            rng.uniform(xmin, xmax, 5_000), rng.uniform(ymin, ymax, 5_000)
        ),
        crs="EPSG:27700",
    )
    expected = (
        gpd.sjoin(pts, csps[["csp_code", "geometry"]], how="left", predicate="within")
        .groupby(level=0)["csp_code"]
        .min()
    )
    got = boundaries.assign_areas(pts)
    assert got["csp_code"].notna().sum() > 1_000  # the sample reaches land
    expected = expected.reindex(pts.index)
    assert got["csp_code"].fillna("outside").tolist() == (
        expected.fillna("outside").tolist()
    )


# ----------------------------------------------------------- real police.uk data
@pytest.fixture(scope="module")
def police_uk_points() -> gpd.GeoDataFrame:
    if not POLICE_UK.exists():
        pytest.fail(
            f"{POLICE_UK} missing: run .venv/bin/python scripts/build_police_uk.py"
        )
    data = pd.read_parquet(POLICE_UK, columns=["Longitude", "Latitude", "LSOA code"])
    x, y = lonlat_to_bng(data["Longitude"], data["Latitude"])
    return gpd.GeoDataFrame(
        data[["LSOA code"]], geometry=gpd.points_from_xy(x, y), crs="EPSG:27700"
    )


@pytest.mark.slow
def test_police_uk_points_land_in_their_recorded_district(police_uk_points):
    assert len(police_uk_points) == 180_165
    lsoa21 = boundaries.load_lsoa21().set_index("lsoa21_code")
    recorded = police_uk_points["LSOA code"].astype(str)
    recorded_lad = recorded.map(lsoa21["lad_code"])
    known = recorded_lad.notna()
    assert known.mean() > 0.99  # nearly every recorded code is a HIPS LSOA 2021

    by_polygon = boundaries.assign_areas(police_uk_points)
    same_csp = by_polygon["csp_code"][known].astype(object) == recorded_lad[known]
    assert same_csp.mean() > 0.95
    # the coarse LSOA polygons miss about 15% of points' own LSOA
    same_lsoa = by_polygon["lsoa21_code"][known].astype(object) == recorded[known]
    assert 0.75 < same_lsoa.mean() < 0.95

    by_record = boundaries.assign_areas(
        police_uk_points, recorded_lsoa=police_uk_points["LSOA code"]
    )
    assert (by_record["assigned_by"][known] == "recorded_lsoa").all()
    assert (by_record["lsoa21_code"][known].astype(object) == recorded[known]).all()
    assert (by_record["csp_code"][known].astype(object) == recorded_lad[known]).all()


def test_point_outside_the_coarse_lsoas_gets_the_nearest_lsoa_of_its_csp():
    csps = boundaries.load_csps().set_index("csp_code")
    lsoa21 = boundaries.load_lsoa21()
    southampton = csps.loc["E06000045", "geometry"]
    own = shapely.union_all(
        lsoa21.loc[lsoa21["lad_code"] == "E06000045", "geometry"].values
    )
    # the largest piece of Southampton no Southampton LSOA 2021 polygon covers
    piece = max(shapely.get_parts(southampton.difference(own)), key=lambda p: p.area)
    point = piece.representative_point()
    assert southampton.contains(point) and not own.intersects(point)
    pts = gpd.GeoDataFrame(geometry=[point], crs="EPSG:27700")
    got = boundaries.assign_areas(pts).loc[0]
    assert got["csp_code"] == "E06000045"
    chosen = lsoa21.set_index("lsoa21_code").loc[got["lsoa21_code"]]
    assert chosen["lad_code"] == "E06000045"
    distance_m = chosen["geometry"].distance(point)
    assert 0 < distance_m <= boundaries.LSOA_SEARCH_RADIUS_M
    nearest_own = lsoa21.loc[lsoa21["lad_code"] == "E06000045"].distance(point).min()
    assert distance_m == pytest.approx(nearest_own)


@pytest.mark.slow
def test_police_uk_file_keeps_every_row_and_column():
    data = pd.read_parquet(POLICE_UK)
    assert list(data.columns) == [
        "Crime ID",
        "Month",
        "Reported by",
        "Falls within",
        "Longitude",
        "Latitude",
        "Location",
        "LSOA code",
        "LSOA name",
        "Crime type",
        "Last outcome category",
        "Context",
        "source_file",
        "source_row",
    ]
    assert len(data) == 180_165
    assert not data.duplicated(["source_file", "source_row"]).any()
    per_file = data.groupby("source_file", observed=True)["source_row"].agg(
        ["min", "max", "size"]
    )
    assert (per_file["min"] == 1).all() and (per_file["max"] == per_file["size"]).all()
    months = pd.read_csv(POLICE_UK.parent / "months.csv")
    assert months["rows"].sum() == len(data)
    august = months[months["month"] == "2025-08"].set_index("crime_type")["rows"]
    assert august["Violence and sexual offences"] == 11_639

"""Tests for precision classes: the rule, the summary, police.uk snap points."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import Voronoi

from hotspot.errors import ParameterError
from hotspot.geocode import Box, Gazetteer, geocode, load_gazetteer
from hotspot.geocode.precision import (
    MAPPABLE_PRECISIONS,
    METHOD_PRECISION,
    PRECISIONS,
    fill_precision,
    h3_edge_m,
    lsoa_is_certain,
    precise_enough,
    precision_summary,
)
from hotspot.ingest.schema import OCCURRENCE_COLUMNS
from hotspot.settings import SHARED_DATA_DIR

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_gazetteer.py"
SNAP_CSV = (
    SHARED_DATA_DIR
    / "streets"
    / "police_uk_snap_points_hips_2025-01_09"
    / "DERIVED_police_uk_snap_points_hips.csv"
)


def _build_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("build_gazetteer", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def occ(precision: list[object], unc: list[float], **extra: list) -> pd.DataFrame:
    return pd.DataFrame(
        {"geocode_precision": precision, "geocode_uncertainty_m": unc, **extra}
    )


# ------------------------------------------------------------------ the rule


def test_every_precision_class_against_a_174_m_cell() -> None:
    frame = occ(
        ["exact", "snap_point", "snap_point", "postcode_unit", "street", "street"]
        + ["postcode_sector", "postcode_district", "place", "area", None, "exact"],
        [10.0, 96.0, 300.0, 50.0, 100.0, 174.0]
        + [400.0, 3000.0, 50.0, 100.0, 10.0, np.nan],
    )
    got = precise_enough(frame, cell_edge_m=174.0)
    # hand-checked: used when mappable and uncertainty <= 174 m; a place or area
    # is never used, even with a small uncertainty; NA precision/uncertainty never
    expected = [True, True, False, True, True, True]
    expected += [False, False, False, False, False, False]
    assert got.tolist() == expected
    assert got.dtype == bool


def test_coarse_cells_admit_coarse_postcodes_but_never_places() -> None:
    frame = occ(["postcode_district", "place", "area"], [3000.0, 1500.0, 9000.0])
    assert precise_enough(frame, cell_edge_m=3725.0).tolist() == [True, False, False]


def test_rule_keeps_the_index() -> None:
    frame = occ(["exact", "place"], [10.0, 10.0]).set_axis(["a", "b"])
    assert precise_enough(frame, cell_edge_m=100.0).to_dict() == {"a": True, "b": False}


@pytest.mark.parametrize("edge", [0, -5.0, np.nan, np.inf, True, "174"])
def test_rule_rejects_a_bad_cell_edge(edge: object) -> None:
    with pytest.raises(ParameterError, match="cell_edge_m"):
        precise_enough(occ(["exact"], [1.0]), cell_edge_m=edge)  # type: ignore[arg-type]


def test_rule_names_missing_columns() -> None:
    with pytest.raises(ParameterError, match="geocode_precision"):
        precise_enough(
            pd.DataFrame({"geocode_uncertainty_m": [1.0]}), cell_edge_m=100.0
        )
    with pytest.raises(ParameterError, match="DataFrame"):
        precise_enough([1, 2], cell_edge_m=100.0)  # type: ignore[arg-type]


def test_h3_edge_against_the_cell_measured_in_british_national_grid() -> None:
    from hotspot.crs import lonlat_to_bng

    for res in (8, 9, 10):
        cell = h3.latlng_to_cell(50.9077, -1.4046, res)
        ring = np.array(h3.cell_to_boundary(cell))  # (lat, lng)
        x, y = lonlat_to_bng(ring[:, 1], ring[:, 0])
        planar = np.hypot(np.diff(np.r_[x, x[0]]), np.diff(np.r_[y, y[0]])).mean()
        # BNG's scale factor here is within 0.1% of 1
        assert h3_edge_m(res) == pytest.approx(planar, rel=2e-3)
    assert 185.0 < h3_edge_m(9) < 200.0
    with pytest.raises(ParameterError, match="resolution"):
        h3_edge_m(16)
    with pytest.raises(ParameterError, match="resolution"):
        h3_edge_m(True)  # type: ignore[arg-type]


def test_method_map_covers_every_method_and_class() -> None:
    assert set(METHOD_PRECISION.values()) <= set(PRECISIONS)
    assert set(PRECISIONS) >= MAPPABLE_PRECISIONS
    assert {"place", "area"}.isdisjoint(MAPPABLE_PRECISIONS)
    assert "geocode_precision" in OCCURRENCE_COLUMNS
    assert OCCURRENCE_COLUMNS["geocode_precision"] == "string"


def test_lsoa_certain_only_for_fine_points_or_a_recorded_code() -> None:
    frame = occ(
        ["exact", "snap_point", "postcode_unit", "street", "place", "area", "place"],
        [10.0] * 7,
        recorded_lsoa_code=[None] * 6 + ["E01017000"],
    )
    assert lsoa_is_certain(frame).tolist() == [True] * 3 + [False] * 3 + [True]


# ---------------------------------------------------------------- the summary


def test_summary_counts_and_words_each_class() -> None:
    frame = occ(
        ["snap_point"] * 4 + ["place"] * 3 + ["area", "area"],
        [96.0, 96.0, 96.0, 400.0] + [1500.0] * 3 + [9000.0, 9000.0],
        csp_name=["Southampton"] * 4 + ["Eastleigh"] * 3 + ["Fareham", "Gosport"],
    )
    table = precision_summary(frame, cell_edge_m=174.0).set_index("precision")
    assert table.index.tolist() == ["snap_point", "place", "area"]
    assert table["occurrences"].tolist() == [4, 3, 2]
    assert table["mapped"].tolist() == [3, 0, 0]
    assert table["not_mapped"].tolist() == [1, 3, 2]
    assert table.loc["snap_point", "median_uncertainty_m"] == 96.0
    assert table.loc["place", "note"] == (
        "3 occurrences located only to a town or village: counted in "
        "Eastleigh's total, not mapped"
    )
    assert table.loc["area", "note"] == (
        "2 occurrences located only to a district: counted in the totals of "
        "Fareham (1), Gosport (1), not mapped"
    )
    assert table.loc["snap_point", "note"] == (
        "3 mapped; 1 occurrences uncertainty over the 174 m cell edge: counted in "
        "Southampton's total, not mapped"
    )
    assert int(table["occurrences"].sum()) == len(frame)


def test_summary_all_mapped() -> None:
    table = precision_summary(occ(["exact", "exact"], [10.0, 5.0]), cell_edge_m=66.0)
    assert table["note"].tolist() == ["all 2 mapped (uncertainty ≤ 66 m)"]


# ------------------------------------------------------- police.uk snap points


def _gaz(snap: pd.DataFrame | None) -> Gazetteer:
    empty = pd.DataFrame(
        {"postcode": [], "easting": [], "northing": [], "quality": [], "lad_code": []}
    )
    return Gazetteer(
        postcodes=empty,
        sectors=empty.rename(columns={"postcode": "sector"}),
        districts=empty.rename(columns={"postcode": "outward"}),
        streets=pd.DataFrame(),
        street_points=pd.DataFrame(),
        places=pd.DataFrame(),
        box=Box(xmin=395000.0, ymin=65000.0, xmax=499000.0, ymax=175000.0),
        snap_points=snap,
    )


def test_police_uk_coordinates_are_snap_points_with_their_catchment() -> None:
    from pyproj import Transformer

    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    snap = pd.DataFrame({"x": [442000.0, 443000.0], "y": [111000.0, 111000.0]})
    snap["radius_m"] = [80.0, 300.0]
    # on the first point; 50 m from it; 400 m from the second; far from both
    xs = np.array([442000.0, 442050.0, 443400.0, 470000.0])
    ys = np.array([111000.0, 111000.0, 111000.0, 111000.0])
    lon, lat = to_wgs.transform(xs, ys)
    frame = pd.DataFrame(
        {
            "source": ["police_uk"] * 4 + ["records"],
            "longitude": [*lon, lon[0]],
            "latitude": [*lat, lat[0]],
        }
    )
    result = geocode(frame, gazetteer=_gaz(snap))
    assert result["geocode_method"].tolist() == ["wgs84"] * 5
    assert result["geocode_precision"].tolist() == ["snap_point"] * 4 + ["exact"]
    unc = result["geocode_uncertainty_m"].to_numpy()
    # known point: its radius; 50 m off: max(80, 50); 400 m off the 300 m point:
    # 400; 27 km off: capped at 1 km; a records row: 10 m as given-less coordinate
    assert unc[0] == pytest.approx(80.0)
    assert unc[1] == pytest.approx(80.0, abs=0.5)
    assert unc[2] == pytest.approx(400.0, abs=0.5)
    assert unc[3] == 1000.0
    assert unc[4] == 10.0
    assert result["geocode_lad_code"].isna().all()


def test_without_a_snap_table_police_points_get_the_documented_default() -> None:
    frame = pd.DataFrame(
        {"source": ["police_uk"], "longitude": [-1.4046], "latitude": [50.9077]}
    )
    result = geocode(frame, gazetteer=_gaz(None))
    assert result["geocode_precision"].iloc[0] == "snap_point"
    assert result["geocode_uncertainty_m"].iloc[0] == 200.0


def test_given_uncertainty_wins_over_the_catchment() -> None:
    frame = pd.DataFrame(
        {
            "source": ["police_uk"],
            "longitude": [-1.4046],
            "latitude": [50.9077],
            "geocode_uncertainty_m": [33.0],
        }
    )
    result = geocode(frame, gazetteer=_gaz(None))
    assert result["geocode_uncertainty_m"].iloc[0] == 33.0


def test_catchment_radius_of_a_square_grid_against_scipy_voronoi() -> None:
    build = _build_script()
    g = np.arange(0.0, 1000.0, 100.0)
    xy = np.array([(x, y) for x in g for y in g])
    got = build.catchment_radius(xy, clip_m=1000.0)
    interior = (xy.min(axis=1) > 0) & (xy.max(axis=1) < 900)
    # hand-checked: an interior cell is a 100 m square, radius 100/sqrt(pi)
    assert got[interior] == pytest.approx(100.0 / np.sqrt(np.pi), rel=1e-9)
    # reference: scipy's Voronoi cell areas (shoelace) for the interior cells
    vor = Voronoi(xy)
    for i in np.flatnonzero(interior)[:10]:
        poly = vor.vertices[vor.regions[vor.point_region[i]]]
        c = poly.mean(axis=0)
        poly = poly[np.argsort(np.arctan2(poly[:, 1] - c[1], poly[:, 0] - c[0]))]
        px, py = poly[:, 0], poly[:, 1]
        area = 0.5 * abs(np.dot(px, np.roll(py, 1)) - np.dot(py, np.roll(px, 1)))
        assert got[i] == pytest.approx(np.sqrt(area / np.pi), rel=1e-9)
    # an isolated point's cell is the whole clip disk (quad_segs=64 polygon)
    lone = build.catchment_radius(np.array([[0.0, 0.0], [5000.0, 0.0]]), clip_m=500.0)
    assert lone == pytest.approx([500.0, 500.0], rel=1e-3)


@pytest.mark.skipif(not SNAP_CSV.exists(), reason="shared HIPS data not available")
def test_real_snap_table_keeps_most_police_records_at_resolution_9() -> None:
    gaz = load_gazetteer()
    assert gaz.snap_points is not None
    snap = gaz.snap_points
    assert len(snap) == 19_299
    assert snap["radius_m"].between(1.0, 1000.0).all()
    share = float(
        snap.loc[snap["radius_m"] <= h3_edge_m(9), "n_records"].sum()
        / snap["n_records"].sum()
    )
    # docs/geocoding.md: 87% of Jan-Sep 2025 records sit on snap points whose
    # catchment radius is within a resolution-9 edge
    assert 0.82 <= share <= 0.92
    assert 80.0 <= float(snap["radius_m"].median()) <= 110.0


def test_fill_precision_upgrades_a_store_written_before_precision() -> None:
    snap = pd.DataFrame({"x": [442000.0], "y": [111000.0], "radius_m": [80.0]})
    old = pd.DataFrame(
        {
            "source": ["police_uk", "records", "records", "records", "records"],
            "geocode_method": ["wgs84", "bng", "street", "place", "bng"],
            "geocode_uncertainty_m": [10.0, 10.0, 100.0, 4000.0, 10.0],
            "geocode_precision": pd.array(
                [None, None, None, None, "postcode_unit"], dtype="string"
            ),
            "x": [442000.0, 442000.0, 442000.0, 442000.0, 442000.0],
            "y": [111000.0] * 5,
        }
    )
    new = fill_precision(old, gazetteer=_gaz(snap))
    assert new["geocode_precision"].tolist() == [
        "snap_point",
        "exact",
        "street",
        "place",
        "postcode_unit",  # already set: left alone
    ]
    assert new["geocode_uncertainty_m"].tolist() == [80.0, 10.0, 100.0, 4000.0, 10.0]
    assert old["geocode_precision"].isna().sum() == 4  # input unchanged
    # without the column at all
    bare = fill_precision(old.drop(columns="geocode_precision"), gazetteer=_gaz(snap))
    assert bare["geocode_precision"].iloc[1] == "exact"
    with pytest.raises(ParameterError, match="geocode_method"):
        fill_precision(pd.DataFrame({"x": [1.0]}))


@pytest.mark.parametrize(
    ("precision", "unc", "expected"),
    [
        # typical uncertainties; expected use at H3 resolutions 10, 9, 8
        # (edges about 73, 193, 511 m in HIPS)
        ("exact", 10.0, (True, True, True)),
        ("snap_point", 96.0, (False, True, True)),
        ("snap_point", 396.0, (False, False, True)),
        ("postcode_unit", 50.0, (True, True, True)),
        ("postcode_unit", 200.0, (False, False, True)),
        ("street", 100.0, (False, True, True)),
        ("street", 600.0, (False, False, False)),
        ("postcode_sector", 450.0, (False, False, True)),
        ("postcode_district", 2500.0, (False, False, False)),
        ("place", 1500.0, (False, False, False)),
        ("area", 14000.0, (False, False, False)),
    ],
)
def test_each_class_at_resolutions_10_9_8(
    precision: str, unc: float, expected: tuple[bool, bool, bool]
) -> None:
    frame = occ([precision], [unc])
    got = tuple(
        bool(precise_enough(frame, cell_edge_m=h3_edge_m(r)).iloc[0])
        for r in (10, 9, 8)
    )
    assert got == expected


def test_postcode_levels_carry_their_precision_and_certain_district() -> None:
    from tests.geocode_tiny import make_tiny

    tiny = make_tiny()
    sectors = tiny.sectors.assign(lad_certain=[True, False, True])
    gaz = Gazetteer(
        postcodes=tiny.postcodes,
        sectors=sectors,
        districts=tiny.districts,
        streets=tiny.streets,
        street_points=tiny.street_points,
        places=tiny.places,
        box=tiny.box,
    )
    frame = pd.DataFrame({"postcode": ["so14 2aa", "SO14 2", "SO14 3", "SO14"]})
    result = geocode(frame, gazetteer=gaz)
    assert result["geocode_precision"].tolist() == [
        "postcode_unit",
        "postcode_sector",
        "postcode_sector",
        "postcode_district",
    ]
    # a unit's district is Code-Point's; a sector's only when all its units agree;
    # the tiny districts table has no lad_certain column: never certain
    lad = result["geocode_lad_code"]
    assert lad.iloc[:2].tolist() == ["E06000045", "E06000045"]
    assert lad.iloc[2:].isna().all()

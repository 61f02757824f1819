"""Tests of the ``hotspot detect`` command on a tiny store made in tmp_path."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyogrio
import pytest

from hotspot.boundaries import load_csps
from hotspot.cli.detect import add_parser
from hotspot.crs import BNG
from hotspot.detect.analyse import EMERGING_OUTPUT, GISTAR_OUTPUT
from hotspot.errors import ParameterError
from hotspot.grid import cell_centres_bng, study_cells
from hotspot.ingest.store import write_store

SOTON = "E06000045"
BARGATE = h3.latlng_to_cell(50.9045, -1.4040, 9)  # Southampton city centre


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hotspot")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """120 occurrences in Southampton: a city-centre cluster plus scattered ones."""
    rng = np.random.default_rng(0)
    cluster = [BARGATE] * 12 + sorted(h3.grid_ring(BARGATE, 1)) * 4
    cells = study_cells(load_csps().query("csp_code == @SOTON"), resolution=9)
    scattered = list(rng.choice(cells["h3"].to_numpy(), 84))
    all_cells = cluster + scattered
    x, y = cell_centres_bng(all_cells)
    n = len(all_cells)
    months = rng.integers(1, 10, n)
    start = pd.to_datetime([f"2025-{m:02d}-01" for m in months])
    frame = gpd.GeoDataFrame(
        {
            "occurrence_id": [f"o{i}" for i in range(n)],
            "occurred_from": start,
            "occurred_to": start + pd.offsets.MonthEnd(0),
            "date_precision": "month",
            "sv_category": np.where(np.arange(n) % 3 == 0, "possession_of_weapons",
                                    "robbery"),
            "is_serious_violence": True,
            "harm_weight": 2.0,
            "csp_code": SOTON,
            "csp_name": "Southampton",
            "quality_flags": [pd.NA] * (n - 5) + ["implausible_month"] * 5,
        },
        geometry=gpd.points_from_xy(x, y),
        crs=BNG,
    )
    write_store(tmp_path / "store", occurrences=frame, rejects=pd.DataFrame(),
                summary={"n": n})
    return tmp_path / "store"


def test_gistar_writes_one_row_per_cell(store, tmp_path):
    out = tmp_path / "hot.gpkg"
    args = parse(["detect", str(store), "--method", "gistar", "--csp", "Southampton",
                  "--out", str(out), "--no-progress"])
    assert args.func(args) == 0
    table = gpd.read_file(out)
    cells = study_cells(load_csps().query("csp_code == @SOTON"), resolution=9)
    assert len(table) == len(cells)
    assert set(table["h3"]) == set(cells["h3"])
    assert list(table.columns) == [*GISTAR_OUTPUT, "geometry"]
    assert table.crs.to_epsg() == 27700
    assert table["count"].sum() == 120 - 5  # flagged rows left out by default
    centre = table.set_index("h3").loc[BARGATE]
    assert centre["count"] == 12 and centre["bin"] == 3
    assert centre["rank"] == 1
    assert "Southampton" in centre["explanation"]
    assert "ranked 1st" in centre["explanation"]
    assert table["harm"].sum() == pytest.approx(2 * 115)
    meta = json.loads(pyogrio.read_info(out)["layer_metadata"]["hotspot"])
    assert meta["counts"]["occurrences_in"] == 115
    assert meta["parameters"]["resolution"] == 9


def test_filters_flagged_category_and_dates(store, tmp_path):
    out = tmp_path / "f.gpkg"
    base = ["detect", str(store), "--csp", SOTON, "--out", str(out), "--no-progress"]
    args = parse([*base, "--include-flagged"])
    args.func(args)
    assert gpd.read_file(out)["count"].sum() == 120
    args = parse([*base, "--category", "robbery", "--include-flagged"])
    args.func(args)
    assert gpd.read_file(out)["count"].sum() == 80
    args = parse([*base, "--from", "2025-03-01", "--to", "2025-04-30",
                  "--include-flagged"])
    args.func(args)
    occ = gpd.read_parquet(store / "occurrences.parquet")
    months = pd.to_datetime(occ["occurred_from"]).dt.month
    assert gpd.read_file(out)["count"].sum() == int(months.isin([3, 4]).sum())


def test_gistar_harm_and_permutations(store, tmp_path):
    out = tmp_path / "p.gpkg"
    args = parse(["detect", str(store), "--csp", "southampton", "--weight", "harm",
                  "--permutations", "9999", "--seed", "4", "--out", str(out),
                  "--no-progress"])
    args.func(args)
    table = gpd.read_file(out)
    has_neighbours = table["neighbours"] > 0
    assert table.loc[has_neighbours, "p_sim"].notna().all()
    assert table.loc[~has_neighbours, "p_sim"].isna().all()  # no ring to permute
    np.testing.assert_array_equal(table["p"], table["p_sim"])
    # smallest two-sided p is 2/10000; BH over ~500 cells leaves the centre at 95%+
    assert table.set_index("h3").loc[BARGATE, "bin"] >= 2


def test_emerging_month_only_store(store, tmp_path):
    out = tmp_path / "trend.gpkg"
    args = parse(["detect", str(store), "--method", "emerging", "--csp", SOTON,
                  "--out", str(out), "--no-progress"])
    args.func(args)
    table = gpd.read_file(out)
    assert list(table.columns) == [*EMERGING_OUTPUT, "geometry"]
    assert table["n_periods"].eq(9).all()
    meta = json.loads(pyogrio.read_info(out)["layer_metadata"]["hotspot"])
    assert meta["parameters"]["period"] == "month"
    assert "period" in meta["automatic"]
    assert any("fewer than 10" in w for w in meta["warnings"])
    weeks = parse(["detect", str(store), "--method", "emerging", "--period", "week",
                   "--csp", SOTON, "--out", str(out), "--no-progress"])
    with pytest.raises(ParameterError, match="month only"):
        weeks.func(weeks)


def test_kde_writes_geotiff(store, tmp_path):
    rasterio = pytest.importorskip("rasterio")
    pytest.importorskip("hotspot.detect.kde")
    out = tmp_path / "density.tif"
    args = parse(["detect", str(store), "--method", "kde", "--csp", SOTON,
                  "--cell-size", "100", "--out", str(out), "--no-progress"])
    assert args.func(args) == 0
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 27700
        assert src.res == (100.0, 100.0)
        assert np.nanmax(src.read(1, masked=True)) > 0


@pytest.mark.parametrize(
    "extra",
    [["--out", "x.tif"], ["--csp", "Atlantis"], ["--from", "01/02/2025"],
     ["--resolution", "13"], ["--permutations", "5"]],
    ids=["suffix", "csp", "date", "resolution", "permutations"],
)
def test_bad_arguments_raise(store, tmp_path, extra):
    argv = ["detect", str(store), "--no-progress", "--out", str(tmp_path / "a.gpkg")]
    args = parse(argv + extra)
    if extra[0] == "--out":
        args.out = tmp_path / "x.tif"
    with pytest.raises(ParameterError):
        args.func(args)


def test_gistar_hips_scope(store, tmp_path):
    out = tmp_path / "hips.gpkg"
    args = parse(["detect", str(store), "--scope", "hips", "--csp", SOTON,
                  "--csp", "Eastleigh", "--out", str(out), "--no-progress"])
    args.func(args)
    table = gpd.read_file(out)
    assert set(table["study_area"]) == {"HIPS"}
    assert set(table["csp_code"]) == {SOTON, "E07000086"}
    assert "in HIPS" in table.set_index("h3").loc[BARGATE, "explanation"]


# --------------------------------------------------------------------------
# explanations (hotspot.detect.explain), checked on hand-made Gi* tables
# --------------------------------------------------------------------------


def gistar_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "study_area": ["E06000045"] * 3 + ["E07000086"],
        "count": [14, 1, 0, 3],
        "harm": [30.5, 2.0, 0.0, 3.0],
        "neighbour_sum": [31.0, 2.0, 0.0, 0.0],
        "neighbours": [6, 1, 6, 4],
        "area_mean": [0.4, 0.4, 0.4, 0.05],
        "z": [6.2, 2.2, -2.0, np.nan],
        "p_fdr": [0.0004, 0.03, 0.04, np.nan],
        "bin": [3, 2, -2, 0],
    })


def test_explain_gistar_sentences():
    from hotspot.detect.explain import explain_gistar

    text = explain_gistar(
        gistar_rows(), noun=("robbery", "robberies"),
        area_names={"E06000045": "Southampton", "E07000086": "Eastleigh"},
    )
    assert text.iloc[0] == (
        "14 robberies here and 31 in the 6 neighbouring cells against a Southampton "
        "average of 0.40 per cell; z = 6.2, p < 0.001 after the false-discovery "
        "adjustment: a 99% hot spot, ranked 1st of 2 hot spots in Southampton."
    )
    assert text.iloc[1].startswith("1 robbery here and 2 in the 1 neighbouring cell ")
    assert "p = 0.030" in text.iloc[1] and "ranked 2nd of 2 hot spots" in text.iloc[1]
    assert "a 95% cold spot, ranked 1st of 1 cold spots in Southampton" in text.iloc[2]
    assert "an Eastleigh average" in text.iloc[3]
    assert "Gi* is undefined" in text.iloc[3]


def test_explain_gistar_harm_and_no_fdr():
    from hotspot.detect.explain import explain_gistar

    text = explain_gistar(gistar_rows(), column="harm", fdr=False, permutations=999)
    assert text.iloc[0].startswith("harm of 30.5 here and 31.0 in the 6")
    assert "(999 permutations):" in text.iloc[0]
    assert "false-discovery" not in text.iloc[0]


def test_ordinals():
    from hotspot.detect.explain import ordinal

    assert ordinal([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111]).tolist() == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
        "111th",
    ]


def test_explain_emerging_sentence():
    from hotspot.detect.explain import explain_emerging

    rows = pd.DataFrame({
        "category": ["new hot spot"], "count": [5], "hot_periods": [1],
        "cold_periods": [0], "n_periods": [12], "trend_z": [2.5], "trend_p": [0.012],
        "final_z": [3.1],
    })
    text = explain_emerging(rows, period="month", noun=("robbery", "robberies"))
    assert text.iloc[0] == (
        "New hot spot: 5 robberies here; hot in 1 and cold in 0 of 12 months; a "
        "significant upward trend in its Gi* z-scores (Mann-Kendall z = 2.5, "
        "p = 0.012); z in the last month = 3.1."
    )


def test_result_records_automatic_choices():
    from hotspot.detect.result import DetectResult

    result = DetectResult(method="gistar", parameters={"k": 1})
    result.choose("seed", 7, "no --seed given")
    result.warn("sparse")
    meta = result.metadata()
    assert meta["parameters"] == {"k": 1, "seed": 7}
    assert meta["automatic"] == {"seed": "no --seed given"}
    assert meta["warnings"] == ["sparse"]
    assert "chosen automatically: seed = 7 (no --seed given)" in result.summary()


def test_seed_drawn_and_reported_when_not_given(store, tmp_path):
    out = tmp_path / "seed.gpkg"
    args = parse(["detect", str(store), "--csp", SOTON, "--permutations", "99",
                  "--out", str(out), "--no-progress"])
    args.func(args)
    meta = json.loads(pyogrio.read_info(out)["layer_metadata"]["hotspot"])
    assert isinstance(meta["parameters"]["seed"], int)
    assert "seed" in meta["automatic"]
    # 99 permutations cannot reach significance after BH over ~500 cells: warned
    assert any("smallest p is 0.0200" in w for w in meta["warnings"])

"""The analysis core asked of a store through DuckDB gives the table's answer.

``hotspot detect`` on a partitioned store never loads its rows: the selection
rule's account (:meth:`StoreQuery.tally`), the counts per cell and month and
the points gathered at their locations come from DuckDB, and the same core runs
on them. Each is checked here against the rows path (:func:`select`, then
:func:`count_points` or the rows' KDE) on the embedded store, written as a
partitioned store and queried both ways.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio

from hotspot import analysis
from hotspot.cli.detect import add_parser as add_detect
from hotspot.errors import ParameterError
from hotspot.geocode.precision import h3_edge_m
from hotspot.ingest.query import StoreQuery
from hotspot.ingest.store import DEFAULT_STORE, load_occurrences
from hotspot.selection import Selection, select
from hotspot.view import View

SELECTIONS = [
    Selection(),
    Selection(start="2024-03", end="2025-02", categories=("robbery",)),
    Selection(start="2025-03-15", end="2025-04-02", include_flagged=True),
    Selection(flags=("bladed", "nondomestic"), unknown_flags="keep"),
    Selection(flags=("under25", "public")),
    Selection(csps=("E06000045", "E06000044"), include_approximate=True),
]
VIEWS = [
    View(),
    View(csp="E06000045", resolution=10, month_from="2025-01", month_to="2025-09"),
    View(weight="harm", categories=("robbery", "possession_of_weapons")),
    View(scope="hips", flags=("nondomestic",), unknown_flags="keep",
         include_approximate=True),
]


@pytest.fixture(scope="module")
def occurrences() -> gpd.GeoDataFrame:
    return load_occurrences(DEFAULT_STORE)


@pytest.fixture(scope="module")
def partitioned(embedded_partitioned: Path) -> Path:
    return embedded_partitioned


@pytest.fixture(scope="module")
def query(partitioned: Path):  # type: ignore[no-untyped-def]
    with StoreQuery(partitioned) as q:
        yield q


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("cells", [False, True], ids=["rows", "for-cells"])
def test_the_tally_is_the_selection_rules_account(
        selection: Selection, cells: bool, occurrences: gpd.GeoDataFrame,
        query: StoreQuery) -> None:
    sel = selection.for_cells(h3_edge_m(9)) if cells else selection
    want = select(occurrences, sel)
    got = query.tally(sel)
    assert got.n > 0
    assert got.steps == want.steps
    assert got.filters == want.filters
    assert got.notes == want.notes
    assert (got.first, got.last) == (want.first, want.last)
    assert got.synthetic == want.synthetic


def test_a_single_file_store_answers_the_same(occurrences: gpd.GeoDataFrame) -> None:
    sel = Selection(flags=("bladed",), unknown_flags="keep").for_cells(h3_edge_m(10))
    want = select(occurrences, sel)
    with StoreQuery(DEFAULT_STORE) as q:
        got = q.tally(sel)
        points = q.locations(sel)
    assert got.steps == want.steps and got.notes == want.notes
    assert int(points.count.sum()) == want.n


def test_the_locations_gather_the_selected_points(occurrences: gpd.GeoDataFrame,
                                                  query: StoreQuery) -> None:
    sel = Selection(categories=("robbery",)).for_cells(h3_edge_m(9))
    rows = select(occurrences, sel).rows
    frame = pd.DataFrame({"x": rows.geometry.x, "y": rows.geometry.y,
                          "harm": rows["harm_weight"].astype(float)})
    want = frame.groupby(["x", "y"]).agg(n=("harm", "size"), harm=("harm", "sum"))
    got = query.locations(sel, weighted=True)
    assert len(got) == len(want) < len(rows)
    np.testing.assert_array_equal(got.xy, want.index.to_frame().to_numpy())
    np.testing.assert_array_equal(got.count, want["n"].to_numpy())
    assert got.weight is not None
    np.testing.assert_allclose(got.weight, want["harm"].to_numpy(), rtol=1e-12)
    assert query.locations(sel).weight is None


@pytest.mark.parametrize("view", VIEWS, ids=["all", "southampton-r10", "harm", "hips"])
def test_hot_spots_from_the_store_equal_those_of_the_rows(
        view: View, occurrences: gpd.GeoDataFrame, query: StoreQuery) -> None:
    rows = analysis.analyse(occurrences, view)
    store = analysis.analyse(query, view)
    a, b = rows.view_cells(), store.view_cells()
    columns = [c for c in a.columns if c != "geometry"]
    pd.testing.assert_frame_equal(pd.DataFrame(b[columns]).reset_index(drop=True),
                                  pd.DataFrame(a[columns]).reset_index(drop=True))
    assert int((a["bin"] > 0).sum()) > 0  # the case finds hot spots
    for name in ("counts", "warnings", "notes", "filters", "parameters",
                 "data_from", "data_to"):
        assert getattr(store.result, name) == getattr(rows.result, name), name
    with pytest.raises(ParameterError, match="counted in the store"):
        _ = store.rows


@pytest.mark.parametrize("view", [VIEWS[1], VIEWS[2].with_(bandwidth_m=400.0)],
                         ids=["auto-bandwidth", "harm-given"])
def test_density_from_the_store_equals_that_of_the_rows(
        view: View, occurrences: gpd.GeoDataFrame, query: StoreQuery) -> None:
    view = view.with_(cell_size_m=100.0)
    want, want_result = analysis.density(occurrences, view)
    got, got_result = analysis.density(query, view)
    assert got.bandwidth_m == pytest.approx(want.bandwidth_m, rel=1e-12)
    assert got_result.counts == want_result.counts
    assert got_result.parameters == want_result.parameters
    assert got_result.filters == want_result.filters
    np.testing.assert_allclose(got.values, want.values, rtol=1e-6, atol=1e-9)


def _detect(store: Path, out: Path, *extra: str) -> None:
    parser = argparse.ArgumentParser(prog="hotspot")
    add_detect(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["detect", str(store), "--csp", "Southampton",
                              "--from", "2025-01", "--no-progress", *extra,
                              "--out", str(out)])
    args.func(args)


def test_detect_on_a_partitioned_store_writes_the_same_files(
        partitioned: Path, tmp_path: Path) -> None:
    for name, extra in (("hot.gpkg", ()), ("density.tif", ("--method", "kde"))):
        _detect(DEFAULT_STORE, tmp_path / f"file-{name}", *extra)
        _detect(partitioned, tmp_path / f"store-{name}", *extra)
    a = gpd.read_file(tmp_path / "file-hot.gpkg")
    b = gpd.read_file(tmp_path / "store-hot.gpkg")
    pd.testing.assert_frame_equal(b.drop(columns="geometry"),
                                  a.drop(columns="geometry"))
    meta = [json.loads(pyogrio.read_info(tmp_path / f"{k}-hot.gpkg")
                       ["layer_metadata"]["hotspot"]) for k in ("file", "store")]
    for key in ("counts", "warnings", "notes", "filters"):
        assert meta[0][key] == meta[1][key], key
    with rasterio.open(tmp_path / "file-density.tif") as fa, \
            rasterio.open(tmp_path / "store-density.tif") as fb:
        np.testing.assert_allclose(fb.read(1), fa.read(1), rtol=1e-6, atol=1e-9)
        assert fb.transform == fa.transform


@pytest.mark.parametrize("view", [
    View(),
    View(categories=("robbery", "possession_of_weapons"), weight="harm",
         month_to="2025-06"),
], ids=["all-serious-violence", "robbery-weapons-harm"])
def test_the_ranking_from_the_store_equals_that_of_the_rows(
        view: View, occurrences: gpd.GeoDataFrame, query: StoreQuery) -> None:
    want = analysis.rank_view(occurrences, view)
    got = analysis.rank_view(query, view)
    columns = [c for c in want.cells.columns if c != "geometry"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.cells[columns]).reset_index(drop=True),
        pd.DataFrame(want.cells[columns]).reset_index(drop=True))
    assert got.chosen_by == want.chosen_by
    assert got.months_missing == want.months_missing
    assert got.warnings == want.warnings


def test_the_panel_counts_of_the_store_are_those_of_the_rows(
        occurrences: gpd.GeoDataFrame, query: StoreQuery) -> None:
    from hotspot.detect.forecast import TargetSpec, panel_counts_of_rows

    target = TargetSpec(categories=("robbery",), include_approximate=True)
    end = pd.Timestamp("2025-07-01")
    rows = panel_counts_of_rows(occurrences, resolution=9, target=target, end=end)
    store = query.panel_counts(resolution=9, target=target, end=end)
    assert store.left_out == rows.left_out
    assert store.left_out["after_fit_to"] > 0 and store.left_out["flagged"] > 0
    pd.testing.assert_frame_equal(
        store.clean.reset_index(drop=True),
        rows.clean.sort_values(["source", "month"]).reset_index(drop=True))

    def grouped(c):  # type: ignore[no-untyped-def]
        frame = pd.DataFrame({"cell": c.cell, "month": c.month, "source": c.source,
                              "target": c.target, "type": c.indicator, "n": c.n,
                              "harm": c.harm}).fillna({"cell": ""})
        return (frame.groupby(["cell", "month", "source", "target", "type"])
                [["n", "harm"]].sum().sort_index())

    a, b = grouped(rows), grouped(store)
    assert len(b) < len(rows.n)  # the store sends groups, not rows
    pd.testing.assert_frame_equal(b, a)
    assert int(b.xs(True, level="target")["n"].sum()) > 0


def test_rank_on_a_partitioned_store_writes_the_same_table(
        partitioned: Path, tmp_path: Path) -> None:
    from hotspot.cli.rank import add_parser as add_rank

    tables = []
    for store in (DEFAULT_STORE, partitioned):
        parser = argparse.ArgumentParser(prog="hotspot")
        add_rank(parser.add_subparsers(dest="command"))
        out = tmp_path / f"rank-{len(tables)}.csv"
        args = parser.parse_args(["rank", str(store), "--category", "robbery",
                                  "--to", "2025-06-30", "--out", str(out)])
        assert args.func(args) == 0
        tables.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(tables[1], tables[0])


def test_partitions_with_different_columns_are_read_by_name(
        partitioned: Path, tmp_path: Path, occurrences: gpd.GeoDataFrame) -> None:
    import shutil

    import pyarrow.parquet as pq

    store = tmp_path / "mixed"
    shutil.copytree(partitioned, store, symlinks=False)
    files = sorted((store / "occurrences.parquet").rglob("*.parquet"))
    old = files[0]
    table = pq.read_table(old)
    pq.write_table(table.drop_columns(["victim_age"]), old)  # an older writer
    sel = Selection(flags=("under25",), unknown_flags="keep")
    with StoreQuery(store) as q:
        got = q.tally(sel)
    assert got.steps["read"] == len(occurrences)
    # the dropped column reads as unknown: its rows are kept as unknown flags
    want = select(occurrences, sel)
    assert got.n >= want.n


@pytest.mark.parametrize("view,period", [
    (View(csp="E06000045"), None),
    (View(weight="harm", categories=("robbery",), month_from="2024-01"), "quarter"),
], ids=["southampton-auto", "robbery-harm-quarter"])
def test_emerging_hot_spots_from_the_store_equal_those_of_the_rows(
        view: View, period: str | None, occurrences: gpd.GeoDataFrame,
        query: StoreQuery) -> None:
    want = analysis.emerging(occurrences, view, period=period)
    got = analysis.emerging(query, view, period=period)
    assert want.cells is not None and got.cells is not None
    columns = [c for c in want.cells.columns if c != "geometry"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.cells[columns]).reset_index(drop=True),
        pd.DataFrame(want.cells[columns]).reset_index(drop=True))
    for name in ("counts", "warnings", "notes", "parameters", "automatic",
                 "data_from", "data_to"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.extra["periods"] == want.extra["periods"]
    assert (want.cells["category"] != "no pattern").any()


def test_period_counts_of_the_store_are_those_of_the_rows(
        occurrences: gpd.GeoDataFrame, query: StoreQuery) -> None:
    from hotspot.detect.emerging import period_counts_of_rows

    sel = Selection(include_flagged=True).for_cells(h3_edge_m(9))
    rows = period_counts_of_rows(select(occurrences, sel).rows, resolution=9,
                                 weight="harm_weight")
    got = query.period_counts(sel, resolution=9)
    assert (got.first, got.last, got.month_only) == (rows.first, rows.last,
                                                     rows.month_only)
    assert got.n.sum() == rows.n.sum() and len(got.n) < len(rows.n)
    assert (~got.usable).any()  # flagged rows are there, marked unusable
    def per_cell(c):  # type: ignore[no-untyped-def]
        frame = pd.DataFrame({"cell": pd.Series(c.cell, dtype=object).fillna(""),
                              "day": pd.Series(c.when).dt.normalize(),
                              "usable": c.usable, "n": c.n, "harm": c.harm})
        return frame.groupby(["cell", "day", "usable"])[["n", "harm"]].sum()
    pd.testing.assert_frame_equal(per_cell(got), per_cell(rows))


def test_month_text_is_strftime_once_per_month() -> None:
    from hotspot.selection import month_text

    when = pd.Series(pd.to_datetime(["2025-01-31 23:59", None, "2024-12-01 00:00",
                                     "2025-01-01 08:00"]), index=[5, 6, 7, 8])
    got = month_text(when)
    want = when.dt.strftime("%Y-%m")
    assert got.index.equals(want.index)
    assert got.tolist()[0::2] == ["2025-01", "2024-12"]
    assert pd.isna(got.iloc[1]) and pd.isna(want.iloc[1])
    assert got.dropna().tolist() == want.dropna().tolist()
    assert month_text(pd.Series([], dtype="datetime64[ns]")).empty

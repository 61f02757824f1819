"""Cell counts in DuckDB equal the pandas path (select, then count_points)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hotspot.boundaries import load_csps
from hotspot.errors import ParameterError
from hotspot.geocode.precision import h3_edge_m
from hotspot.grid import count_cells, count_points, points_to_cells, study_cells
from hotspot.ingest.query import CELL_COUNT_COLUMNS, cell_counts
from hotspot.ingest.store import DEFAULT_STORE, load_occurrences
from hotspot.selection import Selection, select

SELECTIONS = [
    Selection(),
    Selection(start="2024-03", end="2024-09"),
    Selection(start="2024-03-15", end="2024-04-02", include_flagged=True),
    Selection(categories=("robbery", "possession_of_weapons")),
    Selection(flags=("bladed", "nondomestic"), unknown_flags="keep"),
    Selection(flags=("under25",)),
    Selection(csps=("E06000045", "E06000044"), include_approximate=True),
]
IDS = ["all", "months", "days-flagged", "category", "flags-keep", "under25",
       "csps-approximate"]


@pytest.fixture(scope="module")
def occurrences() -> gpd.GeoDataFrame:
    return load_occurrences(DEFAULT_STORE)


@pytest.fixture(scope="module")
def partitioned(embedded_partitioned: Path) -> Path:
    return embedded_partitioned


def _pandas_counts(occurrences: gpd.GeoDataFrame, selection: Selection,
                   resolution: int) -> pd.DataFrame:
    rows = select(occurrences, selection).rows
    table = pd.DataFrame({
        "h3": points_to_cells(rows, resolution=resolution).to_numpy(),
        "period": rows["month"].to_numpy(),
        "harm": pd.to_numeric(rows["harm_weight"]).fillna(0.0).to_numpy(),
    })
    out = table.groupby(["h3", "period"]).agg(
        count=("harm", "size"), harm=("harm", "sum")).reset_index()
    return out.astype({"count": "int64"})


def test_the_sql_rule_is_a_valid_selection_only() -> None:
    with pytest.raises(ParameterError, match="resolution"):
        cell_counts(DEFAULT_STORE, Selection(), resolution=6)


@pytest.mark.parametrize("selection", SELECTIONS, ids=IDS)
def test_duckdb_counts_equal_the_pandas_path(
        selection: Selection, occurrences: gpd.GeoDataFrame,
        partitioned: Path) -> None:
    sel = selection if selection.csps else selection.for_cells(h3_edge_m(9))
    expected = _pandas_counts(occurrences, sel, 9)
    assert expected["count"].sum() > 0  # the case selects something
    # the single-file store (cells computed from points) on two cases: it is slower
    stores = (partitioned, DEFAULT_STORE) if selection in SELECTIONS[:2] else (
        partitioned,)
    for store in stores:
        got = cell_counts(store, sel, resolution=9)
        assert list(got.columns) == list(CELL_COUNT_COLUMNS)
        pd.testing.assert_frame_equal(
            got[["h3", "period", "count"]],
            expected[["h3", "period", "count"]], check_dtype=False)
        assert got["harm"].to_numpy() == pytest.approx(expected["harm"].to_numpy())


def test_study_cells_from_counts_equal_count_points(
        occurrences: gpd.GeoDataFrame, partitioned: Path) -> None:
    cells = study_cells(load_csps(), resolution=10)
    sel = Selection().for_cells(h3_edge_m(10))
    expected = count_points(select(occurrences, sel).rows, cells, weight="harm_weight")
    got = count_cells(cells, cell_counts(partitioned, sel, resolution=10))
    pd.testing.assert_series_equal(got["count"], expected["count"])
    assert got["harm"].to_numpy() == pytest.approx(expected["harm"].to_numpy())
    assert got.attrs["points_outside"] == expected.attrs["points_outside"]
    assert got.attrs["missing_weights"] == expected.attrs["missing_weights"]

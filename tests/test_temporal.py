"""Tests of temporal: weekday × hour, monthly trend, holidays, year on year."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspot.context.temporal import (
    WEEKDAYS,
    holiday_vs_term,
    monthly_trend,
    select_occurrences,
    weekday_counts,
    weekday_hour,
    year_on_year,
)
from hotspot.errors import ParameterError

# The weekday × hour table printed in the VRP strategy launch ("Content of the CSP
# Level SNAs", ../shared/reference/001_ee57244a5f67f45c.txt), copied cell by cell:
# rows Mon..Sun, hours 0..23, then the printed row total.
STRATEGY_LAUNCH_TABLE = """
Mon 4 7 4 1 1 1 1 1 2 7 4 7 8 6 6 8 7 10 7 8 9 14 12 7 141
Tue 2 4 6 4 1 1 1 1 3 4 1 1 6 5 1 9 4 13 8 11 5 4 6 9 109
Wed 5 5 5 2 1 1 1 2 1 7 2 7 6 5 6 6 9 10 16 5 13 9 7 4 130
Thu 5 13 3 6 1 1 2 1 4 3 10 4 5 8 9 5 10 8 9 10 8 11 6 10 150
Fri 2 6 4 2 4 2 1 2 3 9 3 5 8 8 5 7 4 6 8 12 14 13 10 16 154
Sat 10 8 5 9 4 4 2 3 1 9 4 7 6 4 4 5 8 7 10 6 6 13 11 19 165
Sun 11 10 12 12 1 2 1 1 1 3 2 3 5 7 9 8 10 3 6 19 6 7 12 8 157
Total 39 48 39 36 12 10 7 10 15 42 26 34 44 43 40 48 52 57 64 71 61 71 64 73 1006
"""


def _printed() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    rows = [line.split() for line in STRATEGY_LAUNCH_TABLE.strip().splitlines()]
    cells = np.array([[int(v) for v in r[1:25]] for r in rows[:7]], dtype=np.int64)
    row_totals = np.array([int(r[25]) for r in rows[:7]], dtype=np.int64)
    col_totals = np.array([int(v) for v in rows[7][1:25]], dtype=np.int64)
    return cells, row_totals, col_totals, int(rows[7][25])


def _occurrences_from_cells(cells: np.ndarray) -> pd.DataFrame:
    """One occurrence per count, at minute 17 of its hour, in a week of June 2025."""
    monday = pd.Timestamp("2025-06-02")  # a Monday
    stamps = [
        monday + pd.Timedelta(days=int(d), hours=int(h), minutes=17)
        for d in range(7)
        for h in range(24)
        for _ in range(int(cells[d, h]))
    ]
    return pd.DataFrame(
        {
            "occurred_from": pd.Series(stamps, dtype="datetime64[ns]"),
            "date_precision": pd.Series(
                "minute", index=range(len(stamps)), dtype="string"
            ),
        }
    )


def _frame(stamps: list[str], precisions: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "occurred_from": pd.to_datetime(pd.Series(stamps), format="ISO8601"),
            "date_precision": pd.Series(precisions, dtype="string"),
        }
    )


def test_weekday_hour_reproduces_strategy_launch_table() -> None:
    cells, _, _, _ = _printed()
    result = weekday_hour(_occurrences_from_cells(cells))
    table = result.table
    assert list(table.index) == [*WEEKDAYS, "Total"]
    assert list(table.columns) == [*range(24), "Total"]
    np.testing.assert_array_equal(table.loc[list(WEEKDAYS), list(range(24))], cells)
    np.testing.assert_array_equal(table.loc[list(WEEKDAYS), "Total"], cells.sum(axis=1))
    np.testing.assert_array_equal(
        table.loc["Total", list(range(24))], cells.sum(axis=0)
    )
    assert table.loc["Total", "Total"] == cells.sum() == result.n_used
    assert result.excluded == {}


def test_strategy_launch_printed_totals_disagree_with_its_cells() -> None:
    """The printed table's totals (1,006) are not the sums of its printed cells.

    Fri and Sat rows and 19 of the 24 hour columns add up; Mon, Tue, Wed, Thu and
    Sun rows and hours 1, 4, 5, 6 and 7 do not, and the cells sum to 1,017. The
    printed row and column totals are consistent with each other (both 1,006), so
    the cells carry 11 extra counts somewhere in those rows and hours: most likely a
    transcription error in the source. This test pins the discrepancy so nobody
    "fixes" the weekday × hour code to match the printed totals.
    """
    cells, row_totals, col_totals, grand = _printed()
    assert grand == 1006 == row_totals.sum() == col_totals.sum()
    assert cells.sum() == 1017
    row_diff = dict(
        zip(WEEKDAYS, (cells.sum(axis=1) - row_totals).tolist(), strict=True)
    )
    assert row_diff == {
        "Mon": 1,
        "Tue": 1,
        "Wed": 5,
        "Thu": 2,
        "Fri": 0,
        "Sat": 0,
        "Sun": 2,
    }
    col_diff = cells.sum(axis=0) - col_totals
    assert {h: int(d) for h, d in enumerate(col_diff) if d} == {
        1: 5,
        4: 1,
        5: 2,
        6: 2,
        7: 1,
    }


def test_weekday_hour_excludes_and_counts_coarse_rows() -> None:
    frame = _frame(
        [
            "2025-06-06 21:05",
            "2025-06-06 21:59",
            "2025-06-07 00:00",
            "2025-06-08",
            "2025-06-01",
            "2025-07-01",
        ],
        ["minute", "minute", "minute", "day", "month", "month"],
    )
    result = weekday_hour(frame)
    assert result.n_used == 3
    assert result.excluded == {"day": 1, "month": 2}
    assert result.n_excluded == 3
    assert result.table.loc["Fri", 21] == 2
    assert result.table.loc["Sat", 0] == 1
    assert result.table.loc["Total", "Total"] == 3
    # the day-only Sunday row must not appear at any hour
    assert result.table.loc["Sun", "Total"] == 0


def test_weekday_hour_month_only_data_raises() -> None:
    frame = _frame(["2025-01-01", "2025-02-01"], ["month", "month"])
    with pytest.raises(ParameterError, match="monthly views only"):
        weekday_hour(frame)


def test_weekday_counts_uses_day_rows_but_not_month_rows() -> None:
    frame = _frame(
        ["2025-06-06 21:05", "2025-06-06", "2025-06-01"], ["minute", "day", "month"]
    )
    out = weekday_counts(frame)
    assert out.loc["Fri", "occurrences"] == 2
    assert out["occurrences"].sum() == 2
    assert out.attrs["excluded"] == {"month": 1}


HOLIDAYS = pd.DataFrame(
    {
        "holiday": ["summer"],
        "first_day": pd.to_datetime(["2025-07-23"]),
        "last_day": pd.to_datetime(["2025-08-31"]),
    }
)


def test_monthly_trend_counts_all_precisions_and_marks_holidays() -> None:
    frame = _frame(
        ["2025-07-01", "2025-07-15 10:00", "2025-09-30"], ["month", "minute", "day"]
    )
    out = monthly_trend(frame, term_dates=HOLIDAYS)
    assert out["month"].tolist() == ["2025-07", "2025-08", "2025-09"]
    assert out["occurrences"].tolist() == [2, 0, 1]
    # 23..31 July = 9 days; all 31 days of August
    assert out["holiday_days"].tolist() == [9, 31, 0]
    assert out["school_holiday"].tolist() == [True, True, False]
    assert out.loc[0, "per_day"] == pytest.approx(2 / 31)


def test_holiday_vs_term_per_day_rates() -> None:
    # span 2025-07-21 .. 2025-07-24: 21, 22 term; 23, 24 holiday
    frame = _frame(
        ["2025-07-21", "2025-07-23", "2025-07-24 12:00", "2025-07-24", "2025-07-01"],
        ["day", "day", "minute", "day", "month"],
    )
    out = holiday_vs_term(frame, term_dates=HOLIDAYS)
    assert out.loc["school_holiday", "days"] == 2
    assert out.loc["term_time", "days"] == 2
    assert out.loc["school_holiday", "occurrences"] == 3
    assert out.loc["term_time", "occurrences"] == 1
    assert out.attrs["ratio"] == pytest.approx(3.0)
    assert out.attrs["excluded"] == {"month": 1}


def test_year_on_year_compares_same_month() -> None:
    stamps = ["2024-01-05"] * 4 + ["2025-01-10"] * 6 + ["2025-02-01"]
    frame = _frame(stamps, ["day"] * len(stamps))
    out = year_on_year(frame).set_index("month")
    assert out.loc["2025-01", "previous_year"] == 4
    assert out.loc["2025-01", "change"] == 2
    assert out.loc["2025-01", "change_pct"] == pytest.approx(50.0)
    assert out.loc["2025-02", "previous_year"] == 0
    assert pd.isna(out.loc["2025-02", "change_pct"])
    assert pd.isna(out.loc["2024-01", "previous_year"])


def test_select_occurrences_by_csp_and_mask() -> None:
    frame = pd.DataFrame(
        {
            "csp_code": pd.Series(
                ["E06000044", "E06000045", "E06000044"], dtype="string"
            ),
            "csp_name": pd.Series(
                ["Portsmouth", "Southampton", "Portsmouth"], dtype="string"
            ),
        }
    )
    assert select_occurrences(frame, csp="portsmouth").index.tolist() == [0, 2]
    mask = pd.Series([True, True, False])
    assert select_occurrences(frame, csp="E06000044", mask=mask).index.tolist() == [0]
    with pytest.raises(ParameterError, match="Winchester"):
        select_occurrences(frame, csp="Winchester")


def test_monthly_trend_split_by_source() -> None:
    frame = _frame(
        ["2025-07-01", "2025-07-15 10:00", "2025-09-30"], ["month", "minute", "day"]
    )
    frame["source"] = pd.Series(["police_uk", "records", "records"], dtype="string")
    out = monthly_trend(frame, term_dates=HOLIDAYS, by="source")
    assert out["occurrences_police_uk"].tolist() == [1, 0, 0]
    assert out["occurrences_records"].tolist() == [1, 0, 1]
    assert (out["occurrences_police_uk"] + out["occurrences_records"]).equals(
        out["occurrences"]
    )
    with pytest.raises(ParameterError, match="by must be a column"):
        monthly_trend(frame, term_dates=HOLIDAYS, by="nope")


def test_select_occurrences_by_hot_spot_cells() -> None:
    import geopandas as gpd
    import h3

    from hotspot.grid import cell_centres_bng

    inside = h3.latlng_to_cell(50.9097, -1.4044, 9)
    outside = sorted(h3.grid_ring(inside, 3))[0]
    x, y = cell_centres_bng([inside, outside, inside])
    frame = gpd.GeoDataFrame(
        {"occurred_from": pd.to_datetime(["2025-06-06 21:00"] * 3)},
        geometry=gpd.points_from_xy(x, y),
        crs="EPSG:27700",
    )
    assert select_occurrences(frame, cells={inside}).index.tolist() == [0, 2]
    with pytest.raises(ParameterError, match="valid H3"):
        select_occurrences(frame, cells={"not-a-cell"})
    with pytest.raises(ParameterError, match="point geometry"):
        select_occurrences(pd.DataFrame(frame.drop(columns="geometry")), cells={inside})

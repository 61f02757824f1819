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


# ------------------------------------------------------------- peak windows
# Dates used below: 2025-06-06 is a Friday, 2025-06-07 Saturday, 2025-06-08
# Sunday, 2025-06-09 Monday.
FILLER = ["2025-06-02T09:10", "2025-06-02T09:40", "2025-06-03T13:05",
          "2025-06-03T13:50", "2025-06-04T15:20", "2025-06-04T15:25",
          "2025-06-05T11:00", "2025-06-05T11:30"]  # Mon..Thu, two each


def _timed(stamps: list[str], *, synthetic: bool = True,
           source: str = "records") -> pd.DataFrame:
    frame = _frame(stamps, ["minute"] * len(stamps))
    frame["source"] = pd.Series(source, index=frame.index, dtype="string")
    frame["is_synthetic"] = pd.Series(synthetic, index=frame.index, dtype="boolean")
    return frame


def test_peak_window_by_hand_evening_weekend() -> None:
    from hotspot.context.peaks import peak_windows

    evening = [f"2025-06-0{d}T{h}:15" for d in (6, 7) for h in (20, 21, 21, 22, 23, 23)]
    win = peak_windows(_timed(evening + FILLER))
    # 6 on Friday and 6 on Saturday between 20:00 and 23:59; no other
    # two-day, four-hour window holds more than 4 of the 20.
    assert win.found
    assert (win.days, win.start_hour, win.end_hour) == ((4, 5), 20, 0)
    assert (win.count, win.n_timed) == (12, 20)
    assert win.share == pytest.approx(0.6)
    assert win.even_share == pytest.approx(8 / 168)
    assert win.text == ("Fri, Sat 20:00–00:00: 12 of 20 timed occurrences (60%; "
                        "an even spread would give 5%)")


def test_peak_window_runs_past_midnight_into_the_next_day() -> None:
    from hotspot.context.peaks import peak_windows

    # Friday night: Fri 22:30 and Sat 01:10; Saturday night: Sat 23:00 and
    # Sun 00:30 — three each. The 22:00 start holds all 12 (Fri 22-02 = 6,
    # Sat 22-02 = 6); the 21:00 start holds 3 + 6 = 9, the 23:00 start 3 + 6.
    night = (["2025-06-06T22:30"] * 3 + ["2025-06-07T01:10"] * 3
             + ["2025-06-07T23:00"] * 3 + ["2025-06-08T00:30"] * 3)
    win = peak_windows(_timed(night + FILLER))
    assert (win.days, win.start_hour, win.end_hour, win.count) == ((4, 5), 22, 2, 12)
    assert win.hour_text == "22:00–02:00"
    # Sunday night runs into Monday morning (the week wraps)
    wrap = ["2025-06-08T23:05"] * 5 + ["2025-06-09T00:30"] * 5 + FILLER * 2
    one = peak_windows(_timed(wrap), days=1, hours=2)
    assert (one.days, one.start_hour, one.count) == ((6,), 23, 10)


def test_peak_window_needs_enough_timed_occurrences() -> None:
    from hotspot.context.peaks import MIN_TIMED, peak_windows

    handful = _timed(["2025-06-08T02:30"] * (MIN_TIMED - 1))
    win = peak_windows(handful)
    assert not win.found and win.days == () and win.start_hour == -1
    assert win.text.startswith("too few timed occurrences: 19 with a time of day")
    assert np.isnan(win.share)
    assert peak_windows(handful, min_timed=MIN_TIMED - 1).found
    # enough rows, but spread so thinly that no one-hour window holds 5
    spread = _timed([f"2025-06-0{2 + d}T{h:02d}:00" for d in range(5)
                     for h in (1, 5, 9, 13)])
    thin = peak_windows(spread, days=1, hours=1)
    assert not thin.found
    assert thin.reason == ("no clear peak: the busiest 1-day, 1-hour window holds 1 "
                           "of 20 timed occurrences (fewer than 5)")


def test_peak_window_month_only_rows_never_get_hours() -> None:
    from hotspot.context.peaks import peak_windows

    rows = _frame(["2025-03-01"] * 40, ["month"] * 40)
    rows["source"] = "police_uk"
    rows["is_synthetic"] = False
    win = peak_windows(rows)
    assert not win.found and win.n_timed == 0 and win.source == ""
    assert win.excluded == {"month": 40}
    assert "no time of day" in win.text and "40" in win.text


def test_peak_window_names_its_source_and_synthetic() -> None:
    from hotspot.context.peaks import peak_windows

    evening = [f"2025-06-0{d}T{h}:15" for d in (6, 7) for h in (20, 21, 21, 22, 23, 23)]
    synthetic = peak_windows(_timed(evening + FILLER))
    assert synthetic.synthetic and synthetic.source == "records system (SYNTHETIC)"
    assert synthetic.caption.endswith("Times from records system (SYNTHETIC)")
    real = peak_windows(_timed(evening + FILLER, synthetic=False, source="istv"))
    assert not real.synthetic and "SYNTHETIC" not in real.caption
    assert real.source == "A&E (ISTV)"
    # month-only police.uk rows beside the timed synthetic rows: the times are
    # still all synthetic, and the month-only rows are counted as left out
    police = _frame(["2025-03-01"] * 7, ["month"] * 7)
    police["source"], police["is_synthetic"] = "police_uk", False
    mixed = peak_windows(pd.concat([_timed(evening + FILLER), police],
                                   ignore_index=True))
    assert mixed.synthetic and mixed.count == 12 and mixed.excluded == {"month": 7}


def test_best_window_matches_exhaustive_search_on_timestamps() -> None:
    """Reference: every day set and start hour counted from the timestamps."""
    from itertools import combinations

    from hotspot.context.peaks import peak_windows

    rng = np.random.default_rng(13)
    monday = pd.Timestamp("2025-06-02")
    for trial in range(6):
        n = int(rng.integers(20, 120))
        # clustered: half in a random hot day-hour, the rest anywhere
        hot = rng.integers(0, 168)
        offsets = np.where(rng.random(n) < 0.5, hot + rng.integers(-3, 4, n),
                           rng.integers(0, 168, n)) % 168
        stamps = [monday + pd.Timedelta(hours=int(o), minutes=int(m))
                  for o, m in zip(offsets, rng.integers(0, 60, n), strict=True)]
        rows = _timed([s.isoformat() for s in stamps])
        week_hour = np.array([(s - monday) / pd.Timedelta(hours=1) for s in stamps])
        days, hours = int(rng.integers(1, 4)), int(rng.integers(1, 7))
        best = (-1, None, None)
        for start in range(24):
            for combo in combinations(range(7), days):
                inside = sum(
                    int(np.sum(((week_hour - (24 * d + start)) % 168) < hours))
                    for d in combo)
                if inside > best[0]:
                    best = (inside, combo, start)
        win = peak_windows(rows, days=days, hours=hours, min_timed=1, min_count=1)
        assert win.count == best[0], trial
        assert (win.days, win.start_hour) == (best[1], best[2]), trial


def test_peak_windows_by_cell_equals_the_rule_on_each_cell() -> None:
    import geopandas as gpd
    import h3

    from hotspot.context.peaks import peak_windows, peak_windows_by_cell
    from hotspot.grid import cell_centres_bng

    a = h3.latlng_to_cell(50.9077, -1.4046, 9)
    b = h3.latlng_to_cell(50.7990, -1.0910, 9)
    empty = h3.latlng_to_cell(51.2600, -1.0870, 9)
    evening = [f"2025-06-0{d}T{h}:15" for d in (6, 7) for h in (20, 21, 21, 22, 23, 23)]
    rows_a = _timed(evening + FILLER)
    rows_b = _timed(FILLER[:5])  # too few for its own window
    frame = pd.concat([rows_a, rows_b], ignore_index=True)
    xa, ya = cell_centres_bng([a])
    xb, yb = cell_centres_bng([b])
    x = np.r_[np.full(len(rows_a), xa[0]), np.full(len(rows_b), xb[0])]
    y = np.r_[np.full(len(rows_a), ya[0]), np.full(len(rows_b), yb[0])]
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y),
                              crs="EPSG:27700")
    table = peak_windows_by_cell(points, [a, b, empty], resolution=9)
    assert table["h3"].tolist() == [a, b, empty]
    own = peak_windows(rows_a)
    first = table.iloc[0]
    assert (first["found"], first["days"], first["start_hour"], first["count"],
            first["times_from"]) == (True, "Fri,Sat", 20, 12, "cell")
    assert first["text"] == own.text and first["synthetic"]
    assert table.iloc[1]["times_from"] == "none" and not table.iloc[1]["found"]
    assert table.iloc[1]["text"].startswith("too few timed occurrences: 5")
    assert table.iloc[2]["text"] == "no occurrences"
    # with a pool (the whole CSP), the thin cell takes the pool's window
    pooled = peak_windows_by_cell(points, [a, b], resolution=9, pool=points)
    assert pooled.iloc[1]["times_from"] == "pool"
    assert pooled.iloc[1]["count"] == peak_windows(points).count
    assert "the pool's window" in pooled.iloc[1]["text"]


def test_even_spread_p_by_hand_and_unclear_windows_are_labelled() -> None:
    from hotspot.context.peaks import N_SIMULATIONS, even_spread_p, peak_windows

    # one time: every even spread's best one-hour window holds it
    assert even_spread_p(1, 1, days=1, hours=1) == 1.0
    # more than all the times: never reached, the smallest p there is
    assert even_spread_p(21, 20, days=2, hours=4) == 1 / (1 + N_SIMULATIONS)
    # 20 times in 20 different hours of the week: the best 2-day, 4-hour
    # window of an even spread of 20 holds at least 2 almost always
    assert even_spread_p(2, 20, days=2, hours=4) > 0.9
    spread = _timed([f"2025-06-0{2 + d}T{h:02d}:00" for d in range(5)
                     for h in (1, 7, 13, 19)])
    win = peak_windows(spread, min_count=1)
    assert win.found and not win.clear and win.p_even > 0.05
    assert "not clearly above an even spread" in win.text
    evening = [f"2025-06-0{d}T{h}:15" for d in (6, 7) for h in (20, 21, 21, 22, 23, 23)]
    sharp = peak_windows(_timed(evening + FILLER))
    assert sharp.clear and sharp.p_even < 0.01

"""Tests of hotspot.detect.emerging: periods, Mann-Kendall, categories, end to end."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pymannkendall
import pytest

from hotspot.crs import BNG
from hotspot.detect.emerging import (
    CATEGORIES,
    choose_period,
    classify_trends,
    emerging_hot_spots,
    mann_kendall,
    missing_periods,
)
from hotspot.errors import ParameterError
from hotspot.grid import cell_centres_bng, cell_polygons

T = 10
SIG_UP = (3.0, 0.001)
SIG_DOWN = (-3.0, 0.001)
FLAT = (0.2, 0.8)


def series(on: list[int]) -> np.ndarray:
    row = np.zeros(T, dtype=bool)
    row[on] = True
    return row


ALL = list(range(T))
# (name, hot periods, cold periods, trend, expected) with T = 10 periods
CASES = [
    ("new", [9], [], FLAT, "new hot spot"),
    ("new_after_cold", [9], [0, 1], FLAT, "new hot spot"),
    ("consecutive", [7, 8, 9], [], FLAT, "consecutive hot spot"),
    ("consecutive_after_cold", [8, 9], [2], FLAT, "consecutive hot spot"),
    ("intensifying", ALL, [], SIG_UP, "intensifying hot spot"),
    ("persistent", ALL, [], FLAT, "persistent hot spot"),
    ("persistent_90", [0, 1, 2, 3, 5, 6, 7, 8, 9], [], FLAT, "persistent hot spot"),
    ("diminishing", [0, 1, 2, 3, 4, 5, 6, 7, 9], [], SIG_DOWN, "diminishing hot spot"),
    ("sporadic", [2, 5, 9], [], FLAT, "sporadic hot spot"),
    ("sporadic_not_run", [1, 8, 9], [], FLAT, "sporadic hot spot"),
    ("oscillating", [5, 9], [1], FLAT, "oscillating hot spot"),
    ("historical", list(range(9)), [], FLAT, "historical hot spot"),
    ("c_new", [], [9], FLAT, "new cold spot"),
    ("c_consecutive", [], [6, 7, 8, 9], FLAT, "consecutive cold spot"),
    ("c_intensifying", [], ALL, SIG_DOWN, "intensifying cold spot"),
    ("c_persistent", [], ALL, FLAT, "persistent cold spot"),
    ("c_diminishing", [], ALL, SIG_UP, "diminishing cold spot"),
    ("c_sporadic", [], [0, 4, 9], FLAT, "sporadic cold spot"),
    ("c_oscillating", [3], [1, 9], FLAT, "oscillating cold spot"),
    ("c_historical", [], list(range(1, 9)) + [0], FLAT, "historical cold spot"),
    ("never", [], [], FLAT, "no pattern"),
    ("once_in_middle", [4], [], FLAT, "no pattern"),
    ("hot_80_not_final", list(range(8)), [], FLAT, "no pattern"),
]


@pytest.mark.parametrize(
    ("hot_on", "cold_on", "trend", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_classify_crafted_series(hot_on, cold_on, trend, expected):
    hot = series(hot_on)[None, :]
    cold = series(cold_on)[None, :]
    out = classify_trends(hot, cold, [trend[0]], [trend[1]], alpha=0.05)
    assert out[0] == expected


def test_every_category_crafted():
    assert {case[4] for case in CASES} == set(CATEGORIES)


def test_classify_vectorised_equals_rowwise():
    hot = np.array([series(c[1]) for c in CASES])
    cold = np.array([series(c[2]) for c in CASES])
    tz = [c[3][0] for c in CASES]
    tp = [c[3][1] for c in CASES]
    out = classify_trends(hot, cold, tz, tp)
    assert out.tolist() == [c[4] for c in CASES]


def test_classify_rejects_hot_and_cold_together():
    with pytest.raises(ParameterError, match="hot and cold"):
        classify_trends(series([1])[None], series([1])[None], [0.0], [1.0])


def test_mann_kendall_equals_pymannkendall():
    rng = np.random.default_rng(1)
    x = np.vstack([
        rng.normal(size=(20, 14)),
        rng.integers(0, 3, size=(20, 14)).astype(float),  # many ties
        np.arange(14, dtype=float)[None, :] + rng.normal(0, 2, (5, 14)),
    ])
    s, z, p = mann_kendall(x)
    for i, row in enumerate(x):
        ref = pymannkendall.original_test(row)
        assert s[i] == pytest.approx(ref.s)
        assert z[i] == pytest.approx(ref.z, abs=1e-12)
        assert p[i] == pytest.approx(ref.p, abs=1e-12)


def test_mann_kendall_hand_example():
    """x = 1 2 3 2: pairs (i<j) signs + + + + 0 -: S = 3.

    Ties: value 2 twice, t = 2: Var = (4*3*13 - 2*1*9)/18 = (156 - 18)/18 = 7.667;
    z = (3 - 1)/sqrt(7.667) = 0.7223.
    """
    s, z, _ = mann_kendall([[1, 2, 3, 2]])
    assert s[0] == 3
    assert z[0] == pytest.approx(2 / np.sqrt(138 / 18))


def test_mann_kendall_constant_row():
    _, z, p = mann_kendall(np.ones((2, 6)))
    assert z.tolist() == [0.0, 0.0] and p.tolist() == [1.0, 1.0]


def test_period_choice_automatic():
    days = pd.Series(pd.date_range("2023-01-01", "2025-12-31", freq="7D"))
    assert choose_period(days).period == "quarter"  # 12 quarters
    one_year = days[days >= "2025-01-01"]
    assert choose_period(one_year).period == "month"  # 12 months, 4 quarters
    short = days[days >= "2025-10-01"]
    assert choose_period(short).period == "week"
    choice = choose_period(short)
    assert choice.automatic and "week" in choice.reason


def test_period_month_only_data():
    months = pd.Series(pd.date_range("2025-01-01", "2025-09-01", freq="MS"))
    precision = pd.Series(["month"] * len(months))
    choice = choose_period(months, precision=precision)
    assert choice.period == "month" and choice.n_periods == 9
    assert "month only" in choice.reason and "fewer than 10" in choice.reason
    assert choose_period(months, precision=precision, period="quarter").n_periods == 3
    with pytest.raises(ParameterError, match="month only"):
        choose_period(months, precision=precision, period="week")
    with pytest.raises(ParameterError, match="period must be"):
        choose_period(months, period="fortnight")


def study_area() -> gpd.GeoDataFrame:
    centre = h3.latlng_to_cell(50.9097, -1.4044, 9)
    cells = sorted(h3.grid_disk(centre, 6))
    frame = gpd.GeoDataFrame(
        {"h3": cells, "csp_code": "E06000045", "study_area": "E06000045"},
        geometry=cell_polygons(cells).values,
        crs=BNG,
    )
    frame.attrs["resolution"] = 9
    return frame


def make_points(
    cells: gpd.GeoDataFrame, plan: list[tuple[str, int, int]], precision: str = "day"
) -> gpd.GeoDataFrame:
    """Points at cell centres: (cell, month 1..12 of 2025, how many)."""
    rows = [(c, m) for c, m, n in plan for _ in range(n)]
    x, y = cell_centres_bng([c for c, _ in rows])
    return gpd.GeoDataFrame(
        {
            "occurred_from": pd.to_datetime([f"2025-{m:02d}-01" for _, m in rows]),
            "date_precision": precision,
            "harm_weight": 1.0,
        },
        geometry=gpd.points_from_xy(x, y),
        crs=BNG,
    )


def test_end_to_end_new_and_persistent():
    cells = study_area()
    rng = np.random.default_rng(3)
    ids = cells["h3"].tolist()
    persistent = ids[10]
    ring_p = sorted(h3.grid_ring(persistent, 1))
    new = ids[-10]
    ring_n = sorted(h3.grid_ring(new, 1))
    plan: list[tuple[str, int, int]] = []
    for month in range(1, 13):
        plan += [(persistent, month, 8)] + [(c, month, 3) for c in ring_p if c in ids]
        plan += [(c, month, 1) for c in rng.choice(ids, 25)]
    plan += [(new, 12, 9)] + [(c, 12, 3) for c in ring_n if c in ids]
    points = make_points(cells, plan)
    out = emerging_hot_spots(points, cells, period="month")
    table = out.cells.set_index("h3")
    assert out.periods[0] == "2025-01" and len(out.periods) == 12
    assert out.z.shape == (len(cells), 12)
    assert table.loc[persistent, "category"] in (
        "persistent hot spot", "intensifying hot spot", "diminishing hot spot"
    )
    assert table.loc[persistent, "hot_periods"] == 12
    assert table.loc[new, "category"] == "new hot spot"
    assert table.loc[new, "hot_periods"] == 1
    assert table["count"].sum() == len(points)
    assert set(table["category"]) <= set(CATEGORIES)


def test_end_to_end_month_only_data_refuses_weeks():
    cells = study_area()
    points = make_points(cells, [(cells["h3"].iloc[0], m, 2) for m in range(1, 10)],
                         precision="month")
    with pytest.raises(ParameterError, match="month only"):
        emerging_hot_spots(points, cells, period="week")
    out = emerging_hot_spots(points, cells)
    assert out.choice.period == "month" and out.choice.automatic
    assert any("fewer than 10" in w for w in out.warnings)


# ----------------------------------------------------------------------------
# missing periods: no data or flagged months are left out, never zeros
# ----------------------------------------------------------------------------


def persistent_plan(cells: gpd.GeoDataFrame, months: list[int]):
    """A cell with 8 a month and its ring 3 a month, plus scattered noise."""
    rng = np.random.default_rng(8)
    ids = cells["h3"].tolist()
    hot = ids[10]
    ring = [c for c in sorted(h3.grid_ring(hot, 1)) if c in ids]
    plan: list[tuple[str, int, int]] = []
    for month in months:
        plan += [(hot, month, 8)] + [(c, month, 3) for c in ring]
        plan += [(c, month, 1) for c in rng.choice(ids, 25)]
    return hot, plan


def test_flagged_month_is_missing_not_an_empty_month():
    """Nine months, August flagged: hot in all 8 real months is persistent.

    Counted as an empty ninth month the cell would be hot in 8 of 9 periods
    (89%, under the 90% rule) and called sporadic.
    """
    cells = study_area()
    hot, plan = persistent_plan(cells, list(range(1, 10)))
    points = make_points(cells, plan)
    august = points["occurred_from"].dt.month == 8
    points["quality_flags"] = pd.array(
        np.where(august, "implausible_month", None), dtype="string")
    out = emerging_hot_spots(points, cells, period="month")
    row = out.cells.set_index("h3").loc[hot]
    assert out.missing_periods == ["2025-08"]
    assert row["n_periods"] == 8 and row["hot_periods"] == 8
    assert row["category"] in ("persistent hot spot", "intensifying hot spot",
                               "diminishing hot spot")
    assert np.isnan(out.z[:, 7]).all() and not out.hot[:, 7].any()
    assert any("2025-08" in w and "missing" in w for w in out.warnings)
    assert row["count"] == 8 * 8  # the flagged rows are not counted
    # the same series with August dropped from the data entirely: the same answer
    gap = emerging_hot_spots(points[~august], cells, period="month",
                             end=pd.Timestamp("2025-09-30"))
    assert gap.missing_periods == ["2025-08"]
    assert gap.cells.set_index("h3").loc[hot, "category"] == row["category"]
    np.testing.assert_array_equal(gap.z[:, [0, 1, 8]], out.z[:, [0, 1, 8]])


def test_named_missing_period_and_missing_final_period():
    cells = study_area()
    hot, plan = persistent_plan(cells, list(range(1, 13)))
    points = make_points(cells, plan)
    out = emerging_hot_spots(points, cells, period="month", missing=["2025-03"])
    assert out.missing_periods == ["2025-03"]
    assert out.cells["n_periods"].iloc[0] == 11
    # data stop in October but the range runs to December: final = October
    early = points[points["occurred_from"].dt.month <= 10]
    tail = emerging_hot_spots(early, cells, period="month",
                              end=pd.Timestamp("2025-12-31"))
    assert tail.missing_periods == ["2025-11", "2025-12"]
    table = tail.cells.set_index("h3")
    assert table.loc[hot, "final_z"] == pytest.approx(tail.z[
        cells["h3"].tolist().index(hot), 9])
    assert table.loc[hot, "category"] != "historical hot spot"


def test_missing_periods_per_source():
    frame = pd.DataFrame({
        "occurred_from": pd.to_datetime(
            ["2024-01-01", "2024-02-01", "2025-01-01", "2025-02-01", "2025-03-01",
             "2024-01-01", "2024-06-01", "2025-03-01"]),
        "source": ["police_uk"] * 5 + ["records"] * 3,
        "quality_flags": [None, None, None, "implausible_month", None,
                          None, None, None],
    })
    got = missing_periods(frame, period="quarter", start=pd.Timestamp("2024-01-01"),
                          end=pd.Timestamp("2025-03-31"))
    # police.uk: 2024Q1 and 2025Q1 only, so the three quarters between are
    # missing; records report in 2024Q2 (and 2024Q1, 2025Q1)
    assert got == ["2024Q2", "2024Q3", "2024Q4"]
    months = missing_periods(frame, period="month", start=pd.Timestamp("2025-01-01"),
                             end=pd.Timestamp("2025-03-31"), sources=["police_uk"])
    assert months == ["2025-02"]  # only flagged rows that month
    with pytest.raises(ParameterError, match="period must be"):
        missing_periods(frame, period="day", start=pd.Timestamp("2025-01-01"),
                        end=pd.Timestamp("2025-03-31"))


def test_every_period_missing_raises():
    cells = study_area()
    points = make_points(cells, [(cells["h3"].iloc[0], 1, 2)])
    points["quality_flags"] = pd.array(["duplicate_id"] * len(points), dtype="string")
    with pytest.raises(ParameterError, match="every month period"):
        emerging_hot_spots(points, cells, period="month")

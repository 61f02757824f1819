"""Tests for patrol: ranking, peak times, budget, PAI, PDF and CSV."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import h3
import pandas as pd
import pytest
from shapely.geometry import Point

from hotspot.crs import BNG
from hotspot.errors import ParameterError
from hotspot.grid import cell_centres_bng
from hotspot.operations.patrol import (
    PLAN_COLUMNS,
    patrol_windows,
    plan_patrols,
    plan_tables,
    prediction_accuracy_index,
)
from hotspot.render.patrol_plan import (
    plan_csv_text,
    plan_pdf_bytes,
    write_plan_csv,
    write_plan_pdf,
)

CENTRE = h3.latlng_to_cell(50.904, -1.404, 9)  # Southampton city centre
RING = sorted(h3.grid_ring(CENTRE, 2))
#: Cells A, B, C hot (harm 12, 9, 5); D not hot; E empty; all in one CSP.
CELLS = [CENTRE, RING[0], RING[3], RING[6], RING[9]]


def _cells() -> pd.DataFrame:
    return pd.DataFrame({
        "h3": CELLS, "csp_code": "E06000045", "csp_name": "Southampton",
        "count": [9, 6, 5, 20, 0], "harm": [12.0, 9.0, 5.0, 20.0, 0.0],
        "z": [3.0, 2.5, 2.0, 1.0, -0.5], "bin": [3, 2, 1, 0, 0],
    })


def _point(cell: str) -> Point:
    x, y = cell_centres_bng([cell])
    return Point(x[0], y[0])


def _occurrences() -> gpd.GeoDataFrame:
    """Cell A: 5 on Friday 6 June 2025 at 20:30 and 4 on Saturday 7 June at 21:15.

    Cell B: 6 month-only rows (police.uk style). Cell C: 5 rows on Tuesday
    3 June at 14:00. Cell D: 20 month-only rows.
    Pool profile (timed rows only): Fri 20h = 5, Sat 21h = 4, Tue 14h = 5.
    """
    rows = []

    def add(cell, n, when, precision):
        start = pd.Timestamp(when)
        end = start if precision == "minute" else start + pd.offsets.MonthEnd(0)
        rows.extend({"occurred_from": start, "occurred_to": end,
                     "date_precision": precision, "geometry": _point(cell)}
                    for _ in range(n))

    add(CELLS[0], 5, "2025-06-06 20:30", "minute")
    add(CELLS[0], 4, "2025-06-07 21:15", "minute")
    add(CELLS[1], 6, "2025-06-01", "month")
    add(CELLS[2], 5, "2025-06-03 14:00", "minute")
    add(CELLS[3], 20, "2025-06-01", "month")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)


def test_pai_hand_example():
    """30 of 100 occurrences in 1 of 20 km²: PAI = 0.3 / 0.05 = 6."""
    assert prediction_accuracy_index(30, 100, area_km2=1.0,
                                     total_area_km2=20.0) == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [((5, 0, 1.0, 2.0), "total > 0"), ((5, 3, 1.0, 2.0), "hits <= total"),
     ((1, 3, 3.0, 2.0), "area_km2 must be above 0 and at most")],
    ids=["no-total", "hits-above-total", "area-above-total"],
)
def test_pai_rejects_impossible_input(args, message):
    with pytest.raises(ParameterError, match=message):
        prediction_accuracy_index(args[0], args[1], area_km2=args[2],
                                  total_area_km2=args[3])


def test_plan_ranks_by_harm_within_budget_and_finds_peaks():
    """Budget 4 h a week; each cell gets 2 days x 4 h x 1 visit x 15 min = 2 h.

    So 2 cells: A (harm 12) then B (harm 9); D has more harm but is not hot.
    A's peak days are Fri and Sat (5 and 4 timed rows); the busiest 4-hour
    window over them holds hours 20 and 21; windows starting 18, 19 and 20
    all hold both, and the first (18:00-22:00) is taken.
    B has only month-only rows, so its times come from the pool's 14 timed rows
    (Fri 5, Tue 5, Sat 4): the top two days are Tue and Fri (ties keep weekday
    order), with 5 rows at 14h and 5 at 20h. No 4-hour window holds both, so
    the best hold 5 and the first of them starts at 11:00 (11-15h).
    """
    plan = plan_patrols(_cells(), _occurrences(), patrol_hours_per_week=4.0)
    cells = plan.cells
    assert list(cells.columns) == list(PLAN_COLUMNS)
    assert list(cells["h3"]) == [CELLS[0], CELLS[1]]
    a, b = cells.iloc[0], cells.iloc[1]
    assert a["peak_days"] == "Fri,Sat"
    assert a["peak_window"] == "18:00-22:00"
    assert a["times_from"] == "cell"
    assert a["visits_per_week"] == 8
    assert a["patrol_minutes_per_week"] == 120
    assert b["times_from"] == "csp"
    assert b["month_only"] == 6
    assert "month-only dates" in b["timing_note"]
    assert b["peak_days"] == "Tue,Fri"
    assert b["peak_window"] == "11:00-15:00"
    assert cells["cumulative_patrol_hours"].tolist() == [2.0, 4.0]


def test_plan_coverage_and_pai():
    """Pool: 5 cells, 40 occurrences, harm 46. Chosen A + B: 15 occurrences.

    share_count = 15/40 = 0.375; share_harm = 21/46; area share = 2/5 (cells of
    nearly equal area), so PAI is close to 0.375 / 0.4 = 0.9375.
    A later period with 4 of 5 occurrences in A gives PAI near 0.8 / 0.4 = 2.
    """
    test = _occurrences().iloc[:5]  # five in A
    test = pd.concat([test, _occurrences().iloc[15:16]])  # one in C
    plan = plan_patrols(_cells(), _occurrences(), patrol_hours_per_week=4.0,
                        test_occurrences=test, test_label="July 2025")
    cov = plan.coverage
    assert cov["share_count"] == pytest.approx(15 / 40)
    assert cov["share_harm"] == pytest.approx(21 / 46)
    assert cov["pai"] == pytest.approx(0.9375, rel=0.01)
    assert cov["test_share_count"] == pytest.approx(5 / 6)
    assert cov["test_pai"] == pytest.approx((5 / 6) / 0.4, rel=0.01)
    assert not any("flatters" in w for w in plan.warnings)


def test_plan_without_later_period_warns_about_pai():
    plan = plan_patrols(_cells(), _occurrences(), patrol_hours_per_week=2.0)
    assert len(plan.cells) == 1
    assert any("flatters" in w for w in plan.warnings)


def test_plan_count_ranking_and_all_cells():
    """Ranking by count over every cell with occurrences: D (20) comes first."""
    plan = plan_patrols(_cells(), _occurrences(), patrol_hours_per_week=2.0,
                        rank_by="count", hot_only=False)
    assert list(plan.cells["h3"]) == [CELLS[3]]


def test_plan_with_no_times_at_all_says_so():
    occ = _occurrences()
    occ = occ.assign(date_precision="month")
    plan = plan_patrols(_cells(), occ, patrol_hours_per_week=2.0)
    row = plan.cells.iloc[0]
    assert row["times_from"] == "none"
    assert row["peak_window"] == "unknown"
    assert "choose patrol times locally" in row["timing_note"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patrol_hours_per_week": 1.0}, "less than one hot cell needs"),
        ({"patrol_hours_per_week": 0}, "patrol_hours_per_week must be"),
        ({"patrol_hours_per_week": 4.0, "rank_by": "z"}, "rank_by must be one of"),
        ({"patrol_hours_per_week": 4.0, "minutes_per_visit": 0},
         "minutes_per_visit must be a whole number from 1 to 60"),
        ({"patrol_hours_per_week": 4.0, "peak_days": 8}, "peak_days must be"),
    ],
    ids=["budget-too-small", "zero-budget", "bad-rank", "zero-minutes", "8-days"],
)
def test_plan_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        plan_patrols(_cells(), _occurrences(), **kwargs)


def test_plan_outputs_pdf_csv_tables_and_windows(tmp_path):
    plan = plan_patrols(_cells(), _occurrences(), patrol_hours_per_week=4.0,
                        title="Test plan")
    csv = write_plan_csv(plan, tmp_path / "plan.csv")
    back = pd.read_csv(csv)
    assert list(back["h3"]) == [CELLS[0], CELLS[1]]
    pdf = write_plan_pdf(plan, tmp_path / "plan.pdf", data_note="test data")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # "/Type /Page" appears once per page and once in "/Type /Pages" (the tree)
    assert data.count(b"/Type /Page") == 3
    tables = plan_tables(plan)
    assert set(tables) == {"cells", "schedule", "coverage"}
    sched = tables["schedule"]
    assert list(sched[sched["rank"] == 1]["day"]) == ["Fri", "Sat"]
    assert sched["visits"].iloc[0] == 4
    windows = patrol_windows(plan, period_start=date(2025, 6, 1),
                             period_end=date(2025, 6, 30))
    # Fridays 6, 13, 20, 27 and Saturdays 7, 14, 21, 28 of June 2025
    assert len(windows[CELLS[0]]) == 8
    assert windows[CELLS[0]][0].start.isoformat() == "2025-06-06T18:00:00"
    assert windows[CELLS[0]][0].hours == 4


def test_plan_downloads_as_bytes_and_text():
    plan = plan_patrols(_cells(), _occurrences(), patrol_hours_per_week=2.0)
    assert plan_pdf_bytes(plan).startswith(b"%PDF")
    text = plan_csv_text(plan)
    assert text.splitlines()[0].startswith("rank,h3,csp_name")
    assert CELLS[0] in text.splitlines()[1]


def test_pai_takes_areas_summed_in_two_orders() -> None:
    """The same cells' areas summed apart differ in the last bit: not an error."""
    import h3

    cells = sorted(h3.grid_disk("89195da49b7ffff", 3))
    forward = sum(h3.cell_area(c, unit="km^2") for c in cells)
    backward = sum(h3.cell_area(c, unit="km^2") for c in reversed(cells))
    small, big = sorted([forward, backward])
    assert prediction_accuracy_index(5, 10, area_km2=big, total_area_km2=small) \
        == pytest.approx(0.5)
    with pytest.raises(ValueError, match="at most total_area_km2"):
        prediction_accuracy_index(5, 10, area_km2=small * 1.01, total_area_km2=small)


def test_coming_month_by_hand() -> None:
    from datetime import date

    from hotspot.operations.patrol import coming_month

    assert coming_month(date(2026, 12, 2)) == (date(2027, 1, 1), date(2027, 1, 31))
    assert coming_month(date(2025, 1, 31)) == (date(2025, 2, 1), date(2025, 2, 28))
    assert coming_month(date(2024, 1, 15)) == (date(2024, 2, 1), date(2024, 2, 29))


def test_a_test_period_without_data_is_said_in_words() -> None:
    import math

    from hotspot.operations.patrol import _pai_text

    assert _pai_text(math.nan, "no data for June yet") == "no data for June yet"
    assert _pai_text(2.345, "unused") == "2.3"

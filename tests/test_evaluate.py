"""Tests for evaluate: WDQ and WDD worked examples, the evaluation table."""

from __future__ import annotations

import math
from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from hotspot.crs import BNG
from hotspot.errors import ParameterError
from hotspot.operations import Activity, Operation
from hotspot.operations.evaluate import (
    default_periods,
    evaluate_operation,
    evaluation_areas,
    wdd,
    wdq,
)

# ----------------------------------------------------------------------------
# WDD
# ----------------------------------------------------------------------------


def test_wdd_wheeler_example_local_and_total():
    """Wheeler's worked example (R package ptools, ``wdd()``).

    Counts (pre, post): treated 207 -> 110, control 308 -> 318, displacement
    178 -> 157, displacement control 150 -> 140. They are the example in
    Wheeler's ptools documentation and his blog post "Using weights in
    regression examples" (andrewpwheeler.com), which reports the local
    estimate as -107 (SE 30.7). By hand:

    local = (110 - 207) - (318 - 308) = -97 - 10 = -107,
    var = 207 + 110 + 308 + 318 = 943, SE = sqrt(943) = 30.7083;
    displacement = (157 - 178) - (140 - 150) = -21 + 10 = -11,
    var = 178 + 157 + 150 + 140 = 625, SE = 25;
    total = -118, var = 943 + 625 = 1568, SE = 39.5980,
    z = -118 / 39.5980 = -2.97995, p = 2 * Phi(-2.97995) = 0.00288.
    """
    r = wdd((207, 110), control=(308, 318), buffer=(178, 157),
            buffer_control=(150, 140))
    assert r.local == -107
    assert r.local_se == pytest.approx(30.7083, abs=1e-4)
    assert r.displacement == -11
    assert r.displacement_se == pytest.approx(25.0)
    assert r.estimate == -118
    assert r.se == pytest.approx(math.sqrt(1568))
    assert r.z == pytest.approx(-2.97995, abs=1e-5)
    assert r.p == pytest.approx(0.002883, abs=1e-5)


def test_wdd_without_buffer_is_the_local_test():
    """No displacement area: WDD = dT - dC = -107, var = 943 (as above)."""
    r = wdd((207, 110), control=(308, 318))
    assert r.estimate == -107
    assert r.displacement == 0
    assert r.se == pytest.approx(math.sqrt(943))


def test_wdd_scaled_shared_control_equals_minus_net_effect():
    """Hand example with one control for both areas, scaled by the before ratio.

    T = (100, 70), D = (50, 66), C = (1000, 1100); s = 100/1000 = 0.1 and
    s_d = 50/1000 = 0.05.
    local = (70 - 100) - 0.1 * 100 = -40; displacement = 16 - 0.05 * 100 = 11;
    total = -29 (= minus the WDQ net effect, 29, in the next test).
    var = (100 + 70) + (50 + 66) + (0.1 + 0.05)^2 * (1000 + 1100)
        = 170 + 116 + 0.0225 * 2100 = 333.25.
    """
    r = wdd((100, 70), control=(1000, 1100), buffer=(50, 66), control_scale=0.1,
            buffer_control_scale=0.05)
    assert r.local == pytest.approx(-40)
    assert r.displacement == pytest.approx(11)
    assert r.estimate == pytest.approx(-29)
    assert r.se == pytest.approx(math.sqrt(333.25))


def test_wdd_harm_variance_uses_squared_weights():
    """Treated harm 2 + 2 = 4 before, 3 after: variances 2^2 + 2^2 = 8 and 9.

    Control (10, 10) with Poisson variances 10 and 10. WDD = (3 - 4) - 0 = -1,
    var = 8 + 9 + 10 + 10 = 37.
    """
    r = wdd((4, 3), control=(10, 10), variances={"treated": (8, 9)})
    assert r.estimate == -1
    assert r.se == pytest.approx(math.sqrt(37))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"control": (1, -2)}, "control must hold finite counts >= 0"),
        ({"control": (1,)}, "control must be a pair"),
        ({"control": (1, 2), "control_scale": -1.0}, "control_scale must be"),
        ({"control": (1, 2), "buffer_control": (1, 1)}, "buffer_control needs"),
        ({"control": (1, 2), "variances": {"nope": (1, 1)}}, "variances keys"),
    ],
    ids=["negative", "not-a-pair", "negative-scale", "buffer-control-alone",
         "bad-variance-key"],
)
def test_wdd_rejects_bad_input(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        wdd((1, 2), **kwargs)


# ----------------------------------------------------------------------------
# WDQ
# ----------------------------------------------------------------------------


def test_wdq_hand_example():
    """A = (100, 70), B = (50, 66), C = (1000, 1100) (Bowers & Johnson 2003).

    SM  = 70/1100 - 100/1000 = 0.0636364 - 0.1 = -0.0363636 (= -2/55)
    BDM = 66/1100 - 50/1000  = 0.06 - 0.05     =  0.01
    WDQ = 0.01 / (-2/55) = -0.275: displacement smaller than the direct effect.
    gross = 100 * 1100/1000 - 70 = 40; buffer = 50 * 1.1 - 66 = -11; net = 29.
    """
    r = wdq((100, 70), buffer=(50, 66), control=(1000, 1100))
    assert r.success_measure == pytest.approx(-2 / 55)
    assert r.buffer_displacement == pytest.approx(0.01)
    assert r.wdq == pytest.approx(-0.275)
    assert r.gross_effect == pytest.approx(40)
    assert r.buffer_effect == pytest.approx(-11)
    assert r.net_effect == pytest.approx(29)
    assert "displacement" in r.reading and "smaller" in r.reading


@pytest.mark.parametrize(
    ("treated", "buffer", "expected", "words"),
    [
        # BDM = 55/1100 - 100/1000 = -0.05; WDQ = -0.05 / (-2/55) = 1.375
        ((100, 70), (100, 55), 1.375, "diffusion of benefit into the buffer, great"),
        # BDM = 0.05 - 0.05 = 0
        ((100, 70), (50, 55), 0.0, "neither"),
        # BDM = 55/1100 - 10/1000 = 0.04; WDQ = 0.04 / (-2/55) = -1.1
        ((100, 70), (10, 55), -1.1, "displacement into the buffer greater"),
        # SM = 110/1100 - 100/1000 = 0: not interpreted
        ((100, 110), (50, 66), math.nan, "did no better"),
    ],
    ids=["diffusion-greater", "neither", "displacement-greater", "no-success"],
)
def test_wdq_readings(treated, buffer, expected, words):
    r = wdq(treated, buffer=buffer, control=(1000, 1100))
    if math.isnan(expected):
        assert math.isnan(r.wdq)
    else:
        assert r.wdq == pytest.approx(expected)
    assert words in r.reading


def test_wdq_needs_control_counts():
    with pytest.raises(ParameterError, match="control must have occurrences"):
        wdq((1, 1), buffer=(1, 1), control=(0, 5))


# ----------------------------------------------------------------------------
# periods and areas
# ----------------------------------------------------------------------------


def _operation(area=None, start=date(2025, 6, 1), end=date(2025, 7, 31)):
    area = area if area is not None else box(441000, 111000, 442000, 112000)
    return Operation(
        name="Test", csp_code="E06000045", csp_name="Southampton", area=area,
        period_start=start, period_end=end,
        activities=(Activity("cctv", "cam", Point(441500, 111500),
                             subtype="permanent"),),
    )


def test_default_periods_whole_months():
    before, during, after = default_periods(_operation())
    assert (before.start, before.end) == (date(2025, 4, 1), date(2025, 5, 31))
    assert (after.start, after.end) == (date(2025, 8, 1), date(2025, 9, 30))
    assert during.days == 61


def test_default_periods_same_length_otherwise():
    before, during, after = default_periods(
        _operation(start=date(2025, 6, 10), end=date(2025, 6, 23)))
    assert (before.start, before.end) == (date(2025, 5, 27), date(2025, 6, 9))
    assert (after.start, after.end) == (date(2025, 6, 24), date(2025, 7, 7))


def test_buffer_ring_and_control():
    """A 1 km square with a 100 m ring: ring area = 1.2^2 - 1 km² minus corners.

    The buffered square has rounded corners: area = 1 + 4 * 0.1 + pi * 0.01
    = 1.43142 km², so the ring is 0.43142 km² (to the buffer's segment
    approximation). The control is the given box minus square and ring.
    """
    areas = evaluation_areas(_operation(), buffer_m=100,
                             control=box(438000, 108000, 446000, 116000))
    assert areas.buffer.area / 1e6 == pytest.approx(0.43142, abs=2e-4)
    assert not areas.control.intersects(areas.treated.buffer(99))
    frame = areas.frame()
    assert list(frame["area"]) == ["treated", "buffer", "control"]


def test_buffer_must_be_positive():
    with pytest.raises(ParameterError, match="buffer_m must be a distance above 0"):
        evaluation_areas(_operation(), buffer_m=0, control=box(0, 0, 1, 1))


# ----------------------------------------------------------------------------
# the evaluation on a hand-made table
# ----------------------------------------------------------------------------


def _rows(n, x, y, when, category="robbery", source="records", precision="minute"):
    start = pd.Timestamp(when)
    end = start if precision == "minute" else start + pd.offsets.MonthEnd(0)
    return [{"occurred_from": start, "occurred_to": end, "date_precision": precision,
             "sv_category": category, "harm_weight": 1.0, "source": source,
             "geometry": Point(x, y)} for _ in range(n)]


@pytest.fixture
def occurrences():
    """Treated (441500, 111500), buffer (442050, 111500), control (444000, 114000).

    Robbery: treated 12 before (May) -> 6 during (June); buffer 4 -> 4;
    control 40 -> 40. Possession of weapons in the treated area: 2 -> 9.
    Records data cover April-September; police.uk rows only in April-June
    (so police.uk has no data for the after period).
    """
    rows = (
        _rows(12, 441500, 111500, "2025-05-10 21:00")
        + _rows(6, 441500, 111500, "2025-06-10 21:00")
        + _rows(4, 442050, 111500, "2025-05-11 20:00")
        + _rows(4, 442050, 111500, "2025-06-11 20:00")
        + _rows(40, 444000, 114000, "2025-05-12 19:00")
        + _rows(40, 444000, 114000, "2025-06-12 19:00")
        + _rows(2, 441500, 111500, "2025-05-13 18:00", "possession_of_weapons")
        + _rows(9, 441500, 111500, "2025-06-13 18:00", "possession_of_weapons")
        + _rows(1, 444000, 114000, "2025-04-02 10:00")
        + _rows(1, 444000, 114000, "2025-07-02 10:00")
        + _rows(1, 444000, 114000, "2025-09-02 10:00")
        + _rows(3, 441500, 111500, "2025-05-01", source="police_uk",
                precision="month")
        + _rows(3, 441500, 111500, "2025-06-01", source="police_uk",
                precision="month")
        + _rows(1, 444000, 114000, "2025-04-01", source="police_uk",
                precision="month")
    )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)


def test_evaluation_counts_and_statistics(occurrences):
    """Operation June 2025: before May, after July.

    Without proactive offences (robbery only), records + police.uk: treated
    12 + 3 = 15 before, 6 + 3 = 9 during; buffer 4 -> 4; control 40 -> 40
    (the control's April and July rows fall outside May and June).
    WDQ: SM = 9/40 - 15/40 = -0.15, BDM = 0, WDQ = 0; gross = 15 - 9 = 6.
    WDD (scaled by 15/40 and 4/40): local = (9 - 15) - 0 = -6, total -6.
    """
    op = _operation(start=date(2025, 6, 1), end=date(2025, 6, 30))
    ev = evaluate_operation(occurrences, op, buffer_m=100,
                            control=box(438000, 108000, 446000, 116000))
    table = ev.table()
    assert table.loc["treated", "before"] == 15
    assert table.loc["treated", "during"] == 9
    assert table.loc["control", "during"] == 40
    r = ev.results.set_index(["comparison", "measure", "weighting"])
    row = r.loc[("during", "without_proactive", "count")]
    assert row["wdq"] == pytest.approx(0.0)
    assert row["gross_effect"] == pytest.approx(6.0)
    assert row["wdd"] == pytest.approx(-6.0)
    assert row["sources"] == "police_uk,records"
    allrow = r.loc[("during", "all", "count")]
    assert (allrow["T0"], allrow["T1"]) == (17, 18)
    pro = r.loc[("during", "proactive_only", "count")]
    assert (pro["T0"], pro["T1"]) == (2, 9)


def test_evaluation_drops_sources_with_gaps_and_says_so(occurrences):
    """After (July) vs before (May): police.uk has no July rows, so it is left out."""
    op = _operation(start=date(2025, 6, 1), end=date(2025, 6, 30))
    ev = evaluate_operation(occurrences, op, buffer_m=100,
                            control=box(438000, 108000, 446000, 116000))
    after = ev.results[(ev.results["comparison"] == "after")
                       & (ev.results["measure"] == "without_proactive")
                       & (ev.results["weighting"] == "count")].iloc[0]
    assert after["sources"] == "records"
    assert after["T0"] == 12
    assert any("police_uk rows left out" in w and "2025-07" in w
               for w in ev.warnings)


def test_evaluation_reading_is_honest_about_small_counts(occurrences):
    """Treated robbery of 15 before is enough to read; proactive note is present.

    Then a smaller area holding no occurrences gives the 'too few' reading.
    """
    op = _operation(start=date(2025, 6, 1), end=date(2025, 6, 30))
    control = box(438000, 108000, 446000, 116000)
    ev = evaluate_operation(occurrences, op, buffer_m=100, control=control)
    text = " ".join(ev.reading)
    assert "possession of weapons" in text
    assert "police activity" in text
    assert "weighted displacement difference" in text
    empty = _operation(area=box(439000, 109000, 439200, 109200),
                       start=date(2025, 6, 1), end=date(2025, 6, 30))
    ev2 = evaluate_operation(occurrences, empty, buffer_m=100, control=control)
    assert any("Too few occurrences to conclude anything" in line
               for line in ev2.reading)
    assert any("harm weights are not available" in w for w in ev2.warnings)


def test_evaluation_does_not_change_its_input(occurrences):
    before = occurrences.copy()
    evaluate_operation(occurrences, _operation(start=date(2025, 6, 1),
                                               end=date(2025, 6, 30)),
                       buffer_m=100, control=box(438000, 108000, 446000, 116000))
    pd.testing.assert_frame_equal(occurrences, before)


@pytest.mark.slow
def test_demo_operation_evaluates_on_the_embedded_data():
    """The shipped Op Meero 2025 demo: June-July 2025 against April-May 2025."""
    from hotspot.analysis import rows_between
    from hotspot.ingest.store import load_occurrences
    from hotspot.operations import DEMO_OPERATION_FILE, import_operations

    op = import_operations(DEMO_OPERATION_FILE)[0]
    ev = evaluate_operation(rows_between(load_occurrences()), op)
    during = ev.results[(ev.results["comparison"] == "during")
                        & (ev.results["measure"] == "without_proactive")
                        & (ev.results["weighting"] == "count")].iloc[0]
    assert during["T0"] > 0 and during["C0"] > 0
    assert set(during["sources"].split(",")) == {"police_uk", "records"}
    assert math.isfinite(during["z"])
    # police.uk's August 2025 file is flagged implausible: the after comparison
    # must leave police.uk out and say so
    after = ev.results[ev.results["comparison"] == "after"].iloc[0]
    assert after["sources"] == "records"
    assert any("2025-08" in w for w in ev.warnings)
    assert ev.reading[0].startswith("During (01 Jun 2025 to 31 Jul 2025)")


def test_month_only_rows_need_whole_month_periods(occurrences):
    """Operation 10-23 June: before 27 May-9 June, after 24 June-7 July.

    The police.uk rows (months May and June, three in the treated area each)
    straddle those periods: none is counted and the warning says 3 + 3 = 6 in
    the areas straddle (the April row lies wholly outside every period). The
    answer is the same with ``occurred_to`` dropped, as in the app's trimmed
    table: the month is implied by the precision.
    """
    op = _operation(start=date(2025, 6, 10), end=date(2025, 6, 23))
    control = box(438000, 108000, 446000, 116000)
    for table in (occurrences, occurrences.drop(columns=["occurred_to"])):
        ev = evaluate_operation(table, op, buffer_m=100, control=control)
        assert any(w.startswith("6 occurrences in the three areas have a recorded "
                                "date window that straddles") for w in ev.warnings)
        # 10 June 21:00 robbery x 6 in the treated area lie in "during"
        assert ev.table().loc["treated", "during"] == 6


def test_synthetic_rows_are_flagged_and_harm_weights_are_used(occurrences):
    """Harm 3 on the May treated robberies: harm before = 12 * 3 + 3 = 39.

    WDD on harm (scaled by 39/40): local = (9 - 39) - 0.975 * 0 = -30.
    """
    occ = occurrences.copy()
    may = (occ["occurred_from"] == pd.Timestamp("2025-05-10 21:00")).to_numpy()
    occ.loc[may, "harm_weight"] = 3.0
    occ["is_synthetic"] = occ["source"] == "records"
    op = _operation(start=date(2025, 6, 1), end=date(2025, 6, 30))
    ev = evaluate_operation(occ, op, buffer_m=100,
                            control=box(438000, 108000, 446000, 116000))
    r = ev.results.set_index(["comparison", "measure", "weighting"])
    harm = r.loc[("during", "without_proactive", "harm")]
    assert harm["T0"] == 39
    assert harm["wdd_local"] == pytest.approx(-30)
    assert any("SYNTHETIC" in w for w in ev.warnings)
    assert any(line.startswith("Weighted by harm: WDD") for line in ev.reading)
    assert not any("harm weights are not available" in w for w in ev.warnings)

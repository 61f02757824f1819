"""Tests for verdict: the one-line verdict and the rule that words follow the test."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import box

from hotspot.operations.evaluate import evaluate_operation
from hotspot.operations.verdict import (
    claims_effect,
    significant,
    two_sided_p,
    verdict,
    wdq_sentence,
)
from hotspot.operations.wdq import wdd, wdq
from tests.test_evaluate import _operation, occurrences  # noqa: F401 (fixture)


def _row(t, b, c):
    """A results row as evaluate builds it (the control scaled to each area's before).

    The arithmetic of ``evaluate._compare``, on the counts given.
    """
    s, sd = t[0] / c[0], b[0] / c[0]
    d = wdd(t, control=c, buffer=b, control_scale=s, buffer_control_scale=sd)
    q = wdq(t, buffer=b, control=c)
    return {"T0": t[0], "T1": t[1], "B0": b[0], "B1": b[1], "C0": c[0], "C1": c[1],
            "wdd": d.estimate, "p": d.p, "wdd_local": d.local,
            "wdd_local_se": d.local_se, "wdd_displacement": d.displacement,
            "wdd_displacement_se": d.displacement_se, "wdq": q.wdq,
            "success_measure": q.success_measure, "net_effect": q.net_effect,
            "wdq_reading": q.reading}


def test_claims_effect_ignores_the_statistics_names():
    assert not claims_effect("the weighted displacement difference is -14.4")
    assert not claims_effect("Weighted displacement quotient -0.13: not read")
    assert claims_effect("about 14 occurrences prevented")
    assert claims_effect("some diffusion of benefit into the buffer")
    assert claims_effect("some displacement into the buffer")


def test_no_clear_change_op_meero_counts():
    """Op Meero demo, during: T 88 -> 114, B 14 -> 23, C 64 -> 95.

    s = 88/64 = 1.375, s_d = 14/64 = 0.21875.
    local = 26 - 1.375 * 31 = -16.625, var = 202 + 1.375^2 * 159 = 502.61,
    z = -0.74; buffer = 9 - 0.21875 * 31 = 2.21875, var = 37 + 0.21875^2 * 159
    = 44.61, z = 0.33; total -14.406, var = 239 + 1.59375^2 * 159 = 642.87,
    z = -0.568, p = 0.570. Net effect (WDQ) = 130.625 - 114 + 20.78 - 23 = 14.4,
    which the old reading called "about 14 occurrences prevented".
    """
    row = _row((88, 114), (14, 23), (64, 95))
    assert row["p"] == pytest.approx(0.570, abs=1e-3)
    assert row["net_effect"] == pytest.approx(14.406, abs=1e-3)
    assert verdict(row) == (
        "No clear change: the rise in the operation area (88 to 114) is within what "
        "chance would give beside the control (64 to 95); the buffer did not rise "
        "more than the control beyond chance (14 to 23).")
    line = wdq_sentence(row)
    assert not claims_effect(line)
    assert "p = 0.570" in line and "14 fewer than the control trend" in line


def test_fewer_than_expected_may_say_prevented():
    """T 100 -> 40, B 50 -> 50, C 1000 -> 1000: s = 0.1, s_d = 0.05.

    local = -60, var = 140 + 0.01 * 2000 = 160, z = -4.74; buffer 0 (z = 0);
    total -60, var = 240 + 0.15^2 * 2000 = 285, z = -3.554, p = 0.00038.
    WDQ: SM = 0.04 - 0.1 = -0.06, BDM = 0, net = 60 + 0 = 60.
    """
    row = _row((100, 40), (50, 50), (1000, 1000))
    assert row["p"] == pytest.approx(0.00038, abs=2e-5)
    assert verdict(row) == (
        "Fewer than expected: the operation area (100 to 40) had 60 fewer than the "
        "control (1000 to 1000) predicts, more than chance would give; the buffer "
        "did not fall more than the control beyond chance (50 to 50).")
    line = wdq_sentence(row)
    assert "about 60 occurrences prevented" in line
    # the buffer's own test is not significant: no displacement/diffusion claim
    assert "diffusion" not in line and "displacement into" not in line


def test_displacement_only_when_the_buffer_test_says_so():
    """T 100 -> 40, B 50 -> 120, C 1000 -> 1000.

    buffer part = 70, var = 170 + 0.05^2 * 2000 = 175, z = 5.29: displacement;
    total = 10, var = 310 + 45 = 355, z = 0.53: no clear change overall, and the
    WDQ (-1.17) is not read.
    """
    row = _row((100, 40), (50, 120), (1000, 1000))
    text = verdict(row)
    assert text.startswith("No clear change: the operation area (100 to 40) had 60 "
                           "fewer")
    assert text.endswith("the buffer (50 to 120) rose more than the control "
                         "predicts, which suggests displacement.")
    assert not claims_effect(wdq_sentence(row))


def test_too_few_gives_no_verdict():
    row = _row((5, 2), (3, 3), (100, 100))
    assert verdict(row).startswith("No verdict: too few occurrences in the "
                                   "operation area (5 before, 2 after)")


COUNTS = [(20, 10), (100, 40), (30, 35), (60, 95)]
BUFFERS = [(10, 30), (50, 50), (40, 10)]
CONTROLS = [(200, 210), (1000, 1000), (80, 60)]


@pytest.mark.parametrize(("t", "b", "c"),
                         list(itertools.product(COUNTS, BUFFERS, CONTROLS)))
def test_no_claim_without_significance(t, b, c):
    """The wording rule on 36 crafted comparisons, significant and not."""
    row = _row(t, b, c)
    line = wdq_sentence(row)
    assert claims_effect(line) == (significant(row["p"]) and row["wdd"] < 0
                                   and row["success_measure"] < 0)
    text = verdict(row)
    buffer_p = two_sided_p(row["wdd_displacement"], row["wdd_displacement_se"])
    assert claims_effect(text) == significant(buffer_p)
    assert text.startswith("No clear change") != significant(row["p"])


def test_evaluation_verdict_and_pdf(occurrences, tmp_path: Path):  # noqa: F811
    """The hand-made table of test_evaluate, June 2025: T 15 -> 9, B 4 -> 4, C 40 -> 40.

    s = 15/40, s_d = 4/40: local -6, var 24 + 0.140625 * 80 = 35.25 (z = -1.01);
    total -6, var 32 + 0.475^2 * 80 = 50.05, z = -0.85: no clear change.
    """
    occ = occurrences.copy()
    occ["is_synthetic"] = occ["source"] == "records"
    op = _operation(start=date(2025, 6, 1), end=date(2025, 6, 30))
    ev = evaluate_operation(occ, op, buffer_m=100,
                            control=box(438000, 108000, 446000, 116000))
    expected = ("No clear change: the fall in the operation area (15 to 9) is within "
                "what chance would give beside the control (40 to 40); the buffer "
                "did not fall more than the control beyond chance (4 to 4).")
    assert ev.verdicts["during"] == expected
    head = ev.headline()
    assert head[0].startswith("SYNTHETIC")
    assert head[1] == f"During the operation: {expected}"
    # after (July): police.uk has no July rows, so the records extract alone
    assert head[2].startswith("Afterwards: ")
    assert head[2].endswith("(counts from the records extract only: police.uk "
                            "has months missing).")
    assert not any(claims_effect(line) for line in ev.reading)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    from hotspot.render.evaluation import write_evaluation_pdf

    pdf = write_evaluation_pdf(ev, tmp_path / "ev.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = re.sub(r"\s+", " ", text)
    assert flat.lstrip().startswith("SYNTHETIC")
    assert expected in flat
    assert "Open Government Licence" in flat
    # without synthetic rows: no SYNTHETIC anywhere
    clean = evaluate_operation(occurrences, op, buffer_m=100,
                               control=box(438000, 108000, 446000, 116000))
    pdf2 = write_evaluation_pdf(clean, tmp_path / "clean.pdf")
    text2 = subprocess.run(["pdftotext", str(pdf2), "-"], capture_output=True,
                           text=True, check=True).stdout
    assert "SYNTHETIC" not in text2
    assert expected in re.sub(r"\s+", " ", text2)

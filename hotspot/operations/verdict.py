"""Say in one line whether an operation worked, and never claim more than the test.

One rule turns a comparison's counts and tests (a row of
:attr:`hotspot.operations.evaluate.Evaluation.results`) into words:

- :func:`verdict` gives the one-line verdict a manager reads first, for
  example "No clear change: the rise in the operation area (88 to 114) is
  within what chance would give beside the control (64 to 95); the buffer did
  not rise more than the control beyond chance (14 to 23).";
- :func:`wdq_sentence` gives the WDQ line under it.

The words "prevented", "diffusion of benefit" and "displacement" are claims of
an effect. They are used only when the test behind them says the change is
unlikely to be chance at the 5% level: the weighted displacement difference
(WDD, area and buffer together) for "prevented" and for the quotient's
reading, the buffer's own part of the WDD for "displacement" and "diffusion".
:func:`claims_effect` finds such claims in a text (the statistics' own names
aside); the tests use it on crafted examples both ways.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from scipy import stats

#: Significance level of every claim (two-sided).
ALPHA = 0.05
#: Below this many occurrences in the operation area before, no verdict.
SMALL_COUNT = 10
#: Words that claim an effect.
CLAIM_WORDS: tuple[str, ...] = ("prevented", "benefit", "displacement", "displaced")
_NAMES = re.compile(r"weighted displacement (difference|quotient)", re.IGNORECASE)


def two_sided_p(estimate: float, se: float) -> float:
    """Return the two-sided normal p-value of ``estimate / se`` (NaN if se <= 0)."""
    if not (math.isfinite(estimate) and math.isfinite(se)) or se <= 0:
        return math.nan
    return float(2 * stats.norm.sf(abs(estimate / se)))


def significant(p: float) -> bool:
    """Return whether ``p`` is below :data:`ALPHA` (False for NaN)."""
    return bool(math.isfinite(p) and p < ALPHA)


def claims_effect(text: str) -> bool:
    """Return whether ``text`` claims an effect (outside the statistics' names)."""
    plain = _NAMES.sub("", text).lower()
    return any(word in plain for word in CLAIM_WORDS)


def _num(row: Mapping[str, Any], key: str) -> float:
    value = row.get(key, math.nan)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _move(before: float, after: float) -> str:
    if after > before:
        return "rise"
    if after < before:
        return "fall"
    return "no change"


def _tests(row: Mapping[str, Any]) -> dict[str, float]:
    """Return the p-values of the whole WDD, its area part and its buffer part."""
    local, local_se = _num(row, "wdd_local"), _num(row, "wdd_local_se")
    disp, disp_se = _num(row, "wdd_displacement"), _num(row, "wdd_displacement_se")
    return {"total": _num(row, "p"), "area": two_sided_p(local, local_se),
            "buffer": two_sided_p(disp, disp_se)}


def verdict(row: Mapping[str, Any]) -> str:
    """Return the one-line verdict of one comparison.

    Parameters
    ----------
    row : mapping
        A row of ``Evaluation.results``: ``T0, T1, B0, B1, C0, C1`` and the
        WDD columns ``wdd, p, wdd_local, wdd_local_se, wdd_displacement,
        wdd_displacement_se``.

    Returns
    -------
    str
        "No verdict: ...", "No clear change: ...", "Fewer than expected: ..."
        or "More than expected: ...". The headline follows the WDD test (area
        and buffer together); the clauses say what the area's and the
        buffer's own tests show.

    Notes
    -----
    With fewer than :data:`SMALL_COUNT` occurrences in the area before, or no
    test (no control occurrences), there is no verdict.
    """
    t0, t1 = _num(row, "T0"), _num(row, "T1")
    b0, b1 = _num(row, "B0"), _num(row, "B1")
    c0, c1 = _num(row, "C0"), _num(row, "C1")
    if not math.isfinite(t0) or t0 < SMALL_COUNT:
        return (f"No verdict: too few occurrences in the operation area ({t0:g} "
                f"before, {t1:g} after) to tell a change from chance.")
    p = _tests(row)
    if not math.isfinite(p["total"]):
        return "No verdict: the control area has no occurrences to compare with."
    estimate = _num(row, "wdd")
    if not significant(p["total"]):
        head = "No clear change"
    else:
        head = "Fewer than expected" if estimate < 0 else "More than expected"
    move = _move(t0, t1)
    control = f"the control ({c0:g} to {c1:g})"
    if significant(p["area"]):
        local = _num(row, "wdd_local")
        better = "fewer" if local < 0 else "more"
        area = (f"the operation area ({t0:g} to {t1:g}) had {abs(local):.0f} "
                f"{better} than {control} predicts, more than chance would give")
    elif move == "no change":
        area = (f"the operation area did not change ({t0:g}), within what chance "
                f"would give beside {control}")
    else:
        area = (f"the {move} in the operation area ({t0:g} to {t1:g}) is within "
                f"what chance would give beside {control}")
    disp = _num(row, "wdd_displacement")
    if significant(p["buffer"]):
        buffer = (f"the buffer ({b0:g} to {b1:g}) rose more than the control "
                  "predicts, which suggests displacement" if disp > 0 else
                  f"the buffer ({b0:g} to {b1:g}) fell more than the control "
                  "predicts, which suggests a diffusion of benefit")
    else:
        word = "rise" if disp > 0 else "fall"
        buffer = (f"the buffer did not {word} more than the control beyond chance "
                  f"({b0:g} to {b1:g})")
    return f"{head}: {area}; {buffer}."


def wdq_sentence(row: Mapping[str, Any]) -> str:
    """Return the WDQ line: the quotient read only when the WDD test supports it.

    Bowers & Johnson's reading of the quotient (diffusion of benefit,
    displacement) and the net effect in occurrences prevented are claims; they
    are given only when the WDD is significant (p < :data:`ALPHA`) and shows a
    fall. Otherwise the quotient and net difference are given as description.
    """
    q = _num(row, "wdq")
    reading = str(row.get("wdq_reading", ""))
    if not math.isfinite(q):
        return f"Weighted displacement quotient: {reading or 'not computed'}."
    net = _num(row, "net_effect")
    p = _num(row, "p")
    if significant(p) and _num(row, "wdd") < 0 and _num(row, "success_measure") < 0:
        net_text = (f"about {net:.0f} occurrences prevented" if net >= 0 else
                    f"about {-net:.0f} more occurrences than expected")
        if not significant(_tests(row)["buffer"]):
            reading = ("the buffer's own change is within what chance would give, "
                       "so the quotient's reading of the buffer is not made")
        return (f"Weighted displacement quotient {q:.2f}: {reading}; net effect, "
                f"buffer included: {net_text} (p = {p:.3f}).")
    diff = (f"{net:.0f} fewer than the control trend predicts" if net >= 0 else
            f"{-net:.0f} more than the control trend predicts")
    why = (f"the change could well be chance (p = {p:.3f})" if not significant(p)
           else "the area did not do better than the control")
    return (f"Weighted displacement quotient {q:.2f}: not read as an effect, as "
            f"{why}; area and buffer together had {diff}.")

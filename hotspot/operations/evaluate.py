"""Did it work? Before / during / after counts, WDQ and WDD for an operation.

Three areas are compared: the operation (treated) area; a buffer ring around
it, where crime could be displaced to (or benefits diffuse to); and a control
area (by default the rest of the operation's CSP outside the buffer), which
shows what happened where there was no operation. Two periods are compared
at a time: the period before the operation against the period during it, and
the period before against the period after it (persistence).

Two statistics are computed for each comparison:

- the **Weighted Displacement Quotient** (Bowers & Johnson 2003): the success
  measure, the buffer displacement measure, their quotient, and the gross and
  net effects in occurrences;
- the **Weighted Displacement Difference** (Wheeler & Ratcliffe 2018): the
  difference in differences with its Poisson variance, z and two-sided p.

Each is computed on counts and on harm-weighted counts, for all serious
violence, for serious violence without proactive offences (possession of
weapons, which police activity finds and so raises), and for the proactive
offences alone.

References
----------
Bowers, K. J. and Johnson, S. D. (2003). Measuring the geographical displacement
and diffusion of benefit effects of crime prevention activity. *Journal of
Quantitative Criminology* 19(3), 275-301.

Wheeler, A. P. and Ratcliffe, J. H. (2018). A simple weighted displacement
difference test to evaluate place based crime interventions. *Crime Science*
7, 11. https://doi.org/10.1186/s40163-018-0085-5
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot.crs import require_bng
from hotspot.errors import ParameterError
from hotspot.ingest.quality import flagged
from hotspot.operations.model import Operation
from hotspot.operations.periods import (
    AREAS,
    DEFAULT_BUFFER_M,
    EvaluationAreas,
    Period,
    default_periods,
    evaluation_areas,
)
from hotspot.operations.verdict import SMALL_COUNT, verdict, wdq_sentence
from hotspot.operations.wdq import wdd, wdq
from hotspot.selection import month_text

logger = logging.getLogger(__name__)

#: Offences found mostly by police activity: an operation raises their count.
PROACTIVE_CATEGORIES: tuple[str, ...] = ("possession_of_weapons",)
MEASURES: dict[str, str] = {
    "without_proactive": "serious violence without possession of weapons",
    "all": "all serious violence",
    "proactive_only": "possession of weapons only",
}
WEIGHTINGS: tuple[str, ...] = ("count", "harm")
#: Source codes → their names in the verdict.
SOURCE_NAMES: dict[str, str] = {"police_uk": "police.uk",
                                "records": "the records extract"}
PERIODS: tuple[str, ...] = ("before", "during", "after")



# ----------------------------------------------------------------------------
# counting
# ----------------------------------------------------------------------------


def _placed_period(occ: pd.DataFrame, periods: Sequence[Period]) -> pd.Series:
    """Period holding each row's whole date window; "straddles" or "" if none."""
    start = pd.to_datetime(occ["occurred_from"])
    # without occurred_to (tables trimmed for the app), the window follows from
    # the precision: a month-only row spans its month, a day row its day
    precision = (occ["date_precision"].astype("string").fillna("")
                 if "date_precision" in occ.columns
                 else pd.Series("minute", index=occ.index))
    implied = start.where(precision != "month",
                          start.dt.normalize() + pd.offsets.MonthEnd(0))
    implied = implied.where(precision != "day", start.dt.normalize())
    end = (pd.to_datetime(occ["occurred_to"]) if "occurred_to" in occ.columns
           else implied)
    end = end.fillna(implied)
    end = end.where(end >= start, start)
    out = pd.Series("", index=occ.index, dtype=object)
    for p in periods:
        lo = pd.Timestamp(p.start)
        hi = pd.Timestamp(p.end) + pd.Timedelta(days=1)
        inside = ((start >= lo) & (end < hi)).fillna(False).to_numpy()
        overlaps = ((start < hi) & (end >= lo)).fillna(False).to_numpy()
        out[overlaps & ~inside & (out == "").to_numpy()] = "straddles"
        out[inside] = p.name
    return out


def source_coverage(
    occurrences: pd.DataFrame, periods: Sequence[Period]
) -> pd.DataFrame:
    """Which months of each period each source has data for.

    A source covers a month when it has at least one row (anywhere in the table
    given) dated in that month. A month missing in the middle of a source's
    range (police.uk August 2025, flagged implausible and left out) or outside
    it shows here.

    Returns
    -------
    pandas.DataFrame
        One row per source and period: ``source``, ``period``, ``months``,
        ``months_with_data``, ``missing_months`` (comma-separated) and
        ``complete`` (bool).
    """
    source = occurrences["source"].astype(str) if "source" in occurrences.columns \
        else pd.Series("all", index=occurrences.index)
    month = month_text(occurrences["occurred_from"])
    have = {s: set(month[source == s]) for s in sorted(source.unique())}
    rows = []
    for s, months in have.items():
        for p in periods:
            wanted = p.months()
            missing = [m for m in wanted if m not in months]
            rows.append({"source": s, "period": p.name, "months": len(wanted),
                         "months_with_data": len(wanted) - len(missing),
                         "missing_months": ",".join(missing),
                         "complete": not missing})
    return pd.DataFrame(rows, columns=["source", "period", "months",
                                       "months_with_data", "missing_months",
                                       "complete"])


# ----------------------------------------------------------------------------
# the evaluation
# ----------------------------------------------------------------------------


@dataclass
class Evaluation:
    """Everything the evaluation panel shows.

    Attributes
    ----------
    operation_name : str
    periods : tuple of Period
        Before, during, after.
    areas : EvaluationAreas
    counts : pandas.DataFrame
        Long table: ``comparison`` (during | after), ``sources``, ``measure``,
        ``weighting`` (count | harm), ``area``, ``period``, ``value``.
    results : pandas.DataFrame
        One row per comparison × measure × weighting with the counts
        (``T0, T1, B0, B1, C0, C1``), the WDQ columns (``success_measure``,
        ``buffer_displacement``, ``wdq``, ``gross_effect``, ``net_effect``,
        ``wdq_reading``), the WDD columns (``control_scale``, ``wdd``,
        ``wdd_se``, ``wdd_local``, ``wdd_local_se``, ``z``, ``p``,
        ``detectable``) and ``small_counts``.
    coverage : pandas.DataFrame
        :func:`source_coverage` of the data.
    reading : list of str
        Plain-English reading, headline first.
    warnings : list of str
        What limits the conclusions.
    parameters : dict
        ``buffer_m``, control, proactive categories, scaling.
    """

    operation_name: str
    periods: tuple[Period, Period, Period]
    areas: EvaluationAreas
    counts: pd.DataFrame
    results: pd.DataFrame
    coverage: pd.DataFrame
    reading: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    n_synthetic: int = 0

    @property
    def synthetic(self) -> bool:
        """Whether any occurrence counted is SYNTHETIC."""
        return self.n_synthetic > 0

    def synthetic_line(self) -> str:
        """Return the SYNTHETIC warning shown before anything else ("" if none)."""
        if not self.synthetic:
            return ""
        return (f"SYNTHETIC: {self.n_synthetic} of the occurrences counted are "
                "synthetic (the demonstration records extract). This shows how the "
                "method works, not what happened.")

    def headline(self) -> list[str]:
        """Return what is read first: SYNTHETIC (when due), then the verdicts.

        One line per comparison: "During the operation: <verdict>" and
        "Afterwards: <verdict>" (:func:`hotspot.operations.verdict.verdict`).
        """
        lines = [self.synthetic_line()] if self.synthetic else []
        labels = {"during": "During the operation", "after": "Afterwards"}
        used = (self.results.groupby("comparison")["sources"].first().to_dict()
                if not self.results.empty else {})
        every = set(",".join(used.values()).split(",")) - {""}
        for comparison, text in self.verdicts.items():
            mine = set(str(used.get(comparison, "")).split(",")) - {""}
            if mine and mine != every:
                names = " and ".join(SOURCE_NAMES.get(x, x) for x in sorted(mine))
                gone = " and ".join(SOURCE_NAMES.get(x, x)
                                    for x in sorted(every - mine))
                text = (f"{text.rstrip('.')} (counts from {names} only: {gone} "
                        "has months missing).")
            lines.append(f"{labels.get(comparison, comparison)}: {text}")
        if not self.verdicts:
            lines.append("No verdict: no comparison could be made (see the "
                         "warnings).")
        return lines

    def table(self, *, measure: str = "without_proactive",
              weighting: str = "count") -> pd.DataFrame:
        """Before / during / after table for one measure: areas × periods.

        Uses the sources of the "during" comparison for before and during and
        those of the "after" comparison for after (see ``counts``).
        """
        c = self.counts
        sel = c[(c["measure"] == measure) & (c["weighting"] == weighting)]
        rows = {}
        for area in AREAS:
            a = sel[sel["area"] == area]
            during = a[a["comparison"] == "during"]
            after = a[a["comparison"] == "after"]
            value = during.set_index("period")["value"]
            rows[area] = {
                "before": float(value.get("before", math.nan)),
                "during": float(value.get("during", math.nan)),
                "after": float(after.loc[after["period"] == "after", "value"].sum())
                if not after.empty else math.nan,
            }
        return pd.DataFrame.from_dict(rows, orient="index")[list(PERIODS)]


def evaluate_operation(
    occurrences: gpd.GeoDataFrame,
    operation: Operation,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    control: BaseGeometry | None = None,
    before: tuple[date, date] | None = None,
    after: tuple[date, date] | None = None,
    proactive_categories: Sequence[str] = PROACTIVE_CATEGORIES,
    control_scaling: str = "before",
    csps: gpd.GeoDataFrame | None = None,
) -> Evaluation:
    """Evaluate an operation: counts, WDQ and WDD, with a plain-English reading.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        Serious-violence occurrences (points in EPSG:27700) with
        ``occurred_from``, ``occurred_to``, ``sv_category``, ``harm_weight`` and
        ``source``; for example :func:`hotspot.app.analysis.serious_violence`.
        Rows with a ``quality_flags`` entry are left out.
    operation : Operation
        The operation; its area is the treated area, its period "during".
    buffer_m : float, keyword-only
        Width of the buffer ring, metres.
    control : shapely geometry, optional, keyword-only
        Control area; default the rest of the CSP outside the buffer.
    before, after : pair of datetime.date, optional, keyword-only
        Periods to compare with; default as long as the operation, next to it.
    proactive_categories : sequence of str, keyword-only
        Categories found mostly by police activity (default possession of
        weapons), reported apart.
    control_scaling : {"before", "none"}, keyword-only
        WDD control scale: ``"before"`` multiplies each control change by
        (area count before) / (control count before), so a large control area
        such as the rest of a CSP predicts the area's own level; ``"none"`` is
        Wheeler & Ratcliffe's unscaled test (for matched control areas).
    csps : geopandas.GeoDataFrame, optional, keyword-only
        CSP polygons for the default control.

    Returns
    -------
    Evaluation

    Notes
    -----
    A row is placed in a period only when its whole recorded window lies in it,
    so month-only rows (police.uk) count only in periods of whole months.
    Each comparison (before vs during; before vs after) uses only the sources
    with data in every month of both its periods: police.uk's August 2025 file,
    flagged implausible, leaves police.uk out of a comparison that needs it.
    With ``control_scaling="before"`` the WDD's local estimate equals minus the
    WDQ's gross effect (``T1 - T0 C1/C0``).

    References
    ----------
    Bowers & Johnson (2003); Wheeler & Ratcliffe (2018).
    """
    require_bng(occurrences, name="occurrences")
    if control_scaling not in ("before", "none"):
        raise ParameterError(
            f"control_scaling must be 'before' or 'none', got {control_scaling!r}")
    needed = {"occurred_from", "sv_category", "geometry"}
    missing = needed - set(occurrences.columns)
    if missing:
        raise ParameterError(
            f"occurrences must have columns {sorted(needed)}; "
            f"missing {sorted(missing)}")
    warnings: list[str] = []
    occ = occurrences
    bad = flagged(occ)
    if bad.any():
        warnings.append(f"{int(bad.sum())} rows with data-quality flags were "
                        "left out")
        occ = occ[~bad.to_numpy()]
    periods = default_periods(operation, before=before, after=after)
    areas = evaluation_areas(operation, buffer_m=buffer_m, control=control, csps=csps)
    coverage = source_coverage(occ, periods)

    occ = occ[occ.geometry.notna().to_numpy() & ~occ.geometry.is_empty.to_numpy()]
    x, y = occ.geometry.x.to_numpy(), occ.geometry.y.to_numpy()
    area_of = np.full(len(occ), "", dtype=object)
    for name, geom in (("control", areas.control), ("buffer", areas.buffer),
                       ("treated", areas.treated)):
        area_of[shapely.contains_xy(geom, x, y)] = name
    period_of = _placed_period(occ, periods).to_numpy()
    weight = (pd.to_numeric(occ["harm_weight"], errors="coerce").fillna(1.0)
              .to_numpy(dtype=float) if "harm_weight" in occ.columns
              else np.ones(len(occ)))
    category = occ["sv_category"].astype("string").fillna("").to_numpy()
    proactive = np.isin(category, list(proactive_categories))
    source = (occ["source"].astype(str).to_numpy() if "source" in occ.columns
              else np.full(len(occ), "all", dtype=object))
    frame = pd.DataFrame({"area": area_of, "period": period_of, "w": weight,
                          "proactive": proactive, "source": source})
    unplaced = int(((frame["area"] != "") & (frame["period"] == "straddles")).sum())
    n_synth = 0
    if "is_synthetic" in occ.columns:
        synthetic = occ["is_synthetic"].astype("boolean").fillna(False).to_numpy()
        counted = (frame["area"] != "") & frame["period"].isin(
            [p.name for p in periods])
        n_synth = int((synthetic & counted.to_numpy()).sum())
        if n_synth:
            warnings.append(
                f"{n_synth} of the {int(counted.sum())} occurrences counted are "
                "SYNTHETIC (the demonstration records extract): the results show "
                "how the method works, not what happened")

    masks = {"all": np.ones(len(frame), dtype=bool),
             "without_proactive": ~proactive, "proactive_only": proactive}
    count_rows: list[dict[str, Any]] = []
    result_rows: list[dict[str, Any]] = []
    for comparison, (p0, p1) in (("during", (periods[0], periods[1])),
                                 ("after", (periods[0], periods[2]))):
        ok = coverage[coverage["period"].isin([p0.name, p1.name])]
        complete = ok.groupby("source")["complete"].all()
        used = sorted(complete[complete].index)
        dropped = sorted(complete[~complete].index)
        for s in dropped:
            gaps = ok.loc[(ok["source"] == s) & ~ok["complete"], "missing_months"]
            warnings.append(
                f"{comparison} vs before: {s} rows left out, as {s} has no data for "
                f"{', '.join(m for m in gaps if m)}")
        if not used:
            warnings.append(f"{comparison} vs before: no source has data in every "
                            "month of both periods; comparison skipped")
            continue
        in_sources = frame["source"].isin(used).to_numpy()
        for measure, mask in masks.items():
            for weighting in WEIGHTINGS:
                sums, sq = _sums(frame[mask & in_sources], p0.name, p1.name,
                                 weighted=weighting == "harm")
                for (area, per), value in sums.items():
                    count_rows.append({"comparison": comparison,
                                       "sources": ",".join(used), "measure": measure,
                                       "weighting": weighting, "area": area,
                                       "period": per, "value": value})
                result_rows.append(_compare(
                    sums, sq, p0.name, p1.name, comparison=comparison,
                    measure=measure, weighting=weighting, sources=used,
                    scaling=control_scaling))
    counts = pd.DataFrame(count_rows, columns=["comparison", "sources", "measure",
                                               "weighting", "area", "period", "value"])
    results = pd.DataFrame(result_rows)
    evaluation = Evaluation(
        operation_name=operation.name, periods=periods, areas=areas, counts=counts,
        results=results, coverage=coverage, warnings=warnings,
        parameters={"buffer_m": areas.buffer_m, "control": areas.control_source,
                    "proactive_categories": list(proactive_categories),
                    "control_scaling": control_scaling},
    )
    if unplaced:
        warnings.append(
            f"{unplaced} occurrences in the three areas have a recorded date window "
            "that straddles a period boundary (month-only dates, for example) and "
            "are not counted")
    if len(np.unique(weight)) <= 1:
        warnings.append("harm weights are not available (every occurrence weighs "
                        "the same), so the harm-weighted results equal the counts")
    lengths = {p.days for p in periods}
    if len(lengths) > 1:
        warnings.append("the periods differ in length ("
                        + ", ".join(f"{p.name} {p.days} days" for p in periods)
                        + "); the WDD compares raw counts, so read it with care")
    evaluation.n_synthetic = n_synth
    evaluation.reading = describe(evaluation)
    evaluation.verdicts = verdicts(evaluation)
    for text in warnings:
        logger.warning("evaluation of %r: %s", operation.name, text)
    return evaluation


def _sums(
    frame: pd.DataFrame, p0: str, p1: str, *, weighted: bool
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    sums: dict[tuple[str, str], float] = {}
    sq: dict[tuple[str, str], float] = {}
    for area in AREAS:
        for per in (p0, p1):
            sel = frame[(frame["area"] == area) & (frame["period"] == per)]
            w = sel["w"].to_numpy(dtype=float) if weighted else np.ones(len(sel))
            sums[(area, per)] = float(w.sum())
            sq[(area, per)] = float((w**2).sum())
    return sums, sq


def _compare(
    sums: dict[tuple[str, str], float],
    sq: dict[tuple[str, str], float],
    p0: str,
    p1: str,
    *,
    comparison: str,
    measure: str,
    weighting: str,
    sources: list[str],
    scaling: str,
) -> dict[str, Any]:
    t = (sums[("treated", p0)], sums[("treated", p1)])
    b = (sums[("buffer", p0)], sums[("buffer", p1)])
    c = (sums[("control", p0)], sums[("control", p1)])
    row: dict[str, Any] = {
        "comparison": comparison, "measure": measure, "weighting": weighting,
        "sources": ",".join(sources), "T0": t[0], "T1": t[1], "B0": b[0],
        "B1": b[1], "C0": c[0], "C1": c[1],
    }
    if c[0] > 0 and c[1] > 0:
        q = wdq(t, buffer=b, control=c)
        row.update(success_measure=q.success_measure,
                   buffer_displacement=q.buffer_displacement, wdq=q.wdq,
                   gross_effect=q.gross_effect, net_effect=q.net_effect,
                   wdq_reading=q.reading)
    else:
        row.update(success_measure=math.nan, buffer_displacement=math.nan,
                   wdq=math.nan, gross_effect=math.nan, net_effect=math.nan,
                   wdq_reading="no control occurrences in a period: no WDQ")
    if scaling == "before" and c[0] > 0:
        s, sd = t[0] / c[0], b[0] / c[0]
    else:
        s, sd = 1.0, 1.0
    variances = {key: (sq[(key, p0)], sq[(key, p1)])
                 for key in ("treated", "buffer", "control")}
    d = wdd(t, control=c, buffer=b, control_scale=s, buffer_control_scale=sd,
            variances=variances)
    row.update(control_scale=s, buffer_control_scale=sd, wdd=d.estimate,
               wdd_se=d.se, wdd_local=d.local, wdd_local_se=d.local_se,
               wdd_displacement=d.displacement,
               wdd_displacement_se=d.displacement_se, z=d.z, p=d.p,
               detectable=d.detectable, small_counts=t[0] < SMALL_COUNT)
    return row


# ----------------------------------------------------------------------------
# the plain-English reading
# ----------------------------------------------------------------------------


def _change(before: float, after: float) -> str:
    if before == 0:
        return "from none" if after == 0 else f"from none to {after:g}"
    pct = 100.0 * (after - before) / before
    word = "up" if pct > 0 else "down"
    return f"{before:g} to {after:g} ({word} {abs(pct):.0f}%)" if pct else \
        f"{before:g} to {after:g} (no change)"


def verdicts(evaluation: Evaluation) -> dict[str, str]:
    """Return the one-line verdict of each comparison (during, after).

    On serious violence without proactive offences, counts (the headline
    measure of :func:`describe`), by :func:`hotspot.operations.verdict.verdict`.
    """
    res = evaluation.results
    out: dict[str, str] = {}
    if res.empty:
        return out
    for comparison in ("during", "after"):
        sel = res[(res["comparison"] == comparison)
                  & (res["measure"] == "without_proactive")
                  & (res["weighting"] == "count")]
        if not sel.empty:
            out[comparison] = verdict(sel.iloc[0].to_dict())
    return out


def describe(evaluation: Evaluation) -> list[str]:
    """Return the plain-English reading of an evaluation, headline first."""
    res = evaluation.results
    if res.empty:
        return ["No comparison could be made: see the warnings."]
    lines: list[str] = []
    before, during, after = evaluation.periods
    for comparison, period in (("during", during), ("after", after)):
        sel = res[(res["comparison"] == comparison)
                  & (res["measure"] == "without_proactive")
                  & (res["weighting"] == "count")]
        if sel.empty:
            continue
        r = sel.iloc[0]
        what = MEASURES["without_proactive"]
        head = (f"{period.name.capitalize()} ({period.start:%d %b %Y} to "
                f"{period.end:%d %b %Y}) against before ({before.start:%d %b %Y} to "
                f"{before.end:%d %b %Y}), {what}: operation area "
                f"{_change(r['T0'], r['T1'])}; buffer {_change(r['B0'], r['B1'])}; "
                f"control {_change(r['C0'], r['C1'])}.")
        lines.append(head)
        if r["T0"] < SMALL_COUNT:
            lines.append(
                f"Too few occurrences to conclude anything: {r['T0']:g} before and "
                f"{r['T1']:g} {comparison} in the operation area. Chance alone moves "
                "counts this small by a large share; treat the figures as a "
                "description, not as evidence that the operation did or did not work.")
            continue
        expected = r["T1"] - r["wdd_local"]
        direction = "fewer" if r["wdd_local"] < 0 else "more"
        lines.append(
            f"Given the control area's trend, about {expected:.0f} were expected in "
            f"the operation area; {r['T1']:g} were recorded, {abs(r['wdd_local']):.0f} "
            f"{direction} than expected.")
        if math.isfinite(r["p"]) and r["p"] < 0.05:
            verdict = ("a fall unlikely to be chance alone" if r["wdd"] < 0 else
                       "a rise unlikely to be chance alone")
        else:
            verdict = (f"a change that could well be chance (the test could only "
                       f"tell apart a change of about {r['detectable']:.0f} "
                       "occurrences): this does not show the operation had no "
                       "effect, only that the counts cannot tell")
        lines.append(
            f"Counting the buffer too, the weighted displacement difference is "
            f"{r['wdd']:+.1f} (z = {r['z']:.2f}, p = {r['p']:.3f}): {verdict}.")
        lines.append(wdq_sentence(r))
        if min(r["C0"], r["C1"]) < SMALL_COUNT:
            lines.append(f"The control area holds few occurrences ({r['C0']:g} and "
                         f"{r['C1']:g}), so its trend is itself uncertain.")
        harm = res[(res["comparison"] == comparison)
                   & (res["measure"] == "without_proactive")
                   & (res["weighting"] == "harm")]
        if not harm.empty and (harm.iloc[0]["T0"], harm.iloc[0]["T1"]) != (
                r["T0"], r["T1"]):
            h = harm.iloc[0]
            lines.append(f"Weighted by harm: WDD {h['wdd']:+.1f} (z = {h['z']:.2f}, "
                         f"p = {h['p']:.3f}).")
    pro = res[(res["comparison"] == "during") & (res["measure"] == "proactive_only")
              & (res["weighting"] == "count")]
    if not pro.empty:
        r = pro.iloc[0]
        cats = ", ".join(c.replace("_", " ") for c in
                         evaluation.parameters.get("proactive_categories", []))
        lines.append(
            f"Proactive offences ({cats}) are mostly found by police activity such "
            "as stop and search, so an operation tends to raise their count; they "
            "are left out of the lines above and shown apart: in the operation area "
            f"{_change(r['T0'], r['T1'])} during the operation. Results with them "
            "included are in the 'all serious violence' rows.")
    return lines

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG, require_bng
from hotspot.errors import ParameterError
from hotspot.ingest.quality import flagged
from hotspot.operations.model import Operation

logger = logging.getLogger(__name__)

#: Offences found mostly by police activity: an operation raises their count.
PROACTIVE_CATEGORIES: tuple[str, ...] = ("possession_of_weapons",)
DEFAULT_BUFFER_M = 400.0
#: Below this many occurrences in the operation area before, say nothing firm.
SMALL_COUNT = 10
MEASURES: dict[str, str] = {
    "without_proactive": "serious violence without possession of weapons",
    "all": "all serious violence",
    "proactive_only": "possession of weapons only",
}
WEIGHTINGS: tuple[str, ...] = ("count", "harm")
AREAS: tuple[str, ...] = ("treated", "buffer", "control")
PERIODS: tuple[str, ...] = ("before", "during", "after")


# ----------------------------------------------------------------------------
# the statistics
# ----------------------------------------------------------------------------


def _pair(values: Sequence[float], *, name: str) -> tuple[float, float]:
    try:
        before, after = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name} must be a pair (before, after) of numbers, got {values!r}"
        ) from None
    if not (math.isfinite(before) and math.isfinite(after)) or min(before, after) < 0:
        raise ParameterError(
            f"{name} must hold finite counts >= 0, got ({before}, {after})"
        )
    return before, after


@dataclass(frozen=True)
class WDQResult:
    """Weighted Displacement Quotient and its companions (Bowers & Johnson 2003).

    Attributes
    ----------
    success_measure : float
        ``A1/C1 - A0/C0``; negative when the treated area did better than the
        control.
    buffer_displacement : float
        ``B1/C1 - B0/C0``; positive suggests displacement into the buffer,
        negative diffusion of benefit.
    wdq : float
        ``buffer_displacement / success_measure``; NaN when the success measure
        is 0.
    gross_effect : float
        ``A0 * C1/C0 - A1``: occurrences (or harm) prevented in the treated area
        relative to the control trend (negative: more than expected).
    buffer_effect : float
        ``B0 * C1/C0 - B1``: the same in the buffer (negative: displacement).
    net_effect : float
        ``gross_effect + buffer_effect``.
    reading : str
        Bowers & Johnson's reading of the quotient, in plain English.
    """

    success_measure: float
    buffer_displacement: float
    wdq: float
    gross_effect: float
    buffer_effect: float
    net_effect: float
    reading: str


def wdq(
    treated: Sequence[float],
    *,
    buffer: Sequence[float],
    control: Sequence[float],
) -> WDQResult:
    """Weighted Displacement Quotient, success measure, gross and net effects.

    Parameters
    ----------
    treated : pair of float
        ``(A0, A1)``: occurrences (or harm) in the treated area before and after.
    buffer : pair of float, keyword-only
        ``(B0, B1)`` in the buffer area.
    control : pair of float, keyword-only
        ``(C0, C1)`` in the control area; both must be above zero.

    Returns
    -------
    WDQResult

    Raises
    ------
    ParameterError
        When a pair is malformed or a control count is zero.

    Notes
    -----
    With ``A``, ``B``, ``C`` the treated, buffer and control counts and 0, 1
    before and after::

        SM  = A1/C1 - A0/C0             (success measure; < 0 is success)
        BDM = B1/C1 - B0/C0             (buffer displacement measure)
        WDQ = BDM / SM
        gross effect = A0 C1/C0 - A1
        net effect   = gross effect + (B0 C1/C0 - B1)

    Reading when SM < 0: WDQ > 1 diffusion of benefit greater than the direct
    effect; 0 < WDQ <= 1 diffusion smaller than it; WDQ = 0 neither
    displacement nor diffusion; -1 <= WDQ < 0 displacement smaller than the
    direct effect (a net benefit); WDQ < -1 displacement greater than the
    direct effect. When SM >= 0 the treated area did no better than the
    control and the quotient is not interpreted.

    References
    ----------
    Bowers & Johnson (2003), J. Quant. Criminol. 19(3), 275-301.
    """
    a0, a1 = _pair(treated, name="treated")
    b0, b1 = _pair(buffer, name="buffer")
    c0, c1 = _pair(control, name="control")
    if c0 == 0 or c1 == 0:
        raise ParameterError(
            f"control must have occurrences in both periods (the WDQ divides by "
            f"them), got ({c0:g}, {c1:g}); choose a larger control area"
        )
    sm = a1 / c1 - a0 / c0
    bdm = b1 / c1 - b0 / c0
    quotient = bdm / sm if sm != 0 else math.nan
    gross = a0 * c1 / c0 - a1
    buffer_effect = b0 * c1 / c0 - b1
    return WDQResult(
        success_measure=sm,
        buffer_displacement=bdm,
        wdq=quotient,
        gross_effect=gross,
        buffer_effect=buffer_effect,
        net_effect=gross + buffer_effect,
        reading=_wdq_reading(sm, quotient),
    )


def _wdq_reading(sm: float, quotient: float) -> str:
    if sm >= 0:
        return ("the operation area did no better than the control area (success "
                "measure >= 0), so the quotient is not interpreted")
    if quotient > 1:
        return "diffusion of benefit into the buffer, greater than the direct effect"
    if quotient > 0:
        return "some diffusion of benefit into the buffer, smaller than the direct "\
            "effect"
    if quotient == 0:
        return "neither displacement nor diffusion of benefit"
    if quotient >= -1:
        return "some displacement into the buffer, smaller than the direct effect "\
            "(a net benefit)"
    return "displacement into the buffer greater than the direct effect (a net loss)"


@dataclass(frozen=True)
class WDDResult:
    """Weighted Displacement Difference (Wheeler & Ratcliffe 2018).

    Attributes
    ----------
    local, local_se : float
        ``dT - s dC``: change in the treated area beyond the (scaled) control
        change, and its standard error. Negative: fewer than expected.
    displacement, displacement_se : float
        ``dD - s_d dCd`` for the buffer, and its standard error.
    estimate, se : float
        ``local + displacement`` and its standard error.
    z, p : float
        ``estimate / se`` and the two-sided normal p-value.
    detectable : float
        ``1.96 * se``: the smallest change (in occurrences) the test could
        tell from chance at the 5% level.
    """

    local: float
    local_se: float
    displacement: float
    displacement_se: float
    estimate: float
    se: float
    z: float
    p: float
    detectable: float


def wdd(
    treated: Sequence[float],
    *,
    control: Sequence[float],
    buffer: Sequence[float] | None = None,
    buffer_control: Sequence[float] | None = None,
    control_scale: float = 1.0,
    buffer_control_scale: float = 1.0,
    variances: Mapping[str, Sequence[float]] | None = None,
) -> WDDResult:
    """Weighted Displacement Difference with its Poisson variance, z and p.

    Parameters
    ----------
    treated : pair of float
        ``(T0, T1)``: counts in the treated area before and after.
    control : pair of float, keyword-only
        ``(C0, C1)`` in the control area of the treated area.
    buffer : pair of float, optional, keyword-only
        ``(D0, D1)`` in the displacement (buffer) area; ``None`` leaves
        displacement out (the estimate is then the local one).
    buffer_control : pair of float, optional, keyword-only
        Control counts for the buffer. ``None``: the buffer shares ``control``
        (its change then enters twice and the variance accounts for that).
    control_scale, buffer_control_scale : float, keyword-only
        Factors applied to the control changes, for a control area of another
        size (for example ``T0 / C0``, which makes the control predict the
        treated area's "before" count). 1 is Wheeler & Ratcliffe's test.
    variances : dict, optional, keyword-only
        Variances of the counts, keyed ``"treated"``, ``"control"``,
        ``"buffer"``, ``"buffer_control"`` (pairs). By default each equals its
        count (Poisson). For harm-weighted sums pass the sums of squared weights
        (the variance of a compound Poisson sum).

    Returns
    -------
    WDDResult

    Notes
    -----
    ``WDD = (T1 - T0) - s (C1 - C0) + (D1 - D0) - s_d (Cd1 - Cd0)`` with
    variance ``T0 + T1 + s^2 (C0 + C1) + D0 + D1 + s_d^2 (Cd0 + Cd1)`` when the
    counts are independent Poisson; when the buffer shares the control the
    control terms combine into ``(s + s_d)^2 (C0 + C1)``. ``z = WDD / sqrt(var)``,
    ``p = 2 (1 - Phi(|z|))``. Scales are treated as fixed.

    References
    ----------
    Wheeler & Ratcliffe (2018), Crime Science 7:11.
    """
    t0, t1 = _pair(treated, name="treated")
    c0, c1 = _pair(control, name="control")
    if buffer is None:
        if buffer_control is not None:
            raise ParameterError("buffer_control needs buffer counts as well")
        buffer, buffer_control_scale = (0.0, 0.0), 0.0
    d0, d1 = _pair(buffer, name="buffer")
    shared = buffer_control is None
    cd0, cd1 = (c0, c1) if shared else _pair(buffer_control or (),
                                             name="buffer_control")
    for name, value in (("control_scale", control_scale),
                        ("buffer_control_scale", buffer_control_scale)):
        if not math.isfinite(value) or value < 0:
            raise ParameterError(f"{name} must be a finite number >= 0, got {value!r}")
    var = {"treated": (t0, t1), "control": (c0, c1), "buffer": (d0, d1),
           "buffer_control": (cd0, cd1)}
    for key, pair in (variances or {}).items():
        if key not in var:
            raise ParameterError(
                f"variances keys must be among {sorted(var)}, got {key!r}")
        var[key] = _pair(pair, name=f"variances[{key!r}]")
    if shared:
        var["buffer_control"] = var["control"]
    s, sd = float(control_scale), float(buffer_control_scale)
    local = (t1 - t0) - s * (c1 - c0)
    displacement = (d1 - d0) - sd * (cd1 - cd0)
    v_t, v_c = sum(var["treated"]), sum(var["control"])
    v_d, v_cd = sum(var["buffer"]), sum(var["buffer_control"])
    var_local = v_t + s**2 * v_c
    var_disp = v_d + sd**2 * v_cd
    var_total = v_t + v_d + ((s + sd) ** 2 * v_c if shared
                             else s**2 * v_c + sd**2 * v_cd)
    estimate = local + displacement
    se = math.sqrt(var_total)
    z = estimate / se if se > 0 else math.nan
    p = float(2 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan
    return WDDResult(
        local=local, local_se=math.sqrt(var_local), displacement=displacement,
        displacement_se=math.sqrt(var_disp), estimate=estimate, se=se, z=z, p=p,
        detectable=1.959963984540054 * se,
    )


# ----------------------------------------------------------------------------
# areas and periods
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A named run of whole days, ``start`` and ``end`` inclusive."""

    name: str
    start: date
    end: date

    @property
    def days(self) -> int:
        """Length in days."""
        return (self.end - self.start).days + 1

    def months(self) -> list[str]:
        """Months (``YYYY-MM``) the period touches."""
        return [str(p) for p in pd.period_range(self.start, self.end, freq="M")]

    def label(self) -> str:
        """E.g. ``"before (2025-04-01 to 2025-05-31)"``."""
        return f"{self.name} ({self.start:%Y-%m-%d} to {self.end:%Y-%m-%d})"


def default_periods(
    operation: Operation,
    *,
    before: tuple[date, date] | None = None,
    after: tuple[date, date] | None = None,
) -> tuple[Period, Period, Period]:
    """Before, during and after periods; by default as long as the operation.

    The before period ends the day before the operation starts; the after period
    starts the day after it ends. When the operation covers whole calendar
    months, so do they (so month-only police.uk rows can be placed).
    """
    start, end = operation.period_start, operation.period_end
    during = Period("during", start, end)
    whole_months = start.day == 1 and (end + timedelta(days=1)).day == 1
    if before is None:
        if whole_months:
            n = _month_span(start, end)
            b_start = (pd.Timestamp(start) - pd.DateOffset(months=n)).date()
            before = (b_start, start - timedelta(days=1))
        else:
            before = (start - timedelta(days=during.days), start - timedelta(days=1))
    if after is None:
        if whole_months:
            n = _month_span(start, end)
            a_end = (pd.Timestamp(end + timedelta(days=1))
                     + pd.DateOffset(months=n) - pd.Timedelta(days=1)).date()
            after = (end + timedelta(days=1), a_end)
        else:
            after = (end + timedelta(days=1), end + timedelta(days=during.days))
    periods = (Period("before", *before), during, Period("after", *after))
    for p in periods:
        if p.end < p.start:
            raise ParameterError(f"{p.name} period ends before it starts: {p.label()}")
    if periods[0].end >= start or periods[2].start <= end:
        raise ParameterError(
            "before must end before the operation starts and after must start after "
            f"it ends; got {periods[0].label()} and {periods[2].label()}")
    return periods


def _month_span(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


@dataclass(frozen=True)
class EvaluationAreas:
    """Treated area, buffer ring and control area (EPSG:27700)."""

    treated: BaseGeometry
    buffer: BaseGeometry
    control: BaseGeometry
    buffer_m: float
    control_source: str

    def frame(self) -> gpd.GeoDataFrame:
        """One row per area: ``area``, ``description``, ``area_km2``, geometry."""
        descriptions = {
            "treated": "operation area",
            "buffer": f"buffer ring, {self.buffer_m:.0f} m",
            "control": self.control_source,
        }
        geoms = [self.treated, self.buffer, self.control]
        return gpd.GeoDataFrame(
            {"area": list(AREAS), "description": [descriptions[a] for a in AREAS],
             "area_km2": [g.area / 1e6 for g in geoms]},
            geometry=geoms, crs=BNG,
        )


def evaluation_areas(
    operation: Operation,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    control: BaseGeometry | None = None,
    csps: gpd.GeoDataFrame | None = None,
) -> EvaluationAreas:
    """Build the buffer ring and the control area of an operation.

    Parameters
    ----------
    operation : Operation
        Its ``area`` is the treated area.
    buffer_m : float, keyword-only
        Width of the buffer ring in metres (default 400 m, a few streets).
    control : shapely geometry, optional, keyword-only
        Control area (EPSG:27700); the treated area and buffer are cut out of
        it. Default: the rest of the operation's CSP.
    csps : geopandas.GeoDataFrame, optional, keyword-only
        CSP polygons (default :func:`hotspot.boundaries.load_csps`).

    Raises
    ------
    ParameterError
        When ``buffer_m`` is not positive, the CSP is unknown, or the control
        area is empty once the treated area and buffer are cut out.
    """
    if not math.isfinite(buffer_m) or buffer_m <= 0:
        raise ParameterError(f"buffer_m must be a distance above 0 metres, got "
                             f"{buffer_m!r}")
    treated = operation.area
    outer = treated.buffer(buffer_m)
    ring = outer.difference(treated)
    if control is None:
        if csps is None:
            from hotspot.boundaries import load_csps

            csps = load_csps()
        require_bng(csps, name="csps")
        row = csps[csps["csp_code"] == operation.csp_code]
        if row.empty:
            raise ParameterError(
                f"operation csp_code {operation.csp_code!r} is not a CSP code; "
                f"known codes are {sorted(csps['csp_code'])}")
        base = shapely.union_all(row.geometry.to_numpy())
        source = (f"rest of {operation.csp_name or operation.csp_code} outside "
                  "the buffer")
    else:
        base = control
        source = "control area given"
        if control.intersects(outer):
            logger.info("the control area given overlaps the operation area or its "
                        "buffer; the overlap is left out of the control")
            source = "control area given (overlap with operation area and buffer "\
                "left out)"
    ctrl = base.difference(outer)
    if ctrl.is_empty or ctrl.area <= 0:
        raise ParameterError(
            "control is empty once the operation area and its buffer are cut out; "
            "give a larger control area or a narrower buffer_m")
    return EvaluationAreas(treated=treated, buffer=ring, control=ctrl,
                           buffer_m=float(buffer_m), control_source=source)


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
    month = pd.to_datetime(occurrences["occurred_from"]).dt.strftime("%Y-%m")
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
    evaluation.reading = describe(evaluation)
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
               wdd_se=d.se, wdd_local=d.local, wdd_local_se=d.local_se, z=d.z, p=d.p,
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
        if math.isfinite(r["wdq"]):
            net = float(r["net_effect"])
            net_text = (f"about {net:.0f} occurrences prevented" if net >= 0 else
                        f"about {-net:.0f} more occurrences than expected")
            lines.append(f"Weighted displacement quotient {r['wdq']:.2f}: "
                         f"{r['wdq_reading']}; net effect, buffer included: "
                         f"{net_text}.")
        else:
            lines.append(f"Weighted displacement quotient: {r['wdq_reading']}.")
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

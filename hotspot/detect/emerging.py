"""Emerging hot spots: Gi* per period and a Mann-Kendall trend per cell.

Each period (week, month or quarter) gets its own Gi* on the same study cells and
weights (normal approximation, Benjamini-Hochberg applied once per study area and
period). A cell is **hot** in a period when its z is positive and its p (after the
FDR adjustment when on) is below ``alpha``; **cold** when z is negative and p is
below ``alpha``. The Mann-Kendall test on the cell's series of z-scores gives the
trend (significant when its p is below ``alpha``). Undefined z (a period with no
variation in the study area) counts as neither hot nor cold and as 0 in the trend.

Missing periods. A period is **missing** when no usable occurrence falls in it
(no data at all, as in the 2024 gap of the police.uk files, or only rows with
data-quality flags, as the corrupt August 2025) or when the caller names it
(``missing=``, for example the months :func:`missing_periods` finds per source).
A missing period is left out of the series, never counted as a period of zero
crime: it has no Gi*, it is neither hot nor cold, the trend runs over the real
periods only, T below counts real periods and "final" is the last real one. The
result lists the missing periods.

Categories (after ESRI's Emerging Hot Spot Analysis), with T periods, "final" the
last period, and "90%" meaning at least 90% of the T periods. Hot patterns are
tested first for cells hot in the final period, then cold patterns for cells
cold in the final period (the same rules with hot and cold exchanged and the
trend reversed), then "historical":

- **new**: hot in the final period only (never hot before).
- **consecutive**: one uninterrupted run of at least two hot periods ending in the
  final period, never hot before the run, hot in less than 90% of periods.
- **intensifying**: hot in 90% of periods including the final one; significant
  upward trend in z (for cold spots: significant downward trend).
- **persistent**: hot in 90% of periods including the final one; no significant
  trend.
- **diminishing**: hot in 90% of periods including the final one; significant
  downward trend in z (for cold spots: upward).
- **sporadic**: hot in the final period, hot in less than 90% of periods, on and
  off (not new, not consecutive), never cold.
- **oscillating**: hot in the final period, hot in less than 90% of periods, not
  new or consecutive, and cold in at least one earlier period.
- **historical**: not hot in the final period, hot in at least 90% of periods.
- **no pattern**: none of the above (including cells never significant).

References
----------
ESRI. *How Emerging Hot Spot Analysis works*. ArcGIS Pro documentation.

Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13, 245-259.

Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. London: Griffin.

Getis & Ord (1992); Ord & Getis (1995); Benjamini & Hochberg (1995).

Why this module is long: one method, emerging hot spots (Gi* per period,
Mann-Kendall per cell, the category rules and missing periods), kept whole so
the category rules sit beside the statistics they read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtr
from tqdm.auto import tqdm

from hotspot.detect.gistar import (
    check_alpha,
    check_k,
    fdr_bh,
    gi_star_normal,
    p_two_sided,
    ring_weights,
)
from hotspot.errors import ParameterError
from hotspot.grid import harm_total, points_to_cells
from hotspot.ingest.quality import flagged

logger = logging.getLogger(__name__)

Period = Literal["week", "month", "quarter"]
PERIODS: tuple[str, ...] = ("week", "month", "quarter")
#: pandas frequencies of the periods (weeks run Monday to Sunday).
PERIOD_FREQ: dict[str, str] = {"week": "W-SUN", "month": "M", "quarter": "Q"}
#: Fewest periods for a trustworthy trend (ESRI asks for at least 10 time steps).
MIN_PERIODS = 10
#: Share of periods that makes a spot intensifying, persistent, diminishing or
#: historical.
PERSISTENT_SHARE = 0.9

CATEGORIES: tuple[str, ...] = tuple(
    f"{kind} {side} spot"
    for side in ("hot", "cold")
    for kind in (
        "new", "consecutive", "intensifying", "persistent", "diminishing",
        "sporadic", "oscillating", "historical",
    )
) + ("no pattern",)


@dataclass(frozen=True)
class PeriodChoice:
    """The time step of a trend analysis and why it was chosen."""

    period: str
    n_periods: int
    automatic: bool
    reason: str


@dataclass
class EmergingOutput:
    """What :func:`emerging_hot_spots` returns.

    Attributes
    ----------
    cells : geopandas.GeoDataFrame
        The study cells with totals, trend and ``category``.
    periods : list of str
        Labels of the periods, oldest first (``2025-01``, ``2025Q1``, ...).
    z : ndarray
        Gi* z-scores, cells x periods (NaN where undefined).
    hot, cold : ndarray of bool
        Significant hot and cold spots, cells x periods (False in missing ones).
    choice : PeriodChoice
        The period and the reason it was chosen.
    warnings : list of str
        Warnings for the user (few periods, missing periods).
    missing_periods : list of str
        Labels of the periods left out as missing (no usable data), oldest first.
    """

    cells: gpd.GeoDataFrame
    periods: list[str]
    z: npt.NDArray[np.float64]
    hot: npt.NDArray[np.bool_]
    cold: npt.NDArray[np.bool_]
    choice: PeriodChoice
    warnings: list[str] = field(default_factory=list)
    missing_periods: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------
# periods
# ----------------------------------------------------------------------------


def _n_periods(start: pd.Timestamp, end: pd.Timestamp, period: str) -> int:
    freq = PERIOD_FREQ[period]
    return int(end.to_period(freq).ordinal - start.to_period(freq).ordinal) + 1


def choose_period(
    occurred: pd.Series,
    *,
    precision: pd.Series | None = None,
    period: str | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> PeriodChoice:
    """Choose the time step of a trend analysis, or check the one asked for.

    Parameters
    ----------
    occurred : pandas.Series of datetime64
        When each occurrence happened (``occurred_from``).
    precision : pandas.Series of str, optional, keyword-only
        ``date_precision`` of each occurrence (minute | day | month).
    period : {"week", "month", "quarter"} or None, keyword-only
        The step asked for; ``None`` chooses automatically.
    start, end : pandas.Timestamp, optional, keyword-only
        The analysis period (default: the first and last occurrence).

    Returns
    -------
    PeriodChoice

    Raises
    ------
    ParameterError
        When ``period`` is not one of the three, when weeks are asked for while
        some occurrences are known to the month only, or when there are no dates.

    Notes
    -----
    Automatic rule: the coarsest step (quarter, then month, then week) that gives
    at least 10 periods over the date range, since the Mann-Kendall trend needs
    about 10 points; weeks are never chosen when any date is known to the month
    only. When no step reaches 10 periods, the finest allowed step is used and a
    warning says the trend test has little power.
    """
    dates = pd.to_datetime(occurred).dropna()
    month_only = precision is not None and bool(
        (precision.astype("string").fillna("") == "month").any()
    )
    return _choose_step(dates.min() if len(dates) else None,
                        dates.max() if len(dates) else None, month_only=month_only,
                        period=period, start=start, end=end)


def _choose_step(
    first: pd.Timestamp | None,
    last: pd.Timestamp | None,
    *,
    month_only: bool,
    period: str | None,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> PeriodChoice:
    """Return :func:`choose_period`'s choice from the first and last dates."""
    if period is not None and period not in PERIODS:
        raise ParameterError(f"period must be one of {PERIODS} or None, got {period!r}")
    if start is None or end is None:
        if first is None or last is None:
            raise ParameterError("occurrences have no dates: cannot choose a period")
        start = first if start is None else start
        end = last if end is None else end
    if end < start:
        raise ParameterError(f"end ({end:%Y-%m-%d}) is before start ({start:%Y-%m-%d})")
    if period == "week" and month_only:
        raise ParameterError(
            "period 'week' needs dates known to the day, but some occurrences are "
            "known to the month only (date_precision == 'month', as police.uk "
            "data); use period 'month' or 'quarter'"
        )
    if period is not None:
        n = _n_periods(start, end, period)
        return PeriodChoice(period, n, False, f"{period} asked for ({n} periods)")
    allowed = ("quarter", "month") if month_only else ("quarter", "month", "week")
    for candidate in allowed:
        n = _n_periods(start, end, candidate)
        if n >= MIN_PERIODS:
            why = (
                f"{candidate}: the coarsest step giving at least {MIN_PERIODS} "
                f"periods ({n}) from {start:%Y-%m-%d} to {end:%Y-%m-%d}"
            )
            if month_only and candidate != "week":
                why += "; weeks not allowed because some dates are month-only"
            return PeriodChoice(candidate, n, True, why)
    finest = allowed[-1]
    n = _n_periods(start, end, finest)
    why = (
        f"{finest}: the finest step allowed"
        + (" (dates known to the month only)" if month_only else "")
        + f", giving only {n} periods from {start:%Y-%m-%d} to {end:%Y-%m-%d} "
        f"(fewer than {MIN_PERIODS}: the trend test has little power)"
    )
    return PeriodChoice(finest, n, True, why)


# ----------------------------------------------------------------------------
# Mann-Kendall
# ----------------------------------------------------------------------------


def mann_kendall(
    series: npt.ArrayLike, *, chunk_rows: int = 20_000
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mann-Kendall trend test on each row of ``series`` (vectorised).

    Parameters
    ----------
    series : array_like, shape (n, T)
        One time series per row, oldest first; NaN is not allowed.
    chunk_rows : int, keyword-only
        Rows processed at once (memory is ``chunk_rows * T * T`` booleans).

    Returns
    -------
    s, z, p : ndarray
        ``S = sum_{i<j} sign(x_j - x_i)``; ``z = (S - sign(S)) / sqrt(Var S)`` with
        the continuity correction; ``p`` two-sided from the normal. With
        ``Var S = [T(T-1)(2T+5) - sum_t t(t-1)(2t+5)] / 18`` over groups of ``t``
        tied values. ``z = 0`` and ``p = 1`` where ``Var S = 0`` (constant rows).

    References
    ----------
    Mann (1945); Kendall (1975). Equal to ``pymannkendall.original_test``.
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 2:
        raise ParameterError(f"series must be 2-D (cells x periods), got {x.ndim}-D")
    if np.isnan(x).any():
        raise ParameterError("series must not contain NaN")
    n_rows, t = x.shape
    s = np.zeros(n_rows)
    ties = np.zeros(n_rows)
    iu, ju = np.triu_indices(t, k=1)
    for lo in range(0, n_rows, chunk_rows):
        block = x[lo : lo + chunk_rows]
        s[lo : lo + chunk_rows] = np.sign(block[:, ju] - block[:, iu]).sum(axis=1)
        equal = (block[:, :, None] == block[:, None, :]).sum(axis=2)  # tie size
        ties[lo : lo + chunk_rows] = ((equal - 1) * (2 * equal + 5)).sum(axis=1)
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    p = np.where(var > 0, 2.0 * ndtr(-np.abs(z)), 1.0)
    return s, z, p


# ----------------------------------------------------------------------------
# classification
# ----------------------------------------------------------------------------


def _patterns(
    hot: npt.NDArray[np.bool_],
    cold: npt.NDArray[np.bool_],
    up: npt.NDArray[np.bool_],
    down: npt.NDArray[np.bool_],
    side: str,
) -> npt.NDArray[np.object_]:
    """Categories of cells for one side (hot or cold); None where no pattern."""
    n, t = hot.shape
    n_hot = hot.sum(axis=1)
    share = n_hot / t
    final = hot[:, -1]
    not_hot = ~hot
    last_off = np.where(
        not_hot.any(axis=1), t - 1 - np.argmax(not_hot[:, ::-1], axis=1), -1
    )
    run = t - 1 - last_off  # length of the run of hot periods ending in the final one
    often = share >= PERSISTENT_SHARE
    new = final & (n_hot == 1)
    consecutive = final & ~new & (run >= 2) & (n_hot == run) & ~often
    steady = final & often
    intensifying = steady & up
    diminishing = steady & down
    persistent = steady & ~up & ~down
    rest = final & ~often & ~new & ~consecutive
    cold_before = cold[:, :-1].any(axis=1)
    oscillating = rest & cold_before
    sporadic = rest & ~cold_before
    historical = ~final & often
    out = np.full(n, None, dtype=object)
    assigned = np.zeros(n, dtype=bool)
    for mask, kind in (
        (new, "new"), (consecutive, "consecutive"), (intensifying, "intensifying"),
        (persistent, "persistent"), (diminishing, "diminishing"),
        (sporadic, "sporadic"), (oscillating, "oscillating"),
        (historical, "historical"),
    ):
        out[mask & ~assigned] = f"{kind} {side} spot"
        assigned |= mask
    return out


def classify_trends(
    hot: npt.ArrayLike,
    cold: npt.ArrayLike,
    trend_z: npt.ArrayLike,
    trend_p: npt.ArrayLike,
    *,
    alpha: float = 0.05,
) -> npt.NDArray[np.object_]:
    """Emerging hot/cold spot category of each cell (rules in the module docstring).

    Parameters
    ----------
    hot, cold : array_like of bool, shape (n, T)
        Significant hot and cold spot in each period, oldest first.
    trend_z, trend_p : array_like, shape (n,)
        Mann-Kendall z and two-sided p of the cell's Gi* z-scores.
    alpha : float, keyword-only
        Significance level of the trend.

    Returns
    -------
    ndarray of str
        One of :data:`CATEGORIES` per cell.
    """
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    if hot.shape != cold.shape or hot.ndim != 2 or hot.shape[1] == 0:
        raise ParameterError(
            f"hot and cold must be equal 2-D (cells x periods) arrays with at least "
            f"one period, got {hot.shape} and {cold.shape}"
        )
    if np.any(hot & cold):
        raise ParameterError("a cell cannot be hot and cold in the same period")
    alpha = check_alpha(alpha)
    tz = np.asarray(trend_z, dtype=np.float64)
    significant = np.asarray(trend_p, dtype=np.float64) < alpha
    up = significant & (tz > 0)
    down = significant & (tz < 0)
    hot_side = _patterns(hot, cold, up, down, "hot")
    # cold spots: the same rules with hot and cold exchanged and the trend reversed
    cold_side = _patterns(cold, hot, down, up, "cold")
    final_hot = hot[:, -1]
    final_cold = cold[:, -1]
    out = np.full(hot.shape[0], "no pattern", dtype=object)
    historical_hot = np.array([c == "historical hot spot" for c in hot_side])
    historical_cold = np.array([c == "historical cold spot" for c in cold_side])
    out[historical_cold] = "historical cold spot"
    out[historical_hot] = "historical hot spot"
    out[final_cold] = cold_side[final_cold]
    out[final_hot] = hot_side[final_hot]
    return out


def missing_periods(
    occurrences: pd.DataFrame,
    *,
    period: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    sources: Sequence[str] | None = None,
) -> list[str]:
    """Periods in which a source that was reporting has no usable row.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        The occurrence table *before* filtering (every crime type), with
        ``occurred_from``, ``source`` and ``quality_flags``.
    period : {"week", "month", "quarter"}, keyword-only
    start, end : pandas.Timestamp, keyword-only
        The analysis range.
    sources : sequence of str, optional, keyword-only
        Sources to check (default every source in the table).

    Returns
    -------
    list of str
        Period labels, oldest first, in which some source has rows in the table
        before and after but no unflagged row in the period itself (the flagged
        August 2025 of police.uk; the 2024 gap between two police.uk downloads).
    """
    if period not in PERIODS:
        raise ParameterError(f"period must be one of {PERIODS}, got {period!r}")
    freq = PERIOD_FREQ[period]
    labels = pd.period_range(start.to_period(freq), end.to_period(freq), freq=freq)
    when = pd.to_datetime(occurrences["occurred_from"])
    clean = ~flagged(occurrences).to_numpy()
    src = occurrences["source"].astype("string").fillna("")
    out: set[str] = set()
    for name in sources or sorted(set(src.dropna())):
        mine = (src == name).to_numpy()
        per = when[mine & clean].dt.to_period(freq)
        if per.empty:
            continue
        have = set(per.astype(str))
        first, last = per.min(), per.max()
        out |= {str(p) for p in labels if first < p < last and str(p) not in have}
    return [str(p) for p in labels if str(p) in out]


@dataclass
class PeriodCounts:
    """Occurrences grouped by cell and day: what emerging hot spots count.

    From rows (:func:`period_counts_of_rows`, each row its own group) or from a
    store in DuckDB (:meth:`hotspot.ingest.query.StoreQuery.period_counts`).

    Attributes
    ----------
    cell : numpy.ndarray of str
        H3 cell of each group (None: no cell).
    when : numpy.ndarray of datetime64
        The groups' ``occurred_from`` (a row's own, or its day: a period holds
        whole days).
    usable : numpy.ndarray of bool
        False for rows with a data-quality flag (never counted).
    n, harm : numpy.ndarray of float
        Rows in the group and their summed harm weight (missing counts 0).
    first, last : pandas.Timestamp or None
        The first and last ``occurred_from`` of every row, flagged ones too.
    month_only : bool
        Whether any row's date is known to the month only.
    """

    cell: npt.NDArray[np.object_]
    when: npt.NDArray[np.datetime64]
    usable: npt.NDArray[np.bool_]
    n: npt.NDArray[np.float64]
    harm: npt.NDArray[np.float64]
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    month_only: bool


def period_counts_of_rows(points: gpd.GeoDataFrame, *, resolution: int,
                          weight: str | None = None) -> PeriodCounts:
    """Return the rows of ``points`` as :class:`PeriodCounts` (one group per row)."""
    if "occurred_from" not in points.columns:
        raise ParameterError("points must have an 'occurred_from' column")
    if weight is not None and weight not in points.columns:
        raise ParameterError(
            f"column 'harm' needs weight naming a column of points, got {weight!r}")
    occurred = pd.to_datetime(points["occurred_from"])
    precision = points.get("date_precision", None)
    month_only = precision is not None and bool(
        (precision.astype("string").fillna("") == "month").any())
    dates = occurred.dropna()
    harm = (np.zeros(len(points)) if weight is None else
            pd.to_numeric(points[weight], errors="coerce").fillna(0.0).to_numpy(float))
    return PeriodCounts(
        cell=points_to_cells(points, resolution=resolution).to_numpy(dtype=object),
        when=occurred.to_numpy(dtype="datetime64[ns]"),
        usable=~flagged(points).to_numpy() & occurred.notna().to_numpy(),
        n=np.ones(len(points)), harm=harm,
        first=dates.min() if len(dates) else None,
        last=dates.max() if len(dates) else None, month_only=month_only)


# ----------------------------------------------------------------------------
# the table-level verb
# ----------------------------------------------------------------------------


def emerging_hot_spots(
    points: gpd.GeoDataFrame | PeriodCounts,
    cells: gpd.GeoDataFrame,
    *,
    period: str | None = None,
    column: Literal["count", "harm"] = "count",
    weight: str | None = None,
    k: int = 1,
    alpha: float = 0.05,
    fdr: bool = True,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    missing: Sequence[str] = (),
    progress: bool = False,
) -> EmergingOutput:
    """Find emerging hot and cold spots: Gi* per period plus a Mann-Kendall trend.

    Parameters
    ----------
    points : geopandas.GeoDataFrame or PeriodCounts
        Occurrences (EPSG:27700) with ``occurred_from`` and ``date_precision``;
        or the same counted by cell and day (:class:`PeriodCounts`, from a
        store): the result is the same.
    cells : geopandas.GeoDataFrame
        Study cells from :func:`hotspot.grid.study_cells`.
    period : {"week", "month", "quarter"} or None, keyword-only
        Time step; ``None`` chooses it (:func:`choose_period`, reported).
    column : {"count", "harm"}, keyword-only
        Analyse occurrence counts or harm-weighted sums.
    weight : str or None, keyword-only
        Column of ``points`` with the harm weight (used when ``column="harm"``).
    k : int, keyword-only
        Ring size of the Gi* weights.
    alpha : float, keyword-only
        Significance level of hot/cold spots per period and of the trend.
    fdr : bool, keyword-only
        Benjamini-Hochberg per study area and period.
    start, end : pandas.Timestamp, optional, keyword-only
        Analysis period; default the first and last occurrence.
    missing : sequence of str, keyword-only
        Labels of periods to treat as missing besides those with no usable
        occurrence (e.g. from :func:`missing_periods`). Rows of ``points`` with
        data-quality flags are never counted.
    progress : bool, keyword-only
        Show a progress bar over periods.

    Returns
    -------
    EmergingOutput
        ``cells`` gains ``count``, ``harm`` (totals), ``n_periods`` (real
        periods, missing ones not counted), ``hot_periods``, ``cold_periods``,
        ``final_z`` (the last real period), ``trend_z``, ``trend_p`` and
        ``category``; ``missing_periods`` lists the periods left out.

    Raises
    ------
    ParameterError
        For bad arguments, or when every period is missing.
    """
    k = check_k(k)
    alpha = check_alpha(alpha)
    if column not in ("count", "harm"):
        raise ParameterError(f"column must be 'count' or 'harm', got {column!r}")
    if len(cells) == 0:
        raise ParameterError("cells must hold at least one study cell")
    resolution = h3.get_resolution(str(cells["h3"].iloc[0]))
    if isinstance(points, PeriodCounts):
        grouped = points
    else:
        if column == "harm" and (weight is None or weight not in points.columns):
            raise ParameterError(
                f"column 'harm' needs weight naming a column of points, got "
                f"{weight!r}")
        grouped = period_counts_of_rows(points, resolution=resolution,
                                        weight=weight if column == "harm" else None)
    begin, finish = grouped.first, grouped.last
    choice = _choose_step(begin, finish, month_only=grouped.month_only,
                          period=period, start=start, end=end)
    logger.info("emerging: period %s (%s)", choice.period, choice.reason)
    warnings_out: list[str] = []

    freq = PERIOD_FREQ[choice.period]
    first = pd.Timestamp(start if start is not None else begin).to_period(freq)
    last = pd.Timestamp(end if end is not None else finish).to_period(freq)
    period_index = pd.period_range(first, last, freq=freq)
    t = len(period_index)
    cell_pos = pd.Index(cells["h3"]).get_indexer(
        pd.Series(grouped.cell, dtype=object).fillna("").to_numpy())
    per = pd.Series(grouped.when).dt.to_period(freq)
    period_pos = (per.array.asi8 - first.ordinal) if len(per) else np.array([], int)
    period_pos = np.asarray(period_pos, dtype=np.int64)
    usable = grouped.usable
    in_range = usable & (period_pos >= 0) & (period_pos < t)
    # missing: no usable occurrence anywhere in the period, or named by the caller
    has_data = np.bincount(period_pos[in_range], weights=grouped.n[in_range],
                           minlength=t) > 0
    labels = [str(p) for p in period_index]
    named = {str(m) for m in missing}
    real = has_data & ~np.isin(labels, sorted(named))
    missing_out = [lab for lab, ok in zip(labels, real, strict=True) if not ok]
    n_real = int(real.sum())
    if n_real == 0:
        raise ParameterError(
            f"every {choice.period} period from {labels[0]} to {labels[-1]} is "
            "missing (no usable occurrence): nothing to analyse"
        )
    if missing_out:
        msg = (
            f"{len(missing_out)} {choice.period} period(s) with no usable data left "
            f"out as missing, not counted as zero: {', '.join(missing_out)}"
        )
        logger.warning(msg)
        warnings_out.append(msg)
    if n_real < MIN_PERIODS:
        msg = (
            f"only {n_real} {choice.period} periods with data: fewer than "
            f"{MIN_PERIODS}, so the Mann-Kendall trend has little power"
        )
        logger.warning(msg)
        warnings_out.append(msg)
    valid = (cell_pos >= 0) & in_range
    n_cells = len(cells)
    flat = cell_pos[valid] * t + period_pos[valid]
    counted = np.bincount(flat, weights=grouped.n[valid], minlength=n_cells * t)
    counts = np.rint(counted).astype(np.int64).reshape(n_cells, t)
    if column == "harm":
        harm = harm_total(np.bincount(flat, weights=grouped.harm[valid],
                                      minlength=n_cells * t)).reshape(n_cells, t)
    else:
        harm = counts.astype(np.float64)
    values = counts.astype(np.float64) if column == "count" else harm

    groups, _ = pd.factorize(cells["study_area"], sort=False)
    groups = groups.astype(np.int64)
    weights = ring_weights(cells["h3"].tolist(), k=k, study_area=cells["study_area"])
    z = np.full((n_cells, t), np.nan)
    p_used = np.full((n_cells, t), np.nan)
    real_idx = np.flatnonzero(real)
    for j in tqdm(real_idx, desc="Gi* per period", disable=not progress):
        _, _, _, zj = gi_star_normal(values[:, j], weights, groups=groups)
        pj = p_two_sided(zj)
        z[:, j] = zj
        p_used[:, j] = fdr_bh(pj, groups=groups) if fdr else pj
    with np.errstate(invalid="ignore"):
        significant = p_used < alpha
    hot = significant & (z > 0)
    cold = significant & (z < 0)
    # trend and categories over the real periods only
    z_real = z[:, real_idx]
    _, trend_z, trend_p = mann_kendall(np.nan_to_num(z_real, nan=0.0))
    category = classify_trends(hot[:, real_idx], cold[:, real_idx], trend_z, trend_p,
                               alpha=alpha)

    out = cells.copy()
    out["count"] = counts.sum(axis=1).astype(np.int64)
    out["harm"] = harm.sum(axis=1)
    out["n_periods"] = n_real
    out["hot_periods"] = hot.sum(axis=1).astype(np.int64)
    out["cold_periods"] = cold.sum(axis=1).astype(np.int64)
    out["final_z"] = z_real[:, -1]
    out["trend_z"] = trend_z
    out["trend_p"] = trend_p
    out["category"] = pd.array(category, dtype="string")
    tally = out["category"].value_counts()
    logger.info("emerging categories: %s", tally.to_dict())
    return EmergingOutput(
        cells=out,
        periods=[str(p) for p in period_index],
        z=z,
        hot=hot,
        cold=cold,
        choice=choice,
        warnings=warnings_out,
        missing_periods=missing_out,
    )

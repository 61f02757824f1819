"""Peak times you can trust: visit windows with their share and count.

One rule for the top list, the *When* panel and the patrol plan
(:func:`peak_windows`, and :func:`peak_windows_by_cell` for many cells in one
pass). A **window** is a set of weekdays and one span of clock hours
("Fri, Sat 20:00–00:00"); it is reported with how many of the timed
occurrences it holds and what share that is, next to the share an even spread
over the week would give it, and with the source of the times named
(SYNTHETIC when any timed row is synthetic).

The rule
--------
1. Only rows with a time of day count (:func:`hotspot.context.temporal.timed_rows`:
   ``date_precision == "minute"``); month-only rows (police.uk) never get hours.
2. With fewer than ``min_timed`` timed rows there is no window: "too few timed
   occurrences" — never a single-hour peak from a handful of events.
3. Otherwise the window of ``days`` weekdays and ``hours`` consecutive hours
   holding the most timed rows is found exactly (every start hour, the best
   days for each). A window starting late runs past midnight into the next
   day's early hours, as a night out does: "Fri 22:00–02:00" counts Friday
   22:00–23:59 and Saturday 00:00–01:59. Ties go to the earlier start hour,
   then the earlier weekdays.
4. When even the best window holds fewer than ``min_count`` rows, there is no
   clear peak, and the result says so.
5. How sure: ``p_even`` is the chance that as many timed occurrences spread
   evenly over the week would fill their best window as full (999 seeded
   simulations of the same search). At ``p_even >= 0.05`` the window is
   reported with "not clearly above an even spread: treat as a guide", and
   the per-cell form falls back on the pool's window when that one is clear.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.context.temporal import WEEKDAYS, timed_rows
from hotspot.errors import ParameterError

#: Fewer timed occurrences than this: no window ("too few timed occurrences").
MIN_TIMED = 20
#: The best window must hold at least this many timed occurrences.
MIN_COUNT = 5
#: A window whose count an even spread reaches this often is "not clear".
ALPHA = 0.05
#: Simulated even spreads behind :attr:`PeakWindow.p_even` (seeded: deterministic).
N_SIMULATIONS = 999
#: Defaults shared with the patrol plan: two days, a four-hour span.
DEFAULT_DAYS = 2
DEFAULT_HOURS = 4
#: How sources are named in captions.
SOURCE_NAMES: dict[str, str] = {
    "police_uk": "police.uk", "records": "records system", "istv": "A&E (ISTV)",
    "template": "template",
}
WINDOW_COLUMNS: tuple[str, ...] = (
    "h3", "found", "days", "start_hour", "end_hour", "hours", "count", "n_timed",
    "share", "even_share", "p_even", "clear", "times_from", "source", "synthetic",
    "text", "window",
)


@dataclass(frozen=True)
class PeakWindow:
    """A visit window, or the reason there is none.

    Attributes
    ----------
    days : tuple of int
        Weekdays the window starts on (0 = Monday), ascending; empty when none.
    start_hour : int
        Clock hour the window starts (0–23); -1 when none.
    hours : int
        Length of the window (hours).
    count : int
        Timed occurrences inside the window.
    n_timed : int
        Timed occurrences the window was chosen from.
    n_rows : int
        Rows given (timed or not).
    source : str
        Where the times come from ("records system (SYNTHETIC)"); "" when no
        row has a time.
    synthetic : bool
        Any timed row is synthetic.
    reason : str
        Why there is no window ("" when there is one).
    excluded : dict of str to int
        Rows without a time, by precision (``day``, ``month``, ``missing``).
    """

    days: tuple[int, ...]
    start_hour: int
    hours: int
    count: int
    n_timed: int
    n_rows: int
    source: str
    synthetic: bool
    reason: str = ""
    excluded: dict[str, int] = field(default_factory=dict)
    p_even: float = math.nan

    @property
    def clear(self) -> bool:
        """Found, and above what an even spread gives (``p_even < ALPHA``)."""
        return self.found and self.p_even < ALPHA

    @property
    def found(self) -> bool:
        """A window was found (enough timed rows and a clear peak)."""
        return not self.reason

    @property
    def share(self) -> float:
        """Share of the timed occurrences inside the window (0–1; NaN when none)."""
        return self.count / self.n_timed if self.found and self.n_timed else math.nan

    @property
    def even_share(self) -> float:
        """Share an even spread over the 168 hours of a week would put in it."""
        return len(self.days) * self.hours / 168.0 if self.found else math.nan

    @property
    def end_hour(self) -> int:
        """Clock hour the window ends (may be below the start: past midnight)."""
        return (self.start_hour + self.hours) % 24 if self.found else -1

    @property
    def day_text(self) -> str:
        """The weekdays, comma-separated ("Fri, Sat")."""
        return ", ".join(WEEKDAYS[d] for d in self.days)

    @property
    def hour_text(self) -> str:
        """The span of hours ("20:00–00:00")."""
        if not self.found:
            return ""
        return f"{self.start_hour:02d}:00–{self.end_hour:02d}:00"

    @property
    def text(self) -> str:
        """One line: the window with its count and share, or the reason."""
        if not self.found:
            return self.reason
        text = (f"{self.day_text} {self.hour_text}: {self.count} of {self.n_timed} "
                f"timed occurrences ({100 * self.share:.0f}%; an even spread would "
                f"give {100 * self.even_share:.0f}%)")
        if not self.clear:
            text += (f", not clearly above an even spread (p = {self.p_even:.2f}): "
                     "treat as a guide")
        return text

    @property
    def caption(self) -> str:
        """:attr:`text` with the source of the times ("times from …")."""
        if not self.source:
            return self.text
        return f"{self.text}. Times from {self.source}"


def _check(days: int, hours: int, min_timed: int, min_count: int) -> None:
    for name, value, lo, hi in (("days", days, 1, 7), ("hours", hours, 1, 12),
                                ("min_timed", min_timed, 1, 10_000),
                                ("min_count", min_count, 1, 10_000)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) \
                or not lo <= value <= hi:
            raise ParameterError(
                f"{name} must be a whole number from {lo} to {hi}, got {value!r}")


def window_counts(grid: npt.ArrayLike, *, hours: int) -> npt.NDArray[np.int64]:
    """Count timed rows in every window of ``hours`` hours, by start day and hour.

    Parameters
    ----------
    grid : array-like of int, shape (..., 7, 24)
        Counts by weekday (0 = Monday) and hour.
    hours : int, keyword-only
        Window length; a window runs on past midnight into the next day
        (Sunday into Monday).

    Returns
    -------
    numpy.ndarray of int64, shape (..., 7, 24)
        ``out[..., d, s]``: rows from day ``d`` hour ``s`` for ``hours`` hours.
    """
    arr = np.asarray(grid, dtype=np.int64)
    week = arr.reshape(*arr.shape[:-2], 168)
    # running sums over the week with its first hours appended (the wrap)
    ext = np.concatenate([week, week[..., : hours - 1]], axis=-1)
    csum = np.concatenate([np.zeros((*week.shape[:-1], 1), dtype=np.int64),
                           np.cumsum(ext, axis=-1)], axis=-1)
    out = csum[..., hours: hours + 168] - csum[..., :168]
    return out.reshape(arr.shape)


def best_window(grid: npt.ArrayLike, *, days: int, hours: int
                ) -> tuple[tuple[int, ...], int, int]:
    """Find the days and start hour of the busiest window in a weekday × hour grid.

    Returns
    -------
    days : tuple of int
        The ``days`` weekdays, ascending.
    start_hour : int
    count : int
        Rows in the window.

    Notes
    -----
    For a fixed start hour the best days are the ``days`` with the most rows
    in their window, so trying every start hour finds the optimum exactly.
    Ties: the earlier start hour, then the earlier weekdays.
    """
    sums = window_counts(grid, hours=hours)  # (7, 24)
    order = np.argsort(-sums, axis=0, kind="stable")[:days]  # best days per hour
    totals = np.take_along_axis(sums, order, axis=0).sum(axis=0)
    start = int(np.argmax(totals))
    return tuple(sorted(int(d) for d in order[:, start])), start, int(totals[start])


@functools.lru_cache(maxsize=1024)
def _even_best(n_timed: int, days: int, hours: int,
               n_simulations: int) -> npt.NDArray[np.int64]:
    """Best-window counts of ``n_simulations`` even spreads of ``n_timed`` times."""
    rng = np.random.default_rng(20_251_202 + 7919 * n_timed + 31 * days + hours)
    slots = rng.integers(0, 168, size=(n_simulations, n_timed))
    offset = (np.arange(n_simulations)[:, None] * 168 + slots).ravel()
    grids = np.bincount(offset, minlength=n_simulations * 168).reshape(
        n_simulations, 7, 24)
    sums = window_counts(grids, hours=hours)
    # the sum of the `days` largest of each column, as best_window takes them
    top = -np.partition(-sums, days - 1, axis=1)[:, :days, :].sum(axis=1)
    best: npt.NDArray[np.int64] = top.max(axis=1)
    return best


def even_spread_p(count: int, n_timed: int, *, days: int, hours: int,
                  n_simulations: int = N_SIMULATIONS) -> float:
    """Chance that ``n_timed`` even times fill their best window with ``count``.

    Each of ``n_simulations`` even spreads puts every time in one of the 168
    hours of the week at random (uniform, seeded), and its best window is
    found with the same search as :func:`best_window`, so the search over
    every start hour and day set is accounted for. Returns
    ``(1 + #{best >= count}) / (1 + n_simulations)``. The simulated maxima are
    cached per ``(n_timed, days, hours)``.
    """
    best = _even_best(int(n_timed), int(days), int(hours), int(n_simulations))
    return float((1 + int(np.sum(best >= count))) / (1 + n_simulations))


def name_sources(rows: pd.DataFrame) -> tuple[str, bool]:
    """Name the sources of ``rows`` ("records system (SYNTHETIC)") and flag synthetic.

    Synthetic is decided by ``is_synthetic`` (any true); without the column,
    by a source file name containing "SYNTHETIC".
    """
    if rows.empty:
        return "", False
    if "is_synthetic" in rows.columns:
        synthetic = bool(rows["is_synthetic"].astype("boolean").fillna(False).any())
    elif "source_file" in rows.columns:
        synthetic = bool(rows["source_file"].astype("string").str.upper()
                         .str.contains("SYNTHETIC").fillna(False).any())
    else:
        synthetic = False
    if "source" in rows.columns:
        found = sorted(rows["source"].dropna().astype(str).unique())
        names = [SOURCE_NAMES.get(s, s) for s in found] or ["unnamed source"]
    else:
        names = ["unnamed source"]
    text = ", ".join(names)
    return (f"{text} (SYNTHETIC)" if synthetic else text), synthetic


def _window(grid: npt.NDArray[np.int64], *, n_rows: int, source: str,
            synthetic: bool, excluded: dict[str, int], days: int, hours: int,
            min_timed: int, min_count: int) -> PeakWindow:
    n_timed = int(grid.sum())
    none = PeakWindow(days=(), start_hour=-1, hours=hours, count=0, n_timed=n_timed,
                      n_rows=n_rows, source=source, synthetic=synthetic,
                      reason="no occurrences", excluded=dict(excluded))
    if n_timed == 0:
        if not n_rows:
            return none
        return replace(none, reason=(
            f"no time of day: none of the {n_rows} occurrences has one "
            "(police.uk gives the month only)"))
    if n_timed < min_timed:
        return replace(none, reason=(
            f"too few timed occurrences: {n_timed} with a time of day, at least "
            f"{min_timed} needed for a peak window"))
    chosen, start, count = best_window(grid, days=days, hours=hours)
    if count < min_count:
        return replace(none, reason=(
            f"no clear peak: the busiest {days}-day, {hours}-hour window holds "
            f"{count} of {n_timed} timed occurrences (fewer than {min_count})"))
    p_even = even_spread_p(count, n_timed, days=days, hours=hours)
    return replace(none, days=chosen, start_hour=start, count=count, reason="",
                   p_even=p_even)


def peak_windows(
    rows: pd.DataFrame,
    *,
    days: int = DEFAULT_DAYS,
    hours: int = DEFAULT_HOURS,
    min_timed: int = MIN_TIMED,
    min_count: int = MIN_COUNT,
) -> PeakWindow:
    """Find the visit window of a set of occurrences (a hot spot, a CSP, a plan).

    Parameters
    ----------
    rows : pandas.DataFrame
        Canonical occurrences: ``occurred_from``, ``date_precision`` and, for
        naming the times' source, ``source`` and ``is_synthetic``.
    days : int, keyword-only
        Weekdays in the window, 1 to 7.
    hours : int, keyword-only
        Length of the span of hours, 1 to 12.
    min_timed : int, keyword-only
        Fewest timed occurrences for a window at all.
    min_count : int, keyword-only
        Fewest timed occurrences the window itself must hold.

    Returns
    -------
    PeakWindow
        The window with its count, share and source, or the reason there is
        none (:attr:`PeakWindow.found` is False).

    Raises
    ------
    ParameterError
        When a parameter is out of range or columns are missing.

    Examples
    --------
    Twenty timed occurrences, twelve of them on Friday and Saturday between
    20:00 and midnight, give "Fri, Sat 20:00–00:00: 12 of 20 timed
    occurrences (60%; an even spread would give 5%)".
    """
    _check(days, hours, min_timed, min_count)
    use, day, hour, excluded = timed_rows(rows)
    grid = np.zeros((7, 24), dtype=np.int64)
    np.add.at(grid, (day, hour), 1)
    source, synthetic = name_sources(rows[use])
    return _window(grid, n_rows=len(rows), source=source, synthetic=synthetic,
                   excluded=excluded, days=days, hours=hours, min_timed=min_timed,
                   min_count=min_count)


def peak_windows_by_cell(
    rows: pd.DataFrame,
    cells: Sequence[str],
    *,
    resolution: int,
    pool: pd.DataFrame | None = None,
    days: int = DEFAULT_DAYS,
    hours: int = DEFAULT_HOURS,
    min_timed: int = MIN_TIMED,
    min_count: int = MIN_COUNT,
) -> pd.DataFrame:
    """:func:`peak_windows` for each of many H3 cells, in one pass.

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        Canonical occurrences with point geometry (EPSG:27700).
    cells : sequence of str
        H3 cells (of ``resolution``); the rows of each are those whose point
        lies in it.
    resolution : int, keyword-only
        H3 resolution of ``cells``.
    pool : pandas.DataFrame, optional, keyword-only
        Rows to fall back on (the CSP's or the plan area's) when a cell has no
        clear window of its own (none, or ``p_even >= ALPHA``) and the pool's
        is clear; the row then says ``times_from = "pool"`` and its counts are
        the pool's.
    days, hours, min_timed, min_count : int, keyword-only
        As :func:`peak_windows`.

    Returns
    -------
    pandas.DataFrame
        One row per cell, in order, columns :data:`WINDOW_COLUMNS`: ``found``,
        ``days`` ("Fri,Sat"), ``start_hour``/``end_hour`` (-1 when none),
        ``hours``, ``count``, ``n_timed``, ``share``, ``even_share``,
        ``times_from`` (``"cell"``, ``"pool"`` or ``"none"``), ``source``,
        ``synthetic``, ``text`` (:attr:`PeakWindow.text`, or the cell's reason
        with the pool's window after it) and ``window`` (the
        :class:`PeakWindow` used).
    """
    from hotspot.grid import points_to_cells

    _check(days, hours, min_timed, min_count)
    cells = [str(c) for c in cells]
    use, day, hour, _ = timed_rows(rows)
    timed = rows[use]
    where = {c: i for i, c in enumerate(cells)}
    point_cells = points_to_cells(timed, resolution=resolution).to_numpy(
        dtype=object, na_value=None) if len(timed) else np.array([], dtype=object)
    group = np.array([where.get(c, -1) for c in point_cells], dtype=np.int64)
    keep = group >= 0
    grids = np.zeros((len(cells), 7, 24), dtype=np.int64)
    np.add.at(grids, (group[keep], day[keep], hour[keep]), 1)
    all_cells = points_to_cells(rows, resolution=resolution) if len(rows) else \
        pd.Series([], dtype="string")
    n_rows = all_cells.value_counts()
    fallback = peak_windows(pool, days=days, hours=hours, min_timed=min_timed,
                            min_count=min_count) if pool is not None else None
    out = []
    for i, cell in enumerate(cells):
        mine = timed[group == i]
        source, synthetic = name_sources(mine)
        win = _window(grids[i], n_rows=int(n_rows.get(cell, 0)), source=source,
                      synthetic=synthetic, excluded={}, days=days, hours=hours,
                      min_timed=min_timed, min_count=min_count)
        times_from, text = ("cell" if win.found else "none"), win.text
        if not win.clear and fallback is not None and fallback.clear:
            text = f"{win.text}; the pool's window: {fallback.text}"
            win, times_from = fallback, "pool"
        out.append({
            "h3": cell, "found": win.found, "days": ",".join(WEEKDAYS[d]
                                                            for d in win.days),
            "start_hour": win.start_hour, "end_hour": win.end_hour,
            "hours": hours, "count": win.count, "n_timed": win.n_timed,
            "share": win.share, "even_share": win.even_share,
            "p_even": win.p_even, "clear": win.clear,
            "times_from": times_from, "source": win.source,
            "synthetic": win.synthetic, "text": text, "window": win,
        })
    return pd.DataFrame(out, columns=list(WINDOW_COLUMNS))

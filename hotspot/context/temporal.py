"""When violence happens: weekday × hour, months with school holidays, year on year.

Every function takes occurrences in the canonical layout
(:mod:`hotspot.ingest.schema`) and returns a plain table. What a row can say
about time depends on its ``date_precision``:

- ``"minute"``: a date and a time, so a weekday and an hour;
- ``"day"``: a date without a time, so a weekday but no hour;
- ``"month"`` (police.uk): a month only, so monthly views only.

No hour or weekday is ever invented: rows too coarse for a view are left out of
it, counted, and reported (``excluded`` in the result and a log message). The
time used is ``occurred_from`` (when the occurrence started, or the start of
its recorded window).

Selections (a CSP, a hot spot as a set of H3 cells, any mask) are made with
:func:`select_occurrences` before calling the views. Charts are drawn apart,
by :mod:`hotspot.cli.profile`. Peak visit windows (days and a span of hours,
with their count, share and source) are :mod:`hotspot.context.peaks`, built on
:func:`timed_rows`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.errors import DataNotFoundError, ParameterError
from hotspot.selection import month_text
from hotspot.settings import DATA_DIR

logger = logging.getLogger(__name__)

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS: tuple[int, ...] = tuple(range(24))
#: Precisions that carry an hour, and those that carry a weekday.
HOUR_PRECISIONS: frozenset[str] = frozenset({"minute"})
DAY_PRECISIONS: frozenset[str] = frozenset({"minute", "day"})
PRECISIONS: frozenset[str] = frozenset({"minute", "day", "month"})
#: The school holiday file (see ``data/term_dates/README.md``: to be checked).
TERM_DATES_FILE = DATA_DIR / "term_dates" / "hampshire_school_holidays_2024_2026.csv"


@dataclass
class WeekdayHour:
    """A weekday × hour table and the rows it could not use.

    Attributes
    ----------
    table : pandas.DataFrame
        Rows ``Mon`` … ``Sun`` then ``Total``; columns the hours ``0`` … ``23``
        (int) then ``"Total"``. Cells are occurrence counts (int64).
    n_used : int
        Rows counted in the table (precision ``"minute"``).
    excluded : dict of str to int
        Rows left out, by reason: ``"day"`` (date without time), ``"month"``
        (month only), ``"missing"`` (no date or no precision).
    """

    table: pd.DataFrame
    n_used: int
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def n_excluded(self) -> int:
        """Rows left out for any reason."""
        return int(sum(self.excluded.values()))


def _check_occurrences(occurrences: pd.DataFrame, *, name: str = "occurrences") -> None:
    if not isinstance(occurrences, pd.DataFrame):
        raise ParameterError(
            f"{name} must be a pandas DataFrame, got {type(occurrences).__name__}"
        )
    missing = {"occurred_from", "date_precision"} - set(occurrences.columns)
    if missing:
        raise ParameterError(
            f"{name} must have columns occurred_from and date_precision "
            f"(the canonical occurrence table); missing {sorted(missing)}"
        )


def _precision(occurrences: pd.DataFrame) -> pd.Series:
    """Precision per row, ``"missing"`` where there is no date or precision."""
    precision = occurrences["date_precision"].astype("string").str.strip().str.lower()
    when = pd.to_datetime(occurrences["occurred_from"], errors="coerce")
    precision = precision.where(when.notna() & precision.isin(PRECISIONS), "missing")
    return precision.fillna("missing").astype(str)


def timed_rows(occurrences: pd.DataFrame) -> tuple[
        npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64],
        dict[str, int]]:
    """Select the rows that have a time of day, with their weekday and hour.

    The one rule behind every weekday × hour figure: only rows with
    ``date_precision`` ``"minute"`` have an hour; coarser rows are counted by
    reason and never spread over hours.

    Returns
    -------
    use : numpy.ndarray of bool
        One per row: the row has a time of day.
    day, hour : numpy.ndarray of int
        Weekday (0 = Monday) and hour of ``occurred_from`` of the rows used.
    excluded : dict of str to int
        Rows left out by reason (``day``, ``month``, ``missing``), zeros omitted.
    """
    _check_occurrences(occurrences)
    precision = _precision(occurrences)
    use = precision.isin(HOUR_PRECISIONS).to_numpy()
    excluded = {
        reason: int((precision == reason).sum())
        for reason in ("day", "month", "missing")
        if int((precision == reason).sum())
    }
    when = pd.to_datetime(occurrences["occurred_from"]).to_numpy()[use]
    stamps = pd.DatetimeIndex(when)
    return (use, stamps.day_of_week.to_numpy().astype(np.int64),
            stamps.hour.to_numpy().astype(np.int64), excluded)


def weekday_hour(occurrences: pd.DataFrame) -> WeekdayHour:
    """Count occurrences by weekday and hour of the day (the needs assessment's table).

    Parameters
    ----------
    occurrences : pandas.DataFrame
        Canonical occurrences (at least ``occurred_from`` and ``date_precision``).
        Not modified.

    Returns
    -------
    WeekdayHour
        The 8 × 25 table (with totals) and the count of rows left out by reason.

    Raises
    ------
    ParameterError
        When the columns are missing, or when no row has a time of day (for
        example police.uk data, which are month-only): the message says how
        many rows were left out and why.

    Notes
    -----
    Only rows with ``date_precision == "minute"`` have an hour. Rows with
    ``"day"`` (a weekday but no hour) and ``"month"`` (neither) are excluded and
    counted, never spread over hours. The hour is that of ``occurred_from``.
    """
    use, day, hour, excluded = timed_rows(occurrences)
    if not use.any():
        raise ParameterError(
            f"occurrences: none of the {len(occurrences)} rows has a time of day "
            f"(left out: {excluded or 'none'}); a weekday × hour table needs rows with "
            "date_precision 'minute'. Month-only data such as police.uk support "
            "monthly views only (monthly_trend)"
        )
    counts = np.zeros((7, 24), dtype=np.int64)
    np.add.at(counts, (day, hour), 1)
    table = pd.DataFrame(counts, index=list(WEEKDAYS), columns=list(HOURS))
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum(axis=0)
    table = table.astype("int64")
    table.index.name = "weekday"
    if excluded:
        logger.info(
            "weekday × hour: %d rows used, %d left out for want of a time (%s)",
            int(use.sum()),
            sum(excluded.values()),
            excluded,
        )
    return WeekdayHour(table=table, n_used=int(use.sum()), excluded=excluded)


def weekday_counts(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Count occurrences by weekday, using every row that has a date.

    Returns
    -------
    pandas.DataFrame
        Index ``Mon`` … ``Sun``; columns ``occurrences`` (int64) and ``share``
        (0–1). ``attrs["excluded"]`` counts month-only and undated rows.

    Raises
    ------
    ParameterError
        When no row has a date (precision ``"minute"`` or ``"day"``).
    """
    _check_occurrences(occurrences)
    precision = _precision(occurrences)
    use = precision.isin(DAY_PRECISIONS).to_numpy()
    excluded = {
        r: int((precision == r).sum())
        for r in ("month", "missing")
        if int((precision == r).sum())
    }
    if not use.any():
        raise ParameterError(
            f"occurrences: none of the {len(occurrences)} rows has a date "
            f"(left out: {excluded or 'none'}); month-only data support monthly views "
            "only"
        )
    day = pd.DatetimeIndex(
        pd.to_datetime(occurrences["occurred_from"])[use]
    ).day_of_week
    counts = np.bincount(day.to_numpy(), minlength=7).astype(np.int64)
    out = pd.DataFrame(
        {"occurrences": counts}, index=pd.Index(WEEKDAYS, name="weekday")
    )
    out["share"] = out["occurrences"] / out["occurrences"].sum()
    out.attrs["excluded"] = excluded
    return out


# ------------------------------------------------------------- school holidays
def load_term_dates(path: Path | str = TERM_DATES_FILE) -> pd.DataFrame:
    """Read the school holiday table (``data/term_dates``).

    Returns
    -------
    pandas.DataFrame
        ``academic_year``, ``holiday``, ``first_day``, ``last_day`` (datetime64,
        inclusive), ``status``, ``source``, sorted by ``first_day``.

    Raises
    ------
    DataNotFoundError
        When the file is missing.
    ParameterError
        When a column is missing, a date does not parse, or a holiday ends
        before it starts.
    """
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"school holiday file {path} does not exist")
    frame = pd.read_csv(path, dtype=str)
    missing = {"holiday", "first_day", "last_day"} - set(frame.columns)
    if missing:
        raise ParameterError(f"{path}: missing columns {sorted(missing)}")
    for name in ("first_day", "last_day"):
        parsed = pd.to_datetime(frame[name], format="%Y-%m-%d", errors="coerce")
        if parsed.isna().any():
            bad = frame.loc[parsed.isna(), name].tolist()
            raise ParameterError(f"{path}: {name} must be YYYY-MM-DD, got {bad}")
        frame[name] = parsed
    if (frame["last_day"] < frame["first_day"]).any():
        raise ParameterError(f"{path}: a holiday ends before it starts")
    if "status" in frame and (frame["status"] != "official").any():
        logger.info(
            "school holidays from %s are not all official: check the README", path
        )
    return frame.sort_values("first_day").reset_index(drop=True)


def holiday_days(term_dates: pd.DataFrame) -> pd.DatetimeIndex:
    """Every day (midnight timestamps) that falls in a school holiday."""
    days = [
        pd.date_range(a, b, freq="D")
        for a, b in zip(term_dates["first_day"], term_dates["last_day"], strict=True)
    ]
    if not days:
        return pd.DatetimeIndex([])
    return pd.DatetimeIndex(np.unique(np.concatenate([d.to_numpy() for d in days])))


def monthly_trend(
    occurrences: pd.DataFrame,
    *,
    term_dates: pd.DataFrame | None = None,
    months: Iterable[str] | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """Count occurrences per calendar month and mark school holidays.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        Canonical occurrences; every precision (minute, day, month) has a month.
    term_dates : pandas.DataFrame, optional, keyword-only
        School holidays (:func:`load_term_dates`); the embedded file when omitted.
    months : iterable of str, optional, keyword-only
        Months to report (``"YYYY-MM"``), so months with no occurrences show as 0;
        by default every month from the first to the last occurrence.
    by : str, optional, keyword-only
        A column to split the counts by (for example ``"source"``, so a month
        where one source is missing shows as such): adds one column
        ``occurrences_<value>`` per value.

    Returns
    -------
    pandas.DataFrame
        One row per month: ``month`` (``"YYYY-MM"``), ``occurrences`` (int64),
        ``days`` (days in the month), ``per_day`` (occurrences per day),
        ``holiday_days`` (school holiday days in the month, weekends included),
        ``holiday_share`` (0–1) and ``school_holiday`` (True when at least a
        quarter of the month is school holiday, the marking used on charts).
        ``attrs["excluded"]`` counts undated rows.
    """
    _check_occurrences(occurrences)
    holidays = load_term_dates() if term_dates is None else term_dates
    precision = _precision(occurrences)
    dated = (precision != "missing").to_numpy()
    stamps = pd.to_datetime(occurrences["occurred_from"])[dated]
    month = month_text(stamps)
    counts = month.value_counts()
    if months is None:
        if counts.empty:
            raise ParameterError("occurrences: no row has a date; nothing to count")
        span = pd.period_range(min(counts.index), max(counts.index), freq="M")
        labels = [str(p) for p in span]
    else:
        labels = sorted({str(pd.Period(m, freq="M")) for m in months})
    out = pd.DataFrame({"month": labels})
    out["occurrences"] = counts.reindex(labels).fillna(0).astype("int64").to_numpy()
    periods = pd.PeriodIndex(labels, freq="M")
    out["days"] = periods.days_in_month.astype("int64")
    out["per_day"] = out["occurrences"] / out["days"]
    holiday_months = holiday_days(holidays).strftime("%Y-%m")
    per_month = pd.Series(holiday_months).value_counts()
    out["holiday_days"] = per_month.reindex(labels).fillna(0).astype("int64").to_numpy()
    out["holiday_share"] = out["holiday_days"] / out["days"]
    out["school_holiday"] = out["holiday_share"] >= 0.25
    if by is not None:
        if by not in occurrences.columns:
            raise ParameterError(f"by must be a column of occurrences, got {by!r}")
        groups = occurrences[by].astype("string").fillna("unknown")[dated]
        split = pd.crosstab(month, groups).reindex(labels).fillna(0).astype("int64")
        for value in split.columns:
            out[f"occurrences_{value}"] = split[value].to_numpy()
        out.attrs["by"] = by
    out.attrs["excluded"] = {"missing": int((~dated).sum())} if (~dated).any() else {}
    return out


def holiday_vs_term(
    occurrences: pd.DataFrame, *, term_dates: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Occurrences per day in school holidays and in term time.

    Uses rows with a date (precision ``"minute"`` or ``"day"``) over the days
    from the first to the last of them; month-only rows are left out (counted
    in ``attrs["excluded"]``).

    Returns
    -------
    pandas.DataFrame
        Index ``school_holiday`` and ``term_time``; columns ``days``,
        ``occurrences`` and ``per_day``. ``attrs["ratio"]`` is holiday per day
        over term-time per day (NaN when a side has no days).

    Raises
    ------
    ParameterError
        When no row has a date.
    """
    _check_occurrences(occurrences)
    holidays = load_term_dates() if term_dates is None else term_dates
    precision = _precision(occurrences)
    use = precision.isin(DAY_PRECISIONS).to_numpy()
    if not use.any():
        raise ParameterError(
            "occurrences: no row has a date (minute or day precision); a holiday "
            "comparison needs dated rows"
        )
    days = pd.to_datetime(occurrences["occurred_from"])[use].dt.normalize()
    span = pd.date_range(days.min(), days.max(), freq="D")
    is_holiday_day = span.isin(holiday_days(holidays))
    row_holiday = days.isin(holiday_days(holidays)).to_numpy()
    out = pd.DataFrame(
        {
            "days": [int(is_holiday_day.sum()), int((~is_holiday_day).sum())],
            "occurrences": [int(row_holiday.sum()), int((~row_holiday).sum())],
        },
        index=pd.Index(["school_holiday", "term_time"], name="period"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_day"] = out["occurrences"] / out["days"].where(out["days"] > 0)
    ratio = out.loc["school_holiday", "per_day"] / out.loc["term_time", "per_day"]
    out.attrs["ratio"] = float(ratio) if pd.notna(ratio) else float("nan")
    out.attrs["excluded"] = {
        r: int((precision == r).sum())
        for r in ("month", "missing")
        if int((precision == r).sum())
    }
    return out


def year_on_year(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Compare each month with the same month a year before.

    Returns
    -------
    pandas.DataFrame
        One row per month from the first to the last occurrence: ``month``,
        ``occurrences``, ``previous_year`` (same month a year earlier; NA when
        that month lies before the data), ``change`` and ``change_pct``
        (percent; NA when the previous count is NA or 0). ``attrs`` holds
        ``last_12_months``, ``previous_12_months`` and ``change_12_months_pct``
        (NA when the data span less than 24 months).
    """
    trend = monthly_trend(occurrences, term_dates=_NO_HOLIDAYS)
    counts = pd.Series(trend["occurrences"].to_numpy(), index=trend["month"])
    first = pd.Period(trend["month"].iloc[0], freq="M")
    prev_labels = [str(pd.Period(m, freq="M") - 12) for m in trend["month"]]
    previous = pd.Series(
        [
            counts.get(p, 0) if pd.Period(p, freq="M") >= first else pd.NA
            for p in prev_labels
        ],
        dtype="Int64",
    )
    out = pd.DataFrame(
        {"month": trend["month"], "occurrences": trend["occurrences"].astype("Int64")}
    )
    out["previous_year"] = previous.to_numpy()
    out["change"] = out["occurrences"] - out["previous_year"]
    prev_float = out["previous_year"].astype("Float64")
    out["change_pct"] = (
        100 * out["change"].astype("Float64") / prev_float.where(prev_float > 0)
    )
    if len(counts) >= 24:
        last = int(counts.iloc[-12:].sum())
        before = int(counts.iloc[-24:-12].sum())
        out.attrs["last_12_months"] = last
        out.attrs["previous_12_months"] = before
        out.attrs["change_12_months_pct"] = (
            100 * (last - before) / before if before else float("nan")
        )
    else:
        out.attrs["last_12_months"] = int(counts.iloc[-12:].sum())
        out.attrs["previous_12_months"] = None
        out.attrs["change_12_months_pct"] = None
    return out


_NO_HOLIDAYS = pd.DataFrame(
    {
        "holiday": pd.Series(dtype=str),
        "first_day": pd.Series(dtype="datetime64[ns]"),
        "last_day": pd.Series(dtype="datetime64[ns]"),
    }
)


# ----------------------------------------------------------------- selections
def occurred_between(
    occurrences: pd.DataFrame, *, start: date | None, end: date | None
) -> pd.DataFrame:
    """Return the rows whose ``occurred_from`` lies in [start, end], whole days.

    ``None`` leaves that side open. The index is kept.
    """
    when = pd.to_datetime(occurrences["occurred_from"])
    keep = pd.Series(True, index=occurrences.index)
    if start is not None:
        keep &= when >= pd.Timestamp(start)
    if end is not None:
        keep &= when < pd.Timestamp(end) + pd.Timedelta(days=1)
    return occurrences[keep.to_numpy()]


def select_occurrences(
    occurrences: pd.DataFrame,
    *,
    csp: str | None = None,
    cells: Iterable[str] | None = None,
    mask: pd.Series | None = None,
) -> pd.DataFrame:
    """Select the occurrences of a CSP, of a hot spot, or of any mask.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        Canonical occurrences; a copy of the selected rows is returned.
    csp : str, optional, keyword-only
        CSP code or name (case-insensitive), matched against ``csp_code`` and
        ``csp_name``.
    cells : iterable of str, optional, keyword-only
        A hot spot as a set of H3 cells (all of one resolution); occurrences
        whose point lies in one of them are kept. Needs point geometries in
        EPSG:27700.
    mask : pandas.Series of bool, optional, keyword-only
        Any selection, indexed like ``occurrences``.

    Returns
    -------
    pandas.DataFrame
        The rows meeting every criterion given (index kept).

    Raises
    ------
    ParameterError
        When the CSP is unknown, the cells are not valid H3 cells of one
        resolution, or the mask is not indexed like ``occurrences``.
    """
    keep = pd.Series(True, index=occurrences.index)
    if csp is not None:
        wanted = csp.strip().lower()
        codes = occurrences["csp_code"].astype("string").str.lower()
        names = occurrences["csp_name"].astype("string").str.lower()
        hit = ((codes == wanted) | (names == wanted)).fillna(False)
        if not hit.any():
            known = sorted(occurrences["csp_name"].dropna().astype(str).unique())
            raise ParameterError(f"csp {csp!r} matches no occurrence; CSPs are {known}")
        keep &= hit
    if cells is not None:
        keep &= _in_cells(occurrences, cells)
    if mask is not None:
        if not mask.index.equals(occurrences.index):
            raise ParameterError("mask must be indexed like occurrences")
        keep &= mask.fillna(False).astype(bool)
    return occurrences[keep.to_numpy()].copy()


def _in_cells(occurrences: pd.DataFrame, cells: Iterable[str]) -> pd.Series:
    import geopandas as gpd
    import h3

    from hotspot.grid import points_to_cells

    cell_set = {str(c) for c in cells}
    if not cell_set or not all(h3.is_valid_cell(c) for c in cell_set):
        raise ParameterError("cells must be a non-empty set of valid H3 cell indexes")
    resolutions = {h3.get_resolution(c) for c in cell_set}
    if len(resolutions) != 1:
        raise ParameterError(f"cells must share one H3 resolution, got {resolutions}")
    if not isinstance(occurrences, gpd.GeoDataFrame):
        raise ParameterError("selecting by cells needs occurrences with point geometry")
    point_cells = points_to_cells(occurrences, resolution=resolutions.pop())
    return point_cells.isin(cell_set).fillna(False).astype(bool)

"""Vectorised field parsers shared by the readers.

Each parser takes a column of text and returns the parsed column plus a mask of
values that were present but could not be parsed. Readers turn those masks into
rejected rows through :class:`Rejections`, so every bad value is named with its
file, row and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotspot.ingest.schema import empty_rejects, make_rejects
from hotspot.ingest.tables import TextTable

#: Formats every date column accepts besides those a mapping names (ISO first).
ISO_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
)
DEFAULT_TRUE: tuple[str, ...] = ("y", "yes", "1", "true", "t")
DEFAULT_FALSE: tuple[str, ...] = ("n", "no", "0", "false", "f", "")


def blank(values: pd.Series) -> pd.Series:
    """Return a mask of empty or whitespace-only text values (and missing ones)."""
    text = values.astype("string")
    return (text.isna() | (text.str.strip() == "")).fillna(True).astype(bool)


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse text to floats.

    Returns
    -------
    (numbers, bad)
        ``numbers`` is Float64 with NA for blank or bad values; ``bad`` marks
        values that were present but not numbers.
    """
    is_blank = blank(values)
    numbers = pd.to_numeric(values.where(~is_blank), errors="coerce")
    bad = numbers.isna() & ~is_blank
    finite = np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
    bad |= ~finite & ~numbers.isna()
    return numbers.where(~bad).astype("Float64"), bad


#: Occurrence dates before this are rejected as implausible (a default such as
#: 1900-01-01, or a typed year such as 1025).
EARLIEST_DATE = pd.Timestamp("1970-01-01")


def latest_date() -> pd.Timestamp:
    """Latest plausible occurrence date: the end of tomorrow (local clock)."""
    return pd.Timestamp.now().normalize() + pd.Timedelta(days=2) - pd.Timedelta("1ns")


@dataclass(frozen=True)
class ParsedDates:
    """Dates parsed from text, with a reason for every value that failed.

    ``when`` is datetime64[ns] (NaT for blank, bad or implausible values),
    ``precision`` ``"minute"``/``"day"`` (NA otherwise), ``bad`` marks present
    values that failed and ``reason`` says why (NA where nothing failed).
    """

    when: pd.Series
    precision: pd.Series
    bad: pd.Series
    reason: pd.Series


def parse_dates(
    values: pd.Series,
    *,
    formats: Sequence[str] = (),
    expected: str = "expected a date",
    earliest: pd.Timestamp = EARLIEST_DATE,
    latest: pd.Timestamp | None = None,
) -> ParsedDates:
    """Parse text to datetimes, trying ``formats`` then ISO formats in order.

    A value that fits a format but falls outside ``earliest``–``latest``
    (default: :data:`EARLIEST_DATE` to :func:`latest_date`), including years
    pandas cannot hold (before 1677 or after 2262), is rejected with its year
    named, never passed on and never a crash.

    Parameters
    ----------
    values
        Text values.
    formats
        ``strptime`` formats tried before the ISO ones.
    expected
        The reason given for values no format fits.
    earliest, latest
        The plausible window (inclusive).

    Returns
    -------
    ParsedDates
        Parsed values, precision, the failed mask and a reason per failure.
    """
    latest = latest_date() if latest is None else latest
    is_blank = blank(values)
    text = values.astype("string").str.strip()
    when = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    precision = pd.Series(pd.NA, index=values.index, dtype="string")
    reason = pd.Series(pd.NA, index=values.index, dtype="string")
    todo = ~is_blank
    for fmt in dict.fromkeys([*formats, *ISO_FORMATS]):
        if not todo.any():
            break
        try:
            parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        except (ValueError, OverflowError):  # a directive pandas cannot use
            continue
        hit = parsed.notna()
        if not hit.any():
            continue
        found = parsed[hit]
        plausible = (found >= earliest) & (found <= latest)
        good = found[plausible]
        when.loc[good.index] = good.astype("datetime64[ns]")
        has_time = any(code in fmt for code in ("%H", "%M", "%I"))
        precision.loc[good.index] = "minute" if has_time else "day"
        odd = found[~plausible]
        if len(odd):
            reason.loc[odd.index] = [
                f"year {t.year} is implausible for an occurrence: expected a date "
                f"from {earliest:%Y-%m-%d} to {latest:%Y-%m-%d}"
                for t in odd
            ]
        todo.loc[found.index] = False
    failed = todo | reason.notna()
    reason = reason.where(~todo, expected)
    return ParsedDates(when=when, precision=precision, bad=failed, reason=reason)


def parse_datetimes(
    values: pd.Series, *, formats: Sequence[str] = ()
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse text to datetimes, trying ``formats`` then ISO formats in order.

    Returns
    -------
    (when, precision, bad)
        ``when`` is datetime64 (NaT for blank or bad), ``precision`` is
        ``"minute"`` when the matching format has a time, ``"day"`` when it has
        only a date, NA otherwise; ``bad`` marks present values no format fits
        or whose date is implausible (see :func:`parse_dates`, which also gives
        the reason).
    """
    parsed = parse_dates(values, formats=formats)
    return parsed.when, parsed.precision, parsed.bad


def parse_flags(
    values: pd.Series,
    *,
    true: Iterable[str] = DEFAULT_TRUE,
    false: Iterable[str] = DEFAULT_FALSE,
) -> tuple[pd.Series, pd.Series]:
    """Parse yes/no text to a nullable boolean column.

    Matching is case-insensitive. Values in neither list are ``bad``; a blank
    value is False when ``""`` is in ``false`` and NA (not recorded) otherwise.
    """
    true_set = {v.strip().lower() for v in true}
    false_set = {v.strip().lower() for v in false}
    text = values.astype("string").fillna("").str.strip().str.lower()
    result = pd.Series(pd.NA, index=values.index, dtype="boolean")
    result[text.isin(true_set)] = True
    result[text.isin(false_set)] = False
    bad = ~text.isin(true_set | false_set) & (text != "")
    return result, bad


def age_band(age: pd.Series) -> pd.Series:
    """Return the victim age band used in the partnership's reports."""
    bins = [-1, 17, 24, 34, 44, 54, 64, 200]
    labels = ["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    numeric = age.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    banded = pd.cut(numeric, bins=bins, labels=labels)
    return pd.Series(banded, index=age.index).astype("string")


@dataclass
class Rejections:
    """Collects rejected rows of one file: row number, field, value and reason."""

    source_file: str
    stage: str = "read"
    _parts: list[pd.DataFrame] = field(default_factory=list)

    @classmethod
    def for_table(cls, table: TextTable, *, stage: str = "read") -> Rejections:
        """Start the rejections of ``table``, its ragged rows already recorded."""
        rejects = cls(table.path, stage=stage)
        width = len(table.frame.columns)
        for number, n_fields in table.ragged:
            rejects.add(
                pd.Series(True, index=pd.Index([number])),
                field_name="row",
                values=None,
                reason=f"wrong number of fields: the row has {n_fields}, the header "
                f"has {width}",
            )
        return rejects

    def add(
        self,
        mask: pd.Series,
        *,
        field_name: str,
        values: pd.Series | str | None,
        reason: str | pd.Series,
        ids: pd.Series | None = None,
    ) -> None:
        """Record every row where ``mask`` is true (the index is the row number)."""
        if not mask.any():
            return
        rows = mask.index[mask.to_numpy(dtype=bool)]
        if isinstance(values, pd.Series):
            shown = values.loc[rows].astype("string")
        else:
            shown = pd.Series(values, index=rows, dtype="string")
        reasons = reason.loc[rows] if isinstance(reason, pd.Series) else reason
        part = pd.DataFrame(
            {
                "source_file": self.source_file,
                "row_number": rows.to_numpy(),
                "occurrence_id": None if ids is None else ids.loc[rows].to_numpy(),
                "field": field_name,
                "value": shown.to_numpy(),
                "reason": reasons if isinstance(reasons, str) else reasons.to_numpy(),
                "stage": self.stage,
            }
        )
        self._parts.append(part)

    def rejected_rows(self) -> pd.Index:
        """Row numbers with at least one problem."""
        if not self._parts:
            return pd.Index([], dtype="int64")
        return pd.Index(pd.concat(self._parts)["row_number"].unique())

    def table(self) -> pd.DataFrame:
        """All rejections as a canonical rejects table."""
        if not self._parts:
            return empty_rejects()
        return make_rejects(pd.concat(self._parts, ignore_index=True))

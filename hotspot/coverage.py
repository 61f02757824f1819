"""Say what each source really covers: months present, months left out, SYNTHETIC.

A view's period ("2024-10 to 2025-09") is not what its data covers: police.uk
has Jan–Apr 2024 and Jan–Sep 2025, its August 2025 is flagged implausible and
left out, and the records extract (SYNTHETIC) runs Oct 2024–Sep 2025. Titles,
captions, plans and cards take the sentence from :func:`coverage_text`; charts
mark months from :func:`month_status` (missing, flagged, one source only), so
a month without data is never drawn as a zero.

The input is a store's rows *before* selection (flagged rows included), with
``source``, ``occurred_from`` and, when present, ``quality_flags`` and
``is_synthetic``; only the months and flags are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from hotspot.errors import ParameterError
from hotspot.selection import month_text

#: How sources are named in captions.
SOURCE_NAMES: dict[str, str] = {"police_uk": "police.uk", "records": "records"}
#: The flag that leaves a whole month of a source out.
MONTH_FLAG = "implausible_month"
#: Month status values of :func:`month_status`.
STATUSES: tuple[str, ...] = ("all sources", "one source", "flagged", "missing")
_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
         "Nov", "Dec")
_FULL = ("January", "February", "March", "April", "May", "June", "July", "August",
         "September", "October", "November", "December")


@dataclass(frozen=True)
class SourceCoverage:
    """One source's months within a period.

    Attributes
    ----------
    source : str
        The ``source`` value (``"police_uk"``).
    name : str
        How captions name it (``"police.uk"``).
    months : tuple of str
        ``YYYY-MM`` months with at least one row not flagged, in order.
    flagged : tuple of str
        Months whose every row carries :data:`MONTH_FLAG` (left out).
    synthetic : bool
        Any row of the source is synthetic.
    """

    source: str
    name: str
    months: tuple[str, ...]
    flagged: tuple[str, ...]
    synthetic: bool

    def text(self) -> str:
        """Return e.g. "police.uk Jan–Sep 2025, August 2025 left out as implausible".

        The span covers the flagged months too; they are named after it.
        """
        spans = (month_spans(self.months + self.flagged)
                 if self.months or self.flagged else "no month")
        out = f"{self.name} {spans}"
        if self.flagged:
            out += ", " + _and([_full(m) for m in self.flagged]) + (
                " left out as implausible")
        return out + (" SYNTHETIC" if self.synthetic else "")


def _full(month: str) -> str:
    p = pd.Period(month, freq="M")
    return f"{_FULL[p.month - 1]} {p.year}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def month_spans(months: Iterable[str]) -> str:
    """Return runs of consecutive months as text: "Jan–Apr 2024, Jan–Sep 2025".

    A run within one year is "Jan–Sep 2025", across years "Oct 2024–Sep 2025", a
    single month "Aug 2025".
    """
    periods = sorted({pd.Period(m, freq="M") for m in months})
    runs: list[list[pd.Period]] = []
    for p in periods:
        if runs and p == runs[-1][-1] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    parts = []
    for run in runs:
        a, b = run[0], run[-1]
        if a == b:
            parts.append(f"{_ABBR[a.month - 1]} {a.year}")
        elif a.year == b.year:
            parts.append(f"{_ABBR[a.month - 1]}–{_ABBR[b.month - 1]} {a.year}")
        else:
            parts.append(f"{_ABBR[a.month - 1]} {a.year}–{_ABBR[b.month - 1]} {b.year}")
    return ", ".join(parts)


def _months(rows: pd.DataFrame) -> pd.Series:
    return month_text(rows["occurred_from"])


def _flagged(rows: pd.DataFrame) -> pd.Series:
    if "quality_flags" not in rows.columns:
        return pd.Series(False, index=rows.index)
    return rows["quality_flags"].astype("string").fillna("").str.contains(
        MONTH_FLAG, regex=False)


def _within(months: pd.Series, month_from: str | None,
            month_to: str | None) -> pd.Series:
    keep = months.notna()
    if month_from:
        keep &= months >= month_from[:7]
    if month_to:
        keep &= months <= month_to[:7]
    return keep


def source_coverage(
    rows: pd.DataFrame,
    *,
    month_from: str | None = None,
    month_to: str | None = None,
) -> list[SourceCoverage]:
    """Return each source's months present and flagged within the period.

    Parameters
    ----------
    rows : pandas.DataFrame
        A store's rows, flagged rows included (``source``, ``occurred_from``;
        ``quality_flags`` and ``is_synthetic`` when present).
    month_from, month_to : str, optional, keyword-only
        The period (``YYYY-MM`` or ``YYYY-MM-DD``; only the month is read),
        both inclusive; open when omitted.

    Returns
    -------
    list of SourceCoverage
        police.uk first, then the other sources by name.
    """
    missing = {"source", "occurred_from"} - set(rows.columns)
    if missing:
        raise ParameterError(f"rows must have columns source and occurred_from; "
                             f"missing {sorted(missing)}")
    month = _months(rows)
    keep = _within(month, month_from, month_to).to_numpy()
    part = pd.DataFrame({"source": rows["source"].astype(str).to_numpy()[keep],
                         "month": month.to_numpy()[keep],
                         "flagged": _flagged(rows).to_numpy()[keep]})
    synth = (rows["is_synthetic"].astype("boolean").fillna(False).to_numpy()[keep]
             if "is_synthetic" in rows.columns else [False] * len(part))
    part["synthetic"] = synth
    out = []
    order = sorted(part["source"].unique(), key=lambda s: (s != "police_uk", s))
    for source in order:
        own = part[part["source"] == source]
        by_month = own.groupby("month")["flagged"].all()
        out.append(SourceCoverage(
            source=source, name=SOURCE_NAMES.get(source, source),
            months=tuple(by_month.index[~by_month.to_numpy()]),
            flagged=tuple(by_month.index[by_month.to_numpy()]),
            synthetic=bool(own["synthetic"].any())))
    return out


def coverage_text(
    rows: pd.DataFrame,
    *,
    month_from: str | None = None,
    month_to: str | None = None,
    notes: Sequence[str] = (),
) -> str:
    """Return the sentence of each source's real coverage, for titles and captions.

    E.g. "police.uk Jan–Sep 2025, August 2025 left out as implausible; records
    Oct 2024–Sep 2025 SYNTHETIC". ``notes`` (such as
    :attr:`hotspot.selection.Selected.notes`) are added as sentences after it.
    """
    parts = [c.text() for c in source_coverage(rows, month_from=month_from,
                                              month_to=month_to)]
    text = "; ".join(parts) if parts else "no data in this period"
    extra = " ".join(n.rstrip(".") + "." for n in notes if n)
    return f"{text}. {extra}".strip() if extra else text


def month_status(rows: pd.DataFrame, months: Sequence[str]) -> pd.DataFrame:
    """Return, for each month asked, which sources have data and its status.

    Parameters
    ----------
    rows : pandas.DataFrame
        As :func:`source_coverage` (flagged rows included).
    months : sequence of str
        ``YYYY-MM`` months, in the chart's order.

    Returns
    -------
    pandas.DataFrame
        ``month``, ``sources`` (names with data that month, comma-separated),
        ``flagged_sources`` and ``status``: ``"missing"`` (no source has a row),
        ``"flagged"`` (rows only in flagged months: left out), ``"one source"``
        (fewer sources than the period has, e.g. records only before January
        2025) or ``"all sources"``.
    """
    cover = source_coverage(rows, month_from=min(months) if months else None,
                            month_to=max(months) if months else None)
    n_sources = len(cover)
    table = []
    for m in months:
        have = [c.name for c in cover if m in c.months]
        bad = [c.name for c in cover if m in c.flagged]
        if not have:
            status = "flagged" if bad else "missing"
        elif len(have) < n_sources:
            status = "one source"
        else:
            status = "all sources"
        table.append({"month": m, "sources": ", ".join(have),
                      "flagged_sources": ", ".join(bad), "status": status})
    return pd.DataFrame(table, columns=["month", "sources", "flagged_sources",
                                        "status"])

"""Trends in words: emerging hot-spot cells per CSP, named, with the months behind them.

:func:`hotspot.detect.emerging.emerging_hot_spots` gives every cell a category
(new, intensifying, persistent, ... hot or cold spot). This module turns that
into what a VRU manager reads:

- :func:`trend_cells`: the cells with a pattern, each with its place name
  (:func:`hotspot.context.places.name_cells`);
- :func:`trend_sentence`: one plain sentence per CSP, for example "3
  intensifying hot spots around Commercial Road; 2 diminishing in Fratton";
- :func:`month_coverage`: which months had no data and which were covered by
  one source only (police.uk starts later than the records extract, so a cell
  that turns hot when a source begins can read as "new");
- :data:`DEFINITIONS`: what each category means, in plain English.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspot.errors import ParameterError
from hotspot.selection import month_text

logger = logging.getLogger(__name__)

#: Patterns in the order a manager should read them (worst news first).
KINDS: tuple[str, ...] = ("intensifying", "new", "consecutive", "persistent",
                          "diminishing", "oscillating", "sporadic", "historical")
#: Category → its order in lists and sentences (hot spots before cold spots).
ORDER: dict[str, int] = {
    f"{kind} {side} spot": i + 10 * s
    for s, side in enumerate(("hot", "cold")) for i, kind in enumerate(KINDS)
}
#: Source codes → the names the notes use.
SOURCE_LABELS: dict[str, str] = {"police_uk": "police.uk",
                                 "records": "the records extract"}
#: At most this many patterns in a CSP's sentence.
SENTENCE_PARTS = 4

#: Plain-English definitions (after ESRI's Emerging Hot Spot Analysis; the rules
#: are in :mod:`hotspot.detect.emerging`). "Period" is the time step (a month).
DEFINITIONS: dict[str, str] = {
    "new": "hot in the last period for the first time.",
    "consecutive": "hot in an unbroken run of recent periods ending in the last "
    "one, never hot before the run, and hot in under 90% of periods.",
    "intensifying": "hot in at least 90% of periods, including the last, and "
    "getting hotter (a significant upward Mann-Kendall trend).",
    "persistent": "hot in at least 90% of periods, including the last, with no "
    "significant trend.",
    "diminishing": "hot in at least 90% of periods, including the last, but "
    "cooling (a significant downward trend).",
    "sporadic": "hot in the last period and on and off before, never cold.",
    "oscillating": "hot in the last period, and cold in at least one earlier "
    "period.",
    "historical": "hot in at least 90% of periods, but not in the last one.",
    "cold spots": "the same patterns for cells with significantly fewer "
    "occurrences than their surroundings.",
    "no pattern": "none of these (most cells: never significant).",
}


@dataclass
class TrendSummary:
    """What the Trends panel shows.

    Attributes
    ----------
    cells : geopandas.GeoDataFrame
        Cells with a pattern, in reading order: ``h3``, ``csp_code``,
        ``csp_name``, ``category``, ``place``, ``ward``, ``streets``,
        ``count``, ``hot_periods``, ``n_periods``, ``explanation``, geometry.
    counts : pandas.DataFrame
        Cells per CSP and category (``csp_name``, ``category``, ``cells``).
    sentences : dict
        CSP name → :func:`trend_sentence`.
    coverage : pandas.DataFrame
        :func:`month_coverage`.
    notes : list of str
        The months missing or covered by one source, in words.
    period, reason : str
        The time step and why it was chosen.
    warnings : list of str
    """

    cells: gpd.GeoDataFrame
    counts: pd.DataFrame
    sentences: dict[str, str]
    coverage: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    period: str = "month"
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


def short_kind(category: str) -> tuple[str, str]:
    """Return ``("intensifying", "hot")`` for ``"intensifying hot spot"``."""
    parts = str(category).split()
    if len(parts) != 3 or parts[2] != "spot" or parts[1] not in ("hot", "cold"):
        raise ParameterError(f"category must be like 'new hot spot', got {category!r}")
    return parts[0], parts[1]


def trend_cells(cells: pd.DataFrame, places: pd.DataFrame | None = None
                ) -> gpd.GeoDataFrame:
    """Return the cells with a pattern, named, in reading order.

    Parameters
    ----------
    cells : pandas.DataFrame
        Emerging output cells (:data:`hotspot.detect.analyse.EMERGING_OUTPUT`).
    places : pandas.DataFrame, optional
        :func:`hotspot.context.places.name_cells` of the patterned cells, in
        the order of ``cells[cells.category != "no pattern"]``; without it the
        place is the H3 id.
    """
    need = {"h3", "csp_name", "category"}
    missing = need - set(cells.columns)
    if missing:
        raise ParameterError(f"cells must have columns {sorted(need)}; missing "
                             f"{sorted(missing)}")
    shown = cells[cells["category"].astype(str) != "no pattern"].copy()
    if places is not None:
        if len(places) != len(shown):
            raise ParameterError(f"places must have one row per patterned cell "
                                 f"({len(shown)}), got {len(places)}")
        for col in ("place", "ward", "streets", "landmarks"):
            shown[col] = places[col].to_numpy() if col in places.columns else ""
    else:
        shown["place"] = shown["h3"].astype(str)
        shown["ward"] = ""
        shown["streets"] = ""
        shown["landmarks"] = ""
    shown["_order"] = shown["category"].astype(str).map(ORDER).fillna(99)
    by = ["csp_name", "_order"] + (["count"] if "count" in shown.columns else [])
    asc = [True, True] + ([False] if "count" in shown.columns else [])
    shown = shown.sort_values(by, ascending=asc, kind="stable").drop(columns="_order")
    return gpd.GeoDataFrame(shown.reset_index(drop=True),
                            geometry="geometry" if "geometry" in shown.columns
                            else None)


def _street(row: pd.Series) -> str:
    """Return a cell's first street label that is not a landmark ("Car park")."""
    landmarks = {t.strip() for t in str(row.get("landmarks", "") or "").split(",")}
    for label in str(row.get("streets", "") or "").split(" / "):
        name = label.strip().removeprefix("near ").strip()
        if name and label.strip() not in landmarks and name not in landmarks:
            return name
    return ""


def _where(group: pd.DataFrame) -> str:
    """Say where a group of cells lies.

    One cell: "around <its street>"; cells all in one ward: "in <ward>";
    otherwise "the busiest around <the busiest cell's street>". A street is
    the first of a cell's labels that is not a landmark; without one, the ward.
    """
    wards = group["ward"].astype(str).replace("", pd.NA).dropna()
    busiest = (group.sort_values("count", ascending=False, kind="stable")
               if "count" in group.columns else group)
    street = _street(busiest.iloc[0])
    if len(group) > 1 and len(wards) == len(group) and wards.nunique() == 1:
        return f"in {wards.iloc[0]}"
    ward = str(busiest["ward"].iloc[0])
    where = f"around {street}" if street else (f"in {ward}" if ward else
                                               f"at {busiest['place'].iloc[0]}")
    return where if len(group) == 1 else f"(the busiest {where})"


def trend_sentence(cells: pd.DataFrame, *, csp_name: str) -> str:
    """Return one plain sentence of a CSP's patterns, worst news first.

    Parameters
    ----------
    cells : pandas.DataFrame
        :func:`trend_cells` output (``csp_name``, ``category``, ``ward``,
        ``streets``, ``place``, optionally ``count``).
    csp_name : str, keyword-only

    Returns
    -------
    str
        For example "3 intensifying hot spots around Commercial Road; 2
        diminishing in Fratton." Up to :data:`SENTENCE_PARTS` patterns; the
        first of each side names "hot spots" or "cold spots", the rest only
        the pattern. One cell lies "around" its street; a group "in" a ward
        when all its cells share one, otherwise "(the busiest around ...)".
    """
    mine = cells[cells["csp_name"].astype(str) == csp_name]
    if mine.empty:
        return (f"{csp_name}: no emerging pattern (no cell was hot or cold often "
                "enough to show one).")
    parts: list[str] = []
    named_side: set[str] = set()
    categories = sorted(set(mine["category"].astype(str)),
                        key=lambda c: ORDER.get(c, 99))
    for category in categories[:SENTENCE_PARTS]:
        group = mine[mine["category"].astype(str) == category]
        kind, side = short_kind(category)
        n = len(group)
        noun = "" if side in named_side else (
            f" {side} spot" + ("s" if n > 1 else ""))
        named_side.add(side)
        parts.append(f"{n} {kind}{noun} {_where(group)}")
    more = len(categories) - SENTENCE_PARTS
    tail = f"; and {more} other pattern{'s' if more > 1 else ''}" if more > 0 else ""
    return f"{csp_name}: " + "; ".join(parts) + tail + "."


def month_coverage(rows: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Return which sources have rows in each month, and what that means.

    Parameters
    ----------
    rows : pandas.DataFrame
        The rows the trend counted (``occurred_from``, ``source``).
    months : list of str
        The months of the trend (``YYYY-MM``), oldest first.

    Returns
    -------
    pandas.DataFrame
        One row per month: ``month``, ``sources`` (comma-joined, those with
        rows), ``rows`` and ``status``: ``"missing"`` (no row),
        ``"one source only"`` (when the table holds more than one source and
        only one has rows this month) or ``"all sources"``.
    """
    when = month_text(rows["occurred_from"])
    source = (rows["source"].astype(str) if "source" in rows.columns
              else pd.Series("all", index=rows.index))
    every = sorted(set(source))
    out = []
    for month in months:
        here = source[(when == month).to_numpy()]
        have = sorted(set(here))
        if not have:
            status = "missing"
        elif len(every) > 1 and len(have) == 1:
            status = "one source only"
        else:
            status = "all sources"
        out.append({"month": month, "sources": ",".join(have), "rows": len(here),
                    "status": status})
    return pd.DataFrame(out, columns=["month", "sources", "rows", "status"])


def _runs(months: list[str]) -> str:
    """Join months into runs: 2024-01 to 2024-04, 2025-08."""
    if not months:
        return ""
    periods = [pd.Period(m, freq="M") for m in months]
    runs: list[list[pd.Period]] = [[periods[0]]]
    for p in periods[1:]:
        if p.ordinal == runs[-1][-1].ordinal + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]} to {r[-1]}"
                     for r in runs)


def coverage_notes(coverage: pd.DataFrame) -> list[str]:
    """Return the months missing and those covered by one source, in words."""
    notes = []
    missing = coverage.loc[coverage["status"] == "missing", "month"].tolist()
    if missing:
        notes.append(f"Months with no data, left out of the trend (not counted as "
                     f"zero): {_runs(missing)}.")
    single = coverage[coverage["status"] == "one source only"]
    for source, part in single.groupby("sources", sort=True):
        name = SOURCE_LABELS.get(str(source), str(source))
        notes.append(f"Months covered by {name} only: "
                     f"{_runs(part['month'].tolist())}.")
    if len(single):
        notes.append("A cell that turns hot when a source begins or returns can "
                     "show as new or intensifying because of the data, not the "
                     "streets.")
    return notes


def summarise_trends(cells: pd.DataFrame, rows: pd.DataFrame, *,
                     months: list[str], places: pd.DataFrame | None = None,
                     period: str = "month", reason: str = "",
                     warnings: list[str] | None = None,
                     csp_names: list[str] | None = None) -> TrendSummary:
    """Build the :class:`TrendSummary` of an emerging hot-spot result.

    ``cells`` and ``places`` as in :func:`trend_cells`; ``rows`` the rows the
    trend counted; ``months`` its periods; ``csp_names`` the CSPs to write a
    sentence for (default those with cells).
    """
    named = trend_cells(cells, places)
    counts = (named.groupby(["csp_name", "category"], sort=False).size()
              .rename("cells").reset_index())
    names = csp_names or sorted(set(cells["csp_name"].astype(str)))
    sentences = {n: trend_sentence(named, csp_name=n) for n in names}
    coverage = month_coverage(rows, months) if period == "month" else \
        pd.DataFrame(columns=["month", "sources", "rows", "status"])
    extra: dict[str, Any] = {"period": period, "reason": reason}
    logger.info("trend summary: %d patterned cells in %d CSPs (%s)", len(named),
                len(names), extra)
    return TrendSummary(cells=named, counts=counts, sentences=sentences,
                        coverage=coverage, notes=coverage_notes(coverage),
                        period=period, reason=reason,
                        warnings=list(warnings or []))

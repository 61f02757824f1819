"""Compare the CSPs: the league table of a VRU manager's review.

:func:`league_table` returns one row per CSP of the view's grouping (the 14
districts, or the 12 of the ONS 2024 grouping) and a HIPS row computed over all
of HIPS (never a copy of one CSP's row), from the one selection rule through
:func:`hotspot.analysis.analyse`:

- **occurrences** in the period and the **rate per 1,000 residents** (Census
  2021 or ONS mid-2020 residents, the population data of
  :mod:`hotspot.context.rates`) with its exact 95% Poisson interval
  (:func:`poisson_interval`, Garwood 1936);
- the **change** against the previous period of equal length and against the
  same months a year earlier, compared only on the sources present in every
  month of both periods (police.uk starts in 2025-01 here, with January to
  April 2024 also published; the SYNTHETIC records extract covers 2024-10 to
  2025-09), and tested with the conditional binomial test of two Poisson counts
  (:func:`change_test`). A period with a month no source covers is *not
  covered* and named;
- **concentration**: the share of the occurrences counted in the CSP's cells
  that lie in its top 5% of cells (by count, at the view's resolution);
- the share in **IMD deciles 1–2** (the LSOA each occurrence lies in,
  :func:`hotspot.context.deprivation.attach_imd`) beside the residents' share;
- the **night-time share** (20:00 to 03:59) of the occurrences with a recorded
  time: only the SYNTHETIC records carry times (police.uk gives the month);
- the **deliberate-fire co-location index**
  (:func:`hotspot.context.fires.colocation_summary`; the fire incidents are
  SYNTHETIC): the geometric mean of the CSP's violence and fire rates over the
  HIPS rates (1 = HIPS), and the share of its violence in cells hot for both.

CSPs with fewer than :data:`SPARSE_BELOW` occurrences are marked *sparse*: a
rate of a few occurrences says little (its interval shows how little).
:func:`partner_table` applies disclosure control to the table.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot.context.deprivation import HIPS
from hotspot.errors import ParameterError
from hotspot.selection import month_text
from hotspot.view import ALL_CSPS, View

logger = logging.getLogger(__name__)

#: Occurrences below which a CSP's rate is marked sparse.
SPARSE_BELOW = 20
#: Share of a CSP's cells whose occurrences make the concentration (top 5%).
TOP_CELL_SHARE = 0.05
#: Night-time hours: from 20:00 up to (not including) 04:00.
NIGHT_FROM_HOUR = 20
NIGHT_TO_HOUR = 4
#: Months in the default period (the last quarter of the data).
DEFAULT_MONTHS = 3
#: Significance level of the change test.
CHANGE_ALPHA = 0.05
#: Source labels.
SOURCE_LABELS: dict[str, str] = {"police_uk": "police.uk",
                                 "records": "records (SYNTHETIC)"}

#: Column → (label with unit, definition): what every surface shows.
COLUMNS: dict[str, tuple[str, str]] = {
    "csp_name": ("CSP", "Community Safety Partnership (HIPS: all of them)"),
    "occurrences": ("Occurrences", "serious-violence occurrences in the period "
                    "(the one selection rule: HIPS definition, no data-quality "
                    "flags, the view's categories and flags)"),
    "residents": ("Residents", "usual residents (Census 2021 for IMD 2025, ONS "
                  "mid-2020 for IMD 2019)"),
    "rate_per_1000": ("Rate per 1,000 residents", "occurrences per 1,000 "
                      "residents over the period (not annualised)"),
    "rate_low": ("Rate, 95% low", "exact Poisson (Garwood) 95% interval of the "
                 "rate, lower end"),
    "rate_high": ("Rate, 95% high", "exact Poisson (Garwood) 95% interval, upper "
                  "end"),
    "sparse": ("Sparse", f"fewer than {SPARSE_BELOW} occurrences: a rate of so "
               "few says little"),
    "previous_now": ("Now (vs previous)", "occurrences in the period on the "
                     "sources compared with the previous period"),
    "previous_then": ("Previous period", "occurrences in the previous period of "
                      "equal length, same sources"),
    "previous_change_pct": ("Change vs previous, %", "(now - previous) / previous"),
    "previous_p": ("p (vs previous)", "two-sided conditional binomial test of two "
                   "Poisson counts (now | now + previous ~ Binomial(n, 1/2))"),
    "previous_reading": ("Vs previous period", "up or down when p < 0.05, else "
                         "no clear change; 'not covered' when a month has no "
                         "data"),
    "year_now": ("Now (vs a year ago)", "occurrences in the period on the "
                 "sources compared with the same months a year earlier"),
    "year_then": ("A year earlier", "occurrences in the same months a year "
                  "earlier, same sources"),
    "year_change_pct": ("Change vs a year ago, %", "(now - then) / then"),
    "year_p": ("p (vs a year ago)", "as for the previous period"),
    "year_reading": ("Vs a year earlier", "as for the previous period"),
    "cells": ("Cells", "H3 cells of the CSP at the view's resolution"),
    "top5_share": ("Share in top 5% of cells", "share of the occurrences counted "
                   "in the CSP's cells that lie in its top 5% of cells by count "
                   "(concentration)"),
    "imd_1_2_share": ("Share in IMD deciles 1-2", "share of the occurrences in "
                      "the most deprived 20% of LSOAs in England"),
    "residents_imd_1_2_share": ("Residents in IMD deciles 1-2", "the baseline: "
                                "share of the CSP's residents living there"),
    "timed": ("With a time (SYNTHETIC)", "occurrences with a recorded time: "
              "SYNTHETIC records only (police.uk gives the month)"),
    "night_share": ("Night share 20:00-04:00 (SYNTHETIC)", "share of the "
                    "occurrences with a time that started 20:00 to 03:59"),
    "fires": ("Deliberate fires (SYNTHETIC)", "deliberate primary and secondary "
              "fires in the period (SYNTHETIC incidents)"),
    "fire_index": ("Fire co-location index (SYNTHETIC)", "geometric mean of the "
                   "violence and fire rates per 1,000 residents over the HIPS "
                   "rates (HIPS = 1)"),
    "share_hot_both": ("Share in fire+violence hot cells (SYNTHETIC)", "share of "
                       "the violence counted in cells hot (Gi* 95%) for both "
                       "violence and deliberate fires"),
}


@dataclass(frozen=True)
class Comparison:
    """A comparison period and what it can be compared on.

    Attributes
    ----------
    name : str
        ``"previous"`` or ``"year"``.
    start, end : str
        First and last month (``YYYY-MM``).
    sources : tuple of str
        Sources present in every month of both periods (compared on these).
    missing : tuple of str
        Months of either period that no source covers.
    """

    name: str
    start: str
    end: str
    sources: tuple[str, ...]
    missing: tuple[str, ...] = ()

    @property
    def covered(self) -> bool:
        """True when both periods have data in every month on common sources."""
        return not self.missing and bool(self.sources)

    def describe(self) -> str:
        """Return a sentence saying what is compared, or why nothing is."""
        what = {"previous": "the previous period", "year": "a year earlier"}[
            self.name]
        span = f"{self.start} to {self.end}"
        if self.missing:
            return (f"Against {what} ({span}): not covered, no data for "
                    f"{', '.join(self.missing)}.")
        if not self.sources:
            return (f"Against {what} ({span}): not comparable, no source covers "
                    "every month of both periods.")
        names = ", ".join(SOURCE_LABELS.get(s, s) for s in self.sources)
        return f"Against {what} ({span}): compared on {names} only."


@dataclass
class LeagueTable:
    """The league table and what it rests on.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per CSP (code order) then HIPS; columns in :data:`COLUMNS`
        order (``csp_code`` first).
    start, end : str
        The period (``YYYY-MM``, inclusive).
    comparisons : dict of str to Comparison
        ``previous`` and ``year``.
    notes : list of str
        Plain sentences for every surface (coverage, SYNTHETIC parts, sparse).
    synthetic : bool
        True when any counted row is SYNTHETIC.
    view : View
        The view the table was computed for (period set).
    """

    table: pd.DataFrame
    start: str
    end: str
    comparisons: dict[str, Comparison]
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False
    view: View = field(default_factory=View)


# ------------------------------------------------------------------ statistics
def poisson_interval(count: float, *, level: float = 0.95) -> tuple[float, float]:
    """Return the exact (Garwood) interval of a Poisson mean from one count.

    Parameters
    ----------
    count : float
        Observed count (a whole number >= 0).
    level : float, keyword-only
        Confidence level (0.95).

    Returns
    -------
    (low, high) : tuple of float
        ``chi2.ppf(a/2, 2k) / 2`` (0 when k = 0) and ``chi2.ppf(1 - a/2, 2k + 2)
        / 2`` with ``a = 1 - level``.

    References
    ----------
    Garwood, F. (1936). Fiducial limits for the Poisson distribution.
    Biometrika 28, 437-442.
    """
    from scipy.stats import chi2

    if not 0 < level < 1:
        raise ParameterError(f"level must be in (0, 1), got {level!r}")
    if not (count >= 0 and float(count) == math.floor(count)):
        raise ParameterError(f"count must be a whole number >= 0, got {count!r}")
    alpha = 1 - level
    low = 0.0 if count == 0 else float(chi2.ppf(alpha / 2, 2 * count) / 2)
    high = float(chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2)
    return low, high


def change_test(now: int, then: int) -> float:
    """Return the two-sided p of "the two periods have the same rate".

    Two Poisson counts over periods of equal length and the same population:
    given their total n, ``now`` is Binomial(n, 1/2) when the rates are equal
    (the conditional test; :func:`scipy.stats.binomtest`). NaN when n = 0.
    """
    from scipy.stats import binomtest

    now, then = int(now), int(then)
    if now < 0 or then < 0:
        raise ParameterError(f"counts must be >= 0, got {now!r} and {then!r}")
    if now + then == 0:
        return float("nan")
    return float(binomtest(now, now + then, 0.5).pvalue)


def reading(now: int, then: int, p: float, *, alpha: float = CHANGE_ALPHA) -> str:
    """Say a change in words: up/down when p < alpha, else no clear change."""
    if not np.isfinite(p):
        return "no occurrences in either period"
    pct = "" if then == 0 else f" {100 * (now - then) / then:+.0f}%"
    if p < alpha:
        way = "up" if now > then else "down"
        return f"{way}{pct}, more than chance (p = {p:.3f})"
    return f"no clear change{pct} (p = {p:.2f})"


def top_share(counts: pd.Series, *, share: float = TOP_CELL_SHARE) -> float:
    """Return the share of the total in the top ``share`` of cells by count.

    The top cells are the ``ceil(share * cells)`` with the highest counts.
    NaN when the total is 0.
    """
    values = np.sort(pd.to_numeric(counts, errors="coerce").fillna(0)
                     .to_numpy(dtype=float))[::-1]
    total = values.sum()
    if not len(values) or total <= 0:
        return float("nan")
    n = max(1, math.ceil(share * len(values)))
    return float(values[:n].sum() / total)


# ---------------------------------------------------------------------- periods
def month_sources(occurrences: pd.DataFrame) -> dict[str, frozenset[str]]:
    """Return the sources with rows (no data-quality flag) in each month."""
    from hotspot.ingest.quality import flagged

    keep = ~flagged(occurrences).to_numpy(dtype=bool)
    rows = occurrences[keep]
    months = month_text(rows["occurred_from"])
    pairs = pd.DataFrame({"month": months.to_numpy(),
                          "source": rows["source"].astype(str).to_numpy()})
    pairs = pairs.dropna().drop_duplicates()
    return {str(m): frozenset(g["source"]) for m, g in pairs.groupby("month")}


def _months(start: str, end: str) -> list[str]:
    return [str(p) for p in pd.period_range(start, end, freq="M")]


def _shift(month: str, by: int) -> str:
    return str(pd.Period(month, freq="M") + by)


def period_of(view: View, available: Mapping[str, frozenset[str]]) -> tuple[str, str]:
    """Return the view's months, or the last :data:`DEFAULT_MONTHS` of the data."""
    for value in (view.month_from, view.month_to):
        if value is not None and len(value) != 7:
            raise ParameterError(f"the review compares whole months (YYYY-MM), got "
                                 f"{value!r}")
    if not available:
        raise ParameterError("the store has no months of data")
    last = max(available)
    end = view.month_to or last
    start = view.month_from or _shift(end, 1 - DEFAULT_MONTHS)
    if start > end:
        raise ParameterError(f"from must not be after to, got {start} and {end}")
    return start, end


def comparison(name: str, start: str, end: str, *, by: int,
               available: Mapping[str, frozenset[str]]) -> Comparison:
    """Return the comparison period ``by`` months before, and its coverage."""
    now = _months(start, end)
    then = [_shift(m, -by) for m in now]
    missing = tuple(m for m in then + now if not available.get(m))
    common: set[str] | None = None
    for m in then + now:
        have = set(available.get(m, frozenset()))
        common = have if common is None else common & have
    return Comparison(name=name, start=then[0], end=then[-1],
                      sources=tuple(sorted(common or ())), missing=missing)


# ------------------------------------------------------------------------ table
def league_table(
    occurrences: gpd.GeoDataFrame,
    view: View,
    *,
    fires: gpd.GeoDataFrame | None = None,
    csps: Sequence[str] = (),
    sparse_below: int = SPARSE_BELOW,
) -> LeagueTable:
    """Return one row per CSP and a HIPS row: counts, rates, changes, context.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        The canonical occurrence table (a store). Not modified.
    view : View
        Categories, flags, resolution, grouping, IMD edition and the period
        (``month_from``/``month_to``; default the last
        :data:`DEFAULT_MONTHS` months of the data). Its CSP is ignored: every
        CSP is computed, so that the HIPS row covers all of HIPS.
    fires : geopandas.GeoDataFrame, optional, keyword-only
        Deliberate fires located with :func:`hotspot.context.fires.locate_fires`
        (``occurred_at``, ``csp_code``); without them the fire columns are empty.
    csps : sequence of str, keyword-only
        CSP codes to keep in the table (the HIPS row is always over all).
    sparse_below : int, keyword-only
        Occurrences below which a row is marked sparse.

    Returns
    -------
    LeagueTable
    """
    from hotspot.analysis import analyse
    from hotspot.boundaries import load_csps

    available = month_sources(occurrences)
    start, end = period_of(view, available)
    view = view.with_(csp=ALL_CSPS, month_from=start, month_to=end)
    analysis = analyse(occurrences, view)
    rows = analysis.rows
    groups = load_csps(grouping=view.settings().grouping)
    key = _group_key(rows, groups)
    length = len(_months(start, end))
    comparisons = {
        "previous": comparison("previous", start, end, by=length, available=available),
        "year": comparison("year", start, end, by=12, available=available),
    }
    residents, deprived = _residents(view, groups)
    table = pd.DataFrame({"csp_code": list(groups["csp_code"]) + [HIPS],
                          "csp_name": list(groups["csp_name"]) + [HIPS]})
    codes = table["csp_code"]
    counts = key.value_counts()
    table["occurrences"] = [len(rows) if c == HIPS else int(counts.get(c, 0))
                            for c in codes]
    table["residents"] = [int(residents.sum()) if c == HIPS
                          else int(residents.get(c, 0)) for c in codes]
    _rates(table)
    table["sparse"] = table["occurrences"] < sparse_below
    for name, comp in comparisons.items():
        _change(table, name, comp, start=start, end=end, occurrences=occurrences,
                view=view, groups=groups)
    _concentration(table, analysis.result.cells)
    bound = table.loc[table["top5_share"] >= 1 - 1e-12, "csp_name"].tolist()
    if bound:
        notes_bound = [f"Share in the top 5% of cells is 1 where every cell with "
                       f"an occurrence fits in the top 5% (fewer such cells than "
                       f"5% of the CSP's cells: a bound, not a finding): "
                       f"{', '.join(bound)}."]
    else:
        notes_bound = []
    _deprivation(table, rows, key, deprived, view)
    _night(table, rows, key)
    notes = [c.describe() for c in comparisons.values()]
    notes += _fires(table, analysis, fires, residents, start, end)
    notes += notes_bound
    sparse = table.loc[table["sparse"] & (codes != HIPS), "csp_name"].tolist()
    if sparse:
        notes.append(f"Sparse (fewer than {sparse_below} occurrences, a rate means "
                     f"little): {', '.join(sparse)}.")
    if analysis.synthetic:
        notes.insert(0, "SYNTHETIC: the records extract (and the times, and the "
                     "fires) are generated, not real police data.")
    if csps:
        table = table[codes.isin(list(csps)) | (codes == HIPS)]
    table = table.reset_index(drop=True)
    logger.info("league table %s to %s: %d rows", start, end, len(table))
    return LeagueTable(table=table, start=start, end=end, comparisons=comparisons,
                       notes=notes, synthetic=analysis.synthetic, view=view)


def _group_key(rows: pd.DataFrame, groups: pd.DataFrame) -> pd.Series:
    """Return each row's CSP in the grouping (district codes are LAD codes)."""
    to_group = {lad.strip(): code for code, lads in zip(
        groups["csp_code"], groups["lad_code"], strict=True)
        for lad in str(lads).split(",")}
    codes = rows["csp_code"].astype("string")
    known = set(groups["csp_code"])
    return codes.map(lambda c: c if c in known else to_group.get(str(c), pd.NA))


def _residents(view: View, groups: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Residents per CSP, and the share of them in IMD deciles 1-2."""
    from hotspot.context.deprivation import lsoa_context

    ctx = lsoa_context(view.imd, grouping=view.grouping)
    ctx = ctx[ctx["csp_code"].isin(set(groups["csp_code"]))]
    residents = ctx.groupby("csp_code")["residents"].sum()
    poor = ctx[ctx["imd_decile"] <= 2].groupby("csp_code")["residents"].sum()
    share = (poor.reindex(residents.index).fillna(0) / residents)
    share[HIPS] = float(poor.sum() / residents.sum())
    return residents, share


def _rates(table: pd.DataFrame) -> None:
    per = 1000 / table["residents"].where(table["residents"] > 0)
    table["rate_per_1000"] = table["occurrences"] * per
    bounds = [poisson_interval(int(n)) for n in table["occurrences"]]
    table["rate_low"] = [b[0] for b in bounds] * per
    table["rate_high"] = [b[1] for b in bounds] * per


def _counts_between(occurrences: gpd.GeoDataFrame, view: View, start: str, end: str,
                    sources: tuple[str, ...], groups: pd.DataFrame) -> pd.Series:
    """Occurrences per CSP (and HIPS) of the months on the sources, by the rule."""
    from dataclasses import replace

    from hotspot.selection import select

    selection = replace(view.selection(), start=start, end=end, csps=())
    rows = select(occurrences, selection).rows
    rows = rows[rows["source"].astype(str).isin(sources).to_numpy()]
    counts = _group_key(rows, groups).value_counts()
    counts[HIPS] = len(rows)
    return counts


def _change(table: pd.DataFrame, name: str, comp: Comparison, *, start: str,
            end: str, occurrences: gpd.GeoDataFrame, view: View,
            groups: pd.DataFrame) -> None:
    columns = [f"{name}_now", f"{name}_then", f"{name}_change_pct", f"{name}_p",
               f"{name}_reading"]
    if not comp.covered:
        for col in columns[:4]:
            table[col] = np.nan
        text = "not covered" if comp.missing else "not comparable"
        table[columns[4]] = f"{text} ({comp.start} to {comp.end})"
        return
    now = _counts_between(occurrences, view, start, end, comp.sources, groups)
    then = _counts_between(occurrences, view, comp.start, comp.end, comp.sources,
                           groups)
    a = table["csp_code"].map(now).fillna(0).astype("int64")
    b = table["csp_code"].map(then).fillna(0).astype("int64")
    table[columns[0]] = a
    table[columns[1]] = b
    table[columns[2]] = 100 * (a - b) / b.where(b > 0)
    table[columns[3]] = [change_test(x, y) for x, y in zip(a, b, strict=True)]
    table[columns[4]] = [reading(x, y, p) for x, y, p in
                         zip(a, b, table[columns[3]], strict=True)]


def _concentration(table: pd.DataFrame, cells: pd.DataFrame | None) -> None:
    if cells is None or cells.empty:
        table["cells"] = np.nan
        table["top5_share"] = np.nan
        return
    unique = cells.drop_duplicates("h3")
    own = {code: group["count"] for code, group in cells.groupby("csp_code")}
    table["cells"] = [len(unique) if c == HIPS else len(own.get(c, ()))
                      for c in table["csp_code"]]
    table["top5_share"] = [
        top_share(unique["count"] if c == HIPS else own.get(c, pd.Series(dtype=float)))
        for c in table["csp_code"]]


def _deprivation(table: pd.DataFrame, rows: gpd.GeoDataFrame, key: pd.Series,
                 deprived: pd.Series, view: View) -> None:
    from hotspot.context.deprivation import attach_imd

    decile = (pd.to_numeric(attach_imd(rows, edition=view.imd)["imd_decile"])
              .astype("Float64"))
    poor = (decile <= 2).where(decile.notna())
    frame = pd.DataFrame({"key": key.to_numpy(), "poor": poor.to_numpy()}).dropna()
    frame["poor"] = frame["poor"].astype(float)
    share = frame.groupby("key")["poor"].mean()
    share[HIPS] = frame["poor"].mean() if len(frame) else np.nan
    table["imd_1_2_share"] = table["csp_code"].map(share).astype(float)
    table["residents_imd_1_2_share"] = table["csp_code"].map(deprived).astype(float)


def _night(table: pd.DataFrame, rows: pd.DataFrame, key: pd.Series) -> None:
    precision = rows.get("date_precision", pd.Series("", index=rows.index))
    timed = precision.astype("string").isin(["minute", "hour"]).fillna(False)
    hours = pd.to_datetime(rows["occurred_from"]).dt.hour
    night = (hours >= NIGHT_FROM_HOUR) | (hours < NIGHT_TO_HOUR)
    frame = pd.DataFrame({"key": key.to_numpy(), "timed": timed.to_numpy(bool),
                          "night": night.to_numpy(bool)})
    frame = frame[frame["timed"]]
    n = frame.groupby("key").size()
    nights = frame.groupby("key")["night"].sum()
    n[HIPS], nights[HIPS] = len(frame), int(frame["night"].sum())
    table["timed"] = table["csp_code"].map(n).fillna(0).astype("int64")
    table["night_share"] = (table["csp_code"].map(nights).fillna(0)
                            / table["timed"].where(table["timed"] > 0))


def _fires(table: pd.DataFrame, analysis: Any, fires: gpd.GeoDataFrame | None,
           residents: pd.Series, start: str, end: str) -> list[str]:
    """Add the fire columns; return notes."""
    from hotspot.context.fires import colocation_cells, colocation_summary

    for col in ("fires", "fire_index", "share_hot_both"):
        table[col] = np.nan
    if fires is None:
        return ["No fire incidents given: the fire columns are empty."]
    month = month_text(fires["occurred_at"])
    chosen = fires[((month >= start) & (month <= end)).to_numpy(dtype=bool)]
    chosen = chosen[chosen["csp_code"].notna().to_numpy(dtype=bool)]
    if chosen.empty:
        return [f"No deliberate fires in {start} to {end}: the fire columns are "
                "empty."]
    cells = analysis.result.cells
    keep = [c for c in ("h3", "csp_code", "csp_name", "study_area", "geometry")
            if c in cells.columns]
    both = colocation_cells(analysis.counted_rows, chosen, cells[keep],
                            k=analysis.view.k, fdr=analysis.view.fdr)
    by_csp = chosen.groupby("csp_code").size()
    summary = colocation_summary(both, residents=residents, fires_by_csp=by_csp)
    summary = summary.set_index("csp_code")
    table["fires"] = table["csp_code"].map(summary["fires"]).fillna(0).astype("int64")
    table["fire_index"] = table["csp_code"].map(summary["both_index"]).astype(float)
    table["share_hot_both"] = table["csp_code"].map(
        summary["violence_in_hot_both"]).astype(float)
    synthetic = bool(chosen.get("is_synthetic", pd.Series(False)).astype("boolean")
                     .fillna(False).any())
    return ["Deliberate fires: SYNTHETIC incidents." if synthetic
            else "Deliberate fires: fire-service incidents."]


def labelled(table: pd.DataFrame) -> pd.DataFrame:
    """Return the table with the column labels of :data:`COLUMNS` (for display)."""
    names = {c: COLUMNS[c][0] for c in table.columns if c in COLUMNS}
    return table.rename(columns=names)


def definitions() -> pd.DataFrame:
    """Return every column's label and definition."""
    return pd.DataFrame([(c, label, text) for c, (label, text) in COLUMNS.items()],
                        columns=["column", "label", "definition"])

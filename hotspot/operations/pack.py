"""A patrol plan an inspector can use: named cells, one visit rule, patrol cards.

:func:`pack_plan` takes a :class:`~hotspot.operations.patrol.PatrolPlan` and
adds what the printable plan and the cards need:

- a name per cell (:func:`hotspot.context.places.name_cells`, from the
  police.uk streets inside it), so no list shows a bare H3 id;
- the visit window of the one peak rule
  (:func:`hotspot.context.peaks.peak_windows_by_cell`, the plan's pool as the
  fallback), written into the plan's ``peak_days``/``peak_window`` columns so
  the table, the first-page map and the cards say the same;
- the period of each source (:func:`hotspot.coverage.coverage_text`) and
  SYNTHETIC when any row behind the plan, or any window's time, is synthetic;
- one :class:`~hotspot.render.patrol_card.PatrolCard` per planned cell.

:func:`csp_plan_pack` is the "my patrol plan" path: a CSP and hours a week in,
the pack out (the ranking's order, no operation needed). The CLI
(``hotspot operation plan --csp … --pdf … --cards DIR``) and the app's map
page both call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date

import geopandas as gpd
import h3
import pandas as pd

from hotspot.coverage import coverage_text, source_coverage
from hotspot.errors import ParameterError
from hotspot.operations.patrol import (
    TIMING_WARNING_TAIL,
    PatrolPlan,
    plan_patrols,
    timing_warning,
)
from hotspot.render.patrol_card import PatrolCard, card_from_plan_row
from hotspot.selection import Selected, Selection

logger = logging.getLogger(__name__)

#: One line per source on the cards (the SYNTHETIC one says so).
SOURCE_LINES: dict[str, str] = {
    "police_uk": "police.uk street-level crime, Hampshire Constabulary (locations "
                 "snapped to streets, month only)",
    "records": "Records-system extract (times of day)",
}


@dataclass(frozen=True)
class PlanPack:
    """A patrol plan with its names, period, SYNTHETIC flag and cards.

    Attributes
    ----------
    plan : PatrolPlan
        The plan, its ``peak_days``/``peak_window``/``times_from``/
        ``timing_note`` columns from the one peak rule.
    places : tuple of str
        A name per planned cell, in the plan's order.
    period : str
        Each source's real coverage ("police.uk Jan–Sep 2025, August 2025 left
        out as implausible; records Oct 2024–Sep 2025 SYNTHETIC").
    synthetic : bool
        Any row behind the plan, or any window's times, is synthetic.
    cards : tuple of PatrolCard
        One per planned cell, in the plan's order.
    """

    plan: PatrolPlan
    places: tuple[str, ...]
    period: str
    synthetic: bool
    cards: tuple[PatrolCard, ...]


def _window_text(start: int, end: int) -> str:
    return f"{start:02d}:00-{end:02d}:00" if start >= 0 else "unknown"


def pack_plan(
    plan: PatrolPlan,
    *,
    rows: gpd.GeoDataFrame,
    store: pd.DataFrame,
    pool: gpd.GeoDataFrame | None = None,
    reasons: Mapping[str, str] | None = None,
    month_from: str | None = None,
    month_to: str | None = None,
) -> PlanPack:
    """Name the plan's cells, give them the one peak rule, and make their cards.

    Parameters
    ----------
    plan : PatrolPlan
    rows : geopandas.GeoDataFrame, keyword-only
        The rows the plan's cells counted (points in EPSG:27700): their
        police.uk streets name the cells, as in the map's top list.
    store : pandas.DataFrame, keyword-only
        The store's rows, flagged ones included: months and flags for the
        period.
    pool : geopandas.GeoDataFrame, optional, keyword-only
        Rows whose window a cell without a clear one of its own takes (the
        CSP's or the plan area's); ``rows`` when omitted.
    reasons : mapping of str to str, optional, keyword-only
        The ranking's one-sentence reason per H3 cell (``Ranking.cells``'
        ``reason``); a count sentence otherwise.
    month_from, month_to : str, optional, keyword-only
        The period the plan used (``YYYY-MM[-DD]``), for the period text.
    """
    from hotspot.context.peaks import peak_windows_by_cell
    from hotspot.context.places import name_cells

    cells = plan.cells
    if cells.empty:
        raise ParameterError("plan has no cell to pack")
    ids = cells["h3"].astype(str).tolist()
    resolution = h3.get_resolution(ids[0])
    names = name_cells(ids, occurrences=rows, resolution=resolution)
    windows = peak_windows_by_cell(rows, ids, resolution=resolution,
                                   pool=rows if pool is None else pool,
                                   days=int(plan.parameters.get("peak_days", 2)),
                                   hours=int(plan.parameters.get("window_hours", 4)))
    cells = cells.copy()
    cells["peak_days"] = windows["days"].to_numpy()
    cells["window_start_hour"] = windows["start_hour"].to_numpy()
    cells["window_end_hour"] = windows["end_hour"].to_numpy()
    cells["peak_window"] = [_window_text(int(a), int(b)) for a, b in
                            zip(windows["start_hour"], windows["end_hour"],
                                strict=True)]
    cells["times_from"] = windows["times_from"].to_numpy()
    cells["timing_note"] = windows["text"].to_numpy()
    cells["place"] = names["place"].to_numpy()
    # the warning follows the peak rule now in the cells, not the plan's first one
    warnings = [w for w in plan.warnings if not w.endswith(TIMING_WARNING_TAIL)]
    timing = timing_warning(cells)
    plan = replace(plan, cells=cells, warnings=warnings + ([timing] if timing else []))
    behind = rows if pool is None else pool
    synthetic = bool(
        ("is_synthetic" in behind.columns
         and behind["is_synthetic"].astype("boolean").fillna(False).any())
        or windows["synthetic"].astype(bool).any())
    period = coverage_text(store, month_from=month_from, month_to=month_to)
    sources = [SOURCE_LINES.get(c.source, c.name)
               + (": SYNTHETIC sample, generated" if c.synthetic else "")
               for c in source_coverage(store, month_from=month_from,
                                        month_to=month_to)]
    reasons = reasons or {}
    cards = []
    for i, (_, row) in enumerate(cells.iterrows()):
        reason = reasons.get(str(row["h3"])) or (
            f"{int(row['count'])} serious-violence occurrences in the period.")
        cards.append(card_from_plan_row(
            row, place=str(row["place"]), window=windows["window"].iloc[i],
            reason=f"Ranked #{int(row['rank'])} of the plan. {reason}",
            period=period, sources=sources, synthetic=synthetic,
            times_from=str(windows["times_from"].iloc[i])))
    return PlanPack(plan=plan, places=tuple(names["place"].astype(str)),
                    period=period, synthetic=synthetic, cards=tuple(cards))


def csp_plan_pack(
    store: gpd.GeoDataFrame,
    *,
    csp_code: str,
    patrol_hours_per_week: float,
    start: date | None = None,
    end: date | None = None,
    grouping: str = "district",
    resolution: int = 9,
    minutes_per_visit: int = 15,
    selector: Callable[[Selection], Selected] | None = None,
    title: str | None = None,
) -> PlanPack:
    """Plan patrols for a CSP from the ranking, with names and cards ("my patrol plan").

    Cells in the predictive ranking's order (:func:`hotspot.analysis.plan_cells`,
    every ranked cell with occurrences, ``rank_by="score"``), the weekly budget
    ``patrol_hours_per_week``; the pool for windows and coverage is the CSP.
    """
    from hotspot.analysis import plan_cells

    hot, rows = plan_cells(store, csp_code=csp_code, start=start, end=end,
                           grouping=grouping, resolution=resolution,
                           selector=selector)
    if hot.empty:
        raise ParameterError(f"csp_code {csp_code!r}: no ranked cell to plan")
    name = str(hot["csp_name"].iloc[0])
    plan = plan_patrols(hot, rows, patrol_hours_per_week=patrol_hours_per_week,
                        rank_by="score", hot_only=False, csp_code=csp_code,
                        minutes_per_visit=minutes_per_visit,
                        title=title or f"Patrol plan: {name}")
    pool = rows[rows["csp_code"] == csp_code] if "csp_code" in rows.columns \
        else rows
    reasons = (dict(zip(hot["h3"].astype(str), hot["reason"].astype(str),
                        strict=True)) if "reason" in hot.columns else None)
    when = pd.to_datetime(rows["occurred_from"])
    pack = pack_plan(plan, rows=rows, store=store, pool=pool, reasons=reasons,
                     month_from=None if start is None else f"{start:%Y-%m}",
                     month_to=None if end is None else f"{end:%Y-%m}")
    logger.info("patrol plan for %s: %d cells, %s to %s", name,
                len(pack.plan.cells), when.min(), when.max())
    return pack

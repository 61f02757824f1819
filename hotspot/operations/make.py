"""Making operations: from hot spots, daily visit windows, duplicates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as clock

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG
from hotspot.errors import ParameterError
from hotspot.operations.model import (
    DEFAULT_VISIT_MINUTES,
    Activity,
    Operation,
    TimeWindow,
    _new_id,
)

# ----------------------------------------------------------------------------
# making operations
# ----------------------------------------------------------------------------


def daily_windows(
    period_start: date,
    period_end: date,
    *,
    weekdays: Sequence[int],
    start_time: clock,
    end_time: clock,
) -> tuple[TimeWindow, ...]:
    """Return one window per chosen weekday in a period (end may pass midnight).

    Parameters
    ----------
    period_start, period_end : datetime.date
        First and last day, inclusive.
    weekdays : sequence of int, keyword-only
        0 = Monday ... 6 = Sunday.
    start_time, end_time : datetime.time, keyword-only
        Clock times; an ``end_time`` at or before ``start_time`` ends the next
        day, clipped to the end of the period.
    """
    bad = [d for d in weekdays if not 0 <= int(d) <= 6]
    if bad or not weekdays:
        raise ParameterError(
            f"weekdays must be integers 0 (Monday) to 6 (Sunday), got {list(weekdays)}"
        )
    stop = datetime.combine(period_end + timedelta(days=1), clock())
    out = []
    day = period_start
    while day <= period_end:
        if day.weekday() in {int(d) for d in weekdays}:
            start = datetime.combine(day, start_time)
            end = datetime.combine(day, end_time)
            if end <= start:
                end += timedelta(days=1)
            out.append(TimeWindow(start, min(end, stop)))
        day += timedelta(days=1)
    return tuple(out)


def operation_from_hotspots(
    cells: pd.DataFrame,
    *,
    name: str,
    period_start: date,
    period_end: date,
    area: BaseGeometry | None = None,
    csp_code: str | None = None,
    top_n: int = 5,
    rank_by: str = "score",
    hot_only: bool = False,
    minutes_per_visit: int = DEFAULT_VISIT_MINUTES,
    windows: Mapping[str, Sequence[TimeWindow]] | None = None,
    status: str = "draft",
) -> Operation:
    """Make an operation whose patrol zones are the top-ranked cells inside an area.

    Parameters
    ----------
    cells : pandas.DataFrame
        The predictive ranking's cells (``Ranking.cells`` of
        :func:`hotspot.analysis.rank_view`): ``h3``, ``csp_code``, ``csp_name``,
        ``score``, ``count``, ``harm``, ``z`` and ``bin``; or, with ``rank_by``
        other than ``"score"``, a Gi* cell table without ``score``.
    name : str, keyword-only
        Operation name.
    period_start, period_end : datetime.date, keyword-only
        First and last day of the operation.
    area : shapely geometry, optional, keyword-only
        Area to choose cells in (EPSG:27700), tested on cell centres. When None,
        the cells of ``csp_code``; the operation area is then the union of the
        chosen cells.
    csp_code : str, optional, keyword-only
        CSP to choose cells in (needed when several CSPs are in ``cells`` and no
        area is given).
    top_n : int, keyword-only
        Number of patrol zones.
    rank_by : {"score", "harm", "count", "z"}, keyword-only
        Order of the cells: ``score`` is the ranking's expected occurrences in
        the coming period (the recommended list every top surface shows); the
        others order by the period's own figures (ties broken by count, then z).
    hot_only : bool, keyword-only
        Only Gi* hot cells (``bin > 0``); otherwise every ranked cell.
    minutes_per_visit : int, keyword-only
        Target minutes per patrol visit (Koper: 15).
    windows : mapping of str to sequence of TimeWindow, optional, keyword-only
        Patrol windows per cell (for example from
        :func:`hotspot.operations.patrol.patrol_windows`); cells not in it get the whole
        period as one window.
    status : str, keyword-only
        Initial status.

    Returns
    -------
    Operation
        Not yet stored and not yet validated (call :func:`check_operation`).

    Raises
    ------
    ParameterError
        When columns are missing, ``rank_by`` is unknown, or no cell qualifies.
    """
    from hotspot.grid import cell_centres_bng, cell_polygons

    if rank_by not in RANK_BY:
        raise ParameterError(f"rank_by must be one of {RANK_BY}, got {rank_by!r}")
    needed = {"h3", "csp_code", "csp_name", "count", "harm", "z", "bin"}
    needed |= {"score"} if rank_by == "score" else set()
    missing = needed - set(cells.columns)
    if missing:
        raise ParameterError(
            f"cells must be a ranked cell table with columns {sorted(needed)}; "
            f"missing {sorted(missing)}"
        )
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ParameterError(f"top_n must be a positive integer, got {top_n!r}")
    pool = cells
    if csp_code is not None:
        pool = pool[pool["csp_code"] == csp_code]
    if area is not None:
        x, y = cell_centres_bng(pool["h3"].tolist())
        pool = pool[shapely.contains_xy(area, x, y)]
    if hot_only:
        pool = pool[pool["bin"] > 0]
    pool = pool[pool[rank_by] > 0] if rank_by == "score" else pool[pool["count"] > 0]
    if pool.empty:
        raise ParameterError(
            "no ranked cell lies inside the area given: widen the area, choose "
            "another CSP" + (", or set hot_only=False to rank every cell"
                             if hot_only else "")
        )
    codes = pool["csp_code"].unique()
    if csp_code is None and len(codes) > 1:
        raise ParameterError(
            f"the cells chosen lie in {len(codes)} CSPs ({sorted(codes)}); "
            "give csp_code or a smaller area"
        )
    order = [rank_by] + [c for c in ("count", "z", "harm") if c != rank_by]
    chosen = pool.sort_values(order + ["h3"], ascending=[False] * len(order) + [True])
    chosen = chosen.head(top_n)
    hexes = cell_polygons(chosen["h3"].tolist(), crs=BNG).to_numpy()
    period = TimeWindow(datetime.combine(period_start, clock()),
                        datetime.combine(period_end + timedelta(days=1), clock()))
    activities = []
    for rank, (cell, geom) in enumerate(zip(chosen["h3"], hexes, strict=True), 1):
        row = chosen[chosen["h3"] == cell].iloc[0]
        activities.append(Activity(
            kind="patrol_zone",
            label=f"Patrol zone {rank}",
            geometry=geom,
            windows=tuple(windows.get(cell, (period,))) if windows else (period,),
            minutes_per_visit=minutes_per_visit,
            h3=str(cell),
            notes=_zone_note(rank, rank_by, row),
        ))
    op_area = area if area is not None else shapely.union_all(hexes)
    return Operation(
        name=name,
        csp_code=str(chosen["csp_code"].iloc[0]),
        csp_name=str(chosen["csp_name"].iloc[0]),
        area=op_area,
        area_cells=() if area is not None else tuple(chosen["h3"].astype(str)),
        period_start=period_start,
        period_end=period_end,
        status=status,
        activities=tuple(activities),
        description=(f"patrol zones: the top {len(chosen)} cells "
                     f"{RANK_BY_TEXT[rank_by]}"),
    )


#: Orders an operation's patrol zones can be chosen by, and how each is said.
RANK_BY_TEXT = {
    "score": "of the predictive ranking (expected occurrences next)",
    "harm": "by harm in the period analysed",
    "count": "by occurrences in the period analysed",
    "z": "by Gi* z (significance, not a forecast)",
}
RANK_BY: tuple[str, ...] = tuple(RANK_BY_TEXT)


def _zone_note(rank: int, rank_by: str, row: pd.Series) -> str:
    """Say why a cell is a patrol zone: its rank, what ranked it, the evidence."""
    lead = (f"rank {rank}: expected {float(row['score']):.1f} next"
            if rank_by == "score" else f"rank {rank} by {rank_by}")
    z = float(row["z"])
    evidence = f", Gi* z {z:.2f}" if np.isfinite(z) else ""
    return (f"{lead}; {int(row['count'])} occurrences, harm "
            f"{float(row['harm']):.1f}{evidence}")


def duplicate_operation(operation: Operation, *, name: str | None = None) -> Operation:
    """Return a copy with new ids, status ``draft`` and version 0 (not stored)."""
    return replace(
        operation,
        name=name or f"{operation.name} (copy)",
        operation_id=_new_id("op"),
        status="draft",
        version=0,
        created_utc="",
        updated_utc="",
        is_demo=False,
        activities=tuple(replace(a, activity_id=_new_id("act"))
                         for a in operation.activities),
    )

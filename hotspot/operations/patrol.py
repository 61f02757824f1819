"""Patrol plans: which hot cells, on which days and hours, within a patrol budget.

The College of Policing's hot-spot advice is to rank equal-sized places by
crime (or harm) and put the most resource on the top of the list. A plan here:

1. ranks the cells of a CSP or an operation area by harm or count (Gi* hot
   cells only, by default);
2. for each cell finds its peak days and a peak time window from its weekday ×
   hour profile (:func:`hotspot.context.temporal.weekday_hour`). Only rows with
   minute-precision dates have an hour; when a cell has too few of them, the
   CSP-wide profile is used and the plan says so, and when the CSP has none
   (police.uk data are month-only) the plan says times cannot be given;
3. gives each cell visits of ``minutes_per_visit`` (15 by default: Koper's
   curve, 10 minutes minimum, 11-15 optimal) once an hour through its peak
   window on its peak days, and takes cells in rank order while the weekly
   patrol-hours budget lasts;
4. reports the expected coverage: the share of occurrences and of harm in the
   chosen cells, and the Prediction Accuracy Index, on a later period than
   the one the hot spots were found in when one is given.

References
----------
Koper, C. S. (1995). Just enough police presence: reducing crime and disorderly
behavior by optimizing patrol time in crime hot spots. *Justice Quarterly*
12(4), 649-672.

Chainey, S., Tompson, L. and Uhlig, S. (2008). The utility of hotspot mapping for
predicting spatial patterns of crime. *Security Journal* 21, 4-28.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot.context.temporal import WEEKDAYS, weekday_hour
from hotspot.crs import bng_to_lonlat
from hotspot.errors import ParameterError
from hotspot.grid import cell_centres_bng, points_to_cells
from hotspot.operations.model import DEFAULT_VISIT_MINUTES, TimeWindow

logger = logging.getLogger(__name__)

#: A cell needs this many timed occurrences for its own peak times.
MIN_TIMED = 8
RANK_BY: tuple[str, ...] = ("harm", "count", "score")
#: Relative slack when comparing areas summed in different orders (float sums).
AREA_RTOL = 1e-9
PLAN_COLUMNS: tuple[str, ...] = (
    "rank", "h3", "csp_name", "easting", "northing", "longitude", "latitude",
    "count", "harm", "z", "share_count", "share_harm", "timed", "month_only",
    "peak_days", "window_start_hour", "window_end_hour", "peak_window",
    "times_from", "visits_per_week", "minutes_per_visit", "patrol_minutes_per_week",
    "cumulative_patrol_hours", "timing_note",
)


#: The end of :func:`timing_warning`'s sentence (to find it among a plan's warnings).
TIMING_WARNING_TAIL = ("cells have too few timed occurrences for their own peak "
                       "times (only minute-precision rows have hours; police.uk rows "
                       "are month-only)")


def timing_warning(cells: pd.DataFrame) -> str | None:
    """Say how many of a plan's cells take their peak times from a wider pool."""
    borrowed = int((cells["times_from"] != "cell").sum())
    if not borrowed:
        return None
    return f"{borrowed} of {len(cells)} {TIMING_WARNING_TAIL}"


@dataclass
class PatrolPlan:
    """A ranked patrol plan and its expected coverage.

    Attributes
    ----------
    cells : pandas.DataFrame
        One row per chosen cell, columns :data:`PLAN_COLUMNS`, rank order.
        ``peak_days`` is comma-separated weekday names ("Fri,Sat");
        ``window_start_hour``/``window_end_hour`` are clock hours (the end may
        be below the start: past midnight); ``times_from`` is ``"cell"``,
        ``"csp"`` or ``"none"``.
    coverage : dict
        ``cells``, ``cells_in_pool``, ``area_km2``, ``pool_area_km2``,
        ``share_count``, ``share_harm``, ``pai`` (on the period the hot spots
        were found in) and, when a later period was given, ``test_label``,
        ``test_count``, ``test_share_count``, ``test_pai``.
    parameters : dict
        Budget, ranking, visit length, peak days and window hours.
    title : str
    warnings : list of str
    """

    cells: pd.DataFrame
    coverage: dict[str, Any]
    parameters: dict[str, Any]
    title: str
    warnings: list[str] = field(default_factory=list)


def _peak(table: pd.DataFrame, *, peak_days: int, window_hours: int
          ) -> tuple[list[int], int]:
    """Peak weekdays (0 = Mon) and the start hour of the busiest window."""
    grid = table.loc[list(WEEKDAYS), list(range(24))].to_numpy(dtype=float)
    by_day = grid.sum(axis=1)
    days = sorted(np.argsort(-by_day, kind="stable")[:peak_days].tolist())
    hours = grid[days].sum(axis=0)
    wrapped = np.concatenate([hours, hours[: window_hours - 1]])
    sums = np.convolve(wrapped, np.ones(window_hours), mode="valid")[:24]
    return days, int(np.argmax(sums))


def _profile(rows: pd.DataFrame) -> pd.DataFrame | None:
    timed = rows[rows["date_precision"].astype(str) == "minute"]
    if timed.empty:
        return None
    return weekday_hour(timed).table


def plan_patrols(
    cells: pd.DataFrame,
    occurrences: gpd.GeoDataFrame,
    *,
    patrol_hours_per_week: float,
    rank_by: str = "harm",
    hot_only: bool = True,
    csp_code: str | None = None,
    area: BaseGeometry | None = None,
    minutes_per_visit: int = DEFAULT_VISIT_MINUTES,
    peak_days: int = 2,
    window_hours: int = 4,
    visits_per_hour: float = 1.0,
    max_cells: int = 25,
    test_occurrences: gpd.GeoDataFrame | None = None,
    test_label: str = "later period",
    title: str | None = None,
) -> PatrolPlan:
    """Rank hot cells and fit patrol visits to them within a weekly budget.

    Parameters
    ----------
    cells : pandas.DataFrame
        Gi* cell table (:func:`hotspot.detect.gistar.gi_star` on
        :func:`hotspot.grid.count_points`): ``h3``, ``csp_code``, ``csp_name``,
        ``count``, ``harm`` and, for ``hot_only``, ``bin`` (``z`` optional).
    occurrences : geopandas.GeoDataFrame
        The occurrences the cells were counted from (points in EPSG:27700, with
        ``occurred_from`` and ``date_precision``), for the weekday × hour
        profiles.
    patrol_hours_per_week : float, keyword-only
        Weekly budget of patrol hours at the hot spots (visit time only).
    rank_by : {"harm", "count", "score"}, keyword-only
        Order of the cells: ``score`` is the predictive ranking's expected count
        (:func:`hotspot.analysis.rank_view`, the recommended order); ``harm`` and
        ``count`` the training period's own (ties broken by the other, then z).
    hot_only : bool, keyword-only
        Only Gi* hot cells (``bin > 0``); otherwise every cell with a count.
    csp_code : str, optional, keyword-only
        Plan for this CSP only (the pool for coverage and PAI is its cells).
    area : shapely geometry, optional, keyword-only
        Plan inside this area (EPSG:27700; cell centres tested), such as an
        operation area; the pool is then the cells inside it.
    minutes_per_visit : int, keyword-only
        Minutes per visit, 1 to 60 (Koper: 10 minimum, 11-15 optimal; 15).
    peak_days : int, keyword-only
        Number of peak weekdays per cell, 1 to 7.
    window_hours : int, keyword-only
        Length of the daily peak window, 1 to 24 hours.
    visits_per_hour : float, keyword-only
        Visits per hour of peak window (1: one visit an hour, the rest of the
        hour spent elsewhere, keeping visits unpredictable).
    max_cells : int, keyword-only
        Longest list, whatever the budget.
    test_occurrences : geopandas.GeoDataFrame, optional, keyword-only
        Occurrences from a later period, for an out-of-sample PAI.
    test_label : str, keyword-only
        How the later period is named in the plan ("Jun-Jul 2025").
    title : str, optional, keyword-only
        Plan title.

    Returns
    -------
    PatrolPlan

    Raises
    ------
    ParameterError
        When a parameter is out of range, columns are missing, no cell qualifies,
        or the budget cannot pay for the top cell.

    Notes
    -----
    Each chosen cell gets ``peak_days * window_hours * visits_per_hour`` visits a
    week, each of ``minutes_per_visit`` minutes. The Prediction Accuracy Index
    is ``PAI = (n / N) / (a / A)``: ``n`` occurrences in the chosen cells out of
    ``N`` in the pool, ``a`` the chosen cells' area out of the pool's ``A``
    (Chainey, Tompson & Uhlig 2008). On the period the hot spots were found
    in, it flatters; on a later period it measures prediction.

    References
    ----------
    Koper (1995); Chainey, Tompson & Uhlig (2008).
    """
    _check_plan_parameters(
        patrol_hours_per_week=patrol_hours_per_week, rank_by=rank_by,
        minutes_per_visit=minutes_per_visit, peak_days=peak_days,
        window_hours=window_hours, visits_per_hour=visits_per_hour,
        max_cells=max_cells)
    needed = {"h3", "csp_code", "csp_name", "count", "harm"} | (
        {"bin"} if hot_only else set())
    missing = needed - set(cells.columns)
    if missing:
        raise ParameterError(
            f"cells must have columns {sorted(needed)}; missing {sorted(missing)} "
            "(use the Gi* cell table)")
    warnings: list[str] = []
    pool = cells if csp_code is None else cells[cells["csp_code"] == csp_code]
    if area is not None:
        x, y = cell_centres_bng(pool["h3"].tolist())
        pool = pool[shapely.contains_xy(area, x, y)]
    if pool.empty:
        raise ParameterError("no study cell lies in the CSP or area given")
    candidates = pool[pool["count"] > 0]
    if hot_only:
        candidates = candidates[candidates["bin"] > 0]
    if candidates.empty:
        raise ParameterError(
            "no hot cell in the CSP or area given: set hot_only=False to rank every "
            "cell with occurrences, or widen the area")
    other = "harm" if rank_by == "count" else "count"
    keys = [rank_by, other] + (["z"] if "z" in candidates.columns else [])
    ranked = candidates.sort_values(keys + ["h3"],
                                    ascending=[False] * len(keys) + [True])

    resolution = h3.get_resolution(str(pool["h3"].iloc[0]))
    point_cells = points_to_cells(occurrences, resolution=resolution)
    in_pool = point_cells.isin(set(pool["h3"])).fillna(False).to_numpy()
    pool_rows = occurrences[in_pool]
    csp_table = _profile(pool_rows)
    n_timed_pool = int((pool_rows["date_precision"].astype(str) == "minute").sum())

    visits = peak_days * window_hours * visits_per_hour
    minutes_per_cell = visits * minutes_per_visit
    budget_min = patrol_hours_per_week * 60.0
    if minutes_per_cell > budget_min + 1e-9:
        raise ParameterError(
            f"patrol_hours_per_week {patrol_hours_per_week:g} is less than one hot "
            f"cell needs ({minutes_per_cell / 60:g} hours a week: {visits:g} visits "
            f"of {minutes_per_visit} minutes); raise the budget or lower peak_days, "
            "window_hours or visits_per_hour")
    n_cells = int(min(budget_min // minutes_per_cell, max_cells, len(ranked)))
    chosen = ranked.head(n_cells)
    if n_cells < len(ranked) and n_cells == max_cells:
        warnings.append(f"the list stops at max_cells = {max_cells}; the budget "
                        "would pay for more")

    total_count = float(pool["count"].sum())
    total_harm = float(pool["harm"].sum())
    rows = []
    for rank, (_, cell) in enumerate(chosen.iterrows(), start=1):
        here = occurrences[(point_cells == cell["h3"]).fillna(False).to_numpy()]
        timed = int((here["date_precision"].astype(str) == "minute").sum())
        month_only = int((here["date_precision"].astype(str) == "month").sum())
        table, source = None, "none"
        if timed >= MIN_TIMED:
            table, source = _profile(here), "cell"
            note = f"peak times from this cell's {timed} timed occurrences"
        elif csp_table is not None:
            table, source = csp_table, "csp"
            note = (f"only {timed} timed occurrence(s) here"
                    + (f" ({month_only} have month-only dates, no day or hour)"
                       if month_only else "")
                    + f": peak times from the {n_timed_pool} timed occurrences of "
                    "the whole pool")
        else:
            note = ("no occurrence here or in the pool has a time of day "
                    "(month-only dates such as police.uk): choose patrol times "
                    "locally")
        if table is not None:
            days, start = _peak(table, peak_days=peak_days, window_hours=window_hours)
            day_text = ",".join(WEEKDAYS[d] for d in days)
            end = (start + window_hours) % 24
            window = f"{start:02d}:00-{end:02d}:00"
        else:
            day_text, start, end, window = "", -1, -1, "unknown"
        ex, ny = cell_centres_bng([cell["h3"]])
        lon, lat = bng_to_lonlat(ex, ny)
        rows.append({
            "rank": rank, "h3": cell["h3"], "csp_name": cell["csp_name"],
            "easting": round(float(ex[0])), "northing": round(float(ny[0])),
            "longitude": round(float(lon[0]), 6), "latitude": round(float(lat[0]), 6),
            "count": int(cell["count"]), "harm": float(cell["harm"]),
            "z": float(cell["z"]) if "z" in cell.index else math.nan,
            "share_count": float(cell["count"]) / total_count if total_count else 0.0,
            "share_harm": float(cell["harm"]) / total_harm if total_harm else 0.0,
            "timed": timed, "month_only": month_only, "peak_days": day_text,
            "window_start_hour": start, "window_end_hour": end, "peak_window": window,
            "times_from": source, "visits_per_week": visits,
            "minutes_per_visit": minutes_per_visit,
            "patrol_minutes_per_week": minutes_per_cell,
            "cumulative_patrol_hours": rank * minutes_per_cell / 60.0,
            "timing_note": note,
        })
    plan_cells = pd.DataFrame(rows, columns=list(PLAN_COLUMNS))
    timing = timing_warning(plan_cells)
    if timing:
        warnings.append(timing)
    coverage = _coverage(chosen, pool, total_count, total_harm)
    if test_occurrences is not None:
        coverage.update(_test_coverage(chosen, pool, test_occurrences,
                                       resolution=resolution, label=test_label))
    else:
        warnings.append("no later period given: the PAI is measured on the same "
                        "period the hot spots were found in, which flatters it")
    if minutes_per_visit < 10 or minutes_per_visit > 15:
        warnings.append(f"{minutes_per_visit}-minute visits: Koper (1995) found 10 "
                        "minutes the minimum and 11-15 minutes the optimum")
    csp_names = sorted(set(pool["csp_name"].astype(str)))
    return PatrolPlan(
        cells=plan_cells,
        coverage=coverage,
        parameters={
            "patrol_hours_per_week": patrol_hours_per_week, "rank_by": rank_by,
            "hot_only": hot_only, "minutes_per_visit": minutes_per_visit,
            "peak_days": peak_days, "window_hours": window_hours,
            "visits_per_hour": visits_per_hour, "csp": ", ".join(csp_names),
            "h3_resolution": resolution,
        },
        title=title or f"Patrol plan: {', '.join(csp_names)}",
        warnings=warnings,
    )


def _check_plan_parameters(
    *, patrol_hours_per_week: float, rank_by: str, minutes_per_visit: int,
    peak_days: int, window_hours: int, visits_per_hour: float, max_cells: int,
) -> None:
    if not isinstance(patrol_hours_per_week, (int, float)) or not (
            math.isfinite(patrol_hours_per_week) and patrol_hours_per_week > 0):
        raise ParameterError("patrol_hours_per_week must be a number of hours above "
                             f"0, got {patrol_hours_per_week!r}")
    if rank_by not in RANK_BY:
        raise ParameterError(f"rank_by must be one of {RANK_BY}, got {rank_by!r}")
    for name, value, lo, hi in (("minutes_per_visit", minutes_per_visit, 1, 60),
                                ("peak_days", peak_days, 1, 7),
                                ("window_hours", window_hours, 1, 24),
                                ("max_cells", max_cells, 1, 500)):
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not whole or not lo <= value <= hi:
            raise ParameterError(
                f"{name} must be a whole number from {lo} to {hi}, got {value!r}")
    if not isinstance(visits_per_hour, (int, float)) or not 0 < visits_per_hour <= 4:
        raise ParameterError(
            f"visits_per_hour must be above 0 and at most 4, got {visits_per_hour!r}")


def _cell_area_km2(cells: pd.Series) -> float:
    return float(sum(h3.cell_area(str(c), unit="km^2") for c in cells))


def _coverage(chosen: pd.DataFrame, pool: pd.DataFrame, total_count: float,
              total_harm: float) -> dict[str, Any]:
    a = _cell_area_km2(chosen["h3"])
    big_a = _cell_area_km2(pool["h3"])
    share = float(chosen["count"].sum()) / total_count if total_count else 0.0
    return {
        "cells": len(chosen), "cells_in_pool": len(pool),
        "area_km2": a, "pool_area_km2": big_a,
        "count": int(chosen["count"].sum()), "pool_count": int(total_count),
        "share_count": share,
        "share_harm": float(chosen["harm"].sum()) / total_harm if total_harm else 0.0,
        "pai": prediction_accuracy_index(
            int(chosen["count"].sum()), int(total_count), area_km2=a,
            total_area_km2=big_a) if total_count else math.nan,
    }


def _test_coverage(chosen: pd.DataFrame, pool: pd.DataFrame,
                   test: gpd.GeoDataFrame, *, resolution: int, label: str
                   ) -> dict[str, Any]:
    test_cells = points_to_cells(test, resolution=resolution)
    in_pool = test_cells.isin(set(pool["h3"])).fillna(False)
    hit = test_cells.isin(set(chosen["h3"])).fillna(False)
    n, big_n = int(hit.sum()), int(in_pool.sum())
    a, big_a = _cell_area_km2(chosen["h3"]), _cell_area_km2(pool["h3"])
    return {
        "test_label": label, "test_count": n, "test_pool_count": big_n,
        "test_share_count": n / big_n if big_n else math.nan,
        "test_pai": prediction_accuracy_index(n, big_n, area_km2=a,
                                              total_area_km2=big_a)
        if big_n else math.nan,
    }


def prediction_accuracy_index(
    hits: int, total: int, *, area_km2: float, total_area_km2: float
) -> float:
    """Prediction Accuracy Index ``PAI = (n / N) / (a / A)``.

    Parameters
    ----------
    hits : int
        ``n``: occurrences inside the hot spots.
    total : int
        ``N``: occurrences in the whole study area (above 0).
    area_km2 : float, keyword-only
        ``a``: area of the hot spots, km².
    total_area_km2 : float, keyword-only
        ``A``: area of the whole study area, km² (at least ``a``).

    Returns
    -------
    float
        1 means the hot spots catch occurrences in proportion to their area;
        higher is better.

    References
    ----------
    Chainey, Tompson & Uhlig (2008), Security Journal 21, 4-28.
    """
    if total <= 0 or not 0 <= hits <= total:
        raise ParameterError(
            f"hits and total must satisfy 0 <= hits <= total and total > 0, got "
            f"hits={hits}, total={total}")
    if 0 < area_km2 <= total_area_km2 * (1 + AREA_RTOL):
        area_km2 = min(area_km2, total_area_km2)  # the same cells summed apart
    else:
        raise ParameterError(
            f"area_km2 must be above 0 and at most total_area_km2, got "
            f"{area_km2} and {total_area_km2}")
    return (hits / total) / (area_km2 / total_area_km2)


# ----------------------------------------------------------------------------
# tables and files
# ----------------------------------------------------------------------------


def schedule_table(plan: PatrolPlan) -> pd.DataFrame:
    """One row per cell and peak day: ``rank``, ``h3``, ``day``, ``window``, visits.

    Cells without known times get one row with ``day`` "to be set locally".
    """
    rows = []
    for _, c in plan.cells.iterrows():
        days = [d for d in str(c["peak_days"]).split(",") if d]
        per_day = c["visits_per_week"] / max(len(days), 1) if days else \
            c["visits_per_week"]
        for day in days or ["to be set locally"]:
            rows.append({"rank": c["rank"], "h3": c["h3"], "day": day,
                         "window": c["peak_window"], "visits": per_day,
                         "minutes_per_visit": c["minutes_per_visit"]})
    return pd.DataFrame(rows, columns=["rank", "h3", "day", "window", "visits",
                                       "minutes_per_visit"])


def coverage_table(plan: PatrolPlan) -> pd.DataFrame:
    """Return the coverage figures as a two-column table (``measure``, ``value``)."""
    cov = plan.coverage
    rows = [
        ("cells chosen", f"{cov['cells']} of {cov['cells_in_pool']}"),
        ("area", f"{cov['area_km2']:.2f} of {cov['pool_area_km2']:.1f} km² "
                 f"({100 * cov['area_km2'] / cov['pool_area_km2']:.1f}%)"),
        ("share of occurrences", f"{100 * cov['share_count']:.1f}% "
                                 f"({cov['count']} of {cov['pool_count']})"),
        ("share of harm", f"{100 * cov['share_harm']:.1f}%"),
        ("PAI, period analysed", _pai_text(cov["pai"], "no occurrence in the "
                                           "cells' area in the period analysed")),
    ]
    if "test_pai" in cov:
        rows.append((f"PAI, {cov['test_label']}",
                     _pai_text(cov["test_pai"], f"no data for {cov['test_label']} "
                               "yet: no occurrence in the area to test against")
                     + (f" ({cov['test_count']} of {cov['test_pool_count']} "
                        "occurrences)" if cov["test_pool_count"] else "")))
    return pd.DataFrame(rows, columns=["measure", "value"])


def _pai_text(value: float, empty: str) -> str:
    """Return a PAI in words: the number, or why there is none (never nan)."""
    return empty if not math.isfinite(value) else f"{value:.1f}"


def plan_tables(plan: PatrolPlan) -> dict[str, pd.DataFrame]:
    """Tables for the app: ``cells``, ``schedule`` and ``coverage``."""
    return {"cells": plan.cells.copy(), "schedule": schedule_table(plan),
            "coverage": coverage_table(plan)}


def patrol_windows(
    plan: PatrolPlan, *, period_start: date, period_end: date
) -> dict[str, tuple[TimeWindow, ...]]:
    """Turn each cell's peak days and window into dated windows in a period.

    For :func:`hotspot.operations.model.operation_from_hotspots`; cells without
    known times are left out (they get the whole period there).
    """
    from hotspot.operations.make import daily_windows

    out: dict[str, tuple[TimeWindow, ...]] = {}
    for _, c in plan.cells.iterrows():
        if c["times_from"] == "none" or not c["peak_days"]:
            continue
        days = [WEEKDAYS.index(d) for d in str(c["peak_days"]).split(",")]
        start = datetime.min.replace(hour=int(c["window_start_hour"])).time()
        end = datetime.min.replace(hour=int(c["window_end_hour"])).time()
        out[str(c["h3"])] = daily_windows(period_start, period_end, weekdays=days,
                                          start_time=start, end_time=end)
    return out


def coming_month(today: date) -> tuple[date, date]:
    """Return the first and last day of the month after ``today`` (a plan's default)."""
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last

"""Operations as data: an area, a period and typed activity layers, in a GeoPackage.

An operation (modelled on Op Meero, Southampton East, July-August 2023) is a
name, a CSP, an area (a polygon, or a set of H3 cells whose union is the
polygon), a period (whole days, inclusive), a status and activities. Each
activity has a kind from :data:`ACTIVITY_KINDS` (patrol zone, section 60
authorisation area, section 35 dispersal zone, CCTV, outreach or youth session,
school engaged, retailer test purchase, knife surrender bin, community event),
a geometry in British National Grid (EPSG:27700), and time windows in local
clock time (naive datetimes, like the occurrence table).

The store
---------
:class:`OperationStore` keeps operations in one GeoPackage: a real SQLite
database with the GeoPackage 1.3 tables, so QGIS and ArcGIS open it as two
layers, ``operations`` (areas) and ``activities``. Every write is one SQLite
transaction opened with ``BEGIN IMMEDIATE`` (the database write lock), retried
with back-off while another writer holds the lock, so several browser sessions
or command-line runs can share one file. Each operation carries a ``version``
that every update increments; an update or delete naming an older version is
refused with :class:`OperationConflictError` instead of silently overwriting a
colleague's edit.

Level 2 data only: activities locate places and times, never people.
"""

from __future__ import annotations

import json
import logging
import math
import random
import sqlite3
import struct
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import h3
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG, WGS84, to_bng, to_wgs84
from hotspot.errors import HotspotError, ParameterError
from hotspot.settings import APP_DATA_DIR, DATA_DIR

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Default operation store written by the app and the command line.
DEFAULT_STORE_PATH = APP_DATA_DIR / "operations.gpkg"
#: Folder of shipped operations (the Op Meero 2025 demonstration).
OPERATIONS_DATA_DIR = DATA_DIR / "operations"
DEMO_OPERATION_FILE = OPERATIONS_DATA_DIR / "op_meero_2025.geojson"

STATUSES: tuple[str, ...] = ("draft", "planned", "active", "completed", "cancelled")
#: How far (metres) a geometry may stray outside the generalised HIPS outline.
HIPS_TOLERANCE_M = 200.0
#: Koper (1995): visits under 10 minutes have little residual deterrence;
#: 11-15 minutes is optimal.
KOPER_MIN_MINUTES = 10
KOPER_MAX_MINUTES = 15
DEFAULT_VISIT_MINUTES = 15


class OperationError(HotspotError, ValueError):
    """An operation is invalid; ``problems`` lists every reason, in plain English."""

    def __init__(self, problems: Sequence[str], *, name: str = "operation") -> None:
        self.problems = list(problems)
        text = "; ".join(self.problems)
        super().__init__(f"{name} is not valid: {text}")


class OperationConflictError(HotspotError, ValueError):
    """An edit was based on an older version of an operation than the stored one."""


class OperationNotFoundError(HotspotError, KeyError):
    """No operation with that id is in the store."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "operation not found"


class StoreBusyError(HotspotError, OSError):
    """The store stayed locked by another writer through every retry."""


@dataclass(frozen=True)
class ActivityKind:
    """What an activity layer may hold.

    Attributes
    ----------
    label : str
        Name shown in the app, legends and plans.
    geometry_types : tuple of str
        Shapely geometry types allowed.
    needs_windows : bool
        Whether at least one time window is required.
    subtypes : tuple of str
        Allowed ``subtype`` values (empty: free text, may be empty).
    max_window_hours : float or None
        Longest single window allowed (statutory limits), hours.
    """

    label: str
    geometry_types: tuple[str, ...]
    needs_windows: bool
    subtypes: tuple[str, ...] = ()
    max_window_hours: float | None = None


_AREAS = ("Polygon", "MultiPolygon")
_POINTS = ("Point", "MultiPoint")

#: The activity layers of an operation, in legend order.
ACTIVITY_KINDS: dict[str, ActivityKind] = {
    "patrol_zone": ActivityKind("Patrol zone", _AREAS, True),
    # CJPOA 1994 s60: up to 24 h, extendable by a further 24 h.
    "s60_area": ActivityKind("Section 60 authorisation", _AREAS, True,
                             max_window_hours=48.0),
    # ASBCPA 2014 s34-35: a dispersal authorisation lasts at most 48 h.
    "s35_zone": ActivityKind("Section 35 dispersal zone", _AREAS, True,
                             max_window_hours=48.0),
    "cctv": ActivityKind("CCTV", _POINTS, False, ("permanent", "temporary")),
    "outreach": ActivityKind("Outreach or youth session", _POINTS + _AREAS, True,
                             ("detached_outreach", "youth_session")),
    "school": ActivityKind("School engaged", _POINTS, False),
    "test_purchase": ActivityKind("Retailer test purchase", _POINTS, False,
                                  ("pass", "fail", "not_recorded")),
    "surrender_bin": ActivityKind("Knife surrender bin", _POINTS, False),
    "community_event": ActivityKind("Community event", _POINTS + _AREAS, True,
                                    ("meeting", "sport", "other")),
}


# ----------------------------------------------------------------------------
# the model
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeWindow:
    """A time window in local clock time, ``start`` inclusive, ``end`` exclusive."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        """Length of the window in hours."""
        return (self.end - self.start).total_seconds() / 3600.0

    def to_json(self) -> list[str]:
        """Return ``[start, end]`` as ISO 8601 strings (minutes)."""
        return [self.start.isoformat(timespec="minutes"),
                self.end.isoformat(timespec="minutes")]

    @classmethod
    def from_json(cls, value: Sequence[str]) -> TimeWindow:
        """Build a window from ``[start, end]`` ISO strings."""
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ParameterError(
                f"a time window must be [start, end] ISO datetimes, got {value!r}"
            )
        try:
            start, end = (datetime.fromisoformat(str(v)) for v in value)
        except ValueError:
            raise ParameterError(
                f"a time window must be [start, end] ISO datetimes such as "
                f"'2025-06-06T18:00', got {value!r}"
            ) from None
        return cls(start.replace(tzinfo=None), end.replace(tzinfo=None))


@dataclass(frozen=True)
class Activity:
    """One feature of an activity layer.

    Attributes
    ----------
    kind : str
        A key of :data:`ACTIVITY_KINDS`.
    label : str
        Short name ("Patrol zone 1", "Bitterne precinct camera").
    geometry : shapely geometry
        In EPSG:27700 (metres).
    windows : tuple of TimeWindow
        When the activity runs (local clock time).
    minutes_per_visit : int or None
        Patrol zones: target minutes per visit (Koper: 10 minimum, 11-15 best).
    subtype : str
        E.g. ``"permanent"`` or ``"temporary"`` for CCTV.
    h3 : str
        H3 cell the feature was made from (patrol zones from hot spots), or "".
    notes : str
        Free text (never names of people).
    activity_id : str
        Unique id (made when empty).
    """

    kind: str
    label: str
    geometry: BaseGeometry
    windows: tuple[TimeWindow, ...] = ()
    minutes_per_visit: int | None = None
    subtype: str = ""
    h3: str = ""
    notes: str = ""
    activity_id: str = field(default_factory=lambda: _new_id("act"))


@dataclass(frozen=True)
class Operation:
    """An operation: area, period, status and activity layers.

    Attributes
    ----------
    name : str
        E.g. "Op Meero 2025 (demonstration)".
    csp_code, csp_name : str
        The Community Safety Partnership it runs in.
    area : shapely Polygon or MultiPolygon
        Operation area in EPSG:27700; when made from cells, their union.
    period_start, period_end : datetime.date
        First and last day, inclusive.
    status : str
        One of :data:`STATUSES`.
    activities : tuple of Activity
        Every activity feature; :meth:`layers` groups them by kind.
    area_cells : tuple of str
        H3 cells the area was made from (empty when drawn as a polygon).
    description : str
        Free text.
    is_demo : bool
        A demonstration, not a real operation.
    operation_id : str
        Unique id (made when empty).
    version : int
        Store version (0: never stored); every stored update adds one.
    created_utc, updated_utc : str
        ISO timestamps set by the store.
    """

    name: str
    csp_code: str
    csp_name: str
    area: BaseGeometry
    period_start: date
    period_end: date
    status: str = "draft"
    activities: tuple[Activity, ...] = ()
    area_cells: tuple[str, ...] = ()
    description: str = ""
    is_demo: bool = False
    operation_id: str = field(default_factory=lambda: _new_id("op"))
    version: int = 0
    created_utc: str = ""
    updated_utc: str = ""

    @property
    def period_days(self) -> int:
        """Length of the period in days (inclusive)."""
        return (self.period_end - self.period_start).days + 1

    def layers(self) -> dict[str, tuple[Activity, ...]]:
        """Return the activities grouped by kind, in :data:`ACTIVITY_KINDS` order."""
        return {
            kind: tuple(a for a in self.activities if a.kind == kind)
            for kind in ACTIVITY_KINDS
            if any(a.kind == kind for a in self.activities)
        }

    def period_window(self) -> TimeWindow:
        """Return the whole period as a window (first day 00:00 to the day after)."""
        return TimeWindow(
            datetime.combine(self.period_start, clock()),
            datetime.combine(self.period_end + timedelta(days=1), clock()),
        )


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def area_from_cells(cells: Iterable[str]) -> BaseGeometry:
    """Return the union of H3 cells as a polygon in EPSG:27700.

    Raises
    ------
    ParameterError
        When ``cells`` is empty, holds an invalid cell, or mixes resolutions.
    """
    from hotspot.grid import cell_polygons

    cell_list = _check_cells(cells, name="cells")
    return shapely.union_all(cell_polygons(cell_list, crs=BNG).to_numpy())


def _check_cells(cells: Iterable[str], *, name: str) -> list[str]:
    cell_list = [str(c) for c in cells]
    if not cell_list:
        raise ParameterError(f"{name} must hold at least one H3 cell, got none")
    bad = [c for c in cell_list if not h3.is_valid_cell(c)]
    if bad:
        raise ParameterError(f"{name} must be valid H3 cell indexes, got {bad[:3]}")
    resolutions = {h3.get_resolution(c) for c in cell_list}
    if len(resolutions) != 1:
        raise ParameterError(
            f"{name} must share one H3 resolution, got {sorted(resolutions)}"
        )
    return cell_list


# ----------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------


@dataclass
class Validation:
    """The outcome of :func:`validate_operation`.

    Attributes
    ----------
    problems : list of str
        Reasons the operation cannot be saved, each naming the field or feature.
    warnings : list of str
        Things worth a second look that do not stop saving.
    """

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether there are no problems."""
        return not self.problems


@lru_cache(maxsize=1)
def _hips_allowed() -> BaseGeometry:
    """Return the HIPS outline grown by the tolerance, prepared (built once)."""
    from hotspot.boundaries import load_hips_outline

    outline = shapely.union_all(load_hips_outline().geometry.to_numpy())
    allowed = outline.buffer(HIPS_TOLERANCE_M)
    shapely.prepare(allowed)
    return allowed


def _geometry_problems(
    geom: object, *, what: str, allowed: Sequence[str], hips: BaseGeometry | None
) -> list[str]:
    if not isinstance(geom, BaseGeometry):
        return [f"{what}: geometry must be a shapely geometry, got "
                f"{type(geom).__name__}"]
    if geom.is_empty:
        return [f"{what}: geometry is empty"]
    if geom.geom_type not in allowed:
        return [f"{what}: geometry must be {' or '.join(allowed)}, got "
                f"{geom.geom_type}"]
    if not geom.is_valid:
        return [f"{what}: geometry is not valid ({shapely.is_valid_reason(geom)})"]
    x0, y0, x1, y1 = geom.bounds
    if not (0 <= x0 <= 700_000 and 0 <= y0 <= 1_300_000
            and x1 <= 700_000 and y1 <= 1_300_000):
        return [f"{what}: coordinates {tuple(round(v, 4) for v in geom.bounds)} are "
                "not British National Grid metres (EPSG:27700); project "
                "longitude/latitude with hotspot.crs.to_bng first"]
    if hips is not None and not hips.covers(geom):
        outside = geom.difference(hips)
        amount = (f"{outside.area / 1e4:.1f} ha" if outside.area > 0
                  else "part of it")
        return [f"{what}: lies outside the HIPS area ({amount} beyond the "
                f"boundary, {HIPS_TOLERANCE_M:.0f} m tolerance)"]
    return []


def validate_operation(
    operation: Operation, *, hips: BaseGeometry | None = None, check_hips: bool = True
) -> Validation:
    """Check an operation and return every problem and warning, in plain English.

    Parameters
    ----------
    operation : Operation
        The operation to check (not changed).
    hips : shapely geometry, optional, keyword-only
        HIPS outline in EPSG:27700; the embedded outline when None.
    check_hips : bool, keyword-only
        Test that geometries lie inside HIPS (switch off only in tests).

    Returns
    -------
    Validation
        ``problems`` (the operation cannot be saved) and ``warnings``.

    Notes
    -----
    Problems: a missing name or CSP, an unknown status, a period that ends
    before it starts, an empty, invalid or out-of-HIPS area or feature, area
    cells that are not H3 cells of one resolution, no activities at all, an
    unknown kind or subtype, a missing window where the kind needs one, a
    window that ends before it starts or falls outside the period, a section 60
    or section 35 window longer than the law allows (48 hours), a patrol zone
    without minutes per visit. Warnings: patrol visits outside Koper's 10-15
    minutes, and features that do not touch the operation area.
    """
    result = Validation()
    p = result.problems
    outline: BaseGeometry | None = None
    if check_hips:
        outline = (hips.buffer(HIPS_TOLERANCE_M) if hips is not None
                   else _hips_allowed())
    if not str(operation.name).strip():
        p.append("name: must not be empty")
    if not str(operation.csp_code).strip():
        p.append("csp_code: must name the CSP the operation runs in")
    if operation.status not in STATUSES:
        p.append(f"status: must be one of {', '.join(STATUSES)}, got "
                 f"{operation.status!r}")
    period_ok = isinstance(operation.period_start, date) and isinstance(
        operation.period_end, date)
    if not period_ok:
        p.append("period: period_start and period_end must be dates")
    elif operation.period_end < operation.period_start:
        p.append(f"period: ends ({operation.period_end}) before it starts "
                 f"({operation.period_start})")
        period_ok = False
    p.extend(_geometry_problems(operation.area, what="area", allowed=_AREAS,
                                hips=outline))
    if operation.area_cells:
        try:
            _check_cells(operation.area_cells, name="area_cells")
        except ParameterError as exc:
            p.append(str(exc))
    if not operation.activities:
        p.append("activities: an operation needs at least one activity layer "
                 "(patrol zones, s60 areas, CCTV, ...); all layers are empty")
    seen: set[str] = set()
    window = operation.period_window() if period_ok else None
    for n, act in enumerate(operation.activities, start=1):
        _check_activity(act, n=n, window=window, hips=outline, result=result,
                        area=operation.area)
        if act.activity_id in seen:
            p.append(f"activity {n} ({act.label!r}): id {act.activity_id!r} is used "
                     "twice")
        seen.add(act.activity_id)
    return result


def _check_activity(
    act: Activity,
    *,
    n: int,
    window: TimeWindow | None,
    hips: BaseGeometry | None,
    result: Validation,
    area: BaseGeometry,
) -> None:
    what = f"activity {n} ({act.label or act.kind!r})"
    kind = ACTIVITY_KINDS.get(act.kind)
    p = result.problems
    if kind is None:
        p.append(f"{what}: kind must be one of {', '.join(ACTIVITY_KINDS)}, got "
                 f"{act.kind!r}")
        return
    what = f"{kind.label} {act.label!r}" if act.label else f"{kind.label} #{n}"
    geo = _geometry_problems(act.geometry, what=what, allowed=kind.geometry_types,
                             hips=hips)
    p.extend(geo)
    if (not geo and isinstance(area, BaseGeometry) and area.is_valid
            and not area.is_empty and not act.geometry.intersects(area)):
        result.warnings.append(f"{what}: lies outside the operation area")
    if kind.subtypes and act.subtype not in kind.subtypes:
        p.append(f"{what}: subtype must be one of {', '.join(kind.subtypes)}, got "
                 f"{act.subtype!r}")
    if kind.needs_windows and not act.windows:
        p.append(f"{what}: needs at least one time window")
    for w in act.windows:
        text = f"{w.start:%Y-%m-%d %H:%M}-{w.end:%Y-%m-%d %H:%M}"
        if w.end <= w.start:
            p.append(f"{what}: window {text} ends before it starts")
            continue
        if window is not None and (w.start < window.start or w.end > window.end):
            p.append(f"{what}: window {text} is outside the operation's period "
                     f"{window.start:%Y-%m-%d} to "
                     f"{window.end - timedelta(days=1):%Y-%m-%d}")
        if kind.max_window_hours is not None and w.hours > kind.max_window_hours:
            p.append(f"{what}: window {text} lasts {w.hours:.0f} hours; "
                     f"{kind.label} authorisations last at most "
                     f"{kind.max_window_hours:.0f} hours")
    if act.kind == "patrol_zone":
        minutes = act.minutes_per_visit
        if minutes is None or isinstance(minutes, bool) or not 1 <= minutes <= 120:
            p.append(f"{what}: minutes_per_visit must be a whole number of "
                     f"minutes from 1 to 120, got {minutes!r}")
        elif not KOPER_MIN_MINUTES <= minutes <= KOPER_MAX_MINUTES:
            result.warnings.append(
                f"{what}: {minutes}-minute visits; Koper (1995) found 10 minutes "
                "the minimum for lasting deterrence and 11-15 minutes the optimum"
            )
    elif act.minutes_per_visit is not None:
        p.append(f"{what}: minutes_per_visit applies to patrol zones only")


def check_operation(
    operation: Operation, *, hips: BaseGeometry | None = None, check_hips: bool = True
) -> list[str]:
    """Raise :class:`OperationError` listing every problem; return the warnings."""
    result = validate_operation(operation, hips=hips, check_hips=check_hips)
    if result.problems:
        raise OperationError(result.problems,
                             name=f"operation {operation.name!r}")
    for text in result.warnings:
        logger.warning("operation %r: %s", operation.name, text)
    return result.warnings


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
    rank_by: str = "harm",
    hot_only: bool = True,
    minutes_per_visit: int = DEFAULT_VISIT_MINUTES,
    windows: Mapping[str, Sequence[TimeWindow]] | None = None,
    status: str = "draft",
) -> Operation:
    """Make an operation whose patrol zones are the top hot cells inside an area.

    Parameters
    ----------
    cells : pandas.DataFrame
        Gi* cell table (:func:`hotspot.detect.gistar.gi_star`): ``h3``,
        ``csp_code``, ``csp_name``, ``count``, ``harm``, ``z`` and ``bin``.
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
    rank_by : {"harm", "count", "z"}, keyword-only
        Ranking of the hot cells (ties broken by count, then z).
    hot_only : bool, keyword-only
        Only Gi* hot cells (``bin > 0``); otherwise every cell with a count.
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

    needed = {"h3", "csp_code", "csp_name", "count", "harm", "z", "bin"}
    missing = needed - set(cells.columns)
    if missing:
        raise ParameterError(
            f"cells must be a Gi* cell table with columns {sorted(needed)}; "
            f"missing {sorted(missing)}"
        )
    if rank_by not in ("harm", "count", "z"):
        raise ParameterError(f"rank_by must be 'harm', 'count' or 'z', got {rank_by!r}")
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
    pool = pool[pool["count"] > 0]
    if pool.empty:
        raise ParameterError(
            "no hot cell lies inside the area given: widen the area, choose another "
            "CSP, or set hot_only=False to rank every cell with occurrences"
        )
    codes = pool["csp_code"].unique()
    if csp_code is None and len(codes) > 1:
        raise ParameterError(
            f"the cells chosen lie in {len(codes)} CSPs ({sorted(codes)}); "
            "give csp_code or a smaller area"
        )
    order = [rank_by] + [c for c in ("count", "z", "harm") if c != rank_by]
    chosen = pool.sort_values(order + ["h3"], ascending=[False] * 3 + [True])
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
            notes=(f"hot cell rank {rank} by {rank_by}: {int(row['count'])} "
                   f"occurrences, harm {float(row['harm']):.1f}, "
                   f"Gi* z {float(row['z']):.2f}"),
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
        description=f"patrol zones: the top {len(chosen)} hot cells by {rank_by}",
    )


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


# ----------------------------------------------------------------------------
# tables (for the app, exports and the store)
# ----------------------------------------------------------------------------

_OP_FIELDS: tuple[str, ...] = (
    "operation_id", "name", "csp_code", "csp_name", "period_start", "period_end",
    "status", "description", "area_cells", "is_demo", "version", "created_utc",
    "updated_utc",
)
_ACT_FIELDS: tuple[str, ...] = (
    "activity_id", "operation_id", "kind", "label", "subtype", "windows",
    "minutes_per_visit", "h3", "notes",
)


def _op_record(op: Operation) -> dict[str, Any]:
    return {
        "operation_id": op.operation_id,
        "name": op.name,
        "csp_code": op.csp_code,
        "csp_name": op.csp_name,
        "period_start": op.period_start.isoformat(),
        "period_end": op.period_end.isoformat(),
        "status": op.status,
        "description": op.description,
        "area_cells": ",".join(op.area_cells),
        "is_demo": int(bool(op.is_demo)),
        "version": int(op.version),
        "created_utc": op.created_utc,
        "updated_utc": op.updated_utc,
    }


def _act_record(act: Activity, operation_id: str) -> dict[str, Any]:
    return {
        "activity_id": act.activity_id,
        "operation_id": operation_id,
        "kind": act.kind,
        "label": act.label,
        "subtype": act.subtype,
        "windows": json.dumps([w.to_json() for w in act.windows]),
        "minutes_per_visit": act.minutes_per_visit,
        "h3": act.h3,
        "notes": act.notes,
    }


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _date_field(value: Any, *, name: str) -> date:
    try:
        return date.fromisoformat(_text(value)[:10])
    except ValueError:
        raise ParameterError(
            f"{name} must be a date YYYY-MM-DD, got {value!r}"
        ) from None


def _op_from_record(
    rec: Mapping[str, Any], area: BaseGeometry, activities: Sequence[Activity]
) -> Operation:
    cells = tuple(c for c in _text(rec.get("area_cells")).split(",") if c)
    version = rec.get("version")
    return Operation(
        operation_id=_text(rec.get("operation_id")) or _new_id("op"),
        name=_text(rec.get("name")),
        csp_code=_text(rec.get("csp_code")),
        csp_name=_text(rec.get("csp_name")),
        area=area,
        area_cells=cells,
        period_start=_date_field(rec.get("period_start"), name="period_start"),
        period_end=_date_field(rec.get("period_end"), name="period_end"),
        status=_text(rec.get("status")) or "draft",
        description=_text(rec.get("description")),
        is_demo=str(rec.get("is_demo")).lower() in ("1", "true"),
        version=int(version) if version not in (None, "") and not (
            isinstance(version, float) and math.isnan(version)) else 0,
        created_utc=_text(rec.get("created_utc")),
        updated_utc=_text(rec.get("updated_utc")),
        activities=tuple(activities),
    )


def _act_from_record(rec: Mapping[str, Any], geometry: BaseGeometry) -> Activity:
    raw = rec.get("windows")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError:
            raise ParameterError(
                f"activity {rec.get('label')!r}: windows must be a JSON list of "
                f"[start, end] pairs, got {raw!r}"
            ) from None
    minutes = rec.get("minutes_per_visit")
    if minutes is None or (isinstance(minutes, float) and math.isnan(minutes)):
        minutes_value = None
    else:
        minutes_value = int(minutes)
    return Activity(
        activity_id=_text(rec.get("activity_id")) or _new_id("act"),
        kind=_text(rec.get("kind")),
        label=_text(rec.get("label")),
        subtype=_text(rec.get("subtype")),
        geometry=geometry,
        windows=tuple(TimeWindow.from_json(w) for w in (raw or [])),
        minutes_per_visit=minutes_value,
        h3=_text(rec.get("h3")),
        notes=_text(rec.get("notes")),
    )


def operations_table(operations: Sequence[Operation]) -> gpd.GeoDataFrame:
    """Return one row per operation: fields and area (EPSG:27700)."""
    rows = [_op_record(op) for op in operations]
    frame = pd.DataFrame(rows, columns=list(_OP_FIELDS))
    frame["n_activities"] = [len(op.activities) for op in operations]
    return gpd.GeoDataFrame(frame, geometry=[op.area for op in operations], crs=BNG)


def activities_table(operation: Operation) -> gpd.GeoDataFrame:
    """Return one row per activity: fields, ``kind_label``, geometry (EPSG:27700).

    ``first_start`` and ``last_end`` give the span of the windows (NaT when none),
    for timelines.
    """
    rows = [_act_record(a, operation.operation_id) for a in operation.activities]
    frame = pd.DataFrame(rows, columns=list(_ACT_FIELDS))
    frame["kind_label"] = [ACTIVITY_KINDS[a.kind].label if a.kind in ACTIVITY_KINDS
                           else a.kind for a in operation.activities]
    frame["n_windows"] = [len(a.windows) for a in operation.activities]
    frame["first_start"] = pd.to_datetime(
        [min((w.start for w in a.windows), default=None) for a in operation.activities]
    )
    frame["last_end"] = pd.to_datetime(
        [max((w.end for w in a.windows), default=None) for a in operation.activities]
    )
    return gpd.GeoDataFrame(
        frame, geometry=[a.geometry for a in operation.activities], crs=BNG
    )


def timeline_table(operation: Operation) -> pd.DataFrame:
    """Return one row per activity window: ``kind``, ``label``, ``start``, ``end``.

    Activities without windows span the whole period (``whole_period`` True).
    """
    rows = []
    for act in operation.activities:
        kind = ACTIVITY_KINDS.get(act.kind)
        label = kind.label if kind is not None else act.kind
        spans = act.windows or (operation.period_window(),)
        for w in spans:
            rows.append({"kind": act.kind, "kind_label": label, "label": act.label,
                         "start": pd.Timestamp(w.start), "end": pd.Timestamp(w.end),
                         "whole_period": not act.windows})
    return pd.DataFrame(rows, columns=["kind", "kind_label", "label", "start", "end",
                                       "whole_period"])


# ----------------------------------------------------------------------------
# GeoPackage geometry blobs (GeoPackage 1.3, clause 2.1.3)
# ----------------------------------------------------------------------------

_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10300
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _to_blob(geom: BaseGeometry, srs_id: int = 27700) -> bytes:
    """Encode a geometry as a GeoPackage blob: header, xy envelope, WKB."""
    minx, miny, maxx, maxy = geom.bounds
    flags = 0b0000_0011  # little-endian, envelope [minx, maxx, miny, maxy]
    header = b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id)
    envelope = struct.pack("<4d", minx, maxx, miny, maxy)
    return header + envelope + shapely.to_wkb(geom, byte_order=1)


def _from_blob(blob: bytes) -> BaseGeometry:
    """Decode a GeoPackage geometry blob."""
    if blob[:2] != b"GP":
        raise ParameterError("geometry blob is not a GeoPackage geometry (no 'GP')")
    flags = blob[3]
    envelope = (flags >> 1) & 0b111
    start = 8 + _ENVELOPE_BYTES.get(envelope, 0)
    geom: BaseGeometry = shapely.from_wkb(blob[start:])
    return geom


def _as_multi(geom: BaseGeometry) -> BaseGeometry:
    return MultiPolygon([geom]) if isinstance(geom, Polygon) else geom


def _from_multi(geom: BaseGeometry) -> BaseGeometry:
    if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


def _srs_rows() -> list[tuple[str, int, str, int, str, str]]:
    from pyproj import CRS

    return [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", ""),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", ""),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS(WGS84).to_wkt("WKT1_GDAL"),
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ("OSGB36 / British National Grid", 27700, "EPSG", 27700,
         CRS(BNG).to_wkt("WKT1_GDAL"), "British National Grid, metres"),
    ]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL, description TEXT);
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
  identifier TEXT UNIQUE, description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
    REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id)
    REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE IF NOT EXISTS operations (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON,
  operation_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, csp_code TEXT,
  csp_name TEXT, period_start DATE, period_end DATE, status TEXT,
  description TEXT, area_cells TEXT, is_demo INTEGER, version INTEGER NOT NULL,
  created_utc TEXT, updated_utc TEXT);
CREATE TABLE IF NOT EXISTS activities (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom GEOMETRY,
  activity_id TEXT NOT NULL UNIQUE, operation_id TEXT NOT NULL, kind TEXT NOT NULL,
  label TEXT, subtype TEXT, windows TEXT, minutes_per_visit INTEGER, h3 TEXT,
  notes TEXT);
CREATE INDEX IF NOT EXISTS activities_operation ON activities (operation_id);
"""


# ----------------------------------------------------------------------------
# the store
# ----------------------------------------------------------------------------


class OperationStore:
    """Operations in one GeoPackage file, safe for several writers at once.

    Parameters
    ----------
    path : path-like
        The GeoPackage; created with its tables on first use.
    timeout_s : float, keyword-only
        How long one attempt waits for the write lock (seconds).
    retries : int, keyword-only
        Attempts before :class:`StoreBusyError`.

    Notes
    -----
    Every write runs in one transaction opened with ``BEGIN IMMEDIATE``, which
    takes SQLite's write lock at once, so a read-check-write sequence (such as
    comparing versions) cannot interleave with another writer. Readers see
    either the state before or after a write, never half of it.
    """

    def __init__(
        self, path: Path | str = DEFAULT_STORE_PATH, *, timeout_s: float = 5.0,
        retries: int = 8,
    ) -> None:
        if retries < 1:
            raise ParameterError(f"retries must be at least 1, got {retries}")
        self.path = Path(path)
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self._initialise()

    # -- plumbing ----------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        con.row_factory = sqlite3.Row
        return con

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction, retrying when busy."""
        delay = 0.05
        for attempt in range(1, self.retries + 1):
            con = self._connect()
            try:
                con.execute("BEGIN IMMEDIATE")
                try:
                    result = work(con)
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
                return result
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                logger.info("operation store busy (attempt %d of %d): %s",
                            attempt, self.retries, exc)
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
            finally:
                con.close()
        raise StoreBusyError(
            f"{self.path}: another session kept the operation store locked through "
            f"{self.retries} attempts; try again"
        )

    def _initialise(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

        def work(con: sqlite3.Connection) -> None:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.executemany(
                "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)",
                _srs_rows(),
            )
            for table, gtype, ident in (
                ("operations", "MULTIPOLYGON", "Operation areas"),
                ("activities", "GEOMETRY", "Operation activities"),
            ):
                con.execute(
                    "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, "
                    "identifier, description, srs_id) VALUES (?, 'features', ?, ?, "
                    "27700)", (table, ident, f"hotspot {table}"))
                con.execute(
                    "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES "
                    "(?, 'geom', ?, 27700, 0, 0)", (table, gtype))
            con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")

        self._write(work)

    @staticmethod
    def _insert(con: sqlite3.Connection, op: Operation) -> None:
        rec = _op_record(op)
        cols = ", ".join(_OP_FIELDS)
        marks = ", ".join("?" for _ in _OP_FIELDS)
        con.execute(f"INSERT INTO operations (geom, {cols}) VALUES (?, {marks})",
                    [_to_blob(_as_multi(op.area))] + [rec[c] for c in _OP_FIELDS])
        acols = ", ".join(_ACT_FIELDS)
        amarks = ", ".join("?" for _ in _ACT_FIELDS)
        for act in op.activities:
            arec = _act_record(act, op.operation_id)
            con.execute(
                f"INSERT INTO activities (geom, {acols}) VALUES (?, {amarks})",
                [_to_blob(act.geometry)] + [arec[c] for c in _ACT_FIELDS])
        con.execute("UPDATE gpkg_contents SET last_change = "
                    "strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                    "WHERE table_name IN ('operations', 'activities')")

    @staticmethod
    def _delete_rows(con: sqlite3.Connection, operation_id: str) -> None:
        con.execute("DELETE FROM activities WHERE operation_id = ?", (operation_id,))
        con.execute("DELETE FROM operations WHERE operation_id = ?", (operation_id,))

    @staticmethod
    def _stored_version(con: sqlite3.Connection, operation_id: str) -> int | None:
        row = con.execute("SELECT version FROM operations WHERE operation_id = ?",
                          (operation_id,)).fetchone()
        return None if row is None else int(row["version"])

    @staticmethod
    def _read(con: sqlite3.Connection, operation_id: str) -> Operation:
        row = con.execute("SELECT * FROM operations WHERE operation_id = ?",
                          (operation_id,)).fetchone()
        if row is None:
            raise OperationNotFoundError(
                f"operation_id {operation_id!r} is not in the store")
        acts = [
            _act_from_record(dict(a), _from_blob(a["geom"]))
            for a in con.execute(
                "SELECT * FROM activities WHERE operation_id = ? ORDER BY fid",
                (operation_id,))
        ]
        return _op_from_record(dict(row), _from_multi(_from_blob(row["geom"])), acts)

    # -- public API --------------------------------------------------------
    def catalogue(self) -> pd.DataFrame:
        """Return one row per stored operation, newest update first.

        Columns: ``operation_id``, ``name``, ``csp_name``, ``period_start``,
        ``period_end``, ``status``, ``is_demo``, ``n_activities``, ``version``,
        ``updated_utc``.
        """
        con = self._connect()
        try:
            frame = pd.read_sql_query(
                "SELECT o.operation_id, o.name, o.csp_name, o.period_start, "
                "o.period_end, o.status, o.is_demo, "
                "(SELECT COUNT(*) FROM activities a "
                " WHERE a.operation_id = o.operation_id) AS n_activities, "
                "o.version, o.updated_utc FROM operations o "
                "ORDER BY o.updated_utc DESC, o.name", con)
        finally:
            con.close()
        frame["is_demo"] = frame["is_demo"].astype(bool)
        return frame

    def get(self, operation_id: str) -> Operation:
        """Return a stored operation.

        Raises
        ------
        OperationNotFoundError
            When no operation has that id.
        """
        con = self._connect()
        try:
            con.execute("BEGIN")
            op = self._read(con, operation_id)
            con.execute("COMMIT")
            return op
        finally:
            con.close()

    def load_all(self) -> list[Operation]:
        """Return every stored operation."""
        return [self.get(i) for i in self.catalogue()["operation_id"]]

    def add(self, operation: Operation, *, check_hips: bool = True) -> Operation:
        """Validate and store a new operation; return it with version 1.

        Raises
        ------
        OperationError
            When the operation is not valid (every problem listed).
        OperationConflictError
            When an operation with that id is already stored.
        """
        check_operation(operation, check_hips=check_hips)
        now = _now()
        stored = replace(operation, version=1, created_utc=operation.created_utc
                         or now, updated_utc=now)

        def work(con: sqlite3.Connection) -> Operation:
            if self._stored_version(con, stored.operation_id) is not None:
                raise OperationConflictError(
                    f"operation_id {stored.operation_id!r} is already in the store; "
                    "use update() to change it or duplicate() to copy it")
            self._insert(con, stored)
            return stored

        result = self._write(work)
        logger.info("stored operation %s (%s)", result.operation_id, result.name)
        return result

    def update(
        self, operation: Operation, *, expected_version: int | None = None,
        check_hips: bool = True,
    ) -> Operation:
        """Validate and replace a stored operation; return it with version + 1.

        Parameters
        ----------
        operation : Operation
            The edited operation (same ``operation_id``).
        expected_version : int, optional, keyword-only
            The version the edit started from; defaults to ``operation.version``.
            When the stored version differs, someone else saved in between.

        Raises
        ------
        OperationConflictError
            When the stored version is not ``expected_version``.
        OperationNotFoundError
            When the operation is not stored.
        """
        check_operation(operation, check_hips=check_hips)
        expected = operation.version if expected_version is None else expected_version

        def work(con: sqlite3.Connection) -> Operation:
            current = self._stored_version(con, operation.operation_id)
            if current is None:
                raise OperationNotFoundError(
                    f"operation_id {operation.operation_id!r} is not in the store")
            if current != expected:
                raise OperationConflictError(
                    f"operation {operation.name!r} was changed by another session "
                    f"(stored version {current}, this edit started from version "
                    f"{expected}); reload it and apply the edit again")
            old = con.execute("SELECT created_utc FROM operations WHERE "
                              "operation_id = ?", (operation.operation_id,)).fetchone()
            stored = replace(operation, version=current + 1,
                             created_utc=old["created_utc"], updated_utc=_now())
            self._delete_rows(con, operation.operation_id)
            self._insert(con, stored)
            return stored

        return self._write(work)

    def edit(
        self, operation_id: str, change: Callable[[Operation], Operation], *,
        check_hips: bool = True,
    ) -> Operation:
        """Read, change and store an operation in one locked transaction.

        ``change`` gets the stored operation and returns the edited one; no other
        writer can save in between, so edits from two sessions never overwrite
        each other.
        """

        def work(con: sqlite3.Connection) -> Operation:
            current = self._read(con, operation_id)
            edited = change(current)
            if edited.operation_id != operation_id:
                raise ParameterError("change must keep the operation_id")
            check_operation(edited, check_hips=check_hips)
            stored = replace(edited, version=current.version + 1,
                             created_utc=current.created_utc, updated_utc=_now())
            self._delete_rows(con, operation_id)
            self._insert(con, stored)
            return stored

        return self._write(work)

    def duplicate(self, operation_id: str, *, name: str | None = None) -> Operation:
        """Store a copy of an operation (new ids, status draft); return it."""
        return self.add(duplicate_operation(self.get(operation_id), name=name),
                        check_hips=False)

    def delete(self, operation_id: str, *, expected_version: int | None = None) -> None:
        """Delete an operation and its activities.

        Raises
        ------
        OperationNotFoundError
            When it is not stored.
        OperationConflictError
            When ``expected_version`` is given and differs from the stored one.
        """

        def work(con: sqlite3.Connection) -> None:
            current = self._stored_version(con, operation_id)
            if current is None:
                raise OperationNotFoundError(
                    f"operation_id {operation_id!r} is not in the store")
            if expected_version is not None and current != expected_version:
                raise OperationConflictError(
                    f"operation {operation_id!r} was changed by another session "
                    f"(stored version {current}, expected {expected_version})")
            self._delete_rows(con, operation_id)

        self._write(work)
        logger.info("deleted operation %s", operation_id)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_default_store(path: Path | str = DEFAULT_STORE_PATH) -> OperationStore:
    """Open the app's operation store, adding the shipped demo when it is new.

    The demo operation (``data/operations/op_meero_2025.geojson``) is imported
    once, when the store file does not exist yet; deleting it later is kept.
    """
    target = Path(path)
    is_new = not target.exists()
    store = OperationStore(target)
    if is_new and DEMO_OPERATION_FILE.exists():
        for op in import_operations(DEMO_OPERATION_FILE):
            try:
                store.add(replace(op, version=0), check_hips=False)
            except OperationConflictError:
                # another session created the store at the same moment
                logger.info("demonstration operation already seeded in %s", target)
        logger.info("seeded %s with the demonstration operation", target)
    return store


# ----------------------------------------------------------------------------
# import and export
# ----------------------------------------------------------------------------

_GEOJSON_SUFFIXES = (".geojson", ".json")


def export_operations(operations: Sequence[Operation], path: Path | str) -> Path:
    """Write operations to GeoJSON (``.geojson``) or GeoPackage (``.gpkg``).

    GeoJSON follows RFC 7946 (longitude/latitude, EPSG:4326): one feature per
    operation area (``layer`` = ``"operation"``) and one per activity
    (``layer`` = its kind). A GeoPackage holds an ``operations`` layer and one
    layer per activity kind, in EPSG:27700, each with a single geometry type so
    QGIS styles them easily.

    Raises
    ------
    ParameterError
        When the suffix is neither, or there is nothing to write.
    """
    target = Path(path)
    if not operations:
        raise ParameterError("operations must hold at least one operation, got none")
    suffix = target.suffix.lower()
    if suffix in _GEOJSON_SUFFIXES:
        doc = _to_geojson(operations)
        # one feature a line: small, and diffs show which feature changed
        lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in doc["features"])
        target.write_text(
            '{"type": "FeatureCollection", "name": "hotspot_operations", '
            f'"features": [\n{lines}\n]}}\n', encoding="utf-8")
    elif suffix == ".gpkg":
        _to_gpkg(operations, target)
    else:
        raise ParameterError(
            f"path must end in .geojson or .gpkg, got {target.name!r}")
    logger.info("wrote %d operation(s) to %s", len(operations), target)
    return target


def _wgs84(geoms: Sequence[BaseGeometry]) -> list[BaseGeometry]:
    frame = to_wgs84(gpd.GeoDataFrame(geometry=list(geoms), crs=BNG))
    return list(frame.geometry)


def _to_geojson(operations: Sequence[Operation]) -> dict[str, Any]:
    features: list[dict[str, Any]] = []
    for op in operations:
        geoms = _wgs84([op.area] + [a.geometry for a in op.activities])
        props: dict[str, Any] = {"layer": "operation", **_op_record(op)}
        features.append({"type": "Feature", "properties": props,
                         "geometry": mapping(geoms[0])})
        for act, geom in zip(op.activities, geoms[1:], strict=True):
            rec = _act_record(act, op.operation_id)
            rec["windows"] = [w.to_json() for w in act.windows]
            features.append({"type": "Feature",
                             "properties": {"layer": act.kind, **rec},
                             "geometry": mapping(geom)})
    return {"type": "FeatureCollection", "name": "hotspot_operations",
            "features": features}


def _to_gpkg(operations: Sequence[Operation], target: Path) -> None:
    if target.exists():
        target.unlink()
    ops = operations_table(operations)
    areas = ops.drop(columns=["n_activities"])
    areas = areas.set_geometry([_as_multi(g) for g in areas.geometry], crs=BNG)
    areas.to_file(target, layer="operations", driver="GPKG")
    for kind in ACTIVITY_KINDS:
        rows = [(a, op.operation_id) for op in operations for a in op.activities
                if a.kind == kind]
        if not rows:
            continue
        frame = pd.DataFrame([_act_record(a, oid) for a, oid in rows],
                             columns=list(_ACT_FIELDS))
        geoms = [a.geometry for a, _ in rows]
        if kind in ("patrol_zone", "s60_area", "s35_zone") or any(
                g.geom_type in _AREAS for g in geoms):
            geoms = [_as_multi(g) if g.geom_type in _AREAS else g for g in geoms]
        if any(g.geom_type in _AREAS for g in geoms) and any(
                g.geom_type in _POINTS for g in geoms):
            # one geometry type per layer: points and areas of one kind split
            for part, types in (("_points", _POINTS), ("_areas", _AREAS)):
                keep = [g.geom_type in types for g in geoms]
                gpd.GeoDataFrame(frame[keep], geometry=[g for g, k in zip(
                    geoms, keep, strict=True) if k], crs=BNG).to_file(
                    target, layer=f"{kind}{part}", driver="GPKG")
            continue
        gpd.GeoDataFrame(frame, geometry=geoms, crs=BNG).to_file(
            target, layer=kind, driver="GPKG")


def import_operations(path: Path | str) -> list[Operation]:
    """Read operations from a GeoJSON or GeoPackage file written by any tool.

    Files need the fields :func:`export_operations` writes; the operation area
    feature (``layer`` = ``"operation"`` in GeoJSON, layer ``operations`` in a
    GeoPackage) and activity features (GeoJSON ``layer`` = the kind; GeoPackage
    layers named by kind). Geometries are projected to EPSG:27700. The
    operations are returned unvalidated; the store validates them on ``add``.

    Raises
    ------
    ParameterError
        When the file has no operation, a layer is empty, an activity names an
        operation that is not in the file, or a field cannot be read.
    """
    source = Path(path)
    if not source.exists():
        raise ParameterError(f"path {source} does not exist")
    suffix = source.suffix.lower()
    if suffix in _GEOJSON_SUFFIXES:
        op_rows, act_rows = _read_geojson(source)
    elif suffix == ".gpkg":
        op_rows, act_rows = _read_gpkg(source)
    else:
        raise ParameterError(f"path must end in .geojson or .gpkg, got {source.name!r}")
    if not op_rows:
        raise ParameterError(
            f"{source.name}: no operation feature (a feature with layer "
            "'operation', or an 'operations' layer) was found")
    by_op: dict[str, list[Activity]] = {}
    known = {_text(r.get("operation_id")) for r, _ in op_rows}
    for rec, geom in act_rows:
        oid = _text(rec.get("operation_id"))
        if oid not in known:
            if len(known) == 1:
                oid = next(iter(known))
            else:
                raise ParameterError(
                    f"{source.name}: activity {rec.get('label')!r} names operation "
                    f"{oid!r}, which is not in the file")
        by_op.setdefault(oid, []).append(_act_from_record(rec, _from_multi(geom)))
    return [_op_from_record(rec, _from_multi(geom), by_op.get(
        _text(rec.get("operation_id")), [])) for rec, geom in op_rows]


_Rows = list[tuple[dict[str, Any], BaseGeometry]]


def _read_geojson(source: Path) -> tuple[_Rows, _Rows]:
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{source.name}: not readable GeoJSON ({exc})") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise ParameterError(f"{source.name}: expected a GeoJSON FeatureCollection")
    if not features:
        raise ParameterError(f"{source.name}: the FeatureCollection is empty")
    props = [dict(f.get("properties") or {}) for f in features]
    try:
        geoms = [shape(f["geometry"]) if f.get("geometry") else Polygon()
                 for f in features]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ParameterError(f"{source.name}: a geometry cannot be read ({exc})"
                             ) from None
    projected = list(to_bng(gpd.GeoDataFrame(geometry=geoms, crs=WGS84)).geometry)
    op_rows: _Rows = []
    act_rows: _Rows = []
    for rec, geom in zip(props, projected, strict=True):
        layer = _text(rec.get("layer")) or _text(rec.get("kind"))
        if layer == "operation":
            op_rows.append((rec, geom))
        else:
            rec.setdefault("kind", layer)
            act_rows.append((rec, geom))
    return op_rows, act_rows


def _read_gpkg(source: Path) -> tuple[_Rows, _Rows]:
    import pyogrio

    layers = [str(name) for name, _ in pyogrio.list_layers(source)]
    op_rows: _Rows = []
    act_rows: _Rows = []
    for layer in layers:
        base = layer.removesuffix("_points").removesuffix("_areas")
        if layer not in ("operations", "activities") and base not in ACTIVITY_KINDS:
            logger.info("%s: layer %r is not an operation layer; skipped",
                        source.name, layer)
            continue
        frame = to_bng(gpd.read_file(source, layer=layer))
        if frame.empty:
            raise ParameterError(
                f"{source.name}: layer {layer!r} is empty; remove it or add features")
        records = frame.drop(columns=frame.geometry.name).to_dict("records")
        rows = list(zip(records, frame.geometry, strict=True))
        if layer == "operations":
            op_rows.extend(rows)
        else:
            for rec, _ in rows:
                rec.setdefault("kind", base)
                if not _text(rec.get("kind")):
                    rec["kind"] = base
            act_rows.extend(rows)
    return op_rows, act_rows

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

import functools
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from functools import lru_cache
from typing import TypeVar

import h3
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG
from hotspot.errors import HotspotError, ParameterError
from hotspot.settings import DATA_DIR, OPERATIONS_STORE

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Default operation store written by the app and the command line.
DEFAULT_STORE_PATH = OPERATIONS_STORE
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


@functools.cache
def known_csps() -> dict[str, str]:
    """Return every CSP code of both groupings, with its name (read once)."""
    from hotspot.boundaries import load_csps

    out: dict[str, str] = {}
    for grouping in ("district", "ons2024"):
        csps = load_csps(grouping=grouping)
        out.update(zip(csps["csp_code"].astype(str), csps["csp_name"].astype(str),
                       strict=True))
    return out


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
    elif check_hips and str(operation.csp_code) not in known_csps():
        p.append(f"csp_code: {operation.csp_code!r} is not one of the HIPS CSPs "
                 f"({', '.join(sorted(known_csps()))})")
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


def _as_multi(geom: BaseGeometry) -> BaseGeometry:
    return MultiPolygon([geom]) if isinstance(geom, Polygon) else geom


def _from_multi(geom: BaseGeometry) -> BaseGeometry:
    if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom

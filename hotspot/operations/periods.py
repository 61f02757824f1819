"""The areas (treated, buffer, control) and periods (before, during, after)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG, require_bng
from hotspot.errors import ParameterError
from hotspot.operations.model import Operation

# ----------------------------------------------------------------------------
# areas and periods
# ----------------------------------------------------------------------------

logger = logging.getLogger(__name__)

DEFAULT_BUFFER_M = 400.0
AREAS: tuple[str, ...] = ("treated", "buffer", "control")
#: What the areas are called on screen and paper.
AREA_LABELS: dict[str, str] = {"treated": "Operation area", "buffer": "Buffer ring",
                               "control": "Control area"}


@dataclass(frozen=True)
class Period:
    """A named run of whole days, ``start`` and ``end`` inclusive."""

    name: str
    start: date
    end: date

    @property
    def days(self) -> int:
        """Length in days."""
        return (self.end - self.start).days + 1

    def months(self) -> list[str]:
        """Months (``YYYY-MM``) the period touches."""
        return [str(p) for p in pd.period_range(self.start, self.end, freq="M")]

    def label(self) -> str:
        """E.g. ``"before (2025-04-01 to 2025-05-31)"``."""
        return f"{self.name} ({self.start:%Y-%m-%d} to {self.end:%Y-%m-%d})"


def default_periods(
    operation: Operation,
    *,
    before: tuple[date, date] | None = None,
    after: tuple[date, date] | None = None,
) -> tuple[Period, Period, Period]:
    """Before, during and after periods; by default as long as the operation.

    The before period ends the day before the operation starts; the after period
    starts the day after it ends. When the operation covers whole calendar
    months, so do they (so month-only police.uk rows can be placed).
    """
    start, end = operation.period_start, operation.period_end
    during = Period("during", start, end)
    whole_months = start.day == 1 and (end + timedelta(days=1)).day == 1
    if before is None:
        if whole_months:
            n = _month_span(start, end)
            b_start = (pd.Timestamp(start) - pd.DateOffset(months=n)).date()
            before = (b_start, start - timedelta(days=1))
        else:
            before = (start - timedelta(days=during.days), start - timedelta(days=1))
    if after is None:
        if whole_months:
            n = _month_span(start, end)
            a_end = (pd.Timestamp(end + timedelta(days=1))
                     + pd.DateOffset(months=n) - pd.Timedelta(days=1)).date()
            after = (end + timedelta(days=1), a_end)
        else:
            after = (end + timedelta(days=1), end + timedelta(days=during.days))
    periods = (Period("before", *before), during, Period("after", *after))
    for p in periods:
        if p.end < p.start:
            raise ParameterError(f"{p.name} period ends before it starts: {p.label()}")
    if periods[0].end >= start or periods[2].start <= end:
        raise ParameterError(
            "before must end before the operation starts and after must start after "
            f"it ends; got {periods[0].label()} and {periods[2].label()}")
    return periods


def _month_span(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


@dataclass(frozen=True)
class EvaluationAreas:
    """Treated area, buffer ring and control area (EPSG:27700)."""

    treated: BaseGeometry
    buffer: BaseGeometry
    control: BaseGeometry
    buffer_m: float
    control_source: str

    def frame(self) -> gpd.GeoDataFrame:
        """One row per area: ``area``, ``description``, ``area_km2``, geometry."""
        descriptions = {
            "treated": "operation area",
            "buffer": f"buffer ring, {self.buffer_m:.0f} m",
            "control": self.control_source,
        }
        geoms = [self.treated, self.buffer, self.control]
        return gpd.GeoDataFrame(
            {"area": list(AREAS), "description": [descriptions[a] for a in AREAS],
             "area_km2": [g.area / 1e6 for g in geoms]},
            geometry=geoms, crs=BNG,
        )


def evaluation_areas(
    operation: Operation,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    control: BaseGeometry | None = None,
    csps: gpd.GeoDataFrame | None = None,
) -> EvaluationAreas:
    """Build the buffer ring and the control area of an operation.

    Parameters
    ----------
    operation : Operation
        Its ``area`` is the treated area.
    buffer_m : float, keyword-only
        Width of the buffer ring in metres (default 400 m, a few streets).
    control : shapely geometry, optional, keyword-only
        Control area (EPSG:27700); the treated area and buffer are cut out of
        it. Default: the rest of the operation's CSP.
    csps : geopandas.GeoDataFrame, optional, keyword-only
        CSP polygons (default :func:`hotspot.boundaries.load_csps`).

    Raises
    ------
    ParameterError
        When ``buffer_m`` is not positive, the CSP is unknown, or the control
        area is empty once the treated area and buffer are cut out.
    """
    if not math.isfinite(buffer_m) or buffer_m <= 0:
        raise ParameterError(f"buffer_m must be a distance above 0 metres, got "
                             f"{buffer_m!r}")
    treated = operation.area
    outer = treated.buffer(buffer_m)
    ring = outer.difference(treated)
    if control is None:
        if csps is None:
            from hotspot.boundaries import load_csps

            csps = load_csps()
        require_bng(csps, name="csps")
        row = csps[csps["csp_code"] == operation.csp_code]
        if row.empty:
            raise ParameterError(
                f"operation csp_code {operation.csp_code!r} is not a CSP code; "
                f"known codes are {sorted(csps['csp_code'])}")
        base = shapely.union_all(row.geometry.to_numpy())
        source = (f"rest of {operation.csp_name or operation.csp_code} outside "
                  "the buffer")
    else:
        base = control
        source = "control area given"
        if control.intersects(outer):
            logger.info("the control area given overlaps the operation area or its "
                        "buffer; the overlap is left out of the control")
            source = "control area given (overlap with operation area and buffer "\
                "left out)"
    ctrl = base.difference(outer)
    if ctrl.is_empty or ctrl.area <= 0:
        raise ParameterError(
            "control is empty once the operation area and its buffer are cut out; "
            "give a larger control area or a narrower buffer_m")
    return EvaluationAreas(treated=treated, buffer=ring, control=ctrl,
                           buffer_m=float(buffer_m), control_source=source)


def operation_wards(operation: Operation, *,
                    csps: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Return the wards of an operation's CSP (EPSG:27700), for its maps.

    ``csps`` are the CSP polygons with ``lad_code`` (default
    :func:`hotspot.boundaries.load_csps`); an unknown CSP gives no wards.
    """
    from hotspot.boundaries import load_csps, load_wards

    csps = load_csps() if csps is None else csps
    row = csps[csps["csp_code"] == operation.csp_code]
    wards = load_wards()
    if row.empty:
        return wards.iloc[:0]
    lads = str(row["lad_code"].iloc[0]).split(",")
    return wards[wards["lad_code"].isin(lads)]

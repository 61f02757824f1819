"""Operations as tables (for the app, exports and the store's records)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG
from hotspot.errors import ParameterError
from hotspot.operations.model import (
    ACTIVITY_KINDS,
    Activity,
    Operation,
    TimeWindow,
    _new_id,
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

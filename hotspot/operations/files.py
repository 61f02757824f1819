"""Operations to and from GeoJSON and GeoPackage files (all or nothing per file)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG, WGS84, to_bng, to_wgs84
from hotspot.errors import ParameterError
from hotspot.operations.model import (
    _AREAS,
    _POINTS,
    ACTIVITY_KINDS,
    Activity,
    Operation,
    _as_multi,
    _from_multi,
)
from hotspot.operations.tables import (
    _ACT_FIELDS,
    _act_from_record,
    _act_record,
    _op_from_record,
    _op_record,
    _text,
    operations_table,
)

# ----------------------------------------------------------------------------
# import and export
# ----------------------------------------------------------------------------

_GEOJSON_SUFFIXES = (".geojson", ".json")

logger = logging.getLogger(__name__)


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
    ids = [_text(r.get("operation_id")) for r, _ in op_rows]
    repeated = sorted({i for i in ids if i and ids.count(i) > 1})
    if repeated:
        raise ParameterError(
            f"{source.name}: operation_id {', '.join(map(repr, repeated))} appears "
            "on more than one operation feature; each operation needs its own id")
    by_op: dict[str, list[Activity]] = {}
    known = set(ids)
    for n, (rec, geom) in enumerate(act_rows, 1):
        oid = _text(rec.get("operation_id"))
        if oid not in known:
            if len(known) == 1:
                oid = next(iter(known))
            else:
                raise ParameterError(
                    f"{source.name}: activity {rec.get('label')!r} names operation "
                    f"{oid!r}, which is not in the file")
        activity = _record(source, f"activity {n} ({rec.get('label')!r})",
                           _act_from_record, rec, _from_multi(geom))
        by_op.setdefault(oid, []).append(activity)
    return [_record(source, f"operation {n} ({rec.get('name')!r})", _op_from_record,
                    rec, _from_multi(geom), by_op.get(_text(rec.get("operation_id")),
                                                      []))
            for n, (rec, geom) in enumerate(op_rows, 1)]


_T = TypeVar("_T")


def _record(source: Path, where: str, make: Callable[..., _T], *args: Any) -> _T:
    """Build one operation or activity from its fields; name the file and feature.

    A field that cannot be read (a version or minutes that are not whole
    numbers, a window that is not a pair of times, a date that is not a date)
    raises ParameterError saying which file, which feature and what was wrong,
    never a bare ``int()`` error.
    """
    try:
        return make(*args)
    except ParameterError as exc:
        raise ParameterError(f"{source.name}: {where}: {exc}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ParameterError(
            f"{source.name}: {where}: a field cannot be read ({exc}); expected "
            "the fields export_operations writes (docs/operations.md)") from None


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
    for n, feature in enumerate(features, 1):
        if not isinstance(feature, dict) or not isinstance(
                feature.get("properties") or {}, dict):
            raise ParameterError(
                f"{source.name}: feature {n} is not a GeoJSON Feature object with "
                f"properties (got {type(feature).__name__})")
    props = [dict(f.get("properties") or {}) for f in features]
    geoms = []
    for n, feature in enumerate(features, 1):
        try:
            geoms.append(shape(feature["geometry"]) if feature.get("geometry")
                         else Polygon())
        except (KeyError, TypeError, ValueError, AttributeError,
                shapely.errors.ShapelyError) as exc:
            raise ParameterError(
                f"{source.name}: feature {n}: its geometry cannot be read ({exc}); "
                "expected a GeoJSON Polygon, MultiPolygon, Point or LineString"
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

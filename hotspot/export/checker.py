"""The checker: reads a real export file and tries the attacks on it.

:func:`check_file` reads every layer, column, tag, metadata item and text of a
file (:mod:`hotspot.export.reading`) and lists every broken rule: the table
rules of :func:`hotspot.export.disclosure.check_frame` on every layer;
polygons smaller than the finest allowed H3 cell (unless they are a clipped
H3 cell); metadata and GeoPackage ``<MDI>`` items, KML description text,
GeoTIFF tags of every band and namespace; every raster band against the
density bands, nodata holes and low peaks; and then the reconstruction attacks
of :mod:`hotspot.export.attacks` on the file's own columns: the Gi* ring-sum
solve with every numeric column tried as z (and as p), and totals minus
visible cells. :func:`check_pair` runs the differencing attack on two files.
The rules used are always :func:`~hotspot.export.disclosure.at_floor` of the
ones given.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from hotspot.export import attacks
from hotspot.export.checks import check_density, check_frame, check_metadata
from hotspot.export.disclosure import (
    DEFAULT_RULES,
    METADATA_COUNT_KEYS,
    DisclosureRules,
    Violation,
    _is_number,
    _numeric,
    _small,
    at_floor,
    columns_by_kind,
)
from hotspot.export.reading import ExportFile, read_export

logger = logging.getLogger(__name__)

#: ``name: 12``, ``name = 12`` or ``<td>name</td><td>12</td>`` in description text.
_TEXT_PAIR = re.compile(
    r"([A-Za-z_][\w ]{0,40}?)\s*(?::|=|</t[dh]>\s*<t[dh][^>]*>)\s*(-?\d+(?:\.\d+)?)\b")
#: A column with fewer distinct values is not tried as a Gi* statistic.
MIN_DISTINCT = 20
#: A polygon smaller than this share of the finest allowed cell's mean area fails.
MIN_AREA_SHARE = 0.5


def check_file(path: Path | str, *, rules: DisclosureRules = DEFAULT_RULES) -> list[
        Violation]:
    """List every rule an export file breaks, attacks included (empty: it passes).

    Parameters
    ----------
    path : pathlib.Path or str
        A ``.gpkg``, ``.geojson``/``.json``, ``.kml``, ``.tif``/``.tiff``,
        ``.csv`` (with its ``.csv-metadata.json``), ``.pdf`` or ``.png`` (through
        its ``.sources.json``, which must exist). Any characters in the path.
    rules : DisclosureRules, keyword-only
        The rules; the deployment floor is applied to them.

    Returns
    -------
    list of Violation

    Raises
    ------
    ParameterError
        When the file does not exist or its kind is unknown.
    """
    rules = at_floor(rules)
    found = read_export(path)
    name = found.path.name
    out = [Violation("sources" if "sources.json" in problem else "format", name,
                     problem) for problem in found.problems]
    declared = _declared(found)
    for where, meta in found.metadata.items():
        out += check_metadata(meta, rules=rules, name=where)
    for where, text in found.texts.items():
        out += _check_text(text, rules=rules, where=where)
    for layer, frame in found.layers.items():
        where = f"{name}:{layer}"
        out += check_frame(frame, rules=rules, name=where,
                           declared_counts=declared.get(layer, []))
        out += _check_areas(frame, rules=rules, name=where,
                            declared=declared.get(layer, []))
    for entry in found.metadata.values():
        if isinstance(entry, dict) and set(entry.get("geometry_types") or []) & {
                "Point", "MultiPoint"}:
            out.append(Violation("no-points", name, "the map draws point geometries"))
    out += _check_raster(found, rules=rules)
    out += _attack_file(found, rules=rules, declared=declared)
    return out


def check_pair(first: Path | str, second: Path | str, *,
               rules: DisclosureRules = DEFAULT_RULES) -> list[Violation]:
    """Difference two exports (nested periods or areas) and list what it pins.

    Layers of the same name are matched on their H3 cell (or first text column
    of unique values) and every count column is differenced
    (:func:`hotspot.export.attacks.difference_attack`).
    """
    rules = at_floor(rules)
    a, b = read_export(first), read_export(second)
    da, db = _declared(a), _declared(b)
    out = []
    for layer, frame_a in a.layers.items():
        frame_b = b.layers.get(layer)
        if frame_b is None:
            continue
        key = _key_column(frame_a)
        if key is None or key not in frame_b.columns:
            continue
        counts_a = set(columns_by_kind(frame_a, rules=rules,
                                       declared=da.get(layer, [])).get("count", []))
        counts_b = set(columns_by_kind(frame_b, rules=rules,
                                       declared=db.get(layer, [])).get("count", []))
        for col in sorted(counts_a & counts_b):
            result = attacks.difference_attack(
                frame_a, frame_b, key=key, column=col, min_count=rules.min_count,
                where=f"{a.path.name} - {b.path.name}:{layer}.{col}")
            if result.solved:
                out.append(Violation("differencing", result.where, result.detail))
    return out


def _declared(found: ExportFile) -> dict[str, list[str]]:
    """Count columns each layer's metadata declares."""
    out: dict[str, list[str]] = {}
    for where, meta in found.metadata.items():
        if not isinstance(meta, dict):
            continue
        inner = meta.get("hotspot", meta)
        if not isinstance(inner, dict):
            continue
        cols = inner.get("count_columns")
        layer = inner.get("layer") or where.split(".", 1)[0].split(":")[-1]
        if isinstance(cols, list):
            out.setdefault(str(layer), []).extend(str(c) for c in cols)
    if len(found.layers) == 1:  # a CSV or GeoJSON: one layer, one sidecar
        only = next(iter(found.layers))
        out[only] = sorted({c for cols in out.values() for c in cols})
    return out


def _key_column(frame: pd.DataFrame) -> str | None:
    if "h3" in frame.columns:
        return "h3"
    for col in frame.columns:
        if col != "geometry" and frame[col].dtype == object and frame[col].is_unique:
            return str(col)
    return None


def _check_text(text: str, *, rules: DisclosureRules, where: str) -> list[Violation]:
    """Numbers written next to a name in free text are read as a one-row table."""
    pairs = {k.strip().lower().replace(" ", "_"): v
             for k, v in _TEXT_PAIR.findall(text)}
    if not pairs:
        return []
    row = pd.DataFrame({k: [float(v)] for k, v in pairs.items()})
    # words are not a table: only small counts count (a year is not a count
    # to round; the exact totals written in words are not small)
    found = check_frame(row, rules=replace(rules, round_to=None),
                        name=f"{where} (text)")
    return [v for v in found if v.rule == "small-counts"]


def _check_areas(frame: pd.DataFrame, *, rules: DisclosureRules, name: str,
                 declared: list[str]) -> list[Violation]:
    """Polygons of occurrence-derived rows smaller than the finest allowed cell."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.empty or frame.crs is None:
        return []
    kinds = columns_by_kind(frame, rules=rules, declared=declared)
    if not any(kinds.get(k) for k in ("count", "derived", "class", "statistic")):
        return []  # boundaries, operations: not derived from the occurrences
    bng = frame.to_crs(27700) if frame.crs.to_epsg() != 27700 else frame
    areas = bng.geometry.area.to_numpy()
    limit = h3.average_hexagon_area(rules.max_resolution, unit="m^2") * MIN_AREA_SHARE
    small = np.flatnonzero(np.isfinite(areas) & (areas < limit))
    if small.size and "h3" in frame.columns:
        from hotspot.grid import cell_polygons

        ids = frame["h3"].astype(str).to_numpy()[small]
        ok = np.array([h3.is_valid_cell(c) and h3.get_resolution(c) <=
                       rules.max_resolution for c in ids])
        if ok.any():
            hexes = cell_polygons(list(ids[ok])).to_numpy()
            inside = shapely.within(bng.geometry.to_numpy()[small[ok]],
                                    shapely.buffer(hexes, 1.0))
            keep = np.ones(small.size, dtype=bool)
            keep[np.flatnonzero(ok)[inside]] = False
            small = small[keep]
    if small.size:
        return [Violation("geometry-size", name,
                          f"{small.size} polygons smaller than {limit:,.0f} m² (half "
                          f"an H3 resolution {rules.max_resolution} cell), e.g. "
                          f"{areas[small[0]]:,.1f} m²: they mark places finer than "
                          "the coarsest allowed cells")]
    return []


def _check_raster(found: ExportFile, *, rules: DisclosureRules) -> list[Violation]:
    raster = found.raster
    if raster is None:
        return []
    name = found.path.name
    out = []
    try:
        bandwidth_m = float(raster.tags.get("bandwidth_m", "nan"))
    except ValueError:
        bandwidth_m = float("nan")
    if not bandwidth_m > 0:
        out.append(Violation("small-counts", f"{name}.tags.bandwidth_m",
                             "no bandwidth_m tag: the density floor cannot be "
                             "checked"))
    for i, band in enumerate(raster.bands, start=1):
        where = f"{name}.band{i}"
        if bandwidth_m > 0:
            out += check_density(band, bandwidth_m=bandwidth_m, rules=rules, name=where)
            low = attacks.low_density_attack(band, transform=raster.transform,
                                             bandwidth_m=bandwidth_m,
                                             min_count=rules.min_count, where=where)
            if low.solved:
                out.append(Violation("reconstruction", where, low.detail))
        disc = attacks.nodata_disc_attack(band, transform=raster.transform, where=where)
        if disc.solved:
            out.append(Violation("reconstruction", where,
                                 f"{disc.detail}: nodata inside the data marks "
                                 "where isolated occurrences are"))
    for key, value in raster.tags.items():
        short = key.rsplit(".", 1)[-1].rsplit(":", 1)[-1].lower()
        if short in METADATA_COUNT_KEYS and _is_number(value) and \
                0 < float(value) < rules.min_count:
            out.append(Violation("small-counts", f"{name}.tags.{key}",
                                 f"total {value} is below {rules.min_count}"))
    return out


def _attack_file(found: ExportFile, *, rules: DisclosureRules,
                 declared: dict[str, list[str]]) -> list[Violation]:
    """Gi* ring-sum solve and totals minus visible, on the file's own columns."""
    out = []
    k = _parameter(found, "k", 1)
    totals = _candidate_totals(found, rules=rules, declared=declared)
    for layer, frame in found.layers.items():
        if "h3" not in frame.columns:
            continue
        kinds = columns_by_kind(frame, rules=rules, declared=declared.get(layer, []))
        for count_col in kinds.get("count", []):
            values = _numeric(frame[count_col])
            if not (~np.isfinite(values)).any() or \
                    _small(values, rules.min_count).any():
                continue
            where = f"{found.path.name}:{layer}"
            suspects = [c for kind in ("statistic", "derived", "context", "class")
                        for c in kinds.get(kind, [])] + [
                c for c in kinds.get("count", []) if c != count_col]
            for col in suspects:  # one column that solves is reason enough
                solved = _try_solve(frame, col, count_col, k=int(k), rules=rules,
                                    where=where)
                if solved:
                    out += solved
                    break
            for source, bounds in totals:
                res = attacks.totals_attack(frame, bounds, column=count_col,
                                            min_count=rules.min_count,
                                            where=f"{where}.{count_col} vs {source}")
                if res.solved:
                    out.append(Violation("reconstruction", res.where, res.detail))
    return out


def _try_solve(frame: pd.DataFrame, col: str, count_col: str, *, k: int,
               rules: DisclosureRules, where: str) -> list[Violation]:
    stat = _numeric(frame[col])
    if np.unique(stat[np.isfinite(stat)]).size < MIN_DISTINCT:
        return []  # coarse values (bins, rounded figures) carry no exact equations
    tries = [False]
    finite = stat[np.isfinite(stat)]
    if finite.size and finite.min() >= 0 and finite.max() <= 1:
        tries.append(True)
    out = []
    for from_p in tries:
        try:
            res = attacks.gistar_solve(frame.assign(**{col: stat}), statistic=col,
                                       from_p=from_p, k=k, count_column=count_col,
                                       min_count=rules.min_count)
        except (ValueError, np.linalg.LinAlgError) as exc:
            logger.debug("Gi* solve on %s.%s failed: %s", where, col, exc)
            continue
        if res.solved:
            out.append(Violation("reconstruction", f"{where}.{col}",
                                 f"Gi* ring-sum solve from {res.where}: {res.detail}"))
            break
    return out


def _parameter(found: ExportFile, key: str, default: Any) -> Any:
    for meta in found.metadata.values():
        if isinstance(meta, dict):
            inner = meta.get("hotspot", meta)
            params = inner.get("parameters") if isinstance(inner, dict) else None
            if isinstance(params, dict) and key in params:
                return params[key]
    return default


def _candidate_totals(found: ExportFile, *, rules: DisclosureRules,
                      declared: dict[str, list[str]]) -> list[tuple[str, tuple[float,
                                                                           float]]]:
    """Totals a reader can take from the file: metadata and complete tables."""
    out: list[tuple[str, tuple[float, float]]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if str(key).lower() in METADATA_COUNT_KEYS and _is_number(item):
                    out.append((f"{path}.{key}", (float(item), float(item))))
                else:
                    walk(item, f"{path}.{key}")

    for where, meta in found.metadata.items():
        walk(meta, where)
    for layer, frame in found.layers.items():
        if "h3" in frame.columns:
            continue
        kinds = columns_by_kind(frame, rules=rules, declared=declared.get(layer, []))
        for col in kinds.get("count", []):
            values = _numeric(frame[col])
            if (~np.isfinite(values)).any() or values.size == 0:
                continue
            lo, hi = attacks.count_intervals(values, min_count=rules.min_count)
            out.append((f"sum of {layer}.{col}", (float(lo.sum()), float(hi.sum()))))
    return out

"""Table, metadata and density checks of the disclosure rules.

:func:`check_frame` reads every column of a table; :func:`check_metadata` every
key of JSON-like metadata; :func:`check_density` every cell of a density band.
:mod:`hotspot.export.checker` applies them to every part of a written file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.export.disclosure import (
    _H3_PATTERN,
    COORDINATE_FIELDS,
    COORDINATE_TEXT,
    DEFAULT_RULES,
    DENSITY_BAND_FACTORS,
    METADATA_COUNT_KEYS,
    POSTCODE_PATTERN,
    DisclosureRules,
    Violation,
    _is_number,
    _is_text,
    _norm,
    _numeric,
    _small,
    columns_by_kind,
)

# ----------------------------------------------------------------------------
# checking tables (the file-level checker is hotspot.export.checker)
# ----------------------------------------------------------------------------


def _check_geometry(frame: pd.DataFrame, *, name: str) -> list[Violation]:
    if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame:
        return []
    kinds = frame.geometry.geom_type.dropna()
    points = int(kinds.isin(["Point", "MultiPoint"]).sum())
    if points:
        return [Violation("no-points", name,
                          f"{points} point geometries: partner exports hold cells "
                          "and areas, never point-level occurrences")]
    return []


def _h3_cells(values: pd.Series) -> pd.Series:
    text = values.dropna().astype(str).str.strip().str.lower()
    cells = text[text.str.match(_H3_PATTERN)]
    return cells[[h3.is_valid_cell(c) for c in cells]]


def _check_h3(frame: pd.DataFrame, *, rules: DisclosureRules, name: str) -> list[
        Violation]:
    found = []
    for col in frame.columns:
        if col == "geometry" or not _is_text(frame[col]):
            continue
        cells = _h3_cells(frame[col])
        if cells.empty:
            continue
        finest = max(h3.get_resolution(c) for c in cells.unique())
        if finest > rules.max_resolution:
            found.append(Violation(
                "h3-resolution", f"{name}.{col}",
                f"H3 resolution {finest} is finer than the limit "
                f"{rules.max_resolution}; aggregate to resolution "
                f"{rules.max_resolution} or coarser"))
    return found


def check_frame(
    frame: pd.DataFrame,
    *,
    rules: DisclosureRules = DEFAULT_RULES,
    name: str = "table",
    declared_counts: Iterable[str] = (),
) -> list[Violation]:
    """List every rule a table breaks (empty when it complies).

    Reads every column: forbidden names, statistics, text (postcodes,
    coordinates as text or WKT), counts (any column of whole numbers), derived
    values shown beside a suppressed count, rounding, H3 resolution, points.
    """
    found = _check_geometry(frame, name=name) + _check_h3(frame, rules=rules, name=name)
    kinds = columns_by_kind(frame, rules=rules, declared=declared_counts)
    for col in kinds.get("forbidden", []):
        coord = _norm(col) in COORDINATE_FIELDS
        found.append(Violation("no-points" if coord else "no-free-text",
                               f"{name}.{col}",
                               "coordinates of single occurrences" if coord else
                               "identifier, free-text location or personal field"))
    for col in kinds.get("statistic", []):
        found.append(Violation("no-statistics", f"{name}.{col}",
                               "a statistic of neighbouring counts (z, p, q, ring "
                               "sum, trend): a linear solve recovers suppressed "
                               "counts from it; partner files carry bins only"))
    for col in kinds.get("text", []):
        if col == "geometry":
            continue
        text = frame[col].dropna().astype(str)
        hits = text[text.str.contains(POSTCODE_PATTERN)]
        if len(hits):
            found.append(Violation("no-free-text", f"{name}.{col}",
                                   f"{len(hits)} values hold a postcode "
                                   f"(e.g. {hits.iloc[0][:40]!r})"))
        coords = text[text.str.contains(COORDINATE_TEXT)]
        if len(coords):
            found.append(Violation("no-points", f"{name}.{col}",
                                   f"{len(coords)} values are coordinates or WKT "
                                   f"(e.g. {coords.iloc[0][:40]!r})"))
    hidden = np.zeros(len(frame), dtype=bool)
    for col in kinds.get("count", []):
        values = _numeric(frame[col])
        hidden |= ~np.isfinite(values) & frame[col].isna().to_numpy()
        small = _small(values, rules.min_count)
        if small.any():
            found.append(Violation(
                "small-counts", f"{name}.{col}",
                f"{int(small.sum())} counts between 1 and {rules.min_count - 1} "
                f"(e.g. {values[small][0]:g}); they must be suppressed"))
        if rules.round_to:
            finite = values[np.isfinite(values)]
            off = finite[np.abs(finite / rules.round_to
                                - np.round(finite / rules.round_to)) > 1e-9]
            if off.size:
                found.append(Violation("rounding", f"{name}.{col}",
                                       f"{off.size} counts not rounded to "
                                       f"{rules.round_to} (e.g. {off[0]:g})"))
    if kinds.get("count") and hidden.any():
        for col in kinds.get("derived", []):
            shown = np.isfinite(_numeric(frame[col])) & hidden
            if shown.any():
                found.append(Violation(
                    "small-counts", f"{name}.{col}",
                    f"{int(shown.sum())} rows show {col} where the count is "
                    "suppressed (it is derived from that count)"))
    found += _check_coordinate_pairs(frame, kinds=kinds, name=name)
    return found


#: Bounds of HIPS and around it: (x, y) in EPSG:27700 and (lon, lat) in WGS84.
_BNG_BOX = (380_000.0, 40_000.0, 520_000.0, 200_000.0)
_WGS_BOX = (-2.2, 50.4, 0.0, 51.6)


def _check_coordinate_pairs(frame: pd.DataFrame, *, kinds: dict[str, list[str]],
                            name: str) -> list[Violation]:
    """Two numeric columns whose every row lies in the region: coordinates."""
    numeric = [c for kind in ("count", "derived", "context", "class")
               for c in kinds.get(kind, [])]
    found = []
    arrays = {c: _numeric(frame[c]) for c in numeric}
    for box in (_BNG_BOX, _WGS_BOX):
        xs = [c for c, v in arrays.items() if _within(v, box[0], box[2])]
        ys = [c for c, v in arrays.items() if _within(v, box[1], box[3])]
        for cx in xs:
            for cy in ys:
                if cx != cy:
                    found.append(Violation("no-points", f"{name}.{cx}+{cy}",
                                           "two columns hold coordinates in the "
                                           "region (every row): point-level data"))
                    return found
    return found


def _within(values: npt.NDArray[np.float64], lo: float, hi: float) -> bool:
    finite = values[np.isfinite(values)]
    return bool(finite.size >= 1 and np.all((finite >= lo) & (finite <= hi))
                and np.any(finite != np.round(finite)) | (lo > 1000))


def check_metadata(
    metadata: Any, *, rules: DisclosureRules = DEFAULT_RULES, name: str = "metadata"
) -> list[Violation]:
    """List small occurrence totals, identifiers and postcodes in JSON-like metadata."""
    found: list[Violation] = []
    banned = {_norm(f) for f in rules.forbidden_fields}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                where = f"{path}.{key}"
                if (_norm(key) in METADATA_COUNT_KEYS and _is_number(item)
                        and 0 < float(item) < rules.min_count):
                    found.append(Violation("small-counts", where,
                                           f"total {item} is below {rules.min_count}"))
                elif _norm(key) in banned and item not in (None, "", [], {}) \
                        and not isinstance(item, Mapping):
                    coord = _norm(key) in COORDINATE_FIELDS
                    found.append(Violation(
                        "no-points" if coord else "no-free-text", where,
                        "coordinates of an occurrence" if coord else
                        "identifier or free-text field"))
                walk(item, where)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif isinstance(value, str) and POSTCODE_PATTERN.search(value):
            found.append(Violation("no-free-text", path,
                                   f"holds a postcode ({value[:40]!r})"))

    walk(metadata, name)
    return found


def check_density(
    values: npt.ArrayLike, *, bandwidth_m: float,
    rules: DisclosureRules = DEFAULT_RULES,
    nodata: float | None = None, name: str = "density",
) -> list[Violation]:
    """List cells of a density surface below the floor, or not on its bands."""
    data = np.asarray(values, dtype=float)
    valid = np.isfinite(data)
    if nodata is not None:
        valid &= data != nodata
    floor = rules.density_floor_per_km2(bandwidth_m)
    found = []
    low = valid & (data > 0) & (data < floor * (1 - 1e-6))
    if low.any():
        found.append(Violation(
            "small-counts", name,
            f"{int(low.sum())} cells below {floor:.3g} per km² (the density of "
            f"{rules.min_count} occurrences at one spot with a {bandwidth_m:g} m "
            "bandwidth); they must be 0"))
    allowed = np.array([0.0, *(floor * f for f in DENSITY_BAND_FACTORS)])
    shown = data[valid]
    off = ~np.isclose(shown[:, None], allowed[None, :], rtol=1e-5, atol=0).any(axis=1)
    if off.any():
        found.append(Violation(
            "density-bands", name,
            f"{int(off.sum())} cells are not on the bands (0 or {floor:.3g} per km² "
            "times a power of two): exact densities can be inverted to points"))
    return found



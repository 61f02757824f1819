"""Write the occurrence table as a partitioned GeoParquet dataset, atomically.

A partitioned store keeps the documented contract (``STORE_DIR/occurrences.parquet``
readable by ``geopandas.read_parquet`` as one dataset, ``rejects.csv``,
``summary.json``) but ``occurrences.parquet`` is a folder of GeoParquet 1.1 files,
hive style, one per month and CSP::

    STORE_DIR/
      occurrences.parquet -> .store/current/occurrences.parquet
      rejects.csv         -> .store/current/rejects.csv
      summary.json        -> .store/current/summary.json
      .store/current      -> v000002
      .store/v000002/occurrences.parquet/month=2024-01/csp=E38000086/part-….parquet

Each file carries a ``bbox`` covering column (GeoParquet 1.1) and the H3 cell of
every point at each offered resolution as integers (``h3_7`` … ``h3_11``), so
DuckDB, Sedona or Dask can count per cell and period without geometry.

Atomicity: every write builds a complete new version folder, then switches
``.store/current`` with one ``os.replace`` of a symlink. A failure before the
switch leaves the store exactly as it was (the half-built folder is removed).
Appending a month writes only that month's partitions: files of untouched months
are hard links to the previous version's, not copies.

Why this module is long: the writer, its atomic version switch, the batch-by-batch
building of a version and the encoding of a batch apart from its writing (so a
worker process encodes and the store's owner writes) share the file layout; one
module keeps that layout in one place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyarrow as pa

from hotspot.crs import BNG
from hotspot.textsafe import spreadsheet_safe

logger = logging.getLogger(__name__)

OCCURRENCES_FILE = "occurrences.parquet"
REJECTS_FILE = "rejects.csv"
SUMMARY_FILE = "summary.json"
VERSIONS_DIR = ".store"
CURRENT = "current"
#: H3 resolutions stored as integer columns ``h3_<r>`` (the offered resolutions).
H3_RESOLUTIONS: tuple[int, ...] = (7, 8, 9, 10, 11)
#: Columns a partitioned store adds to the canonical table (dropped on loading).
DERIVED_COLUMNS: tuple[str, ...] = (
    "month", "csp", "bbox", *(f"h3_{r}" for r in H3_RESOLUTIONS))
MISSING_KEY = "none"


def is_partitioned(store_dir: Path | str) -> bool:
    """Return True when the store's occurrence table is a partitioned folder."""
    return (Path(store_dir) / OCCURRENCES_FILE).is_dir()


def file_checksum(path: Path | str) -> str:
    """Return the SHA-256 (hex) of a file's bytes, or of a folder's files and names."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(item.relative_to(path)).encode())
            digest.update(file_checksum(item).encode())
        return digest.hexdigest()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def h3_columns(points: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the integer H3 cell of each point at every stored resolution.

    The same steps as :func:`hotspot.grid.points_to_cells` (one projection to
    WGS84, one h3 call per distinct coordinate), done once for all resolutions,
    so a count from these columns equals a count from the points. Missing or
    empty geometry gives a missing cell. The cells of a coordinate are kept for
    the process's later calls (:data:`_CELL_CACHE`): a streamed file's batches
    repeat the same points.
    """
    import shapely

    from hotspot.geocode.points import unique_points

    geom = np.asarray(points.geometry.array)
    valid = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    out = pd.DataFrame(index=points.index)
    codes, ux, uy = unique_points(shapely.get_x(geom[valid]),
                                  shapely.get_y(geom[valid]))
    cells = _cells_of(ux, uy)
    for k, res in enumerate(H3_RESOLUTIONS):
        values = np.zeros(len(points), dtype=np.int64)
        values[valid] = cells[codes, k]
        out[f"h3_{res}"] = pd.arrays.IntegerArray(values, ~valid)
    return out


#: H3 cells (one per resolution) of BNG points already seen, by ``(x, y)``.
_CELL_CACHE: dict[tuple[float, float], tuple[int, ...]] = {}
#: Points the cache holds at most (emptied when full: about 35 MB).
_CELL_CACHE_MAX = 100_000


def _cells_of(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return the H3 cells (rows: points; columns: :data:`H3_RESOLUTIONS`)."""
    from hotspot.crs import bng_to_lonlat, latlng_for_h3

    keys = list(zip(x.tolist(), y.tolist(), strict=True))
    new = [i for i, key in enumerate(keys) if key not in _CELL_CACHE]
    if len(_CELL_CACHE) + len(new) > _CELL_CACHE_MAX:
        _CELL_CACHE.clear()
        new = list(range(len(keys)))
    if new:
        lon, lat = bng_to_lonlat(x[new], y[new])
        for i, lo, la in zip(new, lon.tolist(), lat.tolist(), strict=True):
            where = latlng_for_h3(lo, la)
            _CELL_CACHE[keys[i]] = tuple(
                h3.str_to_int(h3.latlng_to_cell(*where, res))
                for res in H3_RESOLUTIONS)
    table = np.zeros((len(keys), len(H3_RESOLUTIONS)), dtype=np.int64)
    if keys:
        table[:] = [_CELL_CACHE[key] for key in keys]
    return table


def partition_keys(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Return each row's ``month`` (``YYYY-MM``) and ``csp`` partition key."""
    when = pd.to_datetime(occurrences["occurred_from"])
    codes, uniques = pd.factorize(when)  # text per distinct time, not per row
    text = np.append(pd.DatetimeIndex(uniques).strftime("%Y-%m").to_numpy(dtype=object),
                     MISSING_KEY)
    month = pd.Series(text[codes], index=occurrences.index, dtype=object)
    csp = occurrences["csp_code"].astype("string").fillna(MISSING_KEY)
    return pd.DataFrame({"month": month.astype(str), "csp": csp.astype(str)},
                        index=occurrences.index)


def _version_root(store: Path) -> Path:
    return store / VERSIONS_DIR


def current_version(store_dir: Path | str) -> Path | None:
    """Return the folder of the store's current version, None when there is none."""
    link = _version_root(Path(store_dir)) / CURRENT
    return link.resolve() if link.exists() else None


@dataclass(frozen=True)
class EncodedPart:
    """One month-and-CSP partition file of a batch, encoded but not yet written."""

    month: str
    csp: str
    data: bytes


def _encode_partition(table: pa.Table) -> bytes:
    """Encode one month-and-CSP partition (GeoParquet 1.1 with a bbox covering)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    geo = json.loads(table.schema.metadata[b"geo"])
    bbox = table.column("bbox")
    geo["columns"]["geometry"]["bbox"] = [
        pc.min(pc.struct_field(bbox, "xmin")).as_py(),
        pc.min(pc.struct_field(bbox, "ymin")).as_py(),
        pc.max(pc.struct_field(bbox, "xmax")).as_py(),
        pc.max(pc.struct_field(bbox, "ymax")).as_py()]
    meta = dict(table.schema.metadata)
    meta[b"geo"] = json.dumps(geo).encode()
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def _partition_slices(
    occurrences: gpd.GeoDataFrame,
) -> Iterator[tuple[str, str, pa.Table]]:
    """Yield ``(month, csp, rows)``: ``occurrences`` cut into one table per partition.

    The batch becomes one Arrow table (GeoParquet 1.1 metadata, ``bbox``
    covering, integer H3 columns), sorted by month and CSP (stably: rows keep
    their order within a partition) and cut into zero-copy slices.
    """
    from geopandas.io.arrow import _geopandas_to_arrow

    if occurrences.empty:
        return
    table = occurrences.drop(
        columns=[c for c in DERIVED_COLUMNS if c in occurrences.columns])
    for name in table.columns:  # an all-missing object column would be Arrow null:
        if name != "geometry" and table[name].dtype == object:  # keep files alike
            table[name] = table[name].astype("string")
    keys = partition_keys(table)
    # sorted codes order as the key texts do: sorting them sorts by the texts
    month_code, months = pd.factorize(keys["month"], sort=True)
    csp_code, csps = pd.factorize(keys["csp"], sort=True)
    order = np.lexsort((csp_code, month_code))
    table = table.reset_index(drop=True)
    table = gpd.GeoDataFrame(pd.concat([table, h3_columns(table)], axis=1),
                             geometry="geometry", crs=BNG)
    arrow = _geopandas_to_arrow(table, index=False, schema_version="1.1.0",
                                write_covering_bbox=True).take(order)
    label = month_code[order] * len(csps) + csp_code[order]
    starts = np.flatnonzero(np.r_[True, label[1:] != label[:-1]])
    ends = np.r_[starts[1:], len(label)]
    for start, end in zip(starts, ends, strict=True):
        first = order[start]
        yield (str(months[month_code[first]]), str(csps[csp_code[first]]),
               arrow.slice(start, end - start))


def encode_rows(occurrences: gpd.GeoDataFrame) -> list[EncodedPart]:
    """Encode ``occurrences`` as one GeoParquet file per month and CSP, unwritten.

    The files are those :func:`add_rows` writes; :func:`add_parts` writes them,
    so the encoding can run in a worker process and the writing in the process
    that owns the store.
    """
    return [EncodedPart(month, csp, _encode_partition(rows))
            for month, csp, rows in _partition_slices(occurrences)]


def _partition_folder(root: Path, month: str, csp: str) -> Path:
    return root / f"month={month}" / f"csp={csp}"


def _write_partition(table: pa.Table, folder: Path) -> None:
    """Write one month-and-CSP partition as a new file in ``folder``."""
    _write_bytes(_encode_partition(table), folder)


def _write_bytes(data: bytes, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"part-{uuid.uuid4().hex[:12]}.parquet").write_bytes(data)


def _write_table(occurrences: gpd.GeoDataFrame, root: Path) -> None:
    """Write ``occurrences`` under ``root`` as one file per month and CSP."""
    root.mkdir(parents=True, exist_ok=True)
    for month, csp, rows in _partition_slices(occurrences):
        _write_partition(rows, _partition_folder(root, month, csp))


def _link_tree(source: Path, target: Path, *, skip_months: Iterable[str]) -> None:
    """Hard-link the partition files of ``source`` into ``target`` (not ``skip``)."""
    skip = {f"month={m}" for m in skip_months}
    for month_dir in sorted(source.glob("month=*")):
        if month_dir.name in skip:
            continue
        for path in month_dir.rglob("*.parquet"):
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, dest)


def _switch(store: Path, version: Path) -> None:
    """Point ``.store/current`` and the three store names at ``version``."""
    root = _version_root(store)
    tmp_link = root / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    tmp_link.symlink_to(version.name)
    os.replace(tmp_link, root / CURRENT)
    for name in (OCCURRENCES_FILE, REJECTS_FILE, SUMMARY_FILE):
        path = store / name
        want = Path(VERSIONS_DIR) / CURRENT / name
        if path.is_symlink() and Path(os.readlink(path)) == want:
            continue
        tmp = store / f".{name}.{uuid.uuid4().hex[:8]}"
        tmp.symlink_to(want)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)


def _new_version(store: Path) -> Path:
    root = _version_root(store)
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name[1:]) for p in root.glob("v*") if p.name[1:].isdigit()]
    return root / f"v{(max(numbers) + 1 if numbers else 1):06d}"


def _prune(store: Path, keep: Path) -> None:
    """Remove version folders other than ``keep`` (readers open files by inode)."""
    for old in _version_root(store).glob("v*"):
        if old.is_dir() and old.resolve() != keep.resolve():
            shutil.rmtree(old, ignore_errors=True)


def _write_sidecars(version: Path, rejects: pd.DataFrame,
                    summary: dict[str, Any]) -> None:
    spreadsheet_safe(rejects).to_csv(version / REJECTS_FILE, index=False)
    (version / SUMMARY_FILE).write_text(
        json.dumps(summary, indent=2, default=str), encoding="utf-8")


def write_version(
    store_dir: Path | str,
    *,
    occurrences: gpd.GeoDataFrame,
    rejects: pd.DataFrame,
    summary: dict[str, Any],
    replace_months: Iterable[str] | None = None,
) -> Path:
    """Write a new store version and switch to it; nothing changes on failure.

    Parameters
    ----------
    store_dir : path
        The store folder.
    occurrences : geopandas.GeoDataFrame
        Rows to write: the whole table, or (with ``replace_months``) the complete
        rows of those months.
    rejects, summary
        The store's whole rejects table and summary after this write.
    replace_months : iterable of str, optional, keyword-only
        Months (``YYYY-MM``) whose partitions ``occurrences`` replaces; every other
        month of the current version is kept by hard links. None writes the whole
        table afresh.

    Returns
    -------
    pathlib.Path
        The new version's folder.
    """
    store = Path(store_dir)
    store.mkdir(parents=True, exist_ok=True)
    version = _new_version(store)
    try:
        table_dir = version / OCCURRENCES_FILE
        _write_table(occurrences, table_dir)
        previous = current_version(store)
        if replace_months is not None and previous is not None:
            _link_tree(previous / OCCURRENCES_FILE, table_dir,
                       skip_months=replace_months)
        _write_sidecars(version, rejects, summary)
        _switch(store, version)
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    _prune(store, version)
    logger.info("store %s now at %s", store, version.name)
    return version


def read_months(store_dir: Path | str, months: Iterable[str]) -> gpd.GeoDataFrame:
    """Read the current rows of the given months (empty frame when none)."""
    version = current_version(store_dir)
    frames = []
    if version is not None:
        for month in sorted(set(months)):
            folder = version / OCCURRENCES_FILE / f"month={month}"
            if folder.is_dir():
                frames.append(gpd.read_parquet(folder))
    if not frames:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=BNG), crs=BNG)
    table = pd.concat(frames, ignore_index=True)
    drop = [c for c in DERIVED_COLUMNS if c in table.columns]
    return gpd.GeoDataFrame(table.drop(columns=drop), geometry="geometry", crs=BNG)


def start_version(store_dir: Path | str) -> Path:
    """Create an empty new version folder to fill batch by batch (not yet current)."""
    version = _new_version(Path(store_dir))
    (version / OCCURRENCES_FILE).mkdir(parents=True)
    return version


def add_rows(version: Path, occurrences: gpd.GeoDataFrame) -> None:
    """Write a batch of rows into a version being built (new files, never merged)."""
    _write_table(occurrences, version / OCCURRENCES_FILE)


def add_parts(version: Path, parts: Iterable[EncodedPart]) -> None:
    """Write a batch already encoded by :func:`encode_rows` into a version."""
    root = version / OCCURRENCES_FILE
    for part in parts:
        _write_bytes(part.data, _partition_folder(root, part.month, part.csp))


def flag_months(version: Path, months: Iterable[str], flag: str) -> int:
    """Add ``flag`` to every row of ``months`` in a version being built.

    Returns the number of rows flagged. Used when a check needs the whole file
    (an implausible month) and the rows were written batch by batch.
    """
    from hotspot.ingest.quality import add_flag

    n = 0
    for month in months:
        folder = version / OCCURRENCES_FILE / f"month={month}"
        if not folder.is_dir():
            continue
        rows = gpd.read_parquet(folder)
        rows = rows.drop(columns=[c for c in DERIVED_COLUMNS if c in rows.columns])
        rows["quality_flags"] = add_flag(
            rows["quality_flags"].astype("string"),
            pd.Series(True, index=rows.index), flag)
        shutil.rmtree(folder)
        _write_table(gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG),
                     version / OCCURRENCES_FILE)
        n += len(rows)
    return n


def finish_version(store_dir: Path | str, version: Path,
                   summary: dict[str, Any]) -> None:
    """Write the summary into a filled version and make it current, atomically.

    The version's ``rejects.csv`` must already be there (written as batches came).
    """
    (version / SUMMARY_FILE).write_text(
        json.dumps(summary, indent=2, default=str), encoding="utf-8")
    _switch(Path(store_dir), version)
    _prune(Path(store_dir), version)


def abandon_version(version: Path) -> None:
    """Remove a version that failed while being built (the store is unchanged)."""
    shutil.rmtree(version, ignore_errors=True)

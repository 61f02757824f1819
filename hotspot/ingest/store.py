"""The occurrence store: a folder holding one ingest's results.

Layout of ``STORE_DIR``:

- ``occurrences.parquet``: the canonical occurrence table (GeoParquet, points in
  EPSG:27700), one row per accepted occurrence: one file, or a folder of
  GeoParquet partitions by month and CSP (:mod:`hotspot.ingest.partitions`),
  readable either way by ``geopandas.read_parquet`` as one dataset;
- ``rejects.csv``: rows that could not be used, with ``source_file``,
  ``row_number``, ``field``, ``value``, ``reason`` and ``stage``;
- ``summary.json``: the ingest summary (read = accepted + rejected, by reason,
  geocoding by method, per CSP, data-quality flags).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspot.crs import BNG
from hotspot.errors import DataNotFoundError
from hotspot.ingest import partitions
from hotspot.ingest.schema import REJECT_COLUMNS, conform, empty_rejects, make_rejects
from hotspot.settings import DEFAULT_STORE_DIR
from hotspot.textsafe import spreadsheet_safe

OCCURRENCES_FILE = "occurrences.parquet"
REJECTS_FILE = "rejects.csv"
SUMMARY_FILE = "summary.json"

#: The store built from the embedded default data (see ``scripts/build_all.py``).
DEFAULT_STORE = DEFAULT_STORE_DIR


def _require(path: Path) -> Path:
    if not path.exists():
        raise DataNotFoundError(
            f"{path} does not exist: run `hotspot ingest SOURCE --out "
            f"{path.parent}` first (or `python scripts/build_all.py` for the "
            "embedded default store)"
        )
    return path


def load_occurrences(store_dir: Path | str = DEFAULT_STORE) -> gpd.GeoDataFrame:
    """Read the canonical occurrence table of a store (points in EPSG:27700)."""
    path = _require(Path(store_dir) / OCCURRENCES_FILE)
    gdf = gpd.read_parquet(path)
    derived = [c for c in partitions.DERIVED_COLUMNS if c in gdf.columns]
    if derived:
        gdf = gdf.drop(columns=derived)
    if gdf.crs is None or gdf.crs.to_epsg() != 27700:
        gdf = gdf.set_crs(BNG, allow_override=True)
    out = conform(gdf)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG)


def load_rejects(store_dir: Path | str = DEFAULT_STORE) -> pd.DataFrame:
    """Read the rejects table of a store (empty table when there were none)."""
    path = Path(store_dir) / REJECTS_FILE
    if not path.exists():
        return empty_rejects()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    for name, dtype in REJECT_COLUMNS.items():
        if name in frame.columns:
            frame[name] = frame[name].astype(dtype)
    return frame


def load_summary(store_dir: Path | str = DEFAULT_STORE) -> dict[str, Any]:
    """Read the ingest summary of a store."""
    path = _require(Path(store_dir) / SUMMARY_FILE)
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def write_store(
    store_dir: Path | str,
    *,
    occurrences: gpd.GeoDataFrame,
    rejects: pd.DataFrame,
    summary: dict[str, Any],
    partitioned: bool = False,
) -> Path:
    """Write a store atomically: files appear only once all three are complete.

    ``partitioned`` writes the occurrence table as GeoParquet partitions by month
    and CSP (:func:`hotspot.ingest.partitions.write_version`); otherwise one file.
    """
    target = Path(store_dir)
    if partitioned:
        partitions.write_version(target, occurrences=occurrences, rejects=rejects,
                                 summary=summary)
        return target
    target.mkdir(parents=True, exist_ok=True)
    staged = {
        OCCURRENCES_FILE: target / f".{OCCURRENCES_FILE}.tmp",
        REJECTS_FILE: target / f".{REJECTS_FILE}.tmp",
        SUMMARY_FILE: target / f".{SUMMARY_FILE}.tmp",
    }
    occurrences.to_parquet(
        staged[OCCURRENCES_FILE],
        compression="zstd",
        index=False,
        schema_version="1.0.0",
    )
    spreadsheet_safe(rejects).to_csv(staged[REJECTS_FILE], index=False)
    staged[SUMMARY_FILE].write_text(
        json.dumps(summary, indent=2, default=str), encoding="utf-8"
    )
    for name, tmp in staged.items():
        if (target / name).is_dir() and not (target / name).is_symlink():
            shutil.rmtree(target / name)
        tmp.replace(target / name)
    return target


def known_checksums(store_dir: Path | str) -> dict[str, str]:
    """Return ``{sha256: file}`` of every source file already ingested into a store."""
    path = Path(store_dir) / SUMMARY_FILE
    if not path.exists():
        return {}
    found = json.loads(path.read_text(encoding="utf-8")).get("source_checksums", {})
    return {str(k): str(v) for k, v in found.items()}


def append_to_store(
    store_dir: Path | str,
    *,
    occurrences: gpd.GeoDataFrame,
    rejects: pd.DataFrame,
    summary: dict[str, Any],
) -> dict[str, Any]:
    """Add newly ingested rows to a partitioned store, rewriting only their months.

    Rows whose ``occurrence_id`` is already stored in the same month move to the
    rejects (stage ``store``), so ``read == accepted + rejected`` still holds and
    re-ingesting a file never duplicates rows. A single-file store is converted
    to partitions first. Nothing changes on failure (one atomic switch).

    Returns
    -------
    dict
        The store's summary after the append (cumulative counts).
    """
    store = Path(store_dir)
    if (store / OCCURRENCES_FILE).is_file():
        write_store(store, occurrences=load_occurrences(store),
                    rejects=load_rejects(store), summary=load_summary(store),
                    partitioned=True)
    had = (store / SUMMARY_FILE).exists()
    old_summary = load_summary(store) if had else None
    old_rejects = load_rejects(store) if had else empty_rejects()
    months = sorted(set(partitions.partition_keys(occurrences)["month"]))
    existing = partitions.read_months(store, months)
    stored_ids = set(existing["occurrence_id"].dropna().astype(str)) if len(
        existing) else set()
    again = occurrences["occurrence_id"].astype("string").isin(stored_ids).fillna(
        False).to_numpy(dtype=bool)
    dup_rejects = make_rejects(pd.DataFrame({
        "source_file": occurrences.loc[again, "source_file"],
        "row_number": occurrences.loc[again, "source_row"],
        "occurrence_id": occurrences.loc[again, "occurrence_id"],
        "field": "occurrence_id",
        "value": occurrences.loc[again, "occurrence_id"],
        "reason": "already in the store (same occurrence id in the same month)",
        "stage": "store",
    }))
    kept = occurrences[~again]
    merged = pd.concat([conform(existing), conform(kept)], ignore_index=True) if len(
        existing) else conform(kept.reset_index(drop=True))
    table = gpd.GeoDataFrame(merged, geometry="geometry", crs=BNG)
    new_summary = dict(summary)
    rows = dict(summary["rows"])
    rows["accepted"] -= int(again.sum())
    rows["rejected"] += int(again.sum())
    new_summary["rows"] = rows
    if again.any():
        reasons = dict(new_summary.get("rejected_by_reason", {}))
        key = "store: occurrence_id: already in the store"
        reasons[key] = reasons.get(key, 0) + int(again.sum())
        new_summary["rejected_by_reason"] = reasons
    total = merge_summaries(old_summary, new_summary)
    all_rejects = pd.concat([old_rejects, rejects, dup_rejects], ignore_index=True)
    partitions.write_version(store, occurrences=table, rejects=all_rejects,
                             summary=total, replace_months=months)
    return total


def _add_counts(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _add_counts(a.get(k), b.get(k)) if k in a and k in b
                else (a[k] if k in a else b[k]) for k in {*a, *b}}
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        return a + b
    return b


def merge_summaries(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Return the cumulative summary of a store after appending ``new`` to ``old``.

    Counts add up (rows, per CSP, by reason, by method, …); files and checksums
    are united; the period widens; medians and findings are the newest ingest's.
    ``appends`` lists each ingest's own row counts.
    """
    entry = {"created": new.get("created"), "files": new.get("files", []),
             "rows": new.get("rows")}
    if old is None:
        out = dict(new)
        out["appends"] = [entry]
        return out
    out = dict(new)
    for key in ("rows", "rejected_by_reason", "accepted_by_source",
                "geocoded_by_method", "geocoded_by_precision", "per_csp",
                "synthetic_rows", "serious_violence"):
        if key in old and key in new:
            out[key] = _add_counts(old[key], new[key])
    out["files"] = [*old.get("files", []), *new.get("files", [])]
    out["source_checksums"] = {**old.get("source_checksums", {}),
                               **new.get("source_checksums", {})}
    quality = dict(new.get("quality", {}))
    for key in ("rows_flagged", "flagged_by_check"):
        if key in old.get("quality", {}) and key in quality:
            quality[key] = _add_counts(old["quality"][key], quality[key])
    out["quality"] = quality
    periods = [p for p in (old.get("period"), new.get("period")) if p]
    froms = [p["from"] for p in periods if p.get("from")]
    tos = [p["to"] for p in periods if p.get("to")]
    out["period"] = {"from": min(froms) if froms else None,
                     "to": max(tos) if tos else None}
    out["appends"] = [*old.get("appends", []), entry]
    return out

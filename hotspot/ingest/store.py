"""The occurrence store: a folder holding one ingest's results.

Layout of ``STORE_DIR``:

- ``occurrences.parquet``: the canonical occurrence table (GeoParquet, points in
  EPSG:27700), one row per accepted occurrence;
- ``rejects.csv``: rows that could not be used, with ``source_file``,
  ``row_number``, ``field``, ``value``, ``reason`` and ``stage``;
- ``summary.json``: the ingest summary (read = accepted + rejected, by reason,
  geocoding by method, per CSP, data-quality flags).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspot.crs import BNG
from hotspot.errors import DataNotFoundError
from hotspot.ingest.schema import REJECT_COLUMNS, conform, empty_rejects
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
) -> Path:
    """Write a store atomically: files appear only once all three are complete."""
    target = Path(store_dir)
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
        tmp.replace(target / name)
    return target

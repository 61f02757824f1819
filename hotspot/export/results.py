"""Analysis results as files for analysts: a Gi* or trend table, a density raster.

``hotspot detect`` writes these for the analyst who ran it (record-level
analysis output, not a partner file: partner files go through
:mod:`hotspot.export.disclosure`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot.detect.result import DetectResult
from hotspot.errors import ParameterError

logger = logging.getLogger(__name__)


def write_result_gpkg(result: DetectResult, path: Path) -> Path:
    """Write a result's cell table to a GeoPackage layer named after its method.

    The result's metadata (parameters, reasons, filters, counts, notes and
    warnings) goes into the layer metadata under the key ``hotspot``.
    """
    import pyogrio

    if result.cells is None:
        raise ParameterError("nothing to write: the result has no cell table")
    frame = result.cells.copy()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.StringDtype):
            frame[name] = frame[name].astype(object)
        elif str(frame[name].dtype) == "Int64":
            frame[name] = frame[name].astype("float64")
    if path.exists():
        path.unlink()
    meta = {"hotspot": json.dumps(result.metadata(), default=str)}
    pyogrio.write_dataframe(frame, path, layer=result.method, driver="GPKG",
                            layer_metadata=meta)
    return path


def write_surface(surface: Any, path: Path, *, result: DetectResult,
                  csps: Any) -> Path:
    """Write a density surface as GeoTIFF with the result's period and filters."""
    from hotspot.detect.kde import write_geotiff

    tags = {
        "period": f"{result.data_from}/{result.data_to}",
        "filters": json.dumps(result.filters, default=str),
        "csps": ", ".join(sorted(csps["csp_name"])),
        "notes": json.dumps(result.notes),
        "warnings": json.dumps(result.warnings),
    }
    return write_geotiff(surface, path, tags=tags)


def write_layers(layers: dict[str, pd.DataFrame], out: Path | str) -> Path:
    """Write layers to a GeoPackage (tables without geometry as attribute tables)."""
    import pyogrio

    path = Path(out)
    if path.suffix.lower() != ".gpkg":
        raise ParameterError(f"out must end in .gpkg, got {str(out)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    for name, frame in layers.items():
        plain = _plain_dtypes(frame)
        if isinstance(plain, gpd.GeoDataFrame):
            plain.to_file(path, layer=name, driver="GPKG")
        else:
            pyogrio.write_dataframe(plain, path, layer=name, driver="GPKG")
        logger.info("wrote layer %s (%d rows) to %s", name, len(frame), path)
    return path


def _plain_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy with nullable pandas dtypes turned into ones GDAL writes."""
    out = frame.copy()
    out.attrs = {}
    for name in out.columns:
        if name == "geometry":
            continue
        dtype = out[name].dtype
        if isinstance(dtype, pd.BooleanDtype):
            out[name] = out[name].astype("float").astype("Int64").astype(object)
            out[name] = out[name].where(out[name].notna(), None)
        elif isinstance(dtype, pd.Int64Dtype | pd.Float64Dtype):
            out[name] = out[name].astype(float)
        elif pd.api.types.is_bool_dtype(dtype):
            out[name] = out[name].astype(np.int64)
        elif not pd.api.types.is_numeric_dtype(dtype):
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out

"""The export page's glue: the map's view → an export bundle → partner downloads.

The analysis is the command line's (:func:`hotspot.cli.export.build_bundle`
on a :class:`~hotspot.cli.export.ViewSpec` made from the map's
:class:`~hotspot.view.View`); every file goes out through
:func:`hotspot.export.bundle.export_download`, which applies the disclosure rules, runs
the checker on what it wrote and logs the export.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from hotspot.cli.export import ViewSpec, build_bundle
from hotspot.errors import ParameterError
from hotspot.export.bundle import ExportBundle, disclose, export, export_download
from hotspot.export.disclosure import DisclosureRules
from hotspot.view import ALL_CSPS, View

logger = logging.getLogger(__name__)

#: Download formats in the order offered: format → (button label, MIME type).
DOWNLOADS: dict[str, tuple[str, str]] = {
    "gpkg": ("GeoPackage", "application/geopackage+sqlite3"),
    "geojson": ("GeoJSON (zip)", "application/zip"),
    "kml": ("KML", "application/vnd.google-earth.kml+xml"),
    "tif": ("GeoTIFF (density)", "image/tiff"),
    "csv": ("CSV tables (zip)", "application/zip"),
    "pdf": ("PDF briefing (zip, with its sources)", "application/zip"),
    "png": ("PNG map slide, 16:9 (zip, with its sources)", "application/zip"),
}
#: Formats drawn for one CSP only. They are delivered zipped with their
#: ``.sources.json`` sidecar (the tables drawn), without which the checker
#: cannot vouch for a picture.
PER_CSP = ("pdf", "png")
#: Formats delivered as a zip of several files.
ZIPPED = ("geojson", "csv", *PER_CSP)
#: Map layer toggles → export layers (hot spots, CSP outline and tables always).
LAYER_MAP: dict[str, str] = {
    "kde": "kde", "wards": "wards", "imd": "deprivation", "fires": "fires",
    "colocation": "fires", "operations": "operations",
}
#: Finest H3 resolution a partner file may hold (the disclosure rule's default).
EXPORT_MAX_RESOLUTION = 9


def export_layers(view: View) -> tuple[str, ...]:
    """Export layers for the map's toggles (density always, for the GeoTIFF)."""
    wanted = ["hotspots", "csp", "tables", "kde"]
    wanted += [LAYER_MAP[k] for k in view.layers if k in LAYER_MAP]
    return tuple(dict.fromkeys(wanted))


def view_spec(view: View, *, store_dir: str, grouping: str, fire_path: str | None,
              operations_path: str | None) -> ViewSpec:
    """Return the command line's view for the map's ``view``.

    H3 resolutions finer than :data:`EXPORT_MAX_RESOLUTION` are coarsened to it
    (partner files may not hold finer cells).
    """
    parameters: dict[str, Any] = {
        "scope": view.scope, "resolution": min(view.resolution,
                                               EXPORT_MAX_RESOLUTION),
        "k": view.k, "alpha": view.alpha, "fdr": view.fdr, "weight": view.weight,
    }
    if view.bandwidth_m is not None:
        parameters["bandwidth_m"] = view.bandwidth_m
    return ViewSpec(
        path=Path(store_dir) / "app-view.toml", store=Path(store_dir), csp=view.csp,
        grouping=grouping, month_from=view.month_from, month_to=view.month_to,
        categories=view.categories, flags=view.flags, layers=export_layers(view),
        parameters=parameters, fires=Path(fire_path) if fire_path else None,
        operations=Path(operations_path) if operations_path else None,
    )


@st.cache_data(show_spinner="Preparing the export (analysis and layers)…")
def bundle(store_dir: str, grouping: str, view: View, fire_path: str | None,
           ops_store: str | None, csp: str | None) -> ExportBundle:
    """Build the export bundle of a view (for one CSP when ``csp`` is given).

    Operations are read from the app's operation store ``ops_store`` (written
    to a temporary GeoPackage first, as the exporter reads operation files).
    """
    from hotspot.operations.model import export_operations, open_default_store

    with tempfile.TemporaryDirectory(prefix="hotspot-export-") as folder:
        ops_file = None
        if ops_store is not None and "operations" in view.layers:
            ops = open_default_store(ops_store).load_all()
            if ops:
                ops_file = str(export_operations(ops, Path(folder) / "ops.gpkg"))
        spec = view_spec(view, store_dir=store_dir, grouping=grouping,
                         fire_path=fire_path, operations_path=ops_file)
        return build_bundle(spec, csp=csp)


def disclosure_summary(data: ExportBundle, rules: DisclosureRules) -> pd.DataFrame:
    """Return what the rules change: one row per layer and change.

    Columns ``layer``, ``change`` and ``value``, from
    :func:`hotspot.export.bundle.disclose` (the exporter applies the same rules).
    """
    applied = disclose(data, rules=rules).metadata.disclosure.get("applied", {})
    rows = []
    for layer, changes in applied.items():
        for change, value in (changes or {}).items():
            if value in (0, [], {}, None, ""):
                continue
            rows.append({"layer": layer, "change": change.replace("_", " "),
                         "value": str(value)})
    return pd.DataFrame(rows, columns=["layer", "change", "value"])


def file_stem(view: View, csp: str | None) -> str:
    """Return a download's file stem: ``hotspots_<csp or hips>_<from>_<to>``."""
    place = csp or (view.csp if view.csp != ALL_CSPS else "hips")
    stem = "_".join(p for p in ("hotspots", place, view.month_from, view.month_to)
                    if p)
    return re.sub(r"[^A-Za-z0-9_-]", "-", stem)[:80]


def download_name(stem: str, fmt: str) -> str:
    """File name :func:`hotspot.export.bundle.export_download` gives ``fmt``."""
    return f"{stem}_{fmt}.zip" if fmt in ZIPPED else f"{stem}.{fmt}"


def download_bytes(data: ExportBundle, *, fmt: str, stem: str,
                   rules: DisclosureRules, csp: str | None) -> bytes:
    """Export one format through the disclosure door and return its bytes.

    Map layers and tables go through :func:`hotspot.export.bundle.export_download`;
    a briefing (pdf, png) through :func:`hotspot.export.bundle.export` into a
    temporary folder, zipped with its sources sidecar. Either way the rules
    are applied, every file is checked and the export is logged.
    """
    if fmt not in PER_CSP:
        name, content = export_download(data, fmt=fmt, name=stem, rules=rules)
        logger.info("download %s (%d bytes)", name, len(content))
        return content
    if not csp:
        raise ParameterError(f"format {fmt} is drawn for one CSP; csp is empty")
    name = download_name(stem, fmt)
    with tempfile.TemporaryDirectory(prefix="hotspot-download-") as folder:
        record = export(data, fmt=fmt, out=Path(folder) / f"{stem}.{fmt}",
                        rules=rules, csp=csp, delivered_as=f"download {name}")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in record.files:
                archive.write(path, arcname=f"{stem}/{path.name}")
    logger.info("download %s (%d bytes)", name, buffer.tell())
    return buffer.getvalue()

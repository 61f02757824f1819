"""The export page's glue: the map's view → an export bundle → partner downloads.

The analysis is the one every export uses (:func:`hotspot.export.build.build_bundle`
on a :class:`~hotspot.view.ViewFile` holding the map's
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

import pandas as pd
import streamlit as st

from hotspot.errors import ParameterError
from hotspot.export.build import build_bundle
from hotspot.export.bundle import ExportBundle, disclose, export, export_download
from hotspot.export.disclosure import DisclosureRules
from hotspot.settings import APP_CACHE_ENTRIES, APP_CACHE_TTL_S
from hotspot.view import ALL_CSPS, View
from hotspot.view_file import ViewFile

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
#: Map layers that add a section to an export (hot spots, CSP outline, tables
#: and density always go).
EXPORT_FROM_MAP: dict[str, str] = {"wards": "wards", "imd": "imd", "fires": "fires",
                                   "colocation": "fires", "operations": "operations"}
#: Finest H3 resolution a partner file may hold (the disclosure rule's default).
EXPORT_MAX_RESOLUTION = 9


def export_sections(view: View) -> tuple[str, ...]:
    """Export sections for the map's toggles (density always, for the GeoTIFF)."""
    wanted = ["gistar", "csp", "tables", "kde"]
    wanted += [EXPORT_FROM_MAP[k] for k in view.layers if k in EXPORT_FROM_MAP]
    return tuple(dict.fromkeys(wanted))


def view_file(view: View, *, store_dir: str, grouping: str,
              fire_path: str | None) -> ViewFile:
    """Return the export view for the map's ``view``.

    H3 resolutions finer than :data:`EXPORT_MAX_RESOLUTION` are coarsened to it
    (partner files may not hold finer cells).
    """
    shown = view.for_analysis().with_(
        csp=ALL_CSPS, grouping=grouping,
        resolution=min(view.resolution, EXPORT_MAX_RESOLUTION))
    return ViewFile(path=Path(store_dir) / "app-view.toml", store=Path(store_dir),
                    view=shown, csp=view.csp, sections=export_sections(view),
                    fires=Path(fire_path) if fire_path else None)


@st.cache_data(show_spinner="Preparing the export (analysis and layers)…",
               max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def bundle(store_dir: str, grouping: str, view: View, fire_path: str | None,
           ops_store: str | None, csp: str | None) -> ExportBundle:
    """Build the export bundle of a view (for one CSP when ``csp`` is given).

    Operations come from the app's operation store ``ops_store`` as objects.
    """
    from hotspot.app.cache import occurrences
    from hotspot.operations import open_default_store

    ops = None
    if ops_store is not None and "operations" in view.layers:
        ops = open_default_store(ops_store).load_all() or None
    spec = view_file(view, store_dir=store_dir, grouping=grouping,
                     fire_path=fire_path)
    return build_bundle(spec, csp=csp, operations=ops,
                        occurrences=occurrences(store_dir))


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

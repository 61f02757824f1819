"""Read any export file back as plain tables, metadata, text and raster bands.

The checker (:mod:`hotspot.export.checker`) and the attacks
(:mod:`hotspot.export.attacks`) see a file the way a partner's software does:
every layer with every column (pyogrio), the GeoPackage metadata exactly as GDAL
wrote it (``<MDI key="...">`` items in ``gpkg_metadata``), every KML
placemark's description text, every GeoTIFF band with its nodata value and
every tag of every namespace, a CSV with its sidecar, and a PDF or PNG through
its ``.sources.json`` sidecar. Paths may hold any character (``#``, ``?``,
spaces): SQLite is opened through a percent-encoded ``file:`` URI.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.errors import ParameterError

#: File kinds read, by suffix.
READ_SUFFIXES: tuple[str, ...] = (
    ".gpkg", ".geojson", ".json", ".kml", ".tif", ".tiff", ".csv", ".pdf", ".png",
)
#: Sidecar holding the source tables of a PDF or PNG briefing.
SOURCES_SUFFIX = ".sources.json"
#: Sidecar holding a CSV table's metadata (CSV on the Web naming).
CSV_METADATA_SUFFIX = "-metadata.json"
_MDI = re.compile(r'<MDI key="([^"]*)"[^>]*>(.*?)</MDI>', flags=re.S)


@dataclass
class Raster:
    """One GeoTIFF as read: bands, nodata, transform and every tag."""

    bands: list[npt.NDArray[np.float64]]
    nodata: float | None
    transform: Any
    tags: dict[str, str]
    cell_size_m: float


@dataclass
class ExportFile:
    """What a file holds, as a reader sees it.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    layers : dict of str to DataFrame
        Tables and map layers (GeoDataFrames in the file's CRS).
    metadata : dict of str to object
        Where → parsed metadata (JSON where it parses, else the text).
    texts : dict of str to str
        Where → free text shown to a reader (KML descriptions).
    raster : Raster or None
        The bands of a GeoTIFF.
    problems : list of str
        What could not be read (reported by the checker).
    """

    path: Path
    layers: dict[str, pd.DataFrame] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    raster: Raster | None = None
    problems: list[str] = field(default_factory=list)


def json_or_text(text: str | None) -> Any:
    """Parse ``text`` as JSON, or return it unchanged when it is not JSON."""
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def sqlite_uri(path: Path) -> str:
    """Return a read-only SQLite URI for ``path`` (``#``, ``?``, ``%`` encoded)."""
    return path.resolve().as_uri() + "?mode=ro"


def read_export(path: Path | str) -> ExportFile:
    """Read one export file of any format.

    Parameters
    ----------
    path : pathlib.Path or str
        An existing file ending in one of :data:`READ_SUFFIXES`.

    Returns
    -------
    ExportFile

    Raises
    ------
    ParameterError
        When the file does not exist or its kind is unknown.
    """
    target = Path(path)
    if not target.is_file():
        raise ParameterError(f"path must be an existing export file, got {target}")
    suffix = target.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise ParameterError(
            f"path must end in one of {READ_SUFFIXES} to be read, got {target}"
        )
    out = ExportFile(path=target)
    if suffix in (".gpkg", ".kml", ".geojson", ".json"):
        _read_vector(out)
    if suffix == ".gpkg":
        _read_gpkg_metadata(out)
    elif suffix == ".kml":
        _read_kml_text(out)
    elif suffix in (".geojson", ".json"):
        doc = json.loads(target.read_text(encoding="utf-8"))
        if isinstance(doc, dict):
            for key, value in doc.items():
                if key not in ("type", "features", "crs", "bbox"):
                    out.metadata[f"{target.name}.{key}"] = value
    elif suffix in (".tif", ".tiff"):
        _read_geotiff(out)
    elif suffix == ".csv":
        out.layers[target.stem] = pd.read_csv(target, dtype=str, keep_default_na=False,
                                              na_values=[""])
        sidecar = target.with_name(target.name + CSV_METADATA_SUFFIX)
        if sidecar.is_file():
            out.metadata[sidecar.name] = json.loads(sidecar.read_text(encoding="utf-8"))
    else:
        _read_sources(out)
    return out


def _read_vector(out: ExportFile) -> None:
    import pyogrio

    # reading must leave nothing behind: no NAME.aux.xml beside the file
    before = pyogrio.get_gdal_config_option("GDAL_PAM_ENABLED")
    pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": "NO"})
    try:
        _read_layers(out)
    finally:
        pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": before})


def _read_layers(out: ExportFile) -> None:
    import pyogrio

    for layer_name, _kind in pyogrio.list_layers(out.path):
        layer = str(layer_name)
        info = pyogrio.read_info(out.path, layer=layer)
        for key, value in (info.get("layer_metadata") or {}).items():
            out.metadata[f"{layer}.{key}"] = json_or_text(value)
        out.layers[layer] = pyogrio.read_dataframe(out.path, layer=layer)


def _read_gpkg_metadata(out: ExportFile) -> None:
    """Every ``<MDI>`` item GDAL wrote, and the contents' descriptions."""
    con = sqlite3.connect(sqlite_uri(out.path), uri=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        if "gpkg_contents" not in tables:
            out.problems.append("not a GeoPackage: no gpkg_contents table")
            return
        for name, ident, desc in con.execute(
                "SELECT table_name, identifier, description FROM gpkg_contents"):
            out.texts[f"gpkg_contents.{name}"] = f"{ident or ''}\n{desc or ''}"
        if "gpkg_metadata" in tables:
            for i, (text,) in enumerate(con.execute(
                    "SELECT metadata FROM gpkg_metadata")):
                for key, value in _MDI.findall(str(text)):
                    out.metadata[f"gpkg_metadata[{i}].{key}"] = json_or_text(
                        _unescape_xml(value))
    finally:
        con.close()


def _unescape_xml(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def _read_kml_text(out: ExportFile) -> None:
    import xml.etree.ElementTree as ET

    root = ET.parse(out.path).getroot()
    for i, el in enumerate(root.iter()):
        tag = el.tag.rsplit("}", 1)[-1]
        if tag in ("description", "name", "snippet", "Snippet") and el.text:
            out.texts[f"kml.{tag}[{i}]"] = el.text
        elif tag == "Data":
            for child in el:
                if child.tag.endswith("value") and child.text:
                    data = out.metadata.setdefault("kml.ExtendedData", {})
                    data[el.get("name", "?")] = json_or_text(child.text)


def _read_geotiff(out: ExportFile) -> None:
    import rasterio

    with rasterio.open(out.path) as src:
        tags: dict[str, str] = dict(src.tags())
        for ns in src.tag_namespaces() or []:
            for key, value in src.tags(ns=ns).items():
                tags[f"{ns}:{key}"] = value
        bands = []
        for b in range(1, src.count + 1):
            for key, value in src.tags(b).items():
                tags[f"band{b}.{key}"] = value
            desc = src.descriptions[b - 1]
            if desc:
                tags[f"band{b}.description"] = desc
            scale, offset = src.scales[b - 1], src.offsets[b - 1]
            data = src.read(b, masked=False).astype(float)
            if src.nodata is not None:
                nodata_cells = data == src.nodata
            else:
                nodata_cells = np.zeros(data.shape, dtype=bool)
            data = data * scale + offset
            data[nodata_cells] = np.nan
            bands.append(data)
        out.raster = Raster(bands=bands, nodata=src.nodata, transform=src.transform,
                            tags=tags, cell_size_m=float(abs(src.transform.a)))
    out.metadata[f"{out.path.name}.tags"] = {k: json_or_text(v)
                                             for k, v in tags.items()}


def _read_sources(out: ExportFile) -> None:
    sidecar = out.path.with_name(out.path.name + SOURCES_SUFFIX)
    if not sidecar.is_file():
        out.problems.append(f"no {sidecar.name} beside it: the tables a briefing is "
                            "drawn from must be written with it so they can be "
                            "checked")
        return
    doc = json.loads(sidecar.read_text(encoding="utf-8"))
    out.metadata[f"{sidecar.name}.metadata"] = doc.get("metadata")
    for name, table in (doc.get("tables") or {}).items():
        frame = pd.DataFrame(table.get("rows", []), columns=table.get("columns"))
        out.layers[name] = frame
        extra = {k: v for k, v in table.items() if k not in ("rows", "columns")}
        out.metadata[f"{sidecar.name}.{name}"] = extra

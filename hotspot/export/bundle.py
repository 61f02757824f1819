"""Files for partners: GeoPackage, GeoJSON, KML, GeoTIFF and CSV, with metadata.

An :class:`ExportBundle` holds the layers of one view (tables in EPSG:27700,
with or without geometry), the density surface when there is one, and the
:class:`ExportMetadata` (title, period, filters, parameters, attributions,
whether the data are SYNTHETIC). :func:`export` is the one entry point:

1. apply the disclosure rules (:mod:`hotspot.export.disclosure`) to every layer, the
   density surface and the metadata;
2. write the files into a temporary folder beside the destination;
3. run the checker (:func:`hotspot.export.disclosure.check_file`) on every file;
4. only then move them into place, and append a line to the export log
   (``APP_DATA_DIR/exports.jsonl``).

Where the metadata goes, per format (docs/exports.md):

- **GeoPackage**: per layer, ``gpkg_contents.identifier`` (title) and
  ``description`` (title, period, attributions), and a ``hotspot`` metadata
  item (JSON, in ``gpkg_metadata``) read by ``pyogrio.read_info(...)
  ["layer_metadata"]``; the whole export's JSON as dataset metadata.
- **GeoJSON**: one file per layer (WGS84, RFC 7946) with top-level foreign
  members ``title`` and ``metadata``.
- **KML**: ``Document/name`` (title), ``Document/description`` (readable
  text) and ``Document/ExtendedData`` (JSON per key); one Folder per layer,
  each placemark's values as typed ``SchemaData``; Gi* bins styled.
- **GeoTIFF**: dataset tags ``title``, ``period``, ``filters``,
  ``parameters``, ``attribution``, ``licence``, ``synthetic``,
  ``disclosure`` beside the surface's own tags.
- **CSV**: one file per table, with a CSV-on-the-Web style sidecar
  ``NAME.csv-metadata.json``.
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import io
import json
import logging
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot import settings
from hotspot.crs import require_bng, to_wgs84
from hotspot.detect.kde import KDEResult
from hotspot.errors import ParameterError
from hotspot.export.disclosure import (
    CSV_METADATA_SUFFIX,
    DEFAULT_RULES,
    SOURCES_SUFFIX,
    DisclosureError,
    DisclosureRules,
    apply_rules,
    check_file,
    check_frame,
    count_columns_of,
    mask_density,
    suppress_metadata,
)

logger = logging.getLogger(__name__)

#: Attribution lines carried by every export (data/README.md).
ATTRIBUTIONS: tuple[str, ...] = (
    "Contains public sector information licensed under the Open Government "
    "Licence v3.0.",
    "Source: Office for National Statistics licensed under the Open Government "
    "Licence v3.0. Contains OS data © Crown copyright and database right.",
    "Contains OS data © Crown copyright and database right 2025. Contains Royal "
    "Mail data © Royal Mail copyright and database right 2025. Contains National "
    "Statistics data © Crown copyright and database right 2025.",
    "GeoNames (geonames.org), CC BY 4.0.",
)
LICENCES: tuple[str, ...] = (
    "Open Government Licence v3.0 "
    "(https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/)",
    "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)",
)
SYNTHETIC_LABEL = "SYNTHETIC"
FORMATS: tuple[str, ...] = ("gpkg", "geojson", "kml", "tif", "csv", "pdf", "png")
#: Formats written as a folder of files (one per layer); the others as one file.
FOLDER_FORMATS: tuple[str, ...] = ("geojson", "csv")
LOG_FILE = "exports.jsonl"
#: Gi* bin → (RGB, label); the map's colour-blind-safe RdBu palette.
BIN_STYLE: dict[int, tuple[tuple[int, int, int], str]] = {
    3: ((178, 24, 43), "Hot spot, 99% confidence"),
    2: ((239, 138, 98), "Hot spot, 95% confidence"),
    1: ((253, 219, 199), "Hot spot, 90% confidence"),
    0: ((200, 200, 200), "Not significant"),
    -1: ((209, 229, 240), "Cold spot, 90% confidence"),
    -2: ((103, 169, 207), "Cold spot, 95% confidence"),
    -3: ((33, 102, 172), "Cold spot, 99% confidence"),
}
_KML_NS = "http://www.opengis.net/kml/2.2"


@dataclass(frozen=True)
class ExportMetadata:
    """What every export file says about itself.

    Attributes
    ----------
    title : str
        Human title, e.g. "Serious violence hot spots, Southampton".
    period : str
        Data period, e.g. "2025-01 to 2025-09".
    filters : dict
        Filters applied (categories, flags, CSP).
    parameters : dict
        Analysis parameters (resolution, k, alpha, bandwidth, ...).
    synthetic : bool
        True when any of the data are SYNTHETIC: the title then says so.
    attributions : tuple of str
        Source attribution lines.
    licences : tuple of str
        Licences of the sources.
    disclosure : dict
        Rules applied and what they changed (filled in by :func:`export`).
    created : str
        UTC time the export was made (ISO 8601).
    """

    title: str
    period: str
    filters: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    attributions: tuple[str, ...] = ATTRIBUTIONS
    licences: tuple[str, ...] = LICENCES
    disclosure: dict[str, Any] = field(default_factory=dict)
    created: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )

    @property
    def full_title(self) -> str:
        """The title, prefixed ``SYNTHETIC:`` when the data are synthetic."""
        if self.synthetic and SYNTHETIC_LABEL not in self.title:
            return f"{SYNTHETIC_LABEL}: {self.title}"
        return self.title

    def to_dict(self) -> dict[str, Any]:
        """Return every field as JSON-ready values (title with its label)."""
        out = json.loads(json.dumps(dataclasses.asdict(self), default=str))
        out["title"] = self.full_title
        if self.synthetic:
            out["data_label"] = (
                f"{SYNTHETIC_LABEL}: generated data, not real police records"
            )
        return dict(out)

    def text(self) -> str:
        """Return a few readable lines: title, period, filters, sources."""
        lines = [self.full_title, f"Period: {self.period}"]
        if self.filters:
            lines.append("Filters: " + "; ".join(
                f"{k}: {_plain_value(v)}" for k, v in self.filters.items()))
        if self.parameters:
            lines.append("Parameters: " + "; ".join(
                f"{k}: {_plain_value(v)}" for k, v in self.parameters.items()))
        if self.synthetic:
            lines.append("SYNTHETIC data: generated, not real police records.")
        lines.extend(self.attributions)
        return "\n".join(lines)


def _plain_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class ExportBundle:
    """The layers of one view, ready to export.

    Attributes
    ----------
    layers : dict of str to DataFrame
        Layer name → table. GeoDataFrames in EPSG:27700 are map layers; plain
        DataFrames are tables (CSV, GeoPackage attribute tables, briefing).
    metadata : ExportMetadata
        Title, period, filters, parameters, attributions.
    density : KDEResult or None
        The kernel density surface (GeoTIFF, contours), when there is one.
    notes : dict of str to str
        Sections left out and why (e.g. ``{"fires": "no fire data loaded"}``).
    """

    layers: dict[str, pd.DataFrame]
    metadata: ExportMetadata
    density: KDEResult | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def geo_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the layers with geometry."""
        return {k: v for k, v in self.layers.items()
                if isinstance(v, gpd.GeoDataFrame)}


@dataclass(frozen=True)
class ExportRecord:
    """What one export wrote: files, rules, and the log line."""

    files: list[Path]
    log_entry: dict[str, Any]


# ----------------------------------------------------------------------------
# disclosure over a bundle
# ----------------------------------------------------------------------------


def disclose(
    bundle: ExportBundle, *, rules: DisclosureRules = DEFAULT_RULES
) -> ExportBundle:
    """Return a copy of ``bundle`` with the disclosure rules applied everywhere.

    Parameters
    ----------
    bundle : ExportBundle
        Layers as computed. Not modified.
    rules : DisclosureRules, keyword-only
        The rules.

    Returns
    -------
    ExportBundle
        Layers with small counts suppressed (and rounded if asked), forbidden
        fields dropped; the density surface with cells below the floor set to
        nodata; the metadata's small totals suppressed and its ``disclosure``
        entry saying what was done.

    Raises
    ------
    DisclosureError
        When a layer cannot be made to comply (points, too fine H3 cells).
    """
    if not isinstance(bundle, ExportBundle):
        raise ParameterError(
            f"bundle must be an ExportBundle, got {type(bundle).__name__}"
        )
    layers: dict[str, pd.DataFrame] = {}
    changes: dict[str, Any] = {}
    for name, frame in bundle.layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            require_bng(frame, name=f"layer {name!r}")
        clean, applied = apply_rules(frame, rules=rules, name=name)
        layers[name] = clean
        changes[name] = dataclasses.asdict(applied)
    density = bundle.density
    if density is not None:
        masked, n_masked = mask_density(density.values,
                                        bandwidth_m=density.bandwidth_m, rules=rules)
        density = dataclasses.replace(density, values=masked)
        changes["density"] = {
            "masked_cells": n_masked,
            "floor_per_km2": round(rules.density_floor_per_km2(density.bandwidth_m), 4),
        }
    meta = bundle.metadata
    record = {"rules": rules.to_dict(), "applied": changes}
    metadata = dataclasses.replace(
        meta,
        filters=suppress_metadata(meta.filters, rules=rules),
        parameters=suppress_metadata(meta.parameters, rules=rules),
        disclosure=record,
    )
    return ExportBundle(layers=layers, metadata=metadata, density=density,
                        notes=dict(bundle.notes))


# ----------------------------------------------------------------------------
# contours
# ----------------------------------------------------------------------------


def density_contours(
    result: KDEResult,
    *,
    levels_per_km2: list[float] | None = None,
    rules: DisclosureRules = DEFAULT_RULES,
) -> gpd.GeoDataFrame:
    """Polygons of the density surface above each level (filled contour bands).

    Parameters
    ----------
    result : KDEResult
        The surface.
    levels_per_km2 : list of float, optional, keyword-only
        Lower bounds of the bands, occurrences per km². By default the
        disclosure floor and 2, 4 and 8 times it (only levels below the peak).
        Levels under the floor are dropped.
    rules : DisclosureRules, keyword-only
        Gives the floor (:meth:`DisclosureRules.density_floor_per_km2`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``level_per_km2`` (band's lower bound), ``band_top_per_km2`` (upper
        bound, NaN for the top band) and polygons in EPSG:27700, one row per
        connected area of a band, lowest band first.
    """
    import rasterio.features

    if not isinstance(result, KDEResult):
        raise ParameterError(f"result must be a KDEResult, got {type(result).__name__}")
    floor = rules.density_floor_per_km2(result.bandwidth_m)
    peak = float(np.nanmax(result.values)) if np.isfinite(result.values).any() else 0.0
    if levels_per_km2 is None:
        levels = [floor * f for f in (1, 2, 4, 8) if floor * f < peak]
    else:
        levels = sorted(float(v) for v in levels_per_km2 if float(v) >= floor)
    empty = gpd.GeoDataFrame({"level_per_km2": pd.Series(dtype=float),
                              "band_top_per_km2": pd.Series(dtype=float)},
                             geometry=gpd.GeoSeries([], crs=result.crs), crs=result.crs)
    if not levels:
        return empty
    values = np.nan_to_num(result.values.astype(float), nan=-1.0)
    band = np.digitize(values, levels).astype(np.int32)  # 0 below the first level
    rows = []
    for geom, value in rasterio.features.shapes(band, mask=band > 0,
                                                transform=result.transform):
        i = int(value) - 1
        top = levels[i + 1] if i + 1 < len(levels) else float("nan")
        rows.append((levels[i], top, shapely.geometry.shape(geom)))
    if not rows:
        return empty
    frame = gpd.GeoDataFrame(
        {"level_per_km2": [r[0] for r in rows],
         "band_top_per_km2": [r[1] for r in rows]},
        geometry=[r[2] for r in rows], crs=result.crs,
    )
    return frame.sort_values("level_per_km2", kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------
# writers (no checks: export() checks what they wrote)
# ----------------------------------------------------------------------------


def _pyogrio_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with nullable dtypes turned into ones every driver writes."""
    out = frame.copy()
    for name in out.columns:
        dtype = out[name].dtype
        if name == "geometry":
            continue
        if isinstance(dtype, pd.StringDtype) or str(dtype) == "category":
            out[name] = out[name].astype(object).where(out[name].notna(), None)
        elif str(dtype) in ("Int64", "Int32", "Int16", "Int8", "Float64", "Float32"):
            out[name] = out[name].astype("float64")
        elif str(dtype) == "boolean":
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out


def _layer_meta(bundle: ExportBundle, name: str, frame: pd.DataFrame) -> dict[str, Any]:
    meta = bundle.metadata.to_dict()
    meta["layer"] = name
    meta["count_columns"] = [str(c) for c in count_columns_of(frame)]
    if name in bundle.notes:
        meta["note"] = bundle.notes[name]
    return meta


def write_gpkg(bundle: ExportBundle, path: Path | str) -> list[Path]:
    """Write every layer of ``bundle`` (and its contours) into one GeoPackage.

    Map layers keep EPSG:27700. Tables without geometry become attribute
    tables. Returns the file written. The bundle should have been through
    :func:`disclose`; :func:`export` does both.
    """
    import pyogrio

    out = Path(path)
    if out.exists():
        out.unlink()
    meta = bundle.metadata
    for i, (name, frame) in enumerate(_with_contours(bundle).items()):
        layer_meta = _layer_meta(bundle, name, frame)
        options = {
            "IDENTIFIER": f"{meta.full_title}: {name}",
            "DESCRIPTION": f"{meta.full_title}. Period {meta.period}. "
            + " ".join(meta.attributions),
        }
        pyogrio.write_dataframe(
            _pyogrio_ready(frame), out, layer=name, driver="GPKG",
            append=i > 0,
            layer_metadata={"hotspot": json.dumps(layer_meta, ensure_ascii=False)},
            dataset_metadata=(
                {"hotspot": json.dumps(meta.to_dict(), ensure_ascii=False)}
                if i == 0 else None
            ),
            layer_options=options,
        )
    return [out]


def _with_contours(bundle: ExportBundle) -> dict[str, pd.DataFrame]:
    layers = dict(bundle.layers)
    if bundle.density is not None and "kde_contours" not in layers:
        layers["kde_contours"] = density_contours(bundle.density,
                                                  rules=_rules_of(bundle))
    return layers


def write_geojson(bundle: ExportBundle, folder: Path | str) -> list[Path]:
    """Write one GeoJSON file per map layer (WGS84) into ``folder``.

    Each file is a FeatureCollection with the foreign members ``title`` and
    ``metadata`` (the export's metadata, layer name and count columns).
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in _with_contours(bundle).items():
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        doc = json.loads(to_wgs84(_pyogrio_ready(frame)).to_json(drop_id=True,
                                                                 na="null"))
        doc = {"type": "FeatureCollection", "name": name,
               "title": f"{bundle.metadata.full_title}: {name}",
               "metadata": _layer_meta(bundle, name, frame),
               "features": doc["features"]}
        path = target / f"{name}.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False, default=_json_default),
                        encoding="utf-8")
        written.append(path)
    return written


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def write_csv(bundle: ExportBundle, folder: Path | str) -> list[Path]:
    """Write one CSV per layer (no geometry) with a ``.csv-metadata.json`` sidecar.

    Map layers lose their geometry (cells keep their ``h3`` index, outlines
    their codes and names).
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in bundle.layers.items():
        table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
        path = target / f"{name}.csv"
        table.to_csv(path, index=False)
        sidecar = path.with_name(path.name + CSV_METADATA_SUFFIX)
        columns = [{"name": str(c), "datatype": _csv_type(table[c])}
                   for c in table.columns]
        doc = {
            "@context": "http://www.w3.org/ns/csvw",
            "url": path.name,
            "dc:title": f"{bundle.metadata.full_title}: {name}",
            "dc:description": bundle.metadata.text(),
            "dc:license": list(bundle.metadata.licences),
            "tableSchema": {"columns": columns},
            "hotspot": _layer_meta(bundle, name, frame),
        }
        sidecar.write_text(json.dumps(doc, indent=2, ensure_ascii=False),
                           encoding="utf-8")
        written += [path, sidecar]
    return written


def _csv_type(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_integer_dtype(values):
        return "integer"
    if pd.api.types.is_numeric_dtype(values):
        return "number"
    return "string"


def write_geotiff(bundle: ExportBundle, path: Path | str) -> list[Path]:
    """Write the density surface as a GeoTIFF with the export's metadata as tags."""
    from hotspot.detect.kde import write_geotiff as write_surface

    if bundle.density is None:
        raise ParameterError(
            "bundle has no density surface: a GeoTIFF export needs a view with "
            "the kernel density layer (method 'kde' or layers including 'kde')"
        )
    meta = bundle.metadata
    result = bundle.density
    tags = {
        "title": meta.full_title,
        "period": meta.period,
        "filters": json.dumps(meta.filters, ensure_ascii=False, default=str),
        "parameters": json.dumps(meta.parameters, ensure_ascii=False, default=str),
        "attribution": " ".join(meta.attributions),
        "licence": "; ".join(meta.licences),
        "synthetic": str(meta.synthetic),
        "disclosure": json.dumps(meta.disclosure, ensure_ascii=False, default=str),
        "created": meta.created,
    }
    if meta.synthetic:
        tags["data_label"] = (
            f"{SYNTHETIC_LABEL}: generated data, not real police records"
        )
    hidden = suppress_metadata({"n_points": result.n_points,
                                "n_points_outside": result.n_points_outside},
                               rules=_rules_of(bundle))
    tags.update({k: str(v) for k, v in hidden.items()})
    if hidden["n_points"] != result.n_points:
        tags["weight_total"] = "suppressed"
        tags["total_mass"] = "suppressed"
    out = write_surface(result, path, tags=tags)
    return [Path(out)]


def _rules_of(bundle: ExportBundle) -> DisclosureRules:
    given = bundle.metadata.disclosure.get("rules", {})
    return DisclosureRules(**{k: v for k, v in given.items()
                              if k in ("min_count", "round_to", "max_resolution")})


def _kml_colour(rgb: tuple[int, int, int], alpha: int) -> str:
    r, g, b = rgb
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"


def _kml_coords(ring: Any) -> str:
    return " ".join(f"{x:.6f},{y:.6f}" for x, y in np.asarray(ring.coords)[:, :2])


def _kml_geometry(parent: ET.Element, geom: Any) -> None:
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    host = ET.SubElement(parent, "MultiGeometry") if len(polys) > 1 else parent
    for poly in polys:
        el = ET.SubElement(host, "Polygon")
        outer = ET.SubElement(ET.SubElement(el, "outerBoundaryIs"), "LinearRing")
        ET.SubElement(outer, "coordinates").text = _kml_coords(poly.exterior)
        for hole in poly.interiors:
            inner = ET.SubElement(ET.SubElement(el, "innerBoundaryIs"), "LinearRing")
            ET.SubElement(inner, "coordinates").text = _kml_coords(hole)


def _kml_type(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_numeric_dtype(values):
        return "double"
    return "string"


def _kml_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if pd.isna(value):
        return None
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def write_kml(bundle: ExportBundle, path: Path | str) -> list[Path]:
    """Write the map layers as KML 2.2 for Google Earth, with styled hexagons.

    Gi* cells are filled by bin (styles ``bin_3`` … ``bin_-3``, the map's
    palette); outlines are drawn hollow; contours shaded by band. Values are
    typed ``SchemaData`` per layer; the document carries the title, a readable
    description (period, filters, sources) and ``ExtendedData`` with the
    metadata as JSON. Written with :mod:`xml.etree.ElementTree`.
    """
    ET.register_namespace("", _KML_NS)
    meta = bundle.metadata
    root = ET.Element("kml", xmlns=_KML_NS)
    doc = ET.SubElement(root, "Document")
    ET.SubElement(doc, "name").text = meta.full_title
    ET.SubElement(doc, "description").text = meta.text()
    ext = ET.SubElement(doc, "ExtendedData")
    for key, value in meta.to_dict().items():
        data = ET.SubElement(ext, "Data", name=key)
        ET.SubElement(data, "value").text = (
            value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        )
    for b, (rgb, _label) in BIN_STYLE.items():
        style = ET.SubElement(doc, "Style", id=f"bin_{b}")
        line = ET.SubElement(style, "LineStyle")
        ET.SubElement(line, "color").text = _kml_colour((90, 90, 90),
                                                        0x60 if b == 0 else 0xFF)
        ET.SubElement(line, "width").text = "0.5"
        poly = ET.SubElement(style, "PolyStyle")
        ET.SubElement(poly, "color").text = _kml_colour(rgb, 0xB3)
        if b == 0:  # not significant: outline only, so the map stays readable
            ET.SubElement(poly, "fill").text = "0"
    outline = ET.SubElement(doc, "Style", id="outline")
    ls = ET.SubElement(outline, "LineStyle")
    ET.SubElement(ls, "color").text = _kml_colour((40, 40, 40), 0xFF)
    ET.SubElement(ls, "width").text = "2"
    ps = ET.SubElement(outline, "PolyStyle")
    ET.SubElement(ps, "fill").text = "0"
    contour = ET.SubElement(doc, "Style", id="contour")
    ET.SubElement(ET.SubElement(contour, "LineStyle"), "color").text = "ff5a1e46"
    ET.SubElement(ET.SubElement(contour, "PolyStyle"), "color").text = "4d5a1e46"
    for name, frame in _with_contours(bundle).items():
        if not isinstance(frame, gpd.GeoDataFrame) or frame.empty:
            continue
        wgs = to_wgs84(frame)
        columns = [c for c in wgs.columns if c != "geometry"]
        schema = ET.SubElement(doc, "Schema", name=name, id=f"schema_{name}")
        for col in columns:
            ET.SubElement(schema, "SimpleField", name=str(col),
                          type=_kml_type(wgs[col]))
        folder = ET.SubElement(doc, "Folder")
        ET.SubElement(folder, "name").text = name
        for _, row in wgs.iterrows():
            if row.geometry is None or row.geometry.is_empty:
                continue
            mark = ET.SubElement(folder, "Placemark")
            ET.SubElement(mark, "name").text = _placemark_name(name, row)
            ET.SubElement(mark, "styleUrl").text = "#" + _style_for(name, row)
            sdata = ET.SubElement(ET.SubElement(mark, "ExtendedData"), "SchemaData",
                                  schemaUrl=f"#schema_{name}")
            for col in columns:
                text = _kml_text(row[col])
                if text is not None:
                    ET.SubElement(sdata, "SimpleData", name=str(col)).text = text
            _kml_geometry(mark, row.geometry)
    out = Path(path)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return [out]


def _style_for(layer: str, row: pd.Series) -> str:
    if "bin" in row and pd.notna(row["bin"]):
        return f"bin_{int(row['bin'])}"
    if layer == "kde_contours":
        return "contour"
    return "outline"


def _placemark_name(layer: str, row: pd.Series) -> str:
    if "bin" in row and pd.notna(row["bin"]):
        return BIN_STYLE[int(row["bin"])][1]
    for col in ("csp_name", "ward22_name", "name"):
        if col in row and isinstance(row[col], str):
            return row[col]
    if "level_per_km2" in row:
        return f"Density from {row['level_per_km2']:.3g} per km²"
    return layer


# ----------------------------------------------------------------------------
# the entry point
# ----------------------------------------------------------------------------


def check_format(fmt: str) -> str:
    """Return ``fmt`` when it is one of :data:`FORMATS`, else raise."""
    if fmt not in FORMATS:
        raise ParameterError(f"format must be one of {FORMATS}, got {fmt!r}")
    return fmt


def export(
    bundle: ExportBundle,
    *,
    fmt: str,
    out: Path | str,
    rules: DisclosureRules = DEFAULT_RULES,
    log_dir: Path | str | None = None,
    csp: str | None = None,
    delivered_as: str | None = None,
) -> ExportRecord:
    """Apply the disclosure rules, write, check, move into place and log.

    Parameters
    ----------
    bundle : ExportBundle
        Layers as computed (not modified).
    fmt : {"gpkg", "geojson", "kml", "tif", "csv", "pdf", "png"}, keyword-only
        Format.
    out : pathlib.Path or str, keyword-only
        Destination: a file for gpkg, kml, tif, pdf and png; a folder (created)
        for geojson and csv, which write one file per layer. Existing files of
        the same names are replaced.
    rules : DisclosureRules, keyword-only
        Disclosure rules.
    log_dir : pathlib.Path or str, optional, keyword-only
        Folder of the export log; ``APP_DATA_DIR`` by default.
    csp : str, optional, keyword-only
        For pdf and png: the CSP the briefing is about (its name, for titles).
    delivered_as : str, optional, keyword-only
        How the files reach the user when not at ``out`` (e.g. ``"download
        hot.gpkg"``), recorded in the log.

    Returns
    -------
    ExportRecord
        Files written and the log entry.

    Raises
    ------
    DisclosureError
        When a written file fails the checker: nothing is moved into place.
    """
    check_format(fmt)
    target = Path(out)
    parent = target if fmt in FOLDER_FORMATS else target.parent
    if not (parent.is_dir() or (fmt in FOLDER_FORMATS and target.parent.is_dir())):
        raise ParameterError(f"out must be in an existing folder; {parent} is not")
    if fmt not in FOLDER_FORMATS:
        wanted = {"gpkg": (".gpkg",), "kml": (".kml",), "tif": (".tif", ".tiff"),
                  "pdf": (".pdf",), "png": (".png",)}[fmt]
        if target.suffix.lower() not in wanted:
            raise ParameterError(
                f"out must end in {' or '.join(wanted)} for format {fmt}, got {target}"
            )
    clean = disclose(bundle, rules=rules)
    for name, frame in clean.layers.items():  # belt and braces before writing
        found = check_frame(frame, rules=rules, name=name)
        if found:
            raise DisclosureError(name, found)
    staging_parent = target.parent if fmt in FOLDER_FORMATS else parent
    with tempfile.TemporaryDirectory(prefix=".export-", dir=staging_parent) as tmp:
        stage = Path(tmp)
        written = _write(clean, fmt=fmt, stage=stage, name=target.name, csp=csp)
        for path in written:
            if path.name.endswith((CSV_METADATA_SUFFIX, SOURCES_SUFFIX)):
                continue  # sidecars: checked with the file they describe
            found = check_file(path, rules=rules)
            if found:
                raise DisclosureError(target / path.name if fmt in FOLDER_FORMATS
                                      else target, found)
        final = _move_into_place(written, stage=stage, target=target, fmt=fmt)
    entry = _log_entry(clean, fmt=fmt, files=final, rules=rules)
    if delivered_as is not None:
        entry["delivered_as"] = delivered_as
    log_export(entry, log_dir=log_dir)
    logger.info("exported %s: %s", fmt, ", ".join(str(p) for p in final))
    return ExportRecord(files=final, log_entry=entry)


def export_download(
    bundle: ExportBundle,
    *,
    fmt: str,
    name: str,
    rules: DisclosureRules = DEFAULT_RULES,
    log_dir: Path | str | None = None,
    csp: str | None = None,
) -> tuple[str, bytes]:
    """Export through :func:`export` into a temporary folder and return the bytes.

    For the app's download buttons. Single-file formats return the file;
    ``geojson`` and ``csv`` return a zip of the folder (with the CSV sidecars).
    The checks and the log are those of :func:`export` (the log line says
    ``delivered_as: "download NAME"``).

    Parameters
    ----------
    bundle : ExportBundle
        Layers as computed (not modified).
    fmt : str, keyword-only
        One of :data:`FORMATS`.
    name : str, keyword-only
        File stem offered to the user (letters, digits, ``-`` and ``_``).
    rules, log_dir, csp : keyword-only
        As for :func:`export`.

    Returns
    -------
    file_name : str
        ``NAME.gpkg`` … or ``NAME_geojson.zip`` / ``NAME_csv.zip``.
    data : bytes
        The file's content.
    """
    import re
    import zipfile

    check_format(fmt)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name):
        raise ParameterError(
            f"name must be 1-80 letters, digits, '-' or '_', got {name!r}"
        )
    suffix = {"tif": ".tif"}.get(fmt, f".{fmt}")
    file_name = f"{name}_{fmt}.zip" if fmt in FOLDER_FORMATS else f"{name}{suffix}"
    with tempfile.TemporaryDirectory(prefix="hotspot-download-") as tmp:
        out = Path(tmp) / (name if fmt in FOLDER_FORMATS else file_name)
        record = export(bundle, fmt=fmt, out=out, rules=rules, log_dir=log_dir,
                        csp=csp, delivered_as=f"download {file_name}")
        if fmt not in FOLDER_FORMATS:
            return file_name, out.read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in record.files:
                archive.write(path, arcname=f"{name}/{path.name}")
        return file_name, buffer.getvalue()


def _write(
    bundle: ExportBundle, *, fmt: str, stage: Path, name: str, csp: str | None
) -> list[Path]:
    if fmt == "gpkg":
        return write_gpkg(bundle, stage / name)
    if fmt == "kml":
        return write_kml(bundle, stage / name)
    if fmt == "tif":
        return write_geotiff(bundle, stage / name)
    if fmt == "geojson":
        return write_geojson(bundle, stage)
    if fmt == "csv":
        return write_csv(bundle, stage)
    from hotspot.export.briefing import write_briefing_pdf, write_map_png

    if fmt == "pdf":
        return write_briefing_pdf(bundle, stage / name, csp=csp)
    return write_map_png(bundle, stage / name, csp=csp)


def _move_into_place(
    written: list[Path], *, stage: Path, target: Path, fmt: str
) -> list[Path]:
    dest_dir = target if fmt in FOLDER_FORMATS else target.parent
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = []
    for path in written:
        rel = path.relative_to(stage)
        dest = dest_dir / rel
        shutil.move(str(path), str(dest))
        final.append(dest)
    return final


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _log_entry(
    bundle: ExportBundle, *, fmt: str, files: list[Path], rules: DisclosureRules
) -> dict[str, Any]:
    meta = bundle.metadata
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "user": user,
        "format": fmt,
        "files": [{"path": str(p.resolve()), "sha256": _sha256(p)} for p in files],
        "title": meta.full_title,
        "period": meta.period,
        "synthetic": meta.synthetic,
        "filters": meta.filters,
        "parameters": meta.parameters,
        "layers": {k: len(v) for k, v in bundle.layers.items()},
        "rules": rules.to_dict(),
        "applied": meta.disclosure.get("applied", {}),
        "notes": bundle.notes,
        "check": "passed",
    }


def log_export(entry: Mapping[str, Any], *, log_dir: Path | str | None = None) -> Path:
    """Append one JSON line to the export log and return the log's path."""
    folder = Path(log_dir) if log_dir is not None else settings.APP_DATA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / LOG_FILE
    with log.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(dict(entry), ensure_ascii=False, default=str) + "\n")
    return log


def read_export_log(log_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """Return the export log's entries, oldest first (empty when there is none)."""
    folder = Path(log_dir) if log_dir is not None else settings.APP_DATA_DIR
    log = folder / LOG_FILE
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
            if line.strip()]

"""The file writers: GeoPackage, GeoJSON, KML, GeoTIFF and CSV (no checks here).

:func:`hotspot.export.bundle.export` applies the disclosure rules, calls one of
these, runs the checker on what was written and only then moves it into place.

- **GeoPackage**: layers in EPSG:27700, integer columns as INTEGER, per-layer
  ``hotspot`` metadata, and a QGIS style (QML + SLD, :mod:`hotspot.export.styles`)
  per map layer in ``layer_styles``.
- **GeoJSON**: one file per layer, RFC 7946: WGS84 longitude/latitude with 6
  decimals (about 0.1 m), exterior rings counter-clockwise, no ``crs`` member;
  ``title`` and ``metadata`` as foreign members.
- **KML**: the hot spot layer holds hot, significant cells only (bin 1 to 3);
  outlines and density bands as they are; typed ``SchemaData``.
- **GeoTIFF**: the banded density surface with the metadata as tags.
- **CSV**: one file per table with a CSV-on-the-Web sidecar.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot.crs import to_wgs84
from hotspot.detect.kde import KDEResult
from hotspot.errors import ParameterError
from hotspot.export.disclosure import (
    CSV_METADATA_SUFFIX,
    DEFAULT_RULES,
    DisclosureRules,
    at_floor,
    count_columns_of,
    suppress_metadata,
)
from hotspot.layers import BIN_COLOURS, BIN_LABELS

if TYPE_CHECKING:
    from hotspot.export.bundle import ExportBundle

#: Gi* bin → (RGB, label): the map legend's (hotspot.layers).
BIN_STYLE: dict[int, tuple[tuple[int, int, int], str]] = {
    b: (BIN_COLOURS[b], BIN_LABELS[b]) for b in sorted(BIN_COLOURS, reverse=True)}
#: Decimals of longitude and latitude in GeoJSON and KML (about 0.1 m).
COORDINATE_DECIMALS = 6
_KML_NS = "http://www.opengis.net/kml/2.2"

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
        levels = [floor * f for f in (1, 2, 4, 8) if floor * f <= peak * (1 + 1e-6)]
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
        elif str(dtype) in ("Float64", "Float32"):
            out[name] = out[name].astype("float64")
        elif str(dtype) in ("Int64", "Int32", "Int16", "Int8") and \
                not out[name].isna().any():
            out[name] = out[name].astype("int64")
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
    from hotspot.export.styles import write_layer_styles

    write_layer_styles(out, {name: [str(c) for c in frame.columns]
                             for name, frame in _with_contours(bundle).items()
                             if isinstance(frame, gpd.GeoDataFrame)})
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
        doc = json.loads(_rfc7946(frame).to_json(drop_id=True, na="null"))
        doc = {"type": "FeatureCollection", "name": name,
               "title": f"{bundle.metadata.full_title}: {name}",
               "metadata": _layer_meta(bundle, name, frame),
               "features": doc["features"]}
        path = target / f"{name}.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False, default=_json_default),
                        encoding="utf-8")
        written.append(path)
    return written


def _rfc7946(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """WGS84, exterior rings counter-clockwise, 6-decimal coordinates."""
    wgs = to_wgs84(_pyogrio_ready(frame))
    geoms = shapely.orient_polygons(wgs.geometry.to_numpy(), exterior_cw=False)
    geoms = shapely.set_precision(geoms, 10.0**-COORDINATE_DECIMALS)
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    out = wgs.set_geometry(gpd.GeoSeries(geoms, index=wgs.index, crs=wgs.crs))
    for col in out.columns:
        if col != "geometry" and pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(_six_figures)
    return out


def _six_figures(value: Any) -> Any:
    if value is None or not np.isfinite(value):
        return None
    return float(f"{float(value):.6g}")


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
    label = meta.to_dict().get("data_label")
    if label:
        tags["data_label"] = str(label)
    shown = suppress_metadata({"n_points": result.n_points,
                               "n_points_outside": result.n_points_outside,
                               "weight_total": result.weight_total},
                              rules=_rules_of(bundle))
    tags.update({k: str(v) for k, v in shown.items()})
    # the integral of a banded surface is not the total: say so instead
    tags["total_mass"] = "not given (banded surface)"
    tags["bands"] = "0 below the floor; else the floor times a power of two"
    out = write_surface(result, path, tags=tags)
    return [Path(out)]


def _rules_of(bundle: ExportBundle) -> DisclosureRules:
    given = bundle.metadata.disclosure.get("rules", {})
    if not given:
        return at_floor(DEFAULT_RULES)
    return at_floor(DisclosureRules(**{k: v for k, v in given.items()
                                       if k in ("min_count", "round_to",
                                                "max_resolution")}))


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
        if "bin" in frame.columns:  # hot, significant cells only: opens quickly
            bins = pd.to_numeric(frame["bin"], errors="coerce")
            frame = frame[bins > 0]
            if frame.empty:
                continue
        wgs = _rfc7946(frame)
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
    if "bin" in row and pd.notna(row["bin"]) and int(row["bin"]) in BIN_STYLE:
        return f"bin_{int(row['bin'])}"
    if layer == "kde_contours":
        return "contour"
    return "outline"


def _placemark_name(layer: str, row: pd.Series) -> str:
    if "bin" in row and pd.notna(row["bin"]) and int(row["bin"]) in BIN_STYLE:
        return BIN_STYLE[int(row["bin"])][1]
    for col in ("csp_name", "ward22_name", "name"):
        if col in row and isinstance(row[col], str):
            return row[col]
    if "level_per_km2" in row:
        return f"Density from {row['level_per_km2']:.3g} per km²"
    return layer


"""QGIS styles (QML and SLD) for the export layers, stored in the GeoPackage.

Each map layer gets a style with the map legend's colours (imported from
:mod:`hotspot.layers`, never copied): Gi* cells by bin (RdBu, withheld bins
grey and hatched), outlines hollow, wards thin grey, density bands and
deprivation deciles on viridis, fires orange. :func:`write_layer_styles` puts
them in the ``layer_styles`` table QGIS reads when a GeoPackage layer is
opened (``useAsDefault = 1``), so the file opens styled.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from hotspot.layers import (
    BIN_COLOURS,
    BIN_LABELS,
    FIRE_RGB,
    OUTLINE_RGB,
    RAMP,
    WARD_RGB,
)

RGB = tuple[int, int, int]
#: Fill of a cell whose bin is withheld by disclosure control.
WITHHELD_RGB: RGB = (235, 235, 235)
WITHHELD_LABEL = "Withheld (disclosure control)"
_SLD_NS = {"": "http://www.opengis.net/sld", "ogc": "http://www.opengis.net/ogc",
           "se": "http://www.opengis.net/se",
           "xsi": "http://www.w3.org/2001/XMLSchema-instance"}


@dataclass(frozen=True)
class Category:
    """One legend class: attribute value (None: empty), fill, label."""

    value: int | float | None
    fill: RGB | None
    label: str
    outline: RGB = (90, 90, 90)
    outline_mm: float = 0.1


def _ramp(n: int) -> list[RGB]:
    import matplotlib as mpl

    cmap = mpl.colormaps[RAMP]
    return [tuple(int(round(255 * c)) for c in cmap(i / max(n - 1, 1))[:3])  # type: ignore[misc]
            for i in range(n)]


def layer_categories(
    layer: str, columns: list[str]
) -> tuple[str | None, list[Category]]:
    """Return the attribute a layer is classed on, and its classes."""
    if "bin" in columns:
        cats = [Category(b, BIN_COLOURS[b], BIN_LABELS[b]) for b in sorted(
            BIN_COLOURS, reverse=True)]
        return "bin", [*cats, Category(None, WITHHELD_RGB, WITHHELD_LABEL)]
    if "violence_bin" in columns:
        return "hot_both", [Category(1, FIRE_RGB, "Hot for violence and fires"),
                            Category(0, None, "Other cells", outline=WARD_RGB)]
    if "imd_decile" in columns:
        colours = _ramp(10)
        return "imd_decile", [Category(d, colours[d - 1], f"IMD decile {d}"
                                       + (" (most deprived)" if d == 1 else ""))
                              for d in range(1, 11)]
    if "level_per_km2" in columns:
        return None, [Category(None, _ramp(3)[1], "Density band (per km²)")]
    if layer == "wards":
        return None, [Category(None, None, "Ward", outline=WARD_RGB, outline_mm=0.3)]
    return None, [Category(None, None, layer.replace("_", " ").capitalize(),
                           outline=OUTLINE_RGB, outline_mm=0.6)]


def _rgba(rgb: RGB | None) -> str:
    return "0,0,0,0" if rgb is None else f"{rgb[0]},{rgb[1]},{rgb[2]},255"


def _hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def qml(layer: str, columns: list[str]) -> str:
    """Return the QGIS QML style of one layer."""
    attr, cats = layer_categories(layer, columns)
    root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology")
    kind = "categorizedSymbol" if attr else "singleSymbol"
    renderer = ET.SubElement(root, "renderer-v2", type=kind, symbollevels="0",
                             forceraster="0", enableorderby="0")
    if attr:
        renderer.set("attr", attr)
        holder = ET.SubElement(renderer, "categories")
        for i, cat in enumerate(cats):
            ET.SubElement(holder, "category", symbol=str(i), label=cat.label,
                          render="true",
                          value="" if cat.value is None else str(cat.value))
    symbols = ET.SubElement(renderer, "symbols")
    for i, cat in enumerate(cats):
        sym = ET.SubElement(symbols, "symbol", type="fill", name=str(i), alpha="0.8",
                            clip_to_extent="1", force_rhr="0")
        lay = ET.SubElement(sym, "layer", {"class": "SimpleFill", "enabled": "1",
                                           "locked": "0", "pass": "0"})
        opts = ET.SubElement(lay, "Option", type="Map")
        style = "no" if cat.fill is None else (
            "b_diagonal" if cat.value is None and attr else "solid")
        for name, value in (("color", _rgba(cat.fill)),
                            ("outline_color", _rgba(cat.outline)),
                            ("outline_width", f"{cat.outline_mm:g}"),
                            ("outline_width_unit", "MM"), ("style", style)):
            ET.SubElement(opts, "Option", name=name, type="QString", value=value)
    ET.SubElement(root, "layerGeometryType").text = "2"
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + \
        ET.tostring(root, encoding="unicode")


def sld(layer: str, columns: list[str]) -> str:
    """Return the OGC SLD 1.1 style of one layer (the classes of :func:`qml`)."""
    for prefix, uri in _SLD_NS.items():
        ET.register_namespace(prefix, uri)
    sld_ns, ogc, se = _SLD_NS[""], _SLD_NS["ogc"], _SLD_NS["se"]
    attr, cats = layer_categories(layer, columns)
    root = ET.Element(f"{{{sld_ns}}}StyledLayerDescriptor", version="1.1.0")
    named = ET.SubElement(root, f"{{{sld_ns}}}NamedLayer")
    ET.SubElement(named, f"{{{se}}}Name").text = layer
    user = ET.SubElement(named, f"{{{sld_ns}}}UserStyle")
    fts = ET.SubElement(user, f"{{{se}}}FeatureTypeStyle")
    for cat in cats:
        rule = ET.SubElement(fts, f"{{{se}}}Rule")
        ET.SubElement(rule, f"{{{se}}}Name").text = cat.label
        ET.SubElement(ET.SubElement(rule, f"{{{se}}}Description"),
                      f"{{{se}}}Title").text = cat.label
        if attr:
            filt = ET.SubElement(rule, f"{{{ogc}}}Filter")
            if cat.value is None:
                cond = ET.SubElement(filt, f"{{{ogc}}}PropertyIsNull")
                ET.SubElement(cond, f"{{{ogc}}}PropertyName").text = attr
            else:
                cond = ET.SubElement(filt, f"{{{ogc}}}PropertyIsEqualTo")
                ET.SubElement(cond, f"{{{ogc}}}PropertyName").text = attr
                ET.SubElement(cond, f"{{{ogc}}}Literal").text = str(cat.value)
        poly = ET.SubElement(rule, f"{{{se}}}PolygonSymbolizer")
        if cat.fill is not None:
            fill = ET.SubElement(poly, f"{{{se}}}Fill")
            ET.SubElement(fill, f"{{{se}}}SvgParameter", name="fill").text = \
                _hex(cat.fill)
            ET.SubElement(fill, f"{{{se}}}SvgParameter",
                          name="fill-opacity").text = "0.8"
        stroke = ET.SubElement(poly, f"{{{se}}}Stroke")
        ET.SubElement(stroke, f"{{{se}}}SvgParameter", name="stroke").text = \
            _hex(cat.outline)
        ET.SubElement(stroke, f"{{{se}}}SvgParameter", name="stroke-width").text = \
            f"{cat.outline_mm * 3.78:.2f}"
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def write_layer_styles(path: Path, layers: dict[str, list[str]]) -> int:
    """Add a default QML + SLD style per layer to a GeoPackage's ``layer_styles``.

    Parameters
    ----------
    path : pathlib.Path
        The GeoPackage (written by pyogrio; geometry column ``geom``).
    layers : dict of str to list of str
        Map layer name → its columns.

    Returns
    -------
    int
        Styles written.
    """
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY "
            "AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256), "
            "f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), "
            "styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, "
            "owner TEXT(30), ui TEXT(30), update_time DATETIME DEFAULT "
            "CURRENT_TIMESTAMP)")
        geom_cols = dict(con.execute(
            "SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        n = 0
        for layer, columns in layers.items():
            if layer not in geom_cols:
                continue
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, "
                "f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
                "useAsDefault, description, owner) VALUES ('', '', ?, ?, ?, ?, ?, 1, "
                "?, 'hotspot')",
                (layer, geom_cols[layer], layer, qml(layer, columns),
                 sld(layer, columns), f"Legend colours of the hotspot map: {layer}"))
            n += 1
        con.commit()
    finally:
        con.close()
    return n

"""Operation layers: areas and typed activities with their symbols and legend."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pydeck as pdk

from hotspot.layers.geometry import _check_columns, _display, _polygon_rings, lonlat_of
from hotspot.layers.style import LegendEntry

ACTIVITY_STYLES: dict[str, tuple[tuple[int, int, int], str]] = {
    "patrol_zone": ((213, 94, 0), "P"),
    "s60_area": ((0, 114, 178), "60"),
    "s35_zone": ((204, 121, 167), "35"),
    "cctv": ((0, 0, 0), "C"),
    "outreach": ((0, 158, 115), "Y"),
    "school": ((86, 180, 233), "S"),
    "test_purchase": ((230, 159, 0), "T"),
    "surrender_bin": ((120, 94, 240), "B"),
    "community_event": ((150, 130, 0), "E"),
}
#: Style of a kind not in :data:`ACTIVITY_STYLES`.
OTHER_ACTIVITY_STYLE: tuple[tuple[int, int, int], str] = ((90, 90, 90), "?")
#: Outline colour of an operation's area.
OPERATION_RGB: tuple[int, int, int] = (17, 17, 17)


def activity_style(kind: str) -> tuple[tuple[int, int, int], str]:
    """Colour and glyph of an activity kind (a grey "?" for an unknown kind)."""
    return ACTIVITY_STYLES.get(kind, OTHER_ACTIVITY_STYLE)


def operation_area_layer(
    areas: gpd.GeoDataFrame, *, layer_id: str = "operation_areas"
) -> pdk.Layer:
    """Operation areas as thick dark outlines with a faint fill, pickable.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        :func:`hotspot.operations.model.operations_table`: ``name``, ``period_start``,
        ``period_end``, ``status`` and the area (EPSG:27700).
    layer_id : str, keyword-only
        Layer id.
    """
    _check_columns(areas, ("name", "period_start", "period_end", "status"),
                   name=layer_id)
    shown = _display(areas, name=layer_id)
    rows = []
    for _, row in shown.iterrows():
        tip = (f"{row['period_start']} to {row['period_end']}, {row['status']}")
        for rings in _polygon_rings(row.geometry):
            rows.append({"polygon": rings, "title": f"Operation: {row['name']}",
                         "tooltip": tip})
    return pdk.Layer(
        "PolygonLayer", data=rows, id=layer_id, get_polygon="polygon",
        get_fill_color=[*OPERATION_RGB, 18], get_line_color=[*OPERATION_RGB, 255],
        get_line_width=3, line_width_units="'pixels'", stroked=True, filled=True,
        pickable=True,
    )


def activity_layers(
    activities: gpd.GeoDataFrame, *, layer_id: str = "activities"
) -> list[pdk.Layer]:
    """Draw an operation's activities: one colour and glyph per kind.

    Polygons (patrol zones, section 60 and 35 areas, ...) are drawn as coloured
    outlines with a light fill; points (CCTV, schools, ...) as coloured discs;
    every feature carries its kind's glyph (:data:`ACTIVITY_STYLES`) as a label.

    Parameters
    ----------
    activities : geopandas.GeoDataFrame
        :func:`hotspot.operations.model.activities_table`: ``kind``, ``kind_label``,
        ``label`` and geometry (EPSG:27700).
    layer_id : str, keyword-only
        Prefix of the layer ids (``_areas``, ``_points``, ``_glyphs``).

    Returns
    -------
    list of pydeck.Layer
        Areas, points and glyphs, bottom first (empty layers left out).
    """
    _check_columns(activities, ("kind", "kind_label", "label"), name=layer_id)
    ok = activities.geometry.notna() & ~activities.geometry.is_empty
    shown = _display(activities[ok.to_numpy()], name=layer_id)
    lon, lat = lonlat_of(activities[ok.to_numpy()])
    areas, points, glyphs = [], [], []
    for i, (_, row) in enumerate(shown.iterrows()):
        rgb, glyph = activity_style(str(row["kind"]))
        common = {"title": str(row["kind_label"]), "tooltip": str(row["label"]),
                  "colour": [*rgb, 255]}
        if row.geometry.geom_type in ("Polygon", "MultiPolygon"):
            for rings in _polygon_rings(row.geometry):
                areas.append({**common, "polygon": rings, "fill": [*rgb, 45]})
        else:
            for part in getattr(row.geometry, "geoms", [row.geometry]):
                points.append({**common, "position": [round(part.x, 6),
                                                      round(part.y, 6)]})
        glyphs.append({"position": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
                       "text": glyph, "colour": [*rgb, 255]})
    out: list[pdk.Layer] = []
    if areas:
        out.append(pdk.Layer(
            "PolygonLayer", data=areas, id=f"{layer_id}_areas",
            get_polygon="polygon", get_fill_color="fill", get_line_color="colour",
            get_line_width=2.5, line_width_units="'pixels'", stroked=True,
            filled=True, pickable=True,
        ))
    if points:
        out.append(pdk.Layer(
            "ScatterplotLayer", data=points, id=f"{layer_id}_points",
            get_position="position", get_fill_color="colour", get_radius=40,
            radius_units="'meters'", radius_min_pixels=7, radius_max_pixels=14,
            stroked=True, get_line_color=[255, 255, 255, 255],
            line_width_min_pixels=2, pickable=True,
        ))
    if glyphs:
        out.append(pdk.Layer(
            "TextLayer", data=glyphs, id=f"{layer_id}_glyphs",
            get_position="position", get_text="text", get_size=12,
            size_units="'pixels'", get_color="colour", font_weight=700,
            outline_width=5, outline_color=[255, 255, 255, 235],
            font_settings={"sdf": True},
            font_family="'Helvetica, Arial, sans-serif'",
            get_text_anchor="'middle'", get_alignment_baseline="'center'",
            get_pixel_offset=[0, -16], pickable=False,
        ))
    return out


def operation_layers(
    operations: gpd.GeoDataFrame | None = None,
    activities: gpd.GeoDataFrame | None = None,
) -> list[pdk.Layer]:
    """Operation areas and, when given, their activities (bottom first).

    Parameters
    ----------
    operations : geopandas.GeoDataFrame or None
        :func:`hotspot.operations.model.operations_table`; None or empty for none.
    activities : geopandas.GeoDataFrame or None
        :func:`hotspot.operations.model.activities_table` (one or more operations).
    """
    out: list[pdk.Layer] = []
    if operations is not None and len(operations):
        out.append(operation_area_layer(operations))
    if activities is not None and len(activities):
        out.extend(activity_layers(activities))
    return out


def activity_legend(kinds: Sequence[str], labels: dict[str, str]) -> list[LegendEntry]:
    """Legend lines for the activity kinds present, in the given order.

    Parameters
    ----------
    kinds : sequence of str
        Kinds present (duplicates are shown once).
    labels : dict of str to str
        Kind → label shown (``ACTIVITY_KINDS[kind].label``).
    """
    out = [LegendEntry(OPERATION_RGB, "Operation area", shape="line")]
    for kind in dict.fromkeys(kinds):
        rgb, glyph = activity_style(kind)
        out.append(LegendEntry(rgb, labels.get(kind, kind), shape="glyph",
                               glyph=glyph))
    return out

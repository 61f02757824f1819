"""Street maps drawn with matplotlib from ``data/streets`` (no internet, no tiles).

Shared by the patrol card (:mod:`hotspot.render.patrol_card`) and the plan map
(:mod:`hotspot.render.plan_map`): Isle of Wight road lines, police.uk facility
points and OpenStreetMap places of interest, and one label per distinct
snap-point street in view (busiest first; a label that would overlap one
drawn before it is dropped).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import shapely
from matplotlib.axes import Axes

from hotspot.export.briefing import draw_north_arrow, draw_scale_bar
from hotspot.layers.streets import ROAD_RGB, StreetTables, labels_in, roads_in

Bounds = tuple[float, float, float, float]
LAND = "#f2efe9"
POI_COLOUR = "#5a3c8c"


def rgb(values: tuple[int, int, int]) -> tuple[float, float, float]:
    """Return an 0–255 RGB triple as matplotlib's 0–1 floats."""
    return (values[0] / 255, values[1] / 255, values[2] / 255)


def fit_bounds(ax: Axes, bounds: Bounds, *, margin_m: float) -> Bounds:
    """Widen ``bounds`` (EPSG:27700) by ``margin_m`` and to the axes' shape."""
    x0, y0, x1, y1 = bounds
    half_w = (x1 - x0) / 2 + margin_m
    half_h = (y1 - y0) / 2 + margin_m
    box = ax.get_position()
    fw, fh = ax.get_figure(root=True).get_size_inches()  # type: ignore[union-attr]
    aspect = (box.width * fw) / (box.height * fh)  # width over height
    if half_w / half_h < aspect:
        half_w = half_h * aspect
    else:
        half_h = half_w / aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _street_points(snap: pd.DataFrame, bounds: Bounds) -> pd.DataFrame:
    """One point per distinct street label in the box: its busiest snap point."""
    streets = snap[~snap["facility"].to_numpy(bool)]
    inside = labels_in(streets, bounds=bounds)
    if inside.empty:
        return inside
    return (inside.sort_values(["n_records", "street"], ascending=[False, True],
                               kind="stable")
            .drop_duplicates("street"))


def draw_base(ax: Axes, bounds: Bounds, *, tables: StreetTables,
              font_scale: float = 1.0) -> list[str]:
    """Draw the land colour and road lines in ``bounds``; return attribution keys."""
    ax.set_facecolor(LAND)
    used: list[str] = []
    roads = roads_in(tables.roads, bounds=bounds)
    if len(roads):
        for kind, width in (("local", 2.0), ("minor", 2.6), ("major", 3.4)):
            part = roads[roads["kind"].astype(str) == kind]
            for geom in shapely.get_parts(part.geometry.to_numpy()):
                xy = shapely.get_coordinates(geom)
                ax.plot(xy[:, 0], xy[:, 1], color=rgb(ROAD_RGB[kind]),
                        lw=width * font_scale, solid_capstyle="round", zorder=2)
        source = str(roads["source"].iloc[0]) if "source" in roads.columns else ""
        used.append("roads_os" if source.startswith("OS") else "roads_osm")
    return used


def draw_labels(ax: Axes, bounds: Bounds, *, tables: StreetTables,
                snap: pd.DataFrame, font_scale: float = 1.0,
                max_streets: int | None = None, keep: list[Any] | None = None
                ) -> list[str]:
    """Draw places of interest and street names, then drop overlapping labels.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes in EPSG:27700 metres.
    bounds : tuple of float
        The map's extent.
    tables, snap : keyword-only
        ``data/streets`` tables and its snap points.
    font_scale : float, keyword-only
    max_streets : int, optional, keyword-only
        At most this many street labels (the busiest).
    keep : list of matplotlib texts, optional, keyword-only
        Texts already drawn that labels must not cover (cell numbers).

    Returns
    -------
    list of str
        Attribution keys for what was drawn (``labels``, ``pois``).
    """
    used: list[str] = []
    pois = labels_in(tables.pois, bounds=bounds)
    if len(pois):
        ax.scatter(pois["x"], pois["y"], s=18 * font_scale, color=POI_COLOUR,
                   edgecolor="white", lw=0.6, zorder=6)
        used.append("pois")
    streets = _street_points(snap, bounds)
    if max_streets is not None:
        streets = streets.head(max_streets)
    ax.scatter(streets["x"], streets["y"], s=5 * font_scale, color="0.35", zorder=5)
    texts = []
    street_style: dict[str, Any] = {
        "fontsize": 7.5 * font_scale, "ha": "center", "va": "bottom",
        "color": "0.1", "zorder": 8, "clip_on": True,
        "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                 "alpha": 0.75}}
    for sx, sy, name in zip(streets["x"], streets["y"], streets["street"],
                            strict=True):
        texts.append(ax.text(sx, sy, str(name), **street_style))
    poi_style: dict[str, Any] = {
        "fontsize": 6.5 * font_scale, "ha": "left", "va": "center",
        "color": POI_COLOUR, "zorder": 7, "clip_on": True, "style": "italic"}
    for px, py, label in zip(pois["x"], pois["y"], pois["label"], strict=True):
        texts.append(ax.text(px, py, f" {label}", **poi_style))
    if len(streets):
        used.insert(0, "labels")
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    drop_overlaps(ax, texts, keep=keep or [])
    draw_scale_bar(ax)
    draw_north_arrow(ax)
    return used


def drop_overlaps(ax: Axes, texts: list[Any], *, keep: list[Any]) -> int:
    """Remove texts (in priority order) overlapping a kept one; return how many."""
    renderer = ax.get_figure(root=True).canvas.get_renderer()  # type: ignore[union-attr]
    kept = [t.get_window_extent(renderer) for t in keep]
    removed = 0
    for text in texts:
        box = text.get_window_extent(renderer).expanded(1.05, 1.15)
        if any(box.overlaps(k) for k in kept):
            text.remove()
            removed += 1
        else:
            kept.append(box)
    return removed

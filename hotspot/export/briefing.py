"""Briefing packs (PDF, A4 landscape) and slide maps (PNG, 16:9) for partner meetings.

Drawn with matplotlib (Agg, no pyplot state, no internet) from the layers of an
:class:`~hotspot.export.bundle.ExportBundle` that has been through disclosure control:

- **map**: Gi* hot and cold spot cells over the CSP and ward outlines, with a
  legend, scale bar, north arrow, title, period and attribution;
- **top hot spots**: the hot-spot cells by confidence and count (no z: it is
  never exported);
- **weekday × hour** chart (timed records only) and the **monthly trend** with
  school holidays marked;
- **deprivation and fires**: IMD deciles of the CSP's LSOAs and of the
  hot-spot cells, and co-location of violence and deliberate fire hot spots;
- **operations**: the operations in the CSP, when the view names any.

A section whose table is not in the bundle is replaced by a one-line note saying
why (from ``bundle.notes``), never by invented content; a page with nothing to
show (no deprivation, fires or operations in the view) is left out, and page 2
says which view layers would fill it. Every table drawn is
written beside the image as ``NAME.sources.json`` so that the disclosure checker
(:func:`hotspot.export.disclosure.check_file`) can check what the picture shows.
"""

from __future__ import annotations

import json
import logging
import math
import textwrap
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from hotspot.errors import ParameterError
from hotspot.export.bundle import BIN_STYLE, ExportBundle
from hotspot.export.disclosure import SOURCES_SUFFIX, count_columns_of

logger = logging.getLogger(__name__)

#: A4 landscape, inches.
A4_LANDSCAPE: tuple[float, float] = (11.69, 8.27)
#: 16:9 slide, inches; at :data:`PNG_DPI` this is 1920 × 1080 pixels.
SLIDE: tuple[float, float] = (13.3334, 7.5)
PNG_DPI = 144
LAND = "#f2efe9"
#: Background beyond the CSP (neighbouring land and sea alike: no basemap).
BEYOND = "#e4e4e4"
OUTLINE = "#282828"
WARD = "#8c8c8c"
SUPPRESSED_LABEL = "fewer than the threshold (suppressed)"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _rgb(values: tuple[int, int, int]) -> tuple[float, float, float]:
    return (values[0] / 255, values[1] / 255, values[2] / 255)


# ----------------------------------------------------------------------------
# map furniture
# ----------------------------------------------------------------------------


def nice_length_m(width_m: float) -> float:
    """Return a round scale-bar length (1, 2 or 5 × 10^n m) near width_m / 5."""
    if not width_m > 0:
        raise ParameterError(f"width_m must be positive, got {width_m!r}")
    target = width_m / 5
    power = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def draw_scale_bar(ax: Axes) -> float:
    """Draw a black-and-white scale bar at the map's lower left; return its length (m).

    The axes must be in metres (EPSG:27700).
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length_m(x1 - x0)
    height = (y1 - y0) * 0.012
    left = x0 + (x1 - x0) * 0.04
    base = y0 + (y1 - y0) * 0.05
    half = length / 2
    ax.add_patch(Rectangle((left, base), half, height, facecolor="black",
                           edgecolor="black", zorder=20))
    ax.add_patch(Rectangle((left + half, base), half, height, facecolor="white",
                           edgecolor="black", zorder=20))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(left, base + height * 1.8, "0", fontsize=7, ha="center", zorder=20)
    ax.text(left + length, base + height * 1.8, label, fontsize=7, ha="center",
            zorder=20)
    return length


def draw_north_arrow(ax: Axes) -> None:
    """Draw a north arrow at the map's upper right (grid north of EPSG:27700)."""
    ax.annotate("N", xy=(0.95, 0.94), xytext=(0.95, 0.82),
                xycoords="axes fraction", textcoords="axes fraction",
                ha="center", va="center", fontsize=11, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
                zorder=20)


def draw_map(ax: Axes, bundle: ExportBundle) -> list[Any]:
    """Draw the hot-spot map on ``ax``; return the legend handles.

    Layers used (when present): ``csp_outline`` (land and outline), ``wards``,
    ``hotspots`` (cells filled by Gi* bin; bin 0 cells left unfilled). All in
    EPSG:27700.
    """
    ax.set_facecolor(BEYOND)
    handles: list[Any] = []
    outline = bundle.layers.get("csp_outline")
    cells = bundle.layers.get("hotspots")
    wards = bundle.layers.get("wards")
    frames = [f for f in (outline, cells) if isinstance(f, gpd.GeoDataFrame)
              and not f.empty]
    if not frames:
        ax.text(0.5, 0.5, "No map layers in this view", ha="center",
                transform=ax.transAxes)
        return handles
    if isinstance(outline, gpd.GeoDataFrame) and not outline.empty:
        outline.plot(ax=ax, facecolor=LAND, edgecolor="none", zorder=1)
    if isinstance(wards, gpd.GeoDataFrame) and not wards.empty:
        wards.boundary.plot(ax=ax, color=WARD, linewidth=0.4, zorder=3)
        handles.append(Line2D([], [], color=WARD, lw=0.8, label="Ward boundary"))
    if isinstance(cells, gpd.GeoDataFrame) and not cells.empty:
        present = sorted({int(b) for b in cells["bin"].dropna()}, reverse=True)
        for b in present:
            if b == 0:
                continue
            rgb, label = BIN_STYLE[b]
            part = cells[cells["bin"] == b]
            part.plot(ax=ax, facecolor=_rgb(rgb), edgecolor="white", linewidth=0.2,
                      zorder=4)
            handles.append(Patch(facecolor=_rgb(rgb), edgecolor="none", label=label))
        handles.append(Patch(facecolor=LAND, edgecolor="#bbbbbb",
                             label="Other cells: no significant hot spot"))
    if isinstance(outline, gpd.GeoDataFrame) and not outline.empty:
        outline.boundary.plot(ax=ax, color=OUTLINE, linewidth=1.2, zorder=5)
        handles.append(Line2D([], [], color=OUTLINE, lw=1.2, label="CSP boundary"))
    minx, miny, maxx, maxy = pd.concat([f.geometry for f in frames]).total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.04
    _fit_frame(ax, (minx - pad, miny - pad, maxx + pad, maxy + pad))
    _bare(ax)
    _label_top(ax, bundle)
    draw_scale_bar(ax)
    draw_north_arrow(ax)
    return handles


def _fit_frame(ax: Axes, bounds: tuple[float, float, float, float]) -> None:
    """Set limits holding ``bounds`` at one scale, widened to fill the axes box."""
    minx, miny, maxx, maxy = bounds
    box = ax.get_position(original=True)
    figure = ax.get_figure(root=True)
    if figure is None:
        raise ParameterError("ax must belong to a figure")
    fig_w, fig_h = figure.get_size_inches()
    frame_ratio = (box.width * fig_w) / (box.height * fig_h)
    width, height = maxx - minx, maxy - miny
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    if width / height < frame_ratio:
        width = height * frame_ratio
    else:
        height = width / frame_ratio
    ax.set_xlim(cx - width / 2, cx + width / 2)
    ax.set_ylim(cy - height / 2, cy + height / 2)
    ax.set_aspect("equal")


def _bare(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def _label_top(ax: Axes, bundle: ExportBundle, *, rows: int = 8) -> None:
    """Write each top hot spot's rank on the map, as in the table beside it."""
    top = bundle.layers.get("top_hotspots")
    cells = bundle.layers.get("hotspots")
    if top is None or top.empty or not isinstance(cells, gpd.GeoDataFrame):
        return
    where = cells.set_index("h3").geometry.centroid
    for number, (_, r) in enumerate(top.head(rows).iterrows(), start=1):
        if r["h3"] in where.index:
            point = where.loc[r["h3"]]
            ax.annotate(str(number), (point.x, point.y), fontsize=6.5,
                        ha="center", va="center", color="white", fontweight="bold",
                        zorder=6)


def _header(fig: Figure, bundle: ExportBundle, *, subtitle: str) -> None:
    meta = bundle.metadata
    fig.text(0.03, 0.965, meta.full_title, fontsize=15, fontweight="bold",
             va="top", color="#b2182b" if meta.synthetic else "black")
    fig.text(0.03, 0.925, f"{subtitle} · Period {meta.period}", fontsize=10,
             va="top")


def _footer(fig: Figure, bundle: ExportBundle, *, page: str = "") -> None:
    meta = bundle.metadata
    rules = meta.disclosure.get("rules", {})
    lines = list(meta.attributions)
    if rules:
        rounding = (f", rounded to the nearest {rules['round_to']}"
                    if rules.get("round_to") else "")
        lines.append(
            f"Disclosure control: counts below {rules.get('min_count')} suppressed"
            f"{rounding}; H3 resolution {rules.get('max_resolution')} or coarser; "
            "no point-level or identifying data."
        )
    if meta.synthetic:
        lines.append("SYNTHETIC data: generated, not real police records.")
    fig.text(0.03, 0.012, "\n".join(lines), fontsize=5.5, va="bottom",
             color="#444444")
    if page:
        fig.text(0.97, 0.012, page, fontsize=7, ha="right", va="bottom")


def _note(ax: Axes, text: str) -> None:
    ax.axis("off")
    ax.text(0.0, 0.9, text, fontsize=9, va="top", wrap=True, color="#555555",
            transform=ax.transAxes)


def _missing(bundle: ExportBundle, key: str, what: str) -> str:
    why = bundle.notes.get(key, "not in this view")
    return f"{what}: not available ({why})."


# ----------------------------------------------------------------------------
# sections
# ----------------------------------------------------------------------------


def draw_top_table(ax: Axes, bundle: ExportBundle, *, rows: int = 10) -> None:
    """Draw the top hot spots table: rank, streets, ward and town, Gi* class."""
    top = bundle.layers.get("top_hotspots")
    ax.set_title("Top hot spots", loc="left", fontsize=11, fontweight="bold")
    if top is None or top.empty:
        _note(ax, _missing(bundle, "top_hotspots", "Top hot spots")
              if top is None else "No significant hot spots in this view.")
        return
    ax.axis("off")
    body = []
    for number, (_, r) in enumerate(top.head(rows).iterrows(), start=1):
        bin_value = int(r["bin"]) if pd.notna(r.get("bin")) else None
        conf = (BIN_STYLE.get(bin_value, ((0, 0, 0), ""))[1].replace(
            "Hot spot, ", "").replace(" confidence", "") if bin_value is not None
            else "withheld")
        place = str(r.get("place") or r["h3"])
        # "Streets, X ward, Town (sector)": the streets in one column, the
        # rest in the next, each wrapped, so no name is cut off
        streets, _, rest = place.partition(", ")
        if not rest:
            rest = str(r["ward"]) if "ward" in r and pd.notna(r["ward"]) else ""
        conf = {"Not significant (occurrences present)": "not significant"}.get(
            conf, conf)
        body.append([str(number), textwrap.fill(streets, 30),
                     textwrap.fill(rest.replace(" ward,", ","), 24), conf])
    table = ax.table(cellText=body,
                     colLabels=["#", "Place (by what is expected next)",
                                "Ward, town (sector)", "Gi* class"],
                     loc="upper left", cellLoc="left", colLoc="left",
                     colWidths=[0.05, 0.45, 0.34, 0.16])
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    lines = max(max(cell.count("\n") + 1 for cell in row) for row in body)
    for (row, _col), cell in table.get_celld().items():
        if row > 0:
            cell.set_height(cell.get_height() * (1.1 + 0.75 * (lines - 1)))


def draw_weekday_hour(ax: Axes, bundle: ExportBundle) -> None:
    """Draw the weekday × hour counts as a heat map; suppressed cells hatched."""
    table = bundle.layers.get("weekday_hour")
    ax.set_title("When: weekday × hour (records with a time)", loc="left",
                 fontsize=10, fontweight="bold")
    if table is None or table.empty:
        _note(ax, _missing(bundle, "weekday_hour", "Weekday × hour chart"))
        return
    grid = np.full((7, 24), np.nan)
    order = {d: i for i, d in enumerate(WEEKDAYS)}
    for _, r in table.iterrows():
        i = order.get(str(r["weekday"]))
        if i is not None:
            grid[i, int(r["hour"])] = float(r["count"]) if pd.notna(r["count"]) \
                else np.nan
    ax.set_facecolor("#eeeeee")
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap="viridis",
                      interpolation="nearest")
    ax.add_patch(Rectangle((-0.5, -0.5), 24, 7, fill=False, hatch="////",
                           edgecolor="#bbbbbb", linewidth=0, zorder=0))
    ax.set_yticks(range(7), WEEKDAYS, fontsize=7)
    ax.set_xticks(range(0, 24, 3), [f"{h:02d}" for h in range(0, 24, 3)], fontsize=7)
    ax.set_xlabel("hour of day", fontsize=7)
    bar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.ax.tick_params(labelsize=6)
    bar.set_label("occurrences (grey: suppressed)", fontsize=6)


def draw_monthly(ax: Axes, bundle: ExportBundle) -> None:
    """Draw occurrences per month, school-holiday months shaded."""
    table = bundle.layers.get("monthly")
    ax.set_title("Trend: occurrences per month", loc="left", fontsize=10,
                 fontweight="bold")
    if table is None or table.empty:
        _note(ax, _missing(bundle, "monthly", "Monthly trend"))
        return
    x = np.arange(len(table))
    values = pd.to_numeric(table["occurrences"], errors="coerce").to_numpy()
    holiday = table.get("school_holiday", pd.Series(False, index=table.index))
    colours = ["#ef8a62" if bool(h) else "#67a9cf" for h in holiday]
    ax.bar(x, np.nan_to_num(values), color=colours)
    for i in np.flatnonzero(np.isnan(values)):
        ax.text(float(i), 0.0, "s", ha="center", va="bottom", fontsize=6)
    ax.set_xticks(x, [str(m)[2:] for m in table["month"]], fontsize=6, rotation=90)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(handles=[Patch(color="#ef8a62", label="school holiday month"),
                       Patch(color="#67a9cf", label="term-time month")],
              fontsize=6, loc="upper left", frameon=False)


def draw_deprivation(ax: Axes, bundle: ExportBundle) -> None:
    """Map the IMD decile of the CSP's LSOAs with the hot-spot cells outlined."""
    lsoas = bundle.layers.get("deprivation")
    ax.set_title("Deprivation (IMD decile, 1 = most deprived 10%)", loc="left",
                 fontsize=10, fontweight="bold")
    if not isinstance(lsoas, gpd.GeoDataFrame) or lsoas.empty:
        _note(ax, _missing(bundle, "deprivation", "Deprivation summary"))
        return
    lsoas.plot(ax=ax, column="imd_decile", cmap="viridis", vmin=1, vmax=10,
               legend=True, legend_kwds={"shrink": 0.6, "label": "IMD decile"},
               edgecolor="white", linewidth=0.1)
    cells = bundle.layers.get("hotspots")
    if isinstance(cells, gpd.GeoDataFrame) and not cells.empty:
        hot = cells[cells["bin"] >= 2]
        if not hot.empty:
            hot.boundary.plot(ax=ax, color="#d7191c", linewidth=0.8)
    _bare(ax)
    ax.set_aspect("equal")


def deprivation_summary(bundle: ExportBundle) -> pd.DataFrame | None:
    """LSOAs per IMD decile group: all LSOAs and those touching a hot-spot cell.

    Returns None when the deprivation or hot-spot layer is missing.
    """
    lsoas = bundle.layers.get("deprivation")
    cells = bundle.layers.get("hotspots")
    if not isinstance(lsoas, gpd.GeoDataFrame) or not isinstance(
        cells, gpd.GeoDataFrame
    ):
        return None
    hot = cells[cells["bin"] >= 2]
    touched = gpd.sjoin(lsoas[["lsoa_code", "imd_decile", "geometry"]],
                        hot[["geometry"]], how="inner",
                        predicate="intersects")["lsoa_code"].unique()
    group = pd.cut(pd.to_numeric(lsoas["imd_decile"], errors="coerce"),
                   bins=[0, 2, 5, 10], labels=["deciles 1-2", "deciles 3-5",
                                                "deciles 6-10"])
    out = pd.DataFrame({
        "imd_group": ["deciles 1-2", "deciles 3-5", "deciles 6-10"],
    })
    out["lsoas"] = [int((group == g).sum()) for g in out["imd_group"]]
    out["lsoas_with_hot_spot"] = [
        int(((group == g) & lsoas["lsoa_code"].isin(touched)).sum())
        for g in out["imd_group"]
    ]
    return _disclosed(bundle, out)


def _disclosed(bundle: ExportBundle, table: pd.DataFrame) -> pd.DataFrame:
    """Return a summary table with the bundle's disclosure rules applied.

    The summaries count LSOAs and cells, which the checker reads as counts:
    small ones are suppressed and the rest rounded like every other count.
    """
    from hotspot.export.disclosure import apply_rules
    from hotspot.export.files import _rules_of

    clean, _ = apply_rules(table, rules=_rules_of(bundle), name="summary")
    return clean


def fire_summary(bundle: ExportBundle) -> pd.DataFrame | None:
    """Cells hot (95%+) for violence, for deliberate fires and for both."""
    fires = bundle.layers.get("fires")
    if fires is None or fires.empty:
        return None
    violence = pd.to_numeric(fires["violence_bin"], errors="coerce")
    fire = pd.to_numeric(fires["fire_bin"], errors="coerce")
    both = pd.to_numeric(fires["hot_both"], errors="coerce")
    withheld = violence.isna() | fire.isna()
    # a withheld bin is neither hot nor not hot: counted apart, never as "not hot"
    return _disclosed(bundle, pd.DataFrame({
        "measure": ["cells hot for violence", "cells hot for deliberate fires",
                    "cells hot for both", "cells whose class is withheld"],
        "cells": [int((violence >= 2).sum()), int((fire >= 2).sum()),
                  int((both == 1).sum()), int(withheld.sum())],
    }))


def _text_table(ax: Axes, frame: pd.DataFrame, *, title: str) -> None:
    ax.axis("off")
    ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
    shown = frame.astype(object).where(frame.notna(), "suppressed")
    table = ax.table(cellText=shown.astype(str).to_numpy().tolist(),
                     colLabels=[str(c).replace("_", " ") for c in frame.columns],
                     loc="upper left", cellLoc="left", colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.3)


def draw_operations(ax: Axes, bundle: ExportBundle) -> None:
    """List the CSP's operations (name, period, status, activities)."""
    ops = bundle.layers.get("operations")
    if ops is None or ops.empty:
        ax.set_title("Operations", loc="left", fontsize=10, fontweight="bold")
        _note(ax, _missing(bundle, "operations", "Operation summary")
              if ops is None else "No operation in this CSP.")
        return
    cols = [c for c in ("name", "period_start", "period_end", "status",
                        "n_activities") if c in ops.columns]
    _text_table(ax, pd.DataFrame(ops[cols]).head(8), title="Operations")


# ----------------------------------------------------------------------------
# pages and files
# ----------------------------------------------------------------------------


def _place(bundle: ExportBundle, csp: str | None) -> str:
    filters = bundle.metadata.filters
    return str(filters.get("csp") or csp or "HIPS")


def map_figure(bundle: ExportBundle, *, size: tuple[float, float] = SLIDE,
               csp: str | None = None, page: str = "") -> Figure:
    """Return the map page: map, legend, top hot spots, title, period, sources."""
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    _header(fig, bundle, subtitle=f"Gi* hot spots in {_place(bundle, csp)}")
    ax = fig.add_axes((0.03, 0.13, 0.58, 0.76))
    handles = draw_map(ax, bundle)
    legend_ax = fig.add_axes((0.63, 0.62, 0.34, 0.27))
    legend_ax.axis("off")
    if handles:
        legend_ax.legend(handles=handles, loc="upper left", fontsize=8,
                         title="Legend", title_fontsize=9, frameon=False)
    top_ax = fig.add_axes((0.63, 0.13, 0.34, 0.46))
    draw_top_table(top_ax, bundle, rows=8)
    _footer(fig, bundle, page=page)
    return fig


def _pages(bundle: ExportBundle, csp: str | None) -> list[Figure]:
    pages = [map_figure(bundle, size=A4_LANDSCAPE, csp=csp, page="1")]

    when = Figure(figsize=A4_LANDSCAPE)
    FigureCanvasAgg(when)
    _header(when, bundle, subtitle="When it happens")
    draw_weekday_hour(when.add_axes((0.06, 0.55, 0.85, 0.32)), bundle)
    draw_monthly(when.add_axes((0.06, 0.16, 0.85, 0.29)), bundle)
    _footer(when, bundle, page="2")
    pages.append(when)

    if not has_context(bundle):
        pages[-1].text(0.06, 0.112, "Deprivation, deliberate fires and operations are "
                       "not in this view: add the layers \"deprivation\", \"fires\" "
                       "or \"operations\" to the view to get a third page.",
                       fontsize=8, color="#555555")
        return pages
    context = Figure(figsize=A4_LANDSCAPE)
    FigureCanvasAgg(context)
    _header(context, bundle, subtitle="Deprivation, deliberate fires and operations")
    draw_deprivation(context.add_axes((0.03, 0.16, 0.5, 0.7)), bundle)
    dep = deprivation_summary(bundle)
    dep_ax = context.add_axes((0.57, 0.66, 0.4, 0.2))
    if dep is None:
        dep_ax.axis("off")  # the note is under the map's title already
    else:
        _text_table(dep_ax, dep, title="LSOAs by deprivation")
    fire = fire_summary(bundle)
    fire_ax = context.add_axes((0.57, 0.42, 0.4, 0.18))
    if fire is None:
        fire_ax.set_title("Deliberate fires", loc="left", fontsize=10,
                          fontweight="bold")
        _note(fire_ax, _missing(bundle, "fires", "Fire summary"))
    else:
        _text_table(fire_ax, fire, title="Deliberate fires and violence")
    draw_operations(context.add_axes((0.57, 0.16, 0.4, 0.2)), bundle)
    _footer(context, bundle, page="3")
    pages.append(context)
    return pages


def has_context(bundle: ExportBundle) -> bool:
    """Say whether the bundle has deprivation, fires or operations (page 3)."""
    return any(name in bundle.layers for name in ("deprivation", "fires", "operations"))


def source_tables(bundle: ExportBundle) -> dict[str, dict[str, Any]]:
    """Return the tables a briefing draws, as JSON-ready dicts for the checker."""
    out: dict[str, dict[str, Any]] = {}
    extra = {"deprivation_summary": deprivation_summary(bundle),
             "fire_summary": fire_summary(bundle)}
    tables: dict[str, pd.DataFrame | None] = {**bundle.layers, **extra}
    for name, frame in tables.items():
        if frame is None:
            continue
        plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
        entry: dict[str, Any] = {
            "columns": [str(c) for c in plain.columns],
            "rows": json.loads(plain.to_json(orient="values", date_format="iso")),
            "count_columns": [str(c) for c in count_columns_of(plain)],
        }
        if isinstance(frame, gpd.GeoDataFrame):
            entry["geometry_types"] = sorted(
                {str(t) for t in frame.geom_type.dropna().unique()})
        out[name] = entry
    return out


def _write_sources(bundle: ExportBundle, path: Path) -> Path:
    sidecar = path.with_name(path.name + SOURCES_SUFFIX)
    doc = {"metadata": bundle.metadata.to_dict(), "notes": bundle.notes,
           "tables": source_tables(bundle)}
    sidecar.write_text(json.dumps(doc, ensure_ascii=False, default=str),
                       encoding="utf-8")
    return sidecar


def write_briefing_pdf(bundle: ExportBundle, path: Path | str, *,
                       csp: str | None = None) -> list[Path]:
    """Write the briefing pack (3 A4 landscape pages) and its source tables.

    Parameters
    ----------
    bundle : ExportBundle
        A disclosed bundle (:func:`hotspot.export.bundle.disclose`); :func:`hotspot.
        export.export` with ``fmt="pdf"`` does both and checks the result.
    path : pathlib.Path or str
        The ``.pdf`` file.
    csp : str, optional, keyword-only
        CSP name for the subtitle, when the metadata has none.

    Returns
    -------
    list of pathlib.Path
        The PDF and its ``.pdf.sources.json`` sidecar.
    """
    out = Path(path)
    meta = bundle.metadata
    info = {"Title": meta.full_title, "Subject": f"Period {meta.period}",
            "Keywords": "; ".join(meta.attributions), "Creator": "hotspot"}
    with PdfPages(out, metadata=info) as pdf:
        for fig in _pages(bundle, csp):
            pdf.savefig(fig)
    logger.info("wrote briefing %s", out)
    return [out, _write_sources(bundle, out)]


def write_map_png(bundle: ExportBundle, path: Path | str, *,
                  csp: str | None = None) -> list[Path]:
    """Write the 16:9 slide map (1920 × 1080 px) and its source tables.

    The PNG carries ``Title``, ``Description`` (period) and ``Copyright``
    (attributions) text chunks.
    """
    out = Path(path)
    meta = bundle.metadata
    fig = map_figure(bundle, size=SLIDE, csp=csp)
    fig.savefig(out, dpi=PNG_DPI, metadata={
        "Title": meta.full_title, "Description": f"Period {meta.period}",
        "Copyright": " ".join(meta.attributions), "Software": "hotspot"})
    logger.info("wrote map image %s", out)
    return [out, _write_sources(bundle, out)]

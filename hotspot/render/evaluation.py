"""An operation's evaluation on paper: the map of its three areas and the PDF.

:func:`evaluation_map_figure` draws the treated (operation) area, the buffer
ring and the control area over ward outlines and the street base
(:mod:`hotspot.render.streetmap`), with each area's counts in the legend.
:func:`write_evaluation_pdf` writes an A4 PDF: the SYNTHETIC banner when due,
the one-line verdicts, the before/during/after table, the reading and the
warnings, then the map; the attribution and licence lines are on every page.
"""

from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.patches import Polygon as MplPolygon

from hotspot.errors import ParameterError
from hotspot.export.bundle import ATTRIBUTIONS, SYNTHETIC_LABEL
from hotspot.operations.evaluate import MEASURES, Evaluation
from hotspot.operations.periods import AREA_LABELS
from hotspot.render import written_bytes
from hotspot.render.streetmap import draw_base, draw_labels, fit_bounds

logger = logging.getLogger(__name__)

A4_IN: tuple[float, float] = (8.27, 11.69)
#: Fill, edge and label of each area (colour-blind safe, none a hot-spot red).
AREA_STYLE: dict[str, tuple[str, str, str]] = {
    "control": ("#c6dbef", "#4292c6", AREA_LABELS["control"]),
    "buffer": ("#fdd49e", "#d95f0e", AREA_LABELS["buffer"]),
    "treated": ("#6a51a3", "#3f007d", AREA_LABELS["treated"]),
}
LEVEL2 = "Level 2 (locations only): no personal data. Produced by hotspot."


def _draw_geometry(ax: object, geom: shapely.Geometry, *, face: str, edge: str,
                   alpha: float, zorder: int) -> None:
    for part in shapely.get_parts(np.asarray([geom])):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        for ring, fill in ([part.exterior, True],
                           *([r, False] for r in part.interiors)):
            patch = MplPolygon(np.asarray(ring.coords)[:, :2], closed=True,
                               facecolor=face if fill else "none", edgecolor=edge,
                               lw=1.2, alpha=alpha, zorder=zorder)
            ax.add_patch(patch)  # type: ignore[attr-defined]


def _banner(fig: Figure, top: float) -> float:
    fig.patches.append(Rectangle((0, top - 0.04), 1, 0.04, transform=fig.transFigure,
                                 facecolor="#b2182b", edgecolor="none"))
    fig.text(0.5, top - 0.02, f"{SYNTHETIC_LABEL} DATA: the results show how the "
             "method works, not what happened", ha="center", va="center",
             color="white", fontsize=11, weight="bold")
    return top - 0.05


def _footer(fig: Figure, attributions: Sequence[str]) -> None:
    lines = [*attributions, LEVEL2]
    fig.text(0.06, 0.01, "\n".join(textwrap.fill(t, 150) for t in lines),
             fontsize=5.8, color="0.35", va="bottom", linespacing=1.2)


def draw_evaluation_map(ax: object, evaluation: Evaluation, *,
                        context: gpd.GeoDataFrame | None = None,
                        font_scale: float = 1.0) -> list[str]:
    """Draw the three areas on ``ax`` (EPSG:27700); return attribution keys.

    The map's extent is the control area's (the rest of the CSP by default);
    ward outlines from ``context`` (EPSG:27700) are drawn in grey.
    """
    from hotspot.context.places import load_place_index
    from hotspot.layers.streets import load_street_tables

    areas = evaluation.areas
    tables = load_street_tables()
    whole = shapely.union_all([areas.control, areas.buffer, areas.treated])
    bounds = fit_bounds(ax, whole.bounds, margin_m=300.0)  # type: ignore[arg-type]
    used = draw_base(ax, bounds, tables=tables,  # type: ignore[arg-type]
                     font_scale=font_scale)
    if context is not None and len(context):
        for geom in context.geometry:
            _draw_geometry(ax, geom, face="none", edge="#9e9e9e", alpha=0.8,
                           zorder=3)
    counts = evaluation.table(measure="without_proactive")
    handles = []
    for name, geom, alpha in (("control", areas.control, 0.45),
                              ("buffer", areas.buffer, 0.75),
                              ("treated", areas.treated, 0.55)):
        face, edge, label = AREA_STYLE[name]
        _draw_geometry(ax, geom, face=face, edge=edge, alpha=alpha, zorder=4)
        row = counts.loc[name]
        figures = " → ".join(f"{v:g}" for v in row.to_numpy() if np.isfinite(v))
        handles.append(Patch(facecolor=face, edgecolor=edge, alpha=alpha,
                             label=f"{label}: {figures}"))
    # street names only: places of interest crowd a whole CSP's map
    streets_only = replace(tables, pois=tables.pois.iloc[:0])
    used += draw_labels(ax, bounds, tables=streets_only,  # type: ignore[arg-type]
                        snap=load_place_index().snap, font_scale=font_scale,
                        max_streets=20)
    legend = ax.legend(handles=handles, loc="upper left",  # type: ignore[attr-defined]
                       fontsize=7 * font_scale, framealpha=0.95,
                       title="Occurrences before → during → after",
                       title_fontsize=7 * font_scale)
    legend.set_zorder(20)
    return used


def evaluation_map_figure(evaluation: Evaluation, *, title: str = "",
                          context: gpd.GeoDataFrame | None = None,
                          size_in: tuple[float, float] = (8.0, 6.0),
                          attributions: Sequence[str] = ATTRIBUTIONS) -> Figure:
    """Return a figure of the treated, buffer and control areas (Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from hotspot.layers.streets import ATTRIBUTION

    fig = Figure(figsize=size_in)
    FigureCanvasAgg(fig)
    top = 0.98
    if evaluation.synthetic:
        top = _banner(fig, top)
    fig.text(0.03, top, title or f"{evaluation.operation_name}: the areas compared",
             fontsize=11, weight="bold", va="top")
    ax = fig.add_axes((0.03, 0.13, 0.94, top - 0.18))
    used = draw_evaluation_map(ax, evaluation, context=context)
    lines = [*attributions, *(ATTRIBUTION[k] for k in used if k != "labels")]
    fig.text(0.03, 0.005, "\n".join(textwrap.fill(t, 170) for t in lines),
             fontsize=4.8, color="0.35", va="bottom")
    return fig


def evaluation_map_png(evaluation: Evaluation, *,
                       context: gpd.GeoDataFrame | None = None) -> bytes:
    """Return :func:`evaluation_map_figure` as PNG bytes (120 dpi)."""
    fig = evaluation_map_figure(evaluation, context=context)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    return buf.getvalue()


def _summary_page(evaluation: Evaluation, *, data_note: str,
                  attributions: Sequence[str]) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    fig = Figure(figsize=A4_IN)
    FigureCanvasAgg(fig)
    top = 0.985
    if evaluation.synthetic:
        top = _banner(fig, top)
    fig.text(0.06, top, f"{evaluation.operation_name}: did it work?", fontsize=15,
             weight="bold", va="top")
    y = top - 0.035
    periods = " · ".join(p.label() for p in evaluation.periods)
    for text in [t for t in (data_note, periods) if t]:
        fig.text(0.06, y, textwrap.fill(text, 110), fontsize=8, va="top",
                 color="0.25")
        y -= 0.02 * (1 + len(textwrap.wrap(text, 110)) - 1) + 0.005
    fig.text(0.06, y - 0.005, "Verdict", fontsize=12, weight="bold", va="top")
    y -= 0.03
    for line in evaluation.headline():
        wrapped = textwrap.wrap(line, 92)
        colour = "#b2182b" if line.startswith(SYNTHETIC_LABEL) else "black"
        fig.text(0.06, y, "\n".join(wrapped), fontsize=9.5, va="top", color=colour,
                 weight="bold", linespacing=1.3)
        y -= 0.0175 * len(wrapped) + 0.01
    fig.text(0.06, y - 0.005, f"Occurrences ({MEASURES['without_proactive']})",
             fontsize=10.5, weight="bold", va="top")
    y -= 0.03
    table = evaluation.table(measure="without_proactive")
    rows = [[label, *(f"{v:g}" if np.isfinite(v) else "–" for v in table.loc[key])]
            for key, (_, _, label) in AREA_STYLE.items() if key in table.index]
    height = 0.022 * (len(rows) + 1)
    ax = fig.add_axes((0.06, y - height, 0.6, height))
    ax.axis("off")
    tab = ax.table(cellText=rows, colLabels=["Area", "Before", "During", "After"],
                   bbox=Bbox.from_bounds(0, 0, 1, 1), cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(8)
    y -= height + 0.02
    fig.text(0.06, y, "The figures", fontsize=10.5, weight="bold", va="top")
    y -= 0.022
    for line in evaluation.reading + [f"Note: {w}" for w in evaluation.warnings]:
        wrapped = textwrap.wrap(line, 118)
        if y - 0.0135 * len(wrapped) < 0.07:
            fig.text(0.06, y, "… (the rest is in the results CSV)", fontsize=7,
                     va="top", style="italic")
            break
        fig.text(0.06, y, "\n".join(wrapped), fontsize=7.2, va="top",
                 linespacing=1.25)
        y -= 0.0128 * len(wrapped) + 0.006
    _footer(fig, attributions)
    return fig


def write_evaluation_pdf(evaluation: Evaluation, path: Path | str, *,
                         context: gpd.GeoDataFrame | None = None,
                         data_note: str = "",
                         attributions: Sequence[str] = ATTRIBUTIONS) -> Path:
    """Write the evaluation as a two-page A4 PDF: verdict and figures, then map.

    Parameters
    ----------
    evaluation : Evaluation
    path : path-like
        The PDF to write; its folder must exist.
    context : geopandas.GeoDataFrame, optional, keyword-only
        Ward outlines for the map (EPSG:27700).
    data_note : str, keyword-only
        Data source line under the title.
    attributions : sequence of str, keyword-only
        Attribution and licence lines printed at the foot of every page.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise ParameterError(f"path: folder {target.parent} does not exist")
    import matplotlib as mpl
    from matplotlib.backends.backend_pdf import PdfPages

    with mpl.rc_context({"pdf.fonttype": 42}), PdfPages(target) as pdf:
        pdf.savefig(_summary_page(evaluation, data_note=data_note,
                                  attributions=attributions))
        page = evaluation_map_figure(evaluation, context=context, size_in=A4_IN,
                                     attributions=[*attributions, LEVEL2])
        pdf.savefig(page)
    logger.info("wrote evaluation PDF %s", target)
    return target


def evaluation_pdf_bytes(evaluation: Evaluation, *,
                         context: gpd.GeoDataFrame | None = None,
                         data_note: str = "") -> bytes:
    """Return :func:`write_evaluation_pdf` as bytes (for a download button)."""
    return written_bytes(write_evaluation_pdf, evaluation, "evaluation.pdf",
                         context=context, data_note=data_note)

"""The first page of a patrol plan: a map of its cells, numbered, and their names.

Issue 13 asks that the plan PDF start with a map of the plan's cells and name
every cell. :func:`plan_map_figure` draws that page (A4 portrait, matplotlib,
``data/streets`` for the street names, no internet) as a
:class:`matplotlib.figure.Figure` the plan writer saves first into its
``PdfPages``; :func:`render_plan_map` writes it on its own as PDF or PNG.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as MplPolygon
from matplotlib.patches import Rectangle

from hotspot.crs import BNG
from hotspot.errors import ParameterError
from hotspot.export.bundle import ATTRIBUTIONS, SYNTHETIC_LABEL
from hotspot.grid import cell_polygons
from hotspot.layers.streets import ATTRIBUTION, StreetTables, load_street_tables
from hotspot.render.streetmap import draw_base, draw_labels, fit_bounds, rgb

logger = logging.getLogger(__name__)

A4_IN: tuple[float, float] = (8.27, 11.69)
HOT_RGB = (178, 24, 43)
#: Street labels on the plan map at most (the busiest in view).
MAX_STREETS = 60


def plan_map_figure(
    cells: pd.DataFrame,
    *,
    title: str,
    places: Sequence[str] | None = None,
    subtitle: str = "",
    synthetic: bool = False,
    attributions: Sequence[str] = ATTRIBUTIONS,
    tables: StreetTables | None = None,
    snap: pd.DataFrame | None = None,
) -> Figure:
    """Draw the plan's cells, numbered by rank, with street names and a named list.

    Parameters
    ----------
    cells : pandas.DataFrame
        The plan's cell table (:attr:`hotspot.operations.patrol.PatrolPlan.cells`):
        ``rank`` and ``h3`` at least; ``peak_days``/``peak_window`` are listed
        when present.
    title : str, keyword-only
    places : sequence of str, optional, keyword-only
        A name per cell, in the table's order
        (:func:`hotspot.context.places.name_cells` ``place``); the H3 id when
        omitted.
    subtitle : str, keyword-only
        Period and sources line.
    synthetic : bool, keyword-only
        Any row behind the plan is synthetic: a red SYNTHETIC banner.
    attributions : sequence of str, keyword-only
        Attribution lines; those of the street data drawn are added.
    tables, snap : keyword-only
        ``data/streets`` tables and snap points (loaded when omitted).

    Returns
    -------
    matplotlib.figure.Figure
        A4 portrait, with an Agg canvas (``PdfPages.savefig(fig)`` works).

    Raises
    ------
    ParameterError
        When ``cells`` lacks ``rank`` or ``h3``, is empty, or ``places`` does
        not have one name per cell.
    """
    missing = {"rank", "h3"} - set(cells.columns)
    if missing or cells.empty:
        raise ParameterError("cells must be a non-empty patrol plan cell table with "
                             f"rank and h3; missing {sorted(missing)}")
    names = list(places) if places is not None else cells["h3"].astype(str).tolist()
    if len(names) != len(cells):
        raise ParameterError(f"places must have one name per cell ({len(cells)}), "
                             f"got {len(names)}")
    if tables is None:
        tables = load_street_tables()
    if snap is None:
        from hotspot.context.places import load_place_index

        snap = load_place_index().snap
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=A4_IN)
    FigureCanvasAgg(fig)
    top = 0.985
    if synthetic:
        fig.patches.append(Rectangle((0, top - 0.04), 1, 0.04,
                                     transform=fig.transFigure, facecolor="#b2182b",
                                     edgecolor="none"))
        fig.text(0.5, top - 0.02, f"{SYNTHETIC_LABEL} DATA: generated, not real "
                 "police records", ha="center", va="center", color="white",
                 fontsize=12, weight="bold")
        top -= 0.05
    fig.text(0.06, top, title, fontsize=15, weight="bold", va="top")
    if subtitle:
        fig.text(0.06, top - 0.03, subtitle, fontsize=8.5, va="top", wrap=True)
    map_top = top - (0.06 if subtitle else 0.04)
    ax = fig.add_axes((0.06, map_top - 0.5, 0.88, 0.5))
    hexes = cell_polygons(cells["h3"].astype(str).tolist(), crs=BNG)
    area = shapely.union_all(hexes.to_numpy())
    bounds = fit_bounds(ax, area.bounds, margin_m=250.0)
    used = draw_base(ax, bounds, tables=tables)
    numbers = []
    for rank, poly in zip(cells["rank"], hexes, strict=True):
        ax.add_patch(MplPolygon(np.asarray(poly.exterior.coords), closed=True,
                                facecolor=(*rgb(HOT_RGB), 0.35),
                                edgecolor=rgb(HOT_RGB), lw=1.6, zorder=4))
        c = poly.centroid
        numbers.append(ax.text(c.x, c.y, str(rank), ha="center", va="center",
                               fontsize=10, weight="bold", color="white", zorder=9,
                               bbox={"boxstyle": "circle,pad=0.2",
                                     "fc": rgb(HOT_RGB), "ec": "white"}))
    used += draw_labels(ax, bounds, tables=tables, snap=snap,
                        max_streets=MAX_STREETS, keep=numbers)
    y = map_top - 0.52
    fig.text(0.06, y, "Cells by rank", fontsize=10.5, weight="bold", va="top")
    y -= 0.022
    size = 8.0 if len(cells) <= 15 else 6.5
    step = 0.0165 if len(cells) <= 15 else 0.0135
    for i, (rank, name) in enumerate(zip(cells["rank"], names, strict=True)):
        when = ""
        if {"peak_days", "peak_window"} <= set(cells.columns):
            days = str(cells["peak_days"].iloc[i] or "")
            when = f" — {days.replace(',', ', ')} {cells['peak_window'].iloc[i]}" \
                if days else ""
        fig.text(0.07, y, f"{rank}. {name}{when}", fontsize=size, va="top")
        y -= step
        if y < 0.1:
            fig.text(0.07, y, f"… and {len(cells) - i - 1} more (see the table)",
                     fontsize=size, va="top", style="italic")
            break
    lines = [*attributions, *(ATTRIBUTION[k] for k in used if k != "labels")]
    fig.text(0.06, 0.01, "\n".join(textwrap.fill(t, 165) for t in lines),
             fontsize=5.6, color="0.35",
             va="bottom", linespacing=1.2)
    return fig


def render_plan_map(cells: pd.DataFrame, *, out: Path | str, fmt: str = "pdf",
                    **kwargs: object) -> Path:
    """Write :func:`plan_map_figure` as a one-page PDF or a PNG (150 dpi).

    ``kwargs`` are those of :func:`plan_map_figure` (``title`` is required).
    """
    if fmt not in ("pdf", "png"):
        raise ParameterError(f"fmt must be 'pdf' or 'png', got {fmt!r}")
    target = Path(out)
    if not target.parent.is_dir():
        raise ParameterError(f"out: folder {target.parent} does not exist")
    import matplotlib as mpl

    with mpl.rc_context({"pdf.fonttype": 42}):
        fig = plan_map_figure(cells, **kwargs)  # type: ignore[arg-type]
        fig.savefig(target, format=fmt, dpi=150 if fmt == "png" else 100)
    logger.info("wrote plan map %s (%d cells)", target, len(cells))
    return target

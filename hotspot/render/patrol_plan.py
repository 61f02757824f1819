"""A patrol plan as files: the CSV of cells and windows, and the printable PDF.

The PDF starts with a map of the plan's cells, numbered and named
(:func:`hotspot.render.plan_map.plan_map_figure`), then the summary and the
table by place (H3 ids only in a last, small column), then one A4 patrol card
per cell when cards are given (:mod:`hotspot.render.plan_pack` makes them).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG
from hotspot.grid import cell_polygons
from hotspot.operations.patrol import PatrolPlan, coverage_table, logger
from hotspot.render import written_bytes

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hotspot.operations.pack import PlanPack
    from hotspot.render.patrol_card import PatrolCard


def write_plan_csv(plan: PatrolPlan, path: Path | str) -> Path:
    """Write the plan's cell table as CSV (UTF-8); return the path."""
    target = Path(path)
    plan.cells.to_csv(target, index=False, float_format="%.4f")
    logger.info("wrote patrol plan CSV %s (%d cells)", target, len(plan.cells))
    return target


def write_plan_pdf(
    plan: PatrolPlan,
    path: Path | str,
    *,
    outline: BaseGeometry | None = None,
    context: gpd.GeoDataFrame | None = None,
    data_note: str = "",
    places: Sequence[str] | None = None,
    synthetic: bool = False,
    cards: Sequence[PatrolCard] = (),
) -> Path:
    """Write a printable A4 patrol plan: map of named cells, table, patrol cards.

    Parameters
    ----------
    plan : PatrolPlan
    path : path-like
        The PDF to write.
    outline : shapely geometry, optional, keyword-only
        CSP or operation outline drawn on the map (EPSG:27700).
    context : geopandas.GeoDataFrame, optional, keyword-only
        Polygons drawn in grey for orientation (wards, EPSG:27700), labelled
        with their ``label`` column when there is one.
    data_note : str, keyword-only
        Data period and source line printed under the title.
    places : sequence of str, optional, keyword-only
        A name per planned cell, in the table's order
        (:func:`hotspot.context.places.name_cells`); the cells are listed by
        these names, their H3 ids only in the table's last column.
    synthetic : bool, keyword-only
        Any row behind the plan is synthetic: a SYNTHETIC banner on page 1 and
        on the table page.
    cards : sequence of PatrolCard, keyword-only
        Patrol cards appended, one A4 page each.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.transforms import Bbox

    from hotspot.render.plan_map import plan_map_figure

    target = Path(path)
    a4 = (8.27, 11.69)
    names = (list(places) if places is not None
             else plan.cells["h3"].astype(str).tolist())
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(target) as pdf:
        pdf.savefig(plan_map_figure(plan.cells, title=plan.title, places=names,
                                    subtitle=data_note, synthetic=synthetic))
        fig = plt.figure(figsize=a4)
        top = 0.95
        if synthetic:
            fig.text(0.06, 0.975, "SYNTHETIC DATA: generated, not real police "
                     "records", fontsize=11, weight="bold", color="#b2182b")
            top = 0.94
        fig.text(0.06, top, plan.title, fontsize=15, weight="bold")
        p = plan.parameters
        lines = [
            data_note,
            f"Budget {p['patrol_hours_per_week']:g} patrol hours a week; cells "
            f"ranked by {p['rank_by']} (H3 resolution {p['h3_resolution']}); "
            f"{p['minutes_per_visit']}-minute visits, about one an hour through each "
            f"cell's {p['window_hours']}-hour peak window on its {p['peak_days']} "
            "peak days.",
        ]
        y = top - 0.03
        for text in [t for t in lines if t]:
            fig.text(0.06, y, textwrap.fill(text, 110), fontsize=8.5, va="top")
            y -= 0.015 * (1 + len(text) // 110) + 0.01
        cov = coverage_table(plan)
        fig.text(0.06, y - 0.005, "Expected coverage", fontsize=11, weight="bold")
        y -= 0.03
        for _, r in cov.iterrows():
            fig.text(0.08, y, f"{r['measure']}: {r['value']}", fontsize=8.5)
            y -= 0.02
        show = plan.cells[["rank", "peak_days", "peak_window", "visits_per_week",
                           "patrol_minutes_per_week", "count", "h3"]].copy()
        show.insert(1, "place", [textwrap.shorten(n, 58, placeholder="…")
                                 for n in names])
        show["peak_days"] = show["peak_days"].astype(str).str.replace(",", ", ")
        show["visits_per_week"] = show["visits_per_week"].map(lambda v: f"{v:g}")
        show["patrol_minutes_per_week"] = show["patrol_minutes_per_week"].map(
            lambda v: f"{v:g}")
        show.columns = ["#", "Place", "Days", "Window", "Visits/wk", "Min/wk",
                        "Count", "Cell (H3, ref.)"]
        height = min(0.024 * (len(show) + 1), y - 0.25)
        ax = fig.add_axes((0.03, y - 0.02 - height, 0.94, height))
        ax.axis("off")
        tab = ax.table(cellText=show.astype(str).to_numpy(),
                       colLabels=list(show.columns),
                       colWidths=[0.03, 0.43, 0.08, 0.09, 0.07, 0.06, 0.06, 0.15],
                       bbox=Bbox.from_bounds(0, 0, 1, 1), cellLoc="center")
        tab.auto_set_font_size(False)
        tab.set_fontsize(6.5)
        for (row, col), cell in tab.get_celld().items():
            if col == 1 and row > 0:
                cell.set_text_props(ha="left")
                cell.PAD = 0.02
            if col == 7:
                cell.set_text_props(fontsize=5.5, color="0.4")
        y = y - 0.05 - height
        notes = [
            "Visits of 15 minutes: Koper (1995) found 10 minutes the minimum for "
            "lasting deterrence and 11-15 minutes the optimum; vary the order.",
            "Peak days and hours come from occurrences with a recorded time "
            "(minute precision); month-only police.uk rows have none.",
            "PAI = (share of occurrences) / (share of area) (Chainey, Tompson & "
            "Uhlig 2008); measured on a later period it shows how well the hot "
            "spots predicted.",
        ] + [f"Note: {w}" for w in plan.warnings]
        for text in notes:
            fig.text(0.06, max(y, 0.03), textwrap.fill(text, 120), fontsize=7.5,
                     va="top")
            y -= 0.013 * (1 + len(text) // 120) + 0.008
        fig.text(0.06, 0.01, "Level 2 (locations only): no personal data. "
                 "Produced by hotspot.", fontsize=6.5, color="0.4")
        pdf.savefig(fig)
        plt.close(fig)
        if outline is not None or context is not None:
            pdf.savefig(_overview(plan, outline=outline, context=context))
        if cards:
            from hotspot.context.places import load_place_index
            from hotspot.layers.streets import load_street_tables
            from hotspot.render.patrol_card import CARD_RC, patrol_card_figure

            tables, snap = load_street_tables(), load_place_index().snap
            with matplotlib.rc_context(CARD_RC):  # type: ignore[arg-type]
                for card in cards:
                    pdf.savefig(patrol_card_figure(card, phone=False, tables=tables,
                                                   snap=snap))
    logger.info("wrote patrol plan PDF %s", target)
    return target


def _overview(plan: PatrolPlan, *, outline: BaseGeometry | None,
              context: gpd.GeoDataFrame | None) -> Any:
    """Draw where the numbered cells lie in the CSP or operation area (wards)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.27, 11.69))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    if context is not None and len(context):
        context.boundary.plot(ax=ax, color="0.75", linewidth=0.5)
        if "label" in context.columns:
            for label, geom in zip(context["label"], context.geometry, strict=True):
                pt = geom.representative_point()
                ax.annotate(str(label), (pt.x, pt.y), ha="center", fontsize=6,
                            color="0.45")
    if outline is not None:
        gpd.GeoSeries([outline], crs=BNG).boundary.plot(ax=ax, color="0.4",
                                                        linewidth=0.8)
    hexes = cell_polygons(plan.cells["h3"].tolist(), crs=BNG)
    if len(hexes):
        hexes.plot(ax=ax, color="#d7301f", alpha=0.7, edgecolor="black",
                   linewidth=0.5)
        for rank, geom in zip(plan.cells["rank"], hexes, strict=True):
            pt = geom.centroid
            ax.annotate(str(rank), (pt.x, pt.y), ha="center", va="center",
                        fontsize=8, weight="bold", color="white")
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(f"{plan.title}: where the cells lie (numbers as on page 1)",
                 fontsize=11)
    return fig


def plan_csv_text(plan: PatrolPlan) -> str:
    """Return the plan's cell table as CSV text (for a download button)."""
    text: str = plan.cells.to_csv(index=False, float_format="%.4f")
    return text


def plan_pdf_bytes(
    plan: PatrolPlan,
    *,
    outline: BaseGeometry | None = None,
    context: gpd.GeoDataFrame | None = None,
    data_note: str = "",
    places: Sequence[str] | None = None,
    synthetic: bool = False,
    cards: Sequence[PatrolCard] = (),
) -> bytes:
    """Return the printable PDF of :func:`write_plan_pdf` as bytes."""
    return written_bytes(write_plan_pdf, plan, "plan.pdf", outline=outline,
                         context=context, data_note=data_note, places=places,
                         synthetic=synthetic, cards=cards)


def write_pack_pdf(
    pack: PlanPack,
    path: Path | str,
    *,
    outline: BaseGeometry | None = None,
    context: gpd.GeoDataFrame | None = None,
    cards: bool = True,
) -> Path:
    """Write a packed plan (:func:`hotspot.operations.pack.pack_plan`) as its PDF.

    Page 1 the map of the named cells, page 2 the table by place, then the
    overview (when ``outline`` or ``context``) and, with ``cards``, one A4
    patrol card per cell. The period line is the pack's.
    """
    return write_plan_pdf(pack.plan, path, outline=outline, context=context,
                          data_note=f"Data: {pack.period}.", places=pack.places,
                          synthetic=pack.synthetic,
                          cards=pack.cards if cards else ())


def pack_pdf_bytes(
    pack: PlanPack,
    *,
    outline: BaseGeometry | None = None,
    context: gpd.GeoDataFrame | None = None,
    cards: bool = True,
) -> bytes:
    """Return the PDF of :func:`write_pack_pdf` as bytes (for a download)."""
    return written_bytes(write_pack_pdf, pack, "plan.pdf", outline=outline,
                         context=context, cards=cards)


def write_cards(pack: PlanPack, folder: Path | str) -> list[Path]:
    """Write each cell's patrol card as an A4 PDF and a phone PNG into ``folder``.

    Files are ``card_<rank>.pdf`` and ``card_<rank>.png`` (1080 × 1920); the
    folder is made when missing. Returns the files written, in rank order.
    """
    from hotspot.context.places import load_place_index
    from hotspot.layers.streets import load_street_tables
    from hotspot.render.patrol_card import render_patrol_card

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    tables, snap = load_street_tables(), load_place_index().snap
    out = []
    for card in pack.cards:
        stem = target / f"card_{card.rank or 0:02d}"
        for fmt in ("pdf", "png"):
            out.append(render_patrol_card(card, out=stem.with_suffix(f".{fmt}"),
                                          fmt=fmt, tables=tables,
                                          snap=snap))
    logger.info("wrote %d patrol cards into %s", len(pack.cards), target)
    return out


def cards_zip_bytes(pack: PlanPack) -> bytes:
    """Return every card of :func:`write_cards` in one ZIP (for a download)."""
    import io
    import tempfile
    import zipfile

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(
            buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in write_cards(pack, folder):
            archive.write(path, arcname=path.name)
    return buffer.getvalue()

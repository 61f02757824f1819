"""A patrol plan as files: the CSV of cells and windows, and the printable PDF."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG
from hotspot.grid import cell_polygons
from hotspot.operations.patrol import PatrolPlan, coverage_table, logger


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
) -> Path:
    """Write a printable A4 patrol plan: summary and table, then a map.

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
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.transforms import Bbox

    target = Path(path)
    a4 = (8.27, 11.69)
    with PdfPages(target) as pdf:
        fig = plt.figure(figsize=a4)
        fig.text(0.06, 0.95, plan.title, fontsize=15, weight="bold")
        p = plan.parameters
        lines = [
            data_note,
            f"Budget {p['patrol_hours_per_week']:g} patrol hours a week; cells "
            f"ranked by {p['rank_by']} (H3 resolution {p['h3_resolution']}); "
            f"{p['minutes_per_visit']}-minute visits, about one an hour through each "
            f"cell's {p['window_hours']}-hour peak window on its {p['peak_days']} "
            "peak days.",
        ]
        y = 0.92
        for text in [t for t in lines if t]:
            fig.text(0.06, y, text, fontsize=8.5, wrap=True)
            y -= 0.03
        cov = coverage_table(plan)
        fig.text(0.06, y - 0.005, "Expected coverage", fontsize=11, weight="bold")
        y -= 0.03
        for _, r in cov.iterrows():
            fig.text(0.08, y, f"{r['measure']}: {r['value']}", fontsize=8.5)
            y -= 0.02
        show = plan.cells[["rank", "h3", "easting", "northing", "count", "harm",
                           "peak_days", "peak_window", "visits_per_week",
                           "patrol_minutes_per_week"]].copy()
        show["harm"] = show["harm"].map(lambda v: f"{v:.1f}")
        show["visits_per_week"] = show["visits_per_week"].map(lambda v: f"{v:g}")
        show["patrol_minutes_per_week"] = show["patrol_minutes_per_week"].map(
            lambda v: f"{v:g}")
        show.columns = ["#", "H3 cell", "Easting", "Northing", "Count", "Harm",
                        "Peak days", "Window", "Visits/wk", "Min/wk"]
        height = min(0.022 * (len(show) + 1), y - 0.25)
        ax = fig.add_axes((0.04, y - 0.02 - height, 0.92, height))
        ax.axis("off")
        tab = ax.table(cellText=show.astype(str).to_numpy(),
                       colLabels=list(show.columns),
                       bbox=Bbox.from_bounds(0, 0, 1, 1),
                       cellLoc="center")
        tab.auto_set_font_size(False)
        tab.set_fontsize(7)
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
            fig.text(0.06, max(y, 0.02), text, fontsize=7.5, wrap=True)
            y -= 0.035
        fig.text(0.06, 0.01, "Level 2 (locations only): no personal data. "
                 "Produced by hotspot.", fontsize=6.5, color="0.4")
        pdf.savefig(fig)
        plt.close(fig)

        fig, ax = plt.subplots(figsize=a4)
        if context is not None and len(context):
            context.boundary.plot(ax=ax, color="0.75", linewidth=0.5)
            if "label" in context.columns:
                for label, geom in zip(context["label"], context.geometry,
                                       strict=True):
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
            for (_, c), geom in zip(plan.cells.iterrows(), hexes, strict=True):
                pt = geom.centroid
                ax.annotate(str(c["rank"]), (pt.x, pt.y), ha="center", va="center",
                            fontsize=8, weight="bold", color="white")
        if outline is None and len(hexes):
            x0, y0, x1, y1 = shapely.union_all(hexes.to_numpy()).bounds
            pad = 1500
            ax.set_xlim(x0 - pad, x1 + pad)
            ax.set_ylim(y0 - pad, y1 + pad)
        ax.set_aspect("equal")
        ax.set_title(f"{plan.title}: cells by rank", fontsize=11)
        ax.set_xlabel("Easting (m, British National Grid)", fontsize=7)
        ax.set_ylabel("Northing (m)", fontsize=7)
        ax.tick_params(labelsize=6)
        pdf.savefig(fig)
        plt.close(fig)
    logger.info("wrote patrol plan PDF %s", target)
    return target


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
) -> bytes:
    """Return the printable PDF of :func:`write_plan_pdf` as bytes."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = write_plan_pdf(plan, Path(folder) / "plan.pdf", outline=outline,
                              context=context, data_note=data_note)
        return path.read_bytes()

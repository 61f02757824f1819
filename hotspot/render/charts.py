"""Charts of tables already computed (matplotlib only; nothing is computed here).

The profile's weekday × hour heat map, monthly trend, IMD deciles and the
overlay map; :func:`write_profile` writes a profile's tables and charts.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from hotspot.context import deprivation as overlay
from hotspot.context import temporal

logger = logging.getLogger(__name__)


def write_profile(
    tables: dict[str, pd.DataFrame], out_dir: Path | str, *, title: str
) -> list[Path]:
    """Write each table as CSV and the charts as PNG into ``out_dir``."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=name in ("weekday_hour", "weekday", "holiday_vs_term"))
        written.append(path)
    charts: dict[str, Figure] = {
        "monthly": plot_monthly(tables["monthly"], title=title)
    }
    if "weekday_hour" in tables:
        charts["weekday_hour"] = plot_weekday_hour(tables["weekday_hour"], title=title)
    if not tables["imd_deciles"].empty:
        charts["imd_deciles"] = plot_deciles(tables["imd_deciles"], title=title)
    for name, figure in charts.items():
        path = folder / f"{name}.png"
        figure.savefig(path, dpi=120)
        written.append(path)
    logger.info("profile written to %s: %d files", folder, len(written))
    return written


def plot_weekday_hour(table: pd.DataFrame, *, title: str) -> Figure:
    """Heat map of a weekday × hour table (counts printed)."""
    counts = table.loc[list(temporal.WEEKDAYS), list(temporal.HOURS)].to_numpy()
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(counts, cmap="OrRd", aspect="auto")
    ax.set_xticks(range(24), [str(h) for h in range(24)])
    ax.set_yticks(range(7), list(temporal.WEEKDAYS))
    for (row, col), value in np.ndenumerate(counts):
        ax.text(
            col,
            row,
            str(value),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if value > counts.max() * 0.6 else "black",
        )
    ax.set_xlabel("Hour of day (start of occurrence)")
    total = int(table.loc["Total", "Total"])
    ax.set_title(f"{title}: weekday × hour, {total:,} occurrences with a time")
    figure.colorbar(image, ax=ax, label="Occurrences")
    return figure


def plot_monthly(trend: pd.DataFrame, *, title: str) -> Figure:
    """Bar chart of a monthly trend (stacked by source when split), holidays shaded.

    Months at least a quarter school holiday get a grey band behind the bars.
    With a ``status`` column (:func:`hotspot.coverage.month_status`), a month
    with no data is drawn as a hatched "no data" band, never as a zero bar, and
    a month covered by one source only has its bar hatched.
    """
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(trend))
    for pos in x[trend["school_holiday"].to_numpy(dtype=bool)]:
        ax.axvspan(pos - 0.5, pos + 0.5, color="#dddddd", zorder=0)
    parts = [c for c in trend.columns if c.startswith("occurrences_")]
    bottom = np.zeros(len(trend))
    colours = ["#7570b3", "#d95f02", "#1b9e77", "#e7298a", "#66a61e"]
    if parts:
        for colour, column in zip(colours * 3, parts, strict=False):
            per_day = trend[column].to_numpy(dtype=float) / trend["days"].to_numpy()
            ax.bar(
                x,
                per_day,
                bottom=bottom,
                color=colour,
                zorder=2,
                label=column.removeprefix("occurrences_"),
            )
            bottom += per_day
        ax.legend(fontsize=8, title="source", title_fontsize=8)
    else:
        ax.bar(x, trend["per_day"], color=colours[0], zorder=2)
    if "status" in trend.columns:
        status = trend["status"].astype(str).to_numpy()
        top = ax.get_ylim()[1]
        for pos in x[(status == "missing") | (status == "flagged")]:
            ax.bar(pos, top, color="white", edgecolor="#999999", hatch="xx",
                   linewidth=0, zorder=1)
            ax.text(pos, top * 0.02, "no data", rotation=90, ha="center",
                    va="bottom", fontsize=7, color="#555555", zorder=3)
        for pos in x[status == "one source"]:
            ax.bar(pos, bottom[pos] if parts else trend["per_day"].iloc[pos],
                   fill=False, edgecolor="white", hatch="//", linewidth=0,
                   zorder=3)
        ax.set_ylim(0, top)
    ax.set_xticks(x, trend["month"], rotation=45, ha="right")
    ax.set_ylabel("Occurrences per day")
    ax.set_title(
        f"{title}: by month (grey: at least a quarter school holiday; "
        "holiday dates approximate; hatched: one source only; xx: no data)",
        fontsize=10,
    )
    return figure


def plot_deciles(deciles: pd.DataFrame, *, title: str) -> Figure:
    """Rate per 1,000 residents by IMD decile (1 = most deprived)."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    ax = figure.subplots()
    ax.bar(
        deciles["imd_decile"].astype(int),
        deciles["rate_per_1000"].fillna(0),
        color="#1b9e77",
    )
    ax.set_xticks(list(overlay.DECILES))
    ax.set_xlabel("IMD decile (1 = most deprived 10% of LSOAs in England)")
    ax.set_ylabel("Occurrences per 1,000 residents")
    ax.set_title(f"{title}: rate by deprivation decile", fontsize=10)
    return figure


def plot_overlay_map(
    cells: gpd.GeoDataFrame,
    *,
    title: str,
    outlines: gpd.GeoDataFrame | None = None,
    fire_column: str | None = "hot_fire",
) -> Figure:
    """Draw cells by IMD decile with violence and fire hot spots on top.

    ``cells`` is the ``cells`` layer of :func:`build_overlay` (or any subset).
    """
    import textwrap

    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    figure = Figure(figsize=(9, 8.5), layout="constrained")
    ax = figure.subplots()
    palette = ListedColormap(
        [
            "#67001f",
            "#b2182b",
            "#d6604d",
            "#f4a582",
            "#fddbc7",
            "#d1e5f0",
            "#92c5de",
            "#4393c3",
            "#2166ac",
            "#053061",
        ]
    )
    norm = BoundaryNorm(np.arange(0.5, 11.5), palette.N)
    deciles = cells["imd_decile"].astype(float)
    cells.assign(_d=deciles).plot(
        column="_d", cmap=palette, norm=norm, ax=ax, linewidth=0, alpha=0.85
    )
    bar = figure.colorbar(
        ScalarMappable(norm=norm, cmap=palette),
        ax=ax,
        shrink=0.6,
        ticks=list(overlay.DECILES),
    )
    bar.set_label(
        "IMD decile of the cell (largest share of its area; 1 = most deprived)"
    )
    handles: list[Patch] = []
    hot = cells[cells["hot_violence"].astype(bool)]
    if len(hot):
        hot.boundary.plot(ax=ax, color="black", linewidth=1.2)
        handles.append(
            Patch(
                facecolor="none",
                edgecolor="black",
                label="Violence hot spot (Gi* ≥ 95%)",
            )
        )
    if fire_column is not None and fire_column in cells.columns:
        fire_hot = cells[cells[fire_column].astype(bool)]
        if len(fire_hot):
            fire_hot.plot(
                ax=ax, facecolor="none", edgecolor="#00a000", hatch="///", linewidth=0.6
            )
            handles.append(
                Patch(
                    facecolor="none",
                    edgecolor="#00a000",
                    hatch="///",
                    label="Deliberate-fire hot spot (SYNTHETIC fires)",
                )
            )
    if outlines is not None:
        outlines.boundary.plot(ax=ax, color="#333333", linewidth=0.5)
        handles.append(Patch(facecolor="none", edgecolor="#333333", label="LSOA"))
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set_axis_off()
    ax.set_title("\n".join(textwrap.wrap(title, 90)), fontsize=10)
    return figure


def plot_league_rates(table: pd.DataFrame, *, title: str) -> Figure:
    """Rate per 1,000 residents of each CSP with its 95% interval; HIPS as a line.

    ``table`` is a league table (:func:`hotspot.context.review.league_table`):
    ``csp_name``, ``rate_per_1000``, ``rate_low``, ``rate_high``, ``sparse``,
    with the HIPS row last. Sparse CSPs are drawn hollow.
    """
    hips = table[table["csp_code"] == "HIPS"]
    rows = table[table["csp_code"] != "HIPS"].sort_values("rate_per_1000")
    figure = Figure(figsize=(9, 0.42 * len(rows) + 1.6), layout="constrained")
    ax = figure.subplots()
    y = np.arange(len(rows))
    rate = rows["rate_per_1000"].to_numpy(dtype=float)
    err = np.vstack([rate - rows["rate_low"].to_numpy(dtype=float),
                     rows["rate_high"].to_numpy(dtype=float) - rate])
    sparse = rows["sparse"].to_numpy(dtype=bool)
    ax.errorbar(rate, y, xerr=err, fmt="none", ecolor="#555555", capsize=3, lw=1)
    ax.scatter(rate[~sparse], y[~sparse], color="#b2182b", zorder=3,
               label="rate (95% interval)")
    if sparse.any():
        ax.scatter(rate[sparse], y[sparse], facecolor="white", edgecolor="#b2182b",
                   zorder=3, label="sparse: too few for the rate to mean much")
    if not hips.empty:
        value = float(hips["rate_per_1000"].iloc[0])
        ax.axvline(value, color="#2166ac", ls="--", lw=1,
                   label=f"HIPS {value:.2f}")
    ax.set_yticks(y, rows["csp_name"].tolist())
    ax.set_xlabel("Occurrences per 1,000 residents over the period")
    ax.set_xlim(left=0)
    ax.grid(axis="x", color="#dddddd")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title, loc="left", fontsize=10)
    return figure

"""Render Gi* hot spots from a `hotspot detect` GeoPackage for a quick look.

Usage: ``.venv/bin/python scripts/render_hotspot_preview.py CELLS.gpkg OUT.png
[--csp NAME ...]``. Draws the cells' bins (−3 … +3) over the CSP outlines and
GeoNames place labels, one panel per CSP, with a legend. For checking by eye that
hot spots sit where a local would expect them; the app draws the real map.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from hotspot.boundaries import load_csps  # noqa: E402
from hotspot.settings import DATA_DIR  # noqa: E402

logger = logging.getLogger("render_hotspot_preview")
#: Colour-blind-safe diverging palette (ColorBrewer RdYlBu, 7 classes).
BIN_COLOURS = {
    -3: "#4575b4", -2: "#91bfdb", -1: "#e0f3f8", 0: "#f7f7f7",
    1: "#fee090", 2: "#fc8d59", 3: "#d73027",
}
BIN_LABELS = {
    3: "hot spot, 99%", 2: "hot spot, 95%", 1: "hot spot, 90%",
    0: "not significant", -1: "cold spot, 90%", -2: "cold spot, 95%",
    -3: "cold spot, 99%",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cells", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--csp", action="append", default=None)
    parser.add_argument("--title", default="Gi* hot spots")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    cells = gpd.read_file(args.cells)
    csps = load_csps()
    names = args.csp or ["Southampton", "Portsmouth"]
    places = pd.read_parquet(DATA_DIR / "gazetteer" / "places.parquet")
    fig, axes = plt.subplots(1, len(names), figsize=(8 * len(names), 8))
    axes = [axes] if len(names) == 1 else list(axes)
    for ax, name in zip(axes, names, strict=True):
        outline = csps[csps["csp_name"] == name]
        code = outline["csp_code"].iloc[0]
        part = cells[cells["csp_code"] == code]
        ax.set_facecolor("#dbe9f4")
        outline.plot(ax=ax, color="#fbfbf8", edgecolor="#555555", linewidth=1.2)
        for value, colour in BIN_COLOURS.items():
            sel = part[part["bin"] == value]
            if len(sel) and value != 0:
                sel.plot(ax=ax, color=colour, edgecolor="none")
        xmin, ymin, xmax, ymax = outline.total_bounds
        px, py = places["x"].to_numpy(), places["y"].to_numpy()
        for label, x, y in zip(places["name"], px, py, strict=True):
            if xmin < x < xmax and ymin < y < ymax:
                ax.annotate(label, (x, y), fontsize=7, color="#333333", ha="center")
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_title(f"{name}: {int((part['bin'] > 0).sum())} hot cells of {len(part)}")
        ax.set_axis_off()
    handles = [Patch(color=BIN_COLOURS[b], label=BIN_LABELS[b]) for b in (3, 2, 1)]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False)
    fig.suptitle(args.title)
    fig.savefig(args.out, dpi=110, bbox_inches="tight")
    logger.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

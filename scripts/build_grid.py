"""Build the shipped H3 study cells: ``data/grid/study_cells_r<res>.parquet``.

Each CSP polygon of the embedded boundaries (grouping ``district``) is filled on
its own with :func:`hotspot.grid.study_cells` (``shipped=False``: a fresh fill);
the rows keep the SHA-256 of the polygon's WKB, so :func:`hotspot.grid.study_cells`
uses them only for the same polygons (other groupings' polygons are filled afresh).
Deterministic: a rebuild reproduces the file.

Run: ``.venv/bin/python scripts/build_grid.py [--resolution 9 ...]``.
"""

from __future__ import annotations

import argparse
import logging

import geopandas as gpd
import pandas as pd

from hotspot.boundaries import load_csps
from hotspot.crs import BNG
from hotspot.grid import (
    SHIPPED_CELLS_DIR,
    polygon_hash,
    shipped_cells_path,
    study_cells,
)

logger = logging.getLogger("build_grid")
#: Resolutions shipped: 9 is the map's default.
DEFAULT_RESOLUTIONS = (9,)


def build(resolution: int) -> gpd.GeoDataFrame:
    """Fill every CSP polygon on its own at ``resolution``."""
    csps = load_csps(grouping="district")
    parts = []
    for i in range(len(csps)):
        one = csps.iloc[[i]]
        cells = study_cells(one, resolution=resolution, shipped=False)
        cells = cells[["h3", "csp_code", "geometry"]].copy()
        cells.insert(2, "csp_hash", polygon_hash(one.geometry.iloc[0]))
        parts.append(cells)
    table = pd.concat(parts, ignore_index=True)
    table = table.sort_values(["csp_code", "h3"], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(table, geometry="geometry", crs=BNG)


def main(argv: list[str] | None = None) -> int:
    """Write the shipped study cells for each resolution asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, nargs="+",
                        default=list(DEFAULT_RESOLUTIONS))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    SHIPPED_CELLS_DIR.mkdir(parents=True, exist_ok=True)
    for resolution in args.resolution:
        table = build(resolution)
        path = shipped_cells_path(resolution)
        table.to_parquet(path, compression="zstd", index=False,
                         write_covering_bbox=False)
        logger.info("wrote %s: %d cells, %d CSPs", path, len(table),
                    table["csp_code"].nunique())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: FFT kernel density across all of HIPS at 25 m, against the exact sum.

Run on demand (not a test)::

    .venv/bin/python benchmarks/bench_kde.py [--sizes 5000 1000000] [--cell 25]

Points are real police.uk locations (January to September 2025 without the corrupt
August file) sampled with replacement and jittered (normal, 50 m), so their
clustering is that of real crime. The study area is the coastline-clipped HIPS
outline from ``hotspot.boundaries``; if it is not built, the 14 ultra-generalised
districts are dissolved here instead (printed).

For each size the full ``kde_surface`` call (validation, points in the area,
Silverman bandwidth, mask, binning, FFT, clipping) is timed (best and median of
``--repeats``), with a breakdown of its stages. The reference is the exact kernel
sum (``kernel_sum_per_m2``, cKDTree pairs within h) at a sample of in-area cells:
random cells plus the 200 highest cells of the FFT surface. Its time is measured
on that sample and extrapolated linearly to every in-area cell (labelled as such).
Accuracy is the maximum absolute difference over the sampled cells divided by the
exact peak among them.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot.crs import lonlat_to_bng
from hotspot.detect import kde
from hotspot.settings import SHARED_DATA_DIR

MONTHS = ("01", "02", "03", "04", "05", "06", "07", "09")  # August is corrupt


def hips_area() -> tuple[shapely.Geometry, str]:
    try:
        from hotspot.boundaries import load_hips_outline

        outline = load_hips_outline()
        return outline.geometry.union_all(), "hotspot.boundaries.load_hips_outline()"
    except Exception as exc:  # noqa: BLE001 - fall back, and say so
        path = SHARED_DATA_DIR / "boundaries" / "lad24_hips_ultra_generalised.geojson"
        lads = gpd.read_file(path).to_crs(27700)
        area = shapely.make_valid(lads.geometry.union_all())
        return area, f"dissolved {path.name} ({exc!r})"


def police_uk_xy() -> np.ndarray:
    folder = Path(SHARED_DATA_DIR) / "police_uk"
    frames = [
        pd.read_csv(
            folder / f"2025-{m}-hampshire-street.csv", usecols=["Longitude", "Latitude"]
        )
        for m in MONTHS
    ]
    df = pd.concat(frames).dropna()
    x, y = lonlat_to_bng(df["Longitude"].to_numpy(), df["Latitude"].to_numpy())
    return np.column_stack([x, y])


def sample_points(base: np.ndarray, n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = base[rng.integers(0, len(base), size=n)] + rng.normal(0, 50, size=(n, 2))
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=27700)


def stage_times(
    points: gpd.GeoDataFrame, area: shapely.Geometry, cell: float, h: float
) -> dict[str, float]:
    """Time the stages of the FFT path separately (private helpers, on purpose)."""
    t = {}
    t0 = time.perf_counter()
    xy, w, _, _ = kde._points_inside(points, area=area, weights=None)
    t["points in area"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    kde.silverman_bandwidth_m(xy)  # unweighted, as kde_surface calls it
    t["Silverman"] = time.perf_counter() - t0
    grid = kde._grid_for(area, cell_size_m=cell, bandwidth_m=h)
    t0 = time.perf_counter()
    kde._area_mask(area, grid)
    t["mask"] = time.perf_counter() - t0
    s = kde._supersampling(grid, h)
    t0 = time.perf_counter()
    kde._fft_density_m2(xy, w, grid=grid, bandwidth_m=h, supersample=s)
    t["bin + FFT"] = time.perf_counter() - t0
    return t


def run(
    n: int,
    *,
    base,
    area,
    cell: float,
    repeats: int,
    n_check: int,
    seed: int,
    edge_correction: bool,
):
    points = sample_points(base, n, seed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = kde.kde_surface(
            points, area=area, cell_size_m=cell, edge_correction=edge_correction
        )
        times.append(time.perf_counter() - t0)
    stages = stage_times(points, area, cell, res.bandwidth_m)

    if edge_correction:
        return {
            "points": f"{n:,}",
            "in area": f"{res.n_points:,}",
            "h (m, auto)": f"{res.bandwidth_m:,.0f}",
            "FFT s (edge-corrected)": (
                f"{min(times):.2f} (median {statistics.median(times):.2f})"
            ),
            "mass in area / n": f"{res.total_mass / res.n_points:.4f}",
        }
    # reference: exact sum at sampled cells (random + the 200 highest FFT cells)
    rows, cols = np.nonzero(~np.isnan(res.values))
    rng = np.random.default_rng(seed + 1)
    pick = rng.choice(len(rows), size=min(n_check, len(rows)), replace=False)
    top = np.argsort(np.nan_to_num(res.values[rows, cols], nan=-1.0))[-200:]
    pick = np.unique(np.concatenate([pick, top]))
    xs, ys = res.cell_centres()
    at = np.column_stack([xs[cols[pick]], ys[rows[pick]]])
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    t0 = time.perf_counter()
    exact = (
        kde.kernel_sum_per_m2(
            at, xy[inside], bandwidth_m=res.bandwidth_m, cell_size_hint_m=cell
        )
        * kde.M2_PER_KM2
    )
    t_ref = time.perf_counter() - t0
    fast = res.values[rows[pick], cols[pick]].astype(np.float64)
    err = float(np.max(np.abs(fast - exact)))
    peak = float(exact.max())
    return {
        "points": f"{n:,}",
        "in area": f"{res.n_points:,}",
        "h (m, auto)": f"{res.bandwidth_m:,.0f}",
        "grid": f"{res.shape[0]:,} x {res.shape[1]:,}",
        "FFT s": f"{min(times):.2f} (median {statistics.median(times):.2f})",
        "stages s": ", ".join(f"{k} {v:.2f}" for k, v in stages.items()),
        "exact, sampled cells": f"{t_ref:.2f} s for {len(pick):,} cells",
        "exact, all in-area cells (extrapolated)": (
            f"~{t_ref * len(rows) / len(pick):,.0f} s for {len(rows):,} cells"
        ),
        "max abs diff / peak": f"{err / peak:.3%}",
        "mass in area / n": f"{res.total_mass / res.n_points:.4f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 1_000_000])
    parser.add_argument("--cell", type=float, default=25.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check-cells", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--edge-correction",
        action="store_true",
        help="time kde_surface(edge_correction=True); accuracy is then not checked",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    area, source = hips_area()
    base = police_uk_xy()
    print(f"machine: {platform.processor() or platform.machine()}, ", end="")
    import os

    print(f"{os.cpu_count()} CPUs; numpy {np.__version__}")
    print(f"area: {source}, {area.area / 1e6:,.0f} km²; ", end="")
    print(f"{len(base):,} police.uk locations to sample from; cell {args.cell:g} m")
    print(f"edge correction: {args.edge_correction}\n")
    rows = [
        run(
            n,
            base=base,
            area=area,
            cell=args.cell,
            repeats=args.repeats,
            n_check=args.check_cells,
            seed=args.seed,
            edge_correction=args.edge_correction,
        )
        for n in args.sizes
    ]
    table = pd.DataFrame(rows).set_index("points").T
    header = "| | " + " | ".join(table.columns) + " |"
    print(header)
    print("|" + "---|" * (len(table.columns) + 1))
    for name, values in table.iterrows():
        print(f"| {name} | " + " | ".join(values) + " |")


if __name__ == "__main__":
    main()

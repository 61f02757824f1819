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
    xy, w, _, _, _ = kde._points_inside(points, area=area, weights=None)
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
    parser.add_argument(
        "--qgis",
        action="store_true",
        help="time `hotspot detect --method kde` against QGIS's heatmap (500 m, "
        "whole commands) instead",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.qgis:
        main_qgis(args.sizes, args.seed)
        return

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




# --- peer: QGIS's heatmap, whole command against whole command -----------------
# ``--qgis``: for each size, the same in-area points are written as a store (for
# ``hotspot detect --method kde``) and as a GeoPackage (for ``qgis_process run
# qgis:heatmapkerneldensityestimation``, KERNEL=0 quartic, OUTPUT_VALUE=0 raw),
# both at 25 m with a 500 m radius over all of HIPS. Each command runs under
# /usr/bin/time -v (wall time, peak memory). QGIS's raw sum is scaled by
# 3/(pi r^2) per m^2, then to per km^2, and sampled (bilinear) at our cell
# centres; the figure is the largest difference over our in-area cells, as a
# share of our peak.


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``cmd`` under /usr/bin/time -v; return (wall s, peak MB)."""
    import os
    import re
    import subprocess

    t0 = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-3000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return wall, (int(peak.group(1)) / 1024 if peak else float("nan"))


def _points_store(xy: np.ndarray, store: Path) -> None:
    from hotspot.crs import BNG
    from hotspot.ingest.schema import conform
    from hotspot.ingest.store import write_store

    n = len(xy)
    frame = pd.DataFrame({
        "occurrence_id": [f"k{i}" for i in range(n)], "source": "police_uk",
        "source_file": "bench_kde", "source_row": np.arange(1, n + 1),
        "is_synthetic": True, "occurred_from": pd.Timestamp("2025-01-01"),
        "occurred_to": pd.Timestamp("2025-01-31 23:59:59"),
        "date_precision": "month", "sv_category": "robbery", "sv_match": "exact",
        "is_serious_violence": True, "harm_weight": 1.0,
        "geocode_method": "bench", "geocode_uncertainty_m": 0.0,
        "geocode_precision": "exact", "csp_code": "E06000045",
    })
    gdf = gpd.GeoDataFrame(conform(frame),
                           geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=BNG)
    # partitioned, as the streamed ingest writes a large store: the command then
    # asks it through DuckDB and never loads the rows
    write_store(store, occurrences=gdf, rejects=pd.DataFrame(),
                summary={"rows": {"read": n, "accepted": n, "rejected": 0}},
                partitioned=True)


def qgis_process() -> str:
    """Return the qgis_process to run: Debian's wrapper script passes QGIS_OPTS
    (``--noversioncheck``, from /etc/default/qgis), which qgis_process 3.22 does
    not accept, so run the binary behind it when there is one."""
    import shutil

    binary = Path("/usr/bin/qgis_process.bin")
    return str(binary) if binary.exists() else (shutil.which("qgis_process")
                                                or "qgis_process")


def peer_qgis(n: int, *, base: np.ndarray, area: shapely.Geometry, seed: int,
              work: Path, radius: float = 500.0, cell: float = 25.0) -> dict:
    import sys

    import rasterio
    from scipy.interpolate import RegularGridInterpolator

    points = sample_points(base, n, seed)
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    xy = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
    store = work / f"store_{n}"
    _points_store(xy, store)
    ours_tif = work / f"ours_{n}.tif"
    hotspot = str(Path(sys.executable).with_name("hotspot"))
    command = [hotspot, "detect", str(store), "--method", "kde", "--scope", "hips",
               "--cell-size", str(cell), "--bandwidth", str(radius), "--no-progress",
               "--out", str(ours_tif)]
    # as this environment runs it: PYTHONDONTWRITEBYTECODE may be set and the venv
    # may hold no .pyc, so every module is compiled from source at each start
    t_cold, m_cold = _timed(command)
    # as after an ordinary install: a bytecode cache (kept out of the venv), warm
    cache = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(work / "pyc")}
    _timed(command, env=cache)
    t_ours, m_ours = _timed(command, env=cache)
    gpkg = work / f"points_{n}.gpkg"
    gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
                     crs=27700).to_file(gpkg, driver="GPKG")
    qgis_tif = work / f"qgis_{n}.tif"
    t_qgis, m_qgis = _timed(
        [qgis_process(), "run", "qgis:heatmapkerneldensityestimation", "--",
         f"INPUT={gpkg}", f"RADIUS={radius}", f"PIXEL_SIZE={cell}", "KERNEL=0",
         "OUTPUT_VALUE=0", f"OUTPUT={qgis_tif}"],
        env={"QT_QPA_PLATFORM": "offscreen"})
    with rasterio.open(ours_tif) as src:
        ours = src.read(1).astype(float)
        if src.nodata is not None:
            ours[ours == src.nodata] = np.nan
        t = src.transform
        xs = t.c + t.a * (np.arange(src.width) + 0.5)
        ys = t.f + t.e * (np.arange(src.height) + 0.5)
    with rasterio.open(qgis_tif) as src:
        raw = src.read(1).astype(float)
        if src.nodata is not None:  # no kernel reaches the pixel: density 0
            raw[raw == src.nodata] = 0.0
        q = src.transform
        qx = q.c + q.a * (np.arange(src.width) + 0.5)
        qy = q.f + q.e * (np.arange(src.height) + 0.5)
    scaled = raw * 3.0 / (np.pi * radius**2) * 1e6  # per km^2
    interp = RegularGridInterpolator((qy[::-1], qx), scaled[::-1], bounds_error=False,
                                     fill_value=0.0)
    rows, cols = np.nonzero(np.isfinite(ours))
    theirs = interp(np.column_stack([ys[rows], xs[cols]]))
    mine = ours[rows, cols]
    peak = float(np.nanmax(mine))
    return {
        "points (in HIPS)": f"{len(xy):,}",
        "hotspot detect --method kde s (no bytecode cache)": f"{t_cold:.1f}",
        "hotspot detect --method kde s (bytecode cached)": f"{t_ours:.1f}",
        "qgis_process heatmap s": f"{t_qgis:.1f}",
        "QGIS time / hotspot time (cached; no cache)": (
            f"{t_qgis / t_ours:.2f}x; {t_qgis / t_cold:.2f}x"),
        "peak MB (hotspot cached / QGIS)": f"{m_ours:,.0f} / {m_qgis:,.0f}",
        "max |diff| / peak": f"{np.max(np.abs(mine - theirs)) / peak:.3%}",
        "peak per km² (hotspot / QGIS)": f"{peak:,.1f} / {np.nanmax(theirs):,.1f}",
    }


def main_qgis(sizes: list[int], seed: int) -> None:
    import shutil
    import subprocess
    import tempfile

    area, source = hips_area()
    base = police_uk_xy()
    version = subprocess.run([qgis_process(), "--version"], capture_output=True,
                             text=True, env={"QT_QPA_PLATFORM": "offscreen",
                                             "PATH": "/usr/bin:/bin"}).stdout
    print(f"area: {source}; {' '.join(version.split()[:3]) if version else ''}")
    work = Path(tempfile.mkdtemp(prefix="bench_kde_qgis_"))
    try:
        rows = [peer_qgis(n, base=base, area=area, seed=seed, work=work)
                for n in sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = pd.DataFrame(rows).set_index("points (in HIPS)").T
    print("| | " + " | ".join(table.columns) + " |")
    print("|" + "---|" * (len(table.columns) + 1))
    for name, values in table.iterrows():
        print(f"| {name} | " + " | ".join(values) + " |")


if __name__ == "__main__":
    main()

"""Benchmark: hotspot's Gi* against esda.G_Local on the same H3 cells.

Run on demand (not a test)::

    .venv/bin/python benchmarks/bench_gistar.py [--skip-permutations]

Points: police.uk street-level crimes for Hampshire (Robbery, Possession of
weapons, Violence and sexual offences), lon/lat projected to BNG with
hotspot.crs. Cells: every CSP filled at resolution 9 (each CSP its own study
area), HIPS as one study area at resolution 10, and the two cities (Portsmouth,
Southampton, each its own study area) at resolution 11.

Both sides include building the weights from the H3 k-ring: ours with
``ring_weights`` (sparse), esda's with a libpysal ``W`` from the same
``h3.grid_disk`` neighbours (esda adds the self-weight for ``star=True``).
The script asserts that z-scores agree to 1e-9 and prints a markdown table. For
permutations it compares esda's ``p_sim`` with our esda-style folded p from the
same scheme (our reported p is the tie-aware two-sided one, see
``docs/methods.md``).
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from collections.abc import Callable
from typing import Any, Literal

import esda
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from libpysal.weights import W

from hotspot.boundaries import load_csps
from hotspot.crs import BNG, lonlat_to_bng
from hotspot.detect.gistar import gi_star, gi_star_permutation, ring_weights
from hotspot.grid import count_points, study_cells
from hotspot.settings import SHARED_DATA_DIR

CRIME_TYPES = ("Robbery", "Possession of weapons", "Violence and sexual offences")


def load_points() -> gpd.GeoDataFrame:
    frames = [
        pd.read_csv(path, usecols=["Longitude", "Latitude", "Crime type"])
        for path in sorted((SHARED_DATA_DIR / "police_uk").glob("*-street.csv"))
    ]
    crimes = pd.concat(frames, ignore_index=True)
    crimes = crimes[crimes["Crime type"].isin(CRIME_TYPES)].dropna()
    x, y = lonlat_to_bng(crimes["Longitude"], crimes["Latitude"])
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=BNG)


def esda_gi_star(cells: pd.DataFrame, *, permutations: int, seed: int) -> pd.DataFrame:
    """esda.G_Local per study area, weights built from the same k-ring."""
    out = []
    for _, part in cells.groupby("study_area", sort=False):
        ids = part["h3"].tolist()
        index = {c: i for i, c in enumerate(ids)}
        neighbours = {
            i: [index[n] for n in h3.grid_disk(c, 1) if n in index and n != c]
            for i, c in enumerate(ids)
        }
        w = W(neighbours, silence_warnings=True)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = esda.G_Local(
                part["count"].to_numpy(dtype=float), w, star=True, transform="B",
                permutations=permutations, seed=seed, keep_simulations=False,
            )
        frame = pd.DataFrame({"Zs": g.Zs}, index=part.index)
        if permutations:
            frame["p_sim"] = g.p_sim
        out.append(frame)
    return pd.concat(out).loc[cells.index]


def timed(func: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-permutations", action="store_true")
    opts = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    points = load_points()
    csps = load_csps()
    rows = []
    cities = csps[csps["csp_name"].isin(["Portsmouth", "Southampton"])]
    cases: list[tuple[str, int, Literal["csp", "hips"], gpd.GeoDataFrame]] = [
        ("14 CSPs, resolution 9", 9, "csp", csps),
        ("HIPS, resolution 10", 10, "hips", csps),
        ("Portsmouth and Southampton, resolution 11", 11, "csp", cities),
    ]
    for label, resolution, scope, area in cases:
        cells = count_points(points, study_cells(area, resolution=resolution,
                                                 scope=scope))
        base = cells.drop(columns="geometry")
        t_ours, ours = timed(lambda b=base: gi_star(b, fdr=True), repeat=3)
        t_esda, ref = timed(lambda b=base: esda_gi_star(b, permutations=0, seed=0))
        both = ours["z"].notna().to_numpy()
        assert np.array_equal(both, np.isfinite(ref["Zs"].to_numpy()))
        diff = float(np.max(np.abs(ours["z"].to_numpy()[both]
                                   - ref["Zs"].to_numpy()[both])))
        assert diff < 1e-9, diff
        rows.append((label, "normal", len(cells), int(cells["count"].sum()),
                     t_esda, t_ours, f"max abs z difference {diff:.1e}"))
        if opts.skip_permutations or resolution != 9:
            continue
        t_ours_p, ours_p = timed(
            lambda b=base: gi_star(b, fdr=True, permutations=999, seed=1)
        )
        t_esda_p, ref_p = timed(
            lambda b=base: esda_gi_star(b, permutations=999, seed=1)
        )
        # esda's p_sim is the folded one-tail count; compare like with like
        groups = pd.factorize(base["study_area"])[0].astype(np.int64)
        weights = ring_weights(base["h3"].tolist(), study_area=base["study_area"])
        folded, _ = gi_star_permutation(
            base["count"].to_numpy(dtype=float), weights, groups=groups,
            permutations=999, seed=1,
        )
        ok = ours_p["p_sim"].notna().to_numpy()
        mine = folded[ok]
        theirs = ref_p["p_sim"].to_numpy()[ok]
        sd = np.sqrt(2 * theirs * (1 - theirs) / 999) + 2 / 1000
        within = float(np.mean(np.abs(mine - theirs) < 3 * sd))
        mean_diff = float(np.mean(mine - theirs))
        rows.append((label, "999 permutations", len(cells), int(cells["count"].sum()),
                     t_esda_p, t_ours_p,
                     f"{within:.1%} of p within 3 MC sd; mean diff {mean_diff:+.4f}"))
    print("| cells | inference | n cells | points | esda.G_Local (s) | hotspot (s) "
          "| speed-up | agreement |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for label, inference, n, pts, te, to, agree in rows:
        print(f"| {label} | {inference} | {n:,} | {pts:,} | {te:.2f} | {to:.2f} "
              f"| {te / to:.1f}x | {agree} |")


if __name__ == "__main__":
    main()

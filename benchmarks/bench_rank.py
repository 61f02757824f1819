"""Benchmark: the predictive ranking and its backtest on the embedded store.

Run on demand (not a test)::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_rank.py [--repeat 3]

Targets (issue 12): ranking all 14 CSPs at resolution 9 in at most 2 s; a
backtest with its baselines in at most 10 s. The peer timed in the same run is
the naive count baseline (``hotspot.grid.count_points`` of the target rows up to
the cut-off), which is what the ranking must be worth its extra time against.

Target: police.uk robbery and possession of weapons; fit to 2025-06-30; test
July and September 2025 (August is flagged). Loading the store and the study
cells is timed apart, since the app holds both in memory. Prints a markdown
table: the best of ``--repeat`` runs, and the median.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from hotspot.boundaries import load_csps
from hotspot.detect.backtest import backtest
from hotspot.detect.rank import TargetSpec, rank_cells
from hotspot.grid import count_points, study_cells
from hotspot.ingest.quality import flagged
from hotspot.ingest.store import DEFAULT_STORE, load_occurrences

TARGET = TargetSpec(categories=("robbery", "possession_of_weapons"),
                    sources=("police_uk",))
FIT_TO = pd.Timestamp("2025-06-30")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best and median wall time of ``repeat`` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    t0 = time.perf_counter()
    occ = load_occurrences(DEFAULT_STORE)
    cells = study_cells(load_csps(), resolution=9)
    load_s = time.perf_counter() - t0

    def naive() -> Any:
        when = pd.to_datetime(occ["occurred_from"])
        rows = occ[TARGET.mask(occ) & ~flagged(occ).to_numpy()
                   & (when <= FIT_TO).to_numpy()]
        return count_points(rows, cells)

    rows = []
    best, med, _ = timed(naive, args.repeat)
    rows.append(("peer: naive count baseline (count_points)", best, med, "-"))
    best, med, ranking = timed(
        lambda: rank_cells(occ, cells, target=TARGET, fit_to=FIT_TO, cache_dir=None),
        args.repeat)
    rows.append(("rank_cells, validation run afresh (12 candidates)", best, med,
                 "2 s"))
    kept = Path(tempfile.mkdtemp(prefix="bench-rank-"))
    rank_cells(occ, cells, target=TARGET, fit_to=FIT_TO, cache_dir=kept)
    best, med, _ = timed(
        lambda: rank_cells(occ, cells, target=TARGET, fit_to=FIT_TO, cache_dir=kept),
        args.repeat)
    rows.append(("rank_cells, validation kept from an earlier fit of the same months",
                 best, med, "2 s"))
    settings = ranking.settings
    best, med, _ = timed(
        lambda: rank_cells(occ, cells, target=TARGET, fit_to=FIT_TO,
                           settings=settings), args.repeat)
    rows.append((f"rank_cells, settings given ({settings.label()})", best, med, "2 s"))
    best, med, _ = timed(
        lambda: backtest(occ, cells, train_to=FIT_TO,  # validation kept in var/
                         test_from=pd.Timestamp("2025-07-01"),
                         test_to=pd.Timestamp("2025-09-30"), target=TARGET),
        args.repeat)
    rows.append(("backtest: validation, 7 baselines, 1000 bootstrap replicates",
                 best, med, "10 s"))
    print(f"\n{len(cells)} cells (14 CSPs, resolution 9), {len(occ)} occurrences; "
          f"loading store and cells {load_s:.2f} s (not included)\n")
    print("| step | best (s) | median (s) | target |")
    print("|---|---:|---:|---:|")
    for name, b, m, target in rows:
        print(f"| {name} | {b:.2f} | {m:.2f} | {target} |")


if __name__ == "__main__":
    main()

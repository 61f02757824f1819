"""Benchmark: naming hot-spot cells and their peak windows, against per-cell loops.

Run on demand (not a test)::

    .venv/bin/python benchmarks/bench_places.py [--cells 300] [--repeats 5]

Target: a top list of hundreds of cells named in well under a second
(``name_cells``), and their peak windows (``peak_windows_by_cell``) likewise.

The cells are the ``--cells`` resolution-9 cells holding the most rows of the
embedded store (``data/default_store``). Each figure is the best and median of
``--repeats`` runs after one warm-up (the warm-up loads the tables and the snap
points' H3 cells, which the app keeps between calls). The peers, timed in the
same run:

- naming: a per-cell loop that selects the police.uk rows inside each cell's
  hexagon polygon with ``shapely.contains_xy`` and counts their location
  text (the streets part only, so the peer does less than ``name_cells``);
- peak windows: ``peak_windows`` called once per cell on that cell's rows,
  selected by ``hotspot.context.temporal.select_occurrences(cells=[cell])``;
  it takes about a quarter of a second per cell, so it is timed once on the
  first ``--peer-cells`` cells and scaled up (printed as extrapolated).
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
from collections.abc import Callable

import geopandas as gpd
import shapely

from hotspot.context.peaks import peak_windows, peak_windows_by_cell
from hotspot.context.places import load_place_index, name_cells
from hotspot.context.temporal import select_occurrences
from hotspot.grid import cell_polygons, points_to_cells
from hotspot.settings import DATA_DIR


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs), statistics.median(runs)


def naive_streets(store: gpd.GeoDataFrame, cells: list[str]) -> list[str]:
    police = store[(store["source"] == "police_uk").fillna(False).to_numpy()]
    x = shapely.get_x(police.geometry.to_numpy())
    y = shapely.get_y(police.geometry.to_numpy())
    text = police["location_text"].astype("string")
    out = []
    for cell, hexagon in zip(cells, cell_polygons(cells), strict=True):
        inside = shapely.contains_xy(hexagon, x, y)
        counts = text[inside].value_counts()
        out.append(" / ".join(s.removeprefix("On or near ") for s in counts.index[:2]))
        del cell
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-cells", type=int, default=30,
                        help="cells the per-cell peak-window peer is timed on")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    store = gpd.read_parquet(DATA_DIR / "default_store" / "occurrences.parquet")
    cells = points_to_cells(store, resolution=9).value_counts().head(
        args.cells).index.tolist()
    print(f"{platform.node()}: {len(store):,} rows, {len(cells)} cells (resolution 9)")
    start = time.perf_counter()
    load_place_index()
    print(f"load_place_index (once): {time.perf_counter() - start:.2f} s")
    rows = [
        ("name_cells, from the gazetteer", lambda: name_cells(cells)),
        ("name_cells, from the store's occurrences",
         lambda: name_cells(cells, occurrences=store)),
        ("peer: per-cell polygon loop, streets only",
         lambda: naive_streets(store, cells)),
        ("peak_windows_by_cell", lambda: peak_windows_by_cell(store, cells,
                                                              resolution=9)),
    ]
    few = cells[:args.peer_cells]
    print(f"{'what':<52} {'best s':>8} {'median s':>9}")
    for label, fn in rows:
        best, median = timed(fn, args.repeats)
        print(f"{label:<52} {best:8.3f} {median:9.3f}")
    best, median = timed(
        lambda: [peak_windows(select_occurrences(store, cells=[c])) for c in few], 1)
    scale = len(cells) / len(few)
    print(f"{'peer: peak_windows per cell, ' + str(len(few)) + ' cells':<52} "
          f"{best:8.3f} {median:9.3f}  (x{scale:g} for {len(cells)} cells: "
          f"{best * scale:.1f} s, extrapolated)")
    ours = name_cells(cells, occurrences=store)["streets"]
    peer = naive_streets(store, cells)
    facilities = set(load_place_index().snap.query("facility")["street"])
    firsts = [(a.split(" / ")[0], b.split(" / ")[0]) for a, b in
              zip(ours, peer, strict=True) if b]
    same = sum(a == b for a, b in firsts)
    facility = sum(a != b and b in facilities for a, b in firsts)
    print(f"first label: same as the peer's busiest in {same} of {len(firsts)} "
          f"cells; {facility} differ because the peer's busiest is a facility "
          f"label (name_cells puts the busiest street first), "
          f"{len(firsts) - same - facility} otherwise")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

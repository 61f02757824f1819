"""Benchmark: N police.uk rows, from CSV to hot spots, with DuckDB as the peer.

Run on demand (not a test)::

    .venv/bin/python benchmarks/bench_scale.py --rows 1000000 [--dir FOLDER] [--keep]

1. **Generate** (deterministic, ``--seed``): N rows in the data.police.uk street
   CSV layout, one file sorted by month over 36 months. Locations are the real
   police.uk snap points of the embedded store (about 21,000 across HIPS), drawn
   with their observed frequencies, so the clustering is that of real crime; crime
   types in their observed shares; 64-hex Crime IDs, blank for anti-social
   behaviour as police.uk publishes them.
2. **Peer**: DuckDB alone reading the same CSV into a table
   (``CREATE TABLE t AS SELECT * FROM read_csv(...)``), the floor for any reader.
3. **Ingest**: ``hotspot ingest --stream`` (:func:`hotspot.pipeline.ingest_streaming`),
   batches of 64 MB into a partitioned store.
4. **Analyses after ingest**, from the store: counts per H3 cell (resolution 9)
   and month for the 14 CSPs in DuckDB (:func:`hotspot.ingest.query.cell_counts`,
   police.uk's approximate violence included so most rows count), Gi* per CSP on
   those counts, and the quartic KDE across HIPS at 25 m (500 m radius) on the
   points read from the store's bbox columns.

Each step runs in its own process; its wall time and peak resident memory
(``ru_maxrss``) are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import binascii
import json
import logging
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HEADER = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
          "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category",
          "Context"]
MONTHS = 36
FORCE = "Hampshire Constabulary"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(n: int, path: Path, *, seed: int = 16, chunk: int = 1_000_000) -> None:
    """Write ``n`` police.uk rows to ``path`` (deterministic for a given seed)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from hotspot.ingest.store import DEFAULT_STORE, load_occurrences

    occ = load_occurrences(DEFAULT_STORE)
    occ = occ[occ["source"] == "police_uk"]
    spots = (occ.groupby(["longitude", "latitude", "recorded_lsoa_code",
                          "location_text"], dropna=False).size().rename("n")
             .reset_index())
    p_spot = (spots["n"] / spots["n"].sum()).to_numpy()
    types = occ["crime_type"].value_counts(normalize=True)
    rng = np.random.default_rng(seed)
    months = pd.period_range("2023-01", periods=MONTHS, freq="M").astype(str)
    per_month = np.diff(np.linspace(0, n, MONTHS + 1).round().astype(int))
    month_of = np.repeat(np.arange(MONTHS), per_month)
    lon = spots["longitude"].map("{:.6f}".format).to_numpy(dtype=object)
    lat = spots["latitude"].map("{:.6f}".format).to_numpy(dtype=object)
    lsoa = spots["recorded_lsoa_code"].fillna("").to_numpy(dtype=object)
    where = spots["location_text"].fillna("On or near ").to_numpy(dtype=object)
    kinds = types.index.to_numpy(dtype=object)
    with pacsv.CSVWriter(path, pa.schema([(h, pa.string()) for h in HEADER])) as out:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            spot = rng.choice(len(spots), size=m, p=p_spot)
            kind = kinds[rng.choice(len(kinds), size=m, p=types.to_numpy())]
            ids = np.frombuffer(binascii.hexlify(rng.bytes(32 * m)), dtype="S64")
            ids = ids.astype(str).astype(object)
            ids[kind == "Anti-social behaviour"] = ""
            cols = {
                "Crime ID": ids,
                "Month": months.to_numpy()[month_of[start:start + m]],
                "Reported by": np.full(m, FORCE, dtype=object),
                "Falls within": np.full(m, FORCE, dtype=object),
                "Longitude": lon[spot], "Latitude": lat[spot],
                "Location": where[spot], "LSOA code": lsoa[spot],
                "LSOA name": np.full(m, "", dtype=object),
                "Crime type": kind,
                "Last outcome category": np.full(m, "Under investigation",
                                                 dtype=object),
                "Context": np.full(m, "", dtype=object),
            }
            out.write_table(pa.table({h: pa.array(cols[h], pa.string())
                                      for h in HEADER}))


def step_duckdb(csv: Path) -> dict[str, object]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    t0 = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)",
                [str(csv)])
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]
    return {"seconds": time.perf_counter() - t0, "rows": int(n)}


def step_ingest(csv: Path, store: Path) -> dict[str, object]:
    from hotspot.pipeline import ingest_streaming

    if store.exists():
        shutil.rmtree(store)
    t0 = time.perf_counter()
    summary = ingest_streaming(csv, store)
    return {"seconds": time.perf_counter() - t0, "rows": summary["rows"]}


def step_analyses(store: Path, *, with_kde: bool = True) -> dict[str, object]:
    import duckdb

    from hotspot.boundaries import load_csps, load_hips_outline
    from hotspot.crs import BNG
    from hotspot.detect import kde
    from hotspot.detect.gistar import gi_star
    from hotspot.geocode.precision import h3_edge_m
    from hotspot.grid import count_cells, study_cells
    from hotspot.ingest.partitions import OCCURRENCES_FILE
    from hotspot.ingest.query import cell_counts
    from hotspot.selection import Selection

    out: dict[str, object] = {}
    t0 = time.perf_counter()
    sel = Selection(include_approximate=True).for_cells(h3_edge_m(9))
    counts = cell_counts(store, sel, resolution=9)
    out["counts_s"] = time.perf_counter() - t0
    out["cell_months"] = len(counts)
    out["counted"] = int(counts["count"].sum())
    t1 = time.perf_counter()
    cells = study_cells(load_csps(), resolution=9)
    counted = count_cells(cells, counts)
    table = gi_star(counted, column="count", k=1)
    out["gistar_s"] = time.perf_counter() - t1
    out["cells"] = len(cells)
    out["hot_cells"] = int((table["bin"] > 0).sum())
    if not with_kde:
        out["seconds"] = time.perf_counter() - t0
        return out
    t2 = time.perf_counter()
    glob = str((store / OCCURRENCES_FILE).resolve() / "**" / "*.parquet")
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    xy = con.execute("SELECT bbox.xmin, bbox.ymin FROM read_parquet(?, "
                     "hive_partitioning = true)", [glob]).fetchnumpy()
    import geopandas as gpd

    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy["xmin"], xy["ymin"]),
                              crs=BNG)
    area = load_hips_outline().geometry.union_all()
    res = kde.kde_surface(points, area=area, cell_size_m=25.0, bandwidth_m=500.0)
    out["kde_s"] = time.perf_counter() - t2
    out["kde_points"] = res.n_points
    out["seconds"] = time.perf_counter() - t0
    return out


def _child(step: str, args: argparse.Namespace) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--step", step, "--rows", str(args.rows),
           "--dir", str(args.dir), *(["--no-kde"] if args.no_kde else [])]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "hotspot-bench-scale",
                        help="where the CSV and the store are written (deleted "
                        "afterwards unless --keep)")
    parser.add_argument("--step", choices=("generate", "duckdb", "ingest",
                                           "analyses"), default=None)
    parser.add_argument("--skip", nargs="*", default=[], choices=("duckdb",),
                        help="leave out the DuckDB peer (it holds the whole CSV "
                        "in memory: about 14 GB at 50M rows)")
    parser.add_argument("--no-kde", action="store_true",
                        help="analyses without the KDE (it holds every point)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the CSV and the store afterwards")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    csv = args.dir / f"police_uk_{args.rows}.csv"
    store = args.dir / f"store_{args.rows}"
    if args.step is not None:
        t0 = time.perf_counter()
        if args.step == "generate":
            generate(args.rows, csv)
            result: dict[str, object] = {"seconds": time.perf_counter() - t0}
        elif args.step == "duckdb":
            result = step_duckdb(csv)
        elif args.step == "ingest":
            result = step_ingest(csv, store)
        else:
            result = step_analyses(store, with_kde=not args.no_kde)
        result["peak_mb"] = _peak_mb()
        print(json.dumps(result, default=str))
        return 0
    args.dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for step in ("generate", "duckdb", "ingest", "analyses"):
        if step in args.skip:
            results[step] = {"seconds": float("nan"), "peak_mb": float("nan")}
            continue
        results[step] = _child(step, args)
        print(step, json.dumps(results[step], default=str), flush=True)
    csv_mb = csv.stat().st_size / 1e6
    store_mb = sum(p.stat().st_size for p in store.rglob("*.parquet")) / 1e6
    a = results["analyses"]
    duck = float(results["duckdb"]["seconds"])  # type: ignore[arg-type]
    ing = float(results["ingest"]["seconds"])  # type: ignore[arg-type]
    print(f"\n{args.rows:,} rows; CSV {csv_mb:,.0f} MB; store {store_mb:,.0f} MB; "
          f"ingest rows {results['ingest']['rows']}\n")
    print("| step | seconds | peak memory (MB) |")
    print("|---|---:|---:|")
    print(f"| peer: DuckDB reads the CSV | {duck:.1f} | "
          f"{results['duckdb']['peak_mb']:,.0f} |")
    print(f"| hotspot ingest --stream | {ing:.1f} ({ing / duck:.1f}x DuckDB) | "
          f"{results['ingest']['peak_mb']:,.0f} |")
    print(f"| analyses after ingest | {a['seconds']:.1f} | {a['peak_mb']:,.0f} |")
    print(f"| - counts per cell and month, 14 CSPs (DuckDB) | {a['counts_s']:.2f} | |")
    print(f"| - Gi* per CSP, {a['cells']:,} cells | {a['gistar_s']:.2f} | |")
    if "kde_s" in a:
        print(f"| - KDE across HIPS at 25 m, {a['kde_points']:,} points | "
              f"{a['kde_s']:.2f} | |")
    if not args.keep:
        csv.unlink(missing_ok=True)
        shutil.rmtree(store, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
   (``CREATE TABLE t AS SELECT * FROM read_csv(...)``), the floor for any reader:
   in memory, or with ``--duckdb-disk`` into a database file (DuckDB then spills
   to disk and its memory stays bounded: what a 50M-row run needs).
3. **Ingest**: ``hotspot ingest --stream`` (:func:`hotspot.pipeline.ingest_streaming`),
   batches of 64 MB into a partitioned store.
4. **Analyses after ingest**, asked of the store through the product's one
   analysis core (:class:`hotspot.ingest.query.StoreQuery`: nothing loads the
   rows), police.uk's approximate violence included so most rows count: the
   predictive ranking of every HIPS cell at resolution 9
   (:func:`hotspot.analysis.rank_view`, settings given so no validation runs),
   Gi* per CSP for the 14 CSPs at resolution 9 (:func:`hotspot.analysis.analyse`)
   and the quartic KDE across HIPS at 25 m, 500 m radius
   (:func:`hotspot.analysis.density`, points gathered at their locations).

Each step runs in its own process; its wall time and peak resident memory (the
step's process and its worker processes, summed, sampled every 0.2 s from
``/proc``) are printed as a Markdown table. ``--reuse`` keeps a CSV already
generated in ``--dir`` (same rows and seed), so a large run can be repeated.
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


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants now, MB (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines()
                          if ":" in line)
        except OSError:
            continue  # the process ended
        pid = int(status.parent.name)
        parents[pid] = int(fields.get("PPid", "0").strip() or 0)
        rss[pid] = float(fields.get("VmRSS", "0 kB").split()[0]) / 1024
    total = 0.0
    for pid, size in rss.items():
        up = pid
        while up and up != root:
            up = parents.get(up, 0)
        if up == root:
            total += size
    return total


class TreePeak:
    """Sample the resident memory of this process and its workers (every 0.2 s).

    ``ru_maxrss`` is one process's peak; the streamed ingest runs worker
    processes, whose memory counts too.
    """

    def __init__(self) -> None:
        import os
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._root = os.getpid()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_mb(self._root))
            self._stop.wait(0.2)

    def stop(self) -> float:
        """Stop sampling; return the peak, MB."""
        self._stop.set()
        self._thread.join()
        return max(self.peak, _peak_mb())


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


def step_duckdb(csv: Path, *, disk: Path | None = None) -> dict[str, object]:
    import duckdb

    if disk is not None:
        disk.unlink(missing_ok=True)
    con = duckdb.connect(str(disk) if disk is not None else ":memory:")
    con.execute("SET threads TO 2")
    if disk is not None:
        con.execute("SET memory_limit = '2GB'")
        con.execute("SET preserve_insertion_order = false")
    t0 = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)",
                [str(csv)])
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]
    seconds = time.perf_counter() - t0
    con.close()
    if disk is not None:
        disk.unlink(missing_ok=True)
    return {"seconds": seconds, "rows": int(n),
            "mode": "disk" if disk is not None else "memory"}


def step_ingest(csv: Path, store: Path) -> dict[str, object]:
    from hotspot.pipeline import ingest_streaming

    if store.exists():
        shutil.rmtree(store)
    t0 = time.perf_counter()
    summary = ingest_streaming(csv, store)
    return {"seconds": time.perf_counter() - t0, "rows": summary["rows"]}


def step_analyses(store: Path, *, with_kde: bool = True) -> dict[str, object]:
    """Rank, Gi* per CSP and the KDE, asked of the store through the one core."""
    from hotspot import analysis
    from hotspot.detect.rank import RankSettings
    from hotspot.ingest.query import StoreQuery
    from hotspot.view import View

    out: dict[str, object] = {}
    view = View(include_approximate=True, resolution=9)
    t0 = time.perf_counter()
    with StoreQuery(store) as query:
        ranking = analysis.rank_view(query, view, settings=RankSettings())
        out["rank_s"] = time.perf_counter() - t0
        out["ranked_cells"] = len(ranking.cells)
        t1 = time.perf_counter()
        found = analysis.analyse(query, view)
        out["gistar_s"] = time.perf_counter() - t1
        out["cells"] = found.result.counts["cells"]
        out["counted"] = found.result.counts["occurrences_counted"]
        out["hot_cells"] = found.result.counts["hot_cells"]
        if with_kde:
            t2 = time.perf_counter()
            surface, _ = analysis.density(
                query, view.with_(scope="hips", cell_size_m=25.0, bandwidth_m=500.0))
            out["kde_s"] = time.perf_counter() - t2
            out["kde_points"] = surface.n_points
    out["seconds"] = time.perf_counter() - t0
    return out


def _child(step: str, args: argparse.Namespace) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--step", step, "--rows", str(args.rows),
           "--dir", str(args.dir), *(["--no-kde"] if args.no_kde else []),
           *(["--duckdb-disk"] if args.duckdb_disk else [])]
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
    parser.add_argument("--reuse", action="store_true",
                        help="use the CSV already in --dir for these rows, if any")
    parser.add_argument("--duckdb-disk", action="store_true",
                        help="the DuckDB peer writes a database file (memory "
                        "limit 2 GB) instead of an in-memory table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    csv = args.dir / f"police_uk_{args.rows}.csv"
    store = args.dir / f"store_{args.rows}"
    if args.step is not None:
        tree = TreePeak()
        t0 = time.perf_counter()
        if args.step == "generate":
            generate(args.rows, csv)
            result: dict[str, object] = {"seconds": time.perf_counter() - t0}
        elif args.step == "duckdb":
            result = step_duckdb(csv, disk=args.dir / "peer.duckdb"
                                 if args.duckdb_disk else None)
        elif args.step == "ingest":
            result = step_ingest(csv, store)
        else:
            result = step_analyses(store, with_kde=not args.no_kde)
        result["peak_mb"] = _peak_mb()
        result["peak_tree_mb"] = tree.stop()
        print(json.dumps(result, default=str))
        return 0
    args.dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, object]] = {}
    for step in ("generate", "duckdb", "ingest", "analyses"):
        if step == "generate" and args.reuse and csv.exists():
            results[step] = {"seconds": 0.0, "peak_mb": 0.0, "reused": True}
            print(step, "reused", csv, flush=True)
            continue
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
    print("| step | seconds | peak memory, all processes (MB) |")
    print("|---|---:|---:|")
    mode = results["duckdb"].get("mode", "memory")

    def peak(step: str) -> str:
        got = results[step]
        return f"{float(got.get('peak_tree_mb', got['peak_mb'])):,.0f}"  # type: ignore[arg-type]

    print(f"| peer: DuckDB reads the CSV ({mode}) | {duck:.1f} | {peak('duckdb')} |")
    print(f"| hotspot ingest --stream | {ing:.1f} ({ing / duck:.1f}x DuckDB) | "
          f"{peak('ingest')} |")
    print(f"| analyses after ingest | {a['seconds']:.1f} | {peak('analyses')} |")
    print(f"| - ranking, {a['ranked_cells']:,} cells (panel in DuckDB) | "
          f"{a['rank_s']:.2f} | |")
    print(f"| - Gi* per CSP, {a['cells']:,} cells, {a['counted']:,} counted | "
          f"{a['gistar_s']:.2f} | |")
    if "kde_s" in a:
        print(f"| - KDE across HIPS at 25 m, {a['kde_points']:,} points | "
              f"{a['kde_s']:.2f} | |")
    if not args.keep:
        csv.unlink(missing_ok=True)
        shutil.rmtree(store, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: ingest, classify and geocode N synthetic rows with mixed locations.

Run on demand (not a test):
``.venv/bin/python benchmarks/bench_ingest.py --rows 1000000``.
Writes a template-layout CSV of N rows (locations mixed as in bench_geocode.py:
BNG, WGS84, swapped, postcodes of every precision, free text, junk), runs the whole
pipeline on it and prints the time per stage and rows per second. The baseline in
the same run is pandas' own ``read_csv`` of the same file, the floor any reader
that looks at every row stands on.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_geocode import make_rows  # noqa: E402

from hotspot.geocode import load_gazetteer  # noqa: E402
from hotspot.ingest.mapping import INPUT_COLUMNS  # noqa: E402
from hotspot.pipeline import ingest  # noqa: E402

logger = logging.getLogger("bench_ingest")
OFFENCES = np.array(["1", "5/1", "8N", "34A", "34B", "10D", "65", "105A"])


def write_template(n: int, path: Path, *, seed: int = 7) -> None:
    """Write ``n`` rows in the template layout to ``path``."""
    rng = np.random.default_rng(seed)
    frame = make_rows(n, load_gazetteer(), seed=seed).drop(columns="kind")
    start = pd.Timestamp("2024-10-01") + pd.to_timedelta(
        rng.integers(0, 365 * 24 * 60, n), unit="min"
    )
    frame.insert(0, "occurrence_id", [f"B{i}" for i in range(n)])
    frame.insert(1, "occurred_from", start.strftime("%Y-%m-%d %H:%M"))
    frame.insert(2, "offence_code", OFFENCES[rng.integers(0, len(OFFENCES), n)])
    frame["bladed_implement"] = np.where(rng.random(n) < 0.33, "Y", "N")
    frame["public_place"] = np.where(rng.random(n) < 0.61, "Y", "N")
    frame = frame.reindex(columns=[c for c in INPUT_COLUMNS if c in frame.columns])
    frame.to_csv(path, index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_template.csv"
        write_template(args.rows, path)
        t0 = time.perf_counter()
        pd.read_csv(path, dtype=str)
        baseline = time.perf_counter() - t0
        marks: list[tuple[str, float]] = []
        t0 = time.perf_counter()
        result = ingest(
            [path],
            fmt="template",
            progress=lambda s: marks.append((s, time.perf_counter())),
        )
        total = time.perf_counter() - t0
    marks.append(("end", t0 + total))
    rows = result.summary["rows"]
    print(
        f"\n{args.rows:,} rows: read {rows['read']:,} = accepted {rows['accepted']:,}"
        f" + rejected {rows['rejected']:,}\n"
    )
    print("| stage | seconds | rows/s |")
    print("|---|---:|---:|")
    for (stage, at), (_, nxt) in zip(marks, marks[1:], strict=False):
        print(f"| {stage} | {nxt - at:.2f} | {args.rows / (nxt - at):,.0f} |")
    print(f"| **whole ingest** | **{total:.2f}** | **{args.rows / total:,.0f}** |")
    print(
        f"| baseline: pandas.read_csv of the same file | {baseline:.2f} | "
        f"{args.rows / baseline:,.0f} |"
    )
    print("\ngeocoded by method:", result.summary["geocoded_by_method"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

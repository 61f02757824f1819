"""Benchmark: how long the command line takes to start, against the interpreter's own.

Run on demand (not a test)::

    .venv/bin/python benchmarks/bench_start.py [--repeats 5]

Times whole commands in fresh processes (best and median of ``--repeats``):
``hotspot --help``, ``hotspot --version`` and every verb's ``--help``, each with
a bytecode cache kept out of the venv (as after an ordinary install) and without
one (as this workplace runs, ``PYTHONDONTWRITEBYTECODE=1``). The peers, in the
same run: the bare interpreter (``python -c pass``, the floor any Python command
pays) and the standard library's ``python -m json.tool --help``. Issue 16's
target: well under a second. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VERBS = ("ingest", "summary", "template", "detect", "overlay", "profile",
         "operation", "export", "rank", "backtest", "review", "serve")


def _time(command: list[str], env: dict[str, str], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    hotspot = str(Path(sys.executable).with_name("hotspot"))
    cache = tempfile.mkdtemp(prefix="hotspot-pyc-")
    cached = {**os.environ, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": cache}
    cold = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    commands = [("python -c pass (peer)", [sys.executable, "-c", "pass"]),
                ("python -m json.tool --help (peer)",
                 [sys.executable, "-m", "json.tool", "--help"]),
                ("hotspot --help", [hotspot, "--help"]),
                ("hotspot --version", [hotspot, "--version"]),
                *((f"hotspot {v} --help", [hotspot, v, "--help"]) for v in VERBS)]
    for _, command in commands:  # fill the bytecode cache
        subprocess.run(command, env=cached, capture_output=True, check=True)
    print("| command | best, cached (s) | median, cached (s) | best, no bytecode "
          "cache (s) |")
    print("|---|---:|---:|---:|")
    for label, command in commands:
        best, median = _time(command, cached, args.repeats)
        cold_best, _ = _time(command, cold, max(1, args.repeats // 2))
        print(f"| {label} | {best:.3f} | {median:.3f} | {cold_best:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

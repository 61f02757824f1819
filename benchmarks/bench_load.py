"""Load benchmark: ten sessions changing filters at once on one server.

Starts the app as ``make run`` does (``hotspot serve``, which computes the
default view before it reports itself healthy), opens ``--sessions`` (default
10) browser sessions in headless Debian Chromium, each on its own CSP (so their
analyses are not one another's cached results), waits until every map is drawn
(the warm-up), then has **all sessions press at once**: each moves the first
month of its range on by one, ``--rounds`` times. A response is the time from a
session's key press until its URL shows the new month and its script run is
over (the map redrawn from the new analysis).

Target (issue 14): every response under 5 s after warm-up, on this 2-core
machine. The same run times, as references, one session alone doing the same
changes (what the load adds), and ten sessions reloading the smallest
Streamlit + pydeck page (``benchmarks/floor_app.py``: what ten sessions cost any
such app here). Also prints the server's peak resident memory (from
``/proc/PID/status``, the server and its children). Prints a markdown table.

Run: ``.venv/bin/python benchmarks/bench_load.py [--sessions 10] [--rounds 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_app import start_floor  # noqa: E402
from tests.test_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    free_port,
    start_app,
    stop_app,
)

logger = logging.getLogger("bench_load")
TARGET_S = 5.0
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
CHART = "[data-testid='stDeckGlJsonChart'] canvas"
#: The 14 CSPs' codes (district grouping), one per session in turn.
CSPS = ("E07000084", "E07000085", "E07000086", "E07000087", "E07000088",
        "E07000089", "E07000090", "E07000091", "E07000092", "E07000093",
        "E07000094", "E06000044", "E06000045", "E06000046")
MONTHS = [f"2025-{m:02d}" for m in range(1, 10)]


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process and its children now alive, MB."""
    import subprocess

    pids = [pid] + [int(p) for p in subprocess.run(  # noqa: S603, S607
        ["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    total = 0.0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


async def _open(browser: Any, url: str) -> tuple[Any, float]:
    page = await browser.new_page(viewport=VIEWPORT)
    start = time.perf_counter()
    await page.goto(url)
    await page.wait_for_selector(CHART, timeout=300_000)
    await page.wait_for_selector(IDLE, timeout=300_000)
    return page, time.perf_counter() - start


async def _change(page: Any, month: str) -> float:
    thumb = page.get_by_role("slider").first
    await thumb.focus()
    start = time.perf_counter()
    await thumb.press("ArrowRight")
    await page.wait_for_url(f"**from={month}**", timeout=120_000)
    await page.wait_for_selector(IDLE, timeout=120_000)
    await page.wait_for_selector(CHART, timeout=120_000)
    return time.perf_counter() - start


async def _app_run(sessions: int, rounds: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    port = free_port()
    proc = start_app(port)
    base = f"http://127.0.0.1:{port}/?from=2025-01&to=2025-09&csp="
    out: dict[str, Any] = {}
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM),
                                               args=CHROMIUM_ARGS)
            opened = await asyncio.gather(*[
                _open(browser, base + CSPS[i % len(CSPS)]) for i in range(sessions)])
            pages = [p for p, _ in opened]
            out["warm_up"] = [t for _, t in opened]
            logger.info("warm-up: %d sessions drawn, slowest %.1f s", sessions,
                        max(out["warm_up"]))
            loaded: list[float] = []
            for r in range(rounds):
                times = await asyncio.gather(*[_change(p, MONTHS[r + 1])
                                               for p in pages])
                logger.info("round %d: %s", r + 1, [round(t, 2) for t in times])
                loaded += times
            out["loaded"] = loaded
            # the same changes by one session alone, from the same start
            alone_page, _ = await _open(browser, base + CSPS[-1] + "&res=8")
            out["alone"] = [await _change(alone_page, MONTHS[r + 1])
                            for r in range(rounds)]
            logger.info("one session alone: %s", [round(t, 2) for t in out["alone"]])
            await browser.close()
        out["peak_mb"] = _peak_rss_mb(proc.pid)
    finally:
        stop_app(proc)
    return out


async def _floor_run(sessions: int, rounds: int) -> list[float]:
    from playwright.async_api import async_playwright

    proc, url = start_floor()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM),
                                               args=CHROMIUM_ARGS)
            opened = await asyncio.gather(*[_open(browser, url)
                                            for _ in range(sessions)])
            pages = [p for p, _ in opened]

            async def reload(page: Any) -> float:
                start = time.perf_counter()
                await page.reload()
                await page.wait_for_selector(CHART, timeout=120_000)
                await page.wait_for_selector(IDLE, timeout=120_000)
                return time.perf_counter() - start

            times: list[float] = []
            for _ in range(rounds):
                times += await asyncio.gather(*[reload(p) for p in pages])
            await browser.close()
    finally:
        stop_app(proc)
    return times


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4,
                        help="filter changes each session makes (at once)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not CHROMIUM.exists():
        logger.error("%s not found: apt-get install chromium", CHROMIUM)
        return 2
    if not 1 <= args.rounds < len(MONTHS):
        parser.error(f"--rounds must be from 1 to {len(MONTHS) - 1}")
    app = asyncio.run(_app_run(args.sessions, args.rounds))
    floor = asyncio.run(_floor_run(args.sessions, args.rounds))
    rows = [
        (f"{args.sessions} sessions at once: filter change ({len(app['loaded'])} "
         "responses)", app["loaded"], TARGET_S),
        ("one session alone: the same change", app["alone"], None),
        (f"{args.sessions} sessions at once: first visit (warm-up)", app["warm_up"],
         None),
        (f"reference: {args.sessions} sessions reloading the smallest Streamlit + "
         "pydeck page", floor, None),
    ]
    print("| step | median (s) | max (s) | target | every response met |")
    print("|---|---:|---:|---:|:---:|")
    for name, values, target in rows:
        goal = "" if target is None else f"< {target:.0f}"
        met = "" if target is None else ("yes" if max(values) < target else "no")
        print(f"| {name} | {statistics.median(values):.2f} | {max(values):.2f} | "
              f"{goal} | {met} |")
    print(f"\nserver peak resident memory: {app['peak_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

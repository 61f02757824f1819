"""Browser benchmark of the map page: first full render and a filter change.

Starts the app on a free port exactly as ``make run`` does (``hotspot serve``:
a fresh process, which computes the default view before it reports itself
healthy), opens it in headless Debian Chromium and times:

- **first render (fresh server)**: the first visit after the server reports
  healthy, from navigation until the script run is over and the map shows its
  base layer and hot-spot hexagons (checked on screenshots of the map: sea
  colour and the 99% hot-spot red present);
- **second visit**: the same in a second tab;
- **filter change**: from moving the first month of the range on by one (a
  keyboard press on the slider) until the URL shows the new month, the run is
  over and the map has redrawn (its screenshot changed); repeated, median kept.

Each measurement is repeated on ``--servers`` fresh servers (default 3): the
machine is shared and one sample varies by a second. Targets (issue 5): first
full render ≤ 5 s, filter change ≤ 1 s. Prints a markdown table of medians and
ranges, and, as the reference measured in the same run, the smallest
Streamlit + pydeck page (``benchmarks/floor_app.py``): what any such app costs
in this browser on this machine. Run: ``.venv/bin/python benchmarks/bench_app.py``.
"""

from __future__ import annotations

import argparse
import io
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotspot.layers import BIN_COLOURS, SEA_RGB  # noqa: E402
from tests.test_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    free_port,
    start_app,
    stop_app,
)

logger = logging.getLogger("bench_app")
CHART = "[data-testid='stDeckGlJsonChart']"
FLOOR_APP = ROOT / "benchmarks" / "floor_app.py"
FIRST_RENDER_TARGET_S = 5.0
FILTER_TARGET_S = 1.0


def _map_image(page: Any) -> np.ndarray:
    from PIL import Image

    shot = page.locator(CHART).screenshot(animations="disabled", timeout=60_000)
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def _has(pixels: np.ndarray, rgb: tuple[int, int, int], share: float,
         tol: int = 40) -> bool:
    near = np.all(np.abs(pixels - np.asarray(rgb)) <= tol, axis=-1)
    return bool(near.mean() >= share)


def _drawn(pixels: np.ndarray) -> bool:
    return _has(pixels, SEA_RGB, 0.05, tol=18) and _has(pixels, BIN_COLOURS[3], 2e-4)


def _wait_idle(page: Any) -> None:
    page.wait_for_selector(f"{CHART} canvas", timeout=120_000)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']",
        timeout=120_000)


def first_render(page: Any, url: str,
                 drawn: Callable[[np.ndarray], bool] = _drawn) -> float:
    """Seconds from navigation until ``drawn`` holds for the map's pixels.

    By default: the map with its base layer and hot-spot hexagons.
    """
    start = time.perf_counter()
    page.goto(url)
    _wait_idle(page)
    while not drawn(_map_image(page)):
        if time.perf_counter() - start > 120:
            raise RuntimeError("the map was not drawn within 120 s")
    return time.perf_counter() - start


def filter_change(page: Any, *, expected_from: str) -> float:
    """Seconds from moving the first month on until the map has redrawn."""
    before = _map_image(page)
    thumb = page.get_by_role("slider").first
    thumb.focus()
    start = time.perf_counter()
    thumb.press("ArrowRight")
    page.wait_for_url(f"**from={expected_from}**", timeout=60_000)
    _wait_idle(page)
    while True:
        now = _map_image(page)
        if now.shape != before.shape or np.abs(now - before).sum() > 0:
            break
        if time.perf_counter() - start > 60:
            raise RuntimeError("the map did not change within 60 s")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5,
                        help="filter changes to time per server (median reported)")
    parser.add_argument("--servers", type=int, default=3,
                        help="fresh servers (and browsers) to measure; the machine "
                        "is shared, so one sample says little")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not CHROMIUM.exists():
        logger.error("%s not found: apt-get install chromium", CHROMIUM)
        return 2
    first: list[float] = []
    second: list[float] = []
    changes: list[float] = []
    for n in range(args.servers):
        a, b, c = measure_one_server(repeats=args.repeats)
        logger.info("server %d/%d: first visitor %.2f s, second %.2f s, filter "
                    "changes %s", n + 1, args.servers, a, b, [round(t, 2) for t in c])
        first.append(a)
        second.append(b)
        changes += c
    floor_first, floor_second = measure_floor()
    logger.info("floor page: first visitor %.2f s, second %.2f s", floor_first,
                floor_second)
    rows: list[tuple[str, list[float], float | None]] = [
        (f"first full render, fresh server, first visitor ({len(first)} servers)",
         first, FIRST_RENDER_TARGET_S),
        ("first full render, second visitor", second, FIRST_RENDER_TARGET_S),
        (f"filter change, first month on by one ({len(changes)} changes)", changes,
         FILTER_TARGET_S),
        ("reference: smallest Streamlit + pydeck page, first visitor "
         "(benchmarks/floor_app.py)", [floor_first], None),
        ("reference: smallest Streamlit + pydeck page, second visitor",
         [floor_second], None),
    ]
    print("| step | median (s) | range (s) | target | median met |")
    print("|---|---:|---:|---:|:---:|")
    for name, values, target in rows:
        med = statistics.median(values)
        goal = "" if target is None else f"≤ {target:.0f}"
        met = "" if target is None else ("yes" if med <= target else "no")
        print(f"| {name} | {med:.2f} | {min(values):.2f}–{max(values):.2f} | "
              f"{goal} | {met} |")
    return 0


def measure_floor() -> tuple[float, float]:
    """First and second visit of benchmarks/floor_app.py in a fresh browser."""
    from playwright.sync_api import sync_playwright

    proc, url = start_floor()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                         args=CHROMIUM_ARGS)
            visits = [first_render(browser.new_page(viewport=VIEWPORT), url,
                                   _floor_drawn) for _ in range(2)]
            browser.close()
    finally:
        stop_app(proc)
    return visits[0], visits[1]


def start_floor() -> tuple[Any, str]:
    """Start benchmarks/floor_app.py on a free port; return the process and URL."""
    port = free_port()
    proc = start_app(port, argv=[
        sys.executable, "-m", "streamlit", "run", str(FLOOR_APP),
        "--server.headless", "true", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"])
    return proc, f"http://127.0.0.1:{port}"


def _floor_drawn(pixels: np.ndarray) -> bool:
    return _has(pixels, (220, 40, 40), 1e-3)


def measure_one_server(*, repeats: int) -> tuple[float, float, list[float]]:
    """Start a fresh server and browser; time two first visits and filter changes."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = start_app(port)
    url = f"http://127.0.0.1:{port}"
    months = [f"2024-{m:02d}" for m in (11, 12)] + [
        f"2025-{m:02d}" for m in range(1, 10)]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                         args=CHROMIUM_ARGS)
            first = first_render(browser.new_page(viewport=VIEWPORT), url)
            page = browser.new_page(viewport=VIEWPORT)
            second = first_render(page, url)
            changes = [filter_change(page, expected_from=months[i])
                       for i in range(min(repeats, len(months)))]
            browser.close()
    finally:
        stop_app(proc)
    return first, second, changes


if __name__ == "__main__":
    raise SystemExit(main())

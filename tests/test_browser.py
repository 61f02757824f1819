"""The app in a real headless Chromium (Debian's /usr/bin/chromium), with no internet.

Starts the app on a free port the way ``make run`` does (``hotspot serve``),
loads the map, switches CSP, changes the months, toggles a layer, opens a hot
spot and hovers it, saving a screenshot of each step into ``docs/img/``. The
screenshots are checked for the colours that must be there (sea, outlines,
hot-spot hexagons), and no request may leave the machine. Skips cleanly when
Chromium is not installed (``apt-get install chromium``; never
``playwright install``).
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
IMG_DIR = ROOT / "docs" / "img"
CHROMIUM = Path("/usr/bin/chromium")
#: Chromium flags. SwiftShader through ANGLE renders WebGL on the CPU; with
#: ``--disable-gpu`` instead, deck.gl's first frame took 48 s here against 3 s.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader", "--disable-background-networking",
]
VIEWPORT = {"width": 1280, "height": 720}
SOUTHAMPTON = "E06000045"

#: The marks of every browser test module: skipped without Chromium or the store.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} not found: install Debian's chromium "
                       "(make browser) to run the browser tests"),
    pytest.mark.skipif(
        not (ROOT / "data" / "default_store" / "occurrences.parquet").exists(),
        reason="embedded default store not built (make data)"),
]
pytestmark = BROWSER_MARKS
#: Seconds the app may take to report healthy (it computes the default view
#: first; on a shared machine that can take minutes).
START_TIMEOUT_S = 240.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_app(port: int, env: dict[str, str] | None = None, *,
              argv: list[str] | None = None,
              timeout_s: float = 60.0) -> subprocess.Popen[bytes]:
    """Start the app as ``make run`` does (``hotspot serve``) on ``port``.

    Waits until the server is healthy, which it is once the default view has
    been computed (:mod:`hotspot.cli.serve`).

    ``env`` adds environment variables (e.g. a temporary operation store);
    ``argv`` starts another command instead (one that serves on ``port``);
    ``timeout_s`` is how long to wait for the health check.
    """
    proc = subprocess.Popen(  # noqa: S603 - fixed command, no user input
        argv or [sys.executable, "-m", "hotspot.cli.serve", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(  # noqa: S310 - localhost only
                f"http://127.0.0.1:{port}/_stcore/health", timeout=2
            ) as reply:
                if reply.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"streamlit did not answer its health check within "
                       f"{timeout_s:g} s")


def stop_app(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server started by :func:`start_app`."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The running app's address (its operation store and data folder temporary)."""
    folder = tmp_path_factory.mktemp("app_data")
    port = free_port()
    proc = start_app(port, env={"HOTSPOT_OPERATIONS_STORE":
                                str(folder / "operations.gpkg"),
                                "HOTSPOT_APP_DATA": str(folder)},
                     timeout_s=START_TIMEOUT_S)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_app(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, driven by Playwright."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM),
                                      args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wait_idle(page: Any, *, settle_ms: int = 1500) -> None:
    """Wait until the script run is over and the map has drawn."""
    page.wait_for_selector("[data-testid='stDeckGlJsonChart'] canvas",
                           timeout=60_000)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']",
        timeout=120_000)
    page.wait_for_timeout(settle_ms)


def map_pixels(page: Any, name: str) -> np.ndarray:
    """Save a full screenshot as docs/img/<name>.png; return the map's pixels."""
    from PIL import Image

    IMG_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG_DIR / f"{name}.png"))
    shot = page.locator("[data-testid='stDeckGlJsonChart']").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def share_near(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 18) -> float:
    """Share of pixels within ``tol`` of ``rgb`` on every channel."""
    near = np.all(np.abs(pixels - np.asarray(rgb)) <= tol, axis=-1)
    return float(near.mean())


def test_map_in_a_browser_without_internet(app_url: str, browser: Any) -> None:
    from hotspot.layers import (
        BIN_COLOURS,
        LAND_RGB,
        OUTLINE_RGB,
        OUTSIDE_LAND_RGB,
        SEA_RGB,
    )

    page = browser.new_page(viewport=VIEWPORT)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not re.match(r"^(https?://(127\.0\.0\.1|localhost)|data:|blob:)",
                            r.url) else None)
    page.goto(app_url)
    wait_idle(page, settle_ms=2500)

    # 1. the default view: all 14 CSPs
    pixels = map_pixels(page, "map_default")
    assert share_near(pixels, SEA_RGB) > 0.03, "no sea"
    assert share_near(pixels, OUTSIDE_LAND_RGB, tol=6) > 0.05, \
        "land outside HIPS not drawn as land"
    assert share_near(pixels, LAND_RGB, tol=8) > 0.1, "no land fill"
    assert share_near(pixels, OUTLINE_RGB, tol=40) > 0.002, "no outlines or labels"
    assert share_near(pixels, BIN_COLOURS[3], tol=40) > 0.0005, "no hot spots"
    assert page.get_by_text("Hot spot, 99% confidence").is_visible()

    # 2. switch CSP: Southampton
    page.get_by_test_id("stSelectbox").filter(
        has_text=re.compile(r"^CSP\b(?! areas)")).click()
    page.get_by_role("option", name="Southampton").click()
    page.wait_for_url(re.compile(f"csp={SOUTHAMPTON}"), timeout=60_000)
    wait_idle(page)
    pixels = map_pixels(page, "map_southampton")
    assert share_near(pixels, BIN_COLOURS[3], tol=40) > 0.005
    assert page.get_by_text("Top hot spots: Southampton").count() == 1

    # 3. change the date range: move the first month on by two
    thumb = page.get_by_role("slider").first
    thumb.focus()
    thumb.press("ArrowRight")
    thumb.press("ArrowRight")
    page.wait_for_url(re.compile(r"from=\d{4}-\d{2}"), timeout=60_000)
    wait_idle(page)

    # 4. toggle layers: the density surface on, ward outlines on
    page.get_by_text("Kernel density surface").click()
    page.wait_for_url(re.compile(r"layers=[^&]*kde"), timeout=60_000)
    wait_idle(page)
    page.get_by_text("Ward outlines").click()
    page.wait_for_url(re.compile(r"layers=[^&]*wards"), timeout=60_000)
    wait_idle(page)
    pixels = map_pixels(page, "map_kde_wards")
    assert share_near(pixels, SEA_RGB) < 0.9

    # 5. open the top hot spot and hover it for its explanation
    page.get_by_role("button", name="Zoom to #1").click()
    page.wait_for_url(re.compile(r"focus=8"), timeout=60_000)
    wait_idle(page)
    assert page.get_by_text("Zoomed to ").count() == 1
    chart = page.locator("[data-testid='stDeckGlJsonChart']")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2 - 3, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".deck-tooltip")
    tooltip.wait_for(state="visible", timeout=15_000)
    page.screenshot(path=str(IMG_DIR / "map_hotspot.png"))
    assert "z =" in tooltip.inner_text()

    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()


def test_overlays_from_a_link(app_url: str, browser: Any) -> None:
    from hotspot.layers import ARSON_RGB, BIN_COLOURS

    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{app_url}/?csp=E06000044&layers=gistar,csp,places,imd,arson"
              "&imd=2019&panel=deprivation")
    wait_idle(page, settle_ms=2500)
    pixels = map_pixels(page, "map_overlays_portsmouth")
    assert share_near(pixels, ARSON_RGB, tol=30) > 0.0005, "no arson circles"
    assert share_near(pixels, BIN_COLOURS[3], tol=40) > 0.001, "no hot spots"
    assert page.get_by_text("IMD 2019 decile").is_visible()
    assert page.get_by_text("Deprivation (IMD 2019)").is_visible()
    assert page.get_by_text("Criminal damage and arson (circle area = count)"
                            ).is_visible()
    page.close()


def wait_script(page: Any, *, settle_ms: int = 1500) -> None:
    """Wait until the script run is over (pages without a map)."""
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']",
        timeout=120_000)
    page.wait_for_timeout(settle_ms)


def test_create_an_operation_from_hot_spots_and_evaluate_it(
    app_url: str, browser: Any
) -> None:
    from hotspot.layers import ACTIVITY_STYLES, OPERATION_RGB

    page = browser.new_page(viewport=VIEWPORT)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not re.match(r"^(https?://(127\.0\.0\.1|localhost)|data:|blob:)",
                            r.url) else None)
    page.goto(f"{app_url}/operations")
    wait_idle(page, settle_ms=2500)

    # 1. the demonstration operation: symbols, legend, timeline
    pixels = map_pixels(page, "operations_demo")
    assert share_near(pixels, ACTIVITY_STYLES["patrol_zone"][0], tol=40) > 0.0005
    assert share_near(pixels, OPERATION_RGB, tol=30) > 0.0005
    assert page.get_by_text("Section 60 authorisation").first.is_visible()
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 1

    # 2. create one from the top 5 hot cells of Southampton
    page.get_by_text("Create from hot spots", exact=True).click()
    wait_script(page)
    page.get_by_test_id("stSelectbox").filter(
        has_text=re.compile(r"^CSP\b(?! areas)")).click()
    page.get_by_role("option", name="Southampton").click()
    wait_script(page)
    name = page.get_by_label("Name")
    name.fill("Op Browser")
    name.press("Enter")
    wait_script(page)
    # the dates default to the coming month (no data yet): choose a past period
    for label, parts in (("First day", ("2025", "06", "01")),
                         ("Last day", ("2025", "07", "31"))):
        for part, value in zip(("year", "month", "day"), parts, strict=True):
            box = page.get_by_role("spinbutton", name=f"{part}, {label}")
            box.click()
            page.keyboard.type(value)
        page.keyboard.press("Tab")
        wait_script(page)
    page.get_by_role("button", name="Create operation").click()
    page.get_by_text("Created Op Browser with 5 patrol zones.").wait_for(
        timeout=120_000)
    wait_script(page)
    page.get_by_text("Map and timeline", exact=True).click()
    wait_idle(page)
    pixels = map_pixels(page, "operations_created")
    assert share_near(pixels, ACTIVITY_STYLES["patrol_zone"][0], tol=40) > 0.0005

    # 3. its evaluation
    page.get_by_text("Evaluation", exact=True).click()
    page.get_by_text("Possession of weapons only").wait_for(timeout=120_000)
    wait_script(page)
    assert page.get_by_text("weighted displacement difference").count() >= 1
    page.screenshot(path=str(IMG_DIR / "operations_evaluation.png"), full_page=True)
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()


def test_export_download_passes_the_checker(app_url: str, browser: Any,
                                            tmp_path: Path) -> None:
    from hotspot.export.disclosure import check_file

    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    page.goto(f"{app_url}/exports")
    page.get_by_role("button", name="GeoPackage").wait_for(timeout=120_000)
    wait_script(page)
    page.screenshot(path=str(IMG_DIR / "exports_page.png"), full_page=True)
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="GeoPackage").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".gpkg" and saved.stat().st_size > 1000
    assert check_file(saved) == []
    page.close()

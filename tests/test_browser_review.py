"""The review page in headless Chromium, saved as docs/img/review.png."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_browser import (
    CHROMIUM,
    IMG_DIR,
    ROOT,
    free_port,
    stop_app,
)

#: Seconds to wait for the server's health check (the machine is shared).
START_TIMEOUT_S = 240

#: Flags for a page without a map (no WebGL needed).
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
        "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 768}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found"),
    pytest.mark.skipif(
        not (ROOT / "data" / "default_store" / "occurrences.parquet").exists(),
        reason="embedded default store not built (make data)"),
]


def _start(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``hotspot serve`` on ``port``; wait for its health check."""
    proc = subprocess.Popen(  # noqa: S603 - fixed command, no user input
        [sys.executable, "-m", "hotspot.cli.serve", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env})
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(  # noqa: S310 - localhost only
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    stop_app(proc)
    raise RuntimeError(f"the app did not answer within {START_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("app_data")
    port = free_port()
    env = {"HOTSPOT_APP_DATA": str(folder),
           "HOTSPOT_OPERATIONS_STORE": str(folder / "operations.gpkg")}
    proc = _start(port, env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_app(proc)


def test_review_page_in_a_browser(app_url: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser: Any = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if not re.match(
            r"^(https?://(127\.0\.0\.1|localhost)|data:|blob:)", r.url) else None)
        page.goto(f"{app_url}/review")
        page.wait_for_selector("[data-testid='stDataFrame']", timeout=120_000)
        page.wait_for_selector(
            "[data-testid='stApp'][data-test-script-state='notRunning']",
            timeout=120_000)
        page.wait_for_timeout(2000)
        IMG_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMG_DIR / "review.png"))
        page.get_by_text("Definitions: what each column means").click()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(IMG_DIR / "review_definitions.png"))
        assert page.get_by_text("CSP review: rates, changes and context").count() == 1
        assert page.get_by_text("SYNTHETIC DATA", exact=False).count() >= 1
        browser.close()
    assert outside == []

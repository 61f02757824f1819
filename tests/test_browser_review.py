"""The review page in headless Chromium, saved as docs/img/review.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_browser import (
    BROWSER_MARKS,
    CHROMIUM,
    IMG_DIR,
    START_TIMEOUT_S,
    free_port,
    start_app,
    stop_app,
)

#: Flags for a page without a map (no WebGL needed).
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
        "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 768}

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("app_data")
    port = free_port()
    env = {"HOTSPOT_APP_DATA": str(folder),
           "HOTSPOT_OPERATIONS_STORE": str(folder / "operations.gpkg")}
    proc = start_app(port, env, timeout_s=START_TIMEOUT_S)
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

"""An inspector's path in a real headless Chromium: from the link to the patrol plan.

For every CSP, one browser session: open the link (1), follow "My patrol plan
for this area" (2), open the CSP box (3), choose the CSP (4), download the
plan (5): at most five actions, no error on the way, and the PDF names its
cells by place. Then the screenshots of issue 13 at 1366 × 768 and 390 × 844
(``docs/img/inspector_*``): named hot spots in the top list, street labels at
close zoom, a patrol card; on the phone the sidebar starts collapsed and the
mouse wheel over the map scrolls the page.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.test_browser import (  # noqa: F401 - fixtures
    BROWSER_MARKS,
    IMG_DIR,
    app_url,
    browser,
    free_port,
    start_app,
    stop_app,
    wait_idle,
    wait_script,
)

pytestmark = BROWSER_MARKS
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
#: How far the page has scrolled (Streamlit scrolls its main block, not the window).
SCROLLED = ("() => Math.max(window.scrollY, ...Array.from(document.querySelectorAll("
            "'main, section, div')).map(e => e.scrollTop))")
H3_ID = re.compile(r"\b8[0-9a-f]{14}\b")


def _csps() -> list[tuple[str, str]]:
    from hotspot.boundaries import load_csps

    csps = load_csps()
    return sorted(zip(csps["csp_code"], csps["csp_name"], strict=True),
                  key=lambda c: (c[1] != "Portsmouth", c[1]))


def _no_error(page: Any) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


def test_link_to_downloaded_patrol_plan_for_every_csp(
        app_url: str, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    page = browser.new_page(viewport=DESKTOP, accept_downloads=True)
    done = []
    for code, name in _csps():
        actions = 0
        page.goto(app_url)  # 1. open the link
        actions += 1
        wait_idle(page)
        page.get_by_role("link", name="My patrol plan for this area").click()  # 2
        actions += 1
        wait_script(page)
        page.get_by_test_id("stSelectbox").filter(
            has_text="1. Your area").click()  # 3
        actions += 1
        page.get_by_role("option", name=name, exact=True).click()  # 4
        actions += 1
        button = page.get_by_role("button", name="Download the patrol plan (PDF)")
        button.wait_for(timeout=240_000)
        wait_script(page)
        _no_error(page)
        with page.expect_download(timeout=240_000) as info:
            button.click()  # 5
        actions += 1
        saved = tmp_path / f"{code}.pdf"
        info.value.save_as(saved)
        assert actions <= 5
        assert saved.read_bytes().startswith(b"%PDF")
        text = subprocess.run(["pdftotext", "-layout", str(saved), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert f"Patrol plan: {name}" in text
        assert "Cells by rank" in text and "1. " in text
        first = text.split("Cells by rank", 1)[1].splitlines()[1]
        assert not H3_ID.search(first), first  # the cell is named, not an id
        assert "SYNTHETIC" in text
        _no_error(page)
        done.append(name)
    assert len(done) == 14
    page.close()


def _shot(page: Any, name: str, *, full: bool = False) -> Path:
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    path = IMG_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    return path


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366x768", "390x844"])
def test_inspector_screenshots(app_url: str, browser: Any,  # noqa: F811
                               viewport: dict[str, int]) -> None:
    size = f"{viewport['width']}x{viewport['height']}"
    page = browser.new_page(viewport=viewport)
    page.goto(f"{app_url}/?csp=E06000044")
    wait_idle(page, settle_ms=2500)
    box = page.locator("[data-testid='stSidebar']").bounding_box()
    sidebar_open = box is not None and box["x"] + box["width"] > 50
    if viewport is PHONE:
        assert not sidebar_open, f"the sidebar covers the phone screen: {box}"
        chart = page.locator("[data-testid='stDeckGlJsonChart']")
        chart.scroll_into_view_if_needed()
        before = page.evaluate(SCROLLED)
        box = chart.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(800)
        assert page.evaluate(SCROLLED) > before, "the map trapped the wheel"
    else:
        assert sidebar_open
    top = page.get_by_text("Top hot spots: Portsmouth")
    top.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    _shot(page, f"inspector_top_list_{size}")
    assert page.get_by_text("Charles Dickens ward").count() >= 1
    page.get_by_role("button", name="Zoom to #1").click()
    page.wait_for_url(re.compile(r"focus=8"), timeout=60_000)
    wait_idle(page, settle_ms=2500)
    page.locator("[data-testid='stDeckGlJsonChart']").scroll_into_view_if_needed()
    _shot(page, f"inspector_streets_{size}")
    page.goto(f"{app_url}/plan?csp=E06000044")
    page.get_by_text("Patrol cards").wait_for(timeout=240_000)
    wait_script(page, settle_ms=2000)
    _no_error(page)
    _shot(page, f"inspector_plan_{size}")
    page.get_by_text("Patrol cards").evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)
    _shot(page, f"inspector_card_{size}")
    page.close()


def test_monthly_chart_marks_missing_months(
        app_url: str, browser: Any) -> None:  # noqa: F811
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{app_url}/?csp=E06000044&panel=when")
    wait_idle(page, settle_ms=2500)
    caption = page.get_by_text("No data (not zero):")
    caption.wait_for(timeout=60_000)
    assert "May–Sep 2024" in caption.inner_text()
    page.locator("[data-testid='stVegaLiteChart']").last.evaluate(
        "e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(1000)
    _shot(page, "inspector_when_1366x768")
    _no_error(page)
    page.close()

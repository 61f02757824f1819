"""The trend map and the evaluation verdict in headless Chromium (issue 17).

Uses the server and browser of :mod:`tests.test_browser`; saves
``docs/img/trends.png`` (Portsmouth's Trends panel: the sentence, the trend
map and its legend) and ``docs/img/evaluation.png`` (the Op Meero
demonstration's verdict, map and PDF button) at 1366 × 768.
"""

from __future__ import annotations

import re
from typing import Any

from tests.test_browser import (  # noqa: F401 (fixtures)
    BROWSER_MARKS,
    IMG_DIR,
    app_url,
    browser,
    map_pixels,
    share_near,
    wait_idle,
    wait_script,
)

pytestmark = BROWSER_MARKS
VIEWPORT = {"width": 1366, "height": 768}
PORTSMOUTH = "E06000044"


def _offline(page: Any) -> list[str]:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not re.match(r"^(https?://(127\.0\.0\.1|localhost)|data:|blob:)",
                            r.url) else None)
    return outside


def test_trend_map(app_url: str, browser: Any) -> None:  # noqa: F811
    from hotspot.layers import EMERGING_COLOURS

    page = browser.new_page(viewport=VIEWPORT)
    outside = _offline(page)
    page.goto(f"{app_url}/?csp={PORTSMOUTH}&panel=trends")
    wait_idle(page, settle_ms=2500)
    page.get_by_text("Emerging hot spots", exact=True).first.wait_for(
        timeout=120_000)
    charts = page.locator("[data-testid='stDeckGlJsonChart']")
    charts.nth(1).wait_for(timeout=120_000)
    # scroll the page (a mouse wheel over the map would zoom it instead)
    page.locator("#emerging-hot-spots").evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(3000)
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG_DIR / "trends.png"))
    import io

    import numpy as np
    from PIL import Image

    shot = charts.nth(1).screenshot()
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)
    drawn = sum(share_near(pixels, rgb, tol=25) for rgb in EMERGING_COLOURS.values())
    assert drawn > 0.0005, "no emerging hot-spot cells on the trend map"
    assert page.get_by_text("What the categories mean").count() == 1
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()


def test_evaluation_verdict(app_url: str, browser: Any) -> None:  # noqa: F811
    page = browser.new_page(viewport=VIEWPORT)
    outside = _offline(page)
    page.goto(f"{app_url}/operations")
    wait_idle(page, settle_ms=1500)
    page.get_by_text("Evaluation", exact=True).click()
    page.get_by_text("During the operation: No clear change").wait_for(
        timeout=120_000)
    wait_script(page, settle_ms=2000)
    page.get_by_text("Buffer width (m)").first.evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(1500)
    page.screenshot(path=str(IMG_DIR / "evaluation.png"))
    assert page.get_by_role("button", name="Evaluation (PDF)").is_visible()
    assert page.get_by_text("prevented").count() == 0
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.close()

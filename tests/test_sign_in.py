"""Real sign-in, end to end: Streamlit's st.login against a local OpenID provider.

A mock OpenID Connect provider (``oidc-provider-mock``) runs on 127.0.0.1; the
app is served (``hotspot serve``) with a secrets file naming it and an access
policy that lists one analyst. In headless Chromium the visitor starts as a
partner (no occurrence points), signs in as the analyst (points allowed, and
looking at them is written to the audit log), signs out, and is a partner
again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_browser import (  # noqa: F401 - browser is a fixture
    BROWSER_MARKS,
    CHROMIUM,
    IMG_DIR,
    ROOT,
    browser,
    free_port,
    start_app,
    stop_app,
    wait_idle,
)

pytestmark = BROWSER_MARKS
ANALYST = "ann.analyst@example.org"
SOUTHAMPTON = "E06000045"


def busiest_hot_cell() -> str:
    """Southampton's strongest hot spot on the embedded store (the map's analysis)."""
    from hotspot.analysis import analyse
    from hotspot.ingest.store import load_occurrences
    from hotspot.view import View

    cells = analyse(load_occurrences(), View(csp=SOUTHAMPTON)).view_cells()
    return str(cells.sort_values("z", ascending=False)["h3"].iloc[0])


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A local OpenID Connect provider (its own process) with one predefined user.

    In its own process, the provider's library warnings are not turned into
    errors by this test run's warning filters.
    """
    pytest.importorskip("oidc_provider_mock")
    port = free_port()
    claims = json.dumps({"sub": "ann", "email": ANALYST, "name": "Ann Analyst"})
    proc = subprocess.Popen(  # noqa: S603 - fixed command, localhost only
        [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1",
         "--port", str(port), "--user-claims", claims],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(  # noqa: S310 - localhost only
                    f"{url}/.well-known/openid-configuration", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.terminate()
        raise RuntimeError("the OpenID provider did not start within 30 s")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def signed_app(provider: str, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("signin")
    port = free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-that-is-long-enough"\n'
        'client_id = "hotspot-test"\nclient_secret = "hotspot-test-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8")
    shipped = (ROOT / "config" / "access.toml").read_text(encoding="utf-8")
    policy = folder / "access.toml"
    head, _, tail = shipped.rpartition("\n[users]\n")
    policy.write_text(f'{head}\n[users]\n"{ANALYST}" = "analyst"\n{tail}',
                      encoding="utf-8")
    proc = start_app(port, env={"HOTSPOT_ACCESS_FILE": str(policy),
                                "HOTSPOT_APP_DATA": str(folder),
                                "HOTSPOT_OPERATIONS_STORE": str(folder / "ops.gpkg")},
                     argv=[sys.executable, "-m", "hotspot.cli.serve", "--port",
                           str(port), "--", "--secrets.files", str(secrets)])
    try:
        yield f"http://localhost:{port}", folder
    finally:
        stop_app(proc)


def sidebar_text(page: Any) -> str:
    return str(page.locator("[data-testid='stSidebar']").inner_text())


def points_toggle_enabled(page: Any) -> bool:
    box = page.get_by_role("checkbox", name="Occurrence points (zoomed in only)")
    return bool(box.is_enabled())


def test_sign_in_as_analyst_then_out_as_partner(
        signed_app: tuple[str, Path], browser: Any) -> None:  # noqa: F811
    url, folder = signed_app
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{url}/?csp={SOUTHAMPTON}", wait_until="networkidle")
    wait_idle(page)
    text = sidebar_text(page)
    assert "Partner agency" in text and "not signed in" in text
    assert not points_toggle_enabled(page)

    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=Authorize Client", timeout=60_000)
    page.get_by_role("button", name="ann", exact=True).click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)
    wait_idle(page)
    text = sidebar_text(page)
    assert "Police / VRU analyst" in text and ANALYST in text
    assert points_toggle_enabled(page)
    page.screenshot(path=str(IMG_DIR / "signed_in_analyst.png"))

    # an analyst zoomed to a hot spot sees points, and that is audited
    cell = busiest_hot_cell()
    page.goto(f"{url}/?csp={SOUTHAMPTON}&focus={cell}&layers=gistar,csp,points",
              wait_until="networkidle")
    wait_idle(page)
    events = [json.loads(line) for line in
              (folder / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(e["action"] == "points" and e["identity"] == ANALYST for e in events)

    page.get_by_role("button", name="Sign out").click()
    # the app's cookie is gone; the provider asks to end its session too
    page.get_by_role("button", name="End session").click(timeout=60_000)
    page.goto(f"{url}/?csp={SOUTHAMPTON}", wait_until="networkidle")
    wait_idle(page)
    text = sidebar_text(page)
    assert "Partner agency" in text and "not signed in" in text
    assert not points_toggle_enabled(page)
    page.close()

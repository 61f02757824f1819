"""Roles in the app (AppTest): who sees occurrence points, record rows, uploads.

The policy comes from a file named by ``HOTSPOT_ACCESS_FILE``; the user from
AppTest's ``user`` (Streamlit's own sign-in). See docs/access.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hotspot.access import ACCESS_FILE_ENV
from hotspot.ingest.store import DEFAULT_STORE
from tests.test_access import ACCESS, ROLES
from tests.test_app import APP, PORTSMOUTH, SOUTHAMPTON, layer_ids, rerun

pytestmark = pytest.mark.skipif(
    not (DEFAULT_STORE / "occurrences.parquet").exists(),
    reason=f"embedded default store not built at {DEFAULT_STORE} (make data)",
)

POLICY = ACCESS + ROLES.replace(
    "uploads = true\n", "uploads = true\nedit_operations = true\n", 1) + f"""
[users]
"analyst@example.org" = "analyst"
"inspector@example.org" = {{ role = "inspector", csps = ["{SOUTHAMPTON}"] }}
"""


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A policy whose default role is 'partner', named by the environment."""
    path = tmp_path / "access.toml"
    path.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv(ACCESS_FILE_ENV, str(path))
    return path


def app_as(email: str | None, query: dict[str, str] | None = None) -> AppTest:
    """Run the map page signed in as ``email`` (None: not signed in)."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.user = ({"is_logged_in": True, "email": email} if email
               else {"is_logged_in": False})
    if query:
        at.query_params.update(query)
    return rerun(at)


def zoom_to_first_hot_spot(at: AppTest) -> str:
    """Click the first 'zoom to' button; return the cell."""
    buttons = [b for b in at.button if b.key and b.key.startswith("zoom_8")]
    assert buttons, "no 'zoom to' button"
    buttons[0].click()
    rerun(at)
    return str(buttons[0].key.removeprefix("zoom_"))


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.mark.usefixtures("policy_file")
def test_partner_never_gets_points_even_from_a_link() -> None:
    at = app_as(None, {"csp": SOUTHAMPTON, "layers": "gistar,csp,points"})
    box = at.checkbox(key="w_layer_points")
    assert box.disabled
    assert "off for your role (Partner agency)" in str(box.help)
    problems = " ".join(i.value for i in at.info)
    assert "Occurrence points" in problems  # the link's layer was refused
    zoom_to_first_hot_spot(at)
    assert "points" not in layer_ids(at)
    assert "layers" not in at.query_params or "points" not in str(
        at.query_params["layers"])
    assert "Partner agency" in " ".join(c.value for c in at.sidebar.caption)


@pytest.mark.usefixtures("policy_file")
def test_analyst_sees_points_when_zoomed_in() -> None:
    at = app_as("Analyst@Example.org",
                {"csp": SOUTHAMPTON, "layers": "gistar,csp,points"})
    assert not at.checkbox(key="w_layer_points").disabled
    assert "points" not in layer_ids(at)  # zoomed out: aggregated
    zoom_to_first_hot_spot(at)
    assert "points" in layer_ids(at)
    assert "in every CSP" in captions(at)


@pytest.mark.usefixtures("policy_file")
@pytest.mark.parametrize(("csp", "shown"), [(SOUTHAMPTON, True), (PORTSMOUTH, False)],
                         ids=["own-csp", "other-csp"])
def test_inspector_sees_points_only_in_their_csp(csp: str, shown: bool) -> None:
    at = app_as("inspector@example.org", {"csp": csp, "layers": "gistar,csp,points"})
    zoom_to_first_hot_spot(at)
    assert ("points" in layer_ids(at)) is shown
    assert "Southampton" in captions(at)


@pytest.mark.usefixtures("policy_file")
def test_partner_data_page_shows_counts_but_no_rows_or_uploads() -> None:
    at = app_as(None)
    at.switch_page("app_pages/data.py")
    rerun(at)
    assert any("Rejected rows by reason" in s.value for s in at.subheader)
    assert not at.get("download_button")
    assert not at.get("file_uploader")
    infos = " ".join(i.value for i in at.info)
    assert "Uploading data is not part of your role" in infos
    assert "Record-level rows are not shown" in infos
    tables = [t.value for t in at.dataframe]
    details = " ".join(str(v) for t in tables if "detail" in t
                       for v in t["detail"])
    assert "duplicate" in details or "repeat" in details
    assert "e.g." not in details  # example record ids left out


@pytest.mark.usefixtures("policy_file")
def test_analyst_data_page_has_rows_and_uploads() -> None:
    at = app_as("analyst@example.org")
    at.switch_page("app_pages/data.py")
    rerun(at)
    assert at.get("download_button")
    assert at.get("file_uploader")


def test_shipped_policy_keeps_the_demo_as_it_was() -> None:
    at = app_as(None, {"csp": SOUTHAMPTON, "layers": "gistar,csp,points"})
    assert not at.checkbox(key="w_layer_points").disabled
    assert "Police / VRU analyst" in " ".join(c.value for c in at.sidebar.caption)


@pytest.mark.usefixtures("policy_file")
@pytest.mark.parametrize(("email", "edits"), [(None, False),
                                              ("analyst@example.org", True)],
                         ids=["partner", "analyst"])
def test_only_roles_that_edit_operations_see_the_controls(
        email: str | None, edits: bool, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hotspot.app import operations as app_operations
    from hotspot.app.operations import OpKeys

    monkeypatch.setenv(app_operations.OPERATIONS_ENV, str(tmp_path / "ops.gpkg"))
    at = app_as(email)
    at.switch_page("app_pages/operations.py")
    rerun(at)
    at.radio(key=OpKeys.SECTION).set_value("Create from hot spots")
    rerun(at)
    assert bool([b for b in at.button if b.key == OpKeys.NEW_GO]) is edits
    at.radio(key=OpKeys.SECTION).set_value("Duplicate, delete, import, export")
    rerun(at)
    keys = {b.key for b in at.button}
    assert (OpKeys.DELETE_GO in keys) is edits
    assert (OpKeys.COPY_GO in keys) is edits
    assert bool(at.get("file_uploader")) is edits
    assert at.get("download_button")  # everyone may export an operation
    notes = " ".join(i.value for i in at.info)
    assert ("not part of your role" in notes) is not edits

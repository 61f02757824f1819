"""The Operations and Export pages, driven by Streamlit's AppTest.

Every control path of the operations page (map and legend, timeline, patrol
plan, evaluation with its buffer control, create from hot spots, duplicate,
delete with confirmation, export and import, validation messages), and the
export page's download buttons, whose files must pass the disclosure checker.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from hotspot import settings
from hotspot.app import exports as app_exports
from hotspot.app import operations as app_operations
from hotspot.app.operations import OpKeys
from hotspot.errors import InputFileError
from hotspot.export.disclosure import DisclosureRules, check_file
from hotspot.ingest.store import DEFAULT_STORE
from hotspot.operations import ACTIVITY_KINDS, OperationStore, import_operations
from hotspot.view import DEFAULT_VIEW

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SOUTHAMPTON = "E06000045"
DEMO = "Op Meero 2025 (demonstration)"

pytestmark = pytest.mark.skipif(
    not (DEFAULT_STORE / "occurrences.parquet").exists(),
    reason=f"embedded default store not built at {DEFAULT_STORE} (make data)",
)


@pytest.fixture
def ops_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh operation store (seeded with the demo) and app data folder."""
    path = tmp_path / "operations.gpkg"
    monkeypatch.setenv(app_operations.OPERATIONS_ENV, str(path))
    monkeypatch.setattr(settings, "APP_DATA_DIR", tmp_path / "var")
    (tmp_path / "var").mkdir()
    return path


def rerun(at: AppTest) -> AppTest:
    """Rerun after a widget change, failing on any exception."""
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def ops_page() -> AppTest:
    """The app switched to the operations page."""
    at = AppTest.from_file(APP, default_timeout=240)
    rerun(at)
    at.switch_page("app_pages/operations.py")
    return rerun(at)


def section(at: AppTest, name: str) -> AppTest:
    """Show one section of the operations page."""
    at.radio(key=OpKeys.SECTION).set_value(name)
    return rerun(at)


def deck(at: AppTest) -> dict[str, Any]:
    """The page's one deck specification."""
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    spec: dict[str, Any] = json.loads(charts[0].proto.json)
    return spec


def download_labels(at: AppTest) -> list[str]:
    """Labels of the download buttons on screen."""
    return [b.proto.label for b in at.get("download_button")]


def names_in_store(path: Path) -> list[str]:
    """Operation names in a store."""
    return sorted(OperationStore(path).catalogue()["name"])


# ----------------------------------------------------------------------------
# the operations page
# ----------------------------------------------------------------------------


def test_page_lists_the_demo_and_maps_it_with_a_legend(ops_store: Path) -> None:
    at = ops_page()
    assert at.selectbox(key=OpKeys.OPERATION).value is not None
    assert DEMO in at.dataframe[0].value["name"].tolist()
    assert any("DEMONSTRATION" in c.value for c in at.caption)
    ids = [layer["id"] for layer in deck(at)["layers"]]
    for wanted in ("operation_areas", "activities_areas", "activities_points",
                   "activities_glyphs"):
        assert wanted in ids
    glyphs = next(x for x in deck(at)["layers"] if x["id"] == "activities_glyphs")
    assert {"P", "60", "35", "C", "S"} <= {g["text"] for g in glyphs["data"]}
    legend = next(m.value for m in at.markdown if "Operation area" in m.value)
    for kind in ("patrol_zone", "s60_area", "cctv", "school", "community_event"):
        assert ACTIVITY_KINDS[kind].label in legend
    assert at.get("vega_lite_chart"), "no timeline chart"


def test_patrol_plan_has_tables_and_downloads(ops_store: Path) -> None:
    at = section(ops_page(), "Patrol plan")
    assert download_labels(at) == ["Plan as CSV", "Printable plan (PDF)"]
    cells = at.dataframe[1].value
    assert len(cells) >= 1 and "peak_window" in cells.columns
    before = len(cells)
    at.number_input(key=OpKeys.HOURS).set_value(2.0)
    rerun(at)
    assert len(at.dataframe[1].value) < before  # a smaller budget, fewer cells


def test_plan_pdf_bytes_are_a_pdf(ops_store: Path) -> None:
    store = app_operations.open_store(str(ops_store))
    op = store.load_all()[0]
    pdf = app_operations.plan_pdf(str(DEFAULT_STORE), "district", str(ops_store),
                                  op.operation_id, op.version, 16.0, 15)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_evaluation_shows_three_measures_and_follows_the_buffer(
    ops_store: Path,
) -> None:
    at = section(ops_page(), "Evaluation")
    titles = [m.value for m in at.markdown]
    for title in ("**Serious violence without possession of weapons**",
                  "**All serious violence**", "**Possession of weapons only**"):
        assert title in titles
    assert any("weighted displacement difference" in t for t in titles)
    assert any("Proactive offences" in t for t in titles)
    assert any("SYNTHETIC" in w.value for w in at.warning)
    # SYNTHETIC first, then the one-line verdict, before any figure
    assert at.error[0].value.startswith("SYNTHETIC")
    assert "During the operation: No clear change" in at.info[0].value
    assert not any("prevented" in t for t in titles)
    buffer_before = at.dataframe[1].value.loc["Buffer ring", "before"]
    at.slider(key=OpKeys.BUFFER).set_value(1000)
    rerun(at)
    assert at.dataframe[1].value.loc["Buffer ring", "before"] > buffer_before
    assert download_labels(at) == ["Evaluation (PDF)", "Results (CSV)"]


def create(at: AppTest, *, name: str, wards: list[str] | None = None,
           end: Any = None) -> AppTest:
    """Fill the create-from-hot-spots form and press the button."""
    section(at, "Create from hot spots")
    at.selectbox(key=OpKeys.NEW_CSP).set_value(SOUTHAMPTON)
    rerun(at)
    if wards:
        at.multiselect(key=OpKeys.NEW_WARDS).set_value(wards)
    at.text_input(key=OpKeys.NEW_NAME).set_value(name)
    at.number_input(key=OpKeys.NEW_TOP).set_value(4)
    if end is not None:
        at.date_input(key=OpKeys.NEW_END).set_value(end)
    at.button(key=OpKeys.NEW_GO).click()
    return rerun(at)


def test_create_from_hot_spots_stores_and_selects_it(ops_store: Path) -> None:
    at = create(ops_page(), name="Op Summer")
    assert [s.value for s in at.success] == ["Created Op Summer with 4 patrol zones."]
    assert "Op Summer" in names_in_store(ops_store)
    shown = at.selectbox(key=OpKeys.OPERATION).value
    op = OperationStore(ops_store).get(shown)
    assert op.name == "Op Summer" and op.csp_code == SOUTHAMPTON
    assert [a.kind for a in op.activities] == ["patrol_zone"] * 4


def test_create_within_wards_keeps_the_zones_inside(ops_store: Path) -> None:
    wards = app_operations.csp_wards("district", SOUTHAMPTON)
    chosen = wards[wards["ward22_name"].isin(["Bargate", "Bevois"])]
    at = create(ops_page(), name="Op Centre",
                wards=chosen["ward22_code"].tolist())
    assert not at.error, [e.value for e in at.error]
    op = OperationStore(ops_store).get(at.selectbox(key=OpKeys.OPERATION).value)
    area = app_operations.wards_area("district", SOUTHAMPTON,
                                     tuple(chosen["ward22_code"]))
    assert area is not None
    assert all(area.contains(a.geometry.centroid) for a in op.activities)


@pytest.mark.parametrize(
    ("name", "end", "message"),
    [("", None, "name"),
     ("Op Backwards", date(2025, 5, 1), "end")],
    ids=["no-name", "ends-before-start"],
)
def test_invalid_operations_are_refused_plainly(
    ops_store: Path, name: str, end: Any, message: str
) -> None:
    at = create(ops_page(), name=name, end=end)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Not created:")
    assert message in errors[0].lower()
    assert names_in_store(ops_store) == [DEMO]


def test_duplicate_then_delete_with_confirmation(ops_store: Path) -> None:
    at = section(ops_page(), "Duplicate, delete, import, export")
    at.text_input(key=OpKeys.COPY_NAME).set_value("Op Meero copy")
    at.button(key=OpKeys.COPY_GO).click()
    rerun(at)
    assert names_in_store(ops_store) == [DEMO, "Op Meero copy"]
    assert at.selectbox(key=OpKeys.OPERATION).format_func(
        at.selectbox(key=OpKeys.OPERATION).value) == "Op Meero copy"
    section(at, "Duplicate, delete, import, export")
    assert at.button(key=OpKeys.DELETE_GO).disabled
    at.checkbox(key=OpKeys.DELETE_SURE).check()
    rerun(at)
    at.button(key=OpKeys.DELETE_GO).click()
    rerun(at)
    assert names_in_store(ops_store) == [DEMO]
    assert [s.value for s in at.success] == ["Deleted Op Meero copy."]


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"], ids=["geojson", "gpkg"])
def test_export_then_import_round_trip(ops_store: Path, tmp_path: Path,
                                       suffix: str) -> None:
    at = section(ops_page(), "Duplicate, delete, import, export")
    assert f"{app_operations.FORMATS[suffix]} ({suffix})" in download_labels(at)
    op = OperationStore(ops_store).load_all()[0]
    data = app_operations.export_bytes([op], suffix)
    back = import_operations(_write(tmp_path / f"op{suffix}", data))
    assert [o.name for o in back] == [DEMO]
    mime = "application/geo+json" if suffix == ".geojson" else \
        "application/geopackage+sqlite3"
    at.file_uploader(key=OpKeys.IMPORT).set_value((f"op{suffix}", data, mime))
    rerun(at)
    at.button(key=OpKeys.IMPORT_GO).click()
    rerun(at)
    assert not at.error, [e.value for e in at.error]
    assert names_in_store(ops_store) == [DEMO, f"{DEMO} (imported)"]
    saved = list((settings.APP_DATA_DIR / "uploads" / "operations").iterdir())
    assert len(saved) == 1 and saved[0].suffix == suffix


def test_bad_import_shows_an_error_and_changes_nothing(ops_store: Path) -> None:
    at = section(ops_page(), "Duplicate, delete, import, export")
    at.file_uploader(key=OpKeys.IMPORT).set_value(
        ("ops.geojson", b'{"type": "FeatureCollection", "features": []}',
         "application/geo+json"))
    rerun(at)
    at.button(key=OpKeys.IMPORT_GO).click()
    rerun(at)
    assert [e.value.startswith("Not imported:") for e in at.error] == [True]
    assert names_in_store(ops_store) == [DEMO]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [("ops.txt", b"x", "must end in"), ("ops.geojson", b"", "empty")],
    ids=["suffix", "empty"],
)
def test_import_file_checks(tmp_path: Path, name: str, content: bytes,
                            reason: str) -> None:
    with pytest.raises(InputFileError, match=reason):
        app_operations.import_file(name, content, root=tmp_path)
    assert not (tmp_path / "uploads").exists()


def test_operations_layer_on_the_main_map(ops_store: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"csp": SOUTHAMPTON, "layers": "gistar,csp,operations"})
    rerun(at)
    charts = at.get("deck_gl_json_chart")
    ids = [x["id"] for x in json.loads(charts[0].proto.json)["layers"]]
    assert "operation_areas" in ids and "activities_glyphs" in ids
    assert any("Operation area" in m.value for m in at.markdown)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------
# the export page
# ----------------------------------------------------------------------------


def test_export_page_offers_every_format_and_the_rules(ops_store: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=240)
    rerun(at)
    at.switch_page("app_pages/exports.py")
    rerun(at)
    assert download_labels(at) == [label for label, _ in
                                   app_exports.DOWNLOADS.values()]
    rules = at.dataframe[0].value
    shown = dict(zip(rules["rule"], rules["value"], strict=True))
    assert shown["min_count"] == "5"
    # the deployment floor rounds to 5: the table says so and the box cannot
    # pretend otherwise
    assert shown["round_to"] == "5"
    box = at.checkbox(key="ex_round")
    assert box.value and box.disabled
    changed = at.dataframe[1].value
    assert "suppressed" in set(changed["change"])
    at.number_input(key="ex_min_count").set_value(10)
    rerun(at)
    assert dict(zip(at.dataframe[0].value["rule"], at.dataframe[0].value["value"],
                    strict=True))["min_count"] == "10"


@pytest.mark.parametrize("fmt", list(app_exports.DOWNLOADS), ids=str)
def test_every_download_passes_the_checker(ops_store: Path, tmp_path: Path,
                                           fmt: str) -> None:
    from hotspot.app import cache as app_cache

    view = DEFAULT_VIEW.with_(csp=SOUTHAMPTON)
    data = app_exports.bundle(str(DEFAULT_STORE), "district", view,
                              str(app_cache.DEFAULT_FIRES), str(ops_store), None)
    rules = DisclosureRules()
    content = app_exports.download_bytes(data, fmt=fmt, stem="sv", rules=rules,
                                         csp="Southampton")
    assert len(content) > 1000
    name = app_exports.download_name("sv", fmt)
    if name.endswith(".zip"):
        zipfile.ZipFile(io.BytesIO(content)).extractall(tmp_path / "unzipped")
        files = [p for p in (tmp_path / "unzipped").rglob("*") if p.is_file()
                 and not p.name.endswith((".csv-metadata.json", ".sources.json"))]
    else:
        files = [_write(tmp_path / name, content)]
    assert files
    for path in files:
        assert check_file(path, rules=rules) == [], path.name
    log = (settings.APP_DATA_DIR / "exports.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["delivered_as"] == f"download {name}"


def test_empty_store_offers_create_and_import_only(ops_store: Path) -> None:
    store = app_operations.open_store(str(ops_store))
    for op in store.load_all():
        store.delete(op.operation_id)
    at = ops_page()
    assert at.selectbox(key=OpKeys.OPERATION).value is None
    assert at.radio(key=OpKeys.SECTION).options == [
        "Create from hot spots", "Duplicate, delete, import, export"]
    assert not at.get("deck_gl_json_chart")
    section(at, "Duplicate, delete, import, export")
    assert download_labels(at) == []  # nothing to export

"""The app, driven by Streamlit's AppTest: every control path and bad uploads.

Also the app's pure helpers: the URL encoding of the view (hotspot.view),
the glue to the engine (hotspot.app.analysis) and the upload checks
(hotspot.app.uploads).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hotspot import settings
from hotspot.app import uploads as app_uploads
from hotspot.errors import InputFileError
from hotspot.ingest.store import DEFAULT_STORE
from hotspot.view import (
    DEFAULT_PANEL,
    DEFAULT_VIEW,
    LAYERS,
    PANELS,
    View,
    from_query,
    panel_from_query,
    panel_query,
    to_query,
)
from tests.helpers import POLICE_UK_HEADER, police_uk_row

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SOUTHAMPTON = "E06000045"
PORTSMOUTH = "E06000044"

needs_store = pytest.mark.skipif(
    not (DEFAULT_STORE / "occurrences.parquet").exists(),
    reason=f"embedded default store not built at {DEFAULT_STORE} (make data)",
)


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------


def run_app(query: dict[str, str] | None = None) -> AppTest:
    """Run the app once (optionally opening a URL with ``query``)."""
    at = AppTest.from_file(APP, default_timeout=180)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    """Rerun after a widget change, failing on any exception."""
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def deck(at: AppTest) -> dict[str, Any]:
    """The map's deck specification."""
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    spec: dict[str, Any] = json.loads(charts[0].proto.json)
    return spec


def layer_ids(at: AppTest) -> list[str]:
    """Ids of the map's layers, bottom first."""
    return [layer["id"] for layer in deck(at)["layers"]]


def show_panel(at: AppTest, name: str) -> AppTest:
    """Show one of the panels under the map."""
    if at.radio(key="w_panel").value != name:
        at.radio(key="w_panel").set_value(name)
        rerun(at)
    return at


def how_table(at: AppTest) -> pd.DataFrame:
    """The 'how this was computed' table."""
    show_panel(at, "How this was computed")
    for frame in at.table:
        value = frame.value
        if isinstance(value, pd.DataFrame) and "reason" in value.columns:
            return value.reset_index()
    raise AssertionError("no 'how this was computed' table")


def how_value(at: AppTest, parameter: str) -> str:
    """One value of the 'how this was computed' table."""
    table = how_table(at)
    return str(table.loc[table["parameter"] == parameter, "value"].iloc[0])


def query(at: AppTest) -> dict[str, str]:
    """The URL's query parameters after the run."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in
            at.query_params.items()}


# ----------------------------------------------------------------------------
# URL encoding (pure)
# ----------------------------------------------------------------------------


def test_default_view_encodes_to_an_empty_query() -> None:
    assert to_query(DEFAULT_VIEW) == {}


def test_view_round_trips_through_the_query() -> None:
    view = View(csp=SOUTHAMPTON, scope="hips", month_from="2025-02",
                month_to="2025-06", categories=("robbery",), flags=("bladed",),
                resolution=10, bandwidth_m=350.0, k=2, alpha=0.01, fdr=False,
                weight="harm", layers=("gistar", "kde"), basemap=True,
                focus="89195da49b7ffff", imd="2019")
    back, problems = from_query(to_query(view), csp_codes=[SOUTHAMPTON])
    assert problems == []
    assert back == view


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"csp": "E99999999"}, "csp"),
        ({"scope": "world"}, "scope"),
        ({"from": "2025-13"}, "from"),
        ({"cat": "robbery,shoplifting"}, "cat"),
        ({"res": "99"}, "res"),
        ({"alpha": "0.5"}, "alpha"),
        ({"bw": "-3"}, "bw"),
        ({"fdr": "maybe"}, "fdr"),
        ({"focus": "not-a-cell"}, "focus"),
        ({"imd": "2015"}, "imd"),
        ({"evil": "__import__('os')"}, "evil"),
    ],
    ids=["csp", "scope", "month", "category", "resolution", "alpha", "bandwidth",
         "fdr", "focus", "imd", "unknown"],
)
def test_bad_query_values_are_ignored_and_reported(
    params: dict[str, str], word: str
) -> None:
    view, problems = from_query(params, csp_codes=[SOUTHAMPTON])
    assert len(problems) == 1 and word in problems[0]
    if word == "cat":
        assert view.categories == ("robbery",)
    else:
        assert view == DEFAULT_VIEW


@pytest.mark.parametrize("key", list(PANELS), ids=list(PANELS))
def test_panel_round_trips_through_the_query(key: str) -> None:
    label = PANELS[key]
    assert panel_from_query(panel_query(label)) == label
    assert panel_from_query({"panel": key}) == label


def test_unknown_panel_gives_the_default_and_a_problem() -> None:
    assert panel_from_query({"panel": "nope"}) == PANELS[DEFAULT_PANEL]
    assert panel_query(PANELS[DEFAULT_PANEL]) == {}
    _, problems = from_query({"panel": "nope"})
    assert any(p.startswith("panel") for p in problems)
    _, problems = from_query({"panel": "when"})
    assert problems == []


def test_swapped_months_are_put_in_order() -> None:
    view, problems = from_query({"from": "2025-06", "to": "2025-02"})
    assert (view.month_from, view.month_to) == ("2025-02", "2025-06")
    assert problems


def test_no_layers_encodes_as_none() -> None:
    view = DEFAULT_VIEW.with_(layers=())
    assert to_query(view) == {"layers": "none"}
    assert from_query({"layers": "none"})[0].layers == ()


# ----------------------------------------------------------------------------
# upload checks (pure)
# ----------------------------------------------------------------------------


def test_upload_is_saved_inside_the_app_folder(tmp_path: Path) -> None:
    saved = app_uploads.save_upload("../../etc/passwd.csv", b"a,b\n1,2\n",
                                    kind="police_uk", root=tmp_path)
    assert tmp_path.resolve() in saved.path.parents
    assert saved.path.name == "passwd.csv"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("data.xlsx", b"a,b\n", "must end in"),
        ("binary.csv", b"PK\x03\x04\x00\x00", "not a text"),
        ("big.csv", b"x" * (2 * 1024 * 1024), "limit"),
        ("...", b"a,b\n", "no usable"),
    ],
    ids=["empty", "wrong-type", "binary", "too-large", "no-name"],
)
def test_bad_uploads_are_refused(tmp_path: Path, name: str, content: bytes,
                                 message: str) -> None:
    with pytest.raises(InputFileError, match=message):
        app_uploads.save_upload(name, content, kind="police_uk", root=tmp_path,
                                max_mb=1)
    assert not any(tmp_path.rglob("*.csv"))


# ----------------------------------------------------------------------------
# the map page
# ----------------------------------------------------------------------------


@needs_store
def test_default_map_shows_hexagons_outlines_labels_and_legend() -> None:
    at = run_app()
    ids = layer_ids(at)
    assert ids[:2] == ["sea", "land"]
    for wanted in ("gistar", "csp", "places", "csp_labels"):
        assert wanted in ids
    spec = deck(at)
    assert spec["mapStyle"] == "__MAP_STYLE__"  # no basemap tiles
    assert not any("not the upload" in i.value for i in at.info)  # embedded data
    tooltip = json.loads(at.get("deck_gl_json_chart")[0].proto.tooltip)
    assert "{tooltip}" in tooltip["html"]
    gistar = next(layer for layer in spec["layers"] if layer["id"] == "gistar")
    assert gistar["data"] and "z = " in gistar["data"][0]["tooltip"]
    legend = " ".join(m.value for m in at.markdown)
    assert "Hot spot, 99% confidence" in legend and "Cold spot" in legend
    assert any("SYNTHETIC" in w.value for w in at.warning)
    assert query(at) == {}


@needs_store
def test_switching_csp_zooms_in_and_writes_the_url() -> None:
    at = run_app()
    zoom_all = deck(at)["initialViewState"]["zoom"]
    at.selectbox(key="w_csp").set_value(SOUTHAMPTON)
    rerun(at)
    assert query(at) == {"csp": SOUTHAMPTON}
    assert deck(at)["initialViewState"]["zoom"] > zoom_all + 1
    assert any("Southampton" in m.value for m in at.markdown)
    assert any("Top hot spots: Southampton" in s.value for s in at.subheader)


@needs_store
def test_scope_months_and_categories_change_the_analysis() -> None:
    at = run_app()
    before = how_value(at, "occurrences in")
    at.radio(key="w_scope").set_value("hips")
    at.select_slider(key="w_months").set_value(("2025-01", "2025-03"))
    at.multiselect(key="w_categories").set_value(["robbery"])
    rerun(at)
    assert query(at) == {"scope": "hips", "from": "2025-01", "to": "2025-03",
                         "cat": "robbery", "panel": "how"}
    assert how_value(at, "Scope") == "hips"
    assert how_value(at, "Period") == "2025-01 to 2025-03"
    assert int(how_value(at, "occurrences in")) < int(before)


@needs_store
@pytest.mark.parametrize("flag", ["bladed", "public", "nondomestic", "under25"])
def test_each_flag_filter_narrows_the_rows(flag: str) -> None:
    at = run_app()
    before = int(how_value(at, "occurrences in"))
    at.checkbox(key=f"w_flag_{flag}").check()
    rerun(at)
    assert query(at) == {"flag": flag, "panel": "how"}
    assert int(how_value(at, "occurrences in")) < before


@needs_store
def test_method_parameters_reach_the_analysis_and_the_url() -> None:
    at = run_app({"csp": PORTSMOUTH})
    at.selectbox(key="w_resolution").set_value(10)
    at.selectbox(key="w_k").set_value(2)
    at.selectbox(key="w_alpha").set_value(0.01)
    at.toggle(key="w_fdr").set_value(False)
    at.toggle(key="w_harm").set_value(True)
    at.checkbox(key="w_bw_auto").uncheck()
    rerun(at)
    at.number_input(key="w_bandwidth").set_value(300.0)
    at.checkbox(key="w_layer_kde").check()
    rerun(at)
    q = query(at)
    assert {k: q[k] for k in ("res", "k", "alpha", "fdr", "weight", "bw")} == {
        "res": "10", "k": "2", "alpha": "0.01", "fdr": "0", "weight": "harm",
        "bw": "300"}
    assert how_value(at, "H3 resolution") == "10"
    assert how_value(at, "Gi* weights").startswith("binary k-ring, k = 2")
    assert how_value(at, "False discovery rate") == "off"
    assert how_value(at, "Value analysed") == "harm-weighted counts"
    assert how_value(at, "KDE bandwidth") == "300 m"


@needs_store
def test_resolution_11_for_all_csps_falls_back_to_10() -> None:
    at = run_app()
    at.selectbox(key="w_resolution").set_value(11)
    rerun(at)
    assert any("too heavy to compute at once" in w.value for w in at.sidebar.warning)
    assert how_value(at, "H3 resolution") == "10"


@needs_store
def test_a_heavy_link_is_made_affordable_not_a_stall() -> None:
    at = run_app({"csp": "all", "res": "11", "k": "3"})
    assert any("resolution 10 with k = 1" in w.value for w in at.sidebar.warning)
    assert how_value(at, "H3 resolution") == "10"
    one = run_app({"csp": SOUTHAMPTON, "res": "11", "k": "3"})
    assert not one.sidebar.warning
    assert how_value(one, "H3 resolution") == "11"


def test_affordable_rule_by_hand() -> None:
    from hotspot.view import MAX_INTERACTIVE_PAIRS, affordable, ring_pairs

    # resolution 9: 0.1053 km² a cell; 1,000 km² is 9,497 cells, k = 1 has 7 each
    assert ring_pairs(1000.0, resolution=9, k=1) == pytest.approx(66_480, rel=0.01)
    small, why = affordable(View(resolution=11, k=3), area_km2=50.0)
    assert why is None and small.resolution == 11
    big, why = affordable(View(resolution=10, k=3), area_km2=4149.0)
    assert (big.resolution, big.k) == (10, 1) and why
    assert ring_pairs(4149.0, resolution=big.resolution, k=big.k) <= \
        MAX_INTERACTIVE_PAIRS


@needs_store
@pytest.mark.parametrize(
    ("layer", "layer_id"),
    [("kde", "kde"), ("wards", "wards"), ("imd", "imd"), ("fires", "fires"),
     ("colocation", "colocation"), ("arson", "arson")],
    ids=["kde", "wards", "imd", "fires", "colocation", "arson"],
)
def test_layer_toggles_add_layers(layer: str, layer_id: str) -> None:
    at = run_app({"csp": SOUTHAMPTON})
    assert layer_id not in layer_ids(at)
    at.checkbox(key=f"w_layer_{layer}").check()
    rerun(at)
    assert layer_id in layer_ids(at)
    assert layer in query(at)["layers"].split(",")


@needs_store
def test_arson_layer_counts_reconcile_with_the_store() -> None:
    from hotspot.context.fires import police_arson
    from hotspot.ingest.store import load_occurrences

    at = run_app({"layers": "gistar,arson", "from": "2025-01", "to": "2025-03"})
    layer = next(x for x in deck(at)["layers"] if x["id"] == "arson")
    shown = sum(int(d["tooltip"].split(" ")[0].replace(",", ""))
                for d in layer["data"])
    occ = police_arson(load_occurrences(DEFAULT_STORE))
    month = pd.to_datetime(occ["occurred_from"]).dt.strftime("%Y-%m")
    unflagged = occ["quality_flags"].astype("string").fillna("").str.strip() == ""
    located = occ.geometry.notna() & ~occ.geometry.is_empty
    expected = int((month.between("2025-01", "2025-03") & unflagged
                    & located).sum())
    assert shown == expected > 0
    assert "2025-01 to 2025-03" in layer["data"][0]["tooltip"]
    assert any("Criminal damage and arson" in m.value for m in at.markdown)


@needs_store
def test_switching_every_default_layer_off_leaves_the_base_map() -> None:
    at = run_app()
    for name in ("gistar", "csp", "places"):
        at.checkbox(key=f"w_layer_{name}").uncheck()
    rerun(at)
    assert layer_ids(at) == ["sea", "land"]
    assert query(at) == {"layers": "none"}


@needs_store
def test_every_layer_is_offered_and_enabled() -> None:
    at = run_app()
    assert not any(c.disabled for c in at.checkbox
                   if c.key and c.key.startswith("w_layer_"))
    assert set(LAYERS) == {c.key.removeprefix("w_layer_") for c in at.checkbox
                           if c.key and c.key.startswith("w_layer_")}


@needs_store
def test_online_basemap_is_opt_in() -> None:
    at = run_app()
    at.checkbox(key="w_basemap").check()
    rerun(at)
    assert deck(at)["mapStyle"] != "__MAP_STYLE__"
    assert query(at) == {"basemap": "1"}


@needs_store
def test_zoom_to_a_hot_spot_shows_it_and_its_points() -> None:
    at = run_app({"csp": SOUTHAMPTON, "layers": "gistar,csp,points"})
    zoom_csp = deck(at)["initialViewState"]["zoom"]
    assert "points" not in layer_ids(at)  # aggregated when zoomed out
    buttons = [b for b in at.button if b.key and b.key.startswith("zoom_8")]
    assert buttons, "no 'zoom to' button"
    cell = buttons[0].key.removeprefix("zoom_")
    buttons[0].click()
    rerun(at)
    assert query(at)["focus"] == cell
    spec = deck(at)
    assert spec["initialViewState"]["zoom"] >= 14 > zoom_csp
    assert {"focus", "points"} <= set(layer_ids(at))
    # the place first (as in the top list), the cell id after it
    heading = next(m.value for m in at.markdown if m.value.startswith("**Zoomed to"))
    assert "`" not in heading and len(heading) > len("**Zoomed to **")
    assert any(f"H3 cell `{cell}`" in c.value for c in at.caption)
    at.button(key="zoom_reset").click()
    rerun(at)
    assert "focus" not in query(at)


@needs_store
def test_a_link_reproduces_the_view() -> None:
    link = {"csp": PORTSMOUTH, "scope": "hips", "from": "2025-02", "cat": "robbery",
            "flag": "public", "res": "8", "layers": "gistar,wards"}
    at = run_app(link)
    assert at.selectbox(key="w_csp").value == PORTSMOUTH
    assert at.radio(key="w_scope").value == "hips"
    assert at.select_slider(key="w_months").value[0] == "2025-02"
    assert at.multiselect(key="w_categories").value == ["robbery"]
    assert at.checkbox(key="w_flag_public").value
    assert at.selectbox(key="w_resolution").value == 8
    assert layer_ids(at) == ["sea", "land", "gistar", "wards", "ward_labels"]
    assert query(at) == link


@needs_store
def test_the_open_panel_is_in_the_link() -> None:
    at = run_app({"csp": SOUTHAMPTON, "panel": "how"})
    assert at.radio(key="w_panel").value == "How this was computed"
    assert query(at) == {"csp": SOUTHAMPTON, "panel": "how"}
    show_panel(at, "When")
    assert query(at)["panel"] == "when"
    show_panel(at, "Top hot spots")  # the default panel leaves the link plain
    assert query(at) == {"csp": SOUTHAMPTON}


@needs_store
def test_imd_2019_reaches_the_layer_legend_and_panel() -> None:
    at = run_app({"csp": SOUTHAMPTON, "layers": "gistar,imd", "imd": "2019",
                  "panel": "deprivation"})
    assert at.selectbox(key="w_imd").value == "2019"
    imd = next(layer for layer in deck(at)["layers"] if layer["id"] == "imd")
    assert "IMD 2019 decile" in imd["data"][0]["tooltip"]
    assert any("IMD 2019 decile" in m.value for m in at.markdown)
    assert [s.value for s in at.subheader] == ["Deprivation (IMD 2019)"]
    assert any("mid-2020" in c.value for c in at.caption)
    lsoas_2019 = at.dataframe[0].value["LSOAs"].sum()
    at.selectbox(key="w_imd").set_value("2025")
    rerun(at)
    assert "imd" not in query(at)
    assert [s.value for s in at.subheader] == ["Deprivation (IMD 2025)"]
    # Southampton has 148 LSOAs (2011) and 150 (2021): the editions differ
    assert at.dataframe[0].value["LSOAs"].sum() != lsoas_2019


@needs_store
def test_a_bad_panel_in_a_link_opens_the_default_and_says_so() -> None:
    at = run_app({"panel": "secrets"})
    assert at.radio(key="w_panel").value == "Top hot spots"
    assert "panel" in " ".join(i.value for i in at.info)
    assert query(at) == {}


@needs_store
def test_a_bad_link_still_opens_and_says_what_was_ignored() -> None:
    at = run_app({"csp": "nowhere", "res": "42"})
    notes = " ".join(i.value for i in at.info)
    assert "csp" in notes and "res" in notes
    assert query(at) == {}


@needs_store
@pytest.mark.parametrize(
    ("panel", "heading"),
    [("Trends", "Emerging hot spots"), ("Deprivation", "Deprivation (IMD 2025)"),
     ("Fires", "Deliberate fires and violence"),
     ("Data and licences", "Data and licences")],
    ids=["trends", "deprivation", "fires", "sources"],
)
def test_every_panel_opens(panel: str, heading: str) -> None:
    at = show_panel(run_app({"csp": SOUTHAMPTON}), panel)
    assert [s.value for s in at.subheader] == [heading]
    if panel != "Data and licences":
        assert len(at.dataframe) == 1
    else:
        assert any("SYNTHETIC" in w.value for w in at.warning)


@needs_store
def test_police_uk_rows_never_get_hours() -> None:
    at = show_panel(run_app({"csp": SOUTHAMPTON}), "When")
    timed = " ".join(c.value for c in at.caption)
    assert "left out for want of one" in timed and "month-only" in timed
    at.multiselect(key="w_categories").set_value(["possession_of_weapons"])
    at.checkbox(key="w_flag_bladed").check()
    rerun(at)
    assert query(at)["cat"] == "possession_of_weapons"


# ----------------------------------------------------------------------------
# the data page and uploads
# ----------------------------------------------------------------------------


@pytest.fixture
def app_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app's data folder at a temporary one."""
    monkeypatch.setattr(settings, "APP_DATA_DIR", tmp_path)
    return tmp_path


def data_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("app_pages/data.py")
    return rerun(at)


@needs_store
def test_data_page_shows_the_store_and_rejects() -> None:
    at = data_page()
    assert any("Rejected rows by reason" in s.value for s in at.subheader)
    assert at.get("download_button")


@needs_store
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("binary.csv", b"\x00\x01\x02garbage", "not a text"),
        ("nonsense.csv", b"foo,bar\n1,2\n", "Upload rejected"),
    ],
    ids=["empty", "binary", "wrong-columns"],
)
def test_bad_uploads_show_an_error_and_change_nothing(
    app_data: Path, name: str, content: bytes, message: str
) -> None:
    at = data_page()
    at.file_uploader(key="up_file").set_value((name, content, "text/csv"))
    rerun(at)
    at.button(key="up_go").click()
    rerun(at)
    errors = " ".join(e.value for e in at.error)
    assert "Upload rejected" in errors and message in errors
    assert str(DEFAULT_STORE) in " ".join(c.value for c in at.caption)


@needs_store
def test_too_large_upload_is_refused(app_data: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_uploads, "MAX_UPLOAD_MB", 1)
    at = data_page()
    big = b"a,b\n" + b"1,2\n" * 300_000
    at.file_uploader(key="up_file").set_value(("a.csv", big, "text/csv"))
    rerun(at)
    at.button(key="up_go").click()
    rerun(at)
    assert any("limit" in e.value for e in at.error)


@needs_store
def test_records_upload_without_mapping_is_refused(app_data: Path) -> None:
    at = data_page()
    at.radio(key="up_kind").set_value("records")
    rerun(at)
    at.file_uploader(key="up_file").set_value(("x.csv", b"a,b\n1,2\n", "text/csv"))
    rerun(at)
    at.button(key="up_go").click()
    rerun(at)
    assert any("needs a column mapping" in e.value for e in at.error)


@needs_store
def test_bad_mapping_upload_is_reported(app_data: Path) -> None:
    at = data_page()
    at.radio(key="up_kind").set_value("records")
    rerun(at)
    at.file_uploader(key="up_mapping_file").set_value(
        ("m.toml", b"this is = = not toml", "application/toml"))
    rerun(at)
    assert any("Mapping not usable" in e.value for e in at.error)


@needs_store
def test_police_uk_upload_with_bad_rows_shows_rejects_and_maps(app_data: Path) -> None:
    lines = [POLICE_UK_HEADER,
             police_uk_row("r1"), police_uk_row("r2", lon="-1.0913", lat="50.7989"),
             police_uk_row("r3", lon="not-a-number")]
    content = ("\n".join(lines) + "\n").encode()
    at = data_page()
    at.file_uploader(key="up_file").set_value(("street.csv", content, "text/csv"))
    rerun(at)
    at.button(key="up_go").click()
    rerun(at)
    assert any("accepted 2, rejected 1" in s.value for s in at.success)
    assert list(app_data.rglob("street.csv"))
    assert all(app_data in p.parents for p in app_data.rglob("*"))
    rejects = next(f.value for f in at.dataframe
                   if "reason" in getattr(f.value, "columns", []))
    assert "Longitude" in rejects.to_string()
    at.switch_page("app_pages/map.py")
    rerun(at)
    assert "gistar" in layer_ids(at) or layer_ids(at)[:2] == ["sea", "land"]
    assert any("2 occurrences" in c.value for c in at.caption)
    assert any("not the upload" in i.value for i in at.info)


FIRE_HEADER = ("INCIDENT_ID,INCIDENT_DATE_TIME,INCIDENT_TYPE,ACCIDENTAL_OR_DELIBERATE,"
               "PROPERTY_TYPE,FRS_NAME,LSOA_CODE,EASTING,NORTHING")


@needs_store
def test_fire_upload_shows_rejects_and_feeds_the_fire_layer(app_data: Path) -> None:
    lines = [FIRE_HEADER,
             "F1,01/03/2025 21:10,Secondary Fire,Deliberate,Grassland,HIWFRS,"
             "E01032747,442300,111900",
             "F2,02/03/2025 22:40,Primary Fire,Deliberate,Car,HIWFRS,E01032747,"
             "442350,111950",
             "F3,not a date,Primary Fire,Deliberate,Car,HIWFRS,E01032747,442350,111950"]
    at = data_page()
    at.radio(key="up_kind").set_value("fire")
    rerun(at)
    at.file_uploader(key="up_file").set_value(
        ("fires.csv", ("\n".join(lines) + "\n").encode(), "text/csv"))
    rerun(at)
    at.button(key="up_go").click()
    rerun(at)
    assert any("accepted 2, rejected 1" in s.value for s in at.success)
    assert at.get("download_button")
    at.switch_page("app_pages/map.py")
    rerun(at)
    at.checkbox(key="w_layer_fires").check()
    rerun(at)
    fires = next(layer for layer in deck(at)["layers"] if layer["id"] == "fires")
    assert len(fires["data"]) == 2


@needs_store
def test_fire_upload_without_required_columns_is_refused(app_data: Path) -> None:
    at = data_page()
    at.radio(key="up_kind").set_value("fire")
    rerun(at)
    at.file_uploader(key="up_file").set_value(("f.csv", b"a,b\n1,2\n", "text/csv"))
    rerun(at)
    at.button(key="up_go").click()
    rerun(at)
    assert any("Upload rejected" in e.value for e in at.error)


def test_the_ons_2024_grouping_from_the_sidebar_and_a_link() -> None:
    at = run_app()
    at.selectbox(key="w_grouping").set_value("ons2024")
    rerun(at)
    csp = at.selectbox(key="w_csp")
    assert len(csp.options) == 13  # all + 12 CSPs
    assert query(at)["grouping"] == "ons2024"
    assert how_value(at, "Grouping") == "ons2024"
    north = next(o for o in csp.options if "North Hampshire" in o)
    assert north
    linked = run_app({"grouping": "ons2024"})
    assert len(linked.selectbox(key="w_csp").options) == 13


def test_old_spellings_in_a_link_still_work() -> None:
    at = run_app({"flag": "non_domestic", "layers": "hotspots,csp"})
    assert at.checkbox(key="w_flag_nondomestic").value
    assert at.checkbox(key="w_layer_gistar").value
    notes = [m.value for m in at.info]
    assert any("now called" in n for n in notes)


@needs_store
def test_an_upload_with_every_row_rejected_leaves_the_map_working(
        app_data: Path) -> None:
    lines = [POLICE_UK_HEADER, police_uk_row("r1", lon="x"),
             police_uk_row("r2", lat="y")]
    at = data_page()
    at.file_uploader(key="up_file").set_value(
        ("bad.csv", ("\n".join(lines) + "\n").encode(), "text/csv"))
    rerun(at)
    at.button(key="up_go").click()
    rerun(at)
    errors = " ".join(e.value for e in at.error)
    assert "cannot be mapped" in errors and "every row was rejected" in errors
    assert "store_dir" not in at.session_state or not at.session_state["store_dir"]
    at.switch_page("app_pages/map.py")
    rerun(at)
    assert "gistar" in layer_ids(at)
    assert not any("not the upload" in i.value for i in at.info)


def test_the_same_bytes_read_another_way_make_another_store(tmp_path: Path) -> None:
    content = b"a,b\n1,2\n"
    one = app_uploads.save_upload("x.csv", content, kind="records", root=tmp_path,
                                  read_with="mapping A")
    two = app_uploads.save_upload("x.csv", content, kind="records", root=tmp_path,
                                  read_with="mapping B")
    again = app_uploads.save_upload("x.csv", content, kind="records", root=tmp_path,
                                    read_with="mapping A")
    three = app_uploads.save_upload("x.csv", content, kind="template", root=tmp_path)
    assert one.folder != two.folder != three.folder
    assert again.folder == one.folder
    assert one.sha256 == two.sha256  # the content is the same


def test_old_uploads_are_cleaned_up(tmp_path: Path) -> None:
    import os

    old = app_uploads.save_upload("o.csv", b"a\n1\n", kind="template", root=tmp_path)
    new = app_uploads.save_upload("n.csv", b"b\n2\n", kind="template", root=tmp_path)
    kept = app_uploads.save_upload("k.csv", b"c\n3\n", kind="template", root=tmp_path)
    day = 24 * 3600
    for saved in (old, kept):
        os.utime(saved.folder, (saved.folder.stat().st_atime - 2 * day,
                                saved.folder.stat().st_mtime - 2 * day))
    removed = app_uploads.clean_uploads(tmp_path, keep=(kept.folder / "store",))
    assert removed == [old.folder]
    assert new.folder.is_dir() and kept.folder.is_dir() and not old.folder.exists()


@needs_store
def test_the_template_is_an_upload_choice(app_data: Path) -> None:
    at = data_page()
    assert any("template" in o for o in at.radio(key="up_kind").options)


@needs_store
def test_zoomed_to_a_hot_spot_the_map_names_its_streets() -> None:
    from tests.test_sign_in import busiest_hot_cell

    cell = busiest_hot_cell()
    at = run_app({"csp": SOUTHAMPTON, "focus": cell})
    ids = layer_ids(at)
    assert "street-labels" in ids
    texts = next(layer for layer in deck(at)["layers"]
                 if layer["id"] == "street-labels")["data"]
    assert any("Street" in str(t) or "Road" in str(t) for t in texts)
    assert any("labels only" in c.value for c in at.caption)
    away = run_app({"csp": SOUTHAMPTON})
    assert "street-labels" not in layer_ids(away)

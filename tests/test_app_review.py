"""The review page, driven by Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from hotspot.ingest.store import DEFAULT_STORE

APP = str(Path(__file__).resolve().parent.parent / "app.py")
HAVANT = "E07000090"

pytestmark = pytest.mark.skipif(
    not (DEFAULT_STORE / "occurrences.parquet").exists(),
    reason=f"embedded default store not built at {DEFAULT_STORE} (make data)")


def review_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("app_pages/review.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture(scope="module")
def page() -> AppTest:
    return review_page()


def test_league_table_has_every_csp_and_hips_with_labelled_units(page) -> None:
    table = page.dataframe[0].value
    assert len(table) == 15
    assert list(table["CSP"])[-1] == "HIPS"
    for label in ("Rate per 1,000 residents", "95% low", "95% high",
                  "Vs previous period", "Vs a year earlier",
                  "In IMD deciles 1-2, %", "Night 20:00-04:00, % (SYNTHETIC)",
                  "Fire co-location index (SYNTHETIC; HIPS = 1)", "Map"):
        assert label in table.columns, label
    assert (table["95% low"] <= table["Rate per 1,000 residents"]).all()
    assert list(table.columns[:2]) == ["CSP", "Map"]
    assert set(table["Vs previous period"]) <= {
        "up, beyond chance", "down, beyond chance", "no clear change"}
    assert any("SYNTHETIC" in w.value for w in page.warning)
    assert any("not covered" in c.value for c in page.caption)
    assert page.get("download_button")  # the briefing pack, made when clicked
    assert "Hart" in set(table["CSP"]) or any("(sparse)" in n for n in table["CSP"])


def test_each_csp_links_to_its_own_map_over_the_same_months(page) -> None:
    table = page.dataframe[0].value
    row = table[table["CSP"] == "Havant"].iloc[0]
    query = parse_qs(urlparse(row["Map"]).query)
    assert query["csp"] == [HAVANT]
    assert query["from"] == ["2025-07"] and query["to"] == ["2025-09"]
    assert table[table["CSP"] == "HIPS"]["Map"].iloc[0] == ""


def test_months_change_the_table() -> None:
    at = review_page()
    at.selectbox(key="rv_from").set_value("2025-01")
    at.selectbox(key="rv_to").set_value("2025-04")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    table = at.dataframe[0].value
    assert "2025-01" in parse_qs(urlparse(table["Map"].iloc[0]).query)["from"]
    # a year earlier (2024-01 to 2024-04) has police.uk only: compared on it
    assert any("compared on police.uk only" in c.value for c in at.caption)


def test_open_map_button_opens_that_csps_map() -> None:
    at = review_page()
    at.selectbox(key="rv_open_csp").set_value(HAVANT)
    at.button(key="rv_open_map").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.query_params["csp"] == [HAVANT] or at.query_params["csp"] == HAVANT
    assert any("Havant" in m.value for m in at.markdown)


def test_review_page_leaves_the_shared_occurrences_unchanged() -> None:
    import pandas as pd

    from hotspot.app import cache as app_cache

    store = app_cache.default_store()

    def fingerprint() -> tuple[object, ...]:
        occ = app_cache.occurrences(store)
        plain = occ.drop(columns=occ.geometry.name)
        return (len(occ), tuple(occ.columns),
                int(pd.util.hash_pandas_object(plain.astype(str), index=True).sum()),
                int(pd.util.hash_pandas_object(occ.geometry.to_wkb()).sum()))

    before = fingerprint()
    at = review_page()
    at.selectbox(key="rv_from").set_value("2025-04")
    at.run()
    assert not at.exception
    assert fingerprint() == before

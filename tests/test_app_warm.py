"""The launcher's warm-up (hotspot.app.warm, hotspot.cli.serve) and the shared caches.

Warming must fill exactly the cache entries the map page reads for a plain
link, so the first visitor computes nothing; and the shared read-only inputs
(``st.cache_resource``) must come out of the pages unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from hotspot.app import cache as app_cache
from hotspot.app.warm import warm_default_view
from hotspot.cli import serve
from hotspot.ingest.store import DEFAULT_STORE
from hotspot.view import View
from tests.test_app import APP, SOUTHAMPTON, rerun, show_panel

pytestmark = pytest.mark.skipif(
    not (DEFAULT_STORE / "occurrences.parquet").exists(),
    reason=f"embedded default store not built at {DEFAULT_STORE} (make data)",
)


def _counting(calls: list[str], name: str, original: Callable[..., Any]
              ) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return original(*args, **kwargs)
    return wrapper


def test_first_visit_after_warming_computes_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
    seconds = warm_default_view()
    assert list(seconds) == ["imports", "occurrences", "summary", "boundaries",
                             "places", "gistar", "top hot spots", "base map"]
    assert all(s >= 0 for s in seconds.values())
    calls: list[str] = []
    for name in ("load_occurrences", "load_csps", "study_cells", "select",
                 "analyse", "top_table"):
        monkeypatch.setattr(app_cache, name,
                            _counting(calls, name, getattr(app_cache, name)))
    at = rerun(AppTest.from_file(APP, default_timeout=180))
    assert at.get("deck_gl_json_chart")
    assert calls == []
    # and a changed view does compute (the counters can fail)
    at.selectbox(key="w_csp").set_value(SOUTHAMPTON)
    rerun(at)
    assert "analyse" in calls


def _fingerprint(frame: pd.DataFrame) -> int:
    plain = pd.DataFrame(frame).copy()
    if isinstance(frame, gpd.GeoDataFrame):
        plain[frame.geometry.name] = frame.geometry.to_wkb(hex=True)
    return int(pd.util.hash_pandas_object(plain.astype(str), index=True).sum())


def test_shared_inputs_are_unchanged_by_the_pages() -> None:
    store = app_cache.default_store()
    grouping = app_cache.GROUPING
    shared = {
        "points": lambda: app_cache.points(store),
        **{f"boundaries {k}": (lambda k=k: app_cache.boundaries(grouping)[k])
           for k in ("csps", "wards", "outline")},
        "study": lambda: app_cache.study(grouping, 9, "csp", SOUTHAMPTON, 1)[0],
        "places": lambda: app_cache.places(str(app_cache.PLACES_FILE)),
        "imd": lambda: app_cache.imd_areas("2025"),
    }
    before = {name: _fingerprint(get()) for name, get in shared.items()}
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update({"csp": SOUTHAMPTON,
                            "layers": "gistar,kde,csp,wards,imd,fires,points"})
    rerun(at)
    buttons = [b for b in at.button if b.key and b.key.startswith("zoom_8")]
    buttons[0].click()
    rerun(at)
    for panel in ("When", "Deprivation", "Fires", "Trends"):
        show_panel(at, panel)
    at.switch_page("app_pages/operations.py")
    rerun(at)
    at.switch_page("app_pages/data.py")
    rerun(at)
    after = {name: _fingerprint(get()) for name, get in shared.items()}
    assert after == before
    # the same objects are handed out again (shared, not copied)
    assert app_cache.points(store) is app_cache.points(store)


def test_serve_runs_streamlit_on_the_app_headless() -> None:
    argv = serve.streamlit_argv(port=8765, address="127.0.0.1",
                                extra=["--theme.base", "light"])
    assert argv[:2] == ["run", str(serve.APP)]
    assert serve.APP.name == "app.py" and serve.APP.exists()
    pairs = dict(zip(argv[2::2], argv[3::2], strict=False))
    assert pairs["--server.port"] == "8765"
    assert pairs["--server.headless"] == "true"
    assert pairs["--server.address"] == "127.0.0.1"
    assert argv[-2:] == ["--theme.base", "light"]


@pytest.mark.parametrize("edition", ["2025", "2019"])
def test_cell_deciles_are_remembered_and_equal_the_overlay(
        edition: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotspot.context import deprivation as overlay
    from hotspot.grid import cell_polygons

    result = app_cache.gistar(app_cache.default_store(), app_cache.GROUPING,
                              View(csp=SOUTHAMPTON))
    assert result.cells is not None
    hot = tuple(result.cells.nlargest(6, "z")["h3"])
    got = app_cache.cell_deciles(hot, edition)
    frame = gpd.GeoDataFrame({"h3": list(hot)},
                             geometry=cell_polygons(list(hot)).values, crs="EPSG:27700")
    ref = overlay.cells_imd(frame, edition=edition)
    assert list(got.index) == list(hot)
    assert got.to_numpy() == pytest.approx(ref["imd_decile"].astype(float).to_numpy(),
                                           nan_ok=True)
    assert got.notna().all()  # Southampton's hot spots lie on LSOAs
    calls: list[str] = []
    monkeypatch.setattr(overlay, "cells_imd",
                        _counting(calls, "cells_imd", overlay.cells_imd))
    again = app_cache.cell_deciles(tuple(reversed(hot)), edition)
    assert calls == []  # remembered
    assert list(again.index) == list(reversed(hot))

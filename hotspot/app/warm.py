"""Warm the app's caches for the view a plain link opens, before anyone asks.

A fresh server otherwise spends its first visitor's time importing the
analysis stack and computing the default map (loading the store and
boundaries, Gi* over every CSP, the top hot spots, the base map). The launcher
(:mod:`hotspot.cli.serve`) calls :func:`warm_default_view` before it starts
serving, so the first visitor gets what every later visitor gets: results from
the cache.

The calls here are the cached functions the map page makes for the default
view, with the same arguments, so they fill the same cache entries
(``tests/test_app_warm.py`` checks that a page run after warming computes
nothing).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from typing import Any

from hotspot.view import View

logger = logging.getLogger(__name__)

#: What the map page imports, loaded ahead of the first visitor.
PAGE_MODULES = ("hotspot.analysis", "hotspot.app.access", "hotspot.app.cache",
                "hotspot.app.controls", "hotspot.app.operations",
                "hotspot.app.panels", "hotspot.layers")
#: Loggers that complain when a cached function runs outside a script run
#: (expected here: the caches are filled before the server exists).
_QUIET_LOGGERS = (
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
)


def warm_default_view(*, store_dir: str | None = None) -> dict[str, float]:
    """Fill the caches the map page reads for the default view.

    Parameters
    ----------
    store_dir : str, optional, keyword-only
        Occurrence store; default the one the app opens on
        (``$HOTSPOT_STORE`` or the embedded store).

    Returns
    -------
    dict of str to float
        Seconds spent on each step, in order (``imports`` first).
    """
    start = time.perf_counter()
    # Streamlit sets each logger's level when it creates it, at import
    for name in _QUIET_LOGGERS:
        importlib.import_module(name)
    quiet = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [q.level for q in quiet]
    for q in quiet:
        q.setLevel(logging.ERROR)
    try:
        for name in PAGE_MODULES:
            importlib.import_module(name)
        from hotspot.app import cache as app_cache

        seconds = {"imports": time.perf_counter() - start}
        store = store_dir or app_cache.default_store()
        grouping = app_cache.GROUPING
        places = str(app_cache.PLACES_FILE)
        view = View()
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("occurrences", lambda: app_cache.points(store)),
            ("summary", lambda: app_cache.summary(store)),
            ("boundaries", lambda: app_cache.boundaries(grouping)),
            ("places", lambda: app_cache.places(places)),
            ("gistar", lambda: app_cache.gistar(store, grouping, view)),
            ("top hot spots", lambda: app_cache.top_hotspots(store, grouping, view)),
            ("base map", lambda: app_cache.base_layers(grouping, places, view.csp,
                                                       view.layers)),
        ]
        for name, step in steps:
            start = time.perf_counter()
            step()
            seconds[name] = time.perf_counter() - start
    finally:
        for q, level in zip(quiet, levels, strict=True):
            q.setLevel(level)
    logger.info("warmed the default view in %.1f s (%s)", sum(seconds.values()),
                ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items()))
    return seconds

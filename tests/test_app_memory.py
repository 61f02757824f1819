"""The app's caches bound memory: once full, new views replace old ones.

Ten sessions each looking at their own views must not grow the server without
limit. Every cache has ``max_entries`` (``tests/test_layout.py`` checks the
code); this test checks what that means in bytes: it asks the row cache for
three times as many distinct selections as it keeps and measures the process's
resident memory. Filling the cache costs memory; going on past full must not.
"""

from __future__ import annotations

import gc
import os

import pytest

from hotspot.ingest.store import DEFAULT_STORE
from hotspot.selection import Selection
from hotspot.settings import APP_CACHE_ENTRIES

pytestmark = pytest.mark.skipif(
    not (DEFAULT_STORE / "occurrences.parquet").exists() or not os.path.exists(
        "/proc/self/statm"), reason="needs the embedded store and /proc")


def resident_mb() -> float:
    """Return the process's resident memory now (not the peak), MB."""
    gc.collect()
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_row_cache_memory_stops_growing_once_full() -> None:
    from hotspot.app import cache as app_cache

    store = str(DEFAULT_STORE)
    app_cache.selected.clear()
    app_cache.occurrences(store)  # the shared table, loaded once
    # distinct selections of the same rows: every point within a slightly
    # different distance (all of them are within 1 km)
    keys = [Selection(cell_edge_m=1000.0 + i) for i in range(3 * APP_CACHE_ENTRIES)]
    assert len(keys) >= 3 * APP_CACHE_ENTRIES
    base = resident_mb()
    for key in keys[:APP_CACHE_ENTRIES]:
        app_cache.selected(store, key)
    full = resident_mb()
    one_entry = (full - base) / APP_CACHE_ENTRIES
    assert one_entry > 0.5, "each entry should hold its rows (MB)"
    for key in keys[APP_CACHE_ENTRIES:]:
        app_cache.selected(store, key)
    after = resident_mb()
    extra = len(keys) - APP_CACHE_ENTRIES
    print(f"resident MB: {base:.0f} empty, {full:.0f} full, {after:.0f} after "
          f"{extra} more; one entry {one_entry:.1f}")
    # unbounded, memory would grow by about extra * one_entry; bounded, by
    # allocator noise only
    assert after - full < 0.4 * extra * one_entry, (base, full, after, one_entry)
    app_cache.selected.clear()

"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hotspot.settings import ENV_ACCESS_FILE, ROOT, SHARED_DATA_DIR

#: The app tests look at the embedded demonstration data as an analyst (the
#: shipped policy is private by default: everyone is a partner). Tests of the
#: policy itself and of each role set their own file.
os.environ.setdefault(ENV_ACCESS_FILE, str(ROOT / "config" / "access-demo.toml"))


@pytest.fixture
def shared_data() -> Path:
    """The real public data beside the repository (skips when absent)."""
    if not (SHARED_DATA_DIR / "police_uk").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA_DIR}")
    return SHARED_DATA_DIR


@pytest.fixture(scope="session")
def embedded_partitioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded store written again as a partitioned store (DuckDB tests)."""
    import pandas as pd

    from hotspot.ingest.store import DEFAULT_STORE, load_occurrences, write_store

    store = tmp_path_factory.mktemp("partitioned")
    write_store(store, occurrences=load_occurrences(DEFAULT_STORE),
                rejects=pd.DataFrame(), summary={"rows": {}}, partitioned=True)
    return store

"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotspot.settings import SHARED_DATA_DIR


@pytest.fixture
def shared_data() -> Path:
    """The real public data beside the repository (skips when absent)."""
    if not (SHARED_DATA_DIR / "police_uk").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA_DIR}")
    return SHARED_DATA_DIR

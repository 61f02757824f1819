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

"""Where the embedded data lives (the repository's ``data/`` and ``boundaries/``)."""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root (the folder holding ``hotspot/``, ``data/`` and ``boundaries/``).
ROOT = Path(os.environ.get("HOTSPOT_ROOT", Path(__file__).resolve().parent.parent))
DATA_DIR = ROOT / "data"
BOUNDARIES_DIR = ROOT / "boundaries"
#: Source of the real public data the embedded set is built from (never edited).
SHARED_DATA_DIR = Path(
    os.environ.get("HOTSPOT_SHARED_DATA", ROOT.parent / "shared" / "data")
)
#: Folder the app and the command line write stores and logs into by default.
APP_DATA_DIR = Path(os.environ.get("HOTSPOT_APP_DATA", ROOT / "var"))

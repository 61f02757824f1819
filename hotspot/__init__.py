"""Hotspot: serious-violence hot spots for the HIPS Violence Reduction Partnership."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

from hotspot.lazy import lazy_api  # noqa: E402 - after the version, which it needs not

__getattr__, __dir__, _API = lazy_api(__name__, {
    "analyse": "analysis", "Analysis": "analysis", "select": "selection",
    "Selection": "selection", "View": "view", "AnalysisSettings": "settings",
    "ingest_to_store": "pipeline",
})
__all__ = ["__version__", *_API]

logging.getLogger(__name__).addHandler(logging.NullHandler())

"""Hotspot detection: kernel density, Getis-Ord Gi* and space-time trends.

One statistic per module: :mod:`~hotspot.detect.gistar`,
:mod:`~hotspot.detect.emerging` and :mod:`~hotspot.detect.kde`; the analysis core
that every surface calls is :mod:`~hotspot.detect.analyse`; results are packaged
by :mod:`~hotspot.detect.result`, explained by :mod:`~hotspot.detect.explain`,
and listed by :mod:`~hotspot.detect.top`.
"""

from __future__ import annotations

from hotspot.lazy import lazy_api

__getattr__, __dir__, __all__ = lazy_api(__name__, {
    "hotspots": "analyse", "emerging": "analyse", "density": "analyse",
    "noun_for": "analyse", "DetectResult": "result", "gi_star": "gistar",
    "ring_weights": "gistar", "kde_surface": "kde", "KDEResult": "kde",
    "emerging_hot_spots": "emerging", "explain_gistar": "explain",
    "top_hotspots": "top",
})

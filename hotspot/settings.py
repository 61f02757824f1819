"""Every setting of the product in one place: paths, environment, analysis defaults.

Read once, at import. Three groups:

* **Paths** of the embedded data (the repository's ``data/`` and ``boundaries/``)
  and of the folder the app and the command line write into.
* **Environment variables** (the ``HOTSPOT_*`` names below): read only here.
* **Analysis settings** (:class:`AnalysisSettings`): the defaults every surface
  starts from (map, view files, command line) and the one range check
  (:meth:`AnalysisSettings.validate`). A surface never writes its own default
  resolution or alpha: it reads :data:`DEFAULTS`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from hotspot.errors import ParameterError

# ---------------------------------------------------------------- environment
#: Environment variables the product reads (nowhere else reads ``os.environ``).
ENV_ROOT = "HOTSPOT_ROOT"
ENV_SHARED_DATA = "HOTSPOT_SHARED_DATA"
ENV_APP_DATA = "HOTSPOT_APP_DATA"
ENV_STORE = "HOTSPOT_STORE"
ENV_OPERATIONS_STORE = "HOTSPOT_OPERATIONS_STORE"
ENV_ACCESS_FILE = "HOTSPOT_ACCESS_FILE"
#: The deployment's disclosure floor (``hotspot.export.disclosure.deployment_floor``):
#: the weakest rules any export may use, whatever a view file or flag asks.
ENV_DISCLOSURE_MIN_COUNT = "HOTSPOT_DISCLOSURE_MIN_COUNT"
ENV_DISCLOSURE_ROUND_TO = "HOTSPOT_DISCLOSURE_ROUND_TO"
ENV_DISCLOSURE_MAX_RESOLUTION = "HOTSPOT_DISCLOSURE_MAX_RESOLUTION"


def env(name: str) -> str | None:
    """Return the value of one of the ``HOTSPOT_*`` variables (None when unset)."""
    value = os.environ.get(name)
    return value or None


def env_int(name: str, default: int) -> int:
    """Return an integer ``HOTSPOT_*`` variable, ``default`` when unset or blank.

    Read on every call (a deployment sets it before the server starts); text
    that is not an integer raises ParameterError naming the variable.
    """
    from hotspot.errors import ParameterError

    text = env(name)
    if text is None or text.strip() == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ParameterError(f"environment variable {name} must be an integer, got "
                             f"{text!r}") from None


# ---------------------------------------------------------------------- paths
#: Repository root (the folder holding ``hotspot/``, ``data/`` and ``boundaries/``).
ROOT = Path(env(ENV_ROOT) or Path(__file__).resolve().parent.parent)
DATA_DIR = ROOT / "data"
BOUNDARIES_DIR = ROOT / "boundaries"
#: Source of the real public data the embedded set is built from (never edited).
SHARED_DATA_DIR = Path(env(ENV_SHARED_DATA) or ROOT.parent / "shared" / "data")
#: Folder the app and the command line write stores and logs into by default.
APP_DATA_DIR = Path(env(ENV_APP_DATA) or ROOT / "var")
#: The embedded occurrence store (built by ``make data``).
DEFAULT_STORE_DIR = DATA_DIR / "default_store"
#: The embedded deliberate-fire incidents (SYNTHETIC, labelled wherever shown).
SYNTHETIC_FIRES = (DATA_DIR / "synthetic"
                   / "SYNTHETIC_fire_incidents_2024-10_2025-09.csv")
#: The operation store the app and ``hotspot operation`` use by default.
OPERATIONS_STORE = APP_DATA_DIR / "operations.gpkg"
#: Where the ranking keeps the outcome of its validation, keyed by a digest of
#: everything validation reads (the same counts give the same choice), so the
#: app and the command line validate a store's months once, not on every start.
RANK_CACHE_DIR = APP_DATA_DIR / "cache" / "rank"

# ------------------------------------------------------------------------ app
#: Entries each of the app's caches keeps (least recently used go first) and how
#: long a cached analysis lives, seconds: memory stays bounded however many
#: views sessions ask for.
APP_CACHE_ENTRIES = 32
APP_CACHE_TTL_S = 3600

# ------------------------------------------------------------------- analysis
Scope = Literal["csp", "hips"]
Grouping = Literal["district", "ons2024"]
Weight = Literal["count", "harm"]
SCOPES: tuple[str, ...] = get_args(Scope)
GROUPINGS: tuple[str, ...] = get_args(Grouping)
WEIGHTS: tuple[str, ...] = get_args(Weight)
#: Labels of the two CSP groupings.
GROUPING_LABELS: dict[str, str] = {
    "district": "14 CSPs (one per district, as the VRU reports)",
    "ons2024": "ONS 2024 grouping (12: Basingstoke, Hart and Rushmoor as North "
    "Hampshire)",
}
RESOLUTIONS: tuple[int, ...] = (7, 8, 9, 10, 11)
K_VALUES: tuple[int, ...] = (1, 2, 3)
ALPHAS: tuple[float, ...] = (0.01, 0.05, 0.10)
#: KDE bandwidths accepted anywhere (metres).
BANDWIDTH_RANGE_M: tuple[float, float] = (50.0, 5000.0)
#: KDE raster cell sizes accepted anywhere (metres).
CELL_SIZE_RANGE_M: tuple[float, float] = (5.0, 1000.0)
MAX_PERMUTATIONS = 99_999


@dataclass(frozen=True)
class AnalysisSettings:
    """How an analysis is computed (not which rows: that is a Selection).

    Attributes
    ----------
    scope : {"csp", "hips"}
        Gi* study area: each CSP on its own (default), or HIPS as one.
    grouping : {"district", "ons2024"}
        CSP areas: the 14 districts (default) or the ONS 2024 grouping.
    resolution : int
        H3 resolution, one of :data:`RESOLUTIONS` (9: about 174 m edge).
    k : int
        Gi* ring size, one of :data:`K_VALUES`.
    alpha : float
        Significance level, one of :data:`ALPHAS`.
    fdr : bool
        Benjamini-Hochberg adjustment, once per study area.
    weight : {"count", "harm"}
        Analyse counts or harm-weighted counts.
    permutations : int
        0 for the normal approximation, else conditional permutations.
    seed : int or None
        Seed of the permutations (drawn and reported when None).
    bandwidth_m : float or None
        KDE bandwidth in metres; None for the automatic rule.
    cell_size_m : float
        KDE raster cell size in metres.
    """

    scope: Scope = "csp"
    grouping: Grouping = "district"
    resolution: int = 9
    k: int = 1
    alpha: float = 0.05
    fdr: bool = True
    weight: Weight = "count"
    permutations: int = 0
    seed: int | None = None
    bandwidth_m: float | None = None
    cell_size_m: float = 50.0

    def validate(self) -> AnalysisSettings:
        """Return ``self`` when every value is allowed, else raise ParameterError."""
        for name, allowed in (("scope", SCOPES), ("grouping", GROUPINGS),
                              ("weight", WEIGHTS), ("resolution", RESOLUTIONS),
                              ("k", K_VALUES)):
            value = getattr(self, name)
            if value not in allowed:
                raise ParameterError(
                    f"{name} must be one of {list(allowed)}, got {value!r}")
        if not any(abs(self.alpha - a) < 1e-12 for a in ALPHAS):
            raise ParameterError(
                f"alpha must be one of {list(ALPHAS)}, got {self.alpha!r}")
        if not isinstance(self.fdr, bool):
            raise ParameterError(f"fdr must be true or false, got {self.fdr!r}")
        if not (isinstance(self.permutations, int)
                and 0 <= self.permutations <= MAX_PERMUTATIONS):
            raise ParameterError(
                f"permutations must be a whole number from 0 to {MAX_PERMUTATIONS}, "
                f"got {self.permutations!r}")
        _in_range("bandwidth_m", self.bandwidth_m, BANDWIDTH_RANGE_M)
        _in_range("cell_size_m", self.cell_size_m, CELL_SIZE_RANGE_M)
        return self

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *,
                     base: AnalysisSettings | None = None) -> AnalysisSettings:
        """Return settings from a mapping (a view file table, a URL, argparse).

        Keys that are not settings raise ParameterError naming them; the result
        is validated.
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ParameterError(
                f"unknown analysis settings {unknown}; allowed: {sorted(names)}")
        return replace(base or DEFAULTS, **dict(values)).validate()

    @property
    def cell_edge_m(self) -> float:
        """Mean H3 edge length at :attr:`resolution`, metres."""
        import h3

        return float(h3.average_hexagon_edge_length(self.resolution, unit="m"))


def _in_range(name: str, value: float | None, bounds: tuple[float, float]) -> None:
    if value is None:
        return
    lo, hi = bounds
    if not (isinstance(value, int | float) and lo <= float(value) <= hi):
        raise ParameterError(f"{name} must be from {lo:g} to {hi:g} m, got {value!r}")


#: The defaults every surface starts from.
DEFAULTS = AnalysisSettings()

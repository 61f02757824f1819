"""The offline gazetteer tables under ``data/gazetteer/`` and their loader."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from hotspot.errors import DataNotFoundError
from hotspot.settings import DATA_DIR

if TYPE_CHECKING:
    from hotspot.geocode.text import _TextMatcher

log = logging.getLogger(__name__)

GAZETTEER_DIR = DATA_DIR / "gazetteer"
GAZETTEER_TABLES: tuple[str, ...] = (
    "postcodes",
    "postcode_sectors",
    "postcode_districts",
    "streets",
    "street_points",
    "places",
    "snap_points",
)
#: Margin (m) added around the HIPS postcodes to form the plausibility box.
HIPS_BOX_MARGIN_M = 10_000.0
#: Uncertainty (m) of a police.uk snap point when no snap-point table is loaded.
SNAP_POINT_UNCERTAINTY_M = 200.0
#: Largest uncertainty (m) reported for a police.uk snap point (the catchment clip).
SNAP_POINT_MAX_M = 1000.0
#: A coordinate this close (m) to a known snap point is that snap point.
SNAP_MATCH_M = 1.0


@dataclass(frozen=True)
class Box:
    """A rectangle in BNG metres: the plausible extent of HIPS points."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    def contains(
        self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.bool_]:
        """Return whether each point (BNG metres) lies inside the box."""
        return (x >= self.xmin) & (x <= self.xmax) & (y >= self.ymin) & (y <= self.ymax)

    def describe(self) -> str:
        """Return the box as text for reject reasons."""
        return (
            f"easting {self.xmin:,.0f}–{self.xmax:,.0f}, "
            f"northing {self.ymin:,.0f}–{self.ymax:,.0f}"
        )


@dataclass
class Gazetteer:
    """The offline gazetteer tables (see ``data/gazetteer/README.md``).

    Attributes
    ----------
    postcodes : pandas.DataFrame
        Code-Point Open units: ``postcode``, ``easting``, ``northing`` (m),
        ``quality``, ``lad_code``.
    sectors, districts : pandas.DataFrame
        Centroids (``easting``, ``northing``, m) and ``spread_m`` (90th percentile
        distance of member postcodes from the centroid, m) keyed by ``sector`` /
        ``outward``.
    streets : pandas.DataFrame
        Street clusters: ``street_id``, ``street``, ``street_norm``, ``lad_code``,
        ``town``, ``x``, ``y`` (m), ``n_points``, ``extent_m``.
    street_points : pandas.DataFrame
        Unique police.uk snap points per ``street_id`` (``x``, ``y``, m).
    places : pandas.DataFrame
        GeoNames places and the 14 districts: ``name``, ``name_norm``, ``kind``,
        ``outward``, ``lad_code``, ``x``, ``y`` (m), ``uncertainty_m``.
    box : Box
        Plausible HIPS extent: the postcodes' bounding box plus
        :data:`HIPS_BOX_MARGIN_M`.
    snap_points : pandas.DataFrame, optional
        Every known police.uk snap point (``x``, ``y``, m) with ``radius_m``, the
        radius (m) of a circle with the area of its catchment (Voronoi cell among
        the known points, clipped at 1 km).
    """

    postcodes: pd.DataFrame
    sectors: pd.DataFrame
    districts: pd.DataFrame
    streets: pd.DataFrame
    street_points: pd.DataFrame
    places: pd.DataFrame
    box: Box
    snap_points: pd.DataFrame | None = None
    _matcher: _TextMatcher | None = field(default=None, repr=False, compare=False)
    _snap_tree: cKDTree | None = field(default=None, repr=False, compare=False)

    def snap_uncertainty(
        self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Uncertainty (m) of police.uk snap points at ``x``, ``y`` (BNG, m).

        A known snap point (within :data:`SNAP_MATCH_M`) gets its catchment
        radius; another point gets the larger of its nearest known point's radius
        and the distance to it, at most :data:`SNAP_POINT_MAX_M`. Without a
        snap-point table every point gets :data:`SNAP_POINT_UNCERTAINTY_M`.
        """
        if self.snap_points is None or not len(self.snap_points):
            return np.full(len(x), SNAP_POINT_UNCERTAINTY_M)
        if self._snap_tree is None:
            xy = self.snap_points[["x", "y"]].to_numpy(dtype=float)
            self._snap_tree = cKDTree(xy)
        dist, idx = self._snap_tree.query(np.column_stack([x, y]))
        radius = self.snap_points["radius_m"].to_numpy(dtype=float)[idx]
        unc = np.where(dist <= SNAP_MATCH_M, radius, np.maximum(radius, dist))
        return np.asarray(np.minimum(unc, SNAP_POINT_MAX_M), dtype=float)

    def matcher(self) -> _TextMatcher:
        """Return the (lazily built, result-caching) free-text matcher."""
        if self._matcher is None:
            from hotspot.geocode.text import _TextMatcher

            self._matcher = _TextMatcher(self)
        return self._matcher


def load_gazetteer(directory: Path | str | None = None) -> Gazetteer:
    """Load the gazetteer tables (cached per directory).

    Parameters
    ----------
    directory : path, optional
        Folder holding the parquet tables; default ``data/gazetteer``.

    Returns
    -------
    Gazetteer

    Raises
    ------
    DataNotFoundError
        When a table is missing; build them with ``scripts/build_gazetteer.py``.
    """
    folder = Path(directory) if directory is not None else GAZETTEER_DIR
    return _load_gazetteer_cached(str(folder.resolve()))


@lru_cache(maxsize=4)
def _load_gazetteer_cached(folder: str) -> Gazetteer:
    tables: dict[str, pd.DataFrame] = {}
    for name in GAZETTEER_TABLES:
        path = Path(folder) / f"{name}.parquet"
        if not path.exists():
            raise DataNotFoundError(
                f"gazetteer table {path} is missing; build it with "
                "`.venv/bin/python scripts/build_gazetteer.py`"
            )
        tables[name] = pd.read_parquet(path)
    pc = tables["postcodes"]
    m = HIPS_BOX_MARGIN_M
    box = Box(
        xmin=float(np.floor((pc["easting"].min() - m) / 1000) * 1000),
        ymin=float(np.floor((pc["northing"].min() - m) / 1000) * 1000),
        xmax=float(np.ceil((pc["easting"].max() + m) / 1000) * 1000),
        ymax=float(np.ceil((pc["northing"].max() + m) / 1000) * 1000),
    )
    log.info(
        "gazetteer loaded from %s: %d postcodes, %d streets, %d places; HIPS box %s",
        folder,
        len(pc),
        len(tables["streets"]),
        len(tables["places"]),
        box.describe(),
    )
    return Gazetteer(
        postcodes=pc,
        sectors=tables["postcode_sectors"],
        districts=tables["postcode_districts"],
        streets=tables["streets"],
        street_points=tables["street_points"],
        places=tables["places"],
        box=box,
        snap_points=tables["snap_points"],
    )

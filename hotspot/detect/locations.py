"""Occurrences gathered at their locations: what a density surface needs of a store.

Kept apart from :mod:`hotspot.detect.kde` (which imports rasterio and SciPy) so
the analysis core can name the type without loading them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class PointCounts:
    """Occurrences gathered at their locations: each location, how many, their weight.

    What a store gathers in one query
    (:meth:`hotspot.ingest.query.StoreQuery.locations`), so that a surface over
    millions of rows costs what its distinct locations cost (police.uk snaps
    every crime to one of about 21,000 points across HIPS).
    :func:`hotspot.detect.kde.kde_surface` gives the same surface, counts and
    bandwidth for these as for the rows they stand for: binning and edge
    correction are linear in the weights, and the bandwidth rules count each
    location ``count`` times.

    Attributes
    ----------
    xy : numpy.ndarray, shape (n, 2)
        Easting and northing in EPSG:27700 metres.
    count : numpy.ndarray of int, shape (n,)
        Occurrences at each location (at least 1).
    weight : numpy.ndarray of float, shape (n,), optional
        Sum of the occurrences' weights at each location (harm); None when
        unweighted (each occurrence weighs 1).
    """

    xy: npt.NDArray[np.float64]
    count: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64] | None = None

    def __len__(self) -> int:
        """Return the number of locations."""
        return len(self.count)

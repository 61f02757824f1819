"""Kernel density estimation of occurrences on a British National Grid raster.

One verb per function: :func:`silverman_bandwidth_m` chooses a bandwidth,
:func:`kde_surface` computes a surface (binned + FFT, or the exact sum),
:func:`kde_exact` is the exact reference, :func:`write_geotiff` writes a surface and
:func:`sample_to_cells` samples one onto H3 cells. Nothing here draws: results are
arrays with an affine transform and a CRS.

Conventions
-----------
* Distances in metres, in EPSG:27700 (British National Grid).
* Surfaces are in occurrences per km² (or weight units per km² with ``weights``).
* Rasters are north-up: row 0 is the northern edge, ``transform @ (col, row)`` is the
  north-west corner of a cell and cell centres sit at half-cell offsets. The grid is
  aligned to multiples of ``cell_size_m`` so surfaces of the same cell size line up.

Why this module is long: one method, quartic kernel density, with everything it needs
to be checked against its exact reference: the bandwidth rules, linear binning
and FFT, the exact sum, edge correction, sampling onto cells and the GeoTIFF;
the parts share the private raster-grid helpers at the bottom.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import rasterio
import rasterio.features
import scipy.fft
import scipy.ndimage
import shapely
from affine import Affine
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG, require_bng
from hotspot.detect.locations import PointCounts
from hotspot.errors import ParameterError

logger = logging.getLogger(__name__)

__all__ = [
    "BandwidthChoice",
    "KDEResult",
    "PointCounts",
    "hotspot_bandwidth_m",
    "kde_exact",
    "kde_surface",
    "kernel_sum_per_m2",
    "quartic_kernel_per_m2",
    "sample_to_cells",
    "silverman_bandwidth_m",
    "write_geotiff",
]

#: Units of every surface this module returns.
UNITS = "occurrences per km²"
#: Square metres per square kilometre.
M2_PER_KM2 = 1.0e6
#: Value written for cells outside the study area in GeoTIFFs.
GEOTIFF_NODATA = -9999.0
#: FFT round-off floor: values below this fraction of the peak are set to zero.
FFT_FLOOR_FRACTION = 1.0e-6
#: The FFT grid is refined until the bandwidth spans at least this many of its
#: cells: linear binning errs by about (cell / h)² of a kernel's peak.
MIN_H_OVER_FFT_CELL = 10.0
#: Largest refined FFT grid, in cells (about 0.5 GB of float32 work arrays).
MAX_FFT_CELLS = 64_000_000
#: From this many points on, the point-in-area test goes through a raster first.
RASTER_POINT_TEST_MIN = 100_000

Method = Literal["fft", "exact"]
_METHODS: tuple[str, ...] = ("fft", "exact")
#: How a bandwidth is chosen when none is given: ``hotspot`` (the default, the
#: median distance to the 5th nearest point: :func:`hotspot_bandwidth_m`) or
#: ``silverman`` (the spatial Silverman rule, :func:`silverman_bandwidth_m`: the
#: spread of all the points, kilometres over a CSP).
BandwidthRule = Literal["hotspot", "silverman"]
BANDWIDTH_RULES: tuple[str, ...] = ("hotspot", "silverman")


@dataclass(frozen=True)
class KDEResult:
    """A kernel density surface with everything needed to read and reproduce it.

    Attributes
    ----------
    values : numpy.ndarray
        2-D array (rows north to south, columns west to east) of densities in
        occurrences per km² at cell centres; NaN outside the study area. float32
        from the FFT method, float64 from the exact one.
    transform : affine.Affine
        Maps (col, row) to the north-west corner of a cell, metres in EPSG:27700.
    crs : str
        Always ``"EPSG:27700"``.
    bandwidth_m : float
        Kernel radius h in metres (the quartic kernel is zero beyond it).
    bandwidth_auto : bool
        True when the bandwidth was chosen by the spatial Silverman rule.
    bandwidth_reason : str
        How the bandwidth was chosen, in words, with the figures.
    cell_size_m : float
        Raster cell edge in metres.
    n_points : int
        Points used: those inside the study area.
    n_points_outside : int
        Points left out because they fall outside the study area.
    weight_total : float
        Sum of the weights of the points used (equals ``n_points`` unweighted).
    total_mass : float
        Integral of the clipped surface, ``nansum(values) * cell_area_km2``. Equals
        ``weight_total`` up to discretisation when no kernel crosses the area's
        edge or with ``edge_correction``; otherwise less when kernel mass of
        points near the edge falls outside the area.
    method : str
        ``"fft"`` (linear binning + FFT convolution) or ``"exact"``.
    warnings : list of str
        Warnings raised while computing (also logged).
    parameters : dict
        Every parameter, as given and as chosen, for reports and GeoTIFF tags.
    """

    values: npt.NDArray[np.floating[Any]]
    transform: Affine
    crs: str
    bandwidth_m: float
    bandwidth_auto: bool
    bandwidth_reason: str
    cell_size_m: float
    n_points: int
    n_points_outside: int
    weight_total: float
    total_mass: float
    method: str
    warnings: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def cell_area_km2(self) -> float:
        """Area of one raster cell in km²."""
        return self.cell_size_m**2 / M2_PER_KM2

    @property
    def shape(self) -> tuple[int, int]:
        """Raster shape as (rows, columns)."""
        return (int(self.values.shape[0]), int(self.values.shape[1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Raster extent (min x, min y, max x, max y) in metres, EPSG:27700."""
        rows, cols = self.shape
        x0, y1 = self.transform @ (0, 0)
        x1, y0 = self.transform @ (cols, rows)
        return (float(x0), float(y0), float(x1), float(y1))

    def cell_centres(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Return 1-D easting (per column) and northing (per row) of cell centres."""
        rows, cols = self.shape
        x0, y1 = self.transform @ (0, 0)
        xs = x0 + (np.arange(cols) + 0.5) * self.cell_size_m
        ys = y1 - (np.arange(rows) + 0.5) * self.cell_size_m
        return xs.astype(np.float64), ys.astype(np.float64)


@dataclass(frozen=True)
class _Grid:
    """A north-up raster aligned to multiples of the cell size."""

    x0: float
    y1: float
    cell_size_m: float
    rows: int
    cols: int

    @property
    def transform(self) -> Affine:
        return Affine(self.cell_size_m, 0.0, self.x0, 0.0, -self.cell_size_m, self.y1)

    def centres(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        xs = self.x0 + (np.arange(self.cols) + 0.5) * self.cell_size_m
        ys = self.y1 - (np.arange(self.rows) + 0.5) * self.cell_size_m
        return xs.astype(np.float64), ys.astype(np.float64)


# --------------------------------------------------------------------------------------
# Kernel and bandwidth
# --------------------------------------------------------------------------------------


def quartic_kernel_per_m2(
    distance_m: npt.ArrayLike, *, bandwidth_m: float
) -> npt.NDArray[np.float64]:
    """Evaluate the normalised quartic (biweight) kernel.

    Parameters
    ----------
    distance_m : array_like
        Distances from the point, metres.
    bandwidth_m : float
        Kernel radius h, metres.

    Returns
    -------
    numpy.ndarray
        K(d) = 3/(πh²)·(1 − d²/h²)² for d < h and 0 otherwise, per m². It
        integrates to 1 over the plane.

    Notes
    -----
    The two-dimensional quartic kernel of Silverman (1986, eq. 4.5) rescaled to
    radius h. It is the kernel of ArcGIS Kernel Density and of QGIS Heatmap.

    References
    ----------
    Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*.
    Chapman and Hall, London.
    """
    d = np.asarray(distance_m, dtype=np.float64)
    h = float(bandwidth_m)
    u2 = (d / h) ** 2
    return np.where(u2 < 1.0, 3.0 / (math.pi * h * h) * (1.0 - u2) ** 2, 0.0)


def silverman_bandwidth_m(
    points_xy: npt.ArrayLike, *, weights: npt.ArrayLike | None = None
) -> float:
    r"""Choose a kernel bandwidth by the spatial Silverman rule.

    Parameters
    ----------
    points_xy : array_like, shape (n, 2)
        Point coordinates in metres (easting, northing), EPSG:27700.
    weights : array_like, shape (n,), optional
        Non-negative point weights (for example harm). Unweighted when omitted.

    Returns
    -------
    float
        Bandwidth h in metres: ``0.9 * min(SD, sqrt(1/ln 2) * Dm) * n ** -0.2``.

    Raises
    ------
    ParameterError
        With fewer than two points (or total weight under 2), non-finite
        coordinates, bad weights, or when every point sits at one location (the
        rule gives 0: give ``bandwidth_m`` explicitly).

    Notes
    -----
    With weights :math:`w_i` (all 1 when unweighted) and :math:`W = \sum w_i`:

    * weighted mean centre :math:`\bar{x} = \sum w_i x_i / W`, likewise
      :math:`\bar{y}`;
    * distance to the centre :math:`d_i = \sqrt{(x_i-\bar{x})^2+(y_i-\bar{y})^2}`;
    * standard distance :math:`SD = \sqrt{\sum w_i d_i^2 / W}`;
    * :math:`D_m` is the weighted median of :math:`d_i`: in sorted order, the
      first :math:`d_{(k)}` whose cumulative weight reaches W/2, or the mean of
      :math:`d_{(k)}` and :math:`d_{(k+1)}` when the cumulative weight equals W/2
      exactly (so with unit weights it is the ordinary median, and integer
      weights act as repeated points);
    * n is the number of points, or W with weights (as ArcGIS does with a
      population field).

    :math:`\sqrt{1/\ln 2}\,D_m` is a robust estimate of SD (for a circular
    normal distribution the median distance is :math:`\sigma\sqrt{2\ln 2}` and
    SD is :math:`\sigma\sqrt 2`), so the rule is Silverman's robust
    rule-of-thumb (1986, eq. 3.31) in two dimensions. This is the default search
    radius of ArcGIS Pro's Kernel Density tool.

    References
    ----------
    Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*.
    Chapman and Hall, London.

    Esri. "How Kernel Density works". ArcGIS Pro 3 documentation, Spatial Analyst.
    """
    xy = np.asarray(points_xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ParameterError(
            f"points_xy must be an (n, 2) array of easting, northing; got shape "
            f"{xy.shape}"
        )
    if not np.all(np.isfinite(xy)):
        raise ParameterError("points_xy must be finite; got NaN or infinite values")
    w = _check_weight_values(weights, n=len(xy), name="weights")
    total = float(w.sum())
    if len(xy) < 2 or total < 2.0:
        raise ParameterError(
            f"the Silverman rule needs at least two points (total weight >= 2); got "
            f"{len(xy)} points with total weight {total:g}: give bandwidth_m instead"
        )
    centre = (w[:, None] * xy).sum(axis=0) / total
    d = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1])
    sd = math.sqrt(float((w * d * d).sum()) / total)
    if weights is None:
        dm = float(np.median(d))  # the unit-weight case below, without a sort
    else:
        order = np.argsort(d, kind="stable")
        cum = np.cumsum(w[order])
        d_sorted = d[order]
        k = int(np.searchsorted(cum, total / 2.0, side="left"))
        k = min(k, len(d_sorted) - 1)
        dm = float(d_sorted[k])
        if k + 1 < len(d_sorted) and math.isclose(float(cum[k]), total / 2.0):
            dm = 0.5 * (dm + float(d_sorted[k + 1]))  # halfway, as the median
    h = 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * total**-0.2
    if not h > 0.0:
        raise ParameterError(
            "the Silverman rule gives a zero bandwidth because the points sit at a "
            "single location (or more than half at the mean centre): give bandwidth_m"
        )
    return h


#: Neighbour order of the hot-spot bandwidth rule.
HOTSPOT_NEIGHBOUR_K = 5


@dataclass(frozen=True)
class BandwidthChoice:
    """A bandwidth for hot-spot maps, with the reason and the Silverman value.

    Attributes
    ----------
    bandwidth_m : float
        The bandwidth to use, metres.
    rule : str
        ``"nearest_neighbour"``.
    reason : str
        How it was chosen, in words, with the figures.
    silverman_m : float or None
        The spatial Silverman value on the same points, for comparison (None
        when it cannot be computed).
    warnings : list of str
        For example, a bandwidth smaller than the cell size.
    """

    bandwidth_m: float
    rule: str
    reason: str
    silverman_m: float | None
    warnings: list[str] = field(default_factory=list)


def hotspot_bandwidth_m(
    points_xy: npt.ArrayLike,
    *,
    k: int = HOTSPOT_NEIGHBOUR_K,
    cell_size_m: float | None = None,
    counts: npt.ArrayLike | None = None,
) -> BandwidthChoice:
    r"""Choose a kernel bandwidth for hot spots: the median k-th neighbour distance.

    Parameters
    ----------
    points_xy : array_like, shape (n, 2)
        Point coordinates in metres (easting, northing), EPSG:27700.
    k : int, keyword-only
        Neighbour order (default 5): the bandwidth is the median over points of
        the distance to their k-th nearest other point.
    cell_size_m : float, optional, keyword-only
        Size of the cells the surface is read on; a warning is given when the
        bandwidth is smaller.
    counts : array_like of int, shape (n,), optional, keyword-only
        Occurrences at each point (:class:`PointCounts`): the rule is that of
        the points repeated ``counts`` times. All 1 when omitted.

    Returns
    -------
    BandwidthChoice
        The bandwidth, the reason in words, and the spatial Silverman value
        (:func:`silverman_bandwidth_m`) on the same points.

    Raises
    ------
    ParameterError
        With k + 1 points (or distinct locations) or fewer, or non-finite
        coordinates.

    Notes
    -----
    The Silverman rule measures the spread of all the points, so over a CSP or
    HIPS it gives kilometres: a county-scale blur. A hot spot is a local
    concentration, so the bandwidth should follow the spacing of points *within*
    concentrations: the distance at which a typical occurrence has k others
    around it (a k-th order nearest-neighbour distance; Williamson et al. 1999;
    Chainey 2013 discusses bandwidths of a few hundred metres for street
    crime). The median keeps the isolated rural points from stretching it. When
    the median is 0 (more than half the points share a spot with k others, as
    with points snapped to a few locations) the distances are measured between
    distinct locations instead, and the reason says so.

    Checked by backtest on the embedded police.uk months
    (``docs/ranking.md``): for robbery and weapons the rule gives about 480-660 m
    and the best of the fixed bandwidths 300/600/1000 m was 600 m; for all
    serious violence it gives about 220-300 m and the best fixed one was 300 m.

    References
    ----------
    Williamson, D., McLafferty, S., Goldsmith, V., Mollenkopf, J. & McGuire, P.
    (1999). A better method to smooth crime incident data. *ESRI ArcUser*.

    Chainey, S. (2013). Examining the influence of cell size and bandwidth size
    on kernel density estimation crime hotspot maps for predicting spatial
    patterns of crime. *Bulletin of the Geographical Society of Liege* 60, 7-19.
    """
    xy = np.asarray(points_xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ParameterError(
            f"points_xy must be an (n, 2) array of easting, northing; got shape "
            f"{xy.shape}"
        )
    if not np.all(np.isfinite(xy)):
        raise ParameterError("points_xy must be finite; got NaN or infinite values")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k must be an integer >= 1, got {k!r}")
    m = (np.ones(len(xy), dtype=np.int64) if counts is None
         else np.asarray(counts, dtype=np.int64))
    n = int(m.sum())
    if n <= k:
        raise ParameterError(
            f"the nearest-neighbour rule with k = {k} needs more than {k} points, "
            f"got {n}: give the bandwidth explicitly"
        )
    if counts is None:
        distances, _ = cKDTree(xy).query(xy, k=int(k) + 1)
        h = float(np.median(distances[:, int(k)]))
    else:
        h = _median_repeated(_kth_other_distance(xy, m, int(k)), m)
    basis = f"each of {n} points"
    if not h > 0.0:
        # more than half the points share a spot with k others (points snapped
        # to a few locations): measure between distinct locations instead
        spots = np.unique(xy, axis=0)
        if len(spots) <= k:
            raise ParameterError(
                f"the median distance to the {k}th nearest point is 0 and there "
                f"are only {len(spots)} distinct locations: give the bandwidth "
                "explicitly"
            )
        distances, _ = cKDTree(spots).query(spots, k=int(k) + 1)
        h = float(np.median(distances[:, int(k)]))
        basis = (f"each of {len(spots)} distinct locations (more than half of the "
                 f"{n} points share a location with {k} others)")
    try:
        silverman: float | None = silverman_bandwidth_m(
            xy, weights=None if counts is None else m)
    except ParameterError:
        silverman = None
    reason = (
        f"hot-spot rule: median distance from {basis} to its {k}th nearest "
        f"other: {h:.0f} m"
        + (f" (the spatial Silverman rule would give {silverman:.0f} m, a "
           "district-scale blur)" if silverman is not None else "")
    )
    warnings_: list[str] = []
    if cell_size_m is not None and h < float(cell_size_m):
        _warn(warnings_, f"the hot-spot bandwidth {h:.0f} m is smaller than the "
              f"cell size {float(cell_size_m):g} m: the surface will be patchy")
    logger.info("bandwidth: %s", reason)
    return BandwidthChoice(h, "nearest_neighbour", reason, silverman, warnings_)


def _median_repeated(values: npt.NDArray[np.float64],
                     counts: npt.NDArray[np.int64]) -> float:
    """Return ``np.median`` of ``values`` each repeated ``counts`` times, unrepeated."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    cum = np.cumsum(counts[order])
    n = int(cum[-1])

    def at(position: int) -> float:  # the value at a 0-based position when repeated
        return float(v[int(np.searchsorted(cum, position, side="right"))])

    if n % 2:
        return at(n // 2)
    return 0.5 * (at(n // 2 - 1) + at(n // 2))


def _kth_other_distance(xy: npt.NDArray[np.float64], counts: npt.NDArray[np.int64],
                        k: int) -> npt.NDArray[np.float64]:
    """Distance from each location to the k-th nearest other occurrence.

    Occurrences at the same location are at distance 0, so with ``counts`` all 1
    this is ``cKDTree(xy).query(xy, k + 1)[0][:, k]``; inf where fewer than k
    others exist.
    """
    q = min(k + 1, len(xy))
    distances, index = cKDTree(xy).query(xy, k=q)
    distances = np.asarray(distances, dtype=np.float64).reshape(len(xy), q)
    index = np.asarray(index).reshape(len(xy), q)
    # occurrences within each neighbour's distance, the location's own included
    within = np.cumsum(counts[index], axis=1)
    first = np.argmax(within >= k + 1, axis=1)
    out = distances[np.arange(len(xy)), first]
    out[within[:, -1] < k + 1] = np.inf
    return out


# --------------------------------------------------------------------------------------
# Surfaces
# --------------------------------------------------------------------------------------


def kde_surface(
    points: gpd.GeoDataFrame | PointCounts,
    *,
    area: BaseGeometry,
    cell_size_m: float = 50.0,
    bandwidth_m: float | None = None,
    weights: str | pd.Series | None = None,
    method: Method = "fft",
    edge_correction: bool = False,
    bandwidth_rule: BandwidthRule = "hotspot",
) -> KDEResult:
    r"""Compute a quartic kernel density surface clipped to a study area.

    Parameters
    ----------
    points : geopandas.GeoDataFrame or PointCounts
        Occurrences as points in EPSG:27700, or gathered at their locations
        (:class:`PointCounts`, which carries its own weights: ``weights`` must
        then be None). Not modified.
    area : shapely geometry
        Study area (Polygon or MultiPolygon) in EPSG:27700 metres, for example a
        coastline-clipped CSP. Points outside it are left out and the surface is
        NaN outside it.
    cell_size_m : float, default 50
        Raster cell edge in metres.
    bandwidth_m : float, optional
        Kernel radius h in metres. When omitted, chosen by ``bandwidth_rule``
        on the points inside the area, and the reason is kept.
    weights : str or pandas.Series, optional
        Non-negative weight per point (for example harm): a column of ``points``
        or a Series indexed like ``points``. The surface then integrates to the
        total weight.
    method : {"fft", "exact"}, default "fft"
        ``"fft"``: linear binning onto the grid and FFT convolution with the
        discretised kernel. ``"exact"``: the direct kernel sum at every cell
        centre (:func:`kde_exact`), for checks and small inputs.
    edge_correction : bool, default False
        Rescale each point's kernel by the inverse of the share of it that falls
        on in-area cells, so that every point inside the area contributes exactly
        its weight to the clipped surface (see Notes). Off by default: the plain
        estimator, as ArcGIS Kernel Density and QGIS Heatmap compute it.
    bandwidth_rule : {"hotspot", "silverman"}, keyword-only
        Rule used when ``bandwidth_m`` is omitted: ``hotspot`` (default) is the
        median distance to the 5th nearest point (:func:`hotspot_bandwidth_m`;
        a few hundred metres in towns, checked by backtest in
        ``docs/ranking.md``), falling back to Silverman, with a warning, when
        there are too few points; ``silverman`` is the spatial Silverman rule
        (:func:`silverman_bandwidth_m`), kilometres over a CSP.

    Returns
    -------
    KDEResult
        Values in occurrences per km² at cell centres, NaN outside the area, with
        the transform, CRS, the bandwidth and how it was chosen, and counts.

    Raises
    ------
    CRSError
        When ``points`` is not in EPSG:27700 (the message says how to fix it).
    ParameterError
        For a bad area, cell size, bandwidth, weights or method; when the
        bandwidth must be chosen but there are fewer than two points inside the
        area.

    Notes
    -----
    **Kernel.** :math:`K(d) = 3/(\pi h^2)\,(1 - d^2/h^2)^2` for d < h, which
    integrates to 1, so the surface :math:`f(s) = \sum_i w_i K(\lVert s - p_i
    \rVert)` integrates to :math:`\sum w_i` and, times 10⁶, is in occurrences
    per km².

    **Grid.** Cell edges at multiples of ``cell_size_m``; the extent is the area's
    bounding box grown by h plus one cell, so every kernel of a point in the area
    lies on the grid.

    **Binning.** Linear (bilinear) binning: each point's weight is shared among
    the four surrounding cell centres in proportion to the opposite areas. It
    keeps each point's mass and centre of mass exactly, and its error is of order
    (cell/h)², against order cell/h for simple (nearest-centre) binning (Wand &
    Jones 1995, §D.2; Wand 1994).

    **Discrete kernel.** K sampled at cell-centre offsets within h and rescaled so
    that its sum times the cell area is exactly 1: binned mass is conserved.

    **Refinement.** Linear binning errs by about (cell/h)² of a kernel's peak, so
    when h is under 10 cells the binning and FFT run on a grid refined by an odd
    factor s (the smallest making h ≥ 10 fine cells, parameters["supersample"])
    and the result is read at the fine cells centred on the output cell centres.
    The fine grid is capped at 64 million cells; if the cap bites, a warning gives
    the expected error.

    **Clipping and mass.** A cell is in the area when its centre is inside the
    area (``rasterio.features.geometry_mask``). Points outside the area are left
    out and counted (``n_points_outside``): the surface describes the area's own
    occurrences. Kernel mass of points near the edge that falls outside the area
    (at sea, or in the next CSP) is not redistributed, so ``total_mass`` equals
    the number (total weight) of points inside the area when no kernel crosses the
    edge, and is smaller otherwise; the shortfall is reported in
    ``parameters["mass_in_area_fraction"]``.

    **Edge correction** (``edge_correction=True``). Point i's weight is divided by
    :math:`k_i = \sum_{j\ \mathrm{in\ area}} K(\lVert c_j - p_i \rVert)\,a`, the
    share of its kernel on in-area cells (cell centres :math:`c_j`, cell area
    a), as in the edge correction of Diggle (1985). The surface then integrates
    over the area to the number (total weight) of points inside it, and densities
    near the coast and the area's edge rise accordingly. :math:`k_i` is computed
    exactly for ``"exact"``, and for ``"fft"`` by one more FFT convolution of the
    area mask with the same discrete kernel, interpolated with the binning
    weights (so the binned mass is kept exactly). A point whose kernel reaches no
    in-area cell centre (h < cell) is left uncorrected.

    **Empty input.** No points inside the area and a given ``bandwidth_m`` give an
    all-zero surface (with a warning); without ``bandwidth_m`` it is an error.

    **Small bandwidths.** When h < cell size the surface, read at cell centres,
    misses kernels that fall between centres and no longer keeps the mass: this is
    warned about.

    References
    ----------
    Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*.
    Chapman and Hall, London.

    Wand, M. P. (1994). Fast computation of multivariate kernel estimators.
    *Journal of Computational and Graphical Statistics* 3(4), 433-445.

    Wand, M. P. & Jones, M. C. (1995). *Kernel Smoothing*. Chapman and Hall.

    Diggle, P. (1985). A kernel method for smoothing point process data. *Applied
    Statistics* 34(2), 138-147.
    """
    # validate
    if method not in _METHODS:
        raise ParameterError(f"method must be 'fft' or 'exact', got {method!r}")
    if not isinstance(edge_correction, bool):
        raise ParameterError(
            f"edge_correction must be True or False, got {edge_correction!r}"
        )
    xy, w, m, n_outside, weighted = _points_inside(points, area=area,
                                                   weights=weights)
    n_inside = int(m.sum())
    cell = _check_positive(cell_size_m, name="cell_size_m")
    h, auto, reason, rule_warnings = _choose_bandwidth(
        xy, w, m, bandwidth_m=bandwidth_m, rule=bandwidth_rule, cell_size_m=cell,
        weighted=weighted)
    grid = _grid_for(area, cell_size_m=cell, bandwidth_m=h)
    supersample = _supersampling(grid, h) if method == "fft" else 1
    warnings_ = _input_warnings(
        bandwidth_m=h,
        cell_size_m=cell,
        fft_cell_size_m=cell / supersample if method == "fft" else None,
        n_inside=n_inside,
        n_outside=n_outside,
    )
    warnings_ += rule_warnings

    # compute
    inside = _area_mask(area, grid)
    w_used, max_factor = w, 1.0
    if edge_correction and len(xy):
        w_used, max_factor = _edge_corrected_weights(
            xy,
            w,
            grid=grid,
            inside=inside,
            bandwidth_m=h,
            method=method,
            supersample=supersample,
            warnings_=warnings_,
        )
    if method == "fft":
        density_m2: npt.NDArray[np.floating[Any]] = _fft_density_m2(
            xy, w_used, grid=grid, bandwidth_m=h, supersample=supersample
        )
    else:
        density_m2 = _exact_density_m2(
            xy, w_used, grid=grid, bandwidth_m=h, inside=inside
        )
    values = density_m2 * M2_PER_KM2
    values[~inside] = np.nan

    # package
    return _package(
        values,
        grid=grid,
        bandwidth_m=h,
        bandwidth_auto=auto,
        bandwidth_reason=reason,
        n_points=n_inside,
        n_outside=n_outside,
        weight_total=float(w.sum()),
        weighted=weighted,
        method=method,
        supersample=supersample,
        edge_correction=edge_correction,
        edge_max_factor=max_factor,
        warnings_=warnings_,
    )


def kde_exact(
    points: gpd.GeoDataFrame,
    *,
    area: BaseGeometry,
    cell_size_m: float = 50.0,
    bandwidth_m: float | None = None,
    weights: str | pd.Series | None = None,
    edge_correction: bool = False,
) -> KDEResult:
    r"""Compute the exact kernel sum at every cell centre (the reference).

    Same arguments, grid, clipping and result as :func:`kde_surface`, but each
    in-area cell centre gets :math:`\sum_i w_i K(d_i)` summed directly over the
    points within h, found with a k-d tree (``scipy.spatial.cKDTree``). Use it to
    check the FFT surface and for small inputs; memory and time grow with the
    number of (point, cell) pairs within h.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Occurrences as points in EPSG:27700.
    area : shapely geometry
        Study area in EPSG:27700.
    cell_size_m : float, default 50
        Raster cell edge in metres.
    bandwidth_m : float, optional
        Kernel radius in metres; Silverman rule when omitted.
    weights : str or pandas.Series, optional
        Non-negative weight per point.
    edge_correction : bool, default False
        As in :func:`kde_surface`, with the in-area share of each kernel summed
        exactly.

    Returns
    -------
    KDEResult
        As :func:`kde_surface`, with ``method == "exact"``.

    Notes
    -----
    The values are the quartic kernel estimate evaluated at cell centres with no
    binning and no rescaling of the kernel, so the total mass differs from the
    weight total by the Riemann-sum error of the kernel on the grid.
    """
    return kde_surface(
        points,
        area=area,
        cell_size_m=cell_size_m,
        bandwidth_m=bandwidth_m,
        weights=weights,
        method="exact",
        edge_correction=edge_correction,
    )


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def write_geotiff(
    result: KDEResult,
    path: str | Path,
    *,
    tags: dict[str, str] | None = None,
) -> Path:
    """Write a surface as a compressed single-band GeoTIFF.

    Parameters
    ----------
    result : KDEResult
        The surface to write.
    path : str or pathlib.Path
        Output file; its folder must exist.
    tags : dict of str to str, optional
        Extra dataset tags, for example ``{"period": "2025-01/2025-09",
        "filters": "robbery, possession of weapons"}``. They override the
        defaults of the same name.

    Returns
    -------
    pathlib.Path
        The file written.

    Notes
    -----
    Float32, EPSG:27700, DEFLATE compression with the floating-point predictor,
    nodata -9999 for cells outside the area (NaN in ``result.values``). Dataset
    tags: ``units`` ("occurrences per km²"), ``kernel``, ``method``,
    ``bandwidth_m``, ``bandwidth_auto``, ``bandwidth_reason``, ``cell_size_m``,
    ``n_points``, ``n_points_outside``, ``weight_total``, ``total_mass``,
    ``period`` ("unspecified" unless given in ``tags``) and ``software``.
    """
    if not isinstance(result, KDEResult):
        raise ParameterError(f"result must be a KDEResult, got {type(result).__name__}")
    out = Path(path)
    if not out.parent.is_dir():
        raise ParameterError(f"path must be in an existing folder; {out.parent} is not")
    all_tags: dict[str, str] = {
        "units": UNITS,
        "kernel": "quartic (biweight) 3/(pi h^2) (1 - d^2/h^2)^2, d < h",
        "method": result.method,
        # full precision: the disclosure floor is computed from it, and a
        # rounded value moves the floor off the bands the surface was cut to
        "bandwidth_m": f"{result.bandwidth_m:.17g}",
        "bandwidth_auto": str(result.bandwidth_auto),
        "bandwidth_reason": result.bandwidth_reason,
        "cell_size_m": f"{result.cell_size_m:g}",
        "n_points": str(result.n_points),
        "n_points_outside": str(result.n_points_outside),
        "weight_total": f"{result.weight_total:g}",
        "total_mass": f"{result.total_mass:.6g}",
        "period": "unspecified",
        "software": "hotspot.detect.kde",
    }
    for key, value in (tags or {}).items():
        all_tags[str(key)] = str(value)
    data = np.where(np.isnan(result.values), GEOTIFF_NODATA, result.values)
    rows, cols = result.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "height": rows,
        "width": cols,
        "count": 1,
        "dtype": "float32",
        "crs": result.crs,
        "transform": result.transform,
        "nodata": GEOTIFF_NODATA,
        "compress": "deflate",
        "predictor": 3,
        "num_threads": "ALL_CPUS",  # GDAL compresses the blocks on every core
    }
    if rows >= 256 and cols >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(data.astype(np.float32, copy=False), 1)
        dst.update_tags(**all_tags)
        dst.set_band_description(1, f"kernel density, {UNITS}")
        dst.units = (UNITS,)
    logger.info("wrote KDE GeoTIFF %s (%d x %d cells)", out, rows, cols)
    return out


def sample_to_cells(result: KDEResult, cells: gpd.GeoDataFrame) -> pd.Series:
    """Average a surface over each H3 cell.

    Parameters
    ----------
    result : KDEResult
        The surface.
    cells : geopandas.GeoDataFrame
        H3 cells as polygons in EPSG:27700 (an ``h3`` column or index is
        carried along by the index). Not modified.

    Returns
    -------
    pandas.Series
        Float, indexed like ``cells``, named ``"kde_per_km2"``: the mean density
        (occurrences per km²) over the raster cells whose centres fall inside each
        H3 cell, ignoring raster cells outside the study area. When no raster
        centre falls inside an H3 cell (cells smaller than a raster cell), the
        value at the H3 cell's centroid. NaN when the cell lies wholly outside the
        surface or its study area.

    Notes
    -----
    The mean over the cell, times the cell's area in km², approximates the
    expected number of occurrences in it, and unlike the centroid value it does
    not depend on where a narrow peak falls within the cell.
    """
    if not isinstance(result, KDEResult):
        raise ParameterError(f"result must be a KDEResult, got {type(result).__name__}")
    if not isinstance(cells, gpd.GeoDataFrame):
        raise ParameterError(
            f"cells must be a GeoDataFrame of H3 polygons, got {type(cells).__name__}"
        )
    require_bng(cells, name="cells")
    n = len(cells)
    out = np.full(n, np.nan)
    if n == 0:
        return pd.Series(out, index=cells.index, name="kde_per_km2", dtype=float)
    geoms = cells.geometry.to_numpy()
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))

    # window of the raster covering the cells
    rows, cols = result.shape
    inv = ~result.transform
    minx, miny, maxx, maxy = shapely.total_bounds(geoms[valid])
    c0, r0 = inv @ (minx, maxy)
    c1, r1 = inv @ (maxx, miny)
    c0, r0 = max(int(math.floor(c0)), 0), max(int(math.floor(r0)), 0)
    c1, r1 = min(int(math.ceil(c1)), cols), min(int(math.ceil(r1)), rows)
    if c1 > c0 and r1 > r0:
        window_tf = result.transform @ Affine.translation(c0, r0)
        labels = rasterio.features.rasterize(
            ((g, i + 1) for i, g in enumerate(geoms) if valid[i]),
            out_shape=(r1 - r0, c1 - c0),
            transform=window_tf,
            fill=0,
            dtype="int32",
        )
        sub = result.values[r0:r1, c0:c1]
        ok = (labels > 0) & ~np.isnan(sub)
        lab = labels[ok]
        sums = np.bincount(lab, weights=sub[ok].astype(np.float64), minlength=n + 1)
        counts = np.bincount(lab, minlength=n + 1)
        has = counts[1:] > 0
        out[has] = sums[1:][has] / counts[1:][has]
        covered = np.bincount(labels.ravel(), minlength=n + 1)[1:] > 0
    else:
        covered = np.zeros(n, dtype=bool)

    # cells with no raster centre inside: value at the centroid
    fallback = valid & ~covered
    if fallback.any():
        cent = shapely.centroid(geoms[fallback])
        cc, rr = inv @ (shapely.get_x(cent), shapely.get_y(cent))
        cc = np.floor(np.asarray(cc)).astype(np.int64)
        rr = np.floor(np.asarray(rr)).astype(np.int64)
        on = (cc >= 0) & (cc < cols) & (rr >= 0) & (rr < rows)
        vals = np.full(len(cc), np.nan)
        vals[on] = result.values[rr[on], cc[on]]
        out[np.flatnonzero(fallback)] = vals
    return pd.Series(out, index=cells.index, name="kde_per_km2", dtype=float)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _warn(sink: list[str], message: str) -> None:
    logger.warning(message)
    sink.append(message)


def _check_positive(value: object, *, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ParameterError(
            f"{name} must be a positive number of metres, got {value!r}"
        )
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise ParameterError(
            f"{name} must be a positive number of metres, got {value!r}"
        )
    return v


def _check_weight_values(
    weights: npt.ArrayLike | None, *, n: int, name: str
) -> npt.NDArray[np.float64]:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be numeric, got {weights!r:.80}") from exc
    if w.shape != (n,):
        raise ParameterError(
            f"{name} must have one value per point ({n}), got {w.shape}"
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ParameterError(f"{name} must be finite and non-negative")
    return w


def _points_inside(
    points: gpd.GeoDataFrame | PointCounts,
    *,
    area: BaseGeometry,
    weights: str | pd.Series | None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64],
           int, bool]:
    """Validate points, area and weights.

    Returns the in-area xy, their weights and occurrence counts (1 per row of a
    GeoDataFrame), the number of occurrences outside, and whether weighted.
    """
    _check_area(area)
    if isinstance(points, PointCounts):
        if weights is not None:
            raise ParameterError("PointCounts carry their own weights: give weights "
                                 "as PointCounts.weight, not weights=")
        x, y, m, w, weighted = _point_counts(points)
    else:
        x, y, w, weighted = _frame_points(points, weights)
        m = np.ones(len(x), dtype=np.int64)
    inside = _inside_area(area, x, y)
    xy = np.column_stack([x[inside], y[inside]])
    return xy, w[inside], m[inside], int(m[~inside].sum()), weighted


def _point_counts(
    points: PointCounts,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64],
           npt.NDArray[np.float64], bool]:
    """Check a :class:`PointCounts`; return x, y, counts, weights, weighted."""
    xy = np.asarray(points.xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ParameterError(f"PointCounts.xy must be (n, 2), got {xy.shape}")
    if not np.all(np.isfinite(xy)):
        raise ParameterError("PointCounts.xy must be finite")
    m = np.asarray(points.count)
    if m.shape != (len(xy),) or not np.issubdtype(m.dtype, np.integer) or (
            len(m) and m.min() < 1):
        raise ParameterError("PointCounts.count must hold one integer >= 1 per "
                             f"location ({len(xy)}), got {m.dtype} {m.shape}")
    m = m.astype(np.int64)
    weighted = points.weight is not None
    w = (m.astype(np.float64) if points.weight is None else
         _check_weight_values(points.weight, n=len(xy), name="PointCounts.weight"))
    return xy[:, 0], xy[:, 1], m, w, weighted


def _frame_points(
    points: gpd.GeoDataFrame, weights: str | pd.Series | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
           npt.NDArray[np.float64], bool]:
    """Check a GeoDataFrame of points and its weights; return x, y, w, weighted."""
    if not isinstance(points, gpd.GeoDataFrame):
        raise ParameterError(
            f"points must be a GeoDataFrame of points, got {type(points).__name__}"
        )
    require_bng(points, name="points")
    geoms = points.geometry.to_numpy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        raise ParameterError(
            f"points has {int(bad.sum())} missing or empty geometries: drop them first"
        )
    kinds = set(shapely.get_type_id(geoms).tolist())
    if kinds - {0}:
        raise ParameterError("points must hold Point geometries only")
    x = shapely.get_x(geoms)
    y = shapely.get_y(geoms)
    return x, y, *_frame_weights(points, weights)


def _check_area(area: BaseGeometry) -> None:
    """Raise ParameterError unless ``area`` is a non-empty BNG (Multi)Polygon."""
    if not isinstance(area, BaseGeometry) or area.geom_type not in (
        "Polygon",
        "MultiPolygon",
    ):
        raise ParameterError(
            f"area must be a shapely Polygon or MultiPolygon in EPSG:27700, got "
            f"{getattr(area, 'geom_type', type(area).__name__)}"
        )
    if area.is_empty:
        raise ParameterError("area must not be empty")
    minx, miny, maxx, maxy = area.bounds
    looks_like_degrees = (
        max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90
    )
    in_bng_range = minx >= -1e5 and maxx <= 8e5 and miny >= -1e5 and maxy <= 1.4e6
    if looks_like_degrees or not in_bng_range:
        raise ParameterError(
            f"area bounds {area.bounds} are not British National Grid metres: "
            f"project it with hotspot.crs before calling"
        )


def _frame_weights(
    points: gpd.GeoDataFrame, weights: str | pd.Series | None
) -> tuple[npt.NDArray[np.float64], bool]:
    """Return each row's weight (a column, a Series or 1) and whether weighted."""
    weighted = weights is not None
    if weights is None:
        w = np.ones(len(points), dtype=np.float64)
    elif isinstance(weights, str):
        if weights not in points.columns:
            raise ParameterError(
                f"weights {weights!r} is not a column of points; columns are "
                f"{list(points.columns)}"
            )
        w = _check_weight_values(
            points[weights].to_numpy(),
            n=len(points),
            name=f"weights column {weights!r}",
        )
    elif isinstance(weights, pd.Series):
        if not weights.index.equals(points.index):
            missing = points.index.difference(weights.index)
            if len(missing) or not weights.index.is_unique:
                raise ParameterError(
                    "weights Series must be indexed like points (unique index, one "
                    f"value per point); {len(missing)} points have no weight"
                )
        aligned = weights.reindex(points.index)  # a new Series; the input is kept
        w = _check_weight_values(aligned.to_numpy(), n=len(points), name="weights")
    else:
        raise ParameterError(
            f"weights must be a column name, a pandas Series or None, got "
            f"{type(weights).__name__}"
        )
    return w, weighted


def _inside_area(
    area: BaseGeometry,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """Return True for points inside the area or on its boundary (exact).

    For many points a raster of the area (at most about 4 million cells) answers
    for every point whose raster cell the boundary does not touch: such a cell is
    wholly inside or wholly outside, like its centre. Points in cells the
    boundary touches, or next to one, are tested exactly with shapely.
    """
    if len(x) == 0:
        return np.zeros(0, dtype=bool)
    # a prepared copy: preparing the caller's geometry would change it
    prepared = shapely.from_wkb(shapely.to_wkb(area))
    shapely.prepare(prepared)
    if len(x) < RASTER_POINT_TEST_MIN:
        return np.asarray(shapely.intersects_xy(prepared, x, y), dtype=bool)

    minx, miny, maxx, maxy = area.bounds
    c = max(math.sqrt((maxx - minx) * (maxy - miny) / 4.0e6), 1.0)
    grid = _Grid(
        x0=minx - c,
        y1=maxy + c,
        cell_size_m=c,
        rows=int(math.ceil((maxy - miny) / c)) + 2,
        cols=int(math.ceil((maxx - minx) / c)) + 2,
    )
    centre_inside = _area_mask(area, grid)
    edge = rasterio.features.rasterize(
        [area.boundary],
        out_shape=(grid.rows, grid.cols),
        transform=grid.transform,
        all_touched=True,
        fill=0,
        dtype="uint8",
    ).astype(bool)
    edge = scipy.ndimage.binary_dilation(edge, structure=np.ones((3, 3), dtype=bool))
    col = np.floor((x - grid.x0) / c).astype(np.int64)
    row = np.floor((grid.y1 - y) / c).astype(np.int64)
    on_grid = (col >= 0) & (col < grid.cols) & (row >= 0) & (row < grid.rows)
    inside = np.zeros(len(x), dtype=bool)
    r, k = row[on_grid], col[on_grid]
    inside[on_grid] = centre_inside[r, k]
    unsure = np.zeros(len(x), dtype=bool)
    unsure[on_grid] = edge[r, k]
    inside[unsure] = shapely.intersects_xy(prepared, x[unsure], y[unsure])
    return inside


def _input_warnings(
    *,
    bandwidth_m: float,
    cell_size_m: float,
    fft_cell_size_m: float | None,
    n_inside: int,
    n_outside: int,
) -> list[str]:
    """Log and return the warnings that the inputs call for."""
    found: list[str] = []
    h = bandwidth_m
    if h < cell_size_m:
        _warn(
            found,
            f"bandwidth_m {h:.1f} m is smaller than cell_size_m {cell_size_m:g} m: "
            f"the surface is read at cell centres only, so kernels between centres "
            f"are missed and the mass is not kept; use a smaller cell or a larger "
            f"bandwidth",
        )
    if fft_cell_size_m is not None and h / fft_cell_size_m < MIN_H_OVER_FFT_CELL:
        _warn(
            found,
            f"bandwidth_m {h:.1f} m spans only {h / fft_cell_size_m:.1f} FFT cells "
            f"of {fft_cell_size_m:g} m (a finer grid would exceed {MAX_FFT_CELLS:,} "
            f"cells): expect errors up to about "
            f"{100 * (fft_cell_size_m / h) ** 2:.0f}% of the peak; use a larger "
            f"cell_size_m or method='exact'",
        )
    if n_inside == 0:
        _warn(found, "no points inside the area: the surface is all zero")
    if n_outside:
        _warn(
            found,
            f"{n_outside} of {n_outside + n_inside} points fall outside the area "
            f"and were left out",
        )
    return found


def _edge_corrected_weights(
    xy: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    *,
    grid: _Grid,
    inside: npt.NDArray[np.bool_],
    bandwidth_m: float,
    method: str,
    supersample: int,
    warnings_: list[str],
) -> tuple[npt.NDArray[np.float64], float]:
    """Divide weights by their kernels' in-area shares; also return the max factor."""
    if method == "fft":
        kept = _fft_kernel_share_in_area(
            xy,
            grid=grid,
            inside=inside,
            bandwidth_m=bandwidth_m,
            supersample=supersample,
        )
    else:
        rows_in, cols_in = np.nonzero(inside)
        xs, ys = grid.centres()
        centres_in = np.column_stack([xs[cols_in], ys[rows_in]])
        kept = kernel_sum_per_m2(
            xy, centres_in, bandwidth_m=bandwidth_m, cell_size_hint_m=grid.cell_size_m
        ) * (grid.cell_size_m**2)
    correctable = kept > 0
    if not correctable.all():
        _warn(
            warnings_,
            f"{int((~correctable).sum())} points have no in-area cell centre within "
            f"bandwidth_m and were not edge-corrected",
        )
    if not correctable.any():
        return w, 1.0
    corrected = np.where(correctable, w / np.where(correctable, kept, 1.0), w)
    return corrected, float(1.0 / kept[correctable].min())


def _choose_bandwidth(
    xy: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    m: npt.NDArray[np.int64] | None = None,
    *,
    bandwidth_m: float | None,
    rule: str = "hotspot",
    cell_size_m: float | None = None,
    weighted: bool = True,
) -> tuple[float, bool, str, list[str]]:
    """Return the bandwidth, whether it was chosen, why, and any warnings.

    ``m`` counts the occurrences at each point (all 1 when None); ``w`` is their
    total weight there. Unit weights are the unweighted rule.
    """
    m = np.ones(len(xy), dtype=np.int64) if m is None else m
    repeated = bool(len(m)) and int(m.max()) > 1
    n = int(m.sum())
    if bandwidth_m is not None:
        h = _check_positive(bandwidth_m, name="bandwidth_m")
        return h, False, f"given: {h:g} m", []
    if rule not in BANDWIDTH_RULES:
        raise ParameterError(
            f"bandwidth_rule must be one of {list(BANDWIDTH_RULES)}, got {rule!r}")
    if n < 2:
        raise ParameterError(
            f"bandwidth_m was not given and cannot be chosen from {n} point(s) "
            f"inside the area (the Silverman rule needs at least two): give "
            f"bandwidth_m"
        )
    warnings_: list[str] = []
    if rule == "hotspot":
        try:
            choice = hotspot_bandwidth_m(xy, cell_size_m=cell_size_m,
                                         counts=m if repeated else None)
            return choice.bandwidth_m, True, choice.reason, list(choice.warnings)
        except ParameterError as exc:
            _warn(warnings_, f"the hot-spot bandwidth rule could not be used ({exc}); "
                  "the spatial Silverman rule was used instead")
    unit = np.array_equal(w, m) if weighted else True  # every weight 1
    rule_weights = (None if unit and not repeated else m if unit else w)
    h = silverman_bandwidth_m(xy, weights=rule_weights)
    reason = (
        f"spatial Silverman rule 0.9*min(SD, sqrt(1/ln 2)*Dm)*n^-0.2 on "
        f"{n} points inside the area (n = {float(w.sum()):g}): {h:.1f} m"
    )
    logger.info("bandwidth chosen automatically: %s", reason)
    return h, True, reason, warnings_


def _grid_for(area: BaseGeometry, *, cell_size_m: float, bandwidth_m: float) -> _Grid:
    minx, miny, maxx, maxy = area.bounds
    pad = bandwidth_m + cell_size_m
    x0 = math.floor((minx - pad) / cell_size_m) * cell_size_m
    y0 = math.floor((miny - pad) / cell_size_m) * cell_size_m
    x1 = math.ceil((maxx + pad) / cell_size_m) * cell_size_m
    y1 = math.ceil((maxy + pad) / cell_size_m) * cell_size_m
    cols = int(round((x1 - x0) / cell_size_m))
    rows = int(round((y1 - y0) / cell_size_m))
    if rows * cols > 200_000_000:
        raise ParameterError(
            f"cell_size_m {cell_size_m:g} gives a {rows} x {cols} raster (over 200 "
            f"million cells) for this area: use a larger cell"
        )
    return _Grid(x0=x0, y1=y1, cell_size_m=cell_size_m, rows=rows, cols=cols)


def _area_mask(area: BaseGeometry, grid: _Grid) -> npt.NDArray[np.bool_]:
    """Return True where a cell centre is inside the area."""
    return rasterio.features.geometry_mask(
        [area],
        out_shape=(grid.rows, grid.cols),
        transform=grid.transform,
        invert=True,
        all_touched=False,
    )


def _discrete_kernel(bandwidth_m: float, cell_size_m: float) -> npt.NDArray[np.float64]:
    """Sample K at cell-centre offsets within h, rescaled to unit mass (per m²)."""
    r = max(int(math.ceil(bandwidth_m / cell_size_m)), 1)
    offs = np.arange(-r, r + 1) * cell_size_m
    d = np.hypot(offs[None, :], offs[:, None])
    k = quartic_kernel_per_m2(d, bandwidth_m=bandwidth_m)
    mass = float(k.sum()) * cell_size_m**2
    if mass <= 0.0:
        # h below half a cell diagonal can miss every offset but the centre
        k[r, r] = 1.0
        mass = cell_size_m**2
    return k / mass


def _linear_bin(
    xy: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    *,
    grid: _Grid,
) -> npt.NDArray[np.float64]:
    """Share each point's weight among the four nearest cell centres (bilinear)."""
    c = grid.cell_size_m
    u = (xy[:, 0] - grid.x0) / c - 0.5  # column coordinate of cell centres
    v = (grid.y1 - xy[:, 1]) / c - 0.5  # row coordinate
    i0 = np.floor(u).astype(np.int64)
    j0 = np.floor(v).astype(np.int64)
    fu = u - i0
    fv = v - j0
    size = grid.rows * grid.cols
    base = j0 * grid.cols + i0
    # one bincount over the four corners: one grid-sized array, not four
    index = np.concatenate([base, base + 1, base + grid.cols, base + grid.cols + 1])
    share = np.concatenate([w * (1 - fu) * (1 - fv), w * fu * (1 - fv),
                            w * (1 - fu) * fv, w * fu * fv])
    counts = np.bincount(index, weights=share, minlength=size)
    return np.asarray(counts, dtype=np.float64).reshape(grid.rows, grid.cols)


def _convolve_same(
    values: npt.NDArray[np.float32], kernel: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Convolve a grid with a small kernel by FFT; return the grid's shape.

    What ``scipy.signal.fftconvolve(values, kernel, mode="same")`` returns (the
    tests check it), on :mod:`scipy.fft` alone: importing :mod:`scipy.signal`
    costs most of a second at every command's start. Real transforms in single
    precision on both cores, padded to fast lengths.
    """
    full = [n + k - 1 for n, k in zip(values.shape, kernel.shape, strict=True)]
    fast = [scipy.fft.next_fast_len(n, real=True) for n in full]
    with scipy.fft.set_workers(-1):
        spectrum = scipy.fft.rfft2(values, s=fast)
        spectrum *= scipy.fft.rfft2(kernel, s=fast)
        out = scipy.fft.irfft2(spectrum, s=fast)
    del spectrum
    r0 = (kernel.shape[0] - 1) // 2
    c0 = (kernel.shape[1] - 1) // 2
    same = out[r0:r0 + values.shape[0], c0:c0 + values.shape[1]]
    return np.ascontiguousarray(same, dtype=np.float32)


def _supersampling(grid: _Grid, bandwidth_m: float) -> int:
    """Return the odd factor s so that h / (cell / s) >= MIN_H_OVER_FFT_CELL.

    Capped so the fine grid holds at most MAX_FFT_CELLS cells.
    """
    ratio = bandwidth_m / grid.cell_size_m
    if ratio >= MIN_H_OVER_FFT_CELL:
        return 1
    s = math.ceil(MIN_H_OVER_FFT_CELL / ratio)
    s += 1 - s % 2  # odd, so fine cell centres include the coarse ones
    while s > 1 and grid.rows * grid.cols * s * s > MAX_FFT_CELLS:
        s -= 2
    return s


def _fft_density_m2(
    xy: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    *,
    grid: _Grid,
    bandwidth_m: float,
    supersample: int,
) -> npt.NDArray[np.float32]:
    """Binned + FFT kernel density per m² at the grid's cell centres (float32).

    With ``supersample`` s > 1 the binning and convolution run on a grid s times
    finer and the result is read at the fine cells whose centres are the coarse
    cell centres.
    """
    if len(xy) == 0:
        return np.zeros((grid.rows, grid.cols), dtype=np.float32)
    s = supersample
    fine = _Grid(
        x0=grid.x0,
        y1=grid.y1,
        cell_size_m=grid.cell_size_m / s,
        rows=grid.rows * s,
        cols=grid.cols * s,
    )
    binned = _linear_bin(xy, w, grid=fine).astype(np.float32)
    kernel = _discrete_kernel(bandwidth_m, fine.cell_size_m).astype(np.float32)
    density = _convolve_same(binned, kernel)
    del binned
    if s > 1:
        density = np.ascontiguousarray(density[s // 2 :: s, s // 2 :: s])
    # FFT round-off leaves tiny (also negative) values where the true sum is zero
    peak = float(density.max())
    density[density < peak * FFT_FLOOR_FRACTION] = 0.0
    return density.astype(np.float32, copy=False)


def _fft_kernel_share_in_area(
    xy: npt.NDArray[np.float64],
    *,
    grid: _Grid,
    inside: npt.NDArray[np.bool_],
    bandwidth_m: float,
    supersample: int,
) -> npt.NDArray[np.float64]:
    """Share of each point's binned, discretised kernel that lands on in-area cells.

    The in-area indicator is placed at the fine cells centred on the output cell
    centres, convolved with the fine discrete kernel and multiplied by the output
    cell area; the result is read at each point with its linear-binning weights.
    """
    s = supersample
    fine = _Grid(
        x0=grid.x0,
        y1=grid.y1,
        cell_size_m=grid.cell_size_m / s,
        rows=grid.rows * s,
        cols=grid.cols * s,
    )
    indicator = np.zeros((fine.rows, fine.cols), dtype=np.float32)
    indicator[s // 2 :: s, s // 2 :: s] = inside
    kernel = _discrete_kernel(bandwidth_m, fine.cell_size_m).astype(np.float32)
    share = (_convolve_same(indicator, kernel).astype(np.float64)
             * grid.cell_size_m**2)
    c = fine.cell_size_m
    u = (xy[:, 0] - fine.x0) / c - 0.5
    v = (fine.y1 - xy[:, 1]) / c - 0.5
    i0 = np.floor(u).astype(np.int64)
    j0 = np.floor(v).astype(np.int64)
    fu = u - i0
    fv = v - j0
    kept = (
        share[j0, i0] * (1 - fu) * (1 - fv)
        + share[j0, i0 + 1] * fu * (1 - fv)
        + share[j0 + 1, i0] * (1 - fu) * fv
        + share[j0 + 1, i0 + 1] * fu * fv
    )
    # FFT round-off: a share below 1e-6 is a kernel that misses every in-area cell
    return np.where(kept < 1.0e-6, 0.0, kept)


def _exact_density_m2(
    xy: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    *,
    grid: _Grid,
    bandwidth_m: float,
    inside: npt.NDArray[np.bool_],
) -> npt.NDArray[np.float64]:
    """Direct kernel sum per m² at every in-area cell centre (zero elsewhere)."""
    density = np.zeros((grid.rows, grid.cols), dtype=np.float64)
    rows, cols = np.nonzero(inside)
    xs, ys = grid.centres()
    at = np.column_stack([xs[cols], ys[rows]])
    density[rows, cols] = kernel_sum_per_m2(
        at, xy, bandwidth_m=bandwidth_m, weights=w, cell_size_hint_m=grid.cell_size_m
    )
    return density


def kernel_sum_per_m2(
    at_xy: npt.ArrayLike,
    points_xy: npt.ArrayLike,
    *,
    bandwidth_m: float,
    weights: npt.ArrayLike | None = None,
    cell_size_hint_m: float | None = None,
) -> npt.NDArray[np.float64]:
    r"""Sum the quartic kernel of every point at given locations, exactly.

    Parameters
    ----------
    at_xy : array_like, shape (m, 2)
        Where to evaluate, metres (EPSG:27700).
    points_xy : array_like, shape (n, 2)
        Point coordinates, metres (EPSG:27700).
    bandwidth_m : float
        Kernel radius h, metres.
    weights : array_like, shape (n,), optional
        Non-negative point weights.
    cell_size_hint_m : float, optional
        Typical spacing of ``at_xy``, used only to size chunks of work.

    Returns
    -------
    numpy.ndarray, shape (m,)
        :math:`\sum_i w_i K(\lVert a - p_i \rVert)` per m² (times 10⁶ for
        per km²).

    Notes
    -----
    Pairs within h are found with ``scipy.spatial.cKDTree.sparse_distance_matrix``,
    working through the points in chunks so that at most about 20 million pairs
    are held at once.
    """
    h = _check_positive(bandwidth_m, name="bandwidth_m")
    at = np.asarray(at_xy, dtype=np.float64).reshape(-1, 2)
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    w = _check_weight_values(weights, n=len(pts), name="weights")
    sums = np.zeros(len(at), dtype=np.float64)
    if len(at) == 0 or len(pts) == 0:
        return sums
    at_tree = cKDTree(at)
    spacing = cell_size_hint_m or h / 4.0
    per_point = math.pi * (h / spacing + 1.0) ** 2
    chunk = max(1, int(20_000_000 / per_point))
    for start in range(0, len(pts), chunk):
        stop = min(start + chunk, len(pts))
        pairs = cKDTree(pts[start:stop]).sparse_distance_matrix(
            at_tree, h, output_type="ndarray"
        )
        k = quartic_kernel_per_m2(pairs["v"], bandwidth_m=h) * w[start:stop][pairs["i"]]
        sums += np.bincount(pairs["j"], weights=k, minlength=len(at))
    return sums


def _package(
    values: npt.NDArray[np.floating[Any]],
    *,
    grid: _Grid,
    bandwidth_m: float,
    bandwidth_auto: bool,
    bandwidth_reason: str,
    n_points: int,
    n_outside: int,
    weight_total: float,
    weighted: bool,
    method: str,
    supersample: int,
    edge_correction: bool,
    edge_max_factor: float,
    warnings_: Sequence[str],
) -> KDEResult:
    cell_area_km2 = grid.cell_size_m**2 / M2_PER_KM2
    total_mass = float(np.nansum(values, dtype=np.float64)) * cell_area_km2
    fraction = total_mass / weight_total if weight_total > 0 else float("nan")
    parameters: dict[str, Any] = {
        "kernel": "quartic",
        "method": method,
        "binning": "linear" if method == "fft" else "none",
        "fft_cell_size_m": grid.cell_size_m / supersample if method == "fft" else None,
        "supersample": supersample,
        "bandwidth_m": bandwidth_m,
        "bandwidth_auto": bandwidth_auto,
        "bandwidth_reason": bandwidth_reason,
        "cell_size_m": grid.cell_size_m,
        "cell_area_km2": cell_area_km2,
        "crs": BNG,
        "shape": (grid.rows, grid.cols),
        "n_points": n_points,
        "n_points_outside": n_outside,
        "outside_points": "left out (their mass is not kept)",
        "weighted": weighted,
        "weight_total": weight_total,
        "total_mass": total_mass,
        "mass_in_area_fraction": fraction,
        "clip_rule": "cell centre inside the area",
        "edge_correction": edge_correction,
        "edge_correction_max_factor": edge_max_factor,
        "units": UNITS,
    }
    logger.info(
        "KDE (%s): h = %.1f m (%s), cell %g m, %d points in the area, %d outside, "
        "mass in area %.4g of %.4g",
        method,
        bandwidth_m,
        "auto" if bandwidth_auto else "given",
        grid.cell_size_m,
        n_points,
        n_outside,
        total_mass,
        weight_total,
    )
    return KDEResult(
        values=values,
        transform=grid.transform,
        crs=BNG,
        bandwidth_m=bandwidth_m,
        bandwidth_auto=bandwidth_auto,
        bandwidth_reason=bandwidth_reason,
        cell_size_m=grid.cell_size_m,
        n_points=n_points,
        n_points_outside=n_outside,
        weight_total=weight_total,
        total_mass=total_mass,
        method=method,
        warnings=list(warnings_),
        parameters=parameters,
    )

"""Getis-Ord Gi* on H3 cells, each study area on its own.

Weights are binary over the k-ring of each cell (k = 1: the cell and its six
neighbours), the cell itself included, and only cells of the same study area count
as neighbours, so a CSP is never compared with its neighbour's streets. Everything
is computed with sparse matrix products and grouped sums over all study areas at
once; the results equal ``esda.G_Local(y, w, star=True, transform="B")`` run on each
study area separately (see ``tests/test_gistar.py``).

References
----------
Getis, A. and Ord, J. K. (1992). The analysis of spatial association by use of
distance statistics. *Geographical Analysis* 24(3), 189-206.

Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics:
distributional issues and an application. *Geographical Analysis* 27(4), 286-306.

Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate: a
practical and powerful approach to multiple testing. *Journal of the Royal
Statistical Society B* 57(1), 289-300.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import chain

import geopandas as gpd
import h3
import h3.api.basic_int as _h3_int
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from scipy.special import ndtr
from tqdm.auto import tqdm

from hotspot.errors import ParameterError

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Permutations used when permutation inference is switched on.
DEFAULT_PERMUTATIONS = 999
#: Two-sided p thresholds of the bins ±3, ±2, ±1 (99%, 95%, 90% confidence).
BIN_THRESHOLDS: tuple[tuple[int, float], ...] = ((3, 0.01), (2, 0.05), (1, 0.10))
#: Columns :func:`gi_star` adds to the cell table.
GISTAR_COLUMNS: tuple[str, ...] = (
    "neighbours", "edge", "neighbour_sum", "area_mean", "z", "p_norm", "p_sim",
    "p", "p_fdr", "bin", "significant",
)


# ----------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------


def check_k(k: int) -> int:
    """Return ``k`` when it is a ring size from 1 to 5, else raise ParameterError."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 5:
        raise ParameterError(f"k must be an integer ring size from 1 to 5, got {k!r}")
    return int(k)


def check_alpha(alpha: float) -> float:
    """Return ``alpha`` when it is a significance level in (0, 0.5], else raise."""
    if not isinstance(alpha, (int, float)) or not 0 < float(alpha) <= 0.5:
        raise ParameterError(f"alpha must be a number in (0, 0.5], got {alpha!r}")
    return float(alpha)


def check_permutations(permutations: int) -> int:
    """Return ``permutations`` when it is 0 (off) or from 99 to 99,999, else raise."""
    if (
        isinstance(permutations, bool)
        or not isinstance(permutations, (int, np.integer))
        or not (permutations == 0 or 99 <= permutations <= 99_999)
    ):
        raise ParameterError(
            f"permutations must be 0 (normal approximation only) or an integer "
            f"from 99 to 99999 (999 is usual), got {permutations!r}"
        )
    return int(permutations)


def full_ring_size(k: int) -> int:
    """Return the cells in a full k-ring around a hexagon, itself excluded: 3k(k+1)."""
    return 3 * k * (k + 1)


# ----------------------------------------------------------------------------
# weights
# ----------------------------------------------------------------------------


def ring_weights(
    cells: Sequence[str],
    *,
    k: int = 1,
    study_area: Sequence[str] | None = None,
) -> sparse.csr_array:
    """Binary k-ring weights, the cell itself included, within each study area.

    Parameters
    ----------
    cells : sequence of str
        H3 cells (one resolution), each once.
    k : int, keyword-only
        Ring size: 1 is the cell and its 6 neighbours, 2 adds the next 12.
    study_area : sequence of str, optional, keyword-only
        Study area of each cell; cells are neighbours only within one area.
        ``None`` puts every cell in one area.

    Returns
    -------
    scipy.sparse.csr_array
        ``n x n`` float64 matrix with ``w[i, j] = 1`` when ``j`` is within ``k``
        grid steps of ``i`` and in the same study area (diagonal = 1), else 0.
    """
    k = check_k(k)
    # integer H3 indexes: grid_disk and lookups are much faster than on strings
    ids = np.fromiter((h3.str_to_int(c) for c in cells), dtype=np.int64)
    n = len(ids)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    if n > 1 and np.any(sorted_ids[1:] == sorted_ids[:-1]):
        raise ParameterError("cells must each appear once; found duplicate H3 cells")
    disks = [_h3_int.grid_disk(int(c), k) for c in ids]
    sizes = np.fromiter((len(d) for d in disks), dtype=np.int64, count=n)
    rows = np.repeat(np.arange(n, dtype=np.int64), sizes)
    flat = np.fromiter(chain.from_iterable(disks), dtype=np.int64, count=sizes.sum())
    pos = np.minimum(np.searchsorted(sorted_ids, flat), max(n - 1, 0))
    found = sorted_ids[pos] == flat if n else np.zeros(0, dtype=bool)
    cols = np.where(found, order[pos], -1)
    keep = cols >= 0
    if study_area is not None:
        area_codes, _ = pd.factorize(np.asarray(study_area), sort=False)
        if len(area_codes) != n:
            raise ParameterError(
                f"study_area must have one entry per cell ({n}), got {len(area_codes)}"
            )
        keep &= area_codes[rows] == np.where(cols >= 0, area_codes[cols], -2)
    data = np.ones(int(keep.sum()), dtype=np.float64)
    w = sparse.csr_array((data, (rows[keep], cols[keep])), shape=(n, n))
    w.sum_duplicates()
    return w


# ----------------------------------------------------------------------------
# statistics
# ----------------------------------------------------------------------------


def gi_star_normal(
    y: npt.ArrayLike, weights: sparse.csr_array | sparse.csr_matrix, *, groups: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Gi* statistic, its expectation, variance and z-score under the normal model.

    Parameters
    ----------
    y : array_like
        Value per cell (count or harm sum), non-negative.
    weights : scipy.sparse matrix
        Binary weights with self-weights (:func:`ring_weights`); never links two
        groups.
    groups : ndarray of int, keyword-only
        Study area code (0..g-1) of each cell.

    Returns
    -------
    G, EG, VG, z : ndarray
        For each cell i in a study area of N cells with total S, cardinality
        (weights including itself) W_i, mean ybar and variance s² (population):
        ``G_i = sum_j w_ij y_j / S``, ``E[G_i] = W_i / N``,
        ``V[G_i] = W_i (N - W_i) / (N - 1) / N² * s² / ybar²`` and
        ``z_i = (G_i - E[G_i]) / sqrt(V[G_i])``.
        ``z`` is NaN where it is undefined: a study area of one cell, a study
        area whose values are all equal (all zero, for example), or a cell whose
        ring covers its whole study area.

    Notes
    -----
    The moments are those of Getis & Ord (1992) for G*, written as in esda's
    ``G_Local(star=True, transform="B")`` (the operations are done in the same
    order, so the two agree to rounding).
    """
    y = np.asarray(y, dtype=np.float64)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    n_area = np.bincount(groups, minlength=n_groups).astype(np.float64)[groups]
    total = np.bincount(groups, weights=y, minlength=n_groups)[groups]
    sumsq = np.bincount(groups, weights=y**2, minlength=n_groups)[groups]
    card = np.asarray(weights.sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = (weights @ y) / total
        mean = total / n_area
        variance = sumsq / n_area - mean**2
        expected = card / n_area
        expected_var = card * (n_area - card)
        expected_var /= n_area - 1
        expected_var *= 1 / n_area**2
        expected_var *= variance / (mean**2)
        z = (statistic - expected) / np.sqrt(expected_var)
    z = np.where(np.isfinite(z), z, np.nan)
    return statistic, expected, expected_var, z


def p_two_sided(z: npt.ArrayLike) -> FloatArray:
    """Two-sided p from the standard normal: ``2 * (1 - Phi(|z|))``; NaN stays NaN."""
    z = np.asarray(z, dtype=np.float64)
    # ndtr(-|z|) is the normal upper tail, as scipy.stats.norm.sf gives it, without
    # importing scipy.stats (0.8 s at the app's first render)
    return np.minimum(1.0, 2.0 * ndtr(-np.abs(z)))


def _permutation_counts_one_area(
    y: FloatArray,
    observed_other: FloatArray,
    cardinality: IntArray,
    *,
    permutations: int,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray]:
    """Count random neighbour sums at least (L) and at most (S) the observed one.

    Ties count in both L and S.

    Conditional randomisation (the cell's own value held fixed; its ``c_i``
    neighbours drawn without replacement from the other ``n - 1`` cells). One
    ordered draw of ``K + 1`` cells per permutation is shared by all cells (as
    esda shares its permuted ids): cell i uses the first ``c_i`` cells of the draw
    that are not itself, which is a uniform sample from the other cells. Sums
    come from cumulative sums of the draw, so the cost is ``O(P K + n log P)``.
    """
    n = len(y)
    k_max = int(cardinality.max()) if n else 0
    if k_max == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    m = k_max + 1  # <= n, since cardinality <= n - 1
    ids = np.empty((permutations, m), dtype=np.int64)
    for p in range(permutations):
        ids[p] = rng.choice(n, size=m, replace=False)
    cum = np.zeros((permutations, m + 1), dtype=np.float64)
    np.cumsum(y[ids], axis=1, out=cum[:, 1:])
    tol = 1e-12 * max(float(np.abs(y).sum()), 1.0)
    low = observed_other - tol  # random >= observed  <=>  random >= low
    high = observed_other + tol  # random <= observed  <=>  random <= high
    larger = np.zeros(n, dtype=np.int64)
    smaller = np.zeros(n, dtype=np.int64)
    for c in np.unique(cardinality):
        if c == 0:
            continue
        members = np.flatnonzero(cardinality == c)
        sums = np.sort(cum[:, c])
        larger[members] = permutations - np.searchsorted(
            sums, low[members], side="left"
        )
        smaller[members] = np.searchsorted(sums, high[members], side="right")
    # corrections: the cell itself drawn among its first c_i positions
    p_idx = np.repeat(np.arange(permutations, dtype=np.int64), k_max)
    j_idx = np.tile(np.arange(k_max, dtype=np.int64), permutations)
    cell = ids[p_idx, j_idx]
    hit = cardinality[cell] > j_idx
    p_idx, cell = p_idx[hit], cell[hit]
    c_cell = cardinality[cell]
    old = cum[p_idx, c_cell]
    new = old - y[cell] + y[ids[p_idx, c_cell]]
    delta = (new >= low[cell]).astype(np.int64) - (old >= low[cell]).astype(np.int64)
    np.add.at(larger, cell, delta)
    delta = (new <= high[cell]).astype(np.int64) - (old <= high[cell]).astype(
        np.int64
    )
    np.add.at(smaller, cell, delta)
    return larger, smaller


def gi_star_permutation(
    y: npt.ArrayLike,
    weights: sparse.csr_array | sparse.csr_matrix,
    *,
    groups: IntArray,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | None = None,
    progress: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """Pseudo p-values of Gi* by conditional permutation, per study area.

    Parameters
    ----------
    y : array_like
        Value per cell.
    weights : scipy.sparse matrix
        Binary weights with self-weights of 1 (:func:`ring_weights`).
    groups : ndarray of int, keyword-only
        Study area code of each cell; draws come from the cell's own area.
    permutations : int, keyword-only
        Number of random neighbour sets per cell (999 usual).
    seed : int or None, keyword-only
        Seed of the random generator; the same seed gives the same p-values.
    progress : bool, keyword-only
        Show a progress bar over the study areas.

    Returns
    -------
    p_folded, p_two_sided : ndarray
        ``p_folded = (min(L, P - L) + 1) / (P + 1)`` where ``L`` counts random
        statistics at least as large as the observed one: esda's ``p_sim``
        (``alternative="directed"``), kept for comparison with esda.
        ``p_two_sided = min(1, 2 (min(L, S) + 1) / (P + 1))`` where ``S`` counts
        random statistics at most as large as the observed one: the one used.
        Without ties ``S = P - L`` and it is twice esda's ``p_sim``; with ties
        (the rule with counts) it stays correct where esda's folding is not: a
        zero cell among zero neighbours has every random sum tied with it, so
        ``L = P`` and esda reports p = 0.001 (a "significant" cold spot), while
        here ``L = S = P`` and p = 1. NaN for a cell without neighbours.

    Notes
    -----
    With binary weights and the cell's own value held fixed, ``G*_i`` exceeds its
    observed value exactly when the sum of the random neighbours' values exceeds
    the observed neighbour sum, so only sums are compared. The draw scheme is in
    :func:`_permutation_counts_one_area`.
    """
    y = np.asarray(y, dtype=np.float64)
    w = sparse.csr_array(weights)
    diag = w.diagonal()
    observed_other = w @ y - diag * y
    cardinality = (np.diff(w.indptr) - (diag != 0)).astype(np.int64)
    larger = np.zeros(len(y), dtype=np.int64)
    smaller = np.zeros(len(y), dtype=np.int64)
    rng = np.random.default_rng(seed)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
    for g in tqdm(range(n_groups), desc="Gi* permutations", disable=not progress):
        idx = order[bounds[g] : bounds[g + 1]]
        larger[idx], smaller[idx] = _permutation_counts_one_area(
            y[idx],
            observed_other[idx],
            cardinality[idx],
            permutations=permutations,
            rng=rng,
        )
    folded = np.minimum(larger, permutations - larger)
    p_folded = (folded + 1.0) / (permutations + 1.0)
    p_folded = np.where(cardinality > 0, p_folded, np.nan)
    tail = np.minimum(larger, smaller)
    p_two = np.minimum(1.0, 2.0 * (tail + 1.0) / (permutations + 1.0))
    p_two = np.where(cardinality > 0, p_two, np.nan)
    return p_folded, p_two


# ----------------------------------------------------------------------------
# multiple testing and bins
# ----------------------------------------------------------------------------


def fdr_bh(p: npt.ArrayLike, *, groups: npt.ArrayLike | None = None) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values, applied separately within each group.

    Parameters
    ----------
    p : array_like
        p-values; NaN (untested cells) are left out of the family and stay NaN.
    groups : array_like, optional, keyword-only
        Family of each p-value (the study area). ``None``: one family.

    Returns
    -------
    ndarray
        ``p_adj(i) = min over j with rank(j) >= rank(i) of min(1, p(j) m / rank(j))``
        within the family of i, where m is the number of tested cells in it;
        the same as ``scipy.stats.false_discovery_control(method="bh")`` on each
        family.

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate.
    *JRSS B* 57(1), 289-300.
    """
    p = np.asarray(p, dtype=np.float64)
    if groups is None:
        codes = np.zeros(len(p), dtype=np.int64)
    else:
        codes, _ = pd.factorize(pd.Series(np.asarray(groups)), sort=False)
        if len(codes) != len(p):
            raise ParameterError(
                f"groups must have one entry per p-value ({len(p)}), got {len(codes)}"
            )
    finite = np.isfinite(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ParameterError("p must hold probabilities in [0, 1] (or NaN)")
    out = np.full(len(p), np.nan)
    idx = np.flatnonzero(finite)
    if len(idx) == 0:
        return out
    g, pv = codes[idx], p[idx]
    order = np.lexsort((pv, g))
    g_sorted, p_sorted = g[order], pv[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
    sizes = np.diff(np.r_[starts, len(g_sorted)])
    rank = np.arange(len(g_sorted)) - np.repeat(starts, sizes) + 1
    m = np.repeat(sizes, sizes)
    raw = p_sorted * m / rank
    # cumulative minimum from the largest rank down, within each family
    rev = pd.Series(raw[::-1]).groupby(g_sorted[::-1]).cummin().to_numpy()[::-1]
    adjusted = np.empty(len(idx))
    adjusted[order] = np.minimum(rev, 1.0)
    out[idx] = adjusted
    return out


def classify_bins(z: npt.ArrayLike, p: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Hot/cold bins: +3/+2/+1 for 99/95/90% hot spots, -3/-2/-1 for cold, else 0.

    ``|bin| = 3`` when p < 0.01, 2 when p < 0.05, 1 when p < 0.10; the sign is the
    sign of z. NaN p or z gives 0.
    """
    z = np.asarray(z, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    level = np.zeros(len(p), dtype=np.int8)
    with np.errstate(invalid="ignore"):
        for value, threshold in reversed(BIN_THRESHOLDS):
            level[p < threshold] = value
    sign = np.sign(np.nan_to_num(z)).astype(np.int8)
    return (level * sign).astype(np.int8)


# ----------------------------------------------------------------------------
# the table-level verb
# ----------------------------------------------------------------------------


def gi_star(
    cells: gpd.GeoDataFrame | pd.DataFrame,
    *,
    column: str = "count",
    k: int = 1,
    alpha: float = 0.05,
    fdr: bool = True,
    permutations: int = 0,
    seed: int | None = None,
    weights: sparse.csr_array | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots per study area.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Study cells with ``h3``, ``study_area`` and the value column (from
        :func:`hotspot.grid.count_points`).
    column : str, keyword-only
        Value analysed: ``"count"`` (occurrences) or ``"harm"`` (harm-weighted).
    k : int, keyword-only
        Ring size of the binary weights (1: the cell and its 6 neighbours).
    alpha : float, keyword-only
        Significance level of the ``significant`` column (on ``p_fdr`` when
        ``fdr`` is on, else on ``p``). Bins use fixed 90/95/99% levels.
    fdr : bool, keyword-only
        Apply the Benjamini-Hochberg false discovery rate, once, with each study
        area as one family (all its tested cells).
    permutations : int, keyword-only
        0: p from the normal approximation. Otherwise (999 usual) ``p`` is the
        two-sided permutation pseudo p-value.
    seed : int or None, keyword-only
        Seed of the permutations.
    weights : scipy.sparse.csr_array, optional, keyword-only
        Pre-built :func:`ring_weights` for these cells, to reuse across periods.
    progress : bool, keyword-only
        Show progress bars.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        A copy of ``cells`` (index kept) with the columns in
        :data:`GISTAR_COLUMNS`: ``neighbours`` (cells in the ring found in the
        study area, the cell excluded), ``edge`` (fewer than the full ring:
        coast or boundary), ``neighbour_sum`` (value in those neighbours),
        ``area_mean`` (mean value per cell of the study area), ``z``, ``p_norm``
        (two-sided normal), ``p_sim`` (two-sided permutation, NaN when off),
        ``p`` (the one used), ``p_fdr`` (BH-adjusted ``p``; equals ``p`` when
        ``fdr`` is off), ``bin`` (-3..3, from ``p_fdr``) and ``significant``.

    Notes
    -----
    Where z is undefined (study area of one cell, all values equal - all zero,
    for example - or a ring covering the whole area) z, p and p_fdr are NaN, the
    bin is 0, and those cells are left out of the FDR family.

    References
    ----------
    Getis & Ord (1992); Ord & Getis (1995); Benjamini & Hochberg (1995).
    """
    k = check_k(k)
    alpha = check_alpha(alpha)
    permutations = check_permutations(permutations)
    for name in ("h3", "study_area", column):
        if name not in cells.columns:
            raise ParameterError(f"cells must have a {name!r} column")
    y = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(y)) or np.any(y < 0):
        raise ParameterError(f"column {column!r} must hold finite values >= 0")
    if cells["study_area"].isna().any():
        raise ParameterError(
            "cells must have a study_area for every cell; some are missing"
        )
    groups, _ = pd.factorize(cells["study_area"], sort=False)
    groups = groups.astype(np.int64)
    if weights is None:
        weights = ring_weights(
            cells["h3"].tolist(), k=k, study_area=cells["study_area"]
        )
    elif weights.shape != (len(cells), len(cells)):
        raise ParameterError(
            f"weights must be {len(cells)} x {len(cells)}, got {weights.shape}"
        )
    _, _, _, z = gi_star_normal(y, weights, groups=groups)
    neighbours = (np.diff(sparse.csr_array(weights).indptr) - 1).astype(np.int64)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    area_mean = (
        np.bincount(groups, weights=y, minlength=n_groups)
        / np.bincount(groups, minlength=n_groups)
    )[groups]
    p_norm = p_two_sided(z)
    p_sim = np.full(len(y), np.nan)
    if permutations:
        _, p_sim = gi_star_permutation(
            y, weights, groups=groups, permutations=permutations, seed=seed,
            progress=progress,
        )
        p_sim = np.where(np.isfinite(z), p_sim, np.nan)
        p = p_sim
    else:
        p = p_norm
    p_fdr = fdr_bh(p, groups=groups) if fdr else p.copy()
    out = cells.copy()
    out["neighbours"] = neighbours
    out["edge"] = neighbours < full_ring_size(k)
    out["neighbour_sum"] = np.asarray(weights @ y) - y
    out["area_mean"] = area_mean
    out["z"] = z
    out["p_norm"] = p_norm
    out["p_sim"] = p_sim
    out["p"] = p
    out["p_fdr"] = p_fdr
    out["bin"] = classify_bins(z, p_fdr)
    with np.errstate(invalid="ignore"):
        out["significant"] = p_fdr < alpha
    untested = int(np.isnan(z).sum())
    if untested:
        logger.warning(
            "%d cells have no defined Gi* z (no variation in their study area, or a "
            "study area of one cell); they are left out of the FDR family", untested
        )
    return out

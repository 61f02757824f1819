"""Reconstruction attacks on partner exports, as code.

Each attack reads only what a partner receives (the tables of a file, or of two
files) and tries to recover a suppressed count, or an exact small count, or
where an isolated occurrence happened. :mod:`hotspot.export.checker` runs them on
every file before it is written and refuses the file when one succeeds;
``tests/test_attacks.py`` runs them against exports made with the rules as they
stood (version 1: small counts blanked, everything else exact), where they
succeed, and against today's, where they fail.

Attacks
-------
:func:`gistar_solve`
    Gi* z is linear in the ring sums. With ``S`` the study area's total and
    ``c = s / ybar`` its coefficient of variation, every cell ``i`` of an area of
    ``N`` cells with ``W_i`` cells in its ring gives one linear equation

        ``(W y)_i = S W_i / N + (S c) z_i sqrt(W_i (N - W_i) / (N - 1)) / N``

    in the unknown counts, ``S`` and ``S c``; with ``sum(y) = S`` the system is
    solved by least squares within each area. From a z column, or from ``p``
    with the sign taken from ``bin`` (iterated where the bin is 0). When the
    counts are rounded the system is homogeneous and its null vector, scaled
    to the rounded counts, gives every count.
:func:`difference_attack`
    Two exports of nested periods or areas: each value is an interval (exact,
    rounded to a base, or suppressed: 1 to ``min_count - 1``); the difference of
    the intervals pins a small count when it is one value from 1 to
    ``min_count - 1``.
:func:`totals_attack`
    An area total (metadata, a monthly table, a sidecar) minus the visible cells
    is the sum ``H`` of the ``m`` suppressed cells; it pins them when ``m = 1``,
    ``H = m`` (all ones) or ``H = m (min_count - 1)``.
:func:`nodata_disc_attack` and :func:`low_density_attack`
    A density raster whose low cells are nodata shows a disc of nodata around an
    isolated occurrence; one whose low cells are exact shows a local peak below
    the density of ``min_count`` occurrences at one spot.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import ndimage, sparse
from scipy.stats import norm

from hotspot.errors import ParameterError

logger = logging.getLogger(__name__)

#: A solution counts as exact when every unknown is this close to an integer.
INTEGER_TOLERANCE = 0.05
#: ... and the equations' relative residual is below this.
RESIDUAL_TOLERANCE = 1e-3


@dataclass
class AttackResult:
    """What one attack found.

    Attributes
    ----------
    attack : str
        Which attack (``gistar_solve``, ``difference``, ``totals``,
        ``nodata_disc``, ``low_density``).
    where : str
        Layer, column or file pair attacked.
    solved : bool
        True when the attack pinned at least one small count (or location)
        with certainty: the file discloses.
    recovered : dict
        Row key (H3 cell or row label) → count recovered, for the pinned ones.
    locations : list of (float, float)
        Recovered locations of isolated occurrences (raster attacks), in the
        raster's CRS.
    detail : str
        What was tried and what came out, in words.
    """

    attack: str
    where: str
    solved: bool
    recovered: dict[Any, int] = field(default_factory=dict)
    locations: list[tuple[float, float]] = field(default_factory=list)
    detail: str = ""


def _numeric(values: pd.Series) -> npt.NDArray[np.float64]:
    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float)


def rounding_base(values: npt.ArrayLike) -> int:
    """Return the base the shown counts look rounded to (1: they look exact).

    The greatest common divisor of the non-zero finite values, when there are
    at least five of them; an attacker does not need the file's word for it.
    """
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data) & (data != 0)]
    if data.size < 5 or np.any(np.abs(data - np.round(data)) > 1e-9):
        return 1
    return int(reduce(math.gcd, np.abs(data).astype(np.int64).tolist()))


# ----------------------------------------------------------------------------
# Gi* ring sums
# ----------------------------------------------------------------------------


def z_from_p(p: npt.ArrayLike, *, sign: npt.ArrayLike | None = None,
             smallest: float = 0.0) -> npt.NDArray[np.float64]:
    """Two-sided p-values back to z-scores (``sign`` +1/-1/0 per cell; 0: +).

    p of 0, or below ``smallest`` (written with too few digits to invert),
    gives NaN, and the solve leaves that cell's equation out.
    """
    values = np.asarray(p, dtype=float)
    usable = (values > 0) & (values >= smallest)
    magnitude = norm.isf(np.where(usable, np.clip(values, 0, 1), np.nan) / 2.0)
    s = np.ones_like(magnitude) if sign is None else np.sign(np.asarray(sign, float))
    return np.where(s < 0, -magnitude, magnitude)


def gistar_solve(
    frame: pd.DataFrame,
    *,
    statistic: str = "z",
    from_p: bool = False,
    k: int = 1,
    count_column: str = "count",
    area_column: str | None = "csp_code",
    min_count: int = 5,
    sign_column: str | None = "bin",
) -> AttackResult:
    """Recover suppressed (or rounded) counts from a Gi* z (or p) column.

    Parameters
    ----------
    frame : pandas.DataFrame
        One export layer: ``h3``, the count column (suppressed cells empty) and
        the statistic column.
    statistic : str, keyword-only
        Column read as z (or as a two-sided p when ``from_p``).
    from_p : bool, keyword-only
        Read ``statistic`` as p; the sign of z comes from ``sign_column``
        where it is not 0, else from the solution (iterated).
    k : int, keyword-only
        Ring size of the Gi* weights.
    count_column, area_column : str, keyword-only
        Counts, and the study area of each cell (None: one area).
    min_count : int, keyword-only
        Counts from 1 to ``min_count - 1`` are the ones an attacker wants.
    sign_column : str or None, keyword-only
        Column whose sign gives the sign of z (the Gi* bin).

    Returns
    -------
    AttackResult
        ``recovered`` maps each suppressed cell's H3 index to its count, for the
        areas where the solution is exact (integers, tiny residual, full rank).
    """
    from hotspot.detect.gistar import ring_weights

    for col in ("h3", count_column, statistic):
        if col not in frame.columns:
            raise ParameterError(f"frame must have a {col!r} column for the Gi* solve")
    where = f"{statistic}{' (as p)' if from_p else ''}"
    stat = _numeric(frame[statistic])
    if from_p and (np.nanmin(stat, initial=0) < 0 or np.nanmax(stat, initial=0) > 1):
        return AttackResult("gistar_solve", where, False, detail="not p-values")
    counts = _numeric(frame[count_column])
    base = rounding_base(counts)
    areas = (frame[area_column].astype(str).to_numpy() if area_column and
             area_column in frame.columns else np.zeros(len(frame), dtype=str))
    signs = (_numeric(frame[sign_column]) if sign_column and sign_column in
             frame.columns else np.zeros(len(frame)))
    signs = np.nan_to_num(signs)
    recovered: dict[Any, int] = {}
    solved_areas, tried = 0, 0
    h3_ids = frame["h3"].astype(str).to_numpy()
    for area in pd.unique(areas):
        idx = np.flatnonzero(areas == area)
        y = counts[idx]
        # a shown 0 is exact even when rounded (1 and 2 are suppressed first)
        unknown = ~np.isfinite(y) if base == 1 else ~(np.isfinite(y) & (y == 0))
        if not unknown.any() or len(idx) < 3:
            continue
        tried += 1
        w = ring_weights(h3_ids[idx].tolist(), k=k)
        solution = None
        # p as written may have too few digits when tiny: retry without those
        for smallest in ((0.0, 1e-6) if from_p else (0.0,)):
            z = (z_from_p(stat[idx], sign=signs[idx], smallest=smallest) if from_p
                 else stat[idx])
            solution = _solve_area(w, y, z, unknown=unknown, base=base,
                                   iterate_signs=from_p, fixed_sign=signs[idx] != 0)
            if solution is not None:
                break
        if solution is None:
            continue
        values = np.round(solution).astype(int)
        # rounded: the small counts are the suppressed ones
        hidden = unknown if base == 1 else ~np.isfinite(y) | (values < min_count)
        solved_areas += 1
        for j in np.flatnonzero(hidden):
            if 1 <= values[j] <= min_count - 1 or not np.isfinite(y[j]):
                recovered[h3_ids[idx[j]]] = int(values[j])
    small = sum(1 for v in recovered.values() if 1 <= v <= min_count - 1)
    return AttackResult(
        "gistar_solve", where, solved=small > 0, recovered=recovered,
        detail=f"{solved_areas} of {tried} study areas solved exactly; "
        f"{len(recovered)} counts recovered ({small} from 1 to {min_count - 1})",
    )


def _solve_area(
    w: Any,
    y: npt.NDArray[np.float64],
    z: npt.NDArray[np.float64],
    *,
    unknown: npt.NDArray[np.bool_],
    base: int,
    iterate_signs: bool,
    fixed_sign: npt.NDArray[np.bool_],
) -> npt.NDArray[np.float64] | None:
    n = len(y)
    card = np.asarray(w.sum(axis=1)).ravel()
    rows = np.isfinite(z) & (card < n)
    if rows.sum() < 2:
        return None
    a = card / n
    spread = np.sqrt(np.clip(card * (n - card) / (n - 1), 0, None)) / n
    ws = sparse.csr_array(w)
    sub = ws[np.flatnonzero(rows)]
    known = np.where(unknown, 0.0, np.nan_to_num(y))
    u = np.flatnonzero(unknown)
    z_now = z.copy()
    if iterate_signs:  # first guess of the unknown signs: suppressed cells at 2
        guess = np.where(unknown, np.where(np.isfinite(y), y, 2.0), y)
        first = np.sign(ws @ guess - guess.sum() * a)
        z_now = np.where(~fixed_sign & (first < 0), -np.abs(z_now), z_now)
    values = np.zeros(len(u))
    x = np.zeros(len(u) + 2)
    residual = np.inf
    tried: set[int] = set()
    for _ in range(80 if iterate_signs else 1):
        b = np.where(np.isfinite(z_now), z_now, 0.0) * spread
        top = np.column_stack([sub[:, u].toarray(), -a[rows], -b[rows]])
        bottom = np.concatenate([np.ones(len(u)), [-1.0, 0.0]])[None, :]
        matrix = np.vstack([top, bottom])
        rhs = np.concatenate([-(sub @ known), [-known.sum()]])
        if base == 1:
            x, *_ = np.linalg.lstsq(matrix, rhs, rcond=None)
            if np.linalg.matrix_rank(matrix) < matrix.shape[1]:
                return None
            scale = float(np.linalg.norm(rhs)) or 1.0
            residual = float(np.linalg.norm(matrix @ x - rhs)) / scale
            values = x[: len(u)]
        else:  # every count unknown: the null space, fitted to the rounded counts
            tall = matrix.shape[0] >= matrix.shape[1]
            _, sv, vt = np.linalg.svd(matrix, full_matrices=not tall)
            small = np.concatenate([sv < 1e-9 * sv[0],
                                    np.ones(vt.shape[0] - sv.size, dtype=bool)])
            basis = vt[small][:, : len(u)].T
            if basis.shape[1] == 0 or basis.shape[1] > 4:
                return None
            shown = np.isfinite(y[u])
            coef, *_ = np.linalg.lstsq(basis[shown], y[u][shown], rcond=None)
            values = basis @ coef
            if basis.shape[1] == 1:  # the scale that makes every count an integer
                j = int(np.argmax(np.abs(values)))
                near = np.round(values[j]) + np.arange(-base, base + 1)
                fits = [values * (t / values[j]) for t in near if t > 0]
                values = min(fits, key=lambda f: float(np.max(np.abs(f - np.round(f)))))
            residual = 0.0
        if not iterate_signs or residual <= RESIDUAL_TOLERANCE:
            break
        full = known.copy()
        full[u] = values
        new_sign = np.sign(ws @ full - full.sum() * a)
        flip = ~fixed_sign & (np.sign(z_now) != new_sign) & (new_sign != 0)
        if not flip.any():  # stuck: flip the worst-fitting free sign instead
            worst = np.abs(matrix @ np.concatenate([values, x[len(u):]]) - rhs)[:-1]
            order = np.flatnonzero(rows)[np.argsort(-worst)]
            free = [i for i in order if not fixed_sign[i] and i not in tried]
            if not free:
                break
            flip = np.zeros(n, dtype=bool)
            flip[free[0]] = True
            tried.add(free[0])
        z_now = np.where(flip, -z_now, z_now)
    off = np.max(np.abs(values - np.round(values)), initial=0.0)
    if residual > RESIDUAL_TOLERANCE or off > INTEGER_TOLERANCE or \
            np.any(values < -0.5):
        return None
    out = np.where(unknown, 0.0, y)
    out[u] = values
    return out


# ----------------------------------------------------------------------------
# differencing and totals
# ----------------------------------------------------------------------------


def count_intervals(
    values: npt.ArrayLike, *, min_count: int, base: int | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Bounds of the true counts behind shown values.

    Empty → 1 to ``min_count - 1`` (suppressed); 0 → 0; ``v`` rounded to
    ``base`` → ``v ± base // 2`` (never below ``min_count``); exact → ``v``.
    """
    data = np.asarray(values, dtype=float)
    step = rounding_base(data) if base is None else base
    half = step // 2 if step > 1 else 0
    lo = np.where(np.isfinite(data), np.maximum(data - half, 0), 1.0)
    hi = np.where(np.isfinite(data), data + half, float(min_count - 1))
    positive = np.isfinite(data) & (data > 0)
    lo = np.where(positive & (step > 1), np.maximum(lo, min_count), lo)
    zero = np.isfinite(data) & (data == 0)
    lo, hi = np.where(zero, 0.0, lo), np.where(zero, 0.0, hi)
    return lo, hi


def difference_attack(
    first: pd.DataFrame,
    second: pd.DataFrame,
    *,
    key: str = "h3",
    column: str = "count",
    min_count: int = 5,
    where: str = "pair",
) -> AttackResult:
    """Difference two exports of nested periods or areas.

    Parameters
    ----------
    first, second : pandas.DataFrame
        The same layer from two files; rows matched on ``key``. The one with
        the larger shown total is taken as the containing period.
    key, column : str, keyword-only
        Row key and count column.
    min_count : int, keyword-only
        Counts from 1 to ``min_count - 1`` are small.
    where : str, keyword-only
        For the result.

    Returns
    -------
    AttackResult
        ``recovered``: key → the small count pinned in the difference.
    """
    for frame, name in ((first, "first"), (second, "second")):
        if key not in frame.columns or column not in frame.columns:
            raise ParameterError(f"{name} must have {key!r} and {column!r} columns")
    a = first[[key, column]].copy()
    b = second[[key, column]].copy()
    a[column], b[column] = _numeric(a[column]), _numeric(b[column])
    if np.nansum(a[column]) > np.nansum(b[column]):
        a, b = b, a
    merged = b.merge(a, on=key, how="inner", suffixes=("_big", "_small"))
    lo_b, hi_b = count_intervals(merged[f"{column}_big"], min_count=min_count)
    lo_a, hi_a = count_intervals(merged[f"{column}_small"], min_count=min_count)
    lo = np.maximum(lo_b - hi_a, 0)
    hi = hi_b - lo_a
    pinned = (lo == hi) & (lo >= 1) & (lo <= min_count - 1)
    recovered = {merged[key].iloc[i]: int(lo[i]) for i in np.flatnonzero(pinned)}
    return AttackResult(
        "difference", where, solved=bool(recovered), recovered=recovered,
        detail=f"{len(merged)} rows matched; {len(recovered)} differences pinned "
        f"to a count from 1 to {min_count - 1}",
    )


def totals_attack(
    cells: pd.DataFrame,
    total: tuple[float, float] | float,
    *,
    column: str = "count",
    min_count: int = 5,
    where: str = "totals",
    key: str = "h3",
) -> AttackResult:
    """Subtract an area's visible cells from its total and see what it pins.

    Parameters
    ----------
    cells : pandas.DataFrame
        The cells of one area (suppressed counts empty).
    total : float or (float, float)
        The area's total as published, or its bounds when it is itself a sum
        of rounded values.
    column, key : str, keyword-only
        Count column and row key.
    min_count : int, keyword-only
        Suppressed counts are 1 to ``min_count - 1``.
    where : str, keyword-only
        For the result.

    Returns
    -------
    AttackResult
        Solved when the remainder pins every suppressed cell (one cell, all at
        1, or all at ``min_count - 1``).
    """
    if isinstance(total, tuple):
        t_lo, t_hi = float(total[0]), float(total[1])
    else:
        t_lo = t_hi = float(total)
    values = _numeric(cells[column])
    lo, hi = count_intervals(values, min_count=min_count)
    hidden = ~np.isfinite(values)
    m = int(hidden.sum())
    shown_lo, shown_hi = float(lo[~hidden].sum()), float(hi[~hidden].sum())
    h_lo = max(float(t_lo) - shown_hi, m)
    h_hi = min(float(t_hi) - shown_lo, m * (min_count - 1))
    keys = cells[key].tolist() if key in cells.columns else list(cells.index)
    recovered: dict[Any, int] = {}
    if m and h_lo <= h_hi:
        # each hidden cell lies in [h_lo - (m-1)(min_count-1), h_hi - (m-1)]
        cell_lo = max(1.0, h_lo - (m - 1) * (min_count - 1))
        cell_hi = min(float(min_count - 1), h_hi - (m - 1))
        if cell_lo == cell_hi:
            recovered = {keys[i]: int(cell_lo) for i in np.flatnonzero(hidden)}
    return AttackResult(
        "totals", where, solved=bool(recovered), recovered=recovered,
        detail=f"total {t_lo:g}-{t_hi:g}, {m} suppressed cells hold {h_lo:g} to "
        f"{h_hi:g}; {len(recovered)} pinned",
    )


# ----------------------------------------------------------------------------
# density rasters
# ----------------------------------------------------------------------------


def nodata_disc_attack(
    band: npt.ArrayLike, *, transform: Any, min_cells: int = 4, where: str = "band"
) -> AttackResult:
    """Nodata holes enclosed by data: each one's centre is an occurrence.

    Parameters
    ----------
    band : array_like
        Raster values, NaN where nodata.
    transform : affine.Affine
        Cell → map coordinates.
    min_cells : int, keyword-only
        Smallest hole reported.
    where : str, keyword-only
        For the result.
    """
    data = np.asarray(band, dtype=float)
    missing = ~np.isfinite(data)
    labels, n = ndimage.label(missing, structure=np.ones((3, 3)))
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0],
                                           labels[:, -1]]))) - {0}
    found = []
    for lab in range(1, n + 1):
        if lab in border:
            continue
        rows, cols = np.nonzero(labels == lab)
        if rows.size < min_cells:
            continue
        x, y = transform @ (cols.mean() + 0.5, rows.mean() + 0.5)
        found.append((float(x), float(y)))
    return AttackResult("nodata_disc", where, solved=bool(found), locations=found,
                        detail=f"{len(found)} nodata holes inside the data")


def low_density_attack(
    band: npt.ArrayLike,
    *,
    transform: Any,
    bandwidth_m: float,
    min_count: int = 5,
    where: str = "band",
) -> AttackResult:
    """Local peaks below the density of ``min_count`` occurrences at one spot.

    One occurrence peaks at ``3 / (pi h^2)`` per km² under the quartic kernel;
    a local maximum below ``min_count`` times that marks fewer than
    ``min_count`` occurrences near it (its value over the one-point peak says
    about how many).
    """
    data = np.nan_to_num(np.asarray(band, dtype=float), nan=0.0)
    peak_one = 3.0 / (math.pi * (bandwidth_m / 1000.0) ** 2)
    local_max = (data == ndimage.maximum_filter(data, size=3)) & (data > 0)
    low = local_max & (data < min_count * peak_one * (1 - 1e-6))
    distinct = np.unique(data[data > 0]).size
    rows, cols = np.nonzero(low)
    found = [(float(x), float(y)) for x, y in
             (transform @ (c + 0.5, r + 0.5) for r, c in zip(rows, cols, strict=True))]
    return AttackResult(
        "low_density", where, solved=bool(found), locations=found,
        detail=f"{len(found)} local peaks below {min_count} × {peak_one:.3g} per km² "
        f"({distinct} distinct positive values)",
    )

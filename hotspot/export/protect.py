"""Protection that needs the true counts: Gi* bins and secondary suppression.

The guarantee (docs/exports.md, "Why the attacks fail"): for every suppressed
cell there is a second world, in which one occurrence has moved between it and
another suppressed cell of the same study area (same time, same category), that
gives the same shown counts, the same totals and tables, and the same shown
Gi* bins. A reader of the files cannot tell the two worlds apart, so cannot
tell the cell's count.

- Moving an occurrence between two suppressed cells changes no shown count and
  no total; when a study area has one suppressed cell, or no move keeps both
  cells within 1 to ``min_count - 1`` (all at 1, or all at ``min_count - 1``),
  a **secondary** cell is suppressed too: the smallest shown count above
  ``min_count`` (it can give or take one and still be at least ``min_count``).
- Gi* bins are recomputed in both worlds (normal approximation, BH FDR per area
  as in :func:`hotspot.detect.gistar.gi_star`); a bin that differs is
  **withheld** (empty) in the file.

When the Gi* study area is not all in the layer (HIPS scope exported for one
CSP), or bins come from harm or permutations, bins are withheld in suppressed
cells and their ring instead (not proven; stated in the metadata).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.errors import ParameterError

logger = logging.getLogger(__name__)


@dataclass
class Protection:
    """What :func:`protect_cells` decided for one cell layer.

    Attributes
    ----------
    secondary : ndarray of bool
        Cells suppressed besides the small ones.
    bins : ndarray of float
        The bins to ship (NaN: withheld).
    withheld : int
        Bins withheld.
    method : str
        ``"moves"`` (checked in the second worlds) or ``"ring"`` (fallback).
    partners : dict
        Suppressed cell → the cell its occurrence moves to or from (H3).
    """

    secondary: npt.NDArray[np.bool_]
    bins: npt.NDArray[np.float64]
    withheld: int = 0
    method: str = "moves"
    partners: dict[str, str] = field(default_factory=dict)


def gistar_bins(
    y: npt.NDArray[np.float64], weights: Any, *, fdr: bool = True
) -> npt.NDArray[np.float64]:
    """Gi* bins of one study area (normal approximation, as the map computes them)."""
    from hotspot.detect.gistar import classify_bins, fdr_bh, gi_star_normal, p_two_sided

    groups = np.zeros(len(y), dtype=np.int64)
    _, _, _, z = gi_star_normal(y, weights, groups=groups)
    p = p_two_sided(z)
    p_adj = fdr_bh(p, groups=groups) if fdr else p
    return np.asarray(classify_bins(z, p_adj), dtype=float)


def _moves(y: npt.NDArray[np.float64], hidden: list[int], *, min_count: int,
           j: int) -> list[tuple[int, int, int]]:
    """Return the first move (j, l, d): j gains d (±1), l loses it, both in range."""
    out: list[tuple[int, int, int]] = []
    for l_cell in hidden:
        if l_cell == j:
            continue
        for d in (1, -1):
            yj, yl = y[j] + d, y[l_cell] - d
            small_l = y[l_cell] < min_count
            if 1 <= yj <= min_count - 1 and (
                    (small_l and 1 <= yl <= min_count - 1) or
                    (not small_l and yl >= min_count)):
                return [(j, l_cell, d)]
    return out


def protect_cells(
    cells: pd.DataFrame,
    *,
    min_count: int,
    k: int = 1,
    fdr: bool = True,
    count_column: str = "count",
    area_column: str | None = "csp_code",
    bin_column: str = "bin",
    exact_bins: bool = True,
) -> Protection:
    """Secondary suppression and bin withholding for one Gi* cell layer.

    Parameters
    ----------
    cells : pandas.DataFrame
        ``h3``, the true counts, the bins and the study area of every cell of
        each study area (as the analysis returned them).
    min_count : int, keyword-only
        Counts from 1 to ``min_count - 1`` are suppressed.
    k, fdr : keyword-only
        The Gi* parameters the bins were computed with.
    count_column, area_column, bin_column : str, keyword-only
        Columns.
    exact_bins : bool, keyword-only
        False when the bins cannot be recomputed from the counts here (HIPS
        scope seen through one CSP, harm weights, permutations): bins are then
        withheld in suppressed cells and their ring.

    Returns
    -------
    Protection
    """
    from hotspot.detect.gistar import ring_weights

    for col in ("h3", count_column, bin_column):
        if col not in cells.columns:
            raise ParameterError(f"cells must have a {col!r} column")
    y_all = np.asarray(pd.to_numeric(cells[count_column], errors="coerce"), float)
    if np.any(~np.isfinite(y_all)):
        raise ParameterError(f"cells[{count_column!r}] must hold the true counts "
                             "(no empty values): protect before suppressing")
    bins = np.asarray(pd.to_numeric(cells[bin_column], errors="coerce"), float)
    shipped = bins.copy()
    secondary = np.zeros(len(cells), dtype=bool)
    partners: dict[str, str] = {}
    ids = cells["h3"].astype(str).to_numpy()
    areas = (cells[area_column].astype(str).to_numpy() if area_column and
             area_column in cells.columns else np.zeros(len(cells), dtype=str))
    for area in pd.unique(areas):
        idx = np.flatnonzero(areas == area)
        y = y_all[idx]
        hidden = [int(i) for i in np.flatnonzero((y > 0) & (y < min_count))]
        if not hidden:
            continue
        if not any(_moves(y, hidden, min_count=min_count, j=j) for j in hidden):
            extra = _secondary(y, min_count=min_count)
            if extra is None:
                logger.warning("study area %s: no cell can be suppressed as a "
                               "partner; its bins are withheld", area)
                shipped[idx] = np.nan
                continue
            secondary[idx[extra]] = True
            hidden.append(extra)
        if not exact_bins:
            continue
        w = ring_weights(ids[idx].tolist(), k=k)
        base = gistar_bins(y, w, fdr=fdr)
        changed = np.zeros(len(idx), dtype=bool)
        for j in hidden:
            options = _moves(y, hidden, min_count=min_count, j=j)
            if not options:
                continue
            _, l_cell, d = options[0]
            partners[ids[idx[j]]] = ids[idx[l_cell]]
            world = y.copy()
            world[j] += d
            world[l_cell] -= d
            changed |= gistar_bins(world, w, fdr=fdr) != base
        shipped[idx[changed]] = np.nan
    if not exact_bins:
        from hotspot.export.disclosure import _with_ring

        small = ((y_all > 0) & (y_all < min_count)) | secondary
        near = _with_ring(cells.reset_index(drop=True), small)
        shipped = np.where(near, np.nan, shipped)
    withheld = int((np.isfinite(bins) & ~np.isfinite(shipped)).sum())
    logger.info("protected %d cells: %d secondary suppressions, %d bins withheld",
                len(cells), int(secondary.sum()), withheld)
    return Protection(secondary=secondary, bins=shipped, withheld=withheld,
                      method="moves" if exact_bins else "ring", partners=partners)


def _secondary(y: npt.NDArray[np.float64], *, min_count: int) -> int | None:
    """Return the shown cell with the smallest count above ``min_count``."""
    candidates = np.flatnonzero(y > min_count)
    if candidates.size == 0:
        return None
    return int(candidates[np.argmin(y[candidates])])


def order_by_shown(table: pd.DataFrame, *, count_column: str = "count",
                   bin_column: str = "bin", rank_column: str = "rank") -> pd.DataFrame:
    """Re-order a top-N table by what is shown (bin, then count), and re-rank.

    The analysis orders hot spots by z; z is not shipped, and its order would
    tell a reader about it. Ties are broken by the H3 index; rows whose count
    is suppressed keep their place but no rank.
    """
    out = table.copy()
    keys = [c for c in (bin_column, count_column) if c in out.columns]
    tie = ["h3"] if "h3" in out.columns else []
    if not keys:
        return out
    out = out.sort_values(keys + tie, ascending=[False] * len(keys) + [True] * len(tie),
                          na_position="last", kind="stable").reset_index(drop=True)
    if rank_column in out.columns:  # ranks of shown rows only (derived values)
        rank = np.arange(1, len(out) + 1, dtype=float)
        if count_column in out.columns:
            rank[out[count_column].isna().to_numpy()] = np.nan
        out[rank_column] = pd.array(rank, dtype="Float64").astype("Int64")
    return out

r"""How well a ranking of cells predicted later occurrences: PAI, PEI* and RRI.

A ranking is a score per cell (higher = patrol first). Cells are taken in score
order until their total area reaches a share ``s`` of the study area ``A``. Then,
with ``n`` later (test) occurrences in the cells taken out of ``N`` in the whole
study area:

- **hit rate** ``n / N``;
- **PAI** (Prediction Accuracy Index, Chainey, Tompson & Uhlig 2008)
  ``(n / N) / (a / A)`` with ``a`` the area taken (``a = s·A``);
- **PEI\*** ``n / n*``, where ``n*`` is the most test occurrences any choice of
  as many cells could hold (the busiest test cells): 1 means nothing better was
  possible with that many cells (Hunt 2016; Drawve 2016 uses area, we use the
  number of cells, which at one H3 resolution is nearly the same);
- **RRI** (Recapture Rate Index, Levine 2008) ``(n₂ / n₁) / (N₂ / N₁)``: the
  test hits over the training hits in the cells taken, relative to the same
  ratio over the whole area; about 1 means the hot cells kept their share.

Ties. Cells with equal scores are taken in random order; rather than draw one,
the figures are the **expectation over every order of the tied block** that
straddles the area share: the block is taken in part, by the share of its area
still needed, so ties neither help nor hurt a ranking (naive counts have large
ties). The area taken is then exactly ``s·A`` (unless the whole area is smaller).

References
----------
Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for
predicting spatial patterns of crime. *Security Journal* 21, 4-28.

Hunt, J. M. (2016). Do crime hot spots move? Exploring the effects of the
modifiable areal unit problem and modifiable temporal unit problem on crime hot
spot stability. PhD thesis, American University (PEI*).

Levine, N. (2008). The "hottest" part of a hotspot: comments on "The utility of
hotspot mapping for predicting spatial patterns of crime". *Security Journal*
21, 295-302.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hotspot.errors import ParameterError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Capture:
    """What the cells taken at one area share hold (see the module docstring).

    Attributes
    ----------
    share : float
        Area share asked for (0.01 = 1%).
    cells : float
        Cells taken (fractional where a tied block is taken in part).
    area : float
        Area taken, in the units of the areas given (km² in this project).
    total_area : float
        Study area ``A``.
    hits, total : float
        Test occurrences in the cells taken (``n``) and in the area (``N``).
    best_hits : float
        ``n*``: the most test occurrences as many cells could hold.
    train_hits, train_total : float
        Training occurrences in the cells taken (``n₁``) and in the area (``N₁``).
    """

    share: float
    cells: float
    area: float
    total_area: float
    hits: float
    total: float
    best_hits: float
    train_hits: float
    train_total: float

    @property
    def hit_rate(self) -> float:
        """``n / N`` (NaN when there were no test occurrences)."""
        return self.hits / self.total if self.total > 0 else float("nan")

    @property
    def pai(self) -> float:
        """Prediction Accuracy Index ``(n/N)/(a/A)``."""
        if self.total <= 0 or self.area <= 0:
            return float("nan")
        return (self.hits / self.total) / (self.area / self.total_area)

    @property
    def pei_star(self) -> float:
        """``n / n*`` (NaN when no cell had a test occurrence)."""
        return self.hits / self.best_hits if self.best_hits > 0 else float("nan")

    @property
    def rri(self) -> float:
        """Recapture Rate Index ``(n₂/n₁)/(N₂/N₁)`` (NaN when undefined)."""
        if self.train_hits <= 0 or self.total <= 0 or self.train_total <= 0:
            return float("nan")
        return (self.hits / self.train_hits) / (self.total / self.train_total)


def _as_float(values: npt.ArrayLike, *, name: str, n: int | None) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ParameterError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ParameterError(
            f"{name} must have {n} values (one per cell), got {len(arr)}"
        )
    return arr


def take_weights(
    score: npt.ArrayLike, area: npt.ArrayLike, *, share: float
) -> FloatArray:
    """Share of each cell taken when cells are taken by score up to an area share.

    Parameters
    ----------
    score : array_like of float, shape (n,)
        Ranking score per cell; NaN ranks last.
    area : array_like of float, shape (n,)
        Area of each cell (any unit, > 0).
    share : float, keyword-only
        Area share to take, in (0, 1].

    Returns
    -------
    ndarray of float, shape (n,)
        1 for cells taken whole, 0 for cells not taken, and the same fraction in
        (0, 1) for every cell of the tied block that straddles the share (the
        expectation over the orders of that block).
    """
    s = _as_float(score, name="score", n=None)
    a = _as_float(area, name="area", n=len(s))
    if not 0 < share <= 1:
        raise ParameterError(f"share must be in (0, 1], got {share!r}")
    if len(s) == 0:
        return np.zeros(0)
    if np.any(~np.isfinite(a)) or np.any(a <= 0):
        raise ParameterError("area must be finite and > 0 for every cell")
    key = np.where(np.isfinite(s), s, -np.inf)
    order = np.argsort(-key, kind="stable")
    ks = key[order]
    new_block = np.r_[True, ks[1:] != ks[:-1]]
    block = np.cumsum(new_block) - 1
    block_area = np.bincount(block, weights=a[order])
    before = np.r_[0.0, np.cumsum(block_area)[:-1]]
    wanted = share * float(a.sum())
    frac = np.clip((wanted - before) / block_area, 0.0, 1.0)
    out = np.empty(len(s))
    out[order] = frac[block]
    return out


def best_hits(observed: npt.ArrayLike, cells: float) -> float:
    """Most occurrences ``cells`` cells could hold (fractional cells interpolated)."""
    obs = np.sort(_as_float(observed, name="observed", n=None))[::-1]
    if len(obs) == 0 or cells <= 0:
        return 0.0
    whole = int(np.floor(cells))
    total = float(obs[:whole].sum())
    if whole < len(obs):
        total += (cells - whole) * float(obs[whole])
    return total


def capture(
    score: npt.ArrayLike,
    observed: npt.ArrayLike,
    area: npt.ArrayLike,
    *,
    share: float,
    train: npt.ArrayLike | None = None,
) -> Capture:
    """Figures of a ranking at one area share (definitions in the module docstring).

    Parameters
    ----------
    score : array_like of float, shape (n,)
        Ranking score per cell (higher first; NaN last).
    observed : array_like of float, shape (n,)
        Test occurrences per cell (the period the ranking never saw).
    area : array_like of float, shape (n,)
        Cell areas (km²).
    share : float, keyword-only
        Area share, e.g. 0.01 for 1%.
    train : array_like of float, shape (n,), optional, keyword-only
        Training occurrences per cell, for the RRI.

    Returns
    -------
    Capture
    """
    s = _as_float(score, name="score", n=None)
    obs = _as_float(observed, name="observed", n=len(s))
    a = _as_float(area, name="area", n=len(s))
    if np.any(obs < 0) or np.any(~np.isfinite(obs)):
        raise ParameterError("observed must be finite counts >= 0")
    tr = np.zeros(len(s)) if train is None else _as_float(train, name="train", n=len(s))
    w = take_weights(s, a, share=share)
    taken = float(w.sum())
    return Capture(
        share=float(share),
        cells=taken,
        area=float((w * a).sum()),
        total_area=float(a.sum()),
        hits=float((w * obs).sum()),
        total=float(obs.sum()),
        best_hits=best_hits(obs, taken),
        train_hits=float((w * tr).sum()),
        train_total=float(tr.sum()),
    )

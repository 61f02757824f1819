"""Predictive hot-spot ranking: cells ordered by the occurrences expected next.

Why a model at all
------------------
Gi* asks whether a cluster is unusual for its study area; an inspector asks where
the next robberies will be. This module answers the second question with an
**expected count** per study cell for the coming period, so that cells from
different CSPs can be compared and sorted together (a z-score cannot).

The model (and why this one)
----------------------------
A Poisson model with the **identity link and non-negative coefficients** over a
few per-cell rates (occurrences per month with data)::

    expected per month = b0 + b1·target recent + b2·target long-run
                         + b3·target in the ring around + Σ_g c_g·indicator g ...

so every cell's score is a **weighted count**, and its reason can be read off the
terms ("5 robberies or weapon offences here, 40 violence and sexual offences
here"). The weights are fitted by maximum likelihood (L-BFGS-B, bounds ≥ 0) on
earlier months: each month ``t`` before the cut-off is a forecast origin whose
features use months before ``t`` only and whose response is month ``t``'s count.
The identity link keeps the weights additive and readable, and non-negativity
means more crime nearby never lowers the forecast. Log-link GLMs or boosted trees
would be harder to explain and, on a few thousand occurrences, no better.

Features (rates per month with data, per cell)
----------------------------------------------
``target_recent``
    Target occurrences in the last ``recent_months`` months (months with data).
``target_long``
    Target occurrences over every month with data before the origin.
``target_ring``
    ``target_long`` summed over the six neighbouring cells (when ``ring``).
``<indicator>``
    Other police.uk crime at the same cell over the long window, grouped
    (:data:`INDICATOR_GROUPS`): violence and sexual offences, public order, drugs,
    criminal damage and arson, theft, anti-social behaviour, other crime, and
    robbery / weapons when they are not the target.
``other_ring``
    All indicator crime in the six neighbouring cells (when ``ring``).

Settings and their validation
-----------------------------
:class:`RankSettings` holds what is not fitted: the recent window, whether the
ring terms are used, which indicators are used, and the shrinkage of the weights.
With ``settings=None`` each candidate of :func:`candidate_settings` is scored by
**rolling-origin validation on months before the cut-off only**: for each of the
last origins, the weights are fitted on the origins before it and the forecast is
scored on that month (mean of PEI\\* at 1% of the whole area and the median per-CSP
PEI\\* at 5%). The best candidate wins; every candidate's score is returned.

Missing months
--------------
A month is **missing** for a source when the source has no row in it that passes
the data-quality checks (the corrupt, flagged police.uk August 2025; the 2024 gap;
months before a source starts). Rates divide by months with data only, so a
missing month is never read as a month of zero crime. Rows with data-quality flags
(:func:`hotspot.ingest.quality.flagged`) are left out, and so are rows located
less precisely than a cell (postcode sector, district or place name).

No leakage
----------
Only rows dated on or before ``fit_to`` are read (the rest are dropped first), and
only whole months ending on or before ``fit_to`` are used; the result depends on
nothing later (``tests/test_rank.py`` changes later rows and checks).
"""

from __future__ import annotations

import logging

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from hotspot.detect.accuracy import best_hits, take_weights
from hotspot.detect.gistar import gi_star, ring_weights
from hotspot.errors import ParameterError
from hotspot.grid import points_to_cells
from hotspot.ingest.quality import PRECISE_METHODS, flagged

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
Weight = Literal["count", "harm"]

#: police.uk crime types grouped into leading indicators.
INDICATOR_GROUPS: dict[str, tuple[str, ...]] = {
    "violence": ("Violence and sexual offences",),
    "public_order": ("Public order",),
    "drugs": ("Drugs",),
    "damage": ("Criminal damage and arson",),
    "theft": ("Shoplifting", "Other theft", "Theft from the person", "Bicycle theft"),
    "asb": ("Anti-social behaviour",),
    "other": ("Burglary", "Vehicle crime", "Other crime"),
    "robbery_weapons": ("Robbery", "Possession of weapons"),
}
#: Plain names of the indicator groups, for reasons.
INDICATOR_NOUNS: dict[str, str] = {
    "violence": "violence and sexual offences",
    "public_order": "public order offences",
    "drugs": "drugs offences",
    "damage": "criminal damage and arson offences",
    "theft": "thefts and shoplifting offences",
    "asb": "anti-social behaviour reports",
    "other": "burglaries, vehicle and other crimes",
    "robbery_weapons": "other robberies and weapon offences",
}
#: Indicator sets tried by :func:`candidate_settings`.
INDICATOR_SETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "violence+public order": ("violence", "public_order"),
    "all": tuple(INDICATOR_GROUPS),
}
#: Columns of :attr:`Ranking.cells` (besides the geometry).
RANK_COLUMNS: tuple[str, ...] = (
    "h3", "csp_code", "csp_name", "rank", "csp_rank", "score", "count", "harm",
    "reason", "z", "bin",
)
#: Area shares of the validation score (HIPS-wide and per CSP).
VALIDATION_SHARES = (0.01, 0.05)
#: Origins scored in validation (the last ones before the cut-off).
VALIDATION_ORIGINS = 3
#: Months with data a forecast origin needs before it.
MIN_HISTORY = 2

CATEGORY_NOUN = {
    "robbery": "robberies",
    "possession_of_weapons": "weapon possession offences",
    "most_serious_violence": "most serious violence offences",
    "violent_disorder": "violent disorder offences",
    "bladed_violence_with_injury": "bladed violence offences",
}


@dataclass(frozen=True)
class TargetSpec:
    """Which occurrences are forecast.

    Attributes
    ----------
    categories : tuple of str
        ``sv_category`` values; empty means serious violence
        (``is_serious_violence``, or a category where that is not recorded), the
        same rule as ``hotspot detect``.
    sources : tuple of str
        ``source`` values to use (``"police_uk"``, ``"records"``, ...); empty
        means every source.
    """

    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("categories", "sources"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ParameterError(
                    f"TargetSpec.{name} must be a tuple of strings, got {value!r}"
                )

    @property
    def noun(self) -> str:
        """Plural noun of the target, for sentences."""
        if not self.categories:
            return "serious-violence occurrences"
        words = [CATEGORY_NOUN.get(c, c.replace("_", " ")) for c in self.categories]
        if set(self.categories) == {"robbery", "possession_of_weapons"}:
            return "robberies and weapon offences"
        return " and ".join(words)

    def mask(self, occurrences: pd.DataFrame) -> npt.NDArray[np.bool_]:
        """True for target rows (categories and sources; flags not looked at)."""
        cat = occurrences["sv_category"].astype("string")
        if self.categories:
            keep = cat.isin(self.categories).fillna(False)
        else:
            sv = occurrences["is_serious_violence"].astype("boolean")
            keep = sv.fillna(cat.notna()).astype(bool)
        if self.sources:
            keep &= occurrences["source"].astype("string").isin(self.sources).fillna(False)
        return keep.to_numpy(dtype=bool)


@dataclass(frozen=True)
class RankSettings:
    """What the ranking does not fit but chooses by validation.

    Attributes
    ----------
    recent_months : int
        Length of the recent window, calendar months before the origin.
    ring : bool
        Use the neighbouring cells (k-ring 1) of the target and of other crime.
    indicators : tuple of str
        Indicator groups used (keys of :data:`INDICATOR_GROUPS`).
    shrinkage : float
        Ridge penalty on the weights (per fitted row, ≥ 0): pulls weights
        towards 0 so that thin months do not make one feature dominate.
    """

    recent_months: int = 3
    ring: bool = True
    indicators: tuple[str, ...] = ("violence", "public_order")
    shrinkage: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.recent_months, int) or self.recent_months < 1:
            raise ParameterError(
                f"recent_months must be an integer >= 1, got {self.recent_months!r}"
            )
        unknown = set(self.indicators) - set(INDICATOR_GROUPS)
        if unknown:
            raise ParameterError(
                f"indicators must be among {sorted(INDICATOR_GROUPS)}, got {sorted(unknown)}"
            )
        if not (isinstance(self.shrinkage, (int, float)) and self.shrinkage >= 0):
            raise ParameterError(f"shrinkage must be a number >= 0, got {self.shrinkage!r}")

    def label(self) -> str:
        """Short text of the settings."""
        ind = next((k for k, v in INDICATOR_SETS.items() if v == self.indicators),
                   "+".join(self.indicators) or "none")
        return (f"recent {self.recent_months} mo, ring {'on' if self.ring else 'off'}, "
                f"indicators {ind}, shrinkage {self.shrinkage:g}")


def candidate_settings() -> list[RankSettings]:
    """The settings tried by validation when none are given."""
    out = []
    for recent in (3, 6):
        for ring in (False, True):
            for ind in INDICATOR_SETS.values():
                out.append(RankSettings(recent_months=recent, ring=ring, indicators=ind))
    return out


@dataclass
class Ranking:
    """What :func:`rank_cells` returns.

    Attributes
    ----------
    cells : geopandas.GeoDataFrame
        One row per study cell, sorted by ``rank``: ``h3``, ``csp_code``,
        ``csp_name``, ``rank`` (1 = highest expected, across all cells given),
        ``csp_rank`` (within the CSP), ``score`` (expected target occurrences, or
        harm, in the next ``horizon_months``), ``count`` and ``harm`` (target
        occurrences and their harm in the months used), ``reason``, ``z`` and
        ``bin`` (Gi* of ``count`` per study area: the evidence shown beside the
        rank, never the order) and geometry.
    settings : RankSettings
        The settings used.
    chosen_by : str
        ``"validation"`` or ``"given"``, and why.
    validation : pandas.DataFrame
        One row per candidate: its label, mean validation score, per-origin
        scores; empty when settings were given.
    coefficients : dict
        Fitted weight of each feature (per month, on rates per month).
    months_used, months_missing : list of str
        Months of the fit window with data, and without (per source).
    fit_to : pandas.Timestamp
        The cut-off.
    warnings : list of str
        Warnings for the user.
    """

    cells: gpd.GeoDataFrame
    settings: RankSettings
    chosen_by: str
    validation: pd.DataFrame
    coefficients: dict[str, float]
    months_used: list[str]
    months_missing: list[str]
    fit_to: pd.Timestamp
    horizon_months: int
    target: TargetSpec
    weight: str
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Plain-text summary: settings, how chosen, weights and warnings."""
        lines = [
            f"ranking of {len(self.cells)} cells by expected {self.target.noun} "
            f"({self.weight}) in the {self.horizon_months} month(s) after "
            f"{self.fit_to:%Y-%m-%d}",
            f"settings: {self.settings.label()} ({self.chosen_by})",
            "weights: " + ", ".join(f"{k} {v:.4g}" for k, v in self.coefficients.items()),
            f"months used: {', '.join(self.months_used)}",
        ]
        if self.months_missing:
            lines.append(f"months missing (not zero): {', '.join(self.months_missing)}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


# ----------------------------------------------------------------------------
# the panel: counts per cell and month for each stream
# ----------------------------------------------------------------------------


@dataclass
class _Stream:
    counts: FloatArray  # cells x months
    available: npt.NDArray[np.bool_]  # months


@dataclass
class Panel:
    """Counts per cell and month of the target (per source) and of indicators."""

    months: pd.PeriodIndex
    target: dict[str, _Stream]  # per source
    indicators: dict[str, _Stream]
    neighbours: sparse.csr_array  # ring-1 neighbours, cell itself excluded
    target_harm: dict[str, _Stream]
    missing: list[str]
    left_out: dict[str, int]


def _month_table(n_cells: int, n_months: int, cell: npt.NDArray[np.int64],
                 month: npt.NDArray[np.int64],
                 weights: FloatArray | None = None) -> FloatArray:
    flat = cell * n_months + month
    return np.bincount(flat, weights=weights, minlength=n_cells * n_months).reshape(
        n_cells, n_months).astype(np.float64)


def build_panel(occurrences: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, *,
                target: TargetSpec, fit_to: pd.Timestamp) -> Panel:
    """Count target and indicator rows per cell and whole month up to ``fit_to``.

    Rows after ``fit_to``, flagged rows, rows without a point or located less
    precisely than a cell are dropped before anything else.
    """
    occ = occurrences
    when = pd.to_datetime(occ["occurred_from"])
    last_month = fit_to.to_period("M")
    if fit_to.normalize() < last_month.end_time.normalize():
        last_month = last_month - 1  # only whole months
    keep = (when < (last_month + 1).start_time).to_numpy() & when.notna().to_numpy()
    occ = occ[keep]
    when = when[keep]
    bad = flagged(occ).to_numpy()
    method = occ["geocode_method"].astype("string")
    imprecise = (~method.isin(PRECISE_METHODS).fillna(False)).to_numpy()
    geom = occ.geometry
    no_point = (geom.isna() | geom.is_empty).to_numpy()
    left_out = {"after_fit_to": int((~keep).sum()), "flagged": int(bad.sum()),
                "imprecise_location": int((imprecise & ~bad & ~no_point).sum())}
    sources = occ["source"].astype("string").fillna("unknown").to_numpy()
    clean = ~bad
    if not clean.any():
        raise ParameterError(
            f"no occurrence passes the data-quality checks on or before {fit_to:%Y-%m-%d}"
        )
    first_month = when[clean].min().to_period("M")
    months = pd.period_range(first_month, last_month, freq="M")
    if len(months) == 0:
        raise ParameterError(f"fit_to {fit_to:%Y-%m-%d} is before the first whole month")
    mpos = (when.dt.to_period("M").array.asi8 - first_month.ordinal).astype(np.int64)
    n_m = len(months)
    # months with data per source: any clean row
    avail: dict[str, npt.NDArray[np.bool_]] = {}
    for src in np.unique(sources[clean]):
        sel = clean & (sources == src) & (mpos >= 0)
        a = np.zeros(n_m, dtype=bool)
        a[np.unique(mpos[sel])] = True
        avail[str(src)] = a
    # a month is missing when the source has no clean row in it, from the
    # source's first month on (earlier months are simply not covered)
    missing = [f"{m} ({src})" for src, a in avail.items()
               for i, (m, ok) in enumerate(zip(months.astype(str), a, strict=True))
               if not ok and a[:i].any()]
    use = clean & ~imprecise & ~no_point & (mpos >= 0)
    occ_u = occ[use]
    pcell = points_to_cells(occ_u, resolution=_resolution(cells))
    cpos = pd.Index(cells["h3"]).get_indexer(pcell.fillna("").to_numpy())
    inside = cpos >= 0
    left_out["outside_cells"] = int((~inside).sum())
    cpos, m_u, src_u = cpos[inside], mpos[use][inside], sources[use][inside]
    occ_u = occ_u[inside]
    is_target = target.mask(occ_u)
    harm = pd.to_numeric(occ_u["harm_weight"], errors="coerce").fillna(0.0).to_numpy(float)
    n_c = len(cells)
    tstreams: dict[str, _Stream] = {}
    hstreams: dict[str, _Stream] = {}
    target_sources = target.sources or tuple(avail)
    for src in target_sources:
        if src not in avail:
            continue
        sel = is_target & (src_u == src)
        tstreams[src] = _Stream(_month_table(n_c, n_m, cpos[sel], m_u[sel]), avail[src])
        hstreams[src] = _Stream(
            _month_table(n_c, n_m, cpos[sel], m_u[sel], harm[sel]), avail[src])
    ctype = occ_u["crime_type"].astype("string").fillna("").to_numpy()
    istreams: dict[str, _Stream] = {}
    police = avail.get("police_uk", np.zeros(n_m, dtype=bool))
    for group, types in INDICATOR_GROUPS.items():
        sel = ~is_target & np.isin(ctype, types)
        istreams[group] = _Stream(_month_table(n_c, n_m, cpos[sel], m_u[sel]), police)
    w = ring_weights(cells["h3"].tolist(), k=1)
    w = sparse.csr_array(w - sparse.eye_array(n_c, format="csr"))
    w.eliminate_zeros()
    return Panel(months, tstreams, istreams, w, hstreams, missing, left_out)


def _resolution(cells: pd.DataFrame) -> int:
    import h3

    return int(h3.get_resolution(str(cells["h3"].iloc[0])))


def _rate(stream: _Stream, lo: int, hi: int) -> tuple[FloatArray, int]:
    """Mean count per month with data over months [lo, hi); and how many months."""
    lo = max(lo, 0)
    ok = np.flatnonzero(stream.available[lo:hi]) + lo
    if len(ok) == 0:
        return np.zeros(stream.counts.shape[0]), 0
    return stream.counts[:, ok].sum(axis=1) / len(ok), len(ok)


def features(panel: Panel, origin: int, settings: RankSettings, *,
             harm: bool = False) -> tuple[FloatArray, list[str]]:
    """Feature matrix (cells x features, with the constant first) at an origin.

    ``origin`` is the index of the first forecast month in ``panel.months``;
    only months before it are read.
    """
    streams = panel.target_harm if harm else panel.target
    n_c = panel.neighbours.shape[0]
    recent = np.zeros(n_c)
    long = np.zeros(n_c)
    for s in streams.values():
        r, nr = _rate(s, origin - settings.recent_months, origin)
        lg, nl = _rate(s, 0, origin)
        recent += r if nr else lg
        long += lg
    cols = [np.ones(n_c), recent, long]
    names = ["constant", "target_recent", "target_long"]
    if settings.ring:
        cols.append(panel.neighbours @ long)
        names.append("target_ring")
    other = np.zeros(n_c)
    for group, s in panel.indicators.items():
        rate, _ = _rate(s, 0, origin)
        other += rate
        if group in settings.indicators:
            cols.append(rate)
            names.append(group)
    if settings.ring and settings.indicators:
        cols.append(panel.neighbours @ other)
        names.append("other_ring")
    return np.column_stack(cols), names


def _response(panel: Panel, origin: int, horizon: int, *,
              harm: bool) -> tuple[FloatArray, int]:
    """Target occurrences (or harm) in months [origin, origin+horizon) with data."""
    streams = panel.target_harm if harm else panel.target
    y = np.zeros(panel.neighbours.shape[0])
    months = 0
    for s in streams.values():
        ok = np.flatnonzero(s.available[origin:origin + horizon]) + origin
        y += s.counts[:, ok].sum(axis=1)
        months = max(months, len(ok))
    return y, months


def origins(panel: Panel) -> list[int]:
    """Forecast origins before the cut-off: months with target data and history."""
    avail = np.zeros(len(panel.months), dtype=bool)
    for s in panel.target.values():
        avail |= s.available
    out = []
    for t in range(len(panel.months)):
        if avail[t] and int(avail[:t].sum()) >= MIN_HISTORY:
            out.append(t)
    return out


# ----------------------------------------------------------------------------
# fitting
# ----------------------------------------------------------------------------


def fit_weights(x: FloatArray, y: FloatArray, exposure: FloatArray, *,
                shrinkage: float = 0.0) -> FloatArray:
    """Non-negative Poisson regression with the identity link.

    Maximises ``Σ y log μ − μ`` with ``μ = exposure · (x @ b)``, ``b ≥ 0`` (the
    constant's weight bounded below by a tiny positive value so μ > 0), minus
    ``shrinkage · n · Σ_{j>0} b_j²`` (ridge, the constant not penalised).
    Rows with identical features are merged first (same likelihood).

    Parameters
    ----------
    x : ndarray, shape (n, p)
        Features, first column the constant 1; all ≥ 0.
    y : ndarray, shape (n,)
        Responses ≥ 0 (counts, or harm: quasi-Poisson).
    exposure : ndarray, shape (n,)
        Months of response per row (> 0).
    shrinkage : float, keyword-only
        Ridge penalty per row.

    Returns
    -------
    ndarray, shape (p,)
        The weights.
    """
    if x.ndim != 2 or len(x) != len(y) or len(y) != len(exposure):
        raise ParameterError(
            f"x, y and exposure must agree: got {x.shape}, {y.shape}, {exposure.shape}")
    active = x[:, 1:].any(axis=1)
    # rows with no feature at all share μ = exposure·b0: merge them into one
    xs, ys, es = x[active], y[active], exposure[active]
    if (~active).any():
        xs = np.vstack([xs, x[~active][:1]])
        ys = np.r_[ys, y[~active].sum()]
        es = np.r_[es, exposure[~active].sum()]
    # scale each feature to mean 1 over the rows: a well-conditioned problem
    scale = (x * exposure[:, None]).mean(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    xe = xs * es[:, None] / scale[None, :]
    p = x.shape[1]
    mean_rate = max(float(y.sum()) / max(float(exposure.sum()), 1e-12), 1e-9)
    pen = np.r_[0.0, np.full(p - 1, shrinkage * float(len(y)))] / scale**2
    lower = np.zeros(p)
    lower[0] = 1e-9 * mean_rate * scale[0]
    c = np.full(p, 0.1 * mean_rate * scale[0] / max(p - 1, 1))
    c[0] = 0.5 * mean_rate * scale[0]
    c = _projected_newton(xe, ys, pen, lower, c)
    return np.asarray(c / scale, dtype=np.float64)


def _projected_newton(xe: FloatArray, ys: FloatArray, pen: FloatArray,
                      lower: FloatArray, c: FloatArray, *, max_iter: int = 100,
                      tol: float = 1e-10) -> FloatArray:
    """Minimise the penalised Poisson deviance over ``c >= lower`` (Bertsekas 1982).

    Newton steps on the free variables (those off their bound or pushed away
    from it by the gradient), projected onto the bounds, with Armijo
    backtracking; small p (a dozen features) makes each step cheap.
    """
    col_sum = xe.sum(axis=0)

    def objective(v: FloatArray) -> float:
        mu = np.maximum(xe @ v, 1e-300)
        return float(mu.sum() - ys @ np.log(mu) + (pen * v * v).sum())

    f = objective(c)
    damping = 1e-8
    it = 0
    for it in range(max_iter):
        mu = np.maximum(xe @ c, 1e-300)
        r = ys / mu
        grad = col_sum - xe.T @ r + 2 * pen * c
        at_bound = c <= lower + 1e-15
        free = ~(at_bound & (grad > 0))
        if not free.any():
            break
        hess = (xe[:, free] * (r / mu)[:, None]).T @ xe[:, free]
        hess += np.diag(2 * pen[free])
        diag = np.diag(hess).copy() + 1e-12
        improved = False
        while damping < 1e12:
            # Levenberg-Marquardt damping: collinear features (a recent window
            # as long as the whole history) make the Hessian singular
            step_free = -np.linalg.solve(hess + damping * np.diag(diag), grad[free])
            step = np.zeros_like(c)
            step[free] = step_free
            trial = np.maximum(c + step, lower)
            ft = objective(trial)
            if ft < f:
                improved = True
                damping = max(damping / 10, 1e-10)
                break
            damping *= 10
        if not improved:
            break
        done = (f - ft) <= tol * max(abs(f), 1.0)
        c, f = trial, ft
        if done:
            break
    logger.debug("projected Newton: %d iterations, deviance %.6g", it + 1, f)
    return c


def _stack(panel: Panel, fit_origins: list[int], settings: RankSettings, *,
           harm: bool, horizon: int = 1) -> tuple[FloatArray, FloatArray, FloatArray]:
    xs, ys, es = [], [], []
    for t in fit_origins:
        x, _ = features(panel, t, settings, harm=harm)
        y, months = _response(panel, t, horizon, harm=harm)
        if months == 0:
            continue
        xs.append(x)
        ys.append(y)
        es.append(np.full(len(y), float(months)))
    if not xs:
        raise ParameterError("no forecast origin with data to fit on")
    return np.vstack(xs), np.concatenate(ys), np.concatenate(es)


def _score_origin(pred: FloatArray, obs: FloatArray, area: FloatArray,
                  groups: npt.NDArray[np.int64]) -> float:
    """Validation score: mean of PEI* at 1% overall and median per-group PEI* at 5%."""
    hips_share, csp_share = VALIDATION_SHARES
    w = take_weights(pred, area, share=hips_share)
    best = best_hits(obs, float(w.sum()))
    hips = float((w * obs).sum()) / best if best > 0 else float("nan")
    per = []
    for g in np.unique(groups):
        m = groups == g
        if obs[m].sum() <= 0:
            continue
        wg = take_weights(pred[m], area[m], share=csp_share)
        bg = best_hits(obs[m], float(wg.sum()))
        per.append(float((wg * obs[m]).sum()) / bg)
    csp = float(np.median(per)) if per else float("nan")
    return float(np.nanmean([hips, csp]))


def validate(panel: Panel, candidates: list[RankSettings], *, area: FloatArray,
             groups: npt.NDArray[np.int64], harm: bool) -> pd.DataFrame:
    """Rolling-origin validation of each candidate on months before the cut-off.

    For each of the last :data:`VALIDATION_ORIGINS` origins that have an earlier
    origin to fit on, the weights are fitted on the earlier origins and the
    forecast of that month is scored (:func:`_score_origin`).
    """
    orig = origins(panel)
    scored = [t for t in orig[1:]][-VALIDATION_ORIGINS:]
    rows = []
    for cand in candidates:
        per: dict[str, float] = {}
        for t in scored:
            train = [u for u in orig if u < t]
            x, y, e = _stack(panel, train, cand, harm=harm)
            b = fit_weights(x, y, e, shrinkage=cand.shrinkage)
            xt, _ = features(panel, t, cand, harm=harm)
            obs, months = _response(panel, t, 1, harm=harm)
            if months == 0 or obs.sum() <= 0:
                continue
            per[str(panel.months[t])] = _score_origin(xt @ b, obs, area, groups)
        rows.append({"settings": cand.label(), "candidate": cand,
                     "score": float(np.mean(list(per.values()))) if per else float("nan"),
                     **{f"score_{k}": v for k, v in per.items()}})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------
# the verb
# ----------------------------------------------------------------------------


def rank_cells(
    occurrences: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    target: TargetSpec,
    fit_to: pd.Timestamp,
    weight: Weight = "count",
    settings: RankSettings | None = None,
    horizon_months: int = 1,
) -> Ranking:
    """Rank study cells by the target occurrences (or harm) expected next.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        The canonical occurrence table (points in EPSG:27700), every source and
        crime type: target rows and the other crime used as leading indicators.
        Rows after ``fit_to`` are never read.
    cells : geopandas.GeoDataFrame
        Study cells (:func:`hotspot.grid.study_cells`): ``h3``, ``csp_code``,
        ``csp_name`` and hexagons in EPSG:27700.
    target : TargetSpec, keyword-only
        Which rows are forecast (categories, sources).
    fit_to : pandas.Timestamp, keyword-only
        Cut-off date (inclusive); whole months ending on or before it are used.
    weight : {"count", "harm"}, keyword-only
        Forecast occurrences or harm (``harm_weight`` summed).
    settings : RankSettings or None, keyword-only
        Fixed settings; ``None`` chooses them by rolling-origin validation on the
        months before ``fit_to``.
    horizon_months : int, keyword-only
        The score is the expected count (harm) over this many coming months.

    Returns
    -------
    Ranking
        The cell table sorted by rank, and the settings, how they were chosen,
        the validation scores, the fitted weights, months used and missing.

    Raises
    ------
    ParameterError
        For bad arguments, or when there is too little history to fit.
    """
    if not isinstance(target, TargetSpec):
        raise ParameterError(f"target must be a TargetSpec, got {type(target).__name__}")
    if weight not in ("count", "harm"):
        raise ParameterError(f"weight must be 'count' or 'harm', got {weight!r}")
    if not isinstance(horizon_months, int) or horizon_months < 1:
        raise ParameterError(f"horizon_months must be an integer >= 1, got {horizon_months!r}")
    fit_to = pd.Timestamp(fit_to)
    missing_cols = {"h3", "csp_code", "csp_name"} - set(cells.columns)
    if missing_cols or len(cells) == 0:
        raise ParameterError(
            f"cells must be non-empty study cells with h3, csp_code, csp_name; "
            f"missing {sorted(missing_cols)}, {len(cells)} rows")
    harm = weight == "harm"
    warnings_: list[str] = []
    panel = build_panel(occurrences, cells, target=target, fit_to=fit_to)
    if not panel.target or not any(s.counts.sum() for s in panel.target.values()):
        raise ParameterError(
            f"no {target.noun} on or before {fit_to:%Y-%m-%d} after the filters "
            f"({panel.left_out})")
    orig = origins(panel)
    if not orig:
        raise ParameterError(
            f"too little history: ranking needs at least {MIN_HISTORY + 1} months with "
            f"data up to {fit_to:%Y-%m-%d}, found months {list(panel.months.astype(str))}"
            f" (missing: {panel.missing})")
    area = cells.geometry.area.to_numpy() / 1e6
    groups = pd.factorize(cells["csp_code"])[0].astype(np.int64)
    if settings is None:
        cands = candidate_settings()
        table = validate(panel, cands, area=area, groups=groups, harm=harm)
        if table["score"].notna().any():
            best = int(table["score"].idxmax())
            settings = table.loc[best, "candidate"]
            chosen_by = (f"validation: best of {len(cands)} candidates, mean score "
                         f"{table.loc[best, 'score']:.3f} on "
                         f"{sum(c.startswith('score_') for c in table.columns)} origins")
        else:
            settings = RankSettings()
            chosen_by = "default: too few months before fit_to to validate"
            warnings_.append(chosen_by)
        table = table.drop(columns="candidate")
    else:
        if not isinstance(settings, RankSettings):
            raise ParameterError(
                f"settings must be a RankSettings or None, got {type(settings).__name__}")
        table = pd.DataFrame()
        chosen_by = "given"
    x, y, e = _stack(panel, orig, settings, harm=harm)
    b = fit_weights(x, y, e, shrinkage=settings.shrinkage)
    final = len(panel.months)
    xf, names = features(panel, final, settings, harm=harm)
    score = horizon_months * (xf @ b)
    coefficients = dict(zip(names, (float(v) for v in b), strict=True))
    out = _table(cells, panel, xf, names, b, score, settings=settings,
                 target=target, harm=harm, horizon=horizon_months)
    if len(orig) < 3:
        warnings_.append(f"only {len(orig)} forecast origin(s) to fit the weights on")
    used = [str(m) for m, ok in zip(panel.months, np.any(
        [s.available for s in panel.target.values()], axis=0), strict=True) if ok]
    logger.info("ranked %d cells (%s; %s)", len(out), settings.label(), chosen_by)
    return Ranking(out, settings, chosen_by, table, coefficients, used, panel.missing,
                   fit_to, horizon_months, target, weight, warnings_)


def _table(cells: gpd.GeoDataFrame, panel: Panel, xf: FloatArray, names: list[str],
           b: FloatArray, score: FloatArray, *, settings: RankSettings,
           target: TargetSpec, harm: bool, horizon: int) -> gpd.GeoDataFrame:
    final = len(panel.months)
    count = np.zeros(len(cells))
    harm_sum = np.zeros(len(cells))
    recent = np.zeros(len(cells))
    for src, s in panel.target.items():
        ok = np.flatnonzero(s.available)
        count += s.counts[:, ok].sum(axis=1)
        harm_sum += panel.target_harm[src].counts[:, ok].sum(axis=1)
        lo = max(final - settings.recent_months, 0)
        okr = np.flatnonzero(s.available[lo:]) + lo
        recent += s.counts[:, okr].sum(axis=1)
    other_here = np.zeros(len(cells))
    for s in panel.indicators.values():
        other_here += s.counts[:, np.flatnonzero(s.available)].sum(axis=1)
    out = pd.DataFrame({
        "h3": cells["h3"].to_numpy(), "csp_code": cells["csp_code"].to_numpy(),
        "csp_name": cells["csp_name"].to_numpy(), "score": score,
        "count": count.astype(np.int64), "harm": harm_sum,
    })
    order = np.lexsort((out["h3"].to_numpy(), -out["count"].to_numpy(), -score))
    rank = np.empty(len(out), dtype=np.int64)
    rank[order] = np.arange(1, len(out) + 1)
    out["rank"] = rank
    out["csp_rank"] = out.groupby("csp_code")["rank"].rank(method="first").astype(np.int64)
    out["reason"] = _reasons(count, recent, other_here, xf, names, b, score,
                             settings=settings, target=target, horizon=horizon,
                             n_months=len([m for m in panel.months]))
    # Gi* on the same counts, per study area: the evidence, never the order
    study = (cells["study_area"].to_numpy() if "study_area" in cells.columns
             else cells["csp_code"].to_numpy())
    evidence = gi_star(pd.DataFrame({"h3": out["h3"], "study_area": study,
                                     "count": count}), column="count", k=1)
    out["z"] = evidence["z"].to_numpy()
    out["bin"] = evidence["bin"].to_numpy()
    out = out[list(RANK_COLUMNS)]
    gdf = gpd.GeoDataFrame(out, geometry=cells.geometry.to_numpy(), crs=cells.crs)
    return gdf.sort_values("rank").reset_index(drop=True)


def _n(value: float) -> str:
    return f"{value:.0f}" if value >= 1 or value == 0 else f"{value:.1f}"


def _reasons(count: FloatArray, recent: FloatArray, other: FloatArray, xf: FloatArray,
             names: list[str], b: FloatArray, score: FloatArray, *,
             settings: RankSettings, target: TargetSpec, horizon: int,
             n_months: int) -> list[str]:
    """One sentence per cell: the score and the terms that carry it."""
    contrib = xf * b[None, :]
    noun = target.noun
    window = f"the last {settings.recent_months} months"
    ring_col = names.index("target_ring") if "target_ring" in names else None
    ind_cols = [(i, n) for i, n in enumerate(names) if n in INDICATOR_GROUPS]
    out = []
    per = "month" if horizon == 1 else f"{horizon} months"
    for i in range(len(count)):
        parts = [f"{_n(recent[i])} {noun} here in {window} ({_n(count[i])} in all months)"]
        if ind_cols:
            j, name = max(ind_cols, key=lambda c: contrib[i, c[0]])
            if contrib[i, j] > 0:
                months_with = xf[i, j]
                parts.append(f"about {_n(months_with)} {INDICATOR_NOUNS[name]} a month here")
        if ring_col is not None and contrib[i, ring_col] > 0 and xf[i, ring_col] > 0:
            parts.append(f"{_n(xf[i, ring_col])} {noun} a month in the cells around")
        if count[i] == 0 and other[i] == 0 and (ring_col is None or xf[i, ring_col] == 0):
            parts = [f"no {noun} or other crime recorded here; the base rate only"]
        out.append(f"Expected {score[i]:.2f} in the next {per}: " + ", ".join(parts) + ".")
    return out


def with_settings(ranking: Ranking, **changes: Any) -> RankSettings:
    """Settings of a ranking with some fields changed (for a re-run)."""
    return replace(ranking.settings, **changes)


def month_end(text: str) -> pd.Timestamp:
    """Last day of the month of a date text (``2025-06`` or ``2025-06-15``)."""
    period = pd.Period(text, freq="M")
    return pd.Timestamp(period.end_time.normalize())


__all__ = [
    "INDICATOR_GROUPS", "Panel", "RankSettings", "Ranking", "TargetSpec",
    "build_panel", "candidate_settings", "features", "fit_weights", "month_end",
    "rank_cells", "validate", "with_settings",
]


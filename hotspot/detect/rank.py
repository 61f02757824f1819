r"""Predictive hot-spot ranking: cells ordered by the occurrences expected next.

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
here"). The weights are fitted by maximum likelihood (projected Newton steps,
bounds ≥ 0; :mod:`hotspot.detect.forecast`) on earlier months: each month ``t``
before the cut-off is a forecast origin whose features use months before ``t``
only and whose response is month ``t``'s count.
The identity link keeps the weights additive and readable, and non-negativity
means more crime nearby never lowers the forecast. Log-link GLMs or boosted trees
would be harder to explain and, on a few thousand occurrences, no better.

Features (rates per month with data, per cell)
----------------------------------------------
``target_recent``
    Target occurrences in the last ``recent_months`` months (months with data).
``target_long``
    Target occurrences over every month with data before the origin.
``target_ring``, ``target_ring2``
    ``target_long`` summed over the six neighbouring cells (``ring`` ≥ 1) and
    over the twelve cells two steps away (``ring`` = 2), separate terms.
``<indicator>``
    Other police.uk crime at the same cell over the long window, grouped
    (:data:`INDICATOR_GROUPS`): violence and sexual offences, public order, drugs,
    criminal damage and arson, theft, anti-social behaviour, other crime, and
    robbery / weapons when they are not the target.
``other_ring``, ``other_ring2``
    All indicator crime in the same two rings.

Settings and their validation
-----------------------------
:class:`RankSettings` holds what is not fitted: the recent window, whether the
ring terms are used (0, 1 or 2 rings), which indicators are used, and the
shrinkage of the weights.
With ``settings=None`` each candidate of :func:`candidate_settings` is scored by
**rolling-origin validation on months before the cut-off only**: for each of the
last origins, the weights are fitted on the origins before it and the forecast is
scored on that month (mean of PEI\* at 1% of the whole area and the median per-CSP
PEI\* at 5%). The best candidate wins; every candidate's score is returned. The
candidates (:func:`candidate_settings`, 12): recent window 3 or 6 months, 0, 1 or
2 rings, no indicators or all of them; shrinkage stays 0 (a ridge of 1e-3 or
1e-2 changed PAI at 1% by under 0.5%).

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

Why this module is long: the verb with its validation (the candidates, the
rolling-origin scores and their kept copy) and the explained table; the choice
of settings and the fit that uses them read the same panel and constants.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.detect.accuracy import best_hits, take_weights
from hotspot.detect.forecast import (
    INDICATOR_GROUPS,
    INDICATOR_NOUNS,
    INDICATOR_SETS,
    MIN_HISTORY,
    FloatArray,
    Panel,
    RankSettings,
    TargetSpec,
    Weight,
    build_panel,
    features,
    fit_weights,
    origins,
    response,
    stack,
)
from hotspot.detect.gistar import gi_star
from hotspot.errors import ParameterError
from hotspot.settings import RANK_CACHE_DIR

logger = logging.getLogger(__name__)

#: Columns of :attr:`Ranking.cells` (besides the geometry).
RANK_COLUMNS: tuple[str, ...] = (
    "h3",
    "csp_code",
    "csp_name",
    "rank",
    "csp_rank",
    "score",
    "count",
    "harm",
    "reason",
    "z",
    "bin",
)
#: Area shares of the validation score (HIPS-wide and per CSP).
VALIDATION_SHARES = (0.01, 0.05)
#: Indicator sets tried by validation: none (counts only) and every group. A
#: drop-one check on the embedded months (``docs/ranking.md``) found every group
#: but "other" and "robbery_weapons" helping, theft and public order most.
CANDIDATE_INDICATORS: tuple[tuple[str, ...], ...] = (
    INDICATOR_SETS["none"],
    INDICATOR_SETS["all"],
)
#: Origins scored in validation (the last ones before the cut-off).
VALIDATION_ORIGINS = 3


def candidate_settings() -> list[RankSettings]:
    """Return the settings tried by validation when none are given."""
    out = []
    for recent in (3, 6):
        for ring in (0, 1, 2):
            for ind in CANDIDATE_INDICATORS:
                out.append(
                    RankSettings(recent_months=recent, ring=ring, indicators=ind)
                )
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
            "weights: "
            + ", ".join(f"{k} {v:.4g}" for k, v in self.coefficients.items()),
            f"months used: {', '.join(self.months_used)}",
        ]
        if self.months_missing:
            lines.append(f"months missing (not zero): {', '.join(self.months_missing)}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _score_origin(
    pred: FloatArray, obs: FloatArray, area: FloatArray, groups: npt.NDArray[np.int64]
) -> float:
    """Score a forecast: mean of PEI* at 1% overall and median group PEI* at 5%."""
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


def validate(
    panel: Panel,
    candidates: list[RankSettings],
    *,
    area: FloatArray,
    groups: npt.NDArray[np.int64],
    harm: bool,
    cache_dir: Path | None = None,
) -> pd.DataFrame:
    """Rolling-origin validation of each candidate on months before the cut-off.

    For each of the last :data:`VALIDATION_ORIGINS` origins that have an earlier
    origin to fit on, the weights are fitted on the earlier origins and the
    forecast of that month is scored (:func:`_score_origin`). With
    ``cache_dir``, the table is kept there under a digest of the panel, the
    candidates and the areas (:func:`_validation_key`) and read back the next
    time the same inputs come (the scores are a function of them alone).
    """
    key = _validation_key(panel, candidates, area, groups, harm)
    path = cache_dir / f"{key}.json" if cache_dir is not None else None
    if path is not None and path.is_file():
        try:
            kept = json.loads(path.read_text())
            table = pd.DataFrame(kept["rows"])
            table.insert(1, "candidate", [candidates[i] for i in table.pop("index")])
            logger.info("validation read from %s", path)
            return table
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            logger.warning("ignoring unreadable validation cache %s: %s", path, exc)
    table = _validate(panel, candidates, area=area, groups=groups, harm=harm)
    if path is not None:
        rows = table.drop(columns="candidate").assign(index=range(len(table)))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"rows": rows.to_dict(orient="records")}))
            tmp.replace(path)
        except OSError as exc:
            logger.warning("could not keep the validation in %s: %s", path, exc)
    return table


def _validation_key(
    panel: Panel,
    candidates: list[RankSettings],
    area: FloatArray,
    groups: npt.NDArray[np.int64],
    harm: bool,
) -> str:
    """Return a digest of all validation reads (its result depends on nothing else)."""
    from hotspot.detect import accuracy, forecast

    h = hashlib.blake2b(digest_size=16)
    for module in (__file__, forecast.__file__, accuracy.__file__):
        h.update(Path(module).read_bytes())  # a change to the method: afresh
    h.update(repr((VALIDATION_SHARES, VALIDATION_ORIGINS,
                   MIN_HISTORY, harm, list(panel.months.astype(str)),
                   [repr(c) for c in candidates])).encode())
    for family in (panel.target, panel.target_harm, panel.indicators):
        for name in sorted(family):
            h.update(name.encode())
            h.update(np.ascontiguousarray(family[name].counts).tobytes())
            h.update(family[name].available.tobytes())
    h.update("\n".join(panel.cells_h3).encode())
    h.update(np.ascontiguousarray(area).tobytes())
    h.update(np.ascontiguousarray(groups).tobytes())
    return h.hexdigest()


def _validate(
    panel: Panel,
    candidates: list[RankSettings],
    *,
    area: FloatArray,
    groups: npt.NDArray[np.int64],
    harm: bool,
) -> pd.DataFrame:
    orig = origins(panel)
    scored = orig[1:][-VALIDATION_ORIGINS:]
    rows = []
    for cand in candidates:
        per: dict[str, float] = {}
        previous: FloatArray | None = None
        for t in scored:
            train = [u for u in orig if u < t]
            x, y, e = stack(panel, train, cand, harm=harm)
            b = fit_weights(x, y, e, shrinkage=cand.shrinkage, start=previous)
            previous = b
            xt, _ = features(panel, t, cand, harm=harm)
            obs, months = response(panel, t, 1, harm=harm)
            if months == 0 or obs.sum() <= 0:
                continue
            per[str(panel.months[t])] = _score_origin(xt @ b, obs, area, groups)
        rows.append(
            {
                "settings": cand.label(),
                "candidate": cand,
                "score": float(np.mean(list(per.values()))) if per else float("nan"),
                **{f"score_{k}": v for k, v in per.items()},
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------
# the verb
# ----------------------------------------------------------------------------


def rank_cells(
    occurrences: gpd.GeoDataFrame | Any,
    cells: gpd.GeoDataFrame,
    *,
    target: TargetSpec,
    fit_to: pd.Timestamp,
    weight: Weight = "count",
    settings: RankSettings | None = None,
    horizon_months: int = 1,
    cache_dir: Path | None = RANK_CACHE_DIR,
) -> Ranking:
    """Rank study cells by the target occurrences (or harm) expected next.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame or hotspot.ingest.query.StoreQuery
        The canonical occurrence table (points in EPSG:27700), every source and
        crime type: target rows and the other crime used as leading indicators;
        or a store asked through DuckDB (its panel is counted there). Rows after
        ``fit_to`` are never used.
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
    cache_dir : Path or None, keyword-only
        Where validation keeps its outcome (:func:`validate`); None: always
        validate afresh.

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
        raise ParameterError(
            f"target must be a TargetSpec, got {type(target).__name__}"
        )
    if weight not in ("count", "harm"):
        raise ParameterError(f"weight must be 'count' or 'harm', got {weight!r}")
    if not isinstance(horizon_months, int) or horizon_months < 1:
        raise ParameterError(
            f"horizon_months must be an integer >= 1, got {horizon_months!r}"
        )
    fit_to = pd.Timestamp(fit_to)
    missing_cols = {"h3", "csp_code", "csp_name"} - set(cells.columns)
    if missing_cols or len(cells) == 0:
        raise ParameterError(
            f"cells must be non-empty study cells with h3, csp_code, csp_name; "
            f"missing {sorted(missing_cols)}, {len(cells)} rows"
        )
    harm = weight == "harm"
    warnings_: list[str] = []
    panel = build_panel(occurrences, cells, target=target, fit_to=fit_to)
    if not panel.target or not any(s.counts.sum() for s in panel.target.values()):
        raise ParameterError(
            f"no {target.noun} on or before {fit_to:%Y-%m-%d} after the filters "
            f"({panel.left_out})"
        )
    orig = origins(panel)
    if not orig:
        raise ParameterError(
            f"too little history: ranking needs at least {MIN_HISTORY + 1} months "
            f"with data up to {fit_to:%Y-%m-%d}, found months "
            f"{list(panel.months.astype(str))} (missing: {panel.missing})"
        )
    area = cells.geometry.area.to_numpy() / 1e6
    groups = pd.factorize(cells["csp_code"])[0].astype(np.int64)
    if settings is None:
        cands = candidate_settings()
        table = validate(panel, cands, area=area, groups=groups, harm=harm,
                         cache_dir=cache_dir)
        if table["score"].notna().any():
            best = int(table["score"].idxmax())
            settings = table.loc[best, "candidate"]
            chosen_by = (
                f"validation: best of {len(cands)} candidates, mean score "
                f"{table.loc[best, 'score']:.3f} on "
                f"{sum(c.startswith('score_') for c in table.columns)} origins"
            )
        else:
            settings = RankSettings()
            chosen_by = "default: too few months before fit_to to validate"
            warnings_.append(chosen_by)
        table = table.drop(columns="candidate")
    else:
        if not isinstance(settings, RankSettings):
            raise ParameterError(
                "settings must be a RankSettings or None, got "
                f"{type(settings).__name__}"
            )
        table = pd.DataFrame()
        chosen_by = "given"
    x, y, e = stack(panel, orig, settings, harm=harm)
    b = fit_weights(x, y, e, shrinkage=settings.shrinkage)
    final = len(panel.months)
    xf, names = features(panel, final, settings, harm=harm)
    score = horizon_months * (xf @ b)
    coefficients = dict(zip(names, (float(v) for v in b), strict=True))
    out = _table(
        cells,
        panel,
        xf,
        names,
        b,
        score,
        settings=settings,
        target=target,
        horizon=horizon_months,
    )
    if len(orig) < 3:
        warnings_.append(f"only {len(orig)} forecast origin(s) to fit the weights on")
    used = [
        str(m)
        for m, ok in zip(
            panel.months,
            np.any([s.available for s in panel.target.values()], axis=0),
            strict=True,
        )
        if ok
    ]
    logger.info("ranked %d cells (%s; %s)", len(out), settings.label(), chosen_by)
    return Ranking(
        out,
        settings,
        chosen_by,
        table,
        coefficients,
        used,
        panel.missing,
        fit_to,
        horizon_months,
        target,
        weight,
        warnings_,
    )


def _table(
    cells: gpd.GeoDataFrame,
    panel: Panel,
    xf: FloatArray,
    names: list[str],
    b: FloatArray,
    score: FloatArray,
    *,
    settings: RankSettings,
    target: TargetSpec,
    horizon: int,
) -> gpd.GeoDataFrame:
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
    out = pd.DataFrame(
        {
            "h3": cells["h3"].to_numpy(),
            "csp_code": cells["csp_code"].to_numpy(),
            "csp_name": cells["csp_name"].to_numpy(),
            "score": score,
            "count": count.astype(np.int64),
            "harm": harm_sum,
        }
    )
    order = np.lexsort((out["h3"].to_numpy(), -out["count"].to_numpy(), -score))
    rank = np.empty(len(out), dtype=np.int64)
    rank[order] = np.arange(1, len(out) + 1)
    out["rank"] = rank
    out["csp_rank"] = (
        out.groupby("csp_code")["rank"].rank(method="first").astype(np.int64)
    )
    out["reason"] = _reasons(
        count,
        recent,
        other_here,
        xf,
        names,
        b,
        score,
        settings=settings,
        target=target,
        horizon=horizon,
    )
    # Gi* on the same counts, per study area: the evidence, never the order
    study = (
        cells["study_area"].to_numpy()
        if "study_area" in cells.columns
        else cells["csp_code"].to_numpy()
    )
    evidence = gi_star(
        pd.DataFrame({"h3": out["h3"], "study_area": study, "count": count}),
        column="count",
        k=1,
        weights=panel.ring1_within(study),
    )
    out["z"] = evidence["z"].to_numpy()
    out["bin"] = evidence["bin"].to_numpy()
    out = out[list(RANK_COLUMNS)]
    gdf = gpd.GeoDataFrame(out, geometry=cells.geometry.to_numpy(), crs=cells.crs)
    return gdf.sort_values("rank").reset_index(drop=True)


def _n(value: float) -> str:
    return f"{value:.0f}" if value >= 1 or value == 0 else f"{value:.1f}"


def _reasons(
    count: FloatArray,
    recent: FloatArray,
    other: FloatArray,
    xf: FloatArray,
    names: list[str],
    b: FloatArray,
    score: FloatArray,
    *,
    settings: RankSettings,
    target: TargetSpec,
    horizon: int,
) -> list[str]:
    """One sentence per cell: the score and the terms that carry it."""
    contrib = xf * b[None, :]
    noun = target.noun
    window = f"the last {settings.recent_months} months"
    ring_col = names.index("target_ring") if "target_ring" in names else None
    ind_cols = [(i, n) for i, n in enumerate(names) if n in INDICATOR_GROUPS]
    out = []
    per = "month" if horizon == 1 else f"{horizon} months"
    for i in range(len(count)):
        parts = [
            f"{_n(recent[i])} {noun} here in {window} ({_n(count[i])} in all months)"
        ]
        if ind_cols:
            j, name = max(ind_cols, key=lambda c: contrib[i, c[0]])
            if contrib[i, j] > 0:
                months_with = xf[i, j]
                parts.append(
                    f"about {_n(months_with)} {INDICATOR_NOUNS[name]} a month here"
                )
        if ring_col is not None and contrib[i, ring_col] > 0 and xf[i, ring_col] > 0:
            parts.append(f"{_n(xf[i, ring_col])} {noun} a month in the cells around")
        if (
            count[i] == 0
            and other[i] == 0
            and (ring_col is None or xf[i, ring_col] == 0)
        ):
            parts = [f"no {noun} or other crime recorded here; the base rate only"]
        out.append(
            f"Expected {score[i]:.2f} in the next {per}: " + ", ".join(parts) + "."
        )
    return out


def with_settings(ranking: Ranking, **changes: Any) -> RankSettings:
    """Return the settings of a ranking with some fields changed (for a re-run)."""
    return replace(ranking.settings, **changes)


def month_end(text: str) -> pd.Timestamp:
    """Last day of the month of a date text (``2025-06`` or ``2025-06-15``)."""
    period = pd.Period(text, freq="M")
    return pd.Timestamp(period.end_time.normalize())


__all__ = [
    "INDICATOR_GROUPS",
    "Panel",
    "RankSettings",
    "Ranking",
    "TargetSpec",
    "build_panel",
    "candidate_settings",
    "features",
    "fit_weights",
    "month_end",
    "rank_cells",
    "validate",
    "with_settings",
]

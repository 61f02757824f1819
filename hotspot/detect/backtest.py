"""Backtest the ranking: how many later occurrences its cells held.

:func:`backtest` fits the product's ranking (:func:`hotspot.detect.rank.rank_cells`)
on months up to ``train_to``, then counts the target occurrences of the test
period ``[test_from, test_to]`` in the cells it ranks first, and does the same,
**in the same run and on the same cells**, for naive baselines:

- ``count, all training months``: cells by their target count up to ``train_to``;
- ``count, last 3 months``: the same over the last three calendar months;
- ``KDE <h> m``: a quartic kernel density of the training target points at the
  cell centres (:func:`hotspot.detect.kde.kernel_sum_per_m2`, exact), for a few
  fixed bandwidths, and at the bandwidth of the hot-spot rule
  (:func:`hotspot.detect.kde.hotspot_bandwidth_m`, on the training points);
- ``Gi* z (per CSP)``: the map's former top list: cells by Gi* z computed in each
  CSP separately, sorted together (for the record; it is not a forecast).

Figures (:mod:`hotspot.detect.accuracy`): PAI, PEI* and RRI at 0.5/1/2/5% of the
whole area, and per CSP at 5% of each CSP's area, with each CSP's cells ranked
within the CSP. Cell areas are the real hexagon areas in EPSG:27700.

Uncertainty: a seeded bootstrap over **test occurrences** (each replicate draws
``N`` test occurrences with replacement from the observed ones, i.e. a
multinomial over cells) gives 95% percentile intervals of PAI at 1% for the
product and the best baseline, and of their ratio. It shows the noise of a short
test window; it does not cover the fit (the rankings are held fixed).

Rows used: flagged rows (data-quality checks) are left out everywhere, as are
rows located less precisely than a cell; a flagged or empty test month is
reported as missing, not counted as zero.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.detect.accuracy import capture, take_weights
from hotspot.detect.gistar import gi_star
from hotspot.detect.kde import (
    HOTSPOT_NEIGHBOUR_K,
    hotspot_bandwidth_m,
    kernel_sum_per_m2,
)
from hotspot.detect.rank import Ranking, RankSettings, TargetSpec, Weight, rank_cells
from hotspot.errors import ParameterError
from hotspot.grid import points_to_cells
from hotspot.ingest.quality import PRECISE_METHODS, flagged

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: Area shares of the HIPS-wide table.
SHARES: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05)
#: Area share of each CSP in the per-CSP table.
CSP_SHARE = 0.05
#: Fixed KDE bandwidths of the baselines, metres.
KDE_BANDWIDTHS_M: tuple[float, ...] = (300.0, 600.0, 1000.0)
#: Name of the KDE baseline whose bandwidth follows the hot-spot rule.
KDE_RULE = "KDE nearest-neighbour rule"
#: Name of the product's ranking in the tables.
PRODUCT = "product: expected count"


@dataclass
class Backtest:
    """What :func:`backtest` returns.

    Attributes
    ----------
    hips : pandas.DataFrame
        One row per ranking and area share: ``ranking``, ``share``, ``cells``,
        ``area_km2``, ``hits``, ``total``, ``hit_rate``, ``pai``, ``pei_star``,
        ``rri``.
    per_csp : pandas.DataFrame
        One row per ranking and CSP at :data:`CSP_SHARE`: the same figures.
    summary : pandas.DataFrame
        One row per ranking: PAI and PEI* at 1% HIPS-wide, median per-CSP PAI and
        PEI* at 5%.
    bootstrap : dict
        Intervals (see the module docstring): ``product``, ``baseline``,
        ``ratio`` (each (low, high)), ``p_product_better``, ``replicates``,
        ``seed``, ``best_baseline``.
    reading : list of str
        The result in plain English.
    ranking : Ranking
        The product's ranking (settings, validation, weights).
    test_months, test_months_missing : list of str
        Months of the test period with data, and without.
    warnings : list of str
    """

    hips: pd.DataFrame
    per_csp: pd.DataFrame
    summary: pd.DataFrame
    bootstrap: dict[str, Any]
    reading: list[str]
    ranking: Ranking
    test_months: list[str]
    test_months_missing: list[str]
    rows_used: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """Return the HIPS-wide figures wide: a row per ranking, figures per share."""
        wide = self.hips.pivot(
            index="ranking", columns="share", values=["pai", "pei_star", "rri"]
        )
        wide.columns = [f"{m}@{s:.1%}" for m, s in wide.columns]
        order = self.summary["ranking"].tolist()
        return wide.reindex(order)


def _clean_target(
    occurrences: gpd.GeoDataFrame,
    *,
    target: TargetSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp,
) -> gpd.GeoDataFrame:
    """Target rows dated in [start, end] (days inclusive), unflagged, precise."""
    occ = occurrences
    when = pd.to_datetime(occ["occurred_from"])
    keep = target.mask(occ) & (when < end + pd.Timedelta(days=1)).to_numpy()
    if start is not None:
        keep &= (when >= start).to_numpy()
    keep &= ~flagged(occ).to_numpy()
    keep &= (
        occ["geocode_method"]
        .astype("string")
        .isin(PRECISE_METHODS)
        .fillna(False)
        .to_numpy()
    )
    geom = occ.geometry
    keep &= ~(geom.isna() | geom.is_empty).to_numpy()
    return occ[keep]


def _cell_counts(points: gpd.GeoDataFrame, cells: gpd.GeoDataFrame) -> FloatArray:
    if len(points) == 0:
        return np.zeros(len(cells))
    import h3

    res = h3.get_resolution(str(cells["h3"].iloc[0]))
    pos = pd.Index(cells["h3"]).get_indexer(
        points_to_cells(points, resolution=res).fillna("").to_numpy()
    )
    return np.bincount(pos[pos >= 0], minlength=len(cells)).astype(np.float64)


def _months_with_data(
    occurrences: gpd.GeoDataFrame,
    *,
    target: TargetSpec,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> tuple[list[str], list[str]]:
    """Months of [start, end] with clean target-source rows, and missing ones.

    A month is missing for a source when the source has no clean row in it
    while it has rows before it; missing months are listed as ``month (source)``.
    """
    occ = occurrences
    sources = target.sources or tuple(
        occ.loc[target.mask(occ), "source"].astype("string").dropna().unique()
    )
    when = pd.to_datetime(occ["occurred_from"])
    clean = ~flagged(occ).to_numpy()
    months = [
        str(m)
        for m in pd.period_range(start.to_period("M"), end.to_period("M"), freq="M")
    ]
    have_any: set[str] = set()
    missing: list[str] = []
    for src in sorted(sources):
        mine = (occ["source"].astype("string") == src).fillna(False).to_numpy()
        have = set(when[mine & clean].dt.to_period("M").astype(str))
        started = bool((when[mine & clean] < start).any())
        have_any |= have
        missing += [f"{m} ({src})" for m in months if m not in have and started]
    return [m for m in months if m in have_any], missing


def baselines(
    occurrences: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    target: TargetSpec,
    train_to: pd.Timestamp,
    kde_bandwidths_m: tuple[float, ...] = KDE_BANDWIDTHS_M,
    gistar: bool = True,
    notes: dict[str, str] | None = None,
) -> dict[str, FloatArray]:
    """Score cells by the naive baselines (higher first), fitted up to ``train_to``.

    Parameters
    ----------
    occurrences, cells
        As for :func:`backtest`.
    target : TargetSpec, keyword-only
        The rows counted.
    train_to : pandas.Timestamp, keyword-only
        Last day read (inclusive).
    kde_bandwidths_m : tuple of float, keyword-only
        Fixed KDE bandwidths, metres.
    gistar : bool, keyword-only
        Add the Gi* z baseline.
    notes : dict, optional, keyword-only
        Filled with how data-driven baselines chose their settings (the
        nearest-neighbour bandwidth and why).

    Returns
    -------
    dict of str to ndarray
        Baseline name to a score per cell (in the order of ``cells``).
    """
    train = _clean_target(occurrences, target=target, start=None, end=train_to)
    out: dict[str, FloatArray] = {}
    out["count, all training months"] = _cell_counts(train, cells)
    last = train_to.to_period("M")
    if train_to.normalize() < last.end_time.normalize():
        last = last - 1
    start3 = (last - 2).start_time
    recent = train[pd.to_datetime(train["occurred_from"]) >= start3]
    out["count, last 3 months"] = _cell_counts(recent, cells)
    centres = cells.geometry.centroid
    at = np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])
    pts = np.column_stack([train.geometry.x.to_numpy(), train.geometry.y.to_numpy()])
    for h in kde_bandwidths_m:
        out[f"KDE {h:.0f} m"] = (
            kernel_sum_per_m2(at, pts, bandwidth_m=h, cell_size_hint_m=300.0) * 1e6
        )
    if len(pts) > HOTSPOT_NEIGHBOUR_K:
        rule = hotspot_bandwidth_m(pts)
        out[KDE_RULE] = (
            kernel_sum_per_m2(
                at, pts, bandwidth_m=rule.bandwidth_m, cell_size_hint_m=300.0
            )
            * 1e6
        )
        logger.info("baseline %s: %s", KDE_RULE, rule.reason)
        if notes is not None:
            notes[KDE_RULE] = rule.reason
    if gistar:
        study = (
            cells["study_area"] if "study_area" in cells.columns else cells["csp_code"]
        )
        table = pd.DataFrame(
            {
                "h3": cells["h3"].to_numpy(),
                "study_area": study.to_numpy(),
                "count": out["count, all training months"],
            }
        )
        z = gi_star(table, column="count", k=1)["z"].to_numpy(dtype=np.float64)
        out["Gi* z (per CSP)"] = z
    return out


def _figures(
    name: str,
    score: FloatArray,
    obs: FloatArray,
    train: FloatArray,
    area: FloatArray,
    share: float,
) -> dict[str, Any]:
    c = capture(score, obs, area, share=share, train=train)
    return {
        "ranking": name,
        "share": share,
        "cells": c.cells,
        "area_km2": c.area,
        "hits": c.hits,
        "total": c.total,
        "hit_rate": c.hit_rate,
        "pai": c.pai,
        "pei_star": c.pei_star,
        "rri": c.rri,
    }


def backtest(
    occurrences: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    train_to: pd.Timestamp,
    test_from: pd.Timestamp,
    test_to: pd.Timestamp,
    target: TargetSpec,
    weight: Weight = "count",
    settings: RankSettings | None = None,
    shares: tuple[float, ...] = SHARES,
    csp_share: float = CSP_SHARE,
    kde_bandwidths_m: tuple[float, ...] = KDE_BANDWIDTHS_M,
    replicates: int = 1000,
    seed: int = 12,
) -> Backtest:
    """Score the product's ranking and naive baselines on a later test period.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        The canonical occurrence table (every source and crime type).
    cells : geopandas.GeoDataFrame
        Study cells (:func:`hotspot.grid.study_cells`).
    train_to : pandas.Timestamp, keyword-only
        Last day the rankings may see (whole months up to it).
    test_from, test_to : pandas.Timestamp, keyword-only
        Test period, days inclusive; must start after ``train_to``.
    target : TargetSpec, keyword-only
        The occurrences forecast and counted.
    weight : {"count", "harm"}, keyword-only
        Weight of the product's ranking (test hits are always occurrences).
    settings : RankSettings or None, keyword-only
        Settings of the product's ranking; ``None`` chooses them by validation
        on months up to ``train_to``.
    shares : tuple of float, keyword-only
        Area shares of the HIPS-wide table.
    csp_share : float, keyword-only
        Area share of each CSP in the per-CSP table.
    kde_bandwidths_m : tuple of float, keyword-only
        Bandwidths of the KDE baselines, metres.
    replicates : int, keyword-only
        Bootstrap replicates (0 for none).
    seed : int, keyword-only
        Seed of the bootstrap.

    Returns
    -------
    Backtest

    Raises
    ------
    ParameterError
        When the periods overlap or are out of order, or no test occurrence is left.
    """
    train_to, test_from, test_to = (
        pd.Timestamp(t) for t in (train_to, test_from, test_to)
    )
    if test_from <= train_to:
        raise ParameterError(
            f"test_from must be after train_to, got test_from {test_from:%Y-%m-%d} and "
            f"train_to {train_to:%Y-%m-%d}"
        )
    if test_to < test_from:
        raise ParameterError(
            f"test_to must not be before test_from, got {test_to:%Y-%m-%d} < "
            f"{test_from:%Y-%m-%d}"
        )
    if not isinstance(replicates, int) or replicates < 0:
        raise ParameterError(f"replicates must be an integer >= 0, got {replicates!r}")
    warnings_: list[str] = []
    ranking = rank_cells(
        occurrences,
        cells,
        target=target,
        fit_to=train_to,
        weight=weight,
        settings=settings,
    )
    order = pd.Index(ranking.cells["h3"]).get_indexer(cells["h3"])
    scores = {PRODUCT: ranking.cells["score"].to_numpy()[order]}
    notes: dict[str, str] = {}
    scores.update(
        baselines(
            occurrences,
            cells,
            target=target,
            train_to=train_to,
            kde_bandwidths_m=kde_bandwidths_m,
            notes=notes,
        )
    )
    test = _clean_target(occurrences, target=target, start=test_from, end=test_to)
    obs = _cell_counts(test, cells)
    if obs.sum() <= 0:
        raise ParameterError(
            f"no {target.noun} in the study cells from {test_from:%Y-%m-%d} to "
            f"{test_to:%Y-%m-%d} after the data-quality filters"
        )
    months_ok, months_missing = _months_with_data(
        occurrences, target=target, start=test_from, end=test_to
    )
    if months_missing:
        warnings_.append(
            "test months with no usable data (missing, not zero): "
            + ", ".join(months_missing)
        )
    train = scores["count, all training months"]
    area = cells.geometry.area.to_numpy() / 1e6
    rows = [
        _figures(name, s, obs, train, area, sh)
        for name, s in scores.items()
        for sh in shares
    ]
    hips = pd.DataFrame(rows)
    csp_rows = []
    codes = cells["csp_code"].astype(str).to_numpy()
    names = dict(zip(codes, cells["csp_name"].astype(str), strict=False))
    for code in sorted(set(codes)):
        m = codes == code
        for name, s in scores.items():
            row = _figures(name, s[m], obs[m], train[m], area[m], csp_share)
            row.update(csp_code=code, csp_name=names[code])
            csp_rows.append(row)
    per_csp = pd.DataFrame(csp_rows)
    one = 0.01 if 0.01 in shares else shares[0]
    summary = _summary(hips, per_csp, one)
    boot = _bootstrap(
        scores, obs, area, share=one, summary=summary, replicates=replicates, seed=seed
    )
    reading = _reading(
        summary,
        boot,
        share=one,
        csp_share=csp_share,
        n_test=int(obs.sum()),
        months=months_ok,
        missing=months_missing,
        target=target,
    )
    used = {
        "test_occurrences": int(obs.sum()),
        "test_rows_outside_cells": int(len(test) - obs.sum()),
        "train_occurrences": int(train.sum()),
        "sources": list(target.sources) or "all",
        "baseline_notes": notes,
    }
    return Backtest(
        hips,
        per_csp,
        summary,
        boot,
        reading,
        ranking,
        months_ok,
        months_missing,
        used,
        warnings_ + ranking.warnings,
    )


def _summary(hips: pd.DataFrame, per_csp: pd.DataFrame, one: float) -> pd.DataFrame:
    at = hips[np.isclose(hips["share"], one)].set_index("ranking")
    med = per_csp.groupby("ranking", sort=False).agg(
        csp_median_pai=("pai", "median"), csp_median_pei_star=("pei_star", "median")
    )
    out = pd.DataFrame(
        {
            "ranking": at.index,
            "pai": at["pai"].to_numpy(),
            "pei_star": at["pei_star"].to_numpy(),
            "rri": at["rri"].to_numpy(),
        }
    )
    out = out.merge(med, left_on="ranking", right_index=True, how="left")
    return out.reset_index(drop=True)


def _bootstrap(
    scores: dict[str, FloatArray],
    obs: FloatArray,
    area: FloatArray,
    *,
    share: float,
    summary: pd.DataFrame,
    replicates: int,
    seed: int,
) -> dict[str, Any]:
    base = summary[summary["ranking"] != PRODUCT]
    if base.empty:
        return {}
    best = str(base.loc[base["pai"].idxmax(), "ranking"])
    out: dict[str, Any] = {
        "best_baseline": best,
        "replicates": replicates,
        "seed": seed,
        "share": share,
    }
    if replicates == 0:
        return out
    n = int(obs.sum())
    hit_cells = np.flatnonzero(obs > 0)
    p = obs[hit_cells] / n
    wp = take_weights(scores[PRODUCT], area, share=share)[hit_cells]
    wb = take_weights(scores[best], area, share=share)[hit_cells]
    a_share = share  # the cells taken cover exactly this share of the area
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, p, size=replicates).astype(np.float64)
    pai_p = (draws @ wp) / n / a_share
    pai_b = (draws @ wb) / n / a_share
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = pai_p / pai_b
    q = (2.5, 97.5)
    out.update(
        product=tuple(float(v) for v in np.percentile(pai_p, q)),
        baseline=tuple(float(v) for v in np.percentile(pai_b, q)),
        ratio=tuple(float(v) for v in np.nanpercentile(ratio, q)),
        p_product_better=float(np.mean(pai_p > pai_b)),
    )
    return out


def _reading(
    summary: pd.DataFrame,
    boot: dict[str, Any],
    *,
    share: float,
    csp_share: float,
    n_test: int,
    months: list[str],
    missing: list[str],
    target: TargetSpec,
) -> list[str]:
    s = summary.set_index("ranking")
    prod = s.loc[PRODUCT]
    lines = [
        f"Test period: {n_test} {target.noun} in {', '.join(months) or 'no month'}"
        + (
            f" ({', '.join(missing)} missing: no usable data, not counted as zero)"
            if missing
            else ""
        )
        + "."
    ]
    hit = prod["pai"] * share
    lines.append(
        f"The product's top {share:.0%} of the area held {hit:.0%} of them "
        f"(PAI {prod['pai']:.1f}); the best possible with as many cells held "
        f"{hit / prod['pei_star']:.0%} (PEI* {prod['pei_star']:.2f})."
        if prod["pei_star"] > 0
        else f"The product's top {share:.0%} of the area held {hit:.0%} of them "
        f"(PAI {prod['pai']:.1f})."
    )
    best = str(boot.get("best_baseline", ""))
    if best:
        b = s.loc[best]
        gain = prod["pai"] / b["pai"] - 1 if b["pai"] > 0 else float("nan")
        lines.append(
            f"The best naive baseline, {best}, reached PAI {b['pai']:.1f}: the product "
            f"is {gain:+.0%} against it at {share:.0%} of the area."
        )
        cg = prod["csp_median_pai"] / b["csp_median_pai"] - 1
        lines.append(
            f"Within each CSP at {csp_share:.0%} of its area, the median PAI is "
            f"{prod['csp_median_pai']:.1f} for the product and "
            f"{b['csp_median_pai']:.1f} for {best} ({cg:+.0%})."
        )
    if "product" in boot:
        lo, hi = boot["product"]
        blo, bhi = boot["baseline"]
        rlo, rhi = boot["ratio"]
        lines.append(
            f"Resampling the test occurrences ({boot['replicates']} times, seed "
            f"{boot['seed']}), PAI at {share:.0%} ranges {lo:.1f}-{hi:.1f} for the "
            f"product and {blo:.1f}-{bhi:.1f} for {best} (95%); the ratio ranges "
            f"{rlo:.2f}-{rhi:.2f} and the product is ahead in "
            f"{boot['p_product_better']:.0%} of the replicates: a short test window "
            "is noisy, so small differences are not evidence."
        )
    if "Gi* z (per CSP)" in s.index:
        g = s.loc["Gi* z (per CSP)"]
        lines.append(
            f"Sorting Gi* z from separate CSPs together (the former top list) gave "
            f"PAI {g['pai']:.1f}: significance is not a forecast."
        )
    return lines

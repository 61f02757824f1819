"""The analysis core: selected rows + study cells + settings → a packaged result.

Every surface that shows hot spots (the map, ``hotspot detect``, exports,
briefings, operations created from hot spots, fire co-location) calls these
functions, so one view gives the same cells, counts and warnings everywhere:

* :func:`hotspots` — Gi* per study area, ranks, explanations, every warning
  (sparse counts, the permutation floor, untested cells); its second half,
  :func:`hotspots_counted`, starts from counted cells (a store's counts in
  DuckDB, :class:`hotspot.ingest.query.StoreQuery`);
* :func:`emerging` — emerging hot spots over the periods of the data;
* :func:`density` — the kernel density surface (of rows, or of a store's
  occurrences gathered at their locations).

Rows come from :func:`hotspot.selection.select`; cells from
:func:`hotspot.grid.study_cells`. Nothing here reads files or knows about
Streamlit or argparse.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from hotspot.detect.explain import explain_emerging, explain_gistar, hot_cold_rank
from hotspot.detect.gistar import DEFAULT_PERMUTATIONS, gi_star
from hotspot.detect.locations import PointCounts
from hotspot.detect.result import DetectResult
from hotspot.errors import ParameterError
from hotspot.grid import HIPS_AREA, count_cells, count_points
from hotspot.settings import AnalysisSettings

if TYPE_CHECKING:
    from hotspot.detect.emerging import PeriodCounts

logger = logging.getLogger(__name__)

#: What each category is called in explanations: (singular, plural).
CATEGORY_NOUNS: dict[str, tuple[str, str]] = {
    "robbery": ("robbery", "robberies"),
    "possession_of_weapons": ("weapon possession offence",
                              "weapon possession offences"),
    "most_serious_violence": ("most serious violence offence",
                              "most serious violence offences"),
    "violent_disorder": ("violent disorder offence", "violent disorder offences"),
    "bladed_violence_with_injury": ("bladed violence offence",
                                    "bladed violence offences"),
}
DEFAULT_NOUN: tuple[str, str] = ("serious-violence occurrence",
                                 "serious-violence occurrences")
#: Mean value per cell below which the normal approximation is flagged as poor.
SPARSE_MEAN = 0.1
GISTAR_OUTPUT: tuple[str, ...] = (
    "h3", "csp_code", "csp_name", "study_area", "count", "harm", "neighbours", "edge",
    "neighbour_sum", "area_mean", "z", "p_norm", "p_sim", "p", "p_fdr", "bin",
    "significant", "rank", "explanation",
)
EMERGING_OUTPUT: tuple[str, ...] = (
    "h3", "csp_code", "csp_name", "study_area", "count", "harm", "n_periods",
    "hot_periods", "cold_periods", "final_z", "trend_z", "trend_p", "category",
    "explanation",
)


def noun_for(categories: tuple[str, ...] | list[str] | None) -> tuple[str, str]:
    """Return what explanations call an occurrence, given the categories."""
    if categories and len(categories) == 1:
        return CATEGORY_NOUNS.get(categories[0], DEFAULT_NOUN)
    return DEFAULT_NOUN


def area_names(cells: pd.DataFrame) -> dict[str, str]:
    """Study-area code → name (CSP names; ``HIPS`` for the one-area scope)."""
    names = dict(zip(cells["csp_code"], cells["csp_name"], strict=False))
    names[HIPS_AREA] = "HIPS"
    return names


def period_of(rows: pd.DataFrame, *, start: str | None = None,
              end: str | None = None) -> tuple[str | None, str | None]:
    """Return the period an analysis covers: the asked one, else the data's."""
    when = pd.to_datetime(rows["occurred_from"]) if len(rows) else pd.Series([])
    first = start or (f"{when.min():%Y-%m}" if len(when) else None)
    last = end or (f"{when.max():%Y-%m}" if len(when) else None)
    return first, last


def _new_result(method: str, settings: AnalysisSettings, *, filters: dict[str, Any],
                period: tuple[str | None, str | None]) -> DetectResult:
    params: dict[str, Any] = {"scope": settings.scope, "grouping": settings.grouping}
    if method in ("gistar", "emerging"):
        params.update(resolution=settings.resolution, k=settings.k,
                      alpha=settings.alpha, fdr=settings.fdr, weight=settings.weight)
    if method == "gistar":
        params.update(permutations=settings.permutations, seed=settings.seed)
    if method == "kde":
        params.update(cell_size_m=settings.cell_size_m, weight=settings.weight)
    return DetectResult(method=method, parameters=params, filters=dict(filters),
                        data_from=period[0], data_to=period[1])


def _counts(result: DetectResult, n_rows: int, counted: gpd.GeoDataFrame) -> None:
    result.counts.update(
        occurrences_in=n_rows,
        occurrences_counted=int(counted["count"].sum()),
        outside_study_cells=int(counted.attrs.get("points_outside", 0)),
        cells=len(counted),
        zero_cells=int((counted["count"] == 0).sum()),
        study_areas=int(counted["study_area"].nunique()),
    )


def hotspots(
    rows: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    settings: AnalysisSettings,
    *,
    weights: sparse.csr_array | None = None,
    filters: dict[str, Any] | None = None,
    period: tuple[str | None, str | None] | None = None,
    noun: tuple[str, str] = DEFAULT_NOUN,
    drawn_only: bool = False,
    progress: bool = False,
) -> DetectResult:
    """Gi* per study area on the selected rows, with ranks, explanations, warnings.

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        Selected occurrences (:func:`hotspot.selection.select`), points in
        EPSG:27700, with ``harm_weight``.
    cells : geopandas.GeoDataFrame
        Study cells (:func:`hotspot.grid.study_cells`) at ``settings.resolution``.
    settings : AnalysisSettings
        k, alpha, FDR, weight, permutations and seed.
    weights : scipy.sparse.csr_array, optional, keyword-only
        Pre-built :func:`~hotspot.detect.gistar.ring_weights` of ``cells`` (a
        cache); built here when None.
    filters : dict, optional, keyword-only
        Filters applied to the rows, recorded in the result.
    period : (str or None, str or None), optional, keyword-only
        The period asked for; the data's own when None.
    noun : (str, str), keyword-only
        What an occurrence is called in explanations (:func:`noun_for`).
    drawn_only : bool, keyword-only
        Keep (and explain) only the cells a map draws: significant ones and
        those holding an occurrence. Ranks, totals and warnings count every cell.
    progress : bool, keyword-only
        Progress bars for permutations.

    Returns
    -------
    DetectResult
        ``cells`` holds :data:`GISTAR_OUTPUT`; ``counts``, ``warnings`` and the
        automatically chosen parameters (the seed) filled in.
    """
    return hotspots_counted(
        count_points(rows, cells, weight="harm_weight"), settings, n_rows=len(rows),
        weights=weights, filters=filters, period=period or period_of(rows),
        noun=noun, drawn_only=drawn_only, progress=progress)


def hotspots_counted(
    counted: gpd.GeoDataFrame,
    settings: AnalysisSettings,
    *,
    n_rows: int,
    period: tuple[str | None, str | None],
    weights: sparse.csr_array | None = None,
    filters: dict[str, Any] | None = None,
    noun: tuple[str, str] = DEFAULT_NOUN,
    drawn_only: bool = False,
    progress: bool = False,
) -> DetectResult:
    """Gi* per study area on counted study cells: :func:`hotspots` after counting.

    ``counted`` holds the study cells with ``count`` and ``harm`` (and the
    ``attrs`` :func:`hotspot.grid.count_points` sets), from the rows
    (:func:`~hotspot.grid.count_points`) or from a store's counts in DuckDB
    (:func:`~hotspot.grid.count_cells`); ``n_rows`` is how many rows were
    counted. The other arguments are :func:`hotspots`'.
    """
    result = _new_result("gistar", settings, filters=filters or {}, period=period)
    seed = settings.seed
    if settings.permutations and seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        result.choose("seed", seed, "no seed given: drawn so the run can be "
                      "repeated with --seed")
    table = gi_star(counted, column=settings.weight, k=settings.k,
                    alpha=settings.alpha, fdr=settings.fdr,
                    permutations=settings.permutations, seed=seed,
                    weights=weights, progress=progress)
    table["rank"] = hot_cold_rank(table)
    names = area_names(table)
    _counts(result, n_rows, counted)
    result.counts.update(hot_cells=int((table["bin"] > 0).sum()),
                         cold_cells=int((table["bin"] < 0).sum()),
                         untested_cells=int(table["z"].isna().sum()))
    _gistar_warnings(result, table, settings, names)
    if drawn_only:
        table = table[(table["bin"] != 0) | (table["count"] > 0)].copy()
    table["explanation"] = explain_gistar(
        table, column=settings.weight, noun=noun, area_names=names,
        fdr=settings.fdr, permutations=settings.permutations,
    )
    for name in GISTAR_OUTPUT:
        if name not in table.columns:
            table[name] = np.nan
    result.cells = gpd.GeoDataFrame(table[list(GISTAR_OUTPUT)],
                                    geometry=table.geometry, crs=table.crs)
    return result


def _gistar_warnings(result: DetectResult, table: pd.DataFrame,
                     settings: AnalysisSettings, names: dict[str, str]) -> None:
    n_cells = len(table)
    untested = result.counts["untested_cells"]
    if n_cells and untested == n_cells:
        result.warn("No cell has a defined Gi*: too few occurrences for this view.")
    elif untested:
        result.warn(f"{untested} cells have no defined Gi* (no variation in their "
                    "study area)")
    if not settings.permutations:
        means = table.groupby("study_area")["area_mean"].first()
        sparse_areas = means[means < SPARSE_MEAN]
        if len(sparse_areas):
            result.warn(
                "the normal approximation of Gi* overstates z where counts are "
                f"sparse (mean below {SPARSE_MEAN} per cell) in "
                + ", ".join(names.get(a, a) for a in sparse_areas.index)
                + f": check these with {DEFAULT_PERMUTATIONS} permutations"
            )
    elif settings.fdr:
        tested = table.groupby("study_area")["p"].count()
        floor = 2 / (settings.permutations + 1)
        limited = tested[floor * tested > settings.alpha]
        if len(limited):
            result.warn(
                f"with {settings.permutations} permutations the smallest p is "
                f"{floor:.4f}, so after the false-discovery adjustment over "
                "thousands of cells few cells can reach significance in "
                + ", ".join(names.get(a, a) for a in limited.index)
                + ": consider 9999 permutations"
            )


def emerging(
    rows: gpd.GeoDataFrame | PeriodCounts,
    cells: gpd.GeoDataFrame,
    settings: AnalysisSettings,
    *,
    period: str | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    filters: dict[str, Any] | None = None,
    noun: tuple[str, str] = DEFAULT_NOUN,
    progress: bool = False,
) -> DetectResult:
    """Emerging hot spots per study area (time step chosen when ``period`` is None).

    Returns a :class:`DetectResult` whose ``cells`` hold :data:`EMERGING_OUTPUT`
    and whose ``extra["periods"]`` lists the time steps. ``rows`` may be the
    selected rows or the same counted by cell and day in a store
    (:class:`~hotspot.detect.emerging.PeriodCounts`).
    """
    from hotspot.detect.emerging import PeriodCounts, emerging_hot_spots

    if settings.permutations:
        raise ParameterError("permutations apply to Gi* only; the trend analysis "
                             "uses the normal approximation")
    if isinstance(rows, PeriodCounts):
        first = None if rows.first is None else f"{rows.first:%Y-%m}"
        last = None if rows.last is None else f"{rows.last:%Y-%m}"
        n_rows = int(rows.n.sum())
        counted = count_cells(cells, pd.DataFrame({
            "h3": pd.Series(rows.cell, dtype=object).fillna(""), "count": rows.n,
            "harm": rows.harm, "no_weight": 0}))
    else:
        first, last = period_of(rows)
        n_rows = len(rows)
        counted = count_points(rows, cells, weight="harm_weight")
    result = _new_result("emerging", settings, filters=filters or {},
                         period=(f"{start:%Y-%m-%d}" if start is not None else first,
                                 f"{end:%Y-%m-%d}" if end is not None else last))
    out = emerging_hot_spots(
        rows, cells, period=period, column=settings.weight, weight="harm_weight",
        k=settings.k, alpha=settings.alpha, fdr=settings.fdr, start=start, end=end,
        progress=progress,
    )
    if out.choice.automatic:
        result.choose("period", out.choice.period, out.choice.reason)
    else:
        result.parameters["period"] = out.choice.period
    for message in out.warnings:
        result.warn(message)
    table = out.cells
    table["explanation"] = explain_emerging(
        table, period=out.choice.period, column=settings.weight, noun=noun,
        alpha=settings.alpha,
    )
    result.cells = gpd.GeoDataFrame(table[list(EMERGING_OUTPUT)],
                                    geometry=table.geometry, crs=table.crs)
    result.extra["periods"] = out.periods
    _counts(result, n_rows, counted)
    tally = table["category"].value_counts()
    result.counts.update({str(k): int(v) for k, v in tally.items()})
    return result


def density(
    rows: gpd.GeoDataFrame | PointCounts,
    area: Any,
    settings: AnalysisSettings,
    *,
    filters: dict[str, Any] | None = None,
    period: tuple[str | None, str | None] | None = None,
) -> tuple[Any, DetectResult]:
    """Kernel density of the rows over ``area``: the surface and its result.

    ``rows`` may be the selected rows or, from a store, the same occurrences
    gathered at their locations (:class:`~hotspot.detect.kde.PointCounts`, its
    weights the harm sums when ``settings.weight`` is harm; ``period`` must
    then be given): the surface is the same.

    Returns
    -------
    surface : hotspot.detect.kde.KDESurface
        The raster (occurrences per km²) with its transform and bandwidth.
    result : DetectResult
        Parameters (the bandwidth with its reason when chosen), counts, warnings.
    """
    from hotspot.detect.kde import kde_surface

    counted = isinstance(rows, PointCounts)
    if counted and period is None:
        raise ParameterError("density of PointCounts needs the period")
    result = _new_result("kde", settings, filters=filters or {},
                         period=period or period_of(rows))
    surface = kde_surface(rows, area=area, cell_size_m=settings.cell_size_m,
                          bandwidth_m=settings.bandwidth_m,
                          weights="harm_weight" if settings.weight == "harm"
                          and not counted else None)
    if surface.bandwidth_auto:
        result.choose("bandwidth_m", round(float(surface.bandwidth_m), 1),
                      surface.bandwidth_reason)
    else:
        result.parameters["bandwidth_m"] = float(surface.bandwidth_m)
    for message in surface.warnings:
        result.warn(message)
    n_in = int(rows.count.sum()) if isinstance(rows, PointCounts) else len(rows)
    result.counts = {"occurrences_in": n_in,
                     "occurrences_counted": int(surface.n_points),
                     "outside_area": int(surface.n_points_outside)}
    result.extra["raster_shape"] = list(surface.shape)
    return surface, result

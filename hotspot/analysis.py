"""One entry point from a view to its analysis: the rows, the cells, Gi*, warnings.

:func:`analyse` is what every surface asks for "the hot spots of this view":
the map (through its caches), ``hotspot detect``, exports and briefings, the
operations that start from hot spots. It applies the one selection rule
(:mod:`hotspot.selection`) and the analysis core (:mod:`hotspot.detect.analyse`)
and returns an :class:`Analysis` whose warnings and notes reach every surface.

The occurrences are a table in memory (the map's store) or a store asked
through DuckDB (:class:`hotspot.ingest.query.StoreQuery`: ``hotspot detect`` on
a partitioned store). Either way one counting step (:func:`count_view`) gives
the study cells their counts, or the density its points, and the same core
runs on them: from a store, only counts per cell and month, and points gathered
at their locations, reach Python, never the rows.

Why this module is long: it is the one door from a view to every analysis a
surface shows (hot spots, emerging, density, ranking, backtest, plans, training
hot spots), each applying the same selection and counting steps; splitting it
would give surfaces two doors.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeAlias

import geopandas as gpd
import pandas as pd
from scipy import sparse

from hotspot.detect.analyse import hotspots_counted, noun_for
from hotspot.detect.result import DetectResult
from hotspot.errors import ParameterError
from hotspot.geocode.precision import h3_edge_m
from hotspot.ingest.query import StoreQuery, Tally
from hotspot.selection import Selected, Selection, select
from hotspot.settings import GROUPING_LABELS
from hotspot.view import ALL_CSPS, FLAG_FILTERS, View, check_view

#: What analyses count from: the occurrence table, or a store asked through DuckDB.
Source: TypeAlias = "gpd.GeoDataFrame | StoreQuery"


@dataclass
class Analysis:
    """A view's rows and hot spots.

    Attributes
    ----------
    view : View
        What was asked.
    selected : Selected
        The view's rows (its CSP filter applied): the CSP's own totals, tables
        and charts use these.
    counted : Selected
        The rows counted over the study cells (no CSP filter: a CSP's cells
        count every point inside them).
    csps : geopandas.GeoDataFrame
        The CSPs of the view.
    result : DetectResult
        Gi* over the study cells, with its counts, warnings and notes.
    """

    view: View
    selected: Selected | Tally
    counted: Selected | Tally
    csps: gpd.GeoDataFrame
    result: DetectResult
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> gpd.GeoDataFrame:
        """The view's rows (see :attr:`selected`).

        Raises
        ------
        ParameterError
            When the analysis was counted in a store (:class:`Tally`): its rows
            were never loaded.
        """
        return _rows_of(self.selected)

    @property
    def counted_rows(self) -> gpd.GeoDataFrame:
        """The rows counted over the study cells (see :attr:`counted`).

        Raises
        ------
        ParameterError
            As :attr:`rows`.
        """
        return _rows_of(self.counted)

    @property
    def synthetic(self) -> bool:
        """True when any selected occurrence is SYNTHETIC."""
        return self.selected.synthetic

    @property
    def warnings(self) -> list[str]:
        """Every warning of the analysis, for every surface that shows it."""
        return list(self.result.warnings)

    def view_cells(self) -> gpd.GeoDataFrame:
        """Return the Gi* cells of the view's CSPs (every cell for all of HIPS)."""
        cells = self.result.cells
        if cells is None:
            raise ParameterError("the analysis has no cell table")
        codes = self.selected.selection.csps
        return cells if not codes else cells[cells["csp_code"].isin(codes)]


def _rows_of(chosen: Selected | Tally) -> gpd.GeoDataFrame:
    if isinstance(chosen, Tally):
        raise ParameterError("this analysis was counted in the store: its rows "
                             "were not loaded")
    return chosen.rows


def analyse(
    occurrences: Source,
    view: View,
    *,
    csps: gpd.GeoDataFrame | None = None,
    cells: gpd.GeoDataFrame | None = None,
    weights: sparse.csr_array | None = None,
    drawn_only: bool = False,
    progress: bool = False,
    selector: Callable[[Selection], Selected] | None = None,
    require_rows: bool = False,
) -> Analysis:
    """Select the view's rows and find its hot spots.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame or StoreQuery
        The canonical occurrence table (a store), not modified; or a store
        asked through DuckDB (the analysis then holds :class:`Tally` accounts,
        not rows).
    view : View
        Selection and settings (checked here).
    csps : geopandas.GeoDataFrame, optional, keyword-only
        The CSPs to analyse; default the view's CSP (or all) of its grouping.
        Several CSPs (the command line's repeated ``--csp``) select their rows.
    cells, weights : optional, keyword-only
        Study cells and their ring weights when the caller caches them (the
        app); built from ``csps`` otherwise.
    drawn_only : bool, keyword-only
        Keep only the cells a map draws (see :func:`hotspot.detect.analyse.hotspots`).
    progress : bool, keyword-only
        Progress bars.
    selector : callable, optional, keyword-only
        ``selection -> Selected`` when the caller caches selections (the app);
        :func:`hotspot.selection.select` on ``occurrences`` otherwise.
    require_rows : bool, keyword-only
        Raise ParameterError when no row is left (the command line); the map
        shows an empty analysis with its warning instead.

    Returns
    -------
    Analysis
    """
    from hotspot.grid import study_cells

    all_csps, csps, counted, selected = _prepare(occurrences, view, csps, selector,
                                                 require_rows)
    settings = view.settings()
    if cells is None:
        area = csps if settings.scope == "csp" else all_csps
        cells = study_cells(area, resolution=settings.resolution,
                            scope=settings.scope, progress=progress)
    result = hotspots_counted(
        count_view(occurrences, counted, cells=cells, resolution=settings.resolution),
        settings, n_rows=counted.n, weights=weights,
        filters=_filters(selected, csps),
        period=_period(view, selected), noun=noun_for(view.categories),
        drawn_only=drawn_only, progress=progress,
    )
    result.counts["occurrences_in"] = selected.n
    result.notes.extend(dict.fromkeys(selected.notes + counted.notes))
    return Analysis(view=view, selected=selected, counted=counted, csps=csps,
                    result=result)


def count_view(
    occurrences: Source,
    counted: Selected | Tally,
    *,
    cells: gpd.GeoDataFrame | None = None,
    resolution: int = 9,
    weighted: bool = False,
) -> Any:
    """Count a view's occurrences: the one counting step of every analysis.

    With ``cells`` (at ``resolution``), the study cells with ``count`` and
    ``harm`` (:func:`hotspot.grid.count_points` on the rows, or
    :func:`hotspot.grid.count_cells` on a store's counts per cell and month in
    DuckDB: the same table). Without, the points for a density surface: the
    rows, or a store's occurrences gathered at their locations
    (:class:`hotspot.detect.locations.PointCounts`, with their harm sums when
    ``weighted``).
    """
    from hotspot.grid import count_cells, count_points

    if isinstance(occurrences, StoreQuery):
        if cells is None:
            return occurrences.locations(counted.selection, weighted=weighted)
        return count_cells(cells, occurrences.cell_counts(
            counted.selection, resolution=resolution))
    assert isinstance(counted, Selected)
    if cells is None:
        return counted.rows
    return count_points(counted.rows, cells, weight="harm_weight")


def _prepare(occurrences: Source, view: View,
             csps: gpd.GeoDataFrame | None,
             selector: Callable[[Selection], Selected] | None,
             require_rows: bool = True,
             ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Any, Any]:
    """Check the view; return (all CSPs, the view's CSPs, counted, selected).

    ``counted`` and ``selected`` are :class:`Selected` rows for a table,
    :class:`Tally` accounts for a :class:`StoreQuery`.
    """
    from hotspot.boundaries import load_csps

    check_view(view)
    all_csps = load_csps(grouping=view.settings().grouping)
    if csps is None:
        csps = (all_csps if view.csp == ALL_CSPS
                else all_csps[all_csps["csp_code"] == view.csp])
        if csps.empty:
            raise ParameterError(f"csp must be 'all' or one of "
                                 f"{sorted(all_csps['csp_code'])}, got {view.csp!r}")
    selection = view.selection()
    if len(csps) < len(all_csps):
        selection = replace(selection, csps=tuple(csps["csp_code"]))
    else:
        selection = replace(selection, csps=())
    pick: Callable[[Selection], Any]
    if isinstance(occurrences, StoreQuery):
        pick = occurrences.tally
    else:
        pick = selector or (lambda s: select(occurrences, s))
    counted = pick(selection.for_cells(h3_edge_m(view.settings().resolution)))
    selected = pick(selection)
    if require_rows and counted.n == 0:
        raise ParameterError(
            "no occurrences left after the filters "
            f"{selected.filters}; widen the period, categories, flags or CSPs")
    return all_csps, csps, counted, selected


def _filters(selected: Selected | Tally, csps: gpd.GeoDataFrame) -> dict[str, Any]:
    filters = dict(selected.filters)
    if selected.selection.csps:
        filters["csps"] = sorted(csps["csp_name"])
    return filters


def emerging(
    occurrences: Source,
    view: View,
    *,
    csps: gpd.GeoDataFrame | None = None,
    period: str | None = None,
    progress: bool = False,
) -> DetectResult:
    """Emerging hot spots of a view (:func:`hotspot.detect.analyse.emerging`)."""
    from hotspot.detect.analyse import emerging as emerging_core
    from hotspot.grid import study_cells

    all_csps, csps, counted, selected = _prepare(occurrences, view, csps, None)
    settings = view.settings()
    cells = study_cells(csps if settings.scope == "csp" else all_csps,
                        resolution=settings.resolution, scope=settings.scope,
                        progress=progress)
    lo, hi = selected.selection.bounds()
    points = (occurrences.period_counts(counted.selection,
                                        resolution=settings.resolution)
              if isinstance(occurrences, StoreQuery) else counted.rows)
    result = emerging_core(
        points, cells, settings, period=period, start=lo,
        end=None if hi is None else hi - pd.Timedelta(days=1),
        filters=_filters(selected, csps), noun=noun_for(view.categories),
        progress=progress)
    if selected.selection.csps and result.cells is not None:
        result.cells = result.cells[
            result.cells["csp_code"].isin(selected.selection.csps)]
    result.notes.extend(dict.fromkeys(selected.notes + counted.notes))
    return result


def density(
    occurrences: Source,
    view: View,
    *,
    csps: gpd.GeoDataFrame | None = None,
) -> tuple[Any, DetectResult]:
    """Kernel density of a view over its CSPs (:func:`hotspot.detect.analyse.density`).

    Every selected row counts, also those just outside the CSPs: a density near
    a boundary includes its neighbours across it (the surface is clipped to the
    area; :attr:`DetectResult.counts` says how many points lay outside).
    """
    from hotspot.detect.analyse import density as density_core

    _, csps, counted, selected = _prepare(occurrences, view, csps, None)
    surface, result = density_core(
        count_view(occurrences, counted, weighted=view.settings().weight == "harm"),
        csps.geometry.union_all(), view.settings(),
        filters=_filters(selected, csps), period=_period(view, selected))
    result.counts["occurrences_in"] = selected.n
    result.notes.extend(dict.fromkeys(selected.notes + counted.notes))
    result.extra["csps"] = sorted(csps["csp_name"])
    return surface, result


def _period(view: View, selected: Selected | Tally) -> tuple[str | None, str | None]:
    """Return the period an analysis covers: the view's months, else the data's."""
    first, last = selected.first, selected.last
    return (view.month_from or (None if first is None else f"{first:%Y-%m}"),
            view.month_to or (None if last is None else f"{last:%Y-%m}"))


def how_computed(
    view: View,
    result: DetectResult,
    *,
    kde_bandwidth_m: float | None = None,
    kde_reason: str | None = None,
    kde_cell_m: float | None = None,
) -> pd.DataFrame:
    """Every parameter of the view with its value and the reason for it."""
    scope_text = ("each CSP is its own study area, so Portsmouth and Southampton "
                  "do not swamp the rural CSPs" if view.scope == "csp"
                  else "all of HIPS is one study area: hot spots are relative to "
                  "the whole partnership")
    rows = [
        ("Rows", result.filters.get("rows", ""), "the HIPS definition; rows with "
         "data-quality flags are left out; approximate police.uk categories are "
         "not serious violence"),
        ("Period", f"{result.data_from} to {result.data_to}",
         "months chosen (whole months; police.uk gives the month only)"),
        ("Categories", ", ".join(view.categories) or "all serious violence",
         "chosen in the sidebar"),
        ("Flags", ", ".join(FLAG_FILTERS[f] for f in view.flags) or "none",
         "police.uk rows carry no flags: rows whose flag is unknown are "
         + ("kept" if view.unknown_flags == "keep" else "left out")),
        ("Scope", view.scope, scope_text),
        ("H3 resolution", str(view.resolution),
         "9 is about 174 m edge (a few streets); 10 about 66 m for patrol work"),
        ("Gi* weights", f"binary k-ring, k = {view.k}, cell included",
         "Getis-Ord Gi*: each cell with its ring of neighbours in its study area"),
        ("Significance", f"alpha = {view.alpha:g}; bins at 90/95/99%",
         "two-sided p from the normal approximation"),
        ("False discovery rate", "Benjamini-Hochberg, once per study area"
         if view.fdr else "off",
         "thousands of cells are tested: the adjustment keeps false hot spots "
         "rare" if view.fdr else "switched off: expect some false hot spots"),
        ("Value analysed", "harm-weighted counts" if view.weight == "harm"
         else "counts", "harm weights from data/definitions/harm_weights.csv"
         if view.weight == "harm" else "each occurrence counts 1"),
    ]
    if kde_bandwidth_m is not None:
        rows.append(("KDE bandwidth", f"{kde_bandwidth_m:.0f} m",
                     kde_reason or "given"))
    if kde_cell_m is not None:
        rows.append(("KDE raster cell", f"{kde_cell_m:.0f} m",
                     "quartic kernel, occurrences per km²"))
    rows.append(("Grouping", view.grouping, GROUPING_LABELS.get(view.grouping, "")))
    for note in result.notes:
        rows.append(("Rows", note, "the selection rule (hotspot.selection)"))
    for name, reason in result.automatic.items():
        rows.append((name, str(result.parameters.get(name)), reason))
    for key, value in result.counts.items():
        rows.append((key.replace("_", " "), str(value), "count"))
    return pd.DataFrame(rows, columns=["parameter", "value", "reason"])


def _day(value: date | None) -> str | None:
    return None if value is None else f"{value:%Y-%m-%d}"


def training_hotspots(
    occurrences: gpd.GeoDataFrame,
    *,
    csp_code: str,
    start: date | None = None,
    end: date | None = None,
    grouping: str = "district",
    resolution: int = 9,
    selector: Callable[[Selection], Selected] | None = None,
) -> Analysis:
    """Hot spots of one CSP from the days ``[start, end]``: what a plan starts from.

    Patrol plans and operations created from hot spots call this with the days
    before the operation (the training period); the result is the same
    analysis the map shows for that CSP and period.
    """
    view = View(csp=csp_code, month_from=_day(start), month_to=_day(end),
                grouping=grouping, resolution=resolution)
    return analyse(occurrences, view, selector=selector)


def rows_between(
    occurrences: gpd.GeoDataFrame,
    *,
    start: date | None = None,
    end: date | None = None,
    selector: Callable[[Selection], Selected] | None = None,
    cell_edge_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Serious-violence rows (the one rule) whose first moment lies in the days.

    With ``cell_edge_m`` (rows counted in cells or small areas: a plan's test
    period, an evaluation), only points precise enough for cells of that edge.
    """
    selection = Selection(start=_day(start), end=_day(end), cell_edge_m=cell_edge_m)
    return (selector or (lambda s: select(occurrences, s)))(selection).rows


#: H3 resolution whose cell edge sets how precise a point must be to count in an
#: operation's areas (treated, buffer, control) and a plan's test period.
EVALUATION_RESOLUTION = 9


def evaluation_rows(
    occurrences: gpd.GeoDataFrame,
    *,
    selector: Callable[[Selection], Selected] | None = None,
) -> gpd.GeoDataFrame:
    """Return the rows an operation's evaluation counts (precise points only)."""
    return rows_between(occurrences, selector=selector,
                        cell_edge_m=h3_edge_m(EVALUATION_RESOLUTION))


#: Rankings already fitted in this process, keyed by the occurrence table (by
#: identity, held weakly: a new or changed table is a new key) and the view's
#: ranking settings; the map, an export and a plan of one view fit once.
_RANKINGS: dict[tuple[Any, ...], tuple[weakref.ref[Any], Any]] = {}
_RANKINGS_KEPT = 8

#: Finest resolution ranked over all of HIPS at once (43,016 cells at 9; finer
#: views rank their own CSP's cells, and an all-HIPS view ranks at this one).
RANK_HIPS_MAX_RESOLUTION = 9


def ranking_view(view: View) -> View:
    """Return the part of a view its ranking depends on (the one rule).

    Flags, scope, layers and the first month do not change a ranking; the CSP
    does only for views finer than :data:`RANK_HIPS_MAX_RESOLUTION` (ranked
    within their CSP), and an all-HIPS view finer than that ranks at it.
    """
    fine = view.resolution > RANK_HIPS_MAX_RESOLUTION and view.csp != ALL_CSPS
    return View(categories=view.categories, month_to=view.month_to,
                resolution=(view.resolution if fine
                            else min(view.resolution, RANK_HIPS_MAX_RESOLUTION)),
                weight=view.weight, grouping=view.grouping,
                include_approximate=view.include_approximate,
                csp=view.csp if fine else ALL_CSPS)


def rank_view(
    occurrences: Source,
    view: View,
    *,
    fit_to: pd.Timestamp | None = None,
    sources: tuple[str, ...] = (),
    settings: Any = None,
    horizon_months: int = 1,
) -> Any:
    """Rank every HIPS cell by what comes next: the recommended list of a view.

    The one ranking every "top" surface shows (the map's top list, patrol plans,
    exports, briefings, operations made from hot spots):
    :func:`hotspot.detect.rank.rank_cells` over the study cells of all CSPs of
    the view's grouping, so each cell has a HIPS rank and a rank in its CSP. It
    forecasts the view's categories (all serious violence when none) with other
    police.uk crime as leading indicators, fitted on whole months up to
    ``fit_to`` (default: the end of the view's last month, or the data's).
    Flag filters do not narrow the forecast (police.uk rows carry no flags).
    Views finer than :data:`RANK_HIPS_MAX_RESOLUTION` rank their own CSP's
    cells (an all-HIPS view at resolution 10 ranks at 9). From a
    :class:`StoreQuery` the panel is counted in DuckDB (the same ranking).

    Returns
    -------
    hotspot.detect.rank.Ranking
    """
    from hotspot.detect.rank import month_end, rank_cells

    view, cells, target = _ranking_inputs(view, sources)
    resolution = view.resolution
    if fit_to is None:
        fit_to = (month_end(view.month_to[:7]) if view.month_to
                  else last_month_end(occurrences))
    if isinstance(occurrences, StoreQuery):  # asked once: nothing to keep
        return rank_cells(occurrences, cells, target=target, fit_to=fit_to,
                          weight=view.settings().weight, settings=settings,
                          horizon_months=horizon_months)
    key = (id(occurrences), len(occurrences), target, pd.Timestamp(fit_to),
           view.settings().weight, resolution, tuple(sorted(set(cells["csp_code"]))),
           repr(settings), horizon_months)
    known = _RANKINGS.get(key)
    if known is not None and known[0]() is occurrences:
        return known[1]
    ranking = rank_cells(occurrences, cells, target=target, fit_to=fit_to,
                         weight=view.settings().weight, settings=settings,
                         horizon_months=horizon_months)
    _RANKINGS[key] = (weakref.ref(occurrences), ranking)
    while len(_RANKINGS) > _RANKINGS_KEPT:
        _RANKINGS.pop(next(iter(_RANKINGS)))
    return ranking


def last_month_end(occurrences: Source) -> pd.Timestamp:
    """Return the last day of the last month holding an occurrence.

    Raises
    ------
    ParameterError
        When no occurrence has a date.
    """
    last = (occurrences.last_occurrence() if isinstance(occurrences, StoreQuery)
            else pd.to_datetime(occurrences["occurred_from"]).max())
    if last is None or pd.isna(last):
        raise ParameterError("the store has no dated occurrence")
    return pd.Timestamp(last.to_period("M").end_time.normalize())


def _ranking_inputs(
    view: View, sources: tuple[str, ...] = ()
) -> tuple[View, gpd.GeoDataFrame, Any]:
    """Return what a view's ranking is fitted on: its ranking view, cells, target."""
    from hotspot.boundaries import load_csps
    from hotspot.detect.rank import TargetSpec
    from hotspot.grid import study_cells

    check_view(view)
    view = ranking_view(view)
    csps = load_csps(grouping=view.settings().grouping)
    if view.csp != ALL_CSPS:
        csps = csps[csps["csp_code"] == view.csp]
    cells = study_cells(csps, resolution=view.resolution, scope="csp")
    target = TargetSpec(categories=tuple(view.categories), sources=tuple(sources),
                        include_approximate=view.include_approximate)
    return view, cells, target


def backtest_split(
    occurrences: pd.DataFrame, *, test_months: int = 3
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """Return a default backtest split: the last ``test_months`` months held out.

    The test period is the last ``test_months`` whole calendar months up to the
    newest occurrence, the training cut-off the day before it (a missing month
    inside the test period is reported by the backtest, never counted as zero).
    """
    if test_months < 1:
        raise ParameterError(f"test_months must be >= 1, got {test_months!r}")
    last = pd.to_datetime(occurrences["occurred_from"]).max()
    if pd.isna(last):
        raise ParameterError("the store has no dated occurrence")
    last_month = last.to_period("M")
    first_test = last_month - (test_months - 1)
    return (first_test.start_time - pd.Timedelta(days=1),
            first_test.start_time, last_month.end_time.normalize())


def backtest_view(
    occurrences: gpd.GeoDataFrame,
    view: View,
    *,
    train_to: pd.Timestamp,
    test_from: pd.Timestamp,
    test_to: pd.Timestamp,
    sources: tuple[str, ...] = (),
    replicates: int = 1000,
    seed: int = 12,
) -> Any:
    """Score a view's ranking, and naive baselines, on months it never saw.

    The same cells and target as :func:`rank_view` (the view's categories, all
    CSPs of its grouping), fitted on whole months up to ``train_to`` and scored
    on ``test_from``..``test_to``
    (:func:`hotspot.detect.backtest.backtest`): what the app's accuracy page
    and ``hotspot backtest`` show.
    """
    from hotspot.detect.backtest import backtest

    view, cells, target = _ranking_inputs(view, sources)
    return backtest(occurrences, cells, train_to=pd.Timestamp(train_to),
                    test_from=pd.Timestamp(test_from), test_to=pd.Timestamp(test_to),
                    target=target, weight=view.settings().weight,
                    replicates=replicates, seed=seed)


def plan_cells(
    occurrences: gpd.GeoDataFrame,
    *,
    csp_code: str,
    start: date | None = None,
    end: date | None = None,
    grouping: str = "district",
    resolution: int = 9,
    selector: Callable[[Selection], Selected] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return what a patrol plan starts from: the CSP's ranked cells and rows.

    Cells come from the predictive ranking fitted on the days up to ``end`` (the
    recommended order, :func:`rank_view`), with their Gi* bin as evidence; the
    rows are the serious violence of ``[start, end]`` that cells count (for the
    visit windows).
    """
    view = View(csp=csp_code, month_from=_day(start), month_to=_day(end),
                grouping=grouping, resolution=resolution)
    fit_to = None if end is None else pd.Timestamp(end)
    ranked = rank_view(occurrences, view.with_(csp=ALL_CSPS, month_from=None),
                       fit_to=fit_to)
    cells = ranked.cells[ranked.cells["csp_code"] == csp_code]
    rows = rows_between(occurrences, start=start, end=end, selector=selector,
                        cell_edge_m=h3_edge_m(resolution))
    return cells, rows


def count_ranking(cells: gpd.GeoDataFrame, *, why: str) -> gpd.GeoDataFrame:
    """Rank cells by their own count, for when no forecast can be fitted.

    The naive baseline of the backtests (earlier counts), laid out like
    ``Ranking.cells`` so every top surface can show it; ``reason`` says why.
    """
    out = cells.copy()
    out["score"] = out["count"].astype(float)
    out = out.sort_values(["score", "h3"], ascending=[False, True])
    out["rank"] = range(1, len(out) + 1)
    out["csp_rank"] = out.groupby("csp_code").cumcount() + 1
    out["reason"] = [f"{int(c)} in the months shown ({why})" for c in out["count"]]
    return out

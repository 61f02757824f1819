"""Cached loaders and analyses for the app: every input is an argument.

Each function takes plain, hashable values (paths as strings, parameters as
numbers, tuples and strings), loads or computes with :mod:`hotspot` functions
and returns data (``st.cache_data``), so two sessions asking for the same view
share one computation and nothing reads module globals.

The large read-only inputs (the occurrence table, boundaries, study cells,
place names, IMD areas, police.uk arson rows) are ``st.cache_resource``: every
session gets the same object, not an unpickled copy per script run (about
0.15 s a run saved). They are **read-only**: code filters or copies them and
never changes them in place (``tests/test_app_warm.py`` checks they are
unchanged after the pages have run).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from hotspot import layers
from hotspot.analysis import analyse
from hotspot.boundaries import load_csps, load_hips_outline, load_wards
from hotspot.detect import analyse as core
from hotspot.detect.gistar import ring_weights
from hotspot.detect.result import DetectResult
from hotspot.detect.top import top_hotspots as top_table
from hotspot.errors import HotspotError
from hotspot.geocode.precision import h3_edge_m
from hotspot.grid import study_cells
from hotspot.ingest.quality import flagged
from hotspot.ingest.store import DEFAULT_STORE, load_occurrences, load_summary
from hotspot.selection import Selected, Selection, month_text, select
from hotspot.settings import (
    APP_CACHE_ENTRIES,
    APP_CACHE_TTL_S,
    DATA_DIR,
    DEFAULTS,
    ENV_STORE,
    env,
)
from hotspot.view import ALL_CSPS, View

if TYPE_CHECKING:  # the density code (rasterio, scipy.signal) loads when needed
    from hotspot.detect.kde import KDEResult
    from hotspot.detect.trends import TrendSummary

logger = logging.getLogger(__name__)

#: Environment variable naming the store the app starts on (tests, demos).
STORE_ENV = ENV_STORE
PLACES_FILE = DATA_DIR / "gazetteer" / "places.parquet"
#: CSP grouping of the operations page (operations are recorded per district CSP).
GROUPING = DEFAULTS.grouping


def default_store() -> str:
    """Return the store the app opens on: ``$HOTSPOT_STORE`` or the default."""
    return str(Path(env(STORE_ENV) or str(DEFAULT_STORE)))


@st.cache_resource(show_spinner="Loading boundaries…", max_entries=APP_CACHE_ENTRIES)
def boundaries(grouping: str) -> dict[str, gpd.GeoDataFrame]:
    """CSPs, wards and the HIPS outline (EPSG:27700)."""
    return {"csps": load_csps(grouping=grouping),  # type: ignore[arg-type]
            "wards": load_wards(), "outline": load_hips_outline()}


@st.cache_data(show_spinner=False, max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def base_layers(grouping: str, places_path: str, csp: str,
                layer_keys: tuple[str, ...]) -> layers.BaseLayers:
    """Build the shipped base map for a CSP (or all) and the toggles on."""
    frames = boundaries(grouping)
    inputs = layers.MapInputs(csps=frames["csps"], wards=frames["wards"],
                              outline=frames["outline"], places=places(places_path))
    return layers.base_layers(inputs, layers=layer_keys,
                              csp=None if csp == ALL_CSPS else csp)


@st.cache_resource(show_spinner=False)
def street_tables() -> Any:
    """Street labels, Isle of Wight roads and places of interest (read-only)."""
    from hotspot.layers.streets import load_street_tables

    return load_street_tables()


@st.cache_resource
def places(path: str) -> pd.DataFrame:
    """Load the GeoNames place table for labels."""
    return pd.read_parquet(path, columns=["name", "kind", "x", "y"])


@st.cache_resource(show_spinner="Loading occurrences…", max_entries=APP_CACHE_ENTRIES)
def occurrences(store_dir: str) -> gpd.GeoDataFrame:
    """Every row of a store (read-only, shared by every session)."""
    return load_occurrences(store_dir)


@st.cache_resource(max_entries=APP_CACHE_ENTRIES)
def selected(store_dir: str, selection: Selection) -> Selected:
    """Return the rows a selection chooses (:func:`~hotspot.selection.select`)."""
    return select(occurrences(store_dir), selection)


def points(store_dir: str) -> gpd.GeoDataFrame:
    """Serious-violence rows of a store without data-quality flags (all months)."""
    return selected(store_dir, Selection()).rows


def view_rows(store_dir: str, view: View) -> gpd.GeoDataFrame:
    """Return the view's rows (its CSP filter applied): totals, tables, charts."""
    return selected(store_dir, view.selection()).rows


def area_rows(store_dir: str, view: View) -> gpd.GeoDataFrame:
    """Return every located row of the view in all CSPs (area totals and rates)."""
    return selected(store_dir, view.selection().without_csps()).rows


def counted_rows(store_dir: str, view: View) -> gpd.GeoDataFrame:
    """Return the rows the view's cells count (every CSP: a cell counts its own)."""
    return selected(store_dir, view.selection().for_cells(
        h3_edge_m(view.resolution))).rows


@st.cache_data(max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def summary(store_dir: str) -> dict[str, Any]:
    """Load the store's ingest summary."""
    return load_summary(store_dir)


@st.cache_resource(show_spinner="Filling the study area with H3 cells…",
                   max_entries=APP_CACHE_ENTRIES)
def study(grouping: str, resolution: int, scope: str, csp: str,
          k: int) -> tuple[gpd.GeoDataFrame, Any]:
    """Study cells and their k-ring weights (one CSP, or all of them)."""
    csps = load_csps(grouping=grouping)  # type: ignore[arg-type]
    if csp != ALL_CSPS:
        csps = csps[csps["csp_code"] == csp]
    cells = study_cells(csps, resolution=resolution, scope=scope)  # type: ignore[arg-type]
    weights = ring_weights(cells["h3"].tolist(), k=k, study_area=cells["study_area"])
    return cells, weights


def study_csp(view: View) -> str:
    """Which CSPs the study cells need: one CSP's cells suffice in scope ``csp``."""
    return view.csp if view.scope == "csp" else ALL_CSPS


@st.cache_data(show_spinner="Finding hot spots (Gi*)…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def gistar(store_dir: str, grouping: str, view: View) -> DetectResult:
    """Gi* for a view (:func:`hotspot.analysis.analyse`); drawn cells only.

    Cells that are neither significant nor hold an occurrence are dropped from
    the returned table (their number stays in ``counts``), which keeps the cached
    result small.
    """
    cells, weights = study(grouping, view.resolution, view.scope, study_csp(view),
                           view.k)
    return analyse(occurrences(store_dir), view.with_(grouping=grouping),
                   cells=cells, weights=weights, drawn_only=True,
                   selector=lambda s: selected(store_dir, s)).result


@st.cache_data(show_spinner="Computing the density surface…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def kde(store_dir: str, grouping: str, view: View) -> KDEResult | None:
    """Kernel density over the chosen CSP (50 m cells) or HIPS (100 m cells)."""
    rows = counted_rows(store_dir, view)
    csps = load_csps(grouping=grouping)  # type: ignore[arg-type]
    if view.csp != ALL_CSPS:
        csps = csps[csps["csp_code"] == view.csp]
    if len(rows) < 2:
        return None
    cell = 50.0 if view.csp != ALL_CSPS else 100.0
    surface, _ = core.density(rows, csps.geometry.union_all(),
                              view.with_(cell_size_m=cell).settings())
    return surface


@st.cache_data(show_spinner="Looking for emerging hot spots…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def emerging(store_dir: str, grouping: str, view: View) -> TrendSummary | None:
    """Emerging hot spot categories of the view's cells, named, with sentences.

    Returns None when the period has fewer than three months: a trend needs
    more periods than that. See :func:`hotspot.detect.trends.summarise_trends`.
    """
    from hotspot.context.places import name_cells
    from hotspot.detect.trends import summarise_trends

    rows = counted_rows(store_dir, view)
    months = rows["month"].nunique() if len(rows) else 0
    if months < 3:
        return None
    cells, _ = study(grouping, view.resolution, view.scope, study_csp(view), view.k)
    out = core.emerging(rows, cells, view.settings())
    table = out.cells
    if table is None:
        return None
    mine = rows
    if view.csp != ALL_CSPS:
        table = table[table["csp_code"] == view.csp]
        if "csp_code" in rows.columns:
            mine = rows[rows["csp_code"] == view.csp]
    patterned = table[table["category"].astype(str) != "no pattern"]
    places = name_cells(patterned["h3"].astype(str).tolist(), occurrences=rows,
                        resolution=view.resolution) if len(patterned) else None
    return summarise_trends(
        table, mine, months=list(out.extra.get("periods", [])), places=places,
        period=str(out.parameters.get("period", "month")),
        reason=str(out.automatic.get("period", "given")),
        warnings=list(out.warnings),
        csp_names=sorted(set(table["csp_name"].astype(str))))


@st.cache_resource(show_spinner="Loading deprivation areas…",
                   max_entries=APP_CACHE_ENTRIES)
def imd_areas(edition: str) -> gpd.GeoDataFrame:
    """LSOA polygons with their IMD decile and a tooltip (EPSG:27700)."""
    from hotspot.context.deprivation import load_imd, load_lsoas

    lsoas = load_lsoas(edition)
    imd = load_imd(edition)[["lsoa_code", "lsoa_name", "imd_decile"]]
    out = lsoas.merge(imd, on="lsoa_code", how="inner")
    out["tooltip"] = (out["lsoa_name"].astype(str) + ": IMD " + edition
                      + " decile " + out["imd_decile"].astype(str)
                      + " (1 = most deprived 10% in England)")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=lsoas.crs)


@st.cache_data(show_spinner="Deprivation tables…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def deprivation(store_dir: str, view: View) -> pd.DataFrame:
    """Occurrences and rate per 1,000 residents by IMD decile (view's rows)."""
    from hotspot.context.deprivation import attach_imd
    from hotspot.context.rates import decile_comparison, decile_table

    rows = area_rows(store_dir, view)  # every CSP: the HIPS figures are all HIPS
    table = decile_table(attach_imd(rows, edition=view.imd), edition=view.imd)
    return decile_comparison(table, csp_code=None if view.csp == ALL_CSPS
                             else view.csp)


@st.cache_resource
def _known_deciles(edition: str) -> dict[str, float]:  # noqa: ARG001 - cache key
    """IMD deciles of the H3 cells asked for so far (shared, grows as asked)."""
    return {}


def cell_deciles(cells: tuple[str, ...], edition: str = "2025") -> pd.Series:
    """IMD decile per H3 cell (area-weighted majority), indexed by the cell.

    Each cell's decile is computed once per edition and remembered: a filter
    change mostly reorders the same top hot spots.
    """
    from hotspot.context.deprivation import cells_imd
    from hotspot.grid import cell_polygons

    known = _known_deciles(edition)
    missing = sorted(set(cells) - set(known))
    if missing:
        frame = gpd.GeoDataFrame({"h3": missing},
                                 geometry=cell_polygons(missing).values,
                                 crs="EPSG:27700")
        out = cells_imd(frame, edition=edition)
        known.update(zip(out["h3"], out["imd_decile"].astype(float), strict=True))
    return pd.Series([known[c] for c in cells], index=list(cells), dtype=float)


#: Fire records the app starts on (SYNTHETIC, labelled wherever shown).
DEFAULT_FIRES = DATA_DIR / "synthetic" / "SYNTHETIC_fire_incidents_2024-10_2025-09.csv"


@st.cache_data(show_spinner="Loading deliberate fires…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def fires(path: str, grouping: str) -> gpd.GeoDataFrame:
    """Deliberate primary and secondary fires of a file, located, with tooltips."""
    from hotspot.context.fires import (
        deliberate_fires,
        locate_fires,
    )
    from hotspot.ingest.fire import read_fire_incidents

    read = read_fire_incidents(path)
    located = locate_fires(deliberate_fires(read.accepted), grouping=grouping)
    located = located[located["csp_code"].notna()].copy()
    label = located["is_synthetic"].astype("boolean").fillna(False).map(
        {True: "SYNTHETIC ", False: ""})
    located["month"] = month_text(located["occurred_at"])
    located["tooltip"] = (
        label.astype(str) + located["incident_type"].astype(str) + " fire, "
        + pd.to_datetime(located["occurred_at"]).dt.strftime("%d %b %Y").fillna("")
        + " (" + located["property_type"].astype(str) + "; located by "
        + located["location_method"].astype(str) + ")")
    return located


def fires_for_view(all_fires: gpd.GeoDataFrame, view: View) -> gpd.GeoDataFrame:
    """Return the fires inside the view's months (every CSP)."""
    keep = pd.Series(True, index=all_fires.index)
    if view.month_from:
        keep &= all_fires["month"] >= view.month_from
    if view.month_to:
        keep &= all_fires["month"] <= view.month_to
    return all_fires[keep.to_numpy()]


@st.cache_resource(show_spinner="Loading police.uk criminal damage and arson…",
                   max_entries=APP_CACHE_ENTRIES)
def arson(store_dir: str) -> gpd.GeoDataFrame:
    """Police.uk "Criminal damage and arson" rows without quality flags (shared).

    Columns ``month`` (``YYYY-MM``), ``csp_code`` and the points; empty when the
    store holds no police.uk rows.
    """
    from hotspot.context.fires import police_arson

    occ = load_occurrences(store_dir)
    if "crime_type" not in occ.columns:
        return gpd.GeoDataFrame({"month": [], "csp_code": []},
                                geometry=gpd.GeoSeries([], crs=occ.crs), crs=occ.crs)
    rows = police_arson(occ)
    rows = rows[~flagged(rows).to_numpy()]
    out = gpd.GeoDataFrame(rows[["csp_code", "geometry"]].copy(), geometry="geometry",
                           crs=occ.crs)
    out["month"] = month_text(rows["occurred_from"])
    return out


@st.cache_data(show_spinner=False, max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def arson_cells(store_dir: str, view: View) -> tuple[gpd.GeoDataFrame, str]:
    """Criminal damage and arson per H3 cell (resolution 8) for the view's months.

    Returns the cells and the period counted (for the tooltip). The CSP choice
    does not filter: the map shows the whole area, zoomed to the CSP.
    """
    from hotspot.context.fires import arson_per_cell

    rows = arson(store_dir)
    months = sorted(rows["month"].dropna().unique())
    lo = view.month_from or (months[0] if months else "")
    hi = view.month_to or (months[-1] if months else "")
    chosen = rows[((rows["month"] >= lo) & (rows["month"] <= hi)).to_numpy()]
    return arson_per_cell(chosen), f"{lo} to {hi}"


@st.cache_data(show_spinner="Fire and violence co-location…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def colocation(store_dir: str, fire_path: str, grouping: str,
               view: View) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Cells hot for both fires and violence (the view's CSP), and the summary.

    The summary is computed over every CSP, so its HIPS row is all of HIPS
    even when one CSP is shown; it holds that CSP's row and the HIPS row
    (:func:`~hotspot.context.fires.colocation_comparison`).
    """
    from hotspot.context.fires import (
        colocation_cells,
        colocation_comparison,
        colocation_summary,
    )

    rows = counted_rows(store_dir, view)
    chosen = fires_for_view(fires(fire_path, grouping), view)
    cells, _ = study(grouping, view.resolution, view.scope, ALL_CSPS, view.k)
    both = colocation_cells(rows, chosen, cells, k=view.k, fdr=view.fdr)
    summary_table = colocation_comparison(
        colocation_summary(both),
        csp_code=None if view.csp == ALL_CSPS else view.csp)
    if view.csp != ALL_CSPS:
        both = both[both["csp_code"] == view.csp]
    hot = both[both["hot_both"]].copy()
    hot["tooltip"] = (hot["violence_count"].astype(str) + " serious-violence "
                      "occurrences and " + hot["fire_count"].astype(str)
                      + " deliberate fires here (SYNTHETIC fires); both hot at "
                      "95% (Gi* z = " + hot["violence_z"].round(1).astype(str)
                      + " and " + hot["fire_z"].round(1).astype(str) + ").")
    return hot, summary_table


@st.cache_resource(show_spinner="Ranking cells by what is expected next…",
                   max_entries=APP_CACHE_ENTRIES)
def ranking(store_dir: str, key: View) -> Any:
    """Return the recommended list (:func:`~hotspot.analysis.rank_view`)."""
    from hotspot.analysis import rank_view

    return rank_view(occurrences(store_dir), key)


@st.cache_resource(show_spinner="Scoring the ranking and the baselines on later "
                   "months…", max_entries=8)
def backtest(store_dir: str, key: View, train_to: str, test_from: str, test_to: str,
             sources: tuple[str, ...] = ()) -> Any:
    """Return a view's ranking scored on later months, beside baselines."""
    from hotspot.analysis import backtest_view

    return backtest_view(occurrences(store_dir), key, train_to=pd.Timestamp(train_to),
                         test_from=pd.Timestamp(test_from),
                         test_to=pd.Timestamp(test_to), sources=sources)


def ranked_cells(store_dir: str, grouping: str, view: View) -> gpd.GeoDataFrame:
    """Return the view's ranked cells: the ranking, or counts when none can be fitted.

    The one source of every top surface in the app (top list, operations made
    from hot spots); too little history falls back to the period's own counts
    (:func:`~hotspot.analysis.count_ranking`), with the reason in ``reason``.
    """
    from hotspot.analysis import count_ranking, ranking_view

    try:
        cells: gpd.GeoDataFrame = ranking(
            store_dir, ranking_view(view.with_(grouping=grouping))).cells
    except HotspotError as exc:
        drawn = gistar(store_dir, grouping, view).cells
        cells = count_ranking(drawn, why=f"no forecast: {str(exc).split(':')[0]}")
    return cells


@st.cache_data(show_spinner=False, max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def cell_place(store_dir: str, view: View, cell: str) -> str:
    """Return the name of one cell of the view (its streets, ward, town, sector)."""
    from hotspot.context.places import name_cells

    try:
        named = name_cells([cell], occurrences=counted_rows(store_dir, view),
                           resolution=view.resolution)
    except HotspotError as exc:
        logger.warning("no name for cell %s: %s", cell, exc)
        return ""
    return str(named["place"].iloc[0]) if len(named) else ""


@st.cache_data(show_spinner="Naming the top hot spots…",
               max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def top_hotspots(store_dir: str, grouping: str, view: View) -> pd.DataFrame:
    """Return the top-ranked cells: place, expected count, peak window, evidence."""
    from hotspot.analysis import ranking_view

    key = ranking_view(view.with_(grouping=grouping))
    rows = counted_rows(store_dir, view)
    cells = ranked_cells(store_dir, grouping, view)
    top = top_table(cells, rows, csp=view.csp, resolution=key.resolution)
    if top.empty:
        return top
    try:
        top["imd_decile"] = cell_deciles(tuple(top["h3"]), view.imd).to_numpy()
    except HotspotError as exc:
        logger.warning("no IMD deciles for hot spots: %s", exc)
    return top

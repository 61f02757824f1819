"""From a view file to an export bundle: the analysis behind every partner file.

:func:`build_bundle` asks the analysis core (:func:`hotspot.analysis.analyse`,
:func:`hotspot.analysis.density`) for the view's hot spots and density and
gathers the layers and tables a partner file holds; ``hotspot export`` and the
app's Export page both call it. Disclosure control is applied afterwards, by
:func:`hotspot.export.bundle.export` / ``export_download``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspot.errors import HotspotError, ParameterError
from hotspot.export.bundle import ExportBundle, ExportMetadata
from hotspot.export.disclosure import DisclosureRules
from hotspot.view import ALL_CSPS
from hotspot.view_file import ViewFile

logger = logging.getLogger(__name__)

#: Rows in the top hot spots table.
TOP_N = 10


def rules_of(spec: ViewFile) -> DisclosureRules:
    """Return the disclosure rules of a view file's ``[disclosure]`` table."""
    from hotspot.errors import InputFileError

    try:
        return DisclosureRules.from_mapping(dict(spec.disclosure))
    except (ParameterError, TypeError) as exc:
        raise InputFileError(spec.path, f"[disclosure]: {exc}") from None


def build_bundle(spec: ViewFile, *, csp: str | None = None,
                 operations: list[Any] | None = None,
                 occurrences: gpd.GeoDataFrame | None = None) -> ExportBundle:
    """Run the view's analysis and gather its layers into an :class:`ExportBundle`.

    Parameters
    ----------
    spec : ViewFile
        The view.
    csp : str, optional, keyword-only
        CSP name or code overriding the view's.
    operations : list of Operation, optional, keyword-only
        Operations to export (the app's store); default the view's
        ``operations`` file.
    occurrences : geopandas.GeoDataFrame, optional, keyword-only
        The store's rows when the caller has them loaded (the app).

    Returns
    -------
    ExportBundle
        Layers ``hotspots`` (Gi* cells), ``csp_outline``, ``wards``,
        ``deprivation``, ``fires``, ``operations`` and the tables
        ``top_hotspots``, ``monthly``, ``weekday_hour`` as the view asks and
        the data allow; the density surface when ``kde`` is asked for.
        Sections left out are named in ``notes`` with the reason. The
        analysis's warnings and notes are in the metadata.
    """
    from hotspot.analysis import analyse, density
    from hotspot.boundaries import find_csps, load_csps, load_wards
    from hotspot.ingest.store import load_occurrences

    sections = spec.sections
    all_csps = load_csps(grouping=spec.view.settings().grouping)
    wanted = csp or spec.csp
    chosen = all_csps if wanted == ALL_CSPS else find_csps(all_csps, [wanted])
    csp_code = ALL_CSPS if wanted == ALL_CSPS else str(chosen["csp_code"].iloc[0])
    view = spec.view.with_(csp=csp_code)
    occ = occurrences if occurrences is not None else load_occurrences(spec.store)
    analysis = analyse(occ, view, csps=chosen)
    result = analysis.result
    in_area = analysis.rows
    mine = analysis.view_cells()
    layers: dict[str, pd.DataFrame] = {}
    notes: dict[str, str] = {}
    if "gistar" in sections:
        keep = [c for c in ("h3", "csp_code", "csp_name", "count", "harm", "z", "p",
                            "p_fdr", "bin", "rank", "geometry") if c in mine.columns]
        layers["hotspots"] = gpd.GeoDataFrame(mine[keep], geometry="geometry",
                                              crs=mine.crs)
    if "csp" in sections:
        layers["csp_outline"] = chosen[["csp_code", "csp_name", "geometry"]].copy()
    lads = {c.strip() for text in chosen["lad_code"] for c in str(text).split(",")}
    if "wards" in sections:
        wards = load_wards()
        layers["wards"] = wards[wards["lad_code"].isin(lads)][
            ["ward22_code", "ward22_name", "lad_name", "geometry"]]
    surface = None
    warnings = list(result.warnings)
    if "kde" in sections:
        if len(analysis.counted_rows) < 2:
            notes["kde"] = "fewer than two occurrences: no density surface"
        else:
            surface, kde_result = density(occ, view, csps=chosen)
            warnings += kde_result.warnings
    if "imd" in sections:
        _deprivation(layers, notes, lads=lads, edition=view.imd)
    if "fires" in sections:
        _fires(layers, notes, spec=spec, violence=analysis.counted_rows, cells=mine,
               k=view.k)
    if "operations" in sections:
        if operations is None and spec.operations is not None:
            from hotspot.operations import import_operations

            operations = import_operations(spec.operations)
        _operations(layers, notes, operations=operations, csp_code=csp_code)
    if "tables" in sections:
        _tables(layers, notes, cells=mine, points=in_area, view=view,
                wards=load_wards(), counted=analysis.counted_rows, occurrences=occ)
    place = "HIPS" if wanted == ALL_CSPS else str(chosen["csp_name"].iloc[0])
    what = ", ".join(c.replace("_", " ") for c in view.categories) or \
        "serious violence"
    title = spec.title or f"{what.capitalize()} hot spots, {place}"
    if spec.title and place not in spec.title:
        title = f"{spec.title}, {place}"
    parameters = dict(result.parameters)
    if surface is not None:
        parameters.update(bandwidth_m=round(surface.bandwidth_m, 1),
                          bandwidth_reason=surface.bandwidth_reason,
                          cell_size_m=surface.cell_size_m)
    if warnings:
        # a warning quoting a number could quote a small count: partners get
        # the warnings without numbers, and are told the rest exist
        plain = [w for w in warnings if not re.search(r"\d", w)]
        if len(plain) < len(warnings):
            plain.append("more warnings quote numbers: they are in the analyst's "
                         "log, not in partner files")
        parameters["warnings"] = plain
    if view.flags:
        # the rule, not the counts: a count of left-out rows could be small
        parameters["unknown_flags"] = (
            "rows whose flag is not recorded (police.uk) are "
            + ("kept" if view.unknown_flags == "keep" else "left out"))
    meta = ExportMetadata(
        title=title, period=f"{result.data_from} to {result.data_to}",
        filters={**result.filters, "csp": place}, parameters=parameters,
        synthetic=analysis.synthetic,
    )
    return ExportBundle(layers=layers, metadata=meta, density=surface, notes=notes)


def _deprivation(layers: dict[str, pd.DataFrame], notes: dict[str, str], *,
                 lads: set[str], edition: str) -> None:
    try:
        from hotspot.context.deprivation import load_imd, load_lsoas
    except ImportError as exc:  # the overlay module is not there yet
        notes["deprivation"] = f"deprivation overlay not available ({exc})"
        return
    try:
        lsoas = load_lsoas(edition)
        imd = load_imd(edition)
    except (OSError, ValueError) as exc:
        notes["deprivation"] = f"deprivation data not available ({exc})"
        return
    inside = lsoas[lsoas["lad_code"].isin(lads)]
    cols = [c for c in ("lsoa_name", "imd_decile", "imd_rank", "imd_score")
            if c in imd.columns]
    merged = inside[["lsoa_code", "geometry"]].merge(
        imd[["lsoa_code", *cols]], on="lsoa_code", how="left")
    layers["deprivation"] = gpd.GeoDataFrame(merged, geometry="geometry",
                                             crs=lsoas.crs)


def _fires(layers: dict[str, pd.DataFrame], notes: dict[str, str], *,
           spec: ViewFile, violence: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
           k: int) -> None:
    if spec.fires is None:
        notes["fires"] = "no fire incident file named in the view (fires = ...)"
        return
    from hotspot.context.fires import (
        colocation_cells,
        deliberate_fires,
        locate_fires,
    )
    from hotspot.ingest.fire import read_fire_incidents

    read = read_fire_incidents(spec.fires)
    fires = locate_fires(deliberate_fires(read.accepted), grouping=spec.view.grouping)
    table = colocation_cells(violence, fires, cells, k=k)
    keep = [c for c in ("h3", "csp_code", "csp_name", "violence_count", "violence_bin",
                        "fire_count", "fire_z", "fire_bin", "hot_both", "geometry")
            if c in table.columns]
    layers["fires"] = gpd.GeoDataFrame(table[keep], geometry="geometry",
                                       crs=table.crs)


def _operations(layers: dict[str, pd.DataFrame], notes: dict[str, str], *,
                operations: list[Any] | None, csp_code: str) -> None:
    if not operations:
        notes["operations"] = ("no operations named in the view (operations = ...) "
                               "or in the app's store")
        return
    from hotspot.operations import operations_table

    table = operations_table(operations)
    if csp_code != ALL_CSPS:
        table = table[table["csp_code"] == csp_code]
    keep = [c for c in ("name", "csp_code", "csp_name", "period_start", "period_end",
                        "status", "n_activities", "geometry") if c in table.columns]
    out = table[keep].copy()
    for col in ("period_start", "period_end"):
        if col in out.columns:
            out[col] = out[col].astype(str)
    layers["operations"] = gpd.GeoDataFrame(out, geometry="geometry", crs=table.crs)
    notes["operation_activities"] = ("activity features (patrol routes, CCTV, "
                                     "schools) are not exported: areas only")


def _top_table(cells: gpd.GeoDataFrame, points: gpd.GeoDataFrame, *, view: Any,
               wards: gpd.GeoDataFrame, occurrences: gpd.GeoDataFrame
               ) -> pd.DataFrame:
    """Return the recommended list for partners: places in ranked order, with bins.

    From the predictive ranking (:func:`hotspot.analysis.rank_view`), the same
    order as the map's top list. The "why" sentence and the peak window hold
    counts of single cells, so they stay out of partner files.
    """
    from hotspot.analysis import count_ranking, rank_view
    from hotspot.detect.top import top_hotspots
    from hotspot.grid import cell_centres_bng

    try:
        ranked = rank_view(occurrences, view).cells
    except HotspotError as exc:
        ranked = count_ranking(cells, why=f"no forecast: {str(exc).split(':')[0]}")
    top = top_hotspots(ranked, points, csp=view.csp,
                       resolution=view.resolution, n=TOP_N)
    shown = cells.set_index("h3")
    centres = gpd.GeoDataFrame(geometry=gpd.GeoSeries.from_xy(
        *cell_centres_bng(list(top["h3"])), crs=cells.crs), crs=cells.crs)
    in_ward = gpd.sjoin(centres, wards[["ward22_name", "geometry"]], how="left",
                        predicate="within")
    ward = in_ward[~in_ward.index.duplicated()]["ward22_name"].reindex(
        centres.index)
    # rows in ranked order: the order is the recommendation; counts behind a
    # single cell's rank (and the rank itself, derived from them) stay out
    return pd.DataFrame({
        "h3": top["h3"].to_numpy(), "place": top["place"].to_numpy(),
        "csp_name": top["csp"].to_numpy(), "ward": ward.to_numpy(),
        "bin": shown["bin"].reindex(top["h3"]).fillna(0).astype(int).to_numpy(),
    })


def _tables(layers: dict[str, pd.DataFrame], notes: dict[str, str], *,
            cells: gpd.GeoDataFrame, points: gpd.GeoDataFrame, view: Any,
            wards: gpd.GeoDataFrame, counted: gpd.GeoDataFrame,
            occurrences: gpd.GeoDataFrame) -> None:
    from hotspot.context.temporal import monthly_trend, weekday_hour

    layers["top_hotspots"] = _top_table(cells, counted, view=view, wards=wards,
                                        occurrences=occurrences)
    if len(points):
        months = None
        if view.month_from and view.month_to:
            months = [str(m) for m in pd.period_range(view.month_from, view.month_to,
                                                       freq="M")]
        trend = monthly_trend(points, months=months)
        layers["monthly"] = trend[["month", "occurrences", "school_holiday"]]
    else:
        notes["monthly"] = "no occurrences in the view"
    try:
        wh = weekday_hour(points).table
    except ParameterError as exc:
        notes["weekday_hour"] = str(exc).split(";")[0]
        return
    body = wh.drop(index="Total", columns="Total")
    long = body.stack().rename("count").reset_index()
    long.columns = ["weekday", "hour", "count"]
    layers["weekday_hour"] = long

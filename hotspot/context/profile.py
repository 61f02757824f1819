"""A CSP's context and profile as tables: overlays (deprivation, fires) and timing.

:func:`build_overlay` gives the overlay layers ``hotspot overlay`` writes;
:func:`build_profile` the tables of ``hotspot profile``. Both take rows already
selected by the one rule (:func:`hotspot.selection.select`) and compute hot
spots through the analysis core (:func:`hotspot.detect.analyse.hotspots`).
Charts are drawn apart (:mod:`hotspot.render.charts`).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd

from hotspot.context import deprivation as overlay
from hotspot.context import fires as fire_mod
from hotspot.context import rates as rate_tables
from hotspot.context import temporal
from hotspot.errors import ParameterError

logger = logging.getLogger(__name__)

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence "
    "v3.0. IMD: Ministry of Housing, Communities and Local Government. Population and "
    "boundaries: Office for National Statistics. Contains OS data © Crown copyright "
    "and "
    "database right."
)


def build_overlay(
    occurrences: gpd.GeoDataFrame,
    *,
    imd: str = "2025",
    fires: gpd.GeoDataFrame | None = None,
    arson: gpd.GeoDataFrame | None = None,
    grouping: str = "district",
    resolution: int = 9,
    hot_bin: int = overlay.HOT_BIN,
) -> dict[str, pd.DataFrame]:
    """Compute every overlay layer for a set of serious-violence occurrences.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        Serious-violence occurrences (points in EPSG:27700), already selected
        (:func:`hotspot.selection.select`). Not modified.
    imd : {"2025", "2019"}, keyword-only
        IMD edition (and its LSOAs and population).
    fires : geopandas.GeoDataFrame, optional, keyword-only
        Deliberate fires, located (:func:`hotspot.context.fires.locate_fires`).
    arson : geopandas.GeoDataFrame, optional, keyword-only
        Police.uk "Criminal damage and arson" rows.
    grouping : {"district", "ons2024"}, keyword-only
        CSP grouping.
    resolution : int, keyword-only
        H3 resolution of the cells (default 9).
    hot_bin : int, keyword-only
        Gi* bin from which a cell is a hot spot (default 2: 95%).

    Returns
    -------
    dict of str to DataFrame
        ``cells``, ``lsoas``, ``csps`` (GeoDataFrames, EPSG:27700),
        ``imd_deciles`` and ``about`` (tables); with fires also
        ``colocation`` (table).
    """
    from hotspot.boundaries import load_csps
    from hotspot.detect.analyse import hotspots
    from hotspot.grid import count_points, study_cells
    from hotspot.settings import AnalysisSettings

    edition = overlay.check_edition(imd)
    csps = load_csps(grouping=grouping)  # type: ignore[arg-type]
    context = overlay.lsoa_context(edition, grouping=grouping)
    attached = overlay.attach_imd(occurrences, edition=edition)

    settings = AnalysisSettings(grouping=grouping,  # type: ignore[arg-type]
                                resolution=resolution)
    found = hotspots(occurrences, study_cells(csps, resolution=resolution), settings)
    if found.cells is None:
        raise ParameterError("the Gi* analysis returned no cell table")
    cells = overlay.cells_imd(found.cells, edition=edition)
    keep = [
        "h3",
        "csp_code",
        "csp_name",
        "study_area",
        "count",
        "z",
        "p_fdr",
        "bin",
        "lsoa_cover",
        "imd_score",
        "imd_rank",
        "imd_decile",
        "share_decile_1",
        "share_deciles_1_2",
        "residents",
        "geometry",
    ]
    out_cells = cells[keep].rename(
        columns={
            "count": "violence_count",
            "z": "violence_z",
            "p_fdr": "violence_p_fdr",
            "bin": "violence_bin",
        }
    )
    out_cells["hot_violence"] = out_cells["violence_bin"] >= hot_bin
    if arson is not None:
        out_cells["police_arson_count"] = count_points(
            arson, cells[["h3", "geometry"]]
        )["count"].to_numpy()
    layers: dict[str, pd.DataFrame] = {}
    fires_lsoa_only = 0
    if fires is not None:
        co = fire_mod.colocation_cells(
            occurrences,
            fires,
            cells[["h3", "csp_code", "csp_name", "study_area", "geometry"]],
            hot_bin=hot_bin,
        )
        for name in ("fire_count", "fire_z", "fire_bin", "hot_fire", "hot_both"):
            out_cells[name] = co[name].to_numpy()
        residents = context.groupby("csp_code")["residents"].sum()
        layers["colocation"] = fire_mod.colocation_summary(
            co,
            residents=residents,
            fires_by_csp=fires.groupby("csp_code").size()
            if "csp_code" in fires
            else None,
        )
        fires_lsoa_only = int(co.attrs.get("fires_lsoa_only", 0))

    # LSOAs with rates
    rates = rate_tables.rates_table(attached, level="lsoa", context=context)
    lsoas = overlay.load_lsoas(edition)[["lsoa_code", "geometry"]].merge(
        rates, on="lsoa_code", how="left"
    )
    imd_cols = [c for c in ("imd_score", "imd_rank") if c in context.columns]
    lsoas = lsoas.merge(context[["lsoa_code", *imd_cols]], on="lsoa_code", how="left")

    # CSPs: rates, deprivation shares, concentration, co-location
    csp_rates = rate_tables.rates_table(attached, level="csp", context=context)
    shares = rate_tables.deprived_share_table(
        attached, cells=cells, context=context, hot_bin=hot_bin
    )
    conc = rate_tables.concentration_table(cells)
    table = csp_rates.merge(
        shares.drop(columns=["csp_name", "occurrences"]), on="csp_code"
    ).merge(
        conc[
            ["csp_code", "gini", "area_pct_for_50pct", "area_pct_for_80pct", "summary"]
        ],
        on="csp_code",
        how="left",
    )
    if "colocation" in layers:
        co_cols = [
            "csp_code",
            "fires",
            "hot_fire_cells",
            "hot_both_cells",
            "fire_rate",
            "fire_ratio",
            "both_index",
            "rank",
        ]
        table = table.merge(
            layers["colocation"][co_cols].rename(columns={"rank": "both_rank"}),
            on="csp_code",
            how="left",
        )
    csp_geo = csps[["csp_code", "geometry"]]
    hips = gpd.GeoDataFrame(
        {"csp_code": [overlay.HIPS]}, geometry=[csps.geometry.union_all()], crs=csps.crs
    )
    csp_layer = gpd.GeoDataFrame(
        pd.concat([csp_geo, hips], ignore_index=True), crs=csps.crs
    ).merge(table, on="csp_code", how="left")

    files = overlay.edition_files(edition)
    about = pd.DataFrame(
        {
            "key": [
                "imd",
                "population",
                "occurrences",
                "cells",
                "hot_spot_rule",
                "fires",
                "fires_lsoa_only",
                "police_arson",
                "occurrences_without_lsoa",
                "licence",
            ],
            "value": [
                files.label,
                files.population_label,
                str(len(occurrences)),
                f"H3 resolution {resolution}, {len(cells)} cells, grouping {grouping}",
                f"Gi* bin >= {hot_bin} (k = 1, Benjamini-Hochberg FDR per CSP)",
                "none"
                if fires is None
                else (
                    f"{len(fires)} deliberate primary and secondary fires"
                    + (
                        " (SYNTHETIC)"
                        if bool(
                            fires.get("is_synthetic", pd.Series([False]))
                            .fillna(False)
                            .any()
                        )
                        else ""
                    )
                ),
                f"{fires_lsoa_only} fires located only to an LSOA: in CSP rates, "
                "not in cells",
                "none"
                if arson is None
                else f"{len(arson)} police.uk rows (month only)",
                str(csp_rates.attrs.get("without_lsoa", 0)),
                ATTRIBUTION,
            ],
        }
    )
    layers.update(
        {
            "cells": out_cells,
            "lsoas": lsoas,
            "csps": csp_layer,
            "imd_deciles": rate_tables.decile_table(attached, context=context),
            "about": about,
        }
    )
    return layers


def build_profile(
    occurrences: gpd.GeoDataFrame,
    *,
    csp: str | None = None,
    imd: str = "2025",
    term_dates: pd.DataFrame | None = None,
    grouping: str = "district",
) -> dict[str, pd.DataFrame]:
    """When and where: the tables of a CSP's (or HIPS's) profile.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        Serious-violence occurrences (:func:`hotspot.selection.select`).
    csp : str, optional, keyword-only
        CSP code or name; all of HIPS when omitted.
    imd : {"2025", "2019"}, keyword-only
        IMD edition of the decile and rate tables.
    term_dates : pandas.DataFrame, optional, keyword-only
        School holidays; the embedded file when omitted.
    grouping : {"district", "ons2024"}, keyword-only
        CSP grouping.

    Returns
    -------
    dict of str to DataFrame
        ``weekday_hour`` and ``weekday`` (absent when no row has a time or a
        date: month-only data), ``monthly``, ``holiday_vs_term`` (absent without
        dated rows), ``year_on_year``, ``imd_deciles``, ``rates_lsoa``,
        ``rates_csp`` and ``notes`` (what was left out and why).
    """
    selected = (
        occurrences
        if csp is None
        else temporal.select_occurrences(occurrences, csp=csp)
    )
    if selected.empty:
        raise ParameterError("no occurrences to profile")
    notes: list[tuple[str, str]] = [
        ("occurrences", str(len(selected))),
        ("area", csp or overlay.HIPS),
    ]
    tables: dict[str, pd.DataFrame] = {}
    try:
        wh = temporal.weekday_hour(selected)
        tables["weekday_hour"] = wh.table
        notes.append(("weekday_hour_used", str(wh.n_used)))
        for reason, n in wh.excluded.items():
            notes.append((f"weekday_hour_excluded_{reason}", str(n)))
    except ParameterError as exc:
        notes.append(("weekday_hour", f"not produced: {exc}"))
    try:
        tables["weekday"] = temporal.weekday_counts(selected)
    except ParameterError as exc:
        notes.append(("weekday", f"not produced: {exc}"))
    by = "source" if "source" in selected.columns else None
    monthly = temporal.monthly_trend(selected, term_dates=term_dates, by=by)
    if by is not None:  # months with no data are missing, not zero (coverage)
        from hotspot.coverage import month_status

        status = month_status(selected, list(monthly["month"]))
        monthly = monthly.merge(status[["month", "status", "sources"]], on="month",
                                how="left")
    tables["monthly"] = monthly
    try:
        tables["holiday_vs_term"] = temporal.holiday_vs_term(
            selected, term_dates=term_dates
        )
    except ParameterError as exc:
        notes.append(("holiday_vs_term", f"not produced: {exc}"))
    tables["year_on_year"] = temporal.year_on_year(selected)

    edition = overlay.check_edition(imd)
    context = overlay.lsoa_context(edition, grouping=grouping)
    attached = overlay.attach_imd(occurrences, edition=edition)
    deciles = rate_tables.decile_table(attached, context=context)
    rates_lsoa = rate_tables.rates_table(attached, level="lsoa", context=context)
    if csp is not None:
        code = _csp_code(context, csp)
        deciles = deciles[deciles["csp_code"] == code].reset_index(drop=True)
        rates_lsoa = rates_lsoa[rates_lsoa["csp_code"] == code].reset_index(drop=True)
    else:
        deciles = deciles[deciles["csp_code"] == overlay.HIPS].reset_index(drop=True)
    tables["imd_deciles"] = deciles
    tables["rates_lsoa"] = rates_lsoa
    tables["rates_csp"] = rate_tables.rates_table(attached, level="csp",
                                                  context=context)
    notes.append(("imd", overlay.edition_files(edition).label))
    notes.append(
        (
            "rates",
            "per 1,000 residents over the period of the data, "
            + overlay.edition_files(edition).population_label,
        )
    )
    notes.append(("school_holidays", "data/term_dates: approximate, to be checked"))
    tables["notes"] = pd.DataFrame(notes, columns=["key", "value"])
    return tables


def _csp_code(context: pd.DataFrame, csp: str) -> str:
    wanted = csp.strip().lower()
    pairs = context[["csp_code", "csp_name"]].drop_duplicates()
    hit = pairs[
        (pairs["csp_code"].str.lower() == wanted)
        | (pairs["csp_name"].str.lower() == wanted)
    ]
    if hit.empty:
        raise ParameterError(
            f"csp {csp!r} is not a CSP; CSPs are {sorted(pairs['csp_name'])}"
        )
    return str(hit["csp_code"].iloc[0])

"""The ``hotspot overlay`` and ``hotspot profile`` commands, their API and charts.

``hotspot overlay STORE_DIR --imd 2025 --fire FILE --out FILE.gpkg`` writes a
GeoPackage of context layers for QGIS/ArcGIS:

- ``cells``: H3 study cells with serious-violence counts and Gi*, area-weighted
  IMD and residents, police.uk "Criminal damage and arson" counts, and (with
  ``--fire``) deliberate-fire counts, Gi* and the cells hot in both;
- ``lsoas``: LSOA polygons with IMD, residents, occurrences and rate per 1,000
  residents against the HIPS average;
- ``csps``: CSP polygons with rates, shares in the most deprived LSOAs,
  concentration (Gini) and, with ``--fire``, the co-location summary;
- ``imd_deciles`` (table): occurrences and rates by IMD decile per CSP and HIPS;
- ``about`` (table): sources, licences, parameters, what was left out.

``hotspot profile STORE_DIR --csp NAME --out DIR`` writes CSV tables and PNG
charts of when and where violence happens in one CSP (or HIPS).

:func:`build_overlay` and :func:`build_profile` return the same tables for use
from Python; the ``plot_*`` functions only draw tables already computed.
The lead registers the parsers in :mod:`hotspot.cli.main` with
:func:`add_overlay_parser` and :func:`add_profile_parser`.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from hotspot.context import deprivation as overlay
from hotspot.context import fires as fire_mod
from hotspot.context import temporal
from hotspot.errors import ParameterError

logger = logging.getLogger(__name__)

#: Occurrence filters matching the partnership's key indicators.
FILTERS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "all": lambda occ: pd.Series(True, index=occ.index),
    "non_domestic": lambda occ: ~occ["domestic"].fillna(False).astype(bool),
    "bladed": lambda occ: occ["bladed_implement"].fillna(False).astype(bool),
    "under_25": lambda occ: (
        (occ["victim_age"].astype("Float64") < 25).fillna(False).astype(bool)
    ),
}
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence "
    "v3.0. IMD: Ministry of Housing, Communities and Local Government. Population and "
    "boundaries: Office for National Statistics. Contains OS data © Crown copyright "
    "and "
    "database right."
)


# ------------------------------------------------------------------ selection
def serious_violence(
    occurrences: pd.DataFrame, *, subset: str = "all", include_flagged: bool = False
) -> pd.DataFrame:
    """Serious-violence rows without data-quality flags, optionally filtered.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        Canonical occurrences (a store). Not modified.
    subset : {"all", "non_domestic", "bladed", "under_25"}, keyword-only
        Key-indicator filter. Rows whose flag or age is not recorded are left
        out of ``bladed`` and ``under_25`` and kept in ``non_domestic``.
    include_flagged : bool, keyword-only
        Keep rows with data-quality flags (the corrupt police.uk month).
    """
    from hotspot.pipeline import analysis_rows

    if subset not in FILTERS:
        raise ParameterError(f"subset must be one of {sorted(FILTERS)}, got {subset!r}")
    rows = analysis_rows(occurrences, include_flagged=include_flagged)
    sv = rows["is_serious_violence"].fillna(False).to_numpy(dtype=bool)
    rows = rows[sv]
    return rows[FILTERS[subset](rows).to_numpy(dtype=bool)]


# -------------------------------------------------------------------- overlay
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
        (see :func:`serious_violence`). Not modified.
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
    from hotspot.detect.gistar import gi_star
    from hotspot.grid import count_points, study_cells

    edition = overlay.check_edition(imd)
    csps = load_csps(grouping=grouping)  # type: ignore[arg-type]
    context = overlay.lsoa_context(edition, grouping=grouping)
    attached = overlay.attach_imd(occurrences, edition=edition)

    cells = count_points(occurrences, study_cells(csps, resolution=resolution))
    cells = gi_star(cells)
    cells = overlay.cells_imd(cells, edition=edition)
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
    rates = overlay.rates_table(attached, level="lsoa", context=context)
    lsoas = overlay.load_lsoas(edition)[["lsoa_code", "geometry"]].merge(
        rates, on="lsoa_code", how="left"
    )
    imd_cols = [c for c in ("imd_score", "imd_rank") if c in context.columns]
    lsoas = lsoas.merge(context[["lsoa_code", *imd_cols]], on="lsoa_code", how="left")

    # CSPs: rates, deprivation shares, concentration, co-location
    csp_rates = overlay.rates_table(attached, level="csp", context=context)
    shares = overlay.deprived_share_table(
        attached, cells=cells, context=context, hot_bin=hot_bin
    )
    conc = overlay.concentration_table(cells)
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
            "imd_deciles": overlay.decile_table(attached, context=context),
            "about": about,
        }
    )
    return layers


def write_layers(layers: dict[str, pd.DataFrame], out: Path | str) -> Path:
    """Write layers to a GeoPackage (tables without geometry as attribute tables)."""
    import pyogrio

    path = Path(out)
    if path.suffix.lower() != ".gpkg":
        raise ParameterError(f"out must end in .gpkg, got {str(out)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    for name, frame in layers.items():
        plain = _plain_dtypes(frame)
        if isinstance(plain, gpd.GeoDataFrame):
            plain.to_file(path, layer=name, driver="GPKG")
        else:
            pyogrio.write_dataframe(plain, path, layer=name, driver="GPKG")
        logger.info("wrote layer %s (%d rows) to %s", name, len(frame), path)
    return path


def _plain_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy with nullable pandas dtypes turned into ones GDAL writes."""
    out = frame.copy()
    out.attrs = {}
    for name in out.columns:
        if name == "geometry":
            continue
        dtype = out[name].dtype
        if isinstance(dtype, pd.BooleanDtype):
            out[name] = out[name].astype("float").astype("Int64").astype(object)
            out[name] = out[name].where(out[name].notna(), None)
        elif isinstance(dtype, pd.Int64Dtype | pd.Float64Dtype):
            out[name] = out[name].astype(float)
        elif pd.api.types.is_bool_dtype(dtype):
            out[name] = out[name].astype(np.int64)
        elif not pd.api.types.is_numeric_dtype(dtype):
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out


def add_overlay_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``hotspot overlay`` on an argparse subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "overlay",
        help="write deprivation, population and fire overlay layers",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("store", type=Path, metavar="STORE_DIR")
    p.add_argument(
        "--imd",
        choices=overlay.EDITIONS,
        default="2025",
        help="IMD edition: 2025 on LSOA 2021 (default) or 2019 on LSOA 2011",
    )
    p.add_argument(
        "--fire",
        type=Path,
        default=None,
        metavar="FILE",
        help="fire incidents in the Home Office incident-level layout",
    )
    p.add_argument("--out", type=Path, required=True, metavar="FILE.gpkg")
    p.add_argument("--resolution", type=int, default=9, help="H3 resolution (7-11)")
    p.add_argument("--grouping", choices=("district", "ons2024"), default="district")
    p.add_argument(
        "--subset",
        choices=sorted(FILTERS),
        default="all",
        help="key-indicator filter of the serious violence",
    )
    p.set_defaults(func=run_overlay_command)
    return p


def run_overlay_command(args: argparse.Namespace) -> int:
    """Run ``hotspot overlay``; return the exit code."""
    from hotspot.ingest.store import load_occurrences

    stored = load_occurrences(args.store)
    violence = serious_violence(stored, subset=args.subset)
    fires = None
    if args.fire is not None:
        read = fire_mod.read_fire_incidents(args.fire)
        logger.info(
            "%s: %d read = %d accepted + %d rejected",
            args.fire,
            read.n_read,
            len(read.accepted),
            read.n_rejected(),
        )
        fires = fire_mod.deliberate_fires(
            fire_mod.locate_fires(read.accepted, grouping=args.grouping)
        )
    from hotspot.pipeline import analysis_rows

    arson = fire_mod.police_arson(analysis_rows(stored))
    layers = build_overlay(
        violence,
        imd=args.imd,
        fires=fires,
        arson=arson,
        grouping=args.grouping,
        resolution=args.resolution,
    )
    path = write_layers(layers, args.out)
    logger.info("overlay written to %s: %s", path, ", ".join(layers))
    return 0


# -------------------------------------------------------------------- profile
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
        Serious-violence occurrences (see :func:`serious_violence`).
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
    tables["monthly"] = temporal.monthly_trend(selected, term_dates=term_dates, by=by)
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
    deciles = overlay.decile_table(attached, context=context)
    rates_lsoa = overlay.rates_table(attached, level="lsoa", context=context)
    if csp is not None:
        code = _csp_code(context, csp)
        deciles = deciles[deciles["csp_code"] == code].reset_index(drop=True)
        rates_lsoa = rates_lsoa[rates_lsoa["csp_code"] == code].reset_index(drop=True)
    else:
        deciles = deciles[deciles["csp_code"] == overlay.HIPS].reset_index(drop=True)
    tables["imd_deciles"] = deciles
    tables["rates_lsoa"] = rates_lsoa
    tables["rates_csp"] = overlay.rates_table(attached, level="csp", context=context)
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


def write_profile(
    tables: dict[str, pd.DataFrame], out_dir: Path | str, *, title: str
) -> list[Path]:
    """Write each table as CSV and the charts as PNG into ``out_dir``."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=name in ("weekday_hour", "weekday", "holiday_vs_term"))
        written.append(path)
    charts: dict[str, Figure] = {
        "monthly": plot_monthly(tables["monthly"], title=title)
    }
    if "weekday_hour" in tables:
        charts["weekday_hour"] = plot_weekday_hour(tables["weekday_hour"], title=title)
    if not tables["imd_deciles"].empty:
        charts["imd_deciles"] = plot_deciles(tables["imd_deciles"], title=title)
    for name, figure in charts.items():
        path = folder / f"{name}.png"
        figure.savefig(path, dpi=120)
        written.append(path)
    logger.info("profile written to %s: %d files", folder, len(written))
    return written


def add_profile_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``hotspot profile`` on an argparse subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "profile",
        help="when and where violence happens in a CSP: CSV tables and PNG charts",
    )
    p.add_argument("store", type=Path, metavar="STORE_DIR")
    p.add_argument(
        "--csp",
        default=None,
        metavar="NAME",
        help="CSP name or code (default: all of HIPS)",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    p.add_argument("--imd", choices=overlay.EDITIONS, default="2025")
    p.add_argument("--grouping", choices=("district", "ons2024"), default="district")
    p.add_argument("--subset", choices=sorted(FILTERS), default="all")
    p.set_defaults(func=run_profile_command)
    return p


def run_profile_command(args: argparse.Namespace) -> int:
    """Run ``hotspot profile``; return the exit code."""
    from hotspot.ingest.store import load_occurrences

    violence = serious_violence(load_occurrences(args.store), subset=args.subset)
    tables = build_profile(violence, csp=args.csp, imd=args.imd, grouping=args.grouping)
    title = f"Serious violence, {args.csp or 'HIPS'}"
    if args.subset != "all":
        title += f" ({args.subset.replace('_', ' ')})"
    write_profile(tables, args.out, title=title)
    return 0


# ------------------------------------------------------------------- drawing
def plot_weekday_hour(table: pd.DataFrame, *, title: str) -> Figure:
    """Heat map of a weekday × hour table (counts printed)."""
    counts = table.loc[list(temporal.WEEKDAYS), list(temporal.HOURS)].to_numpy()
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(counts, cmap="OrRd", aspect="auto")
    ax.set_xticks(range(24), [str(h) for h in range(24)])
    ax.set_yticks(range(7), list(temporal.WEEKDAYS))
    for (row, col), value in np.ndenumerate(counts):
        ax.text(
            col,
            row,
            str(value),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if value > counts.max() * 0.6 else "black",
        )
    ax.set_xlabel("Hour of day (start of occurrence)")
    total = int(table.loc["Total", "Total"])
    ax.set_title(f"{title}: weekday × hour, {total:,} occurrences with a time")
    figure.colorbar(image, ax=ax, label="Occurrences")
    return figure


def plot_monthly(trend: pd.DataFrame, *, title: str) -> Figure:
    """Bar chart of a monthly trend (stacked by source when split), holidays shaded.

    Months at least a quarter school holiday get a grey band behind the bars.
    """
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(trend))
    for pos in x[trend["school_holiday"].to_numpy(dtype=bool)]:
        ax.axvspan(pos - 0.5, pos + 0.5, color="#dddddd", zorder=0)
    parts = [c for c in trend.columns if c.startswith("occurrences_")]
    bottom = np.zeros(len(trend))
    colours = ["#7570b3", "#d95f02", "#1b9e77", "#e7298a", "#66a61e"]
    if parts:
        for colour, column in zip(colours * 3, parts, strict=False):
            per_day = trend[column].to_numpy(dtype=float) / trend["days"].to_numpy()
            ax.bar(
                x,
                per_day,
                bottom=bottom,
                color=colour,
                zorder=2,
                label=column.removeprefix("occurrences_"),
            )
            bottom += per_day
        ax.legend(fontsize=8, title="source", title_fontsize=8)
    else:
        ax.bar(x, trend["per_day"], color=colours[0], zorder=2)
    ax.set_xticks(x, trend["month"], rotation=45, ha="right")
    ax.set_ylabel("Occurrences per day")
    ax.set_title(
        f"{title}: by month (grey: at least a quarter school holiday; "
        "holiday dates approximate)",
        fontsize=10,
    )
    return figure


def plot_deciles(deciles: pd.DataFrame, *, title: str) -> Figure:
    """Rate per 1,000 residents by IMD decile (1 = most deprived)."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    ax = figure.subplots()
    ax.bar(
        deciles["imd_decile"].astype(int),
        deciles["rate_per_1000"].fillna(0),
        color="#1b9e77",
    )
    ax.set_xticks(list(overlay.DECILES))
    ax.set_xlabel("IMD decile (1 = most deprived 10% of LSOAs in England)")
    ax.set_ylabel("Occurrences per 1,000 residents")
    ax.set_title(f"{title}: rate by deprivation decile", fontsize=10)
    return figure


def plot_overlay_map(
    cells: gpd.GeoDataFrame,
    *,
    title: str,
    outlines: gpd.GeoDataFrame | None = None,
    fire_column: str | None = "hot_fire",
) -> Figure:
    """Draw cells by IMD decile with violence and fire hot spots on top.

    ``cells`` is the ``cells`` layer of :func:`build_overlay` (or any subset).
    """
    import textwrap

    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    figure = Figure(figsize=(9, 8.5), layout="constrained")
    ax = figure.subplots()
    palette = ListedColormap(
        [
            "#67001f",
            "#b2182b",
            "#d6604d",
            "#f4a582",
            "#fddbc7",
            "#d1e5f0",
            "#92c5de",
            "#4393c3",
            "#2166ac",
            "#053061",
        ]
    )
    norm = BoundaryNorm(np.arange(0.5, 11.5), palette.N)
    deciles = cells["imd_decile"].astype(float)
    cells.assign(_d=deciles).plot(
        column="_d", cmap=palette, norm=norm, ax=ax, linewidth=0, alpha=0.85
    )
    bar = figure.colorbar(
        ScalarMappable(norm=norm, cmap=palette),
        ax=ax,
        shrink=0.6,
        ticks=list(overlay.DECILES),
    )
    bar.set_label(
        "IMD decile of the cell (largest share of its area; 1 = most deprived)"
    )
    handles: list[Patch] = []
    hot = cells[cells["hot_violence"].astype(bool)]
    if len(hot):
        hot.boundary.plot(ax=ax, color="black", linewidth=1.2)
        handles.append(
            Patch(
                facecolor="none",
                edgecolor="black",
                label="Violence hot spot (Gi* ≥ 95%)",
            )
        )
    if fire_column is not None and fire_column in cells.columns:
        fire_hot = cells[cells[fire_column].astype(bool)]
        if len(fire_hot):
            fire_hot.plot(
                ax=ax, facecolor="none", edgecolor="#00a000", hatch="///", linewidth=0.6
            )
            handles.append(
                Patch(
                    facecolor="none",
                    edgecolor="#00a000",
                    hatch="///",
                    label="Deliberate-fire hot spot (SYNTHETIC fires)",
                )
            )
    if outlines is not None:
        outlines.boundary.plot(ax=ax, color="#333333", linewidth=0.5)
        handles.append(Patch(facecolor="none", edgecolor="#333333", label="LSOA"))
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set_axis_off()
    ax.set_title("\n".join(textwrap.wrap(title, 90)), fontsize=10)
    return figure

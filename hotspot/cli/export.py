r"""The ``hotspot export`` command: a view's layers as partner files.

Examples::

    hotspot export views/southampton.toml --format gpkg --out southampton.gpkg
    hotspot export views/southampton.toml --format geojson --out southampton_geojson
    hotspot export views/southampton.toml --format pdf --out southampton.pdf
    hotspot export views/all.toml --format png --csp Portsmouth --out portsmouth.png

VIEW is a small TOML (or JSON) file naming the store, the CSP, the period, the
categories and the method parameters (docs/exports.md has the full format)::

    title = "Serious violence hot spots"      # optional
    store = "../data/default_store"           # relative to the view file
    csp = "Southampton"                       # name or code; "all" for HIPS
    from = "2025-01"                          # whole months, inclusive
    to = "2025-09"
    categories = ["robbery", "possession_of_weapons"]   # empty: all
    flags = ["nondomestic"]                   # bladed, public, nondomestic, under25
    layers = ["hotspots", "kde", "csp", "wards", "deprivation"]

    [parameters]
    scope = "csp"          # csp | hips
    resolution = 9
    k = 1
    alpha = 0.05
    fdr = true
    weight = "count"       # count | harm
    bandwidth_m = 400      # KDE; the Silverman rule when left out
    cell_size_m = 50

    [disclosure]
    min_count = 5
    round_to = 5           # 0 for no rounding
    max_resolution = 9

Every export goes through disclosure control and the checker before anything
is written in place, and is logged in ``APP_DATA_DIR/exports.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspot.errors import InputFileError, ParameterError
from hotspot.export.bundle import FORMATS, ExportBundle, ExportMetadata, export
from hotspot.export.disclosure import DisclosureRules

logger = logging.getLogger(__name__)

#: Layers a view may ask for.
VIEW_LAYERS: tuple[str, ...] = (
    "hotspots", "kde", "csp", "wards", "deprivation", "fires", "operations",
    "tables",
)
DEFAULT_VIEW_LAYERS: tuple[str, ...] = ("hotspots", "kde", "csp", "wards", "tables")
_TOP_KEYS = {"title", "store", "csp", "grouping", "from", "to", "categories",
             "flags", "layers", "parameters", "disclosure", "fires", "operations",
             "imd_edition"}
_PARAMETER_KEYS = {"scope", "resolution", "k", "alpha", "fdr", "weight",
                   "bandwidth_m", "cell_size_m"}
_MONTH = r"\d{4}-(0[1-9]|1[0-2])"
#: Rows in the top hot spots table.
TOP_N = 10


@dataclass(frozen=True)
class ViewSpec:
    """A view file, read and checked.

    Attributes
    ----------
    path : pathlib.Path
        The view file.
    store : pathlib.Path
        Occurrence store folder (relative paths are taken from the view's folder).
    csp : str
        CSP name or code, or ``"all"``.
    grouping : str
        ``"district"`` or ``"ons2024"``.
    month_from, month_to : str or None
        ``YYYY-MM``, inclusive.
    categories, flags, layers : tuple of str
        As in the view file.
    parameters : dict
        Method parameters (keys of the ``[parameters]`` table).
    rules : DisclosureRules
        From the ``[disclosure]`` table (defaults otherwise).
    title : str or None
        Title; made from the CSP and categories when None.
    fires, operations : pathlib.Path or None
        A fire-incident file and an operations file (GeoPackage or GeoJSON).
    imd_edition : str
        ``"2025"`` or ``"2019"``.
    """

    path: Path
    store: Path
    csp: str = "all"
    grouping: str = "district"
    month_from: str | None = None
    month_to: str | None = None
    categories: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    layers: tuple[str, ...] = DEFAULT_VIEW_LAYERS
    parameters: dict[str, Any] = field(default_factory=dict)
    rules: DisclosureRules = field(default_factory=DisclosureRules)
    title: str | None = None
    fires: Path | None = None
    operations: Path | None = None
    imd_edition: str = "2025"


def _strings(value: Any, *, key: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputFileError(path, f"{key} must be a string or a list of strings, "
                         f"got {value!r}")


def load_view(path: Path | str) -> ViewSpec:
    """Read a view file (TOML, or JSON when it ends in ``.json``).

    Raises
    ------
    InputFileError
        When the file is missing, unreadable, or holds an unknown key or a value
        of the wrong kind; the message names the file and the key.
    """
    source = Path(path)
    if not source.is_file():
        raise InputFileError(source, "view file does not exist")
    try:
        text = source.read_text(encoding="utf-8")
        raw: dict[str, Any] = (json.loads(text) if source.suffix.lower() == ".json"
                               else tomllib.loads(text))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(source, f"not a valid view file: {exc}") from None
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise InputFileError(source, f"unknown keys {sorted(unknown)}; allowed: "
                             f"{sorted(_TOP_KEYS)}")
    params = raw.get("parameters", {}) or {}
    if not isinstance(params, dict) or set(params) - _PARAMETER_KEYS:
        raise InputFileError(source, f"[parameters] may hold only "
                             f"{sorted(_PARAMETER_KEYS)}, got {params!r}")
    layers = _strings(raw.get("layers"), key="layers", path=source) or \
        DEFAULT_VIEW_LAYERS
    bad = set(layers) - set(VIEW_LAYERS)
    if bad:
        raise InputFileError(source, f"layers must be some of {list(VIEW_LAYERS)}, "
                             f"got {sorted(bad)}")
    if "store" not in raw:
        raise InputFileError(source, "store is missing: name the occurrence store "
                             "folder (e.g. store = \"../data/default_store\")")
    try:
        rules = DisclosureRules.from_mapping(raw.get("disclosure", {}) or {})
    except (ParameterError, TypeError) as exc:
        raise InputFileError(source, f"[disclosure]: {exc}") from None
    for key in ("from", "to"):
        value = raw.get(key)
        if value is not None and not (isinstance(value, str)
                                      and re.fullmatch(_MONTH, value)):
            raise InputFileError(source, f"{key} must be a month YYYY-MM, got "
                                 f"{value!r}")
    here = source.parent

    def rel(value: Any, key: str) -> Path | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InputFileError(source, f"{key} must be a path string, got {value!r}")
        p = Path(value)
        return p if p.is_absolute() else here / p

    return ViewSpec(
        path=source, store=rel(raw["store"], "store") or Path(),
        csp=str(raw.get("csp", "all")),
        grouping=str(raw.get("grouping", "district")),
        month_from=raw.get("from"), month_to=raw.get("to"),
        categories=_strings(raw.get("categories"), key="categories", path=source),
        flags=_strings(raw.get("flags"), key="flags", path=source),
        layers=layers, parameters=dict(params), rules=rules,
        title=raw.get("title"), fires=rel(raw.get("fires"), "fires"),
        operations=rel(raw.get("operations"), "operations"),
        imd_edition=str(raw.get("imd_edition", "2025")),
    )


# ----------------------------------------------------------------------------
# building the bundle (calls the engine; computes no statistics itself)
# ----------------------------------------------------------------------------


def build_bundle(spec: ViewSpec, *, csp: str | None = None) -> ExportBundle:
    """Run the view's analysis and gather its layers into an :class:`ExportBundle`.

    Parameters
    ----------
    spec : ViewSpec
        The view.
    csp : str, optional, keyword-only
        CSP name or code overriding the view's.

    Returns
    -------
    ExportBundle
        Layers ``hotspots`` (Gi* cells), ``csp_outline``, ``wards``,
        ``deprivation``, ``fires``, ``operations`` and the tables
        ``top_hotspots``, ``monthly``, ``weekday_hour`` as the view asks and
        the data allow; the density surface when ``kde`` is asked for.
        Sections left out are named in ``notes`` with the reason.
    """
    from hotspot.app.analysis import filter_view, gistar_for_view, serious_violence
    from hotspot.boundaries import load_csps, load_wards
    from hotspot.cli.detect import select_csps
    from hotspot.detect.gistar import ring_weights
    from hotspot.grid import study_cells
    from hotspot.ingest.store import load_occurrences
    from hotspot.view import View, check_view

    p = spec.parameters
    all_csps = load_csps(grouping=spec.grouping)  # type: ignore[arg-type]
    wanted = csp or spec.csp
    chosen = all_csps if wanted == "all" else select_csps(all_csps, [wanted])
    csp_code = "all" if wanted == "all" else str(chosen["csp_code"].iloc[0])
    view = check_view(View(
        csp=csp_code, scope=p.get("scope", "csp"), month_from=spec.month_from,
        month_to=spec.month_to, categories=spec.categories, flags=spec.flags,
        resolution=int(p.get("resolution", 9)), bandwidth_m=p.get("bandwidth_m"),
        k=int(p.get("k", 1)), alpha=float(p.get("alpha", 0.05)),
        fdr=bool(p.get("fdr", True)), weight=str(p.get("weight", "count")),
    ))
    occurrences = load_occurrences(spec.store)
    points, filters = filter_view(serious_violence(occurrences), view)
    area = chosen.geometry.union_all()
    in_area = points[points.geometry.within(area)] if wanted != "all" else points
    layers: dict[str, pd.DataFrame] = {}
    notes: dict[str, str] = {}

    study = chosen if view.scope == "csp" else all_csps
    cells = study_cells(study, resolution=view.resolution,
                        scope=view.scope)  # type: ignore[arg-type]
    weights = ring_weights(cells["h3"].tolist(), k=view.k,
                           study_area=cells["study_area"].tolist())
    result = gistar_for_view(points, cells, weights, view=view, filters=filters)
    if result.cells is None:
        raise ParameterError("the Gi* analysis returned no cell table")
    mine = (result.cells if wanted == "all"
            else result.cells[result.cells["csp_code"] == csp_code])
    if "hotspots" in spec.layers:
        keep = [c for c in ("h3", "csp_code", "csp_name", "count", "harm", "z", "p",
                            "p_fdr", "bin", "rank", "geometry") if c in mine.columns]
        layers["hotspots"] = gpd.GeoDataFrame(mine[keep], geometry="geometry",
                                              crs=mine.crs)
    if "csp" in spec.layers:
        layers["csp_outline"] = chosen[["csp_code", "csp_name", "geometry"]].copy()
    lads = {c.strip() for text in chosen["lad_code"] for c in str(text).split(",")}
    if "wards" in spec.layers:
        wards = load_wards()
        layers["wards"] = wards[wards["lad_code"].isin(lads)][
            ["ward22_code", "ward22_name", "lad_name", "geometry"]]
    density = None
    if "kde" in spec.layers:
        density = _density(in_area, area=area, parameters=p, notes=notes)
    if "deprivation" in spec.layers:
        _deprivation(layers, notes, lads=lads, edition=spec.imd_edition)
    if "fires" in spec.layers:
        _fires(layers, notes, spec=spec, violence=in_area, cells=mine, k=view.k)
    if "operations" in spec.layers:
        _operations(layers, notes, spec=spec, csp_code=csp_code)
    if "tables" in spec.layers:
        _tables(layers, notes, cells=mine, points=in_area, view=view,
                wards=load_wards())
    synthetic = bool(in_area["is_synthetic"].astype("boolean").fillna(False).any())
    place = "HIPS" if wanted == "all" else str(chosen["csp_name"].iloc[0])
    what = ", ".join(c.replace("_", " ") for c in spec.categories) or \
        "serious violence"
    title = spec.title or f"{what.capitalize()} hot spots, {place}"
    if spec.title and place not in spec.title:
        title = f"{spec.title}, {place}"
    parameters = dict(result.parameters)
    if density is not None:
        parameters.update(bandwidth_m=round(density.bandwidth_m, 1),
                          bandwidth_reason=density.bandwidth_reason,
                          cell_size_m=density.cell_size_m)
    meta = ExportMetadata(
        title=title, period=f"{result.data_from} to {result.data_to}",
        filters={**result.filters, "csp": place}, parameters=parameters,
        synthetic=synthetic,
    )
    return ExportBundle(layers=layers, metadata=meta, density=density, notes=notes)


def _density(points: gpd.GeoDataFrame, *, area: Any, parameters: dict[str, Any],
             notes: dict[str, str]) -> Any:
    from hotspot.detect.kde import kde_surface

    if len(points) < 2:
        notes["kde"] = "fewer than two occurrences: no density surface"
        return None
    return kde_surface(points, area=area,
                       cell_size_m=float(parameters.get("cell_size_m", 50.0)),
                       bandwidth_m=parameters.get("bandwidth_m"))


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
           spec: ViewSpec, violence: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
           k: int) -> None:
    if spec.fires is None:
        notes["fires"] = "no fire incident file named in the view (fires = ...)"
        return
    from hotspot.context.fires import (
        colocation_cells,
        deliberate_fires,
        locate_fires,
        read_fire_incidents,
    )

    read = read_fire_incidents(spec.fires)
    fires = locate_fires(deliberate_fires(read.accepted), grouping=spec.grouping)
    table = colocation_cells(violence, fires, cells, k=k)
    keep = [c for c in ("h3", "csp_code", "csp_name", "violence_count", "violence_bin",
                        "fire_count", "fire_z", "fire_bin", "hot_both", "geometry")
            if c in table.columns]
    layers["fires"] = gpd.GeoDataFrame(table[keep], geometry="geometry",
                                       crs=table.crs)


def _operations(layers: dict[str, pd.DataFrame], notes: dict[str, str], *,
                spec: ViewSpec, csp_code: str) -> None:
    if spec.operations is None:
        notes["operations"] = "no operations file named in the view (operations = ...)"
        return
    from hotspot.operations.model import import_operations, operations_table

    table = operations_table(import_operations(spec.operations))
    if csp_code != "all":
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


def _tables(layers: dict[str, pd.DataFrame], notes: dict[str, str], *,
            cells: gpd.GeoDataFrame, points: gpd.GeoDataFrame, view: Any,
            wards: gpd.GeoDataFrame) -> None:
    from hotspot.context.temporal import monthly_trend, weekday_hour

    hot = cells[cells["bin"] > 0].sort_values("z", ascending=False).head(TOP_N)
    centres = gpd.GeoDataFrame(geometry=hot.geometry.centroid, crs=hot.crs)
    in_ward = gpd.sjoin(centres, wards[["ward22_name", "geometry"]], how="left",
                        predicate="within")
    ward = in_ward[~in_ward.index.duplicated()]["ward22_name"].reindex(hot.index)
    layers["top_hotspots"] = pd.DataFrame({
        "rank": range(1, len(hot) + 1), "h3": hot["h3"].to_numpy(),
        "csp_name": hot["csp_name"].to_numpy(), "ward": ward.to_numpy(),
        "count": hot["count"].to_numpy(),
        "harm": hot["harm"].to_numpy(), "z": hot["z"].round(2).to_numpy(),
        "bin": hot["bin"].to_numpy(),
    })
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


# ----------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------


def add_parser(subparsers: Any) -> None:
    """Register the ``export`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "export",
        help="export a view's layers for partners (GeoPackage, GeoJSON, KML, "
        "GeoTIFF, CSV, PDF briefing, PNG map), with disclosure control",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("view", metavar="VIEW", type=Path,
                   help="view file (.toml or .json; docs/exports.md)")
    p.add_argument("--format", dest="fmt", choices=FORMATS, required=True)
    p.add_argument("--out", type=Path, required=True, metavar="PATH",
                   help="file (gpkg, kml, tif, pdf, png) or folder (geojson, csv)")
    p.add_argument("--csp", default=None,
                   help="CSP name or code, overriding the view's")
    p.add_argument("--min-count", type=int, default=None,
                   help="suppress counts below this (overrides the view; default 5)")
    p.add_argument("--round-to", type=int, default=None,
                   help="round counts to this multiple (0: none)")
    p.add_argument("--log-dir", type=Path, default=None,
                   help="folder of the export log (default APP_DATA_DIR)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``hotspot export``; return the exit status (0 on success)."""
    from dataclasses import replace

    spec = load_view(args.view)
    rules = spec.rules
    if args.min_count is not None:
        rules = replace(rules, min_count=args.min_count)
    if args.round_to is not None:
        rules = replace(rules, round_to=args.round_to or None)
    if args.fmt in ("pdf", "png") and (args.csp or spec.csp) == "all":
        raise ParameterError("a briefing is per CSP: name one with --csp or csp = "
                             "... in the view")
    bundle = build_bundle(spec, csp=args.csp)
    for name, why in bundle.notes.items():
        logger.info("left out %s: %s", name, why)
    record = export(bundle, fmt=args.fmt, out=args.out, rules=rules,
                    log_dir=args.log_dir, csp=args.csp or spec.csp)
    for path in record.files:
        logger.info("wrote %s", path)
    return 0

r"""The ``hotspot detect`` command: Gi*, emerging hot spots or kernel density.

Examples::

    hotspot detect var/police --method gistar --scope csp --resolution 9 \\
        --category robbery --category possession_of_weapons --out hot.gpkg
    hotspot detect var/police --method emerging --period month --out trends.gpkg
    hotspot detect var/police --method kde --cell-size 50 --out density.tif

Which occurrences are analysed: by default the rows counted as serious violence
(``is_serious_violence``; where that is not recorded, rows with a category);
with ``--category``, the rows of those categories (approximate police.uk matches
included, since they were asked for by name). Rows with data-quality flags are
left out unless ``--include-flagged``. Dates filter on ``occurred_from``,
``--to`` inclusive of the whole day.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot.detect.emerging import PERIODS, emerging_hot_spots
from hotspot.detect.explain import explain_emerging, explain_gistar
from hotspot.detect.gistar import (
    DEFAULT_PERMUTATIONS,
    check_alpha,
    check_k,
    check_permutations,
    gi_star,
)
from hotspot.detect.result import DetectResult
from hotspot.errors import ParameterError
from hotspot.grid import HIPS_AREA, check_resolution, count_points, study_cells
from hotspot.ingest.quality import flagged

logger = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("gistar", "emerging", "kde")
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


def add_parser(subparsers: Any) -> None:
    """Register the ``detect`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "detect",
        help="find hot spots in a store (Gi*, emerging hot spots, kernel density)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("store_dir", metavar="STORE_DIR", type=Path,
                   help="store written by `hotspot ingest`")
    p.add_argument("--method", choices=METHODS, default="gistar",
                   help="gistar (default), emerging or kde")
    p.add_argument("--out", type=Path, required=True,
                   help="output file: .gpkg for gistar and emerging, .tif for kde")
    p.add_argument("--scope", choices=("csp", "hips"), default="csp",
                   help="csp: each CSP its own study area (default); hips: one")
    p.add_argument("--grouping", choices=("district", "ons2024"), default="district",
                   help="CSP grouping (ons2024 merges the North Hampshire districts)")
    p.add_argument("--resolution", type=int, default=9, help="H3 resolution 7-11")
    p.add_argument("--k", type=int, default=1, help="Gi* ring size (default 1)")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="significance level (default 0.05)")
    p.add_argument("--permutations", type=int, default=0,
                   help=f"0 (normal approximation, default) or e.g. "
                   f"{DEFAULT_PERMUTATIONS}")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the permutations (drawn and reported if not given)")
    p.add_argument("--no-fdr", action="store_true",
                   help="no Benjamini-Hochberg false-discovery adjustment")
    p.add_argument("--weight", choices=("count", "harm"), default="count",
                   help="analyse counts (default) or harm-weighted counts")
    p.add_argument("--period", choices=PERIODS, default=None,
                   help="emerging: time step (chosen from the date range if not given)")
    p.add_argument("--cell-size", type=float, default=50.0,
                   help="kde: raster cell size in metres (default 50)")
    p.add_argument("--bandwidth", type=float, default=None,
                   help="kde: bandwidth in metres (Silverman rule if not given)")
    p.add_argument("--from", dest="date_from", default=None, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", default=None, metavar="YYYY-MM-DD")
    p.add_argument("--category", action="append", default=None,
                   help="serious-violence category (repeatable), e.g. robbery")
    p.add_argument("--csp", action="append", default=None,
                   help="CSP name or code (repeatable); default all 14")
    p.add_argument("--include-flagged", action="store_true",
                   help="keep rows with data-quality flags (left out by default)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


# ----------------------------------------------------------------------------
# selection
# ----------------------------------------------------------------------------


@dataclass
class Selection:
    """Occurrences chosen for an analysis, and how."""

    points: gpd.GeoDataFrame
    filters: dict[str, Any]
    date_from: pd.Timestamp | None
    date_to: pd.Timestamp | None


def _date(text: str | None, *, name: str) -> pd.Timestamp | None:
    if text is None:
        return None
    try:
        return pd.Timestamp(pd.to_datetime(text, format="%Y-%m-%d"))
    except ValueError:
        raise ParameterError(
            f"{name} must be a date YYYY-MM-DD, got {text!r}"
        ) from None


def select_csps(csps: gpd.GeoDataFrame, wanted: list[str] | None) -> gpd.GeoDataFrame:
    """Return the CSPs named by code or name (case-insensitive); all when None."""
    if not wanted:
        return csps
    by_key = {str(c).lower(): c for c in csps["csp_code"]}
    by_key.update({str(n).lower(): c for n, c in zip(csps["csp_name"],
                                                     csps["csp_code"], strict=True)})
    codes = []
    for item in wanted:
        code = by_key.get(item.strip().lower())
        if code is None:
            raise ParameterError(
                f"--csp must be a CSP name or code, got {item!r}; choose from "
                f"{sorted(csps['csp_name'])}"
            )
        codes.append(code)
    return csps[csps["csp_code"].isin(codes)]


def select_occurrences(
    occurrences: gpd.GeoDataFrame,
    *,
    date_from: pd.Timestamp | None = None,
    date_to: pd.Timestamp | None = None,
    categories: list[str] | None = None,
    include_flagged: bool = False,
    area: shapely.Geometry | None = None,
) -> Selection:
    """Filter occurrences for an analysis (rules in the module docstring)."""
    occ = occurrences
    filters: dict[str, Any] = {}
    n0 = len(occ)
    keep = occ.geometry.notna() & ~occ.geometry.is_empty
    if categories:
        cat = occ["sv_category"].astype("string")
        keep &= cat.isin(categories).fillna(False)
        filters["categories"] = list(categories)
        if not cat.isin(categories).any():
            logger.warning("no occurrence has category %s", categories)
    else:
        sv = occ["is_serious_violence"].astype("boolean")
        has_cat = occ["sv_category"].astype("string").notna()
        keep &= sv.fillna(has_cat).astype(bool)
        filters["categories"] = "serious violence (is_serious_violence)"
    if not include_flagged:
        bad = flagged(occ)
        filters["flagged_rows_left_out"] = int((keep & bad).sum())
        keep &= ~bad
    else:
        filters["flagged_rows_left_out"] = 0
    when = pd.to_datetime(occ["occurred_from"])
    if date_from is not None:
        keep &= when >= date_from
        filters["from"] = f"{date_from:%Y-%m-%d}"
    if date_to is not None:
        keep &= when < date_to + pd.Timedelta(days=1)
        filters["to"] = f"{date_to:%Y-%m-%d}"
    keep &= when.notna()
    chosen = occ[keep.to_numpy()]
    if area is not None:
        inside = shapely.contains_xy(area, chosen.geometry.x, chosen.geometry.y)
        filters["outside_csps"] = int((~inside).sum())
        chosen = chosen[inside]
    logger.info("selected %d of %d occurrences (%s)", len(chosen), n0, filters)
    return Selection(chosen, filters, date_from, date_to)


def _noun(categories: list[str] | None) -> tuple[str, str]:
    if categories and len(categories) == 1:
        return CATEGORY_NOUNS.get(categories[0], DEFAULT_NOUN)
    return DEFAULT_NOUN


def _period_text(sel: Selection) -> tuple[str | None, str | None]:
    when = pd.to_datetime(sel.points["occurred_from"])
    start = sel.date_from if sel.date_from is not None else when.min()
    end = sel.date_to if sel.date_to is not None else pd.to_datetime(
        sel.points["occurred_to"]
    ).max()
    if pd.isna(end):
        end = when.max()
    fmt = [None if pd.isna(t) else f"{t:%Y-%m-%d}" for t in (start, end)]
    return fmt[0], fmt[1]


# ----------------------------------------------------------------------------
# methods
# ----------------------------------------------------------------------------


def run_gistar(
    sel: Selection, csps: gpd.GeoDataFrame, args: argparse.Namespace, progress: bool
) -> DetectResult:
    """Gi* per study area on the selected occurrences; returns the packaged result."""
    result = _new_result("gistar", args, sel)
    seed = args.seed
    if args.permutations and seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        result.choose("seed", seed, "no --seed given: drawn so the run can be "
                      "repeated with --seed")
    cells = study_cells(csps, resolution=args.resolution, scope=args.scope,
                        progress=progress)
    counted = count_points(sel.points, cells, weight="harm_weight")
    table = gi_star(
        counted, column=args.weight, k=args.k, alpha=args.alpha,
        fdr=not args.no_fdr, permutations=args.permutations, seed=seed,
        progress=progress,
    )
    from hotspot.detect.explain import hot_cold_rank

    table["rank"] = hot_cold_rank(table)
    table["explanation"] = explain_gistar(
        table, column=args.weight, noun=_noun(args.category),
        area_names=_area_names(table), fdr=not args.no_fdr,
        permutations=args.permutations,
    )
    result.cells = gpd.GeoDataFrame(table[list(GISTAR_OUTPUT)],
                                    geometry=table.geometry, crs=table.crs)
    _counts(result, sel, counted)
    result.counts["hot_cells"] = int((table["bin"] > 0).sum())
    result.counts["cold_cells"] = int((table["bin"] < 0).sum())
    result.counts["untested_cells"] = int(table["z"].isna().sum())
    if not args.permutations:
        sparse_areas = table.groupby("study_area")["area_mean"].first()
        sparse_areas = sparse_areas[sparse_areas < SPARSE_MEAN]
        if len(sparse_areas):
            names = _area_names(table)
            result.warn(
                "the normal approximation of Gi* overstates z where counts are "
                f"sparse (mean below {SPARSE_MEAN} per cell) in "
                + ", ".join(names.get(a, a) for a in sparse_areas.index)
                + f": check these with --permutations {DEFAULT_PERMUTATIONS}"
            )
    if args.permutations and not args.no_fdr:
        tested = table.groupby("study_area")["p"].count()
        floor = 2 / (args.permutations + 1)
        limited = tested[floor * tested > args.alpha]
        if len(limited):
            names = _area_names(table)
            result.warn(
                f"with {args.permutations} permutations the smallest p is "
                f"{floor:.4f}, so after the false-discovery adjustment over "
                "thousands of cells few cells can reach significance in "
                + ", ".join(names.get(a, a) for a in limited.index)
                + ": consider --permutations 9999"
            )
    if result.counts["untested_cells"]:
        result.warn(f"{result.counts['untested_cells']} cells have no defined Gi* "
                    "(no variation in their study area)")
    return result


def run_emerging(
    sel: Selection, csps: gpd.GeoDataFrame, args: argparse.Namespace, progress: bool
) -> DetectResult:
    """Emerging hot spots per study area; returns the packaged result."""
    if args.permutations:
        raise ParameterError("--permutations applies to --method gistar only; the "
                             "trend analysis uses the normal approximation")
    result = _new_result("emerging", args, sel)
    cells = study_cells(csps, resolution=args.resolution, scope=args.scope,
                        progress=progress)
    out = emerging_hot_spots(
        sel.points, cells, period=args.period, column=args.weight,
        weight="harm_weight", k=args.k, alpha=args.alpha, fdr=not args.no_fdr,
        start=sel.date_from, end=sel.date_to, progress=progress,
    )
    if out.choice.automatic:
        result.choose("period", out.choice.period, out.choice.reason)
    else:
        result.parameters["period"] = out.choice.period
    for message in out.warnings:
        result.warn(message)
    table = out.cells
    table["explanation"] = explain_emerging(
        table, period=out.choice.period, column=args.weight,
        noun=_noun(args.category), alpha=args.alpha,
    )
    result.cells = gpd.GeoDataFrame(table[list(EMERGING_OUTPUT)],
                                    geometry=table.geometry, crs=table.crs)
    result.extra["periods"] = out.periods
    counted = count_points(sel.points, cells, weight="harm_weight")
    _counts(result, sel, counted)
    tally = table["category"].value_counts()
    result.counts.update({str(k): int(v) for k, v in tally.items()})
    return result


def run_kde(
    sel: Selection, csps: gpd.GeoDataFrame, args: argparse.Namespace
) -> DetectResult:
    """Kernel density over the selected CSPs, written as GeoTIFF to ``args.out``."""
    from hotspot.detect.kde import kde_surface, write_geotiff

    result = _new_result("kde", args, sel)
    area = csps.geometry.union_all()
    weights = "harm_weight" if args.weight == "harm" else None
    surface = kde_surface(sel.points, area=area, cell_size_m=args.cell_size,
                          bandwidth_m=args.bandwidth, weights=weights)
    if surface.bandwidth_auto:
        result.choose("bandwidth_m", round(float(surface.bandwidth_m), 1),
                      surface.bandwidth_reason)
    else:
        result.parameters["bandwidth_m"] = float(surface.bandwidth_m)
    for message in surface.warnings:
        result.warn(message)
    result.counts = {"occurrences_in": len(sel.points),
                     "occurrences_counted": int(surface.n_points),
                     "outside_area": int(surface.n_points_outside)}
    result.extra["raster_shape"] = list(surface.shape)
    tags = {
        "period": f"{result.data_from}/{result.data_to}",
        "filters": json.dumps(result.filters, default=str),
        "csps": ", ".join(sorted(csps["csp_name"])),
    }
    write_geotiff(surface, args.out, tags=tags)
    return result


def _new_result(
    method: str, args: argparse.Namespace, sel: Selection
) -> DetectResult:
    params: dict[str, Any] = {"store": str(args.store_dir), "grouping": args.grouping}
    if method in ("gistar", "emerging"):
        params.update(scope=args.scope, resolution=args.resolution, k=args.k,
                      alpha=args.alpha, fdr=not args.no_fdr, weight=args.weight)
    if method == "gistar":
        params.update(permutations=args.permutations, seed=args.seed)
    if method == "kde":
        params.update(cell_size_m=args.cell_size, weight=args.weight)
    data_from, data_to = _period_text(sel)
    return DetectResult(method=method, parameters=params, filters=sel.filters,
                        data_from=data_from, data_to=data_to)


def _area_names(table: pd.DataFrame) -> dict[str, str]:
    names = dict(zip(table["csp_code"], table["csp_name"], strict=False))
    names[HIPS_AREA] = HIPS_AREA
    return names


def _counts(result: DetectResult, sel: Selection, counted: gpd.GeoDataFrame) -> None:
    result.counts.update(
        occurrences_in=len(sel.points),
        occurrences_counted=int(counted["count"].sum()),
        outside_study_cells=int(counted.attrs.get("points_outside", 0)),
        cells=len(counted),
        zero_cells=int((counted["count"] == 0).sum()),
        study_areas=int(counted["study_area"].nunique()),
    )


def _write_gpkg(result: DetectResult, path: Path) -> None:
    import pyogrio

    if result.cells is None:
        raise ParameterError("nothing to write: the result has no cell table")
    frame = result.cells.copy()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.StringDtype):
            frame[name] = frame[name].astype(object)
        elif str(frame[name].dtype) == "Int64":
            frame[name] = frame[name].astype("float64")
    if path.exists():
        path.unlink()
    meta = {"hotspot": json.dumps(result.metadata(), default=str)}
    pyogrio.write_dataframe(frame, path, layer=result.method, driver="GPKG",
                            layer_metadata=meta)


# ----------------------------------------------------------------------------
# entry point
# ----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Run ``hotspot detect``; return the exit status (0 on success)."""
    from hotspot.boundaries import load_csps
    from hotspot.ingest.store import load_occurrences

    check_resolution(args.resolution)
    check_k(args.k)
    check_alpha(args.alpha)
    check_permutations(args.permutations)
    suffix = ".tif" if args.method == "kde" else ".gpkg"
    if args.out.suffix.lower() not in ((".tif", ".tiff") if suffix == ".tif"
                                       else (".gpkg",)):
        raise ParameterError(
            f"--out must end in {suffix} for --method {args.method}, got {args.out}"
        )
    if not args.out.parent.exists():
        raise ParameterError(f"--out folder {args.out.parent} does not exist")
    progress = not (args.no_progress or getattr(args, "quiet", False))
    csps = select_csps(load_csps(grouping=args.grouping), args.csp)
    sel = select_occurrences(
        load_occurrences(args.store_dir),
        date_from=_date(args.date_from, name="--from"),
        date_to=_date(args.date_to, name="--to"),
        categories=args.category,
        include_flagged=args.include_flagged,
        area=csps.geometry.union_all(),
    )
    if args.csp:
        sel.filters["csps"] = sorted(csps["csp_name"])
    if sel.points.empty:
        raise ParameterError(
            "no occurrences left after the filters "
            f"{sel.filters}; widen --from/--to, --category or --csp"
        )
    if args.method == "gistar":
        result = run_gistar(sel, csps, args, progress)
    elif args.method == "emerging":
        result = run_emerging(sel, csps, args, progress)
    else:
        result = run_kde(sel, csps, args)
    if args.method != "kde":
        _write_gpkg(result, args.out)
    for line in result.summary().splitlines():
        logger.info("%s", line)
    logger.info("wrote %s", args.out)
    return 0

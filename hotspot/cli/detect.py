r"""The ``hotspot detect`` command: Gi*, emerging hot spots or kernel density.

Examples::

    hotspot detect var/police --method gistar --scope csp --resolution 9 \\
        --category robbery --category possession_of_weapons --out hot.gpkg
    hotspot detect var/police --method emerging --period month --out trends.gpkg
    hotspot detect var/police --method kde --cell-size 50 --out density.tif

Which occurrences are analysed is the one selection rule every surface uses
(:mod:`hotspot.selection`): serious violence (approximate police.uk matches
only with ``--include-approximate``), without data-quality flags unless
``--include-flagged``, in the period (``--from``/``--to``, days inclusive), of
the ``--category`` and ``--flag`` filters (rows whose flag is not recorded are
left out unless ``--unknown-flags keep``; the log says how many).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hotspot.errors import ParameterError
from hotspot.settings import (
    DEFAULTS,
    GROUPINGS,
    K_VALUES,
    RESOLUTIONS,
    SCOPES,
    WEIGHTS,
)

logger = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("gistar", "emerging", "kde")
PERIODS: tuple[str, ...] = ("week", "month", "quarter")


def add_view_arguments(p: argparse.ArgumentParser) -> None:
    """Add the row-selection and analysis flags every analysing verb shares."""
    p.add_argument("--scope", choices=SCOPES, default=DEFAULTS.scope,
                   help="csp: each CSP its own study area (default); hips: one")
    p.add_argument("--grouping", choices=GROUPINGS, default=DEFAULTS.grouping,
                   help="CSP grouping (ons2024 merges the North Hampshire districts)")
    p.add_argument("--resolution", type=int, default=DEFAULTS.resolution,
                   help=f"H3 resolution, one of {list(RESOLUTIONS)} (default 9)")
    p.add_argument("--k", type=int, default=DEFAULTS.k,
                   help=f"Gi* ring size, one of {list(K_VALUES)} (default 1)")
    p.add_argument("--alpha", type=float, default=DEFAULTS.alpha,
                   help="significance level: 0.01, 0.05 (default) or 0.1")
    p.add_argument("--no-fdr", action="store_true",
                   help="no Benjamini-Hochberg false-discovery adjustment")
    p.add_argument("--weight", choices=WEIGHTS, default=DEFAULTS.weight,
                   help="analyse counts (default) or harm-weighted counts")
    p.add_argument("--from", dest="date_from", default=None,
                   metavar="YYYY-MM[-DD]")
    p.add_argument("--to", dest="date_to", default=None, metavar="YYYY-MM[-DD]",
                   help="inclusive (a month means its last day)")
    p.add_argument("--category", action="append", default=None,
                   help="serious-violence category (repeatable), e.g. robbery")
    p.add_argument("--flag", action="append", default=None,
                   help="flag filter (repeatable): bladed, public, nondomestic, "
                   "under25")
    p.add_argument("--unknown-flags", choices=("drop", "keep"), default="drop",
                   help="rows whose flag is not recorded: left out (default) or "
                   "kept")
    p.add_argument("--csp", action="append", default=None,
                   help="CSP name or code (repeatable); default all 14")
    p.add_argument("--include-flagged", action="store_true",
                   help="keep rows with data-quality flags (left out by default)")
    p.add_argument("--include-approximate", action="store_true",
                   help="count approximate police.uk matches (violence and "
                   "sexual offences, public order) as serious violence")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


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
    add_view_arguments(p)
    p.add_argument("--permutations", type=int, default=DEFAULTS.permutations,
                   help="0 (normal approximation, default) or e.g. 999")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the permutations (drawn and reported if not given)")
    p.add_argument("--period", choices=PERIODS, default=None,
                   help="emerging: time step (chosen from the date range if not given)")
    p.add_argument("--cell-size", type=float, default=DEFAULTS.cell_size_m,
                   help="kde: raster cell size in metres (default 50)")
    p.add_argument("--bandwidth", type=float, default=None,
                   help="kde: bandwidth in metres (chosen automatically if not given)")
    p.set_defaults(func=run)


def view_from_args(args: argparse.Namespace) -> Any:
    """Build the one :class:`~hotspot.view.View` from the shared flags."""
    from hotspot.selection import canonical_flags
    from hotspot.view import View, check_view

    flags, notes = canonical_flags(args.flag or ())
    for note in notes:
        logger.info("%s", note)
    return check_view(View(
        scope=args.scope, grouping=args.grouping, resolution=args.resolution,
        k=args.k, alpha=args.alpha, fdr=not args.no_fdr, weight=args.weight,
        month_from=args.date_from, month_to=args.date_to,
        categories=tuple(args.category or ()), flags=flags,
        unknown_flags=args.unknown_flags, include_flagged=args.include_flagged,
        include_approximate=args.include_approximate,
        permutations=getattr(args, "permutations", 0),
        seed=getattr(args, "seed", None),
        bandwidth_m=getattr(args, "bandwidth", None),
        cell_size_m=getattr(args, "cell_size", DEFAULTS.cell_size_m),
    ))


def run(args: argparse.Namespace) -> int:
    """Run ``hotspot detect``; return the exit status (0 on success)."""
    from hotspot.boundaries import find_csps, load_csps
    from hotspot.export.results import write_result_gpkg

    view = view_from_args(args)
    suffix = (".tif", ".tiff") if args.method == "kde" else (".gpkg",)
    if args.out.suffix.lower() not in suffix:
        raise ParameterError(
            f"--out must end in {suffix[0]} for --method {args.method}, got {args.out}"
        )
    if not args.out.parent.exists():
        raise ParameterError(f"--out folder {args.out.parent} does not exist")
    progress = not (args.no_progress or getattr(args, "quiet", False))
    csps = find_csps(load_csps(grouping=view.grouping), args.csp, name="--csp")
    with _occurrences(args.store_dir) as occurrences:
        result = _detect(args, view, csps, occurrences, progress)
    result.parameters["store"] = str(args.store_dir)
    if args.method != "kde":
        write_result_gpkg(result, args.out)
    for line in result.summary().splitlines():
        logger.info("%s", line)
    logger.info("wrote %s", args.out)
    return 0


@contextmanager
def _occurrences(store_dir: Path) -> Iterator[Any]:
    """Yield what the analysis counts from: the store in DuckDB, or its rows.

    A partitioned store is asked through DuckDB (only counts per cell and
    period, and points gathered at their locations, reach Python); a
    single-file store (small: the embedded default) loads its rows.
    """
    from hotspot.ingest.partitions import is_partitioned
    from hotspot.ingest.query import StoreQuery
    from hotspot.ingest.store import load_occurrences

    if is_partitioned(store_dir):
        with StoreQuery(store_dir) as query:
            yield query
    else:
        yield load_occurrences(store_dir)


def _detect(args: argparse.Namespace, view: Any, csps: Any, occurrences: Any,
            progress: bool) -> Any:
    """Run the method of ``args`` on the occurrences; return its DetectResult."""
    from hotspot import analysis
    from hotspot.export.results import write_surface

    if args.method == "gistar":
        found = analysis.analyse(occurrences, view, csps=csps, progress=progress,
                                 require_rows=True)
        result = found.result
        result.cells = found.view_cells()
    elif args.method == "emerging":
        result = analysis.emerging(occurrences, view, csps=csps, period=args.period,
                                   progress=progress)
    else:
        surface, result = analysis.density(occurrences, view, csps=csps)
        write_surface(surface, args.out, result=result, csps=csps)
    return result

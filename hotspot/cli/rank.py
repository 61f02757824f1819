r"""The ``hotspot rank`` command: cells ranked by the occurrences expected next.

Examples::

    hotspot rank var/police --category robbery --category possession_of_weapons \\
        --source police_uk --to 2025-06-30 --out ranked.gpkg
    hotspot rank data/default_store --csp Southampton --weight harm --out top.csv

Which occurrences are forecast: by default serious violence
(``is_serious_violence``; where that is not recorded, rows with a category);
with ``--category``, the serious-violence rows of those categories (the
project's selection rule); ``--source`` limits them to some sources
(``police_uk``, ``records``). Every other police.uk crime in the store is read
as a leading indicator. Rows with data-quality flags are left out; flagged or
empty months are missing, not zero. ``--to`` fits on whole months up to that day
(default: the end of the last month in the store), so a backtest can be run by
hand. The settings are chosen by rolling-origin validation on the months before
``--to`` and logged.

Output: one row per study cell with ``h3``, ``csp_code``, ``csp_name``, ``rank``
(1 = highest expected, across every CSP chosen), ``csp_rank``, ``score``
(expected occurrences, or harm, in the next ``--horizon`` months), ``count``,
``harm``, ``reason``, ``z`` and ``bin`` (Gi* evidence per CSP), and the hexagon
in a GeoPackage (``.gpkg``) or no geometry in ``.csv``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotspot.errors import ParameterError

if TYPE_CHECKING:  # imported by the verbs when they run: `--help` stays fast
    import geopandas as gpd
    import pandas as pd

logger = logging.getLogger(__name__)

OUT_SUFFIXES: tuple[str, ...] = (".gpkg", ".csv")


def add_parser(subparsers: Any) -> None:
    """Register the ``rank`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "rank",
        help="rank cells by the occurrences (or harm) expected in the coming month",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(p)
    p.add_argument(
        "--to",
        dest="date_to",
        default=None,
        metavar="YYYY-MM-DD",
        help="fit on whole months up to this day (default: the last "
        "month in the store)",
    )
    p.add_argument(
        "--weight",
        choices=("count", "harm"),
        default="count",
        help="rank by expected occurrences (default) or harm",
    )
    p.add_argument(
        "--horizon", type=int, default=1, help="months the score covers (default 1)"
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output file: .gpkg (with hexagons) or .csv",
    )
    p.set_defaults(func=run)


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by ``rank`` and ``backtest``: store, rows, CSPs, cells."""
    p.add_argument(
        "store_dir",
        metavar="STORE_DIR",
        type=Path,
        help="store written by `hotspot ingest`",
    )
    p.add_argument(
        "--category",
        action="append",
        default=None,
        help="serious-violence category (repeatable), e.g. robbery",
    )
    p.add_argument(
        "--source",
        action="append",
        default=None,
        help="occurrence source (repeatable), e.g. police_uk; default all",
    )
    p.add_argument(
        "--csp",
        action="append",
        default=None,
        help="CSP name or code (repeatable); default all 14",
    )
    p.add_argument(
        "--grouping",
        choices=("district", "ons2024"),
        default="district",
        help="CSP grouping (ons2024 merges the North Hampshire districts)",
    )
    p.add_argument("--resolution", type=int, default=9, help="H3 resolution 7-11")


def find_csps(csps: gpd.GeoDataFrame, wanted: list[str] | None) -> gpd.GeoDataFrame:
    """Return the CSPs named by ``--csp`` (the project's one CSP lookup)."""
    from hotspot.boundaries import find_csps as lookup

    return lookup(csps, wanted, name="--csp")


def parse_date(text: str | None, *, name: str) -> pd.Timestamp | None:
    """Parse a ``YYYY-MM-DD`` argument into a Timestamp (None stays None)."""
    import pandas as pd

    if text is None:
        return None
    try:
        return pd.Timestamp(pd.to_datetime(text, format="%Y-%m-%d"))
    except ValueError:
        raise ParameterError(
            f"{name} must be a date YYYY-MM-DD, got {text!r}"
        ) from None


def load_inputs(
    args: argparse.Namespace, *, query: bool = False
) -> tuple[Any, gpd.GeoDataFrame, Any]:
    """Occurrences, study cells of the chosen CSPs, and the target of ``args``.

    With ``query``, a partitioned store is not loaded but asked through DuckDB
    (a :class:`hotspot.ingest.query.StoreQuery`, which the caller closes).
    """
    from hotspot.boundaries import load_csps
    from hotspot.detect.rank import TargetSpec
    from hotspot.grid import check_resolution, study_cells
    from hotspot.ingest.partitions import is_partitioned
    from hotspot.ingest.query import StoreQuery
    from hotspot.ingest.store import load_occurrences

    check_resolution(args.resolution)
    csps = find_csps(load_csps(grouping=args.grouping), args.csp)
    cells = study_cells(csps, resolution=args.resolution, scope="csp")
    occurrences: Any = (StoreQuery(args.store_dir)
                        if query and is_partitioned(args.store_dir)
                        else load_occurrences(args.store_dir))
    if args.source:
        known = (set(occurrences.sources()) if isinstance(occurrences, StoreQuery)
                 else set(occurrences["source"].astype("string").dropna().unique()))
        unknown = sorted(set(args.source) - known)
        if unknown:
            raise ParameterError(
                f"--source must be among the store's sources {sorted(known)}, got "
                f"{unknown}"
            )
    target = TargetSpec(
        categories=tuple(args.category or ()), sources=tuple(args.source or ())
    )
    return occurrences, cells, target


def write_table(
    frame: gpd.GeoDataFrame, path: Path, *, layer: str, metadata: dict[str, Any]
) -> None:
    """Write a cell table as GeoPackage (with metadata) or CSV (no geometry)."""
    import pandas as pd
    import pyogrio

    if path.exists():
        path.unlink()
    if path.suffix.lower() == ".csv":
        pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_csv(path, index=False)
        return
    out = frame.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.StringDtype):
            out[name] = out[name].astype(object)
    pyogrio.write_dataframe(
        out,
        path,
        layer=layer,
        driver="GPKG",
        layer_metadata={"hotspot": json.dumps(metadata, default=str)},
    )


def run(args: argparse.Namespace) -> int:
    """Run ``hotspot rank``; return the exit status (0 on success)."""
    from hotspot.analysis import last_month_end
    from hotspot.detect.rank import rank_cells

    if args.out.suffix.lower() not in OUT_SUFFIXES:
        raise ParameterError(f"--out must end in .gpkg or .csv, got {args.out}")
    if not args.out.parent.exists():
        raise ParameterError(f"--out folder {args.out.parent} does not exist")
    occurrences, cells, target = load_inputs(args, query=True)
    try:
        fit_to = (parse_date(args.date_to, name="--to")
                  or last_month_end(occurrences))
        ranking = rank_cells(
            occurrences,
            cells,
            target=target,
            fit_to=fit_to,
            weight=args.weight,
            horizon_months=args.horizon,
        )
    finally:
        if hasattr(occurrences, "close"):
            occurrences.close()
    meta = {
        "method": "rank",
        "store": str(args.store_dir),
        "fit_to": f"{fit_to:%Y-%m-%d}",
        "target": {
            "categories": list(target.categories) or "serious violence",
            "sources": list(target.sources) or "all",
        },
        "weight": args.weight,
        "horizon_months": args.horizon,
        "settings": ranking.settings.label(),
        "chosen_by": ranking.chosen_by,
        "coefficients": ranking.coefficients,
        "months_used": ranking.months_used,
        "months_missing": ranking.months_missing,
        "warnings": ranking.warnings,
    }
    write_table(ranking.cells, args.out, layer="rank", metadata=meta)
    for line in ranking.summary().splitlines():
        logger.info("%s", line)
    top = ranking.cells.head(5)
    for row in top.itertuples():
        logger.info("#%d %s (%s): %s", row.rank, row.h3, row.csp_name, row.reason)
    logger.info("wrote %s (%d cells)", args.out, len(ranking.cells))
    return 0

r"""The ``hotspot review`` command: compare the CSPs (the league table).

Examples::

    hotspot review data/default_store --out review
    hotspot review data/default_store --out review --from 2025-01 --to 2025-06
    hotspot review data/default_store --out review --csp Portsmouth --csp Havant
    hotspot review data/default_store --out review --pack briefings.zip

Writes into ``--out``: ``league_table.csv`` (one row per CSP and a HIPS row over
all of HIPS: occurrences, rate per 1,000 residents with its 95% interval,
changes against the previous period and a year earlier with a test, top-5%
concentration, IMD deciles 1-2, night-time share, fire co-location), the chart
``rates.png`` and ``README.txt`` (period, what could be compared, definitions).
The table holds true counts: it is the analyst's. ``--pack FILE.zip`` writes
what partners may receive: the league table through disclosure control and a
briefing PDF per CSP (each through disclosure control and the checker).
The period is whole months (default: the last three months of the data).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from hotspot.settings import DEFAULTS, GROUPINGS, RESOLUTIONS, SYNTHETIC_FIRES

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> None:
    """Register the ``review`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "review",
        help="compare the CSPs: league table of rates, changes and context "
        "(CSV, chart, README; --pack: partner briefings for every CSP)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("store", type=Path, metavar="STORE_DIR")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    p.add_argument("--csp", action="append", default=[], metavar="NAME",
                   help="CSP name or code to list (repeatable; default all; the "
                   "HIPS row is always over all of HIPS)")
    p.add_argument("--from", dest="month_from", default=None, metavar="YYYY-MM")
    p.add_argument("--to", dest="month_to", default=None, metavar="YYYY-MM")
    p.add_argument("--category", action="append", default=[],
                   help="serious-violence category (repeatable; default all)")
    p.add_argument("--flag", action="append", default=[],
                   help="flag filter: bladed, public, nondomestic, under25")
    p.add_argument("--unknown-flags", choices=("drop", "keep"), default="drop")
    p.add_argument("--grouping", choices=GROUPINGS, default=DEFAULTS.grouping)
    p.add_argument("--resolution", type=int, choices=RESOLUTIONS,
                   default=DEFAULTS.resolution,
                   help="H3 resolution of the concentration (default 9)")
    p.add_argument("--imd", choices=("2025", "2019"), default="2025")
    p.add_argument("--fire", default=str(SYNTHETIC_FIRES), metavar="FILE",
                   help="fire incidents (default: the embedded SYNTHETIC ones; "
                   "'none' for none)")
    p.add_argument("--pack", type=Path, default=None, metavar="FILE.zip",
                   help="also write the partner pack (league table and a "
                   "briefing PDF per CSP, through disclosure control)")
    p.add_argument("--min-count", type=int, default=None,
                   help="pack: suppress counts below this (never below the floor)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``hotspot review``; return the exit status (0 on success)."""
    from dataclasses import replace

    from hotspot.boundaries import find_csps, load_csps
    from hotspot.context.review import league_table
    from hotspot.errors import ParameterError
    from hotspot.export.disclosure import DEFAULT_RULES
    from hotspot.export.review_pack import readme_text
    from hotspot.ingest.store import load_occurrences
    from hotspot.render.charts import plot_league_rates
    from hotspot.view import View

    if args.pack is not None and args.pack.suffix.lower() != ".zip":
        raise ParameterError(f"--pack must end in .zip, got {args.pack}")
    view = View(month_from=args.month_from, month_to=args.month_to,
                categories=tuple(args.category), flags=tuple(args.flag),
                unknown_flags=args.unknown_flags, grouping=args.grouping,
                resolution=args.resolution, imd=args.imd)
    codes: tuple[str, ...] = ()
    if args.csp:
        chosen = find_csps(load_csps(grouping=args.grouping), args.csp)
        codes = tuple(chosen["csp_code"])
    fire_path = None if str(args.fire).lower() == "none" else Path(args.fire)
    occurrences = load_occurrences(args.store)
    fires = _fires(fire_path, args.grouping)
    league = league_table(occurrences, view, fires=fires, csps=codes)
    for note in league.notes:
        logger.info("%s", note)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    league.table.to_csv(out / "league_table.csv", index=False)
    title = f"Serious violence per 1,000 residents, {league.start} to {league.end}"
    if league.synthetic:
        title = "SYNTHETIC data included. " + title
    plot_league_rates(league.table, title=title).savefig(out / "rates.png", dpi=120)
    (out / "README.txt").write_text(readme_text(league, partner=False),
                                    encoding="utf-8")
    logger.info("review written to %s: league_table.csv, rates.png, README.txt", out)
    if args.pack is not None:
        from hotspot.export.review_pack import write_pack

        rules = DEFAULT_RULES if args.min_count is None else replace(
            DEFAULT_RULES, min_count=args.min_count)
        whole = league if not codes else league_table(occurrences, view, fires=fires)
        data = write_pack(whole, occurrences, store=args.store, fires=fire_path,
                          rules=rules,
                          progress=lambda name: logger.info("briefing: %s", name))
        args.pack.write_bytes(data)
        logger.info("partner pack written to %s", args.pack)
    return 0


def _fires(path: Path | None, grouping: str) -> Any:
    if path is None:
        return None
    from hotspot.context.fires import deliberate_fires, locate_fires
    from hotspot.ingest.fire import read_fire_incidents

    read = read_fire_incidents(path)
    return locate_fires(deliberate_fires(read.accepted), grouping=grouping)

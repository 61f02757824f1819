"""The ``hotspot`` command: the parser, logging and exit codes.

Subcommands (one module each in :mod:`hotspot.cli`)
---------------------------------------------------
ingest    read sources into an occurrence store (``STORE_DIR``)
summary   print a store's ingest summary
template  write the blank CSV template for hand-filled occurrences
detect    find hot spots in a store (Gi*, kernel density, emerging hot spots)
overlay   deprivation, population rates and deliberate fires per H3 cell and CSP
profile   when violence happens in a CSP: tables and charts
operation plan operations (Op Meero-style), patrol plans and did-it-work checks
export    files for partners (GeoPackage, GeoJSON, KML, GeoTIFF, CSV, PDF, PNG),
          through disclosure control
rank      cells ranked by the occurrences expected next (the recommended list)
backtest  how well rankings and naive baselines predicted later months
review    compare the CSPs: league table, chart, partner briefing pack
serve     start the app

Building the parser imports only the verb modules, which import their analysis
when they run: ``hotspot --help`` does not load pandas or the readers.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hotspot import __version__
from hotspot.cli import (
    backtest,
    detect,
    export,
    ingest,
    operation,
    profile,
    rank,
    review,
    serve,
)
from hotspot.errors import HotspotError

logger = logging.getLogger("hotspot")

EPILOG = """\
examples:
  hotspot ingest data/police_uk/hampshire_street_2024-01_2025-09.parquet \
      --out var/police
  hotspot ingest extract.xlsx --format records --mapping my_rms.toml --out var/rms
  hotspot summary var/police
  hotspot detect var/police --method gistar --scope csp --resolution 9 --out hot.gpkg

Every subcommand has its own --help. Rows that cannot be used are written to
STORE_DIR/rejects.csv with the file, row, field and reason; nothing is dropped silently.
"""


def _setup_logging(verbosity: int) -> None:
    level = (
        logging.WARNING
        if verbosity < 0
        else (logging.INFO if verbosity == 0 else logging.DEBUG)
    )
    logging.basicConfig(
        level=level,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the ``hotspot`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="hotspot",
        description="Serious-violence hot spots for the HIPS Violence Reduction "
        "Partnership: ingest occurrences, find hot spots, export layers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hotspot {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more detail in the log (repeat for debug)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="warnings only, and no progress bars"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    ingest.add_ingest_parser(subparsers)
    ingest.add_summary_parser(subparsers)
    ingest.add_template_parser(subparsers)
    detect.add_parser(subparsers)
    profile.add_overlay_parser(subparsers)
    profile.add_profile_parser(subparsers)
    operation.add_parser(subparsers)
    export.add_parser(subparsers)
    rank.add_parser(subparsers)
    backtest.add_parser(subparsers)
    review.add_parser(subparsers)
    serve.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hotspot`` command; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(-1 if args.quiet else args.verbose)
    try:
        status: int = args.func(args)
    except (HotspotError, OSError) as exc:
        logger.error("%s", exc)
        print(f"hotspot {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - never a traceback for the user
        reference = _log_unexpected(args.command, exc)
        print(f"hotspot {args.command}: unexpected error ({type(exc).__name__}: "
              f"{str(exc)[:300]}); details are in {reference}", file=sys.stderr)
        return 3
    return status


def _log_unexpected(command: str, exc: BaseException) -> str:
    """Write an unexpected error's traceback to a file; return where it is."""
    import tempfile
    import traceback
    from datetime import UTC, datetime

    from hotspot import settings

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = settings.APP_DATA_DIR / "errors"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    path = folder / f"hotspot-{command}-{stamp}.txt"
    path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    logger.debug("unexpected error logged to %s", path)
    return str(path)


if __name__ == "__main__":
    sys.exit(main())

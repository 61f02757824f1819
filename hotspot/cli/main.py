"""The ``hotspot`` command.

Subcommands
-----------
ingest    read sources into an occurrence store (``STORE_DIR``)
summary   print a store's ingest summary
template  write the blank CSV template for hand-filled occurrences
detect    find hot spots in a store (Gi*, kernel density, emerging hot spots)
overlay   deprivation, population rates and deliberate fires per H3 cell and CSP
profile   when violence happens in a CSP: tables and charts
operation plan operations (Op Meero-style), patrol plans and did-it-work checks
export    files for partners (GeoPackage, GeoJSON, KML, GeoTIFF, CSV, PDF, PNG),
          through disclosure control
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hotspot import __version__
from hotspot.errors import HotspotError

logger = logging.getLogger("hotspot")

EPILOG = """\
examples:
  hotspot ingest data/police_uk/hampshire_street_2025-01_2025-09.parquet \
      --out var/police
  hotspot ingest extract.xlsx --format records --mapping my_rms.toml --out var/rms
  hotspot summary var/police
  hotspot detect var/police --method gistar --scope csp --resolution 9 --out hot.gpkg

Every subcommand has its own --help. Rows that cannot be used are written to
STORE_DIR/rejects.csv with the file, row, field and reason; nothing is dropped silently.
"""


#: Subcommands defined beside the code they drive: (module, function adding it).
EXTRA_SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("hotspot.cli.detect", "add_parser"),
    ("hotspot.cli.profile", "add_overlay_parser"),
    ("hotspot.cli.profile", "add_profile_parser"),
    ("hotspot.cli.operation", "add_parser"),
    ("hotspot.cli.export", "add_parser"),
    ("hotspot.cli.serve", "add_parser"),
    ("hotspot.cli.rank", "add_parser"),
    ("hotspot.cli.backtest", "add_parser"),
)


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


def _add_ingest(subparsers: Any) -> None:
    from hotspot.ingest.sources import FORMATS

    p = subparsers.add_parser(
        "ingest",
        help="read police.uk files, records extracts, A&E (ISTV) extracts or the "
        "template into an occurrence store",
        description="Read sources, geocode them offline, classify serious violence, "
        "assign CSPs and LSOAs, run data-quality checks, and write "
        "STORE_DIR/occurrences.parquet, STORE_DIR/rejects.csv and "
        "STORE_DIR/summary.json.",
    )
    p.add_argument(
        "sources",
        nargs="+",
        type=Path,
        metavar="SOURCE",
        help="a file, a folder or a zip of police.uk monthly files",
    )
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="STORE_DIR",
        help="folder to write the store into (created if needed)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="input layout; detected from the headers when not given",
    )
    p.add_argument(
        "--mapping",
        type=Path,
        default=None,
        metavar="FILE.toml",
        help="column mapping for a records extract (docs/column-mapping.md)",
    )
    p.add_argument(
        "--grouping",
        choices=("district", "ons2024"),
        default="district",
        help="CSP areas: 14 districts (default) or the ONS 2024 grouping "
        "with North Hampshire",
    )
    p.set_defaults(func=_run_ingest)


def _run_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hotspot.ingest.mapping import load_mapping
    from hotspot.pipeline import ingest_to_store

    mapping = load_mapping(args.mapping) if args.mapping else None
    stages = ["read", "geocode", "classify", "locate", "check", "write"]
    with tqdm(
        total=len(stages), desc="ingest", unit="stage", disable=args.quiet
    ) as bar:

        def progress(stage: str) -> None:
            bar.set_postfix_str(stage)
            if stage != "read":
                bar.update(1)

        result = ingest_to_store(
            args.sources,
            args.out,
            fmt=args.format,
            mapping=mapping,
            grouping=args.grouping,
            progress=progress,
        )
        bar.update(1)
    print(format_summary(result.summary))
    return 0


def _add_summary(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "summary",
        help="print a store's ingest summary",
        description="Print the ingest summary of STORE_DIR.",
    )
    p.add_argument("store", type=Path, metavar="STORE_DIR")
    p.add_argument("--json", action="store_true", help="print the raw JSON")
    p.set_defaults(func=_run_summary)


def _run_summary(args: argparse.Namespace) -> int:
    from hotspot.ingest.store import load_summary

    summary = load_summary(args.store)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def _add_template(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "template",
        help="write the blank CSV template for hand-filled occurrences",
        description="Write the plain CSV template (docs/template.md) to FILE.",
    )
    p.add_argument("--out", required=True, type=Path, metavar="FILE.csv")
    p.set_defaults(func=_run_template)


def _run_template(args: argparse.Namespace) -> int:
    from hotspot.ingest.mapping import INPUT_COLUMNS

    if args.out.exists():
        raise HotspotError(f"{args.out} exists already; choose another --out")
    args.out.write_text(",".join(INPUT_COLUMNS) + "\n", encoding="utf-8")
    logger.info("wrote %s", args.out)
    return 0


def format_summary(summary: dict[str, Any]) -> str:
    """Render an ingest summary as plain text for the terminal."""
    rows = summary["rows"]
    lines = [
        f"read {rows['read']:,} rows = accepted {rows['accepted']:,} + rejected "
        f"{rows['rejected']:,}",
    ]
    if summary.get("synthetic_rows"):
        lines.append(
            f"SYNTHETIC rows (not real police data): {summary['synthetic_rows']:,}"
        )
    sections = [
        ("rejected, by reason", summary.get("rejected_by_reason", {})),
        ("geocoded, by method", summary.get("geocoded_by_method", {})),
        ("accepted, by CSP", summary.get("per_csp", {})),
        (
            "serious violence, by category",
            summary.get("serious_violence", {}).get("by_category", {}),
        ),
        (
            "serious-violence match",
            summary.get("serious_violence", {}).get("by_match", {}),
        ),
    ]
    for title, counts in sections:
        if counts:
            lines.append(f"{title}:")
            width = max(len(k) for k in counts)
            lines += [f"  {k:<{width}}  {v:>9,}" for k, v in counts.items()]
    findings = summary.get("quality", {}).get("findings", [])
    if findings:
        lines.append(
            "data-quality flags (flagged rows are left out of analyses by default):"
        )
        lines += [f"  {f['check']} [{f['source']}]: {f['detail']}" for f in findings]
    return "\n".join(lines)


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
    _add_ingest(subparsers)
    _add_summary(subparsers)
    _add_template(subparsers)
    for module_name, function_name in EXTRA_SUBCOMMANDS:
        module = importlib.import_module(module_name)
        getattr(module, function_name)(subparsers)
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
    return status


if __name__ == "__main__":
    sys.exit(main())

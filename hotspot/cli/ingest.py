"""The ``hotspot ingest``, ``summary`` and ``template`` commands.

``ingest`` reads sources into an occurrence store (``STORE_DIR``) through
:func:`hotspot.pipeline.ingest_to_store`; ``summary`` prints a store's ingest
summary; ``template`` writes the blank CSV template.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from hotspot.errors import HotspotError
from hotspot.settings import DEFAULTS, GROUPINGS

logger = logging.getLogger(__name__)
#: Input layouts ``--format`` accepts (:data:`hotspot.ingest.sources.FORMATS`;
#: a test checks the two agree, so ``--help`` need not import the readers).
INPUT_FORMATS: tuple[str, ...] = ("police_uk", "records", "template", "istv")


def add_ingest_parser(subparsers: Any) -> None:
    """Register ``hotspot ingest``."""
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
        choices=INPUT_FORMATS,
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
        choices=GROUPINGS,
        default=DEFAULTS.grouping,
        help="CSP areas: 14 districts (default) or the ONS 2024 grouping "
        "with North Hampshire",
    )
    p.add_argument(
        "--harm-weights",
        choices=("css", "cchi"),
        default="css",
        help="harm weights: css, the ONS Crime Severity Score (default), or cchi, "
        "the third-party Cambridge Crime Harm Index subgroup table (labelled as "
        "such in the summary)",
    )
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--append",
        action="store_true",
        help="add the sources to STORE_DIR as month-and-CSP partitions, writing "
        "only their months; files already ingested (same SHA-256) are skipped and "
        "rows already stored (same id and month) are rejected, never doubled",
    )
    how.add_argument(
        "--stream",
        action="store_true",
        help="read the sources (CSV files of any --format, UTF-8; .xlsx workbooks; "
        "police.uk zips and folders) in batches with bounded memory into a new "
        "partitioned store",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="with --stream: worker processes for the batches (default: the "
        "machine's cores, at most 2); 1 processes them in this process",
    )
    p.set_defaults(func=_run_ingest)


def _positive_int(text: str) -> int:
    """Parse a whole number of at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _run_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hotspot.ingest.mapping import load_mapping
    from hotspot.pipeline import append_sources, ingest_streaming, ingest_to_store

    mapping = load_mapping(args.mapping) if args.mapping else None
    if args.stream:
        print(format_summary(ingest_streaming(args.sources, args.out,
                                              fmt=args.format, mapping=mapping,
                                              grouping=args.grouping,
                                              harm_table=args.harm_weights,
                                              workers=args.workers)))
        return 0
    run = append_sources if args.append else ingest_to_store
    stages = ["read", "geocode", "classify", "locate", "check", "write"]
    with tqdm(
        total=len(stages), desc="ingest", unit="stage", disable=args.quiet
    ) as bar:

        def progress(stage: str) -> None:
            bar.set_postfix_str(stage)
            if stage != "read":
                bar.update(1)

        result = run(
            args.sources,
            args.out,
            fmt=args.format,
            mapping=mapping,
            grouping=args.grouping,
            progress=progress,
            harm_table=args.harm_weights,
        )
        bar.update(1)
    if result is None:
        print(f"every source is in {args.out} already (same SHA-256): nothing to do")
        return 0
    print(format_summary(result.summary))
    return 0


def add_summary_parser(subparsers: Any) -> None:
    """Register ``hotspot summary``."""
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


def add_template_parser(subparsers: Any) -> None:
    """Register ``hotspot template``."""
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
        ("located, by precision", summary.get("geocoded_by_precision", {})),
        ("files skipped", {f"{k.get('file')}: {k.get('reason')}": 1 for k in
                           summary.get("skipped_files", [])}),
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

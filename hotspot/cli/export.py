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
import logging
from pathlib import Path
from typing import Any

from hotspot.errors import ParameterError
from hotspot.export.formats import FORMATS

logger = logging.getLogger(__name__)


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

    from hotspot.export.build import build_bundle, rules_of
    from hotspot.export.bundle import export
    from hotspot.view_file import load_view

    spec = load_view(args.view)
    rules = rules_of(spec)
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

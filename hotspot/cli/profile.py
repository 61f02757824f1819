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

The tables come from :mod:`hotspot.context.profile`, the charts from
:mod:`hotspot.render.charts`; the rows from the one selection rule
(:mod:`hotspot.selection`): ``--subset`` is a flag filter, and rows whose flag
is not recorded (every police.uk row) are left out unless ``--unknown-flags
keep`` — the log and the ``notes`` table say how many.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from hotspot.settings import DEFAULTS, GROUPINGS, RESOLUTIONS

logger = logging.getLogger(__name__)

#: ``--subset`` choices → flag filters of the one selection rule.
SUBSETS: dict[str, tuple[str, ...]] = {
    "all": (), "non_domestic": ("nondomestic",), "bladed": ("bladed",),
    "under_25": ("under25",),
}
EDITIONS: tuple[str, ...] = ("2025", "2019")


def _selected(store: Path, *, subset: str, unknown_flags: str) -> Any:
    from hotspot.ingest.store import load_occurrences
    from hotspot.selection import Selection, select

    chosen = select(load_occurrences(store), Selection(
        flags=SUBSETS[subset], unknown_flags=unknown_flags))  # type: ignore[arg-type]
    for note in chosen.notes:
        logger.info("%s", note)
    return chosen


def _add_selection_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--grouping", choices=GROUPINGS, default=DEFAULTS.grouping)
    p.add_argument("--subset", choices=sorted(SUBSETS), default="all",
                   help="key-indicator filter of the serious violence")
    p.add_argument("--unknown-flags", choices=("drop", "keep"), default="drop",
                   help="rows whose flag is not recorded: left out (default) or "
                   "kept")


def add_overlay_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``hotspot overlay`` on an argparse subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "overlay",
        help="write deprivation, population and fire overlay layers",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("store", type=Path, metavar="STORE_DIR")
    p.add_argument("--imd", choices=EDITIONS, default="2025",
                   help="IMD edition: 2025 on LSOA 2021 (default) or 2019 on "
                   "LSOA 2011")
    p.add_argument("--fire", type=Path, default=None, metavar="FILE",
                   help="fire incidents in the Home Office incident-level layout")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.gpkg")
    p.add_argument("--resolution", type=int, default=DEFAULTS.resolution,
                   help=f"H3 resolution, one of {list(RESOLUTIONS)} (default 9)")
    _add_selection_arguments(p)
    p.set_defaults(func=run_overlay_command)
    return p


def run_overlay_command(args: argparse.Namespace) -> int:
    """Run ``hotspot overlay``; return the exit code."""
    from hotspot.context import fires as fire_mod
    from hotspot.context.profile import build_overlay
    from hotspot.export.results import write_layers
    from hotspot.ingest.fire import read_fire_incidents
    from hotspot.ingest.quality import flagged

    chosen = _selected(args.store, subset=args.subset,
                       unknown_flags=args.unknown_flags)
    fires = None
    if args.fire is not None:
        read = read_fire_incidents(args.fire)
        logger.info("%s: %d read = %d accepted + %d rejected", args.fire,
                    read.n_read, len(read.accepted), read.n_rejected())
        fires = fire_mod.deliberate_fires(
            fire_mod.locate_fires(read.accepted, grouping=args.grouping))
    from hotspot.ingest.store import load_occurrences

    stored = load_occurrences(args.store)
    arson = fire_mod.police_arson(stored[~flagged(stored).to_numpy()])
    layers = build_overlay(chosen.rows, imd=args.imd, fires=fires, arson=arson,
                           grouping=args.grouping, resolution=args.resolution)
    path = write_layers(layers, args.out)
    logger.info("overlay written to %s: %s", path, ", ".join(layers))
    return 0


def add_profile_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``hotspot profile`` on an argparse subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "profile",
        help="when and where violence happens in a CSP: CSV tables and PNG charts",
    )
    p.add_argument("store", type=Path, metavar="STORE_DIR")
    p.add_argument("--csp", default=None, metavar="NAME",
                   help="CSP name or code (default: all of HIPS)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    p.add_argument("--imd", choices=EDITIONS, default="2025")
    _add_selection_arguments(p)
    p.set_defaults(func=run_profile_command)
    return p


def run_profile_command(args: argparse.Namespace) -> int:
    """Run ``hotspot profile``; return the exit code."""
    import pandas as pd

    from hotspot.context.profile import build_profile
    from hotspot.render.charts import write_profile

    chosen = _selected(args.store, subset=args.subset,
                       unknown_flags=args.unknown_flags)
    tables = build_profile(chosen.rows, csp=args.csp, imd=args.imd,
                           grouping=args.grouping)
    if chosen.notes:
        tables["notes"] = pd.concat([tables["notes"], pd.DataFrame(
            {"key": "selection", "value": chosen.notes})], ignore_index=True)
    title = f"Serious violence, {args.csp or 'HIPS'}"
    if args.subset != "all":
        title += f" ({args.subset.replace('_', ' ')})"
    write_profile(tables, args.out, title=title)
    return 0

r"""The ``hotspot backtest`` command: how well the ranking predicted later months.

Example::

    hotspot backtest var/police --train-to 2025-06-30 --test-from 2025-07-01 \\
        --test-to 2025-09-30 --category robbery --category possession_of_weapons \\
        --source police_uk --out backtest.csv

Fits the product's ranking on whole months up to ``--train-to`` and scores it, and
naive baselines (earlier counts, KDE at fixed bandwidths, Gi* z), on the target
occurrences of ``--test-from``..``--test-to``: PAI, PEI* and RRI at 0.5/1/2/5% of
the area and per CSP at 5% of each CSP, with a seeded bootstrap interval. Rows are
chosen as in ``hotspot rank``. The table and a plain-English reading are logged;
``--out`` writes every figure (HIPS-wide and per CSP, column ``scope``) as CSV.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotspot.cli.rank import add_common_arguments, load_inputs, parse_date
from hotspot.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> None:
    """Register the ``backtest`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "backtest",
        help="score the hot-spot ranking and naive baselines on later months",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(p)
    p.add_argument(
        "--train-to",
        required=True,
        metavar="YYYY-MM-DD",
        help="last day the rankings may see",
    )
    p.add_argument("--test-from", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--test-to", required=True, metavar="YYYY-MM-DD")
    p.add_argument(
        "--weight",
        choices=("count", "harm"),
        default="count",
        help="weight of the product's ranking (default count)",
    )
    p.add_argument(
        "--replicates",
        type=int,
        default=1000,
        help="bootstrap replicates (default 1000; 0 for none)",
    )
    p.add_argument("--seed", type=int, default=12, help="bootstrap seed (default 12)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="write every figure as CSV",
    )
    p.set_defaults(func=run)


def _required(value: pd.Timestamp | None, *, name: str) -> pd.Timestamp:
    if value is None:
        raise ParameterError(f"{name} is required (YYYY-MM-DD)")
    return value


def run(args: argparse.Namespace) -> int:
    """Run ``hotspot backtest``; return the exit status (0 on success)."""
    import pandas as pd

    from hotspot.detect.backtest import backtest

    if args.out is not None:
        if args.out.suffix.lower() != ".csv":
            raise ParameterError(f"--out must end in .csv, got {args.out}")
        if not args.out.parent.exists():
            raise ParameterError(f"--out folder {args.out.parent} does not exist")
    train_to, test_from, test_to = (
        _required(
            parse_date(getattr(args, key), name=f"--{key.replace('_', '-')}"),
            name=f"--{key.replace('_', '-')}",
        )
        for key in ("train_to", "test_from", "test_to")
    )
    occurrences, cells, target = load_inputs(args)
    result = backtest(
        occurrences,
        cells,
        train_to=train_to,
        test_from=test_from,
        test_to=test_to,
        target=target,
        weight=args.weight,
        replicates=args.replicates,
        seed=args.seed,
    )
    logger.info(
        "product settings: %s (%s)",
        result.ranking.settings.label(),
        result.ranking.chosen_by,
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for line in result.table().round(2).to_string().splitlines():
            logger.info("%s", line)
        for line in result.summary.round(3).to_string(index=False).splitlines():
            logger.info("%s", line)
    for line in result.reading:
        logger.info("%s", line)
    for message in result.warnings:
        logger.warning("%s", message)
    if args.out is not None:
        hips = result.hips.assign(scope="HIPS", csp_code="", csp_name="")
        per = result.per_csp.assign(scope="CSP")
        table = pd.concat([hips, per], ignore_index=True)
        first = ["scope", "csp_code", "csp_name", "ranking", "share"]
        table = table[first + [c for c in table.columns if c not in first]]
        table.to_csv(args.out, index=False)
        logger.info("wrote %s", args.out)
    return 0

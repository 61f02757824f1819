r"""The ``hotspot operation`` command: list, create, import, export, plan, evaluate.

Examples::

    hotspot operation list
    hotspot operation create-from-hotspots --name "Op Summer" --csp Southampton \\
        --start 2025-06-01 --end 2025-07-31 --top 6 --area area.geojson
    hotspot operation import my_operation.geojson
    hotspot operation export op-meero-2025-demo --out meero.gpkg
    hotspot operation plan op-meero-2025-demo --hours 16 --pdf plan.pdf --csv plan.csv
    hotspot operation plan --csp Portsmouth --hours 10 --pdf portsmouth.pdf
    hotspot operation evaluate op-meero-2025-demo --buffer-m 400 --csv eval.csv \\
        --pdf eval.pdf

Operations live in a GeoPackage (``--store``, default ``var/operations.gpkg``,
created with the Op Meero 2025 demonstration on first use). Occurrences come
from an occurrence store (``--data``, default the embedded one): serious
violence without data-quality flags. Hot spots are Gi* (H3 resolution 9,
k = 1, FDR) on the period before the operation unless ``--train-from`` and
``--train-to`` say otherwise.
"""

from __future__ import annotations

import argparse
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotspot.errors import ParameterError
from hotspot.settings import DEFAULT_STORE_DIR, OPERATIONS_STORE

if TYPE_CHECKING:  # the verbs import what they use: `--help` stays fast
    import geopandas as gpd
    import pandas as pd
    import shapely

    from hotspot.operations import OperationStore

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> None:
    """Register ``hotspot operation ...`` on an argparse subparsers object."""
    p = subparsers.add_parser(
        "operation",
        help="operations: list, create from hot spots, import, export, patrol "
        "plans, evaluation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="operation_command", metavar="ACTION")
    sub.required = True

    def common(q: argparse.ArgumentParser, *, data: bool = False) -> None:
        q.add_argument("--store", type=Path, default=OPERATIONS_STORE,
                       help=f"operation GeoPackage (default {OPERATIONS_STORE})")
        if data:
            q.add_argument("--data", type=Path, default=DEFAULT_STORE_DIR,
                           help="occurrence store (default the embedded one)")

    q = sub.add_parser("list", help="list stored operations")
    common(q)
    q.set_defaults(func=_run_list)

    q = sub.add_parser("show", help="show one operation, its layers and checks")
    q.add_argument("operation_id")
    common(q)
    q.set_defaults(func=_run_show)

    q = sub.add_parser("create-from-hotspots",
                       help="new operation whose patrol zones are the top-ranked "
                       "cells (the recommended list)")
    q.add_argument("--name", required=True)
    q.add_argument("--csp", required=True, help="CSP name or code")
    q.add_argument("--start", required=True, metavar="YYYY-MM-DD")
    q.add_argument("--end", required=True, metavar="YYYY-MM-DD")
    q.add_argument("--top", type=int, default=5, help="patrol zones (default 5)")
    q.add_argument("--rank-by", choices=("score", "harm", "count", "z"),
                   default="score",
                   help="score: the predictive ranking (default); harm, count: "
                   "the training period's own figures; z: Gi* significance")
    q.add_argument("--area", type=Path, default=None,
                   help="GeoJSON or GeoPackage polygon to choose cells in "
                   "(default the whole CSP)")
    _training(q)
    common(q, data=True)
    q.set_defaults(func=_run_create)

    q = sub.add_parser("import", help="import operations from GeoJSON or GeoPackage")
    q.add_argument("path", type=Path)
    q.add_argument("--replace", action="store_true",
                   help="replace stored operations with the same id")
    common(q)
    q.set_defaults(func=_run_import)

    q = sub.add_parser("export", help="export operations to GeoJSON or GeoPackage")
    q.add_argument("operation_id", nargs="+")
    q.add_argument("--out", type=Path, required=True, help=".geojson or .gpkg")
    common(q)
    q.set_defaults(func=_run_export)

    q = sub.add_parser("duplicate", help="copy an operation (status draft)")
    q.add_argument("operation_id")
    q.add_argument("--name", default=None)
    common(q)
    q.set_defaults(func=_run_duplicate)

    q = sub.add_parser("delete", help="delete an operation")
    q.add_argument("operation_id")
    common(q)
    q.set_defaults(func=_run_delete)

    q = sub.add_parser("plan", help="patrol plan for an operation or a CSP")
    q.add_argument("operation_id", nargs="?", default=None)
    q.add_argument("--csp", default=None, help="plan for a CSP instead")
    q.add_argument("--hours", type=float, required=True,
                   help="patrol hours a week at the hot spots")
    q.add_argument("--rank-by", choices=("score", "harm", "count"), default="score",
                   help="score: the predictive ranking's expected count (default); "
                   "harm or count: the training period's Gi* hot cells by their own")
    q.add_argument("--minutes", type=int, default=15, help="minutes per visit")
    q.add_argument("--pdf", type=Path, default=None,
                   help="printable plan: map of the named cells, table, one patrol "
                   "card per cell")
    q.add_argument("--cards", type=Path, default=None, metavar="DIR",
                   help="also write each cell's patrol card (A4 PDF and phone PNG) "
                   "into DIR")
    q.add_argument("--csv", type=Path, default=None)
    q.add_argument("--test-from", default=None, metavar="YYYY-MM-DD",
                   help="later period for the PAI (default: the operation's)")
    q.add_argument("--test-to", default=None, metavar="YYYY-MM-DD")
    _training(q)
    common(q, data=True)
    q.set_defaults(func=_run_plan)

    q = sub.add_parser("evaluate", help="did it work? WDQ and WDD")
    q.add_argument("operation_id")
    q.add_argument("--buffer-m", type=float, default=400.0)
    q.add_argument("--control", type=Path, default=None,
                   help="GeoJSON or GeoPackage control polygon (default rest of "
                   "the CSP)")
    q.add_argument("--csv", type=Path, default=None, help="write the results table")
    q.add_argument("--pdf", type=Path, default=None,
                   help="write the evaluation as a PDF (verdict, figures, map)")
    common(q, data=True)
    q.set_defaults(func=_run_evaluate)


def _training(q: argparse.ArgumentParser) -> None:
    q.add_argument("--train-from", default=None, metavar="YYYY-MM-DD",
                   help="hot spots from this date (default first date in the data)")
    q.add_argument("--train-to", default=None, metavar="YYYY-MM-DD",
                   help="hot spots to this date (default the day before the "
                   "operation starts)")
    q.add_argument("--resolution", type=int, default=9, help="H3 resolution")


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------


def _store(args: argparse.Namespace) -> OperationStore:
    from hotspot.operations import OperationStore, open_default_store

    path = Path(args.store)
    return open_default_store(path) if path == OPERATIONS_STORE else \
        OperationStore(path)


def _day(text: str | None, *, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParameterError(f"{name} must be a date YYYY-MM-DD, got {text!r}"
                             ) from None


def _csp(name_or_code: str) -> gpd.GeoDataFrame:
    from hotspot.boundaries import find_csps, load_csps

    return find_csps(load_csps(), [name_or_code], name="--csp")


def _polygon(path: Path) -> shapely.Geometry:
    import geopandas as gpd
    import shapely

    from hotspot.crs import to_bng

    frame = to_bng(gpd.read_file(path))
    if frame.empty:
        raise ParameterError(f"{path} holds no features")
    return shapely.union_all(frame.geometry.to_numpy())


def _occurrences(args: argparse.Namespace) -> gpd.GeoDataFrame:
    """Every row of the store named by ``--data`` (the selection is the core's)."""
    from hotspot.ingest.store import load_occurrences

    return load_occurrences(args.data)


def _ranked_cells(occ: gpd.GeoDataFrame, csp: gpd.GeoDataFrame, *,
                  start: date | None, end: date | None, resolution: int
                  ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the CSP's ranked cells (fitted up to ``end``) and the rows they count."""
    from hotspot.analysis import plan_cells

    return plan_cells(occ, csp_code=str(csp["csp_code"].iloc[0]), start=start,
                      end=end, resolution=resolution)


def _between(occ: gpd.GeoDataFrame, start: date | None, end: date | None
             ) -> gpd.GeoDataFrame:
    from hotspot.analysis import rows_between
    from hotspot.geocode.precision import h3_edge_m

    return rows_between(occ, start=start, end=end, cell_edge_m=h3_edge_m(9))


def _print_table(frame: pd.DataFrame) -> None:
    print(frame.to_string(index=False) if len(frame) else "(none)")


# ----------------------------------------------------------------------------
# actions
# ----------------------------------------------------------------------------


def _run_list(args: argparse.Namespace) -> int:
    _print_table(_store(args).catalogue())
    return 0


def _run_show(args: argparse.Namespace) -> int:
    from hotspot.operations import timeline_table, validate_operation

    op = _store(args).get(args.operation_id)
    print(f"{op.name} [{op.operation_id}] v{op.version}, {op.status}"
          f"{' (DEMONSTRATION)' if op.is_demo else ''}")
    print(f"{op.csp_name}, {op.period_start} to {op.period_end} "
          f"({op.period_days} days), area {op.area.area / 1e6:.2f} km²")
    if op.description:
        print(op.description)
    for kind, acts in op.layers().items():
        print(f"  {kind}: {len(acts)}")
    timeline = timeline_table(op)
    print(f"timeline: {len(timeline)} windows")
    check = validate_operation(op)
    for text in check.problems:
        print(f"problem: {text}")
    for text in check.warnings:
        print(f"warning: {text}")
    return 0 if check.ok else 1


def _run_create(args: argparse.Namespace) -> int:
    from hotspot.operations import operation_from_hotspots
    from hotspot.operations.patrol import patrol_windows, plan_patrols

    start, end = _day(args.start, name="--start"), _day(args.end, name="--end")
    if start is None or end is None:
        raise ParameterError("--start and --end are both needed")
    csp = _csp(args.csp)
    area = _polygon(args.area) if args.area else None
    occ = _occurrences(args)
    ranked, train = _ranked_cells(
        occ, csp, start=_day(args.train_from, name="--train-from"),
        end=_day(args.train_to, name="--train-to") or start - timedelta(days=1),
        resolution=args.resolution)
    plan = plan_patrols(ranked, train, patrol_hours_per_week=2.0 * args.top,
                        rank_by="harm" if args.rank_by == "z" else args.rank_by,
                        area=area, max_cells=args.top)
    op = operation_from_hotspots(
        ranked, name=args.name, period_start=start, period_end=end, area=area,
        csp_code=str(csp["csp_code"].iloc[0]), top_n=args.top, rank_by=args.rank_by,
        windows=patrol_windows(plan, period_start=start, period_end=end))
    stored = _store(args).add(op)
    print(f"created {stored.operation_id}: {stored.name}, "
          f"{len(stored.activities)} patrol zones")
    return 0


def _run_import(args: argparse.Namespace) -> int:
    from hotspot.operations import import_operations

    done = _store(args).import_all(import_operations(args.path),
                                   replace_existing=args.replace)
    for stored in done:
        print(f"imported {stored.operation_id}: {stored.name} (version "
              f"{stored.version})")
    return 0


def _run_export(args: argparse.Namespace) -> int:
    from hotspot.operations import export_operations

    store = _store(args)
    ops = [store.get(i) for i in args.operation_id]
    export_operations(ops, args.out)
    print(f"wrote {args.out}")
    return 0


def _run_duplicate(args: argparse.Namespace) -> int:
    op = _store(args).duplicate(args.operation_id, name=args.name)
    print(f"created {op.operation_id}: {op.name}")
    return 0


def _run_delete(args: argparse.Namespace) -> int:
    _store(args).delete(args.operation_id)
    print(f"deleted {args.operation_id}")
    return 0


def _run_plan(args: argparse.Namespace) -> int:
    import shapely

    from hotspot.operations.patrol import plan_patrols, plan_tables
    from hotspot.render.patrol_plan import write_cards, write_pack_pdf, write_plan_csv

    occ = _occurrences(args)
    area = None
    if args.operation_id:
        op = _store(args).get(args.operation_id)
        csp, area, title = _csp(op.csp_code), op.area, f"{op.name}: patrol plan"
        default_train_to: date | None = op.period_start - timedelta(days=1)
        test_from, test_to = op.period_start, op.period_end
    elif args.csp:
        csp = _csp(args.csp)
        title = f"Patrol plan: {csp['csp_name'].iloc[0]}"
        default_train_to, test_from, test_to = None, None, None
    else:
        raise ParameterError("plan needs an OPERATION_ID or --csp")
    test_from = _day(args.test_from, name="--test-from") or test_from
    test_to = _day(args.test_to, name="--test-to") or test_to
    from hotspot.analysis import plan_cells

    hot, train = plan_cells(occ, csp_code=str(csp["csp_code"].iloc[0]),
                            start=_day(args.train_from, name="--train-from"),
                            end=_day(args.train_to, name="--train-to")
                            or default_train_to, resolution=args.resolution)
    test = _between(occ, test_from, test_to) if test_from else None
    plan = plan_patrols(
        hot, train, patrol_hours_per_week=args.hours, rank_by=args.rank_by,
        hot_only=args.rank_by != "score",
        area=area, minutes_per_visit=args.minutes, test_occurrences=test,
        test_label=f"{test_from} to {test_to}" if test_from else "later period",
        title=title)
    from hotspot.operations.pack import pack_plan

    code = str(csp["csp_code"].iloc[0])
    train_from = _day(args.train_from, name="--train-from")
    train_to = _day(args.train_to, name="--train-to") or default_train_to
    pack = pack_plan(
        plan, rows=train, store=occ,
        pool=train[train["csp_code"] == code] if "csp_code" in train else None,
        reasons=(dict(zip(hot["h3"].astype(str), hot["reason"].astype(str),
                          strict=True)) if "reason" in hot.columns else None),
        month_from=None if train_from is None else f"{train_from:%Y-%m}",
        month_to=None if train_to is None else f"{train_to:%Y-%m}")
    plan = pack.plan
    tables = plan_tables(plan)
    _print_table(tables["cells"][["rank", "place", "peak_days", "peak_window",
                                  "times_from", "patrol_minutes_per_week", "h3"]])
    _print_table(tables["coverage"])
    print(f"data: {pack.period}")
    for text in plan.warnings:
        print(f"note: {text}")
    if args.csv:
        write_plan_csv(plan, args.csv)
        print(f"wrote {args.csv}")
    if args.pdf:
        outline = area if area is not None else shapely.union_all(
            csp.geometry.to_numpy())
        from hotspot.boundaries import load_wards

        wards = load_wards()
        wards = wards[wards["lad_code"].isin(
            str(csp["lad_code"].iloc[0]).split(","))]
        wards = wards.assign(label=wards["ward22_name"])
        write_pack_pdf(pack, args.pdf, outline=outline, context=wards)
        print(f"wrote {args.pdf}")
    if args.cards:
        written = write_cards(pack, args.cards)
        print(f"wrote {len(written)} card files into {args.cards}")
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from hotspot.operations import check_operation
    from hotspot.operations.evaluate import evaluate_operation

    op = _store(args).get(args.operation_id)
    check_operation(op)
    control = _polygon(args.control) if args.control else None
    from hotspot.analysis import evaluation_rows

    occurrences = _occurrences(args)
    rows = evaluation_rows(occurrences)
    ev = evaluate_operation(rows, op, buffer_m=args.buffer_m, control=control)
    for line in ev.headline():
        print(line)
    print()
    for p in ev.periods:
        print(p.label())
    print(ev.table().to_string())
    for line in ev.reading:
        print(line)
    for text in ev.warnings:
        print(f"warning: {text}")
    if args.csv:
        ev.results.to_csv(args.csv, index=False, float_format="%.6g")
        print(f"wrote {args.csv}")
    if args.pdf:
        from hotspot.coverage import coverage_text
        from hotspot.operations.periods import operation_wards
        from hotspot.render.evaluation import write_evaluation_pdf

        write_evaluation_pdf(ev, args.pdf, context=operation_wards(op),
                             data_note=f"Data: {coverage_text(occurrences)}.")
        print(f"wrote {args.pdf}")
    return 0

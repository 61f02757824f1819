"""The operations page's glue: the store, cached plans and evaluations, uploads.

Every cached function takes what it uses as arguments (store paths as strings,
the operation's id *and version*, so an edit invalidates the cache). The
statistics live in the patrol and evaluation modules; the map
layers in :mod:`hotspot.layers`; this module only selects rows and calls them.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st
from shapely.geometry.base import BaseGeometry

from hotspot import settings
from hotspot.app import cache as app_cache
from hotspot.boundaries import load_csps, load_wards
from hotspot.coverage import coverage_text
from hotspot.errors import InputFileError, ParameterError
from hotspot.operations import (
    DEFAULT_STORE_PATH,
    Operation,
    OperationStore,
    export_operations,
    import_operations,
    open_default_store,
)
from hotspot.operations.evaluate import Evaluation, evaluate_operation
from hotspot.operations.patrol import PatrolPlan, plan_patrols
from hotspot.selection import Selected, Selection
from hotspot.settings import APP_CACHE_ENTRIES, APP_CACHE_TTL_S
from hotspot.view import View

logger = logging.getLogger(__name__)

#: Environment variable naming the operation store the app uses (tests, demos).
OPERATIONS_ENV = settings.ENV_OPERATIONS_STORE
#: Largest operations file accepted for import, megabytes.
MAX_IMPORT_MB = 20
#: Import and export formats: suffix → label.
FORMATS: dict[str, str] = {".geojson": "GeoJSON", ".gpkg": "GeoPackage"}
#: H3 resolution of the hot cells a patrol plan ranks (about 174 m edge).
PLAN_RESOLUTION = 9


class OpKeys:
    """Session-state keys of the operations page."""

    OPERATION = "op_selected"  # operation shown (selectbox)
    SELECT_NEXT = "op_select_next"  # operation to show after a rerun
    MESSAGES = "op_messages"  # what the last action did, shown once
    SECTION = "op_section"
    HOURS = "op_plan_hours"
    MINUTES = "op_plan_minutes"
    PLAN_CSV = "op_plan_csv"
    PLAN_PDF = "op_plan_pdf"
    BUFFER = "op_buffer_m"
    EVAL_CSV = "op_eval_csv"
    EVAL_PDF = "op_eval_pdf"
    NEW_CSP = "op_new_csp"
    NEW_WARDS = "op_new_wards"
    NEW_NAME = "op_new_name"
    NEW_START = "op_new_start"
    NEW_END = "op_new_end"
    NEW_TOP = "op_new_top"
    NEW_GO = "op_new_go"
    COPY_NAME = "op_copy_name"
    COPY_GO = "op_copy_go"
    DELETE_SURE = "op_delete_sure"
    DELETE_GO = "op_delete_go"
    IMPORT = "op_import"
    IMPORT_GO = "op_import_go"

    @staticmethod
    def export(suffix: str) -> str:
        """Key of an export download button."""
        return f"op_export{suffix.replace('.', '_')}"


def store_path() -> str:
    """Return the operation store the app uses: ``$HOTSPOT_OPERATIONS_STORE``.

    Defaults to :data:`hotspot.operations.model.DEFAULT_STORE_PATH` (in ``var/``).
    """
    return str(Path(settings.env(OPERATIONS_ENV) or str(DEFAULT_STORE_PATH)))


def open_store(path: str) -> OperationStore:
    """Open (creating and seeding with the demonstration on first use) a store."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return open_default_store(path)


def _csp(grouping: str, csp_code: str) -> gpd.GeoDataFrame:
    csps = load_csps(grouping=grouping)  # type: ignore[arg-type]
    chosen = csps[csps["csp_code"] == csp_code]
    if chosen.empty:
        raise ParameterError(f"csp_code must be a CSP of grouping {grouping!r}, "
                             f"got {csp_code!r}")
    return chosen


@dataclass(frozen=True)
class PlanOutput:
    """A patrol plan for an operation and what its PDF needs."""

    plan: PatrolPlan
    outline: BaseGeometry
    wards: gpd.GeoDataFrame
    data_note: str


@st.cache_data(show_spinner="Planning patrols…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def operation_plan(store_dir: str, grouping: str, ops_path: str, operation_id: str,
                   version: int, hours_per_week: float,
                   minutes_per_visit: int) -> PlanOutput:
    """Patrol plan for an operation's area from the hot spots before it.

    Gi* (FDR) on serious violence before the operation's first day ranks the
    area's hot cells; the operation's own period is the test period of the PAI.
    ``version`` is part of the cache key only (an edit makes a new plan).
    """
    from hotspot.analysis import plan_cells, rows_between
    from hotspot.geocode.precision import h3_edge_m

    del version  # cache key only
    op = open_store(ops_path).get(operation_id)
    csp = _csp(grouping, op.csp_code)

    def selector(selection: Selection) -> Selected:
        return app_cache.selected(store_dir, selection)

    occ = app_cache.occurrences(store_dir)
    hot, train = plan_cells(occ, csp_code=op.csp_code, start=None,
                            end=op.period_start - timedelta(days=1),
                            grouping=grouping, resolution=PLAN_RESOLUTION,
                            selector=selector)
    test = rows_between(occ, start=op.period_start, end=op.period_end,
                        selector=selector, cell_edge_m=h3_edge_m(PLAN_RESOLUTION))
    plan = plan_patrols(
        hot, train, patrol_hours_per_week=hours_per_week, area=op.area,
        rank_by="score", hot_only=False,
        minutes_per_visit=minutes_per_visit, test_occurrences=test,
        test_label=f"{op.period_start} to {op.period_end}",
        title=f"{op.name}: patrol plan")
    when = pd.to_datetime(train["occurred_from"])
    note = (f"Cells ranked by the serious violence expected next (fitted on "
            f"{when.min():%d %b %Y} to {when.max():%d %b %Y}); cells of "
            f"{csp['csp_name'].iloc[0]}.")
    wards = load_wards()
    wards = wards[wards["lad_code"].isin(str(csp["lad_code"].iloc[0]).split(","))]
    return PlanOutput(plan=plan, outline=op.area,
                      wards=wards.assign(label=wards["ward22_name"]), data_note=note)


@st.cache_data(show_spinner="Drawing the printable plan…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def plan_pdf(store_dir: str, grouping: str, ops_path: str, operation_id: str,
             version: int, hours_per_week: float, minutes_per_visit: int) -> bytes:
    """Return the plan of :func:`operation_plan` as its PDF.

    The map of the named cells, the table by place, the overview and one patrol
    card per cell (:func:`hotspot.operations.pack.pack_plan`).
    """
    from hotspot.analysis import rows_between
    from hotspot.geocode.precision import h3_edge_m
    from hotspot.operations.pack import pack_plan
    from hotspot.render.patrol_plan import pack_pdf_bytes

    out = operation_plan(store_dir, grouping, ops_path, operation_id, version,
                         hours_per_week, minutes_per_visit)
    op = open_store(ops_path).get(operation_id)
    occ = app_cache.occurrences(store_dir)
    end = op.period_start - timedelta(days=1)
    rows = rows_between(occ, start=None, end=end,
                        selector=lambda s: app_cache.selected(store_dir, s),
                        cell_edge_m=h3_edge_m(PLAN_RESOLUTION))
    pack = pack_plan(out.plan, rows=rows, store=occ,
                     pool=rows[rows["csp_code"] == op.csp_code],
                     month_to=f"{end:%Y-%m}")
    return pack_pdf_bytes(pack, outline=out.outline, context=out.wards)


@st.cache_data(show_spinner="Evaluating the operation (WDQ, WDD)…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def evaluation(store_dir: str, grouping: str, ops_path: str, operation_id: str,
               version: int, buffer_m: float) -> Evaluation:
    """:func:`~hotspot.operations.evaluate.evaluate_operation`."""
    del version  # cache key only
    op = open_store(ops_path).get(operation_id)
    from hotspot.analysis import evaluation_rows

    rows = evaluation_rows(app_cache.occurrences(store_dir),
                           selector=lambda s: app_cache.selected(store_dir, s))
    return evaluate_operation(rows, op, buffer_m=buffer_m,
                              csps=load_csps(grouping=grouping))  # type: ignore[arg-type]


@st.cache_data(show_spinner="Drawing the evaluation's map and PDF…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def evaluation_files(store_dir: str, grouping: str, ops_path: str,
                     operation_id: str, version: int,
                     buffer_m: float) -> tuple[bytes, bytes]:
    """Return the evaluation's map (PNG) and its PDF (verdict, figures, map)."""
    from hotspot.operations.periods import operation_wards
    from hotspot.render.evaluation import evaluation_map_png, evaluation_pdf_bytes

    ev = evaluation(store_dir, grouping, ops_path, operation_id, version, buffer_m)
    op = open_store(ops_path).get(operation_id)
    wards = operation_wards(op, csps=load_csps(grouping=grouping))  # type: ignore[arg-type]
    return (evaluation_map_png(ev, context=wards),
            evaluation_pdf_bytes(ev, context=wards, data_note="Data: " + coverage_text(
                app_cache.occurrences(store_dir)) + "."))


def map_operations(path: str, csp: str) -> tuple[gpd.GeoDataFrame,
                                                  gpd.GeoDataFrame | None]:
    """Return the stored operations' areas (of one CSP, or all) for the map.

    Activities are returned too when one CSP is shown (their symbols would
    crowd the whole of HIPS); None otherwise.
    """
    from hotspot.operations import activities_table, operations_table

    ops = open_store(path).load_all()
    if csp != "all":
        ops = [op for op in ops if op.csp_code == csp]
    acts = None
    if csp != "all" and ops:
        acts = pd.concat([activities_table(op) for op in ops], ignore_index=True)
        acts = gpd.GeoDataFrame(acts, geometry="geometry", crs="EPSG:27700")
    return operations_table(ops), acts


def ranked_cells(store_dir: str, grouping: str, view: View) -> pd.DataFrame:
    """Return a one-CSP view's cells in the ranking's order (the map's top list)."""
    cells = app_cache.ranked_cells(store_dir, grouping, view)
    return cells[cells["csp_code"] == view.csp]


def wards_area(grouping: str, csp_code: str,
               ward_codes: tuple[str, ...]) -> BaseGeometry | None:
    """Union of the chosen wards of a CSP (None when none are chosen)."""
    if not ward_codes:
        return None
    csp = _csp(grouping, csp_code)
    wards = load_wards()
    wards = wards[wards["lad_code"].isin(str(csp["lad_code"].iloc[0]).split(","))
                  & wards["ward22_code"].isin(ward_codes)]
    if wards.empty:
        raise ParameterError(f"ward_codes must be wards of {csp_code}, got "
                             f"{list(ward_codes)}")
    geometry: BaseGeometry = wards.geometry.union_all()
    return geometry


def csp_wards(grouping: str, csp_code: str) -> pd.DataFrame:
    """Ward codes and names of a CSP, by name."""
    csp = _csp(grouping, csp_code)
    wards = load_wards()
    wards = wards[wards["lad_code"].isin(str(csp["lad_code"].iloc[0]).split(","))]
    return (pd.DataFrame(wards[["ward22_code", "ward22_name"]])
            .sort_values("ward22_name").reset_index(drop=True))


def import_file(name: str, data: bytes, *, root: Path | str | None = None
                ) -> list[Operation]:
    """Check an uploaded operations file, save it under the app's folder, read it.

    Parameters
    ----------
    name : str
        File name as uploaded (only its suffix is used).
    data : bytes
        Content.
    root : pathlib.Path or str, optional, keyword-only
        App data folder; ``APP_DATA_DIR`` by default. The file is kept in
        ``ROOT/uploads/operations/<sha256><suffix>``.

    Raises
    ------
    InputFileError
        Wrong suffix, empty or too large.
    OperationError
        The file holds no valid operation (from :func:`import_operations`).
    """
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        suffix = ".geojson"
    if suffix not in FORMATS:
        raise InputFileError(name, f"must end in {' or '.join(FORMATS)} "
                             f"(or .json), got {suffix or 'no suffix'!r}")
    if not data:
        raise InputFileError(name, "the file is empty")
    if len(data) > MAX_IMPORT_MB * 1024 * 1024:
        raise InputFileError(name, f"larger than {MAX_IMPORT_MB} MB")
    folder = Path(settings.APP_DATA_DIR if root is None else root) / "uploads" / \
        "operations"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
    target.write_bytes(data)
    return import_operations(target)


def export_bytes(operations: list[Operation], suffix: str) -> bytes:
    """Write operations to a temporary ``.geojson`` or ``.gpkg`` file; return it."""
    if suffix not in FORMATS:
        raise ParameterError(f"suffix must be one of {list(FORMATS)}, got {suffix!r}")
    with tempfile.TemporaryDirectory(prefix="hotspot-ops-") as folder:
        path = export_operations(operations, Path(folder) / f"operations{suffix}")
        return path.read_bytes()


def timeline_chart(table: pd.DataFrame, *, period: tuple[date, date]) -> Any:
    """Return an Altair Gantt chart of :func:`hotspot.operations.model.timeline_table`.

    One row per activity kind, one bar per window; the operation's period is
    the x range. Colours are those of the map
    (:data:`hotspot.layers.ACTIVITY_STYLES`).
    """
    import altair as alt

    from hotspot.layers import activity_style

    kinds = list(dict.fromkeys(table["kind"]))
    labels = list(dict.fromkeys(table["kind_label"]))
    colours = ["#{:02x}{:02x}{:02x}".format(*activity_style(k)[0]) for k in kinds]
    data = table.assign(start=table["start"].astype(str),
                        end=table["end"].astype(str))
    start, end = period
    return alt.Chart(data).mark_bar(height=12).encode(
        x=alt.X("start:T", title="Date",
                scale=alt.Scale(domain=[str(start), str(end + timedelta(days=1))])),
        x2="end:T",
        y=alt.Y("kind_label:N", title=None, sort=labels),
        color=alt.Color("kind_label:N", legend=None,
                        scale=alt.Scale(domain=labels, range=colours)),
        tooltip=["kind_label", "label", "start", "end"],
    ).properties(height=max(120, 28 * len(labels)))

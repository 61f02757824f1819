"""The operations page: list, map and timeline, patrol plan, evaluation, editing."""

from __future__ import annotations

import logging
from datetime import date

import streamlit as st

from hotspot import layers
from hotspot.app import access as app_access
from hotspot.app import cache as app_cache
from hotspot.app import operations as app_operations
from hotspot.app.controls import Keys
from hotspot.app.operations import OpKeys
from hotspot.errors import HotspotError
from hotspot.operations import (
    ACTIVITY_KINDS,
    Operation,
    activities_table,
    operation_from_hotspots,
    operations_table,
    timeline_table,
    validate_operation,
)
from hotspot.operations.evaluate import MEASURES
from hotspot.operations.patrol import coming_month, plan_tables
from hotspot.operations.periods import AREA_LABELS
from hotspot.render.patrol_plan import plan_csv_text
from hotspot.textsafe import safe_csv
from hotspot.view import DEFAULT_VIEW

logger = logging.getLogger(__name__)
GROUPING = app_cache.GROUPING
SECTIONS = ("Map and timeline", "Patrol plan", "Evaluation", "Create from hot spots",
            "Duplicate, delete, import, export")

store_dir = st.session_state.get(Keys.STORE) or app_cache.default_store()
access = app_access.current_access()
app_access.sidebar_caption(access)
may_edit = access.role.edit_operations
ops_path = app_operations.store_path()
try:
    store = app_operations.open_store(ops_path)
    catalogue = store.catalogue()
except HotspotError as exc:
    st.error(f"Cannot open the operation store {ops_path}: {exc}")
    st.stop()

st.markdown("#### Operations")
for message in st.session_state.pop(OpKeys.MESSAGES, []):
    st.success(message)
st.dataframe(catalogue.drop(columns=["operation_id"]), hide_index=True,
             width="stretch")
ids = catalogue["operation_id"].tolist()
names = dict(zip(catalogue["operation_id"], catalogue["name"], strict=True))
if OpKeys.SELECT_NEXT in st.session_state:
    st.session_state[OpKeys.OPERATION] = st.session_state.pop(OpKeys.SELECT_NEXT)
if st.session_state.get(OpKeys.OPERATION) not in ids:
    st.session_state.pop(OpKeys.OPERATION, None)
op_id = st.selectbox("Operation", ids, key=OpKeys.OPERATION,
                     format_func=lambda i: names[i],
                     placeholder="No operations yet: create or import one")
op = store.get(op_id) if op_id else None
if op is not None:
    st.caption(f"{op.csp_name} · {op.period_start} to {op.period_end} "
               f"({op.period_days} days) · {op.status} · version {op.version}"
               + (" · DEMONSTRATION, not a real operation" if op.is_demo else ""))
    check = validate_operation(op)
    for text in check.problems:
        st.error(f"Problem: {text}")
    for text in check.warnings:
        st.warning(f"Warning: {text}")

section = st.radio("Section", SECTIONS if op is not None else SECTIONS[3:],
                   key=OpKeys.SECTION, horizontal=True,
                   label_visibility="collapsed")


def draw_map_and_timeline(op: Operation) -> None:
    """Draw the operation's area and activities on the base map, and its timeline."""
    acts = activities_table(op)
    area = operations_table([op])
    around = area.copy()
    around["geometry"] = around.geometry.buffer(500)
    base = app_cache.base_layers(GROUPING, str(app_cache.PLACES_FILE), op.csp_code,
                                 ("csp", "wards", "places"))
    deck = layers.build_deck(
        [*base.under, *base.lines, *layers.operation_layers(area, acts),
         *base.labels],
        view_state=layers.view_for_bounds(layers.bounds_of(around)))
    map_col, legend_col = st.columns([4, 1])
    with map_col:
        st.pydeck_chart(deck, height=470, key="ops_map")
    with legend_col:
        labels = {k: v.label for k, v in ACTIVITY_KINDS.items()}
        st.markdown(layers.legend_html([
            ("Operation", layers.activity_legend(list(acts["kind"]), labels)),
            ("Base map", layers.base_legend()[-1:])]), unsafe_allow_html=True)
    st.markdown("**Timeline**")
    timeline = timeline_table(op)
    st.altair_chart(app_operations.timeline_chart(
        timeline, period=(op.period_start, op.period_end)), width="stretch")
    st.dataframe(acts.groupby("kind_label").size().rename("features").reset_index(),
                 hide_index=True)


def draw_plan(op: Operation) -> None:
    """Patrol plan for the operation's area, with PDF and CSV downloads."""
    hours = st.number_input("Patrol hours a week", min_value=1.0, max_value=200.0,
                            value=16.0, step=1.0, key=OpKeys.HOURS)
    minutes = st.number_input("Minutes per visit", min_value=5, max_value=60,
                              value=15, step=1, key=OpKeys.MINUTES)
    args = (store_dir, GROUPING, ops_path, op.operation_id, op.version,
            float(hours), int(minutes))
    try:
        out = app_operations.operation_plan(*args)
    except HotspotError as exc:
        st.error(f"No plan: {exc}")
        return
    tables = plan_tables(out.plan)
    st.dataframe(tables["cells"], hide_index=True)
    st.markdown("**Schedule**")
    st.dataframe(tables["schedule"], hide_index=True)
    st.markdown("**Coverage**")
    st.dataframe(tables["coverage"], hide_index=True)
    for text in out.plan.warnings:
        st.info(text)
    c1, c2 = st.columns(2)
    c1.download_button("Plan as CSV", plan_csv_text(out.plan),
                       file_name=f"{op.operation_id}_plan.csv", mime="text/csv",
                       key=OpKeys.PLAN_CSV)
    c2.download_button("Printable plan (PDF)", app_operations.plan_pdf(*args),
                       file_name=f"{op.operation_id}_plan.pdf",
                       mime="application/pdf", key=OpKeys.PLAN_PDF)


def draw_evaluation(op: Operation) -> None:
    """Did it work? WDQ and WDD, with and without proactive offences."""
    buffer_m = st.slider("Buffer width (m)", min_value=100, max_value=1000,
                         value=400, step=50, key=OpKeys.BUFFER)
    try:
        ev = app_operations.evaluation(store_dir, GROUPING, ops_path,
                                       op.operation_id, op.version, float(buffer_m))
    except HotspotError as exc:
        st.error(f"No evaluation: {exc}")
        return
    if ev.synthetic:
        st.error(ev.synthetic_line())
    lines = ev.headline()[1:] if ev.synthetic else ev.headline()
    st.info("  \n".join(f"**{line}**" for line in lines))
    st.caption(" · ".join(p.label() for p in ev.periods))
    png, pdf = app_operations.evaluation_files(
        store_dir, GROUPING, ops_path, op.operation_id, op.version, float(buffer_m))
    map_col, table_col = st.columns([3, 2])
    map_col.image(png, caption="The areas compared: operation area, buffer ring, "
                  "control area")
    with table_col:
        st.markdown(f"**{MEASURES['without_proactive'].capitalize()}**")
        st.dataframe(ev.table().round(1).rename(index=AREA_LABELS))
        c1, c2 = st.columns(2)
        c1.download_button("Evaluation (PDF)", pdf,
                           file_name=f"{op.operation_id}_evaluation.pdf",
                           mime="application/pdf", key=OpKeys.EVAL_PDF)
        c2.download_button("Results (CSV)", safe_csv(ev.results),
                           file_name=f"{op.operation_id}_evaluation.csv",
                           mime="text/csv", key=OpKeys.EVAL_CSV)
    st.markdown("**The figures**")
    for line in ev.reading:
        st.markdown(line)
    cols = st.columns(3)
    for col, (measure, title) in zip(cols, MEASURES.items(), strict=True):
        with col:
            st.markdown(f"**{title.capitalize()}**")
            st.dataframe(ev.table(measure=measure).round(1)
                         .rename(index=AREA_LABELS))
    for text in ev.warnings:
        st.warning(text)


def draw_create() -> None:
    """Make an operation from the top hot cells of the current Gi* view."""
    if not may_edit:
        st.info(app_access.NO_EDIT.format(label=access.role.label))
        return
    view = st.session_state.get(Keys.VIEW) or DEFAULT_VIEW
    csps = app_cache.boundaries(GROUPING)["csps"].sort_values("csp_name")
    codes = csps["csp_code"].tolist()
    csp_names = dict(zip(codes, csps["csp_name"], strict=True))
    start_csp = view.csp if view.csp in codes else codes[0]
    csp = st.selectbox("CSP", codes, index=codes.index(start_csp),
                       format_func=lambda c: csp_names[c], key=OpKeys.NEW_CSP)
    wards = app_operations.csp_wards(GROUPING, csp)
    ward_names = dict(zip(wards["ward22_code"], wards["ward22_name"], strict=True))
    chosen = st.multiselect("Within wards (none = the whole CSP)", list(ward_names),
                            format_func=lambda w: ward_names[w], key=OpKeys.NEW_WARDS)
    name = st.text_input("Name", key=OpKeys.NEW_NAME)
    c1, c2, c3 = st.columns(3)
    first, last = coming_month(date.today())
    start = c1.date_input("First day", value=first, key=OpKeys.NEW_START)
    end = c2.date_input("Last day", value=last, key=OpKeys.NEW_END)
    top_n = c3.number_input("Hot cells", min_value=1, max_value=25, value=5,
                            key=OpKeys.NEW_TOP)
    st.caption("Patrol zones are the top cells of the recommended list (the "
               "map's top list: expected occurrences next, from the ranking "
               "fitted on the months up to the view's last) for the chosen CSP, "
               f"at H3 resolution {view.resolution}.")
    if not st.button("Create operation", key=OpKeys.NEW_GO):
        return
    try:
        cells = app_operations.ranked_cells(store_dir, GROUPING,
                                         view.with_(csp=csp, focus=None))
        made = operation_from_hotspots(
            cells, name=name, period_start=start, period_end=end,
            area=app_operations.wards_area(GROUPING, csp, tuple(chosen)),
            csp_code=csp, top_n=int(top_n))
        stored = store.add(made)
    except (HotspotError, ValueError) as exc:
        st.error(f"Not created: {exc}")
        return
    st.session_state[OpKeys.SELECT_NEXT] = stored.operation_id
    st.session_state[OpKeys.MESSAGES] = [
        f"Created {stored.name} with {len(stored.activities)} patrol zones."]
    st.rerun()


def draw_manage(op: Operation | None) -> None:
    """Duplicate, delete (with confirmation), export and import."""
    if not may_edit:
        st.info(app_access.NO_EDIT.format(label=access.role.label))
    if op is not None and may_edit:
        st.markdown("**Duplicate**")
        copy_name = st.text_input("Name of the copy", value=f"{op.name} (copy)",
                                  key=OpKeys.COPY_NAME)
        if st.button("Duplicate", key=OpKeys.COPY_GO):
            try:
                copy = store.duplicate(op.operation_id, name=copy_name)
            except (HotspotError, ValueError) as exc:
                st.error(f"Not duplicated: {exc}")
            else:
                st.session_state[OpKeys.SELECT_NEXT] = copy.operation_id
                st.session_state[OpKeys.MESSAGES] = [f"Created {copy.name}."]
                st.rerun()
        st.markdown("**Delete**")
        sure = st.checkbox(f"Yes, delete {op.name} for every user of this store",
                           key=OpKeys.DELETE_SURE)
        if st.button("Delete", key=OpKeys.DELETE_GO, disabled=not sure):
            try:
                store.delete(op.operation_id, expected_version=op.version)
            except (HotspotError, ValueError) as exc:
                st.error(f"Not deleted: {exc}")
            else:
                st.session_state[OpKeys.MESSAGES] = [f"Deleted {op.name}."]
                st.session_state.pop(OpKeys.DELETE_SURE, None)
                st.rerun()
    if op is not None:
        st.markdown("**Export**")
        for suffix, label in app_operations.FORMATS.items():
            st.download_button(
                f"{label} ({suffix})",
                app_operations.export_bytes([op], suffix),
                file_name=f"{op.operation_id}{suffix}",
                key=OpKeys.export(suffix))
    if not may_edit:
        return
    st.markdown("**Import**")
    upload = st.file_uploader("GeoJSON or GeoPackage of operations",
                              type=["geojson", "json", "gpkg"], key=OpKeys.IMPORT,
                              max_upload_size=app_operations.MAX_IMPORT_MB)
    if upload is None or not st.button("Check and import", key=OpKeys.IMPORT_GO):
        return
    try:
        found = app_operations.import_file(upload.name, upload.getvalue())
    except (HotspotError, ValueError) as exc:
        st.error(f"Not imported: {exc}")
        return
    try:
        done = store.import_all(found)
    except (HotspotError, ValueError) as exc:
        st.error(f"Not imported: {exc}")
        return
    if done:
        st.session_state[OpKeys.SELECT_NEXT] = done[-1].operation_id
        st.session_state[OpKeys.MESSAGES] = [
            f"Imported {', '.join(o.name for o in done)}."]
        st.rerun()


if op is not None and section == "Map and timeline":
    draw_map_and_timeline(op)
elif op is not None and section == "Patrol plan":
    draw_plan(op)
elif op is not None and section == "Evaluation":
    draw_evaluation(op)
elif section == "Create from hot spots":
    draw_create()
else:
    draw_manage(op)

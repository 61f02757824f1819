"""The map page: sidebar controls → cached analyses → pydeck map, legend, panels."""

from __future__ import annotations

import logging

import streamlit as st

from hotspot import layers
from hotspot.analysis import how_computed
from hotspot.app import access as app_access
from hotspot.app import cache as app_cache
from hotspot.app import controls as app_controls
from hotspot.app import operations as app_operations
from hotspot.app import panels as app_panels
from hotspot.app import periods as app_periods
from hotspot.app.controls import Keys
from hotspot.detect.top import cells_for_csp
from hotspot.errors import HotspotError
from hotspot.layers import streets as street_layers
from hotspot.operations import ACTIVITY_KINDS
from hotspot.selection import months_of
from hotspot.view import ALL_CSPS, to_query

logger = logging.getLogger(__name__)
GROUPING = app_controls.current_grouping()
MAP_HEIGHT_PX = 470

store = st.session_state.get(Keys.STORE) or app_cache.default_store()
try:
    points = app_cache.points(store)
    summary = app_cache.summary(store)
except HotspotError as exc:
    st.error(f"Cannot open the occurrence store: {exc}")
    st.stop()
frames = app_cache.boundaries(GROUPING)
csps = frames["csps"]
months = months_of(points)
access = app_access.current_access()
view = app_controls.sidebar(
    csps[["csp_code", "csp_name"]].assign(area_km2=csps.geometry.area / 1e6), months,
    unavailable={} if access.role.points else {
        "points": access.points_reason(None)})
app_access.sidebar_caption(access)
analysis = view.for_analysis()  # the cache key: layers and zoom don't change it
for problem in st.session_state.get(Keys.URL_PROBLEMS, []):
    st.info(f"The link had a setting that could not be used: {problem}")

area_name = (f"All {len(csps)} CSPs" if view.csp == ALL_CSPS
             else csps.set_index("csp_code").loc[view.csp, "csp_name"])
result = app_cache.gistar(store, GROUPING, analysis)
rows = app_cache.counted_rows(store, analysis)
shown_rows = app_cache.view_rows(store, analysis)
shown_cells = cells_for_csp(result.cells, view.csp)
synthetic = bool(shown_rows["is_synthetic"].astype("boolean").fillna(False).any())

st.markdown(f"#### Serious violence hot spots · {area_name}")
st.caption(f"Months {result.data_from} to {result.data_to}. Data: "
           + app_periods.coverage_text(store, view.month_from or months[0],
                                       view.month_to or months[-1]) + ".")
st.page_link("app_pages/plan.py", label="My patrol plan for this area →",
             query_params=None if view.csp == ALL_CSPS else {"csp": view.csp})
if synthetic:
    st.warning(app_panels.SYNTHETIC_NOTE)
if store != app_cache.default_store():
    st.info("Showing data uploaded in this session. A link to this view carries "
            "the view, not the upload: anyone opening it sees the embedded data.")

kde = app_cache.kde(store, GROUPING, analysis) if "kde" in view.layers else None
fire_path = st.session_state.get(Keys.FIRES) or str(app_cache.DEFAULT_FIRES)
fire_points = colocated = colocation_table = None
try:
    if "fires" in view.layers:
        fire_points = app_cache.fires_for_view(app_cache.fires(fire_path, GROUPING),
                                               view)
    if "colocation" in view.layers:
        colocated, colocation_table = app_cache.colocation(store, fire_path,
                                                           GROUPING, analysis)
except HotspotError as exc:
    st.warning(f"Fire records unavailable: {exc}")
arson = arson_months = None
if "arson" in view.layers:
    arson, arson_months = app_cache.arson_cells(store, analysis)
operations = activities = None
if "operations" in view.layers:
    try:
        operations, activities = app_operations.map_operations(
            app_operations.store_path(), view.csp)
    except HotspotError as exc:
        st.warning(f"Operations unavailable: {exc}")
focus_cell = None
if view.focus is not None and (shown_cells["h3"] == view.focus).any():
    focus_cell = shown_cells[shown_cells["h3"] == view.focus]
if focus_cell is not None:
    around = focus_cell.copy()
    around["geometry"] = around.geometry.buffer(300)
    view_state = layers.view_for_bounds(layers.bounds_of(around))
    centre = focus_cell.geometry.iloc[0].centroid
    near = app_access.allowed_points(rows[rows.geometry.distance(centre) < 1500],
                                     access)
    seen = st.session_state.setdefault("audited_points", set())
    if len(near) and view.focus not in seen:
        seen.add(view.focus)
        app_access.audit("points", access, focus=view.focus, shown=len(near),
                         view=to_query(view))
else:
    box = csps if view.csp == ALL_CSPS else csps[csps["csp_code"] == view.csp]
    view_state = layers.view_for_bounds(layers.bounds_of(box))
    near = None
inputs = layers.MapInputs(
    csps=csps, wards=frames["wards"], outline=frames["outline"],
    places=app_cache.places(str(app_cache.PLACES_FILE)),
    gistar_cells=shown_cells, kde=kde,
    points=near if near is not None and len(near) else None,
    imd=app_cache.imd_areas(view.imd) if "imd" in view.layers else None,
    fires=fire_points, colocation=colocated,
    arson=arson, arson_months=arson_months or "",
    operations=operations, activities=activities,
)
drawn_base = app_cache.base_layers(GROUPING, str(app_cache.PLACES_FILE), view.csp,
                                   view.layers)
drawn = layers.map_layers(inputs, layers=view.layers,
                          csp=None if view.csp == ALL_CSPS else view.csp,
                          focus=view.focus, zoom=float(view_state.zoom or 0),
                          base=drawn_base)
street_note = None
if focus_cell is not None:
    try:
        tables = app_cache.street_tables()
        drawn += street_layers.near_layers(tables, x=centre.x, y=centre.y)
        street_note = street_layers.streets_note(
            [str(focus_cell["csp_code"].iloc[0])])
    except HotspotError as exc:
        street_note = f"Street names unavailable: {exc}"
deck = layers.build_deck(drawn, view_state=view_state, basemap=view.basemap)
map_col, legend_col = st.columns([4, 1])
with map_col:
    st.pydeck_chart(deck, height=MAP_HEIGHT_PX, key="map")
    if street_note:
        st.caption(street_note)
with legend_col:
    sections: list[tuple[str, list[layers.LegendEntry]]] = []
    if "gistar" in view.layers:
        sections.append(("Gi* hot and cold spots", layers.gistar_legend()))
    if kde is not None:
        _, vmax = layers.kde_image(kde.values)
        sections.append(("Density (per km²)", layers.ramp_legend(
            "per km²", low="low", high=f"{vmax:.0f}+")))
    if "imd" in view.layers:
        sections.append((f"IMD {view.imd} decile", layers.decile_legend()))
    if fire_points is not None:
        sections.append(("Fires", [layers.LegendEntry(
            layers.FIRE_RGB, "Deliberate fire (SYNTHETIC)", shape="dot")]))
    if arson is not None:
        sections.append(("Police.uk", [layers.LegendEntry(
            layers.ARSON_RGB, "Criminal damage and arson (circle area = count)",
            shape="dot")]))
    if colocated is not None:
        sections.append(("Co-location", [layers.LegendEntry(
            layers.COLOCATION_RGB, "Hot for fires and violence", shape="line")]))
    if operations is not None and len(operations):
        kinds = [] if activities is None else list(activities["kind"])
        sections.append(("Operations", layers.activity_legend(
            kinds, {k: v.label for k, v in ACTIVITY_KINDS.items()})))
    sections.append(("Base map", layers.base_legend()))
    st.markdown(layers.legend_html(sections), unsafe_allow_html=True)
    bins = shown_cells["bin"] if "bin" in shown_cells.columns else None
    st.caption(f"{len(shown_rows):,} occurrences in {area_name} · "
               f"{0 if bins is None else int((bins > 0).sum()):,} hot and "
               f"{0 if bins is None else int((bins < 0).sum()):,} cold cells. "
               "Hover a hexagon for its explanation; double-click to zoom in "
               "(shift: out), the wheel scrolls the page.")
    if "points" in view.layers:
        csp_names = dict(zip(csps["csp_code"], csps["csp_name"], strict=True))
        where = (str(focus_cell["csp_code"].iloc[0]) if focus_cell is not None
                 else None if view.csp == ALL_CSPS else view.csp)
        st.caption(("Occurrence points appear when zoomed to a hot spot; until "
                    "then they are aggregated in the hexagons. " if near is None
                    else "") + access.points_reason(where, names=csp_names))

top = app_cache.top_hotspots(store, GROUPING, analysis)
if focus_cell is not None:
    pick = top[top["h3"] == view.focus]
    place = (str(pick["place"].iloc[0]) if len(pick) and pick["place"].iloc[0]
             else app_cache.cell_place(store, analysis, str(view.focus)))
    app_panels.focus_details(
        str(focus_cell["explanation"].iloc[0]),
        str(pick["peak"].iloc[0]) if len(pick) else None, str(view.focus), place)

# one panel at a time: only the panel on show is computed, so a filter change
# reruns the analyses the user is looking at and no others
panel = st.radio("Panel", app_panels.PANELS, key=Keys.PANEL, horizontal=True,
                 label_visibility="collapsed")
if panel == "Top hot spots":
    app_panels.top_hotspots(top, area_name=str(area_name))
elif panel == "When":
    shown_months = [m for m in months if (view.month_from or months[0]) <= m
                    <= (view.month_to or months[-1])]
    app_panels.when(shown_rows, shown_months,
                    app_periods.month_status(store, tuple(shown_months)))
elif panel == "Trends":
    app_panels.emerging(app_cache.emerging(store, GROUPING, analysis),
                        base=drawn_base, view_state=view_state)
elif panel == "Deprivation":
    try:
        app_panels.deprivation(app_cache.deprivation(store, analysis),
                               edition=view.imd)
    except HotspotError as exc:
        st.info(f"Deprivation tables unavailable: {exc}")
elif panel == "Fires":
    try:
        if colocation_table is None:
            _, colocation_table = app_cache.colocation(store, fire_path, GROUPING,
                                                       analysis)
        app_panels.fires(colocation_table, fire_path=fire_path)
    except HotspotError as exc:
        st.info(f"Fire records unavailable: {exc}")
elif panel == "How this was computed":
    app_panels.how(how_computed(
        view, result,
        kde_bandwidth_m=None if kde is None else kde.bandwidth_m,
        kde_reason=None if kde is None else kde.bandwidth_reason,
        kde_cell_m=None if kde is None else kde.cell_size_m,
    ), result.warnings + ([] if kde is None else kde.warnings))
else:
    app_panels.sources(summary, synthetic=synthetic)

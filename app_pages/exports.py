"""The export page: the map's current view as partner files, through disclosure."""

from __future__ import annotations

import logging

import streamlit as st

from hotspot.app import access as app_access
from hotspot.app import cache as app_cache
from hotspot.app import controls as app_controls
from hotspot.app import exports as app_exports
from hotspot.app import operations as app_operations
from hotspot.app.controls import Keys
from hotspot.errors import HotspotError
from hotspot.export.disclosure import DisclosureRules, at_floor, deployment_floor
from hotspot.view import ALL_CSPS, DEFAULT_VIEW, to_query

logger = logging.getLogger(__name__)
GROUPING = app_controls.current_grouping()

store_dir = st.session_state.get(Keys.STORE) or app_cache.default_store()
fire_path = st.session_state.get(Keys.FIRES) or str(app_cache.DEFAULT_FIRES)
ops_path = app_operations.store_path()
view = st.session_state.get(Keys.VIEW) or DEFAULT_VIEW
access = app_access.current_access()
app_access.sidebar_caption(access)
csps = app_cache.boundaries(GROUPING)["csps"].sort_values("csp_name")
names = dict(zip(csps["csp_code"], csps["csp_name"], strict=True))
area = (f"All {len(names)} CSPs" if view.csp == ALL_CSPS
        else names.get(view.csp, view.csp))

st.markdown(f"#### Export for partners · {area} · "
            f"{view.month_from or 'first month'} to {view.month_to or 'last month'}")
st.caption("The map page's current view (CSP, months, categories, flags, method "
           "and layers). Every file passes the disclosure rules and the checker "
           "before it is offered, and is recorded in the export log.")
floor = deployment_floor()
c1, c2 = st.columns(2)
min_count = c1.number_input("Suppress counts below", min_value=floor.min_count,
                            max_value=50, value=floor.min_count, step=1,
                            key="ex_min_count",
                            help=f"This deployment never shows a count below "
                            f"{floor.min_count}.")
if floor.round_to:
    # the floor always rounds: say so instead of offering a box it overrides
    c2.checkbox(f"Round counts to the nearest {floor.round_to}", value=True,
                disabled=True, key="ex_round",
                help="This deployment always rounds partner counts "
                f"(HOTSPOT_DISCLOSURE_ROUND_TO = {floor.round_to}).")
    asked = DisclosureRules(min_count=int(min_count), round_to=floor.round_to)
else:
    round5 = c2.checkbox("Round counts to the nearest 5", key="ex_round")
    asked = DisclosureRules(min_count=int(min_count), round_to=5 if round5 else None)
# what the files really get: the request raised to the deployment's floor
rules = at_floor(asked, floor=floor)
if view.resolution > app_exports.EXPORT_MAX_RESOLUTION:
    st.info(f"The map uses H3 resolution {view.resolution}; partner files are "
            f"made at resolution {app_exports.EXPORT_MAX_RESOLUTION}, the finest "
            "the disclosure rules allow.")
try:
    data = app_exports.bundle(store_dir, GROUPING, view, fire_path, ops_path, None)
except HotspotError as exc:
    st.error(f"Cannot prepare the export: {exc}")
    st.stop()

st.markdown("**Disclosure rules applied**")
st.dataframe([{"rule": k, "value": str(v)} for k, v in rules.to_dict().items()],
             hide_index=True)
summary = app_exports.disclosure_summary(data, rules)
st.markdown("**What the rules changed**")
if summary.empty:
    st.caption("Nothing needed suppressing.")
else:
    st.dataframe(summary, hide_index=True)
for section, reason in data.notes.items():
    st.caption(f"Not included: {section.replace('_', ' ')} ({reason})")


def download(bundle: app_exports.ExportBundle, fmt: str, csp: str | None) -> None:
    """One download button; the file is made (and logged) when clicked."""
    label, mime = app_exports.DOWNLOADS[fmt]
    stem = app_exports.file_stem(view, csp)
    def made() -> bytes:
        app_access.audit("export", access, format=fmt, csp=csp or view.csp,
                         view=to_query(view), rules=rules.to_dict())
        return app_exports.download_bytes(bundle, fmt=fmt, stem=stem, rules=rules,
                                          csp=csp)

    st.download_button(
        label, made,
        file_name=app_exports.download_name(stem, fmt), mime=mime,
        key=f"ex_{fmt}", on_click="ignore")


st.markdown("**Map layers and tables**")
cols = st.columns(5)
for col, fmt in zip(cols, [f for f in app_exports.DOWNLOADS
                           if f not in app_exports.PER_CSP], strict=True):
    with col:
        download(data, fmt, None)
st.markdown("**Briefing for one CSP**")
codes = list(names)
start = view.csp if view.csp in codes else codes[0]
csp = st.selectbox("CSP", codes, index=codes.index(start),
                   format_func=lambda c: names[c], key="ex_csp")
try:
    one = data if csp == view.csp else app_exports.bundle(
        store_dir, GROUPING, view.with_(csp=csp), fire_path, ops_path, None)
except HotspotError as exc:
    st.error(f"Cannot prepare the briefing: {exc}")
    st.stop()
cols = st.columns(5)
for col, fmt in zip(cols, app_exports.PER_CSP, strict=False):
    with col:
        download(one, fmt, names[csp])

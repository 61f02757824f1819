"""The review page: the 14 CSPs side by side, each opening its own map."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from hotspot.app import access as app_access
from hotspot.app import cache as app_cache
from hotspot.app import controls as app_controls
from hotspot.app import panels as app_panels
from hotspot.app import review as app_review
from hotspot.app.controls import Keys
from hotspot.app.review import ReviewKeys
from hotspot.context.review import DEFAULT_MONTHS
from hotspot.errors import HotspotError
from hotspot.export.disclosure import DisclosureRules
from hotspot.render.charts import plot_league_rates
from hotspot.selection import months_of
from hotspot.view import DEFAULT_VIEW, FLAG_FILTERS, to_query

logger = logging.getLogger(__name__)
GROUPING = app_controls.current_grouping()

store_dir = st.session_state.get(Keys.STORE) or app_cache.default_store()
fire_path = st.session_state.get(Keys.FIRES) or str(app_cache.DEFAULT_FIRES)
base = (st.session_state.get(Keys.VIEW) or DEFAULT_VIEW).with_(grouping=GROUPING)
access = app_access.current_access()
app_access.sidebar_caption(access)
try:
    months = months_of(app_cache.points(store_dir))
except HotspotError as exc:
    st.error(f"Cannot open the occurrence store: {exc}")
    st.stop()

st.markdown("#### CSP review: rates, changes and context, CSP by CSP")
c1, c2, c3 = st.columns([1, 1, 3])
last = len(months) - 1
month_to = c2.selectbox("To month", months, index=last, key=ReviewKeys.TO)
month_from = c1.selectbox("From month", months,
                          index=max(0, months.index(month_to) - DEFAULT_MONTHS + 1),
                          key=ReviewKeys.FROM)
what = ", ".join(c.replace("_", " ") for c in base.categories) or \
    "all serious violence"
flags = ", ".join(FLAG_FILTERS[f] for f in base.flags) or "no flag filter"
c3.caption(f"Rows: {what}; {flags} (the map page's filters). Compared with the "
           "previous period of the same length and the same months a year "
           "earlier. Click a column heading to sort.")
if month_from > month_to:
    st.error("The first month is after the last month: choose the months again.")
    st.stop()
try:
    league = app_review.league(store_dir, fire_path,
                               base.with_(month_from=month_from, month_to=month_to))
except HotspotError as exc:
    st.error(f"Cannot compare the CSPs: {exc}")
    st.stop()

if league.synthetic:
    st.warning(app_panels.SYNTHETIC_NOTE + " Times (night share) and deliberate "
               "fires are SYNTHETIC too.")
coverage = [n for n in league.notes if n.startswith("Against")]
st.caption(" ".join(coverage))

column_config = {
    label: st.column_config.NumberColumn(label, format=fmt)
    for label, fmt in app_review.SHOWN.values() if fmt is not None}
column_config["Map"] = st.column_config.LinkColumn(
    "Map", display_text="Open map", help="this CSP's map over the same months "
    "(opens in a new tab)")
shown = app_review.display_table(league)
st.dataframe(shown, hide_index=True, column_config=column_config, key="rv_table",
             height=35 * (len(shown) + 1) + 3)
st.caption(f"The HIPS row is over all of HIPS, not one CSP. Rates are per 1,000 "
           f"residents over {league.start} to {league.end}, not annualised. "
           "(sparse): fewer than 20 occurrences, a rate means little.")
others = [n for n in league.notes if not n.startswith(("Against", "SYNTHETIC"))]

codes = league.table.loc[league.table["csp_code"] != "HIPS", "csp_code"].tolist()
names = dict(zip(league.table["csp_code"], league.table["csp_name"], strict=True))
o1, o2 = st.columns([2, 1])
chosen = o1.selectbox("Open one CSP's map here", codes,
                      format_func=lambda c: str(names[c]), key=ReviewKeys.OPEN)
if o2.button("Open map", key="rv_open_map") and chosen is not None:
    target = app_review.map_view(league, chosen)
    st.session_state[Keys.VIEW] = target
    st.session_state[Keys.FOCUS] = None
    for key in (Keys.CSP, Keys.MONTHS):
        st.session_state.pop(key, None)
    st.switch_page("app_pages/map.py", query_params=to_query(target))

with st.expander("Definitions: what each column means"):
    for note in others:
        st.caption(note)
    st.markdown(app_review.definitions_markdown())
    st.markdown(
        "- **95% interval**: exact Poisson (Garwood) interval of the count, divided "
        "by the residents.\n- **More than chance**: the conditional binomial test "
        "of the two counts (equal periods, same residents) gives p < 0.05.\n"
        "- **Compared on common sources**: a comparison uses only the sources with "
        "data in every month of both periods; a month with no data at all makes "
        "the comparison *not covered*.\n- **Sparse**: fewer than 20 occurrences.")

st.pyplot(plot_league_rates(
    league.table, title=f"Rate per 1,000 residents, {league.start} to {league.end}"
    + (" (SYNTHETIC records included)" if league.synthetic else "")))

st.markdown("**Briefing pack for partners**")
st.caption("A zip of one briefing PDF per CSP and the league table, all through "
           "disclosure control (small counts suppressed, counts rounded to 5, "
           "rates from the published counts). Takes one to two minutes.")
rules = DisclosureRules(min_count=5, round_to=5)


def pack() -> bytes:
    """Build the pack when the button is clicked (and audit it)."""
    from hotspot.export.review_pack import write_pack

    app_access.audit("export", access, format="review_pack",
                     view=to_query(league.view), rules=rules.to_dict())
    return write_pack(league, app_cache.occurrences(store_dir), store=Path(store_dir),
                      fires=None, rules=rules)


st.download_button("Briefing pack, all CSPs (zip)", pack,
                   file_name=f"briefings_{league.start}_{league.end}.zip",
                   mime="application/zip", key="rv_pack", on_click="ignore")

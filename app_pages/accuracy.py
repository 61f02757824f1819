"""The accuracy page: how well the hot spots predicted the months after them.

A backtest of the recommended list (the predictive ranking every top surface
shows) beside naive baselines in the same run: the ranking is fitted on months up
to a cut-off and scored on later months it never saw
(:func:`hotspot.analysis.backtest_view`). Figures are area shares and ratios
(PAI, PEI*, RRI), never a place's count.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hotspot.analysis import backtest_split, ranking_view
from hotspot.app import access as app_access
from hotspot.app import cache as app_cache
from hotspot.app import controls as app_controls
from hotspot.app.controls import Keys
from hotspot.definitions import SV_CATEGORIES
from hotspot.errors import HotspotError
from hotspot.textsafe import safe_csv
from hotspot.view import DEFAULT_VIEW

GROUPING = app_controls.current_grouping()
store_dir = st.session_state.get(Keys.STORE) or app_cache.default_store()
view = st.session_state.get(Keys.VIEW) or DEFAULT_VIEW
app_access.sidebar_caption(app_access.current_access())

#: Column labels of the tables shown (figures, not counts of any place).
LABELS = {
    "ranking": "Ranking",
    "pai": "PAI at 1% of HIPS",
    "pei_star": "PEI* at 1%",
    "rri": "RRI at 1%",
    "csp_median_pai": "Median PAI at 5% of each CSP",
    "csp_median_pei_star": "Median PEI* at 5% of each CSP",
}

st.markdown("#### How well did these hot spots predict the next months?")
st.caption(
    "The recommended list is fitted on the months up to the cut-off only and "
    "scored on the months after it, beside naive baselines computed in the same "
    "run (earlier counts; kernel density at fixed bandwidths; Gi* z). PAI: the "
    "share of later occurrences in the top cells divided by the share of area "
    "they cover. PEI*: hits divided by the best possible with as many cells. A "
    "month with no usable data is left out of the test, never counted as zero."
)
occ = app_cache.occurrences(store_dir)
months = sorted(pd.to_datetime(occ["occurred_from"]).dt.to_period("M")
                .dropna().astype(str).unique())
c1, c2, c3 = st.columns(3)
test_n = int(c1.number_input("Months tested", min_value=1, max_value=6, value=3,
                             key="bt_months"))
try:
    default_to, _, _ = backtest_split(occ, test_months=test_n)
except HotspotError as exc:
    st.error(f"No backtest: {exc}")
    st.stop()
cut_options = [m for m in months if m < months[-1]]
default_cut = str(default_to.to_period("M"))
cut = c2.selectbox("Last month the rankings may see", cut_options,
                   index=(cut_options.index(default_cut)
                          if default_cut in cut_options else len(cut_options) - 1),
                   key="bt_cut")
police_only = c3.toggle("police.uk rows only", value=False, key="bt_police",
                        help="Score on police.uk rows alone (the records sample "
                        "is SYNTHETIC).")
categories = st.multiselect(
    "Categories forecast and counted (none = all serious violence)",
    list(SV_CATEGORIES), default=list(view.categories),
    format_func=lambda c: SV_CATEGORIES[c], key="bt_categories")
train_end = pd.Period(cut, "M")
test_from = (train_end + 1).start_time
test_to = (train_end + test_n).end_time.normalize()
st.caption(f"Fit on whole months to {train_end.end_time:%d %b %Y}; test "
           f"{test_from:%b %Y} to {test_to:%b %Y}.")
if not st.button("Run the backtest", type="primary", key="bt_go"):
    st.stop()
key = ranking_view(view.with_(grouping=GROUPING, categories=tuple(categories)))
try:
    result = app_cache.backtest(
        store_dir, key, f"{train_end.end_time:%Y-%m-%d}", f"{test_from:%Y-%m-%d}",
        f"{test_to:%Y-%m-%d}", ("police_uk",) if police_only else ())
except HotspotError as exc:
    st.error(f"No backtest for these months: {exc}")
    st.stop()

for line in result.reading:
    st.markdown(f"- {line}")
for message in result.warnings:
    st.warning(message)
summary = result.summary.rename(columns=LABELS)
st.dataframe(summary, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.2f")
                            for c in summary.columns if c != "Ranking"})
wide = result.table()
st.markdown("**PAI at each share of the HIPS area**")
pai = wide[[c for c in wide.columns if c.startswith("pai@")]]
pai.columns = [c.split("@")[1] for c in pai.columns]
st.bar_chart(pai.T, stack=False, height=280, x_label="share of area",
             y_label="PAI")
with st.expander("Per CSP, at 5% of each CSP's area"):
    per = result.per_csp.pivot_table(index="csp_name", columns="ranking",
                                     values="pai").round(2)
    st.dataframe(per, width="stretch")
st.caption(f"Product settings: {result.ranking.settings.label()} "
           f"({result.ranking.chosen_by}). Records rows, where used, are SYNTHETIC; "
           "police.uk data © Crown copyright, Open Government Licence v3.0.")
st.download_button(
    "Download the figures (CSV)",
    safe_csv(pd.concat([result.hips.assign(scope="HIPS"),
                        result.per_csp.assign(scope="CSP")], ignore_index=True)
             .drop(columns=["hits", "total"], errors="ignore")),
    file_name=f"backtest_{cut}_{test_n}m.csv", mime="text/csv", key="bt_csv")

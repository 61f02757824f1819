"""My patrol plan: pick a CSP, set hours a week, download the plan (three steps)."""

from __future__ import annotations

import streamlit as st

from hotspot.app import cache as app_cache
from hotspot.app import my_plan
from hotspot.app import panels as app_panels
from hotspot.app.controls import Keys
from hotspot.boundaries import load_csps
from hotspot.errors import HotspotError

st.markdown("#### My patrol plan")
st.caption("Three steps, no operation needed: the cells of your area that the "
           "ranking expects most serious violence in next, each named by its "
           "streets, with when to go and a patrol card.")
store = st.session_state.get(Keys.STORE) or app_cache.default_store()
csps = load_csps(grouping=my_plan.GROUPING)  # type: ignore[arg-type]
names = dict(zip(csps["csp_code"], csps["csp_name"], strict=True))
codes = sorted(names, key=names.get)  # type: ignore[arg-type]
wanted = st.query_params.get("csp")
start = next((i for i, c in enumerate(codes) if wanted in (c, names[c])), None)
csp = st.selectbox("1. Your area (CSP)", codes, index=start,
                   format_func=names.get, placeholder="Choose a CSP",
                   key="my_plan_csp")
hours = st.number_input("2. Patrol hours a week at the hot spots",
                        min_value=my_plan.MIN_HOURS, max_value=my_plan.MAX_HOURS,
                        value=my_plan.DEFAULT_HOURS, step=1.0, format="%.0f",
                        key="my_plan_hours",
                        help="Visit time only: each cell gets 15-minute visits, "
                        "about one an hour through its 4-hour window on 2 days.")
if csp is None:
    st.info("Choose your CSP to get the plan.")
    st.stop()
try:
    pack = my_plan.pack(store, str(csp), float(hours))
except HotspotError as exc:
    st.error(f"No plan for {names[csp]}: {exc}")
    st.stop()
plan = pack.plan
st.markdown(f"##### 3. Your plan: {names[csp]}, {hours:g} hours a week")
if pack.synthetic:
    st.warning(app_panels.SYNTHETIC_NOTE)
st.caption(f"Data: {pack.period}.")
slug = names[csp].lower().replace(" ", "-")
st.download_button(
    "Download the patrol plan (PDF)",
    data=lambda: my_plan.plan_pdf(store, str(csp), float(hours)),
    file_name=f"patrol-plan-{slug}.pdf", mime="application/pdf", type="primary",
    key="my_plan_pdf", on_click="ignore", width="stretch")
lines = []
for _, row in plan.cells.iterrows():
    days = str(row["peak_days"]).replace(",", ", ")
    when = f"{days} {row['peak_window']}" if days else "times not known"
    lines.append(f"{int(row['rank'])}. **{row['place']}** — {when}; "
                 f"{row['visits_per_week']:g} visits a week")
st.markdown("\n".join(lines))
for text in plan.warnings:
    st.caption(f"Note: {text}")

st.markdown("##### Patrol cards")
labels = {int(r): f"{int(r)}. {p}" for r, p in zip(plan.cells["rank"], pack.places,
                                                    strict=True)}
rank = st.selectbox("Card for", list(labels), format_func=labels.get,
                    key="my_plan_card")
png = my_plan.card_png(store, str(csp), float(hours), int(rank))
left, right = st.columns(2)
with left:
    st.download_button("Phone card (PNG)", data=png,
                       file_name=f"patrol-card-{slug}-{rank}.png", mime="image/png",
                       on_click="ignore", key="my_plan_png", width="stretch")
with right:
    st.download_button(
        "A4 card (PDF)",
        data=lambda: my_plan.card_pdf(store, str(csp), float(hours), int(rank)),
        file_name=f"patrol-card-{slug}-{rank}.pdf", mime="application/pdf",
        on_click="ignore", key="my_plan_card_pdf", width="stretch")
st.image(png, width=420)

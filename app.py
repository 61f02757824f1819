"""Hotspot: the Streamlit app (a thin shell: navigation only).

Run with ``make run``. Seven pages: the map (``app_pages/map.py``), my patrol
plan (``app_pages/plan.py``: a CSP and hours a week in, the plan out), the CSP
review (``app_pages/review.py``), operations (``app_pages/operations.py``),
accuracy (``app_pages/accuracy.py``: how well the hot spots predicted the months
after), exports for partners (``app_pages/exports.py``)
and the data page (``app_pages/data.py``: what the store holds, rejects,
uploads). Caching
lives in :mod:`hotspot.app.cache`, layer building in :mod:`hotspot.layers`,
analysis glue in :mod:`hotspot.app.analysis`.
"""

from __future__ import annotations

import streamlit as st

# the sidebar starts collapsed on narrow screens (phones), open on wide ones
st.set_page_config(page_title="Hotspot: HIPS serious violence", layout="wide",
                   initial_sidebar_state="auto")
page = st.navigation(
    [
        st.Page("app_pages/map.py", title="Map",
                default=True),
        st.Page("app_pages/plan.py", title="My patrol plan"),
        st.Page("app_pages/review.py", title="Review"),
        st.Page("app_pages/operations.py", title="Operations"),
        st.Page("app_pages/accuracy.py", title="Accuracy"),
        st.Page("app_pages/exports.py", title="Export"),
        st.Page("app_pages/data.py", title="Data"),
    ]
)
page.run()

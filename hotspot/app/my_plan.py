"""The "my patrol plan" glue: a CSP and hours a week in, the plan and its cards out.

Cached calls of :func:`hotspot.operations.pack.csp_plan_pack` and the
renderers (:mod:`hotspot.render.patrol_plan`, :mod:`hotspot.render.patrol_card`);
every input is a plain argument. No operation is needed: the plan ranks the
CSP's cells by what the predictive ranking expects next.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from hotspot.app import cache as app_cache
from hotspot.boundaries import load_csps, load_wards
from hotspot.operations.pack import PlanPack, csp_plan_pack
from hotspot.selection import Selected, Selection
from hotspot.settings import APP_CACHE_ENTRIES, APP_CACHE_TTL_S, DEFAULTS

#: Plans are made on the district CSPs at the ranking's resolution.
GROUPING = DEFAULTS.grouping
RESOLUTION = 9
#: Default and limits of the weekly budget (hours of visits at the hot spots).
DEFAULT_HOURS = 6.0
MIN_HOURS, MAX_HOURS = 2.0, 60.0


@st.cache_data(show_spinner="Planning patrols: ranking cells, naming places…",
               max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def pack(store_dir: str, csp_code: str, hours_per_week: float,
         minutes_per_visit: int = 15) -> PlanPack:
    """Return the packed plan of a CSP for a weekly budget."""

    def selector(selection: Selection) -> Selected:
        return app_cache.selected(store_dir, selection)

    return csp_plan_pack(app_cache.occurrences(store_dir), csp_code=csp_code,
                         patrol_hours_per_week=hours_per_week,
                         grouping=GROUPING, resolution=RESOLUTION,
                         minutes_per_visit=minutes_per_visit, selector=selector)


@st.cache_data(show_spinner="Drawing the printable plan and its patrol cards…",
               max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def plan_pdf(store_dir: str, csp_code: str, hours_per_week: float) -> bytes:
    """Return the plan's PDF: map of the named cells, table, overview, cards."""
    from hotspot.render.patrol_plan import pack_pdf_bytes

    packed = pack(store_dir, csp_code, hours_per_week)
    csps = load_csps(grouping=GROUPING)
    csp = csps[csps["csp_code"] == csp_code]
    wards = load_wards()
    wards = wards[wards["lad_code"].isin(str(csp["lad_code"].iloc[0]).split(","))]
    return pack_pdf_bytes(packed, outline=csp.geometry.iloc[0],
                          context=wards.assign(label=wards["ward22_name"]))


@st.cache_data(show_spinner="Drawing the patrol card…",
               max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def card_png(store_dir: str, csp_code: str, hours_per_week: float,
             rank: int) -> bytes:
    """Return one planned cell's patrol card as a phone PNG (1080 × 1920)."""
    from hotspot.render.patrol_card import render_patrol_card

    packed = pack(store_dir, csp_code, hours_per_week)
    card = packed.cards[rank - 1]
    with tempfile.TemporaryDirectory() as folder:
        return render_patrol_card(card, out=Path(folder) / "card.png",
                                  fmt="png").read_bytes()


@st.cache_data(show_spinner="Drawing the patrol card…",
               max_entries=APP_CACHE_ENTRIES, ttl=APP_CACHE_TTL_S)
def card_pdf(store_dir: str, csp_code: str, hours_per_week: float,
             rank: int) -> bytes:
    """Return one planned cell's patrol card as an A4 PDF."""
    from hotspot.render.patrol_card import render_patrol_card

    packed = pack(store_dir, csp_code, hours_per_week)
    with tempfile.TemporaryDirectory() as folder:
        return render_patrol_card(packed.cards[rank - 1],
                                  out=Path(folder) / "card.pdf").read_bytes()

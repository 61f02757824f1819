"""The review page's cache and glue: the league table of a view, the pack, links.

The table is :func:`hotspot.context.review.league_table` of the map's view (its
categories, flags, grouping, resolution and IMD edition) over the months the
page chooses; every CSP row links to that CSP's map (:func:`map_query`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from hotspot.app import cache as app_cache
from hotspot.context.review import LeagueTable, league_table
from hotspot.settings import APP_CACHE_ENTRIES, APP_CACHE_TTL_S
from hotspot.view import View, to_query


class ReviewKeys:
    """Session-state keys of the review page's widgets."""

    FROM = "rv_from"
    TO = "rv_to"
    OPEN = "rv_open_csp"


#: Columns the page shows, in order: league-table column → (label, format).
SHOWN: dict[str, tuple[str, str | None]] = {
    "csp_name": ("CSP", None),
    "occurrences": ("Occurrences", "%d"),
    "rate_per_1000": ("Rate per 1,000 residents", "%.2f"),
    "rate_low": ("95% low", "%.2f"),
    "rate_high": ("95% high", "%.2f"),
    "previous_change_pct": ("Change vs prev. %", "%+.0f%%"),
    "previous_reading": ("Vs previous period", None),
    "year_change_pct": ("Change vs year ago %", "%+.0f%%"),
    "year_reading": ("Vs a year earlier", None),
    "top5_share": ("In top 5% of cells, %", "%.0f%%"),
    "imd_1_2_share": ("In IMD deciles 1-2, %", "%.0f%%"),
    "residents_imd_1_2_share": ("Residents in IMD 1-2, %", "%.0f%%"),
    "night_share": ("Night 20:00-04:00, % (SYNTHETIC)", "%.0f%%"),
    "fire_index": ("Fire co-location index (SYNTHETIC; HIPS = 1)", "%.2f"),
}
SHARES = ("top5_share", "imd_1_2_share", "residents_imd_1_2_share", "night_share")


def verdict(text: str) -> str:
    """Return a reading in a few words (the full one is in the CSV)."""
    if text.startswith(("up", "down")):
        return text.split(" ")[0].rstrip(",") + ", beyond chance"
    if text.startswith("no clear change"):
        return "no clear change"
    return text.split(" (")[0]


@st.cache_data(show_spinner="Comparing the CSPs…", max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def league(store_dir: str, fire_path: str | None, view: View) -> LeagueTable:
    """Return the league table of a view (months set on the view)."""
    fires = (None if not fire_path or not Path(fire_path).exists()
             else app_cache.fires(fire_path, view.grouping))
    return league_table(app_cache.occurrences(store_dir), view, fires=fires)


def map_view(league: LeagueTable, csp_code: str) -> View:
    """Return the view of one CSP's map over the review's months."""
    return league.view.with_(csp=csp_code, month_from=league.start,
                             month_to=league.end, focus=None)


def map_query(league: LeagueTable, csp_code: str) -> dict[str, str]:
    """Return the map page's URL query of one CSP (:func:`hotspot.view.to_query`)."""
    return to_query(map_view(league, csp_code))


def definitions_markdown() -> str:
    """Return the shown columns' definitions as a markdown list (page labels)."""
    from hotspot.context.review import COLUMNS

    lines = [f"- **{label}**: {COLUMNS[column][1]}."
             for column, (label, _) in SHOWN.items() if column in COLUMNS]
    lines.insert(1, "- **Map**: that CSP's map over the same months, with the same "
                 "filters (opens in a new tab).")
    return "\n".join(lines)


def display_table(league: LeagueTable) -> pd.DataFrame:
    """Return the table the page shows: labelled columns, shares in %, map links."""
    table = league.table
    out = pd.DataFrame(index=table.index)
    for column, (label, _) in SHOWN.items():
        values = table[column]
        if column in SHARES:
            values = 100 * values.astype(float)
        if column.endswith("_reading"):
            values = values.map(verdict)
        if column == "csp_name":
            values = values.where(~table["sparse"], values + " (sparse)")
        out[label] = values
        if column == "csp_name":
            out["Map"] = ["" if code == "HIPS"
                          else "/?" + urlencode(map_query(league, code))
                          for code in table["csp_code"]]
    # a comparison without data: its verdict says "not covered", no empty column
    empty = [SHOWN[c][0] for c in ("previous_change_pct", "year_change_pct")
             if table[c].isna().all()]
    return out.drop(columns=empty)

"""Honest periods in the app: each source's coverage, and a monthly chart with gaps.

Cached calls of :mod:`hotspot.coverage` on the store's rows (flagged rows
included), and the monthly chart that draws a month without data as missing
(a grey "no data" band), never as a zero bar, and colours months that only one
source covers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from hotspot import coverage
from hotspot.app import cache as app_cache
from hotspot.settings import APP_CACHE_ENTRIES, APP_CACHE_TTL_S

if TYPE_CHECKING:
    import altair as alt

#: Bar colours by month status (colour-blind safe pair) and the gap's grey.
STATUS_COLOURS: dict[str, str] = {"all sources": "#3b528b", "one source": "#e6a532"}
GAP_COLOUR = "#d9d9d9"


@st.cache_data(show_spinner=False, max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def coverage_text(store_dir: str, month_from: str | None,
                  month_to: str | None) -> str:
    """Return each source's real coverage in the period (as ``coverage_text``)."""
    return coverage.coverage_text(app_cache.occurrences(store_dir),
                                  month_from=month_from, month_to=month_to)


@st.cache_data(show_spinner=False, max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def month_status(store_dir: str, months: tuple[str, ...]) -> pd.DataFrame:
    """Return :func:`coverage.month_status` of the store for these months."""
    return coverage.month_status(app_cache.occurrences(store_dir), list(months))


def monthly_frame(trend: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """Join a monthly trend to the months' status; missing months get no count.

    Returns ``month``, ``occurrences`` (NaN where the month is ``missing`` or
    ``flagged``: no data, not zero), ``status`` and ``sources``.
    """
    out = trend[["month", "occurrences"]].merge(
        status[["month", "status", "sources", "flagged_sources"]], on="month",
        how="left")
    out["status"] = out["status"].fillna("missing")
    gap = out["status"].isin(["missing", "flagged"])
    out["occurrences"] = out["occurrences"].astype(float).where(~gap)
    return out


def monthly_chart(frame: pd.DataFrame, *, height: int = 220) -> alt.LayerChart:
    """Chart :func:`monthly_frame`: bars by status, grey "no data" bands for gaps."""
    import altair as alt

    x = alt.X("month:O", title=None, sort=list(frame["month"]))
    top = float(frame["occurrences"].max()) if frame["occurrences"].notna().any() \
        else 1.0
    gaps = frame[frame["occurrences"].isna()].assign(top=top, label="no data")
    bars = alt.Chart(frame.dropna(subset=["occurrences"])).mark_bar().encode(
        x=x, y=alt.Y("occurrences:Q", title="Occurrences"),
        color=alt.Color("status:N", title=None, scale=alt.Scale(
            domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())),
            legend=alt.Legend(orient="bottom")),
        tooltip=["month", "occurrences", "sources", "flagged_sources"])
    band = alt.Chart(gaps).mark_bar(color=GAP_COLOUR, opacity=0.6).encode(
        x=x, y="top:Q", tooltip=["month", "label"])
    text = alt.Chart(gaps).mark_text(angle=270, align="left", dx=4, fontSize=10,
                                     color="#555555").encode(x=x, text="label:N")
    return alt.LayerChart(layer=[band, bars, text], height=height)


def gaps_caption(frame: pd.DataFrame) -> str:
    """Return the sentence naming the months with no data and those of one source."""
    gap = frame.loc[frame["occurrences"].isna(), "month"].tolist()
    one = frame[frame["status"] == "one source"]
    parts = []
    if gap:
        parts.append(f"No data (not zero): {coverage.month_spans(gap)}.")
    if len(one):
        by = one.groupby("sources")["month"].apply(list)
        parts.append("One source only: " + "; ".join(
            f"{src or 'none'} {coverage.month_spans(ms)}" for src, ms in by.items())
            + ".")
    flagged = frame[frame["flagged_sources"].fillna("") != ""]
    if len(flagged):
        parts.append("Left out as implausible: " + "; ".join(
            f"{r.flagged_sources} {coverage.month_spans([r.month])}"
            for r in flagged.itertuples()) + ".")
    return " ".join(parts)

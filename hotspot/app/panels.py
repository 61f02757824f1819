"""The map page's panels (Streamlit layout only; tables come from ``hotspot``).

Each function draws one panel from tables it is given; none computes anything
beyond formatting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from hotspot import view as viewstate
from hotspot.app.controls import set_focus
from hotspot.context import temporal
from hotspot.errors import ParameterError

if TYPE_CHECKING:  # altair is imported when a chart is drawn (0.4 s to import)
    import altair as alt

    from hotspot.detect.trends import TrendSummary

#: The panels under the map, one shown at a time (labels; URL keys in viewstate).
PANELS: tuple[str, ...] = tuple(viewstate.PANELS.values())
SYNTHETIC_NOTE = (
    "**SYNTHETIC DATA** in this view: records-system rows are synthetic (made for "
    "demonstration, not real police data); police.uk rows are real."
)
LICENCES = (
    "police.uk street-level crime: Open Government Licence v3.0. Boundaries: "
    "Office for National Statistics, OGL v3.0; contains OS data © Crown copyright "
    "and database right 2025. IMD 2025 and 2019: MHCLG, OGL v3.0. Place names: "
    "GeoNames (geonames.org), CC BY 4.0. Map drawn from these shipped layers, with no "
    "basemap tiles unless the online basemap is switched on (© CARTO, © "
    "OpenStreetMap contributors)."
)


def top_hotspots(table: pd.DataFrame, *, area_name: str) -> None:
    """Show the recommended list: places, expected counts, when to go, why."""
    st.subheader(f"Top hot spots: {area_name}")
    if table.empty:
        st.info("No cell is expected to see an occurrence in this view. Widen the "
                "months or categories.")
        return
    shown = table[["rank", "place", "csp", "expected", "count", "evidence", "peak",
                   "imd_decile", "hips_rank", "h3"]].rename(columns={
        "rank": "Rank", "place": "Place", "csp": "CSP",
        "expected": "Expected next month", "count": "Count (months used)",
        "evidence": "Gi* evidence", "peak": "When to go", "imd_decile": "IMD decile",
        "hips_rank": "HIPS rank", "h3": "Cell id",
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    sources = sorted(set(table["peak_source"]) - {"", "nan", "None"})
    st.caption("Ranked by the occurrences expected next month (a forecast from "
               "earlier months, with other police.uk crime at the same places as "
               "leading indicators; docs/ranking.md), not by Gi* significance, which "
               "is shown as evidence. " + (f"Times from: {'; '.join(sources)}."
                                           if sources else ""))
    with st.expander("Why each place is ranked"):
        for rank, place, reason in zip(table["rank"], table["place"],
                                       table["reason"], strict=True):
            st.markdown(f"**#{rank} {place}**: {reason}")
    st.caption("Zoom to a hot spot (the map centres on it and shows its "
               "explanation):")
    cols = st.columns(min(len(table), 5))
    for i, (rank, cell) in enumerate(zip(table["rank"], table["h3"], strict=True)):
        if i >= 5:
            break
        cols[i].button(f"Zoom to #{rank}", key=f"zoom_{cell}", on_click=set_focus,
                       args=(cell,), width="stretch")


def focus_details(explanation: str | None, peak: str | None, cell: str,
                  place: str = "") -> None:
    """Say what the zoomed-to hot spot is, in words: its place first, the id after."""
    st.markdown(f"**Zoomed to {place}**" if place else f"**Zoomed to cell `{cell}`**")
    if place:
        st.caption(f"H3 cell `{cell}`")
    if explanation:
        st.write(explanation)
    if peak:
        st.write(f"When to go: {peak}")
    st.button("Back to the whole area", key="zoom_reset", on_click=set_focus,
              args=(None,))


def when(points: pd.DataFrame, months: list[str],
         status: pd.DataFrame | None = None) -> None:
    """Weekday × hour heat map (timed rows only) and the monthly trend.

    ``status`` (:func:`hotspot.app.periods.month_status`) marks months without
    data as missing, not zero, and months of one source only.
    """
    left, right = st.columns(2)
    with left:
        st.subheader("Weekday × hour")
        try:
            wh = temporal.weekday_hour(points)
        except ParameterError:
            st.info("These rows have month-only dates (police.uk): there is no day "
                    "or hour to show, and none is invented.")
        else:
            inner = wh.table.drop(index="Total", columns="Total")
            st.altair_chart(_heat_map(inner), width="stretch")
            if wh.excluded:
                left_out = ", ".join(
                    f"{n:,} {'with no date' if why == 'missing' else why + '-only'}"
                    for why, n in wh.excluded.items())
                st.caption(f"{wh.n_used:,} rows with a time of day; left out for "
                           f"want of one: {left_out} (never given invented hours).")
    with right:
        st.subheader("Monthly trend")
        if points.empty:
            st.info("No occurrences in this view.")
            return
        trend = temporal.monthly_trend(points, months=months)
        if status is None:
            st.bar_chart(trend.set_index("month")[["occurrences"]], height=220)
        else:
            from hotspot.app import periods

            frame = periods.monthly_frame(trend, status)
            st.altair_chart(periods.monthly_chart(frame), width="stretch")
            st.caption(periods.gaps_caption(frame))
        holidays = trend.loc[trend["school_holiday"], "month"].tolist()
        st.caption("Months at least a quarter school holiday: "
                   + (", ".join(holidays) or "none") + ".")


def _heat_map(table: pd.DataFrame) -> alt.Chart:
    """Chart a weekday × hour count table as a heat map (viridis, colour-blind safe)."""
    import altair as alt

    long = (table.rename_axis(index="weekday", columns="hour").stack()
            .rename("occurrences").reset_index())
    return alt.Chart(long, height=230).mark_rect().encode(
        x=alt.X("hour:O", title="Hour of the day"),
        y=alt.Y("weekday:O", sort=list(temporal.WEEKDAYS), title=None),
        color=alt.Color("occurrences:Q", scale=alt.Scale(scheme="viridis"),
                        title="Occurrences"),
        tooltip=["weekday", "hour", "occurrences"],
    )


def emerging(summary: TrendSummary | None, *, base: Any = None,
             view_state: Any = None) -> None:
    """Trends: a sentence per CSP, the trend map, the named cells, definitions.

    ``base`` (:class:`hotspot.layers.BaseLayers`) and ``view_state`` are the
    main map's, so the trend map shows the same area on the same base.
    """
    from hotspot import layers
    from hotspot.detect.trends import DEFINITIONS

    st.subheader("Emerging hot spots")
    if summary is None:
        st.info("A trend needs at least three months in the view.")
        return
    st.markdown("  \n".join(summary.sentences.values()))
    if base is not None:
        deck = layers.build_deck(
            [*base.under, *base.lines, layers.emerging_layer(summary.cells),
             *base.labels], view_state=view_state)
        map_col, legend_col = st.columns([4, 1])
        with map_col:
            st.pydeck_chart(deck, height=420, key="trend_map")
        with legend_col:
            present = list(dict.fromkeys(summary.cells["category"].astype(str)))
            st.markdown(layers.legend_html([
                ("Emerging hot spots", layers.emerging_legend(present))]),
                unsafe_allow_html=True)
    if summary.notes:
        st.warning("  \n".join(summary.notes))
    st.caption(f"Gi* per {summary.period} and a Mann-Kendall trend per cell "
               f"({summary.reason}).")
    with st.expander("What the categories mean"):
        st.markdown("\n".join(f"- **{name.capitalize()}**: {text}"
                              for name, text in DEFINITIONS.items()))
    shown = summary.cells[["csp_name", "category", "place", "count", "hot_periods",
                           "n_periods", "h3"]].rename(columns={
        "csp_name": "CSP", "category": "Pattern", "place": "Place",
        "count": "Occurrences (all periods)", "hot_periods": "Periods hot",
        "n_periods": "Periods with data", "h3": "Cell id"})
    st.dataframe(shown, hide_index=True, width="stretch")
    for text in summary.warnings:
        st.caption(text)


def deprivation(table: pd.DataFrame | None, *, edition: str = "2025") -> None:
    """Occurrences and rates by IMD decile beside HIPS (``edition`` 2025 or 2019)."""
    from hotspot.context.deprivation import edition_files
    from hotspot.context.rates import DECILE_LABELS

    st.subheader(f"Deprivation (IMD {edition})")
    if table is None or table.empty:
        st.info("No deprivation table for this view.")
        return
    shown = table.rename(columns=DECILE_LABELS)
    st.dataframe(shown.round(1), hide_index=True, width="stretch")
    st.caption(f"Decile 1 is the most deprived 10% of LSOAs in England. Rates are "
               f"occurrences per 1,000 residents over the months shown "
               f"({edition_files(edition).population_label}); the HIPS columns "
               "are the same decile over all 14 CSPs, for comparison.")


def fires(summary: pd.DataFrame, *, fire_path: str) -> None:
    """Deliberate fires and violence: the CSP shown beside all of HIPS."""
    from hotspot.context.fires import colocation_labels

    st.subheader("Deliberate fires and violence")
    if "SYNTHETIC" in fire_path.upper():
        st.warning("**SYNTHETIC DATA**: the fire records are a synthetic sample in "
                   "the Home Office incident-level layout, not real incidents.")
    unit = str(summary.attrs.get("rate_unit", "per km²"))
    labels = colocation_labels(unit)
    columns = [c for c in ("rank", "csp_name", "violence", "fires", "violence_rate",
                           "fire_rate", "violence_ratio", "fire_ratio",
                           "both_index", "hot_violence_cells", "hot_fire_cells",
                           "hot_both_cells")
               if c in summary.columns]
    shown = summary[columns].round(2).rename(columns=labels)
    st.dataframe(shown, hide_index=True, width="stretch")
    st.caption(f"Rates are {unit} of the study cells over the months shown; the "
               "HIPS row is all 14 CSPs (ratio 1 = the HIPS average). 'Both "
               "together' above 1 means above the HIPS average on violence and fires "
               "taken together. Hot-spot cells: Gi* at 95% (FDR), each CSP its own "
               "study area. Rank: among the 14 CSPs.")


def how(table: pd.DataFrame, warnings: list[str]) -> None:
    """Every parameter with its value and reason."""
    st.subheader("How this was computed")
    st.table(table.set_index("parameter"))  # a table wraps the long reasons
    for message in warnings:
        st.warning(message)


def sources(summary: dict[str, Any], *, synthetic: bool) -> None:
    """Provenance and licence lines."""
    st.subheader("Data and licences")
    files: list[str] = list(summary.get("files") or [])
    st.write("Store built from: " + ", ".join(f"`{f}`" for f in files))
    st.write(f"Created {summary.get('created')} by hotspot "
             f"{summary.get('hotspot_version')}.")
    if synthetic:
        st.warning(SYNTHETIC_NOTE)
    st.caption(LICENCES)

"""Hotspot: the Streamlit app (a thin shell: widgets, caching and layout only).

Run with ``make run``. Until the map lands this page shows what the embedded
default store holds: counts per CSP and per category, rejects, geocoding by method
and data-quality flags.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from hotspot import overview
from hotspot.store import DEFAULT_STORE, load_occurrences, load_rejects, load_summary

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence "
    "v3.0. Source: Office for National Statistics licensed under the Open Government "
    "Licence v3.0. Contains OS data © Crown copyright and database right 2025. "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025. "
    "Contains National Statistics data © Crown copyright and database right 2025. "
    "GeoNames (geonames.org), CC BY 4.0."
)


@st.cache_data(show_spinner="Loading the occurrence store…")
def load_tables(store_dir: str) -> dict[str, pd.DataFrame]:
    """Load a store and derive the overview tables (cached by the store path)."""
    occurrences = pd.DataFrame(load_occurrences(store_dir).drop(columns="geometry"))
    rejects = load_rejects(store_dir)
    return {
        "by_csp": overview.counts_by_csp(occurrences),
        "by_category": overview.counts_by_category(occurrences),
        "geocoding": overview.geocoding_by_method(occurrences),
        "rejects": overview.rejects_by_reason(rejects),
        "rejects_raw": rejects,
    }


@st.cache_data
def load_store_summary(store_dir: str) -> dict:  # type: ignore[type-arg]
    """Return the store's ingest summary (cached by the store path)."""
    return load_summary(store_dir)


def main() -> None:
    """Lay out the page."""
    st.set_page_config(page_title="Hotspot: HIPS serious violence", layout="wide")
    store_dir = str(Path(st.query_params.get("store", str(DEFAULT_STORE))))
    summary = load_store_summary(store_dir)
    tables = load_tables(store_dir)
    rows = summary["rows"]

    st.title(
        "Hotspot: serious violence in Hampshire, the Isle of Wight, "
        "Portsmouth and Southampton"
    )
    st.caption(
        f"Store: `{store_dir}` · period {summary['period']['from'][:10]} to "
        f"{summary['period']['to'][:10]}"
    )
    if summary.get("synthetic_rows"):
        st.warning(
            f"**SYNTHETIC DATA**: {summary['synthetic_rows']:,} rows come from a "
            "synthetic records-system extract generated for demonstration. They are "
            "not real police data. police.uk rows are real (month-level, anonymised)."
        )
    cols = st.columns(4)
    cols[0].metric("Rows read", f"{rows['read']:,}")
    cols[1].metric("Accepted", f"{rows['accepted']:,}")
    cols[2].metric("Rejected", f"{rows['rejected']:,}")
    cols[3].metric(
        "Flagged (left out by default)", f"{summary['quality']['rows_flagged']:,}"
    )
    st.write(
        f"Read {rows['read']:,} = accepted {rows['accepted']:,} + rejected "
        f"{rows['rejected']:,}: every row is accounted for."
    )

    left, right = st.columns(2)
    with left:
        st.subheader("Occurrences per CSP")
        st.dataframe(tables["by_csp"], width="stretch")
    with right:
        st.subheader("Serious violence by category")
        st.dataframe(tables["by_category"], width="stretch", hide_index=True)
        st.caption(
            "match: *definition* = HIPS definition applied to offence codes "
            "and flags; *exact* = police.uk category equal to a part of the "
            "definition; *approximate* = police.uk category that is a superset "
            "(Violence and sexual offences, Public order), not counted as "
            "serious violence."
        )
        st.subheader("Geocoding by method")
        st.dataframe(tables["geocoding"], width="stretch")

    st.subheader("Data-quality checks")
    findings = summary["quality"]["findings"]
    if findings:
        st.dataframe(pd.DataFrame(findings), width="stretch", hide_index=True)
    else:
        st.write("No data-quality problems found.")

    st.subheader("Rejected rows by reason")
    st.dataframe(tables["rejects"], width="stretch", hide_index=True)
    st.download_button(
        "Download all rejected rows (CSV)",
        tables["rejects_raw"].to_csv(index=False).encode("utf-8"),
        file_name="rejects.csv",
        mime="text/csv",
    )
    st.divider()
    st.caption(ATTRIBUTION)


main()

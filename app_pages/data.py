"""The data page: what the store holds, its rejects, and uploads of new data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from hotspot.access import Access
from hotspot.app import access as app_access
from hotspot.app import cache as app_cache
from hotspot.app import uploads as app_uploads
from hotspot.app.controls import Keys
from hotspot.app.panels import LICENCES
from hotspot.errors import HotspotError
from hotspot.ingest import overview
from hotspot.ingest.store import load_occurrences, load_rejects
from hotspot.settings import APP_CACHE_ENTRIES, APP_CACHE_TTL_S
from hotspot.textsafe import safe_csv


@st.cache_data(show_spinner="Loading the occurrence store…",
               max_entries=APP_CACHE_ENTRIES,
               ttl=APP_CACHE_TTL_S)
def load_tables(store_dir: str) -> dict[str, pd.DataFrame]:
    """Overview tables of a store (cached by the store path)."""
    occurrences = pd.DataFrame(load_occurrences(store_dir).drop(columns="geometry"))
    rejects = load_rejects(store_dir)
    return {
        "by_csp": overview.counts_by_csp(occurrences),
        "by_category": overview.counts_by_category(occurrences),
        "geocoding": overview.geocoding_by_method(occurrences),
        "rejects": overview.rejects_by_reason(rejects),
        "rejects_raw": rejects,
        "precision": _precision(occurrences),
    }


def _precision(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Rows per location precision, and whether hot-spot cells (res. 9) use them."""
    from hotspot.geocode import h3_edge_m, precision_summary

    if "geocode_precision" not in occurrences.columns:
        return pd.DataFrame({"note": ["this store records no location precision"]})
    return precision_summary(occurrences, cell_edge_m=h3_edge_m(9))


def upload_section(access: Access) -> None:
    """Upload a police.uk file or a records extract with its column mapping."""
    st.subheader("Upload data")
    if not access.role.uploads:
        st.info(app_access.NO_UPLOADS.format(label=access.role.label))
        return
    st.caption(f"Files up to {app_uploads.MAX_UPLOAD_MB} MB. They are checked, then "
               "saved and ingested inside the app's own data folder only.")
    kind = st.radio("Kind of file", list(app_uploads.DATA_KINDS), key="up_kind",
                    format_func=lambda k: app_uploads.UPLOAD_KINDS[k][0])
    upload = st.file_uploader("File", type=["csv"], key="up_file",
                              max_upload_size=app_uploads.MAX_UPLOAD_MB)
    mapping = None
    if kind == "records":
        choices = app_uploads.mapping_choices()
        name = st.selectbox("Column mapping", ["(upload one)", *choices],
                            key="up_mapping")
        mapping_file = st.file_uploader("Mapping (TOML)", type=["toml"],
                                        key="up_mapping_file", max_upload_size=1)
        try:
            if name in choices:
                mapping = app_uploads.load_mapping_file(choices[name])
            elif mapping_file is not None:
                saved = app_uploads.save_upload(mapping_file.name,
                                                mapping_file.getvalue(),
                                                kind="mapping")
                mapping = app_uploads.load_mapping_file(saved.path)
        except HotspotError as exc:
            st.error(f"Mapping not usable: {exc}")
            return
    if upload is None or not st.button("Check and ingest", key="up_go"):
        return
    if kind == "fire":
        fire_upload(upload.name, upload.getvalue(), access=access)
        return
    try:
        saved = app_uploads.save_upload(
            upload.name, upload.getvalue(), kind=kind,
            read_with=repr(mapping) if mapping is not None else "")
        result, store = app_uploads.ingest_upload(saved, kind=kind, mapping=mapping)
    except (HotspotError, ValueError) as exc:
        st.error(f"Upload rejected: {exc}")
        return
    rows = result.summary["rows"]
    why = app_uploads.unusable_reason(result)
    if why is not None:
        st.error(f"This upload cannot be mapped: {why}. The map keeps the data it "
                 "had.")
        if access.role.record_details and len(result.rejects):
            st.dataframe(result.rejects.head(200), hide_index=True, width="stretch")
        return
    st.success(f"Read {rows['read']:,}: accepted {rows['accepted']:,}, rejected "
               f"{rows['rejected']:,}. The map now uses this upload.")
    st.session_state[Keys.STORE] = str(store)
    st.session_state.pop(Keys.VIEW, None)


def fire_upload(name: str, content: bytes, *, access: Access) -> None:
    """Check fire records, show their rejects, and put them on the map."""
    try:
        saved = app_uploads.save_upload(name, content, kind="fire")
        read = app_uploads.read_fire_upload(saved)
    except (HotspotError, ValueError) as exc:
        st.error(f"Upload rejected: {exc}")
        return
    st.success(f"Read {read.n_read:,}: accepted {len(read.accepted):,}, rejected "
               f"{read.n_rejected():,}. The map's fire layers now use this file.")
    if read.n_rejected() and not access.role.record_details:
        st.info(app_access.NO_DETAILS.format(label=access.role.label))
    elif read.n_rejected():
        st.dataframe(read.rejected, hide_index=True, width="stretch")
        st.download_button("Download the rejected fire rows (CSV)",
                           safe_csv(read.rejected),
                           file_name="fire_rejects.csv", mime="text/csv",
                           key="dl_fire_rejects")
    st.session_state[Keys.FIRES] = str(saved.path)


def main() -> None:
    """Lay out the page."""
    default = app_cache.default_store()
    access = app_access.current_access()
    app_access.sidebar_caption(access)
    st.title("Data")
    in_use = tuple(str(Path(v).parent) for v in (st.session_state.get(Keys.STORE),
                                                 st.session_state.get(Keys.FIRES))
                   if v)
    app_uploads.clean_uploads(keep=in_use)
    upload_section(access)
    store_dir = st.session_state.get(Keys.STORE) or default
    if store_dir != default and st.button("Back to the embedded data",
                                          key="up_reset"):
        st.session_state[Keys.STORE] = None
        st.session_state.pop(Keys.VIEW, None)
        store_dir = default
    try:
        summary = app_cache.summary(store_dir)
        tables = load_tables(store_dir)
    except HotspotError as exc:
        st.error(f"Cannot open the occurrence store: {exc}")
        return
    rows = summary["rows"]
    period = summary["period"]
    st.caption(f"Store: `{store_dir}` · period {str(period['from'])[:10]} to "
               f"{str(period['to'])[:10]}")
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
    cols[3].metric("Flagged (left out by default)",
                   f"{summary['quality']['rows_flagged']:,}")
    left, right = st.columns(2)
    with left:
        st.subheader("Occurrences per CSP")
        st.dataframe(tables["by_csp"], width="stretch")
    with right:
        st.subheader("Serious violence by category")
        st.dataframe(tables["by_category"], width="stretch", hide_index=True)
        st.subheader("Geocoding by method")
        st.dataframe(tables["geocoding"], width="stretch")
    st.subheader("Location precision, and what the hot-spot cells use")
    st.caption("An analysis on H3 cells (resolution 9, about 193 m edge) uses a "
               "point only when it is known to within the cell's edge; a town or "
               "district centroid never. The rest count in their CSP's totals.")
    st.dataframe(tables["precision"], width="stretch", hide_index=True)
    st.subheader("Data-quality checks")
    findings = app_access.findings_for(summary["quality"]["findings"], access)
    if findings:
        st.dataframe(pd.DataFrame(findings), width="stretch", hide_index=True)
    else:
        st.write("No data-quality problems found.")
    st.subheader("Rejected rows by reason")
    st.dataframe(tables["rejects"], width="stretch", hide_index=True)
    if access.role.record_details:
        def rejects_csv() -> bytes:
            app_access.audit("record_rows", access, store=store_dir,
                             what="rejected rows (CSV download)")
            return safe_csv(tables["rejects_raw"])

        st.download_button("Download all rejected rows (CSV)", rejects_csv,
                           file_name="rejects.csv", mime="text/csv", key="dl_rejects",
                           on_click="ignore")
    else:
        st.info(app_access.NO_DETAILS.format(label=access.role.label))
    st.divider()
    st.caption(LICENCES)


main()

"""Plain tables describing what a store holds, for the app and the command line."""

from __future__ import annotations

import pandas as pd

from hotspot.definitions import SV_CATEGORIES

SOURCE_LABELS: dict[str, str] = {
    "police_uk": "police.uk street crime (real, month only)",
    "records": "records-system extract",
    "template": "hand-filled template",
    "istv": "A&E assaults (ISTV)",
}


def source_label(source: str, *, synthetic: bool) -> str:
    """Plain-English name of a source, marked SYNTHETIC where it is."""
    label = SOURCE_LABELS.get(source, source)
    return f"SYNTHETIC {label}" if synthetic else label


def _labelled_source(occurrences: pd.DataFrame) -> pd.Series:
    synthetic = occurrences["is_synthetic"].fillna(False).astype(bool)
    return pd.Series(
        [
            source_label(s, synthetic=y)
            for s, y in zip(occurrences["source"], synthetic, strict=True)
        ],
        index=occurrences.index,
    )


def counts_by_csp(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Occurrences per CSP (rows) and source (columns), serious violence apart."""
    source = _labelled_source(occurrences)
    sv = occurrences["is_serious_violence"].fillna(False).astype(bool)
    table = pd.crosstab(occurrences["csp_name"], source).rename_axis(
        index="CSP", columns=None
    )
    table["serious violence (definition or exact match)"] = (
        sv.groupby(occurrences["csp_name"]).sum().reindex(table.index).astype(int)
    )
    return table.sort_index()


def counts_by_category(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Serious-violence occurrences per category, source and match quality."""
    has_category = occurrences["sv_category"].notna()
    part = occurrences[has_category]
    names = dict(SV_CATEGORIES)
    table = (
        pd.DataFrame(
            {
                "category": part["sv_category"].map(names).fillna(part["sv_category"]),
                "source": _labelled_source(part),
                "match": part["sv_match"],
            }
        )
        .value_counts()
        .rename("occurrences")
        .reset_index()
        .sort_values(["source", "occurrences"], ascending=[True, False])
    )
    return table.reset_index(drop=True)


def geocoding_by_method(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Points per geocoding method with their median uncertainty (metres)."""
    grouped = occurrences.groupby("geocode_method")["geocode_uncertainty_m"]
    table = pd.DataFrame(
        {
            "points": grouped.size(),
            "median uncertainty (m)": grouped.median().round(0),
        }
    ).rename_axis("method")
    table["share"] = (table["points"] / table["points"].sum()).map("{:.1%}".format)
    return table.sort_values("points", ascending=False)


def rejects_by_reason(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows per stage, field and reason (first reason of each row)."""
    first = rejects.drop_duplicates(["source_file", "row_number"])
    return (
        first[["stage", "field", "reason"]]
        .fillna("")
        .value_counts()
        .rename("rows")
        .reset_index()
    )

"""The canonical occurrence table and the rejects table.

Every reader returns rows in this layout; geocoding, classification and location
fill the derived columns. ``docs/occurrence-table.md`` documents each column for
analysts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

#: Columns of the canonical occurrence table, in order, with their pandas dtypes.
#: ``geometry`` (points in EPSG:27700) is added by the geocoder.
OCCURRENCE_COLUMNS: dict[str, str] = {
    # identity and provenance
    "occurrence_id": "string",
    "source": "string",  # police_uk | records | template | istv
    "source_file": "string",
    "source_row": "Int64",  # 1-based data row number in source_file (header excluded)
    "is_synthetic": "boolean",
    # when: [occurred_from, occurred_to] inclusive; precision says what is known
    "occurred_from": "datetime64[ns]",
    "occurred_to": "datetime64[ns]",
    "date_precision": "string",  # minute | day | month
    # what
    "offence_code": "string",  # Home Office offence code, e.g. "5/1"; empty if unknown
    "offence_description": "string",
    "crime_type": "string",  # police.uk crime type, when that is all there is
    "hmic_group": "string",  # 1a, 1b, 3a, 3b, 7, ...
    "sv_category": "string",  # empty when not serious violence
    "sv_match": "string",  # definition | exact | approximate | none
    "is_serious_violence": "boolean",
    "harm_weight": "Float64",
    # flags (NA = not recorded)
    "public_place": "boolean",
    "bladed_implement": "boolean",
    "domestic": "boolean",
    "licensed_premises": "boolean",
    "alcohol": "boolean",
    "drugs": "boolean",
    "hate_crime": "boolean",
    # victim (level 2: age and sex only, never names)
    "victim_age": "Int64",
    "victim_age_band": "string",
    "victim_sex": "string",  # M | F | U
    # location as given (any one may be filled)
    "easting": "Float64",
    "northing": "Float64",
    "latitude": "Float64",
    "longitude": "Float64",
    "postcode": "string",
    "location_text": "string",
    "recorded_lsoa_code": "string",
    # location as resolved
    "geocode_method": "string",
    "geocode_uncertainty_m": "Float64",
    # exact | snap_point | postcode_unit | street | postcode_sector |
    # postcode_district | place | area (hotspot.geocode.precision)
    "geocode_precision": "string",
    "csp_code": "string",
    "csp_name": "string",
    "lsoa21_code": "string",
    # data quality: empty when fine; ';'-separated check names otherwise
    "quality_flags": "string",
}

FLAG_COLUMNS: tuple[str, ...] = (
    "public_place",
    "bladed_implement",
    "domestic",
    "licensed_premises",
    "alcohol",
    "drugs",
    "hate_crime",
)

LOCATION_COLUMNS: tuple[str, ...] = (
    "easting",
    "northing",
    "latitude",
    "longitude",
    "postcode",
    "location_text",
)

#: Columns of the rejects table. ``value`` is the offending value as text.
REJECT_COLUMNS: dict[str, str] = {
    "source_file": "string",
    "row_number": "Int64",
    "occurrence_id": "string",
    "field": "string",
    "value": "string",
    "reason": "string",
    "stage": "string",  # read | geocode | locate
}


def empty_occurrences(n: int = 0) -> pd.DataFrame:
    """Return a frame of ``n`` rows with every canonical column, all missing."""
    return pd.DataFrame(
        {
            name: pd.Series([pd.NA] * n, dtype=dtype)
            for name, dtype in OCCURRENCE_COLUMNS.items()
        }
    )


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every canonical column, in order, with canonical dtypes.

    Missing columns are added empty; extra columns (``geometry`` among them) are
    kept after the canonical ones. The input is not changed.
    """
    out = pd.DataFrame(index=frame.index)
    for name, dtype in OCCURRENCE_COLUMNS.items():
        if name in frame.columns:
            out[name] = frame[name].astype(dtype)
        else:
            out[name] = pd.Series(pd.NA, index=frame.index, dtype=dtype)
    extra = [c for c in frame.columns if c not in OCCURRENCE_COLUMNS]
    for name in extra:
        out[name] = frame[name]
    return out


def empty_rejects() -> pd.DataFrame:
    """Return an empty rejects table with the canonical columns."""
    return pd.DataFrame(
        {name: pd.Series(dtype=dtype) for name, dtype in REJECT_COLUMNS.items()}
    )


def make_rejects(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as a rejects table: canonical columns and dtypes, in order."""
    out = pd.DataFrame(index=frame.index)
    for name, dtype in REJECT_COLUMNS.items():
        col = (
            frame[name]
            if name in frame.columns
            else pd.Series(pd.NA, index=frame.index)
        )
        out[name] = col.astype(dtype)
    return out.reset_index(drop=True)


@dataclass
class ReadResult:
    """What a reader returns: accepted rows, rejected rows, and how many were read.

    ``n_read == len(accepted) + rejected["row_number"].nunique()`` per file: a row
    with several problems appears once per problem in ``rejected`` but counts once.
    """

    accepted: pd.DataFrame
    rejected: pd.DataFrame = field(default_factory=empty_rejects)
    n_read: int = 0
    files: list[str] = field(default_factory=list)

    def n_rejected(self) -> int:
        """Return the number of distinct input rows rejected."""
        if self.rejected.empty:
            return 0
        keys = self.rejected[["source_file", "row_number"]].drop_duplicates()
        return len(keys)

"""Fire incidents in the Home Office incident-level layout: the reader.

One row per incident: an incident id, date and time, incident type (primary
fire, secondary fire, chimney fire, false alarm, special service),
``ACCIDENTAL_OR_DELIBERATE``, property type, fire and rescue authority, and a
location as LSOA code and/or easting/northing (British National Grid). Headers
are matched case- and space-insensitively, with the aliases in
:data:`FIRE_HEADERS`. It keeps the same accounting as the occurrence readers: a
:class:`~hotspot.ingest.schema.ReadResult` whose ``n_read`` equals accepted rows
plus distinct rejected rows, each rejection naming file, row, field and reason.
What fires mean for violence is in :mod:`hotspot.context.fires`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot.crs import BNG
from hotspot.errors import InputFileError
from hotspot.ingest.fields import Rejections, blank, parse_datetimes, parse_numbers
from hotspot.ingest.schema import ReadResult
from hotspot.ingest.tables import TextTable, read_text_table

logger = logging.getLogger(__name__)

#: Canonical field → accepted headers (first found wins), matched ignoring case,
#: spaces and underscores.
FIRE_HEADERS: dict[str, tuple[str, ...]] = {
    "incident_id": ("INCIDENT_ID", "INCIDENT_NUMBER", "INCIDENT_REF"),
    "date_time": (
        "INCIDENT_DATE_TIME",
        "DATE_TIME",
        "CALL_DATE_TIME",
        "INCIDENT_DATETIME",
    ),
    "date": ("INCIDENT_DATE", "DATE"),
    "time": ("INCIDENT_TIME", "TIME"),
    "incident_type": ("INCIDENT_TYPE",),
    "accidental_or_deliberate": ("ACCIDENTAL_OR_DELIBERATE", "MOTIVE"),
    "property_type": ("PROPERTY_TYPE", "PROPERTY_CATEGORY"),
    "fra_name": ("FRS_NAME", "FRA_NAME", "FIRE_AND_RESCUE_AUTHORITY", "FRA"),
    "lsoa_code": ("LSOA_CODE", "LSOA21CD", "LSOA11CD", "LSOA"),
    "easting": ("EASTING", "X", "GRID_EASTING"),
    "northing": ("NORTHING", "Y", "GRID_NORTHING"),
}
#: Date formats tried before the ISO ones (Home Office and FRS exports).
FIRE_DATETIME_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)
INCIDENT_TYPES: tuple[str, ...] = (
    "primary_fire",
    "secondary_fire",
    "chimney_fire",
    "false_alarm",
    "special_service",
)
DELIBERATE_TYPES: frozenset[str] = frozenset({"primary_fire", "secondary_fire"})
MOTIVES: tuple[str, ...] = ("accidental", "deliberate", "not_known")
#: Columns of the accepted fire table, in order (geometry added last).
FIRE_COLUMNS: dict[str, str] = {
    "incident_id": "string",
    "occurred_at": "datetime64[ns]",
    "date_precision": "string",
    "incident_type": "string",
    "accidental_or_deliberate": "string",
    "is_deliberate_fire": "boolean",
    "property_type": "string",
    "fra_name": "string",
    "lsoa_code": "string",
    "easting": "Float64",
    "northing": "Float64",
    "source_file": "string",
    "source_row": "Int64",
    "is_synthetic": "boolean",
}
_LSOA_PATTERN = r"^[EW]01\d{6}$"
#: British National Grid bounds (metres).
_EASTING_RANGE = (0.0, 700_000.0)
_NORTHING_RANGE = (0.0, 1_300_000.0)


def read_fire_incidents(
    path: Path | str, *, synthetic: bool | None = None
) -> ReadResult:
    """Read a fire incident file in the Home Office incident-level layout.

    Parameters
    ----------
    path : path
        CSV or Excel (.xlsx) file.
    synthetic : bool, optional, keyword-only
        Whether the data are synthetic; a file whose name contains ``SYNTHETIC``
        is taken as synthetic when not given.

    Returns
    -------
    ReadResult
        ``accepted``: a GeoDataFrame with the columns of :data:`FIRE_COLUMNS`
        and point geometry (EPSG:27700) where easting/northing were given
        (empty otherwise: locate those by LSOA with :func:`locate_fires`).
        ``rejected``: one row per problem (file, row, field, value, reason).

    Raises
    ------
    InputFileError
        When the file cannot be read or a required column is missing (incident
        id, date, incident type, accidental or deliberate, and either an LSOA
        code column or both easting and northing).
    """
    table = read_text_table(path, name=Path(path).name)
    if synthetic is None:
        synthetic = "synthetic" in Path(path).name.lower()
    result = parse_fire_incidents(table, synthetic=synthetic)
    logger.info(
        "%s: %d rows read, %d accepted, %d rejected",
        table.path,
        result.n_read,
        len(result.accepted),
        result.n_rejected(),
    )
    return result


def _find_headers(table: TextTable) -> dict[str, str]:
    def norm(text: str) -> str:
        return "".join(text.lower().replace("_", " ").split())

    actual = {norm(h): h for h in table.frame.columns}
    found: dict[str, str] = {}
    for field_name, aliases in FIRE_HEADERS.items():
        for alias in aliases:
            if norm(alias) in actual:
                found[field_name] = actual[norm(alias)]
                break
    missing = [
        f"{FIRE_HEADERS[f][0]}"
        for f in ("incident_id", "incident_type", "accidental_or_deliberate")
        if f not in found
    ]
    if "date_time" not in found and "date" not in found:
        missing.append("INCIDENT_DATE_TIME (or INCIDENT_DATE)")
    has_grid = "easting" in found and "northing" in found
    if "lsoa_code" not in found and not has_grid:
        missing.append("LSOA_CODE or EASTING and NORTHING")
    if missing:
        raise InputFileError(
            table.path,
            f"required column(s) {missing} missing for the Home Office fire "
            f"incident layout; the file's columns are {list(table.frame.columns)}",
        )
    return found


def _normalise_type(values: pd.Series) -> pd.Series:
    text = (
        values.astype("string")
        .str.strip()
        .str.lower()
        .str.replace(r"[\s_\-]+", " ", regex=True)
    )
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    for code in INCIDENT_TYPES:
        words = code.replace("_", " ")
        hit = text.str.startswith(words).fillna(False)
        out[hit.to_numpy(dtype=bool) & out.isna().to_numpy()] = code
    return out


def _normalise_motive(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.astype("string").fillna("").str.strip().str.lower()
    mapping = {
        "accidental": "accidental",
        "deliberate": "deliberate",
        "not known": "not_known",
        "unknown": "not_known",
        "not_known": "not_known",
    }
    not_applicable = {"", "not applicable", "n/a", "na"}
    out = text.map(mapping).astype("string")
    bad = out.isna() & ~text.isin(not_applicable)
    return out, bad.fillna(False).astype(bool)


def parse_fire_incidents(table: TextTable, *, synthetic: bool) -> ReadResult:
    """Turn one fire incident text table into accepted incidents and rejects."""
    found = _find_headers(table)
    raw = table.frame
    rejects = Rejections.for_table(table)

    def col(name: str) -> pd.Series:
        if name in found:
            return raw[found[name]].astype("string").str.strip()
        return pd.Series("", index=raw.index, dtype="string")

    out = pd.DataFrame(index=raw.index)
    ids = col("incident_id")
    rejects.add(
        blank(ids),
        field_name=found["incident_id"],
        values=ids,
        reason="incident id is empty",
    )
    dupes = ids.duplicated(keep="first") & ~blank(ids)
    rejects.add(
        dupes,
        field_name=found["incident_id"],
        values=ids,
        ids=ids,
        reason="incident id repeats an earlier row's",
    )
    out["incident_id"] = ids

    if "date_time" in found:
        when_text = col("date_time")
        date_field = found["date_time"]
    else:
        time_text = col("time")
        when_text = (col("date") + " " + time_text).str.strip()
        date_field = found["date"]
    when, precision, bad_date = parse_datetimes(
        when_text, formats=FIRE_DATETIME_FORMATS
    )
    rejects.add(
        bad_date,
        field_name=date_field,
        values=when_text,
        ids=ids,
        reason=f"not a date in any of the formats {list(FIRE_DATETIME_FORMATS)} "
        "or ISO 8601",
    )
    rejects.add(
        blank(when_text),
        field_name=date_field,
        values="",
        ids=ids,
        reason="date is empty",
    )
    out["occurred_at"] = when
    out["date_precision"] = precision

    kind_text = col("incident_type")
    kind = _normalise_type(kind_text)
    rejects.add(
        kind.isna(),
        field_name=found["incident_type"],
        values=kind_text,
        ids=ids,
        reason=f"expected one of {[t.replace('_', ' ') for t in INCIDENT_TYPES]}",
    )
    out["incident_type"] = kind
    motive_text = col("accidental_or_deliberate")
    motive, bad_motive = _normalise_motive(motive_text)
    rejects.add(
        bad_motive,
        field_name=found["accidental_or_deliberate"],
        values=motive_text,
        ids=ids,
        reason="expected Accidental, Deliberate, Not known or blank",
    )
    out["accidental_or_deliberate"] = motive
    out["is_deliberate_fire"] = (
        kind.isin(DELIBERATE_TYPES) & (motive == "deliberate")
    ).fillna(False)
    for name in ("property_type", "fra_name"):
        text = col(name)
        out[name] = text.where(text != "")

    lsoa = col("lsoa_code").str.upper()
    bad_lsoa = ~lsoa.str.match(_LSOA_PATTERN).fillna(False) & ~blank(lsoa)
    rejects.add(
        bad_lsoa,
        field_name=found.get("lsoa_code", "LSOA_CODE"),
        values=lsoa,
        ids=ids,
        reason="expected an LSOA code such as E01017013",
    )
    out["lsoa_code"] = lsoa.where(~blank(lsoa) & ~bad_lsoa)
    grid_ok = _parse_grid(
        col("easting"), col("northing"), found=found, ids=ids, rejects=rejects, out=out
    )
    no_location = out["lsoa_code"].isna() & ~grid_ok
    already = raw.index.isin(rejects.rejected_rows())
    rejects.add(
        no_location & ~already,
        field_name="location",
        values="",
        ids=ids,
        reason="no location: neither an LSOA code nor an easting and northing",
    )

    keep = ~raw.index.isin(rejects.rejected_rows())
    out = out[keep]
    out["source_file"] = table.path
    out["source_row"] = out.index.to_numpy()
    out["is_synthetic"] = synthetic
    accepted = _conform(out.reset_index(drop=True))
    return ReadResult(
        accepted=accepted,
        rejected=rejects.table(),
        n_read=table.n_read,
        files=[table.path],
    )


def _parse_grid(
    easting_text: pd.Series,
    northing_text: pd.Series,
    *,
    found: dict[str, str],
    ids: pd.Series,
    rejects: Rejections,
    out: pd.DataFrame,
) -> pd.Series:
    """Parse easting/northing into ``out``; return the mask of usable pairs."""
    e_field = found.get("easting", "EASTING")
    n_field = found.get("northing", "NORTHING")
    easting, bad_e = parse_numbers(easting_text)
    northing, bad_n = parse_numbers(northing_text)
    rejects.add(
        bad_e,
        field_name=e_field,
        values=easting_text,
        ids=ids,
        reason="expected a number (metres, British National Grid)",
    )
    rejects.add(
        bad_n,
        field_name=n_field,
        values=northing_text,
        ids=ids,
        reason="expected a number (metres, British National Grid)",
    )
    one_only = (easting.isna() != northing.isna()) & ~bad_e & ~bad_n
    rejects.add(
        one_only,
        field_name=e_field,
        values=easting_text,
        ids=ids,
        reason="easting and northing must be given together",
    )
    both = (easting.notna() & northing.notna()).fillna(False).astype(bool)
    zero = both & (easting == 0).fillna(False) & (northing == 0).fillna(False)
    rejects.add(
        zero,
        field_name=e_field,
        values=easting_text + "," + northing_text,
        ids=ids,
        reason="easting and northing are 0,0: no location recorded",
    )
    outside = (
        both
        & ~zero
        & (
            (easting < _EASTING_RANGE[0])
            | (easting > _EASTING_RANGE[1])
            | (northing < _NORTHING_RANGE[0])
            | (northing > _NORTHING_RANGE[1])
        ).fillna(False)
    )
    rejects.add(
        outside,
        field_name=e_field,
        values=easting_text + "," + northing_text,
        ids=ids,
        reason="outside British National Grid (0-700000 E, 0-1300000 N):"
        " expected metres in EPSG:27700, not degrees",
    )
    ok = both & ~zero & ~outside
    out["easting"] = easting.where(ok)
    out["northing"] = northing.where(ok)
    return ok


def _conform(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    out = pd.DataFrame(index=frame.index)
    for name, dtype in FIRE_COLUMNS.items():
        column = frame[name] if name in frame else pd.Series(pd.NA, index=frame.index)
        out[name] = column.astype(dtype)
    e = out["easting"].to_numpy(dtype=float, na_value=np.nan)
    n = out["northing"].to_numpy(dtype=float, na_value=np.nan)
    has = ~(np.isnan(e) | np.isnan(n))
    geoms = np.full(len(out), None, dtype=object)
    geoms[has] = shapely.points(e[has], n[has])
    return gpd.GeoDataFrame(out, geometry=list(geoms), crs=BNG)

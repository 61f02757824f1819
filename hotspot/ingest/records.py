"""Reader for records-system extracts (CSV or Excel) and the plain CSV template.

A records extract comes with a column mapping (``docs/column-mapping.md``); the
template (``docs/template.md``) is the same reader with headers that already are
the canonical column names.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from hotspot.errors import InputFileError
from hotspot.ingest.fields import (
    Rejections,
    age_band,
    blank,
    parse_dates,
    parse_flags,
    parse_numbers,
)
from hotspot.ingest.mapping import ColumnMapping, template_mapping
from hotspot.ingest.schema import FLAG_COLUMNS, LOCATION_COLUMNS, ReadResult, conform
from hotspot.ingest.tables import TextTable, match_headers, read_text_table, shown

logger = logging.getLogger(__name__)

_TEXT_COLUMNS = (
    "offence_code",
    "offence_description",
    "hmic_group",
    "postcode",
    "location_text",
    "recorded_lsoa_code",
    "victim_age_band",
)
_NUMBER_COLUMNS = ("easting", "northing", "latitude", "longitude")
_ESSENTIAL = ("occurrence_id", "occurred_from")


def read_records(
    path: Path | str,
    *,
    mapping: ColumnMapping,
    source: str = "records",
    synthetic: bool | None = None,
) -> ReadResult:
    """Read a records-system extract through its column mapping.

    Parameters
    ----------
    path
        CSV or Excel (.xlsx) file.
    mapping
        How the export's headers map to canonical columns.
    source
        Value of the ``source`` column.
    synthetic
        Whether the data are synthetic; when not given, a file whose name
        contains ``SYNTHETIC`` is taken as synthetic.

    Raises
    ------
    InputFileError
        Unreadable file, or a header the mapping names is missing.
    """
    table = read_text_table(
        path, encoding=mapping.encoding, sheet=mapping.sheet, name=Path(path).name
    )
    if synthetic is None:
        synthetic = "synthetic" in Path(path).name.lower()
    result = parse_records(table, mapping=mapping, source=source, synthetic=synthetic)
    logger.info(
        "%s: %d rows read, %d accepted",
        table.path,
        result.n_read,
        len(result.accepted),
    )
    return result


def read_template(path: Path | str) -> ReadResult:
    """Read a file in the plain CSV template layout (``docs/template.md``)."""
    table = read_text_table(path, name=Path(path).name)
    return parse_template(table, synthetic="synthetic" in Path(path).name.lower())


def parse_template(table: TextTable, *, synthetic: bool) -> ReadResult:
    """Turn one text table in the template layout into canonical rows and rejects."""
    return parse_records(
        table,
        mapping=template_mapping(),
        source="template",
        synthetic=synthetic,
        strict_headers=False,
    )


def parse_records(
    table: TextTable,
    *,
    mapping: ColumnMapping,
    source: str,
    synthetic: bool,
    strict_headers: bool = True,
) -> ReadResult:
    """Turn one records text table into canonical rows and rejects."""
    required = list(mapping.columns) if strict_headers else list(_ESSENTIAL)
    found = match_headers(table, mapping.columns, required=required)
    if not strict_headers:
        _require_any(table, found, ("offence_code", "offence_description"))
        _require_any(table, found, LOCATION_COLUMNS)
    raw = table.frame[list(found.values())].set_axis(list(found), axis=1)
    rejects = Rejections.for_table(table)
    out = pd.DataFrame(index=raw.index)
    ids = raw["occurrence_id"].str.strip()
    rejects.add(
        blank(ids),
        field_name=mapping.columns["occurrence_id"],
        values=ids,
        reason="occurrence id is empty",
    )
    out["occurrence_id"] = ids

    parsed = parse_dates(
        raw["occurred_from"], formats=mapping.datetime_formats,
        expected=_date_reason(mapping),
    )
    start, precision = parsed.when, parsed.precision
    header = mapping.columns["occurred_from"]
    rejects.add(
        parsed.bad,
        field_name=header,
        values=raw["occurred_from"],
        ids=ids,
        reason=parsed.reason,
    )
    rejects.add(
        blank(raw["occurred_from"]),
        field_name=header,
        values="",
        ids=ids,
        reason="date is empty",
    )
    end_of = start + pd.to_timedelta(
        precision.map({"day": "1439min", "minute": "0min"}).fillna("0min")
    )
    if "occurred_to" in raw:
        parsed_to = parse_dates(
            raw["occurred_to"], formats=mapping.datetime_formats,
            expected=_date_reason(mapping),
        )
        stop = parsed_to.when
        header_to = mapping.columns["occurred_to"]
        rejects.add(
            parsed_to.bad,
            field_name=header_to,
            values=raw["occurred_to"],
            ids=ids,
            reason=parsed_to.reason,
        )
        before = (stop < start).fillna(False)
        rejects.add(
            before,
            field_name=header_to,
            values=raw["occurred_to"],
            ids=ids,
            reason="ends before it starts (occurred_to < occurred_from)",
        )
        end_of = stop.where(stop.notna(), end_of)
    out["occurred_from"] = start
    out["occurred_to"] = end_of
    out["date_precision"] = precision

    for name in _TEXT_COLUMNS:
        if name in raw:
            text = raw[name].str.strip()
            out[name] = text.where(text != "")
    has_offence = pd.Series(False, index=raw.index)
    for name in ("offence_code", "offence_description"):
        if name in out:
            has_offence |= out[name].notna()
    rejects.add(
        ~has_offence,
        field_name="offence_code",
        values="",
        ids=ids,
        reason="neither an offence code nor an offence description",
    )

    for name in FLAG_COLUMNS:
        if name in raw:
            flags, bad_flag = parse_flags(
                raw[name], true=mapping.true_values, false=mapping.false_values
            )
            rejects.add(
                bad_flag,
                field_name=mapping.columns[name],
                values=raw[name],
                ids=ids,
                reason="expected one of "
                f"{sorted({*mapping.true_values, *mapping.false_values} - {''})}",
            )
            out[name] = flags
    for name in _NUMBER_COLUMNS:
        if name in raw:
            numbers, bad_number = parse_numbers(raw[name])
            rejects.add(
                bad_number,
                field_name=mapping.columns[name],
                values=raw[name],
                ids=ids,
                reason="expected a number",
            )
            out[name] = numbers
    if "victim_age" in raw:
        age, bad_age = parse_numbers(raw["victim_age"])
        bad_age |= ((age < 0) | (age > 120) | (age % 1 != 0)).fillna(False)
        rejects.add(
            bad_age,
            field_name=mapping.columns["victim_age"],
            values=raw["victim_age"],
            ids=ids,
            reason="expected a whole number of years from 0 to 120",
        )
        out["victim_age"] = age.where(~bad_age).round().astype("Int64")
        band = age_band(out["victim_age"])
        out["victim_age_band"] = (
            band.fillna(out["victim_age_band"]) if "victim_age_band" in out else band
        )
    if "victim_sex" in raw:
        sex = raw["victim_sex"].str.strip().str.lower()
        out["victim_sex"] = (
            sex.map(mapping.sex_values)
            .where(sex != "")
            .fillna(pd.Series("U", index=sex.index).where(sex != ""))
        )

    keep = ~raw.index.isin(rejects.rejected_rows())
    out = out[keep]
    out["source"] = source
    out["source_file"] = table.path
    out["source_row"] = out.index.to_numpy()
    out["is_synthetic"] = synthetic
    return ReadResult(
        accepted=conform(out.reset_index(drop=True)),
        rejected=rejects.table(),
        n_read=table.n_read,
        files=[table.path],
    )


def _date_reason(mapping: ColumnMapping) -> str:
    formats = [*mapping.datetime_formats, "%Y-%m-%d %H:%M", "%Y-%m-%d"]
    return f"not a date in any of the formats {formats}"


def _require_any(
    table: TextTable, found: dict[str, str], names: tuple[str, ...]
) -> None:
    if not set(names) & set(found):
        raise InputFileError(
            table.path,
            f"needs at least one of the columns {list(names)}; the file's "
            f"columns are {shown(table.frame.columns)}",
        )

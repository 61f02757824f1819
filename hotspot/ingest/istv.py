"""Reader for A&E assault extracts in the ISTV (Cardiff Model) layout.

The Information Sharing to Tackle Violence minimum data set records, per assault
attendance: date and time of the assault, the primary means of assault, the type of
location and a free-text location description. Patients are never identified: the
reader keeps no names, dates of birth or NHS numbers even if an extract has them.

Classification is approximate: an A&E attendance shows an assault with injury but
not the Home Office offence. Assaults with a blade or sharp instrument are counted
as ``bladed_violence_with_injury`` with ``sv_match = "approximate"``; others are not
serious violence under the HIPS definition.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from hotspot.ingest.fields import Rejections, blank, parse_dates
from hotspot.ingest.schema import ReadResult, conform
from hotspot.ingest.tables import TextTable, match_headers, read_text_table

logger = logging.getLogger(__name__)

SOURCE = "istv"
#: Canonical ISTV field → header in the standard extract.
HEADERS: dict[str, str] = {
    "attendance_id": "Attendance ID",
    "assault_date": "Assault Date",
    "assault_time": "Assault Time",
    "assault_method": "Assault Method",
    "location_type": "Location Type",
    "location_description": "Location Description",
}
REQUIRED = ("attendance_id", "assault_date", "assault_method", "location_description")
DATE_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y")

_BLADED = re.compile(
    r"knife|blade|bladed|sharp|stab|machete|sword|razor|cutting", re.IGNORECASE
)
_LICENSED = re.compile(r"\b(?:pub|bar|club|nightclub|licensed|inn)\b", re.IGNORECASE)
_PRIVATE = re.compile(
    r"\b(?:home|house|flat|dwelling|residence|private)\b", re.IGNORECASE
)
_PUBLIC = re.compile(
    r"street|road|park|public|shop|town cent|city cent|outdoor|bus|train|station|"
    r"car park|beach|school",
    re.IGNORECASE,
)


def read_istv(path: Path | str) -> ReadResult:
    """Read an ISTV A&E assault extract (CSV or Excel).

    Raises
    ------
    InputFileError
        Unreadable file, or a required ISTV column missing.
    """
    table = read_text_table(path, name=Path(path).name)
    result = parse_istv(table, synthetic="synthetic" in Path(path).name.lower())
    logger.info(
        "%s: %d rows read, %d accepted", table.path, result.n_read, len(result.accepted)
    )
    return result


def parse_istv(table: TextTable, *, synthetic: bool) -> ReadResult:
    """Turn one ISTV text table into canonical rows and rejects."""
    found = match_headers(table, HEADERS, required=REQUIRED)
    raw = table.frame[list(found.values())].set_axis(list(found), axis=1)
    rejects = Rejections.for_table(table)
    ids = raw["attendance_id"].str.strip()
    rejects.add(
        blank(ids),
        field_name=HEADERS["attendance_id"],
        values=ids,
        reason="attendance id is empty",
    )
    when_text = raw["assault_date"].str.strip()
    if "assault_time" in raw:
        time_text = raw["assault_time"].str.strip()
        when_text = when_text.where(time_text == "", when_text + " " + time_text)
    expected = f"expected a date and optional time as {list(DATE_FORMATS)}"
    parsed = parse_dates(when_text, formats=DATE_FORMATS, expected=expected)
    when, precision = parsed.when, parsed.precision
    missing = blank(raw["assault_date"])
    rejects.add(
        parsed.bad | missing,
        field_name=HEADERS["assault_date"],
        values=when_text,
        ids=ids,
        reason=parsed.reason.where(~missing, expected).fillna(expected),
    )
    method = raw["assault_method"].str.strip()
    location_type = (
        raw["location_type"].str.strip()
        if "location_type" in raw
        else pd.Series("", index=raw.index)
    )
    text = raw["location_description"].str.strip()
    bladed = method.str.contains(_BLADED)
    public = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    public[
        location_type.str.contains(_PUBLIC) | location_type.str.contains(_LICENSED)
    ] = True
    public[location_type.str.contains(_PRIVATE)] = False
    end = when + pd.to_timedelta(
        precision.map({"day": "1439min", "minute": "0min"}).fillna("0min")
    )
    out = pd.DataFrame(
        {
            "occurrence_id": "ISTV-" + ids,
            "source": SOURCE,
            "source_file": table.path,
            "source_row": raw.index.to_numpy(),
            "is_synthetic": synthetic,
            "occurred_from": when,
            "occurred_to": end,
            "date_precision": precision,
            "crime_type": "A&E assault",
            "offence_description": "A&E assault: "
            + method.where(method != "", "unknown"),
            "sv_category": pd.Series(pd.NA, index=raw.index, dtype="string").mask(
                bladed, "bladed_violence_with_injury"
            ),
            "sv_match": pd.Series("approximate", index=raw.index).where(bladed, "none"),
            "is_serious_violence": False,
            "bladed_implement": bladed,
            "public_place": public,
            "licensed_premises": location_type.str.contains(_LICENSED)
            | text.str.contains(_LICENSED),
            "location_text": text.where(text != ""),
        },
        index=raw.index,
    )
    keep = ~raw.index.isin(rejects.rejected_rows())
    return ReadResult(
        accepted=conform(out[keep].reset_index(drop=True)),
        rejected=rejects.table(),
        n_read=table.n_read,
        files=[table.path],
    )

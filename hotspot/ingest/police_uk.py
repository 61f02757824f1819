"""Reader for data.police.uk street-level crime files.

Accepts one monthly ``*-street.csv``, a folder of them, a zip of them (as
downloaded from data.police.uk, monthly folders inside), or the project's
compact parquet copy (``data/police_uk/*.parquet``). Dates are months only: every
occurrence spans its whole month and ``date_precision`` is ``"month"``; no day or
hour is ever invented.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from hotspot.errors import InputFileError
from hotspot.ingest.fields import Rejections, blank, parse_dates, parse_numbers
from hotspot.ingest.schema import ReadResult, conform, empty_rejects
from hotspot.ingest.tables import (
    TextTable,
    brief,
    match_headers,
    read_text_table,
    shown,
)

logger = logging.getLogger(__name__)

SOURCE = "police_uk"
COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
REQUIRED: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "Crime type",
)
#: The 14 street-level crime types data.police.uk publishes.
CRIME_TYPES: frozenset[str] = frozenset(
    {
        "Anti-social behaviour",
        "Bicycle theft",
        "Burglary",
        "Criminal damage and arson",
        "Drugs",
        "Other crime",
        "Other theft",
        "Possession of weapons",
        "Public order",
        "Robbery",
        "Shoplifting",
        "Theft from the person",
        "Vehicle crime",
        "Violence and sexual offences",
    }
)
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_LSOA = re.compile(r"^[EW]0\d{7}$")


@dataclass(frozen=True)
class SkippedFile:
    """A file of a download folder or zip that was not ingested, and why."""

    file: str
    reason: str


@dataclass
class PoliceUkReadResult(ReadResult):
    """A :class:`ReadResult` that also lists the files skipped, with reasons."""

    skipped: list[SkippedFile] = field(default_factory=list)


_SKIP_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("-outcomes.csv", "a data.police.uk outcomes file: outcomes of crimes already "
                      "in the street files (by Crime ID), not occurrences"),
    ("-stop-and-search.csv", "a data.police.uk stop-and-search file: searches, "
                             "not crimes"),
)


def _kind(name: str, head: Callable[[], bytes]) -> str | None:
    """None for a street file to ingest, else the reason to skip it."""
    lower = name.lower()
    if lower.endswith("-street.csv"):
        return None
    for suffix, reason in _SKIP_SUFFIXES:
        if lower.endswith(suffix):
            return reason
    text = head().decode("utf-8-sig", errors="replace")
    first = next(csv.reader(io.StringIO(text.splitlines()[0] if text else "")), [])
    headers = {" ".join(h.lower().split()) for h in first}
    if {c.lower() for c in REQUIRED} <= headers:
        return None
    return (
        "not a data.police.uk street file: its columns are "
        f"{shown([h.strip() for h in first], limit=8)}"
    )


def _file_head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(65536)


#: What reading a zip member may raise (RuntimeError: an encrypted member;
#: NotImplementedError: an unknown compression).
ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError,
    zlib.error,
)


def members(
    path: Path, skipped: list[SkippedFile]
) -> Iterator[tuple[str, zipfile.ZipFile | None, str, Path]]:
    """Yield every police.uk street CSV inside ``path``, without reading it.

    Yields ``(name, archive, member, file)``: the name used in messages and in
    ``source_file``; for a zip, the open archive and the member's name in it
    (``None`` and the file's path otherwise); ``file`` is the path whose suffix
    tells CSV from Excel. Files that are not street files (outcomes,
    stop-and-search, other tables, non-CSV files) are appended to ``skipped``
    with the reason, all of them before the first is yielded.
    """
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file())
        files = []
        for file in found:
            shown = str(file.relative_to(path))
            if file.suffix.lower() != ".csv":
                skipped.append(SkippedFile(shown, "not a CSV file"))
                continue
            reason = _kind(file.name, partial(_file_head, file))
            if reason is None:
                files.append(file)
            else:
                skipped.append(SkippedFile(shown, reason))
        if not files:
            raise InputFileError(path, _no_street_files("folder", skipped))
        for file in files:
            yield str(file.relative_to(path)), None, str(file), file
    elif path.suffix.lower() == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputFileError(
                path, f"is not a readable zip file: {brief(exc)}"
            ) from exc
        with archive:
            names = []
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                name = info.filename
                if info.is_dir():
                    continue
                if name.startswith("__MACOSX") or Path(name).name.startswith("._"):
                    skipped.append(SkippedFile(name, "a macOS resource file"))
                    continue
                if not name.lower().endswith(".csv"):
                    skipped.append(SkippedFile(name, "not a CSV file"))
                    continue
                reason = _kind(name, partial(_zip_read, path, archive, name, 65536))
                if reason is None:
                    names.append(name)
                else:
                    skipped.append(SkippedFile(name, reason))
            if not names:
                raise InputFileError(path, _no_street_files("zip", skipped))
            for name in names:
                yield f"{path.name}:{name}", archive, name, Path(name)
    else:
        for suffix, reason in _SKIP_SUFFIXES:
            if path.name.lower().endswith(suffix):
                raise InputFileError(
                    path, f"is {reason}; give the *-street.csv files (or their folder)"
                )
        yield path.name, None, str(path), path


def _zip_read(
    path: Path, archive: zipfile.ZipFile, name: str, size: int | None = None
) -> bytes:
    """Read a zip member (or its first ``size`` bytes); a bad member is an error."""
    try:
        with archive.open(name) as handle:
            return handle.read() if size is None else handle.read(size)
    except ZIP_ERRORS as exc:
        raise InputFileError(
            path, f"member {name!r} cannot be read ({type(exc).__name__}: {brief(exc)})"
        ) from exc


def _no_street_files(kind: str, skipped: list[SkippedFile]) -> str:
    shown = "; ".join(f"{s.file}: {s.reason}" for s in skipped[:5])
    more = f" (and {len(skipped) - 5} more)" if len(skipped) > 5 else ""
    return (
        f"is a {kind} with no data.police.uk street files (*-street.csv) in it"
        + (f"; skipped {shown}{more}" if skipped else "")
    )


def _parquet_tables(path: Path) -> Iterator[TextTable]:
    """Split the compact parquet copy back into one text table per source CSV."""
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several kinds for a bad file
        raise InputFileError(
            path, f"is not a readable parquet file: {brief(exc)}"
        ) from exc
    for needed in ("source_file", "source_row", *REQUIRED):
        if needed not in frame.columns:
            raise InputFileError(path, f"has no {needed!r} column")
    if frame.empty:
        raise InputFileError(path, "has no rows: expected police.uk street crime")
    bad_row = pd.to_numeric(frame["source_row"], errors="coerce")
    if bad_row.isna().any() or frame["source_file"].isna().any():
        raise InputFileError(
            path, "has rows with no source_file or a source_row that is not a number"
        )
    for name, part in frame.groupby("source_file", sort=True, observed=True):
        cols = [c for c in COLUMNS if c in part.columns]
        text = part[cols].astype("string").fillna("")
        text.index = pd.Index(part["source_row"].astype(int).to_numpy(), name="row")
        yield TextTable(path=str(name), frame=text, ragged=[], encoding="parquet")


def read_police_uk(path: Path | str) -> PoliceUkReadResult:
    """Read data.police.uk street-level crime.

    Parameters
    ----------
    path
        A ``*-street.csv`` file, a folder of them, a zip of them, or the
        project's parquet copy.

    Returns
    -------
    PoliceUkReadResult
        Canonical rows (``source="police_uk"``), rejected rows with reasons, the
        number of data rows read, and the files of a folder or zip that were
        skipped with the reason (outcomes, stop-and-search, other tables).

    Raises
    ------
    InputFileError
        When a file is unreadable, empty or lacks a required column.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "does not exist")
    skipped: list[SkippedFile] = []
    if path.suffix.lower() == ".parquet":
        tables: Iterator[TextTable] = _parquet_tables(path)
    else:
        tables = (
            read_text_table(
                file, name=name,
                data=None if archive is None else _zip_read(path, archive, member))
            for name, archive, member, file in members(path, skipped)
        )
    accepted: list[pd.DataFrame] = []
    rejected: list[pd.DataFrame] = []
    n_read = 0
    files: list[str] = []
    for table in tables:
        part = parse_police_uk(table)
        accepted.append(part.accepted)
        rejected.append(part.rejected)
        n_read += part.n_read
        files.append(table.path)
        logger.info(
            "%s: %d rows read, %d accepted",
            table.path,
            part.n_read,
            len(part.accepted),
        )
    for item in skipped:
        logger.info("%s: skipped %s: %s", path, item.file, item.reason)
    if not accepted:
        raise InputFileError(path, "holds no police.uk street crime tables")
    return PoliceUkReadResult(
        accepted=conform(pd.concat(accepted, ignore_index=True)),
        rejected=pd.concat([empty_rejects(), *rejected], ignore_index=True),
        n_read=n_read,
        files=files,
        skipped=skipped,
    )


def parse_police_uk(table: TextTable) -> ReadResult:
    """Turn one police.uk text table into canonical rows and rejects."""
    found = match_headers(table, {c: c for c in COLUMNS}, required=REQUIRED)
    raw = table.frame.rename(columns={v: k for k, v in found.items()})
    rejects = Rejections.for_table(table)
    stem = Path(table.path.split(":")[-1]).stem
    crime_id = raw["Crime ID"].str.strip()
    ids = crime_id.where(crime_id != "", stem + ":" + raw.index.astype(str))

    month = raw["Month"].str.strip()
    shaped = month.str.match(_MONTH)
    parsed = parse_dates(
        (month + "-01").where(shaped, month), formats=("%Y-%m-%d",),
        expected="expected a month as YYYY-MM",
    )
    bad_month = parsed.bad | blank(month)
    rejects.add(
        bad_month,
        field_name="Month",
        values=month,
        ids=ids,
        reason=parsed.reason.fillna("expected a month as YYYY-MM"),
    )
    crime_type = raw["Crime type"].str.strip()
    bad_type = ~crime_type.isin(CRIME_TYPES)
    rejects.add(
        bad_type,
        field_name="Crime type",
        values=crime_type,
        ids=ids,
        reason="not one of the 14 data.police.uk crime types",
    )
    lon, bad_lon = parse_numbers(raw["Longitude"])
    lat, bad_lat = parse_numbers(raw["Latitude"])
    rejects.add(
        bad_lon,
        field_name="Longitude",
        values=raw["Longitude"],
        ids=ids,
        reason="expected a number (decimal degrees)",
    )
    rejects.add(
        bad_lat,
        field_name="Latitude",
        values=raw["Latitude"],
        ids=ids,
        reason="expected a number (decimal degrees)",
    )
    lsoa = raw["LSOA code"].str.strip()
    bad_lsoa = ~lsoa.str.match(_LSOA) & ~blank(lsoa)
    rejects.add(
        bad_lsoa,
        field_name="LSOA code",
        values=lsoa,
        ids=ids,
        reason="expected an LSOA code such as E01022553",
    )

    keep = ~raw.index.isin(rejects.rejected_rows())
    start = parsed.when.where(~bad_month)
    end = (
        start + pd.offsets.MonthEnd(0) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    )
    location = raw["Location"].str.strip()
    out = pd.DataFrame(
        {
            "occurrence_id": ids,
            "source": SOURCE,
            "source_file": table.path,
            "source_row": raw.index.to_numpy(),
            "is_synthetic": False,
            "occurred_from": start,
            "occurred_to": end,
            "date_precision": "month",
            "crime_type": crime_type,
            "longitude": lon,
            "latitude": lat,
            "location_text": location.where(location != ""),
            "recorded_lsoa_code": lsoa.where(lsoa != ""),
        },
        index=raw.index,
    )[keep]
    return ReadResult(
        accepted=conform(out.reset_index(drop=True)),
        rejected=rejects.table(),
        n_read=table.n_read,
        files=[table.path],
    )

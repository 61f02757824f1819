"""Pick the reader for a source: by the ``format`` given, or by the file's headers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, get_args

import pandas as pd

from hotspot.errors import InputFileError
from hotspot.ingest import istv, police_uk, records
from hotspot.ingest.mapping import ColumnMapping
from hotspot.ingest.schema import ReadResult, conform, empty_rejects
from hotspot.ingest.tables import read_text_table

Format = Literal["police_uk", "records", "template", "istv"]
FORMATS: tuple[str, ...] = get_args(Format)


def detect_format(path: Path | str, *, mapping: ColumnMapping | None = None) -> Format:
    """Tell a source's format from its kind and headers.

    Raises
    ------
    InputFileError
        When the format cannot be told; the message says how to give it.
    """
    path = Path(path)
    if path.is_dir() or path.suffix.lower() in {".zip", ".parquet"}:
        return "police_uk"
    if mapping is not None:
        return "records"
    return format_of_headers(path, read_text_table(path).frame.columns)


def format_of_headers(path: Path | str, columns: Iterable[str]) -> Format:
    """Tell a table's format from its headers, as :func:`detect_format` does.

    Raises
    ------
    InputFileError
        When the headers are none of the known layouts'.
    """
    headers = {h.strip().lower() for h in columns}
    if {c.lower() for c in police_uk.REQUIRED} <= headers:
        return "police_uk"
    if {istv.HEADERS[c].lower() for c in istv.REQUIRED} <= headers:
        return "istv"
    if {"occurrence_id", "occurred_from"} <= headers:
        return "template"
    raise InputFileError(
        path,
        "format not recognised: its headers are neither data.police.uk's, the ISTV "
        "layout's nor the template's; for a records-system extract give "
        "--format records --mapping FILE.toml (see docs/column-mapping.md)",
    )


def read_source(
    path: Path | str,
    *,
    fmt: Format | None = None,
    mapping: ColumnMapping | None = None,
) -> ReadResult:
    """Read one source with the reader for its format."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "does not exist")
    chosen = fmt or detect_format(path, mapping=mapping)
    if chosen == "police_uk":
        return police_uk.read_police_uk(path)
    if chosen == "istv":
        return istv.read_istv(path)
    if chosen == "template":
        return records.read_template(path)
    if chosen == "records":
        return records.read_records(path, mapping=needed_mapping(path, mapping))
    raise InputFileError(path, f"unknown format {chosen!r}; expected one of {FORMATS}")


def needed_mapping(path: Path | str, mapping: ColumnMapping | None) -> ColumnMapping:
    """Return the mapping a records-system extract needs; raise when none is given."""
    if mapping is None:
        raise InputFileError(
            path,
            "a records-system extract needs a column mapping: give "
            "--mapping FILE.toml (see docs/column-mapping.md)",
        )
    return mapping


def read_sources(
    paths: Sequence[Path | str],
    *,
    fmt: Format | None = None,
    mapping: ColumnMapping | None = None,
) -> ReadResult:
    """Read several sources into one result; every file is read before any is kept.

    Returns
    -------
    police_uk.PoliceUkReadResult
        The rows of every source, and (``skipped``) the files of police.uk
        download folders and zips left out, with the reason.
    """
    parts = [read_source(p, fmt=fmt, mapping=mapping) for p in paths]
    accepted = [p.accepted for p in parts if not p.accepted.empty]
    return police_uk.PoliceUkReadResult(
        accepted=conform(pd.concat(accepted, ignore_index=True))
        if accepted
        else conform(pd.DataFrame()),
        rejected=pd.concat(
            [empty_rejects(), *(p.rejected for p in parts)], ignore_index=True
        ),
        n_read=sum(p.n_read for p in parts),
        files=[f for p in parts for f in p.files],
        skipped=[s for p in parts for s in getattr(p, "skipped", [])],
    )

"""Shared test helpers: fixture builders and assertions."""

from __future__ import annotations

from pathlib import Path

from hotspot.ingest.schema import OCCURRENCE_COLUMNS, ReadResult

POLICE_UK_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context"
)


def police_uk_row(
    crime_id: str = "abc1",
    month: str = "2025-01",
    lon: str = "-1.404",
    lat: str = "50.904",
    location: str = "On or near Above Bar Street",
    lsoa: str = "E01032747",
    crime_type: str = "Robbery",
) -> str:
    """One police.uk CSV line with sensible defaults (central Southampton)."""
    return (
        f"{crime_id},{month},Hampshire Constabulary,Hampshire Constabulary,{lon},{lat},"
        f"{location},{lsoa},Southampton 029A,{crime_type},Under investigation,"
    )


def write_lines(path: Path, lines: list[str], *, encoding: str = "utf-8") -> Path:
    """Write ``lines`` as a file and return its path."""
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def assert_reconciles(result: ReadResult) -> None:
    """Every row read is either accepted or rejected, exactly once."""
    assert result.n_read == len(result.accepted) + result.n_rejected()
    assert list(result.accepted.columns[: len(OCCURRENCE_COLUMNS)]) == list(
        OCCURRENCE_COLUMNS
    )

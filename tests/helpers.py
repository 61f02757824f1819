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


#: Places for generated police.uk files: Southampton, Portsmouth, Basingstoke
#: with no LSOA, and a point near Eastleigh with no LSOA.
STREAM_PLACES = [("-1.404", "50.904", "E01032747"), ("-1.091", "50.798", "E01017049"),
                 ("-1.0872", "51.2647", ""), ("-1.3", "50.95", "")]


def police_uk_file(path: Path, n: int, *, places: int = 3, ids: int | None = None,
                   months: int = 3, quoted_every: int | None = None) -> Path:
    """Write a police.uk CSV of ``n`` rows with rejects of every ingest stage.

    Rows cycle through the first ``places`` of :data:`STREAM_PLACES`; a quarter
    are anti-social behaviour (no id); ids repeat every ``ids`` rows when given;
    months run 2025-01 onwards over ``months`` months; every ``quoted_every``-th
    row's location holds a quoted line break. A bad month, a ragged row and a
    point at sea are added now and then.
    """
    rows = []
    for i in range(n):
        lon, lat, lsoa = STREAM_PLACES[i % places]
        kind = "Robbery" if i % 4 else "Anti-social behaviour"
        where = ("On or near Above Bar Street" if quoted_every is None
                 else f'"On or near\nLine {i}, Street"' if i % quoted_every == 5
                 else "On or near X")
        month = (f"2025-0{1 + i % months}" if quoted_every is None
                 else f"2025-0{1 + (i * months // n)}")
        rows.append(police_uk_row(
            "" if kind.startswith("Anti") else f"id{i if ids is None else i % ids}",
            month=month, lon=lon, lat=lat, location=where, lsoa=lsoa,
            crime_type=kind))
        if i % 500 == 7:
            rows.append(police_uk_row(f"bad{i}", month="2025-13"))
        if i % 700 == 11:
            rows.append("too,few,fields")
        if i % 900 == 13:
            rows.append(police_uk_row(f"sea{i}", lon="-2.5", lat="50.0"))  # outside
    return write_lines(path, [POLICE_UK_HEADER, *rows])


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

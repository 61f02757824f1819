"""The data.police.uk reader: good files, broken files, folders and zips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspot.errors import InputFileError
from hotspot.ingest.police_uk import read_police_uk
from hotspot.settings import DATA_DIR
from tests.helpers import (
    POLICE_UK_HEADER,
    assert_reconciles,
    police_uk_row,
    write_lines,
)


def test_good_file_maps_to_canonical_columns(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "2025-01-hampshire-street.csv",
        [
            POLICE_UK_HEADER,
            police_uk_row("a1"),
            police_uk_row("", crime_type="Anti-social behaviour"),
        ],
    )
    result = read_police_uk(path)
    assert_reconciles(result)
    assert result.n_read == 2 and len(result.accepted) == 2
    first = result.accepted.iloc[0]
    assert first["occurrence_id"] == "a1"
    assert first["source"] == "police_uk"
    assert first["crime_type"] == "Robbery"
    assert first["longitude"] == pytest.approx(-1.404)
    assert first["recorded_lsoa_code"] == "E01032747"
    # a missing Crime ID (anti-social behaviour) gets a file:row id, never a blank
    assert result.accepted.iloc[1]["occurrence_id"] == "2025-01-hampshire-street:2"


def test_month_only_dates_are_kept_honest(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "f.csv", [POLICE_UK_HEADER, police_uk_row(month="2025-02")]
    )
    row = read_police_uk(path).accepted.iloc[0]
    assert row["occurred_from"] == pd.Timestamp("2025-02-01 00:00:00")
    assert row["occurred_to"] == pd.Timestamp("2025-02-28 23:59:59")
    assert row["date_precision"] == "month"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (police_uk_row(month="2025-13"), "Month"),
        (police_uk_row(month="Jan 2025"), "Month"),
        (police_uk_row(crime_type="Murder most foul"), "Crime type"),
        (police_uk_row(lon="west"), "Longitude"),
        (police_uk_row(lat="inf"), "Latitude"),
        (police_uk_row(lsoa="XYZ"), "LSOA code"),
        (police_uk_row() + ",extra", "row"),
    ],
    ids=[
        "month-13",
        "month-text",
        "crime-type",
        "lon-text",
        "lat-inf",
        "lsoa",
        "ragged",
    ],
)
def test_junk_values_are_rejected_with_field(
    tmp_path: Path, row: str, field: str
) -> None:
    path = write_lines(tmp_path / "f.csv", [POLICE_UK_HEADER, police_uk_row("ok"), row])
    result = read_police_uk(path)
    assert_reconciles(result)
    assert len(result.accepted) == 1
    rejected = result.rejected.iloc[0]
    assert rejected["field"] == field
    assert rejected["row_number"] == 2
    assert rejected["source_file"] == path.name
    assert rejected["reason"]


def test_missing_location_is_accepted_for_the_geocoder_to_judge(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "f.csv", [POLICE_UK_HEADER, police_uk_row(lon="", lat="", lsoa="")]
    )
    result = read_police_uk(path)
    assert len(result.accepted) == 1
    assert pd.isna(result.accepted.iloc[0]["longitude"])


def test_shuffled_columns_are_read_by_name(tmp_path: Path) -> None:
    header = POLICE_UK_HEADER.split(",")
    values = police_uk_row("s1").split(",")
    order = np.random.default_rng(3).permutation(len(header))
    path = write_lines(
        tmp_path / "f.csv",
        [",".join(header[i] for i in order), ",".join(values[i] for i in order)],
    )
    row = read_police_uk(path).accepted.iloc[0]
    assert row["occurrence_id"] == "s1" and row["crime_type"] == "Robbery"


def test_missing_required_column_is_one_clear_error(tmp_path: Path) -> None:
    header = POLICE_UK_HEADER.replace("Crime type,", "")
    row = police_uk_row().replace("Robbery,", "")
    path = write_lines(tmp_path / "f.csv", [header, row])
    with pytest.raises(InputFileError, match=r"f\.csv.*'Crime type'.*missing"):
        read_police_uk(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (POLICE_UK_HEADER.encode() + b"\n", "no data rows"),
        (b"\x00\x01\x02PK\x03\x04" * 50, "not a text table"),
    ],
    ids=["empty", "blank", "header-only", "binary"],
)
def test_unreadable_files(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=match):
        read_police_uk(path)


def test_windows_1252_file_is_decoded(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "f.csv",
        [
            POLICE_UK_HEADER,
            police_uk_row(location="On or near Caf\u00e9 Street"),
        ],
        encoding="cp1252",
    )
    row = read_police_uk(path).accepted.iloc[0]
    assert row["location_text"] == "On or near Caf\u00e9 Street"


def test_truncated_file_keeps_every_row_accounted(tmp_path: Path) -> None:
    lines = [POLICE_UK_HEADER] + [police_uk_row(f"id{i}") for i in range(5)]
    text = "\n".join(lines)
    path = tmp_path / "truncated.csv"
    path.write_text(text[: len(text) - 40])  # cut mid-way through the last row
    result = read_police_uk(path)
    assert_reconciles(result)
    assert result.n_read == 5
    assert len(result.accepted) == 4
    assert result.rejected.iloc[0]["row_number"] == 5


def test_folder_and_zip_read_every_month(tmp_path: Path) -> None:
    folder = tmp_path / "months"
    folder.mkdir()
    for month in ("2025-01", "2025-02"):
        sub = folder / month
        sub.mkdir()
        write_lines(
            sub / f"{month}-hampshire-street.csv",
            [
                POLICE_UK_HEADER,
                police_uk_row(f"{month}a", month=month),
                police_uk_row(f"{month}b", month=month),
            ],
        )
    from_folder = read_police_uk(folder)
    assert from_folder.n_read == 4 and len(from_folder.files) == 2
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for csv in sorted(folder.rglob("*.csv")):
            zf.write(csv, arcname=f"{csv.parent.name}/{csv.name}")
    from_zip = read_police_uk(archive)
    assert_reconciles(from_zip)
    assert sorted(from_zip.accepted["occurrence_id"]) == sorted(
        from_folder.accepted["occurrence_id"]
    )
    assert from_zip.accepted["source_file"].str.startswith("download.zip:").all()


def test_broken_zip_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match="not a readable zip"):
        read_police_uk(path)


def test_random_corruption_never_loses_a_row(tmp_path: Path) -> None:
    """Corrupt cells, drop separators and cut lines at random: rows still add up."""
    rng = np.random.default_rng(20251121)
    lines = [police_uk_row(f"r{i}", month=f"2025-0{1 + i % 9}") for i in range(400)]
    corrupted = []
    for line in lines:
        cells = line.split(",")
        roll = rng.random()
        if roll < 0.1:
            cells[rng.integers(len(cells))] = "#??" + "x" * int(rng.integers(5))
        elif roll < 0.15:
            cells.pop(int(rng.integers(len(cells))))
        elif roll < 0.2:
            cells = cells[: int(rng.integers(1, len(cells)))]
        corrupted.append(",".join(cells))
    path = write_lines(tmp_path / "random.csv", [POLICE_UK_HEADER, *corrupted])
    result = read_police_uk(path)
    assert_reconciles(result)
    assert result.n_read == 400
    assert 0 < result.n_rejected() < 120


def test_all_nine_real_months_are_accounted_for(shared_data: Path) -> None:
    result = read_police_uk(shared_data / "police_uk")
    assert_reconciles(result)
    assert result.n_read == 126_106
    assert len(result.files) == 9
    months = result.accepted["occurred_from"].dt.strftime("%Y-%m").value_counts()
    assert sorted(months.index) == [f"2025-0{m}" for m in range(1, 10)]


def test_embedded_parquet_equals_the_csvs(shared_data: Path) -> None:
    parquets = sorted((DATA_DIR / "police_uk").glob("*.parquet"))
    assert [p.name for p in parquets] == ["hampshire_street_2024-01_2025-09.parquet"]
    from_parquet = read_police_uk(parquets[0])
    from_csv = [read_police_uk(shared_data / name)
                for name in ("police_uk_2024", "police_uk")]
    assert from_parquet.n_read == sum(r.n_read for r in from_csv) == 180_165
    cols = ["occurrence_id", "crime_type", "longitude", "latitude", "source_row"]
    pd.testing.assert_frame_equal(
        from_parquet.accepted[cols].reset_index(drop=True),
        pd.concat([r.accepted[cols] for r in from_csv], ignore_index=True),
    )
    months = from_parquet.accepted["occurred_from"].dt.strftime("%Y-%m")
    assert sorted(months.unique()) == [
        *(f"2024-0{m}" for m in range(1, 5)), *(f"2025-0{m}" for m in range(1, 10))
    ]


def test_embedded_months_report_the_2024_gap() -> None:
    from hotspot.ingest import quality

    parquet = DATA_DIR / "police_uk" / "hampshire_street_2024-01_2025-09.parquet"
    accepted = read_police_uk(parquet).accepted
    flagged, findings = quality.check_months(accepted)
    gaps = [f for f in findings if f.check == "missing_months"]
    assert len(gaps) == 1 and "2024-05..2024-12" in gaps[0].detail
    bad = accepted.loc[flagged, "occurred_from"].dt.strftime("%Y-%m").unique()
    assert bad.tolist() == ["2025-08"]


OUTCOMES_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Outcome type"
)
STOP_SEARCH_HEADER = (
    "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,"
    "Gender,Age range,Self-defined ethnicity,Officer-defined ethnicity,Legislation,"
    "Object of search,Outcome,Outcome linked to object of search,"
    "Removal of more than just outer clothing"
)


def _download_folder(root: Path) -> Path:
    """A data.police.uk download: monthly folders, street and other files."""
    root.mkdir()
    for month in ("2025-01", "2025-02"):
        sub = root / month
        sub.mkdir()
        write_lines(
            sub / f"{month}-hampshire-street.csv",
            [POLICE_UK_HEADER, police_uk_row(f"{month}a", month=month),
             police_uk_row(f"{month}b", month=month)],
        )
        write_lines(
            sub / f"{month}-hampshire-outcomes.csv",
            [OUTCOMES_HEADER,
             f"{month}a,{month},Hampshire,Hampshire,-1.4,50.9,On or near X,E01032747,"
             "Southampton 001A,Under investigation"],
        )
        write_lines(
            sub / f"{month}-hampshire-stop-and-search.csv",
            [STOP_SEARCH_HEADER,
             f"Person search,{month}-03T10:00:00+00:00,False,,50.9,-1.4,Male,"
             "18-24,,,Misuse of Drugs Act 1971 (section 23),Controlled drugs,"
             "Arrest,True,False"],
        )
    (root / "README.txt").write_text("downloaded from data.police.uk\n")
    return root


def test_download_folder_ingests_street_files_and_lists_the_rest(
    tmp_path: Path,
) -> None:
    folder = _download_folder(tmp_path / "download")
    result = read_police_uk(folder)
    assert_reconciles(result)
    assert result.n_read == 4 and len(result.files) == 2
    assert all(f.endswith("-street.csv") for f in result.files)
    skipped = {s.file: s.reason for s in result.skipped}
    assert len(skipped) == 5
    outcomes = str(Path("2025-01", "2025-01-hampshire-outcomes.csv"))
    assert "outcomes file" in skipped[outcomes]
    assert "stop-and-search" in skipped[
        str(Path("2025-02", "2025-02-hampshire-stop-and-search.csv"))
    ]
    assert skipped["README.txt"] == "not a CSV file"


def test_download_zip_ingests_street_files_and_lists_the_rest(
    tmp_path: Path,
) -> None:
    folder = _download_folder(tmp_path / "download")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, arcname=file.relative_to(folder).as_posix())
        zf.writestr("__MACOSX/2025-01/._2025-01-hampshire-street.csv", b"\x00\x05")
        zf.writestr("renamed.csv", f"{POLICE_UK_HEADER}\n{police_uk_row('r1')}\n")
        zf.writestr("other.csv", "a,b\n1,2\n")
    result = read_police_uk(archive)
    assert_reconciles(result)
    # a street file under another name is read by its headers
    assert result.n_read == 5
    assert "r1" in set(result.accepted["occurrence_id"])
    reasons = {s.file: s.reason for s in result.skipped}
    assert "outcomes file" in reasons["2025-02/2025-02-hampshire-outcomes.csv"]
    search = "2025-01/2025-01-hampshire-stop-and-search.csv"
    assert "stop-and-search" in reasons[search]
    assert reasons["other.csv"].startswith("not a data.police.uk street file")
    assert "macOS" in reasons["__MACOSX/2025-01/._2025-01-hampshire-street.csv"]


def test_download_summary_lists_skipped_files(tmp_path: Path) -> None:
    from hotspot.ingest.sources import read_sources

    folder = _download_folder(tmp_path / "download")
    result = read_sources([folder])
    assert len(result.skipped) == 5
    assert result.n_read == 4


def test_folder_of_outcomes_only_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "outcomes"
    folder.mkdir()
    write_lines(folder / "2025-01-hampshire-outcomes.csv", [OUTCOMES_HEADER])
    with pytest.raises(InputFileError, match="no data.police.uk street.*outcomes"):
        read_police_uk(folder)
    with pytest.raises(InputFileError, match="outcomes file"):
        read_police_uk(folder / "2025-01-hampshire-outcomes.csv")


def test_corrupt_zip_member_is_one_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2025-01-hampshire-street.csv",
                    (POLICE_UK_HEADER + "\n" + police_uk_row() + "\n") * 50)
    raw = bytearray(archive.read_bytes())
    offset = raw.index(b"2025-01-hampshire-street.csv") + 40  # inside the data
    raw[offset:offset + 20] = b"\xff" * 20
    archive.write_bytes(bytes(raw))
    with pytest.raises(InputFileError, match="cannot be read"):
        read_police_uk(archive)


def test_ingest_summary_lists_skipped_files_and_missing_months(tmp_path: Path) -> None:
    from hotspot.pipeline import ingest

    folder = _download_folder(tmp_path / "download")
    sub = folder / "2024-03"
    sub.mkdir()
    write_lines(
        sub / "2024-03-hampshire-street.csv",
        [POLICE_UK_HEADER, police_uk_row("old1", month="2024-03")],
    )
    summary = ingest([folder]).summary
    assert summary["rows"] == {"read": 5, "accepted": 5, "rejected": 0}
    skipped = {s["file"]: s["reason"] for s in summary["skipped_files"]}
    assert len(skipped) == 5 and "README.txt" in skipped
    gaps = [f for f in summary["quality"]["findings"] if f["check"] == "missing_months"]
    assert len(gaps) == 1
    assert "9 months" in gaps[0]["detail"] and "2024-04..2024-12" in gaps[0]["detail"]

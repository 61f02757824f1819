"""Streamed ingest of every source kind equals the whole-file ingest of the same.

Template and records CSVs, an Excel workbook, a police.uk download zip (with
members the whole-file reader skips) and several sources at once are read with
small batches, so each file is cut into several, and compared with
``read_sources`` / ``ingest_to_store``. The stored rows are compared on every
column except ``geometry`` (a shapely object; ``x``/``y`` are not stored but
``easting``/``latitude`` and the CSP/LSOA it gave are). The summary's
``created`` time and ``quality.findings`` are not compared: a streamed ingest
checks duplicate ids and piles per batch and months at the end, so its findings
are worded per batch. The test data have no duplicate ids, and piles only in
the ISTV test, so elsewhere the per-row flags agree and are compared; the ISTV
test shows the difference: a pile of the whole file is not one in a batch.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from hotspot.errors import InputFileError
from hotspot.ingest.mapping import load_mapping
from hotspot.ingest.sources import read_sources
from hotspot.ingest.store import load_occurrences, load_rejects, load_summary
from hotspot.ingest.stream import read_batches
from hotspot.pipeline import ingest_streaming, ingest_to_store
from tests.helpers import POLICE_UK_HEADER, police_uk_row, write_lines

MAPPING = """
name = "Test RMS"
[columns]
occurrence_id = "Occ Ref"
occurred_from = "From"
offence_code = "HO Code"
offence_description = "Offence"
bladed_implement = "Knife"
victim_age = "Age"
easting = "X"
northing = "Y"
location_text = "Where"
[values]
datetime_formats = ["%d/%m/%Y %H:%M", "%d/%m/%Y"]
true = ["Y"]
false = ["N", ""]
"""
RMS_HEADER = ["Occ Ref", "From", "HO Code", "Offence", "Knife", "Age", "X", "Y",
              "Where"]
CODES = [("5/1", "Wounding with intent"), ("34B", "Robbery of personal property"),
         ("8N", "Assault with injury")]
TEMPLATE_HEADER = ("occurrence_id,occurred_from,offence_code,offence_description,"
                   "latitude,longitude,location_text")
SMALL = {"batch_bytes": 2000, "batch_rows": 40}


def _mapping(tmp_path: Path, extra: str = ""):  # noqa: ANN202
    path = tmp_path / "rms.toml"
    path.write_text(MAPPING + extra, encoding="utf-8")
    return load_mapping(path)


def _template(path: Path, n: int = 300) -> Path:
    lines = [TEMPLATE_HEADER]
    for i in range(n):
        code, text = CODES[i % 3]
        lat, lon = (50.904 + i * 1e-5, -1.404) if i % 2 else (50.798, -1.091 + i * 1e-5)
        when = f"2025-0{1 + i % 2}-{1 + i % 28:02d} {i % 24:02d}:15"
        lines.append(f"T{i},{when},{code},{text},{lat:.6f},{lon:.6f},"
                     f"\"On or near\nStreet {i}\"" if i % 50 == 3 else
                     f"T{i},{when},{code},{text},{lat:.6f},{lon:.6f},Street {i}")
        if i % 61 == 5:
            lines.append(f"T{i}b,not a date,34B,Robbery,50.9,-1.4,x")  # rejected
        if i % 77 == 9:
            lines.append("too,few")  # ragged
        if i % 90 == 10:
            lines.append("")  # blank line: keeps its number, is not a row
        if i % 97 == 11:
            lines.append(f"T{i}c,2025-01-02,5/1,Wounding,49.0,-5.0,at sea")  # outside
    return write_lines(path, lines)


def _rms_rows(n: int, *, excel: bool) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in range(n):
        code, text = CODES[i % 3]
        when: object = (datetime(2025, 3, 1 + i % 28, i % 24, 5) if excel
                        else f"{1 + i % 28:02d}/03/2025 {i % 24:02d}:05")
        x, y = (442150 + i, 111900 + i) if i % 2 else (464000 + i, 100000 + i)
        rows.append([f"R{i}", when, code, text, "Y" if i % 5 == 0 else "N",
                     17 + i % 50, float(x) if excel else str(x),
                     float(y) if excel else str(y), f"Road {i}"])
        if i % 43 == 7:
            rows.append([f"R{i}b", when, code, text, "maybe", "200", "1", "2", ""])
    return rows


def _records_csv(path: Path, n: int = 300) -> Path:
    lines = [";".join(RMS_HEADER)]  # semicolons: the delimiter is detected
    lines += [";".join(str(v) for v in row) for row in _rms_rows(n, excel=False)]
    return write_lines(path, lines)


def _workbook(path: Path, n: int = 250) -> Path:
    book = Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["read the Extract sheet"])
    sheet = book.create_sheet("Extract")
    sheet.append([])  # a blank row above the header
    sheet.append(RMS_HEADER)
    for i, row in enumerate(_rms_rows(n, excel=True)):
        sheet.append(row)
        if i % 70 == 4:
            sheet.append([None] * len(RMS_HEADER))  # a blank row
    book.save(path)
    return path


def _download_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for month in ("2025-01", "2025-02", "2025-03"):
            rows = [police_uk_row(f"{month}-{i}", month=month,
                                  lon=f"{-1.404 + i * 1e-5:.5f}")
                    for i in range(120)]
            rows[7] = police_uk_row("", month=month)  # no Crime ID: id from row
            rows[9] = police_uk_row(f"{month}-bad", month="2025-13")
            zf.writestr(f"{month}/{month}-hampshire-street.csv",
                        "\n".join([POLICE_UK_HEADER, *rows]) + "\n")
        zf.writestr("2025-01/2025-01-hampshire-outcomes.csv",
                    "Crime ID,Month,Outcome type\nx,2025-01,Charged\n")
        zf.writestr("README.txt", "data.police.uk download\n")
        zf.writestr("other.csv", "a,b\n1,2\n")
    return path


def _frame(frame: pd.DataFrame, keys: list[str],
           ignore: tuple[str, ...] = ()) -> pd.DataFrame:
    cols = [c for c in frame.columns if c not in ("geometry", *ignore)]
    return pd.DataFrame(frame[cols]).sort_values(keys).reset_index(drop=True)


def _same_read(paths: list[Path], **kw: object) -> int:
    """Assert the streamed reader equals ``read_sources``; return the batch count."""
    whole = read_sources(paths, **kw)  # type: ignore[arg-type]
    parts = list(read_batches(paths, **kw, **SMALL))  # type: ignore[arg-type]
    accepted = pd.concat([p.accepted for p in parts], ignore_index=True)
    rejected = pd.concat([p.rejected for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(accepted, whole.accepted)
    keys = ["source_file", "row_number", "field", "reason"]  # per check, per batch
    pd.testing.assert_frame_equal(_frame(rejected, keys), _frame(whole.rejected, keys))
    assert sum(p.n_read for p in parts) == whole.n_read
    assert list(dict.fromkeys(f for p in parts for f in p.files)) == whole.files
    assert parts[-1].skipped == whole.skipped
    return len(parts)


def _same_ingest(tmp_path: Path, paths: list[Path], *,
                 ignore: tuple[str, ...] = (), **kw: object) -> dict:
    """Assert the streamed ingest's store equals the whole-file ingest's.

    ``ignore`` names stored columns left out of the comparison.
    """
    whole = ingest_to_store(paths, tmp_path / "whole", **kw)  # type: ignore[arg-type]
    summary = ingest_streaming(paths, tmp_path / "stream", **kw,  # type: ignore[arg-type]
                               **SMALL)
    for key in ("rows", "per_csp", "rejected_by_reason", "accepted_by_source",
                "geocoded_by_method", "serious_violence", "synthetic_rows",
                "files", "skipped_files", "source_checksums", "mapping", "period"):
        assert summary[key] == whole.summary[key], key
    assert load_summary(tmp_path / "stream")["rows"] == whole.summary["rows"]
    keys = ["source_file", "source_row"]
    pd.testing.assert_frame_equal(
        _frame(load_occurrences(tmp_path / "stream"), keys, ignore),
        _frame(load_occurrences(tmp_path / "whole"), keys, ignore))
    keys = ["source_file", "row_number", "stage", "field", "reason"]
    pd.testing.assert_frame_equal(_frame(load_rejects(tmp_path / "stream"), keys),
                                  _frame(load_rejects(tmp_path / "whole"), keys))
    rows = summary["rows"]
    assert rows["read"] == rows["accepted"] + rows["rejected"]
    return summary


def test_template_csv_streams_as_the_whole_file(tmp_path: Path) -> None:
    path = _template(tmp_path / "template.csv")
    assert _same_read([path]) >= 5
    summary = _same_ingest(tmp_path, [path])
    assert summary["rows"]["rejected"] >= 8  # bad dates, ragged rows, outside HIPS


def test_records_csv_with_a_mapping_streams_as_the_whole_file(tmp_path: Path) -> None:
    path = _records_csv(tmp_path / "extract.csv")
    mapping = _mapping(tmp_path)
    assert _same_read([path], mapping=mapping) >= 5
    summary = _same_ingest(tmp_path, [path], fmt="records", mapping=mapping)
    assert summary["mapping"] == "Test RMS"
    assert summary["rows"]["rejected"] >= 7  # "maybe" knives, ages of 200


def test_excel_workbook_streams_as_the_whole_file(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "extract.xlsx")
    mapping = _mapping(tmp_path, 'sheet = "Extract"\n')
    assert _same_read([path], mapping=mapping) >= 5
    summary = _same_ingest(tmp_path, [path], mapping=mapping)
    assert summary["files"] == ["extract.xlsx#Extract"]
    stored = load_occurrences(tmp_path / "stream")
    assert stored["occurred_from"].min() == pd.Timestamp("2025-03-01 00:05")


def test_download_zip_streams_every_month_and_lists_the_skipped(
    tmp_path: Path,
) -> None:
    path = _download_zip(tmp_path / "download.zip")
    assert _same_read([path]) >= 6
    summary = _same_ingest(tmp_path, [path])
    skipped = {s["file"]: s["reason"] for s in summary["skipped_files"]}
    assert "outcomes file" in skipped["2025-01/2025-01-hampshire-outcomes.csv"]
    assert skipped["README.txt"] == "not a CSV file"
    assert skipped["other.csv"].startswith("not a data.police.uk street file")
    assert len(summary["files"]) == 3
    stored = load_occurrences(tmp_path / "stream")
    assert "2025-02-hampshire-street:8" in set(stored["occurrence_id"])


def test_download_folder_streams_as_the_whole_file(tmp_path: Path) -> None:
    folder = tmp_path / "download"
    with zipfile.ZipFile(_download_zip(tmp_path / "d.zip")) as zf:
        zf.extractall(folder)
    assert _same_read([folder]) >= 6


def test_several_sources_of_different_formats_at_once(tmp_path: Path) -> None:
    paths = [_template(tmp_path / "template.csv", 150),
             _download_zip(tmp_path / "download.zip")]
    assert _same_read(paths) >= 8
    summary = _same_ingest(tmp_path, paths)
    assert set(summary["accepted_by_source"]) == {"template", "police_uk"}
    assert len(summary["source_checksums"]) == 2


def _no_store(store: Path) -> None:
    assert not (store / "occurrences.parquet").exists()
    assert not (store / "summary.json").exists()
    assert list((store / ".store").iterdir()) == []


def test_bad_utf8_late_in_a_file_leaves_no_store(tmp_path: Path) -> None:
    path = _template(tmp_path / "template.csv")
    with path.open("ab") as handle:
        handle.write(b"T999,2025-01-02,34B,Robbery,50.9,-1.4,Caf\xe9 Street\n")
    last = len(path.read_bytes().splitlines())
    store = tmp_path / "store"
    with pytest.raises(InputFileError,
                       match=rf"template\.csv: is not utf-8.* at line {last} "):
        ingest_streaming([path], store, **SMALL)
    _no_store(store)


@pytest.mark.parametrize("kind", ["not a zip", "bad member"])
def test_a_corrupt_zip_leaves_no_store(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "download.zip"
    if kind == "not a zip":
        path.write_bytes(b"PK\x03\x04 this is not a zip")
        match = r"download\.zip: is not a readable zip"
    else:
        _download_zip(path)
        raw = bytearray(path.read_bytes())
        at = raw.index(b"2025-02/2025-02-hampshire-street.csv") + 200
        raw[at:at + 40] = b"\xff" * 40
        path.write_bytes(bytes(raw))
        match = r"download\.zip:2025-02/2025-02-hampshire-street\.csv: cannot be read"
    store = tmp_path / "store"
    with pytest.raises(InputFileError, match=match):
        ingest_streaming([path], store, **SMALL)
    _no_store(store)


def test_an_xlsx_that_is_not_a_workbook_leaves_no_store(tmp_path: Path) -> None:
    good = _template(tmp_path / "template.csv", 100)
    bad = tmp_path / "extract.xlsx"
    bad.write_text("Occ Ref,From\n1,2\n", encoding="utf-8")
    store = tmp_path / "store"
    with pytest.raises(InputFileError, match=r"extract\.xlsx: is not a readable Excel"):
        ingest_streaming([good, bad], store, fmt="template", **SMALL)
    _no_store(store)


def test_errors_name_the_file_and_what_was_expected(tmp_path: Path) -> None:
    header_only = write_lines(tmp_path / "t.csv", [TEMPLATE_HEADER, ""])
    with pytest.raises(InputFileError, match=r"t\.csv: has a header but no data"):
        list(read_batches([header_only]))
    path = _records_csv(tmp_path / "extract.csv", 10)
    with pytest.raises(InputFileError, match="needs a column mapping"):
        list(read_batches([path], fmt="records"))
    with pytest.raises(InputFileError, match="format not recognised"):
        list(read_batches([path]))
    with pytest.raises(InputFileError, match="does not exist"):
        list(read_batches([tmp_path / "missing.csv"]))


def test_the_command_line_streams_several_sources_with_a_mapping(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hotspot.cli.main import main

    first = _records_csv(tmp_path / "extract-1.csv", 60)
    second = _workbook(tmp_path / "extract-2.xlsx", 50)
    toml = tmp_path / "rms.toml"
    toml.write_text(MAPPING + 'sheet = "Extract"\n', encoding="utf-8")
    store = tmp_path / "store"
    args = ["ingest", str(first), str(second), "--out", str(store), "--stream",
            "--format", "records", "--mapping", str(toml)]
    assert main(args) == 0
    summary = load_summary(store)
    assert summary["files"] == ["extract-1.csv", "extract-2.xlsx#Extract"]
    assert summary["rows"]["read"] == summary["rows"]["accepted"] + summary[
        "rows"]["rejected"] > 110
    assert "read " in capsys.readouterr().out
    bad = write_lines(tmp_path / "extract-3.csv", [";".join(RMS_HEADER[:3]), "1;2;3"])
    assert main([*args[:3], str(bad), *args[3:]]) == 2
    err = capsys.readouterr().err
    assert "extract-3.csv: required column(s)" in err and "'Offence'" in err
    assert load_summary(store) == summary  # the failed run left the store as it was
    with pytest.raises(SystemExit):
        main([*args, "--workers", "0"])
    assert "expected a whole number >= 1, got '0'" in capsys.readouterr().err
    again = tmp_path / "again"
    assert main([*args[:4], str(again), *args[5:], "--workers", "1"]) == 0
    assert load_summary(again)["rows"] == summary["rows"]


MALFORMED = Path(__file__).parent / "malformed"


@pytest.mark.parametrize("name", sorted(
    p.name for p in MALFORMED.glob("*.csv") if "odd_length" not in p.name))
def test_malformed_files_stream_as_the_whole_file_reads_them(name: str) -> None:
    path = MALFORMED / name
    mapping = (load_mapping(MALFORMED / "records_utf8_bom.toml")
               if name.startswith("records") else None)
    try:
        read_sources([path], mapping=mapping)
    except InputFileError as exc:
        with pytest.raises(InputFileError) as streamed:
            list(read_batches([path], mapping=mapping, **SMALL))
        assert streamed.value.problem == exc.problem
        return
    _same_read([path], mapping=mapping)


def test_blank_lines_keep_their_numbers_in_a_streamed_police_uk_csv(
    tmp_path: Path,
) -> None:
    lines = [POLICE_UK_HEADER]
    for i in range(200):
        lines.append(police_uk_row(f"id{i}", lon=f"{-1.404 + i * 1e-5:.5f}"))
        if i % 30 == 2:
            lines += ["", "   "]  # not rows, but numbered, as the whole file does
    path = write_lines(tmp_path / "2025-01-hampshire-street.csv", lines)
    assert _same_read([path]) >= 5
    _same_ingest(tmp_path, [path])


def test_unparsed_batches_pickle_and_parse_as_read_batches(tmp_path: Path) -> None:
    import pickle

    from hotspot.ingest.stream import table_batches

    paths = [_download_zip(tmp_path / "download.zip"),
             _records_csv(tmp_path / "extract.csv", 80)]
    mapping = _mapping(tmp_path)
    for path, kw in ((paths[0], {}), (paths[1], {"mapping": mapping})):
        parsed = list(read_batches([path], **kw, **SMALL))
        unparsed = [pickle.loads(pickle.dumps(b))
                    for b in table_batches([path], **kw, **SMALL)]
        assert len(unparsed) == len(parsed) >= 3
        for batch, expected in zip(unparsed, parsed, strict=True):
            got = batch.parse()
            pd.testing.assert_frame_equal(got.accepted, expected.accepted)
            pd.testing.assert_frame_equal(got.rejected, expected.rejected)
            assert got.skipped == expected.skipped


def test_istv_extract_streams_as_the_whole_file(tmp_path: Path) -> None:
    places = ["High St, Southampton", "HIGH STREET, WINCHESTER",
              "Newport, Isle of Wight", "zxqv wplm"]  # the last is not a place
    methods = ["Stabbed with knife", "Punched", "Kicked", "Bottle"]
    lines = ["Attendance ID,Assault Date,Assault Time,Assault Method,Location Type,"
             "Location Description"]
    for i in range(160):
        time = "" if i % 3 else f"{i % 24:02d}:10"
        date = "31/02/2025" if i % 41 == 6 else f"{1 + i % 28:02d}/07/2025"
        lines.append(f'A{i},{date},{time},{methods[i % 4]},Street,"{places[i % 4]}"')
    path = write_lines(tmp_path / "SYNTHETIC_istv.csv", lines)
    assert _same_read([path]) >= 4
    # 40 rows on one street point are a pile in the whole file (25 or more) but
    # not in a batch of 40 rows (about 10 there): the one difference, per batch
    summary = _same_ingest(tmp_path, [path], ignore=("quality_flags",))
    assert summary["accepted_by_source"] == {"istv": summary["rows"]["accepted"]}
    assert summary["synthetic_rows"] == summary["rows"]["accepted"] > 100
    whole = load_occurrences(tmp_path / "whole")["quality_flags"]
    assert (whole == "piled_on_one_spot").sum() == 39
    assert load_occurrences(tmp_path / "stream")["quality_flags"].isna().all()


def test_a_merged_title_row_in_a_sheet_is_the_same_error_streamed(
    tmp_path: Path,
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Extract of 2 Jan", *[None] * 6])
    sheet.merge_cells("A1:G1")  # a title above the header: it is taken as the header
    sheet.append(TEMPLATE_HEADER.split(","))
    sheet.append(["T1", "2025-01-02 10:00", "34B", "Robbery", 50.9, -1.4, "x"])
    path = tmp_path / "titled.xlsx"
    book.save(path)
    with pytest.raises(InputFileError) as whole:
        read_sources([path], fmt="template")
    with pytest.raises(InputFileError) as streamed:
        list(read_batches([path], fmt="template"))
    assert streamed.value.problem == whole.value.problem
    assert "titled.xlsx#Sheet: has repeated column headers" in str(streamed.value)

"""Records-system extracts through a column mapping, and the plain CSV template."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from hotspot.errors import InputFileError, MappingError
from hotspot.ingest.mapping import INPUT_COLUMNS, load_mapping
from hotspot.ingest.records import read_records, read_template
from tests.helpers import assert_reconciles, write_lines

MAPPING = """
name = "Test RMS"
[columns]
occurrence_id = "Occ Ref"
occurred_from = "From"
occurred_to = "To"
offence_code = "HO Code"
offence_description = "Offence"
bladed_implement = "Knife"
domestic = "DA"
victim_age = "Age"
victim_sex = "Sex"
easting = "X"
northing = "Y"
postcode = "Postcode"
location_text = "Where"
[values]
datetime_formats = ["%d/%m/%Y %H:%M", "%d/%m/%Y"]
true = ["Y"]
false = ["N", ""]
"""
HEADER = "Occ Ref,From,To,HO Code,Offence,Knife,DA,Age,Sex,X,Y,Postcode,Where"


@pytest.fixture
def mapping(tmp_path: Path):  # noqa: ANN201
    path = tmp_path / "rms.toml"
    path.write_text(MAPPING, encoding="utf-8")
    return load_mapping(path)


def test_good_extract(tmp_path: Path, mapping) -> None:
    path = write_lines(
        tmp_path / "extract.csv",
        [
            HEADER,
            "44/1,14/07/2025 22:35,,5/1,Wounding with intent,Y,N,19,M,442150,111900,,",
            "44/2,15/07/2025,16/07/2025,8N,Assault with injury,N,,,Female,,,SO14 7DU,",
        ],
    )
    result = read_records(path, mapping=mapping)
    assert_reconciles(result)
    first, second = result.accepted.iloc[0], result.accepted.iloc[1]
    assert first["occurred_from"] == pd.Timestamp("2025-07-14 22:35")
    assert first["occurred_to"] == first["occurred_from"]
    assert first["date_precision"] == "minute"
    assert bool(first["bladed_implement"]) and not bool(first["domestic"])
    assert first["victim_age"] == 19 and first["victim_age_band"] == "18-24"
    assert first["victim_sex"] == "M" and first["easting"] == 442150
    # a date without a time covers the whole day, never an invented hour
    assert second["date_precision"] == "day"
    assert second["occurred_to"] == pd.Timestamp("2025-07-16")
    assert second["victim_sex"] == "F" and pd.isna(second["victim_age"])
    assert second["postcode"] == "SO14 7DU"
    assert result.accepted["source"].eq("records").all()
    assert not result.accepted["is_synthetic"].any()


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        (",14/07/2025,,5/1,x,N,N,,,1,1,,", "Occ Ref", "empty"),
        ("1,31/02/2025,,5/1,x,N,N,,,1,1,,", "From", "not a date"),
        ("1,,,5/1,x,N,N,,,1,1,,", "From", "empty"),
        ("1,14/07/2025,13/07/2025,5/1,x,N,N,,,1,1,,", "To", "ends before"),
        ("1,14/07/2025,,,,N,N,,,1,1,,", "offence_code", "neither"),
        ("1,14/07/2025,,5/1,x,maybe,N,,,1,1,,", "Knife", "expected one of"),
        ("1,14/07/2025,,5/1,x,N,N,200,,1,1,,", "Age", "0 to 120"),
        ("1,14/07/2025,,5/1,x,N,N,19.5,,1,1,,", "Age", "whole number"),
        ("1,14/07/2025,,5/1,x,N,N,,,4421x0,1,,", "X", "number"),
    ],
    ids=[
        "no-id",
        "bad-date",
        "no-date",
        "to-before-from",
        "no-offence",
        "bad-flag",
        "age-200",
        "age-fraction",
        "bad-easting",
    ],
)
def test_junk_values_rejected(
    tmp_path: Path, mapping, line: str, field: str, reason: str
) -> None:
    path = write_lines(tmp_path / "e.csv", [HEADER, line])
    result = read_records(path, mapping=mapping)
    assert_reconciles(result)
    assert result.accepted.empty
    row = result.rejected.iloc[0]
    assert row["field"] == field and reason in row["reason"]
    assert row["row_number"] == 1 and row["source_file"] == "e.csv"


def test_header_named_by_mapping_but_missing(tmp_path: Path, mapping) -> None:
    path = write_lines(
        tmp_path / "e.csv",
        [HEADER.replace(",Where", ""), "1,14/07/2025,,5/1,x,N,N,,,1,1,"],
    )
    with pytest.raises(InputFileError, match=r"e\.csv.*\['Where'\] missing"):
        read_records(path, mapping=mapping)


def test_headers_match_case_and_space_insensitively(tmp_path: Path, mapping) -> None:
    path = write_lines(
        tmp_path / "e.csv",
        [
            HEADER.upper().replace("OCC REF", "occ  ref"),
            "1,14/07/2025,,5/1,x,N,N,,,1,1,,",
        ],
    )
    assert len(read_records(path, mapping=mapping).accepted) == 1


def test_excel_extract(tmp_path: Path, mapping) -> None:
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            "7",
            datetime(2025, 3, 1, 23, 5),
            None,
            "34B",
            "Robbery",
            "N",
            "N",
            17,
            "M",
            464000.0,
            100000.0,
            None,
            None,
        ]
    )
    path = tmp_path / "extract.xlsx"
    book.save(path)
    result = read_records(path, mapping=mapping)
    assert_reconciles(result)
    row = result.accepted.iloc[0]
    assert row["occurred_from"] == pd.Timestamp("2025-03-01 23:05")
    assert row["offence_code"] == "34B" and row["victim_age"] == 17
    assert row["easting"] == 464000


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("name = 'x'", r"\[columns\]"),
        (
            "[columns]\noccurred_from = 'a'\noffence_code = 'b'\neasting = 'c'",
            "occurrence_id",
        ),
        (
            "[columns]\noccurrence_id='a'\noccurred_from='b'\neasting='c'",
            "offence_code",
        ),
        (
            "[columns]\noccurrence_id='a'\noccurred_from='b'\noffence_code='c'",
            "location column",
        ),
        (
            "[columns]\noccurrence_id='a'\noccurred_from='b'\noffence_code='c'\n"
            "postcode='d'\nvictim_name='e'",
            "unknown canonical name",
        ),
        ("[columns\n", "not a valid TOML"),
    ],
    ids=[
        "no-columns",
        "no-id",
        "no-offence",
        "no-location",
        "unknown-name",
        "bad-toml",
    ],
)
def test_bad_mappings(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=match):
        load_mapping(path)


def test_template_round_trip(tmp_path: Path) -> None:
    header = ",".join(INPUT_COLUMNS)
    values = dict.fromkeys(INPUT_COLUMNS, "")
    values.update(
        occurrence_id="T1",
        occurred_from="2025-06-06 21:15",
        offence_code="34B",
        offence_description="Robbery of personal property",
        public_place="Y",
        latitude="50.9049",
        longitude="-1.4044",
    )
    path = write_lines(
        tmp_path / "template.csv", [header, ",".join(values[c] for c in INPUT_COLUMNS)]
    )
    result = read_template(path)
    assert_reconciles(result)
    row = result.accepted.iloc[0]
    assert row["source"] == "template" and row["occurrence_id"] == "T1"
    assert row["latitude"] == pytest.approx(50.9049)
    assert bool(row["public_place"])


def test_template_with_only_essential_columns(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.csv",
        [
            "occurrence_id,occurred_from,offence_code,postcode",
            "A,2025-01-02,34B,SO14 7DU",
        ],
    )
    assert len(read_template(path).accepted) == 1


def test_template_without_location_column_is_an_error(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.csv",
        ["occurrence_id,occurred_from,offence_code", "A,2025-01-02,34B"],
    )
    with pytest.raises(InputFileError, match="at least one of the columns"):
        read_template(path)


def test_synthetic_file_name_marks_rows_synthetic(tmp_path: Path, mapping) -> None:
    path = write_lines(
        tmp_path / "SYNTHETIC_extract.csv", [HEADER, "1,14/07/2025,,5/1,x,N,N,,,1,1,,"]
    )
    assert read_records(path, mapping=mapping).accepted["is_synthetic"].all()


def test_random_corruption_never_loses_a_row(tmp_path: Path, mapping) -> None:
    """Junk cells, dropped and extra separators, cut lines: every row adds up."""
    rng = np.random.default_rng(7)
    good = "1,14/07/2025 22:35,,5/1,x,N,N,19,M,442150,111900,SO14 7DU,Above Bar"
    lines = []
    for i in range(300):
        cells = good.split(",")
        cells[0] = f"R{i}"
        roll = rng.random()
        if roll < 0.15:
            junk = "\u00bf" + "?" * int(rng.integers(4))
            cells[int(rng.integers(1, len(cells)))] = junk
        elif roll < 0.2:
            cells.insert(int(rng.integers(len(cells))), "extra")
        elif roll < 0.25:
            cells = cells[: int(rng.integers(1, len(cells)))]
        lines.append(",".join(cells))
    path = write_lines(tmp_path / "random.csv", [HEADER, *lines])
    result = read_records(path, mapping=mapping)
    assert_reconciles(result)
    assert result.n_read == 300
    assert 20 < result.n_rejected() < 120

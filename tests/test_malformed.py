"""The malformed-input corpus (tests/malformed/) and property tests of the parsers.

Every malformed input either reads (accepted + rejected reconcile, each reject
naming its file, row and field) or fails with one ``HotspotError`` naming the
file: never a traceback from deeper down, never a silent loss.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspot.errors import HotspotError, InputFileError, MappingError
from hotspot.ingest.fields import (
    EARLIEST_DATE,
    parse_dates,
    parse_flags,
    parse_numbers,
)
from hotspot.ingest.mapping import load_mapping
from hotspot.ingest.police_uk import read_police_uk
from hotspot.ingest.records import read_records, read_template
from hotspot.ingest.tables import read_text_table
from tests.helpers import POLICE_UK_HEADER, assert_reconciles, police_uk_row

CORPUS = Path(__file__).parent / "malformed"


def _reject_reasons(result: object) -> list[str]:
    rejected = result.rejected  # type: ignore[attr-defined]
    assert rejected["source_file"].notna().all()
    assert rejected["row_number"].notna().all()
    assert rejected["field"].notna().all()
    return rejected["reason"].tolist()


@pytest.mark.parametrize(
    ("name", "accepted", "rejected"),
    [
        ("police_uk_utf8_bom.csv", 5, 0),
        ("police_uk_utf16_bom.csv", 3, 0),
        ("police_uk_quoted_line_break.csv", 4, 0),
        ("police_uk_bad_values.csv", 1, 2),
        ("police_uk_implausible_months.csv", 1, 3),
    ],
)
def test_corpus_files_that_read(name: str, accepted: int, rejected: int) -> None:
    result = read_police_uk(CORPUS / name)
    assert_reconciles(result)
    assert len(result.accepted) == accepted
    assert result.n_rejected() == rejected
    _reject_reasons(result)
    # a BOM never reaches a header or an id
    assert not result.accepted["occurrence_id"].str.contains("\ufeff").any()


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("police_uk_utf16_odd_length.csv", "UTF-16.*odd length"),
        ("police_uk_stray_quote.csv", r"row 6 \(line 7\).*stray quote"),
        ("police_uk_case_clash.csv", r"'Crime type', 'CRIME TYPE'"),
        ("police_uk_header_only.csv", "no data rows"),
        ("police_uk_binary.csv", "NUL bytes"),
    ],
)
def test_corpus_files_that_fail_cleanly(name: str, match: str) -> None:
    with pytest.raises(InputFileError, match=match) as info:
        read_police_uk(CORPUS / name)
    assert name in str(info.value)
    assert len(str(info.value)) < 600


def test_implausible_police_uk_months_name_the_year() -> None:
    result = read_police_uk(CORPUS / "police_uk_implausible_months.csv")
    reasons = result.rejected.set_index("occurrence_id")["reason"]
    assert "year 1500 is implausible" in reasons["a"]
    assert "year 2099 is implausible" in reasons["b"]
    assert (result.rejected["field"] == "Month").all()


def test_stray_quote_never_merges_rows_silently() -> None:
    text = (CORPUS / "police_uk_stray_quote.csv").read_text()
    assert text.count("\n") == 41  # header + 40 rows: all would be lost into row 6
    with pytest.raises(InputFileError, match="lines 7-41 would be merged"):
        read_text_table(CORPUS / "police_uk_stray_quote.csv")


def test_dates_out_of_range_are_rejected_per_row() -> None:
    result = read_template(CORPUS / "template_dates_out_of_range.csv")
    assert_reconciles(result)
    assert result.accepted["occurrence_id"].tolist() == ["d5"]
    reasons = dict(zip(result.rejected["occurrence_id"], result.rejected["reason"],
                       strict=True))
    assert set(reasons) == {"d1", "d2", "d3", "d4", "d6"}
    for rid, year in (("d1", 1500), ("d2", 2300), ("d3", 1900), ("d4", 2099)):
        assert f"year {year} is implausible" in reasons[rid]
    assert "implausible" not in reasons["d6"]  # 31 February: not a date at all
    assert (result.rejected["field"] == "occurred_from").all()


def test_utf8_bom_accepted_when_the_mapping_says_utf8() -> None:
    mapping = load_mapping(CORPUS / "records_utf8_bom.toml")
    assert mapping.encoding == "utf-8"
    result = read_records(CORPUS / "records_utf8_bom.csv", mapping=mapping)
    assert_reconciles(result)
    assert result.accepted["occurrence_id"].tolist() == ["r1", "r2"]


def test_deeply_nested_toml_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="mapping_nested.toml.*nested too deeply"):
        load_mapping(CORPUS / "mapping_nested.toml")


def test_zero_row_parquet_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    columns = ["source_file", "source_row", "Crime ID", "Month", "Longitude",
               "Latitude", "Location", "LSOA code", "Crime type"]
    pq.write_table(pa.table({c: pa.array([], type=pa.string()) for c in columns}),
                   path)
    with pytest.raises(InputFileError, match="empty.parquet.*no rows"):
        read_police_uk(path)


def test_encrypted_zip_member_is_one_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "locked.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("2025-01-hampshire-street.csv",
                    f"{POLICE_UK_HEADER}\n{police_uk_row()}\n")
    raw = bytearray(archive.read_bytes())
    # set the "encrypted" bit (general purpose flag bit 0) in both headers
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.index(signature) + offset
        raw[at] |= 0x01
    archive.write_bytes(bytes(raw))
    with pytest.raises(InputFileError, match="locked.zip.*cannot be read"):
        read_police_uk(archive)


# ------------------------------------------------------------ property tests
_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]), max_size=30
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=20))
def test_parse_numbers_property(values: list[str]) -> None:
    numbers, bad = parse_numbers(pd.Series(values, dtype="string"))
    for text, number, is_bad in zip(values, numbers, bad, strict=True):
        if is_bad or not text.strip():
            assert pd.isna(number)
        else:
            assert number == pytest.approx(float(text.strip()))


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=20))
def test_parse_dates_never_crashes_on_text(values: list[str]) -> None:
    parsed = parse_dates(pd.Series(values, dtype="string"),
                         formats=("%d/%m/%Y %H:%M", "%d/%m/%Y"))
    assert (parsed.bad == parsed.reason.notna()).all()
    assert (parsed.when.isna() | ~parsed.bad).all()
    ok = parsed.when.dropna()
    assert ((ok >= EARLIEST_DATE) & (ok.dt.year < 2262)).all()


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.datetimes(min_value=pd.Timestamp("0001-01-02").to_pydatetime(),
                    max_value=pd.Timestamp("9999-12-30").to_pydatetime()))
def test_parse_dates_round_trip_or_named_year(moment: object) -> None:
    text = f"{moment.year:04d}" + moment.strftime("-%m-%d %H:%M")  # type: ignore[attr-defined]
    parsed = parse_dates(pd.Series([text], dtype="string"))
    year = int(text[:4])
    latest = pd.Timestamp.now() + pd.Timedelta(days=1)
    if EARLIEST_DATE.year < year < latest.year:
        assert not parsed.bad.iloc[0]
        assert parsed.when.iloc[0].strftime("%Y-%m-%d %H:%M") == text
        assert parsed.precision.iloc[0] == "minute"
    elif year < EARLIEST_DATE.year or year > latest.year:
        assert parsed.bad.iloc[0]
        assert f"year {year} is implausible" in parsed.reason.iloc[0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Y", "n", "YES", " no ", "", "maybe", "1", "t", "x"]),
                min_size=1, max_size=15))
def test_parse_flags_property(values: list[str]) -> None:
    result, bad = parse_flags(pd.Series(values, dtype="string"))
    for text, value, is_bad in zip(values, result, bad, strict=True):
        word = text.strip().lower()
        if word in {"y", "yes", "1", "true", "t"}:
            assert bool(value) is True and not is_bad
        elif word in {"n", "no", "0", "false", "f", ""}:
            assert bool(value) is False and not is_bad
        else:
            assert pd.isna(value) and is_bad


_CELL = st.text(alphabet=st.sampled_from(list('ab1,;"\n\r\t \u00e9')), max_size=8)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELL, min_size=1, max_size=5), min_size=1, max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_read_text_table_only_raises_input_errors(
    rows: list[list[str]], encoding: str, tmp_path: Path
) -> None:
    text = "\n".join(",".join(r) for r in rows)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    path = tmp_path / "any.csv"
    path.write_bytes(data)
    try:
        table = read_text_table(path)
    except HotspotError as exc:
        assert "any.csv" in str(exc)
        return
    assert table.n_read >= 1
    assert list(table.frame.index) == sorted(table.frame.index)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["2025-01", "2025-13", "25-01", ""]),
                               st.sampled_from(["-1.404", "x", "", "1e999"]),
                               st.sampled_from(["Robbery", "robbery", "Drugs", ""])),
                     min_size=1, max_size=12))
def test_police_uk_rows_always_reconcile(
    rows: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    lines = [POLICE_UK_HEADER] + [
        police_uk_row(f"id{i}", month=m, lon=lon, crime_type=ct)
        for i, (m, lon, ct) in enumerate(rows)
    ]
    path = tmp_path / "2025-01-hampshire-street.csv"
    path.write_text("\n".join(lines) + "\n")
    result = read_police_uk(path)
    assert_reconciles(result)
    assert result.n_read == len(rows)


def test_quoted_semicolons_do_not_change_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    path.write_text(
        "occurrence_id,occurred_from,offence_code,location_text\n"
        'a1,2025-03-01 21:00,34B,"outside shop; Pump Lane; Ryde"\n'
        'a2,2025-03-02 22:00,10D,"bus stop; High Street; Cowes; IoW"\n'
    )
    table = read_text_table(path)
    assert list(table.frame.columns)[-1] == "location_text"
    assert table.frame["location_text"].tolist()[0] == "outside shop; Pump Lane; Ryde"
    semicolons = tmp_path / "european.csv"
    semicolons.write_text("a;b;c\n1,5;2;3\n")
    assert list(read_text_table(semicolons).frame.columns) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("formats", "match"),
    [('["%Q"]', "bad directive"), ('["%"]', "stray %"), ('["dd/mm/yyyy"]', "no %")],
)
def test_bad_datetime_format_is_a_mapping_error(
    tmp_path: Path, formats: str, match: str
) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[columns]\noccurrence_id = "Ref"\n[values]\n'
        f"datetime_formats = {formats}\n"
    )
    with pytest.raises(MappingError, match=f"m.toml.*datetime_formats.*{match}"):
        load_mapping(path)


def test_error_messages_stay_short_for_huge_headers(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = ",".join(f"column_{i}_{'x' * 50}" for i in range(20_000))
    path.write_text(header + "\n" + ",".join("1" for _ in range(20_000)) + "\n")
    with pytest.raises(InputFileError) as info:
        read_police_uk(path)
    message = str(info.value)
    assert message.startswith("wide.csv: ") and "required column" in message
    assert len(message) < 1200 and "19985 more" in message


def test_two_stray_quotes_on_neighbouring_rows_are_caught(tmp_path: Path) -> None:
    rows = [police_uk_row(f"id{i}") for i in range(6)]
    rows[2] = rows[2].replace("On or near", '"On or near')
    rows[3] = rows[3].replace("On or near", '"On or near')
    path = tmp_path / "two.csv"
    path.write_text("\n".join([POLICE_UK_HEADER, *rows]) + "\n")
    with pytest.raises(InputFileError, match=r"two.csv: row 3 \(line 4\)"):
        read_police_uk(path)


_TOML_LINES = st.sampled_from([
    "[columns]", "[values]", "[values.sex]", "[[columns]]", 'name = "x"', "name = 3",
    'occurrence_id = "Ref"', 'occurred_from = "When"', 'easting = "E"', "northing = 5",
    'datetime_formats = ["%d/%m/%Y"]', 'datetime_formats = "%d/%m/%Y"',
    'datetime_formats = ["%Q"]', "datetime_formats = [1, 2]", 'true = ["Y"]',
    "true = 1", 'false = ["N", ""]', 'sex = { M = "M" }', 'sex = "M"',
    'encoding = "utf-8"', 'encoding = "no-such-codec"', "encoding = 8",
    'sheet = "S"', "x = [[[[]]]]", "= broken", '"unterminated', "columns = 1",
    "values = []", "",
])


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_TOML_LINES, max_size=12))
def test_load_mapping_only_raises_mapping_errors(
    lines: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "any.toml"
    path.write_text("\n".join(lines) + "\n")
    try:
        mapping = load_mapping(path)
    except MappingError as exc:
        assert "any.toml" in str(exc)
        return
    assert isinstance(mapping.columns, dict)
    assert all(isinstance(v, str) for v in mapping.columns.values())
    assert mapping.encoding in (None, "utf-8")

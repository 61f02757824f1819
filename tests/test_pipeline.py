"""The whole ingest flow on a hand-made template file, and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from hotspot.cli.main import main
from hotspot.ingest.mapping import INPUT_COLUMNS
from hotspot.ingest.store import load_occurrences, load_rejects, load_summary
from hotspot.pipeline import analysis_rows, ingest


def _template(path: Path, rows: list[dict[str, str]]) -> Path:
    frame = pd.DataFrame([{c: row.get(c, "") for c in INPUT_COLUMNS} for row in rows])
    frame.to_csv(path, index=False)
    return path


ROWS = [
    # Southampton city centre by postcode: robbery of personal property
    {
        "occurrence_id": "1",
        "occurred_from": "2025-07-04 23:10",
        "offence_code": "34B",
        "postcode": "so14 7du",
    },
    # Portsmouth by BNG: s18 wounding with a knife, domestic
    {
        "occurrence_id": "2",
        "occurred_from": "2025-07-05 01:30",
        "offence_code": "5/1",
        "bladed_implement": "Y",
        "domestic": "Y",
        "easting": "464113",
        "northing": "100068",
    },
    # Basingstoke by WGS84: ABH without a blade is not serious violence
    {
        "occurrence_id": "3",
        "occurred_from": "2025-07-06",
        "offence_code": "8N",
        "bladed_implement": "N",
        "latitude": "51.2647",
        "longitude": "-1.0872",
    },
    # Null Island and a point in Dorset: rejected with reasons
    {
        "occurrence_id": "4",
        "occurred_from": "2025-07-06",
        "offence_code": "34B",
        "latitude": "0",
        "longitude": "0",
    },
    {
        "occurrence_id": "5",
        "occurred_from": "2025-07-06",
        "offence_code": "34B",
        "easting": "400500",
        "northing": "93000",
    },
    # no location at all
    {"occurrence_id": "6", "occurred_from": "2025-07-06", "offence_code": "34B"},
    # a bad date: rejected by the reader
    {
        "occurrence_id": "7",
        "occurred_from": "yesterday",
        "offence_code": "34B",
        "postcode": "SO14 7DU",
    },
]


def test_ingest_accounts_for_every_row(tmp_path: Path) -> None:
    result = ingest([_template(tmp_path / "t.csv", ROWS)])
    rows = result.summary["rows"]
    assert rows == {"read": 7, "accepted": 3, "rejected": 4}
    occ = result.occurrences.set_index("occurrence_id")
    assert occ.crs.to_epsg() == 27700
    assert occ.loc["1", "csp_name"] == "Southampton"
    assert occ.loc["1", "geocode_method"] == "postcode_unit"
    assert occ.loc["1", "geometry"].distance(Point(441976, 112213)) < 1
    assert occ.loc["2", "csp_name"] == "Portsmouth"
    assert occ.loc["2", "sv_category"] == "most_serious_violence"
    assert bool(occ.loc["2", "domestic"])
    assert occ.loc["3", "csp_name"] == "Basingstoke and Deane"
    assert not bool(occ.loc["3", "is_serious_violence"])
    assert occ["lsoa21_code"].str.match(r"^E0\d{7}$").all()
    reasons = result.rejects.set_index("occurrence_id")[["stage", "reason"]]
    assert reasons.loc["7", "stage"] == "read"
    assert reasons.loc["4"].tolist() == ["geocode", "Null Island (0, 0)"]
    assert reasons.loc["6"].tolist() == ["geocode", "no location given"]
    assert reasons.loc["5", "stage"] == "locate"
    assert "outside HIPS" in reasons.loc["5", "reason"]
    assert result.summary["per_csp"] == {
        "Southampton": 1,
        "Portsmouth": 1,
        "Basingstoke and Deane": 1,
    }


def test_flagged_rows_are_left_out_by_default() -> None:
    frame = pd.DataFrame(
        {"quality_flags": pd.array([pd.NA, "duplicate_id"], dtype="string")}
    )
    assert len(analysis_rows(frame)) == 1
    assert len(analysis_rows(frame, include_flagged=True)) == 2


def test_cli_ingest_writes_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _template(tmp_path / "t.csv", ROWS)
    store = tmp_path / "store"
    assert main(["-q", "ingest", str(source), "--out", str(store)]) == 0
    out = capsys.readouterr().out
    assert "read 7 rows = accepted 3 + rejected 4" in out
    assert len(load_occurrences(store)) == 3
    rejects = load_rejects(store)
    assert {"source_file", "row_number", "field", "reason"} <= set(rejects.columns)
    assert load_summary(store)["rows"]["read"] == 7
    assert main(["-q", "summary", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]["accepted"] == 3


def test_cli_unreadable_source_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    store = tmp_path / "store"
    assert main(["-q", "ingest", str(bad), "--out", str(store)]) == 2
    err = capsys.readouterr().err
    assert "empty.csv" in err and "empty" in err
    assert not (store / "occurrences.parquet").exists()


def test_cli_records_need_a_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "x.csv"
    source.write_text("Ref,When\n1,2025-01-01\n")
    assert main(["-q", "ingest", str(source), "--out", str(tmp_path / "s")]) == 2
    assert "--mapping" in capsys.readouterr().err


def test_cli_template_command(tmp_path: Path) -> None:
    out = tmp_path / "template.csv"
    assert main(["-q", "template", "--out", str(out)]) == 0
    assert out.read_text().strip().split(",") == list(INPUT_COLUMNS)
    assert main(["-q", "template", "--out", str(out)]) == 2  # never overwrites


def test_the_harm_table_can_be_chosen_and_is_recorded(tmp_path: Path) -> None:
    """CSS by default; the third-party CCHI table when asked, labelled as such."""
    from hotspot.cli.ingest import add_ingest_parser
    from hotspot.definitions import HARM_TABLES, load_harm_table

    source = _template(tmp_path / "t.csv", ROWS)
    css = ingest([source])
    cchi = ingest([source], harm_table="cchi")
    assert css.summary["harm_weights"]["table"] == "css"
    assert "THIRD-PARTY" in cchi.summary["harm_weights"]["label"]
    a = css.occurrences.set_index("occurrence_id")["harm_weight"]
    b = cchi.occurrences.set_index("occurrence_id")["harm_weight"]
    # the same rows, weighted by another table: not the same weights
    assert list(a.index) == list(b.index) and not np.allclose(a, b)
    # each weight is its table's weight for the row's offence or category
    assert load_harm_table("cchi").weights != load_harm_table("css").weights
    with pytest.raises(ValueError, match="harm table must be one of"):
        load_harm_table("made-up")
    # the command line offers exactly the tables there are
    import argparse

    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    add_ingest_parser(subparsers)
    sub = subparsers.choices["ingest"]
    action = next(a for a in sub._actions if a.dest == "harm_weights")  # noqa: SLF001
    assert tuple(action.choices) == tuple(HARM_TABLES)

"""The A&E (ISTV, Cardiff Model) reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hotspot.errors import InputFileError
from hotspot.ingest.istv import read_istv
from hotspot.ingest.sources import detect_format
from tests.helpers import assert_reconciles, write_lines

HEADER = (
    "Attendance ID,Assault Date,Assault Time,Assault Method,Location Type,"
    "Location Description"
)


def test_good_extract_is_classified_approximately(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "istv.csv",
        [
            HEADER,
            "A1,05/07/2025,23:40,Stabbed with knife,Street,Above Bar St Southampton",
            "A2,06/07/2025,,Punched,Pub/Bar,The Anchor pub Fareham",
            "A3,07/07/2025,02:10,Kicked,Home,flat in Portsmouth",
        ],
    )
    assert detect_format(path) == "istv"
    result = read_istv(path)
    assert_reconciles(result)
    knife, punch, home = (result.accepted.iloc[i] for i in range(3))
    assert knife["occurred_from"] == pd.Timestamp("2025-07-05 23:40")
    assert knife["date_precision"] == "minute"
    assert bool(knife["bladed_implement"]) and bool(knife["public_place"])
    assert knife["sv_category"] == "bladed_violence_with_injury"
    assert knife["sv_match"] == "approximate"
    assert punch["date_precision"] == "day" and pd.isna(punch["sv_category"])
    assert bool(punch["licensed_premises"]) and bool(punch["public_place"])
    assert not bool(home["public_place"])
    assert result.accepted["occurrence_id"].tolist() == [
        "ISTV-A1",
        "ISTV-A2",
        "ISTV-A3",
    ]


def test_bad_dates_rejected_and_missing_columns_error(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "istv.csv",
        [HEADER, "A1,yesterday,,Knife,Street,x", "A2,05/07/2025,25:99,Knife,Street,x"],
    )
    result = read_istv(path)
    assert_reconciles(result)
    assert result.accepted.empty
    assert set(result.rejected["field"]) == {"Assault Date"}
    broken = write_lines(
        tmp_path / "b.csv", ["Attendance ID,Assault Date", "A,05/07/2025"]
    )
    with pytest.raises(InputFileError, match="Assault Method"):
        read_istv(broken)

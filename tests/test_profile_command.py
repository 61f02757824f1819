"""Tests of hotspot.cli.profile: the overlay and profile commands and their API."""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from hotspot.cli.profile import add_overlay_parser, add_profile_parser
from hotspot.context.profile import build_profile
from hotspot.crs import BNG
from hotspot.errors import ParameterError
from hotspot.ingest.schema import conform, empty_rejects
from hotspot.ingest.store import write_store
from hotspot.selection import Selection, select

# Portsmouth 012A (IMD 2025 decile 4, 1,795 residents) and Southampton points.
PORTSMOUTH = ("E06000044", "Portsmouth", "E01017013", 464300.0, 100300.0)
SOUTHAMPTON = ("E06000045", "Southampton", "E01032747", 442000.0, 112000.0)


def _occurrences() -> gpd.GeoDataFrame:
    rows = [
        # Friday 6 June 2025 21:10 and 21:50, Saturday 00:05: minute precision
        (PORTSMOUTH, "2025-06-06 21:10", "minute", True, False, "records"),
        (PORTSMOUTH, "2025-06-06 21:50", "minute", True, True, "records"),
        (PORTSMOUTH, "2025-06-07 00:05", "minute", True, False, "records"),
        # a day-only and a month-only row: never given an hour
        (PORTSMOUTH, "2025-06-08 00:00", "day", True, False, "records"),
        (PORTSMOUTH, "2025-07-01 00:00", "month", True, pd.NA, "police_uk"),
        # not serious violence, and another CSP
        (PORTSMOUTH, "2025-06-06 12:00", "minute", False, False, "records"),
        (SOUTHAMPTON, "2025-06-06 22:00", "minute", True, False, "records"),
    ]
    frame = pd.DataFrame(
        {
            "occurrence_id": [f"T{i}" for i in range(len(rows))],
            "source": [r[5] for r in rows],
            "occurred_from": pd.to_datetime([r[1] for r in rows]),
            "occurred_to": pd.to_datetime([r[1] for r in rows]),
            "date_precision": [r[2] for r in rows],
            "is_serious_violence": [r[3] for r in rows],
            "domestic": pd.array([r[4] for r in rows], dtype="boolean"),
            "csp_code": [r[0][0] for r in rows],
            "csp_name": [r[0][1] for r in rows],
            "lsoa21_code": [r[0][2] for r in rows],
            "crime_type": ["Criminal damage and arson"] + [pd.NA] * (len(rows) - 1),
        }
    )
    geometry = [Point(r[0][3], r[0][4]) for r in rows]
    return gpd.GeoDataFrame(conform(frame), geometry=geometry, crs=BNG)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    occ = _occurrences()
    return write_store(
        tmp_path / "store",
        occurrences=occ,
        rejects=empty_rejects(),
        summary={"rows": {"read": len(occ)}},
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotspot")
    sub = parser.add_subparsers(dest="command", required=True)
    add_overlay_parser(sub)
    add_profile_parser(sub)
    return parser


def serious_violence(occ: gpd.GeoDataFrame, **kw: object) -> gpd.GeoDataFrame:
    return select(occ, Selection(**kw)).rows  # type: ignore[arg-type]


def test_serious_violence_filters() -> None:
    occ = _occurrences()
    assert len(serious_violence(occ)) == 6
    dropped = select(occ, Selection(flags=("non_domestic",)))
    assert "T1" not in set(dropped.rows["occurrence_id"])
    assert "T4" not in set(dropped.rows["occurrence_id"])  # not recorded: left out
    assert dropped.notes and "left out" in dropped.notes[0]
    kept = serious_violence(occ, flags=("nondomestic",), unknown_flags="keep")
    assert "T1" not in set(kept["occurrence_id"])
    assert "T4" in set(kept["occurrence_id"])  # not recorded: kept on request
    with pytest.raises(ParameterError, match="flags"):
        serious_violence(occ, flags=("knives",))


def test_build_profile_for_a_csp() -> None:
    tables = build_profile(serious_violence(_occurrences()), csp="portsmouth")
    table = tables["weekday_hour"]
    assert table.loc["Fri", 21] == 2
    assert table.loc["Sat", 0] == 1
    assert table.loc["Total", "Total"] == 3
    notes = dict(zip(tables["notes"]["key"], tables["notes"]["value"], strict=True))
    assert notes["occurrences"] == "5"
    assert notes["weekday_hour_excluded_day"] == "1"
    assert notes["weekday_hour_excluded_month"] == "1"
    assert tables["weekday"].loc["Sun", "occurrences"] == 1  # the day-only row
    assert tables["monthly"]["occurrences"].tolist() == [4, 1]
    # the Portsmouth LSOA has 5 of the 6 serious-violence occurrences
    rates = tables["rates_lsoa"].set_index("lsoa_code")
    assert rates.loc["E01017013", "occurrences"] == 5
    assert rates.loc["E01017013", "rate_per_1000"] == pytest.approx(5 / 1795 * 1000)
    assert set(tables["imd_deciles"]["csp_code"]) == {"E06000044"}


def test_profile_command_writes_tables_and_charts(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "profile"
    args = _parser().parse_args(
        ["profile", str(store), "--csp", "Portsmouth", "--out", str(out)]
    )
    assert args.func(args) == 0
    for name in (
        "weekday_hour.csv",
        "monthly.csv",
        "year_on_year.csv",
        "imd_deciles.csv",
        "rates_lsoa.csv",
        "notes.csv",
        "weekday_hour.png",
        "monthly.png",
        "imd_deciles.png",
    ):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "weekday_hour.csv", index_col=0)
    assert table.loc["Fri", "21"] == 2
    assert (out / "monthly.png").read_bytes()[:4] == b"\x89PNG"


def test_profile_month_only_data_gives_monthly_views_only(tmp_path: Path) -> None:
    occ = _occurrences()
    occ = occ[occ["date_precision"] == "month"]
    store = write_store(
        tmp_path / "m", occurrences=occ, rejects=empty_rejects(), summary={}
    )
    out = tmp_path / "out"
    args = _parser().parse_args(["profile", str(store), "--out", str(out)])
    assert args.func(args) == 0
    assert not (out / "weekday_hour.csv").exists()
    assert not (out / "weekday_hour.png").exists()
    assert (out / "monthly.csv").exists()
    notes = pd.read_csv(out / "notes.csv").set_index("key")["value"]
    assert "monthly views only" in notes["weekday_hour"]


def test_overlay_command_writes_geopackage(store: Path, tmp_path: Path) -> None:
    fires = tmp_path / "SYNTHETIC_fires.csv"
    fires.write_text(
        "INCIDENT_ID,INCIDENT_DATE_TIME,INCIDENT_TYPE,ACCIDENTAL_OR_DELIBERATE,"
        "LSOA_CODE,EASTING,NORTHING\n"
        "F1,06/06/2025 21:00,Secondary Fire,Deliberate,,464300,100300\n"
        "F2,06/06/2025 22:00,Primary Fire,Accidental,,464300,100300\n"
        "F3,07/06/2025 22:00,Primary Fire,Deliberate,E01017013,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "overlay.gpkg"
    args = _parser().parse_args(
        [
            "overlay",
            str(store),
            "--imd",
            "2025",
            "--fire",
            str(fires),
            "--out",
            str(out),
            "--resolution",
            "7",
        ]
    )
    assert args.func(args) == 0
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert layers == {"cells", "lsoas", "csps", "imd_deciles", "about", "colocation"}
    cells = gpd.read_file(out, layer="cells")
    assert cells.crs.to_epsg() == 27700
    assert cells["violence_count"].sum() == 6
    assert cells["fire_count"].sum() == 1  # F2 accidental; F3 LSOA-only
    assert cells["police_arson_count"].sum() == 1
    csps = pyogrio.read_dataframe(out, layer="csps", read_geometry=False)
    portsmouth = csps.set_index("csp_code").loc["E06000044"]
    assert portsmouth["occurrences"] == 5
    assert portsmouth["fires"] == 2  # both deliberate fires, F3 by its LSOA
    about = pyogrio.read_dataframe(out, layer="about").set_index("key")["value"]
    assert "SYNTHETIC" in about["fires"]
    assert about["imd"] == "IMD 2025 (LSOA 2021)"

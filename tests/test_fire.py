"""Tests of fires: reader (good and broken files), filters, co-location."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest

from hotspot.context.fires import (
    arson_per_cell,
    colocation_cells,
    colocation_summary,
    deliberate_fires,
    police_arson,
)
from hotspot.crs import BNG
from hotspot.errors import InputFileError, ParameterError
from hotspot.grid import cell_centres_bng, cell_polygons
from hotspot.ingest.fire import read_fire_incidents
from hotspot.settings import DATA_DIR

HEADER = (
    "INCIDENT_ID,INCIDENT_DATE_TIME,INCIDENT_TYPE,ACCIDENTAL_OR_DELIBERATE,"
    "PROPERTY_TYPE,FRS_NAME,LSOA_CODE,EASTING,NORTHING"
)
GOOD_ROWS = [
    "F1,01/07/2025 21:15,Primary Fire,Deliberate,Dwelling,HIWFRS,E01017013,"
    "464100,99850",
    "F2,02/07/2025 22:40,Secondary Fire,Deliberate,Refuse,HIWFRS,E01017014,,",
    "F3,03/07/2025,secondary fire,Accidental,Grassland,HIWFRS,,430000,105000",
    "F4,2025-07-04 10:00,Chimney Fire,Deliberate,Dwelling,HIWFRS,E01017013,,",
    "F5,05/07/2025 11:00,False Alarm,,Dwelling,HIWFRS,E01017013,,",
    "F6,06/07/2025 12:00,Special Service,Not applicable,RTC,HIWFRS,E01017013,,",
    "F7,07/07/2025 13:00,Primary Fire,Not known,Road vehicle,HIWFRS,E01017013,,",
]
SYNTHETIC_CSV = DATA_DIR / "synthetic" / "SYNTHETIC_fire_incidents_2024-10_2025-09.csv"


def _write(
    tmp_path: Path, rows: list[str], *, header: str = HEADER, name: str = "fires.csv"
) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_reader_accepts_good_file(tmp_path: Path) -> None:
    result = read_fire_incidents(_write(tmp_path, GOOD_ROWS))
    fires = result.accepted
    assert result.n_read == 7
    assert len(fires) == 7
    assert result.n_rejected() == 0
    assert fires["incident_type"].tolist() == [
        "primary_fire",
        "secondary_fire",
        "secondary_fire",
        "chimney_fire",
        "false_alarm",
        "special_service",
        "primary_fire",
    ]
    assert fires["accidental_or_deliberate"].tolist()[:4] == [
        "deliberate",
        "deliberate",
        "accidental",
        "deliberate",
    ]
    assert fires["accidental_or_deliberate"].isna().tolist()[4:6] == [True, True]
    assert fires["accidental_or_deliberate"].iloc[6] == "not_known"
    assert fires["date_precision"].tolist()[:3] == ["minute", "minute", "day"]
    assert fires["occurred_at"].iloc[0] == pd.Timestamp("2025-07-01 21:15")
    assert fires.crs.to_epsg() == 27700
    assert fires.geometry.iloc[0].x == 464100
    assert fires.geometry.iloc[1] is None  # LSOA only: located later
    assert fires["source_row"].tolist() == list(range(1, 8))
    assert not fires["is_synthetic"].any()


def test_deliberate_filter_keeps_primary_and_secondary_deliberate(
    tmp_path: Path,
) -> None:
    fires = read_fire_incidents(_write(tmp_path, GOOD_ROWS)).accepted
    kept = deliberate_fires(fires)
    # F4 is a deliberate chimney fire: not in the definition
    assert kept["incident_id"].tolist() == ["F1", "F2"]
    assert kept.index.tolist() == [0, 1]


BROKEN_ROWS = [
    ",01/07/2025 21:15,Primary Fire,Deliberate,Dwelling,HIWFRS,E01017013,,",
    "B2,31/02/2025 21:15,Primary Fire,Deliberate,Dwelling,HIWFRS,E01017013,,",
    "B3,01/07/2025 21:15,Explosion,Deliberate,Dwelling,HIWFRS,E01017013,,",
    "B4,01/07/2025 21:15,Primary Fire,Maybe,Dwelling,HIWFRS,E01017013,,",
    "B5,01/07/2025 21:15,Primary Fire,Deliberate,Dwelling,HIWFRS,X123,,",
    "B6,01/07/2025 21:15,Primary Fire,Deliberate,Dwelling,HIWFRS,,464100,",
    "B7,01/07/2025 21:15,Primary Fire,Deliberate,Dwelling,HIWFRS,,0,0",
    "B8,01/07/2025 21:15,Primary Fire,Deliberate,Dwelling,HIWFRS,,-1.40,50.90",
    "B9,01/07/2025 21:15,Primary Fire,Deliberate,Dwelling,HIWFRS,,,",
    "OK1,01/07/2025 21:15,Primary Fire,Deliberate,Dwelling,HIWFRS,E01017013,,",
    "OK1,01/07/2025 21:16,Primary Fire,Deliberate,Dwelling,HIWFRS,E01017013,,",
    "B12,01/07/2025 21:15,Primary Fire",
    "B13,,Primary Fire,Deliberate,Dwelling,HIWFRS,E01017013,,",
]


def test_reader_rejects_broken_rows_with_reasons(tmp_path: Path) -> None:
    result = read_fire_incidents(_write(tmp_path, BROKEN_ROWS))
    rejected = result.rejected
    assert result.n_read == 13
    assert result.accepted["incident_id"].tolist() == ["OK1"]
    assert result.n_read == len(result.accepted) + result.n_rejected()
    reasons = rejected.groupby("row_number")["reason"].apply(" | ".join)
    expected = {
        1: "incident id is empty",
        2: "not a date",
        3: "expected one of",
        4: "expected Accidental",
        5: "expected an LSOA code",
        6: "easting and northing must be given together",
        7: "0,0",
        8: "outside British National Grid",
        9: "no location",
        11: "repeats an earlier row",
        12: "wrong number of fields",
        13: "date is empty",
    }
    for row, text in expected.items():
        assert text in reasons.loc[row], (row, reasons.loc[row])
    assert set(rejected["source_file"]) == {"fires.csv"}
    assert rejected.loc[rejected["row_number"] == 3, "field"].iloc[0] == "INCIDENT_TYPE"


def test_reader_missing_location_columns_raises(tmp_path: Path) -> None:
    header = "INCIDENT_ID,INCIDENT_DATE_TIME,INCIDENT_TYPE,ACCIDENTAL_OR_DELIBERATE"
    path = _write(
        tmp_path, ["F1,01/07/2025 21:15,Primary Fire,Deliberate"], header=header
    )
    with pytest.raises(InputFileError, match="LSOA_CODE or EASTING and NORTHING"):
        read_fire_incidents(path)


def test_reader_header_aliases_and_separate_date_time(tmp_path: Path) -> None:
    header = "Incident Number,Incident Date,Incident Time,Incident Type,Motive,LSOA21CD"
    path = _write(
        tmp_path,
        ["A1,01/07/2025,21:15,Secondary Fire,Deliberate,E01017013"],
        header=header,
        name="SYNTHETIC_small.csv",
    )
    result = read_fire_incidents(path)
    assert len(result.accepted) == 1
    row = result.accepted.iloc[0]
    assert row["occurred_at"] == pd.Timestamp("2025-07-01 21:15")
    assert row["date_precision"] == "minute"
    assert bool(row["is_deliberate_fire"])
    assert bool(row["is_synthetic"])  # SYNTHETIC in the file name


def test_police_arson_filter() -> None:
    occ = pd.DataFrame(
        {
            "crime_type": pd.Series(
                ["Criminal damage and arson", "Robbery", None], dtype="string"
            )
        }
    )
    assert police_arson(occ).index.tolist() == [0]
    with pytest.raises(ParameterError, match="crime_type"):
        police_arson(pd.DataFrame({"x": [1]}))


def test_arson_per_cell_counts_each_cell_once() -> None:
    # three crimes in one resolution-8 cell, one in another, one without a place
    a, b = "88195da49bfffff", "8819580001fffff"
    xs, ys = cell_centres_bng([a, a, a, b])
    points = list(gpd.points_from_xy(xs + [0, 20, -20, 0], ys + [0, 10, 5, 0]))
    arson = gpd.GeoDataFrame({"crime_type": ["Criminal damage and arson"] * 5},
                             geometry=[*points, None], crs=BNG)
    cells = arson_per_cell(arson, resolution=8)
    assert cells["h3"].tolist() == [a, b]
    assert cells["count"].tolist() == [3, 1]
    assert cells["count"].sum() == 4  # the row without a location is not counted
    hexes = cell_polygons(cells["h3"].tolist())
    assert all(h.contains(c) for h, c in zip(hexes, cells.geometry, strict=True))
    assert cells.crs.to_epsg() == 27700


def test_arson_per_cell_of_nothing_is_empty() -> None:
    empty = gpd.GeoDataFrame({"crime_type": []}, geometry=gpd.GeoSeries([], crs=BNG),
                             crs=BNG)
    assert len(arson_per_cell(empty)) == 0


def test_synthetic_sample_is_labelled_and_reads_cleanly() -> None:
    result = read_fire_incidents(SYNTHETIC_CSV)
    assert result.n_rejected() == 0
    assert result.accepted["is_synthetic"].all()
    meta = json.loads(SYNTHETIC_CSV.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["SYNTHETIC"] is True
    assert meta["rows"] == len(result.accepted)
    kept = deliberate_fires(result.accepted)
    assert len(kept) == meta["deliberate_primary_and_secondary"]
    # summer heath fires in the New Forest: June-August well above December-February
    lads = pd.read_csv(
        DATA_DIR / "deprivation" / "imd2025_lsoa21.csv",
        usecols=["lsoa_code", "lad_code"],
    ).set_index("lsoa_code")["lad_code"]
    new_forest = kept[kept["lsoa_code"].map(lads) == "E07000091"]
    month = new_forest["occurred_at"].dt.month
    assert month.isin([6, 7, 8]).sum() > 3 * month.isin([12, 1, 2]).sum()
    # more deliberate fires in the most deprived decile than in the least, per LSOA
    deciles = pd.read_csv(
        DATA_DIR / "deprivation" / "imd2025_lsoa21.csv",
        usecols=["lsoa_code", "imd_decile"],
    ).set_index("lsoa_code")
    per_lsoa = kept["lsoa_code"].map(deciles["imd_decile"]).value_counts()
    n_lsoas = deciles["imd_decile"].value_counts()
    assert per_lsoa[1] / n_lsoas[1] > 3 * per_lsoa[10] / n_lsoas[10]


# ------------------------------------------------------------------ co-location
def test_colocation_summary_on_crafted_cells() -> None:
    cells = pd.DataFrame(
        {
            "csp_code": ["X", "X", "Y", "Y"],
            "csp_name": ["Csp X", "Csp X", "Csp Y", "Csp Y"],
            "violence_count": [6, 0, 2, 0],
            "fire_count": [4, 0, 0, 4],
            "hot_violence": [True, False, False, False],
            "hot_fire": [True, False, False, True],
            "hot_both": [True, False, False, False],
        }
    )
    residents = pd.Series({"X": 1000, "Y": 3000})
    out = colocation_summary(cells, residents=residents).set_index("csp_code")
    # HIPS: 8 violence, 8 fires, 4,000 residents: 2 per 1,000 each
    assert out.loc["X", "violence_rate"] == pytest.approx(6.0)
    assert out.loc["X", "violence_ratio"] == pytest.approx(3.0)
    assert out.loc["X", "fire_ratio"] == pytest.approx(2.0)
    assert out.loc["X", "both_index"] == pytest.approx(np.sqrt(6.0))
    assert out.loc["Y", "both_index"] == pytest.approx(np.sqrt(2 / 9))
    assert out.loc["X", "rank"] == 1
    assert out.loc["Y", "rank"] == 2
    assert out.loc["X", "hot_both_cells"] == 1
    assert out.loc["X", "violence_in_hot_both"] == pytest.approx(1.0)
    assert out.loc["Y", "violence_in_hot_both"] == pytest.approx(0.0)
    assert out.loc["HIPS", "violence_in_hot_both"] == pytest.approx(0.75)
    assert out.loc["HIPS", "fires_in_hot_both"] == pytest.approx(0.5)
    assert out.attrs["rate_unit"] == "per 1,000 residents"


def _cluster(centre: str) -> list[str]:
    """40 points: 10 in ``centre``, 5 in each of its six neighbours."""
    ring = sorted(h3.grid_ring(centre, 1))
    return [centre] * 10 + [cell for cell in ring for _ in range(5)]


def _points(cell_list: list[str]) -> gpd.GeoDataFrame:
    x, y = cell_centres_bng(cell_list)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:27700")


def test_colocation_cells_marks_cells_hot_in_both() -> None:
    # two study areas, each a disk of 61 cells (radius 4); in A both layers
    # cluster on the centre; in B violence does, fires cluster 3 rings away
    centre_a = h3.latlng_to_cell(50.9097, -1.4044, 9)
    centre_b = h3.latlng_to_cell(50.80, -1.08, 9)
    rows = []
    for area, centre in (("A", centre_a), ("B", centre_b)):
        for cell in sorted(h3.grid_disk(centre, 4)):
            rows.append(
                {"h3": cell, "csp_code": area, "csp_name": area, "study_area": area}
            )
    table = pd.DataFrame(rows)
    cells = gpd.GeoDataFrame(
        table, geometry=cell_polygons(table["h3"].tolist()).values, crs="EPSG:27700"
    )
    away_b = sorted(h3.grid_ring(centre_b, 3))[0]
    violence = _points(_cluster(centre_a) + _cluster(centre_b))
    fires = _points(_cluster(centre_a) + _cluster(away_b))
    out = colocation_cells(violence, fires, cells)
    by_cell = out.set_index("h3")
    assert by_cell.loc[centre_a, "violence_count"] == 10
    assert by_cell.loc[away_b, "fire_count"] == 10
    assert out["violence_count"].sum() == 80
    assert out["fire_count"].sum() == 80
    assert bool(by_cell.loc[centre_a, "hot_both"])
    assert by_cell.loc[centre_a, "violence_bin"] == 3
    assert bool(by_cell.loc[centre_b, "hot_violence"])
    assert not bool(by_cell.loc[centre_b, "hot_fire"])
    assert bool(by_cell.loc[away_b, "hot_fire"])
    assert out["hot_both"].equals(out["hot_violence"] & out["hot_fire"])
    assert out.loc[out["csp_code"] == "B", "hot_both"].sum() == 0
    assert out.loc[out["csp_code"] == "A", "hot_both"].sum() >= 1
    assert "violence_count" not in cells.columns
    summary = colocation_summary(out).set_index("csp_code")
    assert summary.loc["A", "hot_both_cells"] >= 1
    assert summary.loc["B", "hot_both_cells"] == 0
    assert summary.attrs["rate_unit"] == "per km²"


def test_kde_ratio_on_crafted_clusters() -> None:
    """Violence clustered in the west, fires in the east, both at one shared spot.

    With a common 1,600 m bandwidth every cluster reaches the shared spot, so the
    share ratio is defined there and on both clusters: above 1 on the violence
    cluster, below 1 on the fire cluster; the joint (geometric-mean) surface peaks
    nearer the shared spot than either cluster: only there are both dense. Far
    from any fire the fire share is zero and the ratio undefined (NaN), never
    infinite.
    """
    from rasterio.transform import rowcol, xy
    from shapely.geometry import box

    from hotspot.context.fires import kde_ratio

    area = box(400_000, 100_000, 406_000, 104_000)
    rng = np.random.default_rng(5)

    def cluster(x: float, y: float, n: int) -> np.ndarray:
        return np.column_stack([rng.normal(x, 60, n), rng.normal(y, 60, n)])

    shared = cluster(403_000, 102_000, 20)
    v_xy = np.vstack([cluster(401_500, 102_000, 40), shared])
    f_xy = np.vstack([cluster(404_500, 102_000, 40), cluster(403_000, 102_000, 20)])
    violence = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*v_xy.T), crs=BNG)
    fires = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*f_xy.T), crs=BNG)
    result = kde_ratio(violence, fires, area=area, cell_size_m=100, bandwidth_m=1600)

    def at(grid: np.ndarray, x: float, y: float) -> float:
        row, col = rowcol(result.transform, x, y)
        return float(grid[row, col])

    assert result.bandwidth_m == 1600
    assert at(result.ratio, 401_500, 102_000) > 3
    assert at(result.ratio, 404_500, 102_000) < 1 / 3
    assert 0.5 < at(result.ratio, 403_000, 102_000) < 2
    assert np.isnan(at(result.ratio, 400_100, 102_000))  # no fire within reach
    joint = result.joint
    peak_row, peak_col = np.unravel_index(np.nanargmax(joint), joint.shape)
    peak_x, peak_y = xy(result.transform, peak_row, peak_col)
    # nearer the shared spot than either one-layer cluster (each 1,500 m away)
    assert abs(peak_x - 403_000) < 750 and abs(peak_y - 102_000) < 300
    assert np.nanmax(result.joint) == pytest.approx(1.0)

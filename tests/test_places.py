"""Tests of hotspot.context.places: a name for every cell."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspot.context.places import (
    PLACE_COLUMNS,
    SHORT_LANDMARKS,
    PlaceIndex,
    compose_place,
    load_place_index,
    name_cells,
)
from hotspot.errors import ParameterError
from hotspot.grid import cell_centres_bng

# Three neighbouring resolution-9 cells in Southampton; the tables below are
# crafted around them, so every expected name is worked out by hand.
HOME = h3.latlng_to_cell(50.9077, -1.4046, 9)
NEXT = sorted(c for c in h3.grid_ring(HOME, 1))[0]
FAR = sorted(c for c in h3.grid_ring(HOME, 3))[0]


def _centre(cell: str) -> tuple[float, float]:
    x, y = cell_centres_bng([cell])
    return float(x[0]), float(y[0])


def _index() -> PlaceIndex:
    hx, hy = _centre(HOME)
    nx, ny = _centre(NEXT)
    fx, fy = _centre(FAR)
    snap = pd.DataFrame({
        "x": [hx + 10, hx - 20, hx + 5, hx, nx, fx + 260],
        "y": [hy + 10, hy + 15, hy - 25, hy + 30, ny, fy],
        "street": ["Alpha Street", "Beta Road", "Nightclub", "Gamma Lane",
                   "Next Street", "Far Road"],
        "n_records": [7, 3, 5, 1, 500, 2],
        "facility": [False, False, True, False, False, False],
        "ward": "Testward", "lad_code": "E06000045",
    })
    wards = gpd.GeoDataFrame(
        {"ward22_name": ["Testward"], "lad_name": ["Testdistrict"]},
        geometry=[shapely.box(hx - 5000, hy - 5000, hx + 5000, hy + 5000)],
        crs="EPSG:27700")
    places = pd.DataFrame({"name": ["Neartown", "Fartown"],
                           "x": [hx + 300, hx + 9000], "y": [hy, hy]})
    postcodes = pd.DataFrame({"sector": ["ZZ1 2", "ZZ9 9"],
                              "easting": [hx + 40, hx + 4000],
                              "northing": [hy, hy]})
    return PlaceIndex(snap=snap, wards=wards, places=places, postcodes=postcodes)


def _occurrences(rows: list[tuple[str, str, bool, str, int]]) -> gpd.GeoDataFrame:
    """Rows of (cell, source, synthetic, location_text, how many)."""
    records = []
    for cell, source, synthetic, text, n in rows:
        x, y = _centre(cell)
        records += [{"source": source, "is_synthetic": synthetic,
                     "location_text": text, "x": x + 3 * i, "y": y} for i in range(n)]
    frame = pd.DataFrame(records)
    return gpd.GeoDataFrame(
        frame.drop(columns=["x", "y"]).astype({"source": "string",
                                              "is_synthetic": "boolean",
                                              "location_text": "string"}),
        geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs="EPSG:27700")


def test_name_from_police_uk_occurrences_inside_the_cell() -> None:
    occ = _occurrences([
        (HOME, "police_uk", False, "On or near Beta Road", 9),
        (HOME, "police_uk", False, "On or near Nightclub", 6),
        (HOME, "police_uk", False, "On or near Alpha Street", 2),
        # record details must never reach a name, however many there are
        (HOME, "records", True, "12 Secret Close, outside the shop", 50),
        (NEXT, "police_uk", False, "On or near Next Street", 40),
    ])
    row = name_cells([HOME], occurrences=occ, index=_index()).iloc[0]
    assert list(row.index) == list(PLACE_COLUMNS)
    # the view's police.uk rows rank the labels: Beta 9, Nightclub 6, Alpha 2
    assert row["streets"] == "Beta Road / Nightclub"
    assert row["landmarks"] == "Nightclub"
    assert row["street_source"] == "occurrences"
    assert (row["ward"], row["district"], row["town"], row["postcode_sector"]) == (
        "Testward", "Testdistrict", "Neartown", "ZZ1 2")
    assert row["place"] == "Beta Road / Nightclub, Testward ward, Neartown (ZZ1 2)"
    text = " ".join(str(v) for v in row.to_numpy())
    assert "Secret" not in text and "Next Street" not in text
    assert not any(ch.isdigit() for ch in row["streets"])  # never a count


def test_name_from_snap_points_when_the_view_has_no_police_uk_row() -> None:
    occ = _occurrences([(HOME, "records", True, "12 Secret Close", 30)])
    idx = _index()
    table = name_cells([HOME, NEXT], occurrences=occ, index=idx)
    home, nxt = table.iloc[0], table.iloc[1]
    # gazetteer counts: Alpha 7, Nightclub 5, Beta 3, Gamma 1; Next Street's
    # 500 records lie in the neighbouring cell and do not count here
    assert home["streets"] == "Alpha Street / Nightclub"
    assert home["street_source"] == "snap points"
    assert nxt["streets"] == "Next Street"
    assert "Secret" not in " ".join(table.astype(str).to_numpy().ravel())
    # one street only
    assert name_cells([HOME], index=idx, max_streets=1).iloc[0]["streets"] == \
        "Alpha Street"


def test_cells_without_snap_points_use_the_nearest_street_or_nothing() -> None:
    idx = _index()
    far = name_cells([FAR], index=idx).iloc[0]
    # Far Road's snap point is 260 m from the centre, outside the cell
    assert h3.latlng_to_cell(*_latlng(idx.snap.iloc[5]), 9) != FAR
    assert far["streets"] == "near Far Road"
    assert far["street_source"] == "nearest snap point"
    lonely = h3.latlng_to_cell(50.9077, -1.3500, 9)  # about 3.8 km east
    row = name_cells([lonely], index=idx).iloc[0]
    assert row["streets"] == "" and row["street_source"] == "none"
    # the nearest postcode unit there is the one 4 km east of HOME
    assert row["place"] == "Testward ward, Neartown (ZZ9 9)"


def _latlng(point: pd.Series) -> tuple[float, float]:
    from hotspot.crs import bng_to_lonlat

    lon, lat = bng_to_lonlat(np.array([point["x"]]), np.array([point["y"]]))
    return float(lat[0]), float(lon[0])


def test_a_facility_only_cell_names_the_nearest_street_too() -> None:
    hx, hy = _centre(HOME)
    idx = _index()
    snap = idx.snap.iloc[[2, 3]].copy()  # Nightclub (5) and Gamma Lane (1)
    snap.loc[snap.index[1], ["x", "y"]] = [hx, hy + 250]  # out of the cell
    small = PlaceIndex(snap=snap.reset_index(drop=True), wards=idx.wards,
                       places=idx.places, postcodes=idx.postcodes)
    row = name_cells([HOME], index=small).iloc[0]
    assert row["streets"] == "Nightclub / near Gamma Lane"


def test_order_duplicates_and_validation() -> None:
    idx = _index()
    table = name_cells([NEXT, HOME, NEXT], index=idx)
    assert table["h3"].tolist() == [NEXT, HOME, NEXT]
    assert table.iloc[0]["place"] == table.iloc[2]["place"]
    assert name_cells([], index=idx).columns.tolist() == list(PLACE_COLUMNS)
    with pytest.raises(ParameterError, match="valid H3"):
        name_cells(["not-a-cell"], index=idx)
    with pytest.raises(ParameterError, match="one resolution"):
        name_cells([HOME, h3.cell_to_parent(HOME, 8)], index=idx)
    with pytest.raises(ParameterError, match="does not match"):
        name_cells([HOME], resolution=10, index=idx)
    with pytest.raises(ParameterError, match="max_streets"):
        name_cells([HOME], max_streets=0, index=idx)
    with pytest.raises(ParameterError, match="sequence"):
        name_cells(HOME, index=idx)  # a bare string is not a list of cells
    with pytest.raises(ParameterError, match="occurrences"):
        name_cells([HOME], occurrences=pd.DataFrame({"x": [1]}), index=idx)


def test_compose_place() -> None:
    assert compose_place("A / B", ward="Bargate", town="Southampton",
                         sector="SO14 7") == "A / B, Bargate ward, Southampton (SO14 7)"
    assert compose_place("", ward="", town="Ryde", sector="") == "Ryde"
    assert compose_place("A", ward="Mile End Ward", town="", sector="PO1 1") == \
        "A, Mile End Ward, (PO1 1)"


@pytest.fixture(scope="module")
def store() -> gpd.GeoDataFrame:
    from hotspot.settings import DATA_DIR

    path = DATA_DIR / "default_store" / "occurrences.parquet"
    if not path.exists():
        pytest.skip(f"{path} not built")
    return gpd.read_parquet(path, columns=["source", "is_synthetic", "location_text",
                                           "latitude", "longitude", "geometry"])


def test_real_southampton_cell_is_named_from_its_own_occurrences(
        store: gpd.GeoDataFrame) -> None:
    # the cell holding police.uk's "Above Bar Street" snap point (-1.404647, 50.907689)
    cell = h3.latlng_to_cell(50.907689, -1.404647, 9)
    row = name_cells([cell], occurrences=store).iloc[0]
    # the reference: police.uk rows whose own lat/lon falls in the cell,
    # counted by their location text, independently of the module
    police = store[(store["source"] == "police_uk").fillna(False).to_numpy()]
    lat = police["latitude"].astype(float).to_numpy()
    lon = police["longitude"].astype(float).to_numpy()
    inside = np.array([h3.latlng_to_cell(a, o, 9) == cell
                       for a, o in zip(lat, lon, strict=True)])
    counts = (police.loc[inside, "location_text"].str.removeprefix("On or near ")
              .value_counts())
    facilities = set(load_place_index().snap.query("facility")["street"])
    streets = [s for s in counts.index if s not in facilities]
    assert row["street_source"] == "occurrences"
    assert row["streets"].split(" / ")[0] == streets[0]
    assert "Above Bar Street" in counts.index
    assert (row["ward"], row["town"]) == ("Bargate", "Southampton")
    assert row["postcode_sector"].startswith("SO14 ")
    sector = row["postcode_sector"]
    assert row["place"].endswith(f"Bargate ward, Southampton ({sector})")


def test_real_cells_are_named_without_counts_or_record_text(
        store: gpd.GeoDataFrame) -> None:
    from hotspot.grid import points_to_cells

    records = store[(store["source"] == "records").fillna(False).to_numpy()]
    cells = points_to_cells(records, resolution=9).value_counts().head(60).index
    table = name_cells(list(cells), occurrences=store)
    assert (table["place"] != "").all()
    record_texts = set(records["location_text"].dropna().astype(str))
    for streets in table["streets"]:
        for part in streets.split(" / "):
            assert part.removeprefix("near ") not in record_texts or \
                part.removeprefix("near ") in set(load_place_index().snap["street"])
    public = set(load_place_index().snap["street"]) | set(SHORT_LANDMARKS.values())
    named = {p.removeprefix("near ") for s in table["streets"] for p in s.split(" / ")}
    assert named <= public  # every label is a police.uk snap-point label


def test_long_facility_labels_are_shortened_in_names_only() -> None:
    base = _index()
    fx, fy = _centre(FAR)
    parking = pd.DataFrame({"x": [fx], "y": [fy], "street": ["Parking Area"],
                            "n_records": [1], "facility": [True],
                            "ward": "Testward", "lad_code": "E06000045"})
    idx = PlaceIndex(snap=pd.concat([base.snap, parking], ignore_index=True),
                     wards=base.wards, places=base.places, postcodes=base.postcodes)
    occ = _occurrences([
        (HOME, "police_uk", False, "On or near Alpha Street", 9),
        (HOME, "police_uk", False, "On or near Parking Area", 6),
    ])
    row = name_cells([HOME], occurrences=occ, index=idx).iloc[0]
    assert row["streets"] == "Alpha Street / Car park"
    # landmarks: the view's first (police.uk's own label), then the gazetteer's
    assert row["landmarks"] == "Parking Area, Nightclub"

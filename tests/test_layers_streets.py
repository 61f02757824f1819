"""Tests of hotspot.layers_streets and the data/streets tables behind them."""

from __future__ import annotations

import json
from types import ModuleType

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspot.crs import bng_to_lonlat, lonlat_to_bng
from hotspot.errors import ParameterError
from hotspot.layers import CompactDeck
from hotspot.layers.streets import (
    ROADS_LAD,
    STREETS_DIR,
    labels_in,
    load_street_tables,
    poi_layers,
    road_layers,
    roads_in,
    street_label_layer,
    streets_note,
)

HIPS_LADS = {"E06000044", "E06000045", "E06000046", "E07000084", "E07000085",
             "E07000086", "E07000087", "E07000088", "E07000089", "E07000090",
             "E07000091", "E07000092", "E07000093", "E07000094"}


def _layer_json(layers: list) -> dict:
    return json.loads(CompactDeck(layers=layers, map_provider=None).to_json())


def test_shipped_tables_cover_hips_and_stay_small() -> None:
    tables = load_street_tables()
    assert set(tables.labels["lad_code"]) == HIPS_LADS  # labels in all 14 CSPs
    assert set(tables.roads.geometry.geom_type) <= {"LineString", "MultiLineString"}
    assert tables.roads.crs.to_string() == "EPSG:27700"
    # road lines only on the Isle of Wight (its OS grid box, roughly)
    x0, y0, x1, y1 = tables.roads.total_bounds
    assert x0 > 425_000 and x1 < 466_000 and y0 > 74_000 and y1 < 97_500
    assert {"police.uk", "OpenStreetMap"} == set(tables.pois["source"])
    sizes = {p.name: p.stat().st_size for p in STREETS_DIR.glob("*.parquet")}
    assert set(sizes) == {"snap_points.parquet", "street_labels.parquet",
                          "pois.parquet", "iow_roads.parquet"}
    assert sum(sizes.values()) < 1_200_000


def test_one_label_per_street_cluster_at_a_real_snap_point() -> None:
    tables = load_street_tables()
    snap = pd.read_parquet(STREETS_DIR / "snap_points.parquet")
    # every label sits exactly on a snap point of the same name and district
    keys = set(zip(snap["x"], snap["y"], snap["street"], snap["lad_code"], strict=True))
    labels = tables.labels
    assert all(k in keys for k in zip(labels["x"], labels["y"], labels["street"],
                                      labels["lad_code"], strict=True))
    assert not labels["street"].isin(set(snap.loc[snap["facility"], "street"])).any()
    # "Above Bar Street", Southampton: one label with all its records
    above = labels[(labels["street"] == "Above Bar Street")
                   & (labels["lad_code"] == "E06000045")]
    mine = snap[(snap["street"] == "Above Bar Street")
                & (snap["lad_code"] == "E06000045")]
    assert len(above) == 1 and int(above["n_records"].iloc[0]) == int(
        mine["n_records"].sum())
    # the record counts are kept in full: labels sum to the street points' total
    assert int(labels["n_records"].sum()) == int(snap.loc[~snap["facility"],
                                                         "n_records"].sum())


def test_labels_in_filters_by_box_and_district_busiest_first() -> None:
    table = pd.DataFrame({"x": [0.0, 50.0, 500.0], "y": [0.0, 50.0, 0.0],
                          "street": ["a", "b", "c"], "n_records": [1, 9, 5],
                          "lad_code": ["L1", "L1", "L2"]})
    box = labels_in(table, bounds=(-10, -10, 100, 100))
    assert box["street"].tolist() == ["b", "a"]
    assert labels_in(table, lad_codes=["L2"])["street"].tolist() == ["c"]
    assert labels_in(table, limit=1)["street"].tolist() == ["b"]
    with pytest.raises(ParameterError, match="bounds"):
        labels_in(table, bounds=(10, 0, 0, 10))
    with pytest.raises(ParameterError, match="lad_code"):
        labels_in(table.drop(columns="lad_code"))


def test_street_label_layer_positions_and_collision_priority() -> None:
    x, y = lonlat_to_bng(np.array([-1.404647]), np.array([50.907689]))
    labels = pd.DataFrame({"x": [x[0], x[0] + 100], "y": [y[0], y[0]],
                           "street": ["Above Bar Street", "Side Lane"],
                           "n_records": [59, 0]})
    spec = _layer_json([street_label_layer(labels)])["layers"][0]
    assert spec["@@type"] == "TextLayer" and spec["sizeUnits"] == "meters"
    assert spec["extensions"] == [{"@@type": "CollisionFilterExtension"}]
    assert spec["getCollisionPriority"] == "@@=priority"
    first, second = spec["data"]
    assert first["position"] == pytest.approx([-1.404647, 50.907689], abs=2e-5)
    assert first["text"] == "Above Bar Street"
    assert first["priority"] == pytest.approx(np.log1p(59), abs=1e-3)
    assert first["priority"] > second["priority"] == 0
    with pytest.raises(ParameterError, match="n_records"):
        street_label_layer(labels.drop(columns="n_records"))


def test_road_layers_by_kind_and_cropping() -> None:
    roads = gpd.GeoDataFrame(
        {"name": ["High Street", "B3401", "Lane"], "kind": ["major", "minor", "local"]},
        geometry=[shapely.LineString([(450000, 89000), (450100, 89000)]),
                  shapely.LineString([(451000, 89000), (451000, 89300)]),
                  shapely.MultiLineString([[(460000, 80000), (460050, 80050)],
                                           [(460060, 80060), (460070, 80090)]])],
        crs="EPSG:27700")
    layers = road_layers(roads)
    spec = _layer_json(layers)["layers"]
    assert [s["id"] for s in spec] == ["roads-local", "roads-minor", "roads-major"]
    assert len(spec[0]["data"]) == 2  # the multi-line's two parts
    lon, lat = bng_to_lonlat(np.array([450000.0]), np.array([89000.0]))
    assert spec[2]["data"][0]["path"][0] == pytest.approx([lon[0], lat[0]], abs=1e-5)
    assert spec[2]["widthUnits"] == "meters"
    near = roads_in(roads, bounds=(449900, 88900, 450500, 89100))
    assert near["name"].tolist() == ["High Street"]
    assert roads_in(roads, kinds=["minor"])["name"].tolist() == ["B3401"]
    with pytest.raises(ParameterError, match="EPSG:27700"):
        road_layers(roads.to_crs("EPSG:4326"))


def test_poi_layers_tooltip_and_thinned_labels() -> None:
    pois = pd.DataFrame({"x": [450000.0, 450010.0, 450500.0],
                         "y": [89000.0, 89000.0, 89000.0],
                         "label": ["The Castle Inn", "Nightclub", "Supermarket"],
                         "category": ["pub", "nightclub", "supermarket"],
                         "source": ["OpenStreetMap", "police.uk", "police.uk"],
                         "lad_code": ROADS_LAD})
    dots, text = _layer_json(poi_layers(pois))["layers"]
    assert dots["pickable"] is True and len(dots["data"]) == 3
    assert dots["data"][1]["title"] == "Nightclub"
    assert dots["data"][1]["tooltip"] == "Nightclub (police.uk)"
    # the second point is 10 m from the first: its label is left out
    assert [d["text"] for d in text["data"]] == ["The Castle Inn", "Supermarket"]
    assert len(_layer_json(poi_layers(pois, labelled=False))["layers"]) == 1


def test_streets_note_says_where_streets_are_labels_only() -> None:
    assert "labels only" in streets_note(["E06000045"])
    assert "Isle of Wight" not in streets_note(["E06000045"])
    assert "road lines on the Isle of Wight only" in streets_note()
    assert "labels only" not in streets_note([ROADS_LAD])


def test_southampton_labels_are_small_enough_for_the_first_render() -> None:
    tables = load_street_tables()
    soton = labels_in(tables.labels, lad_codes=["E06000045"])
    size = len(CompactDeck(layers=[street_label_layer(soton)],
                           map_provider=None).to_json())
    assert 1000 < len(soton) < 2500
    assert size < 200_000  # bytes of deck JSON for the whole CSP


def _build_script() -> ModuleType:
    import importlib.util

    from hotspot.settings import ROOT

    path = ROOT / "scripts" / "build_streets.py"
    spec = importlib.util.spec_from_file_location("build_streets", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_street_labels_by_hand() -> None:
    build = _build_script()
    points = pd.DataFrame({
        # two High Streets 5 km apart in one district, one in another district
        "x": [400000.0, 400300.0, 405000.0, 400000.0, 400100.0, 400200.0],
        "y": [100000.0, 100000.0, 100000.0, 100000.0, 100000.0, 100000.0],
        "street": ["High Street", "High Street", "High Street", "High Street",
                   "Nightclub", "Bell Street"],
        "n_records": [3, 8, 2, 4, 50, 1],
        "ward": "W", "lad_code": ["A", "A", "A", "B", "A", "A"],
        "facility": [False, False, False, False, True, False],
    })
    labels = build.build_street_labels(points)
    got = {(r.street, r.lad_code, r.x, r.n_records, r.n_points)
           for r in labels.itertuples()}
    assert got == {("High Street", "A", 400300.0, 11, 2),  # busiest point, 3 + 8
                   ("High Street", "A", 405000.0, 2, 1),
                   ("High Street", "B", 400000.0, 4, 1),
                   ("Bell Street", "A", 400200.0, 1, 1)}  # no facility label

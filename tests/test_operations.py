"""Tests for hotspot.operations.model: the model, validation, the GeoPackage store."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import date, datetime, time

import h3
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, Polygon, box

from hotspot.grid import cell_centres_bng
from hotspot.operations import (
    ACTIVITY_KINDS,
    DEMO_OPERATION_FILE,
    Activity,
    Operation,
    OperationConflictError,
    OperationError,
    OperationNotFoundError,
    OperationStore,
    TimeWindow,
    activities_table,
    check_operation,
    daily_windows,
    export_operations,
    import_operations,
    open_default_store,
    operation_from_hotspots,
    timeline_table,
    validate_operation,
)

#: A stand-in for the HIPS outline, so validation tests are hand-checkable.
HIPS = box(430000, 100000, 460000, 130000)
AREA = box(441700, 111500, 442500, 112300)  # Southampton city centre


def _w(start: str, end: str) -> TimeWindow:
    return TimeWindow(datetime.fromisoformat(start), datetime.fromisoformat(end))


def make_operation(**changes) -> Operation:
    op = Operation(
        name="Op Test",
        csp_code="E06000045",
        csp_name="Southampton",
        area=AREA,
        period_start=date(2025, 6, 1),
        period_end=date(2025, 7, 31),
        status="planned",
        activities=(
            Activity("patrol_zone", "Zone 1", AREA.buffer(-300),
                     windows=(_w("2025-06-06T18:00", "2025-06-06T22:00"),),
                     minutes_per_visit=15),
            Activity("s60_area", "s60", AREA,
                     windows=(_w("2025-06-14T18:00", "2025-06-15T18:00"),)),
            Activity("cctv", "Camera", Point(442100, 111900), subtype="permanent"),
        ),
    )
    return replace(op, **changes)


@pytest.fixture
def store(tmp_path):
    return OperationStore(tmp_path / "ops.gpkg")


# ----------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------


def test_valid_operation_has_no_problems():
    result = validate_operation(make_operation(), hips=HIPS)
    assert result.ok, result.problems
    assert result.warnings == []


def _act(kind: str, **kw) -> Activity:
    base = {"label": "x", "geometry": Point(442100, 111900)}
    base.update(kw)
    return Activity(kind, **base)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "name: must not be empty"),
        ({"status": "finished"}, "status: must be one of draft"),
        ({"period_end": date(2025, 5, 1)},
         "period: ends (2025-05-01) before it starts"),
        ({"area": Polygon([(441700, 111500), (442500, 112300), (442500, 111500),
                           (441700, 112300)])}, "area: geometry is not valid"),
        ({"area": Polygon()}, "area: geometry is empty"),
        ({"area": box(530000, 180000, 531000, 181000)},
         "area: lies outside the HIPS area"),
        ({"area": box(-1.41, 50.90, -1.40, 50.91)}, "not British National Grid"),
        ({"activities": ()}, "an operation needs at least one activity layer"),
        ({"area_cells": ("not-a-cell",)}, "area_cells must be valid H3"),
    ],
    ids=["no-name", "bad-status", "period-reversed", "bowtie", "empty-area",
         "london", "lonlat", "no-layers", "bad-cells"],
)
def test_invalid_operations_are_rejected_with_clear_messages(changes, message):
    op = make_operation(**changes)
    result = validate_operation(op, hips=HIPS)
    assert any(message in p for p in result.problems), result.problems
    with pytest.raises(OperationError, match="is not valid"):
        check_operation(op, hips=HIPS)


@pytest.mark.parametrize(
    ("activity", "message"),
    [
        (_act("s60_area", geometry=AREA,
              windows=(_w("2025-05-30T18:00", "2025-05-31T18:00"),)),
         "is outside the operation's period 2025-06-01 to 2025-07-31"),
        (_act("s60_area", geometry=AREA,
              windows=(_w("2025-06-01T00:00", "2025-06-04T00:00"),)),
         "lasts 72 hours; Section 60 authorisation authorisations last at most 48"),
        (_act("s35_zone", geometry=AREA), "needs at least one time window"),
        (_act("s35_zone", geometry=AREA,
              windows=(_w("2025-06-02T18:00", "2025-06-02T17:00"),)),
         "ends before it starts"),
        (_act("patrol_zone", geometry=AREA,
              windows=(_w("2025-06-02T18:00", "2025-06-02T20:00"),)),
         "minutes_per_visit must be a whole number"),
        (_act("cctv", subtype="mobile"), "subtype must be one of permanent, temporary"),
        (_act("cctv", subtype="permanent", geometry=AREA),
         "geometry must be Point or MultiPoint, got Polygon"),
        (_act("drone", subtype=""), "kind must be one of patrol_zone"),
        (_act("school", geometry=Point(530000, 180000)), "lies outside the HIPS"),
        (_act("school", minutes_per_visit=15), "applies to patrol zones only"),
    ],
    ids=["window-outside-period", "s60-too-long", "s35-no-window",
         "window-reversed", "patrol-no-minutes", "bad-subtype", "cctv-polygon",
         "unknown-kind", "school-in-london", "minutes-on-school"],
)
def test_invalid_activities_are_rejected(activity, message):
    op = make_operation(activities=(activity,))
    problems = validate_operation(op, hips=HIPS).problems
    assert any(message in p for p in problems), problems


def test_warnings_do_not_block_saving():
    """Koper: 5-minute visits and a feature away from the area are warnings."""
    op = make_operation(activities=(
        Activity("patrol_zone", "Z", AREA, minutes_per_visit=5,
                 windows=(_w("2025-06-02T18:00", "2025-06-02T20:00"),)),
        Activity("school", "far school", Point(450000, 120000)),
    ))
    result = validate_operation(op, hips=HIPS)
    assert result.ok
    assert any("Koper" in w for w in result.warnings)
    assert any("outside the operation area" in w for w in result.warnings)


def test_real_hips_outline_rejects_a_london_area():
    op = make_operation(area=box(530000, 180000, 531000, 181000))
    with pytest.raises(OperationError, match="outside the HIPS area"):
        check_operation(op)


def test_daily_windows_cross_midnight_and_stay_in_period():
    """Fridays in June 2025: 6, 13, 20, 27; 22:00 to 02:00 next day."""
    windows = daily_windows(date(2025, 6, 1), date(2025, 6, 30), weekdays=[4],
                            start_time=time(22), end_time=time(2))
    assert [w.start.day for w in windows] == [6, 13, 20, 27]
    assert windows[0].end == datetime(2025, 6, 7, 2)
    assert all(w.hours == 4 for w in windows)


# ----------------------------------------------------------------------------
# the store
# ----------------------------------------------------------------------------


def test_create_read_edit_delete_round_trip(store):
    op = make_operation()
    stored = store.add(op, check_hips=False)
    assert stored.version == 1
    got = store.get(op.operation_id)
    assert got == stored  # geometry, windows, fields: all survive
    assert got.activities[1].windows[0].hours == 24

    edited = replace(got, status="active", activities=got.activities[:2])
    updated = store.update(edited, check_hips=False)
    assert updated.version == 2
    again = store.get(op.operation_id)
    assert again.status == "active"
    assert len(again.activities) == 2
    assert again.created_utc == stored.created_utc

    copy = store.duplicate(op.operation_id, name="Copy")
    assert copy.operation_id != op.operation_id
    assert {a.activity_id for a in copy.activities}.isdisjoint(
        {a.activity_id for a in again.activities})
    assert copy.status == "draft"
    assert len(store.catalogue()) == 2

    store.delete(op.operation_id)
    with pytest.raises(OperationNotFoundError):
        store.get(op.operation_id)
    remaining = store.catalogue()
    assert list(remaining["operation_id"]) == [copy.operation_id]
    assert int(remaining["n_activities"].iloc[0]) == 2


def test_store_survives_reopening(tmp_path):
    path = tmp_path / "ops.gpkg"
    op = OperationStore(path).add(make_operation(), check_hips=False)
    assert OperationStore(path).get(op.operation_id) == op


def test_invalid_operation_is_not_stored(store):
    with pytest.raises(OperationError, match="name: must not be empty"):
        store.add(make_operation(name=""), check_hips=False)
    assert store.catalogue().empty


def test_stale_edit_is_refused(store):
    """Two sessions load version 1; the second to save is told, not overwritten."""
    stored = store.add(make_operation(), check_hips=False)
    first = store.update(replace(stored, name="Session A"), check_hips=False)
    assert first.version == 2
    with pytest.raises(OperationConflictError, match="changed by another session"):
        store.update(replace(stored, name="Session B"), check_hips=False)
    assert store.get(stored.operation_id).name == "Session A"
    with pytest.raises(OperationConflictError):
        store.delete(stored.operation_id, expected_version=1)


def test_adding_the_same_id_twice_is_refused(store):
    op = make_operation()
    store.add(op, check_hips=False)
    with pytest.raises(OperationConflictError, match="already in the store"):
        store.add(op, check_hips=False)


def test_two_writers_at_once_lose_no_edit(tmp_path):
    """Two threads, separate connections, 8 edits each on one operation.

    Each edit reads the operation, appends one CCTV point and saves, inside one
    BEGIN IMMEDIATE transaction; a lost update would leave fewer than
    3 + 16 = 19 activities or a version below 1 + 16 = 17. Each thread also
    adds 4 operations of its own, so 1 + 8 = 9 operations end in the store.
    """
    path = tmp_path / "ops.gpkg"
    base = OperationStore(path).add(make_operation(), check_hips=False)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(tag: str) -> None:
        try:
            store = OperationStore(path, timeout_s=0.05, retries=200)
            start.wait()
            for i in range(8):
                def add_camera(op: Operation, i: int = i) -> Operation:
                    cam = Activity("cctv", f"{tag}{i}",
                                   Point(441800 + i * 10, 111600), subtype="temporary")
                    return replace(op, activities=op.activities + (cam,))

                store.edit(base.operation_id, add_camera)  # HIPS checked
                if i % 2 == 0:
                    store.add(make_operation(name=f"{tag} {i}"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = OperationStore(path).get(base.operation_id)
    assert len(final.activities) == 19
    assert final.version == 17
    labels = {a.label for a in final.activities}
    assert {f"A{i}" for i in range(8)} | {f"B{i}" for i in range(8)} <= labels
    assert len(OperationStore(path).catalogue()) == 9


def test_store_is_a_geopackage_gdal_reads(store):
    store.add(make_operation(), check_hips=False)
    layers = dict(pyogrio.list_layers(store.path))
    assert layers["operations"] == "MultiPolygon"
    assert "activities" in layers
    info = pyogrio.read_info(store.path, layer="activities")
    assert info["features"] == 3
    assert info["crs"] == "EPSG:27700"
    with sqlite3.connect(store.path) as con:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
    assert app_id == 0x47504B47


# ----------------------------------------------------------------------------
# import and export
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_export_import_round_trip(tmp_path, suffix):
    op = make_operation()
    path = export_operations([op], tmp_path / f"op{suffix}")
    (back,) = import_operations(path)
    assert back.operation_id == op.operation_id
    assert back.name == op.name and back.period_end == op.period_end
    assert [a.kind for a in back.activities] == [a.kind for a in op.activities]
    assert back.activities[1].windows == op.activities[1].windows
    assert back.activities[0].minutes_per_visit == 15
    # GeoJSON goes through WGS84: within a millimetre or so
    assert back.area.symmetric_difference(op.area).area < 10.0
    assert validate_operation(back, hips=HIPS).ok


def test_gpkg_export_has_one_layer_per_kind(tmp_path):
    path = export_operations([make_operation()], tmp_path / "op.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert layers == {"operations": "MultiPolygon", "patrol_zone": "MultiPolygon",
                      "s60_area": "MultiPolygon", "cctv": "Point"}


def test_import_rejects_empty_layers_and_files(tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(ValueError, match="the FeatureCollection is empty"):
        import_operations(empty)
    path = export_operations([make_operation()], tmp_path / "op.gpkg")
    import geopandas as gpd

    frame = gpd.read_file(path, layer="cctv")
    frame.iloc[0:0].to_file(path, layer="school", driver="GPKG")
    with pytest.raises(ValueError, match="layer 'school' is empty"):
        import_operations(path)
    with pytest.raises(ValueError, match="must end in .geojson or .gpkg"):
        export_operations([make_operation()], tmp_path / "op.kml")


def test_tables_for_the_app():
    op = make_operation()
    acts = activities_table(op)
    assert list(acts["kind_label"]) == ["Patrol zone", "Section 60 authorisation",
                                        "CCTV"]
    assert acts.crs.to_epsg() == 27700
    timeline = timeline_table(op)
    # the camera has no window: it spans the whole period
    cam = timeline[timeline["label"] == "Camera"].iloc[0]
    assert cam["whole_period"]
    assert cam["start"] == pd.Timestamp("2025-06-01")
    assert cam["end"] == pd.Timestamp("2025-08-01")


# ----------------------------------------------------------------------------
# making operations from hot spots, and the demo
# ----------------------------------------------------------------------------


def _ranked_table() -> pd.DataFrame:
    """Four ranked cells: scores 2.0, 1.0, 3.0, 0.5; three Gi* hot (harm 5, 9, 7)."""
    centre = h3.latlng_to_cell(50.904, -1.404, 9)
    cells = [centre] + sorted(h3.grid_ring(centre, 2))[:3]
    return pd.DataFrame({
        "h3": cells, "csp_code": "E06000045", "csp_name": "Southampton",
        "score": [2.0, 1.0, 3.0, 0.5],
        "count": [4, 6, 5, 1], "harm": [5.0, 9.0, 7.0, 1.0],
        "z": [2.5, 3.1, 2.0, -2.0], "bin": [2, 3, 1, -2],
    })


def test_operation_from_hotspots_takes_the_top_of_the_ranking():
    table = _ranked_table()
    op = operation_from_hotspots(table, name="From hot spots",
                                 period_start=date(2025, 6, 1),
                                 period_end=date(2025, 6, 30), top_n=2)
    zones = [a for a in op.activities if a.kind == "patrol_zone"]
    assert [z.h3 for z in zones] == [table["h3"][2], table["h3"][0]]  # score 3, 2
    assert zones[0].notes.startswith("rank 1: expected 3.0 next")
    assert "predictive ranking" in op.description
    assert all(z.minutes_per_visit == 15 for z in zones)
    assert op.area_cells == (table["h3"][2], table["h3"][0])
    x, y = cell_centres_bng([table["h3"][2]])
    assert op.area.contains(Point(x[0], y[0]))
    assert validate_operation(op).ok
    # the period's own harm, hot cells only, is still an option
    by_harm = operation_from_hotspots(table, name="By harm", rank_by="harm",
                                      hot_only=True, period_start=date(2025, 6, 1),
                                      period_end=date(2025, 6, 30), top_n=2)
    assert [a.h3 for a in by_harm.activities] == [table["h3"][1], table["h3"][2]]
    # a Gi* table without scores cannot be ordered by score
    with pytest.raises(ValueError, match="missing \\['score'\\]"):
        operation_from_hotspots(table.drop(columns="score"), name="x",
                                period_start=date(2025, 6, 1),
                                period_end=date(2025, 6, 30))


def test_operation_from_hotspots_inside_an_area():
    table = _ranked_table()
    x, y = cell_centres_bng([table["h3"][0]])
    area = Point(x[0], y[0]).buffer(150)  # holds only the first cell's centre
    op = operation_from_hotspots(table, name="Small", period_start=date(2025, 6, 1),
                                 period_end=date(2025, 6, 30), area=area, top_n=5)
    assert [a.h3 for a in op.activities] == [table["h3"][0]]
    assert op.area.equals(area)
    with pytest.raises(ValueError, match="no ranked cell lies inside the area"):
        operation_from_hotspots(table, name="None", period_start=date(2025, 6, 1),
                                period_end=date(2025, 6, 30),
                                area=Point(0, 0).buffer(10))


def test_demo_operation_loads_and_is_valid(tmp_path):
    (op,) = import_operations(DEMO_OPERATION_FILE)
    assert op.is_demo
    assert "DEMONSTRATION" in op.description
    assert op.csp_name == "Southampton"
    assert (op.period_start, op.period_end) == (date(2025, 6, 1), date(2025, 7, 31))
    assert set(op.layers()) == set(ACTIVITY_KINDS)
    result = validate_operation(op)
    assert result.ok, result.problems
    store = open_default_store(tmp_path / "ops.gpkg")
    assert list(store.catalogue()["operation_id"]) == [op.operation_id]


def _process_writer(path: str, operation_id: str, tag: str, n: int) -> int:
    """Append ``n`` cameras to one operation from a separate process."""
    store = OperationStore(path, timeout_s=0.05, retries=400)
    for i in range(n):
        def add_camera(op: Operation, i: int = i) -> Operation:
            cam = Activity("cctv", f"{tag}{i}", Point(441800 + i * 10, 111700),
                           subtype="temporary")
            return replace(op, activities=op.activities + (cam,))

        store.edit(operation_id, add_camera, check_hips=False)
    return n


def test_two_processes_at_once_lose_no_edit(tmp_path):
    """Two processes, 6 edits each: 3 + 12 = 15 activities, version 1 + 12 = 13."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    path = tmp_path / "ops.gpkg"
    base = OperationStore(path).add(make_operation(), check_hips=False)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        done = list(pool.map(_process_writer, [str(path)] * 2,
                             [base.operation_id] * 2, ["P", "Q"], [6, 6]))
    assert done == [6, 6]
    final = OperationStore(path).get(base.operation_id)
    assert len(final.activities) == 15
    assert final.version == 13


def test_operation_command_list_import_export(tmp_path, capsys):
    """``hotspot operation`` actions on a store of their own."""
    import argparse

    from hotspot.cli.operation import add_parser

    parser = argparse.ArgumentParser(prog="hotspot")
    add_parser(parser.add_subparsers(dest="command"))

    def run(*argv: str) -> int:
        args = parser.parse_args(["operation", *argv,
                                  "--store", str(tmp_path / "ops.gpkg")])
        return int(args.func(args))

    source = export_operations([make_operation()], tmp_path / "in.geojson")
    assert run("import", str(source)) == 0
    assert run("list") == 0
    out = capsys.readouterr().out
    assert "Op Test" in out and "imported" in out
    op_id = OperationStore(tmp_path / "ops.gpkg").catalogue()["operation_id"][0]
    assert run("export", op_id, "--out", str(tmp_path / "out.gpkg")) == 0
    assert import_operations(tmp_path / "out.gpkg")[0].operation_id == op_id
    assert run("delete", op_id) == 0
    assert OperationStore(tmp_path / "ops.gpkg").catalogue().empty

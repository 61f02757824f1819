"""Operation import is all or nothing, and bad files say where and why."""

from __future__ import annotations

import json

import pytest

from hotspot.operations import OperationStore, export_operations, import_operations
from hotspot.operations.model import OperationError
from tests.test_operations import make_operation


def geojson(tmp_path, doc, name="ops.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def exported(tmp_path, *ops):
    return json.loads(export_operations(list(ops), tmp_path / "x.geojson").read_text())


def test_a_feature_that_is_not_an_object_is_named(tmp_path):
    doc = exported(tmp_path, make_operation())
    doc["features"].insert(1, ["not", "a", "feature"])
    with pytest.raises(ValueError, match="feature 2 is not a GeoJSON Feature"):
        import_operations(geojson(tmp_path, doc))


def test_an_unreadable_number_names_the_feature_and_field(tmp_path):
    doc = exported(tmp_path, make_operation())
    zone = next(f for f in doc["features"]
                if f["properties"].get("kind") == "patrol_zone")
    zone["properties"]["minutes_per_visit"] = "fifteen"
    with pytest.raises(ValueError, match=r"activity 1 \('Zone 1'\): a field cannot "
                       r"be read .*fifteen"):
        import_operations(geojson(tmp_path, doc))
    doc = exported(tmp_path, make_operation())
    doc["features"][0]["properties"]["version"] = "v2"
    with pytest.raises(ValueError, match=r"operation 1 \('Op Test'\)"):
        import_operations(geojson(tmp_path, doc))


def test_an_unknown_geometry_type_is_named(tmp_path):
    doc = exported(tmp_path, make_operation())
    doc["features"][1]["geometry"] = {"type": "Blob", "coordinates": [1, 2]}
    with pytest.raises(ValueError, match="feature 2: its geometry cannot be read"):
        import_operations(geojson(tmp_path, doc))


def test_repeated_operation_ids_in_one_file_are_refused(tmp_path):
    doc = exported(tmp_path, make_operation())
    doc["features"].append(dict(doc["features"][0]))
    with pytest.raises(ValueError, match="appears on more than one operation"):
        import_operations(geojson(tmp_path, doc))


def test_an_unknown_csp_code_is_a_problem(tmp_path):
    store = OperationStore(tmp_path / "ops.gpkg")
    with pytest.raises(OperationError, match="'E09999999' is not one of the HIPS"):
        store.import_all([make_operation(csp_code="E09999999")])


def test_one_bad_operation_stores_none(tmp_path):
    store = OperationStore(tmp_path / "ops.gpkg")
    good = make_operation(name="Good")
    bad = make_operation(name="", csp_code="E09999999")
    with pytest.raises(OperationError, match="nothing was imported") as caught:
        store.import_all([good, bad])
    assert any("name: must not be empty" in p for p in caught.value.problems)
    assert any("csp_code" in p for p in caught.value.problems)
    assert store.catalogue().empty  # the good one was not stored either


def test_importing_the_same_file_twice_copies_or_replaces(tmp_path):
    store = OperationStore(tmp_path / "ops.gpkg")
    path = export_operations([make_operation()], tmp_path / "op.gpkg")
    (first,) = store.import_all(import_operations(path))
    # again, not replacing: a copy with new operation and activity ids, no
    # unique-constraint error
    (copy,) = store.import_all(import_operations(path))
    assert copy.operation_id != first.operation_id
    assert copy.name == "Op Test (imported)"
    assert not {a.activity_id for a in copy.activities} & {
        a.activity_id for a in first.activities}
    # replacing: the stored one gets version 2, nothing added
    (again,) = store.import_all(import_operations(path), replace_existing=True)
    assert again.operation_id == first.operation_id and again.version == 2
    assert len(store.catalogue()) == 2
    # an operation with a new id but the activity ids of a stored one
    clash = make_operation(name="Clash")
    clash = type(clash)(**{**clash.__dict__, "activities": first.activities})
    (stored,) = store.import_all([clash])
    assert not {a.activity_id for a in stored.activities} & {
        a.activity_id for a in first.activities}

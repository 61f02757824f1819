"""The operation store: operations in one GeoPackage (a real SQLite file).

Geometries are GeoPackage 1.3 blobs (clause 2.1.3); edits are versioned so
a stale edit is refused instead of silently overwriting a colleague's.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import struct
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot.crs import BNG, WGS84
from hotspot.errors import ParameterError
from hotspot.operations.files import import_operations
from hotspot.operations.make import duplicate_operation
from hotspot.operations.model import (
    DEFAULT_STORE_PATH,
    DEMO_OPERATION_FILE,
    Operation,
    OperationConflictError,
    OperationError,
    OperationNotFoundError,
    StoreBusyError,
    _as_multi,
    _from_multi,
    _new_id,
    check_operation,
)
from hotspot.operations.tables import (
    _ACT_FIELDS,
    _OP_FIELDS,
    _act_from_record,
    _act_record,
    _op_from_record,
    _op_record,
)

# ----------------------------------------------------------------------------
# GeoPackage geometry blobs (GeoPackage 1.3, clause 2.1.3)
# ----------------------------------------------------------------------------

_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10300
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _to_blob(geom: BaseGeometry, srs_id: int = 27700) -> bytes:
    """Encode a geometry as a GeoPackage blob: header, xy envelope, WKB."""
    minx, miny, maxx, maxy = geom.bounds
    flags = 0b0000_0011  # little-endian, envelope [minx, maxx, miny, maxy]
    header = b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id)
    envelope = struct.pack("<4d", minx, maxx, miny, maxy)
    return header + envelope + shapely.to_wkb(geom, byte_order=1)


def _from_blob(blob: bytes) -> BaseGeometry:
    """Decode a GeoPackage geometry blob."""
    if blob[:2] != b"GP":
        raise ParameterError("geometry blob is not a GeoPackage geometry (no 'GP')")
    flags = blob[3]
    envelope = (flags >> 1) & 0b111
    start = 8 + _ENVELOPE_BYTES.get(envelope, 0)
    geom: BaseGeometry = shapely.from_wkb(blob[start:])
    return geom


def _srs_rows() -> list[tuple[str, int, str, int, str, str]]:
    from pyproj import CRS

    return [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", ""),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", ""),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS(WGS84).to_wkt("WKT1_GDAL"),
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
        ("OSGB36 / British National Grid", 27700, "EPSG", 27700,
         CRS(BNG).to_wkt("WKT1_GDAL"), "British National Grid, metres"),
    ]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL, description TEXT);
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
  identifier TEXT UNIQUE, description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
    REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id)
    REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE IF NOT EXISTS operations (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON,
  operation_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, csp_code TEXT,
  csp_name TEXT, period_start DATE, period_end DATE, status TEXT,
  description TEXT, area_cells TEXT, is_demo INTEGER, version INTEGER NOT NULL,
  created_utc TEXT, updated_utc TEXT);
CREATE TABLE IF NOT EXISTS activities (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom GEOMETRY,
  activity_id TEXT NOT NULL UNIQUE, operation_id TEXT NOT NULL, kind TEXT NOT NULL,
  label TEXT, subtype TEXT, windows TEXT, minutes_per_visit INTEGER, h3 TEXT,
  notes TEXT);
CREATE INDEX IF NOT EXISTS activities_operation ON activities (operation_id);
"""


# ----------------------------------------------------------------------------
# the store
# ----------------------------------------------------------------------------


class OperationStore:
    """Operations in one GeoPackage file, safe for several writers at once.

    Parameters
    ----------
    path : path-like
        The GeoPackage; created with its tables on first use.
    timeout_s : float, keyword-only
        How long one attempt waits for the write lock (seconds).
    retries : int, keyword-only
        Attempts before :class:`StoreBusyError`.

    Notes
    -----
    Every write runs in one transaction opened with ``BEGIN IMMEDIATE``, which
    takes SQLite's write lock at once, so a read-check-write sequence (such as
    comparing versions) cannot interleave with another writer. Readers see
    either the state before or after a write, never half of it.
    """

    def __init__(
        self, path: Path | str = DEFAULT_STORE_PATH, *, timeout_s: float = 5.0,
        retries: int = 8,
    ) -> None:
        if retries < 1:
            raise ParameterError(f"retries must be at least 1, got {retries}")
        self.path = Path(path)
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self._initialise()

    # -- plumbing ----------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        con.row_factory = sqlite3.Row
        return con

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction, retrying when busy."""
        delay = 0.05
        for attempt in range(1, self.retries + 1):
            con = self._connect()
            try:
                con.execute("BEGIN IMMEDIATE")
                try:
                    result = work(con)
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
                return result
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                logger.info("operation store busy (attempt %d of %d): %s",
                            attempt, self.retries, exc)
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
            finally:
                con.close()
        raise StoreBusyError(
            f"{self.path}: another session kept the operation store locked through "
            f"{self.retries} attempts; try again"
        )

    def _initialise(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

        def work(con: sqlite3.Connection) -> None:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.executemany(
                "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)",
                _srs_rows(),
            )
            for table, gtype, ident in (
                ("operations", "MULTIPOLYGON", "Operation areas"),
                ("activities", "GEOMETRY", "Operation activities"),
            ):
                con.execute(
                    "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, "
                    "identifier, description, srs_id) VALUES (?, 'features', ?, ?, "
                    "27700)", (table, ident, f"hotspot {table}"))
                con.execute(
                    "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES "
                    "(?, 'geom', ?, 27700, 0, 0)", (table, gtype))
            con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")

        self._write(work)

    @staticmethod
    def _insert(con: sqlite3.Connection, op: Operation) -> None:
        rec = _op_record(op)
        cols = ", ".join(_OP_FIELDS)
        marks = ", ".join("?" for _ in _OP_FIELDS)
        con.execute(f"INSERT INTO operations (geom, {cols}) VALUES (?, {marks})",
                    [_to_blob(_as_multi(op.area))] + [rec[c] for c in _OP_FIELDS])
        acols = ", ".join(_ACT_FIELDS)
        amarks = ", ".join("?" for _ in _ACT_FIELDS)
        for act in op.activities:
            arec = _act_record(act, op.operation_id)
            con.execute(
                f"INSERT INTO activities (geom, {acols}) VALUES (?, {amarks})",
                [_to_blob(act.geometry)] + [arec[c] for c in _ACT_FIELDS])
        con.execute("UPDATE gpkg_contents SET last_change = "
                    "strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                    "WHERE table_name IN ('operations', 'activities')")

    @staticmethod
    def _delete_rows(con: sqlite3.Connection, operation_id: str) -> None:
        con.execute("DELETE FROM activities WHERE operation_id = ?", (operation_id,))
        con.execute("DELETE FROM operations WHERE operation_id = ?", (operation_id,))

    @staticmethod
    def _stored_version(con: sqlite3.Connection, operation_id: str) -> int | None:
        row = con.execute("SELECT version FROM operations WHERE operation_id = ?",
                          (operation_id,)).fetchone()
        return None if row is None else int(row["version"])

    @staticmethod
    def _read(con: sqlite3.Connection, operation_id: str) -> Operation:
        row = con.execute("SELECT * FROM operations WHERE operation_id = ?",
                          (operation_id,)).fetchone()
        if row is None:
            raise OperationNotFoundError(
                f"operation_id {operation_id!r} is not in the store")
        acts = [
            _act_from_record(dict(a), _from_blob(a["geom"]))
            for a in con.execute(
                "SELECT * FROM activities WHERE operation_id = ? ORDER BY fid",
                (operation_id,))
        ]
        return _op_from_record(dict(row), _from_multi(_from_blob(row["geom"])), acts)

    # -- public API --------------------------------------------------------
    def catalogue(self) -> pd.DataFrame:
        """Return one row per stored operation, newest update first.

        Columns: ``operation_id``, ``name``, ``csp_name``, ``period_start``,
        ``period_end``, ``status``, ``is_demo``, ``n_activities``, ``version``,
        ``updated_utc``.
        """
        con = self._connect()
        try:
            frame = pd.read_sql_query(
                "SELECT o.operation_id, o.name, o.csp_name, o.period_start, "
                "o.period_end, o.status, o.is_demo, "
                "(SELECT COUNT(*) FROM activities a "
                " WHERE a.operation_id = o.operation_id) AS n_activities, "
                "o.version, o.updated_utc FROM operations o "
                "ORDER BY o.updated_utc DESC, o.name", con)
        finally:
            con.close()
        frame["is_demo"] = frame["is_demo"].astype(bool)
        return frame

    def get(self, operation_id: str) -> Operation:
        """Return a stored operation.

        Raises
        ------
        OperationNotFoundError
            When no operation has that id.
        """
        con = self._connect()
        try:
            con.execute("BEGIN")
            op = self._read(con, operation_id)
            con.execute("COMMIT")
            return op
        finally:
            con.close()

    def load_all(self) -> list[Operation]:
        """Return every stored operation."""
        return [self.get(i) for i in self.catalogue()["operation_id"]]

    def add(self, operation: Operation, *, check_hips: bool = True) -> Operation:
        """Validate and store a new operation; return it with version 1.

        Raises
        ------
        OperationError
            When the operation is not valid (every problem listed).
        OperationConflictError
            When an operation with that id is already stored.
        """
        check_operation(operation, check_hips=check_hips)
        now = _now()
        stored = replace(operation, version=1, created_utc=operation.created_utc
                         or now, updated_utc=now)

        def work(con: sqlite3.Connection) -> Operation:
            if self._stored_version(con, stored.operation_id) is not None:
                raise OperationConflictError(
                    f"operation_id {stored.operation_id!r} is already in the store; "
                    "use update() to change it or duplicate() to copy it")
            self._insert(con, stored)
            return stored

        result = self._write(work)
        logger.info("stored operation %s (%s)", result.operation_id, result.name)
        return result

    def update(
        self, operation: Operation, *, expected_version: int | None = None,
        check_hips: bool = True,
    ) -> Operation:
        """Validate and replace a stored operation; return it with version + 1.

        Parameters
        ----------
        operation : Operation
            The edited operation (same ``operation_id``).
        expected_version : int, optional, keyword-only
            The version the edit started from; defaults to ``operation.version``.
            When the stored version differs, someone else saved in between.

        Raises
        ------
        OperationConflictError
            When the stored version is not ``expected_version``.
        OperationNotFoundError
            When the operation is not stored.
        """
        check_operation(operation, check_hips=check_hips)
        expected = operation.version if expected_version is None else expected_version

        def work(con: sqlite3.Connection) -> Operation:
            current = self._stored_version(con, operation.operation_id)
            if current is None:
                raise OperationNotFoundError(
                    f"operation_id {operation.operation_id!r} is not in the store")
            if current != expected:
                raise OperationConflictError(
                    f"operation {operation.name!r} was changed by another session "
                    f"(stored version {current}, this edit started from version "
                    f"{expected}); reload it and apply the edit again")
            old = con.execute("SELECT created_utc FROM operations WHERE "
                              "operation_id = ?", (operation.operation_id,)).fetchone()
            stored = replace(operation, version=current + 1,
                             created_utc=old["created_utc"], updated_utc=_now())
            self._delete_rows(con, operation.operation_id)
            self._insert(con, stored)
            return stored

        return self._write(work)

    def edit(
        self, operation_id: str, change: Callable[[Operation], Operation], *,
        check_hips: bool = True,
    ) -> Operation:
        """Read, change and store an operation in one locked transaction.

        ``change`` gets the stored operation and returns the edited one; no other
        writer can save in between, so edits from two sessions never overwrite
        each other.
        """

        def work(con: sqlite3.Connection) -> Operation:
            current = self._read(con, operation_id)
            edited = change(current)
            if edited.operation_id != operation_id:
                raise ParameterError("change must keep the operation_id")
            check_operation(edited, check_hips=check_hips)
            stored = replace(edited, version=current.version + 1,
                             created_utc=current.created_utc, updated_utc=_now())
            self._delete_rows(con, operation_id)
            self._insert(con, stored)
            return stored

        return self._write(work)

    def import_all(
        self, operations: list[Operation], *, replace_existing: bool = False,
        check_hips: bool = True,
    ) -> list[Operation]:
        """Store the operations of one file, all or none; return them as stored.

        Every operation is validated before anything is written, and all are
        written in one transaction: a file with one bad operation stores none
        (every problem of every operation is listed). An operation whose id is
        already stored replaces it (``replace_existing``, version + 1) or is
        stored as a copy with new ids and " (imported)" after its name; activity
        ids already used by another operation get new ids.

        Raises
        ------
        OperationError
            When any operation is not valid (nothing is stored).
        ParameterError
            When the list is empty.
        """
        if not operations:
            raise ParameterError("operations must hold at least one operation")
        problems: list[str] = []
        for op in operations:
            try:
                check_operation(op, check_hips=check_hips)
            except OperationError as exc:
                problems += [f"{op.name or op.operation_id}: {p}" for p in exc.problems]
        if problems:
            raise OperationError(problems, name=f"the file's {len(operations)} "
                                 "operation(s) (nothing was imported)")
        now = _now()

        def work(con: sqlite3.Connection) -> list[Operation]:
            used = {row[0] for row in con.execute(
                "SELECT activity_id FROM activities")}
            done = []
            for op in operations:
                current = self._stored_version(con, op.operation_id)
                if current is not None and replace_existing:
                    old = con.execute("SELECT created_utc FROM operations WHERE "
                                      "operation_id = ?", (op.operation_id,)
                                      ).fetchone()
                    mine = {row[0] for row in con.execute(
                        "SELECT activity_id FROM activities WHERE operation_id = ?",
                        (op.operation_id,))}
                    self._delete_rows(con, op.operation_id)
                    used -= mine
                    stored = replace(op, version=current + 1,
                                     created_utc=old["created_utc"], updated_utc=now)
                elif current is not None:
                    stored = replace(duplicate_operation(
                        op, name=f"{op.name} (imported)"), status=op.status,
                        version=1, created_utc=now, updated_utc=now)
                else:
                    stored = replace(op, version=1, created_utc=now, updated_utc=now)
                if any(a.activity_id in used for a in stored.activities) or len(
                        {a.activity_id for a in stored.activities}) < len(
                        stored.activities):
                    stored = replace(stored, activities=tuple(
                        replace(a, activity_id=_new_id("act"))
                        for a in stored.activities))
                used |= {a.activity_id for a in stored.activities}
                self._insert(con, stored)
                done.append(stored)
            return done

        result = self._write(work)
        logger.info("imported %d operation(s): %s", len(result),
                    ", ".join(o.operation_id for o in result))
        return result

    def duplicate(self, operation_id: str, *, name: str | None = None) -> Operation:
        """Store a copy of an operation (new ids, status draft); return it."""
        return self.add(duplicate_operation(self.get(operation_id), name=name),
                        check_hips=False)

    def delete(self, operation_id: str, *, expected_version: int | None = None) -> None:
        """Delete an operation and its activities.

        Raises
        ------
        OperationNotFoundError
            When it is not stored.
        OperationConflictError
            When ``expected_version`` is given and differs from the stored one.
        """

        def work(con: sqlite3.Connection) -> None:
            current = self._stored_version(con, operation_id)
            if current is None:
                raise OperationNotFoundError(
                    f"operation_id {operation_id!r} is not in the store")
            if expected_version is not None and current != expected_version:
                raise OperationConflictError(
                    f"operation {operation_id!r} was changed by another session "
                    f"(stored version {current}, expected {expected_version})")
            self._delete_rows(con, operation_id)

        self._write(work)
        logger.info("deleted operation %s", operation_id)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_default_store(path: Path | str = DEFAULT_STORE_PATH) -> OperationStore:
    """Open the app's operation store, adding the shipped demo when it is new.

    The demo operation (``data/operations/op_meero_2025.geojson``) is imported
    once, when the store file does not exist yet; deleting it later is kept.
    """
    target = Path(path)
    is_new = not target.exists()
    store = OperationStore(target)
    if is_new and DEMO_OPERATION_FILE.exists():
        for op in import_operations(DEMO_OPERATION_FILE):
            try:
                store.add(replace(op, version=0), check_hips=False)
            except OperationConflictError:
                # another session created the store at the same moment
                logger.info("demonstration operation already seeded in %s", target)
        logger.info("seeded %s with the demonstration operation", target)
    return store

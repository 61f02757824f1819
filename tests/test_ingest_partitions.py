"""The partitioned store: one dataset, months appended atomically and only once."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hotspot.ingest import partitions
from hotspot.ingest.store import load_occurrences, load_rejects, load_summary
from hotspot.pipeline import append_sources, ingest_to_store
from tests.helpers import POLICE_UK_HEADER, police_uk_row, write_lines

# Southampton and Portsmouth city centres: two CSPs
SOTON = {"lon": "-1.404", "lat": "50.904", "lsoa": "E01032747"}
PORTS = {"lon": "-1.091", "lat": "50.798", "lsoa": "E01017049"}


def _month(tmp_path: Path, month: str, n: int = 3) -> Path:
    rows = [police_uk_row(f"{month}-s{i}", month=month, **SOTON) for i in range(n)]
    rows += [police_uk_row(f"{month}-p{i}", month=month, **PORTS) for i in range(n)]
    rows.append(police_uk_row("bad", month="2025-13"))  # a reject
    return write_lines(tmp_path / f"{month}-hampshire-street.csv",
                       [POLICE_UK_HEADER, *rows])


def _files(store: Path) -> set[str]:
    root = store / "occurrences.parquet"
    return {str(p.relative_to(root)) for p in root.rglob("*.parquet")}


def test_two_months_make_one_dataset_of_month_and_csp_partitions(
        tmp_path: Path) -> None:
    store = tmp_path / "store"
    append_sources([_month(tmp_path, "2025-01")], store)
    append_sources([_month(tmp_path, "2025-02")], store)
    assert partitions.is_partitioned(store)
    parts = sorted(p.split("/part-")[0] for p in _files(store))
    assert parts == ["month=2025-01/csp=E06000044", "month=2025-01/csp=E06000045",
                     "month=2025-02/csp=E06000044", "month=2025-02/csp=E06000045"]
    whole = gpd.read_parquet(store / "occurrences.parquet")  # the contract
    assert len(whole) == 12 and whole.crs.to_epsg() == 27700
    assert whole["h3_9"].notna().all() and str(whole["h3_9"].dtype) == "Int64"
    occ = load_occurrences(store)
    assert len(occ) == 12
    assert not set(partitions.DERIVED_COLUMNS) & set(occ.columns)
    summary = load_summary(store)
    assert summary["rows"] == {"read": 14, "accepted": 12, "rejected": 2}
    assert len(load_rejects(store)) == 2
    assert len(summary["appends"]) == 2


def test_appending_a_month_rewrites_only_that_month(tmp_path: Path) -> None:
    store = tmp_path / "store"
    append_sources([_month(tmp_path, "2025-01")], store)
    before = {p: (store / "occurrences.parquet" / p).stat().st_ino
              for p in _files(store)}
    append_sources([_month(tmp_path, "2025-02")], store)
    after = {p: (store / "occurrences.parquet" / p).stat().st_ino
             for p in _files(store)}
    assert {p: after[p] for p in before} == before  # same files (hard links)
    assert all(p.startswith("month=2025-02") for p in set(after) - set(before))


def test_reingesting_the_same_file_adds_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    source = _month(tmp_path, "2025-01")
    append_sources([source], store)
    version = partitions.current_version(store)
    assert append_sources([source], store) is None  # checksum known: not read
    assert partitions.current_version(store) == version
    assert len(load_occurrences(store)) == 6


def test_the_same_rows_in_another_file_are_rejected_not_doubled(
        tmp_path: Path) -> None:
    store = tmp_path / "store"
    append_sources([_month(tmp_path, "2025-01")], store)
    copy = tmp_path / "copy"
    copy.mkdir()
    again = _month(copy, "2025-01", n=4)  # 3 rows stored already, 1 new, per CSP
    append_sources([again], store)
    occ = load_occurrences(store)
    assert len(occ) == 8 and occ["occurrence_id"].is_unique
    summary = load_summary(store)
    rows = summary["rows"]
    assert rows["read"] == rows["accepted"] + rows["rejected"] == 7 + 9
    assert (load_rejects(store)["stage"] == "store").sum() == 6


def test_a_failed_append_leaves_the_store_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    append_sources([_month(tmp_path, "2025-01")], store)
    version = partitions.current_version(store)
    files = _files(store)
    summary = load_summary(store)
    written: list[Path] = []
    real = partitions._write_partition

    def fail_on_second(frame: gpd.GeoDataFrame, folder: Path) -> None:
        if written:
            raise OSError("disk full (injected)")
        written.append(folder)
        real(frame, folder)

    monkeypatch.setattr(partitions, "_write_partition", fail_on_second)
    with pytest.raises(OSError, match="injected"):
        append_sources([_month(tmp_path, "2025-02")], store)
    assert written  # one partition of the new month had been written
    assert partitions.current_version(store) == version
    assert _files(store) == files
    assert load_summary(store) == summary
    assert sorted(p.name for p in (store / ".store").iterdir()) == [
        "current", version.name]  # the half-built version was removed
    monkeypatch.undo()
    append_sources([_month(tmp_path, "2025-02")], store)  # and it can be retried
    assert len(load_occurrences(store)) == 12


def test_a_single_file_store_is_converted_on_first_append(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest_to_store([_month(tmp_path, "2025-01")], store)
    assert (store / "occurrences.parquet").is_file()
    first = load_occurrences(store)
    append_sources([_month(tmp_path, "2025-01")], store)  # same file: skipped
    assert (store / "occurrences.parquet").is_file()
    append_sources([_month(tmp_path, "2025-02")], store)
    assert partitions.is_partitioned(store)
    occ = load_occurrences(store)
    assert len(occ) == 12
    jan = occ[occ["occurred_from"] < pd.Timestamp("2025-02-01")]
    key = ["occurrence_id"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(jan.drop(columns="geometry")).sort_values(key).reset_index(
            drop=True),
        pd.DataFrame(first.drop(columns="geometry")).sort_values(key).reset_index(
            drop=True))


def test_the_command_line_appends_and_streams(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hotspot.cli.main import main

    store = tmp_path / "store"
    jan = _month(tmp_path, "2025-01")
    assert main(["ingest", str(jan), "--out", str(store), "--append"]) == 0
    assert main(["ingest", str(jan), "--out", str(store), "--append"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["ingest", str(_month(tmp_path, "2025-02")), "--out", str(store),
                 "--append"]) == 0
    assert len(load_occurrences(store)) == 12
    streamed = tmp_path / "streamed"
    assert main(["ingest", str(jan), "--out", str(streamed), "--stream"]) == 0
    assert len(load_occurrences(streamed)) == 6
    assert load_summary(streamed)["rows"] == {"read": 7, "accepted": 6,
                                              "rejected": 1}

"""A streamed ingest in worker processes writes what a serial one writes."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pandas as pd
import pytest

from hotspot import pipeline
from hotspot.errors import InputFileError, ParameterError
from hotspot.ingest import partitions
from hotspot.ingest.store import load_occurrences, load_rejects, load_summary
from hotspot.pipeline import ingest, ingest_streaming
from tests.helpers import police_uk_file

BATCH = 1 << 16


def _file(tmp_path: Path, n: int = 2400) -> Path:
    """A police.uk CSV of several 64 KB batches, with rejects of every stage."""
    return police_uk_file(tmp_path / "2025-hampshire-street.csv", n, places=4,
                          ids=2000, months=7, quoted_every=97)


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in frame.columns if c != "geometry"]
    out = pd.DataFrame(frame[cols]).sort_values(["source_row"]).reset_index(drop=True)
    out["wkt"] = frame.geometry.to_wkt().to_numpy()[
        frame["source_row"].to_numpy().argsort(kind="stable")]
    return out


def _files(store: Path) -> list[tuple[str, str]]:
    """Each partition file's folder and the SHA-256 of its bytes, sorted."""
    root = (store / partitions.OCCURRENCES_FILE).resolve()
    return sorted((str(p.parent.relative_to(root)),
                   hashlib.sha256(p.read_bytes()).hexdigest())
                  for p in root.rglob("*.parquet"))


def _counts(summary: dict) -> dict:
    keep = ("rows", "rejected_by_reason", "accepted_by_source", "geocoded_by_method",
            "per_csp", "serious_violence", "period", "quality", "harm_weights",
            "source_checksums", "files")
    return {k: summary[k] for k in keep}


def test_workers_write_what_one_process_writes(tmp_path: Path) -> None:
    path = _file(tmp_path)
    assert path.stat().st_size > 3 * BATCH  # several batches
    serial = ingest_streaming(path, tmp_path / "one", batch_bytes=BATCH, workers=1)
    parallel = ingest_streaming(path, tmp_path / "two", batch_bytes=BATCH, workers=2)
    whole = ingest([path])
    assert _counts(parallel) == _counts(serial)
    assert load_summary(tmp_path / "two")["rows"] == serial["rows"]
    assert parallel["rows"] == whole.summary["rows"]
    assert parallel["rows"]["rejected"] > 0
    assert parallel["per_csp"] == whole.summary["per_csp"]
    assert parallel["rejected_by_reason"] == whole.summary["rejected_by_reason"]
    # the same partition files, byte for byte (only their random names differ)
    assert _files(tmp_path / "two") == _files(tmp_path / "one")
    one, two = load_occurrences(tmp_path / "one"), load_occurrences(tmp_path / "two")
    pd.testing.assert_frame_equal(_rows(two), _rows(one))
    by_row = ["row_number", "field", "stage"]
    got = load_rejects(tmp_path / "two")
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  load_rejects(tmp_path / "one").reset_index(drop=True))
    expected = whole.rejects.sort_values(by_row).reset_index(drop=True)
    got = got.sort_values(by_row).reset_index(drop=True)
    assert got["row_number"].tolist() == expected["row_number"].tolist()
    assert got["reason"].tolist() == expected["reason"].tolist()
    # rejects are appended in file order
    assert got["row_number"].tolist() == sorted(got["row_number"])
    # the whole-file ingest checks duplicates and piles over the whole file, a
    # streamed one within each batch: every other column is the same
    flags = ["wkt", "quality_flags"]
    pd.testing.assert_frame_equal(
        _rows(two).drop(columns=flags),
        _rows(whole.occurrences).drop(columns=flags), check_dtype=False)


def test_a_failing_batch_in_a_worker_leaves_the_store_as_it_was(
        tmp_path: Path) -> None:
    path = _file(tmp_path)
    store = tmp_path / "store"
    ingest_streaming(path, store, batch_bytes=BATCH, workers=1)
    version = partitions.current_version(store)
    before = _files(store)
    with pytest.raises(ParameterError, match="harm table must be one of"):
        ingest_streaming(path, store, batch_bytes=BATCH, workers=2,
                         harm_table="no-such-table")
    assert partitions.current_version(store) == version
    assert _files(store) == before
    assert sorted(p.name for p in (store / ".store").iterdir()) == [
        "current", version.name]


def test_a_worker_error_surfaces_as_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An InputFileError (whose constructor is not its args) raised in a worker."""
    path = _file(tmp_path)
    store = tmp_path / "store"
    real = pipeline._geocode

    def fail_late(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        if frame["source_row"].min() > 1000:
            raise InputFileError("some.csv", "injected failure")
        return real(frame)

    # fork: the workers inherit the patched stage (a fork server would not)
    monkeypatch.setattr(pipeline, "START_METHOD", "fork")
    monkeypatch.setattr(pipeline, "_geocode", fail_late)
    with pytest.raises(InputFileError, match="injected failure") as caught:
        ingest_streaming(path, store, batch_bytes=BATCH, workers=2)
    assert caught.value.path == "some.csv"
    assert caught.value.problem == "injected failure"
    assert any("ingest worker" in note for note in caught.value.__notes__)
    assert not (store / "occurrences.parquet").exists()
    assert list((store / ".store").iterdir()) == []


def test_a_carried_exception_keeps_its_class_and_fields() -> None:
    exc = InputFileError("a.csv", "is broken")
    back = pickle.loads(pickle.dumps(pipeline._Raised(exc))).exception
    assert type(back) is InputFileError
    assert (str(back), back.path, back.problem) == (str(exc), "a.csv", "is broken")


def test_a_one_batch_file_starts_no_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, n=100)
    monkeypatch.setattr(pipeline, "START_METHOD", "no-such-method")  # would raise
    summary = ingest_streaming(path, tmp_path / "store", workers=2)
    assert summary["rows"]["read"] == ingest([path]).summary["rows"]["read"]


def test_workers_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="workers"):
        ingest_streaming(_file(tmp_path, n=10), tmp_path / "store", workers=0)

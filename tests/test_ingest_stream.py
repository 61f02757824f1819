"""Streaming ingest gives the whole-file ingest's rows, rejects and accounting."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hotspot.errors import InputFileError
from hotspot.ingest.store import load_occurrences, load_rejects, load_summary
from hotspot.ingest.stream import police_uk_batches
from hotspot.pipeline import ingest, ingest_streaming
from tests.helpers import POLICE_UK_HEADER, police_uk_file, police_uk_row, write_lines


def _big(tmp_path: Path, n: int = 1800) -> Path:
    return police_uk_file(tmp_path / "2025-hampshire-street.csv", n)


def _key(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in frame.columns if c != "geometry"]
    return (pd.DataFrame(frame[cols]).sort_values(["source_row", "field"] if "field"
            in cols else ["source_row"]).reset_index(drop=True))


def test_batches_number_rows_as_the_whole_file_does(tmp_path: Path) -> None:
    path = _big(tmp_path)
    parts = list(police_uk_batches(path, batch_bytes=1 << 16))
    assert len(parts) >= 3
    whole = ingest([path])
    assert sum(p.n_read for p in parts) == whole.summary["rows"]["read"]
    rows = pd.concat([p.accepted for p in parts], ignore_index=True)
    assert rows["source_row"].is_unique
    assert rows["occurrence_id"].is_unique


def test_streaming_ingest_equals_the_whole_file_ingest(tmp_path: Path) -> None:
    path = _big(tmp_path)
    whole = ingest([path])
    store = tmp_path / "store"
    summary = ingest_streaming(path, store, batch_bytes=1 << 16)
    assert summary["rows"] == whole.summary["rows"]
    rows = summary["rows"]
    assert rows["read"] == rows["accepted"] + rows["rejected"] > 1800
    assert load_summary(store)["rows"] == rows
    assert summary["per_csp"] == whole.summary["per_csp"]
    assert summary["rejected_by_reason"] == whole.summary["rejected_by_reason"]
    got = load_occurrences(store)
    pd.testing.assert_frame_equal(_key(got), _key(whole.occurrences))
    rejects = load_rejects(store).sort_values(["row_number", "field"])
    expected = whole.rejects.sort_values(["row_number", "field"])
    assert rejects["row_number"].tolist() == expected["row_number"].tolist()
    assert rejects["reason"].tolist() == expected["reason"].tolist()


def test_a_failed_stream_leaves_no_store(tmp_path: Path) -> None:
    path = tmp_path / "2025-01-hampshire-street.csv"
    row = police_uk_row(location="On or near Caf\xe9 Street").encode("latin-1")
    path.write_bytes((POLICE_UK_HEADER + "\n").encode() + (row + b"\n") * 10)
    store = tmp_path / "store"
    with pytest.raises(InputFileError):
        ingest_streaming(path, store, batch_bytes=1 << 16)
    assert not (store / "occurrences.parquet").exists()
    assert list((store / ".store").iterdir()) == []


def test_blocks_end_at_line_ends_outside_quotes(tmp_path: Path) -> None:
    from hotspot.ingest.stream import _blocks

    rows = [police_uk_row(f"id{i}", location=f'"On or near\nLine {i}, Street"')
            for i in range(3000)]
    path = write_lines(tmp_path / "quoted-street.csv", [POLICE_UK_HEADER, *rows])
    blocks = list(_blocks(path, 1 << 16))
    assert len(blocks) >= 3
    assert all(block.count(b'"') % 2 == 0 for _, block in blocks)
    head = blocks[0][0]
    assert head + b"".join(b for _, b in blocks) == path.read_bytes()


def _old_blocks(path: Path, batch_bytes: int) -> list[tuple[bytes, bytes]]:
    """Cut as ``_blocks`` did before it counted quotes once (the reference)."""
    out = []
    with open(path, "rb") as handle:
        header = handle.readline()
        carry = b""
        while True:
            data = handle.read(batch_bytes)
            block = carry + data
            if not data:
                if block.strip():
                    out.append((header, block))
                return out
            cut = block.rfind(b"\n")
            while cut >= 0 and block.count(b'"', 0, cut) % 2:
                cut = block.rfind(b"\n", 0, cut)
            if cut < 0:
                carry = block
                continue
            carry = block[cut + 1:]
            out.append((header, block[: cut + 1]))


def test_blocks_cut_where_the_quadratic_count_did(tmp_path: Path) -> None:
    from hotspot.ingest.stream import _blocks

    rows = []
    for i in range(4000):
        # some fields hold many line ends, one a whole screen of them, so that
        # many candidate ends of a block fall inside quotes
        lines = "\n".join(f"line {j}" for j in range(1 + (i % 7) * (i % 11)))
        if i == 1500:
            lines = "\n".join(f"line {j}" for j in range(20000))
        rows.append(police_uk_row(f"id{i}", location=f'"On or near\n{lines}"'))
    path = write_lines(tmp_path / "quoted-street.csv", [POLICE_UK_HEADER, *rows])
    for size in (1 << 16, 3 << 16, 1 << 20):
        new = list(_blocks(path, size))
        assert new == _old_blocks(path, size)
        assert len(new) >= 2
        assert all(block.count(b'"') % 2 == 0 for _, block in new)


def test_last_line_end_outside_quotes() -> None:
    from hotspot.ingest.stream import _last_line_end

    assert _last_line_end(b"no line end") == -1
    assert _last_line_end(b'a\nb\n"c\nd') == 3
    assert _last_line_end(b'"a\nb\nc\nd') == -1
    assert _last_line_end(b'a,"x\ny"\nb,"p\nq') == 7
    assert _last_line_end(b"\n") == 0

"""Read a large police.uk street CSV in batches, with bounded memory.

:func:`police_uk_batches` yields one :class:`~hotspot.ingest.schema.ReadResult`
per block of the file (cut at a line end, parsed by pyarrow, every value as
text; one block in memory at a time), each parsed by the same
:func:`hotspot.ingest.police_uk.parse_police_uk` as a whole file, so ids,
rejects and row numbers are those the whole-file reader gives. Rows whose field
count differs from the header's are rejected with their row number, as the
whole-file reader does. :func:`police_uk_blocks` stops short of that parse
(:class:`TextBlock`), so that it can run in another process.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hotspot.errors import InputFileError
from hotspot.ingest.police_uk import parse_police_uk
from hotspot.ingest.schema import ReadResult
from hotspot.ingest.tables import TextTable, brief

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

#: Bytes of CSV per batch (about 400,000 police.uk rows).
DEFAULT_BATCH_BYTES = 64 << 20


def _blocks(path: Path, batch_bytes: int) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(header line, block of whole data lines)`` of about ``batch_bytes``.

    A block ends at a line end outside quotes (an even count of ``"`` before it),
    so a quoted field is never cut. Only one block is in memory at a time: the
    reader never reads ahead (pyarrow's own streaming reader buffers far ahead of
    a slow consumer, up to the whole file).
    """
    with open(path, "rb") as handle:
        header = handle.readline()
        carry = b""
        while True:
            data = handle.read(batch_bytes)
            block = carry + data
            if not data:
                if block.strip():
                    yield header, block
                return
            cut = _last_line_end(block)
            if cut < 0:
                carry = block
                continue
            carry = block[cut + 1:]
            yield header, block[: cut + 1]


def _last_line_end(block: bytes) -> int:
    """Return the offset of the last line end outside quotes in ``block``, or -1.

    A line end is outside quotes when an even count of ``"`` comes before it.
    The quotes are counted once up to the last line end, then only those
    between one candidate and the one before it are taken off, so a block is
    scanned once however many candidates fall inside quotes (counting from the
    start for each candidate is quadratic).
    """
    cut = block.rfind(b"\n")
    if cut < 0:
        return -1
    quotes = block.count(b'"', 0, cut)
    while cut >= 0 and quotes % 2:
        before = block.rfind(b"\n", 0, cut)
        quotes -= block.count(b'"', max(before, 0), cut)
        cut = before
    return cut


def police_uk_batches(
    path: Path | str, *, batch_bytes: int = DEFAULT_BATCH_BYTES
) -> Iterator[ReadResult]:
    """Yield the rows of one police.uk street CSV in batches of about ``batch_bytes``.

    Raises
    ------
    InputFileError
        When the file is missing, not UTF-8 text or not a CSV (before or between
        batches: the caller writes nothing until the last batch is read).
    """
    for block in police_uk_blocks(path, batch_bytes=batch_bytes):
        yield block.parse()


@dataclass
class TextBlock:
    """One block of a police.uk CSV split into text columns, not yet parsed.

    What :func:`police_uk_blocks` yields: small to hand to another process
    (Arrow buffers pickle as they are), where :meth:`parse` turns it into the
    :class:`~hotspot.ingest.schema.ReadResult` :func:`police_uk_batches` yields.
    """

    #: The file's name, as rows and rejects record it.
    name: str
    #: Every field as text, one column per header name.
    table: pa.Table
    #: Data rows of the file before this block (ragged ones included).
    first_row: int
    #: ``(row number in the file, field count)`` of the ragged rows it skipped.
    ragged: list[tuple[int, int]]

    def parse(self) -> ReadResult:
        """Return the block's canonical rows and rejects."""
        bad = {r - self.first_row for r, _ in self.ragged}
        total = self.table.num_rows + len(bad)
        span = np.arange(1, total + 1)
        frame = self.table.to_pandas()
        frame.index = pd.Index(self.first_row + span[~np.isin(span, list(bad))],
                               name="row")
        return parse_police_uk(TextTable(path=self.name, frame=frame,
                                         ragged=self.ragged, encoding="utf-8"))


def police_uk_blocks(
    path: Path | str, *, batch_bytes: int = DEFAULT_BATCH_BYTES
) -> Iterator[TextBlock]:
    """Yield one police.uk street CSV as :class:`TextBlock` s of about ``batch_bytes``.

    The split of :func:`police_uk_batches` for running :meth:`TextBlock.parse`
    elsewhere: only the cheap part (cutting blocks and splitting fields, which
    also counts the rows, so each block's row numbers are known) is done here.

    Raises
    ------
    InputFileError
        As :func:`police_uk_batches` does.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "does not exist")
    if batch_bytes < 1 << 16:
        raise ValueError(f"batch_bytes must be at least 65536, got {batch_bytes!r}")
    with open(path, "rb") as handle:
        first = handle.readline().decode("utf-8-sig", errors="replace")
    header = next(csv.reader([first]), [])
    if not header:
        raise InputFileError(path, "is empty: expected police.uk street crime")
    ragged: list[tuple[int, int]] = []

    def on_bad_row(row: pacsv.InvalidRow) -> str:
        ragged.append((int(row.number or 0) - 1, int(row.actual_columns)))
        return "skip"

    options = {
        "read_options": pacsv.ReadOptions(use_threads=False),
        "parse_options": pacsv.ParseOptions(invalid_row_handler=on_bad_row),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=False, quoted_strings_can_be_null=False),
    }
    done = 0  # data rows (ragged ones included) before this block
    for n_batch, (head, block) in enumerate(_blocks(path, batch_bytes), start=1):
        ragged.clear()
        try:
            table = pacsv.read_csv(pa.py_buffer(head + block), **options)
        except pa.ArrowInvalid as exc:
            raise InputFileError(
                path, f"is not a readable UTF-8 CSV near data row {done + 1}: "
                f"{brief(exc)}") from exc
        total = table.num_rows + len({r for r, _ in ragged})
        logger.info("%s: batch %d, rows %d to %d", path.name, n_batch, done + 1,
                    done + total)
        yield TextBlock(name=path.name, table=table, first_row=done,
                        ragged=sorted((done + r, n) for r, n in ragged))
        done += total

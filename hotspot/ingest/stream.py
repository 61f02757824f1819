"""Read a large police.uk street CSV in batches, with bounded memory.

:func:`police_uk_batches` yields one :class:`~hotspot.ingest.schema.ReadResult`
per block of the file (pyarrow's streaming CSV reader, every value as text), each
parsed by the same :func:`hotspot.ingest.police_uk.parse_police_uk` as a whole
file, so ids, rejects and row numbers are those the whole-file reader gives. Rows
whose field count differs from the header's are rejected with their row number,
as the whole-file reader does.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from hotspot.errors import InputFileError
from hotspot.ingest.police_uk import parse_police_uk
from hotspot.ingest.schema import ReadResult
from hotspot.ingest.tables import TextTable, brief

logger = logging.getLogger(__name__)

#: Bytes of CSV per batch (about 400,000 police.uk rows).
DEFAULT_BATCH_BYTES = 64 << 20


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

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=batch_bytes, use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        next_row = 1
        for n_batches, batch in enumerate(reader, start=1):
            # the reader parses ahead: ragged rows of later blocks may be known
            frame = batch.to_pandas()
            bad = {r for r, _ in ragged}
            span = np.arange(next_row, next_row + len(frame) + len(bad))
            numbers = span[~np.isin(span, list(bad))][: len(frame)]
            row = int(numbers[-1]) + 1 if len(numbers) else next_row
            while row in bad:
                row += 1
            next_row = row
            skipped = sorted(r for r in ragged if r[0] < next_row)
            ragged[:] = [r for r in ragged if r[0] >= next_row]
            frame.index = numbers
            frame.index.name = "row"
            logger.info("%s: batch %d, rows %d to %d", path.name, n_batches,
                        int(numbers[0]) if len(numbers) else next_row, next_row - 1)
            yield parse_police_uk(TextTable(path=path.name, frame=frame,
                                            ragged=skipped, encoding="utf-8"))
    except pa.ArrowInvalid as exc:
        raise InputFileError(path, f"is not a readable CSV: {brief(exc)}") from exc

"""Read large sources in batches, with bounded memory.

:func:`read_batches` reads CSV files of any input format, Excel workbooks,
police.uk zips and download folders (several sources in one call) and yields one
:class:`~hotspot.ingest.schema.ReadResult` per batch of rows: only one batch is
in memory at a time. Each batch is a :class:`~hotspot.ingest.tables.TextTable`
made by the whole-file reader's own pieces (encoding rules, delimiter, csv
parser, header and blank-row rules, the stray-quote check, Excel cell text) and
parsed by the whole-file reader's own parser, so ids, rejects and row numbers
are those of :func:`hotspot.ingest.sources.read_sources`.

:func:`police_uk_batches` is the fast path for one police.uk street CSV: it
cuts the file into blocks at line ends outside quotes (:func:`_blocks`) and
parses each with pyarrow. Rows whose field count differs from the header's are
rejected with their row number, as the whole-file reader does.
:func:`police_uk_blocks` stops short of the parse (:class:`TextBlock`), and
:func:`table_batches` short of the format's parser (:class:`TableBatch`), so
the streamed ingest can parse each batch in a worker process.

Why this module is long: it is every streamed source kind in one place (CSV
text with its encoding, delimiter and quote rules, Excel sheets, zip members and
folders, several sources in a call), each a short adapter from a file handle to
the whole-file readers' own pieces; split up, the shared batching and error
rules would have to be repeated or passed around.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, islice, tee
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import pandas as pd

from hotspot.errors import InputFileError
from hotspot.ingest.istv import parse_istv
from hotspot.ingest.mapping import ColumnMapping
from hotspot.ingest.police_uk import (
    ZIP_ERRORS,
    PoliceUkReadResult,
    SkippedFile,
    _parquet_tables,
    members,
    parse_police_uk,
)
from hotspot.ingest.records import parse_records, parse_template
from hotspot.ingest.schema import ReadResult
from hotspot.ingest.sources import FORMATS, Format, format_of_headers, needed_mapping
from hotspot.ingest.tables import (
    EXCEL_SUFFIXES,
    TextTable,
    _decode,
    brief,
    data_rows,
    delimiter_of,
    excel_rows,
    header_row,
    open_workbook,
    unmerged_rows,
    worksheet_of,
)

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

#: Bytes of CSV per batch (about 400,000 police.uk rows).
DEFAULT_BATCH_BYTES = 64 << 20
#: Smallest block :func:`police_uk_blocks` cuts.
MIN_BLOCK_BYTES = 1 << 16
#: Rows of an Excel sheet per batch (a sheet holds at most 1,048,576).
DEFAULT_BATCH_ROWS = 200_000


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
    #: Row numbers of blank lines: not rows, but numbered, as the whole file is.
    blank: list[int] = field(default_factory=list)

    def parse(self) -> ReadResult:
        """Return the block's canonical rows and rejects."""
        bad = {r - self.first_row for r, _ in self.ragged} | {
            r - self.first_row for r in self.blank}
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
    if batch_bytes < MIN_BLOCK_BYTES:
        raise ValueError(f"batch_bytes must be at least {MIN_BLOCK_BYTES}, got "
                         f"{batch_bytes!r}")
    with open(path, "rb") as handle:
        first = handle.readline().decode("utf-8-sig", errors="replace")
    header = next(csv.reader([first]), [])
    if not header:
        raise InputFileError(path, "is empty: expected police.uk street crime")
    ragged: list[tuple[int, int]] = []
    blank: list[int] = []

    def on_bad_row(row: pacsv.InvalidRow) -> str:
        number = int(row.number or 0) - 1
        if row.actual_columns <= 1 and not (row.text or "").strip():
            blank.append(number)  # a blank line: numbered, not a row
        else:
            ragged.append((number, int(row.actual_columns)))
        return "skip"

    options = {
        "read_options": pacsv.ReadOptions(use_threads=False),
        "parse_options": pacsv.ParseOptions(invalid_row_handler=on_bad_row,
                                            ignore_empty_lines=False),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=False, quoted_strings_can_be_null=False),
    }
    done = 0  # data rows (ragged ones included) before this block
    for n_batch, (head, block) in enumerate(_blocks(path, batch_bytes), start=1):
        ragged.clear()
        blank.clear()
        try:
            table = pacsv.read_csv(pa.py_buffer(head + block), **options)
        except pa.ArrowInvalid as exc:
            raise InputFileError(
                path, f"is not a readable UTF-8 CSV near data row {done + 1}: "
                f"{brief(exc)}") from exc
        total = table.num_rows + len({r for r, _ in ragged} | set(blank))
        logger.info("%s: batch %d, rows %d to %d", path.name, n_batch, done + 1,
                    done + total)
        yield TextBlock(name=path.name, table=table, first_row=done,
                        ragged=sorted((done + r, n) for r, n in ragged),
                        blank=sorted(done + r for r in blank))
        done += total


def read_batches(
    paths: Path | str | Sequence[Path | str],
    *,
    fmt: Format | None = None,
    mapping: ColumnMapping | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    batch_rows: int | None = None,
) -> Iterator[PoliceUkReadResult]:
    """Yield the rows of ``paths``, in order, one batch at a time.

    Parameters
    ----------
    paths
        One source or several: CSV files in any input format, ``.xlsx``/``.xlsm``
        workbooks, police.uk zips and download folders. A police.uk parquet copy
        (already compact) is read whole and parsed one source file at a time.
    fmt, mapping
        As for :func:`hotspot.ingest.sources.read_sources`: when ``fmt`` is not
        given, a zip or folder is police.uk, a mapping means ``records``, and
        otherwise each file's headers tell its format.
    batch_bytes
        A CSV batch ends at the first row end after about this many characters.
    batch_rows
        A batch holds at most this many rows (blank rows included); an Excel
        batch holds :data:`DEFAULT_BATCH_ROWS` when not given.

    Yields
    ------
    PoliceUkReadResult
        One batch of one table (a batch never spans two files). ``skipped``
        lists every file of the zips and folders read so far that was left out,
        with the reason, so the last batch lists them all.

    Raises
    ------
    InputFileError
        When a source is missing, unreadable or not a table, naming the file
        (and the row or line when it is one); earlier batches have been yielded,
        so a caller keeps nothing until the last batch is read.

    Notes
    -----
    Checked per file, as the whole-file readers do: the encoding, the header
    (present, no repeats, required columns), the stray-quote check, ragged
    rows, the members a zip or folder skips, and that a file has data rows
    (raised after its last batch). Checked per batch: every field of every row
    (the rejects; ``read = accepted + rejected`` holds per batch), and, in the
    pipeline, duplicate ids and piled points, which a whole-file ingest checks
    over all its files together: an id repeated in another batch or another
    file is not flagged. Unlike the whole-file reader, a CSV must be UTF-8 (or
    UTF-16 with a byte-order mark, or in the encoding a records mapping names):
    there is no fall-back to Windows-1252, which needs the whole file read
    before the first row is kept.
    """
    for batch in table_batches(paths, fmt=fmt, mapping=mapping,
                               batch_bytes=batch_bytes, batch_rows=batch_rows):
        yield batch.parse()


Parser = Callable[[TextTable], ReadResult]


@dataclass
class TableBatch:
    """One batch of one source's rows as text, with the parser for its format.

    What :func:`table_batches` yields: :meth:`parse` gives the
    :class:`~hotspot.ingest.police_uk.PoliceUkReadResult` :func:`read_batches`
    yields, wherever it runs (the batch and its parser pickle).
    """

    #: The rows, numbered as in the file, and its ragged rows.
    table: TextTable
    #: The whole-file reader's parser for the source's format.
    parser: Parser
    #: The files of the zips and folders read so far that were left out.
    skipped: list[SkippedFile]

    def parse(self) -> PoliceUkReadResult:
        """Return the batch's canonical rows and rejects."""
        part = self.parser(self.table)
        return PoliceUkReadResult(
            accepted=part.accepted, rejected=part.rejected, n_read=part.n_read,
            files=part.files, skipped=list(self.skipped))


def table_batches(
    paths: Path | str | Sequence[Path | str],
    *,
    fmt: Format | None = None,
    mapping: ColumnMapping | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    batch_rows: int | None = None,
) -> Iterator[TableBatch]:
    """Yield what :func:`read_batches` yields, not yet parsed (:class:`TableBatch`).

    Reading, splitting into fields and numbering rows happen here; the parse,
    which may run in another process, is :meth:`TableBatch.parse`.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if batch_bytes < 1 or (batch_rows is not None and batch_rows < 1):
        raise ValueError(
            f"batch sizes must be positive, got {batch_bytes!r} bytes, "
            f"{batch_rows!r} rows")
    limits = _Limits(batch_bytes, batch_rows)
    skipped: list[SkippedFile] = []
    for source in paths:
        path = Path(source)
        if not path.exists():
            raise InputFileError(path, "does not exist")
        for table, parser in _tables(path, fmt, mapping, skipped, limits):
            yield TableBatch(table=table, parser=parser, skipped=list(skipped))


class _Limits:
    """How big a batch may grow: characters of CSV text and rows."""

    def __init__(self, chars: int, rows: int | None) -> None:
        self.chars = chars
        self.rows = rows


def _tables(
    path: Path,
    fmt: Format | None,
    mapping: ColumnMapping | None,
    skipped: list[SkippedFile],
    limits: _Limits,
) -> Iterator[tuple[TextTable, Parser]]:
    """Yield the batches of one source, each with the parser for its format."""
    if path.suffix.lower() == ".parquet":
        logger.info("%s: a parquet copy is read whole, not in batches", path)
        for table in _parquet_tables(path):
            yield table, parse_police_uk
        return
    if path.is_dir() or path.suffix.lower() == ".zip" or fmt == "police_uk":
        if fmt not in (None, "police_uk"):
            raise InputFileError(
                path, f"is a {'folder' if path.is_dir() else 'zip'}: only police.uk "
                f"street files are read from one, not --format {fmt}")
        for name, archive, member, file in members(path, skipped):
            opener = (partial(_open_member, name, archive, member) if archive
                      else partial(_open_file, file))
            for table in _text_tables(name, file, opener, limits=limits):
                yield table, parse_police_uk
        return
    chosen: Format | None = fmt or ("records" if mapping is not None else None)
    encoding = sheet = None
    if chosen == "records":
        mapping = needed_mapping(path, mapping)
        encoding, sheet = mapping.encoding, mapping.sheet
    tables = _text_tables(path.name, path, partial(_open_file, path),
                          encoding=encoding, sheet=sheet, limits=limits)
    first = next(tables)  # a file with no data rows raises here
    if chosen is None:
        chosen = format_of_headers(path, first.frame.columns)
    parse = _parser(path, chosen, mapping)
    for table in chain([first], tables):
        yield table, parse


def _parser(path: Path, fmt: str, mapping: ColumnMapping | None) -> Parser:
    """Return the whole-file reader's parser for ``fmt``, as it would call it."""
    synthetic = "synthetic" in path.name.lower()
    if fmt == "police_uk":
        return parse_police_uk
    if fmt == "istv":
        return partial(parse_istv, synthetic=synthetic)
    if fmt == "template":
        return partial(parse_template, synthetic=synthetic)
    if fmt == "records":
        return partial(parse_records, mapping=needed_mapping(path, mapping),
                       source="records", synthetic=synthetic)
    raise InputFileError(path, f"unknown format {fmt!r}; expected one of {FORMATS}")


def _open_file(path: Path) -> IO[bytes]:
    return path.open("rb")


def _open_member(name: str, archive: zipfile.ZipFile, member: str) -> IO[bytes]:
    try:
        return archive.open(member)
    except ZIP_ERRORS as exc:
        raise _unreadable(name, exc) from exc


def _unreadable(label: str, exc: BaseException) -> InputFileError:
    """Return the error for a file or zip member that cannot be read."""
    return InputFileError(label, f"cannot be read ({type(exc).__name__}: "
                          f"{brief(exc)})")


def _text_tables(
    label: str,
    file: Path,
    opener: Callable[[], IO[bytes]],
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    limits: _Limits,
) -> Iterator[TextTable]:
    """Yield one file's rows as text tables of at most a batch each.

    ``file``'s suffix tells Excel from CSV; ``opener`` opens its bytes (a file
    or a zip member, never read whole); ``label`` names it in messages and in
    ``source_file``, with ``#sheet`` appended for Excel, as
    :func:`hotspot.ingest.tables.read_text_table` does.
    """
    if file.suffix.lower() in EXCEL_SUFFIXES:
        yield from _excel_tables(label, opener, sheet=sheet, limits=limits)
    else:
        yield from _csv_tables(label, opener, encoding=encoding, limits=limits)


def _excel_tables(
    label: str, opener: Callable[[], IO[bytes]], *, sheet: str | None,
    limits: _Limits,
) -> Iterator[TextTable]:
    rows = limits.rows or DEFAULT_BATCH_ROWS
    with opener() as handle:
        book = open_workbook(label, handle)
        try:
            worksheet = worksheet_of(label, book, sheet)
            yield from _batched(f"{label}#{worksheet.title}", excel_rows(worksheet),
                                encoding="xlsx", size=lambda: rows)
        except InputFileError:
            raise
        except Exception as exc:  # openpyxl raises many kinds for a bad sheet
            raise InputFileError(
                label, f"is not a readable Excel workbook: {brief(exc)}") from exc
        finally:
            book.close()


class _Lines:
    """A CSV's text lines for the csv reader (``feed``), kept for the quote check.

    The reader consumes ``feed`` at C speed; a second iterator over the same
    lines lags behind and is read only when a record spans several lines (to
    give :func:`hotspot.ingest.tables.unmerged_rows` the lines it swallowed),
    and caught up after each batch, so at most a batch of lines is held.
    """

    def __init__(self, text: Iterator[str]) -> None:
        self.feed, self._back = tee(text)
        self._at = 0  # lines taken from _back

    def skip_to(self, line: int) -> None:
        """Drop the kept lines up to ``line`` (1-based), inclusive."""
        if line > self._at:
            deque(islice(self._back, line - self._at), maxlen=0)
            self._at = line

    def swallowed(self, first: int, last: int) -> list[str]:
        """Return lines ``first+1..last`` of a record spanning ``first..last``."""
        self.skip_to(first)
        out = list(islice(self._back, last - first))
        self._at = last
        return out


class _Pace:
    """Rows for the next CSV batch: about ``limits.chars`` bytes at the last rate."""

    def __init__(self, raw: IO[bytes], head: bytes, limits: _Limits) -> None:
        self._raw = raw
        self._limits = limits
        self._per_row = len(head) / max(1, head.count(b"\n"))
        self._pos = 0

    def rows(self) -> int:
        n = max(1, int(self._limits.chars / self._per_row))
        return min(n, self._limits.rows) if self._limits.rows else n

    def measure(self, n_rows: int) -> None:
        pos = self._raw.tell()
        self._per_row = max(1.0, (pos - self._pos) / max(1, n_rows))
        self._pos = pos


def _csv_tables(
    label: str, opener: Callable[[], IO[bytes]], *, encoding: str | None,
    limits: _Limits,
) -> Iterator[TextTable]:
    with opener() as raw:
        head = _read(label, raw, 65536)
    if encoding is None and head.startswith((b"\xff\xfe", b"\xfe\xff")):
        probe = head[:2]  # UTF-16, as the whole-file reader takes it
    elif encoding is None and b"\x00" in head:
        probe = b"\x00"  # the whole-file reader's "not a text table"
    else:
        probe = b""
    used = _decode(Path(label), probe, encoding)[1]
    delimiter = delimiter_of(head.decode(used, errors="replace"))
    with opener() as raw:
        lines = _Lines(io.TextIOWrapper(raw, encoding=used, newline=""))
        reader = csv.reader(lines.feed, delimiter=delimiter)
        rows = unmerged_rows(reader, swallowed=lines.swallowed, delimiter=delimiter,
                             label=label)
        pace = _Pace(raw, head, limits)

        def after(n_rows: int) -> None:
            pace.measure(n_rows)
            lines.skip_to(reader.line_num)

        try:
            yield from _batched(label, rows, encoding=used, size=pace.rows,
                                after=after)
        except UnicodeDecodeError as exc:
            advice = (
                "was the file cut short?" if used == "utf-16" else
                "the streamed ingest reads UTF-8 (or UTF-16 with a byte-order mark, "
                "or the encoding a records mapping names) and cannot fall back to "
                "Windows-1252: re-save the file as UTF-8, or ingest it without "
                "--stream")
            line = _bad_line(opener, used)
            where = (f"near line {reader.line_num + 1}" if line is None
                     else f"at line {line}")
            raise InputFileError(
                label, f"is not {used} text {where} ({exc.reason}); {advice}") from exc
        except csv.Error as exc:
            raise InputFileError(
                label, f"is not a readable CSV table: {brief(exc)}") from exc
        except ZIP_ERRORS as exc:
            raise InputFileError(
                label, f"cannot be read near line {reader.line_num + 1} "
                f"({type(exc).__name__}: {brief(exc)})") from exc


def _bad_line(opener: Callable[[], IO[bytes]], encoding: str) -> int | None:
    """Return the number of the first line that does not decode (None for UTF-16).

    The text reader decodes in chunks, so its error does not tell the line; this
    second pass, only on that error, does (for encodings where a line ends at
    a newline byte).
    """
    if codecs.lookup(encoding).name.startswith("utf-16"):
        return None
    decoder = codecs.getincrementaldecoder(encoding)()
    with opener() as raw:
        for number, line in enumerate(raw, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return number
    return None


def _read(label: str, raw: IO[bytes], size: int) -> bytes:
    try:
        return raw.read(size)
    except ZIP_ERRORS as exc:
        raise _unreadable(label, exc) from exc


def _batched(
    label: str,
    rows: Iterator[list[str]],
    *,
    encoding: str,
    size: Callable[[], int],
    after: Callable[[int], None] = lambda _n: None,
) -> Iterator[TextTable]:
    """Cut a file's rows into text tables, numbered as the whole-file reader does.

    The header is the first non-blank row; data rows are numbered from 1 after
    it (blank rows keep their number); ragged rows are listed, not kept. Each
    batch takes ``size()`` rows (blank ones included); ``after`` is told how
    many it took.
    """
    header = header_row(label, rows)
    numbered = enumerate(rows, start=1)
    n_batch = 0
    while (first := next(numbered, None)) is not None:
        cap = size()
        frame, ragged = data_rows(header, chain([first], islice(numbered, cap - 1)))
        last = max([*frame.index[-1:], *(r for r, _ in ragged[-1:])], default=first[0])
        after(last - first[0] + 1)
        if frame.empty and not ragged:
            continue  # only blank rows
        n_batch += 1
        logger.info("%s: batch %d, rows %d to %d", label, n_batch, first[0], last)
        yield TextTable(path=label, frame=frame, ragged=ragged, encoding=encoding)
    if n_batch == 0:
        raise InputFileError(label, "has a header but no data rows")

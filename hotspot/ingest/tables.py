"""Reading tabular input files (CSV and Excel) into plain text columns.

Readers call :func:`read_text_table` so every format shares one answer to the
questions of encoding, empty files, ragged rows and missing headers. Values stay
as text here; each reader parses and validates its own fields, so that a bad value
becomes a rejected row with a reason rather than a crash.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from hotspot.errors import InputFileError

logger = logging.getLogger(__name__)

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm"})
#: Encodings tried, in order, when none is given.
FALLBACK_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp1252")


@dataclass
class TextTable:
    """A table of text values read from one file.

    Attributes
    ----------
    path
        The file read (for Excel, with ``#sheet`` appended when a sheet was named).
    frame
        One column per header, every value a ``str`` (empty string when blank).
        The index holds the 1-based data row number (header excluded).
    ragged
        Rejected rows whose field count differs from the header's, as
        ``(row_number, n_fields)``; they are not in ``frame``.
    encoding
        The text encoding used (``"xlsx"`` for Excel).
    """

    path: str
    frame: pd.DataFrame
    ragged: list[tuple[int, int]]
    encoding: str

    @property
    def n_read(self) -> int:
        """Number of data rows read, ragged ones included."""
        return len(self.frame) + len(self.ragged)


def shown(items: Iterable[object], *, limit: int = 15, width: int = 40) -> str:
    """Format a list for a message: at most ``limit`` items of ``width`` chars."""
    values = [str(v) for v in items]
    cut = [v if len(v) <= width else v[: width - 1] + "…" for v in values[:limit]]
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return f"{cut}{more}"


def brief(error: object, *, limit: int = 300) -> str:
    """Cut an exception's text to ``limit`` characters for a one-line message."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decode(path: Path, raw: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError as exc:
            raise InputFileError(
                path, f"encoding {encoding!r} is not a known text encoding"
            ) from exc
        if codec == "utf-8":
            # Excel's "CSV UTF-8" starts with a byte-order mark: accept it
            encoding = "utf-8-sig"
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputFileError(
                path,
                f"cannot be decoded as {encoding}: {brief(exc)}; check the encoding "
                "the export was saved in",
            ) from exc
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputFileError(
                path,
                f"starts with a UTF-16 byte-order mark but is not valid UTF-16 "
                f"({len(raw)} bytes{', an odd length' if len(raw) % 2 else ''}: "
                f"{exc.reason} at byte {exc.start}); was the file cut short?",
            ) from exc
    if b"\x00" in raw[:65536]:
        raise InputFileError(
            path,
            "is not a text table (it contains NUL bytes); expected a CSV file "
            "saved as UTF-8, or an .xlsx workbook",
        )
    for candidate in FALLBACK_ENCODINGS:
        try:
            text = raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate != FALLBACK_ENCODINGS[0]:
            logger.warning("%s is not UTF-8; decoded it as %s", path, candidate)
        return text, candidate
    raise InputFileError(path, "cannot be decoded as UTF-8 or Windows-1252")


def _rows_to_frame(
    path: str, rows: Iterable[Sequence[str]], *, encoding: str
) -> TextTable:
    iterator = iter(rows)
    header = header_row(path, iterator)
    frame, ragged = data_rows(header, enumerate(iterator, start=1))
    if frame.empty and not ragged:
        raise InputFileError(path, "has a header but no data rows")
    return TextTable(path=path, frame=frame, ragged=ragged, encoding=encoding)


def header_row(path: str, rows: Iterator[Sequence[str]]) -> list[str]:
    """Take the header (the first row with a non-blank cell) from ``rows``.

    Raises
    ------
    InputFileError
        When there is no header or two headers are the same.
    """
    header: list[str] | None = None
    for candidate in rows:
        if any(cell.strip() for cell in candidate):
            header = [cell.strip() for cell in candidate]
            break
    if header is None:
        raise InputFileError(path, "is empty: expected a header row and data rows")
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise InputFileError(path, f"has repeated column headers {shown(dupes)}")
    return header


def data_rows(
    header: list[str], numbered: Iterable[tuple[int, Sequence[str]]]
) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """Split numbered data rows into a text frame and the ragged rows.

    A blank row is not a data row but keeps its number; a row whose field count
    differs from the header's is returned as ``(row_number, n_fields)``.
    """
    width = len(header)
    good: list[Sequence[str]] = []
    numbers: list[int] = []
    ragged: list[tuple[int, int]] = []
    for number, row in numbered:
        if len(row) == width:
            good.append(row)
            numbers.append(number)
        elif not any(cell.strip() for cell in row):
            continue  # a blank line is not a data row; it keeps its number
        else:
            ragged.append((number, len(row)))
    frame = pd.DataFrame(good, columns=header, index=pd.Index(numbers, name="row"))
    return frame, ragged


def read_text_table(
    path: Path | str,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    data: bytes | None = None,
    name: str | None = None,
) -> TextTable:
    """Read a CSV or Excel file into text columns, one row per data row.

    Parameters
    ----------
    path
        The file. ``.xlsx``/``.xlsm`` are read as Excel, anything else as CSV.
    encoding
        Text encoding of a CSV; detected (UTF-8, UTF-16 with BOM, Windows-1252)
        when not given.
    sheet
        Excel sheet name; the first sheet when not given.
    data
        The file's bytes, when they come from a zip member or an upload rather
        than the file system; ``path`` then only names it.
    name
        Name used in messages and in ``source_file`` (defaults to ``path``).

    Raises
    ------
    InputFileError
        When the file is missing, empty, not a table or cannot be decoded.
    """
    path = Path(path)
    label = name or str(path)
    if data is None:
        if not path.exists():
            raise InputFileError(label, "does not exist")
        if path.is_dir():
            raise InputFileError(label, "is a folder, expected a file")
        data = path.read_bytes()
    if not data.strip():
        raise InputFileError(label, "is empty: expected a header row and data rows")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _read_excel(label, data, sheet=sheet)
    text, used = _decode(Path(label), data, encoding)
    delimiter = delimiter_of(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines: list[str] = []

    def swallowed(first: int, last: int) -> list[str]:
        if not lines:
            lines.extend(io.StringIO(text, newline="").readlines())
        return lines[first:last]

    rows = unmerged_rows(reader, swallowed=swallowed, delimiter=delimiter,
                         label=label)
    try:
        return _rows_to_frame(label, rows, encoding=used)
    except csv.Error as exc:
        raise InputFileError(
            label, f"is not a readable CSV table: {brief(exc)}"
        ) from exc


#: Delimiters recognised, preferred in this order on a tie.
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")


def delimiter_of(text: str) -> str:
    """Return the delimiter that splits the header line into the most fields.

    Decided on the header alone, so that semicolons (or commas) inside quoted
    data values never change it; ``,`` when no candidate splits the header.
    """
    header = next((line for line in text[:65536].splitlines() if line.strip()), "")
    best, most = ",", 1
    for candidate in DELIMITERS:
        fields = next(csv.reader([header], delimiter=candidate), [])
        if len(fields) > most:
            best, most = candidate, len(fields)
    return best


def unmerged_rows(
    reader: Any,
    *,
    swallowed: Callable[[int, int], Sequence[str]],
    delimiter: str,
    label: str,
) -> Iterator[list[str]]:
    """Yield the reader's rows; raise when a stray quote merged whole rows.

    A quoted field may hold line breaks (an address on two lines), but when a
    record spans several physical lines and one of the swallowed lines is by
    itself a complete row (as many fields as the header), a quote was left open
    and rows would be merged silently: that is an error naming the row and lines.
    ``swallowed(first, last)`` returns the text lines ``first + 1`` to ``last``
    (1-based) of a record spanning lines ``first`` to ``last``.
    """
    width: int | None = None
    previous = 0
    data_row = 0
    for row in reader:
        first_line, last_line = previous + 1, reader.line_num
        previous = last_line
        if width is None:
            if any(cell.strip() for cell in row):
                width = len(row)
            yield row
            continue
        data_row += 1
        if last_line > first_line:
            after_first = swallowed(first_line, last_line)
            for offset, line in enumerate(after_first, start=first_line + 1):
                bare = line.rstrip("\r\n")
                cells = next(csv.reader([bare], delimiter=delimiter), [])
                # a whole row by itself, parsed alone or counted with its quotes
                # ignored (it may hold the stray quote's partner)
                whole = max(len(cells), bare.count(delimiter) + 1)
                if whole >= width > 1:
                    raise InputFileError(
                        label,
                        f"row {data_row} (line {first_line}): a quote opened in this "
                        f"row is not closed before line {offset}, which is a whole row "
                        f"by itself; lines {first_line}-{last_line} would be merged "
                        "into one row. Fix the stray quote (or double it: \"\")",
                    )
        yield row


def _read_excel(label: str, data: bytes, *, sheet: str | None) -> TextTable:
    book = open_workbook(label, io.BytesIO(data))
    try:
        worksheet = worksheet_of(label, book, sheet)
        table = _rows_to_frame(f"{label}#{worksheet.title}", excel_rows(worksheet),
                               encoding="xlsx")
    finally:
        book.close()
    return table


def open_workbook(label: str, source: Path | IO[bytes]) -> Any:
    """Open an Excel workbook read-only (cell values, not formulas).

    Raises
    ------
    InputFileError
        When ``source`` is not a readable workbook.
    """
    from openpyxl import load_workbook

    try:
        return load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad workbook
        raise InputFileError(
            label, f"is not a readable Excel workbook: {brief(exc)}"
        ) from exc


def worksheet_of(label: str, book: Any, sheet: str | None) -> Any:
    """Return the sheet named ``sheet`` of ``book``, or its first sheet."""
    if sheet is not None and sheet not in book.sheetnames:
        raise InputFileError(
            label, f"has no sheet {sheet!r}; its sheets are {book.sheetnames}"
        )
    return book[sheet] if sheet is not None else book.worksheets[0]


def excel_rows(worksheet: Any) -> Iterator[list[str]]:
    """Yield a worksheet's rows as text cells (empty string when blank)."""
    for row in worksheet.iter_rows(values_only=True):
        yield ["" if v is None else _excel_text(v) for v in row]


def _excel_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def match_headers(
    table: TextTable, wanted: dict[str, str], *, required: Iterable[str]
) -> dict[str, str]:
    """Match wanted headers to the table's, case- and space-insensitively.

    Parameters
    ----------
    table
        The table read.
    wanted
        Canonical name → header expected in the file.
    required
        Canonical names that must be present.

    Returns
    -------
    dict
        Canonical name → actual header in the file, for those present.

    Raises
    ------
    InputFileError
        Naming every required header that is missing and the headers found.
    """
    actual: dict[str, list[str]] = {}
    for header in table.frame.columns:
        actual.setdefault(" ".join(str(header).lower().split()), []).append(str(header))
    found: dict[str, str] = {}
    for canonical, header in wanted.items():
        key = " ".join(header.lower().split())
        if len(actual.get(key, [])) > 1:
            raise InputFileError(
                table.path,
                f"has columns {actual[key]} for {header!r}, which differ only by "
                "case or spacing; rename all but one so that it is clear which to read",
            )
        if key in actual:
            found[canonical] = actual[key][0]
    missing = [wanted[c] for c in required if c not in found]
    if missing:
        raise InputFileError(
            table.path,
            f"required column(s) {missing} missing; the file's columns are "
            f"{shown(table.frame.columns)}",
        )
    return found

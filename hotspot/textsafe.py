"""Text a user can download is safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read by Excel and LibreOffice as a formula (CSV injection: ``=HYPERLINK(...)``
in an uploaded file would come back as a live link in ``rejects.csv``). Such
text gets a leading apostrophe, which spreadsheets show as plain text; numbers
stay numbers (``-3`` is a number, not text).
"""

from __future__ import annotations

import pandas as pd

#: First characters a spreadsheet reads as the start of a formula.
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Return ``value`` with a leading ``'`` when it is text a formula could start."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells cannot run as formulas."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            out[name] = column.map(safe_cell, na_action="ignore")
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def safe_csv(frame: pd.DataFrame) -> bytes:
    """Return ``frame`` as UTF-8 CSV bytes, neutralised for spreadsheets."""
    return spreadsheet_safe(frame).to_csv(index=False).encode("utf-8")

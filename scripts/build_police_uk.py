"""Pack the 13 police.uk monthly street-crime CSVs into one Parquet file.

Reads ``SHARED_DATA_DIR/police_uk_2024/2024-MM-hampshire-street.csv`` (January to
April 2024) and ``SHARED_DATA_DIR/police_uk/2025-MM-hampshire-street.csv`` (January
to September 2025), never edited, and writes, under ``data/police_uk/``:

- ``hampshire_street_2024-01_2025-09.parquet`` (zstd): every row and every original
  column under its original name, plus ``source_file`` (the CSV's file name) and
  ``source_row`` (1-based data row within that CSV, the header not counted).
  Nothing is dropped or classified. Empty CSV cells are stored as nulls; repeated
  strings are dictionary encoded (pandas reads them back as categoricals);
  ``Longitude``/``Latitude`` are float64 (the script checks that formatting them
  back reproduces the CSV text exactly).
- ``months.csv``: rows per month and crime type (long format).

May to December 2024 could not be obtained: the file has a gap of eight months,
which the ingest reports as missing months (``missing_months``), not as zero.

The script re-reads what it wrote and stops with an error unless every value
matches the CSVs. Run with ``.venv/bin/python scripts/build_police_uk.py``.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hotspot.ingest import police_uk
from hotspot.settings import DATA_DIR, SHARED_DATA_DIR

log = logging.getLogger("build_police_uk")

COLUMNS: list[str] = list(police_uk.COLUMNS)
#: Columns whose values repeat a lot: stored dictionary encoded.
DICTIONARY_COLUMNS: list[str] = [
    "Month",
    "Reported by",
    "Falls within",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
    "source_file",
]
COORDINATE_COLUMNS: list[str] = ["Longitude", "Latitude"]
FILE_PATTERN = re.compile(r"^(\d{4}-\d{2})-hampshire-street\.csv$")
#: Source folders under SHARED_DATA_DIR and the monthly files each must hold.
SOURCES: dict[str, int] = {"police_uk_2024": 4, "police_uk": 9}
EXPECTED_ROWS = 54_059 + 126_106
OUT_NAME = "hampshire_street_2024-01_2025-09.parquet"
#: The file this one replaces (removed when the new one is written).
OLD_NAMES: tuple[str, ...] = ("hampshire_street_2025-01_2025-09.parquet",)


def read_month(path: Path) -> pd.DataFrame:
    """Read one monthly CSV as text, with ``source_file`` and ``source_row``."""
    match = FILE_PATTERN.match(path.name)
    if match is None:
        raise ValueError(f"{path}: expected a name like 2025-01-hampshire-street.csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    if list(frame.columns) != COLUMNS:
        raise ValueError(f"{path}: columns {list(frame.columns)}, expected {COLUMNS}")
    months = set(frame["Month"])
    if months != {match.group(1)}:
        raise ValueError(f"{path}: Month values {sorted(months)} do not match the name")
    frame["source_file"] = path.name
    frame["source_row"] = np.arange(1, len(frame) + 1, dtype=np.int32)
    log.info("read %s: %d rows", path.name, len(frame))
    return frame


def to_table(text: pd.DataFrame) -> pa.Table:
    """Convert the all-text frame to a typed Arrow table (nulls for empty cells)."""
    arrays: dict[str, pa.Array] = {}
    for col in [*COLUMNS, "source_file"]:
        values = text[col].to_numpy(dtype=object)
        mask = values == ""
        if col in COORDINATE_COLUMNS:
            arrays[col] = pa.array(
                pd.to_numeric(text[col].mask(mask), errors="raise").to_numpy(),
                type=pa.float64(),
                from_pandas=True,
            )
            continue
        arr = pa.array(values, type=pa.string(), mask=mask)
        arrays[col] = arr.dictionary_encode() if col in DICTIONARY_COLUMNS else arr
    arrays["source_row"] = pa.array(text["source_row"].to_numpy(), type=pa.int32())
    return pa.table(arrays)


def check_round_trip(path: Path, text: pd.DataFrame) -> None:
    """Raise unless the Parquet file reproduces every CSV cell exactly."""
    back = pq.read_table(path).to_pandas()
    if list(back.columns) != [*COLUMNS, "source_file", "source_row"]:
        raise ValueError(f"{path}: unexpected columns {list(back.columns)}")
    if len(back) != len(text):
        raise ValueError(f"{path}: {len(back)} rows, expected {len(text)}")
    for col in [*COLUMNS, "source_file"]:
        if col in COORDINATE_COLUMNS:
            decimals = text[col].str.split(".").str[1].str.len().fillna(0).astype(int)
            if decimals.nunique() != 1:
                raise ValueError(f"{col}: mixed decimal places {sorted(set(decimals))}")
            fmt = f"{{:.{int(decimals.iloc[0])}f}}"
            again = back[col].map(lambda v, f=fmt: "" if pd.isna(v) else f.format(v))
        else:
            again = back[col].astype(object).where(back[col].notna(), "")
        diff = (again.to_numpy(dtype=object) != text[col].to_numpy(dtype=object)).sum()
        if diff:
            raise ValueError(
                f"{path}: column {col!r} differs from the CSVs in {diff} rows"
            )
    if not (back["source_row"].to_numpy() == text["source_row"].to_numpy()).all():
        raise ValueError(f"{path}: source_row differs from the CSVs")
    log.info(
        "round trip: all %d rows and %d columns match the CSVs",
        len(back),
        back.shape[1],
    )


def month_counts(text: pd.DataFrame) -> pd.DataFrame:
    """Rows per month and crime type (long format, sorted)."""
    counts = (
        text.groupby(["Month", "source_file", "Crime type"], sort=True)
        .size()
        .rename("rows")
        .reset_index()
        .rename(columns={"Month": "month", "Crime type": "crime_type"})
    )
    return counts


def main(argv: list[str] | None = None) -> None:
    """Build the police.uk Parquet file and the month table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_DATA_DIR,
                        help="shared data folder (police_uk_2024/, police_uk/)")
    parser.add_argument("--out", type=Path, default=DATA_DIR / "police_uk")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    out: Path = args.out
    files: list[Path] = []
    for folder, expected in SOURCES.items():
        src = args.shared / folder
        found = sorted(p for p in src.glob("*.csv") if FILE_PATTERN.match(p.name))
        if len(found) != expected:
            raise FileNotFoundError(
                f"{src}: expected {expected} monthly CSVs, found {len(found)}"
            )
        files += found
    text = pd.concat([read_month(p) for p in files], ignore_index=True)
    months = sorted(set(text["Month"]))
    span = pd.period_range(months[0], months[-1], freq="M").astype(str)
    log.info("months missing between %s and %s: %s", months[0], months[-1],
             [m for m in span if m not in set(months)])
    if len(text) != EXPECTED_ROWS:
        raise ValueError(f"read {len(text)} rows, expected {EXPECTED_ROWS:,}")

    out.mkdir(parents=True, exist_ok=True)
    path = out / OUT_NAME
    pq.write_table(to_table(text), path, compression="zstd")
    log.info("wrote %s: %d rows, %.2f MB", path, len(text), path.stat().st_size / 1e6)
    check_round_trip(path, text)
    for old in OLD_NAMES:
        if (out / old).exists():
            (out / old).unlink()
            log.info("removed %s (replaced by %s)", out / old, OUT_NAME)

    counts = month_counts(text)
    counts.to_csv(out / "months.csv", index=False)
    wide = counts.pivot_table(index="month", columns="crime_type", values="rows")
    log.info("rows per month: %s", wide.sum(axis=1).astype(int).to_dict())
    log.info("wrote %s: %d rows", out / "months.csv", len(counts))


if __name__ == "__main__":
    main()

"""Column-mapping files: an export's headers mapped once to canonical columns.

The format is documented in ``docs/column-mapping.md``. A mapping names, for each
canonical input column, the header that holds it in the export, plus how values
are written (date formats, yes/no words, sex codes, encoding, Excel sheet).
"""

from __future__ import annotations

import codecs
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hotspot.errors import MappingError
from hotspot.ingest.fields import DEFAULT_FALSE, DEFAULT_TRUE
from hotspot.ingest.schema import FLAG_COLUMNS, LOCATION_COLUMNS

#: Canonical columns an input file may provide (the rest are derived).
INPUT_COLUMNS: tuple[str, ...] = (
    "occurrence_id",
    "occurred_from",
    "occurred_to",
    "offence_code",
    "offence_description",
    "hmic_group",
    *FLAG_COLUMNS,
    "victim_age",
    "victim_age_band",
    "victim_sex",
    *LOCATION_COLUMNS,
    "recorded_lsoa_code",
)
DEFAULT_SEX: dict[str, str] = {
    "m": "M",
    "male": "M",
    "f": "F",
    "female": "F",
    "u": "U",
    "unknown": "U",
}


@dataclass(frozen=True)
class ColumnMapping:
    """How one export layout maps to canonical columns.

    Attributes
    ----------
    columns
        Canonical column → header in the export.
    datetime_formats
        ``strptime`` formats tried in order before the ISO ones.
    true_values, false_values
        Words meaning yes / no in flag columns (case-insensitive).
    sex_values
        Export value (lower case) → ``"M"``, ``"F"`` or ``"U"``.
    """

    name: str
    columns: dict[str, str]
    datetime_formats: tuple[str, ...] = ()
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    sex_values: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SEX))
    encoding: str | None = None
    sheet: str | None = None
    source_path: str = "<built in>"

    def __post_init__(self) -> None:
        where = self.source_path
        unknown = sorted(set(self.columns) - set(INPUT_COLUMNS))
        if unknown:
            raise MappingError(
                f"{where}: [columns] has unknown canonical name(s) {unknown}; "
                f"expected names from {list(INPUT_COLUMNS)}"
            )
        for needed in ("occurrence_id", "occurred_from"):
            if needed not in self.columns:
                raise MappingError(f"{where}: [columns] must map {needed!r}")
        if not {"offence_code", "offence_description"} & set(self.columns):
            raise MappingError(
                f"{where}: [columns] must map 'offence_code' or 'offence_description'"
            )
        if not set(LOCATION_COLUMNS) & set(self.columns):
            raise MappingError(
                f"{where}: [columns] must map at least one location column of "
                f"{list(LOCATION_COLUMNS)}"
            )
        bad_sex = {k: v for k, v in self.sex_values.items() if v not in {"M", "F", "U"}}
        if bad_sex:
            raise MappingError(
                f"{where}: [values] sex maps to {bad_sex}; expected 'M', 'F' or 'U'"
            )


def _strings(value: Any, *, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f"{where}: [values] {key} must be a list of strings")
    return tuple(value)


def load_mapping(path: Path | str) -> ColumnMapping:
    """Read a column-mapping TOML file.

    Raises
    ------
    MappingError
        When the file is missing, not TOML, or maps columns wrongly; the message
        names the file and the key.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise MappingError(f"{where}: mapping file does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(
            f"{where}: not a valid TOML file: {' '.join(str(exc).split())[:300]}"
        ) from exc
    except RecursionError as exc:
        raise MappingError(
            f"{where}: not a usable mapping file: its tables or arrays are nested "
            "too deeply"
        ) from exc
    columns = data.get("columns")
    if not isinstance(columns, dict) or not all(
        isinstance(v, str) for v in columns.values()
    ):
        raise MappingError(
            f'{where}: needs a [columns] table of canonical name = "export header"'
        )
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise MappingError(f"{where}: [values] must be a table")
    kwargs: dict[str, Any] = {}
    if "datetime_formats" in values:
        formats = _strings(
            values["datetime_formats"], where=where, key="datetime_formats"
        )
        for fmt in formats:
            _check_format(fmt, where=where)
        kwargs["datetime_formats"] = formats
    if "true" in values:
        kwargs["true_values"] = _strings(values["true"], where=where, key="true")
    if "false" in values:
        kwargs["false_values"] = _strings(values["false"], where=where, key="false")
    if "sex" in values:
        sex = values["sex"]
        if not isinstance(sex, dict):
            raise MappingError(f"{where}: [values] sex must be a table")
        kwargs["sex_values"] = {str(k).strip().lower(): str(v) for k, v in sex.items()}
    for key in ("encoding", "sheet"):
        if key in values:
            if not isinstance(values[key], str):
                raise MappingError(
                    f"{where}: [values] {key} must be text, got {values[key]!r}"
                )
            kwargs[key] = values[key]
    if "encoding" in kwargs:
        try:
            codecs.lookup(kwargs["encoding"])
        except LookupError as exc:
            raise MappingError(
                f"{where}: [values] encoding {kwargs['encoding']!r} is not a known "
                "text encoding; expected e.g. 'utf-8', 'cp1252' or 'utf-16'"
            ) from exc
    return ColumnMapping(
        name=str(data.get("name", path.stem)),
        columns=dict(columns),
        source_path=where,
        **kwargs,
    )


def _check_format(fmt: str, *, where: str) -> None:
    """Raise unless ``fmt`` is a date format pandas can use."""
    if "%" not in fmt:
        raise MappingError(
            f"{where}: [values] datetime_formats: {fmt!r} has no % directive; "
            "expected strptime formats such as '%d/%m/%Y %H:%M'"
        )
    try:
        pd.to_datetime(pd.Series(["2025-01-01"]), format=fmt, errors="coerce")
    except (ValueError, TypeError) as exc:
        raise MappingError(
            f"{where}: [values] datetime_formats: {fmt!r} is not a usable date "
            f"format: {exc}"
        ) from exc


def template_mapping() -> ColumnMapping:
    """Return the plain CSV template's mapping: every header is its canonical name."""
    return ColumnMapping(
        name="Hotspot occurrence template",
        columns={c: c for c in INPUT_COLUMNS},
        source_path="template",
    )

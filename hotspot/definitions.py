"""The serious-violence definition as data, and classification against it.

The HIPS definition (agreed by the Strategic Violence Reduction Partnership) lives
in ``data/definitions/serious_violence_v1.toml`` as ordered clauses; the offence
lookup, the police.uk category mapping and the harm weights sit beside it as CSV
files. This module reads and validates those files and classifies occurrences:

- records-system rows carry a Home Office offence code (or only a description)
  and flags, and are classified by the clauses (``sv_match = "definition"``);
- police.uk rows carry only a ``crime_type`` and are mapped by category
  (``sv_match = "exact"`` for Robbery and Possession of weapons, ``"approximate"``
  for the supersets Violence and sexual offences and Public order).

``is_serious_violence`` is True for definition and exact matches only. An
approximate match is a superset of the definition (police.uk "Violence and sexual
offences" holds common assault and every sexual offence too), so it is kept with
its nearest category but never counted as serious violence.

Why this module is long: the serious-violence definition is data, and this module
is its one reader: loading and checking every clause of the TOML with errors
that name the file and key, the offence and harm tables, and classification;
split, the checks would drift from the loader.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from hotspot.errors import DataNotFoundError, DefinitionError, ParameterError
from hotspot.ingest.schema import FLAG_COLUMNS
from hotspot.settings import DATA_DIR

logger = logging.getLogger(__name__)

DEFINITIONS_DIR = DATA_DIR / "definitions"
DEFAULT_DEFINITION_PATH = DEFINITIONS_DIR / "serious_violence_v1.toml"

#: Serious-violence categories in display order, with plain-English names.
SV_CATEGORIES: Mapping[str, str] = MappingProxyType(
    {
        "most_serious_violence": "Most serious violence (homicide, GBH and above)",
        "robbery": "Robbery (business and personal property)",
        "possession_of_weapons": "Possession of weapons",
        "violent_disorder": "Violent disorder and riot",
        "bladed_violence_with_injury": (
            "Other violence with injury where a bladed implement was used"
        ),
    }
)

#: How a row's category was reached, strongest first.
SV_MATCHES: tuple[str, ...] = ("definition", "exact", "approximate", "none")

#: Columns :func:`classify` fills (and overwrites when present).
CLASSIFY_COLUMNS: tuple[str, ...] = (
    "offence_code",
    "offence_description",
    "hmic_group",
    "sv_category",
    "sv_match",
    "is_serious_violence",
    "harm_weight",
)

_MISSING_TEXT = frozenset({"", "NA", "N/A", "NULL", "NONE", "NAN", "-", "UNKNOWN"})
_CODE_PART = re.compile(r"^0*(\d+)([A-Z]?)$")
_HMIC = re.compile(r"^0*(\d+)([a-z]?)$")
_TRUE_TEXT = frozenset({"Y", "YES", "TRUE", "T", "1"})
_FALSE_TEXT = frozenset({"N", "NO", "FALSE", "F", "0", ""})
_UNAVAILABLE = "unavailable offline"


# --------------------------------------------------------------------------- types
@dataclass(frozen=True)
class FlagCondition:
    """A clause's condition on one occurrence flag (``column`` must equal ``value``)."""

    column: str
    value: bool


@dataclass(frozen=True)
class Clause:
    """One clause of the definition.

    A row matches when its HMIC group is in ``hmic_groups``, its offence code is
    one of ``offence_codes`` (any code in the groups when the tuple is empty; a
    code without a sub-code, such as ``"65"``, also covers ``"65/1"``, ``"65/2"``,
    ...) and, when ``flag`` is set, the flag column equals the flag value.
    """

    id: str
    sv_category: str
    description: str
    hmic_groups: tuple[str, ...]
    offence_codes: tuple[str, ...]
    flag: FlagCondition | None


@dataclass(frozen=True)
class ChangelogEntry:
    """One entry of the definition's changelog."""

    version: str
    date: dt.date
    change: str


@dataclass(frozen=True)
class Offence:
    """One row of the offence lookup (``offences.csv``)."""

    code: str
    description: str
    hmic_group: str


@dataclass(frozen=True)
class Definition:
    """A validated serious-violence definition and the lookups it names."""

    name: str
    version: str
    effective_date: dt.date
    agreed_by: str
    source: str
    clauses: tuple[Clause, ...]
    changelog: tuple[ChangelogEntry, ...]
    offences: tuple[Offence, ...]
    path: Path
    police_uk_categories_path: Path
    harm_weights_path: Path
    police_uk_harm_weights_path: Path | None = None

    def clause(self, clause_id: str) -> Clause:
        """Return the clause called ``clause_id``."""
        for item in self.clauses:
            if item.id == clause_id:
                return item
        known = [c.id for c in self.clauses]
        raise KeyError(f"clause_id must be one of {known}, got {clause_id!r}")


@dataclass(frozen=True)
class HarmWeights:
    """Harm weight per canonical offence code, and per police.uk category.

    ``weights`` are keyed by canonical offence code; ``category_weights`` by the
    case-folded police.uk ``crime_type`` and used only for rows with no offence
    code (police.uk rows). ``available`` is False when the offence file holds no
    weights; every harm weight is then 1. Units are those of the source: the ONS
    Crime Severity Score weights are sentence-equivalent days.
    """

    weights: Mapping[str, float]
    available: bool
    source: str
    path: Path
    category_weights: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    category_path: Path | None = None


# --------------------------------------------------------------- normalisation
def normalise_offence_code(code: object) -> str | None:
    """Return a Home Office offence code in canonical form, or None when missing.

    Leading zeros go, letters are upper-cased and ``.``/``-`` separators become
    ``/``: ``"005/01"``, ``"05/01"`` and ``"5/1"`` all give ``"5/1"``; ``"08n"``
    gives ``"8N"``; ``"4.1"`` gives ``"4/1"``. Text that is not code-shaped is
    returned upper-cased and stripped, so it can still be reported.

    Parameters
    ----------
    code
        The code as recorded (text or a number).

    Returns
    -------
    str or None
        The canonical code; None for empty and placeholder values (``"N/A"``).
    """
    if code is None or code is pd.NA:
        return None
    if isinstance(code, float):
        if np.isnan(code):
            return None
        code = f"{code:g}"
    text = re.sub(r"\s+", "", str(code)).upper()
    if text in _MISSING_TEXT:
        return None
    parts = re.split(r"[/.\-\\]", text)
    canonical = []
    for part in parts:
        match = _CODE_PART.match(part)
        if match is None:
            return text
        canonical.append(f"{int(match.group(1))}{match.group(2)}")
    return "/".join(canonical)


def normalise_offence_codes(codes: pd.Series) -> pd.Series:
    """Apply :func:`normalise_offence_code` to a column (once per distinct value)."""
    return _map_uniques(codes, normalise_offence_code)


def normalise_hmic_group(group: object) -> str | None:
    """Return an HMIC group in canonical form (``"01A"`` → ``"1a"``), or None."""
    if group is None or group is pd.NA:
        return None
    if isinstance(group, float):
        if np.isnan(group):
            return None
        group = f"{group:g}"
    text = re.sub(r"\s+", "", str(group)).lower()
    if text.upper() in _MISSING_TEXT:
        return None
    match = _HMIC.match(text)
    return text if match is None else f"{int(match.group(1))}{match.group(2)}"


def _normalise_description(text: object) -> str | None:
    if text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
        return None
    cleaned = " ".join(str(text).split()).casefold()
    return None if cleaned.upper() in _MISSING_TEXT else cleaned


def _map_uniques(values: pd.Series, func: Any, *, dtype: str = "string") -> pd.Series:
    """Apply ``func`` once per distinct non-missing value (missing stays missing)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [None], dtype=object)
    out = mapped[codes]  # sentinel -1 picks the trailing None
    return pd.Series(out, index=values.index, dtype=dtype)


def _as_flag(values: pd.Series) -> pd.Series:
    """Read a flag column (bool, or Y/N style text) as pandas ``boolean``."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")

    def read(value: object) -> object:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        text = str(value).strip().upper()
        if text in _TRUE_TEXT:
            return True
        if text in _FALSE_TEXT:
            return False
        return pd.NA

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([read(u) for u in uniques] + [pd.NA], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="boolean")


# ----------------------------------------------------------------------- loading
def load_definition(path: Path | None = None) -> Definition:
    """Read and validate a serious-violence definition file.

    Parameters
    ----------
    path
        A definition TOML file; the embedded HIPS definition when None.

    Returns
    -------
    Definition
        The clauses in order, with the offence lookup the file names.

    Raises
    ------
    DataNotFoundError
        When the file or a lookup it names does not exist.
    DefinitionError
        When the file is not valid TOML or a field is missing or malformed; the
        message names the file, the clause and the field.
    """
    path = Path(path) if path is not None else DEFAULT_DEFINITION_PATH
    raw = _read_toml(path)
    header = _validate_header(raw, path=path)
    lookups = _require(raw, "lookups", dict, path=path, where="top level")
    lookup_paths = {
        key: path.parent / _require(lookups, key, str, path=path, where="[lookups]")
        for key in ("offences", "police_uk_categories", "harm_weights")
    }
    category_weights = lookups.get("police_uk_harm_weights")
    if category_weights is not None and not isinstance(category_weights, str):
        raise DefinitionError(
            f"{path}: [lookups]: field 'police_uk_harm_weights' must be a file name "
            f"(text), got {type(category_weights).__name__}"
        )
    offences = _load_offences(lookup_paths["offences"])
    clauses = _validate_clauses(raw, path=path, offences=offences)
    changelog = _validate_changelog(raw, path=path, version=header["version"])
    return Definition(
        name=header["name"],
        version=header["version"],
        effective_date=header["effective_date"],
        agreed_by=header["agreed_by"],
        source=header["source"],
        clauses=clauses,
        changelog=changelog,
        offences=offences,
        path=path,
        police_uk_categories_path=lookup_paths["police_uk_categories"],
        harm_weights_path=lookup_paths["harm_weights"],
        police_uk_harm_weights_path=(
            path.parent / category_weights if category_weights else None
        ),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataNotFoundError(f"definition file {path} does not exist")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise DefinitionError(
            f"{path}: not a usable definition: tables or arrays nested too deeply"
        ) from exc


def _require(
    table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], *,
    path: Path, where: str,
) -> Any:
    if key not in table:
        raise DefinitionError(f"{path}: {where}: field {key!r} is missing")
    value = table[key]
    # a TOML datetime is also a date: require a plain date where a date is asked
    wrong_date = kind is dt.date and isinstance(value, dt.datetime)
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool) or (
        wrong_date
    ):
        expected = kind.__name__ if isinstance(kind, type) else str(kind)
        raise DefinitionError(
            f"{path}: {where}: field {key!r} must be {expected}, "
            f"got {type(value).__name__} {value!r}"
        )
    if isinstance(value, str) and not value.strip():
        raise DefinitionError(f"{path}: {where}: field {key!r} is empty")
    return value


def _validate_header(raw: Mapping[str, Any], *, path: Path) -> dict[str, Any]:
    where = "top level"
    header = {
        key: _require(raw, key, str, path=path, where=where)
        for key in ("name", "version", "agreed_by", "source")
    }
    header["effective_date"] = _require(
        raw, "effective_date", dt.date, path=path, where=where
    )
    return header


def _validate_clauses(
    raw: Mapping[str, Any], *, path: Path, offences: tuple[Offence, ...]
) -> tuple[Clause, ...]:
    items = _require(raw, "clauses", list, path=path, where="top level")
    if not items:
        raise DefinitionError(f"{path}: top level: field 'clauses' has no clauses")
    group_of = {o.code: o.hmic_group for o in offences}
    seen: set[str] = set()
    clauses = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DefinitionError(f"{path}: clause {number} must be a table")
        clause_id = _require(item, "id", str, path=path, where=f"clause {number}")
        where = f"clause {clause_id!r}"
        if clause_id in seen:
            raise DefinitionError(f"{path}: {where}: field 'id' is used twice")
        seen.add(clause_id)
        category = _require(item, "sv_category", str, path=path, where=where)
        if category not in SV_CATEGORIES:
            raise DefinitionError(
                f"{path}: {where}: field 'sv_category' must be one of "
                f"{list(SV_CATEGORIES)}, got {category!r}"
            )
        groups = _string_list(item, "hmic_groups", path=path, where=where)
        if not groups:
            raise DefinitionError(
                f"{path}: {where}: field 'hmic_groups' must list at least one group"
            )
        hmic_groups = tuple(normalise_hmic_group(g) or "" for g in groups)
        codes = _string_list(item, "offence_codes", path=path, where=where)
        offence_codes = []
        for code in codes:
            canonical = normalise_offence_code(code)
            if canonical not in group_of:
                raise DefinitionError(
                    f"{path}: {where}: field 'offence_codes': code {code!r} is not "
                    f"in the offence lookup; add it to offences.csv first"
                )
            if group_of[canonical] not in hmic_groups:
                raise DefinitionError(
                    f"{path}: {where}: field 'offence_codes': code {code!r} is in "
                    f"HMIC group {group_of[canonical]!r}, expected one of "
                    f"{list(hmic_groups)}"
                )
            offence_codes.append(canonical)
        clauses.append(
            Clause(
                id=clause_id,
                sv_category=category,
                description=str(item.get("description", "")),
                hmic_groups=hmic_groups,
                offence_codes=tuple(offence_codes),
                flag=_validate_flag(item, path=path, where=where),
            )
        )
    return tuple(clauses)


def _string_list(
    item: Mapping[str, Any], key: str, *, path: Path, where: str
) -> list[str]:
    values = _require(item, key, list, path=path, where=where)
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise DefinitionError(
                f"{path}: {where}: field {key!r} must be a list of text, "
                f"got an item {value!r}"
            )
    return values


def _validate_flag(
    item: Mapping[str, Any], *, path: Path, where: str
) -> FlagCondition | None:
    flag = _require(item, "flag", dict, path=path, where=where)
    if not flag:
        return None
    column = _require(flag, "column", str, path=path, where=f"{where}, flag")
    if column not in FLAG_COLUMNS:
        raise DefinitionError(
            f"{path}: {where}: field 'flag.column' must be one of "
            f"{list(FLAG_COLUMNS)}, got {column!r}"
        )
    value = _require(flag, "value", bool, path=path, where=f"{where}, flag")
    return FlagCondition(column=column, value=value)


def _validate_changelog(
    raw: Mapping[str, Any], *, path: Path, version: str
) -> tuple[ChangelogEntry, ...]:
    items = _require(raw, "changelog", list, path=path, where="top level")
    entries = []
    for number, item in enumerate(items, start=1):
        where = f"changelog entry {number}"
        if not isinstance(item, dict):
            raise DefinitionError(f"{path}: {where} must be a table")
        entries.append(
            ChangelogEntry(
                version=_require(item, "version", str, path=path, where=where),
                date=_require(item, "date", dt.date, path=path, where=where),
                change=_require(item, "change", str, path=path, where=where),
            )
        )
    if version not in {e.version for e in entries}:
        raise DefinitionError(
            f"{path}: top level: field 'changelog' has no entry for version "
            f"{version!r}; add one saying what changed"
        )
    return tuple(entries)


def _read_lookup_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise DataNotFoundError(f"lookup file {path} does not exist")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DefinitionError(
            f"{path}: columns {missing} are missing; expected at least {list(required)}"
        )
    return table


def _text_rows(table: pd.DataFrame) -> list[dict[str, str]]:
    """Return the rows of a lookup read as text, as plain dicts of str."""
    return [
        {str(k): str(v) for k, v in record.items()}
        for record in table.to_dict(orient="records")
    ]


def _load_offences(path: Path) -> tuple[Offence, ...]:
    required = ("offence_code", "offence_description", "hmic_group")
    table = _read_lookup_csv(path, required)
    offences = []
    seen_codes: set[str] = set()
    seen_descriptions: set[str] = set()
    for row_number, row in enumerate(table.itertuples(index=False), start=2):
        code = normalise_offence_code(row.offence_code)
        group = normalise_hmic_group(row.hmic_group)
        description = _normalise_description(row.offence_description)
        if code is None or group is None or description is None:
            raise DefinitionError(
                f"{path}: line {row_number}: offence_code, offence_description and "
                f"hmic_group must all be filled, got {tuple(row)[:3]!r}"
            )
        if code in seen_codes or description in seen_descriptions:
            raise DefinitionError(
                f"{path}: line {row_number}: offence code {code!r} or its "
                f"description is listed twice"
            )
        seen_codes.add(code)
        seen_descriptions.add(description)
        offences.append(
            Offence(code=code, description=str(row.offence_description).strip(),
                    hmic_group=group)
        )
    return tuple(offences)


def load_police_uk_categories(path: Path | None = None) -> pd.DataFrame:
    """Read the police.uk crime type → serious-violence category table.

    Parameters
    ----------
    path
        The CSV file; the embedded ``police_uk_categories.csv`` when None.

    Returns
    -------
    pandas.DataFrame
        Columns ``crime_type``, ``sv_category`` (NA when ``match`` is ``none``),
        ``match`` (``exact`` | ``approximate`` | ``none``) and ``note``.
    """
    if path is None:
        path = DEFINITIONS_DIR / "police_uk_categories.csv"
    path = Path(path)
    table = _read_lookup_csv(path, ("crime_type", "sv_category", "match", "note"))
    for row_number, row in enumerate(_text_rows(table), start=2):
        match, category = row["match"], row["sv_category"]
        if match not in ("exact", "approximate", "none"):
            raise DefinitionError(
                f"{path}: line {row_number}: match must be 'exact', 'approximate' or "
                f"'none', got {match!r}"
            )
        if (match == "none") != (category == ""):
            raise DefinitionError(
                f"{path}: line {row_number}: sv_category must be empty exactly when "
                f"match is 'none', got {category!r} with {match!r}"
            )
        if category and category not in SV_CATEGORIES:
            raise DefinitionError(
                f"{path}: line {row_number}: sv_category must be one of "
                f"{list(SV_CATEGORIES)}, got {category!r}"
            )
    if table["crime_type"].str.casefold().duplicated().any():
        raise DefinitionError(f"{path}: a crime_type is listed twice")
    table = table.astype("string")
    table["sv_category"] = table["sv_category"].replace("", pd.NA)
    return table


#: The harm-weight tables an ingest can apply, by name: the ONS Crime Severity
#: Score (default; official) and the third-party Cambridge Crime Harm Index
#: subgroup table (optional, labelled: ``data/definitions/README.md``).
HARM_TABLES: Mapping[str, tuple[str, str, str]] = MappingProxyType({
    "css": ("harm_weights.csv", "police_uk_category_harm_weights.csv",
            "ONS Crime Severity Score (2020 weights)"),
    "cchi": ("harm_weights_cchi_third_party.csv",
             "police_uk_category_harm_weights_cchi_third_party.csv",
             "Cambridge Crime Harm Index by subgroup (THIRD-PARTY table, not an "
             "official source)"),
})


@functools.cache
def load_harm_table(name: str = "css") -> HarmWeights:
    """Return one of the embedded harm-weight tables (:data:`HARM_TABLES`).

    Read once per process (the tables are read-only): a streamed ingest asks for
    it once per batch.
    """
    if name not in HARM_TABLES:
        raise ParameterError(
            f"harm table must be one of {list(HARM_TABLES)}, got {name!r}")
    codes, categories, _label = HARM_TABLES[name]
    return load_harm_weights(DEFINITIONS_DIR / codes,
                             categories_path=DEFINITIONS_DIR / categories)


def load_harm_weights(
    path: Path | None = None, *, categories_path: Path | None = None
) -> HarmWeights:
    """Read harm weights per offence code and per police.uk category.

    Rows whose ``weight`` is empty carry no weight. When no row carries one,
    ``available`` is False and a warning is logged; :func:`classify` then gives
    every occurrence weight 1. The embedded files hold the ONS Crime Severity
    Score weights (``scripts/build_harm_weights.py``; every mapping rule is in
    the file's ``rule`` column).

    Parameters
    ----------
    path
        The offence-code CSV file; the embedded ``harm_weights.csv`` when None.
    categories_path
        The police.uk category CSV file (columns ``crime_type``, ``weight``,
        ``source``). When None: the embedded
        ``police_uk_category_harm_weights.csv`` if ``path`` is None too, else no
        category weights.

    Returns
    -------
    HarmWeights
        Weights keyed by canonical offence code and by case-folded crime type,
        the availability flag and the named source(s).

    Raises
    ------
    DefinitionError
        When a weight is not a positive number, has no named source, or a
        category is listed twice; the message names the file and line.
    """
    if path is None and categories_path is None:
        categories_path = DEFINITIONS_DIR / "police_uk_category_harm_weights.csv"
    path = Path(path) if path is not None else DEFINITIONS_DIR / "harm_weights.csv"
    table = _read_lookup_csv(path, ("offence_code", "weight", "source"))
    weights: dict[str, float] = {}
    for row_number, row in enumerate(_text_rows(table), start=2):
        weight = _weight_of(row, path=path, row_number=row_number)
        if weight is None:
            continue
        code = normalise_offence_code(row["offence_code"])
        if code is None:
            raise DefinitionError(f"{path}: line {row_number}: offence_code is empty")
        weights[code] = weight
    sources = sorted({s.strip() for s in table["source"] if s.strip()})
    available = bool(weights)
    if not available:
        logger.warning(
            "harm weights unavailable in %s (source: %s): every harm_weight will be 1",
            path, "; ".join(sources) or "none named",
        )
    by_category: dict[str, float] = {}
    if categories_path is not None:
        categories_path = Path(categories_path)
        cats = _read_lookup_csv(categories_path, ("crime_type", "weight", "source"))
        for row_number, row in enumerate(_text_rows(cats), start=2):
            weight = _weight_of(row, path=categories_path, row_number=row_number)
            key = row["crime_type"].strip().casefold()
            if key in by_category:
                raise DefinitionError(
                    f"{categories_path}: line {row_number}: crime_type "
                    f"{row['crime_type']!r} is listed twice"
                )
            if weight is not None and key:
                by_category[key] = weight
    return HarmWeights(
        weights=MappingProxyType(weights),
        available=available,
        source="; ".join(sources),
        path=path,
        category_weights=MappingProxyType(by_category),
        category_path=categories_path,
    )


def _weight_of(row: Mapping[str, str], *, path: Path, row_number: int) -> float | None:
    """Return the positive weight of one lookup row (None when empty)."""
    text, source = row["weight"].strip(), row["source"].strip()
    if not text:
        return None
    try:
        weight = float(text)
    except ValueError:
        weight = float("nan")
    if not np.isfinite(weight) or weight <= 0:
        raise DefinitionError(
            f"{path}: line {row_number}: weight must be a positive number or "
            f"empty, got {text!r}"
        )
    if not source or source == _UNAVAILABLE:
        raise DefinitionError(
            f"{path}: line {row_number}: a weight needs its source named, "
            f"got source {source!r}"
        )
    return weight


# ------------------------------------------------------------------ classification
def classify(
    frame: pd.DataFrame,
    *,
    definition: Definition | None = None,
    harm_weights: HarmWeights | None = None,
) -> pd.DataFrame:
    """Classify occurrences against the serious-violence definition.

    Parameters
    ----------
    frame
        Occurrences with any of ``offence_code``, ``offence_description``,
        ``hmic_group``, ``crime_type`` and the flag columns (bool or Y/N text).
        Records rows carry a code or a description; police.uk rows only a
        ``crime_type``, which is used only where no code, description or HMIC
        group identifies the offence.
    definition
        The definition to apply; the embedded HIPS definition when None.
    harm_weights
        Harm weights; those the definition names when None.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` (same index) with :data:`CLASSIFY_COLUMNS` set:
        ``offence_code`` canonical, ``offence_description`` and ``hmic_group``
        filled from the offence lookup where missing, ``sv_category`` (NA when
        not serious violence), ``sv_match`` (``definition`` | ``exact`` |
        ``approximate`` | ``none``), ``is_serious_violence`` and ``harm_weight``
        (the offence code's weight; for a row without a code, its police.uk
        category's weight; 1 where no weight is known, e.g. anti-social
        behaviour or a code with no weight). ``attrs`` records the definition version
        and ``harm_weights_available``.

    Notes
    -----
    Clauses are tried in order and the first match wins, so GBH with a blade is
    "most serious violence", not "bladed violence with injury". A missing flag
    never satisfies a flag condition. Domestic occurrences stay in the
    definition; filter on ``domestic`` for the partnership's key indicators.
    Approximate police.uk matches keep their nearest ``sv_category`` but are
    not serious violence (``is_serious_violence`` False): the police.uk
    category is a superset of the definition.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    definition = definition if definition is not None else load_definition()
    if harm_weights is None:
        harm_weights = load_harm_weights(
            definition.harm_weights_path,
            categories_path=definition.police_uk_harm_weights_path,
        )
    # work on a positional index so duplicate labels never misalign
    work = frame.reset_index(drop=True)
    n_rows = len(work)

    code, description, hmic = _identify_offences(work, definition=definition)
    category = np.full(n_rows, None, dtype=object)
    match = np.full(n_rows, "none", dtype=object)

    assigned = np.zeros(n_rows, dtype=bool)
    for clause in definition.clauses:
        hits = ~assigned & _clause_mask(clause, frame=work, code=code, hmic=hmic)
        category[hits] = clause.sv_category
        assigned |= hits
    match[assigned] = "definition"

    identified = (code.notna() | hmic.notna()).to_numpy(dtype=bool)
    if "crime_type" in work.columns:
        police = load_police_uk_categories(definition.police_uk_categories_path)
        key = police["crime_type"].str.casefold()
        category_of = dict(zip(key, police["sv_category"], strict=True))
        match_of = dict(zip(key, police["match"], strict=True))

        def casefolded(text: object) -> str:
            return str(text).strip().casefold()

        by_type = _map_uniques(work["crime_type"], casefolded)
        mapped_match = _map_uniques(by_type, match_of.get).to_numpy(dtype=object)
        mapped_category = _map_uniques(by_type, category_of.get).to_numpy(dtype=object)
        use = ~identified & pd.notna(mapped_match)
        category[use] = mapped_category[use]
        match[use] = mapped_match[use]

    is_sv = pd.Series((match == "definition") | (match == "exact"), dtype="boolean")
    category[match == "none"] = None

    weight_of = dict(harm_weights.weights)
    weight = _map_uniques(code, weight_of.get, dtype="Float64")
    if harm_weights.category_weights and "crime_type" in work.columns:
        by_category = dict(harm_weights.category_weights)
        from_category = _map_uniques(
            work["crime_type"], lambda t: by_category.get(str(t).strip().casefold()),
            dtype="Float64",
        )
        weight = weight.where(code.notna(), from_category)
    weight = weight.fillna(1.0)
    if harm_weights.available:
        unweighted = int((code.notna() & ~code.isin(list(harm_weights.weights))).sum())
        if unweighted:
            logger.warning(
                "%d occurrences have an offence code without a harm weight in %s; "
                "their harm_weight is 1", unweighted, harm_weights.path,
            )

    out = frame.copy()
    results = {
        "offence_code": code,
        "offence_description": description,
        "hmic_group": hmic,
        "sv_category": pd.Series(category, dtype="string"),
        "sv_match": pd.Series(match, dtype="string"),
        "is_serious_violence": is_sv,
        "harm_weight": weight,
    }
    for name, values in results.items():
        out[name] = values.set_axis(out.index)
    out.attrs["definition_version"] = definition.version
    out.attrs["harm_weights_available"] = harm_weights.available
    logger.info(
        "classified %d rows with definition %s v%s: %d serious violence",
        len(out), definition.name, definition.version, int(is_sv.sum()),
    )
    return out


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def _identify_offences(
    frame: pd.DataFrame, *, definition: Definition
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Return canonical code, description and HMIC group for every row."""
    by_code = {o.code: o for o in definition.offences}
    code = normalise_offence_codes(_column(frame, "offence_code")).to_numpy(
        dtype=object, na_value=None
    )
    given = _map_uniques(_column(frame, "offence_description"), _strip_or_none)
    given_description = given.to_numpy(dtype=object, na_value=None)

    # a description alone identifies the code when it is in the lookup
    code_of_description = {
        _normalise_description(o.description): o.code for o in definition.offences
    }
    need = pd.isna(code) & pd.notna(given_description)
    if need.any():
        found = _map_uniques(
            given[need], lambda d: code_of_description.get(_normalise_description(d))
        )
        code[need] = found.to_numpy(dtype=object, na_value=None)
    code_series = pd.Series(code, index=frame.index, dtype="string")

    # HMIC group: as recorded, else from the code, else from its classification
    # (the part before '/') when every listed code of that classification agrees
    group_of_code = {c: o.hmic_group for c, o in by_code.items()}
    groups_of_class: dict[str, set[str]] = {}
    for c, o in by_code.items():
        groups_of_class.setdefault(c.split("/")[0], set()).add(o.hmic_group)
    group_of_class = {
        k: next(iter(v)) for k, v in groups_of_class.items() if len(v) == 1
    }

    def group_for(c: str) -> str | None:
        return group_of_code.get(c) or group_of_class.get(c.split("/")[0])

    hmic = _map_uniques(_column(frame, "hmic_group"), normalise_hmic_group).to_numpy(
        dtype=object, na_value=None
    )
    from_code = _map_uniques(code_series, group_for).to_numpy(
        dtype=object, na_value=None
    )
    hmic = np.where(pd.isna(hmic), from_code, hmic)

    description_of_code = {c: o.description for c, o in by_code.items()}
    looked_up = _map_uniques(code_series, description_of_code.get).to_numpy(
        dtype=object, na_value=None
    )
    description = np.where(pd.isna(given_description), looked_up, given_description)
    return (
        code_series,
        pd.Series(description, index=frame.index, dtype="string"),
        pd.Series(hmic, index=frame.index, dtype="string"),
    )


def _strip_or_none(text: object) -> str | None:
    cleaned = str(text).strip()
    return cleaned or None


def _clause_mask(
    clause: Clause, *, frame: pd.DataFrame, code: pd.Series, hmic: pd.Series
) -> np.ndarray:
    mask = hmic.isin(list(clause.hmic_groups)).to_numpy(dtype=bool, copy=True)
    if clause.offence_codes:
        listed = clause.offence_codes

        def covered(c: str | None) -> bool:
            return c is not None and any(
                c == k or c.startswith(k + "/") for k in listed
            )

        codes, uniques = pd.factorize(code, use_na_sentinel=True)
        hit = np.array([covered(u) for u in uniques] + [False], dtype=bool)
        mask &= hit[codes]
    if clause.flag is not None:
        if clause.flag.column in frame.columns:
            flag = _as_flag(frame[clause.flag.column])
            mask &= flag.eq(clause.flag.value).fillna(False).to_numpy(dtype=bool)
        else:
            mask &= False
    return mask

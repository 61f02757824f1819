"""Disclosure control for partner exports: the rules, applying them, and the checker.

Partners (CSPs, the Tactical Violence Reduction Partnership) receive level-2
data: hot-spot locations, never people. Every partner export obeys these rules
(:class:`DisclosureRules`, each configurable):

1. **No point-level occurrences.** No layer may hold point geometries, and no
   table may carry coordinate columns (``easting``, ``latitude``, ...).
2. **Small counts suppressed.** A count from 1 to ``min_count - 1`` (default
   1-4) is replaced by an empty value, and so are the columns that would
   reveal it (``harm`` of the same row). Zero is shown: an empty cell points at
   nobody. Count columns are those in ``count_columns``, those whose name ends
   in ``_count`` or starts with ``count_``, and those a file declares in its
   own metadata.
3. **Optional rounding** of every count to the nearest ``round_to`` (5).
4. **No H3 resolution finer than** ``max_resolution`` (default 9, about 174 m
   edge).
5. **No free-text location or identifier fields** (``occurrence_id``,
   ``location_text``, ``postcode``, names, narratives, generated explanations
   that quote counts, ...), and no text value that looks like a full postcode.
6. **Density surfaces** show no cell below the density of ``min_count``
   occurrences at one spot, ``min_count * 3 / (pi h^2)`` per km² for the quartic
   kernel of bandwidth ``h`` (one isolated occurrence peaks at ``3 / (pi h^2)``).
   Lower cells are written as nodata.

:func:`apply_rules` makes a table comply (or raises when it cannot, e.g. point
layers), :func:`check_frame` lists what breaks a rule in a table, and
:func:`check_file` does the same for a written file of any export format
(GeoPackage, GeoJSON, KML, GeoTIFF, CSV, and the PDF/PNG briefing through the
source tables written beside it). :func:`require_clean` raises
:class:`DisclosureError` with every reason.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.errors import HotspotError, ParameterError

#: Version of the rule set, recorded in every export's metadata and log line.
RULES_VERSION = "1"
#: Columns holding counts of occurrences (or of fires), checked and suppressed.
COUNT_COLUMNS: tuple[str, ...] = (
    "count", "neighbour_sum", "occurrences", "fires", "incidents", "offences",
    "before", "after", "n_points", "n_points_outside",
)
#: Columns suppressed together with a row's small count (they would reveal it).
DEPENDENT_COLUMNS: tuple[str, ...] = (
    "harm", "harm_sum", "rate_per_1000", "per_day", "share",
)
#: Coordinate fields: a table holding them is point-level data.
COORDINATE_FIELDS: tuple[str, ...] = (
    "easting", "northing", "latitude", "longitude", "lat", "lon", "lng",
    "grid_ref", "grid_reference",
)
#: Field names never allowed in a partner export (compared in lower case).
FORBIDDEN_FIELDS: tuple[str, ...] = (
    # identifiers
    "occurrence_id", "crime_id", "crime_reference", "reference", "urn",
    "source_file", "source_row", "incident_id", "nominal", "nominal_id",
    # free-text locations
    "location_text", "location", "street", "street_name", "address", "postcode",
    "geocode_uncertainty_m",
    # coordinates of single occurrences (reported as point-level data)
    *COORDINATE_FIELDS,
    # people
    "name_of_victim", "victim_name", "suspect_name", "offender_name",
    "person_name", "forename", "surname", "first_name", "last_name",
    "full_name", "date_of_birth", "dob", "victim_age", "victim_sex",
    # narratives, and generated text that can quote small counts
    "offence_description", "narrative", "notes", "note", "comments", "comment",
    "modus_operandi", "free_text", "details", "explanation",
    # single-occurrence times
    "occurred_from", "occurred_to",
)
#: A full UK postcode (outward and inward code), anywhere in a text value.
POSTCODE_PATTERN = re.compile(
    r"\b(?:GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)
_H3_PATTERN = re.compile(r"^[89][0-9a-f]{14}$")
#: Quartic kernel peak of one occurrence is ``QUARTIC_PEAK / (pi h^2)``.
QUARTIC_PEAK = 3.0
SUPPRESSED_TEXT = "suppressed"
#: Metadata keys whose integer values are occurrence counts.
METADATA_COUNT_KEYS: tuple[str, ...] = (
    "occurrences_in", "occurrences_counted", "outside_study_cells",
    "flagged_rows_left_out", "outside_csps", "n_points", "n_points_outside",
    "occurrences", "n_used",
)
#: File kinds :func:`check_file` reads, by suffix.
CHECKED_SUFFIXES: tuple[str, ...] = (
    ".gpkg", ".geojson", ".json", ".kml", ".tif", ".tiff", ".csv", ".pdf", ".png",
)
#: Sidecar holding the source tables of a PDF or PNG briefing.
SOURCES_SUFFIX = ".sources.json"
#: Sidecar holding a CSV table's metadata (CSV on the Web naming).
CSV_METADATA_SUFFIX = "-metadata.json"


class DisclosureError(HotspotError, ValueError):
    """An export breaks a disclosure rule; the message lists every reason."""

    def __init__(self, where: object, violations: Iterable[Violation]) -> None:
        self.where = str(where)
        self.violations = list(violations)
        reasons = "; ".join(str(v) for v in self.violations)
        super().__init__(f"{self.where} breaks the disclosure rules: {reasons}")


@dataclass(frozen=True)
class Violation:
    """One broken rule: which rule, in which layer or table, and what was found."""

    rule: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.detail}"


@dataclass(frozen=True)
class DisclosureRules:
    """The disclosure rules of a partner export.

    Attributes
    ----------
    min_count : int
        Smallest count shown; counts from 1 to ``min_count - 1`` are suppressed
        (default 5). 1 switches suppression off.
    round_to : int or None
        Round every count to the nearest multiple (5), or None (default).
    max_resolution : int
        Finest H3 resolution allowed (default 9, about 174 m edge).
    forbidden_fields : tuple of str
        Field names never exported (lower case).
    count_columns : tuple of str
        Columns holding counts.
    dependent_columns : tuple of str
        Columns suppressed with a row's small count.
    """

    min_count: int = 5
    round_to: int | None = None
    max_resolution: int = 9
    forbidden_fields: tuple[str, ...] = FORBIDDEN_FIELDS
    count_columns: tuple[str, ...] = COUNT_COLUMNS
    dependent_columns: tuple[str, ...] = DEPENDENT_COLUMNS

    def __post_init__(self) -> None:
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise ParameterError(
                f"min_count must be an integer of at least 1, got {self.min_count!r}"
            )
        if self.round_to is not None and (
            not isinstance(self.round_to, int) or self.round_to < 2
        ):
            raise ParameterError(
                f"round_to must be None or an integer of at least 2, got "
                f"{self.round_to!r}"
            )
        if not isinstance(self.max_resolution, int) or not (
            0 <= self.max_resolution <= 15
        ):
            raise ParameterError(
                f"max_resolution must be an H3 resolution 0-15, got "
                f"{self.max_resolution!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the rules as JSON-ready values (for metadata and the log)."""
        out = asdict(self)
        out["version"] = RULES_VERSION
        out["forbidden_fields"] = list(self.forbidden_fields)
        out["count_columns"] = list(self.count_columns)
        out["dependent_columns"] = list(self.dependent_columns)
        return out

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DisclosureRules:
        """Build rules from a mapping (a view file's ``[disclosure]`` table).

        Keys: ``min_count``, ``round_to`` (an integer, or ``0``/``false`` for
        none), ``max_resolution``; unknown keys raise.
        """
        allowed = {"min_count", "round_to", "max_resolution"}
        unknown = set(values) - allowed
        if unknown:
            raise ParameterError(
                f"disclosure settings must be some of {sorted(allowed)}, got "
                f"{sorted(unknown)}"
            )
        kwargs: dict[str, Any] = dict(values)
        if kwargs.get("round_to") in (0, False):
            kwargs["round_to"] = None
        return cls(**kwargs)

    def density_floor_per_km2(self, bandwidth_m: float) -> float:
        """Smallest density shown: ``min_count`` occurrences at one spot, per km².

        Parameters
        ----------
        bandwidth_m : float
            Quartic kernel bandwidth in metres.
        """
        if not bandwidth_m > 0:
            raise ParameterError(f"bandwidth_m must be positive, got {bandwidth_m!r}")
        h_km = bandwidth_m / 1000.0
        return self.min_count * QUARTIC_PEAK / (math.pi * h_km**2)


DEFAULT_RULES = DisclosureRules()


@dataclass
class Applied:
    """What :func:`apply_rules` changed in one table."""

    suppressed: int = 0
    rounded: bool = False
    dropped_fields: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------
# which columns are what
# ----------------------------------------------------------------------------


def _norm(name: object) -> str:
    return str(name).strip().lower()


def count_columns_of(
    frame: pd.DataFrame,
    *,
    rules: DisclosureRules = DEFAULT_RULES,
    declared: Iterable[str] = (),
) -> list[str]:
    """Columns of ``frame`` holding counts (by name, by pattern, or declared)."""
    known = {_norm(c) for c in rules.count_columns} | {_norm(c) for c in declared}
    out = []
    for name in frame.columns:
        key = _norm(name)
        if key == "geometry":
            continue
        if key in known or key.endswith("_count") or key.startswith("count_"):
            out.append(name)
    return out


def forbidden_columns_of(
    frame: pd.DataFrame, *, rules: DisclosureRules = DEFAULT_RULES
) -> list[str]:
    """Columns of ``frame`` whose names are forbidden fields."""
    banned = {_norm(c) for c in rules.forbidden_fields}
    return [c for c in frame.columns if _norm(c) in banned]


def _numeric(values: pd.Series) -> npt.NDArray[np.float64]:
    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float)


def _small(values: npt.NDArray[np.float64], min_count: int) -> npt.NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        return (values > 0) & (values < min_count)


# ----------------------------------------------------------------------------
# applying
# ----------------------------------------------------------------------------


def apply_rules(
    frame: pd.DataFrame,
    *,
    rules: DisclosureRules = DEFAULT_RULES,
    name: str = "table",
    declared_counts: Iterable[str] = (),
) -> tuple[pd.DataFrame, Applied]:
    """Return a copy of ``frame`` that complies with the rules, and what changed.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        A table to export (cells, outlines, a summary table). Not modified.
    rules : DisclosureRules, keyword-only
        The rules.
    name : str, keyword-only
        Layer or table name, for messages.
    declared_counts : iterable of str, keyword-only
        Further columns holding counts (besides the rules' names and patterns).

    Returns
    -------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        Forbidden fields dropped; small counts, and their rows' dependent
        columns, set to missing (float columns); counts rounded when asked.
    applied : Applied
        Cells suppressed, whether counts were rounded, fields dropped.

    Raises
    ------
    DisclosureError
        When the table cannot be made to comply without changing what it is:
        point geometries, or H3 cells finer than ``rules.max_resolution``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            f"frame must be a pandas or geopandas DataFrame, got "
            f"{type(frame).__name__}"
        )
    fatal = list(_check_geometry(frame, name=name))
    fatal += _check_h3(frame, rules=rules, name=name)
    if fatal:
        raise DisclosureError(name, fatal)
    applied = Applied()
    dropped = forbidden_columns_of(frame, rules=rules)
    out = frame.drop(columns=dropped)
    applied.dropped_fields = [str(c) for c in dropped]
    counts = count_columns_of(out, rules=rules, declared=declared_counts)
    linked = {_norm(d) for d in rules.dependent_columns}
    dependents = [c for c in out.columns if _norm(c) in linked]
    if counts and rules.min_count > 1:
        small_rows = np.zeros(len(out), dtype=bool)
        for col in counts:
            values = _numeric(out[col])
            small = _small(values, rules.min_count)
            small_rows |= small
            out[col] = np.where(small, np.nan, values)
        for col in dependents:
            values = _numeric(out[col])
            out[col] = np.where(small_rows, np.nan, values)
        applied.suppressed = int(small_rows.sum())
    if counts and rules.round_to:
        for col in counts:
            values = _numeric(out[col])
            out[col] = np.round(values / rules.round_to) * rules.round_to
        applied.rounded = True
    return out, applied


def suppress_metadata(value: Any, *, rules: DisclosureRules = DEFAULT_RULES) -> Any:
    """Return a copy of JSON-like metadata with small occurrence totals suppressed.

    Integers from 1 to ``min_count - 1`` under the keys in
    :data:`METADATA_COUNT_KEYS` become ``"suppressed"``; with rounding, the
    other values there are rounded.
    """
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if _norm(key) in METADATA_COUNT_KEYS and _is_number(item):
                number = float(item)
                if 0 < number < rules.min_count:
                    out[key] = SUPPRESSED_TEXT
                elif rules.round_to:
                    out[key] = int(round(number / rules.round_to) * rules.round_to)
                else:
                    out[key] = item
            else:
                out[key] = suppress_metadata(item, rules=rules)
        return out
    if isinstance(value, list | tuple):
        return [suppress_metadata(v, rules=rules) for v in value]
    return value


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


# ----------------------------------------------------------------------------
# checking tables
# ----------------------------------------------------------------------------


def _check_geometry(frame: pd.DataFrame, *, name: str) -> list[Violation]:
    if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame:
        return []
    kinds = frame.geometry.geom_type.dropna()
    points = int(kinds.isin(["Point", "MultiPoint"]).sum())
    if points:
        return [Violation("no-points", name,
                          f"{points} point geometries: partner exports hold cells "
                          "and areas, never point-level occurrences")]
    return []


def _check_h3(
    frame: pd.DataFrame, *, rules: DisclosureRules, name: str
) -> list[Violation]:
    found = []
    for col in frame.columns:
        if col == "geometry" or not _is_text(frame[col]):
            continue
        values = frame[col].dropna().astype(str).str.strip().str.lower()
        cells = values[values.str.match(_H3_PATTERN)]
        cells = cells[[h3.is_valid_cell(c) for c in cells]]
        if cells.empty:
            continue
        finest = max(h3.get_resolution(c) for c in cells.unique())
        if finest > rules.max_resolution:
            found.append(Violation(
                "h3-resolution", f"{name}.{col}",
                f"H3 resolution {finest} is finer than the limit "
                f"{rules.max_resolution}; aggregate to resolution "
                f"{rules.max_resolution} or coarser",
            ))
    return found


def _is_text(values: pd.Series) -> bool:
    return bool(
        values.dtype == object
        or isinstance(values.dtype, pd.StringDtype)
        or str(values.dtype) in ("str", "string")
    )


def check_frame(
    frame: pd.DataFrame,
    *,
    rules: DisclosureRules = DEFAULT_RULES,
    name: str = "table",
    declared_counts: Iterable[str] = (),
) -> list[Violation]:
    """List every rule a table breaks (empty when it complies).

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The table as it will be (or was) exported.
    rules : DisclosureRules, keyword-only
        The rules.
    name : str, keyword-only
        Layer or table name, for messages.
    declared_counts : iterable of str, keyword-only
        Further count columns (declared in the file's metadata).

    Returns
    -------
    list of Violation
    """
    found = _check_geometry(frame, name=name)
    found += _check_h3(frame, rules=rules, name=name)
    for col in forbidden_columns_of(frame, rules=rules):
        if _norm(col) in COORDINATE_FIELDS:
            found.append(Violation("no-points", f"{name}.{col}",
                                   "coordinates of single occurrences"))
        else:
            found.append(Violation("no-free-text", f"{name}.{col}", "identifier, "
                                   "free-text location or personal field"))
    for col in frame.columns:
        if col == "geometry" or not _is_text(frame[col]):
            continue
        text = frame[col].dropna().astype(str)
        hits = text[text.str.contains(POSTCODE_PATTERN)]
        if len(hits):
            found.append(Violation("no-free-text", f"{name}.{col}",
                                   f"{len(hits)} values hold a postcode "
                                   f"(e.g. {hits.iloc[0][:40]!r})"))
    counts = count_columns_of(frame, rules=rules, declared=declared_counts)
    for col in counts:
        values = _numeric(frame[col])
        small = _small(values, rules.min_count)
        if small.any():
            found.append(Violation(
                "small-counts", f"{name}.{col}",
                f"{int(small.sum())} counts between 1 and {rules.min_count - 1} "
                f"(e.g. {values[small][0]:g}); they must be suppressed",
            ))
        if rules.round_to:
            finite = values[np.isfinite(values)]
            off = finite[np.abs(finite / rules.round_to - np.round(
                finite / rules.round_to)) > 1e-9]
            if off.size:
                found.append(Violation(
                    "rounding", f"{name}.{col}",
                    f"{off.size} counts not rounded to {rules.round_to} "
                    f"(e.g. {off[0]:g})",
                ))
    if counts:
        hidden = np.zeros(len(frame), dtype=bool)
        for col in counts:
            hidden |= ~np.isfinite(_numeric(frame[col])) & frame[col].isna().to_numpy()
        banned = {_norm(d) for d in rules.dependent_columns}
        for col in frame.columns:
            if _norm(col) in banned:
                shown = np.isfinite(_numeric(frame[col])) & hidden
                if shown.any():
                    found.append(Violation(
                        "small-counts", f"{name}.{col}",
                        f"{int(shown.sum())} rows show {col} where the count is "
                        "suppressed",
                    ))
    return found


def check_metadata(
    metadata: Any, *, rules: DisclosureRules = DEFAULT_RULES, name: str = "metadata"
) -> list[Violation]:
    """List small occurrence totals and postcodes in JSON-like metadata."""
    found: list[Violation] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                where = f"{path}.{key}"
                if (_norm(key) in METADATA_COUNT_KEYS and _is_number(item)
                        and 0 < float(item) < rules.min_count):
                    found.append(Violation("small-counts", where,
                                           f"total {item} is below {rules.min_count}"))
                elif _norm(key) in {_norm(f) for f in rules.forbidden_fields} and (
                    item not in (None, "", [], {})
                ) and not isinstance(item, Mapping):
                    found.append(Violation("no-free-text", where,
                                           "identifier or free-text field"))
                walk(item, where)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif isinstance(value, str) and POSTCODE_PATTERN.search(value):
            found.append(Violation("no-free-text", path,
                                   f"holds a postcode ({value[:40]!r})"))

    walk(metadata, name)
    return found


def check_density(
    values: npt.ArrayLike,
    *,
    bandwidth_m: float,
    rules: DisclosureRules = DEFAULT_RULES,
    nodata: float | None = None,
    name: str = "density",
) -> list[Violation]:
    """List cells of a density surface below the disclosure floor (rule 6)."""
    data = np.asarray(values, dtype=float)
    valid = np.isfinite(data)
    if nodata is not None:
        valid &= data != nodata
    floor = rules.density_floor_per_km2(bandwidth_m)
    low = valid & (data > 0) & (data < floor * (1 - 1e-6))
    if low.any():
        return [Violation(
            "small-counts", name,
            f"{int(low.sum())} cells below {floor:.3g} per km² (the density of "
            f"{rules.min_count} occurrences at one spot with a {bandwidth_m:g} m "
            "bandwidth); they must be nodata",
        )]
    return []


def mask_density(
    values: npt.ArrayLike,
    *,
    bandwidth_m: float,
    rules: DisclosureRules = DEFAULT_RULES,
) -> tuple[npt.NDArray[np.float64], int]:
    """Return a copy of a density grid with cells below the floor set to NaN.

    Zero cells stay zero. Returns the new grid and how many cells were masked.
    """
    data = np.array(values, dtype=float)
    floor = rules.density_floor_per_km2(bandwidth_m)
    with np.errstate(invalid="ignore"):
        low = np.isfinite(data) & (data > 0) & (data < floor)
    data[low] = np.nan
    return data, int(low.sum())


# ----------------------------------------------------------------------------
# checking files
# ----------------------------------------------------------------------------


def check_file(
    path: Path | str, *, rules: DisclosureRules = DEFAULT_RULES
) -> list[Violation]:
    """List every rule an export file breaks (empty when it complies).

    Parameters
    ----------
    path : pathlib.Path or str
        A ``.gpkg``, ``.geojson``/``.json``, ``.kml``, ``.tif``/``.tiff``,
        ``.csv``, ``.pdf`` or ``.png`` file. A CSV is read with its
        ``NAME.csv-metadata.json`` sidecar when present; a PDF or PNG through
        its ``NAME.pdf.sources.json`` sidecar of source tables, which must exist.
    rules : DisclosureRules, keyword-only
        The rules.

    Returns
    -------
    list of Violation

    Raises
    ------
    ParameterError
        When the file does not exist or its kind is not one of the above.
    """
    target = Path(path)
    if not target.is_file():
        raise ParameterError(f"path must be an existing export file, got {target}")
    suffix = target.suffix.lower()
    if suffix not in CHECKED_SUFFIXES:
        raise ParameterError(
            f"path must end in one of {CHECKED_SUFFIXES} to be checked, got {target}"
        )
    if suffix == ".gpkg":
        return _check_vector_file(target, rules=rules, driver="GPKG")
    if suffix in (".geojson", ".json"):
        return _check_geojson(target, rules=rules)
    if suffix == ".kml":
        return _check_vector_file(target, rules=rules, driver=None)
    if suffix in (".tif", ".tiff"):
        return _check_geotiff(target, rules=rules)
    if suffix == ".csv":
        return _check_csv(target, rules=rules)
    return _check_sources(target, rules=rules)


def require_clean(path: Path | str, *, rules: DisclosureRules = DEFAULT_RULES) -> None:
    """Raise :class:`DisclosureError` with every reason when ``path`` breaks a rule."""
    found = check_file(path, rules=rules)
    if found:
        raise DisclosureError(path, found)


def _declared(meta: Any) -> list[str]:
    if isinstance(meta, Mapping):
        value = meta.get("count_columns", [])
        if isinstance(value, list):
            return [str(v) for v in value]
    return []


def _json_or_none(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _check_vector_file(
    path: Path, *, rules: DisclosureRules, driver: str | None
) -> list[Violation]:
    import pyogrio

    found: list[Violation] = []
    for layer_name, _kind in pyogrio.list_layers(path):
        layer = str(layer_name)
        info = pyogrio.read_info(path, layer=layer)
        meta = {k: _json_or_none(v) for k, v in
                (info.get("layer_metadata") or {}).items()}
        hotspot_meta = meta.get("hotspot")
        found += check_metadata(hotspot_meta, rules=rules, name=f"{layer}.metadata")
        frame = pyogrio.read_dataframe(path, layer=layer)
        declared = _declared(hotspot_meta)
        found += check_frame(frame, rules=rules, name=layer, declared_counts=declared)
    if driver == "GPKG":
        found += _check_gpkg_metadata(path, rules=rules)
    else:
        found += _check_kml_text(path, rules=rules)
    return found


def _check_gpkg_metadata(path: Path, *, rules: DisclosureRules) -> list[Violation]:
    import sqlite3

    found: list[Violation] = []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        if "gpkg_metadata" in tables:
            for (text,) in con.execute("SELECT metadata FROM gpkg_metadata"):
                for match in re.finditer(r'<Item key="hotspot"[^>]*>(.*?)</Item>',
                                         str(text), flags=re.S):
                    payload = _json_or_none(_unescape_xml(match.group(1)))
                    found += check_metadata(payload, rules=rules,
                                            name="gpkg_metadata")
    finally:
        con.close()
    return found


def _unescape_xml(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def _check_kml_text(path: Path, *, rules: DisclosureRules) -> list[Violation]:
    """Check the KML document's own description and ExtendedData."""
    import xml.etree.ElementTree as ET

    ns = {"k": "http://www.opengis.net/kml/2.2"}
    root = ET.parse(path).getroot()
    doc = root.find("k:Document", ns)
    if doc is None:
        return [Violation("format", str(path), "KML has no Document element")]
    found: list[Violation] = []
    for data in doc.findall("k:ExtendedData/k:Data", ns):
        value = data.findtext("k:value", default="", namespaces=ns)
        found += check_metadata({data.get("name", "?"): _json_or_none(value)},
                                rules=rules, name="kml.Document")
    return found


def _check_geojson(path: Path, *, rules: DisclosureRules) -> list[Violation]:
    import pyogrio

    doc = json.loads(path.read_text(encoding="utf-8"))
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    found = check_metadata(meta, rules=rules, name=f"{path.name}.metadata")
    frame = pyogrio.read_dataframe(path)
    found += check_frame(frame, rules=rules, name=path.stem,
                         declared_counts=_declared(meta))
    return found


def _check_geotiff(path: Path, *, rules: DisclosureRules) -> list[Violation]:
    import rasterio

    found: list[Violation] = []
    with rasterio.open(path) as src:
        tags = src.tags()
        data = src.read(1, masked=False)
        nodata = src.nodata
    meta = {k: _json_or_none(v) for k, v in tags.items()}
    found += check_metadata(meta, rules=rules, name=f"{path.name}.tags")
    banned = {_norm(f) for f in rules.forbidden_fields}
    found += [Violation("no-points" if _norm(k) in COORDINATE_FIELDS
                        else "no-free-text", f"{path.name}.tags.{k}",
                        "identifier, coordinate or free-text field")
              for k in tags if _norm(k) in banned]
    bandwidth = tags.get("bandwidth_m")
    try:
        bandwidth_m = float(bandwidth) if bandwidth is not None else float("nan")
    except ValueError:
        bandwidth_m = float("nan")
    if not bandwidth_m > 0:
        found.append(Violation("small-counts", f"{path.name}.tags.bandwidth_m",
                               "no bandwidth_m tag: the density floor cannot be "
                               "checked"))
    else:
        found += check_density(data, bandwidth_m=bandwidth_m, rules=rules,
                               nodata=nodata, name=f"{path.name}.band1")
    return found


def _check_csv(path: Path, *, rules: DisclosureRules) -> list[Violation]:
    frame = pd.read_csv(path, comment=None, dtype=str, keep_default_na=False,
                        na_values=[""])
    sidecar = path.with_name(path.name + CSV_METADATA_SUFFIX)
    meta: Any = None
    found: list[Violation] = []
    if sidecar.is_file():
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        found += check_metadata(meta, rules=rules, name=sidecar.name)
    hotspot_meta = meta.get("hotspot") if isinstance(meta, dict) else None
    found += check_frame(frame, rules=rules, name=path.stem,
                         declared_counts=_declared(hotspot_meta))
    return found


def _check_sources(path: Path, *, rules: DisclosureRules) -> list[Violation]:
    sidecar = path.with_name(path.name + SOURCES_SUFFIX)
    if not sidecar.is_file():
        return [Violation("sources", path.name,
                          f"no {sidecar.name} beside it: the tables a briefing is "
                          "drawn from must be written with it so they can be "
                          "checked")]
    doc = json.loads(sidecar.read_text(encoding="utf-8"))
    found = check_metadata(doc.get("metadata"), rules=rules,
                           name=f"{sidecar.name}.metadata")
    for name, table in (doc.get("tables") or {}).items():
        frame = pd.DataFrame(table.get("rows", []), columns=table.get("columns"))
        found += check_frame(frame, rules=rules, name=f"{path.name}:{name}",
                             declared_counts=table.get("count_columns", []))
        if table.get("geometry_types"):
            kinds = set(table["geometry_types"])
            if kinds & {"Point", "MultiPoint"}:
                found.append(Violation("no-points", f"{path.name}:{name}",
                                       "the map draws point geometries"))
    return found

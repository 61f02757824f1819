"""Disclosure control for partner exports: the rules, the floor, applying them.

Partners (CSPs, the Violence Reduction Partnership) receive level-2 data:
where hot spots are, never who. Rules version 2 (docs/exports.md) treat every
column by what it is, not by a list of names (:func:`classify_column`):

- **count** (``count``, ``*_count``, ``n_*``, ``score``, ``expected``, and any
  other column of whole numbers not known to be context): 1 to
  ``min_count - 1`` suppressed, the rest rounded to ``round_to``;
- **statistic** (z, p, q, ``p_fdr``, ring sums, trend statistics: values that
  couple a row to its neighbours' counts, so a linear solve recovers the
  suppressed ones): **left out** of every partner export;
- **class** (``bin``, ``*_bin``, ``hot_both``, ``significant``): kept, but
  coarsened where it would reveal a suppressed count
  (:mod:`hotspot.export.protect`);
- **derived** (``harm``, rates, shares, ranks and any other number): empty in
  rows whose count is suppressed; magnitudes rounded like counts;
- **context** (deprivation deciles, hours, contour levels, ...): kept.

Besides: no point geometries or coordinates, no free text or identifiers, no
H3 cell finer than ``max_resolution``, density surfaces banded (nothing below
the density of ``min_count`` occurrences at one spot, the rest to powers of two
of that floor; low cells are 0, never nodata), small totals in metadata
suppressed.

**The floor.** The deployment sets the weakest rules any export may use:
environment variables ``HOTSPOT_DISCLOSURE_MIN_COUNT`` (default 5),
``HOTSPOT_DISCLOSURE_ROUND_TO`` (default 5; 0 switches rounding off) and
``HOTSPOT_DISCLOSURE_MAX_RESOLUTION`` (default 9), read by :func:`deployment_floor`.
Point layers are never allowed. :func:`at_floor` strengthens any requested
rules (a view file's ``[disclosure]``, ``--min-count``, the app) to the floor;
:func:`hotspot.export.bundle.export` and the checker always use it.

Why this module is long: the disclosure rules in one place: the floor, the
classification of every column by what it holds, and applying the rules to a
bundle; the attacks, the checker and the protection are in their own modules.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot import settings
from hotspot.errors import HotspotError, ParameterError
from hotspot.export.reading import CSV_METADATA_SUFFIX, SOURCES_SUFFIX

logger = logging.getLogger(__name__)

__all__ = [
    "CSV_METADATA_SUFFIX", "SOURCES_SUFFIX", "DisclosureError", "DisclosureRules",
    "Violation", "apply_rules", "at_floor", "check_file",
    "check_pair", "classify_column",
    "deployment_floor", "mask_density", "require_clean", "suppress_metadata",
]

#: Version of the rule set, recorded in every export's metadata and log line.
RULES_VERSION = "2"
#: Environment variables of the deployment floor.
FLOOR_ENV_MIN_COUNT = settings.ENV_DISCLOSURE_MIN_COUNT
FLOOR_ENV_ROUND_TO = settings.ENV_DISCLOSURE_ROUND_TO
FLOOR_ENV_MAX_RESOLUTION = settings.ENV_DISCLOSURE_MAX_RESOLUTION
#: The floor when the deployment sets nothing.
FLOOR_DEFAULTS: dict[str, int] = {"min_count": 5, "round_to": 5, "max_resolution": 9}

#: Columns holding counts of occurrences (or fires, or expected occurrences).
COUNT_COLUMNS: tuple[str, ...] = (
    "count", "occurrences", "fires", "incidents", "offences", "before", "after",
    "n_points", "n_points_outside", "score", "expected", "predicted", "n", "total",
    "crimes", "records", "events",
)
#: Columns coupling a row to other rows' counts: never exported.
STATISTIC_COLUMNS: tuple[str, ...] = (
    "z", "p", "q", "p_fdr", "p_norm", "p_sim", "p_value", "pvalue", "q_value",
    "neighbour_sum", "area_mean", "g", "gi", "gi_star", "tau", "slope",
    "statistic", "zscore", "z_score", "sen_slope", "mk_s",
)
_STATISTIC_PATTERN = re.compile(
    r"(^(z|p|q|trend|mk|gi)_)|(_(z|p|q|p_fdr|pvalue|p_value|tau|slope|zscore)$)")
#: Coarse classes (Gi* bins and the like), protected by hotspot.export.protect.
CLASS_COLUMNS: tuple[str, ...] = ("bin", "hot_both", "significant", "hot", "cold")
#: Numbers that are not derived from the occurrences (kept as they are).
CONTEXT_COLUMNS: tuple[str, ...] = (
    "imd_decile", "imd_rank", "imd_score", "decile", "hour", "level_per_km2",
    "band_top_per_km2", "n_activities", "resolution", "year", "weekday_number",
    "month_number", "population", "area_km2", "school_holiday", "edge", "neighbours",
    "ring_cells", "k",
    # fields GDAL's KML drivers add to every placemark
    "tessellate", "visibility", "extrude", "altitudemode", "draworder", "icon",
    "begin", "end", "timestamp", "snippet",
)
#: Ranks: derived (empty where the count is), never suppressed as small counts.
RANK_PATTERN = re.compile(r"(^|_)rank$")
#: Coordinate fields: a table holding them is point-level data.
COORDINATE_FIELDS: tuple[str, ...] = (
    "easting", "northing", "latitude", "longitude", "lat", "lon", "lng", "long",
    "grid_ref", "grid_reference", "x", "y", "loc", "coords", "coordinates",
    "point", "wkt", "geom_wkt", "xy", "latlng", "lonlat",
)
#: Field names never allowed in a partner export (compared in lower case).
FORBIDDEN_FIELDS: tuple[str, ...] = (
    "occurrence_id", "crime_id", "crime_reference", "reference", "urn",
    "source_file", "source_row", "incident_id", "nominal", "nominal_id",
    "location_text", "location", "street", "street_name", "address", "postcode",
    "geocode_uncertainty_m",
    *COORDINATE_FIELDS,
    "name_of_victim", "victim_name", "suspect_name", "offender_name",
    "person_name", "forename", "surname", "first_name", "last_name",
    "full_name", "date_of_birth", "dob", "victim_age", "victim_sex",
    "offence_description", "narrative", "notes", "note", "comments", "comment",
    "modus_operandi", "free_text", "details", "explanation",
    "occurred_from", "occurred_to",
)
POSTCODE_PATTERN = re.compile(
    r"\b(?:GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)
#: Coordinates written as text: WKT, or a "number, number" pair with decimals.
COORDINATE_TEXT = re.compile(
    r"^\s*(?:SRID=\d+;)?\s*(?:MULTI)?(?:POINT|LINESTRING|POLYGON)\s*Z?\s*\(|"
    r"^\s*\(?\s*-?\d{1,7}\.\d+\s*[, ]\s*-?\d{1,7}\.\d+\s*\)?\s*$",
    re.IGNORECASE,
)
_H3_PATTERN = re.compile(r"^[89][0-9a-f]{14}$")
#: Quartic kernel peak of one occurrence is ``QUARTIC_PEAK / (pi h^2)``.
QUARTIC_PEAK = 3.0
SUPPRESSED_TEXT = "suppressed"
#: Metadata keys whose values are occurrence totals.
METADATA_COUNT_KEYS: tuple[str, ...] = (
    "occurrences_in", "occurrences_counted", "outside_study_cells",
    "flagged_rows_left_out", "outside_csps", "n_points", "n_points_outside",
    "occurrences", "n_used", "weight_total", "total_mass", "total", "count",
)
#: Coarse bands of a density surface: the floor times these.
DENSITY_BAND_FACTORS: tuple[float, ...] = tuple(2.0**i for i in range(12))


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
    """The disclosure rules of a partner export (before the floor).

    Attributes
    ----------
    min_count : int
        Smallest count shown; 1 to ``min_count - 1`` are suppressed (5).
    round_to : int or None
        Round counts (and derived magnitudes) to this multiple, or None.
    max_resolution : int
        Finest H3 resolution allowed (9, about 174 m edge).
    forbidden_fields : tuple of str
        Field names never exported (lower case).
    count_columns : tuple of str
        Columns holding counts (besides the patterns).

    Notes
    -----
    Exports and the checker use :func:`at_floor` of these: a value weaker than
    the deployment's floor is raised to it.
    """

    min_count: int = 5
    round_to: int | None = None
    max_resolution: int = 9
    forbidden_fields: tuple[str, ...] = FORBIDDEN_FIELDS
    count_columns: tuple[str, ...] = COUNT_COLUMNS

    def __post_init__(self) -> None:
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int) \
                or self.min_count < 1:
            raise ParameterError(
                f"min_count must be an integer of at least 1, got {self.min_count!r}")
        if self.round_to is not None and (
                isinstance(self.round_to, bool) or not isinstance(self.round_to, int)
                or self.round_to < 2):
            raise ParameterError(
                f"round_to must be None or an integer of at least 2, got "
                f"{self.round_to!r}")
        if isinstance(self.max_resolution, bool) or not isinstance(
                self.max_resolution, int) or not 0 <= self.max_resolution <= 15:
            raise ParameterError(
                f"max_resolution must be an H3 resolution 0-15, got "
                f"{self.max_resolution!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the rules as JSON-ready values (for metadata and the log)."""
        out = asdict(self)
        out["version"] = RULES_VERSION
        out["forbidden_fields"] = list(self.forbidden_fields)
        out["count_columns"] = list(self.count_columns)
        return out

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DisclosureRules:
        """Build rules from a view file's ``[disclosure]`` table.

        Keys ``min_count``, ``round_to`` (``0``/``false``: none) and
        ``max_resolution``; unknown keys raise. Values weaker than the floor
        are raised to it when the rules are used.
        """
        allowed = {"min_count", "round_to", "max_resolution"}
        unknown = set(values) - allowed
        if unknown:
            raise ParameterError(f"disclosure settings must be some of "
                                 f"{sorted(allowed)}, got {sorted(unknown)}")
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
        return self.min_count * QUARTIC_PEAK / (math.pi * (bandwidth_m / 1000.0) ** 2)


DEFAULT_RULES = DisclosureRules()


def deployment_floor() -> DisclosureRules:
    """Return the weakest rules this deployment allows, from the environment.

    ``HOTSPOT_DISCLOSURE_MIN_COUNT`` (default 5, at least 2),
    ``HOTSPOT_DISCLOSURE_ROUND_TO`` (default 5; 0 for none) and
    ``HOTSPOT_DISCLOSURE_MAX_RESOLUTION`` (default 9). Read on every call, so
    a deployment sets them before the server or command starts.
    """
    min_count = settings.env_int(FLOOR_ENV_MIN_COUNT, FLOOR_DEFAULTS["min_count"])
    if min_count < 2:
        raise ParameterError(f"{FLOOR_ENV_MIN_COUNT} must be at least 2 (suppression "
                             f"cannot be switched off), got {min_count}")
    round_to = settings.env_int(FLOOR_ENV_ROUND_TO, FLOOR_DEFAULTS["round_to"])
    max_res = settings.env_int(FLOOR_ENV_MAX_RESOLUTION,
                               FLOOR_DEFAULTS["max_resolution"])
    return DisclosureRules(min_count=min_count, round_to=round_to or None,
                           max_resolution=max_res)


def at_floor(rules: DisclosureRules = DEFAULT_RULES,
             *, floor: DisclosureRules | None = None) -> DisclosureRules:
    """Return ``rules`` strengthened to the deployment floor.

    A lower ``min_count``, a finer ``max_resolution``, no rounding or rounding
    to a base that is not a multiple of the floor's is replaced by the floor's
    value (logged). Nothing a view file, a flag or a caller asks for can weaken
    the floor.
    """
    if not isinstance(rules, DisclosureRules):
        raise ParameterError(
            f"rules must be DisclosureRules, got {type(rules).__name__}")
    base = deployment_floor() if floor is None else floor
    changes: dict[str, Any] = {}
    if rules.min_count < base.min_count:
        changes["min_count"] = base.min_count
    if rules.max_resolution > base.max_resolution:
        changes["max_resolution"] = base.max_resolution
    if base.round_to and (rules.round_to is None or rules.round_to % base.round_to):
        changes["round_to"] = base.round_to
    if changes:
        logger.info("disclosure rules raised to the deployment floor: %s", changes)
        return replace(rules, **changes)
    return rules


@dataclass
class Applied:
    """What :func:`apply_rules` changed in one table."""

    suppressed: int = 0
    rounded: bool = False
    dropped_fields: list[str] = field(default_factory=list)
    withheld_classes: int = 0


# ----------------------------------------------------------------------------
# which columns are what
# ----------------------------------------------------------------------------


def _norm(name: object) -> str:
    return str(name).strip().lower()


def _is_text(values: pd.Series) -> bool:
    return bool(values.dtype == object or isinstance(values.dtype, pd.StringDtype)
                or str(values.dtype) in ("str", "string"))


def _numeric(values: pd.Series) -> npt.NDArray[np.float64]:
    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float)


def _as_numbers(values: pd.Series) -> npt.NDArray[np.float64] | None:
    """Return the column as numbers when (nearly) all its values are numbers."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return _numeric(values)
    filled = values.dropna()
    filled = filled[filled.astype(str).str.strip() != ""]
    if filled.empty:
        return None
    parsed = pd.to_numeric(filled, errors="coerce")
    if parsed.notna().mean() < 0.999:
        return None
    return _numeric(values)


def classify_column(
    name: object, values: pd.Series, *, rules: DisclosureRules = DEFAULT_RULES,
    declared: Iterable[str] = (),
) -> str:
    """Say what a column is, for disclosure.

    One of ``geometry``, ``forbidden``, ``text``, ``statistic``, ``class``,
    ``context``, ``count``, ``derived``.

    Parameters
    ----------
    name : str
        Column name.
    values : pandas.Series
        Its values (numbers stored as text count as numbers).
    rules : DisclosureRules, keyword-only
        Give the forbidden fields and the count names.
    declared : iterable of str, keyword-only
        Columns a file declares as counts.
    """
    key = _norm(name)
    if key == "geometry":
        return "geometry"
    if key in {_norm(f) for f in rules.forbidden_fields}:
        return "forbidden"
    if key in {_norm(c) for c in declared}:
        return "count"
    if pd.api.types.is_bool_dtype(values) and (
            key in CLASS_COLUMNS or key.startswith("hot_")):
        return "class"  # a flag made from bins says what the bins say
    numbers = _as_numbers(values)
    if numbers is None:
        return "text"
    if key in STATISTIC_COLUMNS or _STATISTIC_PATTERN.search(key):
        return "statistic"
    if key in CLASS_COLUMNS or key.endswith("_bin"):
        return "class"
    if key in CONTEXT_COLUMNS or key.startswith(("imd_", "level_", "band_")):
        return "context"
    if RANK_PATTERN.search(key):
        return "derived"
    if (key in {_norm(c) for c in rules.count_columns} or key.endswith("_count")
            or key.startswith(("count_", "n_")) or "score" in key):
        return "count"
    finite = numbers[np.isfinite(numbers)]
    if finite.size and np.all(finite >= 0) and np.all(finite == np.round(finite)):
        return "count"  # whole numbers of unknown meaning: treated as counts
    return "derived"


def columns_by_kind(
    frame: pd.DataFrame, *, rules: DisclosureRules = DEFAULT_RULES,
    declared: Iterable[str] = (),
) -> dict[str, list[str]]:
    """Every column of ``frame`` under its kind (:func:`classify_column`)."""
    out: dict[str, list[str]] = {}
    for col in frame.columns:
        kind = classify_column(col, frame[col], rules=rules, declared=declared)
        out.setdefault(kind, []).append(col)
    return out


def count_columns_of(
    frame: pd.DataFrame, *, rules: DisclosureRules = DEFAULT_RULES,
    declared: Iterable[str] = (),
) -> list[str]:
    """Columns of ``frame`` holding counts."""
    return columns_by_kind(frame, rules=rules, declared=declared).get("count", [])


def _small(values: npt.NDArray[np.float64], min_count: int) -> npt.NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        return (values > 0) & (values < min_count)


def round_magnitudes(values: npt.NDArray[np.float64], base: int) -> npt.NDArray[
        np.float64]:
    """Round to ``base``, or to 2 significant figures when that is coarser."""
    with np.errstate(divide="ignore", invalid="ignore"):
        digits = np.floor(np.log10(np.abs(values)))
        step = np.where(np.isfinite(digits), np.maximum(base, 10.0 ** (digits - 1)),
                        base)
    return np.where(np.isfinite(values), np.round(values / step) * step, values)


# ----------------------------------------------------------------------------
# applying
# ----------------------------------------------------------------------------


def apply_rules(
    frame: pd.DataFrame,
    *,
    rules: DisclosureRules = DEFAULT_RULES,
    name: str = "table",
    declared_counts: Iterable[str] = (),
    hide_rows: npt.ArrayLike | None = None,
    protected_classes: Iterable[str] = (),
) -> tuple[pd.DataFrame, Applied]:
    """Return a copy of ``frame`` that complies with the rules, and what changed.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        A table to export. Not modified.
    rules : DisclosureRules, keyword-only
        The rules (use :func:`at_floor` of them).
    name : str, keyword-only
        Layer or table name, for messages.
    declared_counts : iterable of str, keyword-only
        Further columns holding counts.
    hide_rows : array_like of bool, optional, keyword-only
        Rows whose counts are suppressed besides the small ones (secondary
        suppression from :mod:`hotspot.export.protect`).
    protected_classes : iterable of str, keyword-only
        Class columns already coarsened by :mod:`hotspot.export.protect`; other
        class columns are withheld in suppressed rows and their H3 neighbours.

    Returns
    -------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        Forbidden fields and statistics dropped; small counts and the derived
        values of their rows empty; counts and magnitudes rounded; integer
        columns as nullable integers.
    applied : Applied

    Raises
    ------
    DisclosureError
        Point geometries, or H3 cells finer than ``rules.max_resolution``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"frame must be a pandas or geopandas DataFrame, got "
                             f"{type(frame).__name__}")
    from hotspot.export.checks import _check_geometry, _check_h3

    fatal = _check_geometry(frame, name=name) + _check_h3(frame, rules=rules, name=name)
    if fatal:
        raise DisclosureError(name, fatal)
    kinds = columns_by_kind(frame, rules=rules, declared=declared_counts)
    applied = Applied()
    dropped = kinds.get("forbidden", []) + kinds.get("statistic", [])
    out = frame.drop(columns=dropped)
    applied.dropped_fields = [str(c) for c in dropped]
    secondary = (np.asarray(hide_rows, dtype=bool) if hide_rows is not None
                 else np.zeros(len(out), dtype=bool))
    hidden = secondary.copy()  # rows with any count suppressed
    counts = kinds.get("count", [])
    for col in counts:  # each count on its own: a small score hides no count
        values = _numeric(out[col])
        own = (_small(values, rules.min_count) | secondary) & (values != 0)
        hidden |= own
        values = np.where(own, np.nan, values)
        if rules.round_to:
            values = np.round(values / rules.round_to) * rules.round_to
        out[col] = pd.array(np.where(np.isfinite(values), values, np.nan),
                            dtype="Float64").round(0).astype("Int64") \
            if _whole(values) else values
    for col in kinds.get("derived", []):
        values = np.where(hidden, np.nan, _numeric(out[col]))
        if rules.round_to and not RANK_PATTERN.search(_norm(col)):
            values = round_magnitudes(values, rules.round_to)
        out[col] = pd.array(values, dtype="Float64").astype("Int64") \
            if _whole(values) else values
    applied.suppressed = int(hidden.sum())
    applied.rounded = bool(rules.round_to and counts)
    guarded = {_norm(c) for c in protected_classes}
    for col in kinds.get("class", []):  # bins as integers (empty: withheld)
        values = _numeric(out[col])
        if _whole(values) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = pd.array(values, dtype="Float64").astype("Int64")
    loose = [c for c in kinds.get("class", []) if _norm(c) not in guarded]
    if loose and hidden.any():
        near = _with_ring(out, hidden)
        for col in loose:
            values = _numeric(out[col])
            applied.withheld_classes += int((near & np.isfinite(values)).sum())
            out[col] = pd.array(np.where(near, np.nan, values),
                                dtype="Float64").astype("Int64")
    _withhold_flags_of_withheld_bins(out, kinds.get("class", []), applied)
    return out, applied


def _withhold_flags_of_withheld_bins(frame: pd.DataFrame, classes: list[Any],
                                     applied: Applied) -> None:
    """Withhold a row's flags (``hot_both``, ``significant``) where a bin is withheld.

    A flag is made from the row's bins (``hot_both`` is "both bins hot"): shown
    beside a withheld bin, it would say what the bin hid. Flags become 0/1
    integers, empty where any bin of the row is empty.
    """
    bins = [c for c in classes if _norm(c) == "bin" or _norm(c).endswith("_bin")]
    flags = [c for c in classes if c not in bins]
    if not bins or not flags:
        return
    withheld = np.zeros(len(frame), dtype=bool)
    for col in bins:
        withheld |= ~np.isfinite(_numeric(frame[col]))
    for col in flags:
        values = _numeric(frame[col].astype("Float64"))
        applied.withheld_classes += int((withheld & np.isfinite(values)).sum())
        frame[col] = pd.array(np.where(withheld, np.nan, values),
                              dtype="Float64").astype("Int64")


def _whole(values: npt.NDArray[np.float64]) -> bool:
    finite = values[np.isfinite(values)]
    return bool(np.all(finite == np.round(finite)))


def _with_ring(frame: pd.DataFrame, rows: npt.NDArray[np.bool_]) -> npt.NDArray[
        np.bool_]:
    """``rows`` and every row whose H3 cell touches one of them."""
    if "h3" not in frame.columns:
        return rows.copy()
    cells = frame["h3"].astype(str).tolist()
    marked = {cells[i] for i in np.flatnonzero(rows)}
    ring = {n for c in marked if h3.is_valid_cell(c) for n in h3.grid_disk(c, 1)}
    return rows | np.array([c in ring for c in cells], dtype=bool)


def suppress_metadata(value: Any, *, rules: DisclosureRules = DEFAULT_RULES) -> Any:
    """Return a copy of JSON-like metadata with occurrence totals protected.

    Totals from 1 to ``min_count - 1`` under :data:`METADATA_COUNT_KEYS` become
    ``"suppressed"``; with rounding, the others are rounded.
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


def band_density(
    values: npt.ArrayLike, *, bandwidth_m: float,
    rules: DisclosureRules = DEFAULT_RULES,
) -> tuple[npt.NDArray[np.float64], int]:
    """Return a density grid coarsened to bands, and how many cells went to 0.

    Cells below the floor (:meth:`DisclosureRules.density_floor_per_km2`) become
    0 (never nodata: a hole would mark the occurrence); the others become the
    floor times the largest power of two not above them. NaN (outside the
    area) stays NaN.
    """
    data = np.array(values, dtype=float)
    floor = rules.density_floor_per_km2(bandwidth_m)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.isfinite(data) & (data < floor)
        power = np.floor(np.log2(np.where(data >= floor, data / floor, 1.0)))
    banded = np.where(low, 0.0, floor * 2.0 ** np.clip(power, 0, None))
    banded = np.where(np.isfinite(data), banded, np.nan)
    return _fill_holes(banded), int((low & (data > 0)).sum())


def _fill_holes(data: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Set NaN regions that do not reach the raster's edge to 0.

    Nodata then only means "outside the area, beyond its edge": a hole in the
    data (a lake, an estuary, or a masked cell) is never left for a reader to
    read as the place of an occurrence.
    """
    from scipy import ndimage

    missing = ~np.isfinite(data)
    if not missing.any():
        return data
    labels, _ = ndimage.label(missing, structure=np.ones((3, 3)))
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0],
                                     labels[:, -1]]))
    enclosed = missing & ~np.isin(labels, edge[edge > 0])
    out = data.copy()
    out[enclosed] = 0.0
    return out


def mask_density(
    values: npt.ArrayLike, *, bandwidth_m: float,
    rules: DisclosureRules = DEFAULT_RULES,
) -> tuple[npt.NDArray[np.float64], int]:
    """Alias of :func:`band_density` (kept for callers of rules version 1)."""
    return band_density(values, bandwidth_m=bandwidth_m, rules=rules)


def check_file(path: Path | str, *, rules: DisclosureRules = DEFAULT_RULES) -> list[
        Violation]:
    """List every rule a file breaks (:func:`hotspot.export.checker.check_file`)."""
    from hotspot.export.checker import check_file as _check

    return _check(path, rules=rules)


def check_pair(first: Path | str, second: Path | str, *,
               rules: DisclosureRules = DEFAULT_RULES) -> list[Violation]:
    """Difference two files (:func:`hotspot.export.checker.check_pair`)."""
    from hotspot.export.checker import check_pair as _check

    return _check(first, second, rules=rules)


def require_clean(path: Path | str, *, rules: DisclosureRules = DEFAULT_RULES) -> None:
    """Raise :class:`DisclosureError` with every reason when ``path`` breaks a rule."""
    found = check_file(path, rules=rules)
    if found:
        raise DisclosureError(path, found)


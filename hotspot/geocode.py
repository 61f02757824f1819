"""Offline geocoding: coordinates, grid references, postcodes, place text → BNG points.

Every row gets either a point in British National Grid (EPSG:27700, metres) with
the method used and an uncertainty radius in metres, or a rejection naming the
field, the value and the reason. Nothing is guessed: an ambiguous street or place
is rejected with its candidates.

Precedence (the first usable location wins):

1. ``easting``/``northing`` — ``bng``, ``bng_swapped``, ``wgs84_in_bng_fields``;
2. ``latitude``/``longitude`` — ``wgs84``, ``wgs84_swapped``;
3. ``postcode`` — ``postcode_unit``, ``postcode_sector``, ``postcode_district``;
4. ``location_text`` — ``junction``, ``street``, ``place``.

The gazetteer under ``data/gazetteer/`` is built by ``scripts/build_gazetteer.py``
from Code-Point Open, police.uk street names and GeoNames (see its README).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import fuzz, process

from hotspot.crs import lonlat_to_bng
from hotspot.errors import DataNotFoundError, ParameterError
from hotspot.settings import DATA_DIR

log = logging.getLogger(__name__)

GAZETTEER_DIR = DATA_DIR / "gazetteer"
GAZETTEER_TABLES: tuple[str, ...] = (
    "postcodes",
    "postcode_sectors",
    "postcode_districts",
    "streets",
    "street_points",
    "places",
)

#: Output columns of :func:`geocode`, with their dtypes.
GEOCODE_COLUMNS: dict[str, str] = {
    "x": "float64",
    "y": "float64",
    "geocode_method": "string",
    "geocode_uncertainty_m": "float64",
    "reject_field": "string",
    "reject_value": "string",
    "reject_reason": "string",
}

#: Uncertainty (m) of coordinates given without one.
COORDINATE_UNCERTAINTY_M = 10.0
#: Uncertainty (m) of a postcode unit by Code-Point positional quality indicator
#: (10 within a building of the postcode, 20/30 approximate, 40 unit mean,
#: 50 estimated by ONS, 60 sector mean).
POSTCODE_UNIT_UNCERTAINTY_M: dict[int, float] = {
    10: 50.0,
    20: 100.0,
    30: 100.0,
    40: 150.0,
    50: 200.0,
    60: 1000.0,
}
#: Smallest uncertainty (m) reported for a postcode sector or district, a street and
#: a junction.
MIN_AREA_UNCERTAINTY_M = 100.0
#: Margin (m) added around the HIPS postcodes to form the plausibility box.
HIPS_BOX_MARGIN_M = 10_000.0
#: Lowest rapidfuzz ``token_sort_ratio`` (0–100) accepted for a street name.
STREET_MIN_SCORE = 85.0
#: Candidates within this many points of the best score are treated as ties.
TIE_BAND = 3.0
#: Lowest ``ratio`` accepted when a text part is fuzzily compared to place names.
PLACE_MIN_SCORE = 90.0
#: Streets within this distance (m) of a named town's point are its candidates.
TOWN_RADIUS_M = 6000.0
#: Snap points of two streets closer than this (m) are taken to meet at a junction.
JUNCTION_MAX_GAP_M = 400.0
#: Same-named street clusters of one district spanning at most this (m) are one street.
STREET_MERGE_M = 3000.0
#: Distinct location strings whose results are kept (the cache is emptied when full).
TEXT_CACHE_SIZE = 200_000
#: Same-named places closer than this (m) are treated as one place.
PLACE_MERGE_M = 3000.0

_ABBREVIATIONS: dict[str, str] = {
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "cl": "close",
    "dr": "drive",
    "cres": "crescent",
    "cresc": "crescent",
    "pl": "place",
    "gdns": "gardens",
    "gdn": "gardens",
    "ct": "court",
    "sq": "square",
    "tce": "terrace",
    "terr": "terrace",
    "pde": "parade",
    "gr": "grove",
    "gro": "grove",
    "hwy": "highway",
    "pk": "park",
    "grn": "green",
    "mws": "mews",
    "wlk": "walk",
    "rbt": "roundabout",
    "nth": "north",
    "sth": "south",
    "upr": "upper",
    "lwr": "lower",
    "saint": "st",
    "iow": "isle of wight",
}
#: Words after which a preceding ``st`` ends a street name (``High St and ...``).
_AFTER_STREET: frozenset[str] = frozenset(
    {"and", "with", "junction", "j", "jw", "near"}
)
_STREET_TYPES: frozenset[str] = frozenset(
    {
        "road",
        "street",
        "lane",
        "avenue",
        "close",
        "way",
        "drive",
        "crescent",
        "place",
        "gardens",
        "court",
        "hill",
        "terrace",
        "park",
        "grove",
        "green",
        "walk",
        "square",
        "row",
        "rise",
        "view",
        "mews",
        "parade",
        "highway",
        "roundabout",
        "bypass",
        "approach",
        "esplanade",
        "quay",
        "precinct",
        "path",
    }
)
_FILLER = re.compile(
    r"^(?:on or near|outside|opposite|opp|near|nr|rear of|behind|adjacent to|adj|"
    r"by|at|in|off|o s)\s+(?:the\s+)?"
)
_JUNCTION_PREFIX = re.compile(
    r"^(?:junction of|junction|corner of|jct of|jct|j o)\s+(.+?)\s+"
    r"(?:and|with|j w)\s+(.+)$"
)
_JUNCTION_INFIX = re.compile(r"^(.+?)\s+(?:junction with|j w|jct with|jw)\s+(.+)$")
_UNIT_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_DISTRICT_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_SECTOR_SPACED_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s+([0-9])$")
_SECTOR_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])$")


# --------------------------------------------------------------------------- text


def normalise_text(text: str) -> str:
    """Normalise free location text for matching.

    Lower case, ``&`` → ``and``, apostrophes dropped, other punctuation (except the
    commas that separate parts) → spaces, whitespace collapsed, and common street
    abbreviations expanded (``rd`` → ``road``; ``st`` → ``street`` when it ends a
    part of two or more words or comes before ``and``/``with``, otherwise ``st``
    is read as *Saint*).

    Parameters
    ----------
    text : str
        Location text as given, e.g. ``"Above Bar St, Southampton"``.

    Returns
    -------
    str
        Comma-and-space separated parts, e.g. ``"above bar street, southampton"``.
    """
    low = str(text).lower()
    low = re.sub(r"\bj/o\b", " junction of ", low)
    low = re.sub(r"\bj/w\b", " junction with ", low)
    low = re.sub(r"\bo/s\b", " outside ", low)
    low = low.replace("&", " and ")
    low = re.sub(r"['’`]", "", low)
    low = re.sub(r"[^a-z0-9,]+", " ", low)
    parts = []
    for raw in low.split(","):
        tokens = raw.split()
        if not tokens:
            continue
        out = []
        for i, tok in enumerate(tokens):
            if tok == "st":
                last = i == len(tokens) - 1
                ends = last or tokens[i + 1] in _AFTER_STREET
                out.append("street" if ends and i > 0 else "st")
            else:
                out.append(_ABBREVIATIONS.get(tok, tok))
        parts.append(" ".join(out))
    return ", ".join(parts)


def normalise_postcode(values: pd.Series) -> pd.DataFrame:
    """Normalise postcodes and say whether each is a unit, sector or district.

    Parameters
    ----------
    values : pandas.Series
        Postcodes as given (any case and spacing; missing values allowed).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``values``: ``postcode`` (``"SO14 2AA"``, ``"SO14 2"`` or
        ``"SO14"``; NA when missing or malformed) and ``kind`` (``"unit"``,
        ``"sector"``, ``"district"``, ``"malformed"`` or NA when missing).
    """
    text = values.astype("string").str.strip()
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    norm, kind = _classify_postcodes(pd.Series(uniques, dtype="string"))
    present = codes >= 0
    out_norm = np.full(len(text), None, dtype=object)
    out_kind = np.full(len(text), None, dtype=object)
    out_norm[present] = norm[codes[present]]
    out_kind[present] = kind[codes[present]]
    return pd.DataFrame(
        {
            "postcode": pd.array(out_norm, dtype="string"),
            "kind": pd.array(out_kind, dtype="string"),
        },
        index=values.index,
    )


def _classify_postcodes(
    uniques: pd.Series,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Normalised code and kind of each distinct, stripped postcode string."""
    upper = uniques.str.upper()
    compact = upper.str.replace(r"\s+", "", regex=True)
    n = len(uniques)
    norm = np.full(n, None, dtype=object)
    kind = np.full(n, "malformed", dtype=object)
    kind[(upper == "").to_numpy(dtype=bool, na_value=False)] = None
    unit = compact.str.fullmatch(_UNIT_RE.pattern).to_numpy(dtype=bool, na_value=False)
    norm[unit] = (compact[unit].str[:-3] + " " + compact[unit].str[-3:]).to_numpy(
        dtype=object
    )
    kind[unit] = "unit"
    district = ~unit & compact.str.fullmatch(_DISTRICT_RE.pattern).to_numpy(
        dtype=bool, na_value=False
    )
    norm[district] = compact[district].to_numpy(dtype=object)
    kind[district] = "district"
    sector = (
        ~unit
        & ~district
        & (
            upper.str.fullmatch(_SECTOR_SPACED_RE.pattern).to_numpy(
                dtype=bool, na_value=False
            )
            | compact.str.fullmatch(_SECTOR_RE.pattern).to_numpy(
                dtype=bool, na_value=False
            )
        )
    )
    norm[sector] = (compact[sector].str[:-1] + " " + compact[sector].str[-1:]).to_numpy(
        dtype=object
    )
    kind[sector] = "sector"
    return norm, kind


# ---------------------------------------------------------------------- gazetteer


@dataclass(frozen=True)
class Box:
    """A rectangle in BNG metres: the plausible extent of HIPS points."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    def contains(
        self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.bool_]:
        """Return whether each point (BNG metres) lies inside the box."""
        return (x >= self.xmin) & (x <= self.xmax) & (y >= self.ymin) & (y <= self.ymax)

    def describe(self) -> str:
        """Return the box as text for reject reasons."""
        return (
            f"easting {self.xmin:,.0f}–{self.xmax:,.0f}, "
            f"northing {self.ymin:,.0f}–{self.ymax:,.0f}"
        )


@dataclass
class Gazetteer:
    """The offline gazetteer tables (see ``data/gazetteer/README.md``).

    Attributes
    ----------
    postcodes : pandas.DataFrame
        Code-Point Open units: ``postcode``, ``easting``, ``northing`` (m),
        ``quality``, ``lad_code``.
    sectors, districts : pandas.DataFrame
        Centroids (``easting``, ``northing``, m) and ``spread_m`` (90th percentile
        distance of member postcodes from the centroid, m) keyed by ``sector`` /
        ``outward``.
    streets : pandas.DataFrame
        Street clusters: ``street_id``, ``street``, ``street_norm``, ``lad_code``,
        ``town``, ``x``, ``y`` (m), ``n_points``, ``extent_m``.
    street_points : pandas.DataFrame
        Unique police.uk snap points per ``street_id`` (``x``, ``y``, m).
    places : pandas.DataFrame
        GeoNames places and the 14 districts: ``name``, ``name_norm``, ``kind``,
        ``outward``, ``lad_code``, ``x``, ``y`` (m), ``uncertainty_m``.
    box : Box
        Plausible HIPS extent: the postcodes' bounding box plus
        :data:`HIPS_BOX_MARGIN_M`.
    """

    postcodes: pd.DataFrame
    sectors: pd.DataFrame
    districts: pd.DataFrame
    streets: pd.DataFrame
    street_points: pd.DataFrame
    places: pd.DataFrame
    box: Box
    _matcher: _TextMatcher | None = field(default=None, repr=False, compare=False)

    def matcher(self) -> _TextMatcher:
        """Return the (lazily built, result-caching) free-text matcher."""
        if self._matcher is None:
            self._matcher = _TextMatcher(self)
        return self._matcher


def load_gazetteer(directory: Path | str | None = None) -> Gazetteer:
    """Load the gazetteer tables (cached per directory).

    Parameters
    ----------
    directory : path, optional
        Folder holding the parquet tables; default ``data/gazetteer``.

    Returns
    -------
    Gazetteer

    Raises
    ------
    DataNotFoundError
        When a table is missing; build them with ``scripts/build_gazetteer.py``.
    """
    folder = Path(directory) if directory is not None else GAZETTEER_DIR
    return _load_gazetteer_cached(str(folder.resolve()))


@lru_cache(maxsize=4)
def _load_gazetteer_cached(folder: str) -> Gazetteer:
    tables: dict[str, pd.DataFrame] = {}
    for name in GAZETTEER_TABLES:
        path = Path(folder) / f"{name}.parquet"
        if not path.exists():
            raise DataNotFoundError(
                f"gazetteer table {path} is missing; build it with "
                "`.venv/bin/python scripts/build_gazetteer.py`"
            )
        tables[name] = pd.read_parquet(path)
    pc = tables["postcodes"]
    m = HIPS_BOX_MARGIN_M
    box = Box(
        xmin=float(np.floor((pc["easting"].min() - m) / 1000) * 1000),
        ymin=float(np.floor((pc["northing"].min() - m) / 1000) * 1000),
        xmax=float(np.ceil((pc["easting"].max() + m) / 1000) * 1000),
        ymax=float(np.ceil((pc["northing"].max() + m) / 1000) * 1000),
    )
    log.info(
        "gazetteer loaded from %s: %d postcodes, %d streets, %d places; HIPS box %s",
        folder,
        len(pc),
        len(tables["streets"]),
        len(tables["places"]),
        box.describe(),
    )
    return Gazetteer(
        postcodes=pc,
        sectors=tables["postcode_sectors"],
        districts=tables["postcode_districts"],
        streets=tables["streets"],
        street_points=tables["street_points"],
        places=tables["places"],
        box=box,
    )


# ----------------------------------------------------------------------- geocode


class _Outcome:
    """Per-row results being filled in, stage by stage."""

    def __init__(self, n: int) -> None:
        self.x = np.full(n, np.nan)
        self.y = np.full(n, np.nan)
        self.method = np.full(n, None, dtype=object)
        self.unc = np.full(n, np.nan)
        self.fail_field = np.full(n, None, dtype=object)
        self.fail_value = np.full(n, None, dtype=object)
        self.fail_reason = np.full(n, None, dtype=object)
        self.stopped = np.zeros(n, dtype=bool)

    @property
    def pending(self) -> npt.NDArray[np.bool_]:
        unresolved = self.method == None  # noqa: E711  (elementwise on an object array)
        return np.asarray(unresolved & ~self.stopped, dtype=bool)

    def stop(self, rows: npt.NDArray[np.intp]) -> None:
        """Mark rows as decided: no later, coarser method may place them.

        Well-formed coordinates outside HIPS are a location, just not ours: a
        police.uk row recorded by Hampshire Constabulary in Surrey must not be
        moved onto a Hampshire street of the same name by its text.
        """
        self.stopped[rows] = True

    def resolve(
        self,
        rows: npt.NDArray[np.intp],
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        method: str | npt.NDArray[np.object_],
        unc: float | npt.ArrayLike,
    ) -> None:
        self.x[rows] = x
        self.y[rows] = y
        self.method[rows] = method
        self.unc[rows] = unc

    def fail(
        self,
        rows: npt.NDArray[np.intp],
        field_name: str,
        values: npt.NDArray[np.object_],
        reasons: str | npt.NDArray[np.object_],
    ) -> None:
        reasons_arr = np.broadcast_to(np.asarray(reasons, dtype=object), rows.shape)
        for row, value, reason in zip(rows, values, reasons_arr, strict=True):
            if self.fail_field[row] is None:
                self.fail_field[row] = field_name
                self.fail_value[row] = value
                self.fail_reason[row] = reason
            else:
                self.fail_reason[row] = (
                    f"{self.fail_reason[row]}; {field_name} {value!r}: {reason}"
                )


def geocode(frame: pd.DataFrame, *, gazetteer: Gazetteer | None = None) -> pd.DataFrame:
    """Resolve each row's location to a BNG point with a method and an uncertainty.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with any of the location columns ``easting``, ``northing`` (BNG, m),
        ``latitude``, ``longitude`` (WGS84, degrees), ``postcode`` and
        ``location_text``; missing columns count as empty. A non-missing
        ``geocode_uncertainty_m`` (m) is kept for rows resolved from coordinates.
    gazetteer : Gazetteer, optional
        Tables to match against; default :func:`load_gazetteer`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``frame`` with :data:`GEOCODE_COLUMNS`: ``x``, ``y`` (BNG, m;
        NaN when unresolved), ``geocode_method``, ``geocode_uncertainty_m`` (m), and
        for unresolved rows ``reject_field``, ``reject_value``, ``reject_reason``
        (NA when resolved). Every row is either resolved or has a reason.

    Raises
    ------
    ParameterError
        When ``frame`` is not a DataFrame or has duplicate column names.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            f"frame must be a pandas DataFrame, got {type(frame).__name__}"
        )
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()].tolist()
        raise ParameterError(f"frame has duplicate column names: {dup}")
    gaz = gazetteer if gazetteer is not None else load_gazetteer()
    n = len(frame)
    out = _Outcome(n)
    given_unc = _numeric(frame, "geocode_uncertainty_m")[0]
    coord_unc = np.where(np.isfinite(given_unc), given_unc, COORDINATE_UNCERTAINTY_M)

    _geocode_grid(frame, out, gaz.box, coord_unc)
    _geocode_lonlat(frame, out, gaz.box, coord_unc)
    _geocode_postcode(frame, out, gaz)
    _geocode_text(frame, out, gaz)

    nothing = out.pending & (out.fail_field == None)  # noqa: E711
    out.fail_field[nothing] = "location"
    out.fail_reason[nothing] = "no location given"

    result = pd.DataFrame(
        {
            "x": out.x,
            "y": out.y,
            "geocode_method": pd.array(out.method, dtype="string"),
            "geocode_uncertainty_m": out.unc,
            "reject_field": pd.array(out.fail_field, dtype="string"),
            "reject_value": pd.array(out.fail_value, dtype="string"),
            "reject_reason": pd.array(out.fail_reason, dtype="string"),
        },
        index=frame.index,
    )
    resolved = result["geocode_method"].notna()
    for col in ("reject_field", "reject_value", "reject_reason"):
        result.loc[resolved, col] = pd.NA
    if log.isEnabledFor(logging.INFO):
        counts = result["geocode_method"].fillna("(rejected)").value_counts()
        log.info("geocoded %d rows: %s", n, counts.to_dict())
    return result


def _numeric(
    frame: pd.DataFrame, column: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Return (values as float with NaN, given-but-not-a-number mask)."""
    if column not in frame.columns:
        n = len(frame)
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    col = frame[column]
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan), np.zeros(
            len(col), dtype=bool
        )
    text = col.astype("string").str.strip()
    text = text.where(text != "")
    num = pd.to_numeric(text, errors="coerce")
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    return values, (text.notna().to_numpy() & ~np.isfinite(values))


def _values_text(frame: pd.DataFrame, column: str, rows: npt.NDArray[np.intp]) -> Any:
    return frame[column].iloc[rows].astype("string").to_numpy(dtype=object)


def _pair_text(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> Any:
    return np.array([f"{u:g}, {v:g}" for u, v in zip(a, b, strict=True)], dtype=object)


#: Two coordinate columns and the mask of rows still to place.
_Pair = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]


def _screen_pair(
    frame: pd.DataFrame, out: _Outcome, first: str, second: str, *, label: str
) -> _Pair | None:
    """Parse a coordinate pair and fail the rows it cannot be.

    Rows still pending with either column given fail when a value is not a
    number, when only one of the two is given, or at Null Island (0, 0).
    Returns both columns and the mask of rows left to place, or ``None`` when no
    pending row gives the pair.
    """
    a, a_bad = _numeric(frame, first)
    b, b_bad = _numeric(frame, second)
    has_a = np.isfinite(a) | a_bad
    has_b = np.isfinite(b) | b_bad
    given = out.pending & (has_a | has_b)
    if not given.any():
        return None
    bad = given & (a_bad | b_bad)
    if bad.any():
        rows = np.flatnonzero(bad)
        raw = [
            f"{_cell(frame, first, int(r))}, {_cell(frame, second, int(r))}"
            for r in rows
        ]
        out.fail(rows, label, np.array(raw, dtype=object), "not a number")
    half = given & ~bad & (has_a != has_b)
    if half.any():
        rows = np.flatnonzero(half)
        reasons = np.where(
            has_a[rows],
            f"{first} given without {second}",
            f"{second} given without {first}",
        )
        out.fail(rows, label, _pair_text(a[rows], b[rows]), reasons)
    both = given & ~bad & has_a & has_b
    null = both & (a == 0) & (b == 0)
    if null.any():
        rows = np.flatnonzero(null)
        out.fail(rows, label, _pair_text(a[rows], b[rows]), "Null Island (0, 0)")
    return a, b, both & ~null


def _geocode_grid(
    frame: pd.DataFrame,
    out: _Outcome,
    box: Box,
    coord_unc: npt.NDArray[np.float64],
) -> None:
    """Easting/northing fields: BNG, swapped BNG, or WGS84 typed into BNG fields."""
    label = "easting/northing"
    screened = _screen_pair(frame, out, "easting", "northing", label=label)
    if screened is None:
        return
    e, n, todo = screened
    direct = todo & box.contains(e, n)
    rows = np.flatnonzero(direct)
    out.resolve(rows, e[rows], n[rows], "bng", coord_unc[rows])
    swapped = todo & ~direct & box.contains(n, e)
    rows = np.flatnonzero(swapped)
    out.resolve(rows, n[rows], e[rows], "bng_swapped", coord_unc[rows])
    rest = todo & ~direct & ~swapped
    degrees = rest & (np.abs(e) <= 180) & (np.abs(n) <= 180)
    remaining = rest & ~degrees
    if degrees.any():
        rows = np.flatnonzero(degrees)
        ok, x, y = _lonlat_either_way(e[rows], n[rows], box)
        out.resolve(rows[ok], x[ok], y[ok], "wgs84_in_bng_fields", coord_unc[rows[ok]])
        remaining[rows[~ok]] = True
    if remaining.any():
        rows = np.flatnonzero(remaining)
        out.fail(
            rows,
            label,
            _pair_text(e[rows], n[rows]),
            f"outside HIPS ({box.describe()})",
        )
        out.stop(rows)


def _cell(frame: pd.DataFrame, column: str, row: int) -> str:
    if column not in frame.columns:
        return "<NA>"
    return str(frame[column].iloc[row])


def _lonlat_either_way(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], box: Box
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Project (lon=a, lat=b), else (lon=b, lat=a); keep whichever lands in HIPS."""
    x, y = np.full(len(a), np.nan), np.full(len(a), np.nan)
    valid = (np.abs(a) <= 180) & (np.abs(b) <= 90)
    if valid.any():
        x[valid], y[valid] = lonlat_to_bng(a[valid], b[valid])
    ok = valid & box.contains(x, y)
    alt = ~ok & (np.abs(b) <= 180) & (np.abs(a) <= 90)
    if alt.any():
        xs, ys = lonlat_to_bng(b[alt], a[alt])
        x[alt], y[alt] = xs, ys
    ok = box.contains(x, y)
    return ok, x, y


def _geocode_lonlat(
    frame: pd.DataFrame,
    out: _Outcome,
    box: Box,
    coord_unc: npt.NDArray[np.float64],
) -> None:
    """Latitude/longitude fields: WGS84, or swapped latitude and longitude."""
    label = "latitude/longitude"
    screened = _screen_pair(frame, out, "latitude", "longitude", label=label)
    if screened is None:
        return
    lat, lon, todo = screened
    in_range = (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    out_of_range = todo & ~in_range
    if out_of_range.any():
        rows = np.flatnonzero(out_of_range)
        out.fail(
            rows,
            label,
            _pair_text(lat[rows], lon[rows]),
            "out of range (latitude −90–90, longitude −180–180 degrees)",
        )
    todo &= in_range
    if not todo.any():
        return
    rows = np.flatnonzero(todo)
    x, y = lonlat_to_bng(lon[rows], lat[rows])
    ok = box.contains(x, y)
    out.resolve(rows[ok], x[ok], y[ok], "wgs84", coord_unc[rows[ok]])
    rest = rows[~ok]
    swap_ok = np.zeros(len(rest), dtype=bool)
    can_swap = np.abs(lon[rest]) <= 90
    if can_swap.any():
        sub = rest[can_swap]
        xs, ys = lonlat_to_bng(lat[sub], lon[sub])
        good = box.contains(xs, ys)
        out.resolve(
            sub[good], xs[good], ys[good], "wgs84_swapped", coord_unc[sub[good]]
        )
        swap_ok[np.flatnonzero(can_swap)[good]] = True
    failed = rest[~swap_ok]
    if len(failed):
        out.fail(
            failed,
            label,
            _pair_text(lat[failed], lon[failed]),
            f"outside HIPS ({box.describe()} after projection)",
        )
        out.stop(failed)


def _geocode_postcode(frame: pd.DataFrame, out: _Outcome, gaz: Gazetteer) -> None:
    """Postcodes: unit, sector or district centroid, by pandas joins."""
    if "postcode" not in frame.columns:
        return
    norm = normalise_postcode(frame["postcode"])
    kind = np.asarray(norm["kind"].astype(object).where(norm["kind"].notna(), None))
    given = out.pending & (kind != None)  # noqa: E711
    if not given.any():
        return
    raw_text = frame["postcode"].astype("string")
    raw = np.asarray(raw_text.astype(object).where(raw_text.notna(), None))
    rows = np.flatnonzero(given & (kind == "malformed"))
    if len(rows):
        out.fail(
            rows,
            "postcode",
            raw[rows],
            "malformed postcode (expected e.g. 'SO14 2AA', 'SO14 2' or 'SO14')",
        )
    codes = norm["postcode"]
    tables = {
        "unit": (gaz.postcodes, "postcode", "postcode_unit"),
        "sector": (gaz.sectors, "sector", "postcode_sector"),
        "district": (gaz.districts, "outward", "postcode_district"),
    }
    for level, (table, key, method) in tables.items():
        rows = np.flatnonzero(given & (kind == level))
        if not len(rows):
            continue
        looked = pd.DataFrame({key: codes.iloc[rows].to_numpy()}).merge(
            table, on=key, how="left", validate="many_to_one"
        )
        found = looked["easting"].notna().to_numpy()
        if level == "unit":
            unc = (
                looked["quality"]
                .map(POSTCODE_UNIT_UNCERTAINTY_M)
                .fillna(max(POSTCODE_UNIT_UNCERTAINTY_M.values()))
                .to_numpy(dtype=float)
            )
        else:
            unc = np.maximum(
                looked["spread_m"].to_numpy(dtype=float), MIN_AREA_UNCERTAINTY_M
            )
        ok = rows[found]
        out.resolve(
            ok,
            looked["easting"].to_numpy(dtype=float)[found],
            looked["northing"].to_numpy(dtype=float)[found],
            method,
            unc[found],
        )
        missing = rows[~found]
        if len(missing):
            out.fail(
                missing,
                "postcode",
                raw[missing],
                f"postcode {level} not in Code-Point Open (HIPS)"
                if level != "unit"
                else "postcode not in Code-Point Open (HIPS)",
            )


def _geocode_text(frame: pd.DataFrame, out: _Outcome, gaz: Gazetteer) -> None:
    """Free location text: match each unique string once."""
    if "location_text" not in frame.columns:
        return
    text = frame["location_text"].astype("string").str.strip()
    text = text.where(text != "")
    pending = out.pending
    sub = text[pending]
    codes, uniques = pd.factorize(sub, use_na_sentinel=True)
    if not len(uniques):
        return
    matcher = gaz.matcher()
    results = [matcher.resolve(str(u)) for u in uniques]
    ux = np.array([r.x for r in results])
    uy = np.array([r.y for r in results])
    um = np.array([r.method for r in results], dtype=object)
    uu = np.array([r.uncertainty_m for r in results])
    ur = np.array([r.reason for r in results], dtype=object)
    rows_all = np.flatnonzero(pending)
    present = codes >= 0
    rows = rows_all[present]
    c = codes[present]
    ok = um[c] != None  # noqa: E711
    out.resolve(rows[ok], ux[c[ok]], uy[c[ok]], um[c[ok]], uu[c[ok]])
    bad = ~ok
    if bad.any():
        out.fail(
            rows[bad],
            "location_text",
            np.asarray(uniques, dtype=object)[c[bad]],
            ur[c[bad]],
        )
    log.debug("location_text: %d unique strings matched", len(uniques))


# -------------------------------------------------------------------- text matcher


@dataclass(frozen=True)
class TextMatch:
    """The result of matching one location string."""

    x: float = np.nan
    y: float = np.nan
    method: str | None = None
    uncertainty_m: float = np.nan
    reason: str | None = None


def _sort_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


@dataclass
class _Scope:
    """Which streets a string may match, given the towns it names."""

    town_rows: list[int]
    mask: npt.NDArray[np.bool_] | None
    tiers: list[npt.NDArray[np.bool_]]
    choices: list[str]
    name_ids: npt.NDArray[np.intp]


@dataclass
class _Part:
    kind: str  # street | town | junction
    text: str
    other: str = ""


class _TextMatcher:
    """Street and place matching with a cache of results per raw string."""

    def __init__(self, gaz: Gazetteer) -> None:
        streets = gaz.streets.reset_index(drop=True)
        self.streets = streets
        self.sx = streets["x"].to_numpy(dtype=float)
        self.sy = streets["y"].to_numpy(dtype=float)
        self.s_lad = streets["lad_code"].to_numpy(dtype=object)
        self.s_town = (
            streets["town"].astype(str).map(normalise_text).to_numpy(dtype=object)
        )
        self.s_extent = streets["extent_m"].to_numpy(dtype=float)
        self.s_label = (
            streets["street"].astype(str) + " (" + streets["town"].astype(str) + ")"
        ).to_numpy(dtype=object)
        names, self.s_name_code = np.unique(
            streets["street_norm"].to_numpy(dtype=str), return_inverse=True
        )
        self.names = names.tolist()
        self.name_index = {name: i for i, name in enumerate(self.names)}
        self.sorted_names = [_sort_tokens(name) for name in self.names]
        self.scopes: dict[tuple[str, ...], _Scope] = {}
        order = np.argsort(self.s_name_code, kind="stable")
        bounds = np.searchsorted(self.s_name_code[order], np.arange(len(names) + 1))
        self.rows_by_name = [
            order[bounds[i] : bounds[i + 1]] for i in range(len(names))
        ]
        pts = gaz.street_points
        pts = pts.sort_values("street_id", kind="stable")
        ids = pts["street_id"].to_numpy(dtype=int)
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        blocks = np.split(pts[["x", "y"]].to_numpy(dtype=float), starts[1:])
        self.points: dict[int, npt.NDArray[np.float64]] = {
            int(ids[i]): block for i, block in zip(starts, blocks, strict=True)
        }
        self.s_ids = streets["street_id"].to_numpy(dtype=int)
        places = gaz.places.reset_index(drop=True)
        self.places = places
        self.place_rows: dict[str, list[int]] = {}
        for i, name in enumerate(places["name_norm"].astype(str)):
            self.place_rows.setdefault(name, []).append(i)
        self.place_names = list(self.place_rows)
        self.cache: dict[str, TextMatch] = {}

    # -- public -------------------------------------------------------------------

    def resolve(self, text: str) -> TextMatch:
        """Match one location string (cached)."""
        hit = self.cache.get(text)
        if hit is None:
            hit = self._resolve(text)
            if len(self.cache) >= TEXT_CACHE_SIZE:
                self.cache.clear()
            self.cache[text] = hit
        return hit

    # -- parsing ------------------------------------------------------------------

    def _parse(self, norm: str) -> list[_Part]:
        parts: list[_Part] = []
        for raw in norm.split(", "):
            part = _FILLER.sub("", raw).strip()
            if not part:
                continue
            if part in self.place_rows:
                parts.append(_Part("town", part))
                continue
            m = _JUNCTION_PREFIX.match(part) or _JUNCTION_INFIX.match(part)
            if m:
                parts.append(_Part("junction", m.group(1), m.group(2)))
                continue
            tokens = part.split()
            for k in (3, 2, 1):
                if len(tokens) > k + 1:
                    tail = " ".join(tokens[-k:])
                    if tail in self.place_rows and tokens[-k - 1] in _STREET_TYPES:
                        parts.append(_Part("street", " ".join(tokens[:-k])))
                        parts.append(_Part("town", tail))
                        break
            else:
                parts.append(_Part("street", part))
        return parts

    # -- towns and places ---------------------------------------------------------

    def _town_rows(self, towns: list[str]) -> tuple[list[int], set[str] | None]:
        """Place rows of the most specific town part, consistent with the others."""
        lad_sets = [
            {str(self.places.at[i, "lad_code"]) for i in self.place_rows[t]}
            for t in towns
        ]
        lads: set[str] | None = set.intersection(*lad_sets) if lad_sets else None
        if lads is not None and not lads:
            lads = lad_sets[0]
        specific = sorted(
            towns,
            key=lambda t: all(
                self.places.at[i, "kind"] == "district" for i in self.place_rows[t]
            ),
        )[0]
        rows = [
            i
            for i in self.place_rows[specific]
            if lads is None or str(self.places.at[i, "lad_code"]) in lads
        ]
        return rows, lads

    def _place_match(self, rows: list[int], query: str) -> TextMatch:
        sub = self.places.iloc[rows]
        geon = sub[sub["kind"] == "geonames"]
        use = geon if len(geon) else sub
        x = use["x"].to_numpy(dtype=float)
        y = use["y"].to_numpy(dtype=float)
        cx, cy = float(x.mean()), float(y.mean())
        spread = float(np.hypot(x - cx, y - cy).max())
        if spread > PLACE_MERGE_M:
            where = use["outward"].fillna(use["lad_code"]).astype(str)
            labels = (use["name"].astype(str) + " (" + where + ")").tolist()
            return TextMatch(
                reason=f"ambiguous place: {query!r} matches "
                f"{', '.join(labels[:5])}{' ...' if len(labels) > 5 else ''}"
                " (add a district or postcode)"
            )
        unc = float(use["uncertainty_m"].max()) + spread
        # a name that is also a district ("Winchester") may mean either: keep the
        # town's point but let the uncertainty cover the district too
        district = sub.loc[sub["kind"] == "district", "uncertainty_m"]
        if len(district):
            unc = max(unc, float(district.max()))
        return TextMatch(x=cx, y=cy, method="place", uncertainty_m=unc)

    # -- streets ------------------------------------------------------------------

    def _scope(self, towns: tuple[str, ...]) -> _Scope:
        """Candidate streets for the named towns (cached per tuple of towns)."""
        hit = self.scopes.get(towns)
        if hit is not None:
            return hit
        if not towns:
            scope = _Scope(
                town_rows=[],
                mask=None,
                tiers=[],
                choices=self.sorted_names,
                name_ids=np.arange(len(self.names)),
            )
        else:
            town_rows, lads = self._town_rows(list(towns))
            # candidates, most to least specific: streets whose nearest place is the
            # named town; streets in the town's district; streets near the town
            by_town = np.isin(self.s_town, list(towns))
            in_lad = np.isin(self.s_lad, list(lads or ()))
            near = np.zeros(len(self.sx), dtype=bool)
            for i in town_rows:
                if self.places.at[i, "kind"] == "geonames":
                    px, py = self.places.at[i, "x"], self.places.at[i, "y"]
                    near |= np.hypot(self.sx - px, self.sy - py) <= TOWN_RADIUS_M
            mask = by_town | in_lad | near
            name_ids = np.unique(self.s_name_code[mask])
            scope = _Scope(
                town_rows=town_rows,
                mask=mask,
                tiers=[by_town, in_lad, near],
                choices=[self.sorted_names[i] for i in name_ids],
                name_ids=name_ids,
            )
        self.scopes[towns] = scope
        return scope

    def _candidates(self, query: str, scope: _Scope) -> Any:
        """Street rows (within the scope) whose names tie for the best score.

        The score is rapidfuzz ``ratio`` on token-sorted names, i.e.
        ``token_sort_ratio`` with the choices' sorting done once.

        Returns
        -------
        tuple of (numpy.ndarray of int, float)
            Street rows and the best score, 0–100 (0 when none).
        """
        mask = scope.mask
        exact = self.name_index.get(query)
        if exact is not None:
            rows = self.rows_by_name[exact]
            if mask is not None:
                rows = rows[mask[rows]]
            if len(rows):
                return rows, 100.0
        hits = process.extract(
            _sort_tokens(query),
            scope.choices,
            scorer=fuzz.ratio,
            limit=None,
            score_cutoff=STREET_MIN_SCORE,
        )
        if not hits:
            return np.array([], dtype=np.intp), 0.0
        best = max(float(h[1]) for h in hits)
        floor = 100.0 if best >= 100.0 else best - TIE_BAND
        chosen = [int(scope.name_ids[h[2]]) for h in hits if h[1] >= floor]
        rows = np.concatenate([self.rows_by_name[i] for i in chosen])
        if mask is not None:
            rows = rows[mask[rows]]
        return np.unique(rows), best

    def _ambiguous(self, what: str, query: str, rows: npt.NDArray[np.intp]) -> str:
        labels = sorted(set(self.s_label[rows].tolist()))
        shown = ", ".join(labels[:6]) + (" ..." if len(labels) > 6 else "")
        return (
            f"ambiguous {what}: {query!r} matches {shown} "
            f"({len(rows)} candidates; add a town)"
        )

    @staticmethod
    def _narrow(rows: npt.NDArray[np.intp], scope: _Scope) -> npt.NDArray[np.intp]:
        """Keep the rows of the most specific tier (town, district, radius) hit."""
        for tier in scope.tiers:
            sel = rows[tier[rows]]
            if len(sel):
                return sel
        return rows

    def _street_match(self, rows: npt.NDArray[np.intp], query: str) -> TextMatch:
        """One street cluster, or several pieces of one street, or ambiguity.

        Clusters with the same name in the same district whose snap points all lie
        within :data:`STREET_MERGE_M` of each other are pieces of one road (a long
        lane snapped in two places): they resolve to the mean of their snap points
        with half their overall extent as uncertainty.
        """
        if len(rows) == 1:
            i = int(rows[0])
            unc = max(MIN_AREA_UNCERTAINTY_M, self.s_extent[i] / 2)
            return TextMatch(
                x=self.sx[i], y=self.sy[i], method="street", uncertainty_m=unc
            )
        same_name = len(np.unique(self.s_name_code[rows])) == 1
        same_lad = len(set(self.s_lad[rows].tolist())) == 1
        if same_name and same_lad:
            pts = np.vstack([self.points[int(self.s_ids[i])] for i in rows])
            cx, cy = pts.mean(axis=0)
            far = float(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy).max())
            if 2 * far <= STREET_MERGE_M:
                return TextMatch(
                    x=float(cx),
                    y=float(cy),
                    method="street",
                    uncertainty_m=max(MIN_AREA_UNCERTAINTY_M, far),
                )
        return TextMatch(reason=self._ambiguous("street", query, rows))

    def _junction(
        self, a_rows: npt.NDArray[np.intp], b_rows: npt.NDArray[np.intp]
    ) -> tuple[list[tuple[float, float, float]], list[str]]:
        """Meeting points of every close pair of street clusters."""
        found: list[tuple[float, float, float]] = []
        labels: list[str] = []
        for i in a_rows:
            pa = self.points[int(self.s_ids[i])]
            for j in b_rows:
                if i == j:
                    continue
                if np.hypot(self.sx[i] - self.sx[j], self.sy[i] - self.sy[j]) > (
                    self.s_extent[i] + self.s_extent[j] + 2 * JUNCTION_MAX_GAP_M
                ):
                    continue
                pb = self.points[int(self.s_ids[j])]
                d = np.hypot(
                    pa[:, None, 0] - pb[None, :, 0], pa[:, None, 1] - pb[None, :, 1]
                )
                k = int(np.argmin(d))
                ia, ib = divmod(k, d.shape[1])
                gap = float(d.flat[k])
                if gap <= JUNCTION_MAX_GAP_M:
                    mx = (pa[ia, 0] + pb[ib, 0]) / 2
                    my = (pa[ia, 1] + pb[ib, 1]) / 2
                    found.append((mx, my, gap))
                    labels.append(f"{self.s_label[i]} / {self.s_label[j]}")
        return found, labels

    # -- resolution ---------------------------------------------------------------

    def _resolve(self, text: str) -> TextMatch:
        norm = normalise_text(text)
        if not norm:
            return TextMatch(reason="no usable words in location text")
        parts = self._parse(norm)
        towns = [p.text for p in parts if p.kind == "town"]
        scope = self._scope(tuple(towns))
        problems: list[str] = []
        for part in parts:
            if part.kind == "junction":
                a_rows, _ = self._candidates(part.text, scope)
                b_rows, _ = self._candidates(part.other, scope)
                if len(a_rows) and len(b_rows):
                    found, labels = self._junction(a_rows, b_rows)
                    if len(found) == 1 or (
                        found
                        and np.ptp([f[0] for f in found]) <= JUNCTION_MAX_GAP_M
                        and np.ptp([f[1] for f in found]) <= JUNCTION_MAX_GAP_M
                    ):
                        mx = float(np.mean([f[0] for f in found]))
                        my = float(np.mean([f[1] for f in found]))
                        gap = max(f[2] for f in found)
                        unc = max(MIN_AREA_UNCERTAINTY_M, gap / 2 + 50.0)
                        return TextMatch(
                            x=mx, y=my, method="junction", uncertainty_m=unc
                        )
                    if found:
                        shown = ", ".join(labels[:4])
                        problems.append(
                            f"ambiguous junction: {part.text!r} and {part.other!r} "
                            f"meet at {shown}"
                        )
                        continue
                for q, rows in ((part.text, a_rows), (part.other, b_rows)):
                    if len(rows):
                        hit = self._street_match(self._narrow(rows, scope), q)
                        if hit.method is not None:
                            return hit
                        problems.append(str(hit.reason))
                continue
            if part.kind != "street":
                continue
            rows, _ = self._candidates(part.text, scope)
            if len(rows):
                hit = self._street_match(self._narrow(rows, scope), part.text)
                if hit.method is not None:
                    return hit
                problems.append(str(hit.reason))
        if problems:
            return TextMatch(reason="; ".join(problems))
        if towns:
            if not scope.town_rows:
                return TextMatch(reason=f"places {towns} do not lie in one district")
            return self._place_match(scope.town_rows, towns[0])
        # no town named exactly: a part may still be a misspelt place
        for part in parts:
            place = process.extractOne(
                part.text,
                self.place_names,
                scorer=fuzz.ratio,
                score_cutoff=PLACE_MIN_SCORE,
            )
            if place is not None:
                return self._place_match(self.place_rows[place[0]], part.text)
        best = process.extractOne(
            _sort_tokens(norm.replace(",", "")), self.sorted_names, scorer=fuzz.ratio
        )
        hint = (
            f" (closest street {self.names[best[2]]!r}, score {best[1]:.0f})"
            if best
            else ""
        )
        return TextMatch(reason=f"no street or place matched {norm!r}{hint}")

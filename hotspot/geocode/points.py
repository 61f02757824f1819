"""Geocoding rows: coordinates, grid references and postcodes, then text.

Why this module is long: each kind of location (BNG fields, WGS84 fields, either
swapped or mixed up, postcodes, free text) has its own screening and reasons for
failing, and they share one outcome record so a row is placed by the first that
can; keeping them together keeps that order readable.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.crs import lonlat_to_bng
from hotspot.errors import ParameterError
from hotspot.geocode.gazetteer import Box, Gazetteer, load_gazetteer
from hotspot.geocode.normalise import normalise_postcode
from hotspot.geocode.precision import METHOD_PRECISION

log = logging.getLogger(__name__)

#: Output columns of :func:`geocode`, with their dtypes.
GEOCODE_COLUMNS: dict[str, str] = {
    "x": "float64",
    "y": "float64",
    "geocode_method": "string",
    "geocode_uncertainty_m": "float64",
    "geocode_precision": "string",
    "geocode_lad_code": "string",
    "geocode_note": "string",
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


class _Outcome:
    """Per-row results being filled in, stage by stage."""

    def __init__(self, n: int) -> None:
        self.x = np.full(n, np.nan)
        self.y = np.full(n, np.nan)
        self.method = np.full(n, None, dtype=object)
        self.unc = np.full(n, np.nan)
        self.precision = np.full(n, None, dtype=object)
        self.lad = np.full(n, None, dtype=object)
        self.note = np.full(n, None, dtype=object)
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
        *,
        precision: str | npt.NDArray[np.object_] | None = None,
        lad: str | npt.NDArray[np.object_] | None = None,
    ) -> None:
        self.x[rows] = x
        self.y[rows] = y
        self.method[rows] = method
        self.unc[rows] = unc
        if precision is None:
            methods = np.broadcast_to(np.asarray(method, dtype=object), rows.shape)
            precision = np.array([METHOD_PRECISION[m] for m in methods], dtype=object)
        self.precision[rows] = precision
        self.lad[rows] = lad

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
        Rows whose ``source`` is ``"police_uk"`` and that are placed by their
        WGS84 coordinates are police.uk snap points (precision ``snap_point``,
        uncertainty from the snap point's catchment unless given).
    gazetteer : Gazetteer, optional
        Tables to match against; default :func:`load_gazetteer`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``frame`` with :data:`GEOCODE_COLUMNS`: ``x``, ``y`` (BNG, m;
        NaN when unresolved), ``geocode_method``, ``geocode_uncertainty_m`` (m),
        ``geocode_precision`` (see :mod:`hotspot.geocode.precision`),
        ``geocode_lad_code`` (the district the location certainly lies in, when
        the match says so: a street's, a place's, a postcode's; NA for
        coordinates, whose point decides), ``geocode_note`` (why a text match is
        only coarse, naming the candidates; NA otherwise), and for unresolved rows
        ``reject_field``, ``reject_value``, ``reject_reason`` (NA when resolved).
        Every row is either resolved or has a reason.

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
    _mark_snap_points(frame, out, gaz, given=np.isfinite(given_unc))
    _geocode_postcode(frame, out, gaz)
    _geocode_text(frame, out, gaz)

    nothing = out.pending & (out.fail_field == None)  # noqa: E711
    out.fail_field[nothing] = "location"
    out.fail_reason[nothing] = "no location given"

    result = pd.DataFrame(
        {
            "x": out.x,
            "y": out.y,
            "geocode_method": _text_array(out.method),
            "geocode_uncertainty_m": out.unc,
            "geocode_precision": _text_array(out.precision),
            "geocode_lad_code": _text_array(out.lad),
            "geocode_note": _text_array(out.note),
            "reject_field": _text_array(out.fail_field),
            "reject_value": _text_array(out.fail_value),
            "reject_reason": _text_array(out.fail_reason),
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


def _text_array(values: npt.NDArray[np.object_]) -> pd.api.extensions.ExtensionArray:
    """Return ``pd.array(values, dtype="string")``, converting each distinct text once.

    The columns repeat a few texts (a method, a precision) over every row.
    """
    codes, uniques = pd.factorize(values)
    return pd.array(np.asarray(uniques, dtype=object), dtype="string").take(
        codes, allow_fill=True)


def unique_points(
    a: npt.ArrayLike, b: npt.ArrayLike
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return ``(codes, a_u, b_u)``, the distinct pairs: ``a == a_u[codes]``.

    Projecting, looking up or building each distinct point once gives every
    row's result (police.uk rows share a few tens of thousands of snap points).
    Pairs with a missing value or a zero (``-0.0`` hashes as ``0.0``) are not
    merged: each row is its own pair then.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if not (np.isfinite(a).all() and np.isfinite(b).all()
            and (a != 0).all() and (b != 0).all()):
        return np.arange(len(a)), a, b
    codes, uniques = pd.factorize(a + 1j * b)
    return np.asarray(codes), uniques.real.copy(), uniques.imag.copy()


def _lonlat_to_bng_once(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return :func:`hotspot.crs.lonlat_to_bng`, projecting each distinct point once."""
    codes, u_lon, u_lat = unique_points(lon, lat)
    x, y = lonlat_to_bng(u_lon, u_lat)
    return x[codes], y[codes]


def _mark_snap_points(
    frame: pd.DataFrame,
    out: _Outcome,
    gaz: Gazetteer,
    *,
    given: npt.NDArray[np.bool_],
) -> None:
    """police.uk coordinates are snap points, not exact: say so and how far off."""
    if "source" not in frame.columns:
        return
    police = (frame["source"].astype("string") == "police_uk").to_numpy(
        dtype=bool, na_value=False
    )
    rows = np.flatnonzero(police & (out.method == "wgs84"))
    if not len(rows):
        return
    out.precision[rows] = "snap_point"
    own = rows[~given[rows]]
    if len(own):
        codes, x, y = unique_points(out.x[own], out.y[own])
        out.unc[own] = gaz.snap_uncertainty(x, y)[codes]


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
    x, y = _lonlat_to_bng_once(lon[rows], lat[rows])
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
    if not (frame["postcode"].notna().to_numpy(dtype=bool) & out.pending).any():
        return  # no row left to place gives a postcode
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
        lad = looked["lad_code"].astype(object).where(looked["lad_code"].notna(), None)
        if level != "unit":
            # a sector or district straddling districts has no certain one
            certain = (
                looked["lad_certain"].fillna(False).to_numpy(dtype=bool)
                if "lad_certain" in looked.columns
                else np.zeros(len(looked), dtype=bool)
            )
            lad = lad.where(certain, None)
        out.resolve(
            ok,
            looked["easting"].to_numpy(dtype=float)[found],
            looked["northing"].to_numpy(dtype=float)[found],
            method,
            unc[found],
            lad=lad.to_numpy(dtype=object)[found],
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
    if "location_text" not in frame.columns or not out.pending.any():
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
    up = np.array([r.precision for r in results], dtype=object)
    ul = np.array([r.lad_code for r in results], dtype=object)
    rows_all = np.flatnonzero(pending)
    present = codes >= 0
    rows = rows_all[present]
    c = codes[present]
    ok = um[c] != None  # noqa: E711
    out.resolve(
        rows[ok],
        ux[c[ok]],
        uy[c[ok]],
        um[c[ok]],
        uu[c[ok]],
        precision=up[c[ok]],
        lad=ul[c[ok]],
    )
    out.note[rows[ok]] = ur[c[ok]]
    bad = ~ok
    if bad.any():
        out.fail(
            rows[bad],
            "location_text",
            np.asarray(uniques, dtype=object)[c[bad]],
            ur[c[bad]],
        )
    log.debug("location_text: %d unique strings matched", len(uniques))

"""Precision classes of geocoded points and the one rule for using them.

Every located occurrence carries ``geocode_precision``, what its point stands for,
and ``geocode_uncertainty_m``, the radius in metres the true location is likely
within. From finest to coarsest:

==================== =========================================================
``exact``            coordinates or a grid reference given by the source
                     (uncertainty as given, else 10 m)
``snap_point``       a police.uk anonymisation map point: police.uk moves each
                     crime to the nearest point of a fixed set on street centres
                     and public places. Uncertainty = the radius of a circle with
                     the area of the point's catchment (its Voronoi cell among the
                     known snap points, clipped at 1 km): median 96 m; 87% of
                     Jan–Sep 2025 records within 193 m (an H3 resolution-9 edge
                     in HIPS)
``postcode_unit``    a Code-Point Open postcode unit (50–1,000 m by its quality)
``street``           a street or junction matched from free text (its snap
                     points' spread, at least 100 m)
``postcode_sector``  the centroid of a postcode sector (90th percentile spread)
``postcode_district`` the centroid of an outward code (90th percentile spread)
``place``            a town or village centroid (GeoNames; 1.5–2 km or more)
``area``             a district (CSP) only: its centroid stands for the whole
==================== =========================================================

**The rule** (:func:`precise_enough`): a point is used by an analysis on cells of
edge ``cell_edge_m`` (H3 cells, a KDE bandwidth, a patrol beat) only when its
precision is one of :data:`MAPPABLE_PRECISIONS` *and* its uncertainty is at most
the cell's edge. A ``place`` or ``area`` point is never used, at any cell size: a
town or district centroid is not a place on the map. Points not used are still
counted in their district's total (``geocode_lad_code``, or the CSP of the point
when finer) and in their LSOA's only where :func:`lsoa_is_certain` says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import h3
import numpy as np
import pandas as pd

from hotspot.errors import ParameterError

if TYPE_CHECKING:
    from hotspot.geocode.gazetteer import Gazetteer

#: Precision classes, finest first, with a label for people.
PRECISIONS: dict[str, str] = {
    "exact": "exact coordinate",
    "snap_point": "police.uk street snap point",
    "postcode_unit": "postcode unit",
    "street": "street",
    "postcode_sector": "postcode sector",
    "postcode_district": "postcode district",
    "place": "town or village",
    "area": "district only",
}
#: Classes that may be drawn as a point when their uncertainty allows.
MAPPABLE_PRECISIONS: frozenset[str] = frozenset(
    {
        "exact",
        "snap_point",
        "postcode_unit",
        "street",
        "postcode_sector",
        "postcode_district",
    }
)
#: Classes whose point-in-polygon LSOA is trusted (a ``snap_point`` also carries
#: police.uk's recorded LSOA, which wins).
LSOA_CERTAIN_PRECISIONS: frozenset[str] = frozenset(
    {"exact", "snap_point", "postcode_unit"}
)
#: ``geocode_method`` → ``geocode_precision`` (``place`` may also become ``area``,
#: and coordinates of police.uk rows become ``snap_point``).
METHOD_PRECISION: dict[str, str] = {
    "bng": "exact",
    "bng_swapped": "exact",
    "wgs84": "exact",
    "wgs84_swapped": "exact",
    "wgs84_in_bng_fields": "exact",
    "postcode_unit": "postcode_unit",
    "postcode_sector": "postcode_sector",
    "postcode_district": "postcode_district",
    "street": "street",
    "junction": "street",
    "place": "place",
}


#: Where H3 edges are measured for :func:`h3_edge_m`: Southampton city centre
#: (latitude, longitude, degrees). H3 cells vary in size with place; across HIPS
#: (50.6–51.4° N) a resolution-9 edge varies by well under 1%.
H3_REFERENCE_LATLNG: tuple[float, float] = (50.9077, -1.4046)


def h3_edge_m(resolution: int) -> float:
    """Return the edge length (m) of an H3 cell at ``resolution`` in HIPS.

    The mean great-circle length of the six edges of the cell holding
    :data:`H3_REFERENCE_LATLNG`: about 193 m at resolution 9, 511 m at 8 and
    73 m at 10. (H3's world-wide averages are 201, 531 and 76 m in h3 4.x; the
    174 m often quoted for resolution 9 is h3 3.x's table.)

    Parameters
    ----------
    resolution : int
        H3 resolution, 0–15.

    Returns
    -------
    float
        Edge length in metres.
    """
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, int | np.integer)
        or not 0 <= resolution <= 15
    ):
        raise ParameterError(f"resolution must be an integer 0–15, got {resolution!r}")
    cell = h3.latlng_to_cell(*H3_REFERENCE_LATLNG, int(resolution))
    edges = h3.origin_to_directed_edges(cell)
    return float(np.mean([h3.edge_length(e, unit="m") for e in edges]))


def _check(occurrences: pd.DataFrame, cell_edge_m: float) -> None:
    if not isinstance(occurrences, pd.DataFrame):
        raise ParameterError(
            f"occurrences must be a pandas DataFrame, got {type(occurrences).__name__}"
        )
    missing = [
        c
        for c in ("geocode_precision", "geocode_uncertainty_m")
        if c not in occurrences.columns
    ]
    if missing:
        raise ParameterError(
            f"occurrences must have columns {missing} (from hotspot.geocode.geocode)"
        )
    if (
        isinstance(cell_edge_m, bool)
        or not isinstance(cell_edge_m, int | float | np.number)
        or not np.isfinite(cell_edge_m)
        or cell_edge_m <= 0
    ):
        raise ParameterError(
            f"cell_edge_m must be a positive number of metres, got {cell_edge_m!r}"
        )


def precise_enough(occurrences: pd.DataFrame, *, cell_edge_m: float) -> pd.Series:
    """Return whether each occurrence's point may be used on cells of this size.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        With ``geocode_precision`` and ``geocode_uncertainty_m`` (m).
    cell_edge_m : float
        Edge of the analysis cell in metres (e.g. ``h3_edge_m(9)``, about 193 m).

    Returns
    -------
    pandas.Series of bool
        Indexed like ``occurrences``: True when the precision is in
        :data:`MAPPABLE_PRECISIONS` and the uncertainty is at most
        ``cell_edge_m``. Missing precision or uncertainty gives False.

    Raises
    ------
    ParameterError
        When a column is missing or ``cell_edge_m`` is not a positive number.
    """
    _check(occurrences, cell_edge_m)
    precision = occurrences["geocode_precision"].astype(object)
    unc = pd.to_numeric(occurrences["geocode_uncertainty_m"], errors="coerce")
    ok = precision.isin(MAPPABLE_PRECISIONS) & (
        unc.to_numpy(dtype=float, na_value=np.nan) <= float(cell_edge_m)
    )
    return pd.Series(np.asarray(ok, dtype=bool), index=occurrences.index)


def lsoa_is_certain(occurrences: pd.DataFrame) -> pd.Series:
    """Return whether each occurrence's LSOA can be taken from its point or record.

    True when the source recorded an LSOA (``recorded_lsoa_code``) or the precision
    is in :data:`LSOA_CERTAIN_PRECISIONS`. A street, postcode sector or district,
    place or area point is in *some* LSOA of its district, not certainly in the
    one under its point: leave its ``lsoa21_code`` empty.
    """
    if "geocode_precision" not in occurrences.columns:
        raise ParameterError("occurrences must have column 'geocode_precision'")
    ok = occurrences["geocode_precision"].astype(object).isin(LSOA_CERTAIN_PRECISIONS)
    if "recorded_lsoa_code" in occurrences.columns:
        ok = ok | occurrences["recorded_lsoa_code"].notna()
    return pd.Series(np.asarray(ok, dtype=bool), index=occurrences.index)


def precision_summary(occurrences: pd.DataFrame, *, cell_edge_m: float) -> pd.DataFrame:
    """Occurrences per precision class: how many an analysis uses, and why not.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        With ``geocode_precision``, ``geocode_uncertainty_m`` (m) and optionally
        ``csp_name`` (for the wording of the note).
    cell_edge_m : float
        Edge of the analysis cell in metres.

    Returns
    -------
    pandas.DataFrame
        One row per precision class present, finest first: ``precision``,
        ``label``, ``occurrences``, ``median_uncertainty_m``, ``mapped`` (used in
        cells), ``not_mapped``, and ``note``, e.g. "212 occurrences located only
        to a town or village: counted in Eastleigh's total, not mapped".
    """
    _check(occurrences, cell_edge_m)
    used = precise_enough(occurrences, cell_edge_m=cell_edge_m)
    precision = occurrences["geocode_precision"].astype(object).fillna("(none)")
    unc = pd.to_numeric(occurrences["geocode_uncertainty_m"], errors="coerce")
    csp = (
        occurrences["csp_name"].astype(object)
        if "csp_name" in occurrences.columns
        else pd.Series(None, index=occurrences.index, dtype=object)
    )
    order = [*PRECISIONS, "(none)"]
    rows = []
    present = sorted(set(precision), key=lambda c: order.index(c) if c in order else 99)
    for cls in present:
        sel = precision == cls
        n = int(sel.sum())
        n_used = int(used[sel].sum())
        label = PRECISIONS.get(cls, "not located")
        rest = n - n_used
        if rest == 0:
            note = f"all {n} mapped (uncertainty ≤ {cell_edge_m:.0f} m)"
        else:
            by_csp = csp[sel & ~used].dropna().value_counts()
            if len(by_csp) == 1:
                counted = f"counted in {by_csp.index[0]}'s total"
            elif len(by_csp):
                shown = ", ".join(f"{k} ({v})" for k, v in by_csp.head(4).items())
                more = f" and {len(by_csp) - 4} more" if len(by_csp) > 4 else ""
                counted = f"counted in the totals of {shown}{more}"
            else:
                counted = "counted in totals"
            if cls in MAPPABLE_PRECISIONS:
                why = f"uncertainty over the {cell_edge_m:.0f} m cell edge"
            elif cls == "area":
                why = "located only to a district"
            elif cls == "place":
                why = "located only to a town or village"
            else:
                why = "with no precision recorded"
            note = f"{rest} occurrences {why}: {counted}, not mapped"
            if n_used:
                note = f"{n_used} mapped; " + note
        rows.append(
            {
                "precision": cls,
                "label": label,
                "occurrences": n,
                "median_uncertainty_m": float(unc[sel].median()) if n else np.nan,
                "mapped": n_used,
                "not_mapped": rest,
                "note": note,
            }
        )
    return pd.DataFrame(rows)


def fill_precision(
    occurrences: pd.DataFrame, *, gazetteer: Gazetteer | None = None
) -> pd.DataFrame:
    """Return ``occurrences`` with ``geocode_precision`` filled where it is missing.

    For stores written before precision classes existed: the class follows from
    ``geocode_method`` (:data:`METHOD_PRECISION`); police.uk rows placed by their
    coordinates become ``snap_point`` with the snap point's catchment radius as
    their uncertainty (they were stored as exact, 10 m). Rows that already have a
    precision are left alone; the input is not changed.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        With ``geocode_method`` and ``geocode_uncertainty_m`` (m), optionally
        ``source`` and point coordinates as a ``geometry`` column (EPSG:27700) or
        ``x``/``y`` (m).
    gazetteer : Gazetteer, optional
        For the snap-point catchments; default :func:`load_gazetteer`.

    Returns
    -------
    pandas.DataFrame
    """
    if not isinstance(occurrences, pd.DataFrame):
        raise ParameterError(
            f"occurrences must be a pandas DataFrame, got {type(occurrences).__name__}"
        )
    if "geocode_method" not in occurrences.columns:
        raise ParameterError("occurrences must have column 'geocode_method'")
    out = occurrences.copy()
    if "geocode_precision" not in out.columns:
        out["geocode_precision"] = pd.Series(pd.NA, index=out.index, dtype="string")
    missing = out["geocode_precision"].isna().to_numpy()
    if not missing.any():
        return out
    method = out["geocode_method"].astype(object)
    filled = method.map(METHOD_PRECISION).astype(object)
    out.loc[missing, "geocode_precision"] = filled[missing].where(
        filled[missing].notna(), pd.NA
    )
    if "source" in out.columns:
        police = (
            missing
            & (out["source"].astype("string") == "police_uk").to_numpy(
                dtype=bool, na_value=False
            )
            & (method == "wgs84").to_numpy(dtype=bool)
        )
        if police.any():
            from hotspot.geocode.gazetteer import load_gazetteer

            gaz = gazetteer if gazetteer is not None else load_gazetteer()
            if "geometry" in out.columns:
                x = np.asarray(out.geometry.x)[police]
                y = np.asarray(out.geometry.y)[police]
            else:
                x = out["x"].to_numpy(dtype=float)[police]
                y = out["y"].to_numpy(dtype=float)[police]
            out.loc[police, "geocode_precision"] = "snap_point"
            out.loc[police, "geocode_uncertainty_m"] = gaz.snap_uncertainty(x, y)
    out["geocode_precision"] = out["geocode_precision"].astype("string")
    return out

"""H3 study areas: fill CSP polygons with H3 cells and count occurrences per cell.

The land rule
-------------
A cell belongs to the study when its **centre** lies inside a coastline-clipped CSP
polygon (tested in British National Grid, EPSG:27700), and it belongs to the CSP
whose polygon contains that centre. Cells whose centre lies in the sea or outside
HIPS are left out even if part of the hexagon touches land; a centre that lies
exactly on a shared boundary goes to the CSP with the smallest code, so each cell
belongs to exactly one CSP. Zero-count cells are kept: they are part of the study
area and matter to Gi*.

Candidate cells come from ``h3.geo_to_cells`` (centre containment on the sphere) on
each CSP polygon buffered by one cell edge and projected to WGS84; the exact
centre test is then repeated in EPSG:27700, so the curvature of projected edges
never decides membership.

Scopes
------
``"csp"``: each CSP is its own study area (``study_area`` = ``csp_code``), so
Portsmouth and Southampton do not swamp the rural districts. ``"hips"``: one study
area, ``"HIPS"``, across all the polygons given.

Shipped cells
-------------
The fill depends only on the CSP polygons and the resolution, so the cells of
each shipped CSP polygon are kept in ``data/grid/study_cells_r<res>.parquet``
(built by ``scripts/build_grid.py``; each CSP filled on its own, with the
SHA-256 of the polygon's WKB). :func:`study_cells` uses them when every CSP it
is given has the same polygon (same hash) and fills afresh otherwise; the
result is the same table (``tests/test_grid.py`` checks it against a fresh fill).

The (lat, lng) order h3 uses is handled in two places only: ``latlng_for_h3`` in
:mod:`hotspot.crs` (into h3) and :func:`_h3_to_lnglat` here (out of h3).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from tqdm.auto import tqdm

from hotspot.crs import (
    BNG,
    WGS84,
    bng_to_lonlat,
    latlng_for_h3,
    lonlat_to_bng,
    to_wgs84,
)
from hotspot.crs import require_bng as _require_bng
from hotspot.errors import ParameterError
from hotspot.settings import DATA_DIR

logger = logging.getLogger(__name__)

Scope = Literal["csp", "hips"]
SCOPES: tuple[str, ...] = ("csp", "hips")
MIN_RESOLUTION = 7
MAX_RESOLUTION = 11
DEFAULT_RESOLUTION = 9
#: Study-area name used for the single HIPS-wide scope.
HIPS_AREA = "HIPS"
#: Folder of the shipped study cells (``study_cells_r<resolution>.parquet``).
SHIPPED_CELLS_DIR = DATA_DIR / "grid"


def shipped_cells_path(resolution: int, folder: Path = SHIPPED_CELLS_DIR) -> Path:
    """Path of the shipped study cells of a resolution (may not exist)."""
    return Path(folder) / f"study_cells_r{resolution}.parquet"


def polygon_hash(geom: shapely.Geometry) -> str:
    """SHA-256 of a polygon's WKB: identifies the polygon a shipped fill used."""
    return hashlib.sha256(shapely.to_wkb(geom, hex=False)).hexdigest()


@lru_cache(maxsize=4)
def _read_shipped(path: str, mtime_ns: int) -> gpd.GeoDataFrame:
    del mtime_ns  # cache key only: a rebuilt file is read again
    frame: gpd.GeoDataFrame = gpd.read_parquet(path)
    return frame


def _shipped_fill(csps: gpd.GeoDataFrame, resolution: int,
                  folder: Path) -> gpd.GeoDataFrame | None:
    """Cells of ``csps`` from the shipped table, or None when it cannot serve."""
    path = shipped_cells_path(resolution, folder)
    if not path.is_file():
        return None
    table = _read_shipped(str(path), path.stat().st_mtime_ns)
    known = dict(zip(table["csp_code"], table["csp_hash"], strict=False))
    for code, geom in zip(csps["csp_code"].astype(str), csps.geometry, strict=True):
        if known.get(code) != polygon_hash(geom):
            return None
    chosen = table[table["csp_code"].isin(set(csps["csp_code"].astype(str)))]
    # each CSP was filled on its own; where polygons overlap, the smallest code
    # keeps the cell, as in a joint fill
    chosen = chosen.sort_values(["csp_code", "h3"], kind="stable")
    chosen = chosen[~chosen["h3"].duplicated(keep="first")]
    names = dict(zip(csps["csp_code"].astype(str), csps["csp_name"].astype(str),
                     strict=True))
    out = chosen[["h3", "csp_code", "geometry"]].copy()
    out.insert(2, "csp_name", out["csp_code"].map(names))
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG)


def check_resolution(resolution: int) -> int:
    """Return ``resolution`` when it is an H3 resolution from 7 to 11, else raise.

    Raises
    ------
    ParameterError
        When ``resolution`` is not an integer from 7 to 11.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
        raise ParameterError(
            f"resolution must be an integer from {MIN_RESOLUTION} to "
            f"{MAX_RESOLUTION}, got {resolution!r}"
        )
    if not MIN_RESOLUTION <= int(resolution) <= MAX_RESOLUTION:
        raise ParameterError(
            f"resolution must be from {MIN_RESOLUTION} to {MAX_RESOLUTION} "
            f"(9 is about 174 m edge, 10 about 66 m), got {resolution}"
        )
    return int(resolution)


def check_scope(scope: str) -> str:
    """Return ``scope`` when it is ``"csp"`` or ``"hips"``, else raise."""
    if scope not in SCOPES:
        raise ParameterError(f"scope must be one of {SCOPES}, got {scope!r}")
    return scope


def _h3_to_lnglat(latlng: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Swap h3's ``(lat, lng)`` pairs (last axis) into ``(lng, lat)``.

    The one place the order coming *out of* h3 is swapped; the way in is
    :func:`hotspot.crs.latlng_for_h3`.
    """
    arr = np.asarray(latlng, dtype=float)
    return arr[..., ::-1]


def _candidate_cells(polygon_wgs84: shapely.Geometry, resolution: int) -> list[str]:
    """Cells whose centre lies in ``polygon_wgs84`` (lon/lat, GeoJSON order)."""
    cells: list[str] = []
    for part in getattr(polygon_wgs84, "geoms", [polygon_wgs84]):
        if part.is_empty:
            continue
        cells.extend(h3.geo_to_cells(part, resolution))
    return cells


def cell_centres_bng(
    cells: Sequence[str],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return BNG easting and northing (metres) of the centres of ``cells``."""
    latlng = np.array([h3.cell_to_latlng(c) for c in cells], dtype=float).reshape(-1, 2)
    lnglat = _h3_to_lnglat(latlng)
    return lonlat_to_bng(lnglat[:, 0], lnglat[:, 1])


def cell_polygons(
    cells: Sequence[str], *, crs: str = BNG
) -> gpd.GeoSeries:
    """Return the hexagons of ``cells`` as polygons in ``crs``.

    Parameters
    ----------
    cells : sequence of str
        H3 cell indexes (hexadecimal strings).
    crs : {"EPSG:27700", "EPSG:4326"}, keyword-only
        British National Grid (metres, for analysis and files) or WGS84 (degrees,
        for display).

    Returns
    -------
    geopandas.GeoSeries
        One polygon per cell, in the order given.
    """
    if crs not in (BNG, WGS84):
        raise ParameterError(f"crs must be {BNG!r} or {WGS84!r}, got {crs!r}")
    boundaries = [h3.cell_to_boundary(c) for c in cells]
    sizes = np.array([len(b) for b in boundaries], dtype=np.int64)
    if len(boundaries) == 0:
        return gpd.GeoSeries([], crs=crs)
    lnglat = _h3_to_lnglat(np.concatenate([np.asarray(b) for b in boundaries]))
    x, y = lnglat[:, 0], lnglat[:, 1]
    if crs == BNG:
        x, y = lonlat_to_bng(x, y)
    # close each ring: repeat its first vertex
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ring_id = np.repeat(np.arange(len(cells)), sizes + 1)
    order = np.concatenate(
        [np.arange(s, s + n).tolist() + [s] for s, n in zip(starts, sizes, strict=True)]
    ).astype(np.int64)
    coords = np.column_stack([x[order], y[order]])
    rings = shapely.linearrings(coords, indices=ring_id)
    return gpd.GeoSeries(shapely.polygons(rings), crs=crs)


def study_cells(
    csps: gpd.GeoDataFrame,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    scope: Scope = "csp",
    progress: bool = False,
    shipped: bool = True,
    shipped_dir: Path = SHIPPED_CELLS_DIR,
) -> gpd.GeoDataFrame:
    """Fill CSP polygons with H3 cells: the study cells of a Gi* or trend analysis.

    Parameters
    ----------
    csps : geopandas.GeoDataFrame
        CSP polygons in EPSG:27700 with ``csp_code`` and ``csp_name`` columns
        (as :func:`hotspot.boundaries.load_csps` returns, coastline-clipped).
    resolution : int, keyword-only
        H3 resolution, 7 to 11 (default 9, about 174 m edge and 0.105 km² a cell;
        10 is about 66 m edge for street-level work).
    scope : {"csp", "hips"}, keyword-only
        ``"csp"``: each CSP is its own study area; ``"hips"``: one study area.
    progress : bool, keyword-only
        Show a progress bar over the CSPs.
    shipped : bool, keyword-only
        Use the shipped cells (``shipped_dir``) when they were made from the
        same polygons; False always fills afresh.
    shipped_dir : pathlib.Path, keyword-only
        Folder of the shipped cells.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell, sorted by ``study_area`` then ``h3``, with columns
        ``h3``, ``csp_code``, ``csp_name``, ``study_area`` and the hexagon
        (EPSG:27700) as geometry. ``attrs`` holds ``resolution`` and ``scope``.

    Raises
    ------
    ParameterError
        When ``resolution`` or ``scope`` is out of range or columns are missing.
    CRSError
        When ``csps`` is not in EPSG:27700.

    Notes
    -----
    The land rule is written in the module docstring: a cell is kept when its
    centre lies inside a (coastline-clipped) CSP polygon, and it belongs to that
    CSP. Zero-count cells are kept.
    """
    resolution = check_resolution(resolution)
    check_scope(scope)
    _require_bng(csps, name="csps")
    missing = {"csp_code", "csp_name"} - set(csps.columns)
    if missing:
        raise ParameterError(
            f"csps must have columns csp_code and csp_name; missing {missing}"
        )
    if csps.empty:
        raise ParameterError("csps must hold at least one polygon, got an empty frame")

    ordered = csps.sort_values("csp_code")
    found = _shipped_fill(ordered, resolution, shipped_dir) if shipped else None
    if found is not None:
        return _finish(found, resolution=resolution, scope=scope,
                       how="shipped cells")
    edge_m = h3.average_hexagon_edge_length(resolution, unit="m")
    buffered = ordered.geometry.buffer(edge_m).simplify(edge_m / 10)
    buffered_wgs = to_wgs84(gpd.GeoDataFrame(geometry=buffered, crs=BNG)).geometry
    candidates: set[str] = set()
    for geom in tqdm(buffered_wgs, desc="H3 fill", disable=not progress, unit="CSP"):
        candidates.update(_candidate_cells(geom, resolution))
    cand_list = sorted(candidates)
    cand = np.array(cand_list, dtype=object)
    x, y = cell_centres_bng(cand_list)

    # exact centre test in BNG; first (smallest code) polygon wins on a boundary
    owner = np.full(len(cand), -1, dtype=np.int64)
    for pos, geom in enumerate(ordered.geometry):
        free = owner < 0
        inside = shapely.contains_xy(geom, x[free], y[free])
        idx = np.flatnonzero(free)[inside]
        owner[idx] = pos
    keep = owner >= 0
    codes = ordered["csp_code"].astype(str).to_numpy()[owner[keep]]
    names = ordered["csp_name"].astype(str).to_numpy()[owner[keep]]
    cells = cand[keep]
    table = pd.DataFrame({"h3": cells, "csp_code": codes, "csp_name": names})
    filled = gpd.GeoDataFrame(
        table, geometry=cell_polygons(table["h3"].tolist(), crs=BNG).values, crs=BNG
    )
    logger.info("%d candidate cells had their centre outside every CSP",
                int((~keep).sum()))
    return _finish(filled, resolution=resolution, scope=scope, how="fresh fill")


def _finish(cells: gpd.GeoDataFrame, *, resolution: int, scope: str,
            how: str) -> gpd.GeoDataFrame:
    """Add ``study_area``, sort by study area and cell, and record the choices."""
    table = cells[["h3", "csp_code", "csp_name", "geometry"]].copy()
    table.insert(3, "study_area",
                 table["csp_code"] if scope == "csp" else HIPS_AREA)
    table = table.sort_values(["study_area", "h3"], kind="stable")
    out = gpd.GeoDataFrame(table.reset_index(drop=True), geometry="geometry",
                           crs=BNG)
    out.attrs.update({"resolution": resolution, "scope": scope})
    logger.info(
        "H3 fill (%s): %d cells at resolution %d (centre-in-polygon rule) in %d "
        "study area(s), scope %s", how, len(out), resolution,
        out["study_area"].nunique(), scope,
    )
    return out


def points_to_cells(points: gpd.GeoDataFrame, *, resolution: int) -> pd.Series:
    """Return the H3 cell of each point (index kept; missing for empty geometry).

    Points are projected from EPSG:27700 to WGS84 in one vectorised call; h3's
    scalar ``latlng_to_cell`` then runs once per distinct coordinate, since many
    occurrences share a snapped location (police.uk) or an address.
    """
    resolution = check_resolution(resolution)
    _require_bng(points, name="points")
    geom = points.geometry
    valid = ~(geom.isna() | geom.is_empty)
    out = pd.Series(pd.NA, index=points.index, dtype="string")
    if not valid.any():
        return out
    lon, lat = bng_to_lonlat(geom[valid].x.to_numpy(), geom[valid].y.to_numpy())
    coords = np.column_stack([lon, lat])
    uniq, inverse = np.unique(coords, axis=0, return_inverse=True)
    uniq_cells = np.array(
        [h3.latlng_to_cell(*latlng_for_h3(lo, la), resolution) for lo, la in uniq],
        dtype=object,
    )
    out[valid.to_numpy()] = uniq_cells[np.asarray(inverse).ravel()]
    return out


#: Decimal places harm totals are kept to: far finer than any harm weight (ONS
#: Crime Severity Score weights have two), and coarse enough that the order of
#: the sum (numpy here, DuckDB in a store) leaves no trace in a total.
HARM_DECIMALS = 6


def harm_total(sums: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Round summed harm weights to :data:`HARM_DECIMALS` (float64).

    Every count of cells rounds its harm sums here, so the same occurrences
    give the same totals, and the same Gi* z and ranks, however they were
    summed.
    """
    return np.asarray(np.round(np.asarray(sums, dtype=np.float64), HARM_DECIMALS),
                      dtype=np.float64)


def count_points(
    points: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    weight: str | None = None,
) -> gpd.GeoDataFrame:
    """Count points, and sum their harm, in each study cell (zero cells kept).

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Occurrences as points in EPSG:27700.
    cells : geopandas.GeoDataFrame
        Study cells from :func:`study_cells` (column ``h3``).
    weight : str or None, keyword-only
        Column of ``points`` holding harm weights (for example ``"harm_weight"``).
        Missing weights count as 0 and are reported in a warning. ``None`` gives
        every point a weight of 1, so ``harm`` equals ``count``.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``cells`` with ``count`` (int64, occurrences) and ``harm``
        (float64, sum of weights). ``attrs["points_outside"]`` is the number of
        points whose cell is not a study cell (sea, outside the CSPs given) and
        ``attrs["missing_weights"]`` the number of points without a weight.
    """
    if "h3" not in cells.columns:
        raise ParameterError("cells must have an 'h3' column (use study_cells())")
    if weight is not None and weight not in points.columns:
        raise ParameterError(
            f"weight must be a column of points, got {weight!r}; "
            f"columns are {list(points.columns)}"
        )
    out = cells.copy()
    out["count"] = np.zeros(len(out), dtype=np.int64)
    out["harm"] = np.zeros(len(out), dtype=np.float64)
    out.attrs = dict(cells.attrs)
    out.attrs["points_outside"] = 0
    out.attrs["missing_weights"] = 0
    if len(out) == 0 or len(points) == 0:
        return out
    resolution = h3.get_resolution(str(out["h3"].iloc[0]))
    point_cells = points_to_cells(points, resolution=resolution)
    pos = pd.Index(out["h3"]).get_indexer(point_cells.fillna("").to_numpy())
    inside = pos >= 0
    if weight is None:
        w = np.ones(len(points), dtype=float)
        missing = 0
    else:
        wser = pd.to_numeric(points[weight], errors="coerce").astype("Float64")
        missing = int(wser.isna().sum())
        w = wser.fillna(0.0).to_numpy(dtype=float)
    out["count"] = np.bincount(pos[inside], minlength=len(out)).astype(np.int64)
    out["harm"] = harm_total(np.bincount(pos[inside], weights=w[inside],
                                         minlength=len(out)))
    out.attrs["points_outside"] = int((~inside).sum())
    out.attrs["missing_weights"] = missing
    if missing:
        logger.warning("%d points have no %s; counted with weight 0", missing, weight)
    logger.info(
        "counted %d of %d points into %d cells (%d outside the study cells)",
        int(inside.sum()), len(points), len(out), int((~inside).sum()),
    )
    return out


def count_cells(cells: gpd.GeoDataFrame, counts: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return study cells with ``count`` and ``harm`` from per-cell counts.

    The same result as :func:`count_points` (with ``weight="harm_weight"``) on the
    points, from :func:`hotspot.ingest.query.cell_counts` (summed over periods),
    so an analysis never needs the rows. ``attrs`` carry ``points_outside`` and
    ``missing_weights`` as :func:`count_points` sets them.
    """
    if "h3" not in cells.columns:
        raise ParameterError("cells must have an 'h3' column (use study_cells())")
    total = counts.groupby("h3", sort=False)[["count", "harm", "no_weight"]].sum()
    out = cells.copy()
    out.attrs = dict(cells.attrs)
    pos = pd.Index(out["h3"]).get_indexer(total.index)
    inside = pos >= 0
    n = total["count"].to_numpy(dtype=float)
    out["count"] = np.bincount(pos[inside], weights=n[inside],
                               minlength=len(out)).astype(np.int64)
    out["harm"] = harm_total(np.bincount(
        pos[inside], weights=total["harm"].to_numpy()[inside], minlength=len(out)))
    out.attrs["points_outside"] = int(n[~inside].sum())
    out.attrs["missing_weights"] = int(total["no_weight"].sum())
    return out

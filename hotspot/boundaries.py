"""Community Safety Partnerships, LSOAs and wards, and assigning points to them.

The boundary files live in the repository's ``boundaries/`` folder, in British
National Grid (EPSG:27700), and are built by ``scripts/build_boundaries.py`` from
the ONS files described in ``boundaries/README.md``.

Two CSP groupings exist:

- ``"district"`` (default): 14 CSPs, one per local authority district, as the
  HIPS Violence Reduction Partnership works; ``csp_code`` is the LAD code.
- ``"ons2024"``: the 12 CSPs of the ONS 2024 LAD→CSP lookup, where Basingstoke
  and Deane, Hart and Rushmoor form "North Hampshire" (E22000374); ``csp_code``
  is the csp24 code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from hotspot import settings
from hotspot.crs import require_bng
from hotspot.errors import DataNotFoundError, ParameterError

log = logging.getLogger(__name__)

#: The 14 HIPS local authority districts (code → name), from the shared README.
HIPS_LADS: dict[str, str] = {
    "E06000044": "Portsmouth",
    "E06000045": "Southampton",
    "E06000046": "Isle of Wight",
    "E07000084": "Basingstoke and Deane",
    "E07000085": "East Hampshire",
    "E07000086": "Eastleigh",
    "E07000087": "Fareham",
    "E07000088": "Gosport",
    "E07000089": "Hart",
    "E07000090": "Havant",
    "E07000091": "New Forest",
    "E07000092": "Rushmoor",
    "E07000093": "Test Valley",
    "E07000094": "Winchester",
}

Grouping = Literal["district", "ons2024"]
GROUPINGS: tuple[str, ...] = get_args(Grouping)
BUILD_SCRIPT = "scripts/build_boundaries.py"

_CSP_FILES: dict[str, str] = {
    "district": "csp_districts.parquet",
    "ons2024": "csp_ons2024.parquet",
}
#: How far (metres) a point inside a CSP but outside every (coarse, 200 m
#: generalised) LSOA 2021 polygon may be from the LSOA it is given.
LSOA_SEARCH_RADIUS_M = 500.0
#: Columns returned by :func:`assign_areas`.
ASSIGN_COLUMNS: tuple[str, ...] = ("csp_code", "csp_name", "lsoa21_code", "assigned_by")


# --------------------------------------------------------------------- loading
@lru_cache(maxsize=16)
def _read(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise DataNotFoundError(
            f"boundary file {path} is missing; build it with "
            f"`.venv/bin/python {BUILD_SCRIPT}`"
        )
    gdf = gpd.read_parquet(path)
    require_bng(gdf, name=str(path))
    log.debug("read %s: %d rows", path, len(gdf))
    return gdf


def _boundary(name: str) -> gpd.GeoDataFrame:
    """Return the cached frame itself (never hand it to callers)."""
    return _read(Path(settings.BOUNDARIES_DIR) / name)


def _check_grouping(grouping: str) -> None:
    if grouping not in GROUPINGS:
        raise ParameterError(f"grouping must be one of {GROUPINGS}, got {grouping!r}")


def load_csps(*, grouping: Grouping = "district") -> gpd.GeoDataFrame:
    """Return the CSP polygons.

    Parameters
    ----------
    grouping : {"district", "ons2024"}
        ``"district"``: 14 CSPs, one per district (default). ``"ons2024"``: the 12
        CSPs of the ONS 2024 lookup (with North Hampshire).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``csp_code``, ``csp_name``, ``lad_code`` (comma-joined LAD codes),
        ``area_km2`` (km²) and ``geometry`` (EPSG:27700), sorted by ``csp_code``.
        A copy: changing it does not change later calls.

    Raises
    ------
    ParameterError
        When ``grouping`` is not one of the two groupings.
    DataNotFoundError
        When the boundary file has not been built.
    """
    _check_grouping(grouping)
    return _boundary(_CSP_FILES[grouping]).copy()


def load_lsoa21() -> gpd.GeoDataFrame:
    """Return the 1,231 LSOA 2021 polygons (super generalised, 200 m).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``lsoa21_code``, ``lsoa21_name``, ``lad_code``, ``lad_name``,
        ``ward24_code``, ``ward24_name`` (best-fit 2024 ward) and ``geometry``
        (EPSG:27700). A copy.
    """
    return _boundary("lsoa21.parquet").copy()


def load_lsoa11() -> gpd.GeoDataFrame:
    """Return the 1,194 LSOA 2011 polygons (generalised, clipped to the coast).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``lsoa11_code``, ``lsoa11_name``, ``lad_code``, ``lsoa21_codes``
        (comma-joined 2021 successors) and ``geometry`` (EPSG:27700). A copy.
    """
    return _boundary("lsoa11.parquet").copy()


def load_wards() -> gpd.GeoDataFrame:
    """Return the 268 electoral wards (2022, super generalised).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``ward22_code``, ``ward22_name``, ``lad_code`` and ``lad_name`` (the
        district holding most of the ward), ``lad_share`` (that share of the ward's
        area, 0–1) and ``geometry`` (EPSG:27700). A copy.
    """
    return _boundary("wards.parquet").copy()


def load_hips_outline() -> gpd.GeoDataFrame:
    """Return the outline of the whole HIPS area (the union of the 14 districts).

    Returns
    -------
    geopandas.GeoDataFrame
        One row: ``name`` ("HIPS"), ``area_km2`` (km²), ``geometry`` (EPSG:27700).
        A copy.
    """
    return _boundary("hips_outline.parquet").copy()


def csp_names(grouping: Grouping = "district") -> dict[str, str]:
    """Return ``{csp_code: csp_name}`` for a grouping, sorted by code."""
    _check_grouping(grouping)
    csps = _boundary(_CSP_FILES[grouping])
    return dict(zip(csps["csp_code"], csps["csp_name"], strict=True))


# ------------------------------------------------------------------ assignment
@dataclass(frozen=True)
class _Index:
    """Spatial indexes and code arrays for one grouping (built once, cached)."""

    #: LSOA 2011 polygons (detailed coastline); the CSPs are their dissolve.
    lsoa11_tree: shapely.STRtree
    #: Position in ``csp_codes`` of the CSP holding each LSOA 2011.
    lsoa11_csp: npt.NDArray[np.int64]
    csp_codes: npt.NDArray[np.object_]
    csp_names: npt.NDArray[np.object_]
    lsoa_tree: shapely.STRtree
    lsoa_codes: npt.NDArray[np.object_]
    #: Position in ``csp_codes`` of the CSP holding each LSOA (by its LAD).
    lsoa_csp: npt.NDArray[np.int64]
    #: LSOA 2021 code → position in ``csp_codes``.
    lsoa_to_csp: dict[str, int]


@lru_cache(maxsize=4)
def _index(grouping: str, boundaries_dir: Path) -> _Index:
    csps = _read(boundaries_dir / _CSP_FILES[grouping])
    lsoa = _read(boundaries_dir / "lsoa21.parquet")
    lsoa11 = _read(boundaries_dir / "lsoa11.parquet")
    csp_codes = csps["csp_code"].to_numpy(dtype=object)
    lad_to_csp = {
        lad: i
        for i, lads in enumerate(csps["lad_code"])
        for lad in str(lads).split(",")
    }
    missing = sorted(
        (set(lsoa["lad_code"]) | set(lsoa11["lad_code"])) - set(lad_to_csp)
    )
    if missing:
        raise DataNotFoundError(
            f"{boundaries_dir}: LSOA districts {missing} belong to no CSP of grouping "
            f"{grouping!r}; rebuild with `.venv/bin/python {BUILD_SCRIPT}`"
        )
    lsoa_csp = lsoa["lad_code"].map(lad_to_csp).to_numpy(dtype=np.int64)
    lsoa_codes = lsoa["lsoa21_code"].to_numpy(dtype=object)
    return _Index(
        lsoa11_tree=shapely.STRtree(lsoa11.geometry.values),
        lsoa11_csp=lsoa11["lad_code"].map(lad_to_csp).to_numpy(dtype=np.int64),
        csp_codes=csp_codes,
        csp_names=csps["csp_name"].to_numpy(dtype=object),
        lsoa_tree=shapely.STRtree(lsoa.geometry.values),
        lsoa_codes=lsoa_codes,
        lsoa_csp=lsoa_csp,
        lsoa_to_csp=dict(zip(lsoa_codes, lsoa_csp.tolist(), strict=True)),
    )


def _first_hit(
    query_idx: npt.NDArray[np.intp], tree_idx: npt.NDArray[np.intp], n: int
) -> npt.NDArray[np.int64]:
    """Per query, the lowest tree index hit (-1 when none): the tie rule.

    A point on an edge shared by two polygons intersects both; it goes to the one
    whose code sorts first (the files are sorted by code), whatever the order the
    tree returns them in.
    """
    out = np.full(n, -1, dtype=np.int64)
    if len(query_idx):
        order = np.lexsort((tree_idx, query_idx))
        q, t = query_idx[order], tree_idx[order]
        first = np.r_[True, q[1:] != q[:-1]]
        out[q[first]] = t[first]
    return out


def _locate(
    xy: npt.NDArray[np.float64], index: _Index
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return (CSP position, LSOA position) for each point; -1 where none."""
    pts = shapely.points(xy)
    n = len(pts)
    # The CSPs are dissolved LSOA 2011 polygons (checked by the build script), and
    # many small polygons are quicker to search than 14 large ones.
    q, t = index.lsoa11_tree.query(pts, predicate="intersects")
    csp = _first_hit(q, index.lsoa11_csp[t], n)

    # LSOA polygons containing the point and lying in the same CSP.
    q, t = index.lsoa_tree.query(pts, predicate="intersects")
    keep = index.lsoa_csp[t] == csp[q]
    lsoa = _first_hit(q[keep], t[keep], n)

    # Inside a CSP but in no LSOA of that CSP (the LSOA polygons are coarse): the
    # nearest LSOA of the same CSP within the search radius.
    todo = np.flatnonzero((csp >= 0) & (lsoa < 0))
    if len(todo):
        q, t = index.lsoa_tree.query(
            pts[todo], predicate="dwithin", distance=LSOA_SEARCH_RADIUS_M
        )
        keep = index.lsoa_csp[t] == csp[todo][q]
        q, t = q[keep], t[keep]
        dist = shapely.distance(pts[todo][q], index.lsoa_tree.geometries[t])
        order = np.lexsort((t, dist, q))
        q, t = q[order], t[order]
        first = np.r_[True, q[1:] != q[:-1]] if len(q) else np.zeros(0, dtype=bool)
        lsoa[todo[q[first]]] = t[first]
    return csp, lsoa


def assign_areas(
    points: gpd.GeoDataFrame,
    *,
    grouping: Grouping = "district",
    recorded_lsoa: pd.Series | None = None,
) -> pd.DataFrame:
    """Give each point its CSP and LSOA 2021.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Point geometries in British National Grid (EPSG:27700, metres). Missing or
        empty geometries are allowed and get NA unless a recorded LSOA is given.
    grouping : {"district", "ons2024"}
        Which CSPs to assign (see :func:`load_csps`).
    recorded_lsoa : pandas.Series, optional
        LSOA 2021 codes recorded with the points (police.uk's ``LSOA code``),
        indexed like ``points``. A code that is one of the 1,231 HIPS LSOAs is used
        as it stands and the CSP is the one holding its district; other values
        (missing, blank, outside HIPS, 2011-only codes) fall back to the polygons.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``, string columns ``csp_code``, ``csp_name``,
        ``lsoa21_code`` and ``assigned_by`` (``"recorded_lsoa"``, ``"polygon"``
        or NA). NA where the point is outside HIPS and has no usable recorded code.

    Raises
    ------
    CRSError
        When ``points`` is not in EPSG:27700.
    ParameterError
        When ``points`` holds non-point geometries, ``grouping`` is unknown, or
        ``recorded_lsoa`` is not indexed like ``points``.
    DataNotFoundError
        When the boundary files have not been built.

    Notes
    -----
    Polygon assignment: the CSP is the CSP polygon the point intersects (a point
    on a shared edge goes to the CSP whose code sorts first); the LSOA is the LSOA
    2021 polygon of that same CSP holding the point or, because those polygons are
    generalised to 200 m, the nearest one of that CSP within
    ``LSOA_SEARCH_RADIUS_M`` (500 m); otherwise NA. Identical coordinates are
    located once, so repeated police.uk snap points cost nothing extra.
    """
    # validate
    if not isinstance(points, gpd.GeoDataFrame):
        raise ParameterError(
            f"points must be a geopandas.GeoDataFrame, got {type(points).__name__}"
        )
    require_bng(points, name="points")
    _check_grouping(grouping)
    if recorded_lsoa is not None and not recorded_lsoa.index.equals(points.index):
        raise ParameterError(
            "recorded_lsoa must be indexed like points "
            f"(got {len(recorded_lsoa)} rows for {len(points)} points, "
            "or another index)"
        )
    geoms = points.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms[present])
    if (types != 0).any():
        bad = sorted(set(points.geometry[present][types != 0].geom_type))
        raise ParameterError(f"points must hold Point geometries, got {bad}")
    index = _index(grouping, Path(settings.BOUNDARIES_DIR))

    # compute: recorded codes first, then polygons for everything else
    n = len(points)
    csp = np.full(n, -1, dtype=np.int64)
    lsoa_code = np.full(n, None, dtype=object)
    by_record = np.zeros(n, dtype=bool)
    if recorded_lsoa is not None:
        codes = recorded_lsoa.astype("string").str.strip().str.upper()
        pos = codes.map(index.lsoa_to_csp).to_numpy(dtype=float, na_value=np.nan)
        by_record = ~np.isnan(pos)
        csp[by_record] = pos[by_record].astype(np.int64)
        lsoa_code[by_record] = codes.to_numpy(dtype=object)[by_record]

    todo = np.flatnonzero(~by_record & present)
    if len(todo):
        xy = shapely.get_coordinates(geoms[todo])
        unique_xy, inverse = np.unique(xy, axis=0, return_inverse=True)
        u_csp, u_lsoa = _locate(unique_xy, index)
        inverse = inverse.ravel()
        csp[todo] = u_csp[inverse]
        found = u_lsoa[inverse]
        lsoa_code[todo[found >= 0]] = index.lsoa_codes[found[found >= 0]]
    by_polygon = ~by_record & (csp >= 0)
    log.debug(
        "assign_areas: %d points, %d by recorded LSOA, %d by polygon, %d outside HIPS",
        n,
        int(by_record.sum()),
        int(by_polygon.sum()),
        int((csp < 0).sum()),
    )

    # package
    inside = csp >= 0
    csp_code = np.full(n, None, dtype=object)
    csp_name = np.full(n, None, dtype=object)
    csp_code[inside] = index.csp_codes[csp[inside]]
    csp_name[inside] = index.csp_names[csp[inside]]
    assigned_by = np.full(n, None, dtype=object)
    assigned_by[by_record] = "recorded_lsoa"
    assigned_by[by_polygon] = "polygon"
    return pd.DataFrame(
        {
            "csp_code": pd.array(csp_code, dtype="string"),
            "csp_name": pd.array(csp_name, dtype="string"),
            "lsoa21_code": pd.array(lsoa_code, dtype="string"),
            "assigned_by": pd.array(assigned_by, dtype="string"),
        },
        index=points.index,
    )


def find_csps(csps: gpd.GeoDataFrame, wanted: Sequence[str] | None, *,
              name: str = "csp") -> gpd.GeoDataFrame:
    """Return the CSPs named by code or name (case-insensitive); all when empty.

    The one CSP lookup every surface uses (command-line ``--csp``, view files,
    links). Raises ParameterError naming ``name`` and the CSPs to choose from
    when one is not known.
    """
    if not wanted:
        return csps
    by_key = {str(c).lower(): c for c in csps["csp_code"]}
    by_key.update({str(n).lower(): c for n, c in zip(csps["csp_name"],
                                                     csps["csp_code"], strict=True)})
    codes = []
    for item in wanted:
        code = by_key.get(str(item).strip().lower())
        if code is None:
            raise ParameterError(
                f"{name} must be a CSP name or code, got {item!r}; choose from "
                f"{sorted(csps['csp_name'])}"
            )
        codes.append(code)
    return csps[csps["csp_code"].isin(codes)]

"""Deprivation (IMD) and population overlays: joins, area weights, rates, concentration.

Two editions:

- ``"2025"`` (default): English Indices of Deprivation 2025 on LSOA 2021, with
  Census 2021 usual residents as the denominator;
- ``"2019"``: IoD2019 on LSOA 2011 (ranks and deciles, no scores), with ONS
  mid-2020 estimates as the denominator.

The data are built by ``scripts/build_context.py`` into ``data/deprivation`` and
``data/population`` (sources and licences in their READMEs). Decile 1 is the most
deprived 10% of LSOAs in England.

How things are joined:

- **Occurrences** get the LSOA of their recorded or assigned ``lsoa21_code``
  when it is one of the edition's LSOAs (for 2019: when the 2021 LSOA has a
  single 2011 predecessor), else the LSOA polygon their point lies in
  (:func:`attach_lsoa`).
- **H3 cells** are given the LSOAs they overlap, weighted by the area of the
  overlap (:func:`cells_imd`).
- **Rates** use the LSOA's own CSP (by its district) for both numerator and
  denominator, so they always refer to the same people.

A *hot-spot cell* is a cell whose Gi* bin (:func:`hotspot.detect.gistar.gi_star`)
is at least :data:`HOT_BIN` (2: a hot spot at 95% confidence or more).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot.crs import require_bng
from hotspot.errors import DataNotFoundError, ParameterError
from hotspot.settings import DATA_DIR

logger = logging.getLogger(__name__)

Edition = Literal["2025", "2019"]
EDITIONS: tuple[str, ...] = get_args(Edition)
#: Gi* bin from which a cell counts as a hot-spot cell (95% confidence).
HOT_BIN = 2
#: Label of the whole-area rows in the per-CSP tables.
HIPS = "HIPS"
DECILES: tuple[int, ...] = tuple(range(1, 11))


@dataclass(frozen=True)
class EditionFiles:
    """Where one edition's data live and what they cover."""

    imd: Path
    population: Path
    lsoa_year: int
    label: str
    population_label: str


def edition_files(edition: str) -> EditionFiles:
    """Return the files of an IMD edition (``"2025"`` or ``"2019"``)."""
    edition = check_edition(edition)
    if edition == "2025":
        return EditionFiles(
            imd=DATA_DIR / "deprivation" / "imd2025_lsoa21.csv",
            population=DATA_DIR / "population" / "census2021_lsoa21.csv",
            lsoa_year=2021,
            label="IMD 2025 (LSOA 2021)",
            population_label="Census 2021 usual residents",
        )
    return EditionFiles(
        imd=DATA_DIR / "deprivation" / "imd2019_lsoa11.csv",
        population=DATA_DIR / "population" / "mid2020_lsoa11.csv",
        lsoa_year=2011,
        label="IMD 2019 (LSOA 2011)",
        population_label="ONS mid-2020 population estimates",
    )


def check_edition(edition: str) -> str:
    """Return ``edition`` as text, or raise naming the allowed editions."""
    text = str(edition)
    if text not in EDITIONS:
        raise ParameterError(f"edition must be one of {EDITIONS}, got {edition!r}")
    return text


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataNotFoundError(
            f"{path} is missing; build it with `.venv/bin/python "
            "scripts/build_context.py`"
        )
    return pd.read_csv(
        path, dtype={"lsoa_code": str, "lsoa_name": str, "lad_code": str}
    )


# --------------------------------------------------------------------- loading
def load_imd(edition: str = "2025") -> pd.DataFrame:
    """Return the IMD table of an edition, one row per HIPS LSOA.

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``lsoa_name``, ``lad_code`` and, for the IMD and each
        domain, ``<domain>_rank`` and ``<domain>_decile`` (int64) and, for 2025
        only, ``<domain>_score``. For 2019 ``imd_score`` exists and is NaN.
    """
    files = edition_files(edition)
    frame = _read_csv(files.imd)
    if "imd_score" not in frame.columns:
        frame["imd_score"] = np.nan
    return frame


def load_population(edition: str = "2025") -> pd.DataFrame:
    """Return residents per LSOA: ``lsoa_code``, ``residents`` (int64)."""
    return _read_csv(edition_files(edition).population)


def load_lsoas(edition: str = "2025") -> gpd.GeoDataFrame:
    """Return the LSOA polygons of an edition (EPSG:27700).

    Columns ``lsoa_code``, ``lad_code``, ``geometry`` and, for 2019,
    ``lsoa21_codes`` (comma-joined 2021 successors).
    """
    from hotspot.boundaries import load_lsoa11, load_lsoa21

    if check_edition(edition) == "2025":
        lsoas = load_lsoa21().rename(columns={"lsoa21_code": "lsoa_code"})
        return lsoas[["lsoa_code", "lad_code", "geometry"]]
    lsoas = load_lsoa11().rename(columns={"lsoa11_code": "lsoa_code"})
    return lsoas[["lsoa_code", "lad_code", "lsoa21_codes", "geometry"]]


def lsoa_context(edition: str = "2025", *, grouping: str = "district") -> pd.DataFrame:
    """One row per LSOA of an edition: its CSP, residents and IMD.

    Parameters
    ----------
    edition : {"2025", "2019"}
        IMD edition (and LSOA year and population source).
    grouping : {"district", "ons2024"}, keyword-only
        CSP grouping (see :func:`hotspot.boundaries.load_csps`).

    Returns
    -------
    pandas.DataFrame
        ``lsoa_code``, ``lsoa_name``, ``lad_code``, ``csp_code``, ``csp_name``,
        ``residents`` and the IMD columns of :func:`load_imd`.
    """
    from hotspot.boundaries import load_csps

    imd = load_imd(edition)
    population = load_population(edition)[["lsoa_code", "residents"]]
    csps = load_csps(grouping=grouping)  # type: ignore[arg-type]
    lad_to_csp = {
        lad: (code, name)
        for code, name, lads in zip(
            csps["csp_code"], csps["csp_name"], csps["lad_code"], strict=True
        )
        for lad in str(lads).split(",")
    }
    out = imd.merge(population, on="lsoa_code", how="left", validate="one_to_one")
    if out["residents"].isna().any():
        missing = out.loc[out["residents"].isna(), "lsoa_code"].tolist()[:5]
        raise DataNotFoundError(
            f"no population for LSOAs {missing} (edition {edition})"
        )
    out["csp_code"] = out["lad_code"].map(lambda lad: lad_to_csp.get(lad, (None,))[0])
    out["csp_name"] = out["lad_code"].map(
        lambda lad: lad_to_csp.get(lad, (None, None))[1]
    )
    front = ["lsoa_code", "lsoa_name", "lad_code", "csp_code", "csp_name", "residents"]
    return out[front + [c for c in out.columns if c not in front]]


# ----------------------------------------------------------------------- joins
def attach_lsoa(
    occurrences: gpd.GeoDataFrame,
    *,
    edition: str = "2025",
    lsoas: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Give each occurrence an LSOA of the edition's year.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        Canonical occurrences (points in EPSG:27700, ``lsoa21_code``). Not
        modified.
    edition : {"2025", "2019"}, keyword-only
        ``"2025"``: LSOA 2021; ``"2019"``: LSOA 2011.
    lsoas : geopandas.GeoDataFrame, optional, keyword-only
        LSOA polygons (``lsoa_code``, geometry in EPSG:27700; for 2019 optionally
        ``lsoa21_codes``); :func:`load_lsoas` when omitted.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``occurrences``: ``lsoa_code`` and ``joined_by``
        (``"lsoa_code"``, ``"polygon"`` or NA when neither found one).

    Notes
    -----
    For 2025 the occurrence's ``lsoa21_code`` is used when it is one of the
    LSOAs given. For 2019 a 2021 code is translated when its LSOA has exactly
    one 2011 predecessor (LSOAs unchanged or split since 2011); merged LSOAs go
    to the polygons. Points on a shared edge go to the LSOA whose code sorts
    first.
    """
    edition = check_edition(edition)
    if not isinstance(occurrences, gpd.GeoDataFrame):
        raise ParameterError(
            "occurrences must be a geopandas.GeoDataFrame with point geometry, got "
            f"{type(occurrences).__name__}"
        )
    require_bng(occurrences, name="occurrences")
    polygons = load_lsoas(edition) if lsoas is None else lsoas
    require_bng(polygons, name="lsoas")
    if "lsoa_code" not in polygons.columns:
        raise ParameterError("lsoas must have an 'lsoa_code' column")

    codes = pd.Series(pd.NA, index=occurrences.index, dtype="string")
    if "lsoa21_code" in occurrences.columns:
        given = occurrences["lsoa21_code"].astype("string").str.strip().str.upper()
        if edition == "2025":
            known = set(polygons["lsoa_code"])
            codes = given.where(given.isin(known))
        elif "lsoa21_codes" in polygons.columns:
            codes = given.map(_unique_predecessor(polygons)).astype("string")
    joined_by = pd.Series(pd.NA, index=occurrences.index, dtype="string")
    joined_by[codes.notna()] = "lsoa_code"

    geoms = occurrences.geometry
    todo = codes.isna().to_numpy(dtype=bool) & ~(
        geoms.isna() | geoms.is_empty
    ).to_numpy(dtype=bool)
    if todo.any():
        found = _point_in_polygon(occurrences[todo], polygons)
        codes.loc[found.index] = found
        joined_by.loc[found.index[found.notna()]] = "polygon"
    logger.info(
        "LSOA %s join: %d by code, %d by polygon, %d without an LSOA",
        edition_files(edition).lsoa_year,
        int((joined_by == "lsoa_code").sum()),
        int((joined_by == "polygon").sum()),
        int(joined_by.isna().sum()),
    )
    return pd.DataFrame({"lsoa_code": codes, "joined_by": joined_by})


def _unique_predecessor(lsoa11: pd.DataFrame) -> dict[str, str]:
    """LSOA 2021 code → its single LSOA 2011 predecessor (merged ones left out)."""
    pairs = [
        (new.strip(), old)
        for old, news in zip(lsoa11["lsoa_code"], lsoa11["lsoa21_codes"], strict=True)
        for new in str(news).split(",")
        if new.strip()
    ]
    frame = pd.DataFrame(pairs, columns=["new", "old"]).drop_duplicates()
    counts = frame["new"].value_counts()
    single = frame[frame["new"].map(counts) == 1]
    return dict(zip(single["new"], single["old"], strict=True))


def _point_in_polygon(
    points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame
) -> pd.Series:
    ordered = polygons[["lsoa_code", "geometry"]].sort_values("lsoa_code")
    joined = gpd.sjoin(
        points[[points.geometry.name]], ordered, how="left", predicate="intersects"
    )
    joined = joined.sort_values("lsoa_code", na_position="last", kind="stable")
    first = joined[~joined.index.duplicated(keep="first")]
    return first["lsoa_code"].reindex(points.index).astype("string")


def attach_imd(
    occurrences: gpd.GeoDataFrame,
    *,
    edition: str = "2025",
    imd: pd.DataFrame | None = None,
    lsoas: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Return a copy of ``occurrences`` with the IMD of the LSOA each lies in.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        Canonical occurrences (points in EPSG:27700). Not modified.
    edition : {"2025", "2019"}, keyword-only
        IMD edition.
    imd : pandas.DataFrame, optional, keyword-only
        IMD table (``lsoa_code``, ``imd_decile``, ``imd_rank``, ``imd_score``);
        :func:`load_imd` when omitted.
    lsoas : geopandas.GeoDataFrame, optional, keyword-only
        LSOA polygons; :func:`load_lsoas` when omitted.

    Returns
    -------
    geopandas.GeoDataFrame
        The occurrences (index kept) plus ``imd_lsoa_code``, ``imd_joined_by``,
        ``imd_score``, ``imd_rank`` and ``imd_decile`` (Int64; NA where no LSOA
        was found). ``attrs["imd_edition"]`` names the edition.
    """
    edition = check_edition(edition)
    table = load_imd(edition) if imd is None else imd
    missing = {"lsoa_code", "imd_decile", "imd_rank"} - set(table.columns)
    if missing:
        raise ParameterError(f"imd must have columns {sorted(missing)}")
    found = attach_lsoa(occurrences, edition=edition, lsoas=lsoas)
    lookup = table.set_index("lsoa_code")
    out = occurrences.copy()
    out["imd_lsoa_code"] = found["lsoa_code"]
    out["imd_joined_by"] = found["joined_by"]
    codes = found["lsoa_code"].astype(object).where(found["lsoa_code"].notna(), None)
    score = lookup["imd_score"] if "imd_score" in lookup else pd.Series(dtype=float)
    out["imd_score"] = codes.map(score).astype("Float64")
    out["imd_rank"] = codes.map(lookup["imd_rank"]).astype("Int64")
    out["imd_decile"] = codes.map(lookup["imd_decile"]).astype("Int64")
    out.attrs["imd_edition"] = edition
    return out


def cells_imd(
    cells: gpd.GeoDataFrame,
    *,
    edition: str = "2025",
    imd: pd.DataFrame | None = None,
    lsoas: gpd.GeoDataFrame | None = None,
    population: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Area-weighted IMD and residents for H3 cells (or any polygons).

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Polygons in EPSG:27700 (for example :func:`hotspot.grid.study_cells`).
        Not modified.
    edition : {"2025", "2019"}, keyword-only
        IMD edition.
    imd, lsoas, population : optional, keyword-only
        IMD table, LSOA polygons and residents per LSOA; the edition's embedded
        files when omitted.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``cells`` (index kept) plus:

        - ``lsoa_cover``: share (0–1) of the cell's area inside some LSOA;
        - ``imd_score``, ``imd_rank``: means over the LSOAs the cell overlaps,
          weighted by overlap area (score NaN for 2019);
        - ``imd_decile``: the decile covering the largest part of the cell;
        - ``share_decile_1``, ``share_deciles_1_2``: share (0–1) of the covered
          area in the most deprived 10% and 20% of LSOAs;
        - ``residents``: residents by areal interpolation, Σ residents_l ×
          area(cell ∩ l) / area(l), so cells covering an LSOA sum to its
          residents.

        NaN/NA where a cell overlaps no LSOA.
    """
    edition = check_edition(edition)
    if not isinstance(cells, gpd.GeoDataFrame):
        raise ParameterError(
            "cells must be a geopandas.GeoDataFrame of polygons, got "
            f"{type(cells).__name__}"
        )
    require_bng(cells, name="cells")
    table = load_imd(edition) if imd is None else imd
    polygons = load_lsoas(edition) if lsoas is None else lsoas
    require_bng(polygons, name="lsoas")
    people = load_population(edition) if population is None else population

    # compute: intersection areas (m²) of every cell with every LSOA
    left = gpd.GeoDataFrame(
        {"_cell": np.arange(len(cells))},
        geometry=cells.geometry.to_numpy(),
        crs=cells.crs,
    )
    right = polygons[["lsoa_code", "geometry"]].copy()
    right["_lsoa_area_m2"] = right.geometry.area
    pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    pieces["_area_m2"] = pieces.geometry.area
    pieces = pd.DataFrame(pieces.drop(columns="geometry"))
    pieces = pieces[pieces["_area_m2"] > 0]
    lookup = table.set_index("lsoa_code")
    pieces["score"] = pieces["lsoa_code"].map(lookup.get("imd_score"))
    pieces["rank"] = pieces["lsoa_code"].map(lookup["imd_rank"])
    pieces["decile"] = pieces["lsoa_code"].map(lookup["imd_decile"])
    residents = people.set_index("lsoa_code")["residents"]
    pieces["residents"] = (
        pieces["lsoa_code"].map(residents).astype(float)
        * pieces["_area_m2"]
        / pieces["_lsoa_area_m2"]
    )
    covered = pieces.groupby("_cell")["_area_m2"].sum()
    pieces["w"] = pieces["_area_m2"] / pieces["_cell"].map(covered)

    # package: one value per cell
    n = len(cells)
    cell_area = cells.geometry.area.to_numpy()
    out = cells.copy()
    out["lsoa_cover"] = _per_cell(covered, n) / np.where(
        cell_area > 0, cell_area, np.nan
    )
    out["imd_score"] = _weighted(pieces, "score", n)
    out["imd_rank"] = _weighted(pieces, "rank", n)
    dominant = (
        pieces.groupby(["_cell", "decile"])["w"]
        .sum()
        .reset_index()
        .sort_values(["_cell", "w", "decile"], ascending=[True, False, True])
        .drop_duplicates("_cell")
    )
    decile = np.full(n, np.nan)
    decile[dominant["_cell"].to_numpy()] = dominant["decile"].to_numpy(dtype=float)
    out["imd_decile"] = pd.Series(decile, index=cells.index).round().astype("Int64")
    has = ~np.isnan(_per_cell(covered, n))
    for name, top in (("share_decile_1", 1), ("share_deciles_1_2", 2)):
        share = _per_cell(
            pieces[pieces["decile"] <= top].groupby("_cell")["w"].sum(), n
        )
        out[name] = np.where(has, np.nan_to_num(share), np.nan)
    out["residents"] = _per_cell(pieces.groupby("_cell")["residents"].sum(), n)
    out.attrs = {**cells.attrs, "imd_edition": edition}
    return out


def _per_cell(values: pd.Series, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    out[values.index.to_numpy(dtype=np.int64)] = values.to_numpy(dtype=float)
    return out


def _weighted(pieces: pd.DataFrame, column: str, n: int) -> np.ndarray:
    valid = pieces[pieces[column].notna()]
    if valid.empty:
        return np.full(n, np.nan)
    total = (valid[column].astype(float) * valid["w"]).groupby(valid["_cell"]).sum()
    weight = valid["w"].groupby(valid["_cell"]).sum()
    return _per_cell(total / weight, n)

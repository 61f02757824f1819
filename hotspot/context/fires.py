"""Deliberate fires and violence: the deliberate-fire filter, location, co-location.

Fire incidents are read by :mod:`hotspot.ingest.fire` (the Home Office
incident-level layout).

*Deliberate fires* are primary and secondary fires recorded as deliberate
(:func:`deliberate_fires`): the definition fire services and the partnership's
needs assessment use. Police.uk "Criminal damage and arson" rows
(:func:`police_arson`) are a real but coarse stand-in (month only, snapped
locations, criminal damage included).

Co-location (:func:`colocation_cells`, :func:`colocation_summary`,
:func:`kde_ratio`) uses the project's grid, Gi* and KDE code; nothing here
re-implements them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from hotspot.crs import BNG, require_bng
from hotspot.errors import ParameterError

logger = logging.getLogger(__name__)

CRIMINAL_DAMAGE_AND_ARSON = "Criminal damage and arson"


# ------------------------------------------------------------ filters, location
def deliberate_fires(fires: pd.DataFrame) -> pd.DataFrame:
    """Primary and secondary fires recorded as deliberate (a copy, index kept)."""
    if "is_deliberate_fire" not in fires.columns:
        raise ParameterError(
            "fires must have an 'is_deliberate_fire' column: read them with "
            "read_fire_incidents()"
        )
    keep = fires["is_deliberate_fire"].fillna(False).to_numpy(dtype=bool)
    return fires[keep].copy()


def police_arson(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Police.uk "Criminal damage and arson" rows of a store (a copy, index kept).

    A real but coarse layer: month-only dates, locations snapped to map points,
    and criminal damage as well as arson.
    """
    if "crime_type" not in occurrences.columns:
        raise ParameterError("occurrences must have a 'crime_type' column")
    keep = occurrences["crime_type"].astype("string") == CRIMINAL_DAMAGE_AND_ARSON
    return occurrences[keep.fillna(False).to_numpy(dtype=bool)].copy()


def arson_per_cell(arson: gpd.GeoDataFrame, *, resolution: int = 8) -> gpd.GeoDataFrame:
    """Count police.uk "Criminal damage and arson" rows per H3 cell.

    An aggregate for the map (places, not records): one row per cell holding at
    least one crime, with its centre as the geometry.

    Parameters
    ----------
    arson : geopandas.GeoDataFrame
        Rows from :func:`police_arson` (points in EPSG:27700).
    resolution : int, keyword-only
        H3 resolution (8: cells of about 0.7 km², a neighbourhood).

    Returns
    -------
    geopandas.GeoDataFrame
        ``h3`` and ``count`` (largest first) with cell-centre points in
        EPSG:27700. Rows without a location are not counted.
    """
    from hotspot.grid import cell_centres_bng, points_to_cells

    require_bng(arson, name="arson")
    cells = points_to_cells(arson, resolution=resolution).dropna()
    counts = cells.value_counts().rename_axis("h3").rename("count").reset_index()
    counts["h3"] = counts["h3"].astype(str)
    counts["count"] = counts["count"].astype("int64")
    x, y = cell_centres_bng(counts["h3"].tolist())
    return gpd.GeoDataFrame(counts, geometry=gpd.points_from_xy(x, y), crs=BNG)


def locate_fires(
    fires: gpd.GeoDataFrame,
    *,
    grouping: str = "district",
    lsoas: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Give every fire a point, a CSP and an LSOA 2021.

    Incidents with easting/northing keep their point; those with only an LSOA
    code get a point inside that LSOA (its representative point, LSOA 2021 or
    2011), marked ``location_method = "lsoa_point"``, which places them to
    within an LSOA only. CSP and LSOA come from
    :func:`hotspot.boundaries.assign_areas` with the recorded LSOA code.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``location_method`` (``"easting_northing"``,
        ``"lsoa_point"`` or NA), ``csp_code``, ``csp_name`` and ``lsoa21_code``.
    """
    from hotspot.boundaries import assign_areas, load_lsoa11, load_lsoa21

    require_bng(fires, name="fires")
    out = fires.copy()
    geoms = out.geometry.to_numpy().copy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    method = np.full(len(out), None, dtype=object)
    method[present] = "easting_northing"
    if lsoas is None:
        l21 = load_lsoa21()[["lsoa21_code", "geometry"]].rename(
            columns={"lsoa21_code": "lsoa_code"}
        )
        l11 = load_lsoa11()[["lsoa11_code", "geometry"]].rename(
            columns={"lsoa11_code": "lsoa_code"}
        )
        lsoas = pd.concat([l21, l11[~l11["lsoa_code"].isin(l21["lsoa_code"])]])
    points = dict(
        zip(lsoas["lsoa_code"], lsoas.geometry.representative_point(), strict=True)
    )
    codes = out["lsoa_code"].astype("string").to_numpy(dtype=object, na_value=None)
    for i in np.flatnonzero(~present):
        point = points.get(codes[i])
        if point is not None:
            geoms[i] = point
            method[i] = "lsoa_point"
    out = out.set_geometry(list(geoms), crs=BNG)
    out["location_method"] = pd.array(method, dtype="string")
    areas = assign_areas(
        out,
        grouping=grouping,  # type: ignore[arg-type]
        recorded_lsoa=out["lsoa_code"],
    )
    for name in ("csp_code", "csp_name", "lsoa21_code"):
        out[name] = areas[name]
    logger.info(
        "located %d fires: %s; %d outside HIPS",
        len(out),
        out["location_method"].value_counts(dropna=False).to_dict(),
        int(out["csp_code"].isna().sum()),
    )
    return out


# ------------------------------------------------------------------ co-location
def colocation_cells(
    violence: gpd.GeoDataFrame,
    fires: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    *,
    k: int = 1,
    hot_bin: int = 2,
    fdr: bool = True,
) -> gpd.GeoDataFrame:
    """Count both layers per H3 cell, run Gi* on each, and mark cells hot in both.

    Parameters
    ----------
    violence, fires : geopandas.GeoDataFrame
        Points in EPSG:27700 (rows without geometry are not counted). Fires
        placed only at their LSOA's point (``location_method == "lsoa_point"``)
        are left out of the cells, since piling them on one point would make
        false hot spots; their number is in ``attrs["fires_lsoa_only"]``.
    cells : geopandas.GeoDataFrame
        Study cells (:func:`hotspot.grid.study_cells`). Not modified.
    k : int, keyword-only
        Gi* ring size.
    hot_bin : int, keyword-only
        Gi* bin from which a cell is hot (default 2: 95% confidence).
    fdr : bool, keyword-only
        Benjamini-Hochberg correction in Gi* (per study area).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``cells`` with ``violence_count``, ``violence_z``,
        ``violence_bin``, ``fire_count``, ``fire_z``, ``fire_bin``,
        ``hot_violence``, ``hot_fire`` and ``hot_both``.
    """
    from hotspot.detect.gistar import gi_star, ring_weights
    from hotspot.grid import count_points

    weights = ring_weights(cells["h3"].tolist(), k=k, study_area=cells["study_area"])
    out = cells.copy()
    point_fires, lsoa_only = _with_grid_reference(fires)
    for prefix, points in (("violence", violence), ("fire", point_fires)):
        located = points[~(points.geometry.isna() | points.geometry.is_empty)]
        counted = count_points(located, cells)
        stats = gi_star(counted, column="count", k=k, fdr=fdr, weights=weights)
        out[f"{prefix}_count"] = counted["count"].to_numpy()
        out[f"{prefix}_z"] = stats["z"].to_numpy()
        out[f"{prefix}_bin"] = stats["bin"].to_numpy()
    out["hot_violence"] = out["violence_bin"] >= hot_bin
    out["hot_fire"] = out["fire_bin"] >= hot_bin
    out["hot_both"] = out["hot_violence"] & out["hot_fire"]
    out.attrs = {
        **cells.attrs,
        "hot_bin": hot_bin,
        "k": k,
        "fires_lsoa_only": lsoa_only,
    }
    logger.info(
        "co-location: %d cells hot for violence, %d for fires, %d for both",
        int(out["hot_violence"].sum()),
        int(out["hot_fire"].sum()),
        int(out["hot_both"].sum()),
    )
    return out


def _with_grid_reference(fires: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """Split off fires placed only at an LSOA point; return the rest and their count."""
    if "location_method" not in fires.columns:
        return fires, 0
    lsoa_only = (fires["location_method"] == "lsoa_point").fillna(False).to_numpy(bool)
    if lsoa_only.any():
        logger.info(
            "%d fires located only to an LSOA are left out of cell counts and "
            "densities",
            int(lsoa_only.sum()),
        )
    return fires[~lsoa_only], int(lsoa_only.sum())


def colocation_summary(
    cells: pd.DataFrame,
    *,
    residents: pd.Series | None = None,
    fires_by_csp: pd.Series | None = None,
) -> pd.DataFrame:
    """Per CSP: which are most affected by both violence and deliberate fires.

    Parameters
    ----------
    cells : pandas.DataFrame
        Output of :func:`colocation_cells` (``csp_code``, ``csp_name``).
    residents : pandas.Series, optional, keyword-only
        Residents per CSP, indexed by ``csp_code``. When given, rates are per
        1,000 residents; otherwise per km² of study cells (needs polygons).
    fires_by_csp : pandas.Series, optional, keyword-only
        Deliberate fires per CSP (indexed by ``csp_code``) counting those
        located only to an LSOA, which the cells leave out; the cell totals
        are used when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per CSP, most affected first, then a HIPS row: ``cells``,
        ``violence``, ``fires``, ``hot_violence_cells``, ``hot_fire_cells``,
        ``hot_both_cells``, ``violence_in_hot_both`` and ``fires_in_hot_both``
        (shares 0–1), ``violence_rate``, ``fire_rate`` (per 1,000 residents or
        per km², named in ``attrs["rate_unit"]``), ``violence_ratio`` and
        ``fire_ratio`` (rate over the HIPS rate), ``both_index`` (geometric mean
        of the two ratios: above 1 means above the HIPS average on both taken
        together) and ``rank`` (1 = most affected, by ``both_index`` then
        ``hot_both_cells``).
    """
    need = {
        "csp_code",
        "csp_name",
        "violence_count",
        "fire_count",
        "hot_violence",
        "hot_fire",
        "hot_both",
    }
    missing = need - set(cells.columns)
    if missing:
        raise ParameterError(
            f"cells must have columns {sorted(missing)} (from colocation_cells)"
        )
    if residents is None:
        if not isinstance(cells, gpd.GeoDataFrame):
            raise ParameterError("without residents, cells need polygons for areas")
        size = pd.Series(cells.geometry.area.to_numpy() / 1e6, index=cells.index)
        denominator = size.groupby(cells["csp_code"]).sum()
        unit, scale = "per km²", 1.0
    else:
        denominator = residents.astype(float)
        unit, scale = "per 1,000 residents", 1000.0
    grouped = cells.groupby("csp_code", sort=True)
    out = pd.DataFrame(
        {
            "csp_name": grouped["csp_name"].first(),
            "cells": grouped.size(),
            "violence": grouped["violence_count"].sum(),
            "fires": grouped["fire_count"].sum(),
            "hot_violence_cells": grouped["hot_violence"].sum(),
            "hot_fire_cells": grouped["hot_fire"].sum(),
            "hot_both_cells": grouped["hot_both"].sum(),
        }
    )
    if fires_by_csp is not None:
        out["fires"] = fires_by_csp.reindex(out.index).fillna(0).astype("int64")
    both = cells[cells["hot_both"].to_numpy(dtype=bool)].groupby("csp_code")
    out["violence_in_hot_both"] = both["violence_count"].sum().reindex(
        out.index
    ).fillna(0) / out["violence"].where(out["violence"] > 0)
    out["fires_in_hot_both"] = both["fire_count"].sum().reindex(out.index).fillna(
        0
    ) / out["fires"].where(out["fires"] > 0)
    denom = denominator.reindex(out.index)
    if denom.isna().any():
        raise ParameterError(
            f"residents has no value for CSPs {out.index[denom.isna()].tolist()}"
        )
    out["violence_rate"] = scale * out["violence"] / denom
    out["fire_rate"] = scale * out["fires"] / denom
    hips_v = scale * out["violence"].sum() / denom.sum()
    hips_f = scale * out["fires"].sum() / denom.sum()
    out["violence_ratio"] = out["violence_rate"] / hips_v if hips_v else np.nan
    out["fire_ratio"] = out["fire_rate"] / hips_f if hips_f else np.nan
    out["both_index"] = np.sqrt(out["violence_ratio"] * out["fire_ratio"])
    out = out.sort_values(
        ["both_index", "hot_both_cells"], ascending=[False, False], kind="stable"
    )
    out["rank"] = np.arange(1, len(out) + 1)
    out = out.reset_index()
    hips = {
        "csp_code": "HIPS",
        "csp_name": "HIPS",
        "cells": int(out["cells"].sum()),
        "violence": int(out["violence"].sum()),
        "fires": int(out["fires"].sum()),
        "hot_violence_cells": int(out["hot_violence_cells"].sum()),
        "hot_fire_cells": int(out["hot_fire_cells"].sum()),
        "hot_both_cells": int(out["hot_both_cells"].sum()),
        "violence_in_hot_both": float(
            (out["violence_in_hot_both"].fillna(0) * out["violence"]).sum()
            / max(out["violence"].sum(), 1)
        ),
        "fires_in_hot_both": float(
            (out["fires_in_hot_both"].fillna(0) * out["fires"]).sum()
            / max(out["fires"].sum(), 1)
        ),
        "violence_rate": hips_v,
        "fire_rate": hips_f,
        "violence_ratio": 1.0,
        "fire_ratio": 1.0,
        "both_index": 1.0,
        "rank": pd.NA,
    }
    out = pd.concat([out, pd.DataFrame([hips])], ignore_index=True)
    out["rank"] = out["rank"].astype("Int64")
    out.attrs["rate_unit"] = unit
    return out


def colocation_comparison(summary: pd.DataFrame, *, csp_code: str | None
                          ) -> pd.DataFrame:
    """Return one CSP's row of :func:`colocation_summary` beside the HIPS row.

    ``summary`` must hold every CSP (the HIPS row is its total, so a summary
    of one CSP's cells would compare the CSP with itself). ``csp_code`` None
    keeps every row.

    Raises
    ------
    ParameterError
        When ``csp_code`` is not in ``summary`` or the HIPS row is missing.
    """
    codes = summary["csp_code"].astype(str)
    if "HIPS" not in set(codes):
        raise ParameterError("summary must end with the HIPS row "
                             "(from colocation_summary)")
    if csp_code is None:
        return summary.reset_index(drop=True)
    if csp_code not in set(codes):
        raise ParameterError(f"csp_code {csp_code!r} is not in the summary; "
                             f"it holds {sorted(set(codes) - {'HIPS'})}")
    out = summary[(codes == csp_code) | (codes == "HIPS")].reset_index(drop=True)
    out.attrs = dict(summary.attrs)
    return out


def colocation_labels(rate_unit: str) -> dict[str, str]:
    """Return display names, with units, of :func:`colocation_summary`'s columns.

    ``rate_unit`` is the summary's ``attrs["rate_unit"]`` ("per km²" or "per
    1,000 residents").
    """
    return {
        "rank": "Rank (both together)",
        "csp_name": "Area",
        "violence": "Serious violence (occurrences)",
        "fires": "Deliberate fires (incidents)",
        "hot_violence_cells": "Violence hot-spot cells (Gi* 95%)",
        "hot_fire_cells": "Fire hot-spot cells (Gi* 95%)",
        "hot_both_cells": "Cells hot for both",
        "violence_rate": f"Violence {rate_unit}",
        "fire_rate": f"Fires {rate_unit}",
        "violence_ratio": "Violence rate ÷ HIPS rate",
        "fire_ratio": "Fire rate ÷ HIPS rate",
        "both_index": "Both together (geometric mean of the two ratios)",
    }


@dataclass
class KDERatio:
    """Two kernel density surfaces on one grid and their ratio.

    Attributes
    ----------
    ratio : numpy.ndarray
        (violence share density) / (fire share density): each surface divided by
        its own total, so 1 means both are as concentrated there as on average;
        above 1 violence-led, below 1 fire-led. NaN outside the area, where both
        shares are under ``floor`` of their maximum, and where the fire share is
        zero (the ratio is undefined there, never infinite).
    joint : numpy.ndarray
        Geometric mean of the two share densities, scaled to a maximum of 1:
        high only where both layers are dense (the co-location surface).
    violence, fire : hotspot.detect.kde.KDEResult
        The two surfaces (occurrences per km²), same grid, same bandwidth.
    transform : affine.Affine
        Of the common grid (EPSG:27700).
    bandwidth_m : float
        The common bandwidth (metres).
    """

    ratio: npt.NDArray[np.float64]
    joint: npt.NDArray[np.float64]
    violence: Any
    fire: Any
    transform: Any
    bandwidth_m: float


def kde_ratio(
    violence: gpd.GeoDataFrame,
    fires: gpd.GeoDataFrame,
    *,
    area: Any,
    cell_size_m: float = 100.0,
    bandwidth_m: float | None = None,
    floor: float = 0.01,
) -> KDERatio:
    """Dual kernel density: violence and fire surfaces on one grid, their ratio.

    Parameters
    ----------
    violence, fires : geopandas.GeoDataFrame
        Points in EPSG:27700 (fires placed only at an LSOA point are left out,
        as in :func:`colocation_cells`).
    area : shapely geometry, keyword-only
        Study area (a CSP polygon) in EPSG:27700.
    cell_size_m : float, keyword-only
        Raster cell edge (metres).
    bandwidth_m : float, optional, keyword-only
        Common bandwidth; when omitted, the larger of the two automatic (hot-spot rule)
        bandwidths (logged), so neither surface is undersmoothed.
    floor : float, keyword-only
        Share densities under ``floor`` × their maximum count as empty in the
        ratio.

    Returns
    -------
    KDERatio
    """
    from hotspot.detect.kde import kde_surface

    if not 0 <= floor < 1:
        raise ParameterError(f"floor must be in [0, 1), got {floor!r}")
    v = violence[~(violence.geometry.isna() | violence.geometry.is_empty)]
    point_fires, _ = _with_grid_reference(fires)
    f = point_fires[~(point_fires.geometry.isna() | point_fires.geometry.is_empty)]
    if bandwidth_m is None:
        first_v = kde_surface(v, area=area, cell_size_m=cell_size_m)
        first_f = kde_surface(f, area=area, cell_size_m=cell_size_m)
        bandwidth_m = max(first_v.bandwidth_m, first_f.bandwidth_m)
        logger.info(
            "dual KDE bandwidth %.0f m: the larger of violence %.0f m and "
            "fires %.0f m (each by the hot-spot bandwidth rule)",
            bandwidth_m,
            first_v.bandwidth_m,
            first_f.bandwidth_m,
        )
    surface_v = kde_surface(
        v, area=area, cell_size_m=cell_size_m, bandwidth_m=bandwidth_m
    )
    surface_f = kde_surface(
        f, area=area, cell_size_m=cell_size_m, bandwidth_m=bandwidth_m
    )
    if surface_v.values.shape != surface_f.values.shape:
        raise ParameterError(
            "the two KDE grids differ; give the same area and cell size"
        )
    share_v = surface_v.values / np.nansum(surface_v.values)
    share_f = surface_f.values / np.nansum(surface_f.values)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = (share_v < floor * np.nanmax(share_v)) & (
            share_f < floor * np.nanmax(share_f)
        )
        ratio = np.where(low | (share_f <= 0), np.nan, share_v / share_f)
        joint = np.sqrt(share_v * share_f)
        joint = joint / np.nanmax(joint)
    return KDERatio(
        ratio=ratio,
        joint=joint,
        violence=surface_v,
        fire=surface_f,
        transform=surface_v.transform,
        bandwidth_m=float(bandwidth_m),
    )

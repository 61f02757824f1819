"""Geometry helpers shared by the layer builders: display coordinates, rings, paths."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot.crs import bng_to_lonlat, require_bng, to_wgs84
from hotspot.errors import ParameterError

# ----------------------------------------------------------------------------
# geometry helpers
# ----------------------------------------------------------------------------


def _colormap(name: str) -> Any:
    """Return a matplotlib colour map (imported here: it is slow to import)."""
    import matplotlib as mpl

    return mpl.colormaps[name]


def _rounded(coords: np.ndarray) -> list[list[float]]:
    rounded: list[list[float]] = np.round(coords[:, :2], 6).tolist()
    return rounded


def _polygon_rings(geom: shapely.Geometry) -> list[list[list[list[float]]]]:
    """Each polygon part of ``geom`` as [exterior, *holes] rings of [lon, lat]."""
    parts = getattr(geom, "geoms", [geom])
    out = []
    for part in parts:
        if part.is_empty or part.geom_type != "Polygon":
            continue
        rings = [_rounded(np.asarray(part.exterior.coords))]
        rings += [_rounded(np.asarray(r.coords)) for r in part.interiors]
        out.append(rings)
    return out


def _paths(geom: shapely.Geometry) -> list[list[list[float]]]:
    """Every ring of ``geom`` as a path of [lon, lat]."""
    return [ring for part in _polygon_rings(geom) for ring in part]


def _display(frame: gpd.GeoDataFrame, *, simplify_m: float = 0.0,
             name: str = "frame") -> gpd.GeoDataFrame:
    """``frame`` simplified in metres (EPSG:27700) then in WGS84 for display."""
    require_bng(frame, name=name)
    out = frame
    if simplify_m > 0:
        out = frame.copy()
        out["geometry"] = frame.geometry.simplify(simplify_m)
    return to_wgs84(out)


def lonlat_of(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of the representative point of each geometry."""
    require_bng(frame, name="frame")
    pts = frame.geometry.representative_point()
    return bng_to_lonlat(pts.x.to_numpy(), pts.y.to_numpy())


def _check_columns(frame: pd.DataFrame, needed: Sequence[str], *, name: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{name} must have columns {list(needed)}; missing {missing}"
        )


def plain(text: pd.Series) -> pd.Series:
    """Return a text column for tooltips: strings, empty where missing.

    No escaping here: the deck chart inserts values into :data:`TOOLTIP` as
    text, so markup in a value is shown, never run.
    """
    return text.astype("string").fillna("").astype(object)

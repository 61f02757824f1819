"""The only place that reprojects.

Analysis happens in British National Grid (EPSG:27700, metres); display in WGS84
(EPSG:4326, degrees). Every other module calls these helpers instead of pyproj.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from pyproj import Transformer
from pyproj.transformer import TransformerGroup

from hotspot.errors import CRSError

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"


@lru_cache(maxsize=4)
def _transformer(src: str, dst: str) -> Transformer:
    """Return the best available operation from ``src`` to ``dst`` as a pipeline.

    pyproj keeps one PROJ object per thread, and the app runs every script run
    in a new thread: a ``Transformer.from_crs`` transformer repeats its search
    of the PROJ database there (about 25 ms a thread here), a pipeline one does
    not (0.3 ms). The pipeline is the operation ``from_crs`` itself uses
    (OSGB36 to WGS 84 (6) without the OSTN15 grid), so results are identical
    (``tests/test_crs.py``).
    """
    with warnings.catch_warnings():
        # "best transformation is not available" (the OSTN15 grid is not
        # shipped): from_crs then uses this same next-best operation
        warnings.simplefilter("ignore", UserWarning)
        best = TransformerGroup(src, dst, always_xy=True).transformers[0]
    return Transformer.from_pipeline(best.definition)


def lonlat_to_bng(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Project WGS84 longitude/latitude (degrees) to BNG easting/northing (metres)."""
    x, y = _transformer(WGS84, BNG).transform(
        np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    )
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def bng_to_lonlat(
    easting: npt.ArrayLike, northing: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Project BNG easting/northing (metres) to WGS84 longitude/latitude (degrees)."""
    lon, lat = _transformer(BNG, WGS84).transform(
        np.asarray(easting, dtype=float), np.asarray(northing, dtype=float)
    )
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def require_bng(gdf: gpd.GeoDataFrame, *, name: str = "data") -> None:
    """Raise unless ``gdf`` is in British National Grid.

    Raises
    ------
    CRSError
        When the frame has no CRS or another one; the message says how to fix it.
    """
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no CRS; set it with .set_crs(...) and then "
            f".to_crs('{BNG}') (British National Grid, metres)"
        )
    if gdf.crs.to_epsg() != 27700:
        raise CRSError(
            f"{name} is in {gdf.crs.to_string()} but distances need metres: "
            f"transform it with .to_crs('{BNG}') (British National Grid)"
        )


def to_bng(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` in British National Grid (a copy; the input is untouched)."""
    if gdf.crs is None:
        raise CRSError("frame has no CRS; set it with .set_crs(...) before projecting")
    return gdf if gdf.crs.to_epsg() == 27700 else gdf.to_crs(BNG)


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` in WGS84 for display (a copy; the input is untouched)."""
    if gdf.crs is None:
        raise CRSError("frame has no CRS; set it with .set_crs(...) before projecting")
    return gdf if gdf.crs.to_epsg() == 4326 else gdf.to_crs(WGS84)


def latlng_for_h3(lon: float, lat: float) -> tuple[float, float]:
    """Return ``(lat, lng)``: the order h3 takes (GeoJSON and pydeck take lng, lat)."""
    return lat, lon

"""The only reprojection helpers (hotspot.crs) against pyproj's own from_crs."""

from __future__ import annotations

import threading
import warnings

import numpy as np
from pyproj import Transformer

from hotspot.crs import bng_to_lonlat, lonlat_to_bng

RNG = np.random.default_rng(20261122)
#: A box around HIPS in BNG metres, a little beyond it.
EAST = RNG.uniform(380_000, 490_000, 20_000)
NORTH = RNG.uniform(70_000, 170_000, 20_000)


def _from_crs(src: str, dst: str) -> Transformer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # OSTN15 grid not shipped
        return Transformer.from_crs(src, dst, always_xy=True)


def test_bng_to_lonlat_equals_pyproj_from_crs() -> None:
    lon, lat = bng_to_lonlat(EAST, NORTH)
    ref_lon, ref_lat = _from_crs("EPSG:27700", "EPSG:4326").transform(EAST, NORTH)
    assert np.abs(lon - ref_lon).max() < 1e-12
    assert np.abs(lat - ref_lat).max() < 1e-12
    assert -2.5 < lon.mean() < -0.9 and 50.5 < lat.mean() < 51.5


def test_lonlat_to_bng_equals_pyproj_from_crs_and_round_trips() -> None:
    lon, lat = bng_to_lonlat(EAST, NORTH)
    x, y = lonlat_to_bng(lon, lat)
    ref_x, ref_y = _from_crs("EPSG:4326", "EPSG:27700").transform(lon, lat)
    assert np.abs(x - ref_x).max() < 1e-6
    assert np.abs(y - ref_y).max() < 1e-6
    assert np.abs(x - EAST).max() < 1e-3 and np.abs(y - NORTH).max() < 1e-3


def test_works_the_same_in_a_new_thread() -> None:
    # Streamlit runs each script run in a new thread; pyproj makes a PROJ
    # object per thread
    out: list[tuple[np.ndarray, np.ndarray]] = []
    thread = threading.Thread(target=lambda: out.append(bng_to_lonlat(EAST, NORTH)))
    thread.start()
    thread.join()
    here = bng_to_lonlat(EAST, NORTH)
    assert np.array_equal(out[0][0], here[0]) and np.array_equal(out[0][1], here[1])

"""Tests of the hot-spot bandwidth rule (hotspot.detect.kde.hotspot_bandwidth_m)."""

from __future__ import annotations

import numpy as np
import pytest

from hotspot.detect.kde import hotspot_bandwidth_m, silverman_bandwidth_m
from hotspot.errors import ParameterError


def lattice(n: int = 5, step: float = 100.0) -> np.ndarray:
    g = np.arange(n) * step
    xx, yy = np.meshgrid(g, g)
    return np.column_stack([xx.ravel(), yy.ravel()]) + [450_000.0, 110_000.0]


def test_lattice_by_hand():
    """5 x 5 lattice, 100 m apart, k = 4.

    The 9 interior points have 4 neighbours at 100 m; the 12 edge points have 3
    at 100 m and the 4th at 141.4 m; the 4 corners have their 4th at 200 m.
    Sorted, the 13th of 25 distances (the median) is 141.4 m = 100 * sqrt(2).
    """
    choice = hotspot_bandwidth_m(lattice(), k=4)
    assert choice.bandwidth_m == pytest.approx(100 * np.sqrt(2))
    assert choice.rule == "nearest_neighbour"
    assert choice.silverman_m == pytest.approx(silverman_bandwidth_m(lattice()))
    assert "141 m" in choice.reason and "Silverman" in choice.reason
    assert hotspot_bandwidth_m(lattice(), k=1).bandwidth_m == pytest.approx(100.0)


def test_local_clusters_give_a_local_bandwidth():
    """Two tight clusters 20 km apart: Silverman spans kilometres, the rule does not."""
    rng = np.random.default_rng(2)
    a = rng.normal([440_000, 110_000], 150, (200, 2))
    b = rng.normal([460_000, 110_000], 150, (200, 2))
    xy = np.vstack([a, b])
    choice = hotspot_bandwidth_m(xy)
    assert choice.bandwidth_m < 200
    assert choice.silverman_m is not None and choice.silverman_m > 2_000


def test_warnings_and_errors():
    small = hotspot_bandwidth_m(lattice(step=10.0), k=1, cell_size_m=50.0)
    assert small.warnings and "smaller than the cell size" in small.warnings[0]
    with pytest.raises(ParameterError, match="needs more than 5 points"):
        hotspot_bandwidth_m(lattice(2))
    with pytest.raises(ParameterError, match="only 1 distinct locations"):
        hotspot_bandwidth_m(np.zeros((20, 2)) + 1000.0)
    # ten points on each of the 25 lattice spots: distinct locations are used
    piled = hotspot_bandwidth_m(np.repeat(lattice(), 10, axis=0), k=4)
    assert piled.bandwidth_m == pytest.approx(100 * np.sqrt(2))
    assert "distinct locations" in piled.reason
    with pytest.raises(ParameterError, match="k must be"):
        hotspot_bandwidth_m(lattice(), k=0)


def test_kde_surface_chooses_the_hot_spot_rule_by_default():
    """No bandwidth: the rule is used; Silverman on request or with too few points."""
    import geopandas as gpd
    from shapely.geometry import box

    from hotspot.crs import BNG
    from hotspot.detect.kde import kde_surface

    rng = np.random.default_rng(5)
    xy = np.vstack([rng.normal([452_000, 112_000], 120, (150, 2)),
                    rng.normal([458_000, 112_000], 120, (150, 2))])
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=BNG)
    area = box(448_000, 108_000, 462_000, 116_000)
    res = kde_surface(pts, area=area, cell_size_m=50)
    assert res.bandwidth_auto
    assert res.bandwidth_m == pytest.approx(hotspot_bandwidth_m(xy).bandwidth_m)
    assert res.bandwidth_reason.startswith("hot-spot rule")
    silver = kde_surface(pts, area=area, cell_size_m=50, bandwidth_rule="silverman")
    assert silver.bandwidth_m == pytest.approx(silverman_bandwidth_m(xy))
    assert silver.bandwidth_m > 5 * res.bandwidth_m  # the two clusters' spread
    # three points: too few for the 5th-neighbour rule, Silverman with a warning
    few = kde_surface(pts.iloc[:3], area=area, cell_size_m=50)
    assert few.bandwidth_m == pytest.approx(silverman_bandwidth_m(xy[:3]))
    assert any("Silverman rule was used instead" in w for w in few.warnings)
    with pytest.raises(ParameterError, match="bandwidth_rule must be one of"):
        kde_surface(pts, area=area, cell_size_m=50, bandwidth_rule="scott")  # type: ignore[arg-type]

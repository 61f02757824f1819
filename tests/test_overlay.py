"""Tests of deprivation on hand-drawn LSOAs whose answers can be worked out by hand.

Layout (British National Grid, metres; origin at E 400000, N 100000):

    LSOA A: x 0..100,   decile 1,  1,000 residents, CSP X
    LSOA B: x 100..200, decile 10, 3,000 residents, CSP X
    LSOA C: x 200..300, decile 5,  1,000 residents, CSP Y
    (all y 0..100)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from hotspot.context.deprivation import HIPS, attach_imd, attach_lsoa, cells_imd
from hotspot.context.rates import (
    area_share_for,
    concentration_curve,
    concentration_table,
    decile_table,
    deprived_share_table,
    gini_coefficient,
    rates_table,
)
from hotspot.errors import ParameterError

X0, Y0 = 400_000.0, 100_000.0
BNG = "EPSG:27700"


def _box(x1: float, x2: float, y1: float = 0, y2: float = 100) -> object:
    return box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


@pytest.fixture
def lsoas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"lsoa_code": ["A", "B", "C"], "lad_code": ["LX", "LX", "LY"]},
        geometry=[_box(0, 100), _box(100, 200), _box(200, 300)],
        crs=BNG,
    )


@pytest.fixture
def imd() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lsoa_code": ["A", "B", "C"],
            "imd_score": [60.0, 5.0, 20.0],
            "imd_rank": [100, 30000, 15000],
            "imd_decile": [1, 10, 5],
        }
    )


@pytest.fixture
def population() -> pd.DataFrame:
    return pd.DataFrame({"lsoa_code": ["A", "B", "C"], "residents": [1000, 3000, 1000]})


@pytest.fixture
def context(imd: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    out = imd.merge(population, on="lsoa_code")
    out["lsoa_name"] = ["A name", "B name", "C name"]
    out["csp_code"] = ["X", "X", "Y"]
    out["csp_name"] = ["Csp X", "Csp X", "Csp Y"]
    return out


def _occurrences(
    rows: list[tuple[str | None, float | None, float | None]],
) -> gpd.GeoDataFrame:
    codes = [r[0] for r in rows]
    geoms = [None if r[1] is None else Point(X0 + r[1], Y0 + r[2]) for r in rows]
    index = pd.Index([10 + i for i in range(len(rows))])
    return gpd.GeoDataFrame(
        {"lsoa21_code": pd.Series(codes, index=index, dtype="string")},
        geometry=geoms,
        crs=BNG,
        index=index,
    )


@pytest.fixture
def occurrences() -> gpd.GeoDataFrame:
    # three recorded in A (one with a point that lies in B: the code wins),
    # one point in B with no code, one outside every LSOA, one with neither
    return _occurrences(
        [
            ("A", 50, 50),
            ("A", 150, 50),
            ("A", None, None),
            (None, 150, 50),
            (None, 900, 900),
            (None, None, None),
        ]
    )


def test_attach_lsoa_code_first_then_polygon(
    occurrences: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame
) -> None:
    out = attach_lsoa(occurrences, edition="2025", lsoas=lsoas)
    assert out.index.equals(occurrences.index)
    assert out["lsoa_code"].tolist()[:4] == ["A", "A", "A", "B"]
    assert out["lsoa_code"].isna().tolist()[4:] == [True, True]
    assert out["joined_by"].tolist()[:4] == ["lsoa_code"] * 3 + ["polygon"]


def test_attach_lsoa_2019_translates_unique_predecessors_only(
    lsoas: gpd.GeoDataFrame,
) -> None:
    # 2011 LSOA A split into 2021 A1 and A2; 2011 B and C merged into 2021 BC
    lsoa11 = lsoas.assign(lsoa21_codes=["A1,A2", "BC", "BC"])
    occ = _occurrences([("A2", None, None), ("BC", 250, 50), ("BC", None, None)])
    out = attach_lsoa(occ, edition="2019", lsoas=lsoa11)
    assert out["lsoa_code"].tolist()[:2] == ["A", "C"]
    assert out["joined_by"].tolist()[:2] == ["lsoa_code", "polygon"]
    assert pd.isna(out["lsoa_code"].iloc[2])


def test_attach_imd_adds_columns_and_keeps_input(
    occurrences: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame, imd: pd.DataFrame
) -> None:
    before = occurrences.copy()
    out = attach_imd(occurrences, imd=imd, lsoas=lsoas)
    pd.testing.assert_frame_equal(occurrences, before)
    assert out["imd_decile"].tolist()[:4] == [1, 1, 1, 10]
    assert out["imd_decile"].isna().sum() == 2
    assert out["imd_score"].iloc[3] == 5.0
    assert out.attrs["imd_edition"] == "2025"


def test_attach_imd_rejects_wrong_crs(occurrences: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValueError, match="to_crs"):
        attach_imd(occurrences.to_crs("EPSG:4326"))


def test_cells_imd_area_weights(
    lsoas: gpd.GeoDataFrame, imd: pd.DataFrame, population: pd.DataFrame
) -> None:
    cells = gpd.GeoDataFrame(
        {"h3": ["c1", "c2"]}, geometry=[_box(50, 150), _box(250, 350)], crs=BNG
    )
    out = cells_imd(cells, imd=imd, lsoas=lsoas, population=population)
    # c1: half in A (decile 1), half in B (decile 10)
    assert out.loc[0, "lsoa_cover"] == pytest.approx(1.0)
    assert out.loc[0, "imd_score"] == pytest.approx((60 + 5) / 2)
    assert out.loc[0, "imd_rank"] == pytest.approx((100 + 30000) / 2)
    assert out.loc[0, "share_decile_1"] == pytest.approx(0.5)
    assert out.loc[0, "residents"] == pytest.approx(1000 / 2 + 3000 / 2)
    assert out.loc[0, "imd_decile"] == 1  # tie: the more deprived decile
    # c2: half in C, half outside every LSOA
    assert out.loc[1, "lsoa_cover"] == pytest.approx(0.5)
    assert out.loc[1, "imd_score"] == pytest.approx(20.0)
    assert out.loc[1, "share_deciles_1_2"] == pytest.approx(0.0)
    assert out.loc[1, "residents"] == pytest.approx(500.0)
    assert out.loc[1, "imd_decile"] == 5
    assert "lsoa_cover" not in cells.columns


def _attached(
    occurrences: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame, imd: pd.DataFrame
) -> gpd.GeoDataFrame:
    return attach_imd(occurrences, imd=imd, lsoas=lsoas)


def test_rates_table_per_csp_against_hips(
    occurrences: gpd.GeoDataFrame,
    lsoas: gpd.GeoDataFrame,
    imd: pd.DataFrame,
    context: pd.DataFrame,
) -> None:
    out = rates_table(_attached(occurrences, lsoas, imd), context=context)
    out = out.set_index("csp_code")
    # X: 4 occurrences / 4,000 residents; Y: 0 / 1,000; HIPS: 4 / 5,000
    assert out.loc["X", "rate_per_1000"] == pytest.approx(1.0)
    assert out.loc["Y", "rate_per_1000"] == pytest.approx(0.0)
    assert out.loc[HIPS, "rate_per_1000"] == pytest.approx(0.8)
    assert out.loc["X", "ratio_to_hips"] == pytest.approx(1.25)
    assert out.attrs["without_lsoa"] == 2


def test_rates_table_per_lsoa(
    occurrences: gpd.GeoDataFrame,
    lsoas: gpd.GeoDataFrame,
    imd: pd.DataFrame,
    context: pd.DataFrame,
) -> None:
    out = rates_table(_attached(occurrences, lsoas, imd), level="lsoa", context=context)
    assert out["lsoa_code"].tolist() == ["A", "B", "C"]  # highest rate first
    assert out["rate_per_1000"].tolist() == pytest.approx([3.0, 1000 / 3000, 0.0])
    assert out.loc[0, "ratio_to_hips"] == pytest.approx(3.0 / 0.8)


def test_decile_table(
    occurrences: gpd.GeoDataFrame,
    lsoas: gpd.GeoDataFrame,
    imd: pd.DataFrame,
    context: pd.DataFrame,
) -> None:
    out = decile_table(_attached(occurrences, lsoas, imd), context=context)
    assert len(out) == 3 * 10  # X, Y, HIPS
    hips = out[out["csp_code"] == HIPS].set_index("imd_decile")
    assert hips.loc[1, "occurrences"] == 3
    assert hips.loc[1, "residents"] == 1000
    assert hips.loc[1, "rate_per_1000"] == pytest.approx(3.0)
    assert hips.loc[1, "occurrence_share"] == pytest.approx(0.75)
    assert hips.loc[5, "residents"] == 1000
    assert hips["occurrences"].sum() == 4
    x = out[out["csp_code"] == "X"].set_index("imd_decile")
    assert x.loc[10, "resident_share"] == pytest.approx(0.75)
    assert np.isnan(x.loc[3, "rate_per_1000"])  # no residents in decile 3


def test_deprived_share_table_with_hot_cells(
    occurrences: gpd.GeoDataFrame,
    lsoas: gpd.GeoDataFrame,
    imd: pd.DataFrame,
    context: pd.DataFrame,
) -> None:
    cells = pd.DataFrame(
        {
            "csp_code": ["X", "X", "X", "Y"],
            "bin": [3, 2, 1, 0],
            "share_decile_1": [1.0, 0.5, 0.0, 0.0],
            "share_deciles_1_2": [1.0, 0.5, 0.0, 0.0],
        }
    )
    out = deprived_share_table(
        _attached(occurrences, lsoas, imd), cells=cells, context=context
    ).set_index("csp_code")
    assert out.loc["X", "occurrences_decile_1"] == pytest.approx(0.75)
    assert out.loc["X", "residents_decile_1"] == pytest.approx(0.25)
    assert out.loc["X", "hot_cells"] == 2  # bins 3 and 2; bin 1 is not hot
    assert out.loc["X", "hot_cells_decile_1"] == pytest.approx(0.75)
    assert out.loc["X", "cells_decile_1"] == pytest.approx(0.5)
    assert out.loc["Y", "hot_cells"] == 0
    assert np.isnan(out.loc["Y", "hot_cells_decile_1"])
    assert out.loc[HIPS, "cells"] == 4


def test_deprived_share_table_needs_attach_imd(context: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="attach_imd"):
        deprived_share_table(pd.DataFrame({"x": [1]}), context=context)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [([0, 0, 0, 4], 0.75), ([1, 1, 1, 1], 0.0), ([0, 0, 2, 2], 0.5)],
    ids=["all-in-one-of-four", "even", "half-in-half"],
)
def test_gini_equal_areas(counts: list[int], expected: float) -> None:
    cells = pd.DataFrame({"count": counts, "area": [1.0] * 4})
    assert gini_coefficient(cells, area_column="area") == pytest.approx(expected)


def test_concentration_curve_and_area_share() -> None:
    cells = pd.DataFrame({"count": [0, 6, 3, 1], "area": [1.0, 1.0, 1.0, 1.0]})
    curve = concentration_curve(cells, area_column="area")
    assert curve.index.tolist() == [1, 2, 3, 0]  # densest first, index kept
    assert curve["occurrence_share"].tolist() == pytest.approx([0.6, 0.9, 1.0, 1.0])
    assert area_share_for(curve, 0.5) == pytest.approx(0.25)
    assert area_share_for(curve, 0.8) == pytest.approx(0.5)
    assert area_share_for(curve, 1.0) == pytest.approx(0.75)


def test_concentration_table_uses_polygon_areas() -> None:
    # one 1 km² cell with 8 occurrences, three with none, plus a CSP of its own
    cells = gpd.GeoDataFrame(
        {
            "csp_code": ["X", "X", "X", "X", "Y"],
            "csp_name": ["X", "X", "X", "X", "Y"],
            "count": [8, 0, 0, 0, 2],
        },
        geometry=[
            _box(0, 1000, 0, 1000),
            _box(1000, 2000, 0, 1000),
            _box(2000, 3000, 0, 1000),
            _box(3000, 4000, 0, 1000),
            _box(0, 1000, 2000, 3000),
        ],
        crs=BNG,
    )
    out = concentration_table(cells).set_index("csp_code")
    assert out.loc["X", "area_km2"] == pytest.approx(4.0)
    assert out.loc["X", "gini"] == pytest.approx(0.75)
    assert out.loc["X", "area_pct_for_50pct"] == pytest.approx(25.0)
    assert out.loc[HIPS, "occurrences"] == 10
    assert out.loc[HIPS, "area_pct_for_80pct"] == pytest.approx(20.0)
    assert "50% of occurrences in 25.0% of the area" in out.loc["X", "summary"]


def test_concentration_rejects_negative_counts() -> None:
    with pytest.raises(ParameterError, match="counts"):
        gini_coefficient(pd.DataFrame({"count": [-1, 2], "a": [1, 1]}), area_column="a")

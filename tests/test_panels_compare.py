"""The Fires and Deprivation panels compare a CSP with all of HIPS, not itself.

Issue 17: with New Forest selected the Fires panel's "HIPS" row equalled New
Forest's (332 violence, 290 fires, every ratio 1). The caches behind the panels
are called directly (as the app does), for New Forest and for all CSPs.
"""

from __future__ import annotations

import pytest

from hotspot.app import cache as app_cache
from hotspot.context.fires import colocation_labels
from hotspot.context.rates import DECILE_LABELS
from hotspot.ingest.store import DEFAULT_STORE
from hotspot.view import ALL_CSPS, DEFAULT_VIEW

NEW_FOREST = "E07000091"
STORE = str(DEFAULT_STORE)
FIRES = str(app_cache.DEFAULT_FIRES)

pytestmark = pytest.mark.skipif(
    not (DEFAULT_STORE / "occurrences.parquet").exists(),
    reason=f"embedded default store not built at {DEFAULT_STORE} (make data)")


def test_fires_hips_row_is_all_of_hips_when_a_csp_is_selected():
    view = DEFAULT_VIEW.with_(csp=NEW_FOREST)
    _, table = app_cache.colocation(STORE, FIRES, "district", view)
    assert table["csp_code"].tolist() == [NEW_FOREST, "HIPS"]
    forest, hips = table.iloc[0], table.iloc[1]
    assert hips["violence"] > forest["violence"]
    assert hips["fires"] > forest["fires"]
    assert forest["violence_ratio"] != pytest.approx(1.0)
    _, everything = app_cache.colocation(STORE, FIRES, "district",
                                         DEFAULT_VIEW.with_(csp=ALL_CSPS))
    csps = everything[everything["csp_code"] != "HIPS"]
    assert len(csps) == 14
    for column in ("violence", "fires", "hot_violence_cells", "hot_fire_cells",
                   "hot_both_cells"):
        assert hips[column] == csps[column].sum()
    whole = everything.set_index("csp_code")
    assert forest["violence"] == whole.loc[NEW_FOREST, "violence"]
    assert forest["both_index"] == pytest.approx(whole.loc[NEW_FOREST, "both_index"])


def test_deprivation_has_hips_columns_beside_the_csp():
    view = DEFAULT_VIEW.with_(csp=NEW_FOREST)
    table = app_cache.deprivation(STORE, view)
    assert table["imd_decile"].tolist() == list(range(1, 11))
    hips = app_cache.deprivation(STORE, DEFAULT_VIEW.with_(csp=ALL_CSPS))
    assert "hips_rate_per_1000" not in hips.columns
    assert table["hips_rate_per_1000"].tolist() == pytest.approx(
        hips["rate_per_1000"].tolist(), nan_ok=True)
    assert table["occurrences"].sum() < hips["occurrences"].sum()
    assert table["occurrence_share"].sum() == pytest.approx(100.0)


def test_labels_have_units_and_no_raw_names():
    labels = colocation_labels("per km²")
    assert labels["violence_rate"] == "Violence per km²"
    assert not any("per per" in v or "_" in v for v in labels.values())
    assert not any("_" in v for v in DECILE_LABELS.values())


def test_imd_legend_has_all_ten_deciles_in_the_choropleth_colours():
    import geopandas as gpd
    from shapely.geometry import box

    from hotspot import layers
    from hotspot.crs import BNG

    legend = layers.decile_legend()
    assert len(legend) == 10
    assert legend[0].label.startswith("1 most deprived")
    assert legend[-1].label.startswith("10 least deprived")
    areas = gpd.GeoDataFrame({"imd_decile": list(range(1, 11)), "tip": ["x"] * 10},
                             geometry=[box(440000 + 200 * i, 110000,
                                           440100 + 200 * i, 110100)
                                       for i in range(10)], crs=BNG)
    layer = layers.choropleth_layer(areas, value="imd_decile", layer_id="imd",
                                    tooltip="tip")
    fills = [tuple(row["fill"][:3]) for row in layer.data]
    assert fills == [entry.rgb for entry in legend]


def test_fire_colour_is_not_a_hot_spot_colour():
    from hotspot import layers

    def far(a, b):
        return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5 > 80

    assert all(far(layers.FIRE_RGB, c) for c in layers.BIN_COLOURS.values())
    assert far(layers.FIRE_RGB, layers.COLOCATION_RGB)


def test_land_outside_hips_is_drawn_as_land():
    from hotspot import layers

    sea = layers.sea_layer()
    fills = [tuple(row["fill"]) for row in sea.data]
    assert fills == [layers.OUTSIDE_LAND_RGB, layers.SEA_RGB]
    labels = [e.label for e in layers.base_legend()]
    assert "Land outside HIPS (not analysed)" in labels

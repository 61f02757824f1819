"""Tests of hotspot.detect.accuracy and hotspot.detect.backtest (hand-checked)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspot.detect.accuracy import best_hits, capture, take_weights
from hotspot.detect.backtest import PRODUCT, backtest, baselines
from hotspot.detect.rank import RankSettings, TargetSpec
from hotspot.errors import ParameterError
from tests.test_rank import MONTHS, ROBBERY, VIOLENCE, grid, occurrences


def test_capture_on_a_tiny_grid_by_hand():
    """Ten unit cells; 20% of the area is two cells.

    Scores 5, 4, 4, 3, 0...: cell 0 whole, then the tied block {1, 2} holds one
    cell's worth of the area, so each is taken by half (the mean over both
    orders). Test counts 6, 2, 4, 0, 1, 0, 0, 3, 0, 0 (N = 16):
    hits = 6 + (2 + 4)/2 = 9, PAI = (9/16)/0.2 = 2.8125; the best two cells hold
    6 + 4 = 10, so PEI* = 0.9. Training 4, 4, 0, 2, 0...: n1 = 4 + 2 = 6 of
    N1 = 10, RRI = (9/6)/(16/10) = 0.9375.
    """
    score = [5, 4, 4, 3, 0, 0, 0, 0, 0, 0]
    obs = [6, 2, 4, 0, 1, 0, 0, 3, 0, 0]
    train = [4, 4, 0, 2, 0, 0, 0, 0, 0, 0]
    c = capture(score, obs, np.ones(10), share=0.2, train=train)
    assert c.cells == pytest.approx(2.0) and c.area == pytest.approx(2.0)
    assert c.hits == pytest.approx(9.0) and c.total == 16
    assert c.pai == pytest.approx(2.8125)
    assert c.best_hits == pytest.approx(10.0) and c.pei_star == pytest.approx(0.9)
    assert c.rri == pytest.approx(0.9375)


def test_ties_give_the_mean_over_orders():
    score = np.array([2, 1, 1, 1, 0.0])
    obs = np.array([0, 3, 0, 0, 0.0])
    # 40% of five unit cells: cell 0 and one of the three tied: E[hits] = 3/3 = 1
    assert capture(score, obs, np.ones(5), share=0.4).hits == pytest.approx(1.0)
    orders = [[0, 1], [0, 2], [0, 3]]
    assert np.mean([obs[o].sum() for o in orders]) == pytest.approx(1.0)
    w = take_weights(score, np.ones(5), share=0.4)
    assert w.tolist() == pytest.approx([1, 1 / 3, 1 / 3, 1 / 3, 0])


def test_unequal_areas_take_the_area_share():
    """Areas 1, 3, 1, 5 (A = 10); 30% = 3: cell 0 (1) then 2 of cell 1's 3."""
    w = take_weights([9, 8, 7, 6], [1, 3, 1, 5], share=0.3)
    assert w.tolist() == pytest.approx([1, 2 / 3, 0, 0])
    c = capture([9, 8, 7, 6], [1, 3, 0, 6], [1, 3, 1, 5], share=0.3)
    assert c.area == pytest.approx(3.0)
    assert c.pai == pytest.approx((3 / 10) / 0.3)
    assert best_hits([1, 3, 0, 6], 1.5) == pytest.approx(6 + 1.5)


def test_nan_scores_rank_last_and_bad_input_raises():
    w = take_weights([np.nan, 1.0, 2.0], np.ones(3), share=1 / 3)
    assert w.tolist() == pytest.approx([0, 0, 1])
    with pytest.raises(ParameterError, match="share must be"):
        take_weights([1.0], [1.0], share=0)
    with pytest.raises(ParameterError, match="area must have 2 values"):
        capture([1, 2], [0, 1], [1], share=0.5)


def backtest_data():
    cells = grid()
    ids = cells["h3"].tolist()
    rng = np.random.default_rng(5)
    hot = ids[:4]
    plan = []
    for m in MONTHS + ["2025-07", "2025-08"]:
        for c in hot:
            plan.append((c, m, ROBBERY, int(rng.poisson(2.0))))
        for c in rng.choice(ids, 6):
            plan.append((str(c), m, ROBBERY, 1))
        for c in ids[:10]:
            plan.append((c, m, VIOLENCE, 4))
    return cells, occurrences([p for p in plan if p[3] > 0])


def test_backtest_tables_and_hand_checked_baseline():
    cells, occ = backtest_data()
    target = TargetSpec(categories=("robbery",))
    bt = backtest(
        occ,
        cells,
        train_to=pd.Timestamp("2025-06-30"),
        test_from=pd.Timestamp("2025-07-01"),
        test_to=pd.Timestamp("2025-08-31"),
        target=target,
        settings=RankSettings(ring=False),
        replicates=200,
        seed=3,
    )
    names = set(bt.summary["ranking"])
    assert {
        PRODUCT,
        "count, all training months",
        "count, last 3 months",
        "KDE 300 m",
        "KDE 600 m",
        "KDE 1000 m",
        "KDE nearest-neighbour rule",
        "Gi* z (per CSP)",
    } == names
    assert len(bt.hips) == len(names) * 4
    assert len(bt.per_csp) == len(names) * 2
    # the count baseline by hand at 5% of the area
    when = pd.to_datetime(occ["occurred_from"])
    rob = occ["crime_type"] == ROBBERY
    pos = {h: i for i, h in enumerate(cells["h3"])}
    from hotspot.grid import points_to_cells

    cell_of = points_to_cells(occ, resolution=9).map(pos).to_numpy()
    train = np.bincount(
        cell_of[(rob & (when <= "2025-06-30")).to_numpy()], minlength=len(cells)
    ).astype(float)
    test = np.bincount(
        cell_of[(rob & (when > "2025-06-30")).to_numpy()], minlength=len(cells)
    ).astype(float)
    area = cells.geometry.area.to_numpy() / 1e6
    ref = capture(train, test, area, share=0.05, train=train)
    row = bt.hips[
        (bt.hips["ranking"] == "count, all training months")
        & np.isclose(bt.hips["share"], 0.05)
    ].iloc[0]
    assert row["pai"] == pytest.approx(ref.pai)
    assert row["pei_star"] == pytest.approx(ref.pei_star)
    assert row["total"] == test.sum()
    # bootstrap: seeded, intervals around the point figures
    again = backtest(
        occ,
        cells,
        train_to=pd.Timestamp("2025-06-30"),
        test_from=pd.Timestamp("2025-07-01"),
        test_to=pd.Timestamp("2025-08-31"),
        target=target,
        settings=RankSettings(ring=False),
        replicates=200,
        seed=3,
    )
    assert bt.bootstrap == again.bootstrap
    lo, hi = bt.bootstrap["product"]
    prod_pai = float(bt.summary.set_index("ranking").loc[PRODUCT, "pai"])
    assert lo <= prod_pai <= hi
    assert any("PAI" in line for line in bt.reading)
    assert bt.test_months == ["2025-07", "2025-08"]


def test_flagged_test_month_is_missing_and_not_counted():
    cells, occ = backtest_data()
    when = pd.to_datetime(occ["occurred_from"])
    occ.loc[(when.dt.month == 8).to_numpy(), "quality_flags"] = "implausible_month"
    bt = backtest(
        occ,
        cells,
        train_to=pd.Timestamp("2025-06-30"),
        test_from=pd.Timestamp("2025-07-01"),
        test_to=pd.Timestamp("2025-08-31"),
        target=TargetSpec(categories=("robbery",)),
        settings=RankSettings(ring=False),
        replicates=0,
    )
    july = int(((occ["crime_type"] == ROBBERY) & (when.dt.month == 7)).sum())
    assert bt.hips["total"].iloc[0] == july
    assert bt.test_months_missing == ["2025-08 (police_uk)"]
    assert any("missing" in w for w in bt.warnings)


def test_periods_must_not_overlap():
    cells, occ = backtest_data()
    with pytest.raises(ParameterError, match="test_from must be after train_to"):
        backtest(
            occ,
            cells,
            train_to=pd.Timestamp("2025-06-30"),
            test_from=pd.Timestamp("2025-06-01"),
            test_to=pd.Timestamp("2025-07-31"),
            target=TargetSpec(categories=("robbery",)),
        )


def test_baselines_never_see_test_rows():
    cells, occ = backtest_data()
    target = TargetSpec(categories=("robbery",))
    before = baselines(occ, cells, target=target, train_to=pd.Timestamp("2025-06-30"))
    changed = occ.copy()
    later = (pd.to_datetime(changed["occurred_from"]) > "2025-06-30").to_numpy()
    changed = pd.concat([changed, changed[later], changed[later]], ignore_index=True)
    after = baselines(
        changed, cells, target=target, train_to=pd.Timestamp("2025-06-30")
    )
    for name, values in before.items():
        np.testing.assert_array_equal(values, after[name], err_msg=name)


def test_cli_rank_and_backtest_on_a_small_store(tmp_path, capsys):
    """The two verbs end to end on a store of crafted Southampton rows."""
    import geopandas as gpd

    from hotspot.cli.main import main
    from hotspot.ingest.store import write_store

    cells, occ = backtest_data()
    store = tmp_path / "store"
    write_store(store, occurrences=occ, rejects=pd.DataFrame(), summary={})
    out = tmp_path / "ranked.gpkg"
    assert (
        main(
            [
                "rank",
                str(store),
                "--category",
                "robbery",
                "--csp",
                "Southampton",
                "--to",
                "2025-06-30",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    ranked = gpd.read_file(out)
    assert ranked.crs.to_epsg() == 27700
    assert {
        "h3",
        "csp_code",
        "rank",
        "csp_rank",
        "score",
        "count",
        "harm",
        "reason",
        "z",
        "bin",
    } <= set(ranked.columns)
    assert sorted(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked.sort_values("rank")["score"].is_monotonic_decreasing
    csv = tmp_path / "bt.csv"
    assert (
        main(
            [
                "backtest",
                str(store),
                "--category",
                "robbery",
                "--csp",
                "Southampton",
                "--train-to",
                "2025-06-30",
                "--test-from",
                "2025-07-01",
                "--test-to",
                "2025-08-31",
                "--replicates",
                "50",
                "--out",
                str(csv),
            ]
        )
        == 0
    )
    table = pd.read_csv(csv)
    assert set(table["scope"]) == {"HIPS", "CSP"}
    assert PRODUCT in set(table["ranking"])
    assert main(["rank", str(store), "--out", str(tmp_path / "x.tif")]) == 2
    assert "--out must end in .gpkg or .csv" in capsys.readouterr().err

"""Tests of hotspot.detect.rank: fit, crafted rankings, missing months, no leakage."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from hotspot.crs import BNG
from hotspot.detect.gistar import gi_star
from hotspot.detect.rank import (
    RANK_COLUMNS,
    RankSettings,
    TargetSpec,
    candidate_settings,
    fit_weights,
    rank_cells,
)
from hotspot.errors import ParameterError
from hotspot.grid import cell_centres_bng, cell_polygons
from hotspot.ingest.schema import conform

ROBBERY = "Robbery"
VIOLENCE = "Violence and sexual offences"
PLAIN = RankSettings(recent_months=3, ring=False, indicators=())


def grid(radius: int = 3) -> gpd.GeoDataFrame:
    """Cells around central Southampton, split into two CSPs by h3 order."""
    centre = h3.latlng_to_cell(50.9097, -1.4044, 9)
    ids = sorted(h3.grid_disk(centre, radius))
    half = len(ids) // 2
    codes = ["E06000045"] * half + ["E06000044"] * (len(ids) - half)
    names = ["Southampton"] * half + ["Portsmouth"] * (len(ids) - half)
    return gpd.GeoDataFrame(
        {"h3": ids, "csp_code": codes, "csp_name": names, "study_area": codes},
        geometry=cell_polygons(ids).values,
        crs=BNG,
    )


def occurrences(
    plan: list[tuple[str, str, str, int]],
    *,
    flags: dict[str, str] | None = None,
    source: str = "police_uk",
) -> gpd.GeoDataFrame:
    """Rows at cell centres from (cell, month YYYY-MM, police.uk crime type, n)."""
    rows = [(c, m, t) for c, m, t, n in plan for _ in range(n)]
    x, y = cell_centres_bng([c for c, _, _ in rows])
    crime = [t for _, _, t in rows]
    cat = {
        ROBBERY: "robbery",
        "Possession of weapons": "possession_of_weapons",
        VIOLENCE: "most_serious_violence",
    }
    months = [m for _, m, _ in rows]
    frame = pd.DataFrame(
        {
            "occurrence_id": [f"r{i}" for i in range(len(rows))],
            "source": source,
            "occurred_from": pd.to_datetime([f"{m}-01" for m in months]),
            "date_precision": "month",
            "crime_type": crime,
            "sv_category": [cat.get(t) for t in crime],
            "is_serious_violence": [
                t in (ROBBERY, "Possession of weapons") for t in crime
            ],
            "harm_weight": 1.0,
            "geocode_method": "wgs84",
            "quality_flags": [(flags or {}).get(m) for m in months],
        }
    )
    return gpd.GeoDataFrame(conform(frame), geometry=gpd.points_from_xy(x, y), crs=BNG)


MONTHS = [f"2025-{m:02d}" for m in range(1, 7)]


def steady_plan(cells: gpd.GeoDataFrame) -> list[tuple[str, str, str, int]]:
    """Cell 0: 3 robberies a month; cell 1: 1 a month; cell 2: violence only."""
    ids = cells["h3"].tolist()
    plan = []
    for m in MONTHS:
        plan += [
            (ids[0], m, ROBBERY, 3),
            (ids[1], m, ROBBERY, 1),
            (ids[2], m, VIOLENCE, 5),
        ]
    return plan


def test_fit_weights_matches_scipy_reference():
    rng = np.random.default_rng(4)
    n = 4000
    x = np.column_stack(
        [
            np.ones(n),
            rng.gamma(0.3, 2.0, n),
            rng.gamma(0.5, 1.0, n),
            rng.gamma(0.5, 1.0, n),
        ]
    )
    x[rng.random(n) < 0.6, 1:] = 0.0  # many empty cells, as on the real grid
    truth = np.array([0.02, 0.5, 0.0, 0.3])
    e = rng.integers(1, 3, n).astype(float)
    y = rng.poisson(e * (x @ truth)).astype(float)
    b = fit_weights(x, y, e)

    def nll(v):
        mu = e * (x @ v)
        return float(mu.sum() - y @ np.log(mu))

    ref = minimize(
        nll,
        np.full(4, 0.1),
        method="L-BFGS-B",
        bounds=[(1e-9, None)] + [(0, None)] * 3,
        options={"ftol": 1e-14},
    )
    assert nll(b) <= ref.fun + 1e-6
    assert np.all(b >= 0)
    assert b[1] == pytest.approx(0.5, abs=0.08) and b[3] == pytest.approx(0.3, abs=0.08)


def test_fit_weights_collinear_columns_do_not_break():
    x = np.column_stack([np.ones(50), np.arange(50.0), np.arange(50.0)])
    y = 2.0 * np.arange(50.0)
    b = fit_weights(x, y, np.ones(50))
    assert b[1] + b[2] == pytest.approx(2.0, rel=1e-4)
    assert b[0] < 1e-3


def test_steady_counts_rank_and_score_by_hand():
    """Constant monthly counts: the MLE is exact, expected = the monthly count."""
    cells = grid()
    occ = occurrences(steady_plan(cells))
    r = rank_cells(
        occ,
        cells,
        target=TargetSpec(categories=("robbery",)),
        fit_to=pd.Timestamp("2025-06-30"),
        settings=PLAIN,
    )
    table = r.cells.set_index("h3")
    ids = cells["h3"].tolist()
    assert r.cells["h3"].iloc[0] == ids[0] and r.cells["h3"].iloc[1] == ids[1]
    assert table.loc[ids[0], "score"] == pytest.approx(3.0, rel=1e-3)
    assert table.loc[ids[1], "score"] == pytest.approx(1.0, rel=1e-3)
    assert table.loc[ids[0], "count"] == 18 and table.loc[ids[2], "count"] == 0
    assert table.loc[ids[5], "score"] < 1e-3  # nothing there: the base rate only
    assert list(r.cells.columns[:-1]) == list(RANK_COLUMNS)
    assert sorted(r.cells["rank"]) == list(range(1, len(cells) + 1))
    for _, part in r.cells.groupby("csp_code"):
        assert sorted(part["csp_rank"]) == list(range(1, len(part) + 1))
        assert part["csp_rank"].is_monotonic_increasing  # same order as rank
    assert (
        "9 robberies here in the last 3 months (18 in all months)"
        in table.loc[ids[0], "reason"]
    )
    assert r.chosen_by == "given" and r.validation.empty
    # the Gi* evidence equals gi_star on the same counts, per study area
    ref = gi_star(
        pd.DataFrame(
            {
                "h3": cells["h3"],
                "study_area": cells["study_area"],
                "count": table.loc[cells["h3"], "count"].to_numpy(),
            }
        )
    )
    np.testing.assert_allclose(
        table.loc[cells["h3"], "z"].to_numpy(), ref["z"].to_numpy(), equal_nan=True
    )


def test_horizon_scales_score():
    cells = grid(2)
    occ = occurrences(steady_plan(cells))
    kw = {
        "target": TargetSpec(categories=("robbery",)),
        "fit_to": pd.Timestamp("2025-06-30"),
        "settings": PLAIN,
    }
    one = rank_cells(occ, cells, **kw).cells.set_index("h3")["score"]
    three = rank_cells(occ, cells, horizon_months=3, **kw).cells.set_index("h3")[
        "score"
    ]
    assert np.allclose(three, 3 * one)


def test_leading_indicator_lifts_a_cell():
    """Robbery follows violence: with indicators the violent cells rank higher."""
    cells = grid()
    ids = cells["h3"].tolist()
    rng = np.random.default_rng(11)
    plan = []
    for m in MONTHS:
        plan += [(ids[0], m, ROBBERY, 2)]
        for c in ids[3:9]:  # violence everywhere here; robbery follows at random
            plan += [(c, m, VIOLENCE, 6)]
            if rng.random() < 0.3:
                plan += [(c, m, ROBBERY, 1)]
    occ = occurrences(plan)
    target = TargetSpec(categories=("robbery",))
    with_ind = rank_cells(
        occ,
        cells,
        target=target,
        fit_to=pd.Timestamp("2025-06-30"),
        settings=RankSettings(recent_months=3, ring=False, indicators=("violence",)),
    )
    assert with_ind.coefficients["violence"] > 0
    table = with_ind.cells.set_index("h3")
    quiet = [c for c in ids[3:9] if table.loc[c, "count"] == 0]
    for c in quiet:  # no robbery yet, but violence: above the empty cells
        assert table.loc[c, "score"] > table.loc[ids[-1], "score"] * 10


def test_flagged_and_empty_months_are_missing_not_zero():
    cells = grid(2)
    ids = cells["h3"].tolist()
    plan = [(ids[0], m, ROBBERY, 3) for m in MONTHS if m != "2025-03"]
    plan += [(ids[0], "2025-04", ROBBERY, 27)]  # April: 30 rows, but flagged
    plan += [(ids[1], m, VIOLENCE, 2) for m in MONTHS if m != "2025-03"]
    occ = occurrences(plan, flags={"2025-04": "implausible_month"})
    r = rank_cells(
        occ,
        cells,
        target=TargetSpec(categories=("robbery",)),
        fit_to=pd.Timestamp("2025-06-30"),
        settings=PLAIN,
    )
    table = r.cells.set_index("h3")
    # 4 months with data (Jan, Feb, May, Jun), 3 a month: not 12/6 = 2
    assert table.loc[ids[0], "score"] == pytest.approx(3.0, rel=1e-3)
    assert table.loc[ids[0], "count"] == 12
    assert r.months_missing == ["2025-03 (police_uk)", "2025-04 (police_uk)"]
    assert r.months_used == ["2025-01", "2025-02", "2025-05", "2025-06"]


def test_no_leakage_rows_after_fit_to_change_nothing():
    cells = grid()
    ids = cells["h3"].tolist()
    rng = np.random.default_rng(7)
    plan = []
    for m in MONTHS + ["2025-07", "2025-08"]:
        for c in rng.choice(ids, 25):
            plan.append((str(c), m, ROBBERY, int(rng.integers(1, 3))))
        for c in rng.choice(ids, 40):
            plan.append((str(c), m, VIOLENCE, int(rng.integers(1, 4))))
    occ = occurrences(plan)
    fit_to = pd.Timestamp("2025-06-30")
    target = TargetSpec(categories=("robbery",))
    # cache_dir=None: validation itself runs on both, not a kept copy
    base = rank_cells(occ, cells, target=target, fit_to=fit_to, cache_dir=None)
    later = pd.to_datetime(occ["occurred_from"]) > fit_to
    changed = occ.copy()
    # move every later row onto one cell and double them: a very different future
    x, y = cell_centres_bng([ids[-1]])
    changed.loc[later, "geometry"] = gpd.points_from_xy(
        np.repeat(x, later.sum()), np.repeat(y, later.sum())
    )
    changed = pd.concat([changed, changed[later]], ignore_index=True)
    other = rank_cells(changed, cells, target=target, fit_to=fit_to, cache_dir=None)
    pd.testing.assert_frame_equal(pd.DataFrame(base.cells), pd.DataFrame(other.cells))
    assert base.settings == other.settings
    pd.testing.assert_frame_equal(base.validation, other.validation)
    assert base.coefficients == other.coefficients
    # while fitting on the later months does change it
    moved = rank_cells(changed, cells, target=target, fit_to=pd.Timestamp("2025-08-31"))
    assert moved.cells["h3"].iloc[0] == ids[-1]
    # two rings of neighbours: also blind to later rows
    two = RankSettings(recent_months=3, ring=2, indicators=("violence",))
    a = rank_cells(occ, cells, target=target, fit_to=fit_to, settings=two)
    b = rank_cells(changed, cells, target=target, fit_to=fit_to, settings=two)
    pd.testing.assert_frame_equal(pd.DataFrame(a.cells), pd.DataFrame(b.cells))
    assert "target_ring2" in a.coefficients


def test_validation_reports_every_candidate_on_earlier_months_only():
    cells = grid()
    occ = occurrences(steady_plan(cells))
    r = rank_cells(
        occ,
        cells,
        target=TargetSpec(categories=("robbery",)),
        fit_to=pd.Timestamp("2025-06-30"),
    )
    assert len(r.validation) == len(candidate_settings())
    scored = [c for c in r.validation.columns if c.startswith("score_")]
    assert scored and all(c[6:] <= "2025-06" for c in scored)
    assert r.chosen_by.startswith("validation")
    assert r.settings in candidate_settings()


def test_target_rule_serious_violence_then_categories():
    """The selection rule: serious violence first, then the categories.

    Robbery rows are serious violence; police.uk "Violence and sexual offences"
    rows carry the category most_serious_violence but are an approximate match
    (is_serious_violence False), so they are left out unless asked for.
    """
    cells = grid(1)
    occ = occurrences(steady_plan(cells))
    occ = pd.concat(
        [occ, occurrences(steady_plan(cells), source="records")], ignore_index=True
    )
    occ["sv_match"] = np.where(occ["crime_type"] == VIOLENCE, "approximate", "exact")
    robbery = (occ["crime_type"] == ROBBERY).to_numpy()
    violence = (occ["crime_type"] == VIOLENCE).to_numpy()
    assert (TargetSpec().mask(occ) == robbery).all()
    assert (TargetSpec(categories=("robbery",)).mask(occ) == robbery).all()
    assert not TargetSpec(categories=("most_serious_violence",)).mask(occ).any()
    wide = TargetSpec(categories=("most_serious_violence",), include_approximate=True)
    assert (wide.mask(occ) == violence).all()
    # not recorded: a row with a category counts as serious violence
    occ.loc[violence, "is_serious_violence"] = pd.NA
    assert (TargetSpec().mask(occ) == (robbery | violence)).all()
    only = TargetSpec(sources=("records",)).mask(occ)
    assert set(occ.loc[only, "source"]) == {"records"}


def test_bad_arguments_raise():
    cells = grid(1)
    occ = occurrences(steady_plan(cells))
    fit_to = pd.Timestamp("2025-06-30")
    with pytest.raises(ParameterError, match="target must be a TargetSpec"):
        rank_cells(occ, cells, target="robbery", fit_to=fit_to)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="weight must be"):
        rank_cells(occ, cells, target=TargetSpec(), fit_to=fit_to, weight="z")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="too little history"):
        rank_cells(
            occ,
            cells,
            target=TargetSpec(categories=("robbery",)),
            fit_to=pd.Timestamp("2025-02-28"),
        )
    with pytest.raises(ParameterError, match="indicators must be among"):
        RankSettings(indicators=("weather",))
    with pytest.raises(ParameterError, match="categories must be a tuple"):
        TargetSpec(categories="robbery")  # type: ignore[arg-type]


def test_validation_is_kept_and_read_back_only_for_the_same_inputs(tmp_path):
    cells = grid()
    occ = occurrences(steady_plan(cells))
    kw = {"target": TargetSpec(categories=("robbery",)),
          "fit_to": pd.Timestamp("2025-06-30")}
    fresh = rank_cells(occ, cells, cache_dir=None, **kw)
    first = rank_cells(occ, cells, cache_dir=tmp_path, **kw)
    kept = list(tmp_path.glob("*.json"))
    assert len(kept) == 1
    again = rank_cells(occ, cells, cache_dir=tmp_path, **kw)
    for r in (first, again):
        pd.testing.assert_frame_equal(pd.DataFrame(r.cells), pd.DataFrame(fresh.cells))
        pd.testing.assert_frame_equal(r.validation, fresh.validation)
        assert r.settings == fresh.settings
    # other months before the cut-off: another key, validated afresh
    fewer = occ[pd.to_datetime(occ["occurred_from"]) >= "2025-02-01"]
    rank_cells(fewer, cells, cache_dir=tmp_path, **kw)
    assert len(list(tmp_path.glob("*.json"))) == 2
    # a damaged file is ignored (and validation runs again), never an error
    kept[0].write_text("{not json")
    damaged = rank_cells(occ, cells, cache_dir=tmp_path, **kw)
    pd.testing.assert_frame_equal(damaged.validation, fresh.validation)

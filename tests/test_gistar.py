"""Tests of hotspot.detect.gistar: hand-computed cells, esda, BH, permutations."""

from __future__ import annotations

import math

import esda
import h3
import numpy as np
import pandas as pd
import pytest
from libpysal.weights import W
from scipy import stats

from hotspot.detect.gistar import (
    GISTAR_COLUMNS,
    classify_bins,
    fdr_bh,
    gi_star,
    gi_star_normal,
    gi_star_permutation,
    ring_weights,
)
from hotspot.errors import ParameterError

CENTRE = h3.latlng_to_cell(50.9097, -1.4044, 9)  # Southampton city centre


def disk_table(k: int = 2) -> pd.DataFrame:
    """Return the 19 cells within 2 steps of CENTRE: 10 at centre, 1 on ring 1."""
    cells = sorted(h3.grid_disk(CENTRE, k))
    dist = np.array([h3.grid_distance(CENTRE, c) for c in cells])
    count = np.select([dist == 0, dist == 1], [10, 1], 0)
    return pd.DataFrame(
        {"h3": cells, "study_area": "A", "count": count, "dist": dist}
    )


def esda_weights(cells: list[str], k: int = 1) -> W:
    """libpysal W from the same k-ring neighbours (self excluded; esda adds it)."""
    idx = {c: i for i, c in enumerate(cells)}
    neighbours = {
        i: [idx[n] for n in h3.grid_disk(c, k) if n in idx and n != c]
        for i, c in enumerate(cells)
    }
    return W(neighbours, silence_warnings=True)


def two_area_table(seed: int = 0) -> pd.DataFrame:
    """Two study areas of realistic size: disks of 5 rings in two towns."""
    rng = np.random.default_rng(seed)
    a = sorted(h3.grid_disk(CENTRE, 6))
    b = sorted(h3.grid_disk(h3.latlng_to_cell(50.7986, -1.0912, 9), 5))  # Portsmouth
    frame = pd.DataFrame(
        {"h3": a + b, "study_area": ["A"] * len(a) + ["B"] * len(b)}
    )
    frame["count"] = rng.poisson(0.7, len(frame))
    frame.loc[:8, "count"] += 6  # a cluster
    return frame


def test_hand_computed_disk():
    """Gi* on the 19-cell disk, by hand.

    N = 19 cells, S = 10 + 6*1 = 16, sum of squares = 100 + 6 = 106.
    mean = 16/19; variance = 106/19 - (16/19)^2 = 1758/361; var/mean^2 = 1758/256.
    With binary weights including the cell, W_i = cells in the ring in the disk:
    centre and ring-1 cells W = 7; ring-2 'corner' cells W = 4, 'side' cells W = 5.
    V_i = W_i (19 - W_i) / 18 / 19^2 * 1758/256.
    centre: G = (10 + 6)/16 = 1, E = 7/19, z = (1 - 7/19)/sqrt(7*12/18/361*1758/256)
            = 0.6316/0.2979 = 2.1198.
    ring 1: G = (1 + 10 + 1 + 1)/16 = 13/16 (itself, centre, two ring-1 cells).
    ring-2 corner: one ring-1 neighbour, G = 1/16, W = 4.
    ring-2 side: two ring-1 neighbours, G = 2/16, W = 5.
    """
    table = disk_table()
    out = gi_star(table, column="count", fdr=False)
    ratio = 1758 / 256

    def z(g: float, w: int) -> float:
        return (g - w / 19) / math.sqrt(w * (19 - w) / 18 / 19**2 * ratio)

    centre = out["dist"] == 0
    ring1 = out["dist"] == 1
    corner = (out["dist"] == 2) & (out["neighbours"] == 3)
    side = (out["dist"] == 2) & (out["neighbours"] == 4)
    assert centre.sum() == 1 and ring1.sum() == 6
    assert corner.sum() == 6 and side.sum() == 6
    np.testing.assert_allclose(out.loc[centre, "z"], z(1.0, 7), rtol=1e-12)
    assert out.loc[centre, "z"].iloc[0] == pytest.approx(2.1198, abs=1e-4)
    np.testing.assert_allclose(out.loc[ring1, "z"], z(13 / 16, 7), rtol=1e-12)
    np.testing.assert_allclose(out.loc[corner, "z"], z(1 / 16, 4), rtol=1e-12)
    np.testing.assert_allclose(out.loc[side, "z"], z(2 / 16, 5), rtol=1e-12)
    # neighbours exclude the cell itself; edge = fewer than the full 6-ring
    assert out.loc[centre | ring1, "neighbours"].eq(6).all()
    assert not out.loc[centre | ring1, "edge"].any()
    assert out.loc[out["dist"] == 2, "edge"].all()
    assert out.loc[centre, "neighbour_sum"].iloc[0] == 6
    assert out["area_mean"].iloc[0] == pytest.approx(16 / 19)
    # two-sided p from the normal
    np.testing.assert_allclose(out["p"], 2 * stats.norm.sf(np.abs(out["z"])))
    assert out.loc[centre, "bin"].iloc[0] == 2  # p = 0.034: a 95% hot spot


def test_equals_esda_per_study_area():
    table = two_area_table()
    out = gi_star(table, column="count", fdr=False)
    for area, part in out.groupby("study_area"):
        w = esda_weights(part["h3"].tolist())
        ref = esda.G_Local(
            part["count"].to_numpy(dtype=float), w, star=True, transform="B",
            permutations=0,
        )
        np.testing.assert_allclose(part["z"], ref.Zs, rtol=0, atol=1e-9, err_msg=area)
        # esda's p_norm is one-tailed (norm.sf(|z|)); ours is two-sided
        np.testing.assert_allclose(part["p_norm"], 2 * ref.p_norm, atol=1e-9)
        # esda adds the self-weight: same cardinalities as ours + 1
        card = np.array([w.cardinalities[i] for i in range(w.n)])
        np.testing.assert_array_equal(part["neighbours"], card)


def test_equals_esda_on_harm():
    table = two_area_table(seed=3)
    rng = np.random.default_rng(5)
    table["harm"] = table["count"] * rng.uniform(0.5, 3.0, len(table))
    out = gi_star(table, column="harm", fdr=False)
    part = out[out["study_area"] == "B"]
    ref = esda.G_Local(
        part["harm"].to_numpy(), esda_weights(part["h3"].tolist()), star=True,
        transform="B", permutations=0,
    )
    np.testing.assert_allclose(part["z"], ref.Zs, atol=1e-9)


def test_neighbours_restricted_to_study_area():
    table = disk_table()
    # split the disk into two study areas: centre + ring 1 vs ring 2
    table["study_area"] = np.where(table["dist"] <= 1, "inner", "outer")
    w = ring_weights(table["h3"].tolist(), k=1, study_area=table["study_area"])
    inner = np.flatnonzero(table["dist"] <= 1)
    outer = np.flatnonzero(table["dist"] == 2)
    assert w[inner][:, outer].sum() == 0
    assert w.diagonal().tolist() == [1.0] * len(table)


def test_study_area_smaller_than_ring():
    """Three cells in a line-ish cluster: z where defined, NaN where the ring is all."""
    nbrs = sorted(h3.grid_ring(CENTRE, 1))
    cells = [CENTRE, nbrs[0], nbrs[3]]  # two opposite neighbours of the centre
    table = pd.DataFrame({"h3": cells, "study_area": "tiny", "count": [5, 1, 0]})
    out = gi_star(table)
    assert out["neighbours"].tolist() == [2, 1, 1]
    assert out["edge"].all()
    # the centre's ring covers the whole area: z undefined -> NaN, bin 0
    assert math.isnan(out["z"].iloc[0]) and out["bin"].iloc[0] == 0
    with np.errstate(invalid="ignore"):  # esda divides 0 by 0 for the centre
        ref = esda.G_Local(
            np.array([5.0, 1.0, 0.0]), esda_weights(cells), star=True, transform="B",
            permutations=0,
        )
    np.testing.assert_allclose(out["z"].iloc[1:], ref.Zs[1:], atol=1e-9)


def test_all_zero_counts_give_nan_not_crash():
    table = disk_table()
    table["count"] = 0
    out = gi_star(table, permutations=99, seed=1)
    assert out["z"].isna().all()
    assert out["p"].isna().all() and out["p_fdr"].isna().all()
    assert (out["bin"] == 0).all()
    assert not out["significant"].any()


def test_single_cell_area_is_untested():
    table = pd.concat(
        [disk_table(), pd.DataFrame({"h3": ["89195da49b7ffff"], "study_area": ["B"],
                                     "count": [3], "dist": [-1]})],
        ignore_index=True,
    )
    out = gi_star(table)
    assert math.isnan(out["z"].iloc[-1])
    assert np.isfinite(out["z"].iloc[:-1]).all()


def test_output_contract_and_input_untouched():
    table = disk_table()
    before = table.copy()
    out = gi_star(table)
    pd.testing.assert_frame_equal(table, before)
    assert list(out.columns) == list(table.columns) + list(GISTAR_COLUMNS)
    assert out.index.equals(table.index)
    assert out["bin"].dtype == np.int8
    assert out["neighbours"].dtype == np.int64


def test_bh_hand_computed():
    """p = .01 .04 .03 .005 .5, m = 5.

    Sorted: .005 (r1) .01 (r2) .03 (r3) .04 (r4) .5 (r5); p m / r = .025 .025 .05 .05
    .5; running minimum from the top rank leaves them unchanged, so in input order
    the adjusted values are .025 .05 .05 .025 .5.
    """
    adjusted = fdr_bh([0.01, 0.04, 0.03, 0.005, 0.5])
    np.testing.assert_allclose(adjusted, [0.025, 0.05, 0.05, 0.025, 0.5])


def test_bh_running_minimum():
    """p = .04 .041 .9: raw .12 .0615 .9 -> the first is lowered to .0615."""
    np.testing.assert_allclose(fdr_bh([0.04, 0.041, 0.9]), [0.0615, 0.0615, 0.9])


def test_bh_equals_scipy_per_group_and_skips_nan():
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 1, 300) ** 3
    groups = rng.choice(["a", "b", "c"], 300)
    p[::17] = np.nan
    out = fdr_bh(p, groups=groups)
    assert np.isnan(out[::17]).all()
    for g in "abc":
        sel = (groups == g) & np.isfinite(p)
        np.testing.assert_allclose(out[sel], stats.false_discovery_control(p[sel]))


def test_fdr_applied_once_per_study_area():
    table = two_area_table()
    out = gi_star(table, fdr=True)
    for _, part in out.groupby("study_area"):
        np.testing.assert_allclose(
            part["p_fdr"], stats.false_discovery_control(part["p"].to_numpy())
        )
    no_fdr = gi_star(table, fdr=False)
    np.testing.assert_array_equal(no_fdr["p_fdr"], no_fdr["p"])


@pytest.mark.parametrize(
    ("z", "p", "expected"),
    [(3.0, 0.005, 3), (2.1, 0.03, 2), (1.7, 0.08, 1), (1.0, 0.3, 0), (-2.7, 0.007, -3),
     (-2.0, 0.045, -2), (-1.7, 0.09, -1), (float("nan"), float("nan"), 0)],
    ids=["hot99", "hot95", "hot90", "none", "cold99", "cold95", "cold90", "nan"],
)
def test_bins(z, p, expected):
    assert classify_bins([z], [p])[0] == expected


def test_permutation_p_agrees_with_esda_within_monte_carlo_error():
    table = two_area_table(seed=11)
    part = table[table["study_area"] == "A"].reset_index(drop=True)
    y = part["count"].to_numpy(dtype=float)
    w = ring_weights(part["h3"].tolist(), k=1)
    groups = np.zeros(len(y), dtype=np.int64)
    folded, two_sided = gi_star_permutation(
        y, w, groups=groups, permutations=999, seed=42
    )
    ref = esda.G_Local(
        y, esda_weights(part["h3"].tolist()), star=True, transform="B",
        permutations=999, seed=42, n_jobs=1,
    )
    # counts tie often, so the tie-aware two-sided p is at least twice esda's
    assert np.all(two_sided >= np.minimum(1, 2 * folded) - 1e-12)
    # two independent Monte-Carlo estimates: sd of the difference
    sd = np.sqrt(2 * ref.p_sim * (1 - ref.p_sim) / 999) + 2 / 1000
    diff = folded - ref.p_sim
    assert np.all(np.abs(diff) < 5 * sd)
    assert abs(diff.mean()) < 0.005
    # and the analytical p ranks cells the same way
    _, _, _, z = gi_star_normal(y, w, groups=groups)
    assert stats.spearmanr(folded, stats.norm.sf(np.abs(z))).statistic > 0.9


def test_permutations_reproducible_with_seed():
    table = two_area_table(seed=2)
    a = gi_star(table, permutations=999, seed=5)
    b = gi_star(table, permutations=999, seed=5)
    c = gi_star(table, permutations=999, seed=6)
    np.testing.assert_array_equal(a["p_sim"], b["p_sim"])
    assert not np.array_equal(a["p_sim"], c["p_sim"])
    np.testing.assert_array_equal(a["p"], a["p_sim"])


@pytest.mark.parametrize(
    "kwargs",
    [{"k": 0}, {"k": 1.5}, {"alpha": 0}, {"alpha": 0.9}, {"permutations": 10},
     {"permutations": -1}, {"column": "missing"}],
    ids=["k0", "kfloat", "alpha0", "alpha_big", "perm10", "perm_neg", "column"],
)
def test_bad_parameters_raise(kwargs):
    with pytest.raises(ParameterError):
        gi_star(disk_table(), **kwargs)


def test_negative_values_raise():
    table = disk_table()
    table.loc[0, "count"] = -1
    with pytest.raises(ParameterError, match="count"):
        gi_star(table)


def test_permutation_two_sided_without_ties_is_twice_esda_folding():
    """With continuous values (no ties) S = P - L, so p = min(1, 2 * esda p_sim)."""
    table = two_area_table(seed=4)
    rng = np.random.default_rng(9)
    y = table["count"].to_numpy(dtype=float) + rng.uniform(0, 0.5, len(table))
    w = ring_weights(table["h3"].tolist(), study_area=table["study_area"])
    groups = pd.factorize(table["study_area"])[0].astype(np.int64)
    folded, two_sided = gi_star_permutation(
        y, w, groups=groups, permutations=999, seed=1
    )
    np.testing.assert_allclose(two_sided, np.minimum(1, 2 * folded))


def test_permutation_zero_neighbourhood_is_not_significant():
    """A zero cell among zero neighbours ties with every random draw: p = 1.

    esda's folded p_sim gives such cells 0.001 (a false 99% cold spot).
    """
    table = disk_table(k=6)
    table["count"] = 0
    table.loc[table["dist"] <= 1, "count"] = 3  # a cluster at the centre
    out = gi_star(table, permutations=999, seed=3, fdr=False)
    far = (table["dist"] >= 4).to_numpy()
    assert (out.loc[far, "p_sim"] == 1.0).all()
    assert (out.loc[far, "bin"] == 0).all()
    assert out.loc[table["dist"] == 0, "bin"].iloc[0] == 3

"""The CSP league table (hotspot.context.review) and its partner copy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from hotspot.context.review import (
    Comparison,
    LeagueTable,
    change_test,
    comparison,
    league_table,
    poisson_interval,
    reading,
    top_share,
)
from hotspot.errors import ParameterError
from hotspot.ingest.store import load_occurrences
from hotspot.settings import DEFAULT_STORE_DIR
from hotspot.view import View


@pytest.fixture(scope="module")
def occurrences():
    return load_occurrences(DEFAULT_STORE_DIR)


@pytest.fixture(scope="module")
def quarter(occurrences):
    return league_table(occurrences, View(month_from="2025-07", month_to="2025-09"))


# ------------------------------------------------------------------ statistics
@pytest.mark.parametrize(("count", "low", "high"), [
    (0, 0.0, 3.6889), (1, 0.0253, 5.5716), (2, 0.2422, 7.2247),
    (10, 4.7954, 18.3904)], ids=["0", "1", "2", "10"])
def test_garwood_interval_matches_the_table(count, low, high):
    # Garwood (1936) limits as tabulated (e.g. Ulm 1990, Table 1)
    got = poisson_interval(count)
    assert got == pytest.approx((low, high), abs=1e-4)


@pytest.mark.parametrize("count", [1, 2, 7, 30], ids=["1", "2", "7", "30"])
def test_garwood_interval_leaves_two_and_a_half_percent_each_side(count):
    low, high = poisson_interval(count)
    # at the low end, seeing `count` or more is just 2.5% likely; at the high end,
    # seeing `count` or fewer is
    assert poisson.sf(count - 1, low) == pytest.approx(0.025, abs=1e-9)
    assert poisson.cdf(count, high) == pytest.approx(0.025, abs=1e-9)


def test_interval_rejects_a_negative_or_fractional_count():
    with pytest.raises(ParameterError, match="count must be a whole number"):
        poisson_interval(-1)
    with pytest.raises(ParameterError, match="count must be a whole number"):
        poisson_interval(2.5)


def test_change_test_is_the_exact_binomial_by_hand():
    # 30 now, 15 before: P(X >= 30 | n = 45, 1/2), doubled (symmetric)
    tail = sum(math.comb(45, k) for k in range(30, 46)) / 2 ** 45
    assert change_test(30, 15) == pytest.approx(2 * tail, rel=1e-9)
    assert change_test(30, 15) < 0.05
    assert change_test(10, 10) == pytest.approx(1.0)
    assert math.isnan(change_test(0, 0))


def test_reading_never_calls_chance_a_change():
    assert reading(30, 15, change_test(30, 15)).startswith("up +100%, more than")
    assert reading(12, 9, change_test(12, 9)).startswith("no clear change +33%")
    assert reading(5, 20, change_test(5, 20)).startswith("down -75%")


def test_top_share_of_cells_by_hand():
    counts = pd.Series([10, 5, 1, 1, 1] + [0] * 15)  # 20 cells: the top 5% is 1 cell
    assert top_share(counts) == pytest.approx(10 / 18)
    assert math.isnan(top_share(pd.Series([0, 0])))


def test_comparison_names_months_without_data_and_keeps_common_sources():
    both, records = frozenset({"police_uk", "records"}), frozenset({"records"})
    available = {"2025-04": both, "2025-05": both, "2025-06": both,
                 "2025-07": both, "2025-08": records, "2025-09": both}
    previous = comparison("previous", "2025-07", "2025-09", by=3, available=available)
    assert (previous.start, previous.end) == ("2025-04", "2025-06")
    assert previous.sources == ("records",) and previous.covered
    year = comparison("year", "2025-07", "2025-09", by=12, available=available)
    assert year.missing == ("2024-07", "2024-08", "2024-09")
    assert not year.covered
    assert "not covered, no data for 2024-07" in year.describe()
    assert Comparison("year", "a", "b", sources=()).describe().endswith(
        "no source covers every month of both periods.")


# --------------------------------------------------------------- the real table
def test_rates_and_intervals_of_the_embedded_store(quarter):
    t = quarter.table.set_index("csp_code")
    assert quarter.start == "2025-07" and quarter.end == "2025-09"
    assert len(t) == 15  # 14 CSPs and HIPS
    row = t.loc["E06000045"]  # Southampton
    assert row["rate_per_1000"] == pytest.approx(
        1000 * row["occurrences"] / row["residents"])
    low, high = poisson_interval(int(row["occurrences"]))
    assert row["rate_low"] == pytest.approx(1000 * low / row["residents"])
    assert row["rate_high"] == pytest.approx(1000 * high / row["residents"])
    assert row["rate_low"] < row["rate_per_1000"] < row["rate_high"]


def test_hips_row_is_over_all_of_hips_not_one_csp(occurrences, quarter):
    t = quarter.table.set_index("csp_code")
    csps, hips = t.drop(index="HIPS"), t.loc["HIPS"]
    assert hips["occurrences"] == csps["occurrences"].sum()
    assert hips["residents"] == csps["residents"].sum()
    assert hips["rate_per_1000"] == pytest.approx(
        1000 * csps["occurrences"].sum() / csps["residents"].sum())
    assert not np.isclose(csps["rate_per_1000"], hips["rate_per_1000"]).any()
    assert hips["cells"] == pytest.approx(csps["cells"].sum(), rel=0.01)
    # one CSP asked for: its row and the HIPS row are unchanged
    one = league_table(occurrences, View(month_from="2025-07", month_to="2025-09"),
                       csps=("E07000091",)).table.set_index("csp_code")
    assert list(one.index) == ["E07000091", "HIPS"]
    assert one.loc["HIPS", "occurrences"] == hips["occurrences"]
    assert one.loc["E07000091", "occurrences"] == t.loc["E07000091", "occurrences"]


def test_changes_are_compared_on_common_sources(quarter):
    # police.uk has no usable 2025-08: the quarter is compared on the records only
    previous = quarter.comparisons["previous"]
    assert previous.sources == ("records",)
    t = quarter.table.set_index("csp_code")
    assert t["previous_now"].drop(index="HIPS").sum() == t.loc["HIPS", "previous_now"]
    assert (t["previous_now"] <= t["occurrences"]).all()
    row = t.loc["E06000044"]
    assert row["previous_p"] == pytest.approx(
        change_test(int(row["previous_now"]), int(row["previous_then"])))
    # a year earlier (2024-07 to 2024-09) has no data at all: said, not computed
    assert not quarter.comparisons["year"].covered
    assert t["year_p"].isna().all()
    assert t["year_reading"].str.startswith("not covered").all()
    assert any("2024-07, 2024-08, 2024-09" in n for n in quarter.notes)


def test_shares_are_shares_and_synthetic_is_said(quarter):
    t = quarter.table
    for col in ("top5_share", "imd_1_2_share", "night_share"):
        assert t[col].between(0, 1).all(), col
    assert quarter.synthetic
    assert quarter.notes[0].startswith("SYNTHETIC")


def test_sparse_csps_are_marked(occurrences):
    small = league_table(occurrences, View(month_from="2025-07", month_to="2025-09",
                                           categories=("robbery",)))
    t = small.table.set_index("csp_code")
    assert (t["sparse"] == (t["occurrences"] < 20)).all()
    assert t["sparse"].drop(index="HIPS").any()
    assert not t.loc["HIPS", "sparse"]
    names = t.loc[t["sparse"] & (t.index != "HIPS"), "csp_name"]
    assert any(all(n in note for n in names) for note in small.notes)


def test_ons_grouping_gives_twelve_csps(occurrences, quarter):
    ons = league_table(occurrences, View(month_from="2025-07", month_to="2025-09",
                                         grouping="ons2024")).table
    assert len(ons) == 13
    north = ons.set_index("csp_name").loc["North Hampshire"]
    districts = quarter.table.set_index("csp_name")
    assert north["occurrences"] == districts.loc[
        ["Basingstoke and Deane", "Hart", "Rushmoor"], "occurrences"].sum()
    assert ons["occurrences"].iloc[-1] == quarter.table["occurrences"].iloc[-1]


def test_period_must_be_whole_months(occurrences):
    with pytest.raises(ParameterError, match="whole months"):
        league_table(occurrences, View(month_from="2025-07-03"))


# ------------------------------------------------------------ disclosure control
def _crafted() -> LeagueTable:
    """Two CSPs: A with 3 occurrences (small), B with 47; HIPS 50."""
    table = pd.DataFrame({
        "csp_code": ["A", "B", "HIPS"], "csp_name": ["A", "B", "HIPS"],
        "occurrences": [3, 47, 50], "residents": [10_000, 40_000, 50_000],
        "sparse": [True, False, False],
        "previous_now": [3, 40, 43], "previous_then": [6, 20, 26],
        "previous_p": [0.5, change_test(40, 20), change_test(43, 26)],
        "previous_reading": ["x", "y", "z"],
        "year_now": [np.nan] * 3, "year_then": [np.nan] * 3,
        "year_p": [np.nan] * 3,
        "year_reading": ["not covered (2024-07 to 2024-09)"] * 3,
        # B: 2 of its 47 in the top cells (a small part): withheld; 0.5 shown as 50%
        "top5_share": [1.0, 2 / 47, 0.1], "imd_1_2_share": [0.0, 0.5, 0.47],
        "residents_imd_1_2_share": [0.1, 0.2, 0.18],
        "timed": [3, 30, 33], "night_share": [1 / 3, 0.4, 0.39],
        "fires": [0, 12, 12], "fire_index": [0.0, 1.2, 1.0],
        "share_hot_both": [0.0, 0.3, 0.28],
    })
    for col in ("rate_per_1000", "rate_low", "rate_high"):
        table[col] = 1.0
    return LeagueTable(table=table, start="2025-07", end="2025-09", comparisons={},
                       synthetic=True)


def test_partner_table_suppresses_small_counts_and_what_they_imply():
    from hotspot.export.checks import check_frame
    from hotspot.export.review_pack import partner_table

    out = partner_table(_crafted()).set_index("csp_code")
    a, b = out.loc["A"], out.loc["B"]
    # A's 3 occurrences are suppressed and so is every value derived from them
    assert pd.isna(a["occurrences"]) and pd.isna(a["rate_per_1000"])
    assert pd.isna(a["rate_low"]) and a["share_in_imd_deciles_1_2"] == ""
    assert a["previous_reading"] == ""
    # B: rounded to 5, rate from the published count, interval from it too
    assert b["occurrences"] == 45
    assert b["rate_per_1000"] == pytest.approx(round(1000 * 45 / 40_000, 2))
    assert b["rate_low"] == pytest.approx(round(1000 * poisson_interval(45)[0]
                                                / 40_000, 2))
    assert b["share_in_top_5pct_cells"] == ""  # 2 occurrences: a small part
    assert b["share_in_imd_deciles_1_2"] == "50%"
    # the verdict of the true test, never its p or the true counts
    assert b["previous_reading"] == "up, more than chance (p < 0.05)"
    assert "previous_p" not in out.columns and "year_now" not in out.columns
    assert out.loc["HIPS", "occurrences"] == 50
    assert check_frame(out.reset_index(), declared_counts=(
        "occurrences", "previous_now", "previous_then", "timed", "fires")) == []


def test_partner_csv_of_the_embedded_store_passes_the_checker(quarter, tmp_path):
    from hotspot.export.checker import check_file
    from hotspot.export.review_pack import write_partner_csv

    written = write_partner_csv(quarter, tmp_path)
    csv = next(p for p in written if p.suffix == ".csv")
    assert check_file(csv) == []
    table = pd.read_csv(csv)
    assert (table["occurrences"].dropna() % 5 == 0).all()
    assert "previous_p" not in table.columns


def test_review_command_writes_table_chart_and_readme(tmp_path):
    from hotspot.cli.main import main

    out = tmp_path / "review"
    assert main(["-q", "review", str(DEFAULT_STORE_DIR), "--out", str(out),
                 "--from", "2025-01", "--to", "2025-04", "--csp", "Havant",
                 "--fire", "none"]) == 0
    table = pd.read_csv(out / "league_table.csv")
    assert list(table["csp_name"]) == ["Havant", "HIPS"]
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert readme.startswith("SYNTHETIC")
    assert "compared on police.uk only" in readme  # a year earlier: 2024-01 to -04
    assert "not covered, no data for 2024-09" in readme  # the previous 4 months
    assert (out / "rates.png").stat().st_size > 10_000


@pytest.mark.slow
def test_pack_holds_a_checked_briefing_per_csp(quarter, occurrences, tmp_path):
    import io
    import zipfile

    from hotspot.export.review_pack import write_pack

    data = write_pack(quarter, occurrences, store=DEFAULT_STORE_DIR,
                      log_dir=tmp_path)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sum(n.startswith("briefings/") and n.endswith(".pdf") for n in names) == 14
    assert {"league_table.csv", "README.txt"} <= set(names)


def test_counts_are_the_maps_counts(occurrences, quarter):
    from hotspot.analysis import analyse

    one = analyse(occurrences, View(csp="E06000045", month_from="2025-07",
                                    month_to="2025-09"))
    t = quarter.table.set_index("csp_code")
    assert t.loc["E06000045", "occurrences"] == len(one.rows)

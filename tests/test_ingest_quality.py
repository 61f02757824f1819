"""Batch data-quality checks: duplicate ids, implausible months, piled points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspot.definitions import classify
from hotspot.ingest import quality
from hotspot.ingest.police_uk import read_police_uk


def _months(counts: dict[str, dict[str, int]]) -> pd.DataFrame:
    rows = []
    for month, mix in counts.items():
        for crime_type, n in mix.items():
            rows += [(month, crime_type)] * n
    frame = pd.DataFrame(rows, columns=["month", "crime_type"])
    return pd.DataFrame(
        {
            "source": "police_uk",
            "occurrence_id": [f"id{i}" for i in range(len(frame))],
            "occurred_from": pd.to_datetime(frame["month"] + "-01"),
            "crime_type": frame["crime_type"],
            "offence_code": pd.NA,
        }
    )


def test_baselines_by_hand() -> None:
    frame = _months({f"2025-0{i}": {"A": 10 * i} for i in range(1, 6)})
    base = quality.baselines(quality.month_mix(frame))["A"]
    # March: median of the 4 nearest (Feb 20, Apr 40, Jan 10, May 50) = 30
    assert base["2025-03"] == pytest.approx(30.0)
    # January: Feb, Mar, Apr, May -> median(20, 30, 40, 50) = 35
    assert base["2025-01"] == pytest.approx(35.0)


def test_month_score_by_hand() -> None:
    normal = {"A": 100, "B": 100}
    frame = _months(
        {"2025-01": normal, "2025-02": normal, "2025-03": normal,
         "2025-04": normal, "2025-05": {"A": 300, "B": 100}}
    )
    scores = quality.score_months(quality.month_mix(frame))
    # A in May: 300 against 100, z = 200 / sqrt(100 (1 + pi/8) + 25^2) = 7.2;
    # off 200 of an expected 200 rows
    assert scores.loc["2025-05", "off_share"] == pytest.approx(1.0)
    assert scores.loc["2025-05", "expected"] == pytest.approx(200.0)
    assert "A 300 against about 100" in scores.loc["2025-05", "worst"]
    assert scores["implausible"].tolist() == [False, False, False, False, True]
    # the same change in a tiny store is noise: 3 against 1 is not flagged
    small = _months(
        {"2025-01": {"A": 1}, "2025-02": {"A": 1}, "2025-03": {"A": 1},
         "2025-04": {"A": 1}, "2025-05": {"A": 3}}
    )
    assert not quality.score_months(quality.month_mix(small))["implausible"].any()


def test_rising_series_and_step_change_are_not_flagged() -> None:
    months = [str(p) for p in pd.period_range("2024-10", periods=12, freq="M")]
    rising = _months(
        {m: {"A": round(50 * 1.2**i), "B": 200} for i, m in enumerate(months)}
    )
    flagged, findings = quality.check_months(rising)
    assert not flagged.any() and findings == []
    # the robbery share rising 0.31 -> 0.52 (a step up in May), weapons flat
    step = _months(
        {m: {"A": 65 if i < 7 else 140, "B": 150} for i, m in enumerate(months)}
    )
    assert not quality.check_months(step)[0].any()


def test_missing_months_reported_not_flagged() -> None:
    months = [*pd.period_range("2024-01", "2024-04", freq="M").astype(str),
              *pd.period_range("2025-01", "2025-09", freq="M").astype(str)]
    frame = _months({m: {"A": 40, "B": 40} for m in months})
    flagged, findings = quality.check_months(frame)
    assert not flagged.any()
    (gap,) = [f for f in findings if f.check == "missing_months"]
    assert gap.rows_flagged == 0
    assert "8 months" in gap.detail and "2024-05..2024-12" in gap.detail
    assert quality.missing_months(pd.Series(["2025-01", "2025-03"])) == ["2025-02"]


def test_volume_spike_is_implausible() -> None:
    frame = _months(
        {
            "2025-01": {"A": 40},
            "2025-02": {"A": 42},
            "2025-03": {"A": 38},
            "2025-04": {"A": 100},
        }
    )
    flagged, findings = quality.check_months(frame)
    assert flagged.sum() == 100
    assert findings[0].check == "implausible_month" and "2025-04" in findings[0].detail


def test_duplicates_flag_later_copies_only() -> None:
    frame = pd.DataFrame(
        {"source": ["r", "r", "r", "p"], "occurrence_id": ["a", "b", "a", "a"]}
    )
    dup, findings = quality.check_duplicates(frame)
    assert dup.tolist() == [False, False, True, False]
    assert findings[0].rows_flagged == 1


def test_piles_only_count_precise_points() -> None:
    n = 200
    frame = pd.DataFrame(
        {
            "source": "records",
            "geocode_method": ["bng"] * 30 + ["place"] * 60 + ["bng"] * (n - 90),
        }
    )
    x = pd.Series(
        np.r_[np.full(30, 441000.0), np.full(60, 450000.0), np.arange(n - 90) * 100.0]
    )
    y = pd.Series(np.full(n, 100000.0))
    flagged, findings = quality.check_piles(frame, x, y)
    assert flagged.sum() == 30  # the 60 place centroids are expected to coincide
    assert "(441000, 100000) x30" in findings[0].detail


def test_add_flag_joins_names() -> None:
    flags = pd.Series([pd.NA, "a", pd.NA], dtype="string")
    out = quality.add_flag(flags, pd.Series([True, True, False]), "b")
    assert out.tolist() == ["b", "a;b", pd.NA]


@pytest.fixture(scope="module")
def real_months() -> pd.DataFrame:
    """All 13 real police.uk months (2024-01..04, 2025-01..09) with their CSP."""
    from hotspot.settings import SHARED_DATA_DIR

    if not (SHARED_DATA_DIR / "police_uk_2024").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA_DIR}")
    frame = pd.concat(
        [read_police_uk(SHARED_DATA_DIR / name).accepted
         for name in ("police_uk_2024", "police_uk")],
        ignore_index=True,
    )
    lookup = pd.read_csv(
        SHARED_DATA_DIR / "boundaries" / "lookup_lsoa21_ward24_lad24_hips.csv"
    )
    lad = dict(zip(lookup["lsoa21_code"], lookup["ltla24_name"], strict=True))
    frame["lad"] = frame["recorded_lsoa_code"].map(lad)
    return frame


def _flagged_months(frame: pd.DataFrame) -> list[str]:
    flagged, _ = quality.check_months(frame)
    months = frame.loc[flagged, "occurred_from"].dt.strftime("%Y-%m").unique()
    return sorted(months.tolist())


def test_real_august_2025_is_flagged_and_only_it(real_months: pd.DataFrame) -> None:
    flagged, findings = quality.check_months(real_months)
    months = real_months.loc[flagged, "occurred_from"].dt.strftime("%Y-%m").unique()
    assert months.tolist() == ["2025-08"]
    assert [f.check for f in findings] == ["missing_months", "implausible_month"]
    assert "2024-05..2024-12" in findings[0].detail
    assert "Violence and sexual offences" in findings[1].detail


def test_real_subsets_raise_no_false_alarm(real_months: pd.DataFrame) -> None:
    real = real_months[real_months["occurred_from"].dt.strftime("%Y-%m") != "2025-08"]
    weapons_robbery = real["crime_type"].isin(["Robbery", "Possession of weapons"])
    assert _flagged_months(real[weapons_robbery]) == []
    sv = classify(real[["crime_type"]])["is_serious_violence"].to_numpy(dtype=bool)
    assert _flagged_months(real[sv]) == []
    assert _flagged_months(real[real["crime_type"] == "Robbery"]) == []
    four = ["Violence and sexual offences", "Public order", "Robbery",
            "Possession of weapons"]
    assert _flagged_months(real[real["crime_type"].isin(four)]) == []
    lads = sorted(real["lad"].dropna().unique())
    assert len(lads) == 14
    for lad in lads:
        one = real[real["lad"] == lad]
        assert _flagged_months(one) == [], lad
        both = one["crime_type"].isin(["Robbery", "Possession of weapons"])
        assert _flagged_months(one[both]) == [], lad


def test_real_august_still_flagged_in_a_weapons_and_robbery_store(
    real_months: pd.DataFrame,
) -> None:
    subset = real_months["crime_type"].isin(["Robbery", "Possession of weapons"])
    assert _flagged_months(real_months[subset]) == ["2025-08"]


def test_flagged_rows_by_hand() -> None:
    frame = pd.DataFrame({"quality_flags": pd.Series(
        ["duplicate_id", None, "", "  ", "implausible_month;pile"], dtype="string",
        index=[10, 11, 12, 13, 14])})
    assert quality.flagged(frame).tolist() == [True, False, False, False, True]
    assert quality.flagged(frame).index.tolist() == [10, 11, 12, 13, 14]
    # no flag column: nothing is flagged
    assert not quality.flagged(pd.DataFrame({"x": [1, 2]})).any()

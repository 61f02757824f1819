"""Batch data-quality checks: duplicate ids, implausible months, piled points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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


def test_month_mix_distance_by_hand() -> None:
    normal = {"A": 50, "B": 50}
    frame = _months(
        {
            "2025-01": normal,
            "2025-02": normal,
            "2025-03": normal,
            "2025-04": {"A": 90, "B": 10},
        }
    )
    scores = quality.score_months(quality.month_mix(frame))
    # shares (0.9, 0.1) against (0.5, 0.5): TVD = 0.5 * (0.4 + 0.4) = 0.4
    assert scores.loc["2025-04", "mix_tvd"] == pytest.approx(0.4)
    assert scores.loc["2025-01", "mix_tvd"] == pytest.approx(0.0)
    assert scores["implausible"].tolist() == [False, False, False, True]


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


def test_real_august_2025_is_flagged_and_only_it(shared_data: Path) -> None:
    frame = read_police_uk(shared_data / "police_uk").accepted
    flagged, findings = quality.check_months(frame)
    months = frame.loc[flagged, "occurred_from"].dt.strftime("%Y-%m").unique()
    assert months.tolist() == ["2025-08"]
    assert len(findings) == 1


def test_flagged_rows_by_hand() -> None:
    frame = pd.DataFrame({"quality_flags": pd.Series(
        ["duplicate_id", None, "", "  ", "implausible_month;pile"], dtype="string",
        index=[10, 11, 12, 13, 14])})
    assert quality.flagged(frame).tolist() == [True, False, False, False, True]
    assert quality.flagged(frame).index.tolist() == [10, 11, 12, 13, 14]
    # no flag column: nothing is flagged
    assert not quality.flagged(pd.DataFrame({"x": [1, 2]})).any()

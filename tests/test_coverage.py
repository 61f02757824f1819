"""Tests for coverage: each source's real months, flagged months, month status."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hotspot.coverage import coverage_text, month_spans, month_status, source_coverage
from hotspot.errors import ParameterError


def _months(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def _store() -> pd.DataFrame:
    """The embedded store's shape, two rows a month.

    police.uk Jan–Apr 2024 and Jan–Sep 2025, every August 2025 row flagged
    implausible; records Oct 2024–Sep 2025, synthetic.
    """
    rows = []
    for m in _months("2024-01", "2024-04") + _months("2025-01", "2025-09"):
        flag = "implausible_month" if m == "2025-08" else ""
        rows += [{"source": "police_uk", "occurred_from": pd.Timestamp(m),
                  "quality_flags": flag, "is_synthetic": False}] * 2
    for m in _months("2024-10", "2025-09"):
        rows += [{"source": "records", "occurred_from": pd.Timestamp(f"{m}-15 20:00"),
                  "quality_flags": "", "is_synthetic": True}] * 2
    return pd.DataFrame(rows)


def test_spans_by_hand() -> None:
    assert month_spans(["2025-03", "2025-01", "2025-02", "2024-04"]) == \
        "Apr 2024, Jan–Mar 2025"
    assert month_spans(_months("2024-10", "2025-09")) == "Oct 2024–Sep 2025"
    assert month_spans(["2025-08"]) == "Aug 2025"


def test_caption_gives_each_source_its_real_coverage() -> None:
    assert coverage_text(_store(), month_from="2025-01", month_to="2025-09") == (
        "police.uk Jan–Sep 2025, August 2025 left out as implausible; records "
        "Jan–Sep 2025 SYNTHETIC")
    assert coverage_text(_store(), month_from="2024-10", month_to="2025-09") == (
        "police.uk Jan–Sep 2025, August 2025 left out as implausible; records "
        "Oct 2024–Sep 2025 SYNTHETIC")
    assert coverage_text(_store()) == (
        "police.uk Jan–Apr 2024, Jan–Sep 2025, August 2025 left out as "
        "implausible; records Oct 2024–Sep 2025 SYNTHETIC")


def test_caption_of_one_source_and_notes() -> None:
    police = _store().query("source == 'police_uk'")
    assert coverage_text(police, month_from="2024-02", month_to="2024-03",
                         notes=["12 rows had no flag recorded"]) == (
        "police.uk Feb–Mar 2024. 12 rows had no flag recorded.")
    assert coverage_text(police, month_from="2024-06", month_to="2024-09") == \
        "no data in this period"
    (cov,) = source_coverage(police, month_to="2024-12")
    assert cov.months == tuple(_months("2024-01", "2024-04")) and not cov.synthetic


def test_month_status_marks_gaps_flags_and_one_source() -> None:
    status = month_status(_store(), _months("2024-03", "2025-09")).set_index("month")
    assert status.loc["2024-03", "status"] == "one source"
    assert status.loc["2024-03", "sources"] == "police.uk"
    for m in _months("2024-05", "2024-09"):
        assert status.loc[m, "status"] == "missing"
    assert status.loc["2024-11", "sources"] == "records"
    assert status.loc["2025-02", "status"] == "all sources"
    assert status.loc["2025-08", "status"] == "one source"
    assert status.loc["2025-08", "flagged_sources"] == "police.uk"


def test_a_month_with_only_flagged_rows_is_flagged_not_zero() -> None:
    police = _store().query("source == 'police_uk'")
    status = month_status(police, ["2025-07", "2025-08"]).set_index("month")
    assert status.loc["2025-08", "status"] == "flagged"


def test_chart_frame_draws_missing_months_as_missing_not_zero() -> None:
    from hotspot.app.periods import gaps_caption, monthly_chart, monthly_frame
    from hotspot.context.temporal import monthly_trend

    store = _store()
    months = _months("2024-01", "2025-09")
    shown = store[~store["quality_flags"].str.contains("implausible")]
    trend = monthly_trend(shown.assign(date_precision="month"), months=months)
    assert trend.set_index("month").loc["2024-06", "occurrences"] == 0
    frame = monthly_frame(trend, month_status(store, months)).set_index("month")
    for m in _months("2024-05", "2024-09"):
        assert math.isnan(frame.loc[m, "occurrences"]), m
    assert frame.loc["2025-08", "occurrences"] == 2  # records only
    assert frame.loc["2025-08", "status"] == "one source"
    assert frame.loc["2025-02", "occurrences"] == 4
    caption = gaps_caption(frame.reset_index())
    assert "No data (not zero): May–Sep 2024." in caption
    assert "police.uk Jan–Apr 2024" in caption and "records Oct–Dec 2024" in caption
    assert "Left out as implausible: police.uk Aug 2025." in caption
    spec = monthly_chart(frame.reset_index()).to_dict()
    assert len(spec["layer"]) == 3


def test_rows_without_the_columns_are_refused() -> None:
    with pytest.raises(ParameterError, match="source and occurred_from"):
        coverage_text(pd.DataFrame({"month": ["2025-01"]}))


def test_printed_monthly_chart_marks_missing_months() -> None:
    from hotspot.context.temporal import monthly_trend
    from hotspot.render.charts import plot_monthly

    store = _store()
    shown = store[~store["quality_flags"].str.contains("implausible")]
    months = _months("2024-01", "2025-09")
    trend = monthly_trend(shown.assign(date_precision="month"), months=months,
                          by="source")
    status = month_status(shown, months)
    trend = trend.merge(status[["month", "status", "sources"]], on="month")
    ax = plot_monthly(trend, title="t").axes[0]
    marked = [t for t in ax.texts if t.get_text() == "no data"]
    # May–Sep 2024, and August 2025 of police.uk left out (records remain: 1 source)
    assert len(marked) == 5
    assert sorted(round(t.get_position()[0]) for t in marked) == [4, 5, 6, 7, 8]

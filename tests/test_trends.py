"""Tests for trends: named patterned cells, a sentence per CSP, month coverage."""

from __future__ import annotations

import pandas as pd
import pytest

from hotspot.detect.trends import (
    DEFINITIONS,
    KINDS,
    coverage_notes,
    month_coverage,
    short_kind,
    summarise_trends,
    trend_cells,
    trend_sentence,
)
from hotspot.errors import ParameterError


def _cells():
    """Portsmouth: 3 intensifying in three wards, busiest on Commercial Road;
    2 diminishing, both in Fratton; one new cold spot. Gosport: nothing."""
    rows = [
        ("a", "Portsmouth", "intensifying hot spot", 12, "Commercial Road / Car park",
         "Car park", "Charles Dickens"),
        ("b", "Portsmouth", "intensifying hot spot", 5, "Arundel Street",
         "", "St Thomas"),
        ("c", "Portsmouth", "intensifying hot spot", 3, "Car park / near Lake Road",
         "Car park", "Fratton"),
        ("d", "Portsmouth", "diminishing hot spot", 9, "Fratton Road", "",
         "Fratton"),
        ("e", "Portsmouth", "diminishing hot spot", 4, "Goldsmith Avenue", "",
         "Fratton"),
        ("f", "Portsmouth", "new cold spot", 0, "Car park / near Eastern Road",
         "Car park", "Milton"),
        ("g", "Portsmouth", "no pattern", 1, "", "", ""),
        ("h", "Gosport", "no pattern", 2, "", "", ""),
    ]
    frame = pd.DataFrame(rows, columns=["h3", "csp_name", "category", "count",
                                        "streets", "landmarks", "ward"])
    cells = frame[["h3", "csp_name", "category", "count"]]
    patterned = frame[frame["category"] != "no pattern"]
    places = patterned[["streets", "landmarks", "ward"]].assign(
        place=patterned["streets"] + ", " + patterned["ward"] + " ward")
    return cells, places.reset_index(drop=True)


def test_sentence_worst_news_first_with_places():
    cells, places = _cells()
    named = trend_cells(cells, places)
    assert named["h3"].tolist() == ["a", "b", "c", "d", "e", "f"]
    assert trend_sentence(named, csp_name="Portsmouth") == (
        "Portsmouth: 3 intensifying hot spots (the busiest around Commercial Road); "
        "2 diminishing in Fratton; 1 new cold spot around Eastern Road.")
    assert trend_sentence(named, csp_name="Gosport") == (
        "Gosport: no emerging pattern (no cell was hot or cold often enough to "
        "show one).")


def test_one_cell_is_around_its_street_not_a_landmark():
    cells, places = _cells()
    one = cells[cells["h3"].isin(["c", "g"])]
    named = trend_cells(one, places.iloc[[2]])
    assert trend_sentence(named, csp_name="Portsmouth") == (
        "Portsmouth: 1 intensifying hot spot around Lake Road.")


def test_places_must_match_the_patterned_cells():
    cells, places = _cells()
    with pytest.raises(ParameterError, match="one row per patterned cell"):
        trend_cells(cells, places.iloc[:2])
    with pytest.raises(ParameterError, match="category must be like"):
        short_kind("hot")


def test_month_coverage_names_missing_and_single_source_months():
    """police.uk Jan-Feb and Apr; records Feb-Apr; nothing in May."""
    rows = pd.DataFrame({
        "occurred_from": pd.to_datetime(["2025-01-05", "2025-02-03", "2025-02-09",
                                         "2025-03-01", "2025-04-02", "2025-04-20"]),
        "source": ["police_uk", "police_uk", "records", "records", "records",
                   "police_uk"]})
    cov = month_coverage(rows, ["2025-01", "2025-02", "2025-03", "2025-04",
                                "2025-05"])
    assert cov["status"].tolist() == ["one source only", "all sources",
                                      "one source only", "all sources", "missing"]
    assert cov["rows"].tolist() == [1, 2, 1, 2, 0]
    notes = coverage_notes(cov)
    assert notes[0] == ("Months with no data, left out of the trend (not counted "
                        "as zero): 2025-05.")
    assert notes[1] == "Months covered by police.uk only: 2025-01."
    assert notes[2] == "Months covered by the records extract only: 2025-03."
    assert notes[3].startswith("A cell that turns hot when a source begins")


def test_summary_and_definitions():
    cells, places = _cells()
    rows = pd.DataFrame({"occurred_from": pd.to_datetime(["2025-01-05"]),
                         "source": ["records"]})
    out = summarise_trends(cells, rows, months=["2025-01"], places=places)
    assert set(out.sentences) == {"Gosport", "Portsmouth"}
    counts = out.counts.set_index(["csp_name", "category"])["cells"]
    assert counts[("Portsmouth", "intensifying hot spot")] == 3
    assert out.notes == []  # one source in the table: nothing to name
    assert set(KINDS) <= set(DEFINITIONS)


def test_emerging_layer_draws_patterned_cells_in_their_colours():
    import h3

    from hotspot import layers

    cells = pd.DataFrame({
        "h3": [h3.latlng_to_cell(50.8, -1.09 + 0.01 * i, 9) for i in range(3)],
        "category": ["intensifying hot spot", "no pattern", "new cold spot"],
        "place": ["Commercial Road", "x", "Eastern Road"],
        "explanation": ["hot in 20 of 21 months", "", "cold last month"]})
    layer = layers.emerging_layer(cells)
    data = pd.DataFrame(layer.data)
    assert data["h3"].tolist() == [cells["h3"][0], cells["h3"][2]]
    assert [tuple(f[:3]) for f in data["fill"]] == [
        layers.EMERGING_COLOURS["intensifying hot spot"],
        layers.EMERGING_COLOURS["new cold spot"]]
    assert data["title"][0] == "Intensifying hot spot: Commercial Road"
    legend = layers.emerging_legend(["new cold spot", "intensifying hot spot"])
    assert [e.label for e in legend] == ["Intensifying hot spot", "New cold spot"]

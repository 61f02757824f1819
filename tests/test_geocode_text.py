"""Tests for free-text matching: hard place hints, no guessed streets, evaluation."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from hotspot.geocode import Gazetteer, geocode, load_gazetteer
from hotspot.geocode.precision import h3_edge_m, precise_enough, precision_summary
from hotspot.settings import SHARED_DATA_DIR
from tests.geocode_tiny import make_tiny

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "eval_geocode.py"
HELD_OUT = SHARED_DATA_DIR / "police_uk_2024"
needs_held_out = pytest.mark.skipif(
    not HELD_OUT.exists(), reason="shared 2024 police.uk data not available"
)


@pytest.fixture(scope="module")
def tiny() -> Gazetteer:
    return make_tiny()


def one(gaz: Gazetteer, text: str) -> pd.Series:
    return geocode(pd.DataFrame({"location_text": [text]}), gazetteer=gaz).iloc[0]


def test_street_in_the_named_town_is_a_street_point(tiny: Gazetteer) -> None:
    r = one(tiny, "High Street, Winchester")
    assert (r["x"], r["y"]) == (448000.0, 129500.0)
    assert r["geocode_precision"] == "street"
    assert r["geocode_lad_code"] == "E07000094"
    assert r["geocode_uncertainty_m"] == 100.0


def test_place_hint_is_a_hard_constraint(tiny: Gazetteer) -> None:
    # East Street exists only in Southampton: never moved there from Winchester
    r = one(tiny, "outside shop, East Street, Winchester")
    assert r["geocode_precision"] == "place"
    assert (r["x"], r["y"]) == (447800.0, 129700.0)
    assert r["geocode_lad_code"] == "E07000094"
    assert "no street 'east street' in winchester" in r["geocode_note"]
    assert "found at East Street (Southampton)" in r["geocode_note"]
    # the same with a street in another district altogether
    r = one(tiny, "Carrington Crescent, Winchester")
    assert r["geocode_precision"] == "place"
    assert "Carrington Crescent (Tadley)" in r["geocode_note"]


def test_coarse_matches_are_never_mapped(tiny: Gazetteer) -> None:
    texts = ["East Street, Winchester", "Newport", "Isle of Wight", "Above Bar St"]
    result = geocode(pd.DataFrame({"location_text": texts}), gazetteer=tiny)
    assert result["geocode_precision"].tolist() == ["place", "place", "area", "street"]
    assert result["geocode_lad_code"].tolist() == [
        "E07000094",
        "E06000046",
        "E06000046",
        "E06000045",
    ]
    used = precise_enough(result, cell_edge_m=h3_edge_m(9))
    assert used.tolist() == [False, False, False, True]
    # even a cell as big as a district does not map a district centroid
    assert not precise_enough(result, cell_edge_m=50_000.0).iloc[:3].any()
    summary = precision_summary(result, cell_edge_m=h3_edge_m(9))
    assert summary["precision"].tolist() == ["street", "place", "area"]
    assert summary["not_mapped"].tolist() == [0, 2, 1]


def test_ambiguous_street_without_a_place_is_rejected_naming_candidates(
    tiny: Gazetteer,
) -> None:
    r = one(tiny, "High Street")
    assert pd.isna(r["x"])
    assert "High Street (Southampton)" in r["reject_reason"]
    assert "High Street (Winchester)" in r["reject_reason"]


def test_a_street_too_long_to_place_within_750_m_is_not_placed(
    tiny: Gazetteer,
) -> None:
    streets = tiny.streets.copy()
    streets.loc[streets["street"] == "Long Lane", "extent_m"] = 2000.0
    longer = dataclasses.replace(tiny, streets=streets, _matcher=None)
    assert one(tiny, "Long Lane, Winchester")["geocode_precision"] == "street"
    r = one(longer, "Long Lane, Winchester")
    assert r["geocode_precision"] == "place"
    assert (
        "street too long to place: 'long lane' (Long Lane (Winchester)) has snap "
        "points 1,000 m from its middle, over 750 m"
    ) in r["geocode_note"]
    r = one(longer, "Long Lane")
    assert pd.isna(r["x"])
    assert r["reject_reason"].startswith("street too long to place: 'long lane'")


def test_premises_label_is_not_a_street(tiny: Gazetteer) -> None:
    r = one(tiny, "On or near Supermarket, Southampton")
    assert r["geocode_precision"] == "place"
    assert "'supermarket' is a police.uk premises-type label" in r["geocode_note"]


def test_similar_name_in_the_district_is_named_not_used(tiny: Gazetteer) -> None:
    r = one(tiny, "Above Barr Street, Southampton")
    assert r["geocode_precision"] == "place"
    assert "street 'above barr street' not in the gazetteer in southampton" in (
        r["geocode_note"]
    )
    assert "similar names not used: 'above bar street'" in r["geocode_note"]


# ------------------------------------------------------ held-out evaluation


def _eval_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("eval_geocode", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_held_out
def test_held_out_sample_meets_the_targets() -> None:
    ev = _eval_script()
    cases = ev.mark_seen(ev.read_held_out(SHARED_DATA_DIR), SHARED_DATA_DIR)
    sample = cases.sample(n=3000, random_state=15).reset_index(drop=True)
    scored = ev.score(sample, gazetteer=load_gazetteer())
    table = ev.table(scored).set_index("cases")
    rows = table.loc["street names, every row"]
    assert rows["n"] == int((~sample["premises"]).sum())
    assert rows[["right", "wrong", "area only", "rejected"]].sum() == rows["n"]
    assert rows["right %"] >= 75.0
    assert rows["wrong %"] <= 5.0
    distinct = table.loc["street names, distinct text and point"]
    assert distinct["right %"] >= 70.0
    assert distinct["wrong %"] <= 5.0
    # coarse rows keep the right district (the hint is a hard constraint)
    assert rows["area only: district right %"] == 100.0
    premises = table.loc["premises-type labels, every row"]
    assert premises["right"] == premises["wrong"] == 0
    # every row not placed says why
    unplaced = scored[scored["outcome"].isin(["area only", "rejected"])]
    why = unplaced["geocode_note"].fillna(unplaced["reject_reason"])
    assert why.notna().all() and why.str.len().gt(10).all()
    # and every wrong row claimed no more than a street's precision
    wrong = scored[scored["outcome"] == "wrong"]
    assert (wrong["geocode_precision"] == "street").all()


def test_the_street_after_filler_and_a_street_named_like_a_far_place(
    tiny: Gazetteer,
) -> None:
    streets = pd.concat(
        [
            tiny.streets,
            pd.DataFrame(
                {
                    "street_id": [6],
                    "street": ["The Brook"],
                    "street_norm": ["the brook"],
                    "lad_code": ["E07000094"],
                    "lad_name": ["Winchester"],
                    "town": ["Winchester"],
                    "town_dist_m": [500.0],
                    "x": [448300.0],
                    "y": [129900.0],
                    "n_points": [1],
                    "n_records": [1],
                    "extent_m": [0.0],
                }
            ),
        ],
        ignore_index=True,
    )
    points = pd.concat(
        [
            tiny.street_points,
            pd.DataFrame(
                {"street_id": [6], "x": [448300.0], "y": [129900.0], "n_records": [1]}
            ),
        ],
        ignore_index=True,
    )
    # a village called Brook in the New Forest
    places = pd.concat(
        [
            tiny.places,
            pd.DataFrame(
                {
                    "name": ["Brook"],
                    "kind": ["geonames"],
                    "outward": ["SO43"],
                    "county": ["Hampshire"],
                    "lad_code": ["E07000091"],
                    "x": [430000.0],
                    "y": [114000.0],
                    "uncertainty_m": [1500.0],
                    "name_norm": ["brook"],
                }
            ),
        ],
        ignore_index=True,
    )
    gaz = dataclasses.replace(
        tiny, streets=streets, street_points=points, places=places, _matcher=None
    )
    # "on or near the" takes the street's "The"; Brook (New Forest) and
    # Winchester share no district, so the last place is the hint
    r = one(gaz, "On or near The Brook, Winchester")
    assert (r["x"], r["y"]) == (448300.0, 129900.0)
    assert r["geocode_precision"] == "street"
    # Brook on its own is still the village
    r = one(gaz, "Brook")
    assert r["geocode_precision"] == "place"
    assert r["geocode_lad_code"] == "E07000091"


def test_a_place_alone_says_so(tiny: Gazetteer) -> None:
    r = one(tiny, "Newport")
    assert r["geocode_precision"] == "place"
    assert r["geocode_note"] == "only a place named: 'newport'"
    assert pd.isna(r["reject_reason"])

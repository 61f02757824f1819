"""A tiny hand-made gazetteer shared by the geocoding tests."""

from __future__ import annotations

import pandas as pd

from hotspot.geocode import Box, Gazetteer, normalise_text


def make_tiny() -> Gazetteer:
    """Four postcodes, six streets and five places, positions chosen by hand."""
    postcodes = pd.DataFrame(
        {
            "postcode": ["SO14 2AA", "SO14 2AB", "SO14 3XY", "PO30 1AA"],
            "easting": [442000.0, 442100.0, 442500.0, 449900.0],
            "northing": [111000.0, 111000.0, 112000.0, 89100.0],
            "quality": [10, 10, 50, 10],
            "lad_code": ["E06000045", "E06000045", "E06000045", "E06000046"],
        }
    )
    sectors = pd.DataFrame(
        {
            "sector": ["SO14 2", "SO14 3", "PO30 1"],
            "easting": [442050.0, 442500.0, 449900.0],
            "northing": [111000.0, 112000.0, 89100.0],
            "n_postcodes": [2, 1, 1],
            "spread_m": [50.0, 0.0, 0.0],
            "lad_code": ["E06000045", "E06000045", "E06000046"],
        }
    )
    districts = pd.DataFrame(
        {
            "outward": ["SO14", "PO30"],
            "easting": [442200.0, 449900.0],
            "northing": [111333.0, 89100.0],
            "n_postcodes": [3, 1],
            "spread_m": [650.0, 0.0],
            "lad_code": ["E06000045", "E06000046"],
        }
    )
    streets = pd.DataFrame(
        {
            "street_id": [0, 1, 2, 3, 4, 5],
            "street": [
                "High Street",
                "High Street",
                "East Street",
                "Above Bar Street",
                "Carrington Crescent",
                "Long Lane",
            ],
            "street_norm": [
                "high street",
                "high street",
                "east street",
                "above bar street",
                "carrington crescent",
                "long lane",
            ],
            "lad_code": [
                "E06000045",
                "E07000094",
                "E06000045",
                "E06000045",
                "E07000084",
                "E07000094",
            ],
            "lad_name": ["Southampton", "Winchester", "Southampton", "Southampton"]
            + ["Basingstoke and Deane", "Winchester"],
            "town": ["Southampton", "Winchester", "Southampton", "Southampton"]
            + ["Tadley", "Winchester"],
            "town_dist_m": [300.0, 100.0, 300.0, 400.0, 1300.0, 2000.0],
            "x": [442000.0, 448000.0, 442200.0, 441950.0, 459500.0, 450000.0],
            "y": [111400.0, 129500.0, 111550.0, 112200.0, 161900.0, 131000.0],
            "n_points": [2, 1, 1, 1, 1, 2],
            "n_records": [10, 5, 3, 7, 3, 2],
            "extent_m": [400.0, 0.0, 0.0, 0.0, 0.0, 1000.0],
        }
    )
    street_points = pd.DataFrame(
        {
            "street_id": [0, 0, 1, 2, 3, 4, 5, 5],
            "x": [442000.0, 442000.0, 448000.0, 442200.0, 441950.0, 459500.0]
            + [449500.0, 450500.0],
            "y": [111200.0, 111600.0, 129500.0, 111550.0, 112200.0, 161900.0]
            + [131000.0, 131000.0],
            "n_records": [5, 5, 5, 3, 7, 3, 1, 1],
        }
    )
    places = pd.DataFrame(
        {
            "name": ["Southampton", "Winchester", "Newport", "Newtown", "Newtown"]
            + ["Isle of Wight"],
            "kind": ["geonames"] * 5 + ["district"],
            "outward": ["SO15", "SO23", "PO30", "PO30", "SO43", None],
            "county": ["Hampshire"] * 2
            + ["Isle of Wight"] * 2
            + ["Hampshire"]
            + ["Isle of Wight"],
            "lad_code": ["E06000045", "E07000094", "E06000046", "E06000046"]
            + ["E07000091", "E06000046"],
            "x": [442000.0, 447800.0, 450000.0, 442000.0, 427000.0, 450000.0],
            "y": [111800.0, 129700.0, 89300.0, 91500.0, 108000.0, 86000.0],
            "uncertainty_m": [1500.0] * 5 + [9000.0],
        }
    )
    places["name_norm"] = places["name"].map(normalise_text)
    return Gazetteer(
        postcodes=postcodes,
        sectors=sectors,
        districts=districts,
        streets=streets,
        street_points=street_points,
        places=places,
        box=Box(xmin=395000.0, ymin=65000.0, xmax=499000.0, ymax=175000.0),
    )

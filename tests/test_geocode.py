"""Tests for hotspot.geocode: tiny hand-made gazetteer plus runs on the real one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from hotspot.errors import DataNotFoundError, ParameterError
from hotspot.geocode import (
    GEOCODE_COLUMNS,
    Gazetteer,
    geocode,
    load_gazetteer,
    normalise_postcode,
    normalise_text,
)
from hotspot.settings import SHARED_DATA_DIR
from tests.geocode_tiny import make_tiny

# independent of hotspot.crs: expectations are computed with pyproj directly
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
TO_WGS = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
POLICE_DIR = SHARED_DATA_DIR / "police_uk"
CODEPOINT = SHARED_DATA_DIR / "postcodes" / "codepoint_open_2025_4_hips.csv"
needs_real = pytest.mark.skipif(
    not CODEPOINT.exists(), reason="shared HIPS data not available"
)


# ------------------------------------------------------------------ helpers


def rows(**columns: list) -> pd.DataFrame:
    """A frame of location columns; unspecified ones are absent."""
    return pd.DataFrame(columns)


def assert_reconciles(result: pd.DataFrame, n: int) -> None:
    """Every row is either resolved or rejected with a reason, never both."""
    resolved = result["geocode_method"].notna()
    rejected = result["reject_reason"].notna()
    assert len(result) == n
    assert int(resolved.sum()) + int(rejected.sum()) == n
    assert not (resolved & rejected).any()
    assert result.loc[resolved, ["x", "y"]].notna().all().all()
    assert result.loc[rejected, ["x", "y"]].isna().all().all()
    assert result.loc[rejected, "reject_field"].notna().all()


def dist(result: pd.DataFrame, i: int, x: float, y: float) -> float:
    return float(np.hypot(result["x"].iloc[i] - x, result["y"].iloc[i] - y))


# ----------------------------------------------------------- tiny gazetteer


@pytest.fixture(scope="module")
def tiny() -> Gazetteer:
    """Four postcodes, six streets and five places, positions chosen by hand."""
    return make_tiny()


# ------------------------------------------------------------- normalising


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Above Bar St, Southampton", "above bar street, southampton"),
        ("St Mary's Rd", "st marys road"),
        ("ST GEORGE'S ST", "st georges street"),
        ("j/o High St & East St", "junction of high street and east street"),
        (
            "  o/s the Co-op ,, Carrington Cres ",
            "outside the co op, carrington crescent",
        ),
    ],
    ids=["abbrev-st", "saint-apostrophe", "saint-and-street", "junction", "messy"],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code", "kind"),
    [
        ("so142aa", "SO14 2AA", "unit"),
        ("SO14  2AA", "SO14 2AA", "unit"),
        (" so14 2aa ", "SO14 2AA", "unit"),
        ("SO14 2", "SO14 2", "sector"),
        ("so14", "SO14", "district"),
        ("SO14 2AAA", None, "malformed"),
        ("12345", None, "malformed"),
    ],
    ids=[
        "compact-lower",
        "double-space",
        "padded",
        "sector",
        "district",
        "long",
        "digits",
    ],
)
def test_normalise_postcode(raw: str, code: str | None, kind: str) -> None:
    out = normalise_postcode(pd.Series([raw, None]))
    assert out["kind"].iloc[0] == kind
    if code is None:
        assert pd.isna(out["postcode"].iloc[0])
    else:
        assert out["postcode"].iloc[0] == code
    assert pd.isna(out["kind"].iloc[1])


# ------------------------------------------------------------------- contract


def test_output_contract_keeps_index(tiny: Gazetteer) -> None:
    frame = rows(postcode=["SO14 2AA", "nonsense!"]).set_axis([10, 42])
    result = geocode(frame, gazetteer=tiny)
    assert list(result.columns) == list(GEOCODE_COLUMNS)
    assert {c: str(t) for c, t in result.dtypes.items()} == GEOCODE_COLUMNS
    assert list(result.index) == [10, 42]
    assert result.loc[10, "geocode_method"] == "postcode_unit"
    assert pd.isna(result.loc[10, "reject_reason"])
    assert result.loc[42, "reject_field"] == "postcode"


def test_input_is_not_changed(tiny: Gazetteer) -> None:
    frame = rows(easting=[442000.0], northing=[111000.0])
    before = frame.copy()
    geocode(frame, gazetteer=tiny)
    pd.testing.assert_frame_equal(frame, before)


def test_rejects_non_frame(tiny: Gazetteer) -> None:
    with pytest.raises(ParameterError, match="frame must be a pandas DataFrame"):
        geocode([1, 2], gazetteer=tiny)  # type: ignore[arg-type]


def test_missing_gazetteer_names_the_build_script(tmp_path) -> None:
    with pytest.raises(DataNotFoundError, match="build_gazetteer.py"):
        load_gazetteer(tmp_path)


# ---------------------------------------------------------------- coordinates


def test_bng_exact(tiny: Gazetteer) -> None:
    result = geocode(rows(easting=[442123.0], northing=[111456.0]), gazetteer=tiny)
    assert result["geocode_method"].iloc[0] == "bng"
    assert (result["x"].iloc[0], result["y"].iloc[0]) == (442123.0, 111456.0)
    assert result["geocode_uncertainty_m"].iloc[0] == 10.0


def test_bng_swapped(tiny: Gazetteer) -> None:
    result = geocode(rows(easting=[111456.0], northing=[442123.0]), gazetteer=tiny)
    assert result["geocode_method"].iloc[0] == "bng_swapped"
    assert (result["x"].iloc[0], result["y"].iloc[0]) == (442123.0, 111456.0)


def test_wgs84_within_1m_of_pyproj(tiny: Gazetteer) -> None:
    lon, lat = -1.404647, 50.907689
    ex, ey = TO_BNG.transform(lon, lat)
    result = geocode(rows(latitude=[lat], longitude=[lon]), gazetteer=tiny)
    assert result["geocode_method"].iloc[0] == "wgs84"
    assert dist(result, 0, ex, ey) < 1.0


def test_wgs84_uses_given_uncertainty(tiny: Gazetteer) -> None:
    frame = rows(latitude=[50.9, 50.9], longitude=[-1.4, -1.4])
    frame["geocode_uncertainty_m"] = [250.0, np.nan]
    result = geocode(frame, gazetteer=tiny)
    assert result["geocode_uncertainty_m"].tolist() == [250.0, 10.0]


def test_swapped_lat_lon(tiny: Gazetteer) -> None:
    lon, lat = -1.146700, 51.353076
    ex, ey = TO_BNG.transform(lon, lat)
    result = geocode(rows(latitude=[lon], longitude=[lat]), gazetteer=tiny)
    assert result["geocode_method"].iloc[0] == "wgs84_swapped"
    assert dist(result, 0, ex, ey) < 1.0


@pytest.mark.parametrize(
    ("e", "n"),
    [(-1.29, 50.70), (50.70, -1.29)],
    ids=["lon-lat", "lat-lon"],
)
def test_wgs84_in_bng_fields(tiny: Gazetteer, e: float, n: float) -> None:
    ex, ey = TO_BNG.transform(-1.29, 50.70)
    result = geocode(rows(easting=[e], northing=[n]), gazetteer=tiny)
    assert result["geocode_method"].iloc[0] == "wgs84_in_bng_fields"
    assert dist(result, 0, ex, ey) < 1.0


@pytest.mark.parametrize(
    ("columns", "field", "reason"),
    [
        ({"easting": [0.0], "northing": [0.0]}, "easting/northing", "Null Island"),
        ({"latitude": [0.0], "longitude": [0.0]}, "latitude/longitude", "Null Island"),
        (
            {"easting": [530000.0], "northing": [180000.0]},
            "easting/northing",
            "outside HIPS",
        ),
        (
            {"latitude": [51.5074], "longitude": [-0.1278]},
            "latitude/longitude",
            "outside HIPS",
        ),
        (
            {"latitude": [95.0], "longitude": [-1.4]},
            "latitude/longitude",
            "out of range",
        ),
        (
            {"easting": [442000.0], "northing": [np.nan]},
            "easting/northing",
            "without northing",
        ),
        (
            {"easting": ["4420x0"], "northing": ["111000"]},
            "easting/northing",
            "not a number",
        ),
    ],
    ids=[
        "null-bng",
        "null-wgs84",
        "london-bng",
        "london-wgs84",
        "lat-range",
        "half",
        "text",
    ],
)
def test_bad_coordinates_rejected(
    tiny: Gazetteer, columns: dict, field: str, reason: str
) -> None:
    result = geocode(pd.DataFrame(columns), gazetteer=tiny)
    assert pd.isna(result["x"].iloc[0])
    assert result["reject_field"].iloc[0] == field
    assert reason in result["reject_reason"].iloc[0]


# ------------------------------------------------------------------ postcodes


def test_postcode_unit_sector_district(tiny: Gazetteer) -> None:
    frame = rows(postcode=["so142ab", "SO14  2AA", "SO14 3XY", "so14 2", "SO14"])
    result = geocode(frame, gazetteer=tiny)
    assert result["geocode_method"].tolist() == [
        "postcode_unit",
        "postcode_unit",
        "postcode_unit",
        "postcode_sector",
        "postcode_district",
    ]
    assert (result["x"].iloc[0], result["y"].iloc[0]) == (442100.0, 111000.0)
    unc = result["geocode_uncertainty_m"].tolist()
    # quality 10 → 50 m, quality 50 (ONS estimate) → 200 m, sector spread 50 → floor
    # of 100 m, district spread 650 m
    assert unc == [50.0, 50.0, 200.0, 100.0, 650.0]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("SO14 9ZZ", "postcode not in Code-Point Open (HIPS)"),
        ("SO14 9", "postcode sector not in Code-Point Open (HIPS)"),
        ("SO99", "postcode district not in Code-Point Open (HIPS)"),
        ("SO14-2AA!", "malformed postcode"),
    ],
    ids=["unknown-unit", "unknown-sector", "unknown-district", "malformed"],
)
def test_bad_postcodes_rejected(tiny: Gazetteer, code: str, reason: str) -> None:
    result = geocode(rows(postcode=[code]), gazetteer=tiny)
    assert result["reject_field"].iloc[0] == "postcode"
    assert result["reject_value"].iloc[0] == code
    assert result["reject_reason"].iloc[0].startswith(reason)


# ----------------------------------------------------------------- precedence


def test_precedence_and_reasons(tiny: Gazetteer) -> None:
    frame = pd.DataFrame(
        {
            "easting": [442000.0, 0.0, 0.0, np.nan],
            "northing": [111000.0, 0.0, 0.0, np.nan],
            "postcode": ["PO30 1AA", "PO30 1AA", "XX", None],
        }
    )
    result = geocode(frame, gazetteer=tiny)
    # coordinates beat the postcode; a bad higher field falls through to the next
    assert result["geocode_method"].tolist()[:2] == ["bng", "postcode_unit"]
    assert result["x"].iloc[1] == 449900.0
    # nothing resolves: the first failing field is named, later ones are appended
    assert result["reject_field"].iloc[2] == "easting/northing"
    assert "Null Island" in result["reject_reason"].iloc[2]
    assert "postcode 'XX': malformed postcode" in result["reject_reason"].iloc[2]
    assert result["reject_field"].iloc[3] == "location"
    assert result["reject_reason"].iloc[3] == "no location given"
    assert_reconciles(result, 4)


# ------------------------------------------------------------------- text


def test_text_street_with_town(tiny: Gazetteer) -> None:
    result = geocode(
        rows(
            location_text=[
                "Above Bar St, Southampton",
                "outside the Co-op, Carrington Crescent, Basingstoke and Deane",
            ]
        ),
        gazetteer=tiny,
    )
    assert result["geocode_method"].tolist() == ["street", "street"]
    assert (result["x"].iloc[0], result["y"].iloc[0]) == (441950.0, 112200.0)
    assert result["geocode_uncertainty_m"].iloc[0] == 100.0  # single point: floor
    assert (result["x"].iloc[1], result["y"].iloc[1]) == (459500.0, 161900.0)


def test_town_decides_between_same_named_streets(tiny: Gazetteer) -> None:
    result = geocode(
        rows(location_text=["High St, Southampton", "HIGH STREET, WINCHESTER"]),
        gazetteer=tiny,
    )
    assert result["x"].tolist() == [442000.0, 448000.0]
    assert result["geocode_uncertainty_m"].iloc[0] == 200.0  # extent 400 / 2


def test_ambiguous_street_lists_candidates(tiny: Gazetteer) -> None:
    result = geocode(rows(location_text=["High Street"]), gazetteer=tiny)
    reason = result["reject_reason"].iloc[0]
    assert pd.isna(result["x"].iloc[0])
    assert reason.startswith("ambiguous street: 'high street' matches")
    assert "High Street (Southampton)" in reason
    assert "High Street (Winchester)" in reason


def test_misspelt_street_is_named_not_guessed(tiny: Gazetteer) -> None:
    # a similar name is usually a different street (docs/geocoding.md): it is
    # named in the reason, never placed
    result = geocode(rows(location_text=["Carington Cresent"]), gazetteer=tiny)
    assert pd.isna(result["x"].iloc[0])
    reason = result["reject_reason"].iloc[0]
    assert reason.startswith("no street or place matched 'carington cresent'")
    assert "closest street 'carrington crescent'" in reason


def test_junction_uses_nearest_snap_points(tiny: Gazetteer) -> None:
    result = geocode(
        rows(location_text=["junction of High Street and East Street, Southampton"]),
        gazetteer=tiny,
    )
    # nearest pair: High Street (442000, 111600) and East Street (442200, 111550)
    assert result["geocode_method"].iloc[0] == "junction"
    assert (result["x"].iloc[0], result["y"].iloc[0]) == (442100.0, 111575.0)
    gap = np.hypot(200.0, 50.0)
    assert result["geocode_uncertainty_m"].iloc[0] == pytest.approx(gap / 2 + 50)


def test_place_names(tiny: Gazetteer) -> None:
    result = geocode(
        rows(location_text=["Newport, Isle of Wight", "Newtown", "Newtown, IOW"]),
        gazetteer=tiny,
    )
    assert result["geocode_method"].iloc[0] == "place"
    assert (result["x"].iloc[0], result["y"].iloc[0]) == (450000.0, 89300.0)
    assert result["geocode_uncertainty_m"].iloc[0] == 1500.0
    assert result["reject_reason"].iloc[1].startswith("ambiguous place: 'newtown'")
    assert "Newtown (PO30)" in result["reject_reason"].iloc[1]
    assert result["x"].iloc[2] == 442000.0  # the district picks the IoW Newtown


def test_gibberish_rejected(tiny: Gazetteer) -> None:
    result = geocode(rows(location_text=["zxqv wplm", "   "]), gazetteer=tiny)
    assert result["reject_field"].tolist() == ["location_text", "location"]
    assert result["reject_reason"].iloc[0].startswith("no street or place matched")
    assert result["reject_reason"].iloc[1] == "no location given"


def test_counts_reconcile_on_mixed_rows(tiny: Gazetteer) -> None:
    frame = pd.DataFrame(
        {
            "easting": [442000.0, 0.0, np.nan, np.nan, np.nan, np.nan, -1.3],
            "northing": [111000.0, 0.0, np.nan, np.nan, np.nan, np.nan, 50.7],
            "latitude": [np.nan, np.nan, 50.9, np.nan, np.nan, np.nan, np.nan],
            "longitude": [np.nan, np.nan, -1.4, np.nan, np.nan, np.nan, np.nan],
            "postcode": [None, None, None, "SO14 2", "ZZ1 1ZZ", None, None],
            "location_text": [
                None,
                None,
                None,
                None,
                "High Street",
                "Winchester",
                None,
            ],
        }
    )
    result = geocode(frame, gazetteer=tiny)
    assert_reconciles(result, len(frame))
    assert int(result["geocode_method"].notna().sum()) == 5


# --------------------------------------------------------- the real gazetteer


@pytest.fixture(scope="module")
def real() -> Gazetteer:
    try:
        return load_gazetteer()
    except DataNotFoundError:
        pytest.skip("data/gazetteer not built")


@needs_real
def test_real_postcodes_match_codepoint(real: Gazetteer) -> None:
    cp = pd.read_csv(CODEPOINT, usecols=["Postcode", "Eastings", "Northings"])
    picks = cp[cp["Postcode"].isin(["BH23 5QQ", "PO30 1AE", "RG21 7AA"])]
    assert len(picks) == 3
    messy = [
        picks["Postcode"].iloc[0].lower().replace(" ", ""),
        picks["Postcode"].iloc[1].replace(" ", "   "),
        picks["Postcode"].iloc[2],
    ]
    result = geocode(rows(postcode=messy), gazetteer=real)
    assert (result["geocode_method"] == "postcode_unit").all()
    np.testing.assert_array_equal(result["x"].to_numpy(), picks["Eastings"].to_numpy())
    np.testing.assert_array_equal(result["y"].to_numpy(), picks["Northings"].to_numpy())
    assert len(real.postcodes) == 55_259


@needs_real
def test_real_sector_and_district_are_less_certain(real: Gazetteer) -> None:
    result = geocode(rows(postcode=["RG21 7AA", "RG21 7", "RG21"]), gazetteer=real)
    assert result["geocode_method"].tolist() == [
        "postcode_unit",
        "postcode_sector",
        "postcode_district",
    ]
    unc = result["geocode_uncertainty_m"].to_numpy()
    assert unc[0] < unc[1] < unc[2]
    # RG21 7AA lies inside its sector's spread
    assert dist(result, 1, 463953.0, 152307.0) <= unc[1]


def _police_snap(street: str, lad: str) -> tuple[float, float]:
    """Mean BNG position of a street's police.uk snap points, read from the CSVs."""
    found = []
    for path in sorted(POLICE_DIR.glob("*-street.csv")):
        frame = pd.read_csv(
            path, usecols=["Longitude", "Latitude", "Location", "LSOA name"]
        )
        hit = frame[
            (frame["Location"] == f"On or near {street}")
            & frame["LSOA name"].str.startswith(lad)
        ]
        found.append(hit[["Longitude", "Latitude"]].drop_duplicates())
    pts = pd.concat(found).drop_duplicates()
    x, y = TO_BNG.transform(pts["Longitude"].to_numpy(), pts["Latitude"].to_numpy())
    return float(np.mean(x)), float(np.mean(y))


@needs_real
@pytest.mark.parametrize(
    ("text", "street", "lad"),
    [
        ("Above Bar St, Southampton", "Above Bar Street", "Southampton"),
        (
            "outside the Co-op, Carrington Crescent, Basingstoke",
            "Carrington Crescent",
            "Basingstoke and Deane",
        ),
        ("HIGH ST, SOUTHAMPTON", "High Street", "Southampton"),
    ],
    ids=["above-bar", "carrington", "high-street-soton"],
)
def test_real_streets_near_police_snap_points(
    real: Gazetteer, text: str, street: str, lad: str
) -> None:
    ex, ey = _police_snap(street, lad)
    result = geocode(rows(location_text=[text]), gazetteer=real)
    assert result["geocode_method"].iloc[0] == "street"
    assert dist(result, 0, ex, ey) <= 300.0


@needs_real
def test_real_places_and_rejections(real: Gazetteer) -> None:
    texts = ["Newport, Isle of Wight", "High Street", "Newtown", "qwzx blorp"]
    result = geocode(rows(location_text=texts), gazetteer=real)
    # GeoNames Newport (PO30): 50.7015, -1.2912
    ex, ey = TO_BNG.transform(-1.2912, 50.7015)
    assert result["geocode_method"].iloc[0] == "place"
    assert dist(result, 0, ex, ey) < 10.0
    assert 1000.0 <= result["geocode_uncertainty_m"].iloc[0] <= 2000.0
    assert result["reject_reason"].iloc[1].startswith("ambiguous street: 'high street'")
    assert result["reject_reason"].iloc[2].startswith("ambiguous place: 'newtown'")
    assert result["reject_reason"].iloc[3].startswith("no street or place matched")
    assert_reconciles(result, 4)


@needs_real
def test_real_police_month_end_to_end(real: Gazetteer) -> None:
    """A real police.uk month: coordinates, then the street names as text."""
    frame = pd.read_csv(POLICE_DIR / "2025-01-hampshire-street.csv")
    lad = frame["LSOA name"].str.replace(r"\s+\d{3}[A-Z]$", "", regex=True)
    coords = geocode(
        frame.rename(columns={"Latitude": "latitude", "Longitude": "longitude"}),
        gazetteer=real,
    )
    assert_reconciles(coords, len(frame))
    assert set(coords["geocode_method"].dropna()) <= {"wgs84"}
    # a handful of rows lie outside HIPS (neighbouring forces' LSOAs) and are
    # rejected; the rest are resolved
    assert coords["geocode_method"].notna().mean() > 0.999

    text = frame["Location"] + ", " + lad
    result = geocode(pd.DataFrame({"location_text": text}), gazetteer=real)
    assert_reconciles(result, len(frame))
    ex, ey = TO_BNG.transform(
        frame["Longitude"].to_numpy(), frame["Latitude"].to_numpy()
    )
    street = result["geocode_method"].eq("street").fillna(False).to_numpy(dtype=bool)
    d = np.hypot(result["x"].to_numpy() - ex, result["y"].to_numpy() - ey)
    # street names come from these very snap points: resolved rows must land close
    assert street.mean() > 0.6
    assert np.median(d[street]) < 50.0
    assert np.quantile(d[street], 0.95) <= 1500.0


@needs_real
def test_coordinates_outside_hips_are_final(real: Gazetteer) -> None:
    """A well-formed point in London is not moved onto a Hampshire street by text."""
    frame = pd.DataFrame(
        {
            "latitude": [51.5074, 0.0],
            "longitude": [-0.1278, 0.0],
            "location_text": ["Above Bar Street, Southampton"] * 2,
        }
    )
    out = geocode(frame, gazetteer=real)
    assert pd.isna(out.loc[0, "geocode_method"])
    assert "outside HIPS" in out.loc[0, "reject_reason"]
    # Null Island is junk, not a place: the text may still place the row
    assert out.loc[1, "geocode_method"] == "street"

"""Tests for scripts/make_synthetic_extract.py and the committed SYNTHETIC extract."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from hotspot.definitions import classify
from hotspot.settings import DATA_DIR, ROOT, SHARED_DATA_DIR

SCRIPT = ROOT / "scripts" / "make_synthetic_extract.py"
STEM = "SYNTHETIC_rms_extract_2024-10_2025-09"
CSV = DATA_DIR / "synthetic" / f"{STEM}.csv"
META = DATA_DIR / "synthetic" / f"{STEM}.json"
SEED = 20251001

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA_DIR / "police_uk").is_dir(),
    reason=f"real public data not found at {SHARED_DATA_DIR}",
)


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_synthetic_extract", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def generated(script: ModuleType) -> tuple[pd.DataFrame, dict[str, Any]]:
    return script.generate(seed=SEED)


@pytest.fixture(scope="module")
def rows(
    script: ModuleType, generated: tuple[pd.DataFrame, dict[str, Any]]
) -> pd.DataFrame:
    return classify(script.apply_mapping(generated[0]))


@pytest.fixture(scope="module")
def sv(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["is_serious_violence"].fillna(False).astype(bool)]


def test_deterministic(
    script: ModuleType, generated: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    again, meta = script.generate(seed=SEED)
    pd.testing.assert_frame_equal(generated[0], again)
    assert meta == generated[1]


def test_other_seed_differs(
    script: ModuleType, generated: tuple[pd.DataFrame, dict[str, Any]]
) -> None:
    other, _ = script.generate(seed=SEED + 1)
    assert not other["Committed From"].equals(generated[0]["Committed From"])


def test_committed_csv_equals_fresh_generation(
    generated: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    committed = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(committed, generated[0], check_dtype=False)


def test_committed_metadata_equals_fresh_generation(
    generated: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    committed = json.loads(META.read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(generated[1]))
    assert committed == fresh
    assert committed["banner"] == "SYNTHETIC — not real police data"
    assert committed["seed"] == SEED
    assert "SYNTHETIC" in CSV.name


def test_headers_and_formats(generated: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    table = generated[0]
    assert list(table.columns[:5]) == [
        "Occurrence Ref", "Committed From", "Committed To", "HO Offence Code",
        "Offence Description",
    ]
    assert table["Committed From"].str.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d").all()
    assert set(table["Bladed Implement"]) == {"Y", "N"}
    when = pd.to_datetime(table["Committed From"], format="%d/%m/%Y %H:%M")
    assert when.min() >= pd.Timestamp("2024-10-01")
    assert when.max() < pd.Timestamp("2025-10-01")


def test_duplicate_refs_about_0_3_percent(
    generated: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    share = generated[0]["Occurrence Ref"].duplicated().mean()
    assert 0.002 <= share <= 0.004


def test_sv_volume(sv: pd.DataFrame, rows: pd.DataFrame) -> None:
    assert abs(len(sv) - 5123) <= 5
    non_sv = len(rows) - len(sv)
    assert 0.13 <= non_sv / len(sv) <= 0.17  # ~15% non-SV violence rows


def test_non_sv_rows_left_out(rows: pd.DataFrame) -> None:
    out = rows[~rows["is_serious_violence"].astype(bool)]
    assert set(out["offence_code"].dropna()) <= {"8N", "105A", "9A"}
    assert not out.loc[out["offence_code"].eq("8N"), "bladed_implement"].any()


def test_csp_share_southampton_portsmouth(sv: pd.DataFrame) -> None:
    share = sv["district"].isin(["Southampton", "Portsmouth"]).mean()
    assert share == pytest.approx(0.46, abs=0.01)
    assert sv["district"].nunique() == 14


def test_possession_of_weapons_share(sv: pd.DataFrame) -> None:
    share = sv["sv_category"].eq("possession_of_weapons").mean()
    assert share == pytest.approx(0.42, abs=0.01)


@pytest.mark.parametrize(
    ("flag", "target"),
    [("public_place", 0.61), ("bladed_implement", 0.33), ("domestic", 0.11),
     ("licensed_premises", 0.08), ("alcohol", 0.10), ("drugs", 0.04),
     ("hate_crime", 0.01)],
    ids=["public", "bladed", "domestic", "licensed", "alcohol", "drugs", "hate"],
)
def test_flag_shares(sv: pd.DataFrame, flag: str, target: float) -> None:
    assert sv[flag].mean() == pytest.approx(target, abs=0.01)


def test_bladed_flag_consistent_with_definition(sv: pd.DataFrame) -> None:
    bladed_1b = sv["sv_category"].eq("bladed_violence_with_injury")
    assert sv.loc[bladed_1b, "bladed_implement"].all()


def test_male_victim_share(sv: pd.DataFrame) -> None:
    recorded = sv["victim_sex"].isin(["M", "F"])
    assert sv.loc[recorded, "victim_sex"].eq("M").mean() == pytest.approx(
        0.71, abs=0.01
    )


def test_possession_of_weapons_has_no_victim(sv: pd.DataFrame) -> None:
    pow_rows = sv[sv["sv_category"].eq("possession_of_weapons")]
    assert pow_rows["victim_sex"].isna().all()
    assert pow_rows["victim_age"].isna().all()


def test_july_august_above_monthly_mean(sv: pd.DataFrame) -> None:
    months = sv["occurred_from"].dt.month.value_counts()
    assert months[7] > months.mean() * 1.15
    assert months[8] > months.mean() * 1.15
    assert set(months.nlargest(2).index) == {7, 8}


def test_friday_busiest(sv: pd.DataFrame) -> None:
    days = sv["occurred_from"].dt.day_of_week.value_counts()
    assert days.idxmax() == 4


def test_evening_hours_highest(sv: pd.DataFrame) -> None:
    hours = sv["occurred_from"].dt.hour.value_counts().sort_index()
    evening = hours.loc[18:23].mean()
    assert evening > hours.loc[9:17].mean()
    assert evening > hours.loc[3:8].mean() * 3


def test_location_shares(generated: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    shares = generated[1]["location"]["location_shares"]
    expected = {"bng": 0.45, "wgs84": 0.20, "postcode": 0.15, "street_text": 0.10,
                "place_name": 0.03, "bad": 0.07}
    for kind, share in expected.items():
        assert shares[kind] == pytest.approx(share, abs=0.002)
    table = generated[0]
    bng = table["Easting"].str.fullmatch(r"\d{6}")
    assert bng.mean() == pytest.approx(0.45, abs=0.01)
    assert (table["Latitude"] == "0").any()  # Null Island present


def test_calibration_recorded_in_metadata(
    generated: tuple[pd.DataFrame, dict[str, Any]], sv: pd.DataFrame
) -> None:
    achieved = generated[1]["calibration"]["achieved"]
    assert achieved["serious_violence_occurrences"] == len(sv)
    assert achieved["flag_shares"]["bladed_implement"] == pytest.approx(
        sv["bladed_implement"].mean(), abs=1e-4
    )

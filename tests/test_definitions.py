"""Tests for hotspot.definitions: the definition file, lookups and classify()."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hotspot.definitions import (
    CLASSIFY_COLUMNS,
    SV_CATEGORIES,
    classify,
    load_definition,
    load_harm_weights,
    load_police_uk_categories,
    normalise_offence_code,
)
from hotspot.errors import DataNotFoundError, DefinitionError
from hotspot.settings import DATA_DIR

DEFINITIONS = DATA_DIR / "definitions"


def one(code: str | None, *, bladed: str = "N", domestic: str = "N") -> pd.DataFrame:
    return pd.DataFrame(
        {"offence_code": [code], "bladed_implement": [bladed], "domestic": [domestic]}
    )


@pytest.mark.parametrize(
    ("code", "bladed", "domestic", "category"),
    [
        ("1/1", "N", "N", "most_serious_violence"),
        ("4/1", "N", "N", "most_serious_violence"),
        ("2", "N", "N", "most_serious_violence"),
        ("5/1", "N", "N", "most_serious_violence"),
        ("5D", "N", "N", "most_serious_violence"),
        ("8F", "Y", "N", "most_serious_violence"),
        ("8N", "N", "N", None),
        ("8N", "Y", "N", "bladed_violence_with_injury"),
        ("34A", "N", "N", "robbery"),
        ("34B", "N", "N", "robbery"),
        ("10D", "N", "N", "possession_of_weapons"),
        ("10A", "N", "N", "possession_of_weapons"),
        ("65", "N", "N", "violent_disorder"),
        ("64/1", "N", "N", "violent_disorder"),
        ("9A", "Y", "N", None),
        ("66", "N", "N", None),
        ("105A", "Y", "N", None),
        ("8F", "N", "Y", "most_serious_violence"),
        ("4/4", "N", "N", "most_serious_violence"),
    ],
    ids=[
        "homicide-in", "manslaughter-in", "attempted-murder-in", "s18-in",
        "s18-classification-in", "gbh-with-blade-stays-msv", "abh-no-blade-out",
        "abh-blade-in", "robbery-business-in", "robbery-personal-in",
        "pow-blade-in", "pow-firearm-in", "violent-disorder-in", "riot-in",
        "public-fear-out-even-bladed", "other-public-order-out",
        "common-assault-bladed-out-not-1b", "domestic-gbh-stays-in",
        "death-by-dangerous-driving-in",
    ],
)
def test_each_clause(
    code: str, bladed: str, domestic: str, category: str | None
) -> None:
    result = classify(one(code, bladed=bladed, domestic=domestic))
    row = result.iloc[0]
    if category is None:
        assert pd.isna(row["sv_category"])
        assert row["sv_match"] == "none"
        assert not row["is_serious_violence"]
    else:
        assert row["sv_category"] == category
        assert row["sv_match"] == "definition"
        assert row["is_serious_violence"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("005/01", "5/1"), ("5/1", "5/1"), ("05/01", "5/1"), (" 5 / 1 ", "5/1"),
        ("008n", "8N"), ("034B", "34B"), ("4.1", "4/1"), ("064/001", "64/1"),
        ("65", "65"), (65, "65"), ("N/A", None), ("", None), (None, None),
        ("abc", "ABC"),
    ],
    ids=[
        "padded", "canonical", "half-padded", "spaces", "lower-letter",
        "padded-letter", "dotted", "riot-padded", "plain", "integer", "na-text",
        "empty", "none", "not-a-code-kept",
    ],
)
def test_normalise_offence_code(raw: object, expected: str | None) -> None:
    assert normalise_offence_code(raw) == expected


def test_classify_contract_and_index() -> None:
    frame = pd.DataFrame(
        {"offence_code": ["005/01", "8N"], "bladed_implement": [True, False]},
        index=pd.Index([10, 10], name="occ"),
    )
    result = classify(frame)
    assert list(result.index) == [10, 10]
    assert result.index.name == "occ"
    for name in CLASSIFY_COLUMNS:
        assert name in result.columns
    assert str(result["is_serious_violence"].dtype) == "boolean"
    assert str(result["harm_weight"].dtype) == "Float64"
    assert list(result["offence_code"]) == ["5/1", "8N"]
    assert list(result["hmic_group"]) == ["1b", "1b"]
    assert frame["offence_code"].tolist() == ["005/01", "8N"]  # input untouched
    assert result.attrs["definition_version"] == "1.0.0"


def test_description_only_and_hmic_filled() -> None:
    frame = pd.DataFrame(
        {
            "offence_code": [None, None],
            "offence_description": ["  robbery of PERSONAL property", "Harassment"],
        }
    )
    result = classify(frame)
    assert list(result["offence_code"]) == ["34B", "8L"]
    assert list(result["hmic_group"]) == ["3b", "1c"]
    assert list(result["sv_category"].fillna("-")) == ["robbery", "-"]


def test_code_fills_description() -> None:
    result = classify(one("064/01"))
    assert result["offence_description"].iloc[0] == "Riot"


def test_recorded_hmic_group_alone() -> None:
    frame = pd.DataFrame({"hmic_group": ["07", "3B", "1c"]})
    result = classify(frame)
    assert list(result["sv_category"].fillna("-")) == [
        "possession_of_weapons", "robbery", "-"
    ]


@pytest.mark.parametrize(
    ("crime_type", "category", "match", "is_sv"),
    [
        ("Robbery", "robbery", "exact", True),
        ("Possession of weapons", "possession_of_weapons", "exact", True),
        ("Violence and sexual offences", "most_serious_violence", "approximate", False),
        ("public order", "violent_disorder", "approximate", False),
        ("Burglary", None, "none", False),
        ("Something new", None, "none", False),
    ],
    ids=["robbery", "weapons", "violence-superset", "public-order-lowercase",
         "burglary", "unknown-type"],
)
def test_police_uk_mapping(
    crime_type: str, category: str | None, match: str, is_sv: bool
) -> None:
    result = classify(pd.DataFrame({"crime_type": [crime_type]}))
    row = result.iloc[0]
    assert row["sv_match"] == match
    assert bool(row["is_serious_violence"]) is is_sv
    if category is None:
        assert pd.isna(row["sv_category"])
    else:
        assert row["sv_category"] == category


def test_code_wins_over_crime_type() -> None:
    frame = pd.DataFrame({"offence_code": ["9A"], "crime_type": ["Robbery"]})
    assert classify(frame)["sv_match"].iloc[0] == "none"


def test_police_uk_table_covers_the_fourteen_types() -> None:
    table = load_police_uk_categories()
    assert len(table) == 14
    exact = set(table.loc[table["match"] == "exact", "crime_type"])
    assert exact == {"Robbery", "Possession of weapons"}
    assert table["note"].str.len().gt(10).all()


def test_missing_flag_column_never_satisfies_blade_clause() -> None:
    result = classify(pd.DataFrame({"offence_code": ["8N"]}))
    assert result["sv_match"].iloc[0] == "none"


def test_definition_contents() -> None:
    definition = load_definition()
    assert definition.version == "1.0.0"
    assert "Strategic Violence Reduction Partnership" in definition.agreed_by
    categories = {c.sv_category for c in definition.clauses}
    assert categories == set(SV_CATEGORIES)
    riot = definition.clause("violent_disorder_riot")
    assert riot.offence_codes[:2] == ("65", "64/1")
    assert definition.clauses[-1].flag is not None


def _copy_definition(tmp_path: Path) -> Path:
    for name in DEFINITIONS.iterdir():
        if name.suffix in {".toml", ".csv"}:
            shutil.copy(name, tmp_path / name.name)
    return tmp_path / "serious_violence_v1.toml"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('sv_category = "robbery"', 'sv_category = "mugging"', "'sv_category' must be"),
        ('id = "possession_of_weapons"', 'ident = "x"', "field 'id' is missing"),
        ('"4/4",', '"4/44",', "'4/44' is not in the offence lookup"),
        ('value = true', 'value = "yes"', "field 'value' must be bool"),
        ('column = "bladed_implement"', 'column = "knife"', "'flag.column' must be"),
        ('version = "1.0.0"\neffective', 'version = "1.1.0"\neffective',
         "no entry for version '1.1.0'"),
        ('hmic_groups = ["7"]', 'hmic_groups = "7"',
         "field 'hmic_groups' must be list"),
        ("[lookups]", "[lookups\n", "not valid TOML"),
        ('police_uk_harm_weights = "police_uk_category_harm_weights.csv"',
         "police_uk_harm_weights = 3", "'police_uk_harm_weights' must be a file"),
        ("[lookups]", "deep = " + "[" * 3000 + "]" * 3000 + "\n[lookups]",
         "nested too deeply"),
    ],
    ids=["bad-category", "missing-id", "unknown-code", "flag-not-bool",
         "unknown-flag", "changelog-missing-version", "groups-not-list", "bad-toml",
         "category-weights-not-text", "nested"],
)
def test_malformed_definition_rejected(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _copy_definition(tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(DefinitionError, match=message) as info:
        load_definition(path)
    assert str(path) in str(info.value)


def test_malformed_message_names_clause(tmp_path: Path) -> None:
    path = _copy_definition(tmp_path)
    path.write_text(path.read_text().replace('"4/4",', '"4/44",'))
    with pytest.raises(DefinitionError, match="clause 'msv_gbh_and_above'"):
        load_definition(path)


def test_missing_definition_file(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_definition(tmp_path / "nope.toml")


def test_harm_weights_fallback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("offence_code,weight,source\n5/1,,unavailable offline\n")
    with caplog.at_level(logging.WARNING, logger="hotspot.definitions"):
        weights = load_harm_weights(path)
    assert weights.available is False
    assert weights.source == "unavailable offline"
    assert "harm weights unavailable" in caplog.text
    result = classify(one("5/1"), harm_weights=weights)
    assert result["harm_weight"].iloc[0] == 1.0
    assert result.attrs["harm_weights_available"] is False


def test_harm_weights_used_when_present(tmp_path: Path) -> None:
    path = tmp_path / "weights.csv"
    path.write_text(
        "offence_code,weight,source\n005/01,100,test source\n8N,,unavailable offline\n"
    )
    weights = load_harm_weights(path)
    assert weights.available is True
    assert dict(weights.weights) == {"5/1": 100.0}
    result = classify(
        pd.DataFrame({"offence_code": ["5/1", "8N", None]}), harm_weights=weights
    )
    assert result["harm_weight"].tolist() == [100.0, 1.0, 1.0]
    assert result.attrs["harm_weights_available"] is True


@pytest.mark.parametrize(
    ("line", "message"),
    [("5/1,-3,ONS", "positive number"), ("5/1,3,unavailable offline", "source named")],
    ids=["negative", "no-source"],
)
def test_harm_weights_rejected(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "weights.csv"
    path.write_text(f"offence_code,weight,source\n{line}\n")
    with pytest.raises(DefinitionError, match=message):
        load_harm_weights(path)

"""The embedded harm weights against the ONS Crime Severity Score table."""

from __future__ import annotations

import csv
import importlib.util
import logging
from pathlib import Path

import pandas as pd
import pytest

from hotspot.definitions import classify, load_harm_weights, normalise_offence_code
from hotspot.settings import DATA_DIR

DEFINITIONS = DATA_DIR / "definitions"
ROOT = DATA_DIR.parent


def _css_table(shared: Path) -> dict[str, float]:
    """Weight per canonical code, read straight from the shared CSS join file."""
    path = shared / "harm" / "css_weights_ons_2020" / "policeuk-ons-code-join.csv"
    out: dict[str, float] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for part in row["ONS_COUNTS_code"].split("/"):
                code = normalise_offence_code(part)
                assert code is not None
                out[code] = float(row["ONS_SEVERITY_weight"])
    return out


def _rows(name: str) -> list[dict[str, str]]:
    with (DEFINITIONS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_embedded_weights_load_without_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="hotspot.definitions"):
        weights = load_harm_weights()
    assert weights.available is True
    assert "unavailable" not in caplog.text
    assert "Crime Severity Score" in weights.source
    assert "late 2020" in weights.source  # the edition is named
    # hand-checked values from the CSS table (PROVENANCE.md examples)
    assert weights.weights["1/1"] == pytest.approx(7973.393423, abs=1e-4)
    assert weights.weights["5D"] == pytest.approx(2034.74186, abs=1e-4)
    assert weights.weights["34B"] == pytest.approx(799.6288702, abs=1e-4)
    assert weights.weights["62A"] == pytest.approx(362.8964537, abs=1e-4)
    assert weights.weights["10D"] == pytest.approx(53.0382391, abs=1e-4)


def test_direct_matches_equal_the_css_table(shared_data: Path) -> None:
    css = _css_table(shared_data)
    rows = _rows("harm_weights.csv")
    direct = [r for r in rows if r["rule"] == "direct code match"]
    assert len(direct) == 36
    for row in direct:
        code = normalise_offence_code(row["offence_code"])
        assert code is not None
        key = "1" if code in ("1/1", "1/2") else code
        assert float(row["weight"]) == pytest.approx(css[key], abs=5e-5), code


@pytest.mark.parametrize(
    ("code", "via"),
    [("5/1", "5D"), ("8F", "8N"), ("8H", "8P"), ("8T", "8N"), ("64/1", "62A"),
     ("65", "62A")],
)
def test_unmatched_codes_follow_a_written_rule(
    shared_data: Path, code: str, via: str
) -> None:
    css = _css_table(shared_data)
    assert code not in css  # really unmatched in the CSS list
    row = next(r for r in _rows("harm_weights.csv") if r["offence_code"] == code)
    assert row["css_code"] == via
    assert via in row["rule"] and len(row["rule"]) > 40
    assert float(row["weight"]) == pytest.approx(css[via], abs=5e-5)


def test_8r_label_conflict_resolved() -> None:
    row = next(r for r in _rows("harm_weights.csv") if r["offence_code"] == "8R")
    assert row["offence_description"] == "Malicious communications"
    assert "label conflict" in row["note"]
    offences = {r["offence_code"]: r for r in _rows("offences.csv")}
    assert offences["8R"]["offence_description"] == "Malicious communications"
    assert offences["8U"]["offence_description"] == "Controlling or coercive behaviour"
    # 8U has no CSS row: left empty, not invented
    row_8u = next(r for r in _rows("harm_weights.csv") if r["offence_code"] == "8U")
    assert row_8u["weight"] == ""
    assert "8U" not in load_harm_weights().weights


def test_category_weight_by_hand() -> None:
    weights = load_harm_weights().category_weights
    # Robbery: business and personal both weigh 799.6288702
    assert weights["robbery"] == pytest.approx(799.6288702, abs=1e-4)
    # Violence and sexual offences: PRC 2024/25 subgroup counts x lowest CSS weight
    parts = [  # (count, lowest CSS weight of the subgroup)
        (524, 7973.393423),  # homicide
        (516757, 189.1538871),  # violence with injury: 8N
        (804983, 7.54380645),  # violence without injury: 104
        (598830, 15.13892861),  # stalking and harassment: 8R
        (2244, 111.3613218),  # unlawful driving: 4/8
        (71509, 2397.258672),  # rape: 19H
        (135333, 39.92200196),  # other sexual: 88E
    ]
    expected = sum(n * w for n, w in parts) / sum(n for n, _ in parts)
    assert weights["violence and sexual offences"] == pytest.approx(expected, abs=1e-3)
    assert weights["possession of weapons"] == pytest.approx(52.12609711, abs=1e-4)
    assert weights["public order"] == pytest.approx(6.81175759, abs=1e-4)
    assert "anti-social behaviour" not in weights


def test_classify_uses_code_then_category() -> None:
    frame = pd.DataFrame(
        {
            "offence_code": ["5/1", None, None, None, "8U"],
            "crime_type": ["Robbery", "Robbery", "Violence and sexual offences",
                           "Anti-social behaviour", None],
        }
    )
    result = classify(frame)
    got = result["harm_weight"].tolist()
    assert got[0] == pytest.approx(2034.74186, abs=1e-4)  # the code wins
    assert got[1] == pytest.approx(799.6288702, abs=1e-4)
    assert 100 < got[2] < 200
    assert got[3] == 1.0 and got[4] == 1.0  # no weight known
    assert result.attrs["harm_weights_available"] is True


def test_cchi_alternative_is_labelled_and_loads() -> None:
    alt = load_harm_weights(
        DEFINITIONS / "harm_weights_cchi_third_party.csv",
        categories_path=(
            DEFINITIONS / "police_uk_category_harm_weights_cchi_third_party.csv"
        ),
    )
    assert alt.source.startswith("THIRD PARTY")
    assert alt.weights["34B"] == 365.0 and alt.weights["1/1"] == 5475.0
    assert alt.category_weights["violence and sexual offences"] == 194.21
    css = load_harm_weights()
    assert alt.weights["10D"] != css.weights["10D"]


def test_build_script_reproduces_the_files(shared_data: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "build_harm_weights", ROOT / "scripts" / "build_harm_weights.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    offences = (DEFINITIONS / "offences.csv").read_bytes()
    (tmp_path / "offences.csv").write_bytes(offences)
    argv = ["--shared", str(shared_data / "harm"), "--out", str(tmp_path)]
    assert module.main(argv) == 0
    for name in ("harm_weights.csv", "police_uk_category_harm_weights.csv",
                 "harm_weights_cchi_third_party.csv",
                 "police_uk_category_harm_weights_cchi_third_party.csv"):
        assert (tmp_path / name).read_text() == (DEFINITIONS / name).read_text(), name

"""Build the harm-weight tables in data/definitions/ from ../shared/data/harm.

Writes
------
``data/definitions/harm_weights.csv``
    ONS Crime Severity Score (CSS) weight per offence code of ``offences.csv``.
    36 codes match a CSS row directly; the others follow the rule written in
    :data:`RULES` (and in the row's ``rule`` column). A code with no CSS row and
    no rule keeps an empty weight: nothing is invented.
``data/definitions/police_uk_category_harm_weights.csv``
    A weight per police.uk ``Crime type`` for rows that carry no offence code
    (derivation in :func:`category_weights`).
``data/definitions/harm_weights_cchi_third_party.csv`` and
``data/definitions/police_uk_category_harm_weights_cchi_third_party.csv``
    The optional, labelled alternative: a third party's Cambridge Crime Harm
    Index medians per Home Office offence subgroup (no offence codes; a code takes
    its subgroup's median).

Run ``python scripts/build_harm_weights.py`` (``--shared`` to point elsewhere).
"""

from __future__ import annotations

import argparse
import csv
import logging
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFINITIONS = ROOT / "data" / "definitions"
SHARED = ROOT.parent / "shared" / "data" / "harm"

logger = logging.getLogger("build_harm_weights")

CSS_EDITION = (
    "ONS Crime Severity Score offence weights, the edition of the ONS data tool "
    "(cssdatatool.xls, sheet 'List of weights') current in late 2020"
)
CSS_SOURCE = (
    f"{CSS_EDITION}; joined to Home Office offence codes in M-O-P-D/"
    "Police-Supply-Demand data/policeuk-ons-code-join.csv @38420a1 (MIT); "
    "weights OGL v3 (ONS/Home Office)"
)
CCHI_SOURCE = (
    "THIRD PARTY: Cambridge Crime Harm Index 2026 medians per Home Office offence "
    "subgroup computed by isthisben/cbl-realcrime data/cchi_weights.csv @5591939 "
    "(no licence file; not Cambridge's own figures)"
)

#: Product code -> (CSS code used, rule) for codes with no CSS row of their own.
RULES: dict[str, tuple[str, str]] = {
    "5/1": ("5D", "5/1 (s18 wounding with intent, numeric code) is counted in HOCR "
                  "classification 5D assault with intent to cause serious harm; "
                  "weight of 5D"),
    "8F": ("8N", "8F (s20 inflicting GBH without intent) is the pre-2012 code of an "
                 "offence now counted in 8N assault with injury; weight of 8N"),
    "8H": ("8P", "8H (racially or religiously aggravated s20 GBH) is the pre-2012 "
                 "code of an offence now counted in 8P; weight of 8P"),
    "8T": ("8N", "8T (assault with injury on an emergency worker other than a "
                 "constable) was split off after the Assaults on Emergency Workers "
                 "(Offences) Act 2018; before it these assaults were counted in 8N "
                 "assault with injury, whose weight it takes (8S, the constable "
                 "offence, weighs 401.42: the 8N weight is the lower choice)"),
    "64/1": ("62A", "64/1 riot (Public Order Act 1986 s1) is counted in HOCR "
                    "classification 62A with violent disorder; the CSS list has no "
                    "riot row, so riot takes the 62A weight (a lower bound)"),
    "65": ("62A", "65 violent disorder (Public Order Act 1986 s2) is the numeric "
                  "code of HOCR classification 62A violent disorder; weight of 62A"),
}

#: Codes whose product label differs from the CSS row's label.
LABEL_NOTES: dict[str, str] = {
    "8R": "label conflict resolved: HOCR 8R is malicious communications (as the CSS "
          "row says); controlling or coercive behaviour is 8U, which has no CSS row",
}

#: Home Office PRC offence subgroup of CSS codes in police.uk categories that hold
#: more than one subgroup (Home Office offence classification).
_VSO_SUBGROUPS: dict[str, tuple[str, ...]] = {
    "Homicide": ("1/4.1/4.10/4.2",),
    "Death or serious injury - unlawful driving": ("4.4", "4.6", "4.8", "4.9", "37.1"),
    "Violence with injury": ("2", "4.3", "4.7", "5D", "5E", "8N", "8P", "8S"),
    "Violence without injury": ("3A", "3B", "11A", "13", "14", "36", "104", "105A",
                                "105B", "106"),
    "Stalking and harassment": ("8L", "8M", "8Q", "8R"),
    "Rape offences": ("19C", "19D", "19E", "19F", "19G", "19H", "19J", "19K"),
    "Other sexual offences": ("17A", "17B", "20A", "20B", "21", "22A", "22B", "23",
                              "70", "71", "72", "73", "88A", "88C", "88D", "88E"),
}
_PREFIX_SUBGROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "Burglary": {"Residential burglary": ("28", "29"),
                 "Non-residential burglary": ("30", "31")},
    "Criminal damage and arson": {"Criminal damage": ("58",), "Arson": ("56",)},
    "Drugs": {"Possession of drugs": ("92D", "92E"),
              "Trafficking of drugs": ("92A", "92C")},
    "Robbery": {"Robbery of business property": ("34A",),
                "Robbery of personal property": ("34B",)},
}


def _css_code(raw: str) -> str:
    """The product's canonical form of a CSS code (``4.4`` -> ``4/4``)."""
    return raw.strip().replace(".", "/")


def read_css(path: Path) -> tuple[dict[str, float], list[dict[str, str]]]:
    """Return CSS weight per ONS_COUNTS_code (canonical) and the raw rows."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    weights: dict[str, float] = {}
    for row in rows:
        weight = float(row["ONS_SEVERITY_weight"])
        # the homicide group is one row "1/4.1/4.10/4.2": murder, manslaughter,
        # infanticide, corporate manslaughter
        for code in row["ONS_COUNTS_code"].split("/"):
            key = _css_code(code)
            if key in weights and abs(weights[key] - weight) > 1e-9:
                raise ValueError(f"{path}: code {key} has two weights")
            weights[key] = weight
    return weights, rows


def _product_css_code(code: str) -> str:
    """CSS code of a product code that matches directly (1/1, 1/2 -> homicide)."""
    return "1" if code in ("1/1", "1/2") else code


def offence_weights(
    offences: list[dict[str, str]], css: dict[str, float]
) -> list[dict[str, str]]:
    """One output row per product offence code."""
    out = []
    for offence in offences:
        code = offence["offence_code"]
        direct = _product_css_code(code)
        note = LABEL_NOTES.get(code, "")
        if direct in css:
            used, rule, weight = direct, "direct code match", css[direct]
        elif code in RULES:
            used, rule = RULES[code]
            weight = css[used]
        else:
            out.append({"offence_code": code,
                        "offence_description": offence["offence_description"],
                        "weight": "", "css_code": "", "rule": "no CSS row and no rule",
                        "source": CSS_SOURCE,
                        "note": note or "left empty rather than invented"})
            continue
        out.append({"offence_code": code,
                    "offence_description": offence["offence_description"],
                    "weight": f"{weight:.4f}", "css_code": used, "rule": rule,
                    "source": CSS_SOURCE, "note": note})
    return out


def read_subgroup_counts(path: Path) -> dict[tuple[str, str], tuple[int, float]]:
    """(police.uk category, PRC subgroup) -> (national 2024/25 count, CCHI days)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            (r["category"], r["prc_subgroup"]): (
                int(r["national_count_2024_25"]), float(r["cchi_days"])
            )
            for r in csv.DictReader(handle)
        }


def subgroup_of(category: str, code: str, single: dict[str, str]) -> str:
    """The PRC subgroup of a CSS code within its police.uk category."""
    if category == "Violence and sexual offences":
        for subgroup, codes in _VSO_SUBGROUPS.items():
            if code in codes:
                return subgroup
        raise ValueError(f"CSS code {code!r} has no subgroup in {category}")
    if category in _PREFIX_SUBGROUPS:
        for subgroup, prefixes in _PREFIX_SUBGROUPS[category].items():
            if any(code.startswith(p) for p in prefixes):
                return subgroup
        raise ValueError(f"CSS code {code!r} has no subgroup in {category}")
    return single[category]


def category_weights(
    rows: list[dict[str, str]], counts: dict[tuple[str, str], tuple[int, float]]
) -> list[dict[str, str]]:
    """Weight per police.uk category from the CSS rows and PRC subgroup counts.

    ``w_cat = Σ_s n_s · m_s / Σ_s n_s`` over the Home Office offence subgroups
    ``s`` of the category, with ``n_s`` the national 2024/25 PRC count of the
    subgroup and ``m_s`` the **lowest** CSS weight among the subgroup's offences.
    Offence-level counts are not available offline, so the spread within a
    subgroup cannot be weighted by volume; the lowest weight is used because the
    volume offence of a subgroup is nearly always its least severe (assault with
    injury 8N in violence with injury, common assault 105A in violence without
    injury, 10D/10C in possession of weapons), and the median of the codes would
    let rare grave offences (attempted murder, modern slavery) set the weight of
    the whole subgroup. The result is therefore a lower bound; the median-rule
    value is given beside it (``weight_median_rule``) to show the spread.
    """
    by_category: dict[str, dict[str, list[float]]] = {}
    seen: set[str] = set()
    single = {}
    for category, subgroup in counts:
        if sum(1 for c, _ in counts if c == category) == 1:
            single[category] = subgroup
    for row in rows:
        category = row["POLICE_UK_CAT_MAP_category"].strip()
        code = row["ONS_COUNTS_code"].strip()
        if row["ONS_SEVERITY_code"].startswith("1,"):
            code = "1/4.1/4.10/4.2"
        key = f"{category}|{code}"
        if not category or key in seen:
            continue
        seen.add(key)
        canonical = {c.casefold(): c for c, _ in counts}
        category = canonical.get(category.casefold(), category)
        subgroup = subgroup_of(category, code, single)
        by_category.setdefault(category, {}).setdefault(subgroup, []).append(
            float(row["ONS_SEVERITY_weight"])
        )
    out = []
    for category in sorted(by_category):
        parts = []
        total = low_sum = median_sum = 0.0
        for subgroup, weights in sorted(by_category[category].items()):
            n, _ = counts[(category, subgroup)]
            low, mid = min(weights), statistics.median(weights)
            total += n
            low_sum += n * low
            median_sum += n * mid
            parts.append(f"{subgroup}: n={n}, lowest={low:.2f} of {len(weights)} codes")
        out.append({
            "crime_type": category,
            "weight": f"{low_sum / total:.4f}",
            "weight_median_rule": f"{median_sum / total:.4f}",
            "derivation": "PRC-count-weighted mean over subgroups of the lowest CSS "
                          "weight in each subgroup; " + "; ".join(parts),
            "source": CSS_SOURCE + "; subgroup counts: Home Office PRC PFA tables "
                      "2024/25 (OGL v3) as transcribed in "
                      "isthisben/cbl-realcrime data/cchi_weights.csv",
        })
    return out


def cchi_rows(
    offences: list[dict[str, str]], counts: dict[tuple[str, str], tuple[int, float]]
) -> list[dict[str, str]]:
    """The CCHI alternative per product offence code (its subgroup's median)."""
    by_subgroup = {subgroup: days for (_, subgroup), (_, days) in counts.items()}
    prc_of = _product_subgroups()
    out = []
    for offence in offences:
        code = offence["offence_code"]
        subgroup = prc_of.get(code)
        days = by_subgroup.get(subgroup or "")
        out.append({
            "offence_code": code,
            "offence_description": offence["offence_description"],
            "weight": "" if days is None else f"{days:.4f}",
            "css_code": "",
            "rule": (f"median of PRC subgroup '{subgroup}'" if subgroup
                     else "no subgroup"),
            "source": CCHI_SOURCE,
            "note": "optional alternative, days; coarse (one median per subgroup)",
        })
    return out


def _product_subgroups() -> dict[str, str]:
    """Home Office PRC subgroup of each product offence code."""
    table = {
        "Homicide": ("1/1", "1/2", "4/1", "4/2", "4/10"),
        "Death or serious injury - unlawful driving": ("4/4", "4/6", "4/8", "4/9",
                                                       "37/1"),
        "Violence with injury": ("2", "4/3", "4/7", "5/1", "5D", "5E", "8F", "8H",
                                 "8N", "8P", "8S", "8T"),
        "Violence without injury": ("3B", "104", "105A", "105B"),
        "Stalking and harassment": ("8L", "8M", "8Q", "8R", "8U"),
        "Robbery of business property": ("34A",),
        "Robbery of personal property": ("34B",),
        "Possession of weapons offences": ("10A", "10B", "10C", "10D"),
        "Public order offences": ("9A", "9B", "62A", "64/1", "65", "66"),
    }
    return {code: subgroup for subgroup, codes in table.items() for code in codes}


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    logger.info("wrote %s (%d rows)", path, len(rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED,
                        help="the shared harm folder (default: ../shared/data/harm)")
    parser.add_argument("--out", type=Path, default=DEFINITIONS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    css, raw_rows = read_css(args.shared / "css_weights_ons_2020" /
                             "policeuk-ons-code-join.csv")
    counts = read_subgroup_counts(args.shared / "cchi_by_subgroup_third_party" /
                                  "cchi_weights.csv")
    with (args.out / "offences.csv").open(newline="", encoding="utf-8") as handle:
        offences = list(csv.DictReader(handle))
    _write(args.out / "harm_weights.csv", offence_weights(offences, css))
    _write(args.out / "police_uk_category_harm_weights.csv",
           category_weights(raw_rows, counts))
    _write(args.out / "harm_weights_cchi_third_party.csv", cchi_rows(offences, counts))
    with (args.shared / "cchi_by_subgroup_third_party" /
          "cchi_weights_by_category.csv").open(newline="", encoding="utf-8") as handle:
        cchi_categories = [
            {"crime_type": r["crime_type"], "weight": r["cchi_days"],
             "weight_median_rule": "",
             "derivation": "third party: volume-weighted mean of subgroup medians "
                           "(national 2024/25 PRC counts)",
             "source": CCHI_SOURCE.replace("cchi_weights.csv",
                                           "cchi_weights_by_category.csv")}
            for r in csv.DictReader(handle)
        ]
    _write(args.out / "police_uk_category_harm_weights_cchi_third_party.csv",
           cchi_categories)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

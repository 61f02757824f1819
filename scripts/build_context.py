"""Build the deprivation and population context files from ../shared/data.

Writes, deterministically:

- ``data/deprivation/imd2025_lsoa21.csv``: English Indices of Deprivation 2025,
  1,231 HIPS LSOAs (2021): score, rank and decile of the IMD and every domain;
- ``data/deprivation/imd2019_lsoa11.csv``: IoD2019 Files 1 and 2 joined, 1,194
  HIPS LSOAs (2011): rank and decile of the IMD and every domain (IoD2019 Files 1
  and 2 carry no scores);
- ``data/population/census2021_lsoa21.csv``: Census 2021 usual residents per
  LSOA 2021;
- ``data/population/mid2020_lsoa11.csv``: ONS mid-2020 population estimates per
  LSOA 2011 (total, and aged 10-24).

Column names are the same across the two IMD editions (``lsoa_code``,
``imd_rank``, ``imd_decile``, ``income_rank``, ...), so the overlay code reads
either with one function. Run: ``.venv/bin/python scripts/build_context.py``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from hotspot.settings import DATA_DIR, SHARED_DATA_DIR

logger = logging.getLogger("build_context")

#: Domain names used in the project's files, in the order IoD publishes them.
DOMAINS: tuple[str, ...] = (
    "imd",
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "housing_services",
    "living_environment",
)
_IMD2025_PREFIX: dict[str, str] = {
    "imd": "IMD",
    "income": "Income",
    "employment": "Employment",
    "education": "Education",
    "health": "Health",
    "crime": "Crime",
    "housing_services": "Housing_and_Services",
    "living_environment": "Environment",
}
_IMD2019_PREFIX: dict[str, str] = {
    "imd": "Index of Multiple Deprivation (IMD)",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, Skills and Training",
    "health": "Health Deprivation and Disability",
    "crime": "Crime",
    "housing_services": "Barriers to Housing and Services",
    "living_environment": "Living Environment",
}
N_LSOA21 = 1231
N_LSOA11 = 1194


def _int(series: pd.Series, *, name: str) -> pd.Series:
    numbers = pd.to_numeric(
        series.astype(str).str.replace(",", "", regex=False), errors="raise"
    )
    if numbers.isna().any() or (numbers % 1 != 0).any():
        raise ValueError(f"column {name} holds missing or non-integer values")
    return numbers.astype("int64")


def build_imd2025(src: Path) -> pd.DataFrame:
    """Return the IMD 2025 table in the project's layout."""
    raw = pd.read_csv(src / "deprivation" / "imd2025_lsoa21_hips.csv")
    out = pd.DataFrame(
        {
            "lsoa_code": raw["lsoa21_code"],
            "lsoa_name": raw["lsoa21_name"],
            "lad_code": raw["ltla24_code"],
        }
    )
    for domain, prefix in _IMD2025_PREFIX.items():
        out[f"{domain}_score"] = raw[f"{prefix}_score"].astype(float)
        out[f"{domain}_rank"] = _int(raw[f"{prefix}_rank"], name=f"{prefix}_rank")
        out[f"{domain}_decile"] = _int(raw[f"{prefix}_decile"], name=f"{prefix}_decile")
    return _check(out, n=N_LSOA21, name="IMD 2025")


def build_imd2019(src: Path) -> pd.DataFrame:
    """Return IoD2019 Files 1 and 2 joined, in the project's layout."""
    file1 = pd.read_csv(
        src / "deprivation" / "imd2019_file1_imd_lsoa11_hips.csv", dtype=str
    )
    file2 = pd.read_csv(
        src / "deprivation" / "imd2019_file2_domains_lsoa11_hips.csv", dtype=str
    )
    out = pd.DataFrame(
        {
            "lsoa_code": file2["LSOA code (2011)"],
            "lsoa_name": file2["LSOA name (2011)"],
            "lad_code": file2["Local Authority District code (2019)"],
        }
    )
    for domain, prefix in _IMD2019_PREFIX.items():
        rank = f"{prefix} Rank (where 1 is most deprived)"
        decile = f"{prefix} Decile (where 1 is most deprived 10% of LSOAs)"
        out[f"{domain}_rank"] = _int(file2[rank], name=rank)
        out[f"{domain}_decile"] = _int(file2[decile], name=decile)
    # File 1 (ranks with thousands separators) must agree with File 2.
    check = file1.set_index("LSOA code (2011)")
    rank1 = _int(check["Index of Multiple Deprivation (IMD) Rank"], name="File 1 rank")
    joined = out.set_index("lsoa_code")["imd_rank"]
    if not rank1.reindex(joined.index).astype("int64").equals(joined):
        raise ValueError("IoD2019 File 1 and File 2 IMD ranks disagree")
    return _check(out, n=N_LSOA11, name="IMD 2019")


def build_census2021(src: Path) -> pd.DataFrame:
    """Return Census 2021 usual residents per LSOA 2021."""
    raw = pd.read_csv(src / "population" / "census2021_usual_residents_lsoa21_hips.csv")
    out = pd.DataFrame(
        {
            "lsoa_code": raw["lsoa21_code"],
            "residents": _int(raw["total_residents"], name="total_residents"),
        }
    )
    return _check(out, n=N_LSOA21, name="Census 2021")


def build_mid2020(src: Path) -> pd.DataFrame:
    """Return ONS mid-2020 population per LSOA 2011 (total and aged 10-24)."""
    raw = pd.read_csv(src / "population" / "population_mid2020_lsoa11_hips.csv")
    ages = [str(a) for a in range(10, 25)]
    out = pd.DataFrame(
        {
            "lsoa_code": raw["lsoa11_code"],
            "residents": _int(raw["total_population"], name="total_population"),
            "residents_aged_10_24": _int(raw[ages].sum(axis=1), name="aged 10-24"),
        }
    )
    return _check(out, n=N_LSOA11, name="mid-2020 population")


def _check(frame: pd.DataFrame, *, n: int, name: str) -> pd.DataFrame:
    if len(frame) != n or frame["lsoa_code"].duplicated().any():
        raise ValueError(
            f"{name}: expected {n} distinct LSOAs, got {len(frame)} rows with "
            f"{frame['lsoa_code'].nunique()} distinct codes"
        )
    return frame.sort_values("lsoa_code").reset_index(drop=True)


def main() -> int:
    """Build every file; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=SHARED_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    targets = {
        Path("deprivation") / "imd2025_lsoa21.csv": build_imd2025(args.source),
        Path("deprivation") / "imd2019_lsoa11.csv": build_imd2019(args.source),
        Path("population") / "census2021_lsoa21.csv": build_census2021(args.source),
        Path("population") / "mid2020_lsoa11.csv": build_mid2020(args.source),
    }
    for relative, frame in targets.items():
        path = args.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, lineterminator="\n", float_format="%.3f")
        logger.info(
            "wrote %s: %d rows, %d columns", path, len(frame), len(frame.columns)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Generate the SYNTHETIC records-system (RMS) serious-violence extract.

SYNTHETIC — not real police data. Police records-system extracts are never
published, so this script makes a realistic stand-in, deterministic from a seed:
one year (1 October 2024 to 30 September 2025) of serious-violence occurrences
calibrated to the HIPS needs assessment (2022/23) figures in DESIGN.md, plus
non-serious violence rows the classifier must leave out, placed near real
police.uk crime locations and written the untidy ways real extracts are.

Usage::

    .venv/bin/python scripts/make_synthetic_extract.py --seed 20251001

writes ``data/synthetic/SYNTHETIC_rms_extract_2024-10_2025-09.csv`` and its
``.json`` metadata. ``generate(seed=...)`` returns the same table in memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hotspot.crs import bng_to_lonlat, lonlat_to_bng  # noqa: E402
from hotspot.definitions import classify  # noqa: E402
from hotspot.settings import DATA_DIR, SHARED_DATA_DIR  # noqa: E402

logger = logging.getLogger("make_synthetic_extract")

GENERATOR_VERSION = "1.0.0"
DEFAULT_SEED = 20251001
BANNER = "SYNTHETIC — not real police data"
STEM = "SYNTHETIC_rms_extract_2024-10_2025-09"
OUT_DIR = DATA_DIR / "synthetic"
MAPPING_PATH = DATA_DIR / "mappings" / "synthetic_rms.toml"
PERIOD_START = dt.date(2024, 10, 1)
PERIOD_END = dt.date(2025, 9, 30)

# ----------------------------------------------------------- calibration targets
N_SERIOUS_VIOLENCE = 5123  # DESIGN.md: HIPS serious-violence occurrences, 2022/23
NON_SV_SHARE = 0.15  # non-SV violence rows, as a share of the SV count
SOUTHAMPTON_PORTSMOUTH_SHARE = 0.46
POSSESSION_OF_WEAPONS_SHARE = 0.42
MSV_SHARE = 0.23  # strategy launch: "23% of offences were MSV"
FLAG_SHARES = {  # share of SV occurrences with the flag set
    "public_place": 0.61,
    "bladed_implement": 0.33,
    "domestic": 0.11,
    "licensed_premises": 0.08,
    "alcohol": 0.10,
    "drugs": 0.04,
    "hate_crime": 0.01,
}
MALE_VICTIM_SHARE = 0.71  # of victims whose sex is recorded as male or female
# Assumption: 45% of victims with a recorded age are under 25. The April 2023
# annual report counts 1,348 SV offences in 2022 with a victim under 25; about
# 2,970 of 5,123 SV occurrences have a victim (possession of weapons has none).
UNDER_25_SHARE = 0.45
DUPLICATE_REF_SHARE = 0.003

# HMIC mix of the SV that is not possession of weapons, from the strategy
# launch's HMIC 20 group table (1a 3, 1b 318, 3a 38, 3b 245, 8 4).
NON_POW_MIX = {"homicide": 3, "violence_with_injury": 318, "robbery_business": 38,
               "robbery_personal": 245, "violent_disorder": 4}

# Weekday x hour table of 1,006 SV occurrences (strategy launch), Monday first.
WEEKDAY_HOUR = np.array([
    [4, 7, 4, 1, 1, 1, 1, 1, 2, 7, 4, 7, 8, 6, 6, 8, 7, 10, 7, 8, 9, 14, 12, 7],
    [2, 4, 6, 4, 1, 1, 1, 1, 3, 4, 1, 1, 6, 5, 1, 9, 4, 13, 8, 11, 5, 4, 6, 9],
    [5, 5, 5, 2, 1, 1, 1, 2, 1, 7, 2, 7, 6, 5, 6, 6, 9, 10, 16, 5, 13, 9, 7, 4],
    [5, 13, 3, 6, 1, 1, 2, 1, 4, 3, 10, 4, 5, 8, 9, 5, 10, 8, 9, 10, 8, 11, 6, 10],
    [2, 6, 4, 2, 4, 2, 1, 2, 3, 9, 3, 5, 8, 8, 5, 7, 4, 6, 8, 12, 14, 13, 10, 16],
    [10, 8, 5, 9, 4, 4, 2, 3, 1, 9, 4, 7, 6, 4, 4, 5, 8, 7, 10, 6, 6, 13, 11, 19],
    [11, 10, 12, 12, 1, 2, 1, 1, 1, 3, 2, 3, 5, 7, 9, 8, 10, 3, 6, 19, 6, 7, 12, 8],
], dtype=float)
# The table's weekday totals are Mon 141, Tue 109, Wed 130, Thu 150, Fri 154,
# Sat 165, Sun 157 (Saturday highest), but the SNA text says "most occurrences
# happened on Fridays, followed by Saturdays and Sundays". Keep each weekday's
# hour shape from the table and reorder the three top totals to the SNA's order.
WEEKDAY_TOTALS = np.array([141, 109, 130, 150, 165, 157, 154], dtype=float)

MONTH_FACTOR = {10: 1.0, 11: 0.95, 12: 0.95, 1: 0.85, 2: 0.85, 3: 0.95, 4: 1.0,
                5: 1.05, 6: 1.1, 7: 1.3, 8: 1.3, 9: 1.05}
SCHOOL_HOLIDAY_FACTOR = 1.2
# Approximate Hampshire maintained-school holidays, 2024/25 (inclusive).
SCHOOL_HOLIDAYS = [
    ("2024-10-28", "2024-11-01"), ("2024-12-23", "2025-01-03"),
    ("2025-02-17", "2025-02-21"), ("2025-04-07", "2025-04-21"),
    ("2025-05-26", "2025-05-30"), ("2025-07-24", "2025-09-02"),
]

LOCATION_SHARES = {  # how each row's location is given
    "bng": 0.45, "wgs84": 0.20, "postcode": 0.15, "street_text": 0.10,
    "place_name": 0.03, "bad": 0.07,
}
WGS84_SWAPPED_SHARE = 0.03  # of WGS84 rows
POSTCODE_SECTOR_SHARE = 0.05  # of postcode rows
POSTCODE_UNTIDY_SHARE = 0.08  # of postcode rows: no/double space, lower case
BAD_KINDS = {"missing": 0.4, "malformed": 0.3, "out_of_area": 0.3}

OUT_OF_AREA = [  # (label, easting, northing) or lon/lat for Null Island
    ("Bournemouth, Dorset", 408900.0, 91300.0),
    ("Poole, Dorset", 401000.0, 90900.0),
    ("Guildford, Surrey", 499500.0, 149500.0),
    ("Farnham, Surrey", 484000.0, 146800.0),
    ("Chichester, West Sussex", 486000.0, 104900.0),
    ("Salisbury, Wiltshire", 414500.0, 130000.0),
    ("Null Island", np.nan, np.nan),
]
MALFORMED = [
    {"Postcode": "SO99 9ZZ"}, {"Postcode": "N/A"}, {"Easting": "12345"},
    {"Easting": "N/A", "Northing": "N/A"}, {"Location Description": "N/A"},
    {"Location Description": "12345"}, {"Postcode": "XX1 1XX"},
    {"Location Description": "TBC"}, {"Latitude": "51.0.2", "Longitude": "-1.4"},
]
TEXT_PREFIXES = ["", "", "", "outside the Co-op, ", "junction with ", "rear of ",
                 "near bus stop, ", "outside ", "o/s shops, "]

OFFENCE_MIX = {  # category -> [(code as written, description, share)]
    "homicide": [("001/01", "Murder - victim aged 1 year or over", 0.8),
                 ("4/1", "Manslaughter", 0.2)],
    "gbh": [("8F", "Inflicting grievous bodily harm without intent (s20)", 0.52),
            ("005/01", "Wounding with intent to do grievous bodily harm (s18)", 0.36),
            ("5E", "Endangering life", 0.03),
            ("002", "Attempted murder", 0.03),
            ("4/4", "Causing death or serious injury by dangerous driving", 0.03),
            ("8H", "Racially or religiously aggravated inflicting grievous bodily "
                   "harm without intent", 0.01),
            ("4/8", "Causing death by careless or inconsiderate driving", 0.01),
            ("4/7", "Causing or allowing death or serious physical harm of a child "
                    "or vulnerable person", 0.01)],
    "bladed_1b": [("8N", "Assault with injury (ABH)", 0.95),
                  ("8P", "Racially or religiously aggravated assault with injury",
                   0.03),
                  ("8T", "Assault with injury on an emergency worker (other than a "
                         "constable)", 0.02)],
    "robbery_business": [("034A", "Robbery of business property", 1.0)],
    "robbery_personal": [("034B", "Robbery of personal property", 1.0)],
    "pow_blade": [("010D", "Possession of article with blade or point", 1.0)],
    "pow_other": [("10C", "Possession of other weapons", 0.85),
                  ("10B", "Possession of firearms offences", 0.10),
                  ("10A", "Possession of firearms with intent", 0.05)],
    "violent_disorder": [("065", "Violent disorder", 0.9), ("064/01", "Riot", 0.1)],
    "non_sv": [("8N", "Assault with injury (ABH)", 0.45),
               ("105A", "Assault without injury (common assault)", 0.40),
               ("9A", "Public fear, alarm or distress", 0.15)],
}
SV_CATEGORY_OF = {
    "homicide": "most_serious_violence", "gbh": "most_serious_violence",
    "bladed_1b": "bladed_violence_with_injury", "robbery_business": "robbery",
    "robbery_personal": "robbery", "pow_blade": "possession_of_weapons",
    "pow_other": "possession_of_weapons", "violent_disorder": "violent_disorder",
}

COLUMNS = [
    "Occurrence Ref", "Committed From", "Committed To", "HO Offence Code",
    "Offence Description", "Public Place", "Bladed Implement", "Domestic Flag",
    "Licensed Premises", "Alcohol Flag", "Drugs Flag", "Hate Crime", "Victim Age",
    "Victim Sex", "Easting", "Northing", "Latitude", "Longitude", "Postcode",
    "Location Description", "District",
]
FLAG_HEADERS = {
    "public_place": "Public Place", "bladed_implement": "Bladed Implement",
    "domestic": "Domestic Flag", "licensed_premises": "Licensed Premises",
    "alcohol": "Alcohol Flag", "drugs": "Drugs Flag", "hate_crime": "Hate Crime",
}
CITIES = ("Southampton", "Portsmouth")


# ------------------------------------------------------------------ helpers
def exact_counts(shares: dict[str, float], total: int) -> dict[str, int]:
    """Split ``total`` in proportion to ``shares`` (largest remainder, exact sum)."""
    keys = list(shares)
    weights = np.array([shares[k] for k in keys], dtype=float)
    raw = weights / weights.sum() * total
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return dict(zip(keys, counts.tolist(), strict=True))


def choose_exact(
    rng: np.random.Generator, weights: np.ndarray, count: int
) -> np.ndarray:
    """Return a boolean mask with exactly ``count`` rows picked, by weight."""
    mask = np.zeros(len(weights), dtype=bool)
    if count <= 0:
        return mask
    eligible = np.flatnonzero(weights > 0)
    if count > len(eligible):
        raise ValueError(f"count {count} exceeds {len(eligible)} eligible rows")
    p = weights[eligible] / weights[eligible].sum()
    mask[rng.choice(eligible, size=count, replace=False, p=p)] = True
    return mask


def systematic_sample(
    rng: np.random.Generator, probabilities: np.ndarray, count: int
) -> np.ndarray:
    """Draw ``count`` cells so each cell's count is within 1 of its expectation."""
    cumulative = np.cumsum(probabilities / probabilities.sum())
    cumulative[-1] = 1.0
    points = (rng.random() + np.arange(count)) / count
    return np.searchsorted(cumulative, points, side="right")


def pick_codes(
    rng: np.random.Generator, category: str, count: int
) -> tuple[list[str], list[str]]:
    mix = OFFENCE_MIX[category]
    counts = exact_counts({str(i): share for i, (_, _, share) in enumerate(mix)}, count)
    codes: list[str] = []
    descriptions: list[str] = []
    for i, (code, description, _) in enumerate(mix):
        codes += [code] * counts[str(i)]
        descriptions += [description] * counts[str(i)]
    order = rng.permutation(count)
    return [codes[i] for i in order], [descriptions[i] for i in order]


# ------------------------------------------------------------- real inputs
def load_snap_points(shared: Path) -> pd.DataFrame:
    """Police.uk violence, robbery and weapons rows with their district (not Aug)."""
    files = sorted((shared / "police_uk").glob("2025-*-hampshire-street.csv"))
    files = [f for f in files if not f.name.startswith("2025-08")]  # corrupt month
    if not files:
        raise FileNotFoundError(f"no police.uk files in {shared / 'police_uk'}")
    usecols = ["Longitude", "Latitude", "Location", "LSOA code", "Crime type"]
    crimes = pd.concat([pd.read_csv(f, usecols=usecols) for f in files],
                       ignore_index=True)
    crimes = crimes[crimes["Crime type"].isin(
        ["Violence and sexual offences", "Robbery", "Possession of weapons"]
    )]
    lookup = pd.read_csv(shared / "boundaries" / "lookup_lsoa21_ward24_lad24_hips.csv")
    lookup = lookup.drop_duplicates("lsoa21_code").set_index("lsoa21_code")
    crimes = crimes.assign(district=crimes["LSOA code"].map(lookup["ltla24_name"]))
    crimes = crimes.dropna(subset=["district", "Longitude", "Latitude"])
    easting, northing = lonlat_to_bng(crimes["Longitude"], crimes["Latitude"])
    street = crimes["Location"].str.replace(r"^On or near\s+", "", regex=True)
    street = street.str.replace(r"'S\b", "'s", regex=True)
    return pd.DataFrame({
        "district": crimes["district"].to_numpy(),
        "crime_type": crimes["Crime type"].to_numpy(),
        "easting": easting, "northing": northing,
        "street": street.to_numpy(),
    })


def district_shares(snaps: pd.DataFrame) -> dict[str, float]:
    """CSP shares: Southampton + Portsmouth 46%, the rest by police.uk volume."""
    volume = snaps.groupby("district").size().sort_index()
    cities = volume[volume.index.isin(CITIES)]
    others = volume[~volume.index.isin(CITIES)]
    shares = (cities / cities.sum() * SOUTHAMPTON_PORTSMOUTH_SHARE).to_dict()
    rest = 1 - SOUTHAMPTON_PORTSMOUTH_SHARE
    shares.update((others / others.sum() * rest).to_dict())
    return {k: float(v) for k, v in sorted(shares.items())}


def load_land(shared: Path) -> Any:
    path = shared / "boundaries" / "lsoa11_hips_generalised_clipped.geojson"
    lsoas = gpd.read_file(path)
    lsoas = lsoas.to_crs("EPSG:27700")
    land = shapely.union_all(shapely.make_valid(lsoas.geometry.to_numpy()))
    shapely.prepare(land)
    return land


def load_postcodes(shared: Path) -> pd.DataFrame:
    table = pd.read_csv(shared / "postcodes" / "codepoint_open_2025_4_hips.csv",
                        usecols=["Postcode", "Eastings", "Northings"])
    return table.dropna().reset_index(drop=True)


def load_places(shared: Path) -> pd.DataFrame:
    path = next((shared / "gazetteer").glob("*.tsv"))
    table = pd.read_csv(path, sep="\t", header=None, usecols=[2, 9, 10],
                        names=["place", "lat", "lon"], dtype={2: str})
    table = table.drop_duplicates("place").reset_index(drop=True)
    easting, northing = lonlat_to_bng(table["lon"], table["lat"])
    return table.assign(easting=easting, northing=northing)


# ------------------------------------------------------------------ generation
def _categories() -> tuple[list[str], dict[str, int]]:
    n_pow = round(POSSESSION_OF_WEAPONS_SHARE * N_SERIOUS_VIOLENCE)
    rest = exact_counts({k: float(v) for k, v in NON_POW_MIX.items()},
                        N_SERIOUS_VIOLENCE - n_pow)
    n_msv = round(MSV_SHARE * N_SERIOUS_VIOLENCE)
    n_gbh = n_msv - rest["homicide"]
    counts = {
        "homicide": rest["homicide"],
        "gbh": n_gbh,
        "bladed_1b": rest["violence_with_injury"] - n_gbh,
        "robbery_business": rest["robbery_business"],
        "robbery_personal": rest["robbery_personal"],
        "violent_disorder": rest["violent_disorder"],
    }
    # bladed implement: all bladed 1b, a share of GBH/homicide/robbery/disorder,
    # and possession of an article with a blade or point makes up the rest
    n_bladed = round(FLAG_SHARES["bladed_implement"] * N_SERIOUS_VIOLENCE)
    other_bladed = round(0.30 * n_gbh + 0.5 * rest["homicide"]
                         + 0.12 * (rest["robbery_business"] + rest["robbery_personal"]))
    counts["pow_blade"] = n_bladed - counts["bladed_1b"] - other_bladed
    counts["pow_other"] = n_pow - counts["pow_blade"]
    counts["non_sv"] = round(NON_SV_SHARE * N_SERIOUS_VIOLENCE)
    categories = [k for k, n in counts.items() for _ in range(n)]
    return categories, counts | {"_other_bladed": other_bladed}


def _times(rng: np.random.Generator, n: int) -> pd.DatetimeIndex:
    days = pd.date_range(PERIOD_START, PERIOD_END, freq="D")
    weekday_shape = WEEKDAY_HOUR / WEEKDAY_HOUR.sum(axis=1, keepdims=True)
    weekday_weight = WEEKDAY_TOTALS / WEEKDAY_TOTALS.sum()
    day_weight = np.array([MONTH_FACTOR[d.month] for d in days])
    holiday = np.zeros(len(days), dtype=bool)
    for start, end in SCHOOL_HOLIDAYS:
        holiday |= (days >= start) & (days <= end)
    day_weight = day_weight * np.where(holiday, SCHOOL_HOLIDAY_FACTOR, 1.0)
    day_weight = day_weight * weekday_weight[days.day_of_week]
    cells = day_weight[:, None] * weekday_shape[days.day_of_week]  # day x hour
    picked = systematic_sample(rng, cells.ravel(), n)
    picked = picked[rng.permutation(n)]
    day, hour = np.divmod(picked, 24)
    minutes = rng.integers(0, 60, size=n)
    return pd.DatetimeIndex(days[day] + pd.to_timedelta(hour * 60 + minutes, unit="m"))


def _flags(
    rng: np.random.Generator, frame: pd.DataFrame
) -> dict[str, np.ndarray]:
    cat = frame["category"].to_numpy()
    hour = frame["from"].dt.hour.to_numpy()
    weekend = frame["from"].dt.day_of_week.to_numpy() >= 4
    evening = (hour >= 19) | (hour <= 2)
    sv = cat != "non_sv"
    n_sv = int(sv.sum())
    targets = {k: round(v * n_sv) for k, v in FLAG_SHARES.items()}
    flags: dict[str, np.ndarray] = {}

    def is_(*names: str) -> np.ndarray:
        return np.isin(cat, names)

    violent = is_("homicide", "gbh", "bladed_1b")
    robbery = is_("robbery_business", "robbery_personal")
    pow_ = is_("pow_blade", "pow_other")

    bladed = is_("bladed_1b", "pow_blade")
    weights = (is_("gbh") * 1.0 + is_("homicide") * 2.0 + robbery * 0.5
               + is_("violent_disorder") * 0.5)
    still_needed = targets["bladed_implement"] - int(bladed.sum())
    bladed |= choose_exact(rng, weights, still_needed)
    flags["bladed_implement"] = bladed

    weights = violent * 3.0 + robbery * 0.05 + pow_ * 0.05
    domestic = choose_exact(rng, weights, targets["domestic"])
    flags["domestic"] = domestic

    weights = np.where(domestic, 0.05, 1.0) * (
        pow_ * 3.0 + is_("robbery_personal") * 3.0 + is_("robbery_business") * 1.0
        + violent * 1.0 + is_("violent_disorder") * 3.0
    )
    flags["public_place"] = choose_exact(rng, weights, targets["public_place"])

    nte = (violent | is_("violent_disorder")) & ~domestic
    weights = sv * np.where(domestic, 0.0, 1.0) * (
        0.3 + nte * (1.0 + 4.0 * evening + 2.0 * weekend)
    )
    licensed = choose_exact(rng, weights, targets["licensed_premises"])
    flags["licensed_premises"] = licensed

    weights = sv * (0.3 + licensed * 6.0 + (evening & weekend) * 1.0 + violent * 0.5)
    flags["alcohol"] = choose_exact(rng, weights, targets["alcohol"])
    weights = sv * (1.0 + pow_ * 1.0 + robbery * 1.0)
    flags["drugs"] = choose_exact(rng, weights, targets["drugs"])
    weights = sv * (violent * 1.0 + robbery * 1.0 + is_("violent_disorder") * 1.0
                    + pow_ * 0.1)
    flags["hate_crime"] = choose_exact(rng, weights, targets["hate_crime"])

    # non-SV violence rows: flags drawn independently; ABH (8N) never bladed
    # (else it would be serious violence), a few other non-SV rows are
    non = ~sv
    code = frame["code"].to_numpy()
    draws = {"public_place": 0.5, "domestic": 0.3, "licensed_premises": 0.06,
             "alcohol": 0.12, "drugs": 0.03, "hate_crime": 0.02,
             "bladed_implement": 0.05}
    for name, share in draws.items():
        extra = non & (rng.random(len(cat)) < share)
        if name == "bladed_implement":
            extra &= code != "8N"
        if name == "public_place":
            extra &= ~flags["domestic"]
        flags[name] = flags[name] | extra
    return flags


def _victims(
    rng: np.random.Generator, frame: pd.DataFrame
) -> tuple[list[str], list[str]]:
    cat = frame["category"].to_numpy()
    n = len(cat)
    has_victim = ~np.isin(cat, ["pow_blade", "pow_other", "violent_disorder"])
    n_victims = int(has_victim.sum())
    # sex: 2% unknown, the rest 71% male (exact counts)
    sex = np.full(n, "", dtype=object)
    idx = rng.permutation(np.flatnonzero(has_victim))
    n_unknown = round(0.02 * n_victims)
    n_male = round(MALE_VICTIM_SHARE * (n_victims - n_unknown))
    sex[idx[:n_unknown]] = "Unknown"
    sex[idx[n_unknown:n_unknown + n_male]] = "Male"
    sex[idx[n_unknown + n_male:]] = "Female"
    # age: 3% not recorded; of the rest UNDER_25_SHARE under 25
    age = np.full(n, "", dtype=object)
    idx = rng.permutation(np.flatnonzero(has_victim))
    n_missing = round(0.03 * n_victims)
    aged = idx[n_missing:]
    n_young = round(UNDER_25_SHARE * len(aged))
    young_ages = np.arange(10, 25)
    young_w = np.exp(-0.5 * ((young_ages - 18.5) / 3.5) ** 2)
    old_ages = np.arange(25, 90)
    old_w = np.exp(-(old_ages - 25) / 14.0)
    age[aged[:n_young]] = rng.choice(young_ages, size=n_young,
                                     p=young_w / young_w.sum()).astype(str)
    age[aged[n_young:]] = rng.choice(old_ages, size=len(aged) - n_young,
                                     p=old_w / old_w.sum()).astype(str)
    return age.tolist(), sex.tolist()


def _locations(
    rng: np.random.Generator, frame: pd.DataFrame, *, shared: Path,
    snaps: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    n = len(frame)
    land = load_land(shared)
    # snap point per row: same district, category-appropriate crime type
    wanted = np.where(np.isin(frame["category"], ["pow_blade", "pow_other"]),
                      "Possession of weapons",
                      np.where(np.isin(frame["category"],
                                       ["robbery_business", "robbery_personal"]),
                               "Robbery", "Violence and sexual offences"))
    snap_index = np.empty(n, dtype=int)
    groups = {key: idx.to_numpy() for key, idx in
              snaps.groupby(["district", "crime_type"]).groups.items()}
    by_district = {key: idx.to_numpy() for key, idx in
                   snaps.groupby("district").groups.items()}
    districts = frame["district"].to_numpy()
    for i in range(n):
        pool = groups.get((districts[i], wanted[i]))
        if pool is None or len(pool) < 20:
            pool = by_district[districts[i]]
        snap_index[i] = pool[rng.integers(len(pool))]
    base_e = snaps["easting"].to_numpy()[snap_index]
    base_n = snaps["northing"].to_numpy()[snap_index]
    # jitter a few tens of metres; keep on land (retry, else the snap point)
    east = base_e.copy()
    north = base_n.copy()
    pending = np.ones(n, dtype=bool)
    for _ in range(8):
        radius = rng.uniform(10.0, 50.0, size=n)
        angle = rng.uniform(0.0, 2 * np.pi, size=n)
        cand_e = base_e + radius * np.cos(angle)
        cand_n = base_n + radius * np.sin(angle)
        ok = pending & shapely.contains_xy(land, cand_e, cand_n)
        east[ok] = cand_e[ok]
        north[ok] = cand_n[ok]
        pending &= ~ok
    east = np.round(east)
    north = np.round(north)
    on_land = shapely.contains_xy(land, east, north)
    streets = snaps["street"].to_numpy()[snap_index]

    kinds_count = exact_counts(LOCATION_SHARES, n)
    kinds = np.array([k for k, c in kinds_count.items() for _ in range(c)])
    kinds = kinds[rng.permutation(n)]

    out = {c: np.full(n, "", dtype=object) for c in
           ["Easting", "Northing", "Latitude", "Longitude", "Postcode",
            "Location Description"]}
    lon, lat = bng_to_lonlat(east, north)

    sel = kinds == "bng"
    out["Easting"][sel] = east[sel].astype(int).astype(str)
    out["Northing"][sel] = north[sel].astype(int).astype(str)

    sel = np.flatnonzero(kinds == "wgs84")
    swapped = rng.permutation(sel)[: round(WGS84_SWAPPED_SHARE * len(sel))]
    out["Latitude"][sel] = np.char.mod("%.6f", lat[sel])
    out["Longitude"][sel] = np.char.mod("%.6f", lon[sel])
    out["Latitude"][swapped] = np.char.mod("%.6f", lon[swapped])
    out["Longitude"][swapped] = np.char.mod("%.6f", lat[swapped])

    postcodes = load_postcodes(shared)
    tree = cKDTree(postcodes[["Eastings", "Northings"]].to_numpy(dtype=float))
    sel = np.flatnonzero(kinds == "postcode")
    _, nearest = tree.query(np.column_stack([east[sel], north[sel]]))
    codes = postcodes["Postcode"].to_numpy()[nearest].astype(object)
    order = rng.permutation(len(sel))
    n_sector = round(POSTCODE_SECTOR_SHARE * len(sel))
    n_untidy = round(POSTCODE_UNTIDY_SHARE * len(sel))
    for j in order[:n_sector]:
        codes[j] = codes[j][:-2].strip()  # sector only: "SO14 3"
    for k, j in enumerate(order[n_sector:n_sector + n_untidy]):
        text = " ".join(codes[j].split())
        codes[j] = [text.replace(" ", ""), text.lower(), text.replace(" ", "  "),
                    text.lower().replace(" ", "")][k % 4]
    out["Postcode"][sel] = codes

    places = load_places(shared)
    place_tree = cKDTree(places[["easting", "northing"]].to_numpy())
    _, nearest_place = place_tree.query(np.column_stack([east, north]))
    town = places["place"].to_numpy()[nearest_place]

    sel = np.flatnonzero(kinds == "street_text")
    prefixes = rng.choice(len(TEXT_PREFIXES), size=len(sel))
    out["Location Description"][sel] = [
        (f"outside the {streets[i].lower()}, {town[i]}"
         if "/" in streets[i] or streets[i] in POI_TYPES
         else f"{TEXT_PREFIXES[p]}{streets[i]}, {town[i]}")
        for i, p in zip(sel, prefixes, strict=True)
    ]
    sel = kinds == "place_name"
    out["Location Description"][sel] = town[sel]

    sel = np.flatnonzero(kinds == "bad")
    bad_counts = exact_counts(BAD_KINDS, len(sel))
    bad_kind = np.array([k for k, c in bad_counts.items() for _ in range(c)])
    bad_kind = bad_kind[rng.permutation(len(sel))]
    n_malformed = n_out = 0
    for row, kind in zip(sel, bad_kind, strict=True):
        if kind == "malformed":
            for column, value in MALFORMED[n_malformed % len(MALFORMED)].items():
                out[column][row] = value
            n_malformed += 1
        elif kind == "out_of_area":
            label, e, nn = OUT_OF_AREA[n_out % len(OUT_OF_AREA)]
            if label == "Null Island":
                out["Latitude"][row] = "0"
                out["Longitude"][row] = "0"
            elif n_out % 2:
                lo, la = bng_to_lonlat([e], [nn])
                out["Latitude"][row] = f"{la[0]:.6f}"
                out["Longitude"][row] = f"{lo[0]:.6f}"
            else:
                out["Easting"][row] = str(int(e + rng.integers(-300, 300)))
                out["Northing"][row] = str(int(nn + rng.integers(-300, 300)))
            n_out += 1
    located = pd.DataFrame(out, index=frame.index)
    info = {
        "location_kinds": {k: int(v) for k, v in kinds_count.items()},
        "location_shares": {k: round(v / n, 4) for k, v in kinds_count.items()},
        "wgs84_swapped_rows": len(swapped),
        "postcode_sector_only_rows": n_sector,
        "postcode_untidy_rows": n_untidy,
        "bad_rows": {k: int(v) for k, v in bad_counts.items()},
        "true_points_on_land": int(on_land.sum()),
    }
    truth = pd.DataFrame({"true_easting": east, "true_northing": north,
                          "location_kind": kinds}, index=frame.index)
    return pd.concat([located, truth], axis=1), info


POI_TYPES = {
    "Parking Area", "Supermarket", "Shopping Area", "Petrol Station", "Hospital",
    "Nightclub", "Park/Open Space", "Bus/Coach Station", "Theatre/Concert Hall",
    "Sports/Recreation Area", "Further/Higher Educational Building", "Police Station",
    "Pedestrian Subway", "Conference/Exhibition Centre", "Airport/Airfield",
}


def _refs(rng: np.random.Generator, when: pd.Series) -> tuple[list[str], int]:
    years = when.dt.year.to_numpy() % 100
    refs = [f"44{y:02d}{i + 1:07d}" for i, y in enumerate(years)]
    n_dup = round(DUPLICATE_REF_SHARE * len(refs))
    rows = rng.choice(np.arange(1, len(refs)), size=n_dup, replace=False)
    for row in sorted(rows.tolist()):
        refs[row] = refs[row - 1]  # a second crime on the previous occurrence
    return refs, n_dup


def _format_time(values: pd.Series) -> np.ndarray:
    return values.dt.strftime("%d/%m/%Y %H:%M").fillna("").to_numpy(dtype=object)


def generate(
    *, seed: int = DEFAULT_SEED, shared: Path | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Generate the synthetic extract in memory.

    Parameters
    ----------
    seed
        Seed of the random generator; the same seed gives the same table.
    shared
        Folder of the real public data (``SHARED_DATA_DIR`` when None).

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        The extract (every column text, ``""`` for empty, as written to CSV)
        and its metadata (seed, version, targets, achieved figures).
    """
    shared = Path(shared) if shared is not None else SHARED_DATA_DIR
    rng = np.random.default_rng(seed)
    snaps = load_snap_points(shared)
    shares = district_shares(snaps)

    categories, counts = _categories()
    n = len(categories)
    frame = pd.DataFrame({"category": np.array(categories)[rng.permutation(n)]})
    frame["from"] = _times(rng, n)
    codes = np.empty(n, dtype=object)
    descriptions = np.empty(n, dtype=object)
    for category in OFFENCE_MIX:
        sel = np.flatnonzero(frame["category"].to_numpy() == category)
        c, d = pick_codes(rng, category, len(sel))
        codes[sel] = c
        descriptions[sel] = d
    frame["code"] = codes
    frame["description"] = descriptions
    district_count = exact_counts(shares, n)
    district = np.array([k for k, c in district_count.items() for _ in range(c)])
    frame["district"] = district[rng.permutation(n)]

    flags = _flags(rng, frame)
    age, sex = _victims(rng, frame)
    duration = np.where(rng.random(n) < 0.6, 0, rng.integers(5, 181, size=n))
    to = frame["from"] + pd.to_timedelta(duration, unit="m")
    to = to.where(rng.random(n) >= 0.1)  # "Committed To" often left empty
    located, location_info = _locations(rng, frame, shared=shared, snaps=snaps)

    # code as written: some padded, some lower case, a few left blank
    written = frame["code"].to_numpy(dtype=object).copy()
    lower = rng.random(n) < 0.05
    written[lower] = [c.lower() for c in written[lower]]
    blank_code = rng.random(n) < 0.02
    written[blank_code] = ""

    table = pd.DataFrame({
        "Committed From": _format_time(frame["from"]),
        "Committed To": _format_time(to),
        "HO Offence Code": written,
        "Offence Description": frame["description"].to_numpy(dtype=object),
        **{FLAG_HEADERS[k]: np.where(v, "Y", "N").astype(object)
           for k, v in flags.items()},
        "Victim Age": age,
        "Victim Sex": sex,
        **{c: located[c].to_numpy() for c in
           ["Easting", "Northing", "Latitude", "Longitude", "Postcode",
            "Location Description"]},
        "District": frame["district"].to_numpy(dtype=object),
    })
    order = np.argsort(frame["from"].to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    refs, n_dup = _refs(rng, frame["from"].iloc[order].reset_index(drop=True))
    table.insert(0, "Occurrence Ref", refs)
    table = table[COLUMNS].astype(str)

    metadata = {
        "banner": BANNER,
        "description": ("Synthetic police records-system extract of serious "
                        "violence and some non-serious violence, HIPS, "
                        f"{PERIOD_START} to {PERIOD_END}."),
        "generator": "scripts/make_synthetic_extract.py",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "period": {"start": str(PERIOD_START), "end": str(PERIOD_END)},
        "rows": n,
        "columns": COLUMNS,
        "mapping_file": "data/mappings/synthetic_rms.toml",
        "category_counts": {k: v for k, v in counts.items() if not k.startswith("_")},
        "district_shares_target": {k: round(v, 4) for k, v in shares.items()},
        "location": location_info,
        "duplicate_occurrence_refs": n_dup,
        "assumptions": ASSUMPTIONS,
        "sources": SOURCES,
        "calibration": calibration(table),
    }
    return table, metadata


ASSUMPTIONS = [
    "Serious violence volume 5,123 and every share are the HIPS 2022/23 needs "
    "assessment figures (DESIGN.md), applied to 2024/25 dates.",
    "Non-serious violence rows (ABH without a blade, common assault, public fear) "
    "are 15% of the SV count; the classifier must leave them out.",
    "Southampton and Portsmouth together hold 46%, split between them, and the "
    "other 12 districts the remaining 54%, in proportion to police.uk violence and "
    "sexual offences, robbery and possession of weapons rows, January-September "
    "2025 without the corrupt August file.",
    "HMIC mix of the SV that is not possession of weapons follows the strategy "
    "launch's HMIC 20 group table; MSV is 23% of SV (strategy launch); the rest of "
    "violence with injury is bladed (the bladed-1b clause).",
    "Bladed implement: every bladed-1b row, about 30% of GBH and above, 50% of "
    "homicides, 12% of robberies, and possession of an article with a blade or "
    "point (10D) for the rest of the 33%.",
    "Possession of weapons and violent disorder have no victim (age and sex empty).",
    "Victim sex: 2% Unknown; of the rest 71% Male. Victim age: 3% not recorded; "
    "45% of the rest under 25 (1,348 under-25-victim SV offences in 2022, annual "
    "report, over about 2,970 SV occurrences with a victim).",
    "Hour-by-weekday profile: each weekday's hour shape from the strategy launch's "
    "1,006-occurrence table; weekday totals reordered so Friday is busiest, then "
    "Saturday and Sunday, as the SNA text states (the table itself has Saturday "
    "highest).",
    "Seasonality: month factors peaking in July and August (x1.3) and x1.2 in "
    "approximate Hampshire school holidays 2024/25.",
    "Locations: police.uk snap points of the same district and crime type, "
    "jittered 10-50 m and kept on land (HIPS LSOA 2011 clipped coastline).",
    "About 0.3% of rows repeat the previous row's Occurrence Ref (two crimes on "
    "one occurrence); every row is one crime.",
]
SOURCES = [
    "DESIGN.md needs-assessment figures (HIPS VRU, 2022/23).",
    "HIPS Violence Reduction Partnership strategy launch (weekday x hour table, "
    "HMIC group table, MSV share).",
    "HIPS VRU Annual Report, April 2023 (definition; under-25 victims).",
    "police.uk street-level crime, Hampshire Constabulary, 2025 (OGL v3.0).",
    "OS Code-Point Open 2025.4 (OS data © Crown copyright and database right 2025; "
    "Royal Mail data © Royal Mail copyright and database right 2025; National "
    "Statistics data © Crown copyright and database right 2025).",
    "GeoNames GB postal places (CC BY 4.0).",
    "ONS LSOA boundaries and lookups (OGL v3.0).",
]


# ------------------------------------------------------------- calibration check
def apply_mapping(
    table: pd.DataFrame, *, mapping_path: Path = MAPPING_PATH
) -> pd.DataFrame:
    """Rename and read the extract's columns as ``mapping_path`` says (minimal).

    Only what the calibration check needs: canonical names, flags as booleans,
    victim sex as M/F/U, times parsed. The project's records reader is the full
    implementation.
    """
    with mapping_path.open("rb") as handle:
        mapping = tomllib.load(handle)
    columns = mapping["columns"]
    values = mapping["values"]
    out = pd.DataFrame(index=table.index)
    for canonical, header in columns.items():
        out[canonical] = table[header]
    true = {str(v).upper() for v in values["true"]}
    for flag in FLAG_HEADERS:
        if flag in out.columns:
            out[flag] = out[flag].str.strip().str.upper().isin(true)
    sex = out["victim_sex"].map(values["sex"]).fillna("U")
    out["victim_sex"] = sex.where(table[columns["victim_sex"]].ne(""), pd.NA)
    out["victim_age"] = pd.to_numeric(out["victim_age"], errors="coerce")
    out["occurred_from"] = pd.to_datetime(out["occurred_from"],
                                          format=values["datetime_formats"][0])
    out["district"] = table["District"]
    return out


def calibration(table: pd.DataFrame) -> dict[str, Any]:
    """Targets and achieved figures, measured with ``hotspot.definitions.classify``."""
    rows = classify(apply_mapping(table))
    sv = rows[rows["is_serious_violence"].fillna(False).astype(bool)]
    n_sv = len(sv)
    victims = sv["victim_sex"].isin(["M", "F"])
    aged = sv["victim_age"].notna()
    by_month = sv["occurred_from"].dt.month.value_counts().sort_index()
    by_weekday = sv["occurred_from"].dt.day_of_week.value_counts().sort_index()
    by_hour = sv["occurred_from"].dt.hour.value_counts().sort_index()
    achieved: dict[str, Any] = {
        "serious_violence_occurrences": n_sv,
        "non_serious_violence_rows": int(len(rows) - n_sv),
        "southampton_portsmouth_share": round(
            float(sv["district"].isin(CITIES).mean()), 4),
        "possession_of_weapons_share": round(
            float(sv["sv_category"].eq("possession_of_weapons").mean()), 4),
        "flag_shares": {k: round(float(sv[k].mean()), 4) for k in FLAG_SHARES},
        "male_victim_share": round(float(sv.loc[victims, "victim_sex"].eq("M").mean()),
                                   4),
        "under_25_victim_share": round(float((sv.loc[aged, "victim_age"] < 25).mean()),
                                       4),
        "sv_category_counts": {
            str(k): int(v) for k, v in sv["sv_category"].value_counts().sort_index()
            .items()
        },
        "monthly_counts": {str(k): int(v) for k, v in by_month.items()},
        "weekday_counts_mon_first": [int(by_weekday.get(d, 0)) for d in range(7)],
        "hour_counts": [int(by_hour.get(h, 0)) for h in range(24)],
    }
    targets = {
        "serious_violence_occurrences": N_SERIOUS_VIOLENCE,
        "non_serious_violence_rows": round(NON_SV_SHARE * N_SERIOUS_VIOLENCE),
        "southampton_portsmouth_share": SOUTHAMPTON_PORTSMOUTH_SHARE,
        "possession_of_weapons_share": POSSESSION_OF_WEAPONS_SHARE,
        "flag_shares": FLAG_SHARES,
        "male_victim_share": MALE_VICTIM_SHARE,
        "under_25_victim_share": UNDER_25_SHARE,
        "peaks": "July and August above the monthly mean; Friday busiest; evenings "
                 "highest",
    }
    return {"targets": targets, "achieved": achieved,
            "measured_with": "hotspot.definitions.classify on rows read through "
                             "data/mappings/synthetic_rms.toml"}


# ------------------------------------------------------------------------ main
def write(table: pd.DataFrame, metadata: dict[str, Any], *, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / f"{STEM}.csv", index=False, lineterminator="\n")
    with (out_dir / f"{STEM}.json").open("w", encoding="utf-8") as handle:
        json.dump(metadata, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    table, metadata = generate(seed=args.seed, shared=args.shared_data)
    write(table, metadata, out_dir=args.out_dir)
    logger.info("%s: wrote %d rows to %s", BANNER, len(table), args.out_dir)
    logger.info("achieved: %s", json.dumps(metadata["calibration"]["achieved"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Generate the SYNTHETIC HIPS fire incident sample (Home Office incident-level layout).

No incident-level fire data could be obtained, so this script makes a plausible,
clearly labelled synthetic sample for the fire reader, the deliberate-fire filter
and the fire/violence co-location, deterministically from a seed:

- primary fires, secondary fires, chimney fires, false alarms and special
  services over October 2024 to September 2025;
- fires in towns placed more often in deprived, populous LSOAs (weight:
  residents × (11 − IMD 2025 decile)²), so deliberate fires follow deprivation;
- summer grass and heath fires (secondary, many deliberate) on the large rural
  LSOAs of the New Forest (60%) and on other large rural LSOAs standing in for
  commons and heaths elsewhere (40%), peaking April to August;
- deliberate fires in the late afternoon and evening; chimney fires in winter;
- 15% of incidents with an LSOA code only (as in published Home Office files),
  the rest with easting/northing (10 m) as well.

Output (both named SYNTHETIC):
``data/synthetic/SYNTHETIC_fire_incidents_2024-10_2025-09.csv`` and its ``.json``
metadata. Run: ``.venv/bin/python scripts/make_synthetic_fires.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot.boundaries import load_hips_outline, load_lsoa21
from hotspot.settings import DATA_DIR

logger = logging.getLogger("make_synthetic_fires")

SEED = 20241001
START = pd.Timestamp("2024-10-01")
END = pd.Timestamp("2025-09-30 23:59")
OUT = DATA_DIR / "synthetic" / "SYNTHETIC_fire_incidents_2024-10_2025-09.csv"
FRS_NAME = "Hampshire and Isle of Wight"
NEW_FOREST = "E07000091"
#: Incidents per year by stream: (incident type, deliberate share, where, when).
STREAMS: tuple[tuple[str, str, int, float, str, str], ...] = (
    # name, incident type, count, deliberate share, location model, season model
    ("primary", "Primary Fire", 1400, 0.25, "deprived", "flat"),
    ("secondary_urban", "Secondary Fire", 1500, 0.75, "deprived", "urban"),
    ("secondary_heath", "Secondary Fire", 900, 0.45, "heath", "summer"),
    ("chimney", "Chimney Fire", 150, 0.0, "rural", "winter"),
    ("false_alarm", "False Alarm", 1800, 0.0, "population", "flat"),
    ("special_service", "Special Service", 1000, 0.0, "population", "flat"),
)
PROPERTY_TYPES: dict[str, tuple[tuple[str, float], ...]] = {
    "primary": (
        ("Dwelling", 0.45),
        ("Road vehicle", 0.30),
        ("Other building", 0.15),
        ("Outdoor structure", 0.10),
    ),
    "secondary_urban": (
        ("Refuse and refuse containers", 0.55),
        ("Derelict vehicle", 0.10),
        ("Outdoor structure", 0.15),
        ("Grassland, woodland and crops", 0.20),
    ),
    "secondary_heath": (
        ("Heathland or moorland", 0.55),
        ("Grassland, woodland and crops", 0.45),
    ),
    "chimney": (("Dwelling", 1.0),),
    "false_alarm": (("Dwelling", 0.55), ("Non residential", 0.45)),
    "special_service": (
        ("Road traffic collision", 0.35),
        ("Flooding", 0.20),
        ("Assist other agencies", 0.30),
        ("Animal assistance", 0.15),
    ),
}
#: Relative incidents per month (Jan..Dec) by season model.
SEASONS: dict[str, tuple[float, ...]] = {
    "flat": (1.0,) * 12,
    "urban": (0.8, 0.8, 1.0, 1.2, 1.2, 1.1, 1.2, 1.2, 1.0, 1.0, 1.3, 0.8),
    "summer": (0.2, 0.3, 0.8, 1.6, 1.6, 2.2, 3.0, 3.0, 1.2, 0.4, 0.2, 0.2),
    "winter": (2.5, 2.0, 1.5, 0.8, 0.3, 0.1, 0.1, 0.1, 0.3, 1.0, 2.0, 2.5),
}
#: Relative incidents per hour of day, deliberate and other.
HOURS_DELIBERATE = np.array(
    [
        4,
        3,
        2,
        1.5,
        1,
        0.8,
        0.6,
        0.6,
        0.8,
        1,
        1.2,
        1.5,
        2,
        2.5,
        3,
        4,
        5,
        6,
        7,
        7.5,
        7.5,
        7,
        6,
        5,
    ],
    dtype=float,
)
HOURS_OTHER = np.array(
    [
        1,
        0.8,
        0.6,
        0.5,
        0.5,
        0.6,
        1,
        1.5,
        2,
        2.2,
        2.4,
        2.5,
        2.6,
        2.6,
        2.5,
        2.5,
        2.6,
        2.8,
        2.8,
        2.5,
        2.2,
        1.8,
        1.5,
        1.2,
    ],
    dtype=float,
)


def _lsoa_frame() -> gpd.GeoDataFrame:
    """LSOA 2021 polygons clipped to the HIPS coastline, with IMD and residents."""
    lsoas = load_lsoa21()[["lsoa21_code", "lad_code", "geometry"]]
    outline = load_hips_outline().geometry.iloc[0]
    lsoas = lsoas.assign(geometry=lsoas.geometry.intersection(outline))
    lsoas = lsoas[~lsoas.geometry.is_empty].reset_index(drop=True)
    imd = pd.read_csv(
        DATA_DIR / "deprivation" / "imd2025_lsoa21.csv",
        usecols=["lsoa_code", "imd_decile"],
    )
    people = pd.read_csv(DATA_DIR / "population" / "census2021_lsoa21.csv")
    lsoas = lsoas.merge(imd, left_on="lsoa21_code", right_on="lsoa_code")
    lsoas = lsoas.merge(people, on="lsoa_code").drop(columns="lsoa_code")
    lsoas["area_km2"] = lsoas.geometry.area / 1e6
    lsoas["density"] = lsoas["residents"] / lsoas["area_km2"]
    return lsoas


def _location_weights(lsoas: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    deprivation = lsoas["residents"] * (11 - lsoas["imd_decile"]) ** 2.0
    rural = lsoas["density"] < 500  # residents per km²
    heath_nf = np.where(rural & (lsoas["lad_code"] == NEW_FOREST), lsoas["area_km2"], 0)
    heath_other = np.where(
        rural & (lsoas["lad_code"] != NEW_FOREST), lsoas["area_km2"], 0
    )
    heath = 0.6 * heath_nf / heath_nf.sum() + 0.4 * heath_other / heath_other.sum()
    return {
        "deprived": np.asarray(deprivation / deprivation.sum(), dtype=float),
        "heath": np.asarray(heath / heath.sum(), dtype=float),
        "rural": np.asarray(
            np.where(rural, lsoas["residents"], 0)
            / lsoas.loc[rural, "residents"].sum(),
            dtype=float,
        ),
        "population": np.asarray(
            lsoas["residents"] / lsoas["residents"].sum(), dtype=float
        ),
    }


def _points_in(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``geom`` (rejection sampling)."""
    minx, miny, maxx, maxy = geom.bounds
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(max(4 * (n - have), 16), 2))
        inside = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        found.append(inside)
        have += len(inside)
    return np.concatenate(found)[:n]


def _times(
    n: int, season: str, deliberate: np.ndarray, rng: np.random.Generator
) -> pd.DatetimeIndex:
    days = pd.date_range(START.normalize(), END.normalize(), freq="D")
    day_weight = np.array(SEASONS[season])[days.month - 1]
    weekend = np.where(days.day_of_week >= 5, 1.15, 1.0)
    p = day_weight * weekend
    chosen = days[rng.choice(len(days), size=n, p=p / p.sum())]
    hour_p = np.where(
        deliberate[:, None],
        HOURS_DELIBERATE / HOURS_DELIBERATE.sum(),
        HOURS_OTHER / HOURS_OTHER.sum(),
    )
    hours = np.array([rng.choice(24, p=row) for row in hour_p])
    minutes = rng.integers(0, 60, size=n)
    return (
        chosen + pd.to_timedelta(hours, unit="h") + pd.to_timedelta(minutes, unit="m")
    )


def generate(seed: int = SEED) -> pd.DataFrame:
    """Return the synthetic incidents in the Home Office layout (text columns)."""
    rng = np.random.default_rng(seed)
    lsoas = _lsoa_frame()
    weights = _location_weights(lsoas)
    parts = []
    for stream, incident_type, count, deliberate_share, where, season in STREAMS:
        deliberate = rng.random(count) < deliberate_share
        when = _times(count, season, deliberate, rng)
        which = rng.choice(len(lsoas), size=count, p=weights[where])
        xy = np.zeros((count, 2))
        for index in np.unique(which):
            rows = np.flatnonzero(which == index)
            xy[rows] = _points_in(lsoas.geometry.iloc[index], len(rows), rng)
        names, probs = zip(*PROPERTY_TYPES[stream], strict=True)
        property_type = rng.choice(np.array(names), size=count, p=np.array(probs))
        if incident_type in ("Primary Fire", "Secondary Fire", "Chimney Fire"):
            motive = np.where(
                deliberate,
                "Deliberate",
                np.where(rng.random(count) < 0.05, "Not known", "Accidental"),
            )
        else:
            motive = np.full(count, "Not applicable")
        parts.append(
            pd.DataFrame(
                {
                    "stream": stream,
                    "when": when,
                    "INCIDENT_TYPE": incident_type,
                    "ACCIDENTAL_OR_DELIBERATE": motive,
                    "PROPERTY_TYPE": property_type,
                    "LSOA_CODE": lsoas["lsoa21_code"].to_numpy()[which],
                    "x": np.round(xy[:, 0], -1),
                    "y": np.round(xy[:, 1], -1),
                }
            )
        )
    frame = (
        pd.concat(parts, ignore_index=True)
        .sort_values(["when", "LSOA_CODE"], kind="stable")
        .reset_index(drop=True)
    )
    lsoa_only = rng.random(len(frame)) < 0.15
    out = pd.DataFrame(
        {
            "INCIDENT_ID": [
                f"SYNTHETIC-FIRE-{i:06d}" for i in range(1, len(frame) + 1)
            ],
            "INCIDENT_DATE_TIME": frame["when"].dt.strftime("%d/%m/%Y %H:%M"),
            "INCIDENT_TYPE": frame["INCIDENT_TYPE"],
            "ACCIDENTAL_OR_DELIBERATE": frame["ACCIDENTAL_OR_DELIBERATE"],
            "PROPERTY_TYPE": frame["PROPERTY_TYPE"],
            "FRS_NAME": FRS_NAME,
            "LSOA_CODE": frame["LSOA_CODE"],
            "EASTING": np.where(lsoa_only, "", frame["x"].astype(int).astype(str)),
            "NORTHING": np.where(lsoa_only, "", frame["y"].astype(int).astype(str)),
        }
    )
    out.attrs["streams"] = frame["stream"].value_counts().sort_index().to_dict()
    out.attrs["lad"] = frame["LSOA_CODE"].map(
        dict(zip(lsoas["lsoa21_code"], lsoas["lad_code"], strict=True))
    )
    return out


def metadata(frame: pd.DataFrame, *, seed: int) -> dict[str, object]:
    """Describe the sample for its ``.json`` file."""
    deliberate = frame["INCIDENT_TYPE"].isin(["Primary Fire", "Secondary Fire"]) & (
        frame["ACCIDENTAL_OR_DELIBERATE"] == "Deliberate"
    )
    lad = frame.attrs["lad"]
    return {
        "SYNTHETIC": True,
        "warning": "SYNTHETIC data generated by scripts/make_synthetic_fires.py. "
        "Not real "
        "fire incidents: never use them as evidence about any place.",
        "layout": "Home Office fire incident-level layout (see hotspot/fire.py)",
        "generator": "scripts/make_synthetic_fires.py",
        "seed": seed,
        "period": [START.strftime("%Y-%m-%d"), END.strftime("%Y-%m-%d")],
        "rows": len(frame),
        "by_incident_type": frame["INCIDENT_TYPE"]
        .value_counts()
        .sort_index()
        .to_dict(),
        "deliberate_primary_and_secondary": int(deliberate.sum()),
        "deliberate_by_lad": lad[deliberate].value_counts().sort_index().to_dict(),
        "lsoa_only_rows": int((frame["EASTING"] == "").sum()),
        "streams": frame.attrs["streams"],
        "inputs": [
            "boundaries/lsoa21.parquet",
            "boundaries/hips_outline.parquet",
            "data/deprivation/imd2025_lsoa21.csv",
            "data/population/census2021_lsoa21.csv",
        ],
    }


def main() -> int:
    """Write the CSV and its metadata; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    frame = generate(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False, lineterminator="\n")
    meta = metadata(frame, seed=args.seed)
    args.out.with_suffix(".json").write_text(
        json.dumps(meta, indent=2) + "\n", encoding="utf-8"
    )
    logger.info(
        "wrote %s: %d SYNTHETIC incidents, %d deliberate primary/secondary fires",
        args.out,
        len(frame),
        meta["deliberate_primary_and_secondary"],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

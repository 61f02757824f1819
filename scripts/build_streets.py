"""Build the offline street layers under ``data/streets/`` from the shared public data.

Reads the police.uk snap-point gazetteer (every "On or near <street>" point of
January–September 2025, all 14 HIPS districts), the police.uk facility points and
the OpenStreetMap places of interest for the Isle of Wight, and the Isle of
Wight road lines (OpenStreetMap 2020 by default, or OS Open Map Local 2015), and
writes small parquet tables (BNG, EPSG:27700) that :mod:`hotspot.context.places`,
:mod:`hotspot.layers_streets` and :mod:`hotspot.render.patrol_card` load:

- ``snap_points.parquet``: every snap point once (BNG ``x``, ``y``), its label,
  record count, ward, district and whether the label is a facility type;
- ``street_labels.parquet``: one label per street per district cluster (same
  name, same district, points within 1 km), placed at the cluster's busiest
  snap point;
- ``pois.parquet``: police.uk facility points (all HIPS) and OpenStreetMap
  places of interest (Isle of Wight), deduplicated;
- ``iow_roads.parquet``: named and through roads of the Isle of Wight as
  lines (GeoParquet, BNG, simplified to 2 m).

Run from the repository root::

    .venv/bin/python scripts/build_streets.py [--shared DIR] [--out DIR] \
        [--iow-roads osm|os]

The build is deterministic: run twice on the same sources it writes the same
tables.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.cluster.hierarchy import fcluster, linkage

from hotspot.boundaries import HIPS_LADS
from hotspot.crs import BNG, lonlat_to_bng
from hotspot.errors import InputFileError
from hotspot.geocode import normalise_text
from hotspot.settings import DATA_DIR, SHARED_DATA_DIR

log = logging.getLogger("build_streets")

SNAP_CSV = ("streets/police_uk_snap_points_hips_2025-01_09/"
            "DERIVED_police_uk_snap_points_hips.csv")
OSM_POIS = "pois/isle_of_wight_osm_2020-04-22/DERIVED_iow_osm_pois.geojson"
OSM_ROADS = ("streets/isle_of_wight_osm_geofabrik_2020-04-22/"
             "DERIVED_iow_osm_highways.gpkg")
OS_ROADS = "streets/isle_of_wight_os_openmap_local_2015/iow_os_opendata.pbf"
#: Snap points of one street name in one district further apart than this are
#: separate streets (the several "High Street"s of New Forest), as in the gazetteer.
CLUSTER_LINK_M = 1000.0
#: OpenStreetMap highway classes drawn (footways, tracks, service roads left out).
OSM_ROAD_CLASSES: tuple[str, ...] = (
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified",
    "residential", "living_street", "pedestrian", "primary_link",
    "secondary_link", "tertiary_link",
)
ROAD_SOURCES: dict[str, str] = {"osm": "OpenStreetMap 2020-04-22",
                                "os": "OS Open Map Local 2015"}
#: Road lines are simplified to this tolerance (metres) before they are stored.
SIMPLIFY_M = 2.0
#: OSM places of interest within this distance and of one name and category
#: are one place (a node inside its own area is mapped twice).
POI_DEDUP_M = 60.0


def _require(path: Path) -> Path:
    if not path.exists():
        raise InputFileError(path, "not found: check --shared")
    return path


def read_snap_points(shared: Path) -> pd.DataFrame:
    """Every police.uk snap point of Jan–Sep 2025 with a HIPS district, in BNG."""
    path = _require(shared / SNAP_CSV)
    raw = pd.read_csv(path, dtype={"street": "string", "ward24_name": "string",
                                   "ltla24_code": "string", "lsoa21_code": "string"})
    n_read = len(raw)
    raw = raw[raw["ltla24_code"].isin(list(HIPS_LADS)) & raw["street"].notna()]
    # police.uk capitalises after apostrophes ("St George'S Street")
    street = raw["street"].str.strip().str.replace(r"'S\b", "'s", regex=True)
    x, y = lonlat_to_bng(raw["Longitude"].to_numpy(float),
                         raw["Latitude"].to_numpy(float))
    out = pd.DataFrame({
        "x": np.round(x, 1), "y": np.round(y, 1),
        "street": street.astype("string").to_numpy(),
        "n_records": raw["n_records"].astype("int32").to_numpy(),
        "n_months": raw["n_months"].astype("int8").to_numpy(),
        "ward": raw["ward24_name"].astype("string").to_numpy(),
        "lad_code": raw["ltla24_code"].astype("string").to_numpy(),
        "facility": raw["generic_label"].astype(bool).to_numpy(),
    })
    out = out.sort_values(["lad_code", "street", "x", "y"], kind="stable")
    log.info("snap points: %d read, %d in a HIPS district (%d facility labels)",
             n_read, len(out), int(out["facility"].sum()))
    return out.reset_index(drop=True)


def _clusters(xy: np.ndarray) -> np.ndarray:
    if len(xy) == 1:
        return np.ones(1, dtype=int)
    return fcluster(linkage(xy, method="single"), t=CLUSTER_LINK_M,
                    criterion="distance")


def build_street_labels(points: pd.DataFrame) -> pd.DataFrame:
    """One label per street cluster, at its busiest snap point.

    Streets are grouped on the normalised name and district, then split by
    single-linkage clustering at :data:`CLUSTER_LINK_M`; the label sits on the
    cluster's busiest snap point (ties: the first in x, y order), a real point
    on the street, and carries the cluster's total record count as its
    priority (``n_records``).
    """
    streets = points[~points["facility"]].copy()
    streets["key"] = streets["street"].map(normalise_text)
    streets["cluster"] = 0
    for _, idx in streets.groupby(["key", "lad_code"], sort=True).indices.items():
        streets.iloc[idx, streets.columns.get_loc("cluster")] = _clusters(
            streets[["x", "y"]].to_numpy()[idx])
    group = streets.groupby(["key", "lad_code", "cluster"], sort=True)
    total = group["n_records"].transform("sum")
    n_points = group["n_records"].transform("size")
    streets["total"] = total
    streets["n_points"] = n_points
    best = (streets.sort_values(["key", "lad_code", "cluster", "n_records", "x", "y"],
                                ascending=[True, True, True, False, True, True],
                                kind="stable")
            .drop_duplicates(["key", "lad_code", "cluster"]))
    out = pd.DataFrame({
        "x": best["x"].to_numpy(), "y": best["y"].to_numpy(),
        "street": best["street"].to_numpy(),
        "n_records": best["total"].astype("int32").to_numpy(),
        "n_points": best["n_points"].astype("int32").to_numpy(),
        "ward": best["ward"].to_numpy(),
        "lad_code": best["lad_code"].to_numpy(),
    }).sort_values(["lad_code", "n_records", "street"], ascending=[True, False, True],
                   kind="stable")
    log.info("street labels: %d (one per street cluster, %d distinct names)",
             len(out), out["street"].nunique())
    return out.reset_index(drop=True)


def build_pois(shared: Path, points: pd.DataFrame) -> pd.DataFrame:
    """Police.uk facility points (HIPS) and OSM places of interest (Isle of Wight)."""
    fac = points[points["facility"]]
    police = pd.DataFrame({
        "x": fac["x"].to_numpy(), "y": fac["y"].to_numpy(),
        "label": fac["street"].to_numpy(),
        "name": pd.Series(pd.NA, index=fac.index, dtype="string").to_numpy(),
        "category": fac["street"].str.lower().to_numpy(),
        "source": "police.uk",
        "lad_code": fac["lad_code"].to_numpy(),
    })
    osm = gpd.read_file(_require(shared / OSM_POIS)).to_crs(BNG)
    osm = osm[osm.geometry.notna() & ~osm.geometry.is_empty]
    pts = osm.geometry.representative_point()
    names = osm["name"].astype("string").str.strip()
    category = osm["category"].astype(str).str.replace("_", " ")
    label = names.fillna(category.str.capitalize())
    table = pd.DataFrame({
        "x": np.round(pts.x.to_numpy(), 1), "y": np.round(pts.y.to_numpy(), 1),
        "label": label.to_numpy(), "name": names.to_numpy(),
        "category": category.to_numpy(), "source": "OpenStreetMap",
        "lad_code": "E06000046",
    }).sort_values(["category", "label", "x", "y"], kind="stable")
    keep: list[int] = []
    xy = table[["x", "y"]].to_numpy()
    for i in range(len(table)):
        twin = [j for j in keep if table["label"].iat[j] == table["label"].iat[i]
                and table["category"].iat[j] == table["category"].iat[i]
                and np.hypot(*(xy[j] - xy[i])) < POI_DEDUP_M]
        if not twin:
            keep.append(i)
    table = table.iloc[keep]
    log.info("OSM places of interest: %d read, %d after removing duplicates "
             "(same name and category within %.0f m)", len(osm), len(table),
             POI_DEDUP_M)
    out = pd.concat([police, table], ignore_index=True)
    out["name"] = out["name"].astype("string")
    return out


def build_iow_roads(shared: Path, *, which: str) -> gpd.GeoDataFrame:
    """Isle of Wight road lines in BNG, simplified, with ``name``, ``ref``, ``kind``."""
    if which == "osm":
        raw = pyogrio.read_dataframe(_require(shared / OSM_ROADS))
        raw = raw[raw["highway"].isin(OSM_ROAD_CLASSES)]
        ref = raw["ref"]
    else:
        os.environ["OSM_USE_CUSTOM_INDEXING"] = "NO"  # negative ids in this file
        raw = pyogrio.read_dataframe(_require(shared / OS_ROADS), layer="lines")
        raw = raw[raw["highway"].notna()]
        ref = raw["other_tags"].astype("string").str.extract(r'"id"=>"([^"]*)"')[0]
    kind = raw["highway"].astype(str).str.replace("_link", "", regex=False)
    major = kind.isin(["motorway", "trunk", "primary", "secondary"])
    roads = gpd.GeoDataFrame({
        "name": raw["name"].astype("string").to_numpy(),
        "ref": ref.astype("string").to_numpy(),
        "kind": np.where(major, "major", np.where(kind == "tertiary", "minor",
                                                  "local")),
        "source": ROAD_SOURCES[which],
    }, geometry=raw.geometry.to_numpy(), crs=raw.crs).to_crs(BNG)
    roads["geometry"] = shapely.set_precision(roads.geometry.simplify(SIMPLIFY_M), 1.0)
    roads = roads[~roads.geometry.is_empty]
    roads = roads.sort_values(["kind", "name", "ref"], kind="stable",
                              na_position="last").reset_index(drop=True)
    log.info("Isle of Wight roads (%s): %d lines, %.0f km, %d named", which,
             len(roads), roads.length.sum() / 1000, int(roads["name"].notna().sum()))
    return roads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DATA_DIR / "streets")
    parser.add_argument("--iow-roads", choices=("osm", "os"), default="osm",
                        help="OpenStreetMap 2020 (ODbL, default) or OS Open Map "
                        "Local 2015 (OGL)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)

    points = read_snap_points(args.shared)
    labels = build_street_labels(points)
    pois = build_pois(args.shared, points)
    roads = build_iow_roads(args.shared, which=args.iow_roads)
    tables = {"snap_points": points, "street_labels": labels, "pois": pois,
              "iow_roads": roads}
    for name, table in tables.items():
        path = args.out / f"{name}.parquet"
        if isinstance(table, gpd.GeoDataFrame):
            table.to_parquet(path, index=False, compression="zstd",
                             write_covering_bbox=False)
        else:
            table.to_parquet(path, index=False, compression="zstd")
        log.info("wrote %s: %d rows, %.0f kB", path, len(table),
                 path.stat().st_size / 1e3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

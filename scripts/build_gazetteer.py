"""Build the offline gazetteer under ``data/gazetteer/`` from the shared public data.

Reads Code-Point Open (postcodes), the nine police.uk street-level CSVs (street
names and their anonymisation snap points) and the GeoNames GB postal places file,
and writes compact parquet tables that :mod:`hotspot.geocode` loads:

- ``postcodes.parquet``: every Code-Point Open postcode unit (55,259 rows);
- ``postcode_sectors.parquet`` and ``postcode_districts.parquet``: centroids of the
  member postcodes with a spread (90th percentile distance from the centroid, m);
- ``streets.parquet``: one row per street *cluster* (same name, same district,
  snap points within 1 km of each other), with its centroid, extent and town;
- ``street_points.parquet``: the unique snap points of each street cluster
  (used to place junctions);
- ``places.parquet``: GeoNames places plus the 14 HIPS districts;
- ``snap_points.parquet``: every police.uk snap point with its catchment radius
  (the uncertainty of a police.uk coordinate).

Run from the repository root::

    .venv/bin/python scripts/build_gazetteer.py [--shared DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial import cKDTree

from hotspot.boundaries import HIPS_LADS
from hotspot.crs import lonlat_to_bng
from hotspot.errors import InputFileError
from hotspot.geocode import NON_STREET_LOCATIONS, normalise_postcode, normalise_text
from hotspot.settings import DATA_DIR, SHARED_DATA_DIR

log = logging.getLogger("build_gazetteer")


#: Snap points of one street name within this distance (m) form one cluster.
CLUSTER_LINK_M = 1000.0
#: Nominal uncertainty (m) of a GeoNames place by its accuracy code.
PLACE_UNCERTAINTY_M = {"precise": 1500.0, "estimated": 2000.0}
#: Radius (m) at which a snap point's catchment (Voronoi cell) is clipped.
SNAP_CLIP_M = 1000.0
#: Postcode spread quantile used as the uncertainty of sectors and districts.
SPREAD_QUANTILE = 0.9

GEONAMES_COLUMNS = [
    "country",
    "outward",
    "place",
    "admin1",
    "admin1_code",
    "admin2",
    "admin2_code",
    "admin3",
    "admin3_code",
    "lat",
    "lon",
    "accuracy",
]


def _require(path: Path) -> Path:
    if not path.exists():
        raise InputFileError(path, "missing; is --shared pointing at the shared data?")
    return path


def read_postcodes(shared: Path) -> pd.DataFrame:
    """Read Code-Point Open and return postcode, easting, northing, quality, LAD."""
    path = _require(shared / "postcodes" / "codepoint_open_2025_4_hips.csv")
    raw = pd.read_csv(
        path,
        usecols=[
            "Postcode",
            "Positional_quality_indicator",
            "Eastings",
            "Northings",
            "Admin_district_code",
        ],
        dtype={"Postcode": "string", "Admin_district_code": "string"},
    )
    norm = normalise_postcode(raw["Postcode"])
    if norm["kind"].ne("unit").any():
        bad = raw.loc[norm["kind"].ne("unit"), "Postcode"].head(3).tolist()
        raise InputFileError(path, f"postcodes that are not full units: {bad}")
    out = pd.DataFrame(
        {
            "postcode": norm["postcode"].astype("string"),
            "easting": raw["Eastings"].astype("float64"),
            "northing": raw["Northings"].astype("float64"),
            "quality": raw["Positional_quality_indicator"].astype("int16"),
            "lad_code": raw["Admin_district_code"].astype("string"),
        }
    )
    if out["postcode"].duplicated().any():
        raise InputFileError(path, "duplicate postcodes after normalisation")
    log.info("postcodes: %d units read from %s", len(out), path.name)
    return out


def aggregate_postcodes(units: pd.DataFrame, *, key: str) -> pd.DataFrame:
    """Centroid, member count, dominant LAD and spread (m) of postcode groups."""
    grouped = units.groupby(key, sort=True)
    cent = grouped[["easting", "northing"]].mean()
    joined = units.merge(
        cent, left_on=key, right_index=True, how="left", suffixes=("", "_c")
    )
    joined["dist"] = np.hypot(
        joined["easting"] - joined["easting_c"],
        joined["northing"] - joined["northing_c"],
    )
    out = pd.DataFrame(
        {
            "easting": cent["easting"].round(1),
            "northing": cent["northing"].round(1),
            "n_postcodes": grouped.size().astype("int32"),
            "spread_m": joined.groupby(key)["dist"].quantile(SPREAD_QUANTILE).round(1),
            "lad_code": grouped["lad_code"].agg(lambda s: s.mode().iloc[0]),
            "lad_certain": grouped["lad_code"].nunique().eq(1),
        }
    )
    out.index.name = key
    out = out.reset_index()
    out[key] = out[key].astype("string")
    out["lad_code"] = out["lad_code"].astype("string")
    return out


def read_police_points(shared: Path) -> pd.DataFrame:
    """Read the police.uk street-level CSVs: street name, LAD, lon/lat per record."""
    files = sorted((shared / "police_uk").glob("*-street.csv"))
    if not files:
        raise InputFileError(shared / "police_uk", "no *-street.csv files found")
    frames = []
    for path in files:
        frame = pd.read_csv(
            path,
            usecols=["Longitude", "Latitude", "Location", "LSOA name"],
            dtype={"Location": "string", "LSOA name": "string"},
        )
        frames.append(frame)
        log.info("police.uk: %s, %d rows", path.name, len(frame))
    rows = pd.concat(frames, ignore_index=True)
    n_read = len(rows)
    rows = rows.dropna(subset=["Longitude", "Latitude", "Location", "LSOA name"])
    street = rows["Location"].str.replace(r"^On or near\s+", "", regex=True).str.strip()
    # police.uk capitalises after apostrophes ("St George'S Street")
    street = street.str.replace(r"'S\b", "'s", regex=True)
    lad_name = rows["LSOA name"].str.replace(r"\s+\d{3}[A-Z]$", "", regex=True)
    name_to_code = {name: code for code, name in HIPS_LADS.items()}
    out = pd.DataFrame(
        {
            "street": street,
            "lad_name": lad_name,
            "lad_code": lad_name.map(name_to_code).astype("string"),
            "lon": rows["Longitude"].astype(float),
            "lat": rows["Latitude"].astype(float),
        }
    )
    keep = (
        out["lad_code"].notna()
        & ~out["street"].isin(NON_STREET_LOCATIONS)
        & out["street"].str.len().gt(0)
    )
    log.info(
        "police.uk: %d records read, %d kept (%d premises-type or outside HIPS)",
        n_read,
        int(keep.sum()),
        int((~keep).sum()),
    )
    return out.loc[keep].reset_index(drop=True)


def read_geonames(shared: Path) -> pd.DataFrame:
    """Read the GeoNames GB postal places rows for Hampshire and the Isle of Wight."""
    path = _require(
        shared / "gazetteer" / "geonames_gb_postal_places_hampshire_iow.tsv"
    )
    raw = pd.read_csv(
        path, sep="\t", header=None, names=GEONAMES_COLUMNS, dtype={"outward": "string"}
    )
    log.info("geonames: %d rows read from %s", len(raw), path.name)
    return raw


def _nearest_lad(
    x: np.ndarray, y: np.ndarray, units: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    tree = cKDTree(units[["easting", "northing"]].to_numpy())
    dist, idx = tree.query(np.column_stack([x, y]))
    return units["lad_code"].to_numpy()[idx], dist


def build_places(geonames: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """GeoNames places (BNG, LAD, uncertainty) plus the 14 districts as places."""
    x, y = lonlat_to_bng(geonames["lon"].to_numpy(), geonames["lat"].to_numpy())
    lad, dist = _nearest_lad(x, y, units)
    unc = np.where(
        geonames["accuracy"].to_numpy() >= 3,
        PLACE_UNCERTAINTY_M["precise"],
        PLACE_UNCERTAINTY_M["estimated"],
    )
    places = pd.DataFrame(
        {
            "name": geonames["place"].astype("string"),
            "kind": "geonames",
            "outward": geonames["outward"].astype("string"),
            "county": geonames["admin2"].astype("string"),
            "lad_code": pd.array(lad, dtype="string"),
            "x": np.round(x, 1),
            "y": np.round(y, 1),
            "uncertainty_m": unc,
        }
    )
    far = dist > 5000
    if far.any():
        log.warning(
            "geonames: %d places are over 5 km from any HIPS postcode: %s",
            int(far.sum()),
            places.loc[far, "name"].tolist()[:10],
        )
    # one row per (name, outward): GeoNames repeats a place for each outward code
    districts = aggregate_postcodes(units.assign(lad=units["lad_code"]), key="lad")
    lads = pd.DataFrame(
        {
            "name": districts["lad"].map(HIPS_LADS).astype("string"),
            "kind": "district",
            "outward": pd.array([pd.NA] * len(districts), dtype="string"),
            "county": pd.array(
                np.where(districts["lad"] == "E06000046", "Isle of Wight", "Hampshire"),
                dtype="string",
            ),
            "lad_code": districts["lad"].astype("string"),
            "x": districts["easting"],
            "y": districts["northing"],
            "uncertainty_m": districts["spread_m"],
        }
    )
    out = pd.concat([places, lads], ignore_index=True)
    out["name_norm"] = out["name"].map(normalise_text).astype("string")
    log.info(
        "places: %d GeoNames rows + %d districts (%d distinct names)",
        len(places),
        len(lads),
        out["name_norm"].nunique(),
    )
    return out


def _cluster_labels(xy: np.ndarray) -> np.ndarray:
    if len(xy) == 1:
        return np.ones(1, dtype=int)
    return fcluster(
        linkage(xy, method="single"), t=CLUSTER_LINK_M, criterion="distance"
    )


def build_streets(
    records: pd.DataFrame, places: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Street clusters (centroid, extent, town) and their unique snap points."""
    pts = (
        records.groupby(["street", "lad_code", "lad_name", "lon", "lat"], sort=True)
        .size()
        .rename("n_records")
        .reset_index()
    )
    pts["x"], pts["y"] = lonlat_to_bng(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    pts["street_norm"] = pts["street"].map(normalise_text)
    # police.uk spells names inconsistently ("St George'S Street"); group on the
    # normalised name and display the most common spelling
    pts["cluster"] = 0
    for _, idx in pts.groupby(["street_norm", "lad_code"]).indices.items():
        pts.loc[pts.index[idx], "cluster"] = _cluster_labels(
            pts[["x", "y"]].to_numpy()[idx]
        )
    key = ["street_norm", "lad_code", "cluster"]
    pts["street_id"] = pts.groupby(key, sort=True).ngroup().astype("int32")
    grouped = pts.groupby("street_id")
    streets = grouped.agg(
        street_norm=("street_norm", "first"),
        lad_code=("lad_code", "first"),
        lad_name=("lad_name", "first"),
        n_points=("x", "size"),
        n_records=("n_records", "sum"),
    )
    streets["street"] = grouped.apply(
        lambda g: g.groupby("street")["n_records"].sum().idxmax(), include_groups=False
    )
    # centroid weighted equally per snap point (records pile on busy points)
    streets["x"] = grouped["x"].mean()
    streets["y"] = grouped["y"].mean()
    joined = pts.merge(
        streets[["x", "y"]],
        left_on="street_id",
        right_index=True,
        how="left",
        suffixes=("", "_c"),
    )
    joined["d"] = np.hypot(joined["x"] - joined["x_c"], joined["y"] - joined["y_c"])
    streets["extent_m"] = (2 * joined.groupby("street_id")["d"].max()).round(1)
    gn = places[places["kind"] == "geonames"].reset_index(drop=True)
    tree = cKDTree(gn[["x", "y"]].to_numpy())
    dist, idx = tree.query(streets[["x", "y"]].to_numpy())
    streets["town"] = gn["name"].to_numpy()[idx]
    streets["town_dist_m"] = np.round(dist, 0)
    streets["x"] = streets["x"].round(1)
    streets["y"] = streets["y"].round(1)
    streets = streets.reset_index()[
        [
            "street_id",
            "street",
            "street_norm",
            "lad_code",
            "lad_name",
            "town",
            "town_dist_m",
            "x",
            "y",
            "n_points",
            "n_records",
            "extent_m",
        ]
    ]
    for col in ["street", "street_norm", "lad_code", "lad_name", "town"]:
        streets[col] = streets[col].astype("string")
    points = pts[["street_id", "x", "y", "n_records"]].copy()
    points["x"] = points["x"].round(1)
    points["y"] = points["y"].round(1)
    points = points.sort_values(["street_id", "x", "y"]).reset_index(drop=True)
    log.info(
        "streets: %d clusters of %d distinct names from %d snap points",
        len(streets),
        streets["street_norm"].nunique(),
        len(points),
    )
    return streets, points


def catchment_radius(xy: np.ndarray, *, clip_m: float) -> np.ndarray:
    """Radius (m) of the circle with the area of each point's clipped Voronoi cell.

    Parameters
    ----------
    xy : numpy.ndarray, shape (n, 2)
        Distinct points, BNG metres.
    clip_m : float
        Each cell is intersected with a disk of this radius (m) around its point.

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``sqrt(area / pi)`` of each clipped cell, metres.
    """
    geoms = shapely.points(xy)
    pad = 5 * clip_m
    frame = shapely.box(*(xy.min(axis=0) - pad), *(xy.max(axis=0) + pad))
    cells = np.asarray(
        shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(geoms), extend_to=frame)
        )
    )
    which = shapely.STRtree(cells).query(geoms, predicate="within")
    order = np.full(len(xy), -1)
    order[which[0]] = which[1]
    if (order < 0).any() or len(np.unique(order)) != len(xy):
        raise ValueError("points must be distinct: a Voronoi cell holds two")
    disks = shapely.buffer(geoms, clip_m, quad_segs=64)
    clipped = shapely.intersection(cells[order], disks)
    return np.asarray(np.sqrt(shapely.area(clipped) / np.pi), dtype=float)


def build_snap_points(shared: Path) -> pd.DataFrame:
    """Every police.uk snap point of Jan–Sep 2025 with its catchment radius (m).

    police.uk moves each crime to the nearest point of a fixed set of map points,
    so a crime lies in its point's Voronoi cell. The cell is computed among the
    known points (those that received a crime in Jan–Sep 2025; the full set is
    denser, so cells are if anything too large), clipped to a disk of
    :data:`SNAP_CLIP_M`, and ``radius_m`` is the radius of the circle with the
    clipped cell's area.
    """
    path = _require(
        shared
        / "streets"
        / "police_uk_snap_points_hips_2025-01_09"
        / "DERIVED_police_uk_snap_points_hips.csv"
    )
    raw = pd.read_csv(path, usecols=["Longitude", "Latitude", "n_records"])
    x, y = lonlat_to_bng(raw["Longitude"].to_numpy(), raw["Latitude"].to_numpy())
    pts = (
        pd.DataFrame({"x": np.round(x, 1), "y": np.round(y, 1), "n": raw["n_records"]})
        .groupby(["x", "y"], sort=True)["n"]
        .sum()
        .rename("n_records")
        .reset_index()
    )
    pts["radius_m"] = np.round(
        catchment_radius(pts[["x", "y"]].to_numpy(), clip_m=SNAP_CLIP_M), 1
    )
    log.info(
        "snap points: %d, catchment radius median %.0f m, 90th percentile %.0f m",
        len(pts),
        pts["radius_m"].median(),
        pts["radius_m"].quantile(0.9),
    )
    return pts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DATA_DIR / "gazetteer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)

    units = read_postcodes(args.shared)
    units["outward"] = units["postcode"].str.split(" ").str[0]
    units["sector"] = units["postcode"].str[:-2]
    sectors = aggregate_postcodes(units, key="sector")
    districts = aggregate_postcodes(units, key="outward")
    log.info("postcodes: %d sectors, %d districts", len(sectors), len(districts))

    places = build_places(read_geonames(args.shared), units)
    streets, points = build_streets(read_police_points(args.shared), places)

    tables = {
        "postcodes": units[["postcode", "easting", "northing", "quality", "lad_code"]],
        "postcode_sectors": sectors,
        "postcode_districts": districts,
        "streets": streets,
        "street_points": points,
        "places": places,
        "snap_points": build_snap_points(args.shared),
    }
    for name, table in tables.items():
        path = args.out / f"{name}.parquet"
        table.to_parquet(path, index=False, compression="zstd")
        log.info(
            "wrote %s: %d rows, %.0f kB", path, len(table), path.stat().st_size / 1e3
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

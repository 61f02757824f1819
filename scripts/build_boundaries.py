"""Build the embedded boundary files in ``boundaries/`` from the shared ONS data.

Reads ``SHARED_DATA_DIR/boundaries`` (never edited) and writes GeoParquet files in
British National Grid (EPSG:27700):

- ``csp_districts.parquet``  the 14 CSPs, one per district (the VRU's grouping)
- ``csp_ons2024.parquet``    the 12 CSPs of the ONS 2024 lookup (North Hampshire)
- ``lsoa21.parquet``         1,231 LSOAs (2021), with their best-fit 2024 ward
- ``lsoa11.parquet``         1,194 LSOAs (2011), detailed coastline, repaired
- ``wards.parquet``          268 electoral wards (2022), with their main district
- ``hips_outline.parquet``   the union of the 14 districts (one row)

Every geometry is checked (valid, non-empty, Polygon/MultiPolygon, no holes or gaps
left by the dissolve) and the script stops with an error when a check fails.

Run with ``.venv/bin/python scripts/build_boundaries.py``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from hotspot.boundaries import HIPS_LADS
from hotspot.crs import BNG, to_bng
from hotspot.settings import BOUNDARIES_DIR, SHARED_DATA_DIR

log = logging.getLogger("build_boundaries")


#: Vertices are snapped to this grid (metres) when dissolving, which closes the
#: sub-millimetre slivers between neighbouring LSOAs left by generalisation and
#: reprojection.
GRID_SIZE_M = 0.1
#: Holes and gaps smaller than this (m²) left after snapping are dissolve artefacts
#: and are filled; a larger one stops the build (no district has a real enclave).
MAX_ARTEFACT_HOLE_M2 = 1_000.0
#: Parquet compression for every output.
COMPRESSION = "zstd"


def _read(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise FileNotFoundError(f"source boundary file missing: {path}")
    gdf = gpd.read_file(path)
    log.info("read %s: %d rows, CRS %s", path.name, len(gdf), gdf.crs)
    return gdf


def _holes(geom: BaseGeometry) -> list[shapely.Polygon]:
    """Return the interior rings of ``geom`` as polygons."""
    return [
        shapely.Polygon(shapely.get_interior_ring(part, i))
        for part in shapely.get_parts(geom)
        for i in range(shapely.get_num_interior_rings(part))
    ]


def _fill_small_holes(geom: BaseGeometry, *, label: str) -> BaseGeometry:
    """Fill holes smaller than ``MAX_ARTEFACT_HOLE_M2``; fail on larger ones."""
    holes = _holes(geom)
    if not holes:
        return geom
    big = [h.area for h in holes if h.area >= MAX_ARTEFACT_HOLE_M2]
    if big:
        raise ValueError(
            f"{label}: dissolve left {len(big)} hole(s) of {max(big):.0f} m² or more; "
            f"expected only artefacts below {MAX_ARTEFACT_HOLE_M2:.0f} m²"
        )
    log.info(
        "%s: filling %d dissolve artefact hole(s), total %.2f m²",
        label,
        len(holes),
        sum(h.area for h in holes),
    )
    return shapely.union_all([geom, *holes], grid_size=GRID_SIZE_M)


def check_geometries(gdf: gpd.GeoDataFrame, *, name: str) -> None:
    """Raise ``ValueError`` unless every geometry of ``gdf`` is usable.

    Usable means: CRS EPSG:27700, valid, non-empty, Polygon or MultiPolygon.
    """
    if gdf.crs is None or gdf.crs.to_epsg() != 27700:
        raise ValueError(f"{name}: expected CRS {BNG}, got {gdf.crs}")
    geoms = gdf.geometry.values
    problems: list[str] = []
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        problems.append(f"{int(invalid.sum())} invalid ({reasons[0]})")
    empty = shapely.is_empty(geoms) | gdf.geometry.isna().to_numpy()
    if empty.any():
        problems.append(f"{int(empty.sum())} empty")
    types = set(gdf.geom_type.dropna())
    if not types <= {"Polygon", "MultiPolygon"}:
        problems.append(
            f"geometry types {sorted(types)}, expected Polygon/MultiPolygon"
        )
    if problems:
        raise ValueError(f"{name}: " + "; ".join(problems))
    log.info("%s: %d geometries valid, types %s", name, len(gdf), sorted(types))


def check_no_gaps(gdf: gpd.GeoDataFrame, *, name: str) -> None:
    """Raise unless the polygons have no holes, no gaps between them, no overlaps."""
    for label, geom in zip(gdf.iloc[:, 0], gdf.geometry, strict=True):
        if _holes(geom):
            raise ValueError(f"{name}: {label} still has interior rings")
    union = shapely.union_all(gdf.geometry.values, grid_size=GRID_SIZE_M)
    if _holes(union):
        raise ValueError(
            f"{name}: the union of all areas has {len(_holes(union))} gaps"
        )
    overlap = float(gdf.geometry.area.sum() - union.area)
    if overlap > 1.0:
        raise ValueError(f"{name}: areas overlap by {overlap:.1f} m², expected none")
    log.info("%s: no holes, no gaps, overlap %.3f m²", name, overlap)


def repair(gdf: gpd.GeoDataFrame, *, name: str) -> gpd.GeoDataFrame:
    """Reproject to BNG, repair invalid geometries and snap to ``GRID_SIZE_M``."""
    out = to_bng(gdf).copy()
    invalid = ~out.is_valid
    if invalid.any():
        log.info("%s: repairing %d invalid geometries", name, int(invalid.sum()))
    geoms = shapely.make_valid(out.geometry.values)
    # make_valid may return a GeometryCollection; keep only the polygonal parts.
    geoms = np.array(
        [
            g
            if g.geom_type in ("Polygon", "MultiPolygon")
            else shapely.union_all(
                [
                    p
                    for p in shapely.get_parts(g)
                    if p.geom_type in ("Polygon", "MultiPolygon")
                ]
            )
            for g in geoms
        ],
        dtype=object,
    )
    out["geometry"] = shapely.set_precision(geoms, grid_size=GRID_SIZE_M)
    return out


def dissolve_districts(lsoa11: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve repaired LSOA 2011 polygons into the 14 districts, gap-free."""
    unknown = set(lsoa11["LADCD"]) - set(HIPS_LADS)
    if unknown or len(set(lsoa11["LADCD"])) != len(HIPS_LADS):
        raise ValueError(
            f"LSOA 2011 LADCD values {sorted(set(lsoa11['LADCD']))} do not match the "
            f"14 HIPS districts"
        )
    merged: dict[str, BaseGeometry] = {}
    for code, sub in lsoa11.groupby("LADCD", sort=True):
        geom = shapely.union_all(sub.geometry.values, grid_size=GRID_SIZE_M)
        merged[str(code)] = _fill_small_holes(geom, label=str(code))
    # Gaps between districts: give each to the district sharing most of its edge.
    union = shapely.union_all(list(merged.values()), grid_size=GRID_SIZE_M)
    gaps = _holes(union)
    big = [g.area for g in gaps if g.area >= MAX_ARTEFACT_HOLE_M2]
    if big:
        raise ValueError(f"districts: {len(big)} gap(s) of {max(big):.0f} m² or more")
    for gap in gaps:
        ring = gap.exterior
        shared = {
            c: shapely.intersection(ring, g.boundary).length for c, g in merged.items()
        }
        best = max(shared, key=lambda c: (shared[c], c))
        merged[best] = shapely.union_all([merged[best], gap], grid_size=GRID_SIZE_M)
    if gaps:
        log.info("districts: closed %d gap(s) between districts", len(gaps))
    codes = sorted(merged)
    out = gpd.GeoDataFrame(
        {
            "csp_code": codes,
            "csp_name": [HIPS_LADS[c] for c in codes],
            "lad_code": codes,
        },
        geometry=[merged[c] for c in codes],
        crs=BNG,
    )
    out["area_km2"] = out.geometry.area / 1e6
    return out[["csp_code", "csp_name", "lad_code", "area_km2", "geometry"]]


def check_matches_lsoa11(
    districts: gpd.GeoDataFrame, lsoa11: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0
) -> None:
    """Raise unless each district equals the union of its LSOA 2011 polygons.

    ``hotspot.boundaries.assign_areas`` finds a point's CSP through the (smaller,
    quicker to search) LSOA 2011 polygons, which is exact only when this holds.
    """
    for row in districts.itertuples():
        parts = lsoa11.loc[lsoa11["LADCD"] == row.lad_code, "geometry"].values
        union = shapely.union_all(parts, grid_size=GRID_SIZE_M)
        diff = shapely.symmetric_difference(union, row.geometry).area
        if diff > tolerance_m2:
            raise ValueError(
                f"{row.lad_code}: district and its LSOA 2011 polygons differ by "
                f"{diff:.1f} m² (tolerance {tolerance_m2} m²)"
            )
    log.info("districts equal the union of their LSOA 2011 polygons")


def group_ons2024(districts: gpd.GeoDataFrame, lookup_path: Path) -> gpd.GeoDataFrame:
    """Dissolve the districts into the CSPs of the ONS 2024 LAD→CSP lookup."""
    lookup = pd.read_csv(lookup_path, dtype=str)
    lookup = lookup[lookup["ltla24_code"].isin(HIPS_LADS)]
    missing = set(HIPS_LADS) - set(lookup["ltla24_code"])
    if missing:
        raise ValueError(f"{lookup_path.name}: no CSP for districts {sorted(missing)}")
    if lookup["ltla24_code"].duplicated().any():
        raise ValueError(f"{lookup_path.name}: a HIPS district maps to several CSPs")
    rows = []
    for (code, name), sub in lookup.groupby(["csp24_code", "csp24_name"], sort=True):
        lads = sorted(sub["ltla24_code"])
        geom = shapely.union_all(
            districts.loc[districts["lad_code"].isin(lads), "geometry"].values,
            grid_size=GRID_SIZE_M,
        )
        geom = _fill_small_holes(geom, label=str(code))
        rows.append(
            {
                "csp_code": code,
                "csp_name": name,
                "lad_code": ",".join(lads),
                "geometry": geom,
            }
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)
    out["area_km2"] = out.geometry.area / 1e6
    return out[["csp_code", "csp_name", "lad_code", "area_km2", "geometry"]]


def build_lsoa21(src: Path) -> gpd.GeoDataFrame:
    """LSOA 2021 polygons with their best-fit 2024 ward from the ONS lookup."""
    raw = repair(_read(src / "lsoa21_hips_super_generalised.geojson"), name="lsoa21")
    lookup = pd.read_csv(src / "lookup_lsoa21_ward24_lad24_hips.csv", dtype=str)
    if lookup["lsoa21_code"].duplicated().any():
        raise ValueError("lookup_lsoa21_ward24_lad24_hips.csv: duplicate lsoa21_code")
    out = raw.rename(columns={"ltla24_code": "lad_code", "ltla24_name": "lad_name"})
    out = out.merge(
        lookup[["lsoa21_code", "ward24_code", "ward24_name"]],
        on="lsoa21_code",
        how="left",
        validate="one_to_one",
    )
    if out["ward24_code"].isna().any():
        raise ValueError(
            f"{int(out['ward24_code'].isna().sum())} LSOA 2021 polygons have no ward"
        )
    cols = ["lsoa21_code", "lsoa21_name", "lad_code", "lad_name"]
    out = out[[*cols, "ward24_code", "ward24_name", "geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG).sort_values(
        "lsoa21_code", ignore_index=True
    )


def build_lsoa11(lsoa11: gpd.GeoDataFrame, src: Path) -> gpd.GeoDataFrame:
    """Repaired LSOA 2011 polygons with the 2021 LSOA code(s) they became."""
    lookup = pd.read_csv(src / "lookup_lsoa11_lsoa21_lad22_hips.csv", dtype=str)
    l21 = (
        lookup.sort_values("lsoa21_code")
        .groupby("lsoa11_code")["lsoa21_code"]
        .agg(",".join)
        .rename("lsoa21_codes")
    )
    out = lsoa11.rename(
        columns={
            "LSOA11CD": "lsoa11_code",
            "LSOA11NM": "lsoa11_name",
            "LADCD": "lad_code",
        }
    ).join(l21, on="lsoa11_code")
    if out["lsoa21_codes"].isna().any():
        raise ValueError(
            f"{int(out['lsoa21_codes'].isna().sum())} LSOA 2011 not in lookup"
        )
    out = out[["lsoa11_code", "lsoa11_name", "lad_code", "lsoa21_codes", "geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG).sort_values(
        "lsoa11_code", ignore_index=True
    )


def build_wards(src: Path, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """2022 wards with the HIPS district holding most of their area."""
    raw = repair(_read(src / "wards22_hips_super_generalised.geojson"), name="wards")
    inter = gpd.overlay(
        raw[["ward22_code", "geometry"]],
        districts[["lad_code", "geometry"]],
        how="intersection",
        keep_geom_type=True,
    )
    inter["area"] = inter.geometry.area
    best = (
        inter.sort_values(
            ["ward22_code", "area", "lad_code"], ascending=[True, False, True]
        )
        .drop_duplicates("ward22_code")
        .set_index("ward22_code")
    )
    out = raw.rename(columns={"ltla24_code": "source_lad_code"})
    out["lad_code"] = out["ward22_code"].map(best["lad_code"])
    out["lad_share"] = out["ward22_code"].map(best["area"]) / out.geometry.area
    outside = sorted(out.loc[out["lad_code"].isna(), "ward22_code"])
    if outside:
        raise ValueError(f"wards outside every district: {outside}")
    out["lad_name"] = out["lad_code"].map(HIPS_LADS)
    differ = (out["lad_code"] != out["source_lad_code"]).sum()
    log.info(
        "wards: %d of %d mostly in a district other than the file's ltla24_code; "
        "min share in own district %.2f",
        differ,
        len(out),
        out["lad_share"].min(),
    )
    out = out[
        ["ward22_code", "ward22_name", "lad_code", "lad_name", "lad_share", "geometry"]
    ]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG).sort_values(
        "ward22_code", ignore_index=True
    )


def write(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Validate and write one GeoParquet file, logging its size."""
    check_geometries(gdf, name=path.name)
    gdf.to_parquet(path, compression=COMPRESSION, index=False)
    log.info("wrote %s: %d rows, %.2f MB", path, len(gdf), path.stat().st_size / 1e6)


def main(argv: list[str] | None = None) -> None:
    """Build every boundary file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=SHARED_DATA_DIR / "boundaries")
    parser.add_argument("--out", type=Path, default=BOUNDARIES_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    src: Path = args.src
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    lsoa11 = repair(
        _read(src / "lsoa11_hips_generalised_clipped.geojson"), name="lsoa11"
    )
    check_geometries(lsoa11, name="lsoa11 (repaired)")

    districts = dissolve_districts(lsoa11)
    check_no_gaps(districts, name="csp_districts")
    check_matches_lsoa11(districts, lsoa11)
    for row in districts.itertuples():
        log.info("  %s %-22s %8.2f km²", row.csp_code, row.csp_name, row.area_km2)
    write(districts, out / "csp_districts.parquet")

    ons = group_ons2024(districts, src / "lookup_lad24_csp24_pfa24.csv")
    check_no_gaps(ons, name="csp_ons2024")
    write(ons, out / "csp_ons2024.parquet")

    outline_geom = shapely.union_all(districts.geometry.values, grid_size=GRID_SIZE_M)
    outline = gpd.GeoDataFrame(
        {"name": ["HIPS"], "area_km2": [outline_geom.area / 1e6]},
        geometry=[outline_geom],
        crs=BNG,
    )
    log.info("HIPS outline: %.2f km²", outline["area_km2"].iloc[0])
    write(outline, out / "hips_outline.parquet")

    lsoa21 = build_lsoa21(src)
    if len(lsoa21) != 1231:
        raise ValueError(f"lsoa21: expected 1,231 LSOAs, got {len(lsoa21)}")
    write(lsoa21, out / "lsoa21.parquet")

    lsoa11_out = build_lsoa11(lsoa11, src)
    if len(lsoa11_out) != 1194:
        raise ValueError(f"lsoa11: expected 1,194 LSOAs, got {len(lsoa11_out)}")
    write(lsoa11_out, out / "lsoa11.parquet")

    wards = build_wards(src, districts)
    if len(wards) != 268:
        raise ValueError(f"wards: expected 268 wards, got {len(wards)}")
    write(wards, out / "wards.parquet")
    log.info("done")


if __name__ == "__main__":
    main()

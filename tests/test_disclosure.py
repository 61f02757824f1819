"""Tests of disclosure: the rules on tables, and the checker on every format.

The checker must catch, in each format, a planted small count, a planted point
layer (point-level data) and a planted free-text field. Clean exports of the
same view pass (tests/test_export.py checks that too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from hotspot.crs import BNG
from hotspot.detect.kde import write_geotiff
from hotspot.export.bundle import ExportBundle, disclose, export, write_kml
from hotspot.export.checks import check_density, check_frame, check_metadata
from hotspot.export.disclosure import (
    SOURCES_SUFFIX,
    DisclosureError,
    DisclosureRules,
    apply_rules,
    check_file,
    mask_density,
    require_clean,
    suppress_metadata,
)
from tests.test_export import make_bundle, make_cells, make_points

# ----------------------------------------------------------------------------
# rules on tables
# ----------------------------------------------------------------------------


def small_table() -> pd.DataFrame:
    return pd.DataFrame({"area": ["a", "b", "c", "d", "e"],
                         "count": [0, 1, 4, 5, 13],
                         "harm": [0.0, 2.0, 6.0, 7.5, 20.0]})


def test_apply_rules_suppresses_one_to_four() -> None:
    out, applied = apply_rules(small_table())
    assert out["count"].iloc[0] == 0
    assert pd.isna(out["count"].iloc[1]) and pd.isna(out["count"].iloc[2])
    assert out["count"].tolist()[3:] == [5, 13]
    assert str(out["count"].dtype) == "Int64"  # counts stay integers
    assert np.isnan(out["harm"].iloc[1]) and out["harm"].iloc[3] == 7.5
    assert applied.suppressed == 2
    assert check_frame(out) == []


def test_apply_rules_threshold_is_configurable() -> None:
    out, applied = apply_rules(small_table(), rules=DisclosureRules(min_count=2))
    assert out["count"].iloc[2] == 4 and pd.isna(out["count"].iloc[1])
    assert applied.suppressed == 1


def test_rounding_to_five() -> None:
    out, _ = apply_rules(small_table(), rules=DisclosureRules(round_to=5))
    assert out["count"].iloc[3] == 5 and out["count"].iloc[4] == 15
    assert check_frame(out, rules=DisclosureRules(round_to=5)) == []
    found = check_frame(small_table().iloc[3:], rules=DisclosureRules(round_to=5))
    assert [v.rule for v in found] == ["rounding"]


def test_apply_rules_leaves_input_alone() -> None:
    table = small_table()
    apply_rules(table)
    assert table["count"].tolist() == [0, 1, 4, 5, 13]


def test_free_text_fields_dropped_and_caught() -> None:
    table = small_table().assign(location_text="On or near High Street",
                                 occurrence_id="X1")
    found = check_frame(table)
    fields = sorted(v.where for v in found if v.rule == "no-free-text")
    assert fields == ["table.location_text", "table.occurrence_id"]
    out, applied = apply_rules(table)
    assert set(applied.dropped_fields) == {"location_text", "occurrence_id"}
    assert check_frame(out) == []


def test_postcode_in_text_is_caught() -> None:
    table = pd.DataFrame({"label": ["near SO14 7DU", "Bargate"], "count": [6, 7]})
    found = check_frame(table)
    assert [v.rule for v in found] == ["no-free-text"]
    assert "postcode" in found[0].detail


def test_h3_finer_than_limit() -> None:
    import h3

    fine = h3.latlng_to_cell(50.904, -1.404, 10)
    table = pd.DataFrame({"h3": [fine], "count": [8]})
    found = check_frame(table)
    assert [v.rule for v in found] == ["h3-resolution"]
    assert check_frame(table, rules=DisclosureRules(max_resolution=10)) == []
    with pytest.raises(DisclosureError, match="finer than the limit 9"):
        apply_rules(table)


def test_points_cannot_be_made_to_comply() -> None:
    with pytest.raises(DisclosureError, match="point geometries"):
        apply_rules(make_points(), name="occurrences")


def test_metadata_totals() -> None:
    meta = {"counts": {"occurrences_in": 3, "cells": 2}, "label": "SO14 7DU"}
    found = check_metadata(meta)
    assert sorted(v.rule for v in found) == ["no-free-text", "small-counts"]
    hidden = suppress_metadata(meta)
    assert hidden["counts"] == {"occurrences_in": "suppressed", "cells": 2}
    assert meta["counts"]["occurrences_in"] == 3


def test_density_floor_by_hand() -> None:
    rules = DisclosureRules()
    # 5 * 3 / (pi * 0.3^2) per km² for a 300 m bandwidth
    assert rules.density_floor_per_km2(300.0) == pytest.approx(15 / (np.pi * 0.09))
    floor = rules.density_floor_per_km2(300.0)  # 53.05 per km²
    grid = np.array([[0.0, 10.0, 60.0], [130.0, np.nan, 53.1], [0.0, 0.0, 0.0]])
    banded, n = mask_density(grid, bandwidth_m=300.0, rules=rules)
    # below the floor -> 0 (not nodata); else the floor times 2^k below the value;
    # the enclosed nodata cell is filled with 0, so no hole marks a place
    assert n == 1 and banded[0, 1] == 0.0 and banded[0, 0] == 0.0
    assert banded[0, 2] == pytest.approx(floor)  # 60 -> floor
    assert banded[1, 0] == pytest.approx(2 * floor)  # 130 -> 2 x floor (106.1)
    assert banded[1, 2] == pytest.approx(floor)
    assert banded[1, 1] == 0.0
    assert {v.rule for v in check_density(grid, bandwidth_m=300.0)} == {
        "small-counts", "density-bands"}
    assert check_density(banded, bandwidth_m=300.0) == []


def test_rules_validate() -> None:
    with pytest.raises(ValueError, match="min_count must be"):
        DisclosureRules(min_count=0)
    with pytest.raises(ValueError, match="round_to must be"):
        DisclosureRules(round_to=1)
    with pytest.raises(ValueError, match="disclosure settings must be"):
        DisclosureRules.from_mapping({"threshold": 5})
    assert DisclosureRules.from_mapping({"round_to": 0}).round_to is None


# ----------------------------------------------------------------------------
# the checker on every format: planted small count, point layer, free text
# ----------------------------------------------------------------------------

PLANTS = ("small_count", "points", "free_text")
EXPECTED_RULE = {"small_count": "small-counts", "points": "no-points",
                 "free_text": "no-free-text"}


def planted_frame(plant: str) -> gpd.GeoDataFrame:
    """Disclosed cells, then one rule broken."""
    cells = disclose(make_bundle()).layers["hotspots"]
    if plant == "small_count":  # on the hot centre cell, so the KML keeps it
        cells = cells.copy()
        cells.loc[cells.index[0], "count"] = 3
    elif plant == "points":
        cells = make_points().assign(count=7)
    else:
        cells = cells.assign(location_text="On or near Above Bar Street")
    return cells


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    for col in out.columns:
        if str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].astype(object)
    return out


def plant_gpkg(tmp: Path, plant: str) -> Path:
    out = tmp / "view.gpkg"
    export(make_bundle(), fmt="gpkg", out=out, log_dir=tmp / "var")
    pyogrio.write_dataframe(_plain(planted_frame(plant)), out, layer="extra",
                            driver="GPKG", append=True)
    return out


def plant_geojson(tmp: Path, plant: str) -> Path:
    out = tmp / "extra.geojson"
    pyogrio.write_dataframe(_plain(planted_frame(plant)).to_crs(4326), out,
                            driver="GeoJSON")
    return out


def plant_kml(tmp: Path, plant: str) -> Path:
    out = tmp / "view.kml"
    frame = planted_frame(plant)
    if plant == "points":
        pyogrio.write_dataframe(_plain(frame).to_crs(4326), out, driver="KML")
        return out
    clean = disclose(make_bundle())
    write_kml(ExportBundle(layers={"extra": frame}, metadata=clean.metadata), out)
    return out


def plant_tif(tmp: Path, plant: str) -> Path:
    out = tmp / "density.tif"
    bundle = make_bundle()
    assert bundle.density is not None
    if plant == "small_count":  # the raw surface: single occurrences show
        write_geotiff(bundle.density, out)
    elif plant == "points":  # an occurrence's coordinates in the tags
        clean = disclose(bundle)
        assert clean.density is not None
        write_geotiff(clean.density, out,
                      tags={"easting": "442100", "northing": "111900"})
    else:
        clean = disclose(bundle)
        assert clean.density is not None
        write_geotiff(clean.density, out,
                      tags={"location_text": "On or near Above Bar Street"})
    return out


def plant_csv(tmp: Path, plant: str) -> Path:
    out = tmp / "table.csv"
    frame = pd.DataFrame(planted_frame(plant).drop(columns="geometry"))
    if plant == "points":  # an occurrence table: one row per point
        pts = make_points()
        frame = pd.DataFrame({"easting": pts.geometry.x, "northing": pts.geometry.y})
    frame.to_csv(out, index=False)
    return out


def _plant_sources(tmp: Path, plant: str, suffix: str) -> Path:
    out = tmp / f"briefing{suffix}"
    out.write_bytes(b"%PDF-1.4\n" if suffix == ".pdf" else b"\x89PNG\r\n")
    frame = planted_frame(plant)
    table = pd.DataFrame(frame.drop(columns="geometry"))
    doc = {"metadata": {"title": "t"}, "tables": {"map": {
        "columns": [str(c) for c in table.columns],
        "rows": json.loads(table.to_json(orient="values")),
        "count_columns": ["count"],
        "geometry_types": sorted(set(frame.geom_type)),
    }}}
    out.with_name(out.name + SOURCES_SUFFIX).write_text(json.dumps(doc))
    return out


def plant_pdf(tmp: Path, plant: str) -> Path:
    return _plant_sources(tmp, plant, ".pdf")


def plant_png(tmp: Path, plant: str) -> Path:
    return _plant_sources(tmp, plant, ".png")


PLANTERS: dict[str, Callable[[Path, str], Path]] = {
    "gpkg": plant_gpkg, "geojson": plant_geojson, "kml": plant_kml,
    "tif": plant_tif, "csv": plant_csv, "pdf": plant_pdf, "png": plant_png,
}


@pytest.mark.parametrize("plant", PLANTS)
@pytest.mark.parametrize("fmt", list(PLANTERS))
def test_checker_catches_plant(tmp_path: Path, fmt: str, plant: str) -> None:
    path = PLANTERS[fmt](tmp_path, plant)
    found = check_file(path)
    rules = {v.rule for v in found}
    assert EXPECTED_RULE[plant] in rules, found
    with pytest.raises(DisclosureError, match="breaks the disclosure rules"):
        require_clean(path)


def test_checker_passes_clean_geojson_kml_tif_csv(tmp_path: Path) -> None:
    bundle = make_bundle()
    export(bundle, fmt="geojson", out=tmp_path / "gj", log_dir=tmp_path)
    export(bundle, fmt="kml", out=tmp_path / "v.kml", log_dir=tmp_path)
    export(bundle, fmt="tif", out=tmp_path / "d.tif", log_dir=tmp_path)
    export(bundle, fmt="csv", out=tmp_path / "csv", log_dir=tmp_path)
    files = [*sorted((tmp_path / "gj").glob("*.geojson")), tmp_path / "v.kml",
             tmp_path / "d.tif", *sorted((tmp_path / "csv").glob("*.csv"))]
    assert len(files) == 4 + 1 + 1 + 4
    for path in files:
        assert check_file(path) == [], path


def test_briefing_without_sources_fails(tmp_path: Path) -> None:
    out = tmp_path / "lonely.pdf"
    out.write_bytes(b"%PDF-1.4\n")
    assert [v.rule for v in check_file(out)] == ["sources"]


def test_checker_rejects_unknown_kind(tmp_path: Path) -> None:
    out = tmp_path / "x.shp"
    out.write_bytes(b"")
    with pytest.raises(ValueError, match="path must end in one of"):
        check_file(out)


def test_planted_cells_crs_is_bng() -> None:
    assert make_cells().crs == BNG or make_cells().crs.to_epsg() == 27700


# ----------------------------------------------------------------------------
# rules version 2: columns by kind, the floor, second worlds
# ----------------------------------------------------------------------------


def test_columns_are_classified_by_what_they_hold() -> None:
    from hotspot.export.disclosure import classify_column

    table = pd.DataFrame({
        "count": [0, 6], "n": [2, 9], "crimes": [1, 8], "score": [0.4, 7.2],
        "z": [0.1, 2.2], "p_fdr": [0.9, 0.01], "trend_z": [0.3, 1.1],
        "mk_tau": [0.1, 0.2], "bin": [0, 2], "fire_bin": [0, 1],
        "harm": [0.0, 12.5], "rate_per_1000": [0.0, 1.3], "rank": [2, 1],
        "imd_decile": [1, 3], "hour": [22, 23], "level_per_km2": [53.1, 106.1],
        "label": ["a", "b"], "postcode": ["SO14 7DU", ""],
    })
    kinds = {c: classify_column(c, table[c]) for c in table.columns}
    assert kinds == {
        "count": "count", "n": "count", "crimes": "count", "score": "count",
        "z": "statistic", "p_fdr": "statistic", "trend_z": "statistic",
        "mk_tau": "statistic", "bin": "class", "fire_bin": "class",
        "harm": "derived", "rate_per_1000": "derived", "rank": "derived",
        "imd_decile": "context", "hour": "context", "level_per_km2": "context",
        "label": "text", "postcode": "forbidden",
    }
    # numbers stored as text (a CSV) are numbers
    assert classify_column("total", pd.Series(["3", "12", ""])) == "count"


def test_small_counts_in_any_whole_number_column_are_suppressed() -> None:
    table = pd.DataFrame({"h3": ["a", "b", "c"], "crimes": [2, 0, 9],
                          "score": [3.2, 0.0, 11.0], "z": [1.0, -0.2, 2.5],
                          "rank": [2, 3, 1], "harm": [4.0, 0.0, 30.0]})
    found = {(v.rule, v.where) for v in check_frame(table)}
    assert ("small-counts", "table.crimes") in found
    assert ("small-counts", "table.score") in found
    assert ("no-statistics", "table.z") in found
    out, applied = apply_rules(table)
    assert "z" not in out.columns and "z" in applied.dropped_fields
    assert pd.isna(out["crimes"].iloc[0]) and pd.isna(out["score"].iloc[0])
    # the row's derived values go with its count
    assert pd.isna(out["rank"].iloc[0]) and pd.isna(out["harm"].iloc[0])
    assert out["rank"].tolist()[1:] == [3, 1]
    assert check_frame(out) == []


def test_planted_z_beside_a_blanked_count_is_caught() -> None:
    out, _ = apply_rules(small_table())
    planted = out.assign(z=[0.1, 1.9, 2.4, 0.3, 3.0], value=[1.0, 2.0, 3.0, 4.0, 5.0])
    found = {(v.rule, v.where) for v in check_frame(planted)}
    assert ("no-statistics", "table.z") in found
    # a number of unknown meaning beside a blanked count is a derived value
    assert ("small-counts", "table.value") in found


def test_coordinates_in_any_guise_are_point_data() -> None:
    base = pd.DataFrame({"count": [6, 7]})
    wkt = base.assign(where=["POINT (442100.5 111900.2)", "POINT (442130 111950)"])
    pair = base.assign(spot=["50.9041, -1.4042", "50.9050, -1.4030"])
    xy = base.assign(x=[442100.0, 442130.0], y=[111900.0, 111950.0])
    hidden = base.assign(a=[442100.4, 442130.1], b=[111900.2, 111950.7])
    lonlat = base.assign(u=[-1.4042, -1.4030], v=[50.9041, 50.905])
    for table in (wkt, pair, xy, hidden, lonlat):
        assert "no-points" in {v.rule for v in check_frame(table)}, table.columns
    assert check_frame(base) == []


def test_the_deployment_floor_cannot_be_lowered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hotspot.export.disclosure import at_floor, deployment_floor

    assert deployment_floor() == DisclosureRules(min_count=5, round_to=5,
                                                 max_resolution=9)
    weak = DisclosureRules(min_count=1, round_to=None, max_resolution=15)
    assert at_floor(weak) == DisclosureRules(min_count=5, round_to=5,
                                             max_resolution=9)
    strong = DisclosureRules(min_count=10, round_to=10, max_resolution=8)
    assert at_floor(strong) == strong
    assert at_floor(DisclosureRules(round_to=7)).round_to == 5  # not a multiple
    monkeypatch.setenv("HOTSPOT_DISCLOSURE_MIN_COUNT", "10")
    monkeypatch.setenv("HOTSPOT_DISCLOSURE_ROUND_TO", "0")
    monkeypatch.setenv("HOTSPOT_DISCLOSURE_MAX_RESOLUTION", "8")
    assert at_floor(weak) == DisclosureRules(min_count=10, round_to=None,
                                             max_resolution=8)
    # the export and the checker hold to it: a 6 is now a small count
    assert "small-counts" in {v.rule for v in check_frame(
        apply_rules(small_table(), rules=DisclosureRules(min_count=2))[0],
        rules=at_floor(DisclosureRules()))}
    monkeypatch.setenv("HOTSPOT_DISCLOSURE_MIN_COUNT", "1")
    with pytest.raises(ValueError, match="HOTSPOT_DISCLOSURE_MIN_COUNT must be at "
                       "least 2"):
        deployment_floor()


def test_export_holds_the_floor_whatever_is_asked(tmp_path: Path) -> None:
    out = tmp_path / "weak.gpkg"
    record = export(make_bundle(), fmt="gpkg", out=out, log_dir=tmp_path / "var",
                    rules=DisclosureRules(min_count=1, max_resolution=15))
    assert record.log_entry["rules"]["min_count"] == 5
    cells = pyogrio.read_dataframe(out, layer="hotspots")
    assert cells["count"].isna().sum() == 2
    import h3

    fine = make_bundle()
    cells11 = fine.layers["hotspots"].assign(
        h3=[h3.latlng_to_cell(50.904 + i * 1e-3, -1.404, 11) for i in range(7)])
    fine.layers["hotspots"] = cells11
    with pytest.raises(DisclosureError, match="finer than the limit 9"):
        export(fine, fmt="gpkg", out=tmp_path / "fine.gpkg", log_dir=tmp_path / "v",
               rules=DisclosureRules(max_resolution=15))


def test_second_worlds_by_hand() -> None:
    """Secondary suppression when one cell is small; bins checked in both worlds."""
    import h3

    from hotspot.detect.gistar import ring_weights
    from hotspot.export.protect import gistar_bins, protect_cells

    ids = sorted(h3.grid_disk(h3.latlng_to_cell(50.90, -1.40, 8), 2))
    counts = np.array([0, 0, 9, 0, 14, 3, 0, 6, 0, 0, 22, 0, 8, 0, 0, 7, 0, 0, 5.0])
    w = ring_weights(ids, k=1)
    cells = pd.DataFrame({"h3": ids, "csp_code": "x", "count": counts,
                          "bin": gistar_bins(counts, w)})
    result = protect_cells(cells, min_count=5, k=1, fdr=True)
    # one small cell (the 3): it needs a partner, the smallest count above 5 (6)
    assert result.secondary.sum() == 1
    assert counts[result.secondary][0] == 6
    assert result.partners == {ids[5]: ids[7]}
    # the second world: one occurrence moved from the 6 to the 3
    world = counts.copy()
    world[5] += 1
    world[7] -= 1
    other = gistar_bins(world, w)
    shown = np.isfinite(result.bins)
    assert np.array_equal(result.bins[shown], other[shown])
    assert np.array_equal(~shown, gistar_bins(counts, w) != other)
    # two small cells that can trade an occurrence need no partner
    two = counts.copy()
    two[0] = 2
    res2 = protect_cells(cells.assign(count=two), min_count=5)
    assert res2.secondary.sum() == 0 and set(res2.partners) == {ids[0], ids[5]}


# ----------------------------------------------------------------------------
# the checker reads everything a file holds
# ----------------------------------------------------------------------------


def test_gpkg_metadata_as_gdal_writes_it_is_checked(tmp_path: Path) -> None:
    import sqlite3

    out = tmp_path / "view.gpkg"
    export(make_bundle(), fmt="gpkg", out=out, log_dir=tmp_path / "var")
    con = sqlite3.connect(out)
    (text,) = con.execute("SELECT metadata FROM gpkg_metadata LIMIT 1").fetchone()
    con.close()
    assert '<MDI key="hotspot">' in text  # what GDAL writes
    from hotspot.export.reading import read_export

    read = read_export(out)
    assert any(k.startswith("gpkg_metadata[") for k in read.metadata)
    pyogrio.write_dataframe(_plain(disclose(make_bundle()).layers["csp_outline"]), out,
                            layer="extra", append=True,
                            dataset_metadata={"summary": json.dumps(
                                {"occurrences": 3})})
    found = [v for v in check_file(out) if v.rule == "small-counts"]
    assert any("gpkg_metadata" in v.where for v in found), found


def test_a_hash_in_the_path_reads_the_real_file(tmp_path: Path) -> None:
    folder = tmp_path / "pack #3 ?x"
    folder.mkdir()
    path = plant_gpkg(folder, "small_count")
    found = check_file(path)
    assert "small-counts" in {v.rule for v in found}
    from hotspot.export.reading import read_export

    # the GeoPackage metadata table is read from the real file (SQLite opened
    # through a percent-encoded URI), and nothing new is left beside it
    assert any(k.startswith("gpkg_metadata[") for k in read_export(path).metadata)
    assert sorted(p.name for p in folder.iterdir()) == ["var", "view.gpkg"]
    assert not (tmp_path / "pack ").exists()


def test_kml_description_text_is_read(tmp_path: Path) -> None:
    out = tmp_path / "view.kml"
    export(make_bundle(), fmt="kml", out=out, log_dir=tmp_path / "var")
    assert check_file(out) == []
    text = out.read_text(encoding="utf-8").replace(
        "<Placemark>", "<Placemark><description><![CDATA[<table><tr><td>crimes</td>"
        "<td>2</td></tr></table>]]></description>", 1)
    out.write_text(text, encoding="utf-8")
    found = check_file(out)
    assert any(v.rule == "small-counts" and "(text)" in v.where for v in found), found


def test_tiny_polygons_around_points_are_caught(tmp_path: Path) -> None:
    pts = make_points().head(5)
    squares = gpd.GeoDataFrame({"count": [7] * 5, "harm": [9.0] * 5},
                               geometry=pts.geometry.buffer(1, cap_style="square"),
                               crs=BNG)
    for driver, name in (("GPKG", "sq.gpkg"), ("GeoJSON", "sq.geojson")):
        out = tmp_path / name
        frame = squares if driver == "GPKG" else squares.to_crs(4326)
        pyogrio.write_dataframe(frame, out, driver=driver)
        found = [v for v in check_file(out) if v.rule == "geometry-size"]
        assert found and "5 polygons smaller than" in found[0].detail, driver
    # clipped H3 cells at the coast are cells, not places finer than them
    cells = disclose(make_bundle()).layers["hotspots"]
    clipped = cells.copy()
    clipped.geometry = cells.geometry.intersection(cells.geometry.iloc[0].buffer(-150))
    clipped = clipped[~clipped.geometry.is_empty]
    out = tmp_path / "clipped.gpkg"
    pyogrio.write_dataframe(_plain(clipped), out)
    assert [v for v in check_file(out) if v.rule == "geometry-size"] == []


GEOTIFF_TRICKS = ("second_band", "band_tag", "nodata_disc", "exact_low")


@pytest.mark.parametrize("trick", GEOTIFF_TRICKS)
def test_geotiff_tricks_are_caught(tmp_path: Path, trick: str) -> None:
    import rasterio

    bundle = make_bundle()
    assert bundle.density is not None
    clean = disclose(bundle).density
    assert clean is not None
    out = tmp_path / "d.tif"
    write_geotiff(clean, out)
    assert check_file(out) == []
    raw = bundle.density.values.astype("float32")
    with rasterio.open(out) as src:
        profile, data, tags = src.profile, src.read(1), src.tags()
    if trick == "second_band":  # the exact surface hidden as band 2
        profile.update(count=2)
        with rasterio.open(out, "w", **profile) as dst:
            dst.write(data, 1)
            dst.write(np.nan_to_num(raw, nan=-9999.0), 2)
            dst.update_tags(**tags)
        expected = "density-bands"
    elif trick == "band_tag":  # a small total in band 1's own tags
        with rasterio.open(out, "r+") as dst:
            dst.update_tags(1, n_points="3")
        expected = "small-counts"
    elif trick == "nodata_disc":  # low cells masked to nodata (rules version 1)
        floor = DisclosureRules().density_floor_per_km2(300.0)
        masked = np.where((raw > 0) & (raw < floor), -9999.0, data)
        with rasterio.open(out, "r+") as dst:
            dst.write(masked.astype("float32"), 1)
        expected = "reconstruction"
    else:  # exact values, no nodata at all
        profile.update(nodata=None)
        with rasterio.open(out, "w", **profile) as dst:
            dst.write(np.nan_to_num(raw, nan=0.0), 1)
            dst.update_tags(**tags)
        expected = "small-counts"
    rules = {v.rule for v in check_file(out)}
    assert expected in rules, rules


def test_each_count_is_suppressed_on_its_own() -> None:
    table = pd.DataFrame({"count": [12, 3, 0], "score": [2.4, 9.0, 0.0],
                          "rank": [2, 1, 3]})
    out, applied = apply_rules(table)
    # a small expected count (score) hides itself, not the row's observed count
    assert out["count"].iloc[0] == 12 and pd.isna(out["score"].iloc[0])
    assert pd.isna(out["count"].iloc[1]) and out["score"].iloc[1] == 9
    # derived values go wherever any count of the row is suppressed
    assert out["rank"].isna().tolist() == [True, True, False]
    assert applied.suppressed == 2
    assert check_frame(out) == []


def test_a_flag_made_from_bins_is_withheld_with_them() -> None:
    """``hot_both`` beside a withheld bin would say what the bin hid."""
    import h3

    from hotspot.export.briefing import fire_summary
    from hotspot.export.disclosure import classify_column

    centre = h3.latlng_to_cell(50.75, -1.6, 9)  # New Forest
    far = sorted(h3.grid_ring(centre, 4))[:2]
    cells = [centre, *far]
    table = pd.DataFrame({
        "h3": cells,
        "violence_count": [3, 40, 35],  # the first is suppressed
        "fire_count": [9, 20, 0],
        "violence_bin": [3, 3, 2], "fire_bin": [3, 2, 0],
        "hot_both": [True, True, False],
    })
    assert classify_column("hot_both", table["hot_both"]) == "class"
    out, applied = apply_rules(table)
    row = out.set_index("h3")
    assert pd.isna(row.loc[centre, "violence_count"])
    assert pd.isna(row.loc[centre, "violence_bin"])  # withheld with its count
    assert pd.isna(row.loc[centre, "hot_both"])  # and so is the flag
    assert row.loc[far[0], "hot_both"] == 1 and row.loc[far[1], "hot_both"] == 0
    assert applied.withheld_classes >= 3
    # the briefing counts a withheld class apart, never as "not hot"
    bundle = ExportBundle(layers={"fires": out}, metadata=make_bundle().metadata)
    summary = fire_summary(bundle)
    assert summary is not None
    assert "cells whose class is withheld" in set(summary["measure"])

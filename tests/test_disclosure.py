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
from hotspot.export.disclosure import (
    SOURCES_SUFFIX,
    DisclosureError,
    DisclosureRules,
    apply_rules,
    check_density,
    check_file,
    check_frame,
    check_metadata,
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

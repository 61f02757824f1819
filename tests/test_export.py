"""Tests of hotspot.export.bundle: every format opened by the library that reads it.

The fixture is seven H3 cells (resolution 9) in central Southampton: a centre
cell with 12 occurrences and its ring with 6, 3, 0, 7, 1 and 5, so after
disclosure control (threshold 5, the floor's rounding to 5) the 3 and the 1 are
suppressed and the others shown as 10, 5, 0, 5 and 5. A KDE surface of 40
points (30 at the centre, 10 spread) gives a density layer.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely

from hotspot.crs import BNG, lonlat_to_bng
from hotspot.detect.kde import kde_surface
from hotspot.export.bundle import (
    ATTRIBUTIONS,
    ExportBundle,
    ExportMetadata,
    density_contours,
    disclose,
    export,
    read_export_log,
)
from hotspot.export.disclosure import DisclosureError, DisclosureRules, check_file
from hotspot.grid import cell_polygons

CENTRE_LATLNG = (50.904, -1.404)
RING_COUNTS = [6, 3, 0, 7, 1, 5]


def make_cells() -> gpd.GeoDataFrame:
    centre = h3.latlng_to_cell(*CENTRE_LATLNG, 9)
    ring = sorted(h3.grid_ring(centre, 1))
    ids = [centre, *ring]
    counts = [12, *RING_COUNTS]
    bins = [2, 0, 0, 0, 1, 0, 0]
    return gpd.GeoDataFrame(
        {
            "h3": ids,
            "csp_code": "E06000045",
            "csp_name": "Southampton",
            "count": np.array(counts, dtype="int64"),
            "harm": np.array(counts, dtype=float) * 1.5,
            "neighbour_sum": np.array([34, 20, 15, 22, 19, 25, 24], dtype="int64"),
            "z": [3.1, 0.4, -0.2, 0.1, 1.7, -0.5, 0.3],
            "p": [0.002, 0.7, 0.8, 0.9, 0.09, 0.6, 0.75],
            "bin": np.array(bins, dtype="int8"),
            "explanation": ["12 robberies here and 3 next door"] * 7,
        },
        geometry=cell_polygons(ids).to_numpy(),
        crs=BNG,
    )


def make_points() -> gpd.GeoDataFrame:
    x0, y0 = lonlat_to_bng([CENTRE_LATLNG[1]], [CENTRE_LATLNG[0]])
    rng = np.random.default_rng(7)
    xy = np.vstack([
        np.column_stack([x0 + rng.normal(0, 40, 30), y0 + rng.normal(0, 40, 30)]),
        np.column_stack([x0 + rng.uniform(-400, 400, 10),
                         y0 + rng.uniform(-400, 400, 10)]),
    ])
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=BNG)


def make_bundle(*, synthetic: bool = True, with_density: bool = True) -> ExportBundle:
    cells = make_cells()
    area = shapely.union_all(cells.geometry.to_numpy()).buffer(600)
    outline = gpd.GeoDataFrame({"csp_code": ["E06000045"], "csp_name": ["Southampton"]},
                               geometry=[area], crs=BNG)
    wards = gpd.GeoDataFrame({"ward22_code": ["E05002460"],
                              "ward22_name": ["Bargate"]},
                             geometry=[area.buffer(-100)], crs=BNG)
    weekday = pd.DataFrame({"weekday": ["Fri", "Sat", "Sun"], "hour": [22, 23, 1],
                            "count": [9, 4, 6]})
    density = (kde_surface(make_points(), area=area, cell_size_m=25.0,
                           bandwidth_m=300.0) if with_density else None)
    meta = ExportMetadata(
        title="Serious violence hot spots, Southampton",
        period="2025-01 to 2025-09",
        filters={"categories": ["robbery"], "csp": "Southampton"},
        parameters={"resolution": 9, "k": 1, "alpha": 0.05},
        synthetic=synthetic,
    )
    return ExportBundle(
        layers={"hotspots": cells, "csp_outline": outline, "wards": wards,
                "weekday_hour": weekday},
        metadata=meta, density=density,
    )


@pytest.fixture
def bundle() -> ExportBundle:
    return make_bundle()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


# ----------------------------------------------------------------------------
# disclosure over a bundle
# ----------------------------------------------------------------------------


def test_disclose_suppresses_small_cells_and_keeps_input(bundle: ExportBundle) -> None:
    clean = disclose(bundle)
    cells = clean.layers["hotspots"]
    counts = cells["count"].tolist()
    assert counts[0] == 10  # 12, rounded to 5 by the deployment floor
    assert pd.isna(counts[2]) and pd.isna(counts[5])  # the 3 and the 1
    assert counts[3] == 0  # zero shown
    assert str(cells["count"].dtype) == "Int64"
    assert pd.isna(cells["harm"].iloc[2])
    assert "explanation" not in cells.columns
    # statistics of neighbouring counts are never shipped; bins are
    assert not {"z", "p", "neighbour_sum"} & set(cells.columns)
    assert "bin" in cells.columns
    assert pd.isna(clean.layers["weekday_hour"]["count"].iloc[1])
    # the input is untouched
    assert bundle.layers["hotspots"]["count"].tolist() == [12, *RING_COUNTS]
    applied = clean.metadata.disclosure["applied"]
    assert applied["hotspots"]["suppressed"] == 2
    assert applied["density"]["cells_below_floor_set_to_0"] > 0
    assert applied["hotspots"]["bin_protection"] == "moves"


def test_disclose_rounds_to_five(bundle: ExportBundle) -> None:
    clean = disclose(bundle, rules=DisclosureRules(round_to=5))
    counts = clean.layers["hotspots"]["count"]
    assert counts.iloc[0] == 10 and counts.iloc[1] == 5 and counts.iloc[4] == 5
    assert pd.isna(counts.iloc[2])


def test_contours_start_at_the_disclosure_floor(bundle: ExportBundle) -> None:
    rules = DisclosureRules()
    assert bundle.density is not None
    contours = density_contours(bundle.density, rules=rules)
    floor = rules.density_floor_per_km2(300.0)
    assert len(contours) >= 1
    assert contours["level_per_km2"].min() == pytest.approx(floor)
    assert set(contours.geom_type) <= {"Polygon"}
    # each band's polygons hold only raster cells at or above its level
    values = bundle.density.values
    assert np.nanmax(values) >= floor


# ----------------------------------------------------------------------------
# each format, opened by its reader
# ----------------------------------------------------------------------------


def test_gpkg_layers_content_and_metadata(
    bundle: ExportBundle, tmp_path: Path, log_dir: Path
) -> None:
    out = tmp_path / "view.gpkg"
    record = export(bundle, fmt="gpkg", out=out, log_dir=log_dir)
    assert record.files == [out]
    names = [str(n) for n, _ in pyogrio.list_layers(out)]
    assert set(names) == {"hotspots", "csp_outline", "wards", "weekday_hour",
                          "kde_contours"}
    cells = pyogrio.read_dataframe(out, layer="hotspots")
    assert cells.crs.to_epsg() == 27700
    assert len(cells) == 7
    assert cells["count"].iloc[0] == 10 and np.isnan(cells["count"].iloc[2])
    assert "explanation" not in cells.columns
    info = pyogrio.read_info(out, layer="hotspots")
    meta = json.loads(info["layer_metadata"]["hotspot"])
    assert meta["title"].startswith("SYNTHETIC: ")
    assert meta["period"] == "2025-01 to 2025-09"
    assert meta["filters"]["categories"] == ["robbery"]
    assert meta["parameters"]["resolution"] == 9
    assert meta["attributions"] == list(ATTRIBUTIONS)
    assert meta["disclosure"]["rules"]["min_count"] == 5
    con = sqlite3.connect(out)
    ident, desc = con.execute(
        "SELECT identifier, description FROM gpkg_contents WHERE table_name="
        "'hotspots'").fetchone()
    con.close()
    assert ident.startswith("SYNTHETIC: Serious violence hot spots")
    assert "Open Government Licence v3.0" in desc and "GeoNames" in desc
    assert check_file(out) == []


def test_geojson_per_layer(bundle: ExportBundle, tmp_path: Path, log_dir: Path) -> None:
    out = tmp_path / "geojson"
    record = export(bundle, fmt="geojson", out=out, log_dir=log_dir)
    names = sorted(p.name for p in record.files)
    assert names == ["csp_outline.geojson", "hotspots.geojson",
                     "kde_contours.geojson", "wards.geojson"]
    cells = pyogrio.read_dataframe(out / "hotspots.geojson")
    assert cells.crs.to_epsg() == 4326
    assert sorted(cells["count"].dropna().astype(int)) == [0, 5, 5, 5, 10]
    doc = json.loads((out / "hotspots.geojson").read_text(encoding="utf-8"))
    assert doc["title"].startswith("SYNTHETIC: ")
    assert doc["metadata"]["period"] == "2025-01 to 2025-09"
    assert "count" in doc["metadata"]["count_columns"]
    assert doc["metadata"]["attributions"][3] == "GeoNames (geonames.org), CC BY 4.0."


def test_csv_with_sidecar(bundle: ExportBundle, tmp_path: Path, log_dir: Path) -> None:
    out = tmp_path / "csv"
    export(bundle, fmt="csv", out=out, log_dir=log_dir)
    table = pd.read_csv(out / "hotspots.csv")
    assert "geometry" not in table.columns
    assert table["count"].isna().sum() == 2
    assert table["h3"].iloc[0] == make_cells()["h3"].iloc[0]
    side = json.loads((out / "hotspots.csv-metadata.json").read_text(encoding="utf-8"))
    assert side["url"] == "hotspots.csv"
    assert side["dc:title"].startswith("SYNTHETIC: ")
    assert "Royal Mail" in side["dc:description"]
    assert {"name": "count", "datatype": "integer"} in side["tableSchema"]["columns"]
    week = pd.read_csv(out / "weekday_hour.csv")
    assert week["count"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize("driver", ["LIBKML", "KML"], ids=["libkml", "kml"])
def test_kml_opens_in_gdal(
    bundle: ExportBundle, tmp_path: Path, log_dir: Path, driver: str
) -> None:
    out = tmp_path / "view.kml"
    export(bundle, fmt="kml", out=out, log_dir=log_dir)
    if driver not in pyogrio.list_drivers():
        pytest.skip(f"GDAL has no {driver} driver here")
    layers = [str(n) for n, _ in pyogrio.list_layers(out)]
    assert "hotspots" in layers and "csp_outline" in layers
    cells = pyogrio.read_dataframe(out, layer="hotspots", driver=driver)
    assert len(cells) == 2  # hot, significant cells only (bins 2 and 1)
    assert cells.crs.to_epsg() == 4326
    if driver == "LIBKML":
        assert "count" in cells.columns
        shown = pd.to_numeric(cells["count"], errors="coerce")
        assert sorted(shown.dropna().astype(int)) == [5, 10]
    assert cells["Name"].iloc[0] == "Hot spot, 95% confidence"
    text = out.read_text(encoding="utf-8")
    assert '<Style id="bin_2">' in text and "<styleUrl>#bin_2</styleUrl>" in text
    assert "<name>SYNTHETIC: Serious violence hot spots, Southampton</name>" in text
    assert "Period: 2025-01 to 2025-09" in text


def test_geotiff_tags(bundle: ExportBundle, tmp_path: Path, log_dir: Path) -> None:
    out = tmp_path / "density.tif"
    export(bundle, fmt="tif", out=out, log_dir=log_dir)
    with rasterio.open(out) as src:
        tags = src.tags()
        data = src.read(1, masked=True)
        assert src.crs.to_epsg() == 27700
    assert tags["title"].startswith("SYNTHETIC: ")
    assert tags["period"] == "2025-01 to 2025-09"
    assert json.loads(tags["filters"])["categories"] == ["robbery"]
    assert "Royal Mail" in tags["attribution"]
    assert tags["synthetic"] == "True"
    floor = DisclosureRules().density_floor_per_km2(300.0)
    shown = data.compressed()
    assert shown[shown > 0].min() >= floor * 0.999
    assert json.loads(tags["disclosure"])["rules"]["min_count"] == 5


def test_real_title_has_no_synthetic_label(tmp_path: Path, log_dir: Path) -> None:
    out = tmp_path / "real.gpkg"
    export(make_bundle(synthetic=False), fmt="gpkg", out=out, log_dir=log_dir)
    meta = json.loads(pyogrio.read_info(out, layer="hotspots")["layer_metadata"]
                      ["hotspot"])
    assert meta["title"] == "Serious violence hot spots, Southampton"


def test_tif_without_density_is_refused(tmp_path: Path, log_dir: Path) -> None:
    with pytest.raises(ValueError, match="no density surface"):
        export(make_bundle(with_density=False), fmt="tif", out=tmp_path / "d.tif",
               log_dir=log_dir)


def test_wrong_suffix_is_refused(bundle: ExportBundle, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="out must end in .kml"):
        export(bundle, fmt="kml", out=tmp_path / "view.gpkg", log_dir=tmp_path)


# ----------------------------------------------------------------------------
# the export refuses and leaves nothing behind
# ----------------------------------------------------------------------------


def test_point_layer_is_refused_and_nothing_written(
    bundle: ExportBundle, tmp_path: Path, log_dir: Path
) -> None:
    layers = dict(bundle.layers)
    layers["points"] = make_points()
    bad = ExportBundle(layers=layers, metadata=bundle.metadata)
    out = tmp_path / "bad.gpkg"
    with pytest.raises(DisclosureError, match="no-points"):
        export(bad, fmt="gpkg", out=out, log_dir=log_dir)
    assert not out.exists()
    assert list(tmp_path.glob(".export-*")) == []
    assert read_export_log(log_dir) == []


def test_export_log_lines(bundle: ExportBundle, tmp_path: Path, log_dir: Path) -> None:
    export(bundle, fmt="gpkg", out=tmp_path / "a.gpkg", log_dir=log_dir)
    export(bundle, fmt="csv", out=tmp_path / "csv", log_dir=log_dir,
           rules=DisclosureRules(min_count=3, round_to=5))
    entries = read_export_log(log_dir)
    assert [e["format"] for e in entries] == ["gpkg", "csv"]
    first, second = entries
    # the deployment floor (5, rounded to 5) holds whatever is asked for
    assert first["rules"]["min_count"] == 5 and first["rules"]["round_to"] == 5
    assert second["rules"]["min_count"] == 5 and second["rules"]["round_to"] == 5
    assert first["applied"]["hotspots"]["suppressed"] == 2
    assert first["parameters"]["resolution"] == 9
    assert first["check"] == "passed" and first["synthetic"] is True
    assert len(first["files"][0]["sha256"]) == 64
    assert first["when"].endswith("Z")


# ----------------------------------------------------------------------------
# the view file and the command
# ----------------------------------------------------------------------------


def test_view_file_is_read_and_checked(tmp_path: Path) -> None:
    from hotspot.export.build import rules_of
    from hotspot.view_file import load_view

    view = tmp_path / "v.toml"
    view.write_text('store = "store"\ncsp = "Portsmouth"\nfrom = "2025-01"\n'
                    'categories = ["robbery"]\n[parameters]\nresolution = 8\n'
                    '[disclosure]\nmin_count = 10\nround_to = 5\n', encoding="utf-8")
    spec = load_view(view)
    assert spec.store == tmp_path / "store"
    assert spec.csp == "Portsmouth" and spec.view.month_from == "2025-01"
    assert spec.view.categories == ("robbery",)
    assert spec.view.resolution == 8
    assert rules_of(spec) == DisclosureRules(min_count=10, round_to=5)
    view.write_text('store = "s"\nperiod = "2025"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"v\.toml: unknown keys \['period'\]"):
        load_view(view)
    view.write_text('store = "s"\nlayers = ["points"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="layers must be some of"):
        load_view(view)


@pytest.mark.slow
def test_command_on_the_embedded_store(tmp_path: Path) -> None:
    import argparse

    from hotspot.cli.export import add_parser
    from hotspot.ingest.store import DEFAULT_STORE

    if not (DEFAULT_STORE / "occurrences.parquet").is_file():
        pytest.skip("embedded default store not built")
    view = tmp_path / "iow.json"
    view.write_text(json.dumps({
        "store": str(DEFAULT_STORE), "csp": "Isle of Wight", "from": "2024-10",
        "to": "2025-09", "layers": ["hotspots", "kde", "csp", "wards", "tables"],
        "parameters": {"resolution": 8, "bandwidth_m": 800, "cell_size_m": 100},
    }), encoding="utf-8")
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    out = tmp_path / "iow.gpkg"
    args = parser.parse_args(["export", str(view), "--format", "gpkg", "--out",
                              str(out), "--log-dir", str(tmp_path / "var")])
    assert args.func(args) == 0
    layers = {str(n) for n, _ in pyogrio.list_layers(out)}
    assert {"hotspots", "csp_outline", "wards", "kde_contours", "top_hotspots",
            "monthly"} <= layers
    cells = pyogrio.read_dataframe(out, layer="hotspots")
    assert set(cells["csp_name"]) == {"Isle of Wight"}
    shown = cells["count"].dropna()
    assert ((shown == 0) | (shown >= 5)).all()
    assert check_file(out) == []
    entry = read_export_log(tmp_path / "var")[-1]
    assert entry["format"] == "gpkg" and entry["parameters"]["resolution"] == 8


@pytest.mark.parametrize(("fmt", "file_name"), [("gpkg", "sot.gpkg"),
                                                 ("csv", "sot_csv.zip")],
                         ids=["file", "zip"])
def test_download_bytes(bundle: ExportBundle, log_dir: Path, fmt: str,
                        file_name: str) -> None:
    import io
    import zipfile

    from hotspot.export.bundle import export_download

    name, data = export_download(bundle, fmt=fmt, name="sot", log_dir=log_dir)
    assert name == file_name
    if fmt == "gpkg":
        assert data[:16] == b"SQLite format 3\x00"
    else:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        assert "sot/hotspots.csv" in names
        assert "sot/hotspots.csv-metadata.json" in names
    assert read_export_log(log_dir)[-1]["delivered_as"] == f"download {file_name}"
    with pytest.raises(ValueError, match="name must be"):
        export_download(bundle, fmt=fmt, name="../x", log_dir=log_dir)


def test_cli_reports_a_bad_view(tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    import hotspot.cli.main as cli

    view = tmp_path / "v.toml"
    view.write_text('store = "s"\nwhere = "x"\n', encoding="utf-8")
    status = cli.main(["-q", "export", str(view), "--format", "gpkg", "--out",
                       str(tmp_path / "o.gpkg")])
    assert status == 2
    assert "unknown keys ['where']" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# files that open well
# ----------------------------------------------------------------------------


def test_gpkg_opens_styled_with_integer_columns(
    bundle: ExportBundle, tmp_path: Path, log_dir: Path
) -> None:
    from hotspot.layers import BIN_COLOURS, BIN_LABELS

    out = tmp_path / "view.gpkg"
    export(bundle, fmt="gpkg", out=out, log_dir=log_dir)
    con = sqlite3.connect(out)
    styles = {row[0]: row[1:] for row in con.execute(
        "SELECT f_table_name, f_geometry_column, styleQML, styleSLD, useAsDefault "
        "FROM layer_styles")}
    types = {name: kind for _, name, kind, *_ in
             con.execute("PRAGMA table_info(hotspots)")}
    week = {name: kind for _, name, kind, *_ in
            con.execute("PRAGMA table_info(weekday_hour)")}
    con.close()
    assert set(styles) == {"hotspots", "csp_outline", "wards", "kde_contours"}
    geom, qml, sld, default = styles["hotspots"]
    assert geom == "geom" and default == 1
    import xml.etree.ElementTree as ET

    root = ET.fromstring(qml.split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "bin"
    cats = {c.get("value"): c.get("label") for c in renderer.iter("category")}
    assert cats["3"] == BIN_LABELS[3] and cats[""] == "Withheld (disclosure control)"
    colours = [o.get("value") for o in root.iter("Option") if o.get("name") == "color"]
    r, g, b = BIN_COLOURS[3]
    assert colours[0] == f"{r},{g},{b},255"  # the legend's colour, not a copy
    assert "#{:02x}{:02x}{:02x}".format(*BIN_COLOURS[-2]) in sld
    assert "<ogc:PropertyIsEqualTo>" in sld and "<se:PolygonSymbolizer>" in sld
    assert types["count"] == "INTEGER" and types["bin"] == "INTEGER"
    assert week["count"] == "INTEGER" and week["hour"] == "INTEGER"
    # GDAL does not take the style table for a layer
    assert "layer_styles" not in {str(n) for n, _ in pyogrio.list_layers(out)}


def test_geojson_is_rfc7946_with_six_decimals(
    bundle: ExportBundle, tmp_path: Path, log_dir: Path
) -> None:
    out = tmp_path / "gj"
    export(bundle, fmt="geojson", out=out, log_dir=log_dir)
    doc = json.loads((out / "hotspots.geojson").read_text(encoding="utf-8"))
    assert "crs" not in doc
    ring = doc["features"][0]["geometry"]["coordinates"][0]
    assert all(len(str(v).split(".")[-1]) <= 6 for xy in ring for v in xy)
    assert -1.5 < ring[0][0] < -1.3 and 50.8 < ring[0][1] < 51.0  # lon, lat
    assert shapely.Polygon(ring).exterior.is_ccw  # exterior counter-clockwise
    props = doc["features"][0]["properties"]
    assert isinstance(props["count"], int) and isinstance(props["bin"], int)
    text = (out / "hotspots.geojson").read_text(encoding="utf-8")
    assert not any(len(m) > 6 for m in __import__("re").findall(r"\.(\d+)", text)
                   if m)

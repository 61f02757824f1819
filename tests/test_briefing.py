"""Tests of briefing: the PDF pack and the 16:9 PNG, rendered and read back.

Uses the seven-cell Southampton fixture of tests/test_export.py. The PDF is
rendered to PNG with ``pdftoppm`` (poppler-utils); those tests skip when it is
not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hotspot.export.briefing import PNG_DPI, SLIDE, nice_length_m, source_tables
from hotspot.export.bundle import ExportBundle, disclose, export
from hotspot.export.disclosure import SOURCES_SUFFIX, check_file
from tests.test_export import make_bundle

POPPLER = shutil.which("pdftoppm") is not None and shutil.which("pdftotext") \
    is not None
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")


def briefing_bundle() -> ExportBundle:
    bundle = make_bundle()
    layers = dict(bundle.layers)
    layers["top_hotspots"] = pd.DataFrame({
        "rank": [1], "h3": [bundle.layers["hotspots"]["h3"].iloc[0]],
        "ward": ["Bargate"], "count": [12], "harm": [18.0], "z": [3.1], "bin": [2],
    })
    layers["monthly"] = pd.DataFrame({"month": ["2025-07", "2025-08", "2025-09"],
                                      "occurrences": [14, 3, 9],
                                      "school_holiday": [True, True, False]})
    notes = {"deprivation": "no IMD data in this test",
             "fires": "no fire incident file named in the view (fires = ...)"}
    return ExportBundle(layers=layers, metadata=bundle.metadata,
                        density=bundle.density, notes=notes)


@pytest.mark.parametrize(("width_m", "expected"),
                         [(10_000, 2000), (7_000, 1000), (30_000, 5000), (900, 100)],
                         ids=["10km", "7km", "30km", "900m"])
def test_scale_bar_length(width_m: float, expected: float) -> None:
    assert nice_length_m(width_m) == expected


def test_source_tables_are_the_disclosed_ones() -> None:
    tables = source_tables(disclose(briefing_bundle()))
    monthly = tables["monthly"]
    assert monthly["columns"] == ["month", "occurrences", "school_holiday"]
    assert monthly["rows"][1][1] is None  # the 3 is suppressed
    assert tables["hotspots"]["geometry_types"] == ["Polygon"]
    assert "count" in tables["hotspots"]["count_columns"]


def test_png_is_16_9_with_text_chunks(tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    record = export(briefing_bundle(), fmt="png", out=out, log_dir=tmp_path / "var",
                    csp="Southampton")
    assert record.files == [out, out.with_name(out.name + SOURCES_SUFFIX)]
    with Image.open(out) as img:
        assert img.size == (1920, 1080)
        assert round(SLIDE[0] * PNG_DPI) == 1920
        assert img.info["Title"].startswith("SYNTHETIC: Serious violence hot spots")
        assert img.info["Description"] == "Period 2025-01 to 2025-09"
        assert "Royal Mail" in img.info["Copyright"]
        pixels = np.asarray(img.convert("RGB")).reshape(-1, 3)
    # the 95% hot spot colour (239, 138, 98) is drawn
    assert (np.abs(pixels.astype(int) - [239, 138, 98]).sum(axis=1) < 6).sum() > 50
    assert check_file(out) == []


@needs_poppler
def test_pdf_pages_render_and_say_what_is_missing(tmp_path: Path) -> None:
    out = tmp_path / "pack.pdf"
    export(briefing_bundle(), fmt="pdf", out=out, log_dir=tmp_path / "var",
           csp="Southampton")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(out),
                    str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    # no deprivation, fires or operations in the bundle: page 3 is left out
    assert [p.name for p in pages] == ["page-1.png", "page-2.png"]
    with Image.open(pages[0]) as img:
        width, height = img.size
        assert width > height  # landscape
        grey = np.asarray(img.convert("L"))
        assert grey.std() > 10  # not a blank page
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "SYNTHETIC: Serious violence hot spots, Southampton" in text
    assert "Period 2025-01 to 2025-09" in text
    assert "Top hot spots" in text and "Bargate" in text
    assert "not in this view: add the layers" in text
    for page in pages:
        with Image.open(page) as img:
            assert np.asarray(img.convert("L")).std() > 10, page.name
    assert "GeoNames (geonames.org), CC BY 4.0." in text
    assert "counts below 5 suppressed" in text
    info = subprocess.run(["pdfinfo", str(out)], check=True, capture_output=True,
                          text=True).stdout
    assert "SYNTHETIC: Serious violence hot spots" in info
    sidecar = json.loads(out.with_name(out.name + SOURCES_SUFFIX).read_text())
    assert sidecar["notes"]["deprivation"] == "no IMD data in this test"
    assert check_file(out) == []


def test_briefing_refuses_points(tmp_path: Path) -> None:
    from hotspot.export.disclosure import DisclosureError
    from tests.test_export import make_points

    bundle = briefing_bundle()
    layers = {**bundle.layers, "points": make_points()}
    with pytest.raises(DisclosureError, match="no-points"):
        export(ExportBundle(layers=layers, metadata=bundle.metadata), fmt="pdf",
               out=tmp_path / "x.pdf", log_dir=tmp_path)
    assert not (tmp_path / "x.pdf").exists()


def test_deprivation_summary_goes_through_the_disclosure_rules() -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from hotspot.export.briefing import deprivation_summary
    from hotspot.export.bundle import ExportMetadata

    # 12 LSOAs: 1 in deciles 1-2 (a small count), 11 in deciles 6-10; one hot
    # cell touching the deciles 1-2 LSOA only
    lsoas = gpd.GeoDataFrame(
        {"lsoa_code": [f"E0{i:07d}" for i in range(12)],
         "imd_decile": [1] + [8] * 11},
        geometry=[box(440_000 + 1000 * i, 110_000, 440_900 + 1000 * i, 110_900)
                  for i in range(12)], crs="EPSG:27700")
    cells = gpd.GeoDataFrame({"h3": ["x"], "bin": [3]},
                             geometry=[box(440_100, 110_100, 440_200, 110_200)],
                             crs="EPSG:27700")
    meta = ExportMetadata(title="t", period="p", disclosure={
        "rules": {"min_count": 5, "round_to": 5, "max_resolution": 9}})
    bundle = ExportBundle(layers={"deprivation": lsoas, "hotspots": cells},
                          metadata=meta)
    table = deprivation_summary(bundle).set_index("imd_group")
    assert pd.isna(table.loc["deciles 1-2", "lsoas"])  # 1: suppressed
    assert pd.isna(table.loc["deciles 1-2", "lsoas_with_hot_spot"])
    assert table.loc["deciles 6-10", "lsoas"] == 10  # 11 rounded to 5
    assert table.loc["deciles 3-5", "lsoas"] == 0

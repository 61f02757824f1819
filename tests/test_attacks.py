"""The reconstruction attacks: hand-checked cases, then real exports old and new.

``tests/data/legacy_exports_iow.tgz`` holds exports of two nested periods of the
Isle of Wight (2025-04 to 2025-08 and to 2025-09, H3 resolution 8, KDE 600 m)
made with the export code as it stood before rules version 2 (small counts
blanked, everything else exact). The same attack code that recovers the
suppressed counts from those files (checked against the true counts from the
analysis) fails against the files written now, in every format.
"""

from __future__ import annotations

import json
import math
import tarfile
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest
from affine import Affine

from hotspot.detect.gistar import gi_star
from hotspot.errors import ParameterError
from hotspot.export import attacks
from hotspot.export.checker import check_file, check_pair
from hotspot.export.reading import read_export

LEGACY = Path(__file__).parent / "data" / "legacy_exports_iow.tgz"
CENTRE = h3.latlng_to_cell(50.70, -1.30, 8)


# ----------------------------------------------------------------------------
# hand-checked cases
# ----------------------------------------------------------------------------


def patch_cells(counts: list[int]) -> pd.DataFrame:
    """A 2-ring patch (19 cells) with the counts, and Gi* computed by the engine."""
    ids = sorted(h3.grid_disk(CENTRE, 2))
    frame = pd.DataFrame({"h3": ids, "study_area": "a", "csp_code": "a",
                          "count": np.asarray(counts, dtype=float)})
    return gi_star(frame, column="count", k=1, fdr=False)


COUNTS = [0, 3, 7, 1, 12, 0, 5, 2, 9, 0, 4, 6, 0, 1, 8, 0, 3, 11, 0]


def blank_small(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    small = (out["count"] > 0) & (out["count"] < 5)
    out["count"] = out["count"].where(~small)
    return out


def test_gistar_solve_recovers_every_suppressed_count_by_hand() -> None:
    cells = patch_cells(COUNTS)
    shown = blank_small(cells)
    truth = dict(zip(cells["h3"], cells["count"].astype(int), strict=True))
    hidden = shown.loc[shown["count"].isna(), "h3"].tolist()
    assert len(hidden) == 6  # the 3, 1, 2, 4, 1 and 3 of COUNTS
    result = attacks.gistar_solve(shown, statistic="z", k=1)
    assert result.solved
    assert result.recovered == {c: truth[c] for c in hidden}


def test_gistar_solve_from_p_with_the_sign_from_bins() -> None:
    cells = blank_small(patch_cells(COUNTS))
    cells["bin"] = np.sign(cells["z"]) * (cells["p"] < 0.1)
    truth = dict(zip(patch_cells(COUNTS)["h3"], COUNTS, strict=True))
    result = attacks.gistar_solve(cells.drop(columns="z"), statistic="p", from_p=True)
    assert result.solved
    assert all(truth[c] == v for c, v in result.recovered.items())
    assert len(result.recovered) == 6


def test_gistar_solve_with_rounded_counts() -> None:
    cells = blank_small(patch_cells(COUNTS))
    cells["count"] = np.round(cells["count"] / 5) * 5
    truth = dict(zip(patch_cells(COUNTS)["h3"], COUNTS, strict=True))
    result = attacks.gistar_solve(cells, statistic="z")
    assert result.solved
    small = {c: v for c, v in result.recovered.items() if 1 <= v <= 4}
    assert small and all(truth[c] == v for c, v in small.items())


def test_gistar_solve_fails_without_a_statistic() -> None:
    cells = blank_small(patch_cells(COUNTS))
    cells["noise"] = np.random.default_rng(1).normal(size=len(cells))
    assert not attacks.gistar_solve(cells, statistic="noise").solved
    with pytest.raises(ParameterError, match="'z'"):
        attacks.gistar_solve(cells.drop(columns="z"), statistic="z")


def test_difference_attack_by_hand() -> None:
    a = pd.DataFrame({"h3": ["x", "y", "z"], "count": [12.0, np.nan, 0.0]})
    b = pd.DataFrame({"h3": ["x", "y", "z"], "count": [14.0, 6.0, np.nan]})
    result = attacks.difference_attack(a, b)
    # x: 14 - 12 = 2 exactly; y: 6 - [1, 4] = 2..5; z: [1, 4] - 0 = 1..4
    assert result.solved and result.recovered == {"x": 2}
    rounded_a = a.assign(count=[10.0, np.nan, 0.0])
    rounded_b = b.assign(count=[15.0, 5.0, np.nan])
    lo, hi = attacks.count_intervals(np.array([15.0, 10.0]), min_count=5, base=5)
    assert lo.tolist() == [13.0, 8.0] and hi.tolist() == [17.0, 12.0]
    assert not attacks.difference_attack(rounded_a, rounded_b).solved  # x: 1..9


def test_totals_attack_by_hand() -> None:
    one = pd.DataFrame({"h3": ["a", "b", "c"], "count": [10.0, np.nan, 7.0]})
    assert attacks.totals_attack(one, 20.0).recovered == {"b": 3}
    ones = pd.DataFrame({"h3": ["a", "b", "c"], "count": [10.0, np.nan, np.nan]})
    assert attacks.totals_attack(ones, 12.0).recovered == {"b": 1, "c": 1}
    free = attacks.totals_attack(ones, 15.0)  # 5 in two cells: 1+4, 2+3, ...
    assert not free.solved
    assert not attacks.totals_attack(one, (16.0, 24.0)).solved


def test_nodata_disc_and_low_peak_by_hand() -> None:
    h_m, cell = 300.0, 25.0
    n = 60
    xs = (np.arange(n) + 0.5) * cell
    gx, gy = np.meshgrid(xs, xs[::-1])
    d2 = (gx - 750.0) ** 2 + (gy - 750.0) ** 2
    one = np.where(d2 < h_m**2, 3 / (math.pi * (h_m / 1000) ** 2)
                   * (1 - d2 / h_m**2) ** 2, 0.0)
    background = 100.0 + 0 * one  # busy everywhere else
    transform = Affine(cell, 0, 0, 0, -cell, n * cell)
    peak = attacks.low_density_attack(one, transform=transform, bandwidth_m=h_m)
    assert peak.solved
    x, y = peak.locations[0]
    assert abs(x - 750) <= cell and abs(y - 750) <= cell
    masked = np.where((one > 0) & (one < 5 * one.max()), np.nan, background)
    disc = attacks.nodata_disc_attack(masked, transform=transform)
    assert disc.solved
    x, y = disc.locations[0]
    assert abs(x - 750) <= cell and abs(y - 750) <= cell
    assert not attacks.nodata_disc_attack(background, transform=transform).solved


# ----------------------------------------------------------------------------
# real exports: the old ones (fixture) and the new ones (made here)
# ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("legacy")
    with tarfile.open(LEGACY) as archive:
        archive.extractall(folder, filter="data")
    # the archive keeps the briefing's sidecar of source tables (what the checker
    # and an attacker read), not the drawing itself
    (folder / "iow_b.pdf").write_bytes(b"%PDF-1.4\n")
    return folder


#: The store as it was when the legacy exports were made (tests/data/README).
LEGACY_STORE = Path(__file__).resolve().parent / "data" / "legacy_store_iow"


def _view(folder: Path, to: str) -> Path:
    DEFAULT_STORE = LEGACY_STORE  # the store the legacy exports were made from

    if not (DEFAULT_STORE / "occurrences.parquet").is_file():
        pytest.skip("embedded default store not built")
    view = folder / f"iow_{to}.json"
    view.write_text(json.dumps({
        "store": str(DEFAULT_STORE), "csp": "Isle of Wight", "from": "2025-04",
        "to": to, "layers": ["hotspots", "kde", "csp", "tables"],
        "parameters": {"resolution": 8, "bandwidth_m": 600, "cell_size_m": 100}}),
        encoding="utf-8")
    return view


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from hotspot.export.build import build_bundle
    from hotspot.view_file import load_view

    folder = tmp_path_factory.mktemp("views")
    return {period: build_bundle(load_view(_view(folder, to)))
            for period, to in (("a", "2025-08"), ("b", "2025-09"))}


FORMATS = {"gpkg": "iow_{}.gpkg", "geojson": "iow_{}_geojson", "csv": "iow_{}_csv",
           "kml": "iow_{}.kml", "tif": "iow_{}.tif", "pdf": "iow_{}.pdf"}


@pytest.fixture(scope="module")
def new_exports(bundles: dict[str, object],
                tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hotspot.export.bundle import export

    folder = tmp_path_factory.mktemp("new")
    for period, bundle in bundles.items():
        for fmt, name in FORMATS.items():
            if fmt == "pdf" and period == "a":
                continue
            export(bundle, fmt=fmt, out=folder / name.format(period),  # type: ignore[arg-type]
                   log_dir=folder / "var", csp="Isle of Wight")
    return folder


def hotspot_tables(folder: Path, period: str) -> dict[str, pd.DataFrame]:
    """The hot spot cells as each format (present in ``folder``) gives them."""
    paths = {"gpkg": f"iow_{period}.gpkg",
             "geojson": f"iow_{period}_geojson/hotspots.geojson",
             "csv": f"iow_{period}_csv/hotspots.csv", "pdf": f"iow_{period}.pdf"}
    out = {}
    for fmt, name in paths.items():
        path = folder / name
        if path.is_file():
            layers = read_export(path).layers
            out[fmt] = layers["hotspots"]
    return out


def truth(bundle: object) -> dict[str, int]:
    cells = bundle.layers["hotspots"]  # type: ignore[attr-defined]
    return dict(zip(cells["h3"], cells["count"].astype(int), strict=True))


def numeric_suspects(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("h3", "count", "geometry")
            and pd.to_numeric(frame[c], errors="coerce").notna().sum() > 3]


@pytest.mark.slow
def test_ring_sum_solve_recovers_every_count_from_the_old_exports(
        legacy: Path, bundles: dict[str, object]) -> None:
    real = truth(bundles["b"])
    for fmt, cells in hotspot_tables(legacy, "b").items():
        result = attacks.gistar_solve(cells, statistic="z", k=1)
        hidden = cells.loc[pd.to_numeric(cells["count"], errors="coerce").isna(), "h3"]
        assert result.solved, fmt
        assert len(hidden) == 48
        assert result.recovered == {c: real[c] for c in hidden}, fmt
        from_p = attacks.gistar_solve(cells, statistic="p", from_p=True)
        assert from_p.recovered == result.recovered, fmt


@pytest.mark.slow
def test_ring_sum_solve_fails_against_the_new_exports(
        new_exports: Path, bundles: dict[str, object]) -> None:
    real = truth(bundles["b"])
    for fmt, cells in hotspot_tables(new_exports, "b").items():
        assert "z" not in cells.columns and "p" not in cells.columns, fmt
        for col in numeric_suspects(cells):
            for from_p in (False, True):
                result = attacks.gistar_solve(cells, statistic=col, from_p=from_p)
                assert not result.solved, (fmt, col, from_p)
                right = sum(real[c] == v for c, v in result.recovered.items())
                assert right == 0, (fmt, col)
    kml = read_export(new_exports / "iow_b.kml").layers["hotspots"]
    assert (pd.to_numeric(kml["bin"]) > 0).all()  # hot, significant cells only
    for col in numeric_suspects(kml):
        assert not attacks.gistar_solve(kml, statistic=col).solved


@pytest.mark.slow
def test_differencing_pins_counts_in_the_old_pair_not_the_new(
        legacy: Path, new_exports: Path, bundles: dict[str, object]) -> None:
    real_a, real_b = truth(bundles["a"]), truth(bundles["b"])
    old = attacks.difference_attack(hotspot_tables(legacy, "a")["gpkg"],
                                    hotspot_tables(legacy, "b")["gpkg"])
    assert old.solved and len(old.recovered) == 6
    assert all(real_b[c] - real_a[c] == v for c, v in old.recovered.items())
    new_a, new_b = hotspot_tables(new_exports, "a"), hotspot_tables(new_exports, "b")
    assert set(new_a) == {"gpkg", "geojson", "csv"}
    for fmt, cells in new_a.items():
        assert not attacks.difference_attack(cells, new_b[fmt]).solved, fmt
    assert [v.rule for v in check_pair(legacy / "iow_a.gpkg", legacy / "iow_b.gpkg")
            ].count("differencing") >= 1
    for name in ("iow_{}.gpkg", "iow_{}.kml", "iow_{}_csv/hotspots.csv",
                 "iow_{}_geojson/hotspots.geojson", "iow_{}_csv/monthly.csv"):
        assert check_pair(new_exports / name.format("a"),
                          new_exports / name.format("b")) == [], name


@pytest.mark.slow
def test_density_discs_in_the_old_geotiff_not_the_new(
        legacy: Path, new_exports: Path, bundles: dict[str, object]) -> None:
    old = read_export(legacy / "iow_b.tif").raster
    assert old is not None
    disc = attacks.nodata_disc_attack(old.bands[0], transform=old.transform)
    assert disc.solved and len(disc.locations) >= 5
    # each disc is centred on an occurrence: its resolution-8 cell holds one
    from hotspot.crs import bng_to_lonlat

    real = truth(bundles["b"])
    lon, lat = bng_to_lonlat([p[0] for p in disc.locations],
                             [p[1] for p in disc.locations])
    on_cells = [real.get(h3.latlng_to_cell(y, x, 8), 0)
                for x, y in zip(lon, lat, strict=True)]
    hits = sum(c >= 1 for c in on_cells)
    occupied = sum(c >= 1 for c in real.values()) / len(real)  # chance of a hit
    # 11 of the 14 holes sit in a cell with occurrences (two more are holes of
    # the area itself, the Medina estuary), against about 3 by chance
    assert hits >= 10 and hits >= 3 * occupied * len(on_cells)
    new = read_export(new_exports / "iow_b.tif").raster
    assert new is not None
    assert not attacks.nodata_disc_attack(new.bands[0], transform=new.transform).solved
    assert not attacks.low_density_attack(new.bands[0], transform=new.transform,
                                          bandwidth_m=600.0).solved


@pytest.mark.slow
def test_checker_fails_the_old_files_and_passes_the_new(legacy: Path,
                                                        new_exports: Path) -> None:
    for name in ("iow_b.gpkg", "iow_b.kml", "iow_b_csv/hotspots.csv",
                 "iow_b_geojson/hotspots.geojson", "iow_b.pdf"):
        rules = {v.rule for v in check_file(legacy / name)}
        assert "reconstruction" in rules and "no-statistics" in rules, name
    assert "reconstruction" in {v.rule for v in check_file(legacy / "iow_b.tif")}
    files = [p for p in new_exports.rglob("*") if p.is_file()
             and p.suffix in (".gpkg", ".kml", ".csv", ".geojson", ".tif", ".pdf")]
    assert len(files) >= 16
    for path in files:
        assert check_file(path) == [], path.name


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv", "kml", "pdf"])
def test_checker_runs_the_solve_on_a_planted_statistic(
        legacy: Path, new_exports: Path, tmp_path: Path, fmt: str) -> None:
    """The legacy z, planted under another name beside today's blanked counts."""
    import pyogrio

    old = hotspot_tables(legacy, "b")["gpkg"].set_index("h3")
    source = new_exports / {"gpkg": "iow_b.gpkg", "kml": "iow_b.kml",
                            "geojson": "iow_b_geojson/hotspots.geojson",
                            "csv": "iow_b_csv/hotspots.csv",
                            "pdf": "iow_b.pdf"}[fmt]
    if fmt == "kml":  # the KML holds hot cells only: plant the whole layer
        cells = read_export(new_exports / "iow_b.gpkg").layers["hotspots"]
    else:
        cells = read_export(source).layers["hotspots"]
    planted = cells.assign(weight=old.loc[cells["h3"], "z"].to_numpy())
    out = tmp_path / source.name
    if fmt == "csv":
        planted.to_csv(out, index=False)
    elif fmt == "pdf":
        side = json.loads(source.with_name(source.name + ".sources.json").read_text())
        table = planted.drop(columns="geometry", errors="ignore")
        side["tables"] = {"hotspots": {"columns": list(table.columns),
                                       "rows": json.loads(table.to_json(
                                           orient="values"))}}
        out.write_bytes(b"%PDF-1.4\n")
        out.with_name(out.name + ".sources.json").write_text(json.dumps(side))
    else:
        frame = planted.to_crs(4326) if fmt != "gpkg" else planted
        pyogrio.write_dataframe(frame, out, layer="hotspots",
                                driver={"gpkg": "GPKG", "geojson": "GeoJSON",
                                        "kml": "KML"}[fmt])
    found = [v for v in check_file(out) if v.rule == "reconstruction"]
    assert found and "weight" in found[0].where, check_file(out)
    assert "48 counts recovered" in found[0].detail
    renamed = tmp_path / f"z_{source.name}"
    if fmt == "csv":
        planted.rename(columns={"weight": "z"}).to_csv(renamed, index=False)
        assert "no-statistics" in {v.rule for v in check_file(renamed)}


@pytest.mark.slow
def test_a_view_file_or_flag_cannot_lower_the_floor(tmp_path: Path) -> None:
    import pyogrio

    from hotspot.cli import main as cli

    view = _view(tmp_path, "2025-09")
    doc = json.loads(view.read_text())
    doc["disclosure"] = {"min_count": 1, "round_to": 0, "max_resolution": 15}
    view.write_text(json.dumps(doc))
    out = tmp_path / "weak.gpkg"
    assert cli.main(["-q", "export", str(view), "--format", "gpkg", "--out", str(out),
                     "--min-count", "1", "--round-to", "0", "--log-dir",
                     str(tmp_path / "var")]) == 0
    cells = pyogrio.read_dataframe(out, layer="hotspots")
    shown = cells["count"].dropna()
    assert ((shown == 0) | (shown >= 5)).all() and (shown % 5 == 0).all()
    from hotspot.export.build import build_bundle
    from hotspot.view_file import load_view

    true = build_bundle(load_view(view)).layers["hotspots"]["count"]
    small = int(((true > 0) & (true < 5)).sum())
    assert small > 0 and cells["count"].isna().sum() >= small
    doc["parameters"]["resolution"] = 11
    view.write_text(json.dumps(doc))
    assert cli.main(["-q", "export", str(view), "--format", "gpkg", "--out",
                     str(tmp_path / "fine.gpkg"), "--log-dir",
                     str(tmp_path / "var")]) != 0
    assert not (tmp_path / "fine.gpkg").exists()

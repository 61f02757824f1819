"""One view, every surface, one answer.

The same view (Southampton, January to September 2025, non-domestic, on the
embedded store) is asked of every surface: the map's caches, ``hotspot detect``,
``hotspot profile``, the export bundle (behind every partner file and briefing)
and the operations' training hot spots. Each must select the same rows, count
the same cells and carry the same warnings and notes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from hotspot.analysis import analyse, training_hotspots
from hotspot.app import cache as app_cache
from hotspot.cli.detect import add_parser as add_detect
from hotspot.cli.profile import add_profile_parser
from hotspot.export.build import build_bundle
from hotspot.ingest.store import DEFAULT_STORE, load_occurrences
from hotspot.selection import Selection, select
from hotspot.view import View
from hotspot.view_file import ViewFile, load_view

SOUTHAMPTON = "E06000045"
VIEW = View(csp=SOUTHAMPTON, month_from="2025-01", month_to="2025-09",
            flags=("nondomestic",))


@pytest.fixture(scope="module")
def occurrences() -> gpd.GeoDataFrame:
    return load_occurrences(DEFAULT_STORE)


@pytest.fixture(scope="module")
def core(occurrences: gpd.GeoDataFrame):  # type: ignore[no-untyped-def]
    return analyse(occurrences, VIEW)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hotspot")
    sub = parser.add_subparsers(dest="command")
    add_detect(sub)
    add_profile_parser(sub)
    return parser.parse_args(argv)


def _counts(cells: pd.DataFrame) -> pd.Series:
    frame = cells[cells["count"] > 0]
    return frame.set_index("h3")["count"].astype(int).sort_index()


def test_the_core_reports_unknown_flags(core) -> None:  # type: ignore[no-untyped-def]
    notes = core.result.notes
    assert any("non-domestic" in n and "left out" in n for n in notes)
    unknown = core.selected.steps["flag_nondomestic_unknown"]
    assert unknown > 0 and f"{unknown:,}" in notes[0]
    rows = core.rows
    assert rows["domestic"].astype("boolean").eq(False).all()
    assert set(rows["csp_code"]) == {SOUTHAMPTON}
    # every step of the rule is accounted for
    steps = core.selected.steps
    assert steps["read"] - sum(v for k, v in steps.items()
                               if k not in ("read", "selected")) == steps["selected"]


def test_the_map_asks_the_core(core) -> None:  # type: ignore[no-untyped-def]
    store = str(DEFAULT_STORE)
    result = app_cache.gistar(store, "district", VIEW)
    assert result.counts == core.result.counts
    assert result.warnings == core.result.warnings
    assert result.notes == core.result.notes
    mine = core.view_cells()
    shown = result.cells[result.cells["csp_code"] == SOUTHAMPTON]
    pd.testing.assert_series_equal(_counts(shown), _counts(mine))
    rows = app_cache.view_rows(store, VIEW)
    assert sorted(rows["occurrence_id"]) == sorted(core.rows["occurrence_id"])


def test_detect_asks_the_core(core, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "hot.gpkg"
    args = _parse(["detect", str(DEFAULT_STORE), "--csp", "Southampton",
                   "--from", "2025-01", "--to", "2025-09", "--flag", "nondomestic",
                   "--no-progress", "--out", str(out)])
    args.func(args)
    cells = gpd.read_file(out)
    pd.testing.assert_series_equal(_counts(cells), _counts(core.view_cells()))
    meta = json.loads(pyogrio.read_info(out)["layer_metadata"]["hotspot"])
    assert meta["warnings"] == core.result.warnings
    assert meta["notes"] == core.result.notes
    assert meta["counts"]["occurrences_in"] == len(core.rows)


def test_an_old_flag_spelling_gives_the_same_rows(core, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "hot.gpkg"
    args = _parse(["detect", str(DEFAULT_STORE), "--csp", "E06000045",
                   "--from", "2025-01", "--to", "2025-09", "--flag", "non_domestic",
                   "--no-progress", "--out", str(out)])
    args.func(args)
    pd.testing.assert_series_equal(_counts(gpd.read_file(out)),
                                   _counts(core.view_cells()))


def test_profile_asks_the_core(core, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = _parse(["profile", str(DEFAULT_STORE), "--csp", "Southampton",
                   "--subset", "non_domestic", "--out", str(tmp_path / "p")])
    args.func(args)
    notes = pd.read_csv(tmp_path / "p" / "notes.csv")
    values = dict(zip(notes["key"], notes["value"], strict=False))
    everything = select(load_occurrences(DEFAULT_STORE),
                        Selection(flags=("nondomestic",), csps=(SOUTHAMPTON,)))
    assert int(values["occurrences"]) == len(everything.rows)
    assert values["selection"] == everything.notes[0]


def test_exports_and_briefings_ask_the_core(core, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view_file = tmp_path / "v.toml"
    view_file.write_text(
        f'store = "{DEFAULT_STORE}"\ncsp = "Southampton"\nfrom = "2025-01"\n'
        'to = "2025-09"\nflags = ["non_domestic"]\nlayers = ["hotspots", "tables"]\n',
        encoding="utf-8")
    spec = load_view(view_file)
    assert spec.sections == ("gistar", "tables")
    assert any("now called" in n for n in spec.notes)
    bundle = build_bundle(spec)
    layer = bundle.layers["hotspots"]
    pd.testing.assert_series_equal(_counts(layer), _counts(core.view_cells()))
    # partner files state the unknown-flag rule, never the count it left out
    assert "left out" in bundle.metadata.parameters["unknown_flags"]
    assert "notes" not in bundle.metadata.parameters
    shipped = bundle.metadata.parameters.get("warnings", [])
    assert [w for w in core.result.warnings if not any(c.isdigit() for c in w)] \
        == [w for w in shipped if "quote numbers" not in w]
    # the app's export page builds its bundle the same way
    app_spec = ViewFile(path=tmp_path / "app.toml", store=DEFAULT_STORE,
                        view=VIEW.with_(csp="all"), csp=SOUTHAMPTON,
                        sections=("gistar",))
    again = build_bundle(app_spec)
    pd.testing.assert_series_equal(_counts(again.layers["hotspots"]), _counts(layer))


def test_plans_start_from_the_same_hot_spots(occurrences: gpd.GeoDataFrame) -> None:
    from datetime import date

    plan = training_hotspots(occurrences, csp_code=SOUTHAMPTON,
                             start=date(2025, 1, 1), end=date(2025, 9, 30))
    same = analyse(occurrences, View(csp=SOUTHAMPTON, month_from="2025-01",
                                     month_to="2025-09"))
    pd.testing.assert_series_equal(_counts(plan.view_cells()),
                                   _counts(same.view_cells()))
    assert plan.result.warnings == same.result.warnings

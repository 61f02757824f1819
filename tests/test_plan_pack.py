"""Tests for the packed patrol plan: named cells in the PDF, cards, SYNTHETIC."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hotspot.operations.pack import pack_plan
from hotspot.operations.patrol import plan_patrols
from hotspot.render.patrol_plan import cards_zip_bytes, write_cards, write_pack_pdf
from tests.test_patrol import CELLS, _cells, _occurrences

H3_ID = re.compile(r"\b8[0-9a-f]{14}\b")
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                     reason="pdftotext (poppler-utils) not found")


def _rows(*, timed_synthetic: bool) -> gpd.GeoDataFrame:
    """Return the patrol tests' rows: timed ones from records, the rest police.uk."""
    occ = _occurrences()
    timed = occ["date_precision"] == "minute"
    return occ.assign(source=["records" if t else "police_uk" for t in timed],
                      is_synthetic=timed & timed_synthetic, quality_flags="",
                      location_text=["" if t else "On or near Test Street"
                                     for t in timed])


def _store(rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add 7 police.uk rows "On or near Above Bar Street" in cell A (CELLS[0])."""
    a = rows[rows.geometry == rows.geometry.iloc[0]].iloc[[0] * 7].copy()
    a = a.assign(source="police_uk", is_synthetic=False, date_precision="month",
                 location_text="On or near Above Bar Street")
    return gpd.GeoDataFrame(pd.concat([rows, a], ignore_index=True), crs=rows.crs)


def _pack(*, timed_synthetic: bool):
    rows = _rows(timed_synthetic=timed_synthetic)
    plan = plan_patrols(_cells(), rows, patrol_hours_per_week=4.0)
    rows = _store(rows)
    return pack_plan(plan, rows=rows, store=rows,
                     reasons={CELLS[0]: "most harm expected."})


def _text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def test_pack_names_cells_from_their_streets() -> None:
    pack = _pack(timed_synthetic=True)
    assert pack.places[0].startswith("Above Bar Street")
    assert list(pack.plan.cells["place"]) == list(pack.places)
    assert pack.cards[0].place == pack.places[0]
    assert "most harm expected." in pack.cards[0].reason
    assert pack.period.startswith("police.uk Jun 2025; records Jun 2025 SYNTHETIC")


def test_the_plan_table_and_cards_share_one_peak_rule() -> None:
    pack = _pack(timed_synthetic=False)
    for card, (_, row) in zip(pack.cards, pack.plan.cells.iterrows(), strict=True):
        win = card.window
        days = ",".join(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d]
                        for d in win.days)
        assert row["peak_days"] == days
        assert row["window_start_hour"] == win.start_hour
    # the plan's warning counts the cells the one rule gave borrowed times, once
    from hotspot.operations.patrol import TIMING_WARNING_TAIL, timing_warning

    said = [w for w in pack.plan.warnings if w.endswith(TIMING_WARNING_TAIL)]
    assert said == ([timing_warning(pack.plan.cells)]
                    if timing_warning(pack.plan.cells) else [])


@needs_pdftotext
def test_plan_pdf_names_every_cell_and_ids_are_secondary(tmp_path: Path) -> None:
    pack = _pack(timed_synthetic=True)
    text = _text(write_pack_pdf(pack, tmp_path / "plan.pdf"))
    listed = text.split("Cells by rank", 1)[1].splitlines()[1:1 + len(pack.places)]
    for rank, (line, place) in enumerate(zip(listed, pack.places, strict=True), 1):
        assert line.strip().startswith(f"{rank}. {place[:30]}"), line
        assert not H3_ID.search(line), line
    table = [ln for ln in text.splitlines() if re.match(r"^\s*1\s+Above Bar", ln)]
    assert table, "the table's first column after # is the place"
    assert H3_ID.search(table[0]).start() > table[0].index("Above Bar")
    assert text.count("Patrol card · #") == len(pack.cards)


@needs_pdftotext
@pytest.mark.parametrize("timed_synthetic", [True, False], ids=["synthetic", "real"])
def test_card_says_synthetic_when_any_timed_row_is(tmp_path: Path,
                                                   timed_synthetic: bool) -> None:
    pack = _pack(timed_synthetic=timed_synthetic)
    assert pack.synthetic is timed_synthetic
    files = write_cards(pack, tmp_path / "cards")
    assert [f.suffix for f in files] == [".pdf", ".png"] * len(pack.cards)
    text = _text(files[0])
    assert ("SYNTHETIC DATA" in text) is timed_synthetic
    plan_text = _text(write_pack_pdf(pack, tmp_path / "plan.pdf"))
    assert ("SYNTHETIC DATA" in plan_text) is timed_synthetic


def test_cards_zip_holds_a4_and_phone_cards() -> None:
    import io
    import zipfile

    from PIL import Image

    pack = _pack(timed_synthetic=True)
    with zipfile.ZipFile(io.BytesIO(cards_zip_bytes(pack))) as archive:
        names = archive.namelist()
        assert names[:2] == ["card_01.pdf", "card_01.png"]
        with archive.open("card_01.png") as png:
            assert Image.open(png).size == (1080, 1920)

"""Tests of the patrol card: what it says (pdftotext), its size, SYNTHETIC."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import pytest

from hotspot.context.peaks import PeakWindow
from hotspot.errors import ParameterError
from hotspot.render.patrol_card import (
    PatrolCard,
    card_from_plan_row,
    render_patrol_card,
)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (poppler-utils) not installed")

#: The cell holding police.uk's "Above Bar Street" snap point, Southampton.
ABOVE_BAR = h3.latlng_to_cell(50.907689, -1.404647, 9)
#: Newport, Isle of Wight (road lines and OSM places of interest there).
NEWPORT = h3.latlng_to_cell(50.7010, -1.2920, 9)


def _window(*, synthetic: bool, found: bool = True) -> PeakWindow:
    source = "records system (SYNTHETIC)" if synthetic else "A&E (ISTV)"
    if not found:
        return PeakWindow(days=(), start_hour=-1, hours=4, count=0, n_timed=6,
                          n_rows=40, source=source, synthetic=synthetic,
                          reason="too few timed occurrences: 6 with a time of day, "
                                 "at least 20 needed for a peak window")
    return PeakWindow(days=(4, 5), start_hour=20, hours=4, count=12, n_timed=30,
                      n_rows=80, source=source, synthetic=synthetic, p_even=0.001)


def _card(*, synthetic: bool, cell: str = ABOVE_BAR, found: bool = True,
          window_synthetic: bool | None = None) -> PatrolCard:
    period = ("police.uk Jan–Sep 2025 (August left out as implausible); records "
              "Oct 2024–Sep 2025 SYNTHETIC" if synthetic
              else "police.uk Jan–Sep 2025 (August left out as implausible)")
    return PatrolCard(
        h3=cell, place="Above Bar Street / Park Walk, Bargate ward, Southampton "
        "(SO14 7)", window=_window(synthetic=synthetic if window_synthetic is None
                                   else window_synthetic, found=found),
        visits_per_week=8.0, minutes_per_visit=15,
        reason="Ranked #1 of Southampton's Gi* hot cells: 66 occurrences, z = 11.3.",
        period=period, sources=("police.uk street-level crime",),
        synthetic=synthetic, rank=1, csp="Southampton")


def _pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True)
    return " ".join(out.stdout.split())


def test_card_pdf_says_what_an_inspector_needs(tmp_path: Path) -> None:
    pdf = render_patrol_card(_card(synthetic=True), out=tmp_path / "c.pdf")
    pages = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                           text=True).stdout
    assert "Pages: 1" in " ".join(pages.split())
    assert "595.44 x 841.68 pts" in pages  # A4 portrait
    text = _pdf_text(pdf)
    assert "SYNTHETIC DATA" in text
    assert "Above Bar Street / Park Walk, Bargate ward, Southampton (SO14 7)" in text
    assert "Fri, Sat 20:00–00:00" in text
    assert "12 of 30 timed occurrences" in text
    assert "Times from records system (SYNTHETIC)" in text
    assert "8 visits a week, 15 minutes each" in text
    assert "Ranked #1 of Southampton's Gi* hot cells" in text
    assert "Open Government Licence v3.0" in text and "GeoNames" in text
    # street names on the map come from data/streets (Above Bar Street is the
    # busiest snap point in the cell, so it is never removed for overlapping)
    assert "Above Bar Street" in text.split("(SO14 7)", 1)[1]
    assert ABOVE_BAR in text  # the id, small, for reference


def test_card_says_synthetic_only_when_it_should(tmp_path: Path) -> None:
    real = _pdf_text(render_patrol_card(_card(synthetic=False),
                                        out=tmp_path / "real.pdf"))
    assert "SYNTHETIC" not in real.upper()
    assert "Times from A&E (ISTV)" in real
    # rows real, but the times behind the window synthetic: the card says so
    mixed = _card(synthetic=False, window_synthetic=True)
    assert mixed.is_synthetic
    text = _pdf_text(render_patrol_card(mixed, out=tmp_path / "mixed.pdf"))
    assert "SYNTHETIC DATA" in text


def test_card_without_a_window_gives_the_reason(tmp_path: Path) -> None:
    text = _pdf_text(render_patrol_card(_card(synthetic=True, found=False),
                                        out=tmp_path / "c.pdf"))
    assert "Times not known" in text
    assert "too few timed occurrences: 6 with a time of day" in text


def test_phone_png_is_1080_by_1920_with_the_banner_only_when_synthetic(
        tmp_path: Path) -> None:
    from PIL import Image

    red = np.array([0xB2, 0x18, 0x2B])
    for synthetic in (True, False):
        path = render_patrol_card(_card(synthetic=synthetic), fmt="png",
                                  out=tmp_path / f"{synthetic}.png")
        image = np.asarray(Image.open(path).convert("RGB"))
        assert image.shape == (1920, 1080, 3)
        top = image[:150].reshape(-1, 3).astype(int)
        share = float(np.mean(np.abs(top - red).sum(axis=1) < 30))
        assert (share > 0.5) if synthetic else (share == 0.0), synthetic


def test_isle_of_wight_card_draws_roads_and_credits_openstreetmap(
        tmp_path: Path) -> None:
    card = _card(synthetic=False, cell=NEWPORT)
    text = _pdf_text(render_patrol_card(card, out=tmp_path / "iow.pdf"))
    assert "© OpenStreetMap contributors" in text
    south = _pdf_text(render_patrol_card(_card(synthetic=False),
                                         out=tmp_path / "soton.pdf"))
    assert "Isle of Wight roads" not in south


def test_card_from_a_real_patrol_plan_row() -> None:
    from hotspot.operations.patrol import plan_patrols
    from tests.test_patrol import _cells, _occurrences

    plan = plan_patrols(_cells(), _occurrences(), patrol_hours_per_week=4.0)
    row = plan.cells.iloc[0]
    card = card_from_plan_row(row, place="X", window=_window(synthetic=True),
                              reason="r", period="p", synthetic=True)
    assert card.visits_per_week == float(row["visits_per_week"])
    assert card.minutes_per_visit == int(row["minutes_per_visit"]) == 15
    assert (card.h3, card.rank, card.csp) == (row["h3"], 1, row["csp_name"])
    with pytest.raises(ParameterError, match="patrol plan cell row"):
        card_from_plan_row(pd.Series({"h3": row["h3"]}), place="X",
                           window=_window(synthetic=True), reason="r", period="p")


def test_card_validation(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="h3"):
        PatrolCard(h3="nope", place="", window=_window(synthetic=False),
                   visits_per_week=1, minutes_per_visit=15, reason="", period="")
    with pytest.raises(ParameterError, match="minutes_per_visit"):
        PatrolCard(h3=ABOVE_BAR, place="", window=_window(synthetic=False),
                   visits_per_week=1, minutes_per_visit=90, reason="", period="")
    with pytest.raises(ParameterError, match="window"):
        PatrolCard(h3=ABOVE_BAR, place="", window="Fri",  # type: ignore[arg-type]
                   visits_per_week=1, minutes_per_visit=15, reason="", period="")
    with pytest.raises(ParameterError, match="times_from"):
        PatrolCard(h3=ABOVE_BAR, place="", window=_window(synthetic=False),
                   visits_per_week=1, minutes_per_visit=15, reason="", period="",
                   times_from="somewhere")
    with pytest.raises(ParameterError, match="fmt"):
        render_patrol_card(_card(synthetic=False), out=tmp_path / "c.svg",
                           fmt="svg")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="does not exist"):
        render_patrol_card(_card(synthetic=False), out=tmp_path / "no" / "c.pdf")


def test_plan_map_page_numbers_and_names_every_cell(tmp_path: Path) -> None:
    from hotspot.render.plan_map import render_plan_map

    ring = sorted(h3.grid_ring(ABOVE_BAR, 2))[:3]
    cells = pd.DataFrame({"rank": [1, 2, 3, 4], "h3": [ABOVE_BAR, *ring],
                          "peak_days": ["Fri,Sat", "", "Sun", "Mon"],
                          "peak_window": ["20:00-00:00", "unknown", "01:00-05:00",
                                          "09:00-13:00"]})
    places = ["Above Bar Street / Park Walk, Bargate ward, Southampton (SO14 7)",
              "Second Place", "Third Place", "Fourth Place"]
    pdf = render_plan_map(cells, out=tmp_path / "plan.pdf", title="Patrol plan: X",
                          places=places, synthetic=True)
    text = _pdf_text(pdf)
    assert "SYNTHETIC DATA" in text and "Patrol plan: X" in text
    assert f"1. {places[0]} — Fri, Sat 20:00-00:00" in text
    assert "2. Second Place" in text and "2. Second Place —" not in text
    assert "4. Fourth Place — Mon 09:00-13:00" in text
    assert "Above Bar Street" in text.split("Patrol plan: X", 1)[1]
    real = _pdf_text(render_plan_map(cells, out=tmp_path / "real.pdf", title="P",
                                     places=places))
    assert "SYNTHETIC" not in real.upper()
    with pytest.raises(ParameterError, match="one name per cell"):
        render_plan_map(cells, out=tmp_path / "x.pdf", title="P", places=["a"])

"""Render the example patrol cards in ``docs/img/`` from the embedded store.

For one CSP: Gi* (count, k = 1) over its resolution-9 study cells on the
serious-violence rows the map uses, a patrol plan (6 patrol hours a week,
ranked by count), then a card for the plan's top cell, with its name
(:func:`hotspot.context.places.name_cells`) and its visit window
(:func:`hotspot.context.peaks.peak_windows_by_cell`, the CSP as the pool).
Writes ``patrol_card_<csp>.pdf`` and ``.png`` into ``--out`` and, with
``--docs``, the A4 page as a PNG (``pdftoppm``) and a palette-reduced phone
PNG into ``docs/img/``.

Run from the repository root::

    .venv/bin/python scripts/render_patrol_card_example.py --csp Portsmouth --docs
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import tempfile
from pathlib import Path

import geopandas as gpd
from hotspot.app.analysis import serious_violence

from hotspot.boundaries import load_csps
from hotspot.context.peaks import peak_windows_by_cell
from hotspot.context.places import name_cells
from hotspot.detect.gistar import gi_star
from hotspot.grid import count_points, study_cells
from hotspot.operations.patrol import plan_patrols
from hotspot.render.patrol_card import card_from_plan_row, render_patrol_card
from hotspot.settings import DATA_DIR, ROOT

log = logging.getLogger("render_patrol_card_example")
PERIOD = ("police.uk Jan–Sep 2025 (August left out as implausible); records "
          "Oct 2024–Sep 2025 SYNTHETIC")
SOURCES = ("police.uk street-level crime, Hampshire Constabulary (locations "
           "snapped to streets, month only)",
           "Records-system extract: SYNTHETIC sample, generated (times of day)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csp", default="Portsmouth")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--docs", action="store_true",
                        help="also write the PNGs shown in docs/places.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    store = gpd.read_parquet(DATA_DIR / "default_store" / "occurrences.parquet")
    rows = serious_violence(store)
    csps = load_csps()
    csps = csps[csps["csp_name"] == args.csp]
    cells = study_cells(csps, resolution=9)
    table = gi_star(count_points(rows, cells, weight="harm_weight"), column="count",
                    k=1)
    plan = plan_patrols(table, rows, patrol_hours_per_week=6.0, rank_by="count")
    top = plan.cells.iloc[0]
    pool = rows[rows["csp_name"] == args.csp]
    window = peak_windows_by_cell(rows, [top["h3"]], resolution=9,
                                  pool=pool).iloc[0]
    name = name_cells([top["h3"]], occurrences=store).iloc[0]
    log.info("%s: %s; %s", top["h3"], name["place"], window["text"])
    card = card_from_plan_row(
        top, place=name["place"], window=window["window"],
        reason=(f"Ranked #1 of {args.csp}'s {len(plan.cells)} planned Gi* hot cells: "
                f"{int(top['count'])} serious-violence occurrences, z = "
                f"{top['z']:.1f}."),
        period=PERIOD, sources=SOURCES,
        synthetic=bool(pool["is_synthetic"].fillna(False).any()),
        times_from=str(window["times_from"]))
    stem = args.out / f"patrol_card_{args.csp.lower().replace(' ', '_')}"
    pdf = render_patrol_card(card, out=stem.with_suffix(".pdf"), fmt="pdf")
    png = render_patrol_card(card, out=stem.with_suffix(".png"), fmt="png")
    if args.docs:
        from PIL import Image

        img = ROOT / "docs" / "img"
        page = img / "patrol_card_a4_page"
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf),
                        str(page)], check=True)
        for path in (page.with_suffix(".png"), png):
            target = path if path.parent == img else img / "patrol_card_phone.png"
            Image.open(path).convert("RGB").quantize(colors=128).save(
                target, optimize=True)
            log.info("wrote %s (%.0f kB)", target, target.stat().st_size / 1e3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

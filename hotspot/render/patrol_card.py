"""A patrol card per hot spot: A4 PDF page or a phone-sized PNG (1080 × 1920).

What an inspector needs to brief a shift, on one page: the named place, a map
of the cell with its street names (from ``data/streets``, no internet), when
to go (:class:`~hotspot.context.peaks.PeakWindow`), visits a week and minutes
per visit (from the patrol plan, :mod:`hotspot.operations.patrol`), why the
cell ranks where it does (one sentence), the period and sources, the
attribution lines, and **SYNTHETIC** in a red banner when any row behind the
card is synthetic.

Build a card with :func:`card_from_plan_row` (a row of
:attr:`hotspot.operations.patrol.PatrolPlan.cells`) or directly, then
:func:`render_patrol_card`.
"""

from __future__ import annotations

import logging
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import h3
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as MplPolygon

from hotspot.context.peaks import PeakWindow
from hotspot.crs import BNG
from hotspot.errors import ParameterError
from hotspot.export.bundle import ATTRIBUTIONS, SYNTHETIC_LABEL
from hotspot.grid import cell_polygons
from hotspot.layers.streets import ATTRIBUTION, StreetTables, load_street_tables
from hotspot.operations.model import DEFAULT_VISIT_MINUTES
from hotspot.render.streetmap import draw_base, draw_labels, fit_bounds

logger = logging.getLogger(__name__)

Format = Literal["pdf", "png"]
FORMATS: tuple[str, ...] = ("pdf", "png")
#: A4 portrait (inches) and the phone PNG (inches at :data:`PHONE_DPI`: 1080 × 1920 px).
A4_IN: tuple[float, float] = (8.27, 11.69)
PHONE_IN: tuple[float, float] = (6.0, 6.0 * 1920 / 1080)
PHONE_DPI = 180
#: Metres of context drawn around the cell on the map.
MAP_MARGIN_M = 220.0
HOT_RGB = (178, 24, 43)
SYNTHETIC_RED = "#b2182b"
#: Where the window's times come from: the cell, or a wider pool (``"csp"`` is
#: the patrol plan's word for it); ``"none"`` when there is no window.
TIMES_FROM: tuple[str, ...] = ("cell", "pool", "csp", "none")
KOPER_NOTE = ("Koper (1995): visits of 10 minutes at least, 11–15 best; vary the "
              "order and the exact times.")


def _rgb(values: Sequence[int]) -> tuple[float, float, float]:
    return (values[0] / 255, values[1] / 255, values[2] / 255)


@dataclass(frozen=True)
class PatrolCard:
    """What one patrol card says.

    Attributes
    ----------
    h3 : str
        The cell (shown small, as a reference only).
    place : str
        Its name (:func:`hotspot.context.places.name_cells`, column ``place``).
    window : PeakWindow
        When to go (:func:`hotspot.context.peaks.peak_windows`).
    visits_per_week : float
        From the patrol plan (``visits_per_week``).
    minutes_per_visit : int
        From the patrol plan (15 by default: Koper).
    reason : str
        Why the cell ranks where it does, one sentence.
    period : str
        Each source's real coverage ("police.uk Jan–Sep 2025, August left out
        as implausible; records Oct 2024–Sep 2025 SYNTHETIC").
    sources : tuple of str
        Sources behind the card, one line each.
    synthetic : bool
        Any row behind the card is synthetic: a red SYNTHETIC banner.
    rank : int, optional
        Place in the plan's list.
    csp : str
        CSP name.
    times_from : str
        ``"cell"``, or ``"pool"``/``"csp"`` (the window is the CSP's or plan
        area's), or ``"none"`` (no window): :data:`TIMES_FROM`.
    title : str
    attributions : tuple of str
        Attribution lines; the data's standard lines by default, with the
        street data's added when drawn.
    """

    h3: str
    place: str
    window: PeakWindow
    visits_per_week: float
    minutes_per_visit: int
    reason: str
    period: str
    sources: tuple[str, ...] = ()
    synthetic: bool = False
    rank: int | None = None
    csp: str = ""
    times_from: str = "cell"
    title: str = "Patrol card"
    attributions: tuple[str, ...] = field(default=ATTRIBUTIONS)

    def __post_init__(self) -> None:
        if not h3.is_valid_cell(str(self.h3)):
            raise ParameterError(f"h3 must be a valid H3 cell id, got {self.h3!r}")
        if not isinstance(self.window, PeakWindow):
            raise ParameterError("window must be a PeakWindow (peak_windows), got "
                                 f"{type(self.window).__name__}")
        if not (isinstance(self.visits_per_week, int | float)
                and math.isfinite(self.visits_per_week) and self.visits_per_week >= 0):
            raise ParameterError("visits_per_week must be a number >= 0, got "
                                 f"{self.visits_per_week!r}")
        if isinstance(self.minutes_per_visit, bool) or not isinstance(
                self.minutes_per_visit, int) or not 1 <= self.minutes_per_visit <= 60:
            raise ParameterError("minutes_per_visit must be a whole number from 1 to "
                                 f"60, got {self.minutes_per_visit!r}")
        if self.times_from not in TIMES_FROM:
            raise ParameterError(f"times_from must be one of {TIMES_FROM}, got "
                                 f"{self.times_from!r}")

    @property
    def is_synthetic(self) -> bool:
        """The card must say SYNTHETIC (its rows or its times are synthetic)."""
        return self.synthetic or self.window.synthetic


def card_from_plan_row(
    row: pd.Series,
    *,
    place: str,
    window: PeakWindow,
    reason: str,
    period: str,
    sources: Sequence[str] = (),
    synthetic: bool = False,
    times_from: str = "cell",
) -> PatrolCard:
    """Make a card from one row of a patrol plan's cell table.

    Parameters
    ----------
    row : pandas.Series
        A row of :attr:`hotspot.operations.patrol.PatrolPlan.cells`: ``h3``,
        ``rank``, ``csp_name``, ``visits_per_week``, ``minutes_per_visit``.
    place, window, reason, period, sources, synthetic, times_from
        As :class:`PatrolCard` (keyword-only).
    """
    missing = {"h3", "visits_per_week"} - set(row.index)
    if missing:
        raise ParameterError(f"row must be a patrol plan cell row; missing "
                             f"{sorted(missing)}")
    minutes = row.get("minutes_per_visit", DEFAULT_VISIT_MINUTES)
    rank = row.get("rank")
    return PatrolCard(
        h3=str(row["h3"]), place=place, window=window,
        visits_per_week=float(row["visits_per_week"]),
        minutes_per_visit=int(minutes), reason=reason, period=period,
        sources=tuple(sources), synthetic=synthetic,
        rank=int(rank) if rank is not None and pd.notna(rank) else None,
        csp=str(row.get("csp_name", "") or ""), times_from=times_from,
    )


# ----------------------------------------------------------------------------
# the map
# ----------------------------------------------------------------------------


def draw_card_map(ax: Axes, card: PatrolCard, *, tables: StreetTables,
                  snap: pd.DataFrame, font_scale: float = 1.0) -> list[str]:
    """Draw the cell, its neighbours, streets and places of interest on ``ax``.

    Returns
    -------
    list of str
        Attribution keys of :data:`hotspot.layers_streets.ATTRIBUTION` for
        what was drawn (``labels``, ``roads_osm``/``roads_os``, ``pois``).
    """
    hexagon = cell_polygons([card.h3], crs=BNG).iloc[0]
    ring = [c for c in h3.grid_disk(card.h3, 1) if c != card.h3]
    bounds = fit_bounds(ax, hexagon.bounds, margin_m=MAP_MARGIN_M)
    used = draw_base(ax, bounds, tables=tables, font_scale=font_scale)
    for poly in cell_polygons(ring, crs=BNG):
        ax.add_patch(MplPolygon(np.asarray(poly.exterior.coords), closed=True,
                                fill=False, edgecolor="0.6", lw=0.6, ls="--",
                                zorder=3))
    ax.add_patch(MplPolygon(np.asarray(hexagon.exterior.coords), closed=True,
                            facecolor=(*_rgb(HOT_RGB), 0.22), edgecolor=_rgb(HOT_RGB),
                            lw=2.2, zorder=4))
    return used + draw_labels(ax, bounds, tables=tables, snap=snap,
                              font_scale=font_scale)


# ----------------------------------------------------------------------------
# the card
# ----------------------------------------------------------------------------


def _chars(width_in: float, size_pt: float) -> int:
    """Characters per line of ``width_in`` inches at ``size_pt`` (glyph ~0.52 em)."""
    return max(12, int(width_in * 72 / (0.52 * size_pt)))


def _wrap(text: str, *, width_in: float, size_pt: float) -> str:
    """Wrap ``text`` to about ``width_in`` inches at ``size_pt``."""
    chars = _chars(width_in, size_pt)
    return "\n".join(textwrap.fill(part, chars) for part in text.split("\n"))


def _lines(card: PatrolCard) -> list[tuple[str, str]]:
    """Return the card's text blocks as (heading, body) pairs."""
    win = card.window
    when = f"{win.day_text} {win.hour_text}" if win.found else "Times not known"
    detail = win.text if win.found else win.reason
    if win.found and card.times_from in ("pool", "csp"):
        detail = ("This cell's own timed occurrences give no clear window (too "
                  "few, or no clear peak), so this is the wider area's: "
                  f"{detail}")
    if win.source:
        detail += f". Times from {win.source}."
    visits = (f"{card.visits_per_week:g} visits a week, {card.minutes_per_visit} "
              "minutes each")
    return [
        ("When to go", f"{when}\n{detail}"),
        ("Visits", f"{visits}. {KOPER_NOTE}"),
        ("Why here", card.reason),
        ("Period and sources", "\n".join([card.period, *card.sources])),
    ]


class _Column:
    """Text placed top-down in a figure, each block measured before the next."""

    def __init__(self, fig: Figure, *, left: float, top: float) -> None:
        self.fig, self.left, self.top = fig, left, top
        self.renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        w_in, self.h_in = fig.get_size_inches()
        self.width_in = w_in * (1 - 2 * left)

    def put(self, text: str, *, size: float, gap: float = 0.004,
            **style: Any) -> Any:
        chars = _chars(self.width_in, size)
        while True:  # wrap narrower until the measured block fits the column
            body = "\n".join(textwrap.fill(p, chars) for p in text.split("\n"))
            artist = self.fig.text(self.left, self.top, body, fontsize=size,
                                   va="top", linespacing=1.3, **style)
            box = artist.get_window_extent(self.renderer)
            if box.width / self.fig.dpi <= self.width_in or chars <= 12:
                break
            artist.remove()
            chars = int(chars * 0.92)
        height = box.height / self.fig.dpi
        self.top -= height / self.h_in + gap
        return artist


def _draw(fig: Figure, card: PatrolCard, *, phone: bool, tables: StreetTables,
          snap: pd.DataFrame, map_share: float) -> float:
    """Draw the card; return how far (page share) the text overlaps the footer."""
    w_in, h_in = fig.get_size_inches()
    left = 0.06
    col = _Column(fig, left=left, top=0.985)
    if card.is_synthetic:
        band = 0.062 if phone else 0.05
        fig.patches.append(_banner(fig, top=col.top, height=band))
        fig.text(0.5, col.top - band * 0.36, f"{SYNTHETIC_LABEL} DATA",
                 ha="center", va="center", color="white", fontsize=17, weight="bold")
        fig.text(0.5, col.top - band * 0.78, "generated, not real police records",
                 ha="center", va="center", color="white", fontsize=9.5)
        col.top -= band + 0.012
    head = " · ".join(p for p in (card.title, f"#{card.rank}" if card.rank else "",
                                  card.csp) if p)
    col.put(head, size=10, color="0.35")
    col.put(card.place, size=15 if phone else 16, weight="bold", gap=0.012)
    map_w = 1 - 2 * left
    map_h_in = min(w_in * map_w, h_in * map_share)
    map_h = map_h_in / h_in
    ax = fig.add_axes((left, col.top - map_h, map_w, map_h))
    used = draw_card_map(ax, card, tables=tables, snap=snap)
    col.top -= map_h + 0.016
    body = 8.6 if phone else 8.8
    for heading, text in _lines(card):
        col.put(heading, size=10.5, weight="bold", gap=0.002)
        if heading == "When to go":
            first, _, text = text.partition("\n")
            col.put(first, size=15, weight="bold", color=_rgb(HOT_RGB), gap=0.003)
        col.put(text, size=body, gap=0.011)
    extra = [ATTRIBUTION[k] for k in used if k != "labels"]
    foot = (f"Level 2 (locations only): no personal data. Cell {card.h3} "
            "(H3, for reference). Produced by hotspot.")
    lines = "\n".join(_wrap(a, width_in=col.width_in, size_pt=6.0)
                      for a in [*card.attributions, *extra, foot])
    artist = fig.text(left, 0.008, lines, fontsize=6.0, color="0.35", va="bottom",
                      linespacing=1.2)
    top_of_foot = artist.get_window_extent(col.renderer).y1 / fig.dpi / h_in
    return max(0.0, top_of_foot + 0.01 - col.top)


def _banner(fig: Figure, *, top: float, height: float) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((0.0, top - height), 1.0, height, transform=fig.transFigure,
                     facecolor=SYNTHETIC_RED, edgecolor="none", zorder=0)


#: Matplotlib settings the card is drawn with (text as text in the PDF).
CARD_RC: dict[str, Any] = {"pdf.fonttype": 42, "font.family": "DejaVu Sans"}


def patrol_card_figure(card: PatrolCard, *, phone: bool, tables: StreetTables,
                       snap: pd.DataFrame) -> Figure:
    """Draw a card on a new A4 (or phone) figure; the plan PDF saves these as pages.

    Draw inside ``matplotlib.rc_context(CARD_RC)`` for the card's fonts.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=PHONE_IN if phone else A4_IN,
                 dpi=PHONE_DPI if phone else 100)
    FigureCanvasAgg(fig)
    share = 0.44 if phone else 0.47
    for _ in range(4):  # shrink the map until the text fits above the footer
        over = _draw(fig, card, phone=phone, tables=tables, snap=snap,
                     map_share=share)
        if over <= 0 or share <= 0.2:
            break
        fig.clear()
        share = max(0.2, share - over - 0.01)
    if over > 0:
        logger.warning("patrol card %s: text runs into the attribution lines "
                       "even with the smallest map", card.h3)
    return fig


def render_patrol_card(
    card: PatrolCard,
    *,
    out: Path | str,
    fmt: Format = "pdf",
    tables: StreetTables | None = None,
    snap: pd.DataFrame | None = None,
) -> Path:
    """Render a patrol card as an A4 PDF page or a 1080 × 1920 PNG.

    Parameters
    ----------
    card : PatrolCard
    out : path-like, keyword-only
        File to write (its folder must exist).
    fmt : {"pdf", "png"}, keyword-only
        ``"pdf"``: one A4 portrait page, text as text (``pdftotext`` reads it);
        ``"png"``: phone-sized, 1080 × 1920 pixels.
    tables : StreetTables, optional, keyword-only
        ``data/streets`` (:func:`hotspot.layers_streets.load_street_tables`
        by default).
    snap : pandas.DataFrame, optional, keyword-only
        Snap points (``data/streets/snap_points.parquet``) for the street
        names on the map (loaded through
        :func:`hotspot.context.places.load_place_index` by default).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ParameterError
        When ``fmt`` is not one of :data:`FORMATS`, ``card`` is not a
        :class:`PatrolCard`, or the folder of ``out`` does not exist.
    """
    if fmt not in FORMATS:
        raise ParameterError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if not isinstance(card, PatrolCard):
        raise ParameterError(f"card must be a PatrolCard, got {type(card).__name__}")
    target = Path(out)
    if not target.parent.is_dir():
        raise ParameterError(f"out: folder {target.parent} does not exist")
    if tables is None:
        tables = load_street_tables()
    if snap is None:
        from hotspot.context.places import load_place_index

        snap = load_place_index().snap
    import matplotlib as mpl

    phone = fmt == "png"
    with mpl.rc_context(CARD_RC):  # type: ignore[arg-type]
        fig = patrol_card_figure(card, phone=phone, tables=tables, snap=snap)
        if phone:
            fig.savefig(target, format="png", dpi=PHONE_DPI)
        else:
            fig.savefig(target, format="pdf", metadata={
                "Title": f"{card.title}: {card.place}",
                "Subject": "SYNTHETIC data" if card.is_synthetic else "patrol card",
                "Creator": "hotspot"})
    logger.info("wrote patrol card %s (%s, %s)", target, fmt, card.h3)
    return target

"""Legends: the Gi* bins, ramps, and the legend drawn beside the map (HTML)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from hotspot.layers.geometry import _colormap
from hotspot.layers.style import (
    BIN_COLOURS,
    BIN_LABELS,
    LAND_RGB,
    OUTLINE_RGB,
    OUTSIDE_LAND_RGB,
    RAMP,
    SEA_RGB,
    LegendEntry,
)

# ----------------------------------------------------------------------------
# legend
# ----------------------------------------------------------------------------


def gistar_legend(bins_present: Sequence[int] | None = None) -> list[LegendEntry]:
    """Legend lines of the Gi* bins (all seven, or those present)."""
    order = [3, 2, 1, 0, -1, -2, -3]
    show = order if bins_present is None else [b for b in order
                                               if b in set(bins_present)]
    return [LegendEntry(BIN_COLOURS[b], BIN_LABELS[b]) for b in show]


def ramp_legend(title: str, *, low: str, high: str, steps: int = 5,
                reverse: bool = False) -> list[LegendEntry]:
    """Legend lines sampling the viridis ramp from ``low`` to ``high``."""
    pos = np.linspace(0, 1, steps)
    if reverse:
        pos = pos[::-1]
    rgb = (_colormap(RAMP)(pos)[:, :3] * 255).round().astype(int)
    labels = [f"{title}: {low}"] + [""] * (steps - 2) + [f"{high}"]
    return [LegendEntry((int(c[0]), int(c[1]), int(c[2])), lab)
            for c, lab in zip(rgb, labels, strict=True)]


def decile_legend(*, classes: int = 10) -> list[LegendEntry]:
    """Legend lines of every IMD decile, in the colours of the choropleth.

    Decile 1 (most deprived) is the ramp's dark end, as
    :func:`hotspot.layers.analysis.choropleth_layer` draws it with
    ``reverse=True``.
    """
    pos = (np.arange(1, classes + 1) - 1) / (classes - 1)
    rgb = (_colormap(RAMP)(pos)[:, :3] * 255).round().astype(int)
    labels = [str(d) for d in range(1, classes + 1)]
    labels[0] = "1 most deprived 10%"
    labels[-1] = f"{classes} least deprived 10%"
    return [LegendEntry((int(c[0]), int(c[1]), int(c[2])), lab)
            for c, lab in zip(rgb, labels, strict=True)]


def legend_html(sections: Sequence[tuple[str, Sequence[LegendEntry]]]) -> str:
    """Render legend sections as compact HTML (our own strings, escaped)."""
    parts = ["<div style='font-size:12px;line-height:1.35'>"]
    for title, entries in sections:
        if not entries:
            continue
        parts.append(f"<div style='font-weight:600;margin-top:4px'>"
                     f"{html.escape(title)}</div>")
        for entry in entries:
            r, g, b = entry.rgb
            if entry.shape == "line":
                swatch = (f"display:inline-block;width:16px;height:0;border-top:3px "
                          f"solid rgb({r},{g},{b});vertical-align:middle")
            elif entry.shape == "glyph":
                swatch = (f"display:inline-block;min-width:16px;padding:0 2px;"
                          f"font-weight:700;font-size:11px;text-align:center;"
                          f"color:#fff;background:rgb({r},{g},{b});border-radius:3px")
                parts.append(f"<div><span style='{swatch}'>"
                             f"{html.escape(entry.glyph)}</span>&nbsp;"
                             f"{html.escape(entry.label)}</div>")
                continue
            elif entry.shape == "dot":
                swatch = (f"display:inline-block;width:10px;height:10px;"
                          f"border-radius:5px;background:rgb({r},{g},{b})")
            else:
                swatch = (f"display:inline-block;width:16px;height:12px;"
                          f"background:rgb({r},{g},{b});border:1px solid #888")
            parts.append(f"<div><span style='{swatch}'></span>&nbsp;"
                         f"{html.escape(entry.label)}</div>")
    parts.append("</div>")
    return "".join(parts)


def base_legend() -> list[LegendEntry]:
    """Legend lines of the shipped base layer."""
    return [
        LegendEntry(LAND_RGB, "Land inside HIPS"),
        LegendEntry(OUTSIDE_LAND_RGB, "Land outside HIPS (not analysed)"),
        LegendEntry(SEA_RGB, "Sea (coast outside HIPS approximate)"),
        LegendEntry(OUTLINE_RGB, "CSP boundary", shape="line"),
    ]

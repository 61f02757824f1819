"""The trend map layer: emerging hot-spot categories as coloured H3 hexagons."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pydeck as pdk

from hotspot.errors import ParameterError
from hotspot.layers.geometry import plain
from hotspot.layers.style import EMERGING_COLOURS, LegendEntry


def emerging_layer(cells: pd.DataFrame, *, line_px: float = 1.0) -> pdk.Layer:
    """Build the emerging hot-spot categories as flat H3 hexagons.

    ``cells`` is :attr:`hotspot.detect.trends.TrendSummary.cells` (``h3``,
    ``category``, ``place``, ``explanation``); cells without a pattern are not
    drawn. Each hexagon's tooltip names its place, category and explanation.
    """
    need = {"h3", "category"}
    if need - set(cells.columns):
        raise ParameterError(f"cells must have columns {sorted(need)}")
    shown = cells[cells["category"].astype(str).isin(list(EMERGING_COLOURS))]
    fills = [[*EMERGING_COLOURS[str(c)], 215] for c in shown["category"]]
    lines = [[*EMERGING_COLOURS[str(c)], 255] for c in shown["category"]]
    place = (shown["place"].astype(str) if "place" in shown.columns
             else shown["h3"].astype(str))
    why = (plain(shown["explanation"]) if "explanation" in shown.columns
           else pd.Series("", index=shown.index))
    data = pd.DataFrame({
        "h3": shown["h3"].astype(str).to_numpy(),
        "fill": fills, "line": lines,
        "title": (shown["category"].astype(str).str.capitalize() + ": "
                  + place).to_numpy(),
        "tooltip": why.to_numpy(),
    })
    return pdk.Layer(
        "H3HexagonLayer", data=data, id="emerging", get_hexagon="h3",
        get_fill_color="fill", get_line_color="line", get_line_width=line_px,
        line_width_units="'pixels'", stroked=True, filled=True, extruded=False,
        high_precision=False, pickable=True, auto_highlight=True,
    )


def emerging_legend(categories: Sequence[str] | None = None) -> list[LegendEntry]:
    """Legend lines of the emerging categories (all, or those given), in order."""
    present = set(EMERGING_COLOURS) if categories is None else set(categories)
    return [LegendEntry(rgb, category.capitalize())
            for category, rgb in EMERGING_COLOURS.items() if category in present]

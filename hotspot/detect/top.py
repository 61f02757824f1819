"""The top hot spots of a view, one row each: the recommended list, in words.

The order is the predictive ranking's (:func:`hotspot.analysis.rank_view`):
cells by the occurrences expected next, comparable across CSPs. Each row says
where it is (:func:`hotspot.context.places.name_cells`), when to go
(:func:`hotspot.context.peaks.peak_windows_by_cell`, the one peak-time rule),
why it is ranked there, and the Gi* evidence beside it (the bin, never the
order). The map's table, exports and briefings take their list from here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspot.errors import ParameterError

ALL_CSPS = "all"
#: Gi* bin → evidence label shown beside a rank.
EVIDENCE: dict[int, str] = {3: "99% hot spot", 2: "95% hot spot", 1: "90% hot spot",
                            0: "not significant", -1: "90% cold spot",
                            -2: "95% cold spot", -3: "99% cold spot"}
TOP_COLUMNS: tuple[str, ...] = (
    "rank", "place", "csp", "expected", "count", "harm", "evidence", "peak",
    "peak_source", "imd_decile", "reason", "h3", "hips_rank",
)


def cells_for_csp(cells: pd.DataFrame, csp: str) -> pd.DataFrame:
    """Return the cells of one CSP (all cells for ``"all"``)."""
    if csp == ALL_CSPS:
        return cells
    return cells[cells["csp_code"] == csp]


def top_hotspots(
    ranked: pd.DataFrame,
    points: pd.DataFrame,
    *,
    csp: str,
    resolution: int,
    n: int = 10,
    imd: pd.Series | None = None,
    places: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the ``n`` top-ranked cells of a CSP (or of HIPS), one row each.

    Parameters
    ----------
    ranked : pandas.DataFrame
        ``Ranking.cells`` (:func:`hotspot.analysis.rank_view`): ``h3``,
        ``csp_code``, ``csp_name``, ``rank``, ``csp_rank``, ``score``,
        ``count``, ``harm``, ``reason``, ``bin``.
    points : pandas.DataFrame
        The rows the view's cells count (for names and peak windows).
    csp : str, keyword-only
        CSP code or ``"all"``: in one CSP the rank is the CSP rank.
    resolution : int, keyword-only
        H3 resolution of the cells.
    n : int, keyword-only
        Rows wanted.
    imd : pandas.Series, optional, keyword-only
        IMD decile per H3 cell (index ``h3``).
    places : pandas.DataFrame, optional, keyword-only
        Names already made (:func:`~hotspot.context.places.name_cells`, index
        ``h3``); made here when None.

    Returns
    -------
    pandas.DataFrame
        :data:`TOP_COLUMNS`, best first; ``h3`` only in a secondary column.
    """
    from hotspot.context.peaks import peak_windows_by_cell
    from hotspot.context.places import name_cells

    missing = {"h3", "csp_code", "rank", "csp_rank", "score"} - set(ranked.columns)
    if missing:
        raise ParameterError(f"ranked must have columns {sorted(missing)}")
    mine = cells_for_csp(ranked, csp)
    order = "rank" if csp == ALL_CSPS else "csp_rank"
    top = mine[mine["score"] > 0].sort_values(order).head(n)
    if top.empty:
        return pd.DataFrame(columns=list(TOP_COLUMNS))
    h3s = list(top["h3"])
    if places is None:
        places = name_cells(h3s, occurrences=points, resolution=resolution
                            ).set_index("h3")
    pool = points if csp == ALL_CSPS else points[points["csp_code"] == csp]
    peaks = peak_windows_by_cell(points, h3s, resolution=resolution, pool=pool)
    decile = (imd.reindex(h3s).to_numpy() if imd is not None
              else np.full(len(top), np.nan))
    bins = top["bin"].fillna(0).astype(int) if "bin" in top else pd.Series(0)
    return pd.DataFrame({
        "rank": top[order].astype(int).to_numpy(),
        "place": places.reindex(h3s)["place"].fillna("").to_numpy(),
        "csp": top["csp_name"].to_numpy(),
        "expected": top["score"].astype(float).round(1).to_numpy(),
        "count": top["count"].astype(int).to_numpy(),
        "harm": top["harm"].astype(float).round(1).to_numpy(),
        "evidence": [EVIDENCE.get(int(b), "") for b in bins],
        "peak": peaks["text"].to_numpy(),
        "peak_source": peaks["source"].astype(str).to_numpy(),
        "imd_decile": decile,
        "reason": top["reason"].to_numpy(),
        "h3": h3s,
        "hips_rank": top["rank"].astype(int).to_numpy(),
    })

"""The top hot spots of a view, one row each, with peak times and deprivation.

Computed from an analysis result (:func:`hotspot.detect.analyse.hotspots`); the
map's table, exports and briefings all take their list from here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot.context import temporal
from hotspot.detect.result import DetectResult
from hotspot.errors import ParameterError
from hotspot.grid import points_to_cells

ALL_CSPS = "all"


def cells_for_csp(cells: pd.DataFrame, csp: str) -> pd.DataFrame:
    """Return the cells of one CSP (all cells for ``"all"``)."""
    if csp == ALL_CSPS:
        return cells
    return cells[cells["csp_code"] == csp]


def peak_times_by_cell(points: pd.DataFrame, cells: list[str], *,
                       resolution: int) -> list[str]:
    """Peak weekday and hour of the rows in each of ``cells``, in one pass.

    Only rows with a time of day count (:func:`hotspot.context.temporal.timed_rows`):
    month-only rows (police.uk) have no day or hour, and when nothing else is
    left the answer says so; no hours are ever invented for them. Ties go to
    the earlier weekday and hour.
    """
    point_cells = points_to_cells(points, resolution=resolution).to_numpy(
        dtype=object, na_value=None)
    where = {cell: i for i, cell in enumerate(cells)}
    group = np.array([where.get(c, -1) for c in point_cells], dtype=np.int64)
    use, day, hour, _ = temporal.timed_rows(points)
    mine = group[use]
    keep = mine >= 0
    counts = np.zeros((len(cells), 7, 24), dtype=np.int64)
    np.add.at(counts, (mine[keep], day[keep], hour[keep]), 1)
    out = []
    for table in counts:
        used = int(table.sum())
        if not used:
            out.append("month-only dates: no day or hour")
            continue
        peak_day = temporal.WEEKDAYS[int(np.argmax(table.sum(axis=1)))]
        peak_hour = int(np.argmax(table.sum(axis=0)))
        out.append(f"{peak_day}, {peak_hour:02d}:00-{(peak_hour + 1) % 24:02d}:00 "
                   f"({used} with a time)")
    return out


def top_hotspots(
    result: DetectResult,
    points: gpd.GeoDataFrame,
    *,
    csp: str,
    n: int = 10,
    imd: pd.Series | None = None,
) -> pd.DataFrame:
    """Return the ``n`` strongest hot spots of a CSP (or of HIPS), one row each.

    Parameters
    ----------
    result : DetectResult
        From :func:`hotspot.detect.analyse.hotspots`.
    points : geopandas.GeoDataFrame
        The rows analysed (for peak days and hours).
    csp : str, keyword-only
        CSP code or ``"all"``.
    n : int, keyword-only
        Rows wanted.
    imd : pandas.Series, optional, keyword-only
        IMD decile per H3 cell (index ``h3``), when the overlay is available.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``h3``, ``csp``, ``count``, ``harm``, ``z``, ``peak``,
        ``imd_decile`` and ``explanation``, strongest first.
    """
    if result.cells is None:
        raise ParameterError("result has no cell table")
    cells = cells_for_csp(result.cells, csp)
    hot = cells[cells["bin"] > 0].sort_values("z", ascending=False).head(n)
    columns = ["rank", "h3", "csp", "count", "harm", "z", "peak", "imd_decile",
               "explanation"]
    if hot.empty:
        return pd.DataFrame(columns=columns)
    resolution = int(result.parameters["resolution"])
    peaks = peak_times_by_cell(points, list(hot["h3"]), resolution=resolution)
    decile = (imd.reindex(hot["h3"]).to_numpy() if imd is not None
              else np.full(len(hot), np.nan))
    return pd.DataFrame({
        "rank": np.arange(1, len(hot) + 1),
        "h3": hot["h3"].to_numpy(),
        "csp": hot["csp_name"].to_numpy(),
        "count": hot["count"].astype(int).to_numpy(),
        "harm": hot["harm"].astype(float).round(1).to_numpy(),
        "z": hot["z"].astype(float).round(2).to_numpy(),
        "peak": peaks,
        "imd_decile": decile,
        "explanation": hot["explanation"].to_numpy(),
    })

"""Glue between the map page's :class:`~hotspot.view.View` and the engine.

Nothing statistical lives here: these functions choose the rows a view asks for
and call :mod:`hotspot.grid`, :mod:`hotspot.detect.gistar`,
:mod:`hotspot.detect.explain` and :mod:`hotspot.detect.kde`, then package the
results (a :class:`~hotspot.detect.result.DetectResult`) and the small tables the
panels show. No Streamlit here, so every function is testable on its own.

Which rows the map uses
-----------------------
Rows counted as serious violence (``is_serious_violence``; approximate police.uk
matches such as "Violence and sexual offences" are *not* counted), without
data-quality flags, then the view's months, categories and flags. Police.uk rows
carry no flags, so any flag filter leaves them out.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from hotspot.cli.detect import CATEGORY_NOUNS, DEFAULT_NOUN, select_occurrences
from hotspot.context import temporal
from hotspot.definitions import SV_CATEGORIES
from hotspot.detect.explain import explain_gistar, hot_cold_rank
from hotspot.detect.gistar import gi_star
from hotspot.detect.result import DetectResult
from hotspot.errors import ParameterError
from hotspot.grid import HIPS_AREA, count_points, points_to_cells
from hotspot.view import ALL_CSPS, FLAG_FILTERS, View

logger = logging.getLogger(__name__)

#: Columns the map keeps from the occurrence store (small enough to cache).
KEEP_COLUMNS: tuple[str, ...] = (
    "occurrence_id", "source", "is_synthetic", "occurred_from", "date_precision",
    "sv_category", "harm_weight", "public_place", "bladed_implement", "domestic",
    "victim_age", "csp_code", "csp_name", "lsoa21_code", "geometry",
)


def serious_violence(occurrences: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Serious-violence rows without quality flags, with a ``month`` column.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        The canonical occurrence table (points in EPSG:27700).

    Returns
    -------
    geopandas.GeoDataFrame
        The columns in :data:`KEEP_COLUMNS` plus ``month`` (``YYYY-MM``).
    """
    chosen = select_occurrences(occurrences).points
    cols = [c for c in KEEP_COLUMNS if c in chosen.columns]
    out = gpd.GeoDataFrame(chosen[cols].copy(), geometry="geometry", crs=chosen.crs)
    out["month"] = pd.to_datetime(out["occurred_from"]).dt.strftime("%Y-%m")
    return out


def months_of(points: pd.DataFrame) -> list[str]:
    """Every month from the first to the last occurrence (``YYYY-MM``)."""
    if points.empty:
        return []
    when = pd.to_datetime(points["occurred_from"])
    rng = pd.period_range(when.min().to_period("M"), when.max().to_period("M"),
                          freq="M")
    return [str(p) for p in rng]


def filter_view(points: gpd.GeoDataFrame, view: View) -> tuple[gpd.GeoDataFrame,
                                                               dict[str, Any]]:
    """Keep the rows a view asks for (months, categories, flags); all CSPs.

    The CSP choice does not filter here: with scope ``csp`` every CSP is its own
    study area, so its Gi* does not depend on the others, and with scope
    ``hips`` all of HIPS is one area.

    Returns
    -------
    points : geopandas.GeoDataFrame
        The rows kept (index kept).
    filters : dict
        What was applied, for the "how this was computed" panel.
    """
    keep = pd.Series(True, index=points.index)
    filters: dict[str, Any] = {"rows": "serious violence, no data-quality flags"}
    if view.month_from:
        keep &= points["month"] >= view.month_from
        filters["from"] = view.month_from
    if view.month_to:
        keep &= points["month"] <= view.month_to
        filters["to"] = view.month_to
    if view.categories:
        bad = set(view.categories) - set(SV_CATEGORIES)
        if bad:
            raise ParameterError(
                f"categories must be some of {list(SV_CATEGORIES)}, got {sorted(bad)}"
            )
        keep &= points["sv_category"].isin(view.categories).fillna(False)
        filters["categories"] = list(view.categories)
    for flag in view.flags:
        if flag not in FLAG_FILTERS:
            raise ParameterError(
                f"flags must be some of {list(FLAG_FILTERS)}, got {flag!r}"
            )
        keep &= _flag_mask(points, flag)
    if view.flags:
        filters["flags"] = [FLAG_FILTERS[f] for f in view.flags]
    return points[keep.to_numpy()], filters


def _flag_mask(points: pd.DataFrame, flag: str) -> pd.Series:
    """Rows where the flag is known to hold (unknown counts as not holding)."""
    if flag == "bladed":
        return points["bladed_implement"].astype("boolean").fillna(False)
    if flag == "public":
        return points["public_place"].astype("boolean").fillna(False)
    if flag == "nondomestic":
        return (~points["domestic"].astype("boolean")).fillna(False)
    age = pd.to_numeric(points["victim_age"], errors="coerce")
    return (age < 25).fillna(False)


def noun_for(categories: tuple[str, ...]) -> tuple[str, str]:
    """Return what explanations call an occurrence, given the categories."""
    if len(categories) == 1:
        return CATEGORY_NOUNS.get(categories[0], DEFAULT_NOUN)
    return DEFAULT_NOUN


def gistar_for_view(
    points: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    weights: sparse.csr_array,
    *,
    view: View,
    filters: dict[str, Any],
    drawn_only: bool = False,
) -> DetectResult:
    """Gi* on the view's rows over pre-built study cells and weights.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Rows from :func:`filter_view`.
    cells : geopandas.GeoDataFrame
        :func:`hotspot.grid.study_cells` at the view's resolution and scope.
    weights : scipy.sparse.csr_array
        :func:`hotspot.detect.gistar.ring_weights` of ``cells`` with the view's k.
    view : View, keyword-only
        Parameters (k, alpha, FDR, weight).
    filters : dict, keyword-only
        Filters applied, recorded in the result.
    drawn_only : bool, keyword-only
        Keep (and explain) only the cells a map draws: significant ones and
        those holding an occurrence. Their sentences are the same as in the full
        table (ranks and hot-spot totals count every cell); the full table's
        size stays in ``counts["cells"]``.

    Returns
    -------
    DetectResult
        ``cells`` holds the Gi* columns plus ``rank`` and ``explanation``.
    """
    counted = count_points(points, cells, weight="harm_weight")
    table = gi_star(counted, column=view.weight, k=view.k, alpha=view.alpha,
                    fdr=view.fdr, weights=weights)
    pairs = table[["csp_code", "csp_name"]].drop_duplicates()
    names = dict(zip(pairs["csp_code"], pairs["csp_name"], strict=True))
    names[HIPS_AREA] = "HIPS"
    table["rank"] = hot_cold_rank(table)
    n_cells = len(table)
    untested = int(table["z"].isna().sum())
    hot, cold = int((table["bin"] > 0).sum()), int((table["bin"] < 0).sum())
    if drawn_only:
        table = table[(table["bin"] != 0) | (table["count"] > 0)].copy()
    table["explanation"] = explain_gistar(
        table, column=view.weight, noun=noun_for(view.categories),
        area_names=names, fdr=view.fdr,
    )
    when = pd.to_datetime(points["occurred_from"])
    result = DetectResult(
        method="gistar",
        parameters={"scope": view.scope, "resolution": view.resolution, "k": view.k,
                    "alpha": view.alpha, "fdr": view.fdr, "weight": view.weight,
                    "permutations": 0},
        filters=filters,
        data_from=view.month_from or (f"{when.min():%Y-%m}" if len(when) else None),
        data_to=view.month_to or (f"{when.max():%Y-%m}" if len(when) else None),
        cells=table,
    )
    result.counts = {
        "occurrences_in": len(points),
        "occurrences_counted": int(counted["count"].sum()),
        "outside_study_cells": int(counted.attrs.get("points_outside", 0)),
        "cells": n_cells,
        "study_areas": int(cells["study_area"].nunique()),
        "hot_cells": hot,
        "cold_cells": cold,
    }
    if untested == n_cells and n_cells:
        result.warn("No cell has a defined Gi*: too few occurrences for this view.")
    return result


def cells_for_csp(cells: gpd.GeoDataFrame, csp: str) -> gpd.GeoDataFrame:
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
        From :func:`gistar_for_view`.
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


def how_computed(
    view: View,
    result: DetectResult,
    *,
    kde_bandwidth_m: float | None = None,
    kde_reason: str | None = None,
    kde_cell_m: float | None = None,
) -> pd.DataFrame:
    """Every parameter of the view with its value and the reason for it."""
    scope_text = ("each CSP is its own study area, so Portsmouth and Southampton "
                  "do not swamp the rural CSPs" if view.scope == "csp"
                  else "all of HIPS is one study area: hot spots are relative to "
                  "the whole partnership")
    rows = [
        ("Rows", result.filters.get("rows", ""), "the HIPS definition; rows with "
         "data-quality flags are left out; approximate police.uk categories are "
         "not serious violence"),
        ("Period", f"{result.data_from} to {result.data_to}",
         "months chosen (whole months; police.uk gives the month only)"),
        ("Categories", ", ".join(view.categories) or "all serious violence",
         "chosen in the sidebar"),
        ("Flags", ", ".join(FLAG_FILTERS[f] for f in view.flags) or "none",
         "police.uk rows carry no flags, so a flag filter leaves them out"),
        ("Scope", view.scope, scope_text),
        ("H3 resolution", str(view.resolution),
         "9 is about 174 m edge (a few streets); 10 about 66 m for patrol work"),
        ("Gi* weights", f"binary k-ring, k = {view.k}, cell included",
         "Getis-Ord Gi*: each cell with its ring of neighbours in its study area"),
        ("Significance", f"alpha = {view.alpha:g}; bins at 90/95/99%",
         "two-sided p from the normal approximation"),
        ("False discovery rate", "Benjamini-Hochberg, once per study area"
         if view.fdr else "off",
         "thousands of cells are tested: the adjustment keeps false hot spots "
         "rare" if view.fdr else "switched off: expect some false hot spots"),
        ("Value analysed", "harm-weighted counts" if view.weight == "harm"
         else "counts", "harm weights from data/definitions/harm_weights.csv"
         if view.weight == "harm" else "each occurrence counts 1"),
    ]
    if kde_bandwidth_m is not None:
        rows.append(("KDE bandwidth", f"{kde_bandwidth_m:.0f} m",
                     kde_reason or "given"))
    if kde_cell_m is not None:
        rows.append(("KDE raster cell", f"{kde_cell_m:.0f} m",
                     "quartic kernel, occurrences per km²"))
    for name, reason in result.automatic.items():
        rows.append((name, str(result.parameters.get(name)), reason))
    for key, value in result.counts.items():
        rows.append((key.replace("_", " "), str(value), "count"))
    return pd.DataFrame(rows, columns=["parameter", "value", "reason"])

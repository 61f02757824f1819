"""Rates, deprivation shares and concentration: the tables that compare areas.

Occurrences per 1,000 residents by LSOA, CSP and IMD decile, the share in the
most deprived deciles and in hot-spot cells, and how concentrated violence is
(concentration curve, Gini, area share holding half or 80%).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot.context.deprivation import (
    DECILES,
    HIPS,
    HOT_BIN,
    lsoa_context,
)
from hotspot.crs import require_bng
from hotspot.errors import ParameterError


# ---------------------------------------------------------------------- tables
def _with_context(
    occurrences: pd.DataFrame, context: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """Occurrence rows with their LSOA's CSP and decile; and how many had none."""
    if "imd_lsoa_code" not in occurrences.columns:
        raise ParameterError(
            "occurrences must have an 'imd_lsoa_code' column: call attach_imd() first"
        )
    need = {"lsoa_code", "csp_code", "csp_name", "residents", "imd_decile"}
    missing = need - set(context.columns)
    if missing:
        raise ParameterError(f"context must have columns {sorted(missing)}")
    codes = occurrences["imd_lsoa_code"].astype("string")
    known = codes.isin(set(context["lsoa_code"])).fillna(False).to_numpy(dtype=bool)
    rows = context.set_index("lsoa_code").loc[codes[known].astype(str).to_numpy()]
    rows = rows[["csp_code", "csp_name", "imd_decile"]].reset_index()
    return rows, int((~known).sum())


def _areas(context: pd.DataFrame) -> list[tuple[str, str, pd.Series]]:
    """(code, name, LSOA mask) for each CSP in code order, then HIPS."""
    pairs = (
        context[["csp_code", "csp_name"]]
        .dropna()
        .drop_duplicates()
        .sort_values("csp_code")
    )
    areas = [
        (code, name, context["csp_code"] == code)
        for code, name in zip(pairs["csp_code"], pairs["csp_name"], strict=True)
    ]
    areas.append((HIPS, HIPS, pd.Series(True, index=context.index)))
    return areas


def decile_table(
    occurrences: pd.DataFrame,
    *,
    context: pd.DataFrame | None = None,
    edition: str = "2025",
) -> pd.DataFrame:
    """Occurrences, residents and rate per 1,000 residents by IMD decile.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        Output of :func:`attach_imd` (needs ``imd_lsoa_code``).
    context : pandas.DataFrame, optional, keyword-only
        Per-LSOA CSP, residents and decile (:func:`lsoa_context`); built for
        ``edition`` when omitted.
    edition : {"2025", "2019"}, keyword-only
        Used only when ``context`` is omitted.

    Returns
    -------
    pandas.DataFrame
        One row per CSP and decile 1–10, then the HIPS rows: ``csp_code``,
        ``csp_name``, ``imd_decile``, ``lsoas``, ``residents``, ``occurrences``,
        ``occurrence_share`` and ``resident_share`` (0–1, within the area) and
        ``rate_per_1000`` (occurrences per 1,000 residents over the period of
        the data given). ``attrs["without_lsoa"]`` counts occurrences left out.
    """
    ctx = lsoa_context(edition) if context is None else context
    rows, without = _with_context(occurrences, ctx)
    parts = []
    for code, name, mask in _areas(ctx):
        lsoas = ctx[mask.to_numpy()]
        occ = rows if code == HIPS else rows[rows["csp_code"] == code]
        by_decile = pd.DataFrame({"imd_decile": DECILES})
        by_decile["lsoas"] = (
            by_decile["imd_decile"]
            .map(lsoas.groupby("imd_decile").size())
            .fillna(0)
            .astype("int64")
        )
        by_decile["residents"] = (
            by_decile["imd_decile"]
            .map(lsoas.groupby("imd_decile")["residents"].sum())
            .fillna(0)
            .astype("int64")
        )
        by_decile["occurrences"] = (
            by_decile["imd_decile"]
            .map(occ.groupby("imd_decile").size())
            .fillna(0)
            .astype("int64")
        )
        total_occ = by_decile["occurrences"].sum()
        total_res = by_decile["residents"].sum()
        by_decile["occurrence_share"] = (
            by_decile["occurrences"] / total_occ if total_occ else np.nan
        )
        by_decile["resident_share"] = (
            by_decile["residents"] / total_res if total_res else np.nan
        )
        by_decile["rate_per_1000"] = (
            1000
            * by_decile["occurrences"]
            / by_decile["residents"].where(by_decile["residents"] > 0)
        )
        by_decile.insert(0, "csp_name", name)
        by_decile.insert(0, "csp_code", code)
        parts.append(by_decile)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["without_lsoa"] = without
    return out


#: Display names, with units, of :func:`decile_comparison`'s columns.
DECILE_LABELS: dict[str, str] = {
    "imd_decile": "IMD decile (1 = most deprived)",
    "lsoas": "LSOAs",
    "residents": "Residents",
    "occurrences": "Occurrences",
    "occurrence_share": "Share of occurrences (%)",
    "resident_share": "Share of residents (%)",
    "rate_per_1000": "Rate per 1,000 residents",
    "hips_occurrence_share": "HIPS share of occurrences (%)",
    "hips_rate_per_1000": "HIPS rate per 1,000 residents",
}


def decile_comparison(table: pd.DataFrame, *, csp_code: str | None) -> pd.DataFrame:
    """Return one area's rows of :func:`decile_table` beside the HIPS figures.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`decile_table` over every CSP (its HIPS rows are then all of HIPS).
    csp_code : str or None, keyword-only
        The CSP shown; None (or ``"HIPS"``) shows HIPS alone.

    Returns
    -------
    pandas.DataFrame
        Ten rows (deciles 1–10): ``imd_decile``, ``lsoas``, ``residents``,
        ``occurrences``, ``occurrence_share`` and ``resident_share`` (percent),
        ``rate_per_1000``, then ``hips_occurrence_share`` (percent) and
        ``hips_rate_per_1000`` for the same decile over all of HIPS (only when
        a CSP is shown).
    """
    codes = table["csp_code"].astype(str)
    area = HIPS if csp_code in (None, HIPS) else csp_code
    if area not in set(codes):
        raise ParameterError(f"csp_code {csp_code!r} is not in the decile table")
    columns = ["imd_decile", "lsoas", "residents", "occurrences",
               "occurrence_share", "resident_share", "rate_per_1000"]
    out = table.loc[codes == area, columns].reset_index(drop=True)
    for col in ("occurrence_share", "resident_share"):
        out[col] = 100 * out[col]
    if area != HIPS:
        hips = table.loc[codes == HIPS].set_index("imd_decile")
        out["hips_occurrence_share"] = 100 * out["imd_decile"].map(
            hips["occurrence_share"])
        out["hips_rate_per_1000"] = out["imd_decile"].map(hips["rate_per_1000"])
    return out


def rates_table(
    occurrences: pd.DataFrame,
    *,
    level: Literal["csp", "lsoa"] = "csp",
    context: pd.DataFrame | None = None,
    edition: str = "2025",
) -> pd.DataFrame:
    """Occurrences per 1,000 residents per CSP or per LSOA, against HIPS.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        Output of :func:`attach_imd`.
    level : {"csp", "lsoa"}, keyword-only
        One row per CSP (then a HIPS row) or one per LSOA.
    context, edition : keyword-only
        As in :func:`decile_table`.

    Returns
    -------
    pandas.DataFrame
        ``csp``: ``csp_code``, ``csp_name``, ``occurrences``, ``residents``,
        ``rate_per_1000``, ``hips_rate_per_1000`` and ``ratio_to_hips`` (rate
        over the HIPS rate; 1 = average). ``lsoa``: also ``lsoa_code``,
        ``lsoa_name`` and ``imd_decile``, sorted by rate, highest first. Rates
        are over the period of the data given (not annualised).
    """
    if level not in ("csp", "lsoa"):
        raise ParameterError(f"level must be 'csp' or 'lsoa', got {level!r}")
    ctx = lsoa_context(edition) if context is None else context
    rows, without = _with_context(occurrences, ctx)
    per_lsoa = rows.groupby("lsoa_code").size()
    hips_rate = 1000 * len(rows) / ctx["residents"].sum()
    if level == "lsoa":
        keep = [
            c
            for c in (
                "lsoa_code",
                "lsoa_name",
                "csp_code",
                "csp_name",
                "imd_decile",
                "residents",
            )
            if c in ctx.columns
        ]
        out = ctx[keep].copy()
        out["occurrences"] = out["lsoa_code"].map(per_lsoa).fillna(0).astype("int64")
    else:
        parts = []
        for code, name, mask in _areas(ctx):
            occ = rows if code == HIPS else rows[rows["csp_code"] == code]
            parts.append(
                {
                    "csp_code": code,
                    "csp_name": name,
                    "occurrences": len(occ),
                    "residents": int(ctx.loc[mask.to_numpy(), "residents"].sum()),
                }
            )
        out = pd.DataFrame(parts)
    out["rate_per_1000"] = (
        1000 * out["occurrences"] / out["residents"].where(out["residents"] > 0)
    )
    out["hips_rate_per_1000"] = hips_rate
    out["ratio_to_hips"] = out["rate_per_1000"] / hips_rate if hips_rate else np.nan
    if level == "lsoa":
        out = out.sort_values(
            ["rate_per_1000", "lsoa_code"], ascending=[False, True], na_position="last"
        ).reset_index(drop=True)
    out.attrs["without_lsoa"] = without
    return out


def deprived_share_table(
    occurrences: pd.DataFrame,
    *,
    cells: pd.DataFrame | None = None,
    context: pd.DataFrame | None = None,
    edition: str = "2025",
    hot_bin: int = HOT_BIN,
) -> pd.DataFrame:
    """Share of occurrences, residents and hot-spot cells in the most deprived LSOAs.

    Parameters
    ----------
    occurrences : pandas.DataFrame
        Output of :func:`attach_imd`.
    cells : pandas.DataFrame, optional, keyword-only
        Cells with ``csp_code``, ``bin`` (Gi*) and ``share_decile_1``,
        ``share_deciles_1_2`` (:func:`cells_imd`). Without it the cell columns
        are NaN.
    context, edition : keyword-only
        As in :func:`decile_table`.
    hot_bin : int, keyword-only
        Gi* bin from which a cell is a hot-spot cell (default 2: 95%).

    Returns
    -------
    pandas.DataFrame
        One row per CSP then HIPS: ``occurrences``, ``occurrences_decile_1``
        and ``occurrences_deciles_1_2`` (shares 0–1), ``residents_decile_1``
        and ``residents_deciles_1_2`` (the baseline: shares of residents),
        ``cells``, ``hot_cells``, ``hot_cells_decile_1`` and
        ``hot_cells_deciles_1_2`` (area-weighted shares of the hot-spot cells'
        area lying in those LSOAs) and ``cells_decile_1``,
        ``cells_deciles_1_2`` (the same over all cells: the baseline).
    """
    ctx = lsoa_context(edition) if context is None else context
    rows, without = _with_context(occurrences, ctx)
    if cells is not None:
        missing = {"csp_code", "bin", "share_decile_1", "share_deciles_1_2"} - set(
            cells.columns
        )
        if missing:
            raise ParameterError(
                f"cells must have columns {sorted(missing)} (cells_imd + gi_star)"
            )
    records = []
    for code, name, mask in _areas(ctx):
        lsoas = ctx[mask.to_numpy()]
        occ = rows if code == HIPS else rows[rows["csp_code"] == code]
        rec: dict[str, object] = {
            "csp_code": code,
            "csp_name": name,
            "occurrences": len(occ),
        }
        for suffix, top in (("decile_1", 1), ("deciles_1_2", 2)):
            rec[f"occurrences_{suffix}"] = (
                float((occ["imd_decile"] <= top).mean()) if len(occ) else np.nan
            )
            res = lsoas["residents"].sum()
            rec[f"residents_{suffix}"] = (
                float(lsoas.loc[lsoas["imd_decile"] <= top, "residents"].sum() / res)
                if res
                else np.nan
            )
        if cells is not None:
            own = cells if code == HIPS else cells[cells["csp_code"] == code]
            hot = own[own["bin"] >= hot_bin]
            rec["cells"] = len(own)
            rec["hot_cells"] = len(hot)
            for suffix in ("decile_1", "deciles_1_2"):
                column = f"share_{suffix}"
                rec[f"hot_cells_{suffix}"] = (
                    float(hot[column].mean()) if len(hot) else np.nan
                )
                rec[f"cells_{suffix}"] = (
                    float(own[column].mean()) if len(own) else np.nan
                )
        records.append(rec)
    out = pd.DataFrame(records)
    for name in (
        "cells",
        "hot_cells",
        "hot_cells_decile_1",
        "hot_cells_deciles_1_2",
        "cells_decile_1",
        "cells_deciles_1_2",
    ):
        if name not in out:
            out[name] = np.nan
    out.attrs.update({"without_lsoa": without, "hot_bin": hot_bin})
    return out


# ---------------------------------------------------------------- concentration
def concentration_curve(
    cells: pd.DataFrame, *, column: str = "count", area_column: str | None = None
) -> pd.DataFrame:
    """Return the concentration curve: densest cells first, cumulative shares.

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per cell with the count ``column`` and either polygons in
        EPSG:27700 or an ``area_column`` in km².
    column : str, keyword-only
        Occurrences per cell.
    area_column : str, optional, keyword-only
        Cell area in km²; computed from the geometry when omitted.

    Returns
    -------
    pandas.DataFrame
        Cells sorted by density (occurrences per km²), highest first, index kept:
        ``occurrences``, ``area_km2``, ``density_per_km2``, ``area_share`` and
        ``occurrence_share`` (cumulative, 0–1).
    """
    values, area = _values_and_area(cells, column=column, area_column=area_column)
    density = values / np.where(area > 0, area, np.nan)
    out = pd.DataFrame(
        {"occurrences": values, "area_km2": area, "density_per_km2": density},
        index=cells.index,
    )
    out = out.sort_values(
        "density_per_km2", ascending=False, kind="stable", na_position="last"
    )
    total_area = out["area_km2"].sum()
    total = out["occurrences"].sum()
    out["area_share"] = out["area_km2"].cumsum() / total_area if total_area else np.nan
    out["occurrence_share"] = out["occurrences"].cumsum() / total if total else np.nan
    return out


def _values_and_area(
    cells: pd.DataFrame, *, column: str, area_column: str | None
) -> tuple[np.ndarray, np.ndarray]:
    if column not in cells.columns:
        raise ParameterError(f"cells must have a {column!r} column")
    values = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=float)
    if np.any(~np.isfinite(values)) or np.any(values < 0):
        raise ParameterError(f"column {column!r} must hold finite counts >= 0")
    if area_column is not None:
        area = pd.to_numeric(cells[area_column], errors="coerce").to_numpy(dtype=float)
    elif isinstance(cells, gpd.GeoDataFrame):
        require_bng(cells, name="cells")
        area = cells.geometry.area.to_numpy() / 1e6
    else:
        raise ParameterError("cells need polygons (GeoDataFrame) or an area_column")
    return values, area


def gini_coefficient(
    cells: pd.DataFrame, *, column: str = "count", area_column: str | None = None
) -> float:
    """Gini coefficient of occurrences over area (0 = even, towards 1 = concentrated).

    Notes
    -----
    With cells sorted by density, lowest first, and the Lorenz curve through
    (cumulative area share x_i, cumulative occurrence share y_i),
    G = 1 − Σ (x_i − x_{i−1})(y_i + y_{i−1}). Every occurrence in one of n
    equal cells gives 1 − 1/n. NaN when there are no occurrences.
    """
    values, area = _values_and_area(cells, column=column, area_column=area_column)
    if values.sum() <= 0 or area.sum() <= 0:
        return float("nan")
    density = values / np.where(area > 0, area, np.inf)
    order = np.argsort(density, kind="stable")
    x = np.concatenate([[0.0], np.cumsum(area[order]) / area.sum()])
    y = np.concatenate([[0.0], np.cumsum(values[order]) / values.sum()])
    return float(1.0 - np.sum(np.diff(x) * (y[1:] + y[:-1])))


def area_share_for(curve: pd.DataFrame, share: float) -> float:
    """Return the area share of the fewest densest cells holding ``share`` of the total.

    ``curve`` is a :func:`concentration_curve`; ``share`` is in (0, 1].
    """
    if not 0 < share <= 1:
        raise ParameterError(f"share must be in (0, 1], got {share!r}")
    reached = curve["occurrence_share"].to_numpy() >= share - 1e-12
    if not reached.any():
        return float("nan")
    return float(curve["area_share"].to_numpy()[np.argmax(reached)])


def concentration_table(
    cells: pd.DataFrame,
    *,
    column: str = "count",
    shares: Sequence[float] = (0.5, 0.8),
    area_column: str | None = None,
) -> pd.DataFrame:
    """Gini and "x% of occurrences in y% of the area", per CSP and for HIPS.

    Parameters
    ----------
    cells : pandas.DataFrame
        Cells with ``csp_code``, ``csp_name``, the count ``column`` and polygons
        (or ``area_column``).
    column : str, keyword-only
        Occurrences per cell.
    shares : sequence of float, keyword-only
        Occurrence shares to report (default 50% and 80%).
    area_column : str, optional, keyword-only
        Cell area in km² when ``cells`` has no polygons.

    Returns
    -------
    pandas.DataFrame
        One row per CSP then HIPS: ``cells``, ``area_km2``, ``occurrences``,
        ``gini``, and for each share s ``area_pct_for_<100 s>pct`` (percent of
        the area holding s of the occurrences) and ``summary`` (a sentence).
    """
    for name in ("csp_code", "csp_name"):
        if name not in cells.columns:
            raise ParameterError(f"cells must have a {name!r} column")
    pairs = cells[["csp_code", "csp_name"]].drop_duplicates().sort_values("csp_code")
    groups = [
        (c, n, cells["csp_code"] == c)
        for c, n in zip(pairs["csp_code"], pairs["csp_name"], strict=True)
    ]
    groups.append((HIPS, HIPS, pd.Series(True, index=cells.index)))
    records = []
    for code, name, mask in groups:
        own = cells[mask.to_numpy()]
        curve = concentration_curve(own, column=column, area_column=area_column)
        rec: dict[str, object] = {
            "csp_code": code,
            "csp_name": name,
            "cells": len(own),
            "area_km2": float(curve["area_km2"].sum()),
            "occurrences": float(curve["occurrences"].sum()),
            "gini": gini_coefficient(own, column=column, area_column=area_column),
        }
        phrases = []
        for share in shares:
            pct = 100 * area_share_for(curve, share)
            rec[f"area_pct_for_{round(100 * share)}pct"] = pct
            phrases.append(
                f"{100 * share:.0f}% of occurrences in {pct:.1f}% of the area"
            )
        rec["summary"] = f"{name}: " + "; ".join(phrases)
        records.append(rec)
    return pd.DataFrame(records)

"""Plain-English explanations of Gi* and emerging hot spot results, one per cell.

Sentences are built column-wise with pandas string operations (no Python loop over
cells), so a table of 100,000 cells is explained in well under a second. Example::

    14 robberies here and 31 in the 6 neighbouring cells against a Southampton
    average of 0.4 per cell; z = 6.2, p < 0.001 after the false-discovery
    adjustment: a 99% hot spot, ranked 2nd of 12 hot spots in Southampton.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.errors import ParameterError

#: What each bin means, in words.
BIN_WORDS: dict[int, str] = {
    3: "a 99% hot spot",
    2: "a 95% hot spot",
    1: "a 90% hot spot",
    0: "not a significant hot or cold spot",
    -1: "a 90% cold spot",
    -2: "a 95% cold spot",
    -3: "a 99% cold spot",
}


def ordinal(values: npt.ArrayLike) -> pd.Series:
    """Return English ordinals ("1st", "2nd", "3rd", "4th", "11th", ...)."""
    n = np.asarray(values, dtype=np.int64)
    suffix = np.full(n.shape, "th", dtype=object)
    last = n % 10
    teen = (n % 100 >= 11) & (n % 100 <= 13)
    for digit, word in ((1, "st"), (2, "nd"), (3, "rd")):
        suffix[(last == digit) & ~teen] = word
    return pd.Series(n).astype(str) + pd.Series(suffix, dtype=object)


def _fmt(values: pd.Series, decimals: int) -> pd.Series:
    template = "{:.%sf}".replace("%s", str(decimals))
    return values.astype(float).round(decimals).map(template.format)


def _mean_text(values: pd.Series) -> pd.Series:
    """Means per cell: 2 decimals below 1, else 1 decimal."""
    small = values.abs() < 1
    return _fmt(values, 2).where(small, _fmt(values, 1))


def _p_text(p: pd.Series) -> pd.Series:
    text = "p = " + _fmt(p, 3)
    return text.where(~(p < 0.001), "p < 0.001")


def hot_cold_rank(cells: pd.DataFrame) -> pd.Series:
    """Rank hot cells by z (1 = highest) and cold cells by z (1 = lowest).

    Ranks are within the hot (or cold) cells of the cell's study area; NA for
    cells that are neither.
    """
    z = cells["z"].astype(float)
    hot = cells["bin"] > 0
    cold = cells["bin"] < 0
    rank = pd.Series(pd.NA, index=cells.index, dtype="Int64")
    if hot.any():
        rank[hot] = (
            z[hot].groupby(cells.loc[hot, "study_area"]).rank(ascending=False,
                                                              method="min")
        ).astype("Int64")
    if cold.any():
        rank[cold] = (
            z[cold].groupby(cells.loc[cold, "study_area"]).rank(ascending=True,
                                                                method="min")
        ).astype("Int64")
    return rank


def explain_gistar(
    cells: pd.DataFrame,
    *,
    column: str = "count",
    noun: tuple[str, str] = ("occurrence", "occurrences"),
    area_names: Mapping[str, str] | None = None,
    fdr: bool = True,
    permutations: int = 0,
) -> pd.Series:
    """Explain each cell of a Gi* table in one plain-English sentence.

    Parameters
    ----------
    cells : pandas.DataFrame
        Output of :func:`hotspot.detect.gistar.gi_star` (``study_area``, the value
        column, ``neighbour_sum``, ``neighbours``, ``area_mean``, ``z``,
        ``p_fdr``, ``bin``).
    column : {"count", "harm"}, keyword-only
        The value analysed.
    noun : (str, str), keyword-only
        Singular and plural of what was counted ("robbery", "robberies").
    area_names : mapping, optional, keyword-only
        Display name of each study area code (default: the code itself).
    fdr : bool, keyword-only
        Whether ``p_fdr`` is adjusted (changes the wording only).
    permutations : int, keyword-only
        Number of permutations behind ``p`` (0: normal approximation).

    Returns
    -------
    pandas.Series of str
        One sentence per cell, index kept.
    """
    needed = {"study_area", column, "neighbour_sum", "neighbours", "area_mean", "z",
              "p_fdr", "bin"}
    missing = needed - set(cells.columns)
    if missing:
        raise ParameterError(
            f"cells must have the Gi* columns; missing {sorted(missing)}"
        )
    if column not in ("count", "harm"):
        raise ParameterError(f"column must be 'count' or 'harm', got {column!r}")
    area = cells["study_area"].astype(str)
    if area_names is not None:
        area = area.map(lambda code: area_names.get(code, code))
    value = cells[column].astype(float)
    nsum = cells["neighbour_sum"].astype(float)
    nb = cells["neighbours"].astype(int)
    if column == "count":
        here = (
            value.astype(int).astype(str) + " "
            + pd.Series(np.where(value == 1, noun[0], noun[1]), index=cells.index)
        )
        there = nsum.round().astype(int).astype(str)
    else:
        here = "harm of " + _fmt(value, 1)
        there = _fmt(nsum, 1)
    cell_word = pd.Series(
        np.where(nb == 1, "neighbouring cell", "neighbouring cells"), index=cells.index
    )
    base = (
        here + " here and " + there + " in the " + nb.astype(str) + " " + cell_word
        + " against " + _article(area) + " average of "
        + _mean_text(cells["area_mean"].astype(float)) + " per cell"
    )
    z = cells["z"].astype(float)
    p = cells["p_fdr"].astype(float)
    how = " after the false-discovery adjustment" if fdr else ""
    if permutations:
        how = f" ({permutations} permutations)" + how
    verdict = cells["bin"].astype(int).map(BIN_WORDS)
    rank = hot_cold_rank(cells)
    n_hot = (cells["bin"] > 0).groupby(cells["study_area"]).transform("sum")
    n_cold = (cells["bin"] < 0).groupby(cells["study_area"]).transform("sum")
    ranked = rank.notna()
    rank_text = pd.Series("", index=cells.index, dtype=object)
    if ranked.any():
        kind = np.where(cells["bin"] > 0, " hot spots in ", " cold spots in ")
        total = np.where(cells["bin"] > 0, n_hot, n_cold)
        rank_text[ranked] = (
            ", ranked " + ordinal(rank[ranked].to_numpy(dtype=np.int64)).to_numpy()
            + " of " + pd.Series(total[ranked.to_numpy()]).astype(str).to_numpy()
            + kind[ranked.to_numpy()] + area[ranked].to_numpy()
        )
    tested = (
        base + "; z = " + _fmt(z, 1) + ", " + _p_text(p) + how + ": " + verdict
        + rank_text + "."
    )
    untested = (
        base + "; Gi* is undefined here (every cell of " + area
        + " has the same value, or the area is a single cell)."
    )
    return tested.where(z.notna(), untested).astype(str)


def _article(area: pd.Series) -> pd.Series:
    """Prefix each name with its article: 'a Southampton', 'an Eastleigh'."""
    vowel = area.str[:1].str.upper().isin(list("AEIOU"))
    return pd.Series(np.where(vowel, "an ", "a "), index=area.index) + area


def explain_emerging(
    cells: pd.DataFrame,
    *,
    period: str,
    column: str = "count",
    noun: tuple[str, str] = ("occurrence", "occurrences"),
    alpha: float = 0.05,
) -> pd.Series:
    """Explain each cell of an emerging hot spot table in one sentence.

    Parameters
    ----------
    cells : pandas.DataFrame
        ``EmergingOutput.cells`` (``category``, ``hot_periods``, ``cold_periods``,
        ``n_periods``, ``trend_z``, ``trend_p``, ``final_z`` and the value column).
    period : str, keyword-only
        "week", "month" or "quarter".
    column : {"count", "harm"}, keyword-only
        The value analysed.
    noun : (str, str), keyword-only
        Singular and plural of what was counted.
    alpha : float, keyword-only
        Significance level of the trend.

    Returns
    -------
    pandas.Series of str
    """
    needed = {"category", "hot_periods", "cold_periods", "n_periods", "trend_z",
              "trend_p", "final_z", column}
    missing = needed - set(cells.columns)
    if missing:
        raise ParameterError(
            f"cells must have the trend columns; missing {sorted(missing)}"
        )
    value = cells[column].astype(float)
    if column == "count":
        total = (
            value.astype(int).astype(str) + " "
            + pd.Series(np.where(value == 1, noun[0], noun[1]), index=cells.index)
        )
    else:
        total = "a harm of " + _fmt(value, 1)
    tz = cells["trend_z"].astype(float)
    tp = cells["trend_p"].astype(float)
    trend = pd.Series(
        np.select(
            [(tp < alpha) & (tz > 0), (tp < alpha) & (tz < 0)],
            ["a significant upward trend", "a significant downward trend"],
            "no significant trend",
        ),
        index=cells.index,
    )
    final = _fmt(cells["final_z"].astype(float), 1).where(
        cells["final_z"].notna(), "undefined"
    )
    category = cells["category"].astype(str)
    category = category.str[:1].str.upper() + category.str[1:]
    return (
        category + ": " + total + " here; hot in "
        + cells["hot_periods"].astype(str) + " and cold in "
        + cells["cold_periods"].astype(str) + " of " + cells["n_periods"].astype(str)
        + " " + period + "s; " + trend + " in its Gi* z-scores (Mann-Kendall z = "
        + _fmt(tz, 1) + ", " + _p_text(tp) + "); z in the last " + period + " = "
        + final + "."
    ).astype(str)

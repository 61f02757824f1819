"""Data-quality checks across a batch of accepted occurrences.

Each check flags rows (it never drops them): the flag names go into the
``quality_flags`` column, the findings into the ingest summary, and analyses leave
flagged rows out by default (``include_flagged=True`` keeps them).

Checks
------
``duplicate_id``
    The same ``occurrence_id`` more than once within a source: every copy after
    the first is flagged.
``implausible_month``
    A month whose category mix or volume differs from the other months of the
    same source. The mix is compared by the total variation distance between the
    month's category shares and the median shares of the other months,
    ``TVD = ½ Σ |p_i − q_i|``; a month is implausible when ``TVD > 0.15`` or its
    volume is outside 0.6–1.6 times the median of the others. Needs at least three
    months. (Across the nine clean-looking 2025 police.uk months TVD stays below
    0.05; the corrupt August 2025 file scores above 0.3.)
``piled_on_one_spot``
    At least ``max(25, 1% of the source's rows)`` occurrences on exactly the same
    point, among points resolved precisely (coordinates, full postcode or street).
    A default geocode (a police station, a town centroid) shows up this way.
    Police.uk snap points hold at most a few hundred of 126,000 rows and pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

MIX_TVD_LIMIT = 0.15
VOLUME_RATIO_LIMITS = (0.6, 1.6)
PILE_MIN_ROWS = 25
PILE_SHARE = 0.01
PRECISE_METHODS = frozenset(
    {
        "bng",
        "wgs84",
        "wgs84_swapped",
        "wgs84_in_bng_fields",
        "postcode_unit",
        "street",
    }
)


@dataclass(frozen=True)
class Finding:
    """One data-quality finding for the summary."""

    check: str
    source: str
    detail: str
    rows_flagged: int


def flagged(occurrences: pd.DataFrame) -> pd.Series:
    """Return True for rows with any data-quality flag (analyses leave them out).

    A frame without a ``quality_flags`` column has no flagged rows.
    """
    if "quality_flags" not in occurrences.columns:
        return pd.Series(False, index=occurrences.index)
    flags = occurrences["quality_flags"].astype("string").fillna("").str.strip()
    return flags != ""


def add_flag(flags: pd.Series, mask: pd.Series, name: str) -> pd.Series:
    """Return ``flags`` with ``name`` appended (``;``-separated) where ``mask``."""
    mask = mask.reindex(flags.index).fillna(False).astype(bool)
    current = flags.fillna("")
    joined = current.where(current == "", current + ";") + name
    return current.where(~mask, joined).replace("", pd.NA).astype("string")


def _category(frame: pd.DataFrame) -> pd.Series:
    return (
        frame["crime_type"]
        .fillna(frame["offence_code"])
        .fillna("unknown")
        .astype("string")
    )


def check_duplicates(frame: pd.DataFrame) -> tuple[pd.Series, list[Finding]]:
    """Flag repeated occurrence ids within a source (all copies after the first)."""
    dup = frame.duplicated(subset=["source", "occurrence_id"], keep="first")
    findings = []
    for source, n in frame.loc[dup, "source"].value_counts().items():
        examples = frame.loc[dup & (frame["source"] == source), "occurrence_id"]
        findings.append(
            Finding(
                "duplicate_id",
                str(source),
                f"{n} rows repeat an occurrence id already seen, e.g. "
                f"{', '.join(map(str, examples.head(3)))}",
                int(n),
            )
        )
    return dup, findings


def month_mix(frame: pd.DataFrame) -> pd.DataFrame:
    """Occurrences per month (rows) and category (columns) for one source."""
    month = frame["occurred_from"].dt.to_period("M").astype(str)
    return pd.crosstab(month, _category(frame))


def score_months(table: pd.DataFrame) -> pd.DataFrame:
    """Score each month of a month × category table against the other months.

    Returns
    -------
    DataFrame
        Indexed by month: ``rows``, ``volume_ratio`` (rows / median rows of the
        other months), ``mix_tvd`` and ``implausible``.
    """
    shares = table.div(table.sum(axis=1), axis=0)
    totals = table.sum(axis=1)
    out = []
    for month in table.index:
        others = table.index != month
        typical = shares[others].median(axis=0)
        typical = typical / typical.sum() if typical.sum() > 0 else typical
        tvd = 0.5 * float(np.abs(shares.loc[month] - typical).sum())
        ratio = float(totals[month] / totals[others].median())
        out.append((month, int(totals[month]), ratio, tvd))
    scores = pd.DataFrame(out, columns=["month", "rows", "volume_ratio", "mix_tvd"])
    scores = scores.set_index("month")
    low, high = VOLUME_RATIO_LIMITS
    scores["implausible"] = (scores["mix_tvd"] > MIX_TVD_LIMIT) | ~scores[
        "volume_ratio"
    ].between(low, high)
    return scores


def check_months(frame: pd.DataFrame) -> tuple[pd.Series, list[Finding]]:
    """Flag every row of a month whose volume or category mix is implausible."""
    flagged = pd.Series(False, index=frame.index)
    findings: list[Finding] = []
    for source, part in frame.groupby("source", sort=True):
        table = month_mix(part)
        if len(table) < 3:
            continue
        scores = score_months(table)
        month = part["occurred_from"].dt.to_period("M").astype(str)
        for bad, row in scores[scores["implausible"]].iterrows():
            mask = month == bad
            flagged.loc[mask[mask].index] = True
            findings.append(
                Finding(
                    "implausible_month",
                    str(source),
                    f"{bad}: {row['rows']} rows, {row['volume_ratio']:.2f} times "
                    f"the usual volume, category mix distance {row['mix_tvd']:.2f} "
                    f"from the other months (limit {MIX_TVD_LIMIT})",
                    int(mask.sum()),
                )
            )
            logger.warning("implausible month %s in %s", bad, source)
    return flagged, findings


def check_piles(
    frame: pd.DataFrame, x: pd.Series, y: pd.Series
) -> tuple[pd.Series, list[Finding]]:
    """Flag precise points shared by an implausible number of occurrences."""
    flagged = pd.Series(False, index=frame.index)
    findings: list[Finding] = []
    precise = frame["geocode_method"].isin(PRECISE_METHODS).fillna(False)
    for source, part in frame[precise].groupby("source", sort=True):
        n_source = int((frame["source"] == source).sum())
        limit = max(PILE_MIN_ROWS, int(np.ceil(PILE_SHARE * n_source)))
        spots = pd.DataFrame({"x": x[part.index].round(1), "y": y[part.index].round(1)})
        size = spots.groupby(["x", "y"])["x"].transform("size")
        heavy = spots.index[size >= limit]
        if len(heavy) == 0:
            continue
        flagged.loc[heavy] = True
        top = spots.loc[heavy].value_counts().head(3)
        where = "; ".join(f"({ex:.0f}, {ey:.0f}) x{n}" for (ex, ey), n in top.items())
        findings.append(
            Finding(
                "piled_on_one_spot",
                str(source),
                f"{len(heavy)} rows on points holding {limit} or more "
                f"occurrences: {where}",
                len(heavy),
            )
        )
    return flagged, findings

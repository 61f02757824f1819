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
    A month whose count in some of the categories actually ingested is far from
    that category's own level in the neighbouring months, in categories that
    together hold a large part of the month. For each category ``c`` and month
    ``m`` the baseline ``b`` is the median count of ``c`` in the (up to)
    :data:`NEIGHBOURS` nearest other months within :data:`MAX_GAP_MONTHS`
    (trend-aware: a rising series is compared with its recent level, not with
    the year's mix; a median resists one bad neighbour). A cell is anomalous when
    its ratio ``(x + 1) / (b + 1)`` is beyond :data:`RATIO_LIMIT` either
    way, its robust z ``(x − b) / √(b·(1 + π/(2k)) + (φ·b)²)`` (Poisson noise
    of the month and of the median of ``k`` neighbours, plus
    :data:`OVERDISPERSION` φ of month-to-month variation) is beyond
    :data:`Z_LIMIT`, and it is off by at least :data:`MIN_OFF_ROWS` rows. A
    month is implausible when its anomalous cells are off by at least
    :data:`OFF_SHARE_LIMIT` of the month's expected rows,
    ``Σ_anomalous |x − b| ≥ 0.2 · Σ_c b``. Comparing each category with itself
    means a store holding only some categories (robbery and weapons, one CSP, a
    serious-violence extract) is judged on those alone. Needs at least three
    months. On the 13 real police.uk months (Jan–Apr 2024, Jan–Sep 2025) only
    the corrupt August 2025 file is flagged (off share 0.47 in the full file,
    1.96 with robbery and weapons only; every other month 0); no real month is
    flagged in any one CSP, nor with only robbery and weapons in any CSP.
``missing_months``
    Calendar months with no rows between a source's first and last month (for
    police.uk, the May–Dec 2024 gap). Nothing is flagged: the months are
    reported so that trend views treat them as missing, not as zero.
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

#: Nearest other months forming a category's baseline, and how far they may be.
NEIGHBOURS = 4
MAX_GAP_MONTHS = 12
#: A cell is anomalous beyond this ratio either way and this robust z.
RATIO_LIMIT = 1.8
Z_LIMIT = 4.0
#: Month-to-month variation allowed on top of Poisson noise (coefficient).
OVERDISPERSION = 0.25
#: Share of a month's expected rows that anomalous cells must be off by.
OFF_SHARE_LIMIT = 0.2
#: An anomalous cell is off by at least this many rows (small counts are noise).
MIN_OFF_ROWS = 10
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
    if not mask.any() and not flags.eq("").any():
        return flags.astype("string")  # what the steps below return then, faster
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
    if frame["source"].nunique(dropna=False) == 1:  # one source: ids alone decide
        dup = frame["occurrence_id"].duplicated(keep="first")
    else:
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
    """Occurrences per month (rows, ``YYYY-MM``) and category (columns)."""
    return pd.crosstab(_month_text(frame["occurred_from"]), _category(frame))


def _month_text(when: pd.Series) -> pd.Series:
    """Return ``when.dt.to_period("M").astype(str)``, formatting each time once."""
    codes, uniques = pd.factorize(when, use_na_sentinel=False)
    text = pd.Series(uniques).dt.to_period("M").astype(str).take(codes)
    text.index = when.index
    return text.rename(when.name)


def _month_number(label: str) -> int:
    period = pd.Period(label, freq="M")
    return period.year * 12 + period.month - 1


def baselines(table: pd.DataFrame) -> pd.DataFrame:
    """Each cell's baseline: the median of its category in the nearest months.

    Parameters
    ----------
    table
        Counts, months (``YYYY-MM``) × categories, as from :func:`month_mix`.

    Returns
    -------
    DataFrame
        Same shape; NaN for a month with fewer than two neighbours within
        :data:`MAX_GAP_MONTHS`.
    """
    numbers = np.array([_month_number(str(m)) for m in table.index])
    values = table.to_numpy(dtype=float)
    out = np.full(values.shape, np.nan)
    for i, number in enumerate(numbers):
        distance = np.abs(numbers - number).astype(float)
        distance[i] = np.inf
        order = np.lexsort((numbers, distance))  # nearest first, earlier on ties
        near = [j for j in order[:NEIGHBOURS] if distance[j] <= MAX_GAP_MONTHS]
        if len(near) >= 2:
            out[i] = np.median(values[near], axis=0)
    return pd.DataFrame(out, index=table.index, columns=table.columns)


def score_months(table: pd.DataFrame) -> pd.DataFrame:
    """Score each month of a month × category table against its neighbours.

    Returns
    -------
    DataFrame
        Indexed by month: ``rows``, ``expected`` (sum of the baselines),
        ``off_share`` (rows off in anomalous cells / expected), ``worst``
        (the anomalous categories with count and baseline) and ``implausible``.
    """
    base = baselines(table)
    counts = table.astype(float)
    ratio = (counts + 1.0) / (base + 1.0)
    # Poisson noise of the month and of a median of NEIGHBOURS months, plus
    # ordinary month-to-month variation
    variance = base * (1.0 + np.pi / (2 * NEIGHBOURS)) + (OVERDISPERSION * base) ** 2
    z = (counts - base) / np.sqrt(variance.where(base > 0, 1.0))
    anomalous = (
        ((ratio >= RATIO_LIMIT) | (ratio <= 1.0 / RATIO_LIMIT))
        & (z.abs() >= Z_LIMIT)
        & ((counts - base).abs() >= MIN_OFF_ROWS)
    ).fillna(False)
    off = (counts - base).abs().where(anomalous, 0.0).sum(axis=1)
    expected = base.sum(axis=1, min_count=1)
    share = off / expected.where(expected > 0)
    worst = []
    for month in table.index:
        cells = anomalous.columns[anomalous.loc[month].to_numpy(dtype=bool)]
        gap = (counts.loc[month] - base.loc[month]).abs()
        ranked = sorted(cells, key=lambda c: -gap[c])
        worst.append("; ".join(
            f"{c} {int(counts.at[month, c])} against about {base.at[month, c]:.0f}"
            for c in ranked[:3]
        ))
    scores = pd.DataFrame(
        {
            "rows": table.sum(axis=1).astype(int),
            "expected": expected,
            "off_share": share.fillna(0.0),
            "worst": worst,
        },
        index=table.index,
    )
    scores.index.name = "month"
    scores["implausible"] = (scores["off_share"] >= OFF_SHARE_LIMIT) & base.notna().all(
        axis=1
    )
    return scores


def missing_months(months: pd.Series) -> list[str]:
    """Calendar months (``YYYY-MM``) absent between the first and the last."""
    present = sorted({str(m) for m in months.dropna()})
    if len(present) < 2:
        return []
    span = pd.period_range(present[0], present[-1], freq="M").astype(str)
    return [m for m in span if m not in set(present)]


def _spans(months: list[str]) -> str:
    """``2024-05..2024-12, 2025-03`` for a sorted list of months."""
    parts: list[list[str]] = []
    for month in months:
        if parts and _month_number(month) == _month_number(parts[-1][-1]) + 1:
            parts[-1].append(month)
        else:
            parts.append([month])
    return ", ".join(p[0] if len(p) == 1 else f"{p[0]}..{p[-1]}" for p in parts)


def check_months(frame: pd.DataFrame) -> tuple[pd.Series, list[Finding]]:
    """Flag every row of an implausible month; report missing months.

    Parameters
    ----------
    frame
        Accepted occurrences with ``source``, ``occurred_from`` and
        ``crime_type`` or ``offence_code``.

    Returns
    -------
    tuple
        True for rows of implausible months, and the findings (one per
        implausible month, one ``missing_months`` per source with gaps).
    """
    flagged = pd.Series(False, index=frame.index)
    findings: list[Finding] = []
    for source, part in frame.groupby("source", sort=True):
        month = part["occurred_from"].dt.to_period("M").astype(str)
        gaps = missing_months(month)
        if gaps:
            findings.append(
                Finding(
                    "missing_months",
                    str(source),
                    f"{len(gaps)} months with no rows between {month.min()} and "
                    f"{month.max()}: {_spans(gaps)}; treat them as missing, not zero",
                    0,
                )
            )
        table = month_mix(part)
        if len(table) < 3:
            continue
        scores = score_months(table)
        for bad, row in scores[scores["implausible"]].iterrows():
            mask = month == bad
            flagged.loc[mask[mask].index] = True
            findings.append(
                Finding(
                    "implausible_month",
                    str(source),
                    f"{bad}: {row['rows']} rows; counts far from the same category "
                    f"in the neighbouring months ({row['worst']}), off by "
                    f"{row['off_share']:.2f} of the month's expected "
                    f"{row['expected']:.0f} rows (limit {OFF_SHARE_LIMIT})",
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

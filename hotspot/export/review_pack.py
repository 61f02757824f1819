"""The league table for partners and the briefing pack of every CSP.

:func:`partner_table` puts the league table (:mod:`hotspot.context.review`)
through disclosure control:

- its counts (occurrences, the counts of each comparison, the occurrences with a
  time, the fires) go through :func:`hotspot.export.disclosure.apply_rules`: 1
  to ``min_count - 1`` suppressed, the rest rounded;
- every rate, interval, change and index is **recomputed from the published
  counts**: a rate times the residents gives back its count, so a rate of a
  true count would undo the rounding (and a rate of a suppressed count would
  give the count itself). Residents are public (Census 2021);
- a share (concentration, IMD deciles 1–2, night-time, fire and violence hot
  cells) implies a count inside the CSP: it is withheld when that count or the
  rest of the CSP's count is 1 to ``min_count - 1``, and otherwise shown to the
  nearest 5 percentage points, as text;
- p-values are not shipped (statistics); the reading says only the verdict of
  the test on the true counts (up or down, more than chance; or no clear
  change): a test of rounded counts could claim a change the data do not
  support, and the verdict is one of three words, not a count;
- in a row where any count is suppressed every derived value is empty.

:func:`write_pack` writes a zip with that table (CSV and its metadata), a
README of the definitions and one briefing PDF per CSP
(:func:`hotspot.export.bundle.export`, which applies disclosure control and
the checker to each).
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotspot.context.review import (
    CHANGE_ALPHA,
    COLUMNS,
    LeagueTable,
    poisson_interval,
)
from hotspot.export.disclosure import (
    DEFAULT_RULES,
    DisclosureError,
    DisclosureRules,
    apply_rules,
    at_floor,
)

logger = logging.getLogger(__name__)

#: Count columns of the league table (residents are published as population).
COUNT_COLUMNS: tuple[str, ...] = ("occurrences", "previous_now", "previous_then",
                                  "year_now", "year_then", "timed", "fires")
#: Share columns → (the count it is a share of, the partner column).
SHARES: dict[str, tuple[str, str]] = {
    "top5_share": ("occurrences", "share_in_top_5pct_cells"),
    "imd_1_2_share": ("occurrences", "share_in_imd_deciles_1_2"),
    "night_share": ("timed", "night_share_20_04_synthetic"),
    "share_hot_both": ("occurrences", "share_in_fire_violence_hot_cells"),
}
#: Sections of each CSP's briefing (no density surface: the PDF draws none).
#: Not "fires": the league table carries the fire comparison (SYNTHETIC fires),
#: and the co-location page would double each briefing's time. (The leak found
#: while building the pack, ``hot_both`` shown beside a withheld ``violence_bin``,
#: is closed in ``disclosure.apply_rules``; the fire summary counts withheld
#: classes apart.)
BRIEFING_SECTIONS: tuple[str, ...] = ("gistar", "csp", "wards", "imd", "tables")
#: Explanation of the partner table's columns (README and CSV metadata).
PARTNER_COLUMNS: dict[str, str] = {
    "occurrences": COLUMNS["occurrences"][1],
    "population": COLUMNS["residents"][1] + " (public)",
    "rate_per_1000": "published occurrences per 1,000 residents over the period "
    "(not annualised)",
    "rate_low, rate_high": "exact Poisson (Garwood) 95% interval of the rate, from "
    "the published count",
    "sparse": COLUMNS["sparse"][1],
    "previous_now, previous_then, previous_reading": "occurrences now and in the "
    "previous period of equal length on the sources present in every month of "
    "both, and whether the change is more than chance (conditional binomial test "
    "of the true counts, p < 0.05; the verdict only)",
    "year_now, year_then, year_reading": "the same against the same months a "
    "year earlier",
    "share_in_top_5pct_cells": COLUMNS["top5_share"][1],
    "share_in_imd_deciles_1_2": COLUMNS["imd_1_2_share"][1],
    "residents_in_imd_deciles_1_2": COLUMNS["residents_imd_1_2_share"][1],
    "timed": COLUMNS["timed"][1],
    "night_share_20_04_synthetic": COLUMNS["night_share"][1],
    "fires": COLUMNS["fires"][1],
    "fire_index": COLUMNS["fire_index"][1] + ", from the published counts",
    "share_in_fire_violence_hot_cells": COLUMNS["share_hot_both"][1],
}


def _percent(value: float) -> str:
    return f"{5 * round(100 * value / 5):.0f}%"


def partner_table(league: LeagueTable, *,
                  rules: DisclosureRules = DEFAULT_RULES) -> pd.DataFrame:
    """Return the league table as partners may receive it (module docstring).

    Parameters
    ----------
    league : LeagueTable
        From :func:`hotspot.context.review.league_table` (true counts). Not
        modified.
    rules : DisclosureRules, keyword-only
        The rules; the deployment floor is applied.

    Returns
    -------
    pandas.DataFrame
        ``csp_code``, ``csp_name``, ``period``, the published counts, the rates
        and readings made from them, shares as text, ``population``.

    Raises
    ------
    DisclosureError
        When the result does not pass the table checker (never expected).
    """
    from hotspot.export.checks import check_frame

    rules = at_floor(rules)
    true = league.table
    counts = pd.DataFrame({c: true[c] for c in COUNT_COLUMNS})
    published, _ = apply_rules(counts, rules=rules, name="league_table",
                               declared_counts=COUNT_COLUMNS)
    shown = {c: pd.to_numeric(published[c], errors="coerce").astype(float)
             for c in COUNT_COLUMNS}
    raw = {c: pd.to_numeric(true[c], errors="coerce").astype(float)
           for c in COUNT_COLUMNS}
    hidden = np.zeros(len(true), dtype=bool)
    for c in COUNT_COLUMNS:
        hidden |= (shown[c].isna() & raw[c].fillna(0).gt(0)).to_numpy()
    out = pd.DataFrame({"csp_code": true["csp_code"], "csp_name": true["csp_name"],
                        "period": f"{league.start} to {league.end}"})
    population = true["residents"].astype(float)
    n = shown["occurrences"]
    out["occurrences"] = published["occurrences"]
    out["population"] = true["residents"].astype("int64")
    out["rate_per_1000"] = (1000 * n / population).round(2)
    bounds = [poisson_interval(int(v)) if np.isfinite(v) else (np.nan, np.nan)
              for v in n]
    out["rate_low"] = (1000 * pd.Series([b[0] for b in bounds]) / population).round(2)
    out["rate_high"] = (1000 * pd.Series([b[1] for b in bounds])
                        / population).round(2)
    out["sparse"] = true["sparse"].map({True: "yes", False: "no"})
    for name in ("previous", "year"):
        now, then = shown[f"{name}_now"], shown[f"{name}_then"]
        out[f"{name}_now"] = published[f"{name}_now"]
        out[f"{name}_then"] = published[f"{name}_then"]
        texts = []
        for a, b, p, given in zip(now, then, true[f"{name}_p"],
                                  true[f"{name}_reading"], strict=True):
            if np.isfinite(a) and np.isfinite(b):
                texts.append(verdict(float(p), up=a > b))
            elif str(given).startswith(("not covered", "not comparable")):
                texts.append(str(given))
            else:
                texts.append("")
        out[f"{name}_reading"] = texts
    for column, (base, target) in SHARES.items():
        out[target] = _shares(true[column], raw[base], rules.min_count)
    out["residents_in_imd_deciles_1_2"] = [
        "" if not np.isfinite(v) else _percent(v)
        for v in true["residents_imd_1_2_share"].astype(float)]
    out["timed"] = published["timed"]
    out["fires"] = published["fires"]
    hips = true["csp_code"] == "HIPS"
    v_all, f_all = float(n[hips].sum()), float(shown["fires"][hips].sum())
    p_all = float(population[hips].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.sqrt((n / population) / (v_all / p_all)
                        * (shown["fires"] / population) / (f_all / p_all))
    out["fire_index"] = index.where(np.isfinite(index)).round(2)
    _blank(out, hidden)
    order = ["csp_code", "csp_name", "period", "occurrences", "population",
             "rate_per_1000", "rate_low", "rate_high", "sparse", "previous_now",
             "previous_then", "previous_reading", "year_now", "year_then",
             "year_reading", "share_in_top_5pct_cells", "share_in_imd_deciles_1_2",
             "residents_in_imd_deciles_1_2", "timed", "night_share_20_04_synthetic",
             "fires", "fire_index", "share_in_fire_violence_hot_cells"]
    # a comparison not covered (or no fires) has no counts at all: left out,
    # its reading says why (an empty count column would read as suppressed)
    absent = [c for c in COUNT_COLUMNS if raw[c].isna().all()]
    out = out[[c for c in order if c not in absent]]
    found = check_frame(out, rules=rules, name="league_table",
                        declared_counts=COUNT_COLUMNS)
    if found:
        raise DisclosureError("league_table", found)
    return out


def verdict(p: float, *, up: bool) -> str:
    """Say the true test's verdict without its p or the counts behind it."""
    if not np.isfinite(p):
        return "no occurrences in either period"
    if p < CHANGE_ALPHA:
        return ("up" if up else "down") + ", more than chance (p < 0.05)"
    return "no clear change (p >= 0.05)"


def _shares(values: pd.Series, base: pd.Series, min_count: int) -> list[str]:
    """Shares as text to 5 points; empty when the part or the rest is small."""
    out = []
    for share, total in zip(values.astype(float), base, strict=True):
        if not (np.isfinite(share) and np.isfinite(total)) or total <= 0:
            out.append("")
            continue
        part = round(share * total)
        rest = total - part
        small = (0 < part < min_count) or (0 < rest < min_count)
        out.append("" if small else _percent(share))
    return out


def _blank(out: pd.DataFrame, hidden: np.ndarray) -> None:
    """Empty every derived value of the rows with a suppressed count."""
    if not hidden.any():
        return
    for col in ("rate_per_1000", "rate_low", "rate_high", "fire_index"):
        out.loc[hidden, col] = np.nan
    for col in ("previous_reading", "year_reading", *(t for _, t in SHARES.values())):
        out.loc[hidden, col] = ""


def readme_text(league: LeagueTable, *, partner: bool) -> str:
    """Return the README of a review: period, comparisons, notes, definitions."""
    lines = ["Serious violence: CSP review (league table)",
             f"Period: {league.start} to {league.end} (whole months)"]
    if league.synthetic:
        lines.insert(0, "SYNTHETIC data: generated, not real police records.")
    lines += ["", *league.notes, "", "Definitions"]
    if partner:
        lines += [f"- {name}: {text}" for name, text in PARTNER_COLUMNS.items()]
        lines += ["", "Disclosure control: counts below the threshold are "
                  "suppressed and the others rounded; rates, intervals "
                  "and the fire index are computed from the published counts; "
                  "shares are to the nearest 5 points and withheld where they "
                  "would imply a small count; a row with a suppressed count shows "
                  "no derived value; no p-values."]
    else:
        lines += [f"- {label} ({name}): {text}"
                  for name, (label, text) in COLUMNS.items()]
    lines += ["", "A change is 'more than chance' when the conditional binomial "
              "test of the two counts gives p < 0.05 (equal-length periods, the "
              "same residents). Rates are per 1,000 usual residents over the "
              "period, not annualised. The HIPS row is over all of HIPS."]
    return "\n".join(lines) + "\n"


def write_partner_csv(league: LeagueTable, folder: Path, *,
                      rules: DisclosureRules = DEFAULT_RULES) -> list[Path]:
    """Write the partner table as CSV with its metadata, checked by the checker."""
    from hotspot.export.bundle import ExportBundle, ExportMetadata
    from hotspot.export.checker import check_file
    from hotspot.export.files import write_csv

    rules = at_floor(rules)
    table = partner_table(league, rules=rules)
    meta = ExportMetadata(
        title="Serious violence: CSP league table",
        period=f"{league.start} to {league.end}", synthetic=league.synthetic,
        parameters={"resolution": league.view.resolution,
                    "grouping": league.view.grouping},
        disclosure={"rules": rules.to_dict()})
    written = write_csv(ExportBundle(layers={"league_table": table}, metadata=meta),
                        folder)
    for path in written:
        if path.suffix == ".csv":
            found = check_file(path, rules=rules)
            if found:
                raise DisclosureError(path, found)
    return written


def write_pack(
    league: LeagueTable,
    occurrences: Any,
    *,
    store: Path,
    fires: Path | None = None,
    rules: DisclosureRules = DEFAULT_RULES,
    log_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> bytes:
    """Return a zip: the partner league table, its README, a briefing per CSP.

    Parameters
    ----------
    league : LeagueTable
        The review (its view gives the period, categories, flags, grouping).
    occurrences : geopandas.GeoDataFrame
        The store's rows (loaded once for every briefing).
    store : pathlib.Path, keyword-only
        The store's folder (named in the briefings' view).
    fires : pathlib.Path, optional, keyword-only
        Fire incidents for page 3 of the briefings.
    rules : DisclosureRules, keyword-only
        Disclosure rules (never below the floor).
    log_dir : pathlib.Path, optional, keyword-only
        Export log folder.
    progress : callable, optional, keyword-only
        Called with each CSP's name as its briefing starts.
    """
    from hotspot.boundaries import load_csps
    from hotspot.export.build import build_bundle
    from hotspot.export.bundle import export
    from hotspot.view_file import ViewFile

    rules = at_floor(rules)
    view = league.view
    sections = BRIEFING_SECTIONS
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="hotspot-pack-") as tmp, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        folder = Path(tmp)
        for path in write_partner_csv(league, folder, rules=rules):
            archive.write(path, arcname=path.name)
        archive.writestr("README.txt", readme_text(league, partner=True))
        csps = load_csps(grouping=view.settings().grouping)
        for code, name in zip(csps["csp_code"], csps["csp_name"], strict=True):
            if progress is not None:
                progress(str(name))
            spec = ViewFile(path=folder / "view.toml", store=store,
                            view=replace(view, csp=ALL), csp=str(code),
                            sections=sections, fires=fires)
            bundle = build_bundle(spec, csp=str(code), occurrences=occurrences)
            stem = re.sub(r"[^A-Za-z0-9]+", "_", str(name)).strip("_")
            target = folder / f"briefing_{stem}.pdf"
            export(bundle, fmt="pdf", out=target, rules=rules, log_dir=log_dir,
                   csp=str(name), delivered_as="review pack")
            archive.write(target, arcname=f"briefings/{target.name}")
    logger.info("briefing pack: %d CSPs", len(csps))
    return buffer.getvalue()


ALL = "all"

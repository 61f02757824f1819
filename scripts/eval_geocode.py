"""Held-out style evaluation of free-text geocoding on police.uk months 2024-01..04.

The gazetteer (``data/gazetteer/``) is built from the police.uk months January to
September 2025 only. This script takes the January–April 2024 months, which were
not used, and geocodes each row's ``Location`` text ("On or near Sillens Lane")
with its district as the hint ("On or near Sillens Lane, New Forest"), as an
analyst's free-text extract would read. The truth is the row's own police.uk
coordinate (a snap point).

Each row is scored as one of:

- ``right``: placed as a point precise enough to map (precision finer than
  ``place``; see :mod:`hotspot.geocode.precision`) within :data:`RIGHT_M` of the
  truth;
- ``wrong``: placed as such a point farther than :data:`RIGHT_M` from the truth;
- ``area only``: located only to a place or district (never mapped; counted in a
  district total), with ``area right`` saying whether that district is the truth's;
- ``rejected``: no location, with the reason (ambiguous candidates named, street
  not in the district, premises-type label, ...).

Three views are reported: every row, each distinct (text, snap point) once, and
the strictly held-out rows whose snap point does not occur in January–September
2025 at all. Run from the repository root::

    .venv/bin/python scripts/eval_geocode.py [--shared DIR] [--sample N] [--seed S]
        [--markdown]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from hotspot.boundaries import HIPS_LADS
from hotspot.crs import lonlat_to_bng
from hotspot.errors import InputFileError
from hotspot.geocode import NON_STREET_LOCATIONS, Gazetteer, geocode, load_gazetteer
from hotspot.geocode.precision import MAPPABLE_PRECISIONS
from hotspot.settings import SHARED_DATA_DIR

log = logging.getLogger("eval_geocode")

#: A placed point within this distance (m) of the truth is right.
RIGHT_M = 750.0
#: Outcome labels in report order.
OUTCOMES: tuple[str, ...] = ("right", "wrong", "area only", "rejected")


def read_held_out(shared: Path) -> pd.DataFrame:
    """Read the 2024 police.uk months as evaluation cases.

    Parameters
    ----------
    shared : pathlib.Path
        The shared data folder (holding ``police_uk_2024/``).

    Returns
    -------
    pandas.DataFrame
        One row per police.uk record in a HIPS district: ``month``, ``street``
        (the ``Location`` text without "On or near"), ``district`` (LAD name),
        ``lad_code``, ``location_text`` (``"On or near X, District"``), and the
        truth ``true_x``, ``true_y`` (BNG, m).
    """
    files = sorted((shared / "police_uk_2024").glob("2024-*-street.csv"))
    if not files:
        raise InputFileError(shared / "police_uk_2024", "no 2024-*-street.csv files")
    frames = [
        pd.read_csv(
            p,
            usecols=["Month", "Longitude", "Latitude", "Location", "LSOA name"],
            dtype={"Month": "string", "Location": "string", "LSOA name": "string"},
        )
        for p in files
    ]
    raw = pd.concat(frames, ignore_index=True).dropna()
    district = raw["LSOA name"].str.replace(r"\s+\d{3}[A-Z]$", "", regex=True)
    code_by_name = {name: code for code, name in HIPS_LADS.items()}
    lad = district.map(code_by_name)
    raw = raw.assign(district=district, lad_code=lad)[lad.notna()]
    x, y = lonlat_to_bng(
        raw["Longitude"].to_numpy(dtype=float), raw["Latitude"].to_numpy(dtype=float)
    )
    out = pd.DataFrame(
        {
            "month": raw["Month"].to_numpy(),
            "street": raw["Location"]
            .str.replace(r"^On or near\s+", "", regex=True)
            .to_numpy(),
            "district": raw["district"].to_numpy(),
            "lad_code": raw["lad_code"].to_numpy(),
            "location_text": (raw["Location"] + ", " + raw["district"]).to_numpy(),
            "true_x": np.round(x, 1),
            "true_y": np.round(y, 1),
        }
    )
    log.info("held-out cases: %d rows from %d files", len(out), len(files))
    return out


def score(cases: pd.DataFrame, *, gazetteer: Gazetteer) -> pd.DataFrame:
    """Geocode the cases' text and score each row.

    Parameters
    ----------
    cases : pandas.DataFrame
        As returned by :func:`read_held_out` (``location_text``, ``lad_code``,
        ``true_x``, ``true_y``).
    gazetteer : Gazetteer
        The gazetteer to match against.

    Returns
    -------
    pandas.DataFrame
        ``cases`` with the geocoder's columns and ``error_m`` (distance from the
        truth, m; NaN when not placed), ``outcome`` (one of :data:`OUTCOMES`) and
        ``area_right`` (the located district is the truth's; NA unless
        ``area only``).
    """
    result = geocode(cases[["location_text"]], gazetteer=gazetteer)
    out = pd.concat([cases, result], axis=1)
    err = np.hypot(out["x"] - out["true_x"], out["y"] - out["true_y"])
    out["error_m"] = err
    precision = out["geocode_precision"].astype(object)
    mappable = precision.isin(MAPPABLE_PRECISIONS).to_numpy()
    located = out["x"].notna().to_numpy()
    outcome = np.where(
        mappable & (err <= RIGHT_M),
        "right",
        np.where(mappable, "wrong", np.where(located, "area only", "rejected")),
    )
    out["outcome"] = outcome
    area_known = out["geocode_lad_code"].astype(object)
    out["area_right"] = pd.array(
        np.where(
            outcome == "area only", (area_known == out["lad_code"]).to_numpy(), None
        ),
        dtype="boolean",
    )
    return out


def table(scored: pd.DataFrame) -> pd.DataFrame:
    """Right / wrong / area only / rejected counts and shares (%) per view.

    Views: street-name rows (every row; each distinct text and snap point once;
    the strict subset whose snap point is not among the 2025 points), then the
    police.uk premises-type labels ("On or near Supermarket"), which name no
    street and are reported on their own.
    """
    premises = scored["premises"].to_numpy(dtype=bool)
    streets = scored[~premises]
    views = {
        "street names, every row": streets,
        "street names, distinct text and point": streets.drop_duplicates(
            ["location_text", "true_x", "true_y"]
        ),
        "street names, snap point not in 2025 (strict)": streets[
            ~streets["seen_2025"].to_numpy(dtype=bool)
        ],
        "premises-type labels, every row": scored[premises],
    }
    rows = []
    for name, part in views.items():
        counts = part["outcome"].value_counts().reindex(OUTCOMES, fill_value=0)
        n = int(counts.sum())
        row: dict[str, object] = {"cases": name, "n": n}
        for label in OUTCOMES:
            row[label] = int(counts[label])
            row[f"{label} %"] = round(100 * counts[label] / n, 1) if n else np.nan
        area = part.loc[part["outcome"] == "area only", "area_right"]
        row["area only: district right %"] = (
            round(100 * float(area.mean()), 1) if len(area) else np.nan
        )
        rows.append(row)
    return pd.DataFrame(rows)


def reasons(scored: pd.DataFrame) -> pd.DataFrame:
    """Why street-name rows were not placed: the kind of reason, counted.

    The kind is read from the reason's wording: ``ambiguous street`` (several
    same-named streets in the district, candidates named), ``street not in the
    gazetteer`` (similar names shown, not used), ``street elsewhere`` (the name
    exists only outside the named district), ``premises-type label``, other.
    """
    part = scored[~scored["premises"].to_numpy(dtype=bool)]
    part = part[part["outcome"].isin(["area only", "rejected"])]
    text = part["geocode_note"].fillna(part["reject_reason"]).astype(str)
    kind = np.select(
        [
            text.str.contains("ambiguous street"),
            text.str.contains("not in the gazetteer"),
            text.str.contains(r"no street '.*'.*; found at", regex=True),
            text.str.contains("premises-type"),
            text.str.contains("street too long"),
            text.str.contains("only a place named"),
        ],
        [
            "ambiguous street (candidates named)",
            "street not in the gazetteer for the district",
            "street only outside the named district",
            "premises-type label",
            "street too long to place within 750 m",
            "only a place named",
        ],
        default="other",
    )
    table = pd.DataFrame({"outcome": part["outcome"].to_numpy(), "reason": kind})
    return table.value_counts().rename("rows").reset_index()


def mark_seen(cases: pd.DataFrame, shared: Path) -> pd.DataFrame:
    """Add ``seen_2025`` (the snap point occurs in Jan–Sep 2025) and ``premises``.

    ``premises`` marks police.uk premises-type labels (``Supermarket``, ...),
    which name no street.
    """
    path = (
        shared
        / "streets"
        / "police_uk_snap_points_hips_2025-01_09"
        / "DERIVED_police_uk_snap_points_hips.csv"
    )
    if not path.exists():
        raise InputFileError(path, "missing; is --shared pointing at the shared data?")
    pts = pd.read_csv(path, usecols=["Longitude", "Latitude"])
    x, y = lonlat_to_bng(pts["Longitude"].to_numpy(), pts["Latitude"].to_numpy())
    seen = set(zip(np.round(x, 1), np.round(y, 1), strict=True))
    keys = zip(cases["true_x"], cases["true_y"], strict=True)
    return cases.assign(
        seen_2025=[k in seen for k in keys],
        premises=cases["street"].isin(NON_STREET_LOCATIONS).to_numpy(),
    )


def to_markdown(frame: pd.DataFrame) -> str:
    """Render a small table as GitHub markdown (no extra dependency)."""
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = (
        "|"
        + "|".join(
            "---:" if pd.api.types.is_numeric_dtype(frame[c]) else "---"
            for c in frame.columns
        )
        + "|"
    )
    body = [
        "| "
        + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row)
        + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *body])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=SHARED_DATA_DIR)
    parser.add_argument("--sample", type=int, default=0, help="rows (0 = all)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--wrong", type=int, default=0, help="print N wrong rows")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    cases = mark_seen(read_held_out(args.shared), args.shared)
    if args.sample:
        cases = cases.sample(n=args.sample, random_state=args.seed)
    cases = cases.reset_index(drop=True)
    scored = score(cases, gazetteer=load_gazetteer())
    result = table(scored)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    if args.markdown:
        sys.stdout.write(to_markdown(result) + "\n\n")
        sys.stdout.write(to_markdown(reasons(scored)) + "\n")
    else:
        sys.stdout.write(result.to_string(index=False) + "\n\n")
        sys.stdout.write(reasons(scored).to_string(index=False) + "\n")
    if args.wrong:
        wrong = scored[scored["outcome"] == "wrong"].sample(
            n=min(args.wrong, int((scored["outcome"] == "wrong").sum())),
            random_state=args.seed,
        )
        cols = ["location_text", "geocode_method", "geocode_uncertainty_m", "error_m"]
        sys.stdout.write(wrong[cols].to_string() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

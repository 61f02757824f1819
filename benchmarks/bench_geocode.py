"""Benchmark :func:`hotspot.geocode.geocode` on N mixed rows (default 1,000,000).

Rows are generated from the gazetteer itself (seeded): BNG grid references (some
swapped, some WGS84 typed into BNG fields), WGS84 coordinates (some swapped),
postcodes with messy case and spacing (units, sectors, districts, unknown and
malformed), free location text drawn from a pool of a few thousand strings, Null
Island and empty rows, and police.uk rows on snap points (``source`` police_uk,
precision ``snap_point`` with a catchment lookup). The whole frame is geocoded
once (timed), then each input kind on its own, and a naive per-row loop (pyproj
per point, dict per postcode, rapidfuzz per text without a cache) runs on a small
subset as the baseline.

Usage::

    .venv/bin/python benchmarks/bench_geocode.py [--rows 1000000] [--baseline 3000]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

import numpy as np
import pandas as pd
from pyproj import Transformer
from rapidfuzz import fuzz, process

from hotspot.crs import bng_to_lonlat
from hotspot.geocode import Gazetteer, geocode, load_gazetteer, normalise_text

log = logging.getLogger("bench_geocode")

#: Share of rows of each input kind.
MIX: dict[str, float] = {
    "bng": 0.28,
    "bng_swapped": 0.02,
    "wgs84_in_bng_fields": 0.02,
    "wgs84": 0.20,
    "police_uk": 0.05,
    "wgs84_swapped": 0.03,
    "postcode": 0.25,
    "location_text": 0.13,
    "null_island": 0.01,
    "empty": 0.01,
}
TEXT_POOL = 5000


def _messy_postcode(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = codes.astype(object).copy()
    style = rng.integers(0, 4, size=len(out))
    for i in np.flatnonzero(style == 1):
        out[i] = out[i].lower()
    for i in np.flatnonzero(style == 2):
        out[i] = out[i].replace(" ", "")
    for i in np.flatnonzero(style == 3):
        out[i] = out[i].replace(" ", "  ").lower()
    return out


def make_rows(n: int, gaz: Gazetteer, *, seed: int = 20251121) -> pd.DataFrame:
    """Return ``n`` mixed location rows and their input ``kind``."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(MIX), size=n, p=np.array(list(MIX.values())))
    frame = pd.DataFrame(
        {
            "easting": np.full(n, np.nan),
            "northing": np.full(n, np.nan),
            "latitude": np.full(n, np.nan),
            "longitude": np.full(n, np.nan),
            "postcode": pd.array([pd.NA] * n, dtype="string"),
            "location_text": pd.array([pd.NA] * n, dtype="string"),
            "kind": kinds,
            "source": np.where(kinds == "police_uk", "police_uk", "records"),
        }
    )
    pc = gaz.postcodes
    pick = rng.integers(0, len(pc), size=n)
    e = pc["easting"].to_numpy()[pick] + rng.normal(0, 30, n)
    nn = pc["northing"].to_numpy()[pick] + rng.normal(0, 30, n)
    lon, lat = bng_to_lonlat(e, nn)
    k = frame["kind"].to_numpy()

    def put(kind: str, col: str, values: np.ndarray) -> None:
        m = k == kind
        frame.loc[m, col] = values[m]

    put("bng", "easting", e)
    put("bng", "northing", nn)
    put("bng_swapped", "easting", nn)
    put("bng_swapped", "northing", e)
    put("wgs84_in_bng_fields", "easting", lon.round(6))
    put("wgs84_in_bng_fields", "northing", lat.round(6))
    put("wgs84", "latitude", lat.round(6))
    put("wgs84", "longitude", lon.round(6))
    # police.uk rows sit on snap points (precision snap_point, catchment lookup)
    snap = gaz.snap_points
    if snap is not None and len(snap):
        s_pick = rng.integers(0, len(snap), size=n)
        s_lon, s_lat = bng_to_lonlat(
            snap["x"].to_numpy()[s_pick], snap["y"].to_numpy()[s_pick]
        )
        put("police_uk", "latitude", s_lat.round(6))
        put("police_uk", "longitude", s_lon.round(6))
    else:
        put("police_uk", "latitude", lat.round(6))
        put("police_uk", "longitude", lon.round(6))
    put("wgs84_swapped", "latitude", lon.round(6))
    put("wgs84_swapped", "longitude", lat.round(6))
    m = k == "null_island"
    frame.loc[m, ["latitude", "longitude"]] = 0.0

    m = np.flatnonzero(k == "postcode")
    units = pc["postcode"].to_numpy(dtype=object)[pick[m]]
    which = rng.random(len(m))
    codes = units.copy()
    sector = which < 0.05
    codes[sector] = [u[:-2] for u in units[sector]]
    district = (which >= 0.05) & (which < 0.08)
    codes[district] = [u.split(" ")[0] for u in units[district]]
    unknown = (which >= 0.08) & (which < 0.10)
    codes[unknown] = [f"ZZ{i % 90 + 1} 9ZZ" for i in range(int(unknown.sum()))]
    malformed = (which >= 0.10) & (which < 0.11)
    codes[malformed] = "NOT A POSTCODE"
    frame.loc[m, "postcode"] = _messy_postcode(codes, rng)

    streets = gaz.streets
    s_pick = rng.integers(0, len(streets), size=TEXT_POOL)
    names = streets["street"].to_numpy(dtype=object)[s_pick]
    towns = streets["town"].to_numpy(dtype=object)[s_pick]
    lads = streets["lad_name"].to_numpy(dtype=object)[s_pick]
    style = rng.integers(0, 5, size=TEXT_POOL)
    pool = np.empty(TEXT_POOL, dtype=object)
    for i in range(TEXT_POOL):
        abbrev = names[i].replace(" Road", " Rd").replace(" Street", " St")
        pool[i] = [
            f"{names[i]}, {towns[i]}",
            f"outside the shop, {abbrev}, {lads[i]}",
            f"{abbrev.upper()}",
            f"{towns[i]}",
            f"qwx{i} zzv",
        ][style[i]]
    m = np.flatnonzero(k == "location_text")
    frame.loc[m, "location_text"] = pool[rng.integers(0, TEXT_POOL, size=len(m))]
    return frame


def naive_rate(frame: pd.DataFrame, gaz: Gazetteer) -> dict[str, float]:
    """Rows per second of a naive per-row loop, per input kind."""
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    units = dict(
        zip(
            gaz.postcodes["postcode"],
            zip(gaz.postcodes["easting"], gaz.postcodes["northing"], strict=True),
            strict=True,
        )
    )
    names = gaz.streets["street_norm"].tolist()
    rates: dict[str, float] = {}
    groups = {
        "coordinates (WGS84)": frame[frame["kind"] == "wgs84"],
        "postcode": frame[frame["kind"] == "postcode"],
        "location_text": frame[frame["kind"] == "location_text"],
    }
    for label, rows in groups.items():
        t = time.perf_counter()
        for rec in rows.itertuples(index=False):
            if label.startswith("coordinates"):
                to_bng.transform(rec.longitude, rec.latitude)
            elif label == "postcode":
                raw = str(rec.postcode).upper().replace(" ", "")
                units.get(f"{raw[:-3]} {raw[-3:]}")
            else:
                process.extractOne(
                    normalise_text(str(rec.location_text)),
                    names,
                    scorer=fuzz.token_sort_ratio,
                )
        rates[label] = len(rows) / (time.perf_counter() - t)
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20251121)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("hotspot").setLevel(logging.WARNING)

    gaz = load_gazetteer()
    t = time.perf_counter()
    frame = make_rows(args.rows, gaz, seed=args.seed)
    log.info("generated %d rows in %.1f s", len(frame), time.perf_counter() - t)

    gaz._matcher = None  # cold text cache for the timed run
    t = time.perf_counter()
    result = geocode(frame, gazetteer=gaz)
    total_s = time.perf_counter() - t
    n_ok = int(result["geocode_method"].notna().sum())
    n_rej = int(result["reject_reason"].notna().sum())
    if n_ok + n_rej != len(frame):
        raise RuntimeError(f"counts do not reconcile: {n_ok} + {n_rej} != {len(frame)}")
    log.info(
        "all %d rows: %.2f s, %.0f rows/s (%d resolved, %d rejected)",
        len(frame),
        total_s,
        len(frame) / total_s,
        n_ok,
        n_rej,
    )
    log.info(
        "methods: %s",
        result["geocode_method"].fillna("(rejected)").value_counts().to_dict(),
    )
    log.info(
        "precisions: %s",
        result["geocode_precision"].fillna("(rejected)").value_counts().to_dict(),
    )

    per_kind: list[tuple[str, int, float, float]] = []
    for kind in MIX:
        sub = frame[frame["kind"] == kind]
        gaz._matcher = None
        t = time.perf_counter()
        res = geocode(sub, gazetteer=gaz)
        dt = time.perf_counter() - t
        share = float(res["geocode_method"].notna().mean()) if len(sub) else 0.0
        per_kind.append((kind, len(sub), dt, share))
        log.info(
            "%-20s %8d rows %6.2f s %10.0f rows/s resolved %.1f%%",
            kind,
            len(sub),
            dt,
            len(sub) / dt,
            100 * share,
        )

    base = frame.groupby("kind", group_keys=False).head(args.baseline)
    naive = naive_rate(base, gaz)
    for label, rate in naive.items():
        log.info("naive per-row loop, %s: %.0f rows/s", label, rate)

    vec = {k: n / dt for k, n, dt, _ in per_kind}
    print()
    print(
        f"Geocoding benchmark: {len(frame):,} mixed rows, "
        f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}"
    )
    print()
    print("| input kind | rows | seconds | rows/s | resolved |")
    print("|---|---:|---:|---:|---:|")
    for kind, n, dt, share in per_kind:
        print(f"| {kind} | {n:,} | {dt:.2f} | {n / dt:,.0f} | {100 * share:.1f}% |")
    print(
        f"| **all, mixed** | {len(frame):,} | {total_s:.2f} | "
        f"{len(frame) / total_s:,.0f} | {100 * n_ok / len(frame):.1f}% |"
    )
    print()
    print(
        "| baseline (naive per-row loop) | rows/s naive | rows/s vectorised "
        "| speed-up |"
    )
    print("|---|---:|---:|---:|")
    pairs = {
        "coordinates (WGS84)": "wgs84",
        "postcode": "postcode",
        "location_text": "location_text",
    }
    for label, kind in pairs.items():
        print(
            f"| {label} | {naive[label]:,.0f} | {vec[kind]:,.0f} | "
            f"{vec[kind] / naive[label]:,.0f}× |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

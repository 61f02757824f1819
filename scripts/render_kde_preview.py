"""Render the Southampton kernel density of police.uk robbery and weapons offences.

    .venv/bin/python scripts/render_kde_preview.py [--out docs/img/kde_southampton.png]

Real police.uk street-level crimes (Hampshire Constabulary), January to July and
September 2025 (August is left out: its crime types are scrambled in this copy),
categories ``Robbery`` and ``Possession of weapons``, inside the Southampton CSP.
Two panels: the automatic (spatial Silverman) bandwidth and a fixed 250 m one, both
on 50 m cells, over the CSP outlines, with three city-centre landmarks marked to
check where the surface peaks. Cells outside the (coastline-clipped) CSP are left
blank on a grey-blue background, so the clipping can be checked by eye. Drawing
lives here, not in ``hotspot.detect.kde``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from hotspot.boundaries import load_csps  # noqa: E402
from hotspot.crs import lonlat_to_bng  # noqa: E402
from hotspot.detect.kde import UNITS, KDEResult, kde_surface  # noqa: E402
from hotspot.settings import ROOT, SHARED_DATA_DIR  # noqa: E402

MONTHS = ("01", "02", "03", "04", "05", "06", "07", "09")
CATEGORIES = ("Robbery", "Possession of weapons")
SOUTHAMPTON = "E06000045"
#: Landmarks (lon, lat) to check the picture against, from OpenStreetMap.
LANDMARKS = {
    "Bargate": ((-1.4044, 50.9025), (8, -10)),
    "Guildhall": ((-1.4077, 50.9083), (-60, 6)),
    "Above Bar St": ((-1.4049, 50.9055), (8, 2)),
}


def load_points() -> gpd.GeoDataFrame:
    folder = SHARED_DATA_DIR / "police_uk"
    df = pd.concat(
        pd.read_csv(
            folder / f"2025-{m}-hampshire-street.csv",
            usecols=["Month", "Longitude", "Latitude", "Crime type"],
        )
        for m in MONTHS
    )
    df = df[df["Crime type"].isin(CATEGORIES)].dropna(subset=["Longitude"])
    x, y = lonlat_to_bng(df["Longitude"].to_numpy(), df["Latitude"].to_numpy())
    return gpd.GeoDataFrame(
        df.reset_index(drop=True), geometry=gpd.points_from_xy(x, y), crs=27700
    )


def draw(ax, result: KDEResult, csps: gpd.GeoDataFrame, title: str) -> None:
    left, bottom, right, top = result.bounds
    shown = np.ma.masked_invalid(result.values)  # outside the area: background
    ax.set_facecolor("#dfe8ef")
    image = ax.imshow(
        shown,
        extent=(left, right, bottom, top),
        origin="upper",
        cmap="magma_r",
        vmin=0.0,
        interpolation="nearest",
    )
    csps.boundary.plot(ax=ax, color="0.3", linewidth=0.8)
    for name, ((lon, lat), offset) in LANDMARKS.items():
        x, y = lonlat_to_bng([lon], [lat])
        ax.plot(x, y, marker="+", color="tab:cyan", markersize=9, mew=1.5)
        ax.annotate(
            name,
            (x[0], y[0]),
            xytext=offset,
            textcoords="offset points",
            fontsize=8,
            color="tab:blue",
        )
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("easting (m, EPSG:27700)")
    ax.set_ylabel("northing (m)")
    plt.colorbar(image, ax=ax, shrink=0.7, label=UNITS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "img" / "kde_southampton.png"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    csps = load_csps()
    area = csps.loc[csps["lad_code"] == SOUTHAMPTON, "geometry"].union_all()
    points = load_points()
    auto = kde_surface(points, area=area, cell_size_m=50)
    fixed = kde_surface(points, area=area, cell_size_m=50, bandwidth_m=250)

    near = csps[csps.intersects(area.buffer(3_000))]
    fig, axes = plt.subplots(1, 2, figsize=(14, 7), constrained_layout=True)
    for ax, res in zip(axes, (auto, fixed), strict=True):
        how = "auto (Silverman)" if res.bandwidth_auto else "fixed"
        draw(
            ax,
            res,
            near,
            f"h = {res.bandwidth_m:.0f} m {how}, 50 m cells, "
            f"{res.n_points} points in Southampton",
        )
    fig.suptitle(
        "Quartic kernel density: police.uk Robbery + Possession of weapons, "
        "Jan-Jul and Sep 2025 (August left out)\n"
        "Contains public sector information licensed under the Open Government "
        "Licence v3.0; boundaries ONS, OS data © Crown copyright",
        fontsize=10,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    peak_row, peak_col = np.unravel_index(np.nanargmax(auto.values), auto.shape)
    xs, ys = auto.cell_centres()
    logging.info(
        "wrote %s; auto h %.0f m; peak %.1f %s at E %.0f N %.0f; %d points outside",
        args.out,
        auto.bandwidth_m,
        np.nanmax(auto.values),
        UNITS,
        xs[peak_col],
        ys[peak_row],
        auto.n_points_outside,
    )


if __name__ == "__main__":
    main()

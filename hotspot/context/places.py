"""A name for every cell: busiest streets, landmarks, ward, town, postcode sector.

An inspector cannot brief a shift with ``891959aa62fffff``. :func:`name_cells`
gives each H3 cell a partner-facing name made from real public data only::

    Above Bar Street / Bargate, Bargate ward, Southampton (SO14 7)

- **streets**: the busiest police.uk anonymisation points ("On or near …")
  inside the cell. When occurrences are given, their police.uk rows in the cell
  are counted by ``location_text`` (so the name follows the view); otherwise,
  or when the view has no police.uk row there, the snap-point gazetteer
  (``data/streets/snap_points.parquet``, every point of Jan–Sep 2025 with its
  record count) is used; a cell with no snap point at all is named after the
  nearest snap street within :data:`NEAR_M` ("near Carlton Road").
  police.uk facility labels ("Nightclub", "Supermarket") are kept as
  landmarks: they may stand in the name next to a street (the long ones
  shortened, "Parking Area" as "Car park": :data:`SHORT_LANDMARKS`), and are
  listed as police.uk gives them in ``landmarks``.
- **ward**: the 2022 ward (``boundaries/wards.parquet``) holding the cell
  centre, so the name matches the ward outlines on the map.
- **town**: the nearest GeoNames place to the cell centre.
- **postcode sector**: the sector of the nearest Code-Point Open postcode unit.

Disclosure: names carry no counts and no record detail. Only police.uk's
public "On or near" text is ever read from occurrences; the location text of
records-system rows (addresses, "outside the …") never enters a name.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from hotspot.boundaries import load_wards
from hotspot.crs import bng_to_lonlat, lonlat_to_bng
from hotspot.errors import DataNotFoundError, ParameterError
from hotspot.settings import DATA_DIR

logger = logging.getLogger(__name__)

STREETS_DIR = DATA_DIR / "streets"
GAZETTEER_DIR = DATA_DIR / "gazetteer"
#: Columns of :func:`name_cells`, in order.
PLACE_COLUMNS: tuple[str, ...] = (
    "h3", "place", "streets", "landmarks", "ward", "town", "district",
    "postcode_sector", "street_source",
)
#: A cell with no snap point is named after the nearest snap street within this (m).
NEAR_M = 300.0
#: Shorter names for police.uk's longer facility labels, used inside cell names
#: (``landmarks`` keeps police.uk's own label).
SHORT_LANDMARKS: dict[str, str] = {
    "Further/Higher Educational Building": "College or university",
    "Sports/Recreation Area": "Sports ground",
    "Theatre/Concert Hall": "Theatre",
    "Conference/Exhibition Centre": "Conference centre",
    "Bus/Coach Station": "Bus station",
    "Parking Area": "Car park",
    "Airport/Airfield": "Airport",
}
#: The prefix police.uk puts before every anonymised location.
ON_OR_NEAR = "On or near "


@dataclass
class PlaceIndex:
    """The tables behind :func:`name_cells`, loaded once (see :func:`load_place_index`).

    Attributes
    ----------
    snap : pandas.DataFrame
        Snap points: ``x``, ``y`` (BNG, m), ``street``, ``n_records``,
        ``facility`` (bool).
    wards : geopandas.GeoDataFrame
        Ward polygons (``ward22_name``, ``lad_name``; EPSG:27700).
    places : pandas.DataFrame
        GeoNames places (``name``, ``x``, ``y``).
    postcodes : pandas.DataFrame
        Code-Point units (``sector``, ``easting``, ``northing``).
    """

    snap: pd.DataFrame
    wards: gpd.GeoDataFrame
    places: pd.DataFrame
    postcodes: pd.DataFrame
    _snap_cells: dict[int, npt.NDArray[np.object_]] = field(default_factory=dict,
                                                             repr=False)

    def __post_init__(self) -> None:
        self._snap_tree = cKDTree(self.snap[["x", "y"]].to_numpy(float))
        self._street_rows = np.flatnonzero(~self.snap["facility"].to_numpy(bool))
        self._street_tree = cKDTree(
            self.snap[["x", "y"]].to_numpy(float)[self._street_rows])
        self._place_tree = cKDTree(self.places[["x", "y"]].to_numpy(float))
        self._postcode_tree = cKDTree(
            self.postcodes[["easting", "northing"]].to_numpy(float))
        self._ward_tree = shapely.STRtree(self.wards.geometry.to_numpy())

    def snap_cells(self, resolution: int) -> npt.NDArray[np.object_]:
        """H3 cell of every snap point at ``resolution`` (computed once, cached)."""
        if resolution not in self._snap_cells:
            self._snap_cells[resolution] = _cells_of(
                self.snap["x"].to_numpy(float), self.snap["y"].to_numpy(float),
                resolution)
        return self._snap_cells[resolution]


def _cells_of(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64],
              resolution: int) -> npt.NDArray[np.object_]:
    lon, lat = bng_to_lonlat(x, y)
    return np.array([h3.latlng_to_cell(la, lo, resolution)
                     for lo, la in zip(lon, lat, strict=True)], dtype=object)


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataNotFoundError(
            f"{path} does not exist: build it with scripts/build_streets.py "
            "(data/streets) or scripts/build_gazetteer.py (data/gazetteer)")
    return pd.read_parquet(path)


@functools.lru_cache(maxsize=2)
def load_place_index(streets_dir: Path = STREETS_DIR,
                     gazetteer_dir: Path = GAZETTEER_DIR) -> PlaceIndex:
    """Load (once per folder pair) the tables :func:`name_cells` needs.

    Raises
    ------
    DataNotFoundError
        When a table is missing (the message names the build script).
    """
    snap = _read(Path(streets_dir) / "snap_points.parquet")
    places = _read(Path(gazetteer_dir) / "places.parquet")
    places = places[places["kind"].astype(str) == "geonames"].reset_index(drop=True)
    postcodes = _read(Path(gazetteer_dir) / "postcodes.parquet")
    postcodes = pd.DataFrame({
        "sector": postcodes["postcode"].astype(str).str[:-2].to_numpy(),
        "easting": postcodes["easting"].to_numpy(float),
        "northing": postcodes["northing"].to_numpy(float),
    })
    return PlaceIndex(snap=snap, wards=load_wards(), places=places,
                      postcodes=postcodes)


def _check_cells(h3_cells: Sequence[str], resolution: int | None) -> tuple[list[str],
                                                                            int]:
    if isinstance(h3_cells, str) or not isinstance(h3_cells, Sequence | pd.Series
                                                   | np.ndarray):
        raise ParameterError(
            "h3_cells must be a sequence of H3 cell ids, got "
            f"{type(h3_cells).__name__}")
    cells = [str(c) for c in h3_cells]
    bad = [c for c in cells if not h3.is_valid_cell(c)]
    if bad:
        raise ParameterError(f"h3_cells must be valid H3 cell ids; invalid: {bad[:5]}")
    found = {h3.get_resolution(c) for c in cells}
    if len(found) > 1:
        raise ParameterError(f"h3_cells must share one resolution, got {sorted(found)}")
    if resolution is not None:
        if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
            raise ParameterError(f"resolution must be an int, got {resolution!r}")
        if found and found != {int(resolution)}:
            raise ParameterError(
                f"resolution {resolution} does not match the cells' resolution "
                f"{found.pop()}")
    res = int(resolution) if resolution is not None else (found.pop() if found else 9)
    return cells, res


def _police_labels(occurrences: pd.DataFrame, cells: list[str], resolution: int,
                   bounds: tuple[float, float, float, float]) -> pd.DataFrame:
    """Police.uk rows of ``occurrences`` in ``cells``: ``h3``, ``street``, ``n``.

    Only rows whose ``source`` is police.uk, that are not synthetic and whose
    ``location_text`` is police.uk's "On or near" text are read.
    """
    empty = pd.DataFrame({"h3": pd.Series(dtype=object), "street": pd.Series(dtype=str),
                          "n": pd.Series(dtype="int64")})
    if occurrences is None or len(occurrences) == 0 or not cells:
        return empty
    missing = {"source", "location_text"} - set(occurrences.columns)
    if missing or not isinstance(occurrences, gpd.GeoDataFrame):
        raise ParameterError(
            "occurrences must be the canonical occurrence GeoDataFrame (points in "
            f"EPSG:27700 with source and location_text); missing {sorted(missing)}")
    geom = occurrences.geometry.to_numpy()
    x, y = shapely.get_x(geom), shapely.get_y(geom)
    x0, y0, x1, y1 = bounds
    near = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    rows = occurrences[near]
    if rows.empty:
        return empty
    text = rows["location_text"].astype("string")
    public = (rows["source"].astype("string") == "police_uk") & \
        text.str.startswith(ON_OR_NEAR)
    if "is_synthetic" in rows.columns:
        public &= ~rows["is_synthetic"].astype("boolean").fillna(True)
    public = public.fillna(False).to_numpy(bool)
    if not public.any():
        return empty
    street = (text[public].str.slice(len(ON_OR_NEAR)).str.strip()
              .str.replace(r"'S\b", "'s", regex=True))
    frame = pd.DataFrame({"x": x[near][public], "y": y[near][public],
                          "street": street.to_numpy()})
    uniq = frame.groupby(["x", "y", "street"], sort=False).size().rename("n") \
        .reset_index()
    uniq["h3"] = _cells_of(uniq["x"].to_numpy(float), uniq["y"].to_numpy(float),
                           resolution)
    uniq = uniq[uniq["h3"].isin(set(cells))]
    return uniq.groupby(["h3", "street"], sort=False)["n"].sum().reset_index()


def _pick_labels(labels: pd.DataFrame, facilities: frozenset[str], *,
                 max_streets: int) -> dict[str, tuple[list[str], list[str]]]:
    """Per cell: the labels for the name and the landmarks (facility labels)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    ordered = labels.sort_values(["h3", "n", "street"], ascending=[True, False, True],
                                 kind="stable")
    for cell, group in ordered.groupby("h3", sort=False):
        names = group["street"].astype(str).tolist()
        is_facility = [n in facilities for n in names]
        streets = [n for n, f in zip(names, is_facility, strict=True) if not f]
        landmarks = [n for n, f in zip(names, is_facility, strict=True) if f]
        chosen = names[:max_streets]
        if streets and not any(n in streets for n in chosen):
            chosen = [streets[0], *chosen[: max_streets - 1]]
        # streets first, then landmarks, each busiest first
        chosen = [n for n in chosen if n not in facilities] + \
            [n for n in chosen if n in facilities]
        out[str(cell)] = (chosen, landmarks)
    return out


def name_cells(
    h3_cells: Sequence[str],
    *,
    occurrences: gpd.GeoDataFrame | None = None,
    resolution: int | None = None,
    max_streets: int = 2,
    index: PlaceIndex | None = None,
) -> pd.DataFrame:
    """Name H3 cells from their streets, landmarks, ward, town and postcode sector.

    Parameters
    ----------
    h3_cells : sequence of str
        H3 cell ids, all of one resolution (duplicates allowed; order kept).
    occurrences : geopandas.GeoDataFrame, optional, keyword-only
        The view's occurrences (canonical table, points in EPSG:27700). Their
        police.uk rows inside a cell choose its streets; records-system rows
        are never read for names. Without it, or for a cell where it has no
        police.uk row, the snap-point gazetteer is used.
    resolution : int, optional, keyword-only
        H3 resolution of the cells; checked against them when given.
    max_streets : int, keyword-only
        Most labels in the name (1 to 4); ``streets`` has the same ones.
    index : PlaceIndex, optional, keyword-only
        Pre-loaded tables (:func:`load_place_index` by default).

    Returns
    -------
    pandas.DataFrame
        One row per cell, in order, columns :data:`PLACE_COLUMNS`: ``place``
        (the full name), ``streets`` (busiest labels joined by " / ", or
        "near <street>"), ``landmarks`` (facility labels in the cell, busiest
        first, joined by ", "), ``ward``, ``town`` (nearest GeoNames place),
        ``district``, ``postcode_sector`` and ``street_source``
        (``"occurrences"``, ``"snap points"``, ``"nearest snap point"`` or
        ``"none"``). Empty strings where nothing is known.

    Raises
    ------
    ParameterError
        When a cell id is invalid, the cells mix resolutions, ``resolution``
        does not match them, ``max_streets`` is out of range, or
        ``occurrences`` is not a canonical point table.
    DataNotFoundError
        When ``data/streets`` or ``data/gazetteer`` has not been built.

    Notes
    -----
    Labels are ranked by the number of records behind them (police.uk rows of
    the view, or the gazetteer's Jan–Sep 2025 counts), ties by name. A
    facility label may be one of the ``max_streets`` labels, but the name
    always includes the busiest real street when the cell has one. No count
    is ever part of the name.
    """
    cells, res = _check_cells(h3_cells, resolution)
    if isinstance(max_streets, bool) or not isinstance(max_streets, int) \
            or not 1 <= max_streets <= 4:
        raise ParameterError(f"max_streets must be a whole number from 1 to 4, got "
                             f"{max_streets!r}")
    if not cells:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PLACE_COLUMNS})
    idx = load_place_index() if index is None else index
    uniq = list(dict.fromkeys(cells))
    latlng = np.array([h3.cell_to_latlng(c) for c in uniq], dtype=float)
    cx, cy = lonlat_to_bng(latlng[:, 1], latlng[:, 0])
    edge = h3.average_hexagon_edge_length(res, unit="m") * 1.2
    bounds = (cx.min() - edge, cy.min() - edge, cx.max() + edge, cy.max() + edge)

    facilities = frozenset(idx.snap.loc[idx.snap["facility"].to_numpy(bool),
                                        "street"].astype(str))
    from_occ = _pick_labels(_police_labels(occurrences, uniq, res, bounds)
                            if occurrences is not None else
                            pd.DataFrame(columns=["h3", "street", "n"]),
                            facilities, max_streets=max_streets)
    snap_cells = idx.snap_cells(res)
    in_set = np.isin(snap_cells, np.array(uniq, dtype=object))
    gaz = pd.DataFrame({"h3": snap_cells[in_set],
                        "street": idx.snap["street"].to_numpy()[in_set],
                        "n": idx.snap["n_records"].to_numpy()[in_set]})
    gaz = gaz.groupby(["h3", "street"], sort=False)["n"].sum().reset_index()
    from_gaz = _pick_labels(gaz, facilities, max_streets=max_streets)

    dist, near = idx._street_tree.query(np.column_stack([cx, cy]))
    near_street = idx.snap["street"].to_numpy()[idx._street_rows[near]]
    _, place_i = idx._place_tree.query(np.column_stack([cx, cy]))
    _, pc_i = idx._postcode_tree.query(np.column_stack([cx, cy]))
    ward_name, district = _wards_of(idx, cx, cy)

    rows = []
    for i, cell in enumerate(uniq):
        if cell in from_occ:
            (labels, landmarks), source = from_occ[cell], "occurrences"
            landmarks = list(dict.fromkeys(landmarks + from_gaz.get(cell, ([], []))[1]))
        elif cell in from_gaz:
            (labels, landmarks), source = from_gaz[cell], "snap points"
        elif dist[i] <= NEAR_M:
            labels, landmarks, source = [f"near {near_street[i]}"], [], \
                "nearest snap point"
        else:
            labels, landmarks, source = [], [], "none"
        if labels and all(n in facilities for n in labels) and dist[i] <= NEAR_M:
            labels = [*labels, f"near {near_street[i]}"]
        labels = [SHORT_LANDMARKS.get(n, n) for n in labels]
        streets = " / ".join(labels)
        town = str(idx.places["name"].iat[int(place_i[i])])
        sector = str(idx.postcodes["sector"].iat[int(pc_i[i])])
        rows.append({
            "h3": cell, "streets": streets, "landmarks": ", ".join(landmarks),
            "ward": ward_name[i], "town": town, "district": district[i],
            "postcode_sector": sector, "street_source": source,
            "place": compose_place(streets, ward=ward_name[i], town=town,
                                   sector=sector),
        })
    table = pd.DataFrame(rows, columns=list(PLACE_COLUMNS)).set_index("h3")
    out = table.loc[cells].reset_index()
    return out[list(PLACE_COLUMNS)]


def _wards_of(idx: PlaceIndex, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
              ) -> tuple[list[str], list[str]]:
    """Ward and district holding each point; the nearest ward within 2 km else."""
    pts = shapely.points(x, y)
    hit_pt, hit_ward = idx._ward_tree.query(pts, predicate="within")
    chosen = np.full(len(x), -1, dtype=np.int64)
    chosen[hit_pt[::-1]] = hit_ward[::-1]  # first hit wins
    lost = np.flatnonzero(chosen < 0)
    if len(lost):
        near_pt, near_ward = idx._ward_tree.query_nearest(pts[lost],
                                                          max_distance=2000.0)
        chosen[lost[near_pt]] = near_ward
    names = idx.wards["ward22_name"].astype(str).to_numpy()
    lads = idx.wards["lad_name"].astype(str).to_numpy()
    return ([str(names[j]) if j >= 0 else "" for j in chosen],
            [str(lads[j]) if j >= 0 else "" for j in chosen])


def compose_place(streets: str, *, ward: str, town: str, sector: str) -> str:
    """Join the parts of a name: "Streets, Ward ward, Town (Sector)".

    Parts that are empty are left out; the word "ward" is not repeated when
    the ward's name already ends with it.
    """
    parts = [p for p in (streets.strip(),
                         (ward if ward.lower().endswith(" ward") else f"{ward} ward")
                         if ward else "") if p]
    tail = town.strip()
    if sector:
        tail = f"{tail} ({sector})" if tail else f"({sector})"
    if tail:
        parts.append(tail)
    return ", ".join(parts)

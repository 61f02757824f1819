"""Streets on the map, offline: street-name labels, road lines, places of interest.

Pure builders (no Streamlit): they take the tables of ``data/streets/``
(:func:`load_street_tables`, built by ``scripts/build_streets.py``) and return
``pydeck.Layer`` objects in WGS84.

- **Street labels** (all 14 CSPs): one per street per district cluster, at
  its busiest police.uk snap point. Drawn as a TextLayer sized in metres (so
  they shrink away when zoomed out) with deck.gl's CollisionFilterExtension
  (busier streets win where labels would overlap). The app should add them
  only at :data:`STREET_MIN_ZOOM` or closer, and only for the area in view
  (:func:`labels_in`): all 17,265 labels are about 1 MB of JSON.
- **Road lines** (Isle of Wight only: OpenStreetMap 2020, or OS Open Map
  Local 2015): PathLayers, widths in metres (:func:`roads_in` to crop them).
- **Places of interest**: police.uk facility points (HIPS) and OpenStreetMap
  places (Isle of Wight) as dots with a tooltip, and their labels.

Where streets are labels only (every CSP but the Isle of Wight) the map must
say so: :func:`streets_note` gives the sentence.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely

from hotspot.crs import BNG, bng_to_lonlat
from hotspot.errors import DataNotFoundError, ParameterError
from hotspot.settings import DATA_DIR

logger = logging.getLogger(__name__)

STREETS_DIR = DATA_DIR / "streets"
#: Zoom at and beyond which street labels are meant to be drawn (about 1:8,500).
STREET_MIN_ZOOM = 15.0
#: The one district with road lines.
ROADS_LAD = "E06000046"
STREET_RGB: tuple[int, int, int] = (60, 60, 60)
ROAD_RGB: dict[str, tuple[int, int, int]] = {
    "major": (214, 170, 90), "minor": (190, 190, 190), "local": (205, 205, 205),
}
ROAD_WIDTH_M: dict[str, float] = {"major": 9.0, "minor": 7.0, "local": 5.0}
POI_RGB: tuple[int, int, int] = (90, 60, 140)
#: Attribution of each table, for the map's caption.
ATTRIBUTION: dict[str, str] = {
    "labels": "Street names: police.uk snap points, Jan–Sep 2025. Contains public "
              "sector information licensed under the Open Government Licence v3.0.",
    "roads_osm": "Isle of Wight roads: © OpenStreetMap contributors (ODbL), 2020.",
    "roads_os": "Isle of Wight roads: Contains OS data © Crown copyright and "
                "database right 2015 (OS Open Map Local, via the CDRC 2015 OS "
                "Geodata Pack).",
    "pois": "Places of interest: police.uk facility points (OGL v3.0); Isle of "
            "Wight: © OpenStreetMap contributors (ODbL).",
}


@dataclass(frozen=True)
class StreetTables:
    """The tables of ``data/streets`` (all in EPSG:27700).

    Attributes
    ----------
    labels : pandas.DataFrame
        ``x``, ``y``, ``street``, ``n_records``, ``n_points``, ``ward``, ``lad_code``.
    pois : pandas.DataFrame
        ``x``, ``y``, ``label``, ``name``, ``category``, ``source``, ``lad_code``.
    roads : geopandas.GeoDataFrame
        ``name``, ``ref``, ``kind`` (major, minor, local), line geometry.
    """

    labels: pd.DataFrame
    pois: pd.DataFrame
    roads: gpd.GeoDataFrame


@functools.lru_cache(maxsize=2)
def load_street_tables(folder: Path = STREETS_DIR) -> StreetTables:
    """Read ``data/streets`` once (cached; treat the tables as read-only).

    Raises
    ------
    DataNotFoundError
        When a table is missing: build it with ``scripts/build_streets.py``.
    """
    folder = Path(folder)
    paths = {n: folder / f"{n}.parquet" for n in ("street_labels", "pois", "iow_roads")}
    for path in paths.values():
        if not path.exists():
            raise DataNotFoundError(
                f"{path} does not exist: build it with scripts/build_streets.py")
    return StreetTables(labels=pd.read_parquet(paths["street_labels"]),
                        pois=pd.read_parquet(paths["pois"]),
                        roads=gpd.read_parquet(paths["iow_roads"]))


def _check(frame: pd.DataFrame, needed: Sequence[str], *, name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(f"{name} must be a pandas DataFrame, got "
                             f"{type(frame).__name__}")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ParameterError(f"{name} must have columns {list(needed)}; missing "
                             f"{missing}")


def labels_in(
    table: pd.DataFrame,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    lad_codes: Sequence[str] | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Rows of a label or POI table inside a box and/or districts, busiest first.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`StreetTables.labels` or :attr:`StreetTables.pois` (``x``, ``y``,
        ``lad_code``; ``n_records`` orders labels).
    bounds : tuple of float, optional, keyword-only
        ``(xmin, ymin, xmax, ymax)`` in EPSG:27700 metres.
    lad_codes : sequence of str, optional, keyword-only
        District (CSP) codes to keep.
    limit : int, optional, keyword-only
        At most this many rows (the busiest, by ``n_records`` when present).
    """
    _check(table, ("x", "y", "lad_code"), name="table")
    keep = np.ones(len(table), dtype=bool)
    if bounds is not None:
        if len(bounds) != 4 or not bounds[0] <= bounds[2] \
                or not bounds[1] <= bounds[3]:
            raise ParameterError(
                f"bounds must be (xmin, ymin, xmax, ymax), got {bounds!r}")
        x0, y0, x1, y1 = bounds
        x, y = table["x"].to_numpy(float), table["y"].to_numpy(float)
        keep &= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    if lad_codes is not None:
        keep &= table["lad_code"].isin(list(lad_codes)).to_numpy(bool)
    out = table[keep]
    if "n_records" in out.columns:
        out = out.sort_values("n_records", ascending=False, kind="stable")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ParameterError(f"limit must be a whole number >= 0, got {limit!r}")
        out = out.head(limit)
    return out


def _positions(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    lon, lat = bng_to_lonlat(np.asarray(x, float), np.asarray(y, float))
    rounded: list[list[float]] = np.round(np.column_stack([lon, lat]), 5).tolist()
    return rounded


def street_label_layer(
    labels: pd.DataFrame,
    *,
    size_m: float = 16.0,
    max_px: float = 15.0,
    layer_id: str = "street-labels",
) -> pdk.Layer:
    """Street names as a TextLayer that only reads at close zoom.

    Parameters
    ----------
    labels : pandas.DataFrame
        ``x``, ``y`` (EPSG:27700), ``street`` and ``n_records`` (the collision
        priority): :attr:`StreetTables.labels`, filtered with :func:`labels_in`.
    size_m : float, keyword-only
        Text height in metres: 16 m is about 11 px at zoom 16 and under 3 px
        at zoom 14, so labels fade out as the map zooms out.
    max_px : float, keyword-only
        Largest text height in pixels, however close the zoom.
    layer_id : str, keyword-only

    Returns
    -------
    pydeck.Layer
        Not pickable; deck.gl's CollisionFilterExtension hides a label that
        would overlap a busier street's.
    """
    _check(labels, ("x", "y", "street", "n_records"), name="labels")
    if not size_m > 0 or not max_px > 0:
        raise ParameterError(f"size_m and max_px must be above 0, got {size_m!r}, "
                             f"{max_px!r}")
    data = pd.DataFrame({
        "position": _positions(labels["x"].to_numpy(), labels["y"].to_numpy()),
        "text": labels["street"].astype(str).to_numpy(),
        "priority": np.log1p(labels["n_records"].to_numpy(float)).round(3),
    })
    return pdk.Layer(
        "TextLayer", data=data, id=layer_id, get_position="position",
        get_text="text", get_size=size_m, size_units="'meters'",
        size_min_pixels=0, size_max_pixels=max_px, get_color=[*STREET_RGB, 235],
        outline_width=3, outline_color=[255, 255, 255, 220],
        font_settings={"sdf": True}, font_family="'Helvetica, Arial, sans-serif'",
        get_text_anchor="'middle'", get_alignment_baseline="'center'",
        pickable=False, extensions=[{"@@type": "CollisionFilterExtension"}],
        collision_enabled=True, get_collision_priority="priority",
        collision_test_props={"sizeScale": 1.2},
    )


def roads_in(roads: gpd.GeoDataFrame, *,
             bounds: tuple[float, float, float, float] | None = None,
             kinds: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Road lines crossing a box (EPSG:27700 metres) and/or of some kinds."""
    _check(roads, ("kind",), name="roads")
    keep = np.ones(len(roads), dtype=bool)
    if bounds is not None:
        keep &= shapely.intersects(roads.geometry.to_numpy(), shapely.box(*bounds))
    if kinds is not None:
        keep &= roads["kind"].isin(list(kinds)).to_numpy(bool)
    return roads[keep]


def road_layers(roads: gpd.GeoDataFrame, *, layer_id: str = "roads"
                ) -> list[pdk.Layer]:
    """Road lines (Isle of Wight) as PathLayers, one per kind, widths in metres.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        :attr:`StreetTables.roads` (or :func:`roads_in` of it): ``kind``
        (major, minor, local) and line geometry in EPSG:27700.
    layer_id : str, keyword-only
        Prefix of the layer ids (``roads-local``, ``roads-minor``, ``roads-major``).

    Returns
    -------
    list of pydeck.Layer
        Local roads first, so that major roads draw on top. Coordinates are
        rounded to 5 decimals (about 1 m).
    """
    _check(roads, ("kind",), name="roads")
    if not isinstance(roads, gpd.GeoDataFrame) or roads.crs is None \
            or roads.crs.to_string() != BNG:
        raise ParameterError("roads must be a GeoDataFrame in EPSG:27700")
    shown = roads.to_crs("EPSG:4326")
    layers = []
    for kind in ("local", "minor", "major"):
        part = shown[shown["kind"].astype(str) == kind]
        lines = shapely.get_parts(part.geometry.to_numpy())
        paths = [np.round(shapely.get_coordinates(g), 5).tolist() for g in lines
                 if shapely.get_num_coordinates(g) >= 2]
        if not paths:
            continue
        layers.append(pdk.Layer(
            "PathLayer", data=pd.DataFrame({"path": paths}), id=f"{layer_id}-{kind}",
            get_path="path", get_color=[*ROAD_RGB[kind], 255],
            get_width=ROAD_WIDTH_M[kind], width_units="'meters'", width_min_pixels=1,
            width_max_pixels=8, cap_rounded=True, joint_rounded=True,
            pickable=False,
        ))
    return layers


def _spaced(x: np.ndarray, y: np.ndarray, *, min_spacing_m: float) -> np.ndarray:
    """Indexes of points kept greedily, in order, at least ``min_spacing_m`` apart."""
    from scipy.spatial import cKDTree

    if len(x) == 0:
        return np.array([], dtype=np.int64)
    tree = cKDTree(np.column_stack([x, y]))
    taken = np.zeros(len(x), dtype=bool)
    kept = []
    for i in range(len(x)):
        if not taken[i]:
            kept.append(i)
            taken[tree.query_ball_point([x[i], y[i]], r=min_spacing_m)] = True
    return np.array(kept, dtype=np.int64)


def poi_layers(pois: pd.DataFrame, *, layer_id: str = "pois",
               labelled: bool = True, label_spacing_m: float = 60.0
               ) -> list[pdk.Layer]:
    """Places of interest as dots (with a tooltip) and, optionally, their labels.

    Parameters
    ----------
    pois : pandas.DataFrame
        :attr:`StreetTables.pois` (``x``, ``y``, ``label``, ``category``,
        ``source``), filtered with :func:`labels_in`.
    labelled : bool, keyword-only
        Add a TextLayer of the labels (sized in metres, like street labels).
    label_spacing_m : float, keyword-only
        A label is left out when a label kept before it (in the table's
        order) is nearer than this (metres); its dot and tooltip stay.

    Returns
    -------
    list of pydeck.Layer
        The ScatterplotLayer (pickable: ``title`` and ``tooltip`` as the
        app's tooltip template expects) and, when ``labelled``, the TextLayer.
    """
    _check(pois, ("x", "y", "label", "category", "source"), name="pois")
    positions = _positions(pois["x"].to_numpy(), pois["y"].to_numpy())
    data = pd.DataFrame({
        "position": positions,
        "title": pois["label"].astype(str).to_numpy(),
        "tooltip": (pois["category"].astype(str).str.capitalize() + " ("
                    + pois["source"].astype(str) + ")").to_numpy(),
    })
    layers = [pdk.Layer(
        "ScatterplotLayer", data=data, id=f"{layer_id}-dots",
        get_position="position", get_fill_color=[*POI_RGB, 220], get_radius=10,
        radius_units="'meters'", radius_min_pixels=2, radius_max_pixels=6,
        stroked=True, get_line_color=[255, 255, 255, 230], line_width_min_pixels=1,
        pickable=True,
    )]
    if labelled:
        # deck.gl's collision filter hid every label of this layer in testing
        # (Streamlit 1.67's deck.gl), so labels are thinned here instead
        keep = _spaced(pois["x"].to_numpy(float), pois["y"].to_numpy(float),
                       min_spacing_m=label_spacing_m)
        text = pd.DataFrame({"position": [positions[i] for i in keep],
                             "text": pois["label"].astype(str).to_numpy()[keep]})
        layers.append(pdk.Layer(
            "TextLayer", data=text, id=f"{layer_id}-labels",
            get_position="position", get_text="text", get_size=13,
            size_units="'meters'", size_min_pixels=0, size_max_pixels=13,
            get_color=[*POI_RGB, 255], outline_width=3,
            outline_color=[255, 255, 255, 220], font_settings={"sdf": True},
            font_family="'Helvetica, Arial, sans-serif'",
            get_text_anchor="'start'", get_alignment_baseline="'center'",
            get_pixel_offset=[7, 0], pickable=False,
        ))
    return layers


def streets_note(lad_codes: Sequence[str] | None = None) -> str:
    """Return the sentence the map shows about what its streets are.

    Parameters
    ----------
    lad_codes : sequence of str, optional
        The districts (CSPs) in view; all of HIPS when omitted.
    """
    codes = set(lad_codes) if lad_codes is not None else None
    if codes == {ROADS_LAD}:
        return ("Streets: road lines (Isle of Wight) and street names from "
                "police.uk snap points (Jan–Sep 2025).")
    note = ("Streets are labels only (police.uk snap points, Jan–Sep 2025, where "
            "a crime was recorded): no street network is shipped for the mainland")
    if codes is None or ROADS_LAD in codes:
        note += "; road lines on the Isle of Wight only"
    return note + "."


def near_layers(tables: StreetTables, *, x: float, y: float,
                radius_m: float = 1500.0, limit: int = 300) -> list[pdk.Layer]:
    """Road lines, street names and places of interest around a point (zoomed in).

    The map adds these when it is zoomed to a hot spot: only what lies within
    ``radius_m`` of the point (EPSG:27700 metres), at most ``limit`` labels, so the
    deck stays small (the whole of HIPS would be 1.3 MB of labels).
    """
    box = (x - radius_m, y - radius_m, x + radius_m, y + radius_m)
    out: list[pdk.Layer] = []
    roads = roads_in(tables.roads, bounds=box)
    if len(roads):
        out.extend(road_layers(roads))
    labels = labels_in(tables.labels, bounds=box, limit=limit)
    if len(labels):
        out.append(street_label_layer(labels))
    pois = labels_in(tables.pois, bounds=box, limit=limit)
    if len(pois):
        out.extend(poi_layers(pois))
    return out

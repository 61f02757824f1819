"""The map view as plain values, and its URL encoding (a link reproduces the view).

A :class:`View` holds every choice the user can make on the map page: the CSP,
scope, date range, categories, flags, method parameters, layers and the hot spot
zoomed to. :func:`to_query` writes only the values that differ from the defaults,
so a plain link opens the default view; :func:`from_query` reads a URL's query
parameters back, ignoring (and reporting) any value it cannot use, so a mangled
link still opens a working map.

Query parameters
----------------
``csp``  CSP code or ``all``; ``scope`` ``csp``/``hips``; ``from``/``to``
``YYYY-MM`` (whole months); ``cat`` categories (comma-separated); ``flag`` flag
filters; ``res`` H3 resolution; ``bw`` KDE bandwidth in metres (``auto``); ``k``
ring size; ``alpha``; ``fdr`` ``1``/``0``; ``weight`` ``count``/``harm``;
``layers``; ``basemap`` ``1``; ``focus`` the H3 cell zoomed to; ``imd``
``2025``/``2019`` the deprivation edition; ``panel`` the
panel open under the map (:data:`PANELS`; kept out of :class:`View`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import h3

from hotspot.definitions import SV_CATEGORIES
from hotspot.errors import ParameterError
from hotspot.selection import (
    FLAG_ALIASES,
    FLAGS,
    UNKNOWN_FLAG_POLICIES,
    Selection,
    UnknownFlags,
)
from hotspot.settings import (
    ALPHAS,
    BANDWIDTH_RANGE_M,
    DEFAULTS,
    GROUPINGS,
    K_VALUES,
    RESOLUTIONS,
    SCOPES,
    WEIGHTS,
    AnalysisSettings,
)

logger = logging.getLogger(__name__)

#: Flag filters: key → label (the one vocabulary, :data:`hotspot.selection.FLAGS`).
FLAG_FILTERS: dict[str, str] = FLAGS
#: Map layers that can be switched on and off: key → label.
LAYERS: dict[str, str] = {
    "gistar": "Gi* hot and cold spots (H3 hexagons)",
    "kde": "Kernel density surface",
    "csp": "CSP outlines and names",
    "wards": "Ward outlines",
    "places": "Place names",
    "imd": "Deprivation (IMD decile)",
    "fires": "Deliberate fires",
    "arson": "Criminal damage and arson (police.uk, per area)",
    "colocation": "Fire and violence co-location",
    "points": "Occurrence points (zoomed in only)",
    "operations": "Operations",
}
DEFAULT_LAYERS: tuple[str, ...] = ("gistar", "csp", "places")
#: Older layer names still accepted in links and view files: old → current.
LAYER_ALIASES: dict[str, str] = {"hotspots": "gistar", "deprivation": "imd"}
#: What an export may hold: the map's layers plus the tables (top hot spots,
#: monthly trend, weekday × hour).
EXPORT_SECTIONS: tuple[str, ...] = ("gistar", "kde", "csp", "wards", "imd", "fires",
                                    "operations", "tables")
DEFAULT_EXPORT_SECTIONS: tuple[str, ...] = ("gistar", "kde", "csp", "wards", "tables")
#: Panels under the map (one shown at a time): URL key → label. The panel is
#: in the link (``panel``) but not in :class:`View`, which decides the analyses:
#: opening another panel must not recompute the map.
PANELS: dict[str, str] = {
    "top": "Top hot spots",
    "when": "When",
    "trends": "Trends",
    "deprivation": "Deprivation",
    "fires": "Fires",
    "how": "How this was computed",
    "sources": "Data and licences",
}
DEFAULT_PANEL = "top"
#: IMD editions on offer: key → label (2025 on LSOA 2021, 2019 on LSOA 2011).
IMD_EDITIONS: dict[str, str] = {
    "2025": "IMD 2025 (LSOA 2021, Census 2021 residents)",
    "2019": "IMD 2019 (LSOA 2011, mid-2020 residents)",
}
ALL_CSPS = "all"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class View:
    """Everything that decides what the map page shows.

    Attributes
    ----------
    csp : str
        CSP code, or ``"all"``.
    scope : {"csp", "hips"}
        Gi* study area: each CSP on its own, or HIPS as one.
    month_from, month_to : str or None
        First and last month shown (``YYYY-MM``, inclusive; the command line
        may give days, ``YYYY-MM-DD``); None for the data's.
    categories : tuple of str
        Serious-violence categories kept; empty for all of them.
    flags : tuple of str
        Flag filters (keys of :data:`FLAG_FILTERS`); all must hold.
    resolution : int
        H3 resolution, 7 to 11.
    bandwidth_m : float or None
        KDE bandwidth in metres; None for the hot-spot rule
        (``kde.hotspot_bandwidth_m``).
    k : int
        Gi* ring size.
    alpha : float
        Significance level.
    fdr : bool
        Benjamini-Hochberg false-discovery adjustment on or off.
    weight : {"count", "harm"}
        Analyse counts or harm-weighted counts.
    layers : tuple of str
        Layers switched on (keys of :data:`LAYERS`).
    basemap : bool
        Online basemap tiles (opt-in; the map never needs them).
    focus : str or None
        H3 cell the map is zoomed to.
    imd : {"2025", "2019"}
        IMD edition of the deprivation layer, panel and hot-spot deciles.
    grouping : {"district", "ons2024"}
        CSP areas: 14 districts or the ONS 2024 grouping (12).
    include_flagged : bool
        Keep rows with data-quality flags.
    unknown_flags : {"drop", "keep"}
        What a flag filter does with rows whose flag is not recorded.
    include_approximate : bool
        Count approximate police.uk matches as serious violence.
    permutations, seed : int, int or None
        Gi* conditional permutations (0: normal approximation) and their seed.
    cell_size_m : float
        KDE raster cell size, metres.
    """

    csp: str = ALL_CSPS
    scope: str = DEFAULTS.scope
    month_from: str | None = None
    month_to: str | None = None
    categories: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    resolution: int = DEFAULTS.resolution
    bandwidth_m: float | None = DEFAULTS.bandwidth_m
    k: int = DEFAULTS.k
    alpha: float = DEFAULTS.alpha
    fdr: bool = DEFAULTS.fdr
    weight: str = DEFAULTS.weight
    layers: tuple[str, ...] = field(default=DEFAULT_LAYERS)
    basemap: bool = False
    focus: str | None = None
    imd: str = "2025"
    grouping: str = DEFAULTS.grouping
    include_flagged: bool = False
    unknown_flags: UnknownFlags = "drop"
    include_approximate: bool = False
    permutations: int = DEFAULTS.permutations
    seed: int | None = DEFAULTS.seed
    cell_size_m: float = DEFAULTS.cell_size_m

    def with_(self, **changes: Any) -> View:
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)

    def for_analysis(self) -> View:
        """Return the view without the settings that change only the drawing.

        Layers, the online basemap and the hot spot zoomed to do not change
        any analysis; the cached analyses are keyed on this view, so switching
        a layer or zooming in reuses the hot spots already computed.
        """
        return replace(self, layers=DEFAULT_LAYERS, basemap=False, focus=None)

    def selection(self) -> Selection:
        """Return the rows this view selects (:func:`hotspot.selection.select`)."""
        return Selection(
            start=self.month_from, end=self.month_to, categories=self.categories,
            flags=self.flags, csps=() if self.csp == ALL_CSPS else (self.csp,),
            include_flagged=self.include_flagged, unknown_flags=self.unknown_flags,
            include_approximate=self.include_approximate,
        )

    def settings(self) -> AnalysisSettings:
        """Return how this view's analyses are computed."""
        return AnalysisSettings(
            scope=self.scope, grouping=self.grouping,  # type: ignore[arg-type]
            resolution=self.resolution, k=self.k, alpha=self.alpha, fdr=self.fdr,
            weight=self.weight,  # type: ignore[arg-type]
            permutations=self.permutations, seed=self.seed,
            bandwidth_m=self.bandwidth_m, cell_size_m=self.cell_size_m,
        )


DEFAULT_VIEW = View()


def _join(values: Sequence[str]) -> str:
    return ",".join(values)


def to_query(view: View) -> dict[str, str]:
    """Encode ``view`` as URL query parameters (only values that differ from default).

    Parameters
    ----------
    view : View
        The view to encode.

    Returns
    -------
    dict of str to str
        Keys and values for ``st.query_params``; ``from_query`` reads them back.
    """
    out: dict[str, str] = {}
    d = DEFAULT_VIEW
    if view.csp != d.csp:
        out["csp"] = view.csp
    if view.scope != d.scope:
        out["scope"] = view.scope
    if view.month_from:
        out["from"] = view.month_from
    if view.month_to:
        out["to"] = view.month_to
    if view.categories:
        out["cat"] = _join(view.categories)
    if view.flags:
        out["flag"] = _join(view.flags)
    if view.resolution != d.resolution:
        out["res"] = str(view.resolution)
    if view.bandwidth_m is not None:
        out["bw"] = f"{view.bandwidth_m:g}"
    if view.k != d.k:
        out["k"] = str(view.k)
    if view.alpha != d.alpha:
        out["alpha"] = f"{view.alpha:g}"
    if view.fdr != d.fdr:
        out["fdr"] = "1" if view.fdr else "0"
    if view.weight != d.weight:
        out["weight"] = view.weight
    if tuple(view.layers) != d.layers:
        out["layers"] = _join(view.layers) or "none"
    if view.basemap:
        out["basemap"] = "1"
    if view.focus:
        out["focus"] = view.focus
    if view.imd != d.imd:
        out["imd"] = view.imd
    if view.grouping != d.grouping:
        out["grouping"] = view.grouping
    if view.include_flagged:
        out["flagged"] = "1"
    if view.unknown_flags != d.unknown_flags:
        out["unknown"] = view.unknown_flags
    return out


def panel_from_query(params: Mapping[str, str | Sequence[str]]) -> str:
    """Return the label of the panel a link asks for (the default one if none).

    An unknown ``panel`` value gives the default; :func:`from_query` reports it.
    """
    key = _first(params.get("panel", DEFAULT_PANEL))
    return PANELS.get(key, PANELS[DEFAULT_PANEL])


def panel_query(label: str | None) -> dict[str, str]:
    """Return the ``panel`` query parameter for a panel label (empty: default)."""
    keys = {v: k for k, v in PANELS.items()}
    key = keys.get(label or "", DEFAULT_PANEL)
    return {} if key == DEFAULT_PANEL else {"panel": key}


def _first(value: str | Sequence[str]) -> str:
    if isinstance(value, str):
        return value
    return str(value[-1]) if len(value) else ""


def _choices(text: str, allowed: Sequence[str], *, name: str,
             problems: list[str]) -> tuple[str, ...]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in allowed]
    if bad:
        problems.append(f"{name}: ignored {bad}; expected some of {list(allowed)}")
    seen = dict.fromkeys(t for t in items if t in allowed)
    return tuple(seen)


def from_query(
    params: Mapping[str, str | Sequence[str]],
    *,
    csp_codes: Sequence[str] = (),
) -> tuple[View, list[str]]:
    """Decode URL query parameters into a :class:`View`.

    Parameters
    ----------
    params : mapping
        Query parameters (``st.query_params`` or a plain dict).
    csp_codes : sequence of str, keyword-only
        CSP codes that exist; an unknown ``csp`` is ignored. Empty: accept any.

    Returns
    -------
    view : View
        The view; values that could not be used keep their defaults.
    problems : list of str
        One plain-English line per value ignored.
    """
    problems: list[str] = []
    values: dict[str, Any] = {}
    raw = {key: _first(value) for key, value in params.items()}

    def ignore(key: str, expected: str) -> None:
        problems.append(f"{key}={raw[key]!r} ignored: expected {expected}")

    if "csp" in raw:
        csp = raw["csp"]
        if csp == ALL_CSPS or not csp_codes or csp in csp_codes:
            values["csp"] = csp
        else:
            ignore("csp", f"'all' or one of {list(csp_codes)}")
    if "scope" in raw:
        if raw["scope"] in SCOPES:
            values["scope"] = raw["scope"]
        else:
            ignore("scope", f"one of {list(SCOPES)}")
    for key, attr in (("from", "month_from"), ("to", "month_to")):
        if key in raw:
            if _MONTH.match(raw[key]):
                values[attr] = raw[key]
            else:
                ignore(key, "a month YYYY-MM")
    if values.get("month_from") and values.get("month_to") and (
        values["month_from"] > values["month_to"]
    ):
        problems.append("from is after to: the months were swapped")
        values["month_from"], values["month_to"] = (
            values["month_to"], values["month_from"]
        )
    if "cat" in raw:
        values["categories"] = _choices(raw["cat"], list(SV_CATEGORIES),
                                        name="cat", problems=problems)
    if "flag" in raw:
        values["flags"] = _choices(_renamed(raw["flag"], FLAG_ALIASES, problems),
                                   list(FLAG_FILTERS), name="flag", problems=problems)
    if "layers" in raw:
        text = "" if raw["layers"] == "none" else raw["layers"]
        values["layers"] = _choices(_renamed(text, LAYER_ALIASES, problems),
                                    list(LAYERS), name="layers", problems=problems)
    if "grouping" in raw:
        if raw["grouping"] in GROUPINGS:
            values["grouping"] = raw["grouping"]
        else:
            ignore("grouping", f"one of {list(GROUPINGS)}")
    if "unknown" in raw:
        if raw["unknown"] in UNKNOWN_FLAG_POLICIES:
            values["unknown_flags"] = raw["unknown"]
        else:
            ignore("unknown", f"one of {list(UNKNOWN_FLAG_POLICIES)}")
    _int_choice(raw, "res", "resolution", RESOLUTIONS, values, ignore)
    _int_choice(raw, "k", "k", K_VALUES, values, ignore)
    if "alpha" in raw:
        try:
            alpha = float(raw["alpha"])
        except ValueError:
            alpha = -1.0
        match = [a for a in ALPHAS if abs(a - alpha) < 1e-12]
        if match:
            values["alpha"] = match[0]
        else:
            ignore("alpha", f"one of {list(ALPHAS)}")
    if "bw" in raw and raw["bw"] != "auto":
        try:
            bw = float(raw["bw"])
        except ValueError:
            bw = -1.0
        lo, hi = BANDWIDTH_RANGE_M
        if lo <= bw <= hi:
            values["bandwidth_m"] = bw
        else:
            ignore("bw", f"'auto' or metres from {lo:g} to {hi:g}")
    for key, attr in (("fdr", "fdr"), ("basemap", "basemap"),
                      ("flagged", "include_flagged")):
        if key in raw:
            if raw[key] in ("0", "1"):
                values[attr] = raw[key] == "1"
            else:
                ignore(key, "0 or 1")
    if "weight" in raw:
        if raw["weight"] in WEIGHTS:
            values["weight"] = raw["weight"]
        else:
            ignore("weight", f"one of {list(WEIGHTS)}")
    if "focus" in raw:
        if h3.is_valid_cell(raw["focus"]):
            values["focus"] = raw["focus"]
        else:
            ignore("focus", "an H3 cell index")
    if "imd" in raw:
        if raw["imd"] in IMD_EDITIONS:
            values["imd"] = raw["imd"]
        else:
            ignore("imd", f"one of {list(IMD_EDITIONS)}")
    if "panel" in raw and raw["panel"] not in PANELS:
        ignore("panel", f"one of {list(PANELS)}")
    known = {"csp", "scope", "from", "to", "cat", "flag", "layers", "res", "k",
             "alpha", "bw", "fdr", "basemap", "weight", "focus", "imd", "panel",
             "grouping", "flagged", "unknown"}
    for key in sorted(set(raw) - known):
        problems.append(f"{key} is not a view setting and was ignored")
    for line in problems:
        logger.info("URL: %s", line)
    return View(**values), problems


def _renamed(text: str, aliases: Mapping[str, str], problems: list[str]) -> str:
    """Map old spellings in a comma-separated list to current ones, with a note."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    for old in items:
        if old in aliases:
            problems.append(f"{old!r} is now called {aliases[old]!r}")
    return ",".join(aliases.get(t, t) for t in items)


def _int_choice(raw: Mapping[str, str], key: str, attr: str, allowed: Sequence[int],
                values: dict[str, Any], ignore: Any) -> None:
    if key not in raw:
        return
    text = raw[key]
    if text.isdigit() and int(text) in allowed:
        values[attr] = int(text)
    else:
        ignore(key, f"one of {list(allowed)}")


def check_view(view: View) -> View:
    """Return ``view`` when every value is allowed, else raise ParameterError.

    The analysis settings and the selection are checked by their own one rule
    (:meth:`AnalysisSettings.validate`, :meth:`Selection.validate`).
    """
    view.settings().validate()
    view.selection().validate()
    if view.imd not in IMD_EDITIONS:
        raise ParameterError(
            f"imd must be one of {list(IMD_EDITIONS)}, got {view.imd!r}")
    for name, allowed in (("flags", FLAG_FILTERS), ("layers", LAYERS)):
        bad = set(getattr(view, name)) - set(allowed)
        if bad:
            raise ParameterError(
                f"{name} must be some of {list(allowed)}, got {sorted(bad)}"
            )
    return view


VIEW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(View))


#: The most cell-neighbour pairs one interactive Gi* may take (about 1 s on the
#: reference machine; resolution 10 over all of HIPS with k = 1 is 2.1 million).
MAX_INTERACTIVE_PAIRS = 3_000_000


def ring_pairs(area_km2: float, *, resolution: int, k: int) -> float:
    """Cell-neighbour pairs of a Gi* over ``area_km2`` (cells × cells per ring)."""
    import h3

    cells = area_km2 / h3.average_hexagon_area(resolution, unit="km^2")
    return cells * (1 + 3 * k * (k + 1))


def affordable(view: View, *, area_km2: float) -> tuple[View, str | None]:
    """Return the view the map can compute at once, and why it was changed.

    A view whose Gi* would take more than :data:`MAX_INTERACTIVE_PAIRS` pairs (a
    link asking for resolution 11 with k = 3 over all of HIPS kept the server
    busy for 53 s) gets a smaller ring, then a coarser resolution, until it
    fits; the command line has no such limit.
    """
    chosen = view
    while ring_pairs(area_km2, resolution=chosen.resolution,
                     k=chosen.k) > MAX_INTERACTIVE_PAIRS:
        if chosen.k > min(K_VALUES):
            chosen = chosen.with_(k=chosen.k - 1)
        elif chosen.resolution > min(RESOLUTIONS):
            chosen = chosen.with_(resolution=chosen.resolution - 1)
        else:
            break
    if chosen == view:
        return view, None
    return chosen, (f"resolution {view.resolution} with k = {view.k} over "
                    f"{area_km2:,.0f} km² is too heavy to compute at once: using "
                    f"resolution {chosen.resolution} with k = {chosen.k} (the "
                    "command line `hotspot detect` has no limit)")

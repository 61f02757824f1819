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

logger = logging.getLogger(__name__)

#: Flag filters: key → label. Each keeps only occurrences with the flag.
FLAG_FILTERS: dict[str, str] = {
    "bladed": "Bladed implement",
    "public": "Public place",
    "nondomestic": "Non-domestic",
    "under25": "Victim under 25",
}
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
RESOLUTIONS: tuple[int, ...] = (7, 8, 9, 10, 11)
K_VALUES: tuple[int, ...] = (1, 2, 3)
ALPHAS: tuple[float, ...] = (0.01, 0.05, 0.10)
WEIGHTS: tuple[str, ...] = ("count", "harm")
SCOPES: tuple[str, ...] = ("csp", "hips")
ALL_CSPS = "all"
#: Bandwidths allowed in a URL, metres.
BANDWIDTH_RANGE_M: tuple[float, float] = (50.0, 5000.0)
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
        First and last month shown (``YYYY-MM``, inclusive); None for the data's.
    categories : tuple of str
        Serious-violence categories kept; empty for all of them.
    flags : tuple of str
        Flag filters (keys of :data:`FLAG_FILTERS`); all must hold.
    resolution : int
        H3 resolution, 7 to 11.
    bandwidth_m : float or None
        KDE bandwidth in metres; None for the Silverman rule.
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
    """

    csp: str = ALL_CSPS
    scope: str = "csp"
    month_from: str | None = None
    month_to: str | None = None
    categories: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    resolution: int = 9
    bandwidth_m: float | None = None
    k: int = 1
    alpha: float = 0.05
    fdr: bool = True
    weight: str = "count"
    layers: tuple[str, ...] = field(default=DEFAULT_LAYERS)
    basemap: bool = False
    focus: str | None = None
    imd: str = "2025"

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
        values["flags"] = _choices(raw["flag"], list(FLAG_FILTERS), name="flag",
                                   problems=problems)
    if "layers" in raw:
        text = "" if raw["layers"] == "none" else raw["layers"]
        values["layers"] = _choices(text, list(LAYERS), name="layers",
                                    problems=problems)
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
    for key in ("fdr", "basemap"):
        if key in raw:
            if raw[key] in ("0", "1"):
                values[key] = raw[key] == "1"
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
             "alpha", "bw", "fdr", "basemap", "weight", "focus", "imd", "panel"}
    for key in sorted(set(raw) - known):
        problems.append(f"{key} is not a view setting and was ignored")
    for line in problems:
        logger.info("URL: %s", line)
    return View(**values), problems


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
    """Return ``view`` when every value is allowed, else raise ParameterError."""
    if view.scope not in SCOPES:
        raise ParameterError(f"scope must be one of {SCOPES}, got {view.scope!r}")
    if view.resolution not in RESOLUTIONS:
        raise ParameterError(
            f"resolution must be one of {RESOLUTIONS}, got {view.resolution!r}"
        )
    if view.weight not in WEIGHTS:
        raise ParameterError(f"weight must be one of {WEIGHTS}, got {view.weight!r}")
    if view.imd not in IMD_EDITIONS:
        raise ParameterError(
            f"imd must be one of {list(IMD_EDITIONS)}, got {view.imd!r}")
    for name, allowed in (("categories", SV_CATEGORIES), ("flags", FLAG_FILTERS),
                          ("layers", LAYERS)):
        bad = set(getattr(view, name)) - set(allowed)
        if bad:
            raise ParameterError(
                f"{name} must be some of {list(allowed)}, got {sorted(bad)}"
            )
    return view


VIEW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(View))

"""The map page's sidebar: widgets → :class:`~hotspot.view.View`, URL sync.

Session state uses the few named keys in :class:`Keys`. On a session's first run
the view comes from the URL (``st.query_params``); widgets then own their values,
and after every run the URL is rewritten from the view, so copying the address
bar reproduces what is on screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from hotspot.definitions import SV_CATEGORIES
from hotspot.settings import DEFAULTS, GROUPING_LABELS, GROUPINGS
from hotspot.view import (
    ALL_CSPS,
    ALPHAS,
    FLAG_FILTERS,
    IMD_EDITIONS,
    K_VALUES,
    LAYERS,
    RESOLUTIONS,
    View,
    affordable,
    from_query,
    panel_from_query,
    panel_query,
    to_query,
)

#: Why a layer is shown disabled when the caller gives no reason.
UNAVAILABLE_HELP = "Not available with the data loaded."


class Keys:
    """Session-state keys (the only string keys the app uses)."""

    VIEW = "view"  # the last View built (survives page switches)
    URL_PROBLEMS = "url_problems"  # values of the URL that were ignored
    FOCUS = "focus"  # H3 cell zoomed to, or None
    STORE = "store_dir"  # store chosen on the data page (an upload), or None
    FIRES = "fire_file"  # fire records uploaded on the data page, or None
    PANEL = "w_panel"  # the panel shown under the map
    CSP = "w_csp"
    SCOPE = "w_scope"
    MONTHS = "w_months"
    CATEGORIES = "w_categories"
    RESOLUTION = "w_resolution"
    BW_AUTO = "w_bw_auto"
    BANDWIDTH = "w_bandwidth"
    K = "w_k"
    ALPHA = "w_alpha"
    FDR = "w_fdr"
    HARM = "w_harm"
    BASEMAP = "w_basemap"
    IMD = "w_imd"
    GROUPING = "w_grouping"

    @staticmethod
    def flag(name: str) -> str:
        """Widget key of a flag filter."""
        return f"w_flag_{name}"

    @staticmethod
    def layer(name: str) -> str:
        """Widget key of a layer toggle."""
        return f"w_layer_{name}"


def _months_value(view: View, months: Sequence[str]) -> tuple[str, str]:
    lo = view.month_from if view.month_from in months else None
    hi = view.month_to if view.month_to in months else None
    first, last = lo or months[0], hi or months[-1]
    return (first, last) if first <= last else (last, first)


def _seed_widgets(view: View, csp_codes: Sequence[str]) -> None:
    """Give every widget that has no value yet the value ``view`` holds."""
    state = st.session_state
    seeds: dict[str, object] = {
        Keys.CSP: view.csp if view.csp in (ALL_CSPS, *csp_codes) else ALL_CSPS,
        Keys.SCOPE: view.scope,
        Keys.CATEGORIES: list(view.categories),
        Keys.RESOLUTION: view.resolution,
        Keys.BW_AUTO: view.bandwidth_m is None,
        Keys.BANDWIDTH: float(view.bandwidth_m or 400.0),
        Keys.K: view.k,
        Keys.ALPHA: view.alpha,
        Keys.FDR: view.fdr,
        Keys.HARM: view.weight == "harm",
        Keys.BASEMAP: view.basemap,
        Keys.IMD: view.imd,
        Keys.GROUPING: view.grouping,
    }
    seeds.update({Keys.flag(f): f in view.flags for f in FLAG_FILTERS})
    seeds.update({Keys.layer(name): name in view.layers for name in LAYERS})
    for key, value in seeds.items():
        if key not in state:
            state[key] = value
    if Keys.FOCUS not in state:
        state[Keys.FOCUS] = view.focus


def current_grouping() -> str:
    """Return the CSP grouping of this session: the widget's, the view's or the URL's.

    Pages load the CSP boundaries of this grouping before drawing the sidebar.
    """
    state = st.session_state
    if state.get(Keys.GROUPING) in GROUPINGS:
        return str(state[Keys.GROUPING])
    if Keys.VIEW in state:
        return str(state[Keys.VIEW].grouping)
    wanted = st.query_params.get("grouping")
    return str(wanted) if wanted in GROUPINGS else DEFAULTS.grouping


def _grouping_changed() -> None:
    """Start again from all CSPs: a new grouping has other CSPs."""
    st.session_state[Keys.CSP] = ALL_CSPS
    st.session_state[Keys.FOCUS] = None


def initial_view(csp_codes: Sequence[str]) -> View:
    """Return the view to start from: the session's last one, else the URL's."""
    state = st.session_state
    if Keys.VIEW in state:
        view: View = state[Keys.VIEW]
        return view
    params = st.query_params.to_dict()
    view, problems = from_query(params, csp_codes=csp_codes)
    state[Keys.URL_PROBLEMS] = problems
    state.setdefault(Keys.PANEL, panel_from_query(params))
    return view


def sidebar(
    csps: pd.DataFrame,
    months: Sequence[str],
    *,
    unavailable: Mapping[str, str] | None = None,
) -> View:
    """Draw the sidebar controls and return the view they describe.

    Parameters
    ----------
    csps : pandas.DataFrame
        ``csp_code`` and ``csp_name`` of the CSPs on offer.
    months : sequence of str
        Months with data (``YYYY-MM``), oldest first.
    unavailable : mapping of str to str, optional, keyword-only
        Layer keys to show disabled (and leave out of the view), each with the
        reason shown as the checkbox's help (empty: :data:`UNAVAILABLE_HELP`).
        A link asking for such a layer is noted among the URL problems.
    """
    names = dict(zip(csps["csp_code"], csps["csp_name"], strict=True))
    codes = sorted(names, key=lambda c: names[c])
    unavailable = dict(unavailable or {})
    start = initial_view(codes)
    refused = [k for k in start.layers if k in unavailable]
    if refused:
        start = start.with_(layers=tuple(k for k in start.layers if k not in refused))
        st.session_state[Keys.VIEW] = start
        st.session_state.setdefault(Keys.URL_PROBLEMS, []).extend(
            f"layer {LAYERS[k]!r}: {unavailable[k] or UNAVAILABLE_HELP}"
            for k in refused)
    _seed_widgets(start, codes)
    sb = st.sidebar
    sb.header("What to show")
    grouping = sb.selectbox("CSP areas", list(GROUPINGS), key=Keys.GROUPING,
                            on_change=_grouping_changed,
                            format_func=GROUPING_LABELS.__getitem__)
    csp = sb.selectbox("CSP", [ALL_CSPS, *codes], key=Keys.CSP,
                       on_change=set_focus, args=(None,),
                       format_func=lambda c: f"All {len(codes)} CSPs"
                       if c == ALL_CSPS else names[c])
    scope = sb.radio("Hot spots relative to", ["csp", "hips"], key=Keys.SCOPE,
                     format_func=lambda s: "each CSP (per-CSP study area)"
                     if s == "csp" else "all of HIPS", horizontal=False)
    if len(months) >= 2:
        # a range slider must get its default as a tuple: seeding it through
        # session state alone makes a one-thumb slider
        lo, hi = sb.select_slider("Months", options=list(months), key=Keys.MONTHS,
                                  value=_months_value(start, months))
    else:
        lo = hi = months[0] if months else ""
    categories = sb.multiselect("Serious-violence categories (none = all)",
                                list(SV_CATEGORIES), key=Keys.CATEGORIES,
                                format_func=lambda c: SV_CATEGORIES[c])
    sb.caption("Only occurrences with every ticked flag:")
    flags = tuple(f for f, label in FLAG_FILTERS.items()
                  if sb.checkbox(label, key=Keys.flag(f)))
    with sb.expander("Method and parameters"):
        resolution = st.selectbox(
            "H3 resolution", list(RESOLUTIONS), key=Keys.RESOLUTION,
            format_func=lambda r: {7: "7 (1.2 km edge)", 8: "8 (460 m)",
                                   9: "9 (174 m, default)", 10: "10 (66 m, patrol)",
                                   11: "11 (25 m, one CSP)"}[r])
        k = st.selectbox("Gi* neighbour rings (k)", list(K_VALUES), key=Keys.K)
        alpha = st.selectbox("Significance level", list(ALPHAS), key=Keys.ALPHA)
        fdr = st.toggle("False-discovery adjustment (Benjamini-Hochberg)",
                        key=Keys.FDR)
        harm = st.toggle("Weight by harm", key=Keys.HARM)
        auto = st.checkbox("Automatic KDE bandwidth (hot-spot rule: distance to the "
                           "5th nearest point)",
                           key=Keys.BW_AUTO)
        bandwidth = st.number_input("KDE bandwidth (m)", min_value=50.0,
                                    max_value=5000.0, step=50.0,
                                    key=Keys.BANDWIDTH, disabled=auto)
    with sb.expander("Layers", expanded=True):
        layers = tuple(
            name for name, label in LAYERS.items()
            if st.checkbox(label, key=Keys.layer(name),
                           disabled=name in unavailable,
                           help=(unavailable[name] or UNAVAILABLE_HELP)
                           if name in unavailable else None)
            and name not in unavailable
        )
        imd = st.selectbox("Deprivation edition", list(IMD_EDITIONS), key=Keys.IMD,
                           format_func=IMD_EDITIONS.__getitem__,
                           help="For the deprivation layer, panel and the top hot "
                           "spots' deciles. IMD 2019 for comparison with older "
                           "reports.")
        basemap = st.checkbox("Online basemap (needs the internet)",
                              key=Keys.BASEMAP)
    view = View(
        csp=str(csp), scope=str(scope),
        month_from=lo if months and lo != months[0] else None,
        month_to=hi if months and hi != months[-1] else None,
        categories=tuple(categories), flags=flags, resolution=int(resolution),
        bandwidth_m=None if auto else float(bandwidth), k=int(k),
        alpha=float(alpha), fdr=bool(fdr), weight="harm" if harm else "count",
        layers=layers, basemap=bool(basemap),
        focus=st.session_state.get(Keys.FOCUS), imd=str(imd),
        grouping=str(grouping),
    )
    areas = csps.set_index("csp_code")["area_km2"] if "area_km2" in csps else None
    if areas is not None:
        study = areas.sum() if csp == ALL_CSPS or scope == "hips" else areas[csp]
        view, why = affordable(view, area_km2=float(study))
        if why:
            sb.warning(why[0].upper() + why[1:] + ".")
    st.session_state[Keys.VIEW] = view
    sync_url(view)
    return view


def sync_url(view: View) -> None:
    """Rewrite the URL's query parameters from ``view`` and the open panel."""
    wanted = to_query(view) | panel_query(st.session_state.get(Keys.PANEL))
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def set_focus(cell: str | None) -> None:
    """Zoom to a hot spot cell, or back to the CSP with None (a callback)."""
    st.session_state[Keys.FOCUS] = cell

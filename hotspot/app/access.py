"""Who is using the app, and what their role lets them see (:mod:`hotspot.access`).

The policy file is read once per process; each script run resolves the user
from Streamlit's own sign-in (``st.user``, when configured) or the trusted
header a sign-on proxy sets (``st.context.headers``), else the policy's default
role. Pages call :func:`current_access` and ask the result what may be shown:
occurrence points (map), record-level rejects (data page), uploads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import streamlit as st

from hotspot.access import ACCESS_FILE_ENV, Access, AccessPolicy, load_policy
from hotspot.settings import APP_CACHE_ENTRIES, env

logger = logging.getLogger(__name__)

#: Shown instead of record-level tables to a role without ``record_details``.
NO_DETAILS = ("Record-level rows are not shown for your role ({label}); the "
              "counts above are all it may see. Ask an analyst for the rows.")
#: Shown instead of the upload form to a role without ``uploads``.
NO_UPLOADS = "Uploading data is not part of your role ({label})."
#: Shown instead of the operation editing controls to a role without them.
NO_EDIT = ("Creating, duplicating, importing and deleting operations is not part "
           "of your role ({label}); you can view and export them.")


@st.cache_resource(show_spinner=False, max_entries=APP_CACHE_ENTRIES)
def policy(access_file: str | None) -> AccessPolicy:  # noqa: ARG001 - cache key
    """Load the access policy, once per value of ``$HOTSPOT_ACCESS_FILE``.

    :func:`hotspot.access.load_policy` reads the variable itself, so a missing
    file is reported as named by the variable.
    """
    return load_policy()


def _signed_in_email() -> str | None:
    user: Any = st.user
    try:
        if user.get("is_logged_in"):
            email = user.get("email") or user.get("preferred_username")
            return str(email) if email else None
    except (AttributeError, KeyError):
        return None
    return None


def _headers() -> Mapping[str, str]:
    headers = st.context.headers
    return dict(headers.items()) if headers is not None else {}


def current_access() -> Access:
    """Resolve this session's user against the policy."""
    rules = policy(env(ACCESS_FILE_ENV))
    identity = rules.identity_from(signed_in_email=_signed_in_email(),
                                   headers=_headers())
    return rules.resolve(identity=identity)


def allowed_points(near: gpd.GeoDataFrame, access: Access) -> gpd.GeoDataFrame:
    """Keep the occurrence points ``access`` may see (by their CSP)."""
    if not access.role.points:
        return near.iloc[0:0]
    if access.point_csps is None:
        return near
    return near[near["csp_code"].isin(access.point_csps).to_numpy()]


def findings_for(findings: list[dict[str, Any]], access: Access
                 ) -> list[dict[str, Any]]:
    """Data-quality findings as ``access`` may see them.

    A finding's detail may quote example record identifiers ("…, e.g. 4424…");
    roles without ``record_details`` get the sentence without them.
    """
    if access.role.record_details:
        return findings
    return [{**f, "detail": str(f.get("detail", "")).split(", e.g. ")[0]}
            for f in findings]


def sign_in_configured() -> bool:
    """Return True when ``.streamlit/secrets.toml`` holds an ``[auth]`` provider.

    Streamlit's own sign-in (``st.login``, OpenID Connect) is configured there;
    ``docs/deploy.md`` shows the settings for the force's Entra ID.
    """
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, AttributeError):
        return False
    except Exception:  # noqa: BLE001 - Streamlit's own "no secrets" error
        return False


def _is_signed_in() -> bool:
    user: Any = st.user
    try:
        return bool(user.get("is_logged_in"))
    except (AttributeError, KeyError):
        return False


def sidebar_caption(access: Access) -> None:
    """Say in the sidebar who the user is, what that allows; offer sign-in/out."""
    who = access.identity or "not signed in"
    st.sidebar.caption(f"Access: **{access.role.label}** ({who}). "
                       f"{access.source[0].upper()}{access.source[1:]}.")
    if not sign_in_configured():
        return
    if _is_signed_in():
        if st.sidebar.button("Sign out", key="auth_sign_out"):
            audit("sign_out", access)
            st.logout()
    elif st.sidebar.button("Sign in", key="auth_sign_in", type="primary"):
        st.login()


def audit(action: str, access: Access, **details: Any) -> None:
    """Record who did what, when (exports, record-level views, sign-outs).

    One JSON line per event in ``APP_DATA_DIR/audit.jsonl``
    (:func:`hotspot.access.write_audit`).
    """
    from hotspot.audit import write_audit

    write_audit(action, identity=access.identity, role=access.role.name,
                details=details)

"""Who may see what: occurrence points, record-level rows and uploads, by role.

The product maps places, never lists people. Police analysts may see occurrence
points and record-level rows; neighbourhood inspectors may see points in their own
CSPs; partner agencies (councils, health, fire) see counts per hexagon only.

The policy is a TOML file, ``config/access.toml`` by default or the file named by
the ``HOTSPOT_ACCESS_FILE`` environment variable; its format is documented in
``docs/access.md``. This module is plain Python (no Streamlit): the app passes in
the signed-in identity and the request headers, and asks the resolved
:class:`Access` what to show.

Why this module is long: it is the whole access policy in one place (the
policy file's format with a check and a clear error for every key, the three
roles, and resolving a signed-in user to a role); split, one rule would be
read in several files.
"""

from __future__ import annotations

import difflib
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from hotspot import settings
from hotspot.boundaries import HIPS_LADS
from hotspot.errors import InputFileError

log = logging.getLogger(__name__)

#: Environment variable naming the policy file (overrides the shipped default).
ACCESS_FILE_ENV = settings.ENV_ACCESS_FILE
#: The shipped default policy.
DEFAULT_ACCESS_FILE: Path = settings.ROOT / "config" / "access.toml"

#: Keys allowed in each part of the file.
_TOP_KEYS: tuple[str, ...] = ("access", "roles", "users")
_ACCESS_KEYS: tuple[str, ...] = ("default_role", "identity_header")
_ROLE_KEYS: tuple[str, ...] = (
    "label",
    "points",
    "point_csps",
    "record_details",
    "uploads",
    "edit_operations",
)
_USER_KEYS: tuple[str, ...] = ("role", "csps")
#: An HTTP header name (RFC 9110 "token").
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
#: Role of the built-in policy used when the shipped file is missing.
_SAFE_ROLE_NAME = "partner"


@dataclass(frozen=True)
class Role:
    """What one role may see and do.

    Attributes
    ----------
    name
        The role's key in the policy file, e.g. ``"inspector"``.
    label
        Plain-English name shown to users, e.g. ``"Neighbourhood inspector"``.
    points
        Whether the role may see individual occurrence points at all.
    point_csps
        CSP codes where points may be seen; ``None`` means every CSP.
    record_details
        Whether the role may see record-level tables (rejected rows with their
        values, the rejects of uploads).
    uploads
        Whether the role may upload data in the app.
    edit_operations
        Whether the role may create, duplicate, import and delete operations
        (optional in the file; ``false`` when left out). Everyone may view them.
    """

    name: str
    label: str
    points: bool
    point_csps: tuple[str, ...] | None
    record_details: bool
    uploads: bool
    edit_operations: bool = False


@dataclass(frozen=True)
class Access:
    """What one user may see: the resolved role plus who they are.

    Attributes
    ----------
    role
        The user's role.
    identity
        The user's e-mail or user name as signed in; ``None`` when anonymous.
    source
        Plain English: how the role was decided (for a caption or the log).
    point_csps
        CSP codes where this user may see occurrence points: the role's, narrowed
        by the user's own ``csps`` list if the policy gives one. ``None`` means
        every CSP; ``()`` means none (always so when the role has no points).
    """

    role: Role
    identity: str | None
    source: str
    point_csps: tuple[str, ...] | None

    def points_allowed(self, csp_code: str | None) -> bool:
        """Return whether occurrence points may be shown for a CSP.

        Parameters
        ----------
        csp_code
            The CSP on the map; ``None`` means all CSPs at once, allowed only when
            the user may see points in every CSP.

        Returns
        -------
        bool
            ``True`` when the role allows points there. The app still shows them
            only when zoomed in to a hot spot.
        """
        if not self.role.points:
            return False
        if self.point_csps is None:
            return True
        if csp_code is None:
            return False
        return _norm_code(csp_code) in self.point_csps

    def points_reason(
        self, csp_code: str | None, *, names: Mapping[str, str] | None = None
    ) -> str:
        """Say in plain English why occurrence points are or are not shown.

        Parameters
        ----------
        csp_code
            The CSP on the map; ``None`` means all CSPs at once.
        names
            CSP code → name used in the sentence; defaults to the 14 HIPS
            districts. Codes without a name are printed as they are.

        Returns
        -------
        str
            One or two sentences, for a caption under the map.
        """
        lookup = dict(HIPS_LADS) if names is None else dict(names)
        label = self.role.label
        counts_only = "the map shows counts per hexagon only."
        if not self.role.points:
            return f"Occurrence points are off for your role ({label}): {counts_only}"
        if self.point_csps is None:
            return (
                f"Occurrence points are shown in every CSP for your role ({label}) "
                "when you zoom in to a hot spot."
            )
        if not self.point_csps:
            return (
                f"Occurrence points are off for you: none of the CSPs listed for you "
                f"is one your role ({label}) may see points in, so {counts_only}"
            )
        allowed = _join([lookup.get(c, c) for c in self.point_csps])
        if csp_code is None:
            return (
                f"Occurrence points are shown for {allowed} only for your role "
                f"({label}); choose that CSP and zoom in to a hot spot to see them. "
                f"Across all CSPs {counts_only}"
            )
        here = lookup.get(_norm_code(csp_code), csp_code)
        if self.points_allowed(csp_code):
            return (
                f"Occurrence points are shown for {here} for your role ({label}) "
                "when you zoom in to a hot spot."
            )
        return (
            f"Occurrence points are shown for {allowed} only for your role "
            f"({label}); in {here} {counts_only}"
        )


@dataclass(frozen=True)
class AccessPolicy:
    """The roles, the users and the default role of one deployment.

    Attributes
    ----------
    path
        The policy file (for the built-in policy: the missing default file).
    default_role
        Role given to anonymous users and to signed-in users not listed.
    identity_header
        Name of a trusted HTTP header set by a sign-on proxy (for example
        ``"X-Forwarded-Email"``); ``None`` when not used.
    roles
        Role name → :class:`Role`.
    users
        Lower-cased identity → (role name, the user's CSP codes or ``None``).
    built_in
        ``True`` for the safe built-in policy used when the default file is
        missing.
    """

    path: Path
    default_role: str
    identity_header: str | None
    roles: Mapping[str, Role]
    users: Mapping[str, tuple[str, tuple[str, ...] | None]]
    built_in: bool = field(default=False)

    def resolve(self, *, identity: str | None) -> Access:
        """Return what one user may see.

        Parameters
        ----------
        identity
            E-mail or user name of the signed-in user (matched case-insensitively,
            surrounding spaces ignored); ``None`` or blank when not signed in.

        Returns
        -------
        Access
            The user's role and CSPs, with a plain-English ``source``.
        """
        where = self._where()
        default = self.roles[self.default_role]
        name = identity.strip() if identity is not None else ""
        if not name:
            source = (
                f"not signed in: the deployment's default role "
                f"{self.default_role!r} ({where})"
            )
            return _access(default, identity=None, source=source, user_csps=None)
        listed = self.users.get(name.lower())
        if listed is None:
            source = (
                f"signed in as {name}, not listed: default role "
                f"{self.default_role!r} ({where})"
            )
            return _access(default, identity=name, source=source, user_csps=None)
        role_name, csps = listed
        source = f"signed in as {name} (listed in {where})"
        return _access(
            self.roles[role_name], identity=name, source=source, user_csps=csps
        )

    def identity_from(
        self, *, signed_in_email: str | None, headers: Mapping[str, str]
    ) -> str | None:
        """Return who the user is, from the app's sign-in or a trusted header.

        Parameters
        ----------
        signed_in_email
            E-mail from Streamlit's own sign-in (``st.user.email``); wins when
            given.
        headers
            The request's HTTP headers (``st.context.headers``). Read only when
            ``identity_header`` is set; the header name is matched
            case-insensitively.

        Returns
        -------
        str or None
            The identity, surrounding spaces stripped; ``None`` when anonymous.
            A header value holding a comma (the header was sent twice, so one
            copy did not come from the proxy) is refused and logged.
        """
        if signed_in_email is not None and signed_in_email.strip():
            return signed_in_email.strip()
        if self.identity_header is None:
            return None
        wanted = self.identity_header.lower()
        values = [v.strip() for k, v in headers.items() if k.lower() == wanted]
        if not values:
            return None
        value = values[0]
        if len(values) > 1 or "," in value:
            log.warning(
                "access: header %s holds more than one identity; treated as not "
                "signed in",
                self.identity_header,
            )
            return None
        return value or None

    def _where(self) -> str:
        shown = _display(self.path)
        if self.built_in:
            return f"built-in safe policy because {shown} is missing"
        return shown


# ------------------------------------------------------------------- loading
def load_policy(path: Path | str | None = None) -> AccessPolicy:
    """Read the access policy.

    Parameters
    ----------
    path
        The policy file. ``None``: the file named by ``HOTSPOT_ACCESS_FILE`` when
        that is set (and not blank), else ``config/access.toml``.

    Returns
    -------
    AccessPolicy
        The policy. When ``path`` is ``None``, the variable is unset and the
        default file is missing, a safe built-in policy (one role, ``partner``:
        no points, no record details, no uploads) with a logged warning.

    Raises
    ------
    InputFileError
        When a named file (argument or environment variable) is missing, or the
        file is not TOML or breaks the format; the message names the file, the
        key, what was expected and what arrived.
    """
    if path is None:
        env = (settings.env(ACCESS_FILE_ENV) or "").strip()
        if env:
            return _read_policy(Path(env), named_by=f"${ACCESS_FILE_ENV}")
        default = DEFAULT_ACCESS_FILE
        if not default.exists():
            log.warning(
                "access: %s is missing; using the built-in safe policy: everyone "
                "is a partner agency (no occurrence points, no record details, no "
                "uploads)",
                default,
            )
            return _safe_policy(default)
        return _read_policy(default, named_by="the default")
    return _read_policy(Path(path), named_by="the caller")


def _safe_policy(path: Path) -> AccessPolicy:
    role = Role(
        name=_SAFE_ROLE_NAME,
        label="Partner agency",
        points=False,
        point_csps=None,
        record_details=False,
        uploads=False,
    )
    return AccessPolicy(
        path=path,
        default_role=role.name,
        identity_header=None,
        roles=MappingProxyType({role.name: role}),
        users=MappingProxyType({}),
        built_in=True,
    )


def _read_policy(path: Path, *, named_by: str) -> AccessPolicy:
    """Check → parse each part → package, for one policy file."""
    if not path.is_file():
        raise InputFileError(
            path, f"access policy file does not exist (named by {named_by})"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"not a valid TOML file: {exc}") from exc
    _known_keys(data, allowed=_TOP_KEYS, path=path, key="the top level")
    default_role, identity_header = _parse_access(data.get("access"), path=path)
    roles = _parse_roles(data.get("roles"), path=path)
    if default_role not in roles:
        raise InputFileError(
            path,
            f"access.default_role must name a role defined under [roles] "
            f"({_listing(roles)}); got {default_role!r}",
        )
    users = _parse_users(data.get("users", {}), roles=roles, path=path)
    policy = AccessPolicy(
        path=path,
        default_role=default_role,
        identity_header=identity_header,
        roles=MappingProxyType(roles),
        users=MappingProxyType(users),
    )
    log.info(
        "access: %s: %d role(s), %d user(s), default role %r, identity header %s",
        path,
        len(roles),
        len(users),
        default_role,
        identity_header or "not used",
    )
    return policy


def _parse_access(value: Any, *, path: Path) -> tuple[str, str | None]:
    if value is None:
        raise InputFileError(
            path, 'needs an [access] table with default_role = "<role name>"'
        )
    table = _table(value, path=path, key="access")
    _known_keys(table, allowed=_ACCESS_KEYS, path=path, key="access")
    if "default_role" not in table:
        raise InputFileError(
            path, "access.default_role is missing; expected the name of a role"
        )
    default_role = table["default_role"]
    if not isinstance(default_role, str) or not default_role.strip():
        _wrong(path, "access.default_role", "the name of a role", default_role)
    header = table.get("identity_header", "")
    if not isinstance(header, str):
        _wrong(
            path,
            "access.identity_header",
            'an HTTP header name such as "X-Forwarded-Email", or ""',
            header,
        )
    header = header.strip()
    if header and not _HEADER_NAME.match(header):
        _wrong(
            path,
            "access.identity_header",
            'an HTTP header name such as "X-Forwarded-Email" (letters, digits '
            'and hyphens, no spaces or colon), or ""',
            header,
        )
    return default_role.strip(), header or None


def _parse_roles(value: Any, *, path: Path) -> dict[str, Role]:
    if value is None:
        raise InputFileError(
            path, "needs a [roles] table with at least one [roles.<name>] table"
        )
    table = _table(value, path=path, key="roles")
    if not table:
        raise InputFileError(path, "roles: expected at least one role; got none")
    return {name: _parse_role(name, spec, path=path) for name, spec in table.items()}


def _parse_role(name: str, value: Any, *, path: Path) -> Role:
    key = f"roles.{name}"
    table = _table(value, path=path, key=key)
    _known_keys(table, allowed=_ROLE_KEYS, path=path, key=key)
    missing = [k for k in _ROLE_KEYS
               if k not in table and k not in ("point_csps", "edit_operations")]
    if missing:
        raise InputFileError(
            path,
            f"{key} is missing {', '.join(missing)}; every role needs "
            "label, points, record_details and uploads",
        )
    label = table["label"]
    if not isinstance(label, str) or not label.strip():
        _wrong(path, f"{key}.label", "a plain-English name in quotes", label)
    flags = {
        flag: _boolean(table[flag], path=path, key=f"{key}.{flag}")
        for flag in ("points", "record_details", "uploads")
    }
    point_csps = _csps(
        table.get("point_csps", "all"), path=path, key=f"{key}.point_csps"
    )
    edit_operations = _boolean(table.get("edit_operations", False), path=path,
                               key=f"{key}.edit_operations")
    return Role(
        name=name,
        label=label.strip(),
        points=flags["points"],
        point_csps=point_csps,
        record_details=flags["record_details"],
        uploads=flags["uploads"],
        edit_operations=edit_operations,
    )


def _parse_users(
    value: Any, *, roles: Mapping[str, Role], path: Path
) -> dict[str, tuple[str, tuple[str, ...] | None]]:
    table = _table(value, path=path, key="users")
    users: dict[str, tuple[str, tuple[str, ...] | None]] = {}
    for identity, spec in table.items():
        key = f'users."{identity}"'
        ident = identity.strip().lower()
        if not ident:
            raise InputFileError(path, "users: an identity is blank")
        if ident in users:
            raise InputFileError(
                path, f"{key}: listed twice (identities ignore case and spaces)"
            )
        role_name, csps = _parse_user(spec, path=path, key=key)
        if role_name not in roles:
            _wrong(
                path,
                f"{key}.role",
                f"a role defined under [roles] ({_listing(roles)})",
                role_name,
            )
        role = roles[role_name]
        if csps is not None and role.point_csps is not None:
            dropped = [c for c in csps if c not in role.point_csps]
            if dropped:
                log.warning(
                    "access: %s: %s lists CSP(s) %s that role %r excludes; no "
                    "points there",
                    path,
                    key,
                    ", ".join(dropped),
                    role_name,
                )
        users[ident] = (role_name, csps)
    return users


def _parse_user(
    value: Any, *, path: Path, key: str
) -> tuple[str, tuple[str, ...] | None]:
    if isinstance(value, str):
        return value.strip(), None
    if not isinstance(value, dict):
        _wrong(
            path, key, '{ role = "<role name>", csps = [...] } or "<role name>"', value
        )
    _known_keys(value, allowed=_USER_KEYS, path=path, key=key)
    if "role" not in value:
        raise InputFileError(path, f"{key}.role is missing; expected a role name")
    role_name = value["role"]
    if not isinstance(role_name, str):
        _wrong(path, f"{key}.role", "a role name in quotes", role_name)
    if "csps" not in value:
        return role_name.strip(), None
    return role_name.strip(), _csps(value["csps"], path=path, key=f"{key}.csps")


# ------------------------------------------------------------------- checks
def _table(value: Any, *, path: Path, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _wrong(path, key, "a table", value)
    return value


def _known_keys(
    table: Mapping[str, Any], *, allowed: Iterable[str], path: Path, key: str
) -> None:
    allowed = tuple(allowed)
    for name in table:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputFileError(
                path,
                f"{key}: unknown key {name!r}{hint}; allowed keys are "
                f"{', '.join(allowed)}",
            )


def _boolean(value: Any, *, path: Path, key: str) -> bool:
    if not isinstance(value, bool):
        _wrong(path, key, "true or false (no quotes)", value)
    return value


def _csps(value: Any, *, path: Path, key: str) -> tuple[str, ...] | None:
    """Parse ``"all"`` (→ ``None``) or a non-empty list of HIPS CSP codes."""
    if isinstance(value, str) and value.strip().lower() == "all":
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _wrong(path, key, '"all" or a list of CSP codes such as ["E06000045"]', value)
    if not value:
        _wrong(
            path,
            key,
            '"all" or a non-empty list of CSP codes (to show no points, set '
            "points = false on the role)",
            value,
        )
    codes: list[str] = []
    for raw in value:
        code = _norm_code(raw)
        if code not in HIPS_LADS:
            by_name = {n.lower(): c for c, n in HIPS_LADS.items()}
            hint = (
                f" (the code of {raw.strip()} is {by_name[raw.strip().lower()]})"
                if raw.strip().lower() in by_name
                else ""
            )
            raise InputFileError(
                path,
                f"{key}: unknown CSP code {raw!r}{hint}; expected codes of the 14 "
                f"HIPS CSPs: {', '.join(HIPS_LADS)}",
            )
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def _wrong(path: Path, key: str, expected: str, got: Any) -> NoReturn:
    """Raise the error for a value of the wrong kind."""
    raise InputFileError(path, f"{key} must be {expected}; got {got!r} ({_kind(got)})")


def _kind(value: Any) -> str:
    kinds = {
        bool: "true/false",
        str: "text",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    return kinds.get(type(value), type(value).__name__)


# ------------------------------------------------------------------- helpers
def _access(
    role: Role,
    *,
    identity: str | None,
    source: str,
    user_csps: tuple[str, ...] | None,
) -> Access:
    """Package an :class:`Access`, narrowing the role's CSPs by the user's."""
    if not role.points:
        csps: tuple[str, ...] | None = ()
    elif user_csps is None:
        csps = role.point_csps
    elif role.point_csps is None:
        csps = user_csps
    else:
        csps = tuple(c for c in user_csps if c in role.point_csps)
    return Access(role=role, identity=identity, source=source, point_csps=csps)


def _norm_code(code: str) -> str:
    return code.strip().upper()


def _join(items: list[str]) -> str:
    """Return ``"a"``, ``"a and b"`` or ``"a, b and c"``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _listing(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _display(path: Path) -> str:
    """Return ``path`` relative to the repository when inside it."""
    try:
        return path.resolve().relative_to(settings.ROOT.resolve()).as_posix()
    except ValueError:
        return str(path)

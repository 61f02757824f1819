"""Tests of hotspot.access: the policy file, resolving users, and what they see."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hotspot import access
from hotspot.access import (
    ACCESS_FILE_ENV,
    DEFAULT_ACCESS_FILE,
    Access,
    AccessPolicy,
    Role,
    load_policy,
)
from hotspot.boundaries import HIPS_LADS
from hotspot.errors import InputFileError

SOUTHAMPTON = "E06000045"
PORTSMOUTH = "E06000044"
EASTLEIGH = "E07000086"

#: A small valid policy; tests replace parts of it to break it.
ACCESS = """
[access]
default_role = "partner"
identity_header = "X-Forwarded-Email"
"""
ROLES = """
[roles.analyst]
label = "Police / VRU analyst"
points = true
point_csps = "all"
record_details = true
uploads = true

[roles.inspector]
label = "Neighbourhood inspector"
points = true
point_csps = ["E06000045", "E06000044"]
record_details = false
uploads = false

[roles.partner]
label = "Partner agency"
points = false
record_details = false
uploads = false
"""
USERS = """
[users]
"Ann.Analyst@Example.org" = { role = "analyst" }
"south@example.org" = { role = "inspector", csps = ["E06000045"] }
"both@example.org" = { role = "inspector" }
"outside@example.org" = { role = "inspector", csps = ["E07000086"] }
" free@example.org " = "analyst"
"""


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a deployment's HOTSPOT_ACCESS_FILE out of the tests."""
    monkeypatch.delenv(ACCESS_FILE_ENV, raising=False)


def write(tmp_path: Path, text: str, *, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def policy(tmp_path: Path) -> AccessPolicy:
    return load_policy(write(tmp_path, ACCESS + ROLES + USERS))


# ----------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------


def test_shipped_file_is_private_by_default() -> None:
    shipped = load_policy(DEFAULT_ACCESS_FILE)
    assert shipped.default_role == "partner"
    assert set(shipped.roles) == {"analyst", "inspector", "partner"}
    assert shipped.identity_header is None
    assert dict(shipped.users) == {}
    assert not shipped.built_in
    analyst, inspector, partner = (
        shipped.roles[n] for n in ("analyst", "inspector", "partner")
    )
    assert (analyst.points, analyst.point_csps, analyst.record_details) == (
        True,
        None,
        True,
    )
    assert analyst.uploads
    assert inspector.points and not inspector.record_details and not inspector.uploads
    assert not (partner.points or partner.record_details or partner.uploads)
    assert analyst.edit_operations and inspector.edit_operations
    assert not partner.edit_operations


def test_the_demonstration_file_differs_only_in_its_default_role() -> None:
    demo = load_policy(DEFAULT_ACCESS_FILE.with_name("access-demo.toml"))
    shipped = load_policy(DEFAULT_ACCESS_FILE)
    assert demo.default_role == "analyst"
    assert demo.roles == shipped.roles and demo.users == shipped.users
    assert demo.identity_header == shipped.identity_header


def test_the_app_listens_on_this_machine_only_by_default() -> None:
    from hotspot.cli.serve import DEFAULT_ADDRESS, streamlit_argv

    assert DEFAULT_ADDRESS == "127.0.0.1"
    argv = streamlit_argv(port=8501, address=DEFAULT_ADDRESS)
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"


def test_no_argument_reads_the_shipped_file() -> None:
    assert load_policy().path == DEFAULT_ACCESS_FILE
    assert DEFAULT_ACCESS_FILE.parts[-2:] == ("config", "access.toml")


def test_missing_default_file_gives_safe_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "config" / "access.toml"
    monkeypatch.setattr(access, "DEFAULT_ACCESS_FILE", missing)
    with caplog.at_level(logging.WARNING, logger="hotspot.access"):
        safe = load_policy()
    assert safe.built_in
    assert safe.default_role == "partner"
    assert list(safe.roles) == ["partner"]
    role = safe.roles["partner"]
    assert not (role.points or role.record_details or role.uploads)
    assert str(missing) in caplog.text and "safe" in caplog.text
    who = safe.resolve(identity="anyone@example.org")
    assert who.role.name == "partner"
    assert "built-in safe policy" in who.source


def test_env_var_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, ACCESS + ROLES + USERS, name="deployment.toml")
    monkeypatch.setenv(ACCESS_FILE_ENV, str(path))
    assert load_policy().path == path
    assert load_policy().default_role == "partner"


def test_env_var_naming_missing_file_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.toml"
    monkeypatch.setenv(ACCESS_FILE_ENV, str(missing))
    with pytest.raises(InputFileError, match="does not exist") as info:
        load_policy()
    assert str(missing) in str(info.value)
    assert ACCESS_FILE_ENV in str(info.value)


def test_explicit_missing_file_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(InputFileError, match="does not exist") as info:
        load_policy(missing)
    assert info.value.path == str(missing)


# ----------------------------------------------------------------------------
# validation: every message names the file and the key
# ----------------------------------------------------------------------------

ROLE_FIELDS = 'label = "X"\npoints = true\nrecord_details = false\nuploads = false\n'

BROKEN: list[tuple[str, str, tuple[str, ...]]] = [
    ("not_toml", "[access\ndefault_role = ", ("not a valid TOML",)),
    ("no_access_table", ROLES, ("[access]", "default_role")),
    ("no_default_role", "[access]\n" + ROLES, ("access.default_role", "missing")),
    (
        "default_role_undefined",
        '[access]\ndefault_role = "boss"\n' + ROLES,
        ("access.default_role", "'boss'", "'analyst'"),
    ),
    (
        "default_role_not_text",
        "[access]\ndefault_role = 3\n" + ROLES,
        ("access.default_role", "got 3"),
    ),
    (
        "points_not_boolean",
        ACCESS + '[roles.inspector]\nlabel = "X"\npoints = "yes"\n'
        "record_details = false\nuploads = false\n",
        ("roles.inspector.points", "true or false", "'yes'"),
    ),
    (
        "uploads_not_boolean",
        ACCESS + '[roles.partner]\nlabel = "X"\npoints = false\n'
        "record_details = false\nuploads = 0\n",
        ("roles.partner.uploads", "true or false", "got 0"),
    ),
    (
        "point_csps_wrong_word",
        ACCESS + "[roles.partner]\n" + ROLE_FIELDS + 'point_csps = "every"\n',
        ("roles.partner.point_csps", '"all" or a list of CSP codes', "'every'"),
    ),
    (
        "point_csps_unknown_code",
        ACCESS + "[roles.partner]\n" + ROLE_FIELDS + 'point_csps = ["E06000099"]\n',
        ("roles.partner.point_csps", "unknown CSP code 'E06000099'", SOUTHAMPTON),
    ),
    (
        "point_csps_name_not_code",
        ACCESS + "[roles.partner]\n" + ROLE_FIELDS + 'point_csps = ["Southampton"]\n',
        ("roles.partner.point_csps", "the code of Southampton is E06000045"),
    ),
    (
        "point_csps_empty",
        ACCESS + "[roles.partner]\n" + ROLE_FIELDS + "point_csps = []\n",
        ("roles.partner.point_csps", "non-empty", "points = false"),
    ),
    (
        "typo_in_role_key",
        ACCESS + "[roles.partner]\n" + ROLE_FIELDS + "point = true\n",
        ("roles.partner", "unknown key 'point'", "did you mean 'points'", "uploads"),
    ),
    (
        "role_field_missing",
        ACCESS + '[roles.partner]\nlabel = "X"\npoints = false\n',
        ("roles.partner", "missing record_details, uploads"),
    ),
    (
        "typo_in_access_key",
        ACCESS + 'identity_headr = "X"\n' + ROLES,
        ("access", "unknown key 'identity_headr'", "identity_header"),
    ),
    (
        "unknown_top_table",
        ACCESS + ROLES + "[user]\n",
        ("the top level", "unknown key 'user'", "did you mean 'users'"),
    ),
    ("no_roles", ACCESS + USERS, ("[roles]",)),
    (
        "user_undefined_role",
        ACCESS + ROLES + '[users]\n"a@b.org" = { role = "boss" }\n',
        ('users."a@b.org".role', "a role defined under [roles]", "'boss'"),
    ),
    (
        "user_unknown_csp",
        ACCESS + ROLES + '[users]\n"a@b.org" = { role = "analyst", csps = ["X1"] }\n',
        ('users."a@b.org".csps', "unknown CSP code 'X1'"),
    ),
    (
        "user_typo_key",
        ACCESS + ROLES + '[users]\n"a@b.org" = { role = "analyst", csp = ["X1"] }\n',
        ('users."a@b.org"', "unknown key 'csp'", "did you mean 'csps'"),
    ),
    (
        "user_listed_twice",
        ACCESS + ROLES + '[users]\n"a@b.org" = "analyst"\n"A@B.org" = "partner"\n',
        ('users."A@B.org"', "listed twice"),
    ),
    (
        "user_not_table",
        ACCESS + ROLES + '[users]\n"a@b.org" = 3\n',
        ('users."a@b.org"', "role =", "got 3"),
    ),
    (
        "header_with_colon",
        '[access]\ndefault_role = "partner"\nidentity_header = "X-Email:"\n' + ROLES,
        ("access.identity_header", "HTTP header name", "'X-Email:'"),
    ),
    (
        "header_with_space",
        '[access]\ndefault_role = "partner"\nidentity_header = "X Email"\n' + ROLES,
        ("access.identity_header", "'X Email'"),
    ),
    (
        "header_not_text",
        '[access]\ndefault_role = "partner"\nidentity_header = true\n' + ROLES,
        ("access.identity_header", "got True"),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [(text, expected) for _, text, expected in BROKEN],
    ids=[name for name, _, _ in BROKEN],
)
def test_malformed_file_names_file_and_key(
    tmp_path: Path, text: str, expected: tuple[str, ...]
) -> None:
    path = write(tmp_path, text, name="broken-policy.toml")
    with pytest.raises(InputFileError) as info:
        load_policy(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert info.value.path == str(path)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_errors_are_also_value_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "[access]\n" + ROLES)
    with pytest.raises(ValueError, match="default_role"):
        load_policy(path)


def test_user_csp_outside_role_is_dropped_with_warning(
    policy: AccessPolicy, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with caplog.at_level(logging.WARNING, logger="hotspot.access"):
        load_policy(write(tmp_path, ACCESS + ROLES + USERS, name="again.toml"))
    assert "E07000086" in caplog.text and "inspector" in caplog.text
    who = policy.resolve(identity="outside@example.org")
    assert who.point_csps == ()
    assert not who.points_allowed(EASTLEIGH)
    assert not who.points_allowed(SOUTHAMPTON)


def test_codes_are_normalised_and_deduplicated(tmp_path: Path) -> None:
    text = (
        ACCESS + ROLES + '[users]\n"a@b.org" = { role = "analyst", csps = '
        '[" e06000045", "E06000045", "E06000044"] }\n'
    )
    loaded = load_policy(write(tmp_path, text))
    assert loaded.users["a@b.org"] == ("analyst", (SOUTHAMPTON, PORTSMOUTH))


def test_identity_header_blank_means_unused(tmp_path: Path) -> None:
    text = '[access]\ndefault_role = "partner"\nidentity_header = "  "\n' + ROLES
    assert load_policy(write(tmp_path, text)).identity_header is None


# ----------------------------------------------------------------------------
# resolving users
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "role", "csps", "shown_identity"),
    [
        ("Ann.Analyst@Example.org", "analyst", None, "Ann.Analyst@Example.org"),
        ("  ann.analyst@example.ORG ", "analyst", None, "ann.analyst@example.ORG"),
        ("FREE@example.org", "analyst", None, "FREE@example.org"),
        ("south@example.org", "inspector", (SOUTHAMPTON,), "south@example.org"),
        (
            "both@example.org",
            "inspector",
            (SOUTHAMPTON, PORTSMOUTH),
            "both@example.org",
        ),
        ("stranger@example.org", "partner", (), "stranger@example.org"),
        (None, "partner", (), None),
        ("   ", "partner", (), None),
    ],
    ids=[
        "listed",
        "listed_other_case_and_spaces",
        "listed_by_shorthand",
        "inspector_narrowed",
        "inspector_role_csps",
        "unlisted",
        "anonymous",
        "blank_is_anonymous",
    ],
)
def test_resolve(
    policy: AccessPolicy,
    identity: str | None,
    role: str,
    csps: tuple[str, ...] | None,
    shown_identity: str | None,
) -> None:
    who = policy.resolve(identity=identity)
    assert who.role.name == role
    assert who.point_csps == csps
    assert who.identity == shown_identity


def test_resolve_sources_say_how(policy: AccessPolicy) -> None:
    listed = policy.resolve(identity="south@example.org").source
    assert listed.startswith("signed in as south@example.org (listed in ")
    assert "policy.toml" in listed
    unlisted = policy.resolve(identity="x@example.org").source
    assert unlisted.startswith("signed in as x@example.org, not listed: default role")
    assert "'partner'" in unlisted
    anonymous = policy.resolve(identity=None).source
    assert anonymous.startswith(
        "not signed in: the deployment's default role 'partner'"
    )


def test_shipped_source_names_file_relative_to_repository() -> None:
    source = load_policy(DEFAULT_ACCESS_FILE).resolve(identity=None).source
    assert source == (
        "not signed in: the deployment's default role 'partner' (config/access.toml)"
    )


def test_role_user_csps_narrow_when_role_allows_all(tmp_path: Path) -> None:
    text = (
        ACCESS
        + ROLES
        + '[users]\n"a@b.org" = { role = "analyst", csps = ["E07000086"] }\n'
    )
    who = load_policy(write(tmp_path, text)).resolve(identity="a@b.org")
    assert who.point_csps == (EASTLEIGH,)
    assert who.role.point_csps is None


# ----------------------------------------------------------------------------
# points allowed, and why
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "csp", "allowed"),
    [
        ("ann.analyst@example.org", SOUTHAMPTON, True),
        ("ann.analyst@example.org", None, True),
        ("south@example.org", SOUTHAMPTON, True),
        ("south@example.org", " e06000045 ", True),
        ("south@example.org", PORTSMOUTH, False),
        ("south@example.org", None, False),
        ("both@example.org", PORTSMOUTH, True),
        ("both@example.org", EASTLEIGH, False),
        ("stranger@example.org", SOUTHAMPTON, False),
        ("stranger@example.org", None, False),
    ],
    ids=[
        "analyst_one_csp",
        "analyst_all_csps",
        "inspector_own_csp",
        "inspector_own_csp_untidy_code",
        "inspector_other_csp",
        "inspector_all_csps",
        "inspector_role_csp",
        "inspector_outside_role",
        "partner_one_csp",
        "partner_all_csps",
    ],
)
def test_points_allowed(
    policy: AccessPolicy, identity: str, csp: str | None, allowed: bool
) -> None:
    assert policy.resolve(identity=identity).points_allowed(csp) is allowed


def test_points_off_role_ignores_its_csps() -> None:
    role = Role(
        name="p",
        label="P",
        points=False,
        point_csps=None,
        record_details=False,
        uploads=False,
    )
    who = Access(role=role, identity=None, source="test", point_csps=None)
    assert not who.points_allowed(None)
    assert not who.points_allowed(SOUTHAMPTON)


@pytest.mark.parametrize(
    ("identity", "csp", "expected"),
    [
        (
            "stranger@example.org",
            SOUTHAMPTON,
            "Occurrence points are off for your role (Partner agency): "
            "the map shows counts per hexagon only.",
        ),
        (
            "ann.analyst@example.org",
            None,
            "Occurrence points are shown in every CSP for your role "
            "(Police / VRU analyst) when you zoom in to a hot spot.",
        ),
        (
            "south@example.org",
            SOUTHAMPTON,
            "Occurrence points are shown for Southampton for your role "
            "(Neighbourhood inspector) when you zoom in to a hot spot.",
        ),
        (
            "south@example.org",
            PORTSMOUTH,
            "Occurrence points are shown for Southampton only for your role "
            "(Neighbourhood inspector); in Portsmouth the map shows counts per "
            "hexagon only.",
        ),
        (
            "both@example.org",
            None,
            "Occurrence points are shown for Southampton and Portsmouth only for "
            "your role (Neighbourhood inspector); choose that CSP and zoom in to a "
            "hot spot to see them. Across all CSPs the map shows counts per hexagon "
            "only.",
        ),
        (
            "outside@example.org",
            EASTLEIGH,
            "Occurrence points are off for you: none of the CSPs listed for you is "
            "one your role (Neighbourhood inspector) may see points in, so the map "
            "shows counts per hexagon only.",
        ),
    ],
    ids=[
        "partner",
        "analyst",
        "inspector_own",
        "inspector_other",
        "inspector_all",
        "inspector_none_left",
    ],
)
def test_points_reason(
    policy: AccessPolicy, identity: str, csp: str | None, expected: str
) -> None:
    assert policy.resolve(identity=identity).points_reason(csp) == expected


def test_points_reason_uses_given_names(policy: AccessPolicy) -> None:
    who = policy.resolve(identity="south@example.org")
    reason = who.points_reason(PORTSMOUTH, names={SOUTHAMPTON: "Soton"})
    assert "shown for Soton only" in reason
    assert f"in {PORTSMOUTH} the map" in reason


def test_points_reason_agrees_with_points_allowed(policy: AccessPolicy) -> None:
    for identity in ("ann.analyst@example.org", "south@example.org", "x@y.org"):
        who = policy.resolve(identity=identity)
        for csp in (None, *HIPS_LADS):
            reason = who.points_reason(csp)
            shown = "counts per hexagon only" not in reason
            assert shown is who.points_allowed(csp), (identity, csp, reason)


# ----------------------------------------------------------------------------
# who the user is
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_in", "headers", "expected"),
    [
        ("me@a.org", {"X-Forwarded-Email": "proxy@a.org"}, "me@a.org"),
        (None, {"X-Forwarded-Email": " proxy@a.org "}, "proxy@a.org"),
        ("", {"x-forwarded-email": "proxy@a.org"}, "proxy@a.org"),
        ("  ", {"X-FORWARDED-EMAIL": "proxy@a.org"}, "proxy@a.org"),
        (None, {"X-Forwarded-User": "proxy"}, None),
        (None, {"X-Forwarded-Email": "  "}, None),
        (None, {"X-Forwarded-Email": "evil@a.org, proxy@a.org"}, None),
        (None, {"x-forwarded-email": "a@a.org", "X-Forwarded-Email": "b@a.org"}, None),
        (None, {}, None),
    ],
    ids=[
        "signed_in_beats_header",
        "header_stripped",
        "header_name_lower_case",
        "blank_sign_in_falls_to_header",
        "other_header",
        "blank_header",
        "header_sent_twice_joined",
        "header_sent_twice_separately",
        "nothing",
    ],
)
def test_identity_from(
    policy: AccessPolicy,
    signed_in: str | None,
    headers: dict[str, str],
    expected: str | None,
) -> None:
    assert policy.identity_from(signed_in_email=signed_in, headers=headers) == expected


def test_identity_header_ignored_when_unset() -> None:
    shipped = load_policy(DEFAULT_ACCESS_FILE)
    headers = {"X-Forwarded-Email": "claims@a.org"}
    assert shipped.identity_from(signed_in_email=None, headers=headers) is None
    assert shipped.identity_from(signed_in_email="me@a.org", headers=headers) == (
        "me@a.org"
    )


def test_edit_operations_is_optional_and_false_when_left_out(
        policy: AccessPolicy, tmp_path: Path) -> None:
    # the test policy's roles leave it out
    assert not any(r.edit_operations for r in policy.roles.values())
    given = ROLES.replace("uploads = true\n",
                          "uploads = true\nedit_operations = true\n", 1)
    loaded = load_policy(write(tmp_path, ACCESS + given + USERS))
    assert loaded.roles["analyst"].edit_operations
    assert not loaded.roles["partner"].edit_operations


def test_edit_operations_must_be_true_or_false(tmp_path: Path) -> None:
    bad = ROLES.replace('uploads = true\n', 'uploads = true\nedit_operations = "yes"\n',
                        1)
    path = write(tmp_path, ACCESS + bad + USERS)
    with pytest.raises(InputFileError, match=r"roles\.analyst\.edit_operations") as err:
        load_policy(path)
    assert str(path.name) in str(err.value)

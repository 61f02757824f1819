"""View files (``docs/exports.md``): a :class:`~hotspot.view.View`, what to export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hotspot.errors import ParameterError
from hotspot.settings import (
    DEFAULTS,
)
from hotspot.view import (
    _MONTH,
    ALL_CSPS,
    DEFAULT_EXPORT_SECTIONS,
    DEFAULT_VIEW,
    EXPORT_SECTIONS,
    LAYER_ALIASES,
    View,
    check_view,
    logger,
)

# ------------------------------------------------------------------ view files
#: Keys a view file may hold at its top level.
VIEW_FILE_KEYS = frozenset({
    "title", "store", "csp", "grouping", "from", "to", "categories", "flags",
    "unknown_flags", "include_flagged", "layers", "parameters", "disclosure",
    "fires", "operations", "imd_edition",
})
#: Keys of a view file's ``[parameters]`` table (analysis settings).
VIEW_FILE_PARAMETERS = frozenset({"scope", "resolution", "k", "alpha", "fdr",
                                  "weight", "bandwidth_m", "cell_size_m"})


@dataclass(frozen=True)
class ViewFile:
    """A view file (``docs/exports.md``): one :class:`View` plus what to export.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    store : pathlib.Path
        Occurrence store (relative paths are taken from the file's folder).
    view : View
        The selection and settings (``csp`` stays ``"all"``: see :attr:`csp`).
    csp : str
        CSP name or code as written, or ``"all"`` (resolved against the CSPs
        of the view's grouping when the export is built).
    sections : tuple of str
        What to export (:data:`EXPORT_SECTIONS`).
    disclosure : dict
        The ``[disclosure]`` table as written (the export applies it, never
        below the deployment's floor).
    title : str or None
        Title; made from the CSP and categories when None.
    fires, operations : pathlib.Path or None
        A fire-incident file and an operations file.
    notes : tuple of str
        Old spellings that were mapped to current ones.
    """

    path: Any
    store: Any
    view: View = DEFAULT_VIEW
    csp: str = ALL_CSPS
    sections: tuple[str, ...] = DEFAULT_EXPORT_SECTIONS
    disclosure: Mapping[str, Any] = field(default_factory=dict)
    title: str | None = None
    fires: Any = None
    operations: Any = None
    notes: tuple[str, ...] = ()


def load_view(path: Any) -> ViewFile:
    """Read a view file (TOML, or JSON when it ends in ``.json``).

    Old spellings are accepted and mapped with a note (layers ``hotspots`` →
    ``gistar``, ``deprivation`` → ``imd``; flags ``non_domestic`` →
    ``nondomestic``, ``under_25`` → ``under25``).

    Raises
    ------
    InputFileError
        When the file is missing, unreadable, or holds an unknown key or a value
        of the wrong kind; the message names the file and the key.
    """
    import json
    import tomllib
    from pathlib import Path

    from hotspot.errors import InputFileError
    from hotspot.selection import canonical_flags

    source = Path(path)
    if not source.is_file():
        raise InputFileError(source, "view file does not exist")
    try:
        text = source.read_text(encoding="utf-8-sig")
        raw: Any = (json.loads(text) if source.suffix.lower() == ".json"
                    else tomllib.loads(text))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InputFileError(source, f"not a valid view file: {str(exc)[:200]}"
                             ) from None
    if not isinstance(raw, dict):
        raise InputFileError(source, "a view file must hold a table of keys, got "
                             f"{type(raw).__name__}")
    unknown = set(raw) - VIEW_FILE_KEYS
    if unknown:
        raise InputFileError(source, f"unknown keys {sorted(unknown)}; allowed: "
                             f"{sorted(VIEW_FILE_KEYS)}")
    if "store" not in raw:
        raise InputFileError(source, "store is missing: name the occurrence store "
                             "folder (e.g. store = \"../data/default_store\")")
    notes: list[str] = []

    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise InputFileError(source, f"{key} must be a string or a list of strings, "
                             f"got {value!r}")

    def rel(key: str) -> Path | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InputFileError(source, f"{key} must be a path string, got "
                                 f"{value!r}")
        p = Path(value)
        return p if p.is_absolute() else source.parent / p

    sections = []
    for name in strings("layers") or DEFAULT_EXPORT_SECTIONS:
        new = LAYER_ALIASES.get(name, name)
        if new != name:
            notes.append(f"layer {name!r} is now called {new!r}")
        if new not in EXPORT_SECTIONS:
            raise InputFileError(source, f"layers must be some of "
                                 f"{list(EXPORT_SECTIONS)}, got {name!r}")
        sections.append(new)
    params = raw.get("parameters", {}) or {}
    if not isinstance(params, dict) or set(params) - VIEW_FILE_PARAMETERS:
        raise InputFileError(source, f"[parameters] may hold only "
                             f"{sorted(VIEW_FILE_PARAMETERS)}, got {params!r}")
    disclosure = raw.get("disclosure", {}) or {}
    if not isinstance(disclosure, dict):
        raise InputFileError(source, f"[disclosure] must be a table, got "
                             f"{disclosure!r}")
    try:
        flags, flag_notes = canonical_flags(strings("flags"))
        notes += flag_notes
        values: dict[str, Any] = dict(params)
        values.update(
            month_from=raw.get("from"), month_to=raw.get("to"),
            categories=strings("categories"), flags=flags,
            grouping=str(raw.get("grouping", DEFAULTS.grouping)),
            imd=str(raw.get("imd_edition", "2025")),
            unknown_flags=str(raw.get("unknown_flags", "drop")),
            include_flagged=bool(raw.get("include_flagged", False)),
        )
        for key in ("from", "to"):
            value = raw.get(key)
            if value is not None and not (isinstance(value, str)
                                          and _MONTH.match(value)):
                raise ParameterError(f"{key} must be a month YYYY-MM, got {value!r}")
        view = check_view(View(**values))
    except (ParameterError, TypeError) as exc:
        raise InputFileError(source, str(exc)) from None
    csp = raw.get("csp", ALL_CSPS)
    if not isinstance(csp, str):
        raise InputFileError(source, f"csp must be a CSP name or code, got {csp!r}")
    for line in notes:
        logger.info("%s: %s", source, line)
    return ViewFile(
        path=source, store=rel("store") or Path(), view=view, csp=csp,
        sections=tuple(dict.fromkeys(sections)), disclosure=dict(disclosure),
        title=raw.get("title"), fires=rel("fires"), operations=rel("operations"),
        notes=tuple(notes),
    )

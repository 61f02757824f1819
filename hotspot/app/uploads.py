"""Uploads from the app: checked, saved under the app's data folder, then ingested.

Nothing uploaded is written outside ``APP_DATA_DIR / "uploads"``: each upload gets
a folder named by the SHA-256 of its content **and of how it is read** (its kind
and the text of its column mapping), so the same bytes read with another
mapping make another store; the file keeps only a sanitised base name, and the
store built from it sits beside it. Files are checked like any other input
(size, name, type) before any reader sees them, and readers report bad rows as
rejects instead of failing. An upload from which no row can be used never
becomes the map's data (:func:`unusable_reason`), and upload folders older than
:data:`KEEP_UPLOADS_HOURS` are removed (:func:`clean_uploads`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from hotspot import settings
from hotspot.errors import InputFileError, ParameterError
from hotspot.ingest.mapping import ColumnMapping, load_mapping
from hotspot.ingest.schema import ReadResult
from hotspot.pipeline import IngestResult, ingest_to_store
from hotspot.settings import DATA_DIR

logger = logging.getLogger(__name__)

#: Largest upload accepted, in megabytes.
MAX_UPLOAD_MB = 50
#: What can be uploaded: key → (label, allowed suffixes, reader format).
UPLOAD_KINDS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "police_uk": ("police.uk street-level crime file (CSV)", (".csv",), "police_uk"),
    "records": ("Records-system extract (CSV) with a column mapping", (".csv",),
                "records"),
    "template": ("Hand-filled template (CSV, docs/template.md)", (".csv",),
                 "template"),
    "fire": ("Fire incident records (Home Office incident-level CSV)", (".csv",),
             None),
    "mapping": ("Column mapping (TOML)", (".toml",), None),
}
#: Upload kinds that are data (the rest, mappings, describe data).
DATA_KINDS: tuple[str, ...] = ("police_uk", "records", "template", "fire")
#: Upload folders older than this are removed (a session's data is temporary).
KEEP_UPLOADS_HOURS = 24.0
MAPPINGS_DIR = DATA_DIR / "mappings"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class SavedUpload:
    """An upload saved under the app's data folder."""

    path: Path
    folder: Path
    sha256: str


def uploads_root(root: Path | str | None = None) -> Path:
    """Return the upload folder: ``root / "uploads"`` (default the app's folder)."""
    return Path(settings.APP_DATA_DIR if root is None else root) / "uploads"


def safe_name(name: str) -> str:
    """Return a file name with no folders, only letters, digits, ``._-``."""
    base = Path(str(name).replace("\\", "/")).name
    cleaned = _SAFE.sub("_", base).strip("._")
    if not cleaned:
        raise InputFileError(name, "the upload name has no usable characters")
    return cleaned[:120]


def save_upload(
    name: str,
    content: bytes,
    *,
    kind: str,
    root: Path | str | None = None,
    max_mb: int | None = None,
    read_with: str = "",
) -> SavedUpload:
    """Check an uploaded file and save it under ``root/uploads/<key>/``.

    ``key`` is the SHA-256 of the content, the kind and ``read_with`` (the
    column mapping's text, or anything else that changes how the file is read).

    Raises
    ------
    InputFileError
        When the kind is unknown, the file is empty, too large, of a type the
        kind does not take, or not text.
    """
    max_mb = MAX_UPLOAD_MB if max_mb is None else max_mb
    if kind not in UPLOAD_KINDS:
        raise ParameterError(f"kind must be one of {list(UPLOAD_KINDS)}, got {kind!r}")
    label, suffixes, _ = UPLOAD_KINDS[kind]
    if not content:
        raise InputFileError(name, "the file is empty")
    if len(content) > max_mb * 1024 * 1024:
        raise InputFileError(
            name,
            f"{len(content) / 1024 / 1024:.1f} MB is over the limit of {max_mb} MB",
        )
    clean = safe_name(name)
    if not clean.lower().endswith(suffixes):
        raise InputFileError(name, f"a {label} must end in {' or '.join(suffixes)}")
    head = content[:4096]
    if b"\x00" in head:
        raise InputFileError(name, "not a text (CSV) file")
    digest = hashlib.sha256(content).hexdigest()
    key = hashlib.sha256(
        f"{digest}\0{kind}\0{read_with}".encode()).hexdigest()
    base = uploads_root(root).resolve()
    folder = (base / key[:16]).resolve()
    if base not in folder.parents:
        raise InputFileError(name, "the upload folder escaped the app's data folder")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / clean
    path.write_bytes(content)
    logger.info("saved upload %s (%d bytes) to %s", clean, len(content), path)
    return SavedUpload(path=path, folder=folder, sha256=digest)


def read_fire_upload(saved: SavedUpload) -> ReadResult:
    """Read a saved fire-records upload (accepted rows and rejects with reasons).

    Raises
    ------
    InputFileError
        When the file cannot be read or a required column is missing.
    """
    from hotspot.ingest.fire import read_fire_incidents

    return read_fire_incidents(saved.path)


def mapping_choices(folder: Path = MAPPINGS_DIR) -> dict[str, Path]:
    """Return the saved column mappings on offer: file stem → path."""
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def ingest_upload(
    saved: SavedUpload, *, kind: str, mapping: ColumnMapping | None = None
) -> tuple[IngestResult, Path]:
    """Ingest a saved upload into a store beside it; return the result and store.

    Raises
    ------
    InputFileError
        When the file cannot be read at all, or a records extract has no mapping.
    """
    _, _, fmt = UPLOAD_KINDS[kind]
    if kind == "records" and mapping is None:
        raise InputFileError(saved.path.name,
                             "a records extract needs a column mapping")
    store = saved.folder / "store"
    result = ingest_to_store([saved.path], store, fmt=fmt,  # type: ignore[arg-type]
                             mapping=mapping)
    return result, store


def unusable_reason(result: IngestResult) -> str | None:
    """Why an ingested upload cannot become the map's data (None when it can).

    An upload with no accepted row, or with no row any analysis uses (serious
    violence without a data-quality flag), would leave an empty map: the app
    keeps the data it has and says why.
    """
    from hotspot.selection import Selection, select

    rows = result.summary["rows"]
    if not rows["accepted"]:
        return (f"none of its {rows['read']:,} rows could be used (every row was "
                "rejected: see the reasons below)")
    chosen = select(result.occurrences, Selection())
    if chosen.rows.empty:
        steps = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in
                          chosen.steps.items() if v and k not in ("read", "selected"))
        return (f"{rows['accepted']:,} rows were accepted but none is serious "
                f"violence that an analysis can use ({steps})")
    return None


def clean_uploads(root: Path | str | None = None, *,
                  max_age_hours: float = KEEP_UPLOADS_HOURS,
                  keep: tuple[Path | str, ...] = (),
                  now: float | None = None) -> list[Path]:
    """Remove upload folders older than ``max_age_hours``; return those removed.

    Folders in ``keep`` (the ones sessions are using) are kept whatever their age.
    """
    base = uploads_root(root)
    if not base.is_dir():
        return []
    limit = (time.time() if now is None else now) - max_age_hours * 3600
    kept = {Path(k).resolve() for k in keep}
    removed = []
    for folder in sorted(base.iterdir()):
        if not folder.is_dir() or folder.resolve() in kept or any(
                k.is_relative_to(folder.resolve()) for k in kept):
            continue
        if folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        logger.info("removed %d upload folder(s) older than %g h", len(removed),
                    max_age_hours)
    return removed


def load_mapping_file(path: Path) -> ColumnMapping:
    """Load a column mapping (TOML) chosen or uploaded in the app."""
    return load_mapping(path)

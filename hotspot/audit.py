"""The audit log: who exported what, who looked at record-level data, and when.

One JSON object per line in ``APP_DATA_DIR/audit.jsonl``: ``at`` (UTC, ISO
8601), ``action`` (``export``, ``record_rows``, ``points``, ``sign_out``, ...),
``identity`` (the signed-in e-mail, or null), ``role`` and ``details`` (the view
as link parameters, the format, the CSP). Appending is atomic per line (one
``write`` of a short line in append mode), so concurrent sessions do not
interleave.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotspot import settings

logger = logging.getLogger(__name__)
AUDIT_FILE = "audit.jsonl"


def write_audit(action: str, *, identity: str | None, role: str,
                details: dict[str, Any] | None = None,
                folder: Path | str | None = None) -> Path:
    """Append one event to the audit log; return the log's path."""
    target = Path(settings.APP_DATA_DIR if folder is None else folder) / AUDIT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    event = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
             "action": action, "identity": identity, "role": role,
             "details": details or {}}
    line = json.dumps(event, default=str, sort_keys=True) + "\n"
    with target.open("a", encoding="utf-8") as handle:
        handle.write(line)
    logger.info("audit: %s by %s (%s)", action, identity or "anonymous", role)
    return target


def read_audit(folder: Path | str | None = None) -> list[dict[str, Any]]:
    """Return every event of the audit log, oldest first (empty when none)."""
    target = Path(settings.APP_DATA_DIR if folder is None else folder) / AUDIT_FILE
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text(encoding="utf-8")
            .splitlines() if line.strip()]

"""The audit log: one JSON line per export, record-level view and sign-out."""

from __future__ import annotations

import json
from pathlib import Path

from hotspot.audit import AUDIT_FILE, read_audit, write_audit


def test_events_are_appended_as_json_lines(tmp_path: Path) -> None:
    write_audit("export", identity="ann@example.org", role="analyst",
                details={"format": "gpkg", "view": {"csp": "E06000045"}},
                folder=tmp_path)
    write_audit("points", identity=None, role="inspector", folder=tmp_path)
    lines = (tmp_path / AUDIT_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["action"] == "export" and first["identity"] == "ann@example.org"
    assert first["details"]["view"] == {"csp": "E06000045"}
    assert first["at"].endswith("+00:00")
    events = read_audit(tmp_path)
    assert [e["action"] for e in events] == ["export", "points"]
    assert events[1]["identity"] is None and events[1]["role"] == "inspector"


def test_no_log_reads_as_no_events(tmp_path: Path) -> None:
    assert read_audit(tmp_path) == []

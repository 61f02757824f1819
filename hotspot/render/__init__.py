"""Drawing tables already computed (matplotlib only): charts, patrol cards, plans.

:mod:`~hotspot.render.charts` (profile charts), :mod:`~hotspot.render.patrol_card`
(A4 and phone cards), :mod:`~hotspot.render.streetmap` (a cell with its streets),
:mod:`~hotspot.render.plan_map` (the plan's first page) and
:mod:`~hotspot.render.patrol_plan` (a plan as CSV and PDF).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def written_bytes(write: Callable[..., Path], subject: Any, name: str,
                  **options: Any) -> bytes:
    """Return the bytes ``write(subject, <a temporary folder>/name, **options)`` writes.

    For download buttons: every ``write_*`` renderer writes a file; this reads it
    back once and removes the folder.
    """
    with tempfile.TemporaryDirectory(prefix="hotspot-render-") as folder:
        return write(subject, Path(folder) / name, **options).read_bytes()

"""The result of one detection analysis: tables plus everything needed to explain them.

A :class:`DetectResult` carries the parameters, which of them were chosen
automatically and why, the data period and filters, the counts (occurrences in,
cells, study areas), the cell table and the warnings, so that the app, the
exports and the command line all say the same thing about an analysis.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

logger = logging.getLogger(__name__)


@dataclass
class DetectResult:
    """One analysis (Gi*, emerging hot spots or kernel density) and its context.

    Attributes
    ----------
    method : str
        ``"gistar"``, ``"emerging"`` or ``"kde"``.
    parameters : dict
        Every parameter used, chosen or given (``resolution``, ``k``, ``alpha``,
        ``permutations``, ``seed``, ``fdr``, ``period``, ...).
    automatic : dict of str to str
        Parameters chosen automatically, each with the reason (the value is in
        ``parameters``).
    data_from, data_to : str or None
        Data period analysed (ISO dates), after filters.
    filters : dict
        Filters applied (categories, CSPs, flagged rows included or not, ...).
    counts : dict of str to int
        ``occurrences_in`` (after filters), ``occurrences_counted`` (inside a
        study cell), ``cells``, ``study_areas``, ``hot_cells``, ``cold_cells``.
    cells : geopandas.GeoDataFrame or None
        The cell table (one row per study cell); None for a raster result.
    warnings : list of str
        Warnings for the user, in plain English.
    notes : list of str
        What the row selection did that a reader should know (for example how
        many rows had an unknown flag and whether they were kept).
    extra : dict
        Method-specific extras (periods of a trend analysis, raster metadata).
    """

    method: str
    parameters: dict[str, Any]
    automatic: dict[str, str] = field(default_factory=dict)
    data_from: str | None = None
    data_to: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    cells: gpd.GeoDataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def choose(self, name: str, value: Any, reason: str) -> None:
        """Record an automatically chosen parameter with its reason, and log it."""
        self.parameters[name] = value
        self.automatic[name] = reason
        logger.info("chose %s = %s (%s)", name, value, reason)

    def warn(self, message: str) -> None:
        """Record a warning for the user, and log it."""
        self.warnings.append(message)
        logger.warning(message)

    def metadata(self) -> dict[str, Any]:
        """Return everything but the table, as JSON-ready values."""
        return json.loads(
            json.dumps(
                {
                    "method": self.method,
                    "parameters": self.parameters,
                    "automatic": self.automatic,
                    "data_from": self.data_from,
                    "data_to": self.data_to,
                    "filters": self.filters,
                    "counts": self.counts,
                    "warnings": self.warnings,
                    "notes": self.notes,
                    "extra": self.extra,
                },
                default=str,
            )
        )

    def summary(self) -> str:
        """Return a few plain-English lines describing the analysis."""
        lines = [f"{self.method}: {self.data_from or '?'} to {self.data_to or '?'}"]
        params = ", ".join(f"{k}={v}" for k, v in self.parameters.items())
        lines.append(f"parameters: {params}")
        for name, why in self.automatic.items():
            value = self.parameters[name]
            lines.append(f"chosen automatically: {name} = {value} ({why})")
        if self.filters:
            lines.append(
                "filters: " + ", ".join(f"{k}={v}" for k, v in self.filters.items())
            )
        if self.counts:
            lines.append(
                "counts: " + ", ".join(f"{k}={v}" for k, v in self.counts.items())
            )
        lines.extend(f"note: {n}" for n in self.notes)
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

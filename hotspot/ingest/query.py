"""Count a store's occurrences per cell and period in DuckDB, not in pandas.

A partitioned store (:mod:`hotspot.ingest.partitions`) carries each point's H3
cell as integers, so DuckDB counts straight from the Parquet files: the rows never
enter Python, and the cost of what follows (Gi*, rankings, emerging hot spots)
grows with cells and periods, not rows. A single-file store (the embedded
default, older stores) has no cell columns: its points are read, given cells with
:func:`hotspot.grid.points_to_cells` and counted by the same query.
"""

from __future__ import annotations

import logging
from pathlib import Path

import h3
import numpy as np
import pandas as pd

from hotspot.errors import ParameterError
from hotspot.ingest import partitions
from hotspot.selection import Selection, selection_sql

logger = logging.getLogger(__name__)

#: Columns :func:`cell_counts` returns, in order.
CELL_COUNT_COLUMNS: tuple[str, ...] = ("h3", "period", "count", "harm", "no_weight")
#: Columns the selection rule reads (besides the cell).
_RULE_COLUMNS: tuple[str, ...] = (
    "occurred_from", "is_serious_violence", "sv_category", "sv_match",
    "quality_flags", "bladed_implement", "public_place", "domestic", "victim_age",
    "csp_code", "geocode_precision", "geocode_uncertainty_m", "harm_weight")


def _connect() -> object:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    return con


def _source(store_dir: Path, resolution: int, con: object) -> str:
    """Name the relation to query: the Parquet files, or a registered frame."""
    if partitions.is_partitioned(store_dir):
        root = (store_dir / partitions.OCCURRENCES_FILE).resolve()
        glob = str(root / "**" / "*.parquet").replace("'", "''")
        return (f"read_parquet('{glob}', hive_partitioning = true, "
                "union_by_name = true)")
    from hotspot.ingest.store import load_occurrences

    occ = load_occurrences(store_dir)
    cells = partitions.h3_columns(occ[["geometry"]].copy())
    frame = pd.DataFrame({c: occ[c] for c in _RULE_COLUMNS})
    frame[f"h3_{resolution}"] = cells[f"h3_{resolution}"]
    con.register("occurrences_frame", frame)  # type: ignore[attr-defined]
    return "occurrences_frame"


def cell_counts(
    store_dir: Path | str,
    selection: Selection,
    *,
    resolution: int,
) -> pd.DataFrame:
    """Count the selected occurrences, and sum their harm, per H3 cell and month.

    Parameters
    ----------
    store_dir : path
        A store (partitioned or single-file).
    selection : Selection
        The rows to count (:func:`hotspot.selection.select`'s rule, in SQL). For
        hot spots, pass ``selection.for_cells(edge_m)`` as the analyses do.
    resolution : int, keyword-only
        H3 resolution, one of :data:`hotspot.ingest.partitions.H3_RESOLUTIONS`.

    Returns
    -------
    pandas.DataFrame
        :data:`CELL_COUNT_COLUMNS`: ``h3`` (cell id as text), ``period`` (month,
        ``YYYY-MM``), ``count`` (int64), ``harm`` (float64; a missing weight counts
        0) and ``no_weight`` (int64, occurrences without a harm weight); one row
        per cell and month holding at least one occurrence, sorted.
    """
    if resolution not in partitions.H3_RESOLUTIONS:
        raise ParameterError(f"resolution must be one of "
                             f"{list(partitions.H3_RESOLUTIONS)}, got {resolution!r}")
    store = Path(store_dir)
    where, params = selection_sql(selection)
    con = _connect()
    try:
        source = _source(store, resolution, con)
        cell = f"h3_{resolution}"
        sql = (f"SELECT {cell} AS h3, strftime(occurred_from, '%Y-%m') AS period, "
               "count(*) AS count, sum(coalesce(harm_weight, 0)) AS harm, "
               "count(*) FILTER (WHERE harm_weight IS NULL) AS no_weight "
               f"FROM {source} WHERE {cell} IS NOT NULL AND {where} "
               "GROUP BY ALL ORDER BY h3, period")
        table = con.execute(sql, params).df()  # type: ignore[attr-defined]
    finally:
        con.close()  # type: ignore[attr-defined]
    ids, inverse = np.unique(table["h3"].to_numpy(dtype=np.int64),
                             return_inverse=True)
    names = np.array([h3.int_to_str(int(c)) for c in ids], dtype=object)
    out = pd.DataFrame({
        "h3": names[inverse] if len(ids) else [],
        "period": table["period"].astype(str),
        "count": table["count"].astype("int64"),
        "harm": table["harm"].astype("float64"),
        "no_weight": table["no_weight"].astype("int64"),
    }, columns=list(CELL_COUNT_COLUMNS))
    out = out.sort_values(["h3", "period"], kind="stable").reset_index(drop=True)
    logger.info("counted %d occurrences into %d cell-months at resolution %d (DuckDB)",
                int(out["count"].sum()), len(out), resolution)
    return out

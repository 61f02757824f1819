"""Ask a store, through DuckDB, for what analyses need: counts, never its rows.

A partitioned store (:mod:`hotspot.ingest.partitions`) carries each point's H3
cells as integers and its ``bbox``, so DuckDB answers straight from the Parquet
files and the rows never enter Python: :class:`StoreQuery` gives the selection
rule's account (:meth:`~StoreQuery.tally`), counts per cell and month
(:meth:`~StoreQuery.cell_counts`), per cell and day
(:meth:`~StoreQuery.period_counts`), the points gathered at their locations
(:meth:`~StoreQuery.locations`) and the ranking's panel
(:meth:`~StoreQuery.panel_counts`), each equal to what the rows give (the tests
compare them on the embedded store). The cost of what follows (Gi*, rankings,
emerging hot spots, KDE) grows with cells, periods and locations, not rows. A
single-file store (the embedded default, older stores) has no cell columns: its
points are read, given cells with :func:`hotspot.grid.points_to_cells` and
registered with DuckDB, so the same queries answer.

Why this module is long: one query per thing an analysis counts, each written
to return exactly what its rows counterpart returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h3
import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspot.errors import ParameterError
from hotspot.ingest import partitions
from hotspot.selection import (
    Selection,
    canonical_flags,
    flag_unknown_sql,
    precision_notes,
    selection_filters,
    selection_steps_sql,
    unknown_flag_note,
)

if TYPE_CHECKING:
    from hotspot.detect.emerging import PeriodCounts
    from hotspot.detect.forecast import PanelCounts, TargetSpec
    from hotspot.detect.locations import PointCounts

logger = logging.getLogger(__name__)

#: Columns :func:`cell_counts` returns, in order.
CELL_COUNT_COLUMNS: tuple[str, ...] = ("h3", "period", "count", "harm", "no_weight")
#: Columns the selection rule reads (besides the cell).
_RULE_COLUMNS: tuple[str, ...] = (
    "occurred_from", "is_serious_violence", "sv_category", "sv_match",
    "quality_flags", "bladed_implement", "public_place", "domestic", "victim_age",
    "csp_code", "geocode_precision", "geocode_uncertainty_m", "harm_weight",
    "is_synthetic", "source", "crime_type", "geocode_method", "date_precision")


def _connect() -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    return con


@dataclass
class Tally:
    """What a selection chose in a store, without its rows (:func:`select`'s account).

    Attributes
    ----------
    selection : Selection
        What was asked for.
    steps : dict of str to int
        Rows left out at each step, in order, then ``selected`` (the keys of
        :attr:`hotspot.selection.Selected.steps`).
    filters : dict
        What was applied (:func:`hotspot.selection.selection_filters`).
    notes : list of str
        The notes :func:`hotspot.selection.select` would give.
    first, last : pandas.Timestamp or None
        The first and last ``occurred_from`` of the selected rows.
    synthetic : bool
        True when any selected row is SYNTHETIC (``is_synthetic``).
    """

    selection: Selection
    steps: dict[str, int] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    synthetic: bool = False

    @property
    def n(self) -> int:
        """Return the number of rows selected."""
        return int(self.steps.get("selected", 0))


class StoreQuery:
    """Ask one store, through DuckDB, for what analyses need: never its rows.

    A partitioned store is read straight from its Parquet files (each point's
    ``bbox`` and H3 cells are columns). A single-file store (the embedded
    default) is read once, given H3 cells (:func:`hotspot.grid.points_to_cells`
    at every resolution of the partitions) and registered with DuckDB, so both
    kinds answer the same queries. Use it as a context manager, or call
    :meth:`close`.
    """

    def __init__(self, store_dir: Path | str) -> None:
        self.store_dir = Path(store_dir)
        self._con = _connect()
        self._source = _source(self.store_dir, self._con)
        names = self._con.execute(
            f"SELECT * FROM {self._source} LIMIT 0").df().columns  # noqa: S608
        self._precision = "geocode_precision" in set(names)
        self._synthetic = "is_synthetic" in set(names)
        self._date_precision = "date_precision" in set(names)
        self._tallies: dict[Selection, Tally] = {}  # a store does not change

    def __enter__(self) -> StoreQuery:
        """Return the query object."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the connection."""
        self.close()

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._con.close()

    def _where(self, selection: Selection) -> tuple[str, list[Any]]:
        steps = selection_steps_sql(selection, precision=self._precision)
        where = " AND ".join(["x IS NOT NULL", "occurred_from IS NOT NULL",
                              *(c for _, c, _ in steps)])
        return where, [v for _, _, values in steps for v in values]

    def tally(self, selection: Selection) -> Tally:
        """Count what each step of the rule leaves out, as :func:`select` reports it.

        One pass over the store: each row is given the first step it fails
        (``stage``; the last stage is "selected") and the rows are counted per
        stage, with what the notes need (rows whose flag is unknown, rows of
        unknown precision), the dates and the SYNTHETIC rows of the selected.
        Each selection is counted once per :class:`StoreQuery` (the Gi* and
        the density of one view ask for the same ones).
        """
        sel = selection.validate()
        known = self._tallies.get(sel)
        if known is None:
            known = self._tallies[sel] = self._tally(sel)
        return replace(known, steps=dict(known.steps), filters=dict(known.filters),
                       notes=list(known.notes))

    def _tally(self, sel: Selection) -> Tally:
        steps = selection_steps_sql(sel, precision=self._precision)
        flags, _ = canonical_flags(sel.flags)
        case = ["WHEN NOT (x IS NOT NULL AND occurred_from IS NOT NULL) THEN 0"]
        params: list[Any] = []
        for i, step in enumerate(steps, start=1):
            case.append(f"WHEN NOT {step.condition} THEN {i}")
            params.extend(step.params)
        final = len(steps) + 1
        synthetic = "coalesce(is_synthetic, false)" if self._synthetic else "false"
        extra = [f"count(*) FILTER (WHERE {flag_unknown_sql(f)})" for f in flags]
        extra.append("count(*) FILTER (WHERE geocode_precision IS NULL)"
                     if self._precision else "0")
        table = self._con.execute(
            f"SELECT CASE {' '.join(case)} ELSE {final} END AS stage, "
            "count(*) AS n, min(occurred_from) AS first, max(occurred_from) AS last, "
            f"count(*) FILTER (WHERE {synthetic}) AS synthetic, "
            + ", ".join(f"{e} AS extra_{i}" for i, e in enumerate(extra))
            + f" FROM {self._source} GROUP BY stage", params).df()
        table = table.set_index("stage").reindex(range(final + 1))
        counted = [c for c in table.columns if c not in ("first", "last")]
        table[counted] = table[counted].fillna(0).astype("int64")
        n = table["n"].to_numpy()
        names = ["no_location_or_date", *(s.name for s in steps), "selected"]
        counts = {"read": int(n.sum()), **dict(zip(names, (int(v) for v in n),
                                                   strict=True))}
        notes = []
        stage_of = {s.name: i for i, s in enumerate(steps, start=1)}
        for j, flag in enumerate(flags):
            # rows past the flag's first step whose flag is not recorded
            past = table.index > stage_of[f"flag_{flag}_not_holding"]
            unknown = int(table.loc[past, f"extra_{j}"].sum())
            if unknown:
                notes.append(unknown_flag_note(unknown, flag, sel.unknown_flags))
        if sel.cell_edge_m is not None and not self._precision:
            notes.append("this store records no location precision (written before "
                         "precision classes): its points are used as given")
        chosen = table.loc[final]
        if sel.cell_edge_m is not None and self._precision:
            notes.extend(precision_notes(int(chosen[f"extra_{len(flags)}"]),
                                         counts["too_coarse_for_cells"],
                                         sel.cell_edge_m))
        first, last = chosen["first"], chosen["last"]
        return Tally(selection=sel, steps=counts,
                     filters=selection_filters(sel, precision=self._precision),
                     notes=notes,
                     first=None if pd.isna(first) else pd.Timestamp(first),
                     last=None if pd.isna(last) else pd.Timestamp(last),
                     synthetic=bool(chosen["synthetic"]))

    def cell_counts(self, selection: Selection, *, resolution: int) -> pd.DataFrame:
        """Count the selected occurrences, and sum their harm, per H3 cell and month.

        See :func:`cell_counts`.
        """
        cell = _cell_column(resolution)
        where, params = self._where(selection)
        sql = (f"SELECT {cell} AS h3, strftime(occurred_from, '%Y-%m') AS period, "
               "count(*) AS count, sum(coalesce(harm_weight, 0)) AS harm, "
               "count(*) FILTER (WHERE harm_weight IS NULL) AS no_weight "
               f"FROM {self._source} WHERE {cell} IS NOT NULL AND {where} "
               "GROUP BY ALL")
        table = self._con.execute(sql, params).df()
        out = pd.DataFrame({
            "h3": _cell_names(table["h3"]),
            "period": table["period"].astype(str),
            "count": table["count"].astype("int64"),
            "harm": table["harm"].astype("float64"),
            "no_weight": table["no_weight"].astype("int64"),
        }, columns=list(CELL_COUNT_COLUMNS))
        out = out.sort_values(["h3", "period"], kind="stable").reset_index(drop=True)
        logger.info("counted %d occurrences into %d cell-months at resolution %d "
                    "(DuckDB)", int(out["count"].sum()), len(out), resolution)
        return out

    def locations(self, selection: Selection, *, weighted: bool = False
                  ) -> PointCounts:
        """Gather the selected occurrences at their locations, for a density surface.

        Returns a :class:`hotspot.detect.kde.PointCounts`: each distinct point
        (EPSG:27700), how many selected occurrences lie there and, with
        ``weighted``, the sum of their harm weights.

        Raises
        ------
        ParameterError
            With ``weighted``, when a selected occurrence has no harm weight (as
            :func:`hotspot.detect.kde.kde_surface` refuses missing weights).
        """
        from hotspot.detect.locations import PointCounts

        where, params = self._where(selection)
        table = self._con.execute(
            f"SELECT x, y, count(*) AS n, sum(harm_weight) AS harm, "
            "count(*) FILTER (WHERE harm_weight IS NULL) AS no_weight "
            f"FROM {self._source} WHERE {where} GROUP BY x, y ORDER BY x, y",
            params).fetchnumpy()
        missing = int(np.asarray(table["no_weight"]).sum())
        if weighted and missing:
            raise ParameterError(f"{missing} selected occurrences have no harm "
                                 "weight: a harm-weighted surface needs every one")
        xy = np.column_stack([np.asarray(table["x"], dtype=np.float64),
                              np.asarray(table["y"], dtype=np.float64)])
        logger.info("gathered %d occurrences at %d locations (DuckDB)",
                    int(np.asarray(table["n"]).sum()), len(xy))
        return PointCounts(
            xy=xy, count=np.asarray(table["n"], dtype=np.int64),
            weight=np.asarray(table["harm"], dtype=np.float64) if weighted else None)


    def period_counts(self, selection: Selection, *, resolution: int
                      ) -> PeriodCounts:
        """Count the selected occurrences per H3 cell and day, for emerging hot spots.

        The same :class:`hotspot.detect.emerging.PeriodCounts` as
        :func:`hotspot.detect.emerging.period_counts_of_rows` on the selected
        rows (a period holds whole days, so the day stands for the time).
        """
        from hotspot.detect.emerging import PeriodCounts

        column = _cell_column(resolution)
        where, params = self._where(selection)
        bad = "coalesce(trim(quality_flags), '') <> ''"
        month = ("coalesce(date_precision = 'month', false)" if self._date_precision
                 else "false")
        table = self._con.execute(
            f"SELECT {column} AS cell, "
            "date_trunc('day', occurred_from) AS day, "
            f"{bad} AS flagged, bool_or({month}) AS month_only, count(*) AS n, "
            "sum(coalesce(harm_weight, 0)) AS harm, min(occurred_from) AS first, "
            f"max(occurred_from) AS last FROM {self._source} WHERE {where} "
            "GROUP BY ALL", params).df()
        cell = _cell_names(table["cell"])
        first, last = table["first"].min(), table["last"].max()
        return PeriodCounts(
            cell=cell, when=table["day"].to_numpy(dtype="datetime64[ns]"),
            usable=~table["flagged"].to_numpy(dtype=bool),
            n=table["n"].to_numpy(dtype=np.float64),
            harm=table["harm"].to_numpy(dtype=np.float64),
            first=None if pd.isna(first) else pd.Timestamp(first),
            last=None if pd.isna(last) else pd.Timestamp(last),
            month_only=bool(table["month_only"].any()))

    def sources(self) -> list[str]:
        """Return the store's ``source`` values, sorted."""
        rows = self._con.execute(
            f"SELECT DISTINCT source FROM {self._source} WHERE source IS NOT NULL "
            "ORDER BY source").fetchall()
        return [str(r[0]) for r in rows]

    def last_occurrence(self) -> pd.Timestamp | None:
        """Return the newest ``occurred_from`` in the store (None when empty)."""
        value = self._con.execute(
            f"SELECT max(occurred_from) FROM {self._source}").fetchone()[0]
        return None if value is None else pd.Timestamp(value)

    def panel_counts(self, *, resolution: int, target: TargetSpec,
                     end: pd.Timestamp) -> PanelCounts:
        """Count the store's rows for a ranking panel, grouped, in DuckDB.

        The same :class:`hotspot.detect.forecast.PanelCounts` as
        :func:`hotspot.detect.forecast.panel_counts_of_rows` on the rows: rows
        from ``end`` on (or undated), flagged rows, rows without a point or
        located less precisely than a cell are left out and counted; the rest
        are grouped by cell, month, source, target and crime type.
        """
        from hotspot.detect.forecast import INDICATOR_OF, PanelCounts
        from hotspot.ingest.quality import PRECISE_METHODS

        column = _cell_column(resolution)
        sv = "coalesce(is_serious_violence, sv_category IS NOT NULL)"
        if target.include_approximate:
            sv = f"({sv} OR coalesce(sv_match = 'approximate', false))"
        tests, params = [sv], []
        if target.categories:
            tests.append(f"sv_category IN ({', '.join('?' * len(target.categories))})")
            params += list(target.categories)
        if target.sources:
            tests.append(f"source IN ({', '.join('?' * len(target.sources))})")
            params += list(target.sources)
        kinds = sorted(INDICATOR_OF)
        indicator = ("CASE " + " ".join("WHEN crime_type = ? THEN ?" for _ in kinds)
                     + " ELSE '' END")
        precise = ", ".join("?" * len(PRECISE_METHODS))
        rows = (
            "SELECT *, coalesce(source, 'unknown') AS src, "
            "(year(occurred_from) - 1970) * 12 + month(occurred_from) - 1 AS mo, "
            "coalesce(occurred_from < ?, false) AS kept, "
            "coalesce(trim(quality_flags), '') <> '' AS bad, "
            f"NOT coalesce(geocode_method IN ({precise}), false) AS imprecise, "
            "x IS NULL AS no_point, "
            + " AND ".join(f"coalesce(({t}), false)" for t in tests)
            + f" AS is_target, {indicator} AS indicator FROM {self._source}")
        head = [end.to_pydatetime(), *sorted(PRECISE_METHODS), *params,
                *(v for k in kinds for v in (k, INDICATOR_OF[k]))]
        # one pass: rows a panel uses are grouped by their keys, the others
        # by why they are left out (their keys nulled, so they fold together)
        usable = "kept AND NOT bad AND NOT imprecise AND NOT no_point"
        table = self._con.execute(
            f"WITH panel_rows AS ({rows}) SELECT "
            f"CASE WHEN {usable} THEN {column} END AS cell, "
            "CASE WHEN kept AND NOT bad THEN mo END AS mo, "
            "CASE WHEN kept AND NOT bad THEN src END AS src, "
            f"CASE WHEN {usable} THEN is_target END AS is_target, "
            f"CASE WHEN {usable} AND NOT is_target THEN indicator ELSE '' END "
            "AS indicator, "
            f"{usable} AS usable, kept, kept AND bad AS flagged, "
            "kept AND imprecise AND NOT bad AND NOT no_point AS imprecise, "
            "count(*) AS n, sum(coalesce(harm_weight, 0)) AS harm "
            "FROM panel_rows GROUP BY ALL", head).df()
        n = table["n"].to_numpy(dtype=np.int64)
        clean = (table.loc[table["mo"].notna(), ["src", "mo"]].drop_duplicates()
                 .rename(columns={"src": "source", "mo": "month"})
                 .astype({"month": np.int64}).sort_values(["source", "month"])
                 .reset_index(drop=True))
        left_out = {"after_fit_to": int(n[~table["kept"].to_numpy(bool)].sum()),
                    "flagged": int(n[table["flagged"].to_numpy(bool)].sum()),
                    "imprecise_location": int(
                        n[table["imprecise"].to_numpy(bool)].sum())}
        groups = table[table["usable"].to_numpy(bool)].reset_index(drop=True)
        cell = _cell_names(groups["cell"])
        logger.info("counted %d rows into %d panel groups (DuckDB)",
                    int(groups["n"].sum()), len(groups))
        return PanelCounts(
            cell=cell, month=groups["mo"].to_numpy(dtype=np.int64),
            source=groups["src"].to_numpy(dtype=object),
            indicator=groups["indicator"].to_numpy(dtype=object),
            target=groups["is_target"].to_numpy(dtype=bool),
            n=groups["n"].to_numpy(dtype=np.float64),
            harm=groups["harm"].to_numpy(dtype=np.float64),
            clean=clean, left_out=left_out)


def _cell_column(resolution: int) -> str:
    """Return the store's column of H3 cells at ``resolution`` (checked)."""
    if resolution not in partitions.H3_RESOLUTIONS:
        raise ParameterError(f"resolution must be one of "
                             f"{list(partitions.H3_RESOLUTIONS)}, got {resolution!r}")
    return f"h3_{resolution}"


def _cell_names(ids: pd.Series) -> npt.NDArray[np.object_]:
    """Return H3 cell ids (integers, NULL for none) as text, None for none."""
    values = ids.to_numpy()
    known = pd.notna(values)
    out = np.full(len(values), None, dtype=object)
    unique, inverse = np.unique(values[known].astype(np.int64), return_inverse=True)
    out[known] = np.array([h3.int_to_str(int(c)) for c in unique],
                          dtype=object)[inverse]
    return out


def _source(store_dir: Path, con: Any) -> str:
    """Name the relation to query: the Parquet files, or a registered frame.

    Either way it has the store's columns plus ``x`` and ``y`` (the point) and
    ``h3_<r>`` for every resolution of the partitions.
    """
    if partitions.is_partitioned(store_dir):
        root = (store_dir / partitions.OCCURRENCES_FILE).resolve()
        glob = str(root / "**" / "*.parquet").replace("'", "''")
        # footers are read once and kept; when every partition has the same
        # columns (a store written by one version), DuckDB need not reconcile
        # them by name at every query (a tenth of the time with 500 files)
        con.execute("SET parquet_metadata_cache = true")
        kinds = con.execute(
            "SELECT count(DISTINCT columns) FROM (SELECT string_agg(name || ' ' || "
            "coalesce(type, '') || ' ' || coalesce(logical_type, ''), ',' ORDER BY "
            f"name) AS columns FROM parquet_schema('{glob}') GROUP BY file_name)"
        ).fetchone()[0]
        union = ", union_by_name = true" if kinds != 1 else ""
        return (f"(SELECT *, bbox.xmin AS x, bbox.ymin AS y FROM read_parquet("
                f"'{glob}', hive_partitioning = true{union}))")
    from hotspot.ingest.store import load_occurrences

    occ = load_occurrences(store_dir)
    cells = partitions.h3_columns(occ[["geometry"]].copy())
    frame = pd.DataFrame({c: occ[c] for c in _RULE_COLUMNS if c in occ.columns})
    geom = occ.geometry
    point = (geom.notna() & ~geom.is_empty).to_numpy()
    frame["x"] = np.where(point, geom.x.where(point), np.nan)
    frame["y"] = np.where(point, geom.y.where(point), np.nan)
    for res in partitions.H3_RESOLUTIONS:
        frame[f"h3_{res}"] = cells[f"h3_{res}"]
    con.register("occurrences_frame", frame)
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
    _cell_column(resolution)  # before the store is opened
    with StoreQuery(store_dir) as query:
        return query.cell_counts(selection, resolution=resolution)

"""The whole flow, in order: ingest → geocode → classify → locate → check → store.

Each stage lives in its own module; this file only shows the order and keeps the
row accounting: every row read ends either accepted or in the rejects table, and
``read == accepted + rejected`` always holds (checked, not assumed).

Why this module is long: besides the stage order it holds the streamed ingest's
batch loop, which runs the same per-batch stages in worker processes and writes
their output here in file order, with the small pieces that carry a batch and
its errors between processes (:func:`_in_order`, :class:`_Raised`). Splitting
them off would put the order of the stages in two places.
"""

from __future__ import annotations

import csv
import logging
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspot import __version__
from hotspot.boundaries import Grouping, assign_areas
from hotspot.crs import BNG
from hotspot.definitions import HARM_TABLES, classify, load_harm_table
from hotspot.errors import HotspotError, InputFileError
from hotspot.geocode import geocode
from hotspot.ingest import quality
from hotspot.ingest.mapping import ColumnMapping
from hotspot.ingest.partitions import file_checksum
from hotspot.ingest.schema import ReadResult, conform, empty_rejects, make_rejects
from hotspot.ingest.sources import Format, format_of_headers, read_sources
from hotspot.ingest.store import append_to_store, known_checksums, write_store
from hotspot.ingest.stream import MIN_BLOCK_BYTES, TableBatch, TextBlock

logger = logging.getLogger(__name__)

#: Classification columns a source may already carry (A&E extracts classify
#: themselves approximately); ``classify`` fills them everywhere else.
_CLASS_COLUMNS = (
    "offence_code",
    "hmic_group",
    "sv_category",
    "sv_match",
    "is_serious_violence",
    "harm_weight",
)


@dataclass
class IngestResult:
    """Accepted occurrences (points in EPSG:27700), rejects and the summary."""

    occurrences: gpd.GeoDataFrame
    rejects: pd.DataFrame
    summary: dict[str, Any]


def ingest(
    sources: Sequence[Path | str],
    *,
    fmt: Format | None = None,
    mapping: ColumnMapping | None = None,
    grouping: Grouping = "district",
    progress: Callable[[str], None] | None = None,
    harm_table: str = "css",
) -> IngestResult:
    """Read, geocode, classify, locate and check occurrences from ``sources``.

    ``progress``, when given, is called with each stage's name as it starts.
    ``harm_table`` names the harm weights applied
    (:data:`hotspot.definitions.HARM_TABLES`: ``css``, the ONS Crime Severity
    Score, or ``cchi``, the third-party Cambridge Crime Harm Index table); the
    summary records which.

    Raises
    ------
    InputFileError
        When a source cannot be read at all (nothing is kept from any source).
    """
    step = progress or (lambda _stage: None)
    step("read")
    read = read_sources(sources, fmt=fmt, mapping=mapping)
    logger.info("read %d rows from %d file(s)", read.n_read, len(read.files))
    step("geocode")
    occurrences, rejected_geo = _geocode(read.accepted)
    step("classify")
    occurrences = _classify(occurrences, harm_table=harm_table)
    step("locate")
    occurrences, rejected_loc = _locate(occurrences, grouping=grouping)
    step("check")
    occurrences, findings = _check(occurrences)
    rejects = pd.concat([read.rejected, rejected_geo, rejected_loc], ignore_index=True)
    summary = summarise(
        read,
        occurrences,
        rejects,
        findings=findings,
        grouping=grouping,
        mapping=mapping,
    )
    summary["harm_weights"] = harm_record(harm_table)
    return IngestResult(occurrences=occurrences, rejects=rejects, summary=summary)


def ingest_to_store(
    sources: Sequence[Path | str],
    store_dir: Path | str,
    *,
    fmt: Format | None = None,
    mapping: ColumnMapping | None = None,
    grouping: Grouping = "district",
    progress: Callable[[str], None] | None = None,
    harm_table: str = "css",
) -> IngestResult:
    """Run :func:`ingest` and write the store (nothing is written if it fails)."""
    result = ingest(
        sources, fmt=fmt, mapping=mapping, grouping=grouping, progress=progress,
        harm_table=harm_table,
    )
    result.summary["source_checksums"] = {file_checksum(s): str(s) for s in sources}
    if progress is not None:
        progress("write")
    write_store(
        store_dir,
        occurrences=result.occurrences,
        rejects=result.rejects,
        summary=result.summary,
    )
    logger.info("wrote %s", store_dir)
    return result


def append_sources(
    sources: Sequence[Path | str],
    store_dir: Path | str,
    *,
    fmt: Format | None = None,
    mapping: ColumnMapping | None = None,
    grouping: Grouping = "district",
    progress: Callable[[str], None] | None = None,
    harm_table: str = "css",
) -> IngestResult | None:
    """Ingest ``sources`` into a partitioned store, writing only their months.

    A source whose SHA-256 is already recorded in the store is skipped (logged);
    when every source is, nothing is read or written and None is returned. Rows
    already stored (same id, same month) are rejected at stage ``store``.
    """
    seen = known_checksums(store_dir)
    fresh: list[Path | str] = []
    sums: dict[str, str] = {}
    for source in sources:
        digest = file_checksum(source)
        if digest in seen or digest in sums:
            logger.info("%s already ingested (sha256 %s…): skipped", source,
                        digest[:12])
            continue
        sums[digest] = str(source)
        fresh.append(source)
    if not fresh:
        return None
    result = ingest(fresh, fmt=fmt, mapping=mapping, grouping=grouping,
                    progress=progress, harm_table=harm_table)
    result.summary["source_checksums"] = sums
    if progress is not None:
        progress("write")
    result.summary = append_to_store(store_dir, occurrences=result.occurrences,
                                     rejects=result.rejects, summary=result.summary)
    logger.info("appended %d rows to %s", len(result.occurrences), store_dir)
    return result


#: What a streamed ingest's batches are: read rows, or a batch of text its worker
#: parses (:class:`hotspot.ingest.stream.TextBlock` of a police.uk CSV,
#: :class:`hotspot.ingest.stream.TableBatch` of any other source).
Batch = ReadResult | TextBlock | TableBatch


def _batches(sources: list[Path | str], *, fmt: Format | None,
             mapping: ColumnMapping | None, batch_bytes: int,
             batch_rows: int | None) -> Iterator[Batch]:
    """Yield the sources' batches, unparsed: the fast reader for one police.uk CSV.

    One police.uk street CSV (the large national downloads) is cut into blocks
    and split into fields by pyarrow (:func:`hotspot.ingest.stream.police_uk_blocks`,
    blocks of at least :data:`~hotspot.ingest.stream.MIN_BLOCK_BYTES`);
    anything else (other formats, Excel, zips, folders, several sources) is read
    by the whole-file readers' own pieces (:func:`hotspot.ingest.stream.table_batches`).
    """
    from hotspot.ingest.stream import police_uk_blocks, table_batches

    if (len(sources) == 1 and mapping is None and fmt in (None, "police_uk")
            and batch_bytes >= MIN_BLOCK_BYTES and Path(sources[0]).is_file()
            and Path(sources[0]).suffix.lower() == ".csv"):
        with open(sources[0], "rb") as handle:
            first = handle.readline().decode("utf-8-sig", errors="replace")
        try:
            kind = format_of_headers(sources[0], next(csv.reader([first]), []))
        except InputFileError:
            kind = None  # the whole-file readers' pieces say what is wrong
        if kind == "police_uk":
            return police_uk_blocks(sources[0], batch_bytes=batch_bytes)
    return table_batches(sources, fmt=fmt, mapping=mapping,
                         batch_bytes=batch_bytes, batch_rows=batch_rows)

def _one_batch(files: list[Path], batch_bytes: int) -> bool:
    """Return True when the sources fill one batch at most, or one is missing."""
    if not all(f.exists() for f in files):
        return True
    if any(f.is_dir() for f in files):
        return False
    return sum(f.stat().st_size for f in files) <= batch_bytes


#: Worker processes of a streamed ingest, unless told (the machine's cores, up to 2).
DEFAULT_WORKERS = min(2, os.cpu_count() or 1)
#: Batches handed to the workers and not yet written, at most (bounds memory).
MAX_IN_FLIGHT = 3
#: How worker processes start: a fork server (a clean process that imported the
#: pipeline once) forks them, so they start fast and never inherit the reader's
#: threads or buffers.
START_METHOD = "forkserver"
#: Modules the fork server imports once, before it forks the workers.
_WORKER_MODULES = ("hotspot.pipeline", "hotspot.ingest.partitions",
                   "hotspot.ingest.stream", "hotspot.textsafe", "pyarrow.parquet",
                   "geopandas.io.arrow")


def ingest_streaming(
    source: Path | str | Sequence[Path | str],
    store_dir: Path | str,
    *,
    fmt: Format | None = None,
    mapping: ColumnMapping | None = None,
    grouping: Grouping = "district",
    batch_bytes: int | None = None,
    batch_rows: int | None = None,
    harm_table: str = "css",
    workers: int | None = None,
) -> dict[str, Any]:
    """Ingest large sources (one path or several) batch by batch into a new store.

    ``source``, ``fmt`` and ``mapping`` are as for :func:`ingest` (CSV of any
    format, Excel, police.uk zips and folders). Memory is bounded by the batch
    (:func:`hotspot.ingest.stream.read_batches`), not the files: each batch is
    geocoded, classified, located and checked, then
    written as partitions and its rejects appended to the rejects file. The store
    is switched to the result only when every batch is done (a failure leaves it
    as it was). Duplicate ids and piles are checked within a batch; implausible
    months over the whole file, at the end. Each batch's ``read = accepted +
    rejected`` is checked, so the total's is too.

    With ``workers`` above 1 (default :data:`DEFAULT_WORKERS`) the batches are
    processed in that many worker processes, at most :data:`MAX_IN_FLIGHT` at a
    time; this process reads the file and writes every batch's partitions,
    rejects and counts in file order, so the store holds the rows a serial run
    writes. A file of one batch is processed here (starting workers costs more).
    A batch's error, in a worker or here, abandons the version and is raised.

    Returns
    -------
    dict
        The store's summary.
    """
    from hotspot.ingest import partitions
    from hotspot.ingest.schema import REJECT_COLUMNS
    from hotspot.ingest.store import merge_summaries
    from hotspot.ingest.stream import DEFAULT_BATCH_BYTES

    size = batch_bytes or DEFAULT_BATCH_BYTES
    sources = [source] if isinstance(source, (str, Path)) else list(source)
    n_workers = DEFAULT_WORKERS if workers is None else workers
    if n_workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers!r}")
    if _one_batch([Path(s) for s in sources], size):
        n_workers = 1  # one batch (or the reader's error): workers cost more
    # the sources' SHA-256 are read alongside the batches, not after the last one
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checksum")
    checksums = [hasher.submit(file_checksum, s) for s in sources]
    hasher.shutdown(wait=False)
    version = partitions.start_version(store_dir)
    rejects_path = version / partitions.REJECTS_FILE
    pd.DataFrame(columns=list(REJECT_COLUMNS)).to_csv(rejects_path, index=False)
    try:
        summary: dict[str, Any] | None = None
        findings: list[quality.Finding] = []
        mix: pd.DataFrame | None = None
        # split into fields here, parsed where processed (pickling a parsed
        # batch costs more than parsing it)
        batches = _batches(sources, fmt=fmt, mapping=mapping, batch_bytes=size,
                           batch_rows=batch_rows)
        work = partial(_process_batch, grouping=grouping, harm_table=harm_table)
        processed = _in_order(batches, work, workers=n_workers,
                              grouping=grouping, harm_table=harm_table)
        with closing(processed):  # a failure here stops the workers at once
            for done in processed:
                summary = merge_summaries(summary, done.summary)
                findings.extend(done.findings)
                mix = done.mix if mix is None else mix.add(done.mix, fill_value=0)
                partitions.add_parts(version, done.parts)
                with open(rejects_path, "a", encoding="utf-8",
                          newline="") as handle:
                    handle.write(done.rejects_csv)
                logger.info("%s: %d rows so far (%d accepted)", source,
                            summary["rows"]["read"], summary["rows"]["accepted"])
        if summary is None:
            raise HotspotError(f"{source} holds no rows")
        findings.extend(_flag_months(version, mix, summary))
        summary["quality"]["findings"] = [f.__dict__ for f in findings]
        summary["files"] = list(dict.fromkeys(summary["files"]))  # each table once
        summary["mapping"] = None if mapping is None else mapping.name
        summary["harm_weights"] = harm_record(harm_table)
        summary.pop("appends", None)
        summary["source_checksums"] = {c.result(): str(s)
                                       for c, s in zip(checksums, sources,
                                                       strict=True)}
        partitions.finish_version(store_dir, version, summary)
    except BaseException:
        partitions.abandon_version(version)
        raise
    return summary


@dataclass
class _BatchDone:
    """One streamed batch, processed and encoded, for the store's owner to write."""

    parts: list[Any]  # hotspot.ingest.partitions.EncodedPart
    rejects_csv: str
    summary: dict[str, Any]
    findings: list[quality.Finding]
    mix: pd.DataFrame


def _process_batch(batch: Batch, *, grouping: Grouping,
                   harm_table: str) -> _BatchDone:
    """Geocode, classify, locate and check one batch; encode what it writes.

    ``batch`` is read rows, or a block of text columns to parse first.
    """
    from hotspot.ingest.partitions import encode_rows
    from hotspot.textsafe import spreadsheet_safe

    read = batch if isinstance(batch, ReadResult) else batch.parse()
    occurrences, rejected_geo = _geocode(read.accepted)
    occurrences = _classify(occurrences, harm_table=harm_table)
    occurrences, rejected_loc = _locate(occurrences, grouping=grouping)
    occurrences, found = _check(occurrences, months=False)
    rejects = pd.concat([read.rejected, rejected_geo, rejected_loc],
                        ignore_index=True)
    part = summarise(read, occurrences, rejects, findings=found, grouping=grouping)
    return _BatchDone(
        parts=encode_rows(occurrences),
        rejects_csv=spreadsheet_safe(rejects).to_csv(header=False, index=False),
        summary=part, findings=found, mix=quality.month_mix(occurrences))


def _in_order(
    batches: Iterator[Batch],
    work: Callable[[Batch], _BatchDone],
    *,
    workers: int,
    grouping: Grouping,
    harm_table: str,
) -> Generator[_BatchDone, None, None]:
    """Yield ``work(batch)`` for each batch, in the batches' order.

    With one worker, here, one batch at a time. Otherwise in ``workers``
    processes, with at most :data:`MAX_IN_FLIGHT` batches handed over and not yet
    yielded (the reader waits), so memory stays that of a few batches. A
    worker's exception is raised here as itself (:func:`_carried`). On any
    failure, or when the caller stops early, batches not started are cancelled
    and the workers are stopped before this returns.
    """
    if workers <= 1:
        for batch in batches:
            yield work(batch)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        context.set_forkserver_preload(list(_WORKER_MODULES))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_warm_worker,
                               initargs=(grouping, harm_table))
    pending: deque[Future[_BatchDone | _Raised]] = deque()
    try:
        for _ in range(workers):  # start the workers while the first batch is read
            pool.submit(_ready)
        for batch in batches:
            pending.append(pool.submit(_carried, work, batch))
            del batch  # the pool holds it until a worker has taken it
            if len(pending) >= MAX_IN_FLIGHT:
                yield _outcome(pending.popleft())
        while pending:
            yield _outcome(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ready() -> None:
    """Do nothing (submitted to start a worker process early)."""


def _warm_worker(grouping: Grouping, harm_table: str) -> None:
    """Load the tables every batch uses, while the reader parses the first batch.

    Best effort: a table that cannot be loaded fails the batch that needs it,
    with that error, not the pool.
    """
    from hotspot.boundaries import load_csps
    from hotspot.geocode.gazetteer import load_gazetteer

    try:
        load_gazetteer()
        load_csps(grouping=grouping)
        load_harm_table(harm_table)
    except Exception:  # noqa: BLE001 - the batch raises it again, properly
        logger.debug("worker could not preload tables", exc_info=True)


@dataclass
class _Raised:
    """An exception raised in a worker, carried back whatever its constructor."""

    exception: BaseException

    def __reduce__(self) -> tuple[Any, ...]:
        exc = self.exception
        return (_rebuilt, (type(exc), exc.args, dict(vars(exc))))


def _rebuilt(cls: type[BaseException], args: tuple[Any, ...],
             state: dict[str, Any]) -> _Raised:
    """Rebuild a carried exception without calling its ``__init__``.

    Pickle rebuilds an exception as ``cls(*exc.args)``, which fails for one whose
    constructor takes other arguments than its ``args`` (``InputFileError`` takes
    a path and a problem).
    """
    exc = cls.__new__(cls, *args)
    exc.args = args
    vars(exc).update(state)
    return _Raised(exc)


def _carried(work: Callable[[Batch], _BatchDone],
             batch: Batch) -> _BatchDone | _Raised:
    """Run ``work(batch)`` in a worker; an exception comes back as a value."""
    import traceback

    try:
        return work(batch)
    except Exception as exc:  # noqa: BLE001 - raised again by the reader
        exc.add_note("raised in an ingest worker:\n" + traceback.format_exc())
        return _Raised(exc)


def _outcome(future: Future[_BatchDone | _Raised]) -> _BatchDone:
    """Return a worker's batch, or raise the exception it raised."""
    done = future.result()
    if isinstance(done, _Raised):
        raise done.exception
    return done


def _flag_months(version: Path, mix: pd.DataFrame | None,
                 summary: dict[str, Any]) -> list[quality.Finding]:
    """Flag the rows of implausible months of a streamed file (whole-file check)."""
    from hotspot.ingest import partitions

    if mix is None or len(mix) < 3:
        return []
    scores = quality.score_months(mix.fillna(0).astype(int))  # a batch lacks a kind
    found = []
    for bad, row in scores[scores["implausible"]].iterrows():
        n = partitions.flag_months(version, [str(bad)], "implausible_month")
        found.append(quality.Finding(
            "implausible_month", "police_uk",
            f"{bad}: {row['rows']} rows; counts far from the same category in the "
            f"neighbouring months ({row['worst']})", n))
        checks = summary["quality"].setdefault("flagged_by_check", {})
        checks["implausible_month"] = checks.get("implausible_month", 0) + n
        summary["quality"]["rows_flagged"] += n
    return found


def _geocode(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Resolve locations; rows without a usable one move to the rejects."""
    points = geocode(frame)
    ok = points["x"].notna() & points["y"].notna()
    rejects = _rejects_from(frame[~ok], points[~ok], stage="geocode")
    kept = frame[ok]  # copy-on-write: adding columns leaves ``frame`` alone
    kept["geocode_method"] = points.loc[ok, "geocode_method"]
    kept["geocode_uncertainty_m"] = points.loc[ok, "geocode_uncertainty_m"]
    for name in ("geocode_precision", "geocode_lad_code"):
        if name in points.columns:
            kept[name] = points.loc[ok, name]
    kept["x"] = points.loc[ok, "x"].astype(float)
    kept["y"] = points.loc[ok, "y"].astype(float)
    return kept, rejects


def harm_record(harm_table: str) -> dict[str, str]:
    """Return what a store's summary says of the harm weights its ingest applied."""
    return {"table": harm_table, "label": HARM_TABLES[harm_table][2]}


def _classify(frame: pd.DataFrame, *, harm_table: str = "css") -> pd.DataFrame:
    """Apply the serious-violence definition; keep classes a source set itself."""
    classes = classify(frame, harm_weights=load_harm_table(harm_table))
    out = frame.copy(deep=False)  # copy-on-write: columns are replaced, not copied
    preset = frame["sv_match"].notna() if "sv_match" in frame else None
    if preset is not None and not preset.any():
        preset = None  # no source class to keep: where() would only recast
    for name in _CLASS_COLUMNS:
        if name in classes:
            new = classes[name]
            out[name] = new if preset is None else frame[name].where(preset, new)
    return out


def _locate(
    frame: pd.DataFrame, *, grouping: Grouping
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Attach CSP and LSOA; points outside every CSP move to the rejects."""
    points = gpd.GeoDataFrame(
        frame.drop(columns=["x", "y"]),
        geometry=_points_from_xy(frame["x"], frame["y"]),
        crs=BNG,
    )
    areas = assign_areas(
        points, grouping=grouping, recorded_lsoa=frame["recorded_lsoa_code"]
    )
    inside = areas["csp_code"].notna()
    reasons = pd.DataFrame(
        {
            "reject_field": "location",
            "reject_value": [
                f"{x:.0f}, {y:.0f}"
                for x, y in zip(
                    frame.loc[~inside, "x"], frame.loc[~inside, "y"], strict=True
                )
            ],
            "reject_reason": "outside HIPS: the point is in none of the 14 CSP areas",
        },
        index=frame.index[~inside],
    )
    rejects = _rejects_from(frame[~inside], reasons, stage="locate")
    points = points[inside]  # copy-on-write: the new columns leave ``frame`` alone
    for name in ("csp_code", "csp_name", "lsoa21_code"):
        points[name] = areas.loc[inside, name]
    return _areas_of_coarse_points(points, grouping=grouping), rejects


def _points_from_xy(x: pd.Series, y: pd.Series) -> gpd.array.GeometryArray:
    """Return ``geopandas.points_from_xy(x, y)``, one point object per distinct point.

    Rows on the same spot share one (immutable) point, as rows of a frame taken
    with repeats do.
    """
    import shapely

    from hotspot.geocode.points import unique_points

    codes, ux, uy = unique_points(x.to_numpy(dtype=float), y.to_numpy(dtype=float))
    return gpd.array.GeometryArray(shapely.points(ux, uy)[codes], crs=BNG)


def _areas_of_coarse_points(points: gpd.GeoDataFrame, *,
                            grouping: Grouping) -> gpd.GeoDataFrame:
    """Take a coarse point's CSP from its certain district, never from its centroid.

    A town, postcode sector or district centroid can sit across a boundary from
    the occurrence; the geocoder says which district the location certainly lies
    in (``geocode_lad_code``). Such rows take that district's CSP, and their LSOA
    is left empty unless it is certain (:func:`hotspot.geocode.lsoa_is_certain`).
    """
    from hotspot.boundaries import load_csps
    from hotspot.geocode import lsoa_is_certain

    if "geocode_precision" not in points.columns:
        return points
    out = points.copy(deep=False)  # copy-on-write: only changed columns are copied
    if "geocode_lad_code" in out.columns:
        csps = load_csps(grouping=grouping)
        by_lad = {lad.strip(): (code, name) for code, name, lads in zip(
            csps["csp_code"], csps["csp_name"], csps["lad_code"], strict=True)
            for lad in str(lads).split(",")}
        coarse = out["geocode_precision"].astype("string").isin(
            ["place", "area", "postcode_sector", "postcode_district"]).fillna(False)
        lad = out["geocode_lad_code"].astype("string")
        known = coarse & lad.isin(list(by_lad)).fillna(False)
        if known.any():
            pairs = lad[known].map(by_lad)
            out.loc[known, "csp_code"] = [p[0] for p in pairs]
            out.loc[known, "csp_name"] = [p[1] for p in pairs]
    uncertain = ~lsoa_is_certain(out)
    out.loc[uncertain, "lsoa21_code"] = pd.NA
    return out


def _check(frame: gpd.GeoDataFrame, *, months: bool = True,
           ) -> tuple[gpd.GeoDataFrame, list[quality.Finding]]:
    """Run the batch data-quality checks and record their flags per row.

    ``months=False`` leaves out the implausible-month check (a streamed batch
    holds part of a month: :func:`ingest_streaming` checks months at the end).
    """
    out = frame.copy(deep=False)  # copy-on-write: only the flags column is added
    flags = pd.Series(pd.NA, index=out.index, dtype="string")
    dup, found_dup = quality.check_duplicates(out)
    if months:
        month, found_month = quality.check_months(out)
    else:
        month, found_month = pd.Series(False, index=out.index), []
    pile, found_pile = quality.check_piles(
        out,
        pd.Series(out.geometry.x, index=out.index),
        pd.Series(out.geometry.y, index=out.index),
    )
    flags = quality.add_flag(flags, dup, "duplicate_id")
    flags = quality.add_flag(flags, month, "implausible_month")
    flags = quality.add_flag(flags, pile, "piled_on_one_spot")
    out["quality_flags"] = flags
    table = conform(out.reset_index(drop=True))
    gdf = gpd.GeoDataFrame(table, geometry="geometry", crs=BNG)
    return gdf, [*found_dup, *found_month, *found_pile]


def _rejects_from(
    frame: pd.DataFrame, reasons: pd.DataFrame, *, stage: str
) -> pd.DataFrame:
    if frame.empty:
        return empty_rejects()
    return make_rejects(
        pd.DataFrame(
            {
                "source_file": frame["source_file"],
                "row_number": frame["source_row"],
                "occurrence_id": frame["occurrence_id"],
                "field": reasons["reject_field"],
                "value": reasons["reject_value"],
                "reason": reasons["reject_reason"],
                "stage": stage,
            }
        )
    )


def _counts(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.value_counts(dropna=False).items()}


def summarise(
    read: ReadResult,
    occurrences: pd.DataFrame,
    rejects: pd.DataFrame,
    *,
    findings: Sequence[quality.Finding] = (),
    grouping: str = "district",
    mapping: ColumnMapping | None = None,
) -> dict[str, Any]:
    """Build the ingest summary and check that the row counts reconcile.

    Raises
    ------
    HotspotError
        When ``read != accepted + rejected``: a row went missing, which is a bug.
    """
    rejected_rows = rejects[["source_file", "row_number"]].drop_duplicates()
    n_rejected = len(rejected_rows)
    n_accepted = len(occurrences)
    if read.n_read != n_accepted + n_rejected:
        raise HotspotError(
            f"row accounting does not reconcile: read {read.n_read}, accepted "
            f"{n_accepted}, rejected {n_rejected}"
        )
    first_reason = rejects.drop_duplicates(["source_file", "row_number"])
    flagged = occurrences["quality_flags"].notna()
    sv = occurrences["is_serious_violence"].fillna(False).astype(bool)
    periods = occurrences["occurred_from"]
    return {
        "hotspot_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": list(read.files),
        "skipped_files": [
            {"file": s.file, "reason": s.reason} for s in getattr(read, "skipped", [])
        ],
        "mapping": None if mapping is None else mapping.name,
        "grouping": grouping,
        "rows": {"read": read.n_read, "accepted": n_accepted, "rejected": n_rejected},
        "reconciles": True,
        "rejected_by_reason": _counts(
            first_reason["stage"]
            + ": "
            + first_reason["field"].fillna("")
            + ": "
            + first_reason["reason"].fillna("")
        ),
        "accepted_by_source": _counts(occurrences["source"]),
        "synthetic_rows": int(occurrences["is_synthetic"].fillna(False).sum()),
        "geocoded_by_method": _counts(occurrences["geocode_method"]),
        "geocoded_by_precision": (_counts(occurrences["geocode_precision"])
                                  if "geocode_precision" in occurrences else {}),
        "median_uncertainty_m_by_method": {
            str(k): float(v)
            for k, v in occurrences.groupby("geocode_method")["geocode_uncertainty_m"]
            .median()
            .items()
        },
        "per_csp": _counts(occurrences["csp_name"]),
        "serious_violence": {
            "rows": int(sv.sum()),
            "by_category": _counts(occurrences.loc[sv, "sv_category"]),
            "by_match": _counts(occurrences["sv_match"]),
        },
        "period": {
            "from": None if periods.empty else str(periods.min()),
            "to": None if periods.empty else str(occurrences["occurred_to"].max()),
        },
        "quality": {
            "rows_flagged": int(flagged.sum()),
            "flagged_by_check": _counts(
                occurrences.loc[flagged, "quality_flags"].str.split(";").explode()
            ),
            "findings": [f.__dict__ for f in findings],
        },
    }


def analysis_rows(
    occurrences: pd.DataFrame, *, include_flagged: bool = False
) -> pd.DataFrame:
    """Rows analyses use by default: those with no data-quality flag."""
    if include_flagged:
        return occurrences
    keep = occurrences["quality_flags"].isna().to_numpy()
    return occurrences[keep]

"""The one rule for which occurrences an analysis uses.

Every surface (the map, ``hotspot detect``, ``profile``, ``overlay``, ``rank``,
exports, briefings, patrol plans, evaluations) builds a :class:`Selection` and
calls :func:`select`; nothing else filters occurrence rows for an analysis.

The rule, in order (each step's count is reported):

1. rows with a location (a point) and a date;
2. serious violence: ``is_serious_violence`` (where that is not recorded, rows
   with a category). Approximate police.uk matches ("Violence and sexual
   offences", "Public order") are **not** serious violence unless
   ``include_approximate`` is set;
3. no data-quality flag (the corrupt police.uk month, duplicate ids), unless
   ``include_flagged``;
4. the period: ``start``/``end`` as ``YYYY-MM`` (whole months) or ``YYYY-MM-DD``,
   both inclusive, on ``occurred_from``;
5. the categories (``sv_category``), when given;
6. the flags, all of which must hold. A row whose flag is **not recorded**
   (every police.uk row: police.uk publishes no flags) cannot be shown to hold
   it. The policy is explicit (``unknown_flags``): ``"drop"`` (default) leaves
   such rows out, ``"keep"`` keeps them; either way the number of rows with an
   unknown flag and what was done with them is reported in
   :attr:`Selected.notes`;
7. the CSPs (``csp_code`` assigned at ingest), when given;
8. for analyses on cells (``cell_edge_m`` given: hot spots, density, rankings,
   plans), only points precise enough for cells of that edge
   (:func:`hotspot.geocode.precise_enough`: a town or district centroid never, a
   postcode or street only when its uncertainty is at most the edge). Rows left
   out here still count in their CSP's totals; the note says how many. A store
   written before precision classes existed (no ``geocode_precision``) has its
   points used as given, and the note says so.

Cell counts for hot spots use the rows of steps 1–6 over the chosen CSPs' cells
(a CSP's cells count every point inside them, whatever CSP the point was
assigned to), so a one-CSP view shows exactly the cells of the all-HIPS view.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspot.definitions import SV_CATEGORIES
from hotspot.errors import ParameterError
from hotspot.ingest.quality import flagged

logger = logging.getLogger(__name__)

#: Flag filters: key → label. Each keeps only occurrences where the flag holds.
FLAGS: dict[str, str] = {
    "bladed": "Bladed implement",
    "public": "Public place",
    "nondomestic": "Non-domestic",
    "under25": "Victim under 25",
}
#: Older spellings still accepted (saved links, view files, ``profile --subset``).
FLAG_ALIASES: dict[str, str] = {
    "non_domestic": "nondomestic",
    "under_25": "under25",
    "bladed_implement": "bladed",
    "public_place": "public",
}
UnknownFlags = Literal["drop", "keep"]
UNKNOWN_FLAG_POLICIES: tuple[str, ...] = ("drop", "keep")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")


def canonical_flags(values: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    """Return flag keys in the one vocabulary, and a note per old spelling mapped.

    Raises ParameterError naming the flag when one is not known.
    """
    out: list[str] = []
    notes: list[str] = []
    for value in values:
        key = FLAG_ALIASES.get(value, value)
        if key != value:
            notes.append(f"flag {value!r} is now called {key!r}")
        if key not in FLAGS:
            raise ParameterError(
                f"flags must be some of {list(FLAGS)}, got {value!r}")
        if key not in out:
            out.append(key)
    return tuple(out), notes


@dataclass(frozen=True)
class Selection:
    """Which occurrences an analysis uses (see the module docstring for the rule).

    Attributes
    ----------
    start, end : str or None
        First and last month (``YYYY-MM``) or day (``YYYY-MM-DD``), inclusive;
        None for the data's own.
    categories : tuple of str
        Serious-violence categories (:data:`hotspot.definitions.SV_CATEGORIES`);
        empty for all serious violence.
    flags : tuple of str
        Flag filters (keys of :data:`FLAGS`), all of which must hold.
    csps : tuple of str
        CSP codes; empty for all of HIPS.
    include_flagged : bool
        Keep rows with data-quality flags.
    include_approximate : bool
        Count approximate police.uk matches as serious violence.
    unknown_flags : {"drop", "keep"}
        What a flag filter does with rows whose flag is not recorded.
    cell_edge_m : float or None
        For an analysis on cells of this edge (m): only points precise enough
        for them (step 8); None for totals, which count every located row.
    """

    start: str | None = None
    end: str | None = None
    categories: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    csps: tuple[str, ...] = ()
    include_flagged: bool = False
    include_approximate: bool = False
    unknown_flags: UnknownFlags = "drop"
    cell_edge_m: float | None = None

    def validate(self) -> Selection:
        """Return ``self`` when every value is allowed, else raise ParameterError."""
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and not _PERIOD.match(str(value)):
                raise ParameterError(
                    f"{name} must be a month YYYY-MM or a day YYYY-MM-DD, got "
                    f"{value!r}")
        lo, hi = self.bounds()
        if lo is not None and hi is not None and lo >= hi:
            raise ParameterError(
                f"start must not be after end, got {self.start!r} and {self.end!r}")
        bad = sorted(set(self.categories) - set(SV_CATEGORIES))
        if bad:
            raise ParameterError(
                f"categories must be some of {list(SV_CATEGORIES)}, got {bad}")
        canonical_flags(self.flags)
        if self.unknown_flags not in UNKNOWN_FLAG_POLICIES:
            raise ParameterError(
                f"unknown_flags must be one of {list(UNKNOWN_FLAG_POLICIES)}, got "
                f"{self.unknown_flags!r}")
        return self

    def bounds(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """Return ``[start, end)`` as timestamps (end exclusive); None when open."""
        lo = None if self.start is None else pd.Timestamp(self.start)
        hi = None
        if self.end is not None:
            end = pd.Timestamp(self.end)
            hi = (end + pd.offsets.MonthBegin(1) if len(self.end) == 7
                  else end + pd.Timedelta(days=1))
        return lo, hi

    def for_cells(self, cell_edge_m: float) -> Selection:
        """Return the rows an analysis on cells of this edge counts (all CSPs)."""
        return replace(self, csps=(), cell_edge_m=float(cell_edge_m))

    def without_csps(self) -> Selection:
        """Return the same selection over all of HIPS (the rows cells count)."""
        return replace(self, csps=())


@dataclass
class Selected:
    """The rows a :class:`Selection` chose, and how many each step left out.

    Attributes
    ----------
    rows : geopandas.GeoDataFrame
        The rows kept (the input's index and columns, plus ``month``).
    selection : Selection
        What was asked for.
    steps : dict of str to int
        Rows left out at each step, in order, then ``selected``.
    filters : dict
        What was applied, for result metadata and "how this was computed".
    notes : list of str
        Plain sentences, e.g. what happened to rows with an unknown flag.
    """

    rows: gpd.GeoDataFrame
    selection: Selection
    steps: dict[str, int] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Return the number of rows selected."""
        return len(self.rows)

    @property
    def first(self) -> pd.Timestamp | None:
        """Return the first ``occurred_from`` of the rows (None when there are none)."""
        return _when(self.rows, "min")

    @property
    def last(self) -> pd.Timestamp | None:
        """Return the last ``occurred_from`` of the rows (None when there are none)."""
        return _when(self.rows, "max")

    @property
    def synthetic(self) -> bool:
        """True when any selected row is SYNTHETIC."""
        if "is_synthetic" not in self.rows.columns:
            return False
        return bool(self.rows["is_synthetic"].astype("boolean").fillna(False).any())


def _when(rows: pd.DataFrame, end: str) -> pd.Timestamp | None:
    if rows.empty:
        return None
    value = getattr(pd.to_datetime(rows["occurred_from"]), end)()
    return None if pd.isna(value) else pd.Timestamp(value)


def _precision_step(occ: pd.DataFrame, edge_m: float, keep: np.ndarray,
                    step: Any, notes: list[str]) -> None:
    """Step 8: keep points precise enough for cells of ``edge_m`` (with a note)."""
    from hotspot.geocode import precise_enough

    if "geocode_precision" not in occ.columns:
        notes.append("this store records no location precision (written before "
                     "precision classes): its points are used as given")
        return
    unknown = occ["geocode_precision"].isna().to_numpy()
    fine = precise_enough(occ, cell_edge_m=edge_m).to_numpy() | unknown
    n_unknown = int((keep & unknown).sum())
    coarse = int((keep & ~fine).sum())
    step("too_coarse_for_cells", fine)
    notes.extend(precision_notes(n_unknown, coarse, edge_m))


def precision_filter(edge_m: float) -> str:
    """Return what step 8 applied, for a result's filters."""
    return f"points within {edge_m:.0f} m (the cell's edge)"


def precision_notes(unknown: int, coarse: int, edge_m: float) -> list[str]:
    """Return step 8's notes: rows of unknown precision kept, rows too coarse."""
    notes = []
    if unknown:
        notes.append(f"{unknown:,} rows record no location precision (written "
                     "before precision classes): their points are used as given")
    if coarse:
        notes.append(
            f"{coarse:,} occurrences are located too coarsely for cells of "
            f"{edge_m:.0f} m (a town, postcode district or a wide snap point): "
            "counted in their CSP's totals, not in the cells")
    return notes


def unknown_flag_note(unknown: int, flag: str, policy: str) -> str:
    """Return step 6's note on the rows whose flag is not recorded."""
    done = "kept" if policy == "keep" else "left out"
    return (f"{unknown:,} rows had no record of '{FLAGS[flag].lower()}' "
            f"(police.uk rows carry no flags): {done}")


def rows_filter(selection: Selection) -> str:
    """Return what steps 2 and 3 applied, for a result's filters."""
    text = ("serious violence" + (" incl. approximate police.uk matches"
                                  if selection.include_approximate else ""))
    return text if selection.include_flagged else text + ", no data-quality flags"


def flag_known(occurrences: pd.DataFrame, flag: str) -> pd.Series:
    """Return True where the flag's value is recorded for the row."""
    if flag == "under25":
        return pd.to_numeric(occurrences["victim_age"], errors="coerce").notna()
    return occurrences[_FLAG_COLUMNS[flag]].astype("boolean").notna()


def flag_holds(occurrences: pd.DataFrame, flag: str) -> pd.Series:
    """Return True where the flag is recorded and holds (unknown: False)."""
    if flag == "under25":
        age = pd.to_numeric(occurrences["victim_age"], errors="coerce")
        return (age < 25).fillna(False).astype(bool)
    value = occurrences[_FLAG_COLUMNS[flag]].astype("boolean")
    if flag == "nondomestic":
        value = ~value
    return value.fillna(False).astype(bool)


_FLAG_COLUMNS = {"bladed": "bladed_implement", "public": "public_place",
                 "nondomestic": "domestic"}


def serious_violence_mask(occurrences: pd.DataFrame, *,
                          include_approximate: bool = False) -> pd.Series:
    """Return True for rows counted as serious violence (step 2 of the rule)."""
    has_cat = occurrences["sv_category"].astype("string").notna()
    sv = occurrences["is_serious_violence"].astype("boolean").fillna(has_cat)
    if include_approximate and "sv_match" in occurrences.columns:
        sv |= occurrences["sv_match"].astype("string").eq("approximate").fillna(False)
    return sv.astype(bool)


def select(occurrences: gpd.GeoDataFrame, selection: Selection) -> Selected:
    """Apply the selection rule (module docstring) to the canonical occurrences.

    Parameters
    ----------
    occurrences : geopandas.GeoDataFrame
        The canonical occurrence table (points in EPSG:27700). Not modified.
    selection : Selection
        What to keep.

    Returns
    -------
    Selected
        The rows with a ``month`` column (``YYYY-MM``), the count left out at
        each step, the filters applied and plain notes.
    """
    sel = selection.validate()
    flags, _ = canonical_flags(sel.flags)
    occ = occurrences
    steps: dict[str, int] = {"read": len(occ)}
    notes: list[str] = []
    geom = occ.geometry
    when = pd.to_datetime(occ["occurred_from"])
    keep = (geom.notna() & ~geom.is_empty).to_numpy() & when.notna().to_numpy()
    steps["no_location_or_date"] = int((~keep).sum())

    def step(name: str, mask: np.ndarray) -> None:
        nonlocal keep
        steps[name] = int((keep & ~mask).sum())
        keep &= mask

    step("not_serious_violence", serious_violence_mask(
        occ, include_approximate=sel.include_approximate).to_numpy())
    if not sel.include_flagged:
        step("data_quality_flag", ~flagged(occ).to_numpy())
    lo, hi = sel.bounds()
    if lo is not None or hi is not None:
        inside = np.ones(len(occ), dtype=bool)
        if lo is not None:
            inside &= (when >= lo).fillna(False).to_numpy()
        if hi is not None:
            inside &= (when < hi).fillna(False).to_numpy()
        step("outside_period", inside)
    if sel.categories:
        step("other_category", occ["sv_category"].astype("string")
             .isin(sel.categories).fillna(False).to_numpy())
    for flag in flags:
        known = flag_known(occ, flag).to_numpy()
        holds = flag_holds(occ, flag).to_numpy()
        step(f"flag_{flag}_not_holding", holds | ~known)
        unknown_here = int((keep & ~known).sum())
        if sel.unknown_flags == "drop":
            step(f"flag_{flag}_unknown", known)
        if unknown_here:
            notes.append(unknown_flag_note(unknown_here, flag, sel.unknown_flags))
    if sel.csps:
        step("other_csp", occ["csp_code"].astype("string")
             .isin(sel.csps).fillna(False).to_numpy())
    if sel.cell_edge_m is not None:
        _precision_step(occ, sel.cell_edge_m, keep, step, notes)
    filters = selection_filters(sel, precision="geocode_precision" in occ.columns)
    steps["selected"] = int(keep.sum())
    chosen = occ[keep]
    rows = gpd.GeoDataFrame(chosen.copy(), geometry=chosen.geometry.name,
                            crs=occ.crs)
    rows["month"] = month_text(when[keep])
    logger.info("selected %d of %d occurrences (%s)", steps["selected"],
                steps["read"], filters)
    return Selected(rows=rows, selection=sel, steps=steps, filters=filters,
                    notes=notes)


def month_text(when: pd.Series | pd.Index) -> pd.Series:
    """Return each date's month as ``YYYY-MM``, as ``dt.strftime("%Y-%m")`` would.

    Formats each distinct month once, not each row (``strftime`` takes about a
    second for a million rows). Missing dates give NaN, as ``strftime`` does.
    """
    when = pd.Series(pd.to_datetime(when))
    valid = when.notna().to_numpy()
    out = np.full(len(when), np.nan, dtype=object)
    code = (when.dt.year * 100 + when.dt.month).to_numpy()[valid].astype(np.int64)
    months, inverse = np.unique(code, return_inverse=True)
    text = np.array([f"{m // 100:04d}-{m % 100:02d}" for m in months], dtype=object)
    out[valid] = text[inverse]
    return pd.Series(out, index=when.index, dtype=object)


def months_of(points: pd.DataFrame) -> list[str]:
    """Every month from the first to the last occurrence (``YYYY-MM``)."""
    if points.empty:
        return []
    when = pd.to_datetime(points["occurred_from"])
    rng = pd.period_range(when.min().to_period("M"), when.max().to_period("M"),
                          freq="M")
    return [str(p) for p in rng]


class SqlStep(NamedTuple):
    """One step of the rule in SQL: its name in :attr:`Selected.steps`, condition."""

    name: str
    condition: str
    params: tuple[Any, ...] = ()


def selection_steps_sql(selection: Selection, *,
                        precision: bool = True) -> list[SqlStep]:
    """Return the rule's steps 2–8 as named SQL conditions, in :func:`select`'s order.

    Each condition is true or false, never NULL (a row passes a step when it
    is true), so the rows a step leaves out are those passing the steps before
    it for which it is false, the count :attr:`Selected.steps` gives. The step
    names are those of :func:`select`. ``precision=False`` is for a store with
    no ``geocode_precision`` column (step 8 then keeps every point).
    """
    from hotspot.geocode.precision import MAPPABLE_PRECISIONS

    sel = selection.validate()
    flags, _ = canonical_flags(sel.flags)
    out: list[SqlStep] = []

    def add(name: str, condition: str, *params: Any) -> None:
        out.append(SqlStep(name, f"coalesce(({condition}), false)", params))

    sv = "coalesce(is_serious_violence, sv_category IS NOT NULL)"
    if sel.include_approximate:
        sv = f"({sv} OR coalesce(sv_match = 'approximate', false))"
    add("not_serious_violence", sv)
    if not sel.include_flagged:
        add("data_quality_flag", "coalesce(trim(quality_flags), '') = ''")
    lo, hi = sel.bounds()
    if lo is not None or hi is not None:
        tests = ([("occurred_from >= ?", lo)] if lo is not None else []) + (
            [("occurred_from < ?", hi)] if hi is not None else [])
        add("outside_period", " AND ".join(t for t, _ in tests),
            *(v.to_pydatetime() for _, v in tests))
    if sel.categories:
        add("other_category",
            f"sv_category IN ({', '.join('?' * len(sel.categories))})",
            *sel.categories)
    holds = {"bladed": "bladed_implement", "public": "public_place",
             "nondomestic": "NOT domestic", "under25": "victim_age < 25"}
    for flag in flags:
        add(f"flag_{flag}_not_holding",
            f"coalesce({holds[flag]}, false) OR {flag_unknown_sql(flag)}")
        if sel.unknown_flags == "drop":
            add(f"flag_{flag}_unknown", f"NOT {flag_unknown_sql(flag)}")
    if sel.csps:
        add("other_csp", f"csp_code IN ({', '.join('?' * len(sel.csps))})",
            *sel.csps)
    if sel.cell_edge_m is not None and precision:
        fine = ", ".join("?" * len(MAPPABLE_PRECISIONS))
        add("too_coarse_for_cells",
            f"geocode_precision IS NULL OR (geocode_precision IN ({fine})"
            " AND coalesce(geocode_uncertainty_m <= ?, false))",
            *sorted(MAPPABLE_PRECISIONS), float(sel.cell_edge_m))
    return out


def flag_unknown_sql(flag: str) -> str:
    """Return the SQL test that a row's flag is not recorded (step 6)."""
    known = {"bladed": "bladed_implement", "public": "public_place",
             "nondomestic": "domestic", "under25": "victim_age"}
    return f"{known[flag]} IS NULL"


def selection_filters(selection: Selection, *, precision: bool = True
                      ) -> dict[str, Any]:
    """Return the filters :func:`select` records for a selection (same keys, order)."""
    sel = selection.validate()
    flags, _ = canonical_flags(sel.flags)
    filters: dict[str, Any] = {"rows": rows_filter(sel)}
    if sel.start is not None:
        filters["from"] = sel.start
    if sel.end is not None:
        filters["to"] = sel.end
    if sel.categories:
        filters["categories"] = list(sel.categories)
    if flags:
        filters["flags"] = [FLAGS[f] for f in flags]
        filters["unknown_flags"] = sel.unknown_flags
    if sel.csps:
        filters["csps"] = list(sel.csps)
    if sel.cell_edge_m is not None and precision:
        filters["precision"] = precision_filter(sel.cell_edge_m)
    return filters

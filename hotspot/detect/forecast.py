"""The forecast model behind the ranking: targets, settings, the panel, the fit.

:mod:`hotspot.detect.rank` explains the method; this module holds its parts:
:class:`TargetSpec` (which rows are forecast), :class:`RankSettings` (what is not
fitted), :func:`build_panel` (counts per cell and whole month, per source, with
months that have no clean data marked missing), :func:`features` (rates per
month with data before a forecast origin) and :func:`fit_weights` (non-negative
Poisson regression with the identity link, by projected Newton steps).

Why this module is long: the ranking's model in one place: the target, the
monthly panel with its missing months, the features and the non-negative
Poisson fit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from hotspot.detect.gistar import ring_weights
from hotspot.errors import ParameterError
from hotspot.grid import harm_total, points_to_cells
from hotspot.ingest.quality import PRECISE_METHODS, flagged

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
Weight = Literal["count", "harm"]

#: police.uk crime types grouped into leading indicators.
INDICATOR_GROUPS: dict[str, tuple[str, ...]] = {
    "violence": ("Violence and sexual offences",),
    "public_order": ("Public order",),
    "drugs": ("Drugs",),
    "damage": ("Criminal damage and arson",),
    "theft": ("Shoplifting", "Other theft", "Theft from the person", "Bicycle theft"),
    "asb": ("Anti-social behaviour",),
    "other": ("Burglary", "Vehicle crime", "Other crime"),
    "robbery_weapons": ("Robbery", "Possession of weapons"),
}
#: Plain names of the indicator groups, for reasons.
INDICATOR_NOUNS: dict[str, str] = {
    "violence": "violence and sexual offences",
    "public_order": "public order offences",
    "drugs": "drugs offences",
    "damage": "criminal damage and arson offences",
    "theft": "thefts and shoplifting offences",
    "asb": "anti-social behaviour reports",
    "other": "burglaries, vehicle and other crimes",
    "robbery_weapons": "other robberies and weapon offences",
}
#: Indicator sets tried by :func:`candidate_settings`.
INDICATOR_SETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "violence+public order": ("violence", "public_order"),
    "all": tuple(INDICATOR_GROUPS),
}  #: Months with data a forecast origin needs before it.
MIN_HISTORY = 2

CATEGORY_NOUN = {
    "robbery": "robberies",
    "possession_of_weapons": "weapon possession offences",
    "most_serious_violence": "most serious violence offences",
    "violent_disorder": "violent disorder offences",
    "bladed_violence_with_injury": "bladed violence offences",
}


@dataclass(frozen=True)
class TargetSpec:
    """Which occurrences are forecast.

    Attributes
    ----------
    categories : tuple of str
        ``sv_category`` values, within serious violence; empty means all
        serious violence (``is_serious_violence``, or a category where that is
        not recorded).
    sources : tuple of str
        ``source`` values to use (``"police_uk"``, ``"records"``, ...); empty
        means every source.
    include_approximate : bool
        Count approximate police.uk matches ("Violence and sexual offences",
        "Public order") as serious violence, as ``hotspot.selection`` does.
    """

    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    include_approximate: bool = False

    def __post_init__(self) -> None:
        for name in ("categories", "sources"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ParameterError(
                    f"TargetSpec.{name} must be a tuple of strings, got {value!r}"
                )

    @property
    def noun(self) -> str:
        """Plural noun of the target, for sentences."""
        if not self.categories:
            return "serious-violence occurrences"
        words = [CATEGORY_NOUN.get(c, c.replace("_", " ")) for c in self.categories]
        if set(self.categories) == {"robbery", "possession_of_weapons"}:
            return "robberies and weapon offences"
        return " and ".join(words)

    def mask(self, occurrences: pd.DataFrame) -> npt.NDArray[np.bool_]:
        """Return True for target rows (categories and sources; flags not read).

        The project's selection rule: serious violence first
        (``is_serious_violence``, or a category where that is not recorded;
        approximate police.uk matches only with ``include_approximate``), then
        the categories.
        """
        cat = occurrences["sv_category"].astype("string")
        sv = occurrences["is_serious_violence"].astype("boolean").fillna(cat.notna())
        if self.include_approximate and "sv_match" in occurrences.columns:
            approx = occurrences["sv_match"].astype("string").eq("approximate")
            sv |= approx.fillna(False)
        keep = sv.astype(bool)
        if self.categories:
            keep &= cat.isin(self.categories).fillna(False)
        if self.sources:
            keep &= (
                occurrences["source"].astype("string").isin(self.sources).fillna(False)
            )
        return keep.to_numpy(dtype=bool)


@dataclass(frozen=True)
class RankSettings:
    """What the ranking does not fit but chooses by validation.

    Attributes
    ----------
    recent_months : int
        Length of the recent window, calendar months before the origin.
    ring : int
        Rings of neighbouring cells read for the target and for other crime:
        0 none, 1 the six neighbours (``*_ring``), 2 also the twelve cells
        two steps away (``*_ring2``, a separate term). ``True`` means 1.
    indicators : tuple of str
        Indicator groups used (keys of :data:`INDICATOR_GROUPS`).
    shrinkage : float
        Ridge penalty on the weights (per fitted row, ≥ 0): pulls weights
        towards 0 so that thin months do not make one feature dominate.
    """

    recent_months: int = 3
    ring: int = 1
    indicators: tuple[str, ...] = ("violence", "public_order")
    shrinkage: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.ring, bool):
            object.__setattr__(self, "ring", int(self.ring))
        if not isinstance(self.ring, int) or self.ring not in (0, 1, 2):
            raise ParameterError(f"ring must be 0, 1 or 2, got {self.ring!r}")
        if not isinstance(self.recent_months, int) or self.recent_months < 1:
            raise ParameterError(
                f"recent_months must be an integer >= 1, got {self.recent_months!r}"
            )
        unknown = set(self.indicators) - set(INDICATOR_GROUPS)
        if unknown:
            raise ParameterError(
                f"indicators must be among {sorted(INDICATOR_GROUPS)}, "
                f"got {sorted(unknown)}"
            )
        if not (isinstance(self.shrinkage, (int, float)) and self.shrinkage >= 0):
            raise ParameterError(
                f"shrinkage must be a number >= 0, got {self.shrinkage!r}"
            )

    def label(self) -> str:
        """Short text of the settings."""
        ind = next(
            (k for k, v in INDICATOR_SETS.items() if v == self.indicators),
            "+".join(self.indicators) or "none",
        )
        return (
            f"recent {self.recent_months} mo, rings {self.ring}, "
            f"indicators {ind}, shrinkage {self.shrinkage:g}"
        )


# ----------------------------------------------------------------------------
# the panel: counts per cell and month for each stream
# ----------------------------------------------------------------------------


@dataclass
class _Stream:
    counts: FloatArray  # cells x months
    available: npt.NDArray[np.bool_]  # months


@dataclass
class Panel:
    """Counts per cell and month of the target (per source) and of indicators."""

    months: pd.PeriodIndex
    target: dict[str, _Stream]  # per source
    indicators: dict[str, _Stream]
    neighbours: sparse.csr_array  # ring-1 neighbours, cell itself excluded
    target_harm: dict[str, _Stream]
    missing: list[str]
    left_out: dict[str, int]
    cells_h3: list[str] = field(default_factory=list)
    _ring2: sparse.csr_array | None = None
    #: feature columns already computed, by (origin, harm, name): validation
    #: asks for the same columns under many candidate settings
    _columns: dict[tuple[int, bool, str], FloatArray] = field(
        default_factory=dict, repr=False
    )

    def column(
        self, origin: int, harm: bool, name: str, make: Callable[[], FloatArray]
    ) -> FloatArray:
        """Return one feature column at an origin, computing it on first use."""
        key = (origin, harm, name)
        known = self._columns.get(key)
        if known is None:
            known = make()
            self._columns[key] = known
        return known

    @property
    def neighbours2(self) -> sparse.csr_array:
        """Cells exactly two grid steps away (built on first use)."""
        if self._ring2 is None:
            ring2 = ring_weights(self.cells_h3, k=2)
            within = self.neighbours + sparse.eye_array(
                len(self.cells_h3), format="csr"
            )
            w2 = sparse.csr_array(ring2 - within)
            w2.eliminate_zeros()
            self._ring2 = w2
        return self._ring2

    def ring1_within(self, study_area: npt.ArrayLike) -> sparse.csr_array:
        """Binary k=1 weights with the cell itself, within each study area (Gi*)."""
        areas, _ = pd.factorize(np.asarray(study_area), sort=False)
        w = sparse.coo_array(
            self.neighbours + sparse.eye_array(len(areas), format="csr")
        )
        keep = areas[w.row] == areas[w.col]
        return sparse.csr_array(
            (w.data[keep], (w.row[keep], w.col[keep])), shape=w.shape
        )


def _month_table(
    n_cells: int,
    n_months: int,
    cell: npt.NDArray[np.int64],
    month: npt.NDArray[np.int64],
    weights: FloatArray | None = None,
) -> FloatArray:
    flat = cell * n_months + month
    return (
        np.bincount(flat, weights=weights, minlength=n_cells * n_months)
        .reshape(n_cells, n_months)
        .astype(np.float64)
    )


@dataclass
class PanelCounts:
    """What a panel counts, from rows or from a store: groups of usable rows.

    Attributes
    ----------
    cell : numpy.ndarray of str
        H3 cell of each group (None: the point has no cell).
    month : numpy.ndarray of int
        Month of each group as a ``pandas.Period("M")`` ordinal.
    source : numpy.ndarray of str
        ``source`` (``"unknown"`` when missing).
    indicator : numpy.ndarray of str
        The :data:`INDICATOR_GROUPS` name of the rows' ``crime_type`` (``""``
        for target rows and crime types in no group: they lead nothing).
    target : numpy.ndarray of bool
        Whether the group's rows are the target (:meth:`TargetSpec.mask`).
    n, harm : numpy.ndarray of float
        Rows in the group and their summed harm (a missing weight counts 0).
    clean : pandas.DataFrame
        ``source`` and ``month`` (ordinal) of every month in which a source
        has a clean row (flags aside, whatever its location), one row each.
    left_out : dict of str to int
        Rows dropped before counting: ``after_fit_to`` (or undated),
        ``flagged``, ``imprecise_location``.
    """

    cell: npt.NDArray[np.object_]
    month: npt.NDArray[np.int64]
    source: npt.NDArray[np.object_]
    indicator: npt.NDArray[np.object_]
    target: npt.NDArray[np.bool_]
    n: FloatArray
    harm: FloatArray
    clean: pd.DataFrame
    left_out: dict[str, int]


#: Each police.uk crime type's indicator group (:data:`INDICATOR_GROUPS`).
INDICATOR_OF: dict[str, str] = {t: g for g, types in INDICATOR_GROUPS.items()
                                for t in types}


def indicator_of(crime_type: pd.Series, is_target: npt.ArrayLike
                 ) -> npt.NDArray[np.object_]:
    """Return each row's indicator group: ``""`` for target rows and other types."""
    groups = crime_type.astype("string").map(INDICATOR_OF).fillna("")
    out = groups.to_numpy(dtype=object)
    out[np.asarray(is_target, dtype=bool)] = ""
    return out


def last_whole_month(fit_to: pd.Timestamp) -> pd.Period:
    """Return the last whole calendar month on or before ``fit_to``."""
    last_month = fit_to.to_period("M")
    if fit_to.normalize() < last_month.end_time.normalize():
        last_month = last_month - 1  # only whole months
    return last_month


def panel_counts_of_rows(
    occurrences: gpd.GeoDataFrame,
    *,
    resolution: int,
    target: TargetSpec,
    end: pd.Timestamp,
) -> PanelCounts:
    """Count an occurrence table's rows for a panel (each row its own group).

    Rows from ``end`` on (exclusive) or undated, flagged rows, rows without a
    point or located less precisely than a cell are dropped before anything
    else; :meth:`hotspot.ingest.query.StoreQuery.panel_counts` does the same in
    DuckDB.
    """
    occ = occurrences
    when = pd.to_datetime(occ["occurred_from"])
    keep = (when < end).to_numpy() & when.notna().to_numpy()
    occ = occ[keep]
    when = when[keep]
    bad = flagged(occ).to_numpy()
    method = occ["geocode_method"].astype("string")
    imprecise = (~method.isin(PRECISE_METHODS).fillna(False)).to_numpy()
    geom = occ.geometry
    no_point = (geom.isna() | geom.is_empty).to_numpy()
    left_out = {
        "after_fit_to": int((~keep).sum()),
        "flagged": int(bad.sum()),
        "imprecise_location": int((imprecise & ~bad & ~no_point).sum()),
    }
    sources = occ["source"].astype("string").fillna("unknown").to_numpy(dtype=object)
    month = when.dt.to_period("M").array.asi8.astype(np.int64)
    clean = ~bad
    seen = pd.DataFrame({"source": sources[clean], "month": month[clean]})
    use = clean & ~imprecise & ~no_point
    occ_u = occ[use]
    cells = points_to_cells(occ_u, resolution=resolution).to_numpy(dtype=object)
    harm = pd.to_numeric(occ_u["harm_weight"], errors="coerce").fillna(0.0)
    is_target = target.mask(occ_u)
    return PanelCounts(
        cell=cells, month=month[use], source=sources[use],
        indicator=indicator_of(occ_u["crime_type"], is_target),
        target=is_target, n=np.ones(len(occ_u)),
        harm=harm.to_numpy(float), clean=seen.drop_duplicates(),
        left_out=left_out)


def build_panel(
    occurrences: gpd.GeoDataFrame | Any,
    cells: gpd.GeoDataFrame,
    *,
    target: TargetSpec,
    fit_to: pd.Timestamp,
) -> Panel:
    """Count target and indicator rows per cell and whole month up to ``fit_to``.

    Rows after ``fit_to``, flagged rows, rows without a point or located less
    precisely than a cell are dropped before anything else. ``occurrences`` is
    the occurrence table, or a store asked through DuckDB
    (:class:`hotspot.ingest.query.StoreQuery`): the same panel either way.
    """
    last_month = last_whole_month(fit_to)
    end = (last_month + 1).start_time
    resolution = _resolution(cells)
    ask = getattr(occurrences, "panel_counts", None)
    counts: PanelCounts = (
        ask(resolution=resolution, target=target, end=end) if ask is not None
        else panel_counts_of_rows(occurrences, resolution=resolution,
                                  target=target, end=end))
    return _assemble_panel(counts, cells, target=target, fit_to=fit_to,
                           last_month=last_month)


def _assemble_panel(counts: PanelCounts, cells: gpd.GeoDataFrame, *,
                    target: TargetSpec, fit_to: pd.Timestamp,
                    last_month: pd.Period) -> Panel:
    """Build a :class:`Panel` from counted groups (rows or a store's)."""
    left_out = dict(counts.left_out)
    if counts.clean.empty:
        raise ParameterError(
            "no occurrence passes the data-quality checks on or before "
            f"{fit_to:%Y-%m-%d}"
        )
    first_month = pd.Period(ordinal=int(counts.clean["month"].min()), freq="M")
    months = pd.period_range(first_month, last_month, freq="M")
    if len(months) == 0:
        raise ParameterError(
            f"fit_to {fit_to:%Y-%m-%d} is before the first whole month"
        )
    n_m = len(months)
    # months with data per source: any clean row
    avail: dict[str, npt.NDArray[np.bool_]] = {}
    for src, group in counts.clean.groupby("source", sort=True):
        a = np.zeros(n_m, dtype=bool)
        a[group["month"].to_numpy(dtype=np.int64) - first_month.ordinal] = True
        avail[str(src)] = a
    # a month is missing when the source has no clean row in it, from the
    # source's first month on (earlier months are simply not covered)
    missing = [
        f"{m} ({src})"
        for src, a in avail.items()
        for i, (m, ok) in enumerate(zip(months.astype(str), a, strict=True))
        if not ok and a[:i].any()
    ]
    cpos = pd.Index(cells["h3"]).get_indexer(
        pd.Series(counts.cell, dtype=object).fillna("").to_numpy())
    inside = cpos >= 0
    left_out["outside_cells"] = int(counts.n[~inside].sum())
    cpos = cpos[inside]
    m_u = counts.month[inside] - first_month.ordinal
    src_u, n_u = counts.source[inside], counts.n[inside]
    is_target, harm = counts.target[inside], counts.harm[inside]
    n_c = len(cells)
    tstreams: dict[str, _Stream] = {}
    hstreams: dict[str, _Stream] = {}
    target_sources = target.sources or tuple(avail)
    for src in target_sources:
        if src not in avail:
            continue
        sel = is_target & (src_u == src)
        tstreams[src] = _Stream(_month_table(n_c, n_m, cpos[sel], m_u[sel], n_u[sel]),
                                avail[src])
        hstreams[src] = _Stream(
            harm_total(_month_table(n_c, n_m, cpos[sel], m_u[sel], harm[sel])),
            avail[src])
    indicator = counts.indicator[inside]
    istreams: dict[str, _Stream] = {}
    police = avail.get("police_uk", np.zeros(n_m, dtype=bool))
    for group in INDICATOR_GROUPS:
        sel = ~is_target & (indicator == group)
        istreams[group] = _Stream(_month_table(n_c, n_m, cpos[sel], m_u[sel],
                                               n_u[sel]), police)
    ids = cells["h3"].tolist()
    w1 = sparse.csr_array(ring_weights(ids, k=1) - sparse.eye_array(n_c, format="csr"))
    w1.eliminate_zeros()
    return Panel(months, tstreams, istreams, w1, hstreams, missing, left_out, ids)


def _resolution(cells: pd.DataFrame) -> int:
    import h3

    return int(h3.get_resolution(str(cells["h3"].iloc[0])))


def _rate(stream: _Stream, lo: int, hi: int) -> tuple[FloatArray, int]:
    """Mean count per month with data over months [lo, hi); and how many months."""
    lo = max(lo, 0)
    ok = np.flatnonzero(stream.available[lo:hi]) + lo
    if len(ok) == 0:
        return np.zeros(stream.counts.shape[0]), 0
    return stream.counts[:, ok].sum(axis=1) / len(ok), len(ok)


def features(
    panel: Panel, origin: int, settings: RankSettings, *, harm: bool = False
) -> tuple[FloatArray, list[str]]:
    """Feature matrix (cells x features, with the constant first) at an origin.

    ``origin`` is the index of the first forecast month in ``panel.months``;
    only months before it are read. Columns are kept on the panel
    (:meth:`Panel.column`), so candidates sharing a column compute it once.
    """
    streams = panel.target_harm if harm else panel.target
    n_c = panel.neighbours.shape[0]

    def long_rate() -> FloatArray:
        out = np.zeros(n_c)
        for s in streams.values():
            out += _rate(s, 0, origin)[0]
        return out

    def recent_rate() -> FloatArray:
        out = np.zeros(n_c)
        for s in streams.values():
            r, nr = _rate(s, origin - settings.recent_months, origin)
            out += r if nr else _rate(s, 0, origin)[0]
        return out

    def other_rate() -> FloatArray:
        out = np.zeros(n_c)
        for group in panel.indicators:
            out += indicator(group)
        return out

    def indicator(group: str) -> FloatArray:
        s = panel.indicators[group]
        return panel.column(origin, False, group, lambda: _rate(s, 0, origin)[0])

    long = panel.column(origin, harm, "target_long", long_rate)
    recent = panel.column(
        origin, harm, f"target_recent_{settings.recent_months}", recent_rate
    )
    cols = [np.ones(n_c), recent, long]
    names = ["constant", "target_recent", "target_long"]
    if settings.ring >= 1:
        cols.append(panel.column(origin, harm, "target_ring",
                                 lambda: panel.neighbours @ long))
        names.append("target_ring")
    if settings.ring >= 2:
        cols.append(panel.column(origin, harm, "target_ring2",
                                 lambda: panel.neighbours2 @ long))
        names.append("target_ring2")
    for group in panel.indicators:
        if group in settings.indicators:
            cols.append(indicator(group))
            names.append(group)
    if settings.indicators and settings.ring >= 1:
        other = panel.column(origin, False, "other", other_rate)
        cols.append(panel.column(origin, False, "other_ring",
                                 lambda: panel.neighbours @ other))
        names.append("other_ring")
        if settings.ring >= 2:
            cols.append(panel.column(origin, False, "other_ring2",
                                     lambda: panel.neighbours2 @ other))
            names.append("other_ring2")
    return np.column_stack(cols), names


def response(
    panel: Panel, origin: int, horizon: int, *, harm: bool
) -> tuple[FloatArray, int]:
    """Target occurrences (or harm) in months [origin, origin+horizon) with data."""
    streams = panel.target_harm if harm else panel.target
    y = np.zeros(panel.neighbours.shape[0])
    months = 0
    for s in streams.values():
        ok = np.flatnonzero(s.available[origin : origin + horizon]) + origin
        y += s.counts[:, ok].sum(axis=1)
        months = max(months, len(ok))
    return y, months


def origins(panel: Panel) -> list[int]:
    """Forecast origins before the cut-off: months with target data and history."""
    avail = np.zeros(len(panel.months), dtype=bool)
    for s in panel.target.values():
        avail |= s.available
    out = []
    for t in range(len(panel.months)):
        if avail[t] and int(avail[:t].sum()) >= MIN_HISTORY:
            out.append(t)
    return out


# ----------------------------------------------------------------------------
# fitting
# ----------------------------------------------------------------------------


def fit_weights(
    x: FloatArray,
    y: FloatArray,
    exposure: FloatArray,
    *,
    shrinkage: float = 0.0,
    start: FloatArray | None = None,
) -> FloatArray:
    """Non-negative Poisson regression with the identity link.

    Maximises ``Σ y log μ − μ`` with ``μ = exposure · (x @ b)``, ``b ≥ 0`` (the
    constant's weight bounded below by a tiny positive value so μ > 0), minus
    ``shrinkage · n · Σ_{j>0} b_j²`` (ridge, the constant not penalised).
    Rows with identical features are merged first (same likelihood).

    Parameters
    ----------
    x : ndarray, shape (n, p)
        Features, first column the constant 1; all ≥ 0.
    y : ndarray, shape (n,)
        Responses ≥ 0 (counts, or harm: quasi-Poisson).
    exposure : ndarray, shape (n,)
        Months of response per row (> 0).
    shrinkage : float, keyword-only
        Ridge penalty per row.
    start : ndarray, shape (p,), optional, keyword-only
        Starting weights (for example the fit one origin earlier); the optimum
        is the same, only reached in fewer steps.

    Returns
    -------
    ndarray, shape (p,)
        The weights.
    """
    if x.ndim != 2 or len(x) != len(y) or len(y) != len(exposure):
        raise ParameterError(
            f"x, y and exposure must agree: got {x.shape}, {y.shape}, {exposure.shape}"
        )
    active = x[:, 1:].any(axis=1)
    # rows with identical features and exposure share μ: merge them (the
    # likelihood is the same up to a constant), and all rows with no feature
    # at all into one
    xa = np.column_stack([x[active], exposure[active]])
    first, inverse = _row_groups(xa)
    xs = xa[first, :-1]
    es = np.bincount(inverse, weights=exposure[active], minlength=len(first))
    ys = np.bincount(inverse, weights=y[active], minlength=len(first)).astype(
        np.float64
    )
    if (~active).any():
        xs = np.vstack([xs, x[~active][:1]])
        ys = np.r_[ys, y[~active].sum()]
        es = np.r_[es, exposure[~active].sum()]
    # scale each feature to mean 1 over the rows: a well-conditioned problem
    scale = (exposure @ x) / len(x)
    scale = np.where(scale > 0, scale, 1.0)
    xe = xs * es[:, None] / scale[None, :]
    p = x.shape[1]
    mean_rate = max(float(y.sum()) / max(float(exposure.sum()), 1e-12), 1e-9)
    pen = np.r_[0.0, np.full(p - 1, shrinkage * float(len(y)))] / scale**2
    lower = np.zeros(p)
    lower[0] = 1e-9 * mean_rate * scale[0]
    c = np.full(p, 0.1 * mean_rate * scale[0] / max(p - 1, 1))
    c[0] = 0.5 * mean_rate * scale[0]
    if start is not None and len(start) == p and np.all(np.isfinite(start)):
        # a nearby solution (the same features one origin earlier): fewer steps;
        # weights at 0 are nudged off the bound so that they can move
        c = np.maximum(np.asarray(start, dtype=np.float64) * scale, 0.05 * c)
        c[0] = max(c[0], lower[0])
    c = _projected_newton(xe, ys, pen, lower, c)
    return np.asarray(c / scale, dtype=np.float64)


def _row_groups(
    xa: FloatArray,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Group identical rows: the first row of each group, and each row's group.

    Each column is factorised (hash tables, linear time) and the codes combined
    column by column, refactorising as it goes so the combined code stays below
    the row count; twice as fast as sorting the rows as bytes.
    """
    code = np.zeros(len(xa), dtype=np.int64)
    for j in range(xa.shape[1]):
        cj, uj = pd.factorize(xa[:, j])
        code, _ = pd.factorize(code * len(uj) + cj)
    n_groups = int(code.max()) + 1 if len(code) else 0
    first = np.empty(n_groups, dtype=np.int64)
    rows = np.arange(len(code), dtype=np.int64)
    first[code[::-1]] = rows[::-1]  # written last, so the earliest row wins
    return first, code.astype(np.int64)


def _projected_newton(
    xe: FloatArray,
    ys: FloatArray,
    pen: FloatArray,
    lower: FloatArray,
    c: FloatArray,
    *,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> FloatArray:
    """Minimise the penalised Poisson deviance over ``c >= lower`` (Bertsekas 1982).

    Newton steps on the free variables (those off their bound or pushed away
    from it by the gradient), projected onto the bounds, with Armijo
    backtracking; small p (a dozen features) makes each step cheap.
    """
    col_sum = xe.sum(axis=0)

    def objective(v: FloatArray) -> float:
        mu = np.maximum(xe @ v, 1e-300)
        return float(mu.sum() - ys @ np.log(mu) + (pen * v * v).sum())

    f = objective(c)
    damping = 1e-8
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        mu = np.maximum(xe @ c, 1e-300)
        r = ys / mu
        grad = col_sum - xe.T @ r + 2 * pen * c
        at_bound = c <= lower + 1e-15
        free = ~(at_bound & (grad > 0))
        if not free.any():
            break
        hess = (xe[:, free] * (r / mu)[:, None]).T @ xe[:, free]
        hess += np.diag(2 * pen[free])
        diag = np.diag(hess).copy() + 1e-12
        improved = False
        while damping < 1e12:
            # Levenberg-Marquardt damping: collinear features (a recent window
            # as long as the whole history) make the Hessian singular
            step_free = -np.linalg.solve(hess + damping * np.diag(diag), grad[free])
            step = np.zeros_like(c)
            step[free] = step_free
            trial = np.maximum(c + step, lower)
            ft = objective(trial)
            if ft < f:
                improved = True
                damping = max(damping / 10, 1e-10)
                break
            damping *= 10
        if not improved:
            break
        done = (f - ft) <= tol * max(abs(f), 1.0)
        c, f = trial, ft
        if done:
            break
    logger.debug("projected Newton: %d iterations, deviance %.6g", iterations, f)
    return c


def stack(
    panel: Panel,
    fit_origins: list[int],
    settings: RankSettings,
    *,
    harm: bool,
    horizon: int = 1,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Stack features, responses and exposures of several forecast origins.

    Each origin contributes one row per cell: its features (months before the
    origin), the target in the ``horizon`` months from it, and the number of
    those months with data. Origins whose response months have no data are
    skipped.
    """
    xs, ys, es = [], [], []
    for t in fit_origins:
        x, _ = features(panel, t, settings, harm=harm)
        y, months = response(panel, t, horizon, harm=harm)
        if months == 0:
            continue
        xs.append(x)
        ys.append(y)
        es.append(np.full(len(y), float(months)))
    if not xs:
        raise ParameterError("no forecast origin with data to fit on")
    return np.vstack(xs), np.concatenate(ys), np.concatenate(es)

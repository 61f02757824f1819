"""Free location text: streets, junctions and places in the gazetteer."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from hotspot.geocode.normalise import (
    _FILLER,
    _JUNCTION_INFIX,
    _JUNCTION_PREFIX,
    _STREET_TYPES,
    NON_STREET_LOCATIONS,
    normalise_text,
)

#: police.uk premises-type labels as matching keys ("supermarket").
_PREMISES: frozenset[str] = frozenset(normalise_text(v) for v in NON_STREET_LOCATIONS)

if TYPE_CHECKING:
    from hotspot.geocode.gazetteer import Gazetteer

log = logging.getLogger(__name__)

#: Smallest uncertainty (m) reported for a street and a junction.
MIN_STREET_UNCERTAINTY_M = 100.0
#: A street (or pieces of one) whose uncertainty would exceed this (m) is not placed:
#: the ~750 m within which a text match must be right to be worth a point.
MAX_STREET_UNCERTAINTY_M = 750.0
#: Lowest rapidfuzz ``token_sort_ratio`` (0–100) of a similar name shown in a reason.
STREET_MIN_SCORE = 85.0
#: Lowest ``ratio`` accepted when a text part is fuzzily compared to place names.
PLACE_MIN_SCORE = 90.0
#: Streets within this distance (m) of a named town's point are its candidates.
TOWN_RADIUS_M = 6000.0
#: Snap points of two streets closer than this (m) are taken to meet at a junction.
JUNCTION_MAX_GAP_M = 400.0
#: Same-named street clusters of one district spanning at most this (m) are one street.
STREET_MERGE_M = 3000.0
#: Distinct location strings whose results are kept (the cache is emptied when full).
TEXT_CACHE_SIZE = 200_000
#: Same-named places closer than this (m) are treated as one place.
PLACE_MERGE_M = 3000.0


# -------------------------------------------------------------------- text matcher


@dataclass(frozen=True)
class TextMatch:
    """The result of matching one location string.

    ``precision`` is ``street``, ``place`` or ``area``; ``lad_code`` the district
    the location certainly lies in (None when unknown); ``reason`` says why a
    string was rejected or, for a coarse match, why it is only coarse.
    """

    x: float = np.nan
    y: float = np.nan
    method: str | None = None
    uncertainty_m: float = np.nan
    reason: str | None = None
    precision: str | None = None
    lad_code: str | None = None


def _sort_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


def _shown(labels: list[str], limit: int = 6) -> str:
    return ", ".join(labels[:limit]) + (" ..." if len(labels) > limit else "")


@dataclass
class _Scope:
    """Which streets a string may match, given the places it names.

    ``mask`` is the hard constraint (None: no place named, every street);
    ``tiers`` are preferences inside it (streets of the named town first).
    """

    town_rows: list[int]
    lads: set[str] | None
    label: str
    mask: npt.NDArray[np.bool_] | None
    tiers: list[npt.NDArray[np.bool_]]
    choices: list[str]
    name_ids: npt.NDArray[np.intp]


@dataclass
class _Part:
    kind: str  # street | town | junction
    text: str
    other: str = ""


class _TextMatcher:
    """Street and place matching with a cache of results per raw string."""

    def __init__(self, gaz: Gazetteer) -> None:
        streets = gaz.streets.reset_index(drop=True)
        self.streets = streets
        self.sx = streets["x"].to_numpy(dtype=float)
        self.sy = streets["y"].to_numpy(dtype=float)
        self.s_lad = streets["lad_code"].to_numpy(dtype=object)
        self.s_town = (
            streets["town"].astype(str).map(normalise_text).to_numpy(dtype=object)
        )
        self.s_extent = streets["extent_m"].to_numpy(dtype=float)
        self.s_label = (
            streets["street"].astype(str) + " (" + streets["town"].astype(str) + ")"
        ).to_numpy(dtype=object)
        names, self.s_name_code = np.unique(
            streets["street_norm"].to_numpy(dtype=str), return_inverse=True
        )
        self.names = names.tolist()
        self.name_index = {name: i for i, name in enumerate(self.names)}
        self.sorted_names = [_sort_tokens(name) for name in self.names]
        self.scopes: dict[tuple[str, ...], _Scope] = {}
        order = np.argsort(self.s_name_code, kind="stable")
        bounds = np.searchsorted(self.s_name_code[order], np.arange(len(names) + 1))
        self.rows_by_name = [
            order[bounds[i] : bounds[i + 1]] for i in range(len(names))
        ]
        pts = gaz.street_points
        pts = pts.sort_values("street_id", kind="stable")
        ids = pts["street_id"].to_numpy(dtype=int)
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        blocks = np.split(pts[["x", "y"]].to_numpy(dtype=float), starts[1:])
        self.points: dict[int, npt.NDArray[np.float64]] = {
            int(ids[i]): block for i, block in zip(starts, blocks, strict=True)
        }
        self.s_ids = streets["street_id"].to_numpy(dtype=int)
        places = gaz.places.reset_index(drop=True)
        self.places = places
        self.place_rows: dict[str, list[int]] = {}
        for i, name in enumerate(places["name_norm"].astype(str)):
            self.place_rows.setdefault(name, []).append(i)
        self.place_names = list(self.place_rows)
        self.cache: dict[str, TextMatch] = {}

    # -- public -------------------------------------------------------------------

    def resolve(self, text: str) -> TextMatch:
        """Match one location string (cached)."""
        hit = self.cache.get(text)
        if hit is None:
            hit = self._resolve(text)
            if len(self.cache) >= TEXT_CACHE_SIZE:
                self.cache.clear()
            self.cache[text] = hit
        return hit

    def _parse(self, norm: str) -> list[_Part]:
        parts: list[_Part] = []
        for raw in norm.split(", "):
            part = _FILLER.sub("", raw).strip()
            if not part:
                continue
            if part in self.place_rows:
                parts.append(_Part("town", part))
                continue
            m = _JUNCTION_PREFIX.match(part) or _JUNCTION_INFIX.match(part)
            if m:
                parts.append(_Part("junction", m.group(1), m.group(2)))
                continue
            tokens = part.split()
            for k in (3, 2, 1):
                if len(tokens) > k + 1:
                    tail = " ".join(tokens[-k:])
                    if tail in self.place_rows and tokens[-k - 1] in _STREET_TYPES:
                        parts.append(_Part("street", " ".join(tokens[:-k])))
                        parts.append(_Part("town", tail))
                        break
            else:
                parts.append(_Part("street", part))
        # "North Street, Havant": a place name that is also a street name, followed
        # by another place, is the street
        # and when named places lie in no common district, the last is the hint
        # and the earlier ones are read as streets ("The Brook, Winchester")
        towns = [i for i, p in enumerate(parts) if p.kind == "town"]
        for i in towns[:-1]:
            if self._exact(parts[i].text) is not None:
                parts[i] = _Part("street", parts[i].text)
        towns = [i for i, p in enumerate(parts) if p.kind == "town"]
        if len(towns) > 1:
            _, lads = self._town_rows([parts[i].text for i in towns])
            if not lads:
                for i in towns[:-1]:
                    parts[i] = _Part("street", parts[i].text)
        return parts

    # -- towns and places ---------------------------------------------------------

    # -- towns and places ---------------------------------------------------------

    def _is_district(self, town: str) -> bool:
        """Return whether a place name also stands for a district.

        True for a district's own name and for the town a district is named
        after ("Basingstoke" for Basingstoke and Deane).
        """
        rows = self.place_rows[town]
        if any(self.places.at[i, "kind"] == "district" for i in rows):
            return True
        lads = {str(self.places.at[i, "lad_code"]) for i in rows}
        districts = self.places[self.places["kind"] == "district"]
        named = districts["name_norm"].astype(str).str.startswith(town + " ")
        return bool((named & districts["lad_code"].astype(str).isin(lads)).any())

    def _town_rows(self, towns: list[str]) -> tuple[list[int], set[str]]:
        """Place rows of the most specific town part, consistent with the others.

        Returns the rows and the districts every named place lies in (an empty
        set when they lie in no common district).
        """
        lad_sets = [
            {str(self.places.at[i, "lad_code"]) for i in self.place_rows[t]}
            for t in towns
        ]
        lads: set[str] = set.intersection(*lad_sets)
        specific = sorted(
            towns,
            key=lambda t: all(
                self.places.at[i, "kind"] == "district" for i in self.place_rows[t]
            ),
        )[0]
        rows = [
            i
            for i in self.place_rows[specific]
            if str(self.places.at[i, "lad_code"]) in lads
        ]
        return rows, lads

    def _place_match(self, rows: list[int], query: str) -> TextMatch:
        """Place a town, village or district: coarse, never a map point."""
        sub = self.places.iloc[rows]
        geon = sub[sub["kind"] == "geonames"]
        use = geon if len(geon) else sub
        x = use["x"].to_numpy(dtype=float)
        y = use["y"].to_numpy(dtype=float)
        cx, cy = float(x.mean()), float(y.mean())
        spread = float(np.hypot(x - cx, y - cy).max())
        lads = sorted(set(sub["lad_code"].astype(str)))
        if spread > PLACE_MERGE_M:
            where = use["outward"].fillna(use["lad_code"]).astype(str)
            labels = (use["name"].astype(str) + " (" + where + ")").tolist()
            return TextMatch(
                reason=f"ambiguous place: {query!r} matches {_shown(labels, 5)} "
                "(add a district or postcode)"
            )
        unc = float(use["uncertainty_m"].max()) + spread
        # a name that is also a district ("Winchester") may mean either: keep the
        # town's point but let the uncertainty cover the district too
        district = sub.loc[sub["kind"] == "district", "uncertainty_m"]
        if len(district):
            unc = max(unc, float(district.max()))
        return TextMatch(
            x=cx,
            y=cy,
            method="place",
            uncertainty_m=unc,
            precision="place" if len(geon) else "area",
            lad_code=lads[0] if len(lads) == 1 else None,
            reason=f"only a place named: {query!r}",
        )

    # -- streets ------------------------------------------------------------------

    def _scope(self, towns: tuple[str, ...]) -> _Scope:
        """Candidate streets for the named places (cached per tuple of places).

        A named district, or a name that is both a town and a district
        ("Winchester"), allows every street of that district. A town or village
        only allows streets of its district whose nearest place is that town or
        that lie within :data:`TOWN_RADIUS_M` of it. The constraint is hard: a
        street outside it is never matched.
        """
        hit = self.scopes.get(towns)
        if hit is not None:
            return hit
        if not towns:
            scope = _Scope(
                town_rows=[],
                lads=None,
                label="",
                mask=None,
                tiers=[],
                choices=self.sorted_names,
                name_ids=np.arange(len(self.names)),
            )
        else:
            town_rows, lads = self._town_rows(list(towns))
            in_lad = np.isin(self.s_lad, sorted(lads))
            town_only = [t for t in towns if not self._is_district(t)]
            if town_only:
                by_town = np.isin(self.s_town, town_only)
                near = np.zeros(len(self.sx), dtype=bool)
                for i in town_rows:
                    if self.places.at[i, "kind"] == "geonames":
                        px, py = self.places.at[i, "x"], self.places.at[i, "y"]
                        near |= np.hypot(self.sx - px, self.sy - py) <= TOWN_RADIUS_M
                mask = in_lad & (by_town | near)
                tiers = [in_lad & by_town]
                label = town_only[0]
            else:
                mask, tiers, label = in_lad, [], towns[0]
            name_ids = np.unique(self.s_name_code[mask])
            scope = _Scope(
                town_rows=town_rows,
                lads=lads,
                label=label,
                mask=mask,
                tiers=tiers,
                choices=[self.sorted_names[i] for i in name_ids],
                name_ids=name_ids,
            )
        self.scopes[towns] = scope
        return scope

    def _candidates(
        self, query: str, scope: _Scope
    ) -> tuple[npt.NDArray[np.intp], float]:
        """Street rows (within the scope) whose name is exactly ``query``.

        Names are compared after :func:`normalise_text` (so ``St``/``Street``,
        ``Rd``/``Road``, case and punctuation do not matter). A merely similar
        name is never a candidate: on held-out police.uk streets, 150 of 163 fuzzy
        matches (rapidfuzz ``token_sort_ratio`` ≥ 85) were a different street
        1.0–27.6 km away, because the gazetteer holds only streets where crime
        was recorded; see ``docs/geocoding.md``. :meth:`_closest` names them instead.

        Returns
        -------
        tuple of (numpy.ndarray of int, float)
            Street rows and 100.0, or no rows and 0.0.
        """
        exact = self._exact(query)
        if exact is None:
            return np.array([], dtype=np.intp), 0.0
        rows = self.rows_by_name[exact]
        if scope.mask is not None:
            rows = rows[scope.mask[rows]]
        return rows, 100.0 if len(rows) else 0.0

    def _exact(self, query: str) -> int | None:
        """Return the index of street name ``query``, or of ``the`` + it.

        The filler words "on or near the" also take the "The" of "The Brook".
        """
        hit = self.name_index.get(query)
        return hit if hit is not None else self.name_index.get(f"the {query}")

    def _closest(self, query: str, scope: _Scope) -> str:
        """Similar street names in scope (rapidfuzz ``token_sort_ratio``), as text."""
        hits = process.extract(
            _sort_tokens(query),
            scope.choices,
            scorer=fuzz.ratio,
            limit=3,
            score_cutoff=STREET_MIN_SCORE,
        )
        if not hits:
            return ""
        shown = ", ".join(
            f"{self.names[int(scope.name_ids[h[2]])]!r} ({h[1]:.0f})" for h in hits
        )
        return f"; similar names not used: {shown}"

    def _elsewhere(self, query: str, scope: _Scope) -> str:
        """Why a street was not found in scope, naming where else it exists."""
        exact = self._exact(query)
        where = f" in {scope.label}" if scope.label else ""
        if exact is None:
            return (
                f"street {query!r} not in the gazetteer{where}"
                f"{self._closest(query, scope)}"
            )
        labels = sorted(set(self.s_label[self.rows_by_name[exact]].tolist()))
        return f"no street {query!r}{where}; found at {_shown(labels, 4)}"

    def _narrow(self, rows: npt.NDArray[np.intp], scope: _Scope) -> Any:
        """Keep the rows of the first preference tier hit (the named town's)."""
        for tier in scope.tiers:
            sel = rows[tier[rows]]
            if len(sel):
                return sel
        return rows

    def _street_match(self, rows: npt.NDArray[np.intp], query: str) -> TextMatch:
        """One street cluster, or several pieces of one street, or a rejection.

        Clusters with the same name in the same district whose snap points all lie
        within :data:`STREET_MERGE_M` of each other are pieces of one road (a long
        lane snapped in two places): they resolve to the mean of their snap points
        with their largest distance from it as uncertainty. A street whose
        uncertainty exceeds :data:`MAX_STREET_UNCERTAINTY_M` is not placed.
        """
        lad = str(self.s_lad[rows[0]])
        if len(rows) == 1:
            i = int(rows[0])
            unc = max(MIN_STREET_UNCERTAINTY_M, self.s_extent[i] / 2)
            x, y = float(self.sx[i]), float(self.sy[i])
        else:
            same_name = len(np.unique(self.s_name_code[rows])) == 1
            same_lad = len(set(self.s_lad[rows].tolist())) == 1
            if not (same_name and same_lad):
                return TextMatch(reason=self._ambiguous("street", query, rows))
            pts = np.vstack([self.points[int(self.s_ids[i])] for i in rows])
            cx, cy = pts.mean(axis=0)
            far = float(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy).max())
            if 2 * far > STREET_MERGE_M:
                return TextMatch(reason=self._ambiguous("street", query, rows))
            unc = max(MIN_STREET_UNCERTAINTY_M, far)
            x, y = float(cx), float(cy)
        if unc > MAX_STREET_UNCERTAINTY_M:
            labels = sorted(set(self.s_label[rows].tolist()))
            return TextMatch(
                reason=f"street too long to place: {query!r} ({_shown(labels, 3)}) "
                f"has snap points {unc:,.0f} m from its middle, over "
                f"{MAX_STREET_UNCERTAINTY_M:.0f} m"
            )
        return TextMatch(
            x=x,
            y=y,
            method="street",
            uncertainty_m=unc,
            precision="street",
            lad_code=lad,
        )

    def _ambiguous(self, what: str, query: str, rows: npt.NDArray[np.intp]) -> str:
        labels = sorted(set(self.s_label[rows].tolist()))
        return (
            f"ambiguous {what}: {query!r} matches {_shown(labels)} "
            f"({len(rows)} candidates; add a town or postcode)"
        )

    def _junction(
        self, a_rows: npt.NDArray[np.intp], b_rows: npt.NDArray[np.intp]
    ) -> tuple[list[tuple[float, float, float]], list[str]]:
        """Meeting points of every close pair of street clusters."""
        found: list[tuple[float, float, float]] = []
        labels: list[str] = []
        for i in a_rows:
            pa = self.points[int(self.s_ids[i])]
            for j in b_rows:
                if i == j:
                    continue
                if np.hypot(self.sx[i] - self.sx[j], self.sy[i] - self.sy[j]) > (
                    self.s_extent[i] + self.s_extent[j] + 2 * JUNCTION_MAX_GAP_M
                ):
                    continue
                pb = self.points[int(self.s_ids[j])]
                d = np.hypot(
                    pa[:, None, 0] - pb[None, :, 0], pa[:, None, 1] - pb[None, :, 1]
                )
                k = int(np.argmin(d))
                ia, ib = divmod(k, d.shape[1])
                gap = float(d.flat[k])
                if gap <= JUNCTION_MAX_GAP_M:
                    mx = (pa[ia, 0] + pb[ib, 0]) / 2
                    my = (pa[ia, 1] + pb[ib, 1]) / 2
                    found.append((mx, my, gap))
                    labels.append(f"{self.s_label[i]} / {self.s_label[j]}")
        return found, labels

    # -- resolution ---------------------------------------------------------------

    def _junction_part(self, part: _Part, scope: _Scope) -> TextMatch:
        """Place a junction of two streets, else either street on its own."""
        a_rows, _ = self._candidates(part.text, scope)
        b_rows, _ = self._candidates(part.other, scope)
        problems: list[str] = []
        if len(a_rows) and len(b_rows):
            found, labels = self._junction(a_rows, b_rows)
            if len(found) == 1 or (
                found
                and np.ptp([f[0] for f in found]) <= JUNCTION_MAX_GAP_M
                and np.ptp([f[1] for f in found]) <= JUNCTION_MAX_GAP_M
            ):
                mx = float(np.mean([f[0] for f in found]))
                my = float(np.mean([f[1] for f in found]))
                gap = max(f[2] for f in found)
                return TextMatch(
                    x=mx,
                    y=my,
                    method="junction",
                    uncertainty_m=max(MIN_STREET_UNCERTAINTY_M, gap / 2 + 50.0),
                    precision="street",
                    lad_code=str(self.s_lad[a_rows[0]]),
                )
            if found:
                return TextMatch(
                    reason=f"ambiguous junction: {part.text!r} and {part.other!r} "
                    f"meet at {_shown(labels, 4)}"
                )
        for q, rows in ((part.text, a_rows), (part.other, b_rows)):
            if len(rows):
                hit = self._street_match(self._narrow(rows, scope), q)
                if hit.method is not None:
                    return hit
                problems.append(str(hit.reason))
            else:
                problems.append(self._elsewhere(q, scope))
        return TextMatch(reason="; ".join(problems))

    def _resolve(self, text: str) -> TextMatch:
        norm = normalise_text(text)
        if not norm:
            return TextMatch(reason="no usable words in location text")
        parts = self._parse(norm)
        towns = [p.text for p in parts if p.kind == "town"]
        scope = self._scope(tuple(towns))
        if towns and not scope.lads:
            return TextMatch(reason=f"places {towns} do not lie in one district")
        problems: list[str] = []
        for part in parts:
            if part.kind == "junction":
                hit = self._junction_part(part, scope)
            elif part.kind == "street":
                if part.text in _PREMISES:
                    problems.append(
                        f"{part.text!r} is a police.uk premises-type label, "
                        "not a street"
                    )
                    continue
                rows, _ = self._candidates(part.text, scope)
                if not len(rows):
                    # with no place named the part may still be a misspelt place
                    if towns:
                        problems.append(self._elsewhere(part.text, scope))
                    continue
                hit = self._street_match(self._narrow(rows, scope), part.text)
            else:
                continue
            if hit.method is not None:
                return hit
            problems.append(str(hit.reason))
        if towns:
            # the named place is certain even when no street in it could be
            # placed: a coarse location (kept for area totals, never mapped)
            place = self._place_match(scope.town_rows, towns[0])
            if place.method is None or not problems:
                return place
            return replace(
                place, reason=f"located only to {scope.label}: {'; '.join(problems)}"
            )
        if problems:
            return TextMatch(reason="; ".join(problems))
        # no town named exactly: a part may still be a misspelt place
        for part in parts:
            found = process.extractOne(
                part.text,
                self.place_names,
                scorer=fuzz.ratio,
                score_cutoff=PLACE_MIN_SCORE,
            )
            if found is not None:
                return self._place_match(self.place_rows[found[0]], part.text)
        best = process.extractOne(
            _sort_tokens(norm.replace(",", "")), self.sorted_names, scorer=fuzz.ratio
        )
        hint = (
            f" (closest street {self.names[best[2]]!r}, score {best[1]:.0f})"
            if best
            else ""
        )
        return TextMatch(reason=f"no street or place matched {norm!r}{hint}")

"""Free location text: streets, junctions and places in the gazetteer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import fuzz, process

from hotspot.geocode.normalise import (
    _FILLER,
    _JUNCTION_INFIX,
    _JUNCTION_PREFIX,
    _STREET_TYPES,
    normalise_text,
)

if TYPE_CHECKING:
    from hotspot.geocode.gazetteer import Gazetteer
    from hotspot.geocode.points import _Outcome

log = logging.getLogger(__name__)

#: Smallest uncertainty (m) reported for a street and a junction.
MIN_STREET_UNCERTAINTY_M = 100.0
#: Lowest rapidfuzz ``token_sort_ratio`` (0–100) accepted for a street name.
STREET_MIN_SCORE = 85.0
#: Candidates within this many points of the best score are treated as ties.
TIE_BAND = 3.0
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


def geocode_text(frame: pd.DataFrame, out: _Outcome, gaz: Gazetteer) -> None:
    """Free location text: match each unique string once."""
    if "location_text" not in frame.columns:
        return
    text = frame["location_text"].astype("string").str.strip()
    text = text.where(text != "")
    pending = out.pending
    sub = text[pending]
    codes, uniques = pd.factorize(sub, use_na_sentinel=True)
    if not len(uniques):
        return
    matcher = gaz.matcher()
    results = [matcher.resolve(str(u)) for u in uniques]
    ux = np.array([r.x for r in results])
    uy = np.array([r.y for r in results])
    um = np.array([r.method for r in results], dtype=object)
    uu = np.array([r.uncertainty_m for r in results])
    ur = np.array([r.reason for r in results], dtype=object)
    rows_all = np.flatnonzero(pending)
    present = codes >= 0
    rows = rows_all[present]
    c = codes[present]
    ok = um[c] != None  # noqa: E711
    out.resolve(rows[ok], ux[c[ok]], uy[c[ok]], um[c[ok]], uu[c[ok]])
    bad = ~ok
    if bad.any():
        out.fail(
            rows[bad],
            "location_text",
            np.asarray(uniques, dtype=object)[c[bad]],
            ur[c[bad]],
        )
    log.debug("location_text: %d unique strings matched", len(uniques))


@dataclass(frozen=True)
class TextMatch:
    """The result of matching one location string."""

    x: float = np.nan
    y: float = np.nan
    method: str | None = None
    uncertainty_m: float = np.nan
    reason: str | None = None


def _sort_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


@dataclass
class _Scope:
    """Which streets a string may match, given the towns it names."""

    town_rows: list[int]
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

    # -- parsing ------------------------------------------------------------------

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
        return parts

    # -- towns and places ---------------------------------------------------------

    def _town_rows(self, towns: list[str]) -> tuple[list[int], set[str] | None]:
        """Place rows of the most specific town part, consistent with the others."""
        lad_sets = [
            {str(self.places.at[i, "lad_code"]) for i in self.place_rows[t]}
            for t in towns
        ]
        lads: set[str] | None = set.intersection(*lad_sets) if lad_sets else None
        if lads is not None and not lads:
            lads = lad_sets[0]
        specific = sorted(
            towns,
            key=lambda t: all(
                self.places.at[i, "kind"] == "district" for i in self.place_rows[t]
            ),
        )[0]
        rows = [
            i
            for i in self.place_rows[specific]
            if lads is None or str(self.places.at[i, "lad_code"]) in lads
        ]
        return rows, lads

    def _place_match(self, rows: list[int], query: str) -> TextMatch:
        sub = self.places.iloc[rows]
        geon = sub[sub["kind"] == "geonames"]
        use = geon if len(geon) else sub
        x = use["x"].to_numpy(dtype=float)
        y = use["y"].to_numpy(dtype=float)
        cx, cy = float(x.mean()), float(y.mean())
        spread = float(np.hypot(x - cx, y - cy).max())
        if spread > PLACE_MERGE_M:
            where = use["outward"].fillna(use["lad_code"]).astype(str)
            labels = (use["name"].astype(str) + " (" + where + ")").tolist()
            return TextMatch(
                reason=f"ambiguous place: {query!r} matches "
                f"{', '.join(labels[:5])}{' ...' if len(labels) > 5 else ''}"
                " (add a district or postcode)"
            )
        unc = float(use["uncertainty_m"].max()) + spread
        # a name that is also a district ("Winchester") may mean either: keep the
        # town's point but let the uncertainty cover the district too
        district = sub.loc[sub["kind"] == "district", "uncertainty_m"]
        if len(district):
            unc = max(unc, float(district.max()))
        return TextMatch(x=cx, y=cy, method="place", uncertainty_m=unc)

    # -- streets ------------------------------------------------------------------

    def _scope(self, towns: tuple[str, ...]) -> _Scope:
        """Candidate streets for the named towns (cached per tuple of towns)."""
        hit = self.scopes.get(towns)
        if hit is not None:
            return hit
        if not towns:
            scope = _Scope(
                town_rows=[],
                mask=None,
                tiers=[],
                choices=self.sorted_names,
                name_ids=np.arange(len(self.names)),
            )
        else:
            town_rows, lads = self._town_rows(list(towns))
            # candidates, most to least specific: streets whose nearest place is the
            # named town; streets in the town's district; streets near the town
            by_town = np.isin(self.s_town, list(towns))
            in_lad = np.isin(self.s_lad, list(lads or ()))
            near = np.zeros(len(self.sx), dtype=bool)
            for i in town_rows:
                if self.places.at[i, "kind"] == "geonames":
                    px, py = self.places.at[i, "x"], self.places.at[i, "y"]
                    near |= np.hypot(self.sx - px, self.sy - py) <= TOWN_RADIUS_M
            mask = by_town | in_lad | near
            name_ids = np.unique(self.s_name_code[mask])
            scope = _Scope(
                town_rows=town_rows,
                mask=mask,
                tiers=[by_town, in_lad, near],
                choices=[self.sorted_names[i] for i in name_ids],
                name_ids=name_ids,
            )
        self.scopes[towns] = scope
        return scope

    def _candidates(self, query: str, scope: _Scope) -> Any:
        """Street rows (within the scope) whose names tie for the best score.

        The score is rapidfuzz ``ratio`` on token-sorted names, i.e.
        ``token_sort_ratio`` with the choices' sorting done once.

        Returns
        -------
        tuple of (numpy.ndarray of int, float)
            Street rows and the best score, 0–100 (0 when none).
        """
        mask = scope.mask
        exact = self.name_index.get(query)
        if exact is not None:
            rows = self.rows_by_name[exact]
            if mask is not None:
                rows = rows[mask[rows]]
            if len(rows):
                return rows, 100.0
        hits = process.extract(
            _sort_tokens(query),
            scope.choices,
            scorer=fuzz.ratio,
            limit=None,
            score_cutoff=STREET_MIN_SCORE,
        )
        if not hits:
            return np.array([], dtype=np.intp), 0.0
        best = max(float(h[1]) for h in hits)
        floor = 100.0 if best >= 100.0 else best - TIE_BAND
        chosen = [int(scope.name_ids[h[2]]) for h in hits if h[1] >= floor]
        rows = np.concatenate([self.rows_by_name[i] for i in chosen])
        if mask is not None:
            rows = rows[mask[rows]]
        return np.unique(rows), best

    def _ambiguous(self, what: str, query: str, rows: npt.NDArray[np.intp]) -> str:
        labels = sorted(set(self.s_label[rows].tolist()))
        shown = ", ".join(labels[:6]) + (" ..." if len(labels) > 6 else "")
        return (
            f"ambiguous {what}: {query!r} matches {shown} "
            f"({len(rows)} candidates; add a town)"
        )

    @staticmethod
    def _narrow(rows: npt.NDArray[np.intp], scope: _Scope) -> npt.NDArray[np.intp]:
        """Keep the rows of the most specific tier (town, district, radius) hit."""
        for tier in scope.tiers:
            sel = rows[tier[rows]]
            if len(sel):
                return sel
        return rows

    def _street_match(self, rows: npt.NDArray[np.intp], query: str) -> TextMatch:
        """One street cluster, or several pieces of one street, or ambiguity.

        Clusters with the same name in the same district whose snap points all lie
        within :data:`STREET_MERGE_M` of each other are pieces of one road (a long
        lane snapped in two places): they resolve to the mean of their snap points
        with half their overall extent as uncertainty.
        """
        if len(rows) == 1:
            i = int(rows[0])
            unc = max(MIN_STREET_UNCERTAINTY_M, self.s_extent[i] / 2)
            return TextMatch(
                x=self.sx[i], y=self.sy[i], method="street", uncertainty_m=unc
            )
        same_name = len(np.unique(self.s_name_code[rows])) == 1
        same_lad = len(set(self.s_lad[rows].tolist())) == 1
        if same_name and same_lad:
            pts = np.vstack([self.points[int(self.s_ids[i])] for i in rows])
            cx, cy = pts.mean(axis=0)
            far = float(np.hypot(pts[:, 0] - cx, pts[:, 1] - cy).max())
            if 2 * far <= STREET_MERGE_M:
                return TextMatch(
                    x=float(cx),
                    y=float(cy),
                    method="street",
                    uncertainty_m=max(MIN_STREET_UNCERTAINTY_M, far),
                )
        return TextMatch(reason=self._ambiguous("street", query, rows))

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

    def _resolve(self, text: str) -> TextMatch:
        norm = normalise_text(text)
        if not norm:
            return TextMatch(reason="no usable words in location text")
        parts = self._parse(norm)
        towns = [p.text for p in parts if p.kind == "town"]
        scope = self._scope(tuple(towns))
        problems: list[str] = []
        for part in parts:
            if part.kind == "junction":
                a_rows, _ = self._candidates(part.text, scope)
                b_rows, _ = self._candidates(part.other, scope)
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
                        unc = max(MIN_STREET_UNCERTAINTY_M, gap / 2 + 50.0)
                        return TextMatch(
                            x=mx, y=my, method="junction", uncertainty_m=unc
                        )
                    if found:
                        shown = ", ".join(labels[:4])
                        problems.append(
                            f"ambiguous junction: {part.text!r} and {part.other!r} "
                            f"meet at {shown}"
                        )
                        continue
                for q, rows in ((part.text, a_rows), (part.other, b_rows)):
                    if len(rows):
                        hit = self._street_match(self._narrow(rows, scope), q)
                        if hit.method is not None:
                            return hit
                        problems.append(str(hit.reason))
                continue
            if part.kind != "street":
                continue
            rows, _ = self._candidates(part.text, scope)
            if len(rows):
                hit = self._street_match(self._narrow(rows, scope), part.text)
                if hit.method is not None:
                    return hit
                problems.append(str(hit.reason))
        if problems:
            return TextMatch(reason="; ".join(problems))
        if towns:
            if not scope.town_rows:
                return TextMatch(reason=f"places {towns} do not lie in one district")
            return self._place_match(scope.town_rows, towns[0])
        # no town named exactly: a part may still be a misspelt place
        for part in parts:
            place = process.extractOne(
                part.text,
                self.place_names,
                scorer=fuzz.ratio,
                score_cutoff=PLACE_MIN_SCORE,
            )
            if place is not None:
                return self._place_match(self.place_rows[place[0]], part.text)
        best = process.extractOne(
            _sort_tokens(norm.replace(",", "")), self.sorted_names, scorer=fuzz.ratio
        )
        hint = (
            f" (closest street {self.names[best[2]]!r}, score {best[1]:.0f})"
            if best
            else ""
        )
        return TextMatch(reason=f"no street or place matched {norm!r}{hint}")

"""Normalising location text and postcodes for matching."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pandas as pd

#: police.uk ``Location`` values that name a kind of premises, not a street.
NON_STREET_LOCATIONS: frozenset[str] = frozenset(
    {
        "Airport/Airfield",
        "Bus/Coach Station",
        "Conference/Exhibition Centre",
        "Ferry Terminal",
        "Further/Higher Educational Building",
        "Hospital",
        "Motorway Service Area",
        "Nightclub",
        "Park/Open Space",
        "Parking Area",
        "Petrol Station",
        "Police Station",
        "Prison",
        "Shopping Area",
        "Sports/Recreation Area",
        "Supermarket",
        "Theatre/Concert Hall",
    }
)

_ABBREVIATIONS: dict[str, str] = {
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "cl": "close",
    "dr": "drive",
    "cres": "crescent",
    "cresc": "crescent",
    "pl": "place",
    "gdns": "gardens",
    "gdn": "gardens",
    "ct": "court",
    "sq": "square",
    "tce": "terrace",
    "terr": "terrace",
    "pde": "parade",
    "gr": "grove",
    "gro": "grove",
    "hwy": "highway",
    "pk": "park",
    "grn": "green",
    "mws": "mews",
    "wlk": "walk",
    "rbt": "roundabout",
    "nth": "north",
    "sth": "south",
    "upr": "upper",
    "lwr": "lower",
    "saint": "st",
    "iow": "isle of wight",
}
#: Words after which a preceding ``st`` ends a street name (``High St and ...``).
_AFTER_STREET: frozenset[str] = frozenset(
    {"and", "with", "junction", "j", "jw", "near"}
)
_STREET_TYPES: frozenset[str] = frozenset(
    {
        "road",
        "street",
        "lane",
        "avenue",
        "close",
        "way",
        "drive",
        "crescent",
        "place",
        "gardens",
        "court",
        "hill",
        "terrace",
        "park",
        "grove",
        "green",
        "walk",
        "square",
        "row",
        "rise",
        "view",
        "mews",
        "parade",
        "highway",
        "roundabout",
        "bypass",
        "approach",
        "esplanade",
        "quay",
        "precinct",
        "path",
    }
)
_FILLER = re.compile(
    r"^(?:on or near|outside|opposite|opp|near|nr|rear of|behind|adjacent to|adj|"
    r"by|at|in|off|o s)\s+(?:the\s+)?"
)
_JUNCTION_PREFIX = re.compile(
    r"^(?:junction of|junction|corner of|jct of|jct|j o)\s+(.+?)\s+"
    r"(?:and|with|j w)\s+(.+)$"
)
_JUNCTION_INFIX = re.compile(r"^(.+?)\s+(?:junction with|j w|jct with|jw)\s+(.+)$")
_UNIT_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_DISTRICT_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_SECTOR_SPACED_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s+([0-9])$")
_SECTOR_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])$")



def normalise_text(text: str) -> str:
    """Normalise free location text for matching.

    Lower case, ``&`` → ``and``, apostrophes dropped, other punctuation (except the
    commas that separate parts) → spaces, whitespace collapsed, and common street
    abbreviations expanded (``rd`` → ``road``; ``st`` → ``street`` when it ends a
    part of two or more words or comes before ``and``/``with``, otherwise ``st``
    is read as *Saint*).

    Parameters
    ----------
    text : str
        Location text as given, e.g. ``"Above Bar St, Southampton"``.

    Returns
    -------
    str
        Comma-and-space separated parts, e.g. ``"above bar street, southampton"``.
    """
    low = str(text).lower()
    low = re.sub(r"\bj/o\b", " junction of ", low)
    low = re.sub(r"\bj/w\b", " junction with ", low)
    low = re.sub(r"\bo/s\b", " outside ", low)
    low = low.replace("&", " and ")
    low = re.sub(r"['’`]", "", low)
    low = re.sub(r"[^a-z0-9,]+", " ", low)
    parts = []
    for raw in low.split(","):
        tokens = raw.split()
        if not tokens:
            continue
        out = []
        for i, tok in enumerate(tokens):
            if tok == "st":
                last = i == len(tokens) - 1
                ends = last or tokens[i + 1] in _AFTER_STREET
                out.append("street" if ends and i > 0 else "st")
            else:
                out.append(_ABBREVIATIONS.get(tok, tok))
        parts.append(" ".join(out))
    return ", ".join(parts)


def normalise_postcode(values: pd.Series) -> pd.DataFrame:
    """Normalise postcodes and say whether each is a unit, sector or district.

    Parameters
    ----------
    values : pandas.Series
        Postcodes as given (any case and spacing; missing values allowed).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``values``: ``postcode`` (``"SO14 2AA"``, ``"SO14 2"`` or
        ``"SO14"``; NA when missing or malformed) and ``kind`` (``"unit"``,
        ``"sector"``, ``"district"``, ``"malformed"`` or NA when missing).
    """
    text = values.astype("string").str.strip()
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    norm, kind = _classify_postcodes(pd.Series(uniques, dtype="string"))
    present = codes >= 0
    out_norm = np.full(len(text), None, dtype=object)
    out_kind = np.full(len(text), None, dtype=object)
    out_norm[present] = norm[codes[present]]
    out_kind[present] = kind[codes[present]]
    return pd.DataFrame(
        {
            "postcode": pd.array(out_norm, dtype="string"),
            "kind": pd.array(out_kind, dtype="string"),
        },
        index=values.index,
    )


def _classify_postcodes(
    uniques: pd.Series,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Normalised code and kind of each distinct, stripped postcode string."""
    upper = uniques.str.upper()
    compact = upper.str.replace(r"\s+", "", regex=True)
    n = len(uniques)
    norm = np.full(n, None, dtype=object)
    kind = np.full(n, "malformed", dtype=object)
    kind[(upper == "").to_numpy(dtype=bool, na_value=False)] = None
    unit = compact.str.fullmatch(_UNIT_RE.pattern).to_numpy(dtype=bool, na_value=False)
    norm[unit] = (compact[unit].str[:-3] + " " + compact[unit].str[-3:]).to_numpy(
        dtype=object
    )
    kind[unit] = "unit"
    district = ~unit & compact.str.fullmatch(_DISTRICT_RE.pattern).to_numpy(
        dtype=bool, na_value=False
    )
    norm[district] = compact[district].to_numpy(dtype=object)
    kind[district] = "district"
    sector = (
        ~unit
        & ~district
        & (
            upper.str.fullmatch(_SECTOR_SPACED_RE.pattern).to_numpy(
                dtype=bool, na_value=False
            )
            | compact.str.fullmatch(_SECTOR_RE.pattern).to_numpy(
                dtype=bool, na_value=False
            )
        )
    )
    norm[sector] = (compact[sector].str[:-1] + " " + compact[sector].str[-1:]).to_numpy(
        dtype=object
    )
    kind[sector] = "sector"
    return norm, kind

"""Downloaded text cannot run as a spreadsheet formula (CSV injection)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from hotspot.textsafe import safe_cell, safe_csv, spreadsheet_safe


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://x\",\"click\")", "'=HYPERLINK(\"http://x\",\"click\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("-2+3", "'-2+3"),
    ("\t=1", "'\t=1"),
    ("-3.5", "-3.5"),
    ("Above Bar Street", "Above Bar Street"),
    (7, 7),
], ids=["equals", "plus", "at", "minus-formula", "tab", "negative-number", "plain",
        "int"])
def test_safe_cell(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


def test_a_frame_round_trips_without_formulas() -> None:
    frame = pd.DataFrame({"value": ["=1+1", "ok", None], "n": [1, 2, 3],
                          "=evil": ["a", "b", "c"]})
    out = pd.read_csv(io.BytesIO(safe_csv(frame)))
    assert list(out["value"].fillna("")) == ["'=1+1", "ok", ""]
    assert list(out["n"]) == [1, 2, 3]
    assert list(out.columns) == ["value", "n", "'=evil"]
    assert frame.loc[0, "value"] == "=1+1"  # the input is not changed
    assert spreadsheet_safe(frame)["value"].iloc[0] == "'=1+1"


def test_rejects_written_by_a_store_are_safe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import geopandas as gpd

    from hotspot.ingest.schema import conform, make_rejects
    from hotspot.ingest.store import write_store

    rejects = make_rejects(pd.DataFrame({
        "source_file": ["x.csv"], "row_number": [2], "field": ["location_text"],
        "value": ['=HYPERLINK("http://evil")'], "reason": ["not a place"]}))
    occ = gpd.GeoDataFrame(conform(pd.DataFrame()), geometry=gpd.GeoSeries([]),
                           crs="EPSG:27700")
    write_store(tmp_path / "s", occurrences=occ, rejects=rejects,
                summary={"rows": {"read": 1, "accepted": 0, "rejected": 1}})
    text = (tmp_path / "s" / "rejects.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ',=HYPERLINK' not in text

"""AppTest of the My patrol plan page: a CSP and hours in, named cells and downloads."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from hotspot.settings import ROOT

APP = str(ROOT / "app.py")
H3_ID = re.compile(r"\b8[0-9a-f]{14}\b")

pytestmark = pytest.mark.skipif(
    not (ROOT / "data" / "default_store" / "occurrences.parquet").exists(),
    reason="embedded default store not built (make data)")


def test_plan_page_in_three_steps_names_cells_and_offers_downloads() -> None:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("app_pages/plan.py")
    at.run()
    assert not at.exception
    assert any("Choose your CSP" in i.value for i in at.info)
    at.selectbox(key="my_plan_csp").set_value("E06000044").run()  # step 1
    at.number_input(key="my_plan_hours").set_value(10.0).run()      # step 2
    assert not at.exception, [e.message for e in at.exception]
    text = "\n".join(m.value for m in at.markdown)
    assert "3. Your plan: Portsmouth, 10 hours a week" in text
    listed = [ln for ln in text.splitlines() if re.match(r"^\d+\. \*\*", ln)]
    assert len(listed) == 5  # 10 h / (2 days x 4 h x 1 visit x 15 min = 2 h)
    assert all("ward" in ln and not H3_ID.search(ln) for ln in listed)
    assert any("SYNTHETIC" in w.value for w in at.warning)
    assert any("police.uk" in c.value and "left out as implausible" in c.value
               for c in at.caption)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download the patrol plan (PDF)", "Phone card (PNG)",
                      "A4 card (PDF)"]

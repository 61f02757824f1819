"""The app's accuracy page: the backtest of the recommended list, in AppTest."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hotspot.analysis import backtest_split
from hotspot.detect.backtest import PRODUCT
from tests.test_app import APP, needs_store, rerun


def test_default_split_holds_out_the_last_whole_months():
    occ = pd.DataFrame({"occurred_from": pd.to_datetime(
        ["2025-01-03", "2025-06-30", "2025-09-14"])})
    train_to, test_from, test_to = backtest_split(occ, test_months=3)
    assert train_to == pd.Timestamp("2025-06-30")
    assert test_from == pd.Timestamp("2025-07-01")
    assert test_to == pd.Timestamp("2025-09-30")
    assert backtest_split(occ, test_months=1)[1] == pd.Timestamp("2025-09-01")
    with pytest.raises(ValueError, match="test_months"):
        backtest_split(occ, test_months=0)


@needs_store
def test_accuracy_page_scores_the_ranking_beside_the_baselines() -> None:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("app_pages/accuracy.py")
    at = rerun(at)
    assert at.selectbox(key="bt_cut").value == "2025-06"  # test Jul-Sep 2025
    at.multiselect(key="bt_categories").set_value(
        ["robbery", "possession_of_weapons"])
    at.toggle(key="bt_police").set_value(True)
    at.button(key="bt_go").click()
    at = rerun(at)
    text = " ".join(m.value for m in at.markdown)
    assert "2025-08 (police_uk) missing" in text  # flagged August: not zero
    assert "best naive baseline" in text
    table = at.dataframe[0].value
    assert PRODUCT in set(table["Ranking"])
    assert {"PAI at 1% of HIPS", "PEI* at 1%"} <= set(table.columns)
    product = table.set_index("Ranking").loc[PRODUCT, "PAI at 1% of HIPS"]
    assert product > 1  # better than a random choice of cells
    assert at.get("download_button")

"""Best-response table against seed 002 Table 2 (ORR 8/39 vs 23/56 → χ² 4.420, P 0.036;
DCR 19/39 vs 43/56 → χ² 7.989, P 0.005; spec/ANALYSIS.md)."""

import pandas as pd
import pytest

from analytics.stats.response import best_response_table
from analytics.stats.table1 import patients_from_counts
from tests.analytics.stats import seed002


@pytest.fixture(scope="module")
def table():
    cohort = patients_from_counts(seed002.ARM_SIZES, {"best_response": seed002.BEST_RESPONSE})
    return best_response_table(cohort, "best_response", "arm", group_order=seed002.ARMS)


def _row(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[frame["row"] == name].iloc[0]


def test_orr_reproduces_seed_002(table):
    row = _row(table.to_frame(), "ORR")
    assert (row["chi_square"], row["p"]) == ("4.420", "0.036")
    assert (row[seed002.SYSTEMIC], row[seed002.COMBINED]) == ("8 (20.51)", "23 (41.07)")


def test_dcr_reproduces_seed_002(table):
    row = _row(table.to_frame(), "DCR")
    assert (row["chi_square"], row["p"]) == ("7.989", "0.005")
    assert (row[seed002.SYSTEMIC], row[seed002.COMBINED]) == ("19 (48.72)", "43 (76.79)")


def test_category_rows_match_seed_percentages(table):
    """Seed 002 Table 2: PR 7 (17.95) vs 20 (35.71)."""
    row = _row(table.to_frame(), "PR")
    assert (row[seed002.SYSTEMIC], row[seed002.COMBINED]) == ("7 (17.95)", "20 (35.71)")


def test_not_evaluable_patients_stay_in_the_denominator():
    """ORR is (CR + PR) / all patients (seed 002 §3.6): one NE patient lowers 1/2 to 1/3."""
    df = pd.DataFrame({"arm": ["a", "a", "a", "b", "b"], "bor": ["PR", "PD", None, "CR", "SD"]})
    result = best_response_table(df, "bor", "arm")
    assert result.orr.events["a"] == 1
    assert result.orr.totals["a"] == 3
    assert _row(result.to_frame(), "NE")["a"] == "1 (33.33)"

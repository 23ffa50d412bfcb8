"""TACE resistance comparison against seed 000 (7/72 vs 28/72 → χ² 16.646, P < 0.001;
spec/ANALYSIS.md)."""

import pandas as pd

from analytics.stats.resistance import compare_resistance
from analytics.stats.table1 import patients_from_counts


def _seed_000_matched_cohort() -> pd.DataFrame:
    return patients_from_counts(
        {"TACE+PD-(L)1+MTT": 72, "TACE": 72},
        {"resistant": {"TACE+PD-(L)1+MTT": {True: 7, False: 65}, "TACE": {True: 28, False: 44}}},
    )


def test_resistance_rate_reproduces_seed_000():
    result = compare_resistance(
        _seed_000_matched_cohort(), "resistant", "arm", group_order=["TACE+PD-(L)1+MTT", "TACE"]
    )
    row = result.to_frame().iloc[0]
    assert (row["chi_square"], row["p"]) == ("16.646", "< 0.001")
    assert row["TACE+PD-(L)1+MTT"] == "7 (9.72)"


def test_patients_not_assessed_are_counted_but_not_in_the_denominator():
    df = pd.DataFrame({"arm": ["a", "a", "b", "b"], "resistant": [True, None, False, True]})
    result = compare_resistance(df, "resistant", "arm")
    assert result.not_assessed == {"a": 1, "b": 0}
    assert result.rate.totals == {"a": 1, "b": 2}

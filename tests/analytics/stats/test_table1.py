"""Table 1 (baseline comparison) against seed 002's published figures.

The per-patient frame is rebuilt from seed 002 Table 1 counts (``seed002.TABLE1_COUNTS``); the
expected χ² and P are the ones printed in the seed and listed in spec/ANALYSIS.md.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.stats.table1 import (
    VariableSpec,
    compare_continuous,
    mann_whitney_z,
    patients_from_counts,
    spss_quartiles,
    table_one,
)
from tests.analytics.stats import seed002

SPECS = [
    VariableSpec("gender", "Gender", "categorical", levels=("male", "female")),
    VariableSpec("child_pugh_class", "Child-Pugh grade", "categorical", levels=("A", "B")),
    VariableSpec(
        "tumour_number", "Number of tumours", "categorical", levels=("single", "multiple")
    ),
    VariableSpec("bclc_stage", "BCLC stage", "categorical", levels=("A", "B", "C", "D")),
    VariableSpec(
        "chronic_hepatitis", "History of chronic hepatitis", "categorical", levels=("yes", "no")
    ),
    VariableSpec(
        "arteriovenous_fistula", "Arteriovenous fistula", "categorical", levels=("yes", "no")
    ),
    VariableSpec(
        "extrahepatic_blood_supply",
        "Extrahepatic blood supply",
        "categorical",
        levels=("yes", "no"),
    ),
]


@pytest.fixture(scope="module")
def seed_table() -> pd.DataFrame:
    cohort = patients_from_counts(seed002.ARM_SIZES, seed002.TABLE1_COUNTS)
    return table_one(cohort, "arm", SPECS, group_order=seed002.ARMS)


def _header(table: pd.DataFrame, variable: str) -> pd.Series:
    return table[(table["variable"] == variable) & table["level"].isna()].iloc[0]


@pytest.mark.parametrize(
    ("variable", "chi_square", "p"),
    [
        ("gender", "0.338", "0.561"),
        ("child_pugh_class", "0.735", "0.391"),
        ("tumour_number", "0.289", "0.591"),
        ("bclc_stage", "1.948", "0.378"),
        ("chronic_hepatitis", "0.043", "0.836"),
        ("arteriovenous_fistula", "2.011", "0.156"),
        ("extrahepatic_blood_supply", "0.036", "0.849"),
    ],
)
def test_table_one_reproduces_seed_002_chi_square_and_p(seed_table, variable, chi_square, p):
    """Seed 002 Table 1 / spec/ANALYSIS.md "Expected figures" table."""
    row = _header(seed_table, variable)
    assert row["statistic_text"] == chi_square
    assert row["p_text"] == p
    assert row["statistic_kind"] == "χ²"


def test_table_one_prints_counts_and_percentages_like_the_seed(seed_table):
    """Seed 002 Table 1: Male 35 (89.74) vs 48 (85.71); BCLC C 12 (30.77) vs 22 (39.29)."""
    male = seed_table[(seed_table["variable"] == "gender") & (seed_table["level"] == "male")].iloc[
        0
    ]
    assert (male[seed002.SYSTEMIC], male[seed002.COMBINED]) == ("35 (89.74)", "48 (85.71)")
    bclc_c = seed_table[
        (seed_table["variable"] == "bclc_stage") & (seed_table["level"] == "C")
    ].iloc[0]
    assert (bclc_c[seed002.SYSTEMIC], bclc_c[seed002.COMBINED]) == ("12 (30.77)", "22 (39.29)")


def test_table_one_keeps_an_empty_crf_level_without_changing_the_test(seed_table):
    """BCLC D has no patients in the seed: shown as 0 (0.00), χ² still 1.948 on 2 df."""
    bclc_d = seed_table[
        (seed_table["variable"] == "bclc_stage") & (seed_table["level"] == "D")
    ].iloc[0]
    assert bclc_d[seed002.SYSTEMIC] == "0 (0.00)"
    assert _header(seed_table, "bclc_stage")["statistic_text"] == "1.948"


def test_sparse_two_by_two_row_is_flagged_with_fisher_p(seed_table):
    """Tumour number: expected single 3.28 < 5 → footnote f and a Fisher P beside χ² 0.289."""
    row = _header(seed_table, "tumour_number")
    assert row["footnote"] == "e,f"
    assert row["fisher_p_text"] != ""


def test_categorical_rows_carry_footnote_e(seed_table):
    """Seed 002 Table 1 marks χ² rows with footnote e; Child-Pugh's smallest expected count
    is 18·39/95 = 7.39, so no Fisher flag."""
    assert _header(seed_table, "child_pugh_class")["footnote"] == "e"


def test_normal_groups_get_mean_sd_and_student_t():
    """Both groups normal (seeded draws) → t-test equal variances, same as scipy's Student t."""
    rng = np.random.default_rng(2)
    df = pd.DataFrame(
        {
            "arm": ["a"] * 39 + ["b"] * 56,
            "age": np.r_[rng.normal(61, 11, 39), rng.normal(60, 10, 56)],
        }
    )
    result = compare_continuous(df, "age", "arm")
    assert result.normal
    assert result.statistic_kind == "t"
    expected = stats.ttest_ind(df.age[:39], df.age[39:], equal_var=True)
    assert result.statistic == pytest.approx(expected.statistic)
    assert "±" in result.summaries[0]
    assert result.footnote == "c"


def test_non_normal_group_gets_median_iqr_and_mann_whitney_z():
    """A log-normal group (AFP-like) fails Shapiro–Wilk → median (Q1, Q3) and Z, footnote d."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "arm": ["a"] * 39 + ["b"] * 56,
            "afp": np.r_[rng.lognormal(5, 2, 39), rng.lognormal(5, 2, 56)],
        }
    )
    result = compare_continuous(df, "afp", "arm")
    assert not result.normal
    assert result.statistic_kind == "Z"
    assert result.footnote == "d"
    assert result.summaries[0].count(",") == 1


def test_mann_whitney_z_is_the_tie_corrected_normal_approximation():
    """Hand computation: a = 1,2,2,3 ; b = 2,4,5,5,6. Ranks of the pooled 9 values:
    1→1, 2→3 (×3), 3→5, 4→6, 5→7.5 (×2), 6→9. R₁ = 1+3+3+5 = 12, U₁ = 12 − 10 = 2,
    U = min(2, 18) = 2; E[U] = 10; tie term Σ(t³−t)/(n(n−1)) = (24+6)/72;
    σ² = 20/12 · (10 − 30/72) → Z = −8/σ."""
    z, p = mann_whitney_z(np.array([1, 2, 2, 3.0]), np.array([2, 4, 5, 5, 6.0]))
    sigma = np.sqrt(20 / 12 * (10 - 30 / 72))
    assert z == pytest.approx(-8 / sigma)
    assert p == pytest.approx(2 * stats.norm.cdf(-8 / sigma))


def test_mann_whitney_z_is_never_positive_as_in_spss():
    """Seed 002 prints negative Z whichever arm has the higher median (bilirubin 19.40 vs 16.15
    → −1.400; albumin 41.20 vs 43.05 → −0.851): SPSS uses min(U₁, U₂)."""
    low, high = np.array([1, 2, 3, 4.0]), np.array([5, 6, 7, 8.0])
    assert mann_whitney_z(low, high)[0] == pytest.approx(mann_whitney_z(high, low)[0])
    assert mann_whitney_z(high, low)[0] < 0


def test_quartiles_use_spss_weighted_average_definition():
    """SPSS HAVERAGE for 1..10: Q1 at (n+1)·0.25 = 2.75 → 2.75, Q3 at 8.25 → 8.25
    (R's default type 7 would give 3.25 and 7.75)."""
    assert spss_quartiles(np.arange(1, 11, dtype=float)) == (2.75, 5.5, 8.25)


def test_group_too_small_for_shapiro_is_treated_as_non_normal():
    df = pd.DataFrame({"arm": ["a", "a", "b", "b", "b"], "x": [1.0, 2.0, 3.0, 4.0, 5.5]})
    result = compare_continuous(df, "x", "arm")
    assert result.statistic_kind == "Z"
    assert result.estimable


def test_group_without_values_is_not_estimable_and_does_not_raise():
    df = pd.DataFrame({"arm": ["a", "a", "b"], "x": [1.0, 2.0, None]})
    result = compare_continuous(df, "x", "arm")
    assert not result.estimable
    assert result.reason == "a group has no non-missing values"

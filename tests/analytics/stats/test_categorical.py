"""Pearson χ² without continuity correction, Fisher for sparse 2×2, degenerate tables."""

import numpy as np
import pytest
from scipy.stats import hypergeom

from analytics.stats.categorical import chi_square_test, compare_proportions


def test_gender_row_of_seed_002_reproduces_published_chi_square():
    """Seed 002 Table 1, gender: male 35/39 vs 48/56 → χ² 0.338, P 0.561 (spec/ANALYSIS.md)."""
    result = chi_square_test([[35, 48], [4, 8]])
    assert round(result.statistic, 3) == 0.338
    assert round(result.p_value, 3) == 0.561
    assert result.df == 1


def test_no_continuity_correction_is_applied():
    """Σ(O − E)²/E by hand (no ½ subtracted from |O − E|, which Yates' correction would do)."""
    observed = np.array([[35, 48], [4, 8]], dtype=float)
    expected = observed.sum(1, keepdims=True) * observed.sum(0, keepdims=True) / observed.sum()
    by_hand = ((observed - expected) ** 2 / expected).sum()
    assert chi_square_test(observed).statistic == pytest.approx(by_hand, rel=1e-12)


def test_three_level_table_has_two_degrees_of_freedom():
    """Seed 002 Table 1, BCLC A/B/C 7/20/12 vs 5/29/22 → χ² 1.948, P 0.378."""
    result = chi_square_test([[7, 5], [20, 29], [12, 22]])
    assert result.df == 2
    assert round(result.statistic, 3) == 1.948


def test_expected_count_below_five_adds_fisher_p_and_flags():
    """Seed 002 Table 1, tumour number 4/35 vs 4/52: expected single = 8·39/95 = 3.28 < 5."""
    result = chi_square_test([[4, 4], [35, 52]])
    assert result.low_expected
    assert result.min_expected == pytest.approx(8 * 39 / 95)
    # Two-sided Fisher p by definition: sum of hypergeometric probabilities of all tables
    # (same margins) no more likely than the observed one.
    margins = hypergeom(M=95, n=8, N=39)
    observed = margins.pmf(4)
    tables = margins.pmf(np.arange(0, 9))
    expected_p = tables[tables <= observed * (1 + 1e-7)].sum()
    assert result.fisher_p == pytest.approx(expected_p, rel=1e-9)


def test_fisher_p_is_not_given_when_expected_counts_are_large():
    assert chi_square_test([[30, 47], [9, 9]]).fisher_p is None


def test_no_events_in_either_arm_is_not_estimable_and_does_not_raise():
    """Seed 002 Table 3, grade ≥ 3: 0 vs 0 → "-"."""
    result = compare_proportions([0, 0], [39, 56])
    assert not result.estimable
    assert "no events" in result.reason
    assert result.p_value is None


def test_empty_level_is_dropped_before_testing():
    """A CRF level absent from every arm (e.g. BCLC D) must not make the test NaN."""
    with_empty = chi_square_test([[7, 5], [20, 29], [12, 22], [0, 0]])
    without = chi_square_test([[7, 5], [20, 29], [12, 22]])
    assert with_empty.statistic == pytest.approx(without.statistic)
    assert with_empty.df == 2


def test_single_group_is_not_estimable():
    result = chi_square_test(np.array([[3, 0], [5, 0]]))
    assert not result.estimable
    assert result.reason == "only one group has observations"

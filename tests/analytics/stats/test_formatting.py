"""Formatting conventions of spec/ANALYSIS.md ("percentages to 2 decimals, test statistics to 3,
p to 3 (p < 0.001 shown as "< 0.001")") and seed 002's table styles."""

import math

from analytics.stats.formatting import (
    format_count_pct,
    format_estimate_ci,
    format_mean_sd,
    format_median_iqr,
    format_p,
    format_pct,
    format_stat,
)


def test_p_below_one_in_a_thousand_is_shown_as_less_than():
    assert format_p(0.000098) == "< 0.001"


def test_p_is_rounded_to_three_decimals():
    assert format_p(0.03552) == "0.036"


def test_p_just_at_one_in_a_thousand_is_printed_as_a_number():
    assert format_p(0.001) == "0.001"


def test_missing_p_is_a_dash():
    """Seed 002 Table 3 prints "-" where no test was possible."""
    assert format_p(None) == "-"
    assert format_p(math.nan) == "-"


def test_statistic_has_three_decimals_and_keeps_its_sign():
    """Seed 002 Table 1 prints Mann–Whitney Z as −0.851."""
    assert format_stat(-0.85149) == "-0.851"


def test_a_statistic_rounding_to_zero_has_no_minus_sign():
    assert format_stat(-0.0001) == "0.000"


def test_percentage_has_two_decimals():
    """Seed 002 Table 1: male 35 of 39 → 89.74."""
    assert format_pct(35, 39) == "89.74"
    assert format_count_pct(35, 39) == "35 (89.74)"


def test_percentage_of_an_empty_group_is_a_dash():
    assert format_pct(0, 0) == "-"


def test_median_iqr_style_matches_seed():
    """Seed 002 Table 1: albumin 41.20 (36.40, 45.30)."""
    assert format_median_iqr(41.2, 36.4, 45.3) == "41.20 (36.40, 45.30)"


def test_mean_sd_style_matches_seed():
    """Seed 002 Table 1: age 60.95 ± 11.18."""
    assert format_mean_sd(60.9487, 11.1792) == "60.95 ± 11.18"


def test_unreached_confidence_limit_is_nr():
    assert format_estimate_ci(31.0, 18.0, None, decimals=1) == "31.0 (18.0, NR)"

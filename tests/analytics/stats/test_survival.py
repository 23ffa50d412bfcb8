"""Kaplan–Meier, median CI and log-rank against R ``survival``.

R's lung data ship with lifelines (``load_lung``: status 1 = death, R codes it 2; sex 1 = male).
R outputs quoted below are from public R transcripts; each test names its source.
"""

import math

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_dd, load_lung

from analytics.stats.survival import kaplan_meier, kaplan_meier_by_group, logrank, numbers_at_risk


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    return load_lung()


def test_median_and_ci_by_sex_match_r_print_survfit(lung):
    """R: survfit(Surv(time, status) ~ sex, data = lung)
             n events median 0.95LCL 0.95UCL
    sex=1  138    112    270     212     310
    sex=2   90     53    426     348     550
    (printed identically in many R tutorials, e.g. the lung examples in the stored
    GitHub corpus; default conf.type = "log")."""
    medians = kaplan_meier_by_group(lung, "time", "status", "sex").medians_frame()
    assert medians[["n", "events", "median", "lower", "upper"]].to_numpy().tolist() == [
        [138, 112, 270, 212, 310],
        [90, 53, 426, 348, 550],
    ]


def test_overall_median_and_ci_match_r(lung):
    """R: survfit(Surv(time, status) ~ 1, data = lung) → n 228, events 165, median 310,
    0.95LCL 285, 0.95UCL 363."""
    curve = kaplan_meier(lung["time"], lung["status"])
    assert (curve.n, curve.events) == (228, 165)
    assert (curve.median, curve.median_lower, curve.median_upper) == (310, 285, 363)


@pytest.mark.parametrize(
    ("time", "n_risk", "survival", "std_err", "lower", "upper"),
    [
        (11, 138, 0.9783, 0.0124, 0.9542, 1.000),
        (163, 100, 0.7029, 0.0389, 0.6306, 0.783),
        (179, 91, 0.6518, 0.0406, 0.5769, 0.736),
    ],
)
def test_survival_table_matches_r_summary_survfit(
    lung, time, n_risk, survival, std_err, lower, upper
):
    """R: summary(survfit(Surv(time, status) ~ sex, data = lung)), stratum sex=1
    (transcript at drkim.quarto.pub/non_semi_parametric_survival_analysis). R prints 4
    significant decimals (3 for the upper limit), so the tolerance is half the last digit."""
    table = kaplan_meier_by_group(lung, "time", "status", "sex").curve(1).table
    row = table[table["time"] == time].iloc[0]
    assert row["n_risk"] == n_risk
    assert row["survival"] == pytest.approx(survival, abs=5e-5)
    assert row["std_err"] == pytest.approx(std_err, abs=5e-5)
    assert row["lower"] == pytest.approx(lower, abs=5e-5)
    assert row["upper"] == pytest.approx(upper, abs=5e-4)


def test_log_ci_is_greenwood_on_the_log_scale_by_hand():
    """Times 1, 2+, 3, 4, 5+, 6, 7 (+ censored). By hand:
    t=1: n=7,d=1 → S=6/7,   Σ d/(n(n−d)) = 1/42
    t=3: n=5,d=1 → S=24/35, Σ += 1/20
    t=4: n=4,d=1 → S=18/35, Σ += 1/12
    CI = S·exp(±1.959964·√Σ), upper capped at 1."""
    curve = kaplan_meier([1, 2, 3, 4, 5, 6, 7], [1, 0, 1, 1, 0, 1, 1])
    row = curve.table.set_index("time").loc[4.0]
    s = 18 / 35
    se = math.sqrt(1 / 42 + 1 / 20 + 1 / 12)
    z = 1.959963984540054
    assert row["survival"] == pytest.approx(s, rel=1e-12)
    assert row["lower"] == pytest.approx(s * math.exp(-z * se), rel=1e-12)
    assert row["upper"] == pytest.approx(min(1.0, s * math.exp(z * se)), rel=1e-12)
    assert row["std_err"] == pytest.approx(s * se, rel=1e-12)


def test_median_ci_is_where_the_confidence_curves_cross_one_half_by_hand():
    """Same data as above. S: 6/7 (t1), 24/35 (t3), 18/35 = 0.514 (t4), 9/35 = 0.257 (t6).
    Median: first S ≤ 0.5 → 6. Lower curve: S·exp(−z·se) at t3 = 0.6857·exp(−1.96·√(1/42+1/20))
    = 0.4082 ≤ 0.5, at t1 = 0.857·exp(−1.96·0.154) = 0.633 > 0.5 → lower limit 3.
    Upper curve never falls to 0.5 before S hits 0 at t7 (limit undefined there) → NR."""
    curve = kaplan_meier([1, 2, 3, 4, 5, 6, 7], [1, 0, 1, 1, 0, 1, 1])
    z = 1.959963984540054
    assert (24 / 35) * math.exp(-z * math.sqrt(1 / 42 + 1 / 20)) < 0.5
    assert (6 / 7) * math.exp(-z * math.sqrt(1 / 42)) > 0.5
    assert curve.median == 6
    assert curve.median_lower == 3
    assert curve.median_upper is None


def test_median_on_a_flat_at_one_half_is_the_midpoint():
    """R quantile.survfit ("the usual midpoint rule"): deaths at 1, 2, 3, 4 → S = 0.5 on
    [2, 3), median = (2 + 3) / 2 = 2.5."""
    assert kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1]).median == 2.5


def test_group_without_events_has_no_median_and_a_reason():
    curve = kaplan_meier([3, 5, 8], [0, 0, 0])
    assert curve.median is None
    assert curve.median_reason == "no events: median not reached"


def test_numbers_at_risk_count_follow_up_at_or_beyond_each_time():
    df = pd.DataFrame({"months": [1, 4, 6, 6, 12, 15], "arm": ["a", "a", "a", "b", "b", "b"]})
    table = numbers_at_risk(df, "months", "arm", [0, 6, 12])
    assert table.loc["a"].tolist() == [3, 1, 0]
    assert table.loc["b"].tolist() == [3, 3, 2]


def test_logrank_by_sex_matches_r_survdiff(lung):
    """R: survdiff(Surv(time, status) ~ sex, data = lung)
    sex=1 N 138 Observed 112 Expected 91.5817; sex=2 N 90 Observed 53 Expected 73.4183;
    Chisq = 10.3267 on 1 df, p = 0.00131116
    (Machine Learning with R Cookbook, 2nd ed., "Using the log-rank test")."""
    result = logrank(lung, "time", "status", "sex")
    assert result.statistic == pytest.approx(10.3267, abs=1e-4)
    assert result.p_value == pytest.approx(0.00131116, abs=1e-8)
    assert result.df == 1
    assert result.expected[1] == pytest.approx(91.5817, abs=1e-4)
    assert result.observed == {1: 112, 2: 53}


def test_logrank_without_censoring_matches_r():
    """R (lifelines test_statistics.py, test_rank_test_output_against_R_no_censorship):
    survdiff(Surv(c(10,20,30,10,20,50), rep(1, 6)) ~ c(1,1,1,0,0,0))
    → chisq 0.254237, p 0.614107."""
    df = pd.DataFrame({"t": [10, 20, 30, 10, 20, 50], "e": 1, "g": [1, 1, 1, 0, 0, 0]})
    result = logrank(df, "t", "e", "g")
    assert result.statistic == pytest.approx(0.254237, abs=1e-6)
    assert result.p_value == pytest.approx(0.614107, abs=1e-6)


def test_logrank_with_censoring_matches_r():
    """R (lifelines test_rank_test_output_against_R_with_censorship):
    survdiff(Surv(c(10,20,30,10,20,50), c(1,0,1,1,0,1)) ~ c(1,1,1,0,0,0))
    → chisq 0.384615, p 0.535143."""
    df = pd.DataFrame(
        {"t": [10, 20, 30, 10, 20, 50], "e": [1, 0, 1, 1, 0, 1], "g": [1, 1, 1, 0, 0, 0]}
    )
    result = logrank(df, "t", "e", "g")
    assert result.statistic == pytest.approx(0.384615, abs=1e-6)
    assert result.p_value == pytest.approx(0.535143, abs=1e-6)


def test_logrank_for_more_than_two_groups_matches_r():
    """R (lifelines test_multivariate_logrank_on_dd_dataset):
    survdiff(Surv(duration, observed) ~ regime, data = dd, rho = 0) → chisq 322.5991."""
    dd = load_dd()
    result = logrank(dd, "duration", "observed", "regime")
    assert result.statistic == pytest.approx(322.5991, abs=1e-4)
    assert result.df == dd["regime"].nunique() - 1


def test_logrank_with_a_single_group_is_not_estimable():
    df = pd.DataFrame({"t": [1, 2, 3], "e": [1, 1, 0], "g": ["a", "a", "a"]})
    result = logrank(df, "t", "e", "g")
    assert not result.estimable
    assert result.reason == "log-rank needs at least two groups"


def test_logrank_with_an_arm_without_events_is_still_computed():
    """An arm with no deaths still has expected events, so survdiff gives a χ²."""
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 1, 0, 0, 0], "g": list("aaabbb")})
    result = logrank(df, "t", "e", "g")
    assert result.estimable
    assert result.observed["b"] == 0
    assert np.isfinite(result.statistic)

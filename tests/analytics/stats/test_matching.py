"""Propensity-score matching: hand-checked pairs and SMDs, a simulated cohort with a known
treatment effect, and degenerate inputs."""

import numpy as np
import pandas as pd
import pytest

from analytics.stats.cox import fit_cox
from analytics.stats.matching import greedy_match, propensity_match, standardized_difference


def test_greedy_match_pairs_each_treated_with_nearest_free_control_within_caliper():
    """Treated logits 0.0, 1.0, 2.0 in data order; controls c0=0.1, c1=0.95, c2=3.5, c3=0.05.
    t0 → c3 (|Δ| 0.05 < 0.1); t1 → c1 (0.05); t2: nearest free is c2 at 1.5 > caliper 0.5 →
    unmatched."""
    treated = pd.Series([0.0, 1.0, 2.0], index=["t0", "t1", "t2"])
    control = pd.Series([0.1, 0.95, 3.5, 0.05], index=["c0", "c1", "c2", "c3"])
    pairs = greedy_match(treated, control, caliper=0.5)
    assert pairs[["treated_index", "control_index"]].to_numpy().tolist() == [
        ["t0", "c3"],
        ["t1", "c1"],
    ]
    assert pairs["pair_id"].tolist() == [1, 2]


def test_greedy_match_never_reuses_a_control():
    """Both treated are nearest to c0; the second gets the next nearest (without replacement)."""
    pairs = greedy_match(
        pd.Series([0.0, 0.01], index=["t0", "t1"]), pd.Series([0.0, 0.3], index=["c0", "c1"]), None
    )
    assert pairs["control_index"].tolist() == ["c0", "c1"]


def test_greedy_match_breaks_ties_by_data_order():
    pairs = greedy_match(
        pd.Series([0.0], index=["t0"]), pd.Series([0.1, -0.1], index=["c0", "c1"]), None
    )
    assert pairs["control_index"].tolist() == ["c0"]


def test_smd_for_a_continuous_covariate_by_hand():
    """Treated 1, 2, 3 (mean 2, var 1); control 2, 3, 4, 5 (mean 3.5, var 5/3):
    SMD = (2 − 3.5) / √((1 + 5/3)/2) = −1.5/√(4/3)."""
    smd = standardized_difference(pd.Series([1.0, 2, 3]), pd.Series([2.0, 3, 4, 5]))
    assert smd == pytest.approx(-1.5 / np.sqrt(4 / 3))


def test_smd_for_a_binary_covariate_uses_proportions():
    """p₁ = 0.5, p₀ = 0.25: SMD = 0.25 / √((0.25 + 0.1875)/2)."""
    smd = standardized_difference(pd.Series([1, 1, 0, 0]), pd.Series([1, 0, 0, 0]))
    assert smd == pytest.approx(0.25 / np.sqrt((0.25 + 0.1875) / 2))


def _simulated_cohort(seed: int = 20240531, n: int = 1200) -> pd.DataFrame:
    """Confounded cohort: older/sicker patients (x1, x2) get treatment more often and die
    sooner. True conditional hazard ratio of treatment = 0.5."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n)
    treated = rng.binomial(1, 1 / (1 + np.exp(-(-1.0 + 0.8 * x1 + 0.6 * x2))))
    hazard = 0.05 * np.exp(np.log(0.5) * treated + 0.7 * x1 + 0.5 * x2)
    event_time = rng.exponential(1 / hazard)
    censor_time = rng.uniform(5, 40, size=n)
    return pd.DataFrame(
        {
            "treated": treated,
            "x1": x1,
            "x2": x2,
            "months": np.minimum(event_time, censor_time),
            "death": (event_time <= censor_time).astype(int),
        }
    )


@pytest.fixture(scope="module")
def simulated_match():
    return propensity_match(_simulated_cohort(), "treated", ["x1", "x2"])


def test_caliper_is_a_fifth_of_the_sd_of_the_logit(simulated_match):
    assert simulated_match.caliper == pytest.approx(
        0.2 * simulated_match.data["logit_ps"].std(ddof=1)
    )
    assert (simulated_match.pairs["distance"] <= simulated_match.caliper).all()


def test_counts_of_matched_and_unmatched_add_up(simulated_match):
    m = simulated_match
    assert m.n_pairs == len(m.pairs)
    assert m.n_pairs + m.unmatched_treated == m.n_treated
    assert m.n_pairs + m.unmatched_control == m.n_control
    assert len(m.matched()) == 2 * m.n_pairs


def test_matching_removes_the_confounder_imbalance(simulated_match):
    balance = simulated_match.balance.set_index("covariate")
    assert balance.loc["x1", "smd_before"] > 0.3
    assert balance["smd_after"].abs().max() < 0.1


def test_matched_cox_with_pair_clusters_recovers_the_true_hazard_ratio(simulated_match):
    """True HR 0.5. Cox on the matched cohort, adjusted for the matching covariates (so the
    conditional HR is estimated) with robust variance clustered on the pair."""
    matched = simulated_match.matched()
    result = fit_cox(matched, "months", "death", ["treated", "x1", "x2"], cluster_col="pair_id")
    row = result.coefficients.set_index("covariate").loc["treated"]
    assert abs(np.log(row["hr"]) - np.log(0.5)) < 0.2
    assert row["hr_lower"] < 0.5 < row["hr_upper"]


def test_matching_is_deterministic():
    first = propensity_match(_simulated_cohort(), "treated", ["x1", "x2"])
    second = propensity_match(_simulated_cohort(), "treated", ["x1", "x2"])
    pd.testing.assert_frame_equal(first.pairs, second.pairs)


def test_too_few_patients_in_an_arm_is_not_estimable():
    df = pd.DataFrame({"treated": [1, 0, 0, 0], "age": [60, 61, 70, 55]})
    result = propensity_match(df, "treated", ["age"])
    assert not result.estimable
    assert result.reason.startswith("too few patients to match")


def test_perfect_separation_is_reported_not_raised():
    df = pd.DataFrame({"treated": [1, 1, 1, 0, 0, 0], "age": [40, 42, 45, 60, 62, 65]})
    result = propensity_match(df, "treated", ["age"])
    assert not result.estimable
    assert result.n_pairs == 0


def test_rows_with_missing_covariates_are_dropped_and_counted():
    df = _simulated_cohort(n=300)
    df.loc[:4, "x1"] = np.nan
    result = propensity_match(df, "treated", ["x1", "x2"])
    assert result.rows_dropped == 5

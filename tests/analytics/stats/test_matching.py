"""Propensity-score matching: hand-checked pairs and SMDs, a simulated cohort with a known
treatment effect, and degenerate inputs."""

import numpy as np
import pandas as pd
import pytest

from analytics.stats.cox import fit_cox
from analytics.stats.matching import (
    MatchingOptions,
    nearest_neighbour,
    propensity_match,
    standardized_difference,
)


def _logit_order_pairs(treated, control, **options):
    logit = np.array([*treated, *control], float)
    arm = np.array([True] * len(treated) + [False] * len(control))
    options.setdefault("caliper_sd", None)
    caliper = options.pop("caliper", None)
    return nearest_neighbour(logit, arm, options=MatchingOptions(**options), caliper=caliper)


def test_largest_first_takes_the_nearest_free_control_within_the_caliper():
    """Treated logits 0.0, 1.0, 2.0; controls c0=0.1, c1=0.95, c2=3.5, c3=0.05 (rows 3–6).
    Largest first: t2 (2.0) → nearest c1 at 1.05 > caliper 0.5, no match; t1 → c1 (0.05);
    t0 → c3 (0.05)."""
    found = _logit_order_pairs([0.0, 1.0, 2.0], [0.1, 0.95, 3.5, 0.05], caliper=0.5)
    assert [[c for c, _, _ in m] for m in found] == [[6], [4], []]


def test_the_order_decides_who_gets_a_contested_control():
    """Both treated (0.0 and 0.3) are nearest to the control at 0.2; the other control is at
    −1. Largest first: 0.3 gets it; smallest first: 0.0 gets it."""
    largest = _logit_order_pairs([0.0, 0.3], [0.2, -1.0])
    smallest = _logit_order_pairs([0.0, 0.3], [0.2, -1.0], order="smallest")
    assert [[c for c, _, _ in m] for m in largest] == [[3], [2]]
    assert [[c for c, _, _ in m] for m in smallest] == [[2], [3]]


def test_a_tie_in_distance_goes_to_the_lower_score():
    found = _logit_order_pairs([0.0], [0.1, -0.1])
    assert found[0][0][0] == 2


def test_ratio_two_matches_in_rounds():
    """Round 1: t1 (largest, 1.0) → 0.9, t0 (0.0) → 0.1; round 2: t1 → 1.2, t0 → −0.3."""
    found = _logit_order_pairs([0.0, 1.0], [0.1, 0.9, 1.2, -0.3], ratio=2)
    assert [[(c, r) for c, r, _ in m] for m in found] == [[(2, 1), (5, 2)], [(3, 1), (4, 2)]]


def test_with_replacement_a_control_serves_several_treated():
    found = _logit_order_pairs([0.0, 0.01], [0.0, 5.0], replace=True)
    assert [m[0][0] for m in found] == [2, 2]


def test_exact_matching_never_crosses_strata():
    """The nearest control (0.01) is in the other stratum; the exact match is 0.5 away."""
    logit = np.array([0.0, 0.01, 0.5])
    arm = np.array([True, False, False])
    found = nearest_neighbour(
        logit,
        arm,
        options=MatchingOptions(caliper_sd=None),
        caliper=None,
        strata=np.array(["a", "b", "a"]),
    )
    assert found[0][0][0] == 2


def test_smd_denominator_is_the_treated_sd_by_default():
    """Treated 1, 2, 3 (mean 2, SD 1); control 2, 3, 4, 5 (mean 3.5, var 5/3). ATT, as
    summary.matchit: (2 − 3.5)/1; pooled: −1.5/√((1 + 5/3)/2)."""
    treated, control = pd.Series([1.0, 2, 3]), pd.Series([2.0, 3, 4, 5])
    assert standardized_difference(treated, control) == pytest.approx(-1.5)
    pooled = standardized_difference(treated, control, smd_denominator="pooled")
    assert pooled == pytest.approx(-1.5 / np.sqrt(4 / 3))


def test_smd_of_a_binary_covariate_uses_sqrt_p_one_minus_p():
    """p₁ = 0.5, p₀ = 0.25: treated SD √(0.5·0.5) = 0.5 → 0.5; pooled √((0.25 + 0.1875)/2)."""
    treated, control = pd.Series([1, 1, 0, 0]), pd.Series([1, 0, 0, 0])
    assert standardized_difference(treated, control) == pytest.approx(0.5)
    pooled = standardized_difference(treated, control, smd_denominator="pooled")
    assert pooled == pytest.approx(0.25 / np.sqrt((0.25 + 0.1875) / 2))


def test_a_constant_treated_arm_falls_back_to_the_pooled_sd():
    """Treated all 5 (SD 0): MatchIt divides by pooled_sd(contribution = "proportional") =
    √(Σ within-arm squares/(n − 2)) = √(2/(5 − 2)) for control 1, 2, 3."""
    smd = standardized_difference(pd.Series([5.0, 5.0]), pd.Series([1.0, 2, 3]))
    assert smd == pytest.approx(3 / np.sqrt(2 / 3))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"order": "biggest"}, "order"),
        ({"ratio": 0}, "ratio"),
        ({"ratio": 1.5}, "ratio"),
        ({"ratio": True}, "ratio"),
        ({"replace": "yes"}, "replace"),
        ({"caliper_sd": 0}, "caliper_sd"),
        ({"caliper_sd": -0.2}, "caliper_sd"),
        ({"caliper_sd": float("nan")}, "caliper_sd"),
        ({"caliper_sd": 6}, "caliper_sd"),
        ({"exact": "bclc_c"}, "exact"),
        ({"exact": ("male", "male")}, "exact"),
        ({"order": "random"}, "seed"),
        ({"seed": 3}, "seed"),
        ({"order": "random", "seed": -1}, "seed"),
        ({"smd_denominator": "control"}, "smd_denominator"),
    ],
)
def test_a_bad_option_is_refused_naming_it(options, field):
    with pytest.raises(ValueError, match=f"'{field}'"):
        MatchingOptions(**options)


def test_options_round_trip_through_json():
    options = MatchingOptions(
        order="random", seed=11, ratio=2, replace=True, caliper_sd=None, exact=("male",)
    )
    assert MatchingOptions.from_dict(options.as_dict()) == options
    assert options.as_dict()["exact"] == ["male"]


def test_unknown_stored_option_is_refused():
    with pytest.raises(ValueError, match="unknown matching option"):
        MatchingOptions.from_dict({"caliper": 0.2})


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


def test_caliper_is_a_fifth_of_the_sd_of_the_logit_by_default(simulated_match):
    assert simulated_match.options == MatchingOptions()
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


def test_exact_variables_join_the_balance_table_and_lonely_strata_are_noted():
    df = _simulated_cohort(n=400).assign(site=lambda d: (d.index % 3 == 0).astype(int))
    df.loc[(df["site"] == 1) & (df["treated"] == 0), "site"] = 2  # site 1: treated only
    result = propensity_match(df, "treated", ["x1", "x2"], options=MatchingOptions(exact=("site",)))
    assert result.balance["covariate"].tolist() == ["distance", "x1", "x2", "site"]
    matched = result.matched()
    assert (matched.loc[matched["treated"] == 1, "site"] != 1).all()
    assert any("no control with the same site" in note for note in result.notes)


def test_a_column_missing_from_the_data_is_named():
    df = _simulated_cohort(n=50)
    with pytest.raises(ValueError, match="bclc_c"):
        propensity_match(df, "treated", ["x1"], options=MatchingOptions(exact=("bclc_c",)))


def _plain_greedy(treated, control, order, ratio, caliper):
    """Independent k:1 greedy matching without replacement in rounds (continuous scores, no
    ties): round r gives each treated patient, in ``order``, its nearest unused control."""
    sequence = {
        "largest": sorted(range(len(treated)), key=lambda i: -treated[i]),
        "smallest": sorted(range(len(treated)), key=lambda i: treated[i]),
        "data": list(range(len(treated))),
    }[order]
    used: set[int] = set()
    found: list[list[int]] = [[] for _ in treated]
    for round_number in range(ratio):
        for i in sequence:
            if len(found[i]) < round_number:
                continue
            options = [
                (abs(c - treated[i]), j)
                for j, c in enumerate(control)
                if j not in used and abs(c - treated[i]) <= caliper
            ]
            if options:
                j = min(options)[1]
                used.add(j)
                found[i].append(j)
    return found


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("order", ["largest", "smallest", "data"])
def test_random_problems_match_a_plain_greedy_loop(seed, order):
    rng = np.random.default_rng(seed)
    treated = rng.normal(0.5, 1, 25).tolist()
    control = rng.normal(0, 1, 40).tolist()
    ratio = 1 + seed % 3
    caliper = [0.05, 0.2, 10.0][seed % 3]
    found = _logit_order_pairs(treated, control, order=order, ratio=ratio, caliper=caliper)
    n1 = len(treated)
    assert [[c - n1 for c, _, _ in m] for m in found] == _plain_greedy(
        treated, control, order, ratio, caliper
    )


@pytest.mark.parametrize("seed", range(4))
def test_with_replacement_every_treated_gets_its_k_nearest_controls(seed):
    rng = np.random.default_rng(seed)
    treated, control = rng.normal(0.5, 1, 20).tolist(), rng.normal(0, 1, 30).tolist()
    found = _logit_order_pairs(treated, control, replace=True, ratio=3, caliper=0.3)
    for i, matches in enumerate(found):
        near = sorted((abs(c - treated[i]), j) for j, c in enumerate(control))
        expected = [j for d, j in near[:3] if d <= 0.3]
        assert [c - len(treated) for c, _, _ in matches] == expected

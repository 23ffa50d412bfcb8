"""Propensity matching pinned to R MatchIt on lalonde (tests/analytics/stats/data).

Reference: R 4.2.2, MatchIt 4.5.1 built from its source with two upstream fixes applied (see
``data/matching_reference.R``): Debian's 4.5.1 truncates |Δ| to an integer in
``nn_matchC_vec.cpp`` (upstream issue #163, fixed in 4.5.4), so it neither enforces the caliper
nor picks the nearer of the two neighbours when both are within 1 logit unit (6 of the 185
default pairs differ), and matches one control k times with replace = TRUE and ratio = k
(fixed in 4.5.3). The caliper case is also checked against a plain greedy loop written here.

Each case is ``matchit(treat ~ age + educ + black + hispan + married + nodegree + re74 + re75,
data = d, method = "nearest", distance = "glm", link = "linear.logit", <options>)``; the pairs
are R's ``m$match.matrix`` (``data/matching_lalonde_r_pairs.csv``, column index = round).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.stats.matching import MatchingOptions, matching_weights, propensity_match

DATA = Path(__file__).parent / "data"
COVARIATES = ["age", "educ", "black", "hispan", "married", "nodegree", "re74", "re75"]
STATISTICS = ["mean_treated", "mean_control", "smd", "variance_ratio", "ecdf_mean", "ecdf_max"]
NAN = math.nan


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(DATA / "matching_lalonde.csv").set_index("id")


@pytest.fixture(scope="module")
def r_pairs() -> pd.DataFrame:
    return pd.read_csv(DATA / "matching_lalonde_r_pairs.csv")


def _match(lalonde, covariates=COVARIATES, **options):
    options.setdefault("caliper_sd", None)
    return propensity_match(lalonde, "treat", covariates, options=MatchingOptions(**options))


def _pairs(result) -> set[tuple[int, int, int]]:
    p = result.pairs
    return set(zip(p["treated_index"], p["control_index"], p["round"], strict=True))


def _r(r_pairs, case: str) -> set[tuple[int, int, int]]:
    rows = r_pairs[r_pairs["case"] == case]
    return set(zip(rows["treated_id"], rows["control_id"], rows["round"], strict=True))


@pytest.mark.parametrize(
    ("case", "options"),
    [
        ("largest", {}),  # MatchIt's default m.order for the ATT
        ("smallest", {"order": "smallest"}),  # m.order = "smallest"
        ("data", {"order": "data"}),  # m.order = "data"
        ("ratio2", {"ratio": 2}),  # ratio = 2
        ("exact_married", {"exact": ("married",)}),  # exact = ~married
        ("caliper", {"caliper_sd": 0.1}),  # caliper = 0.1 (std.caliper = TRUE)
    ],
)
def test_pairs_are_those_of_matchit(lalonde, r_pairs, case, options):
    assert _pairs(_match(lalonde, **options)) == _r(r_pairs, case)


def test_ties_follow_matchit_with_only_binary_covariates(lalonde, r_pairs):
    """``matchit(treat ~ black + married + nodegree, ...)``: 8 distinct scores for 614
    patients, so nearly every choice is a tie; MatchIt takes the lower-score neighbour on a
    tie in distance and, among equal scores, the one next in the stable sort by score."""
    result = _match(lalonde, ["black", "married", "nodegree"])
    assert _pairs(result) == _r(r_pairs, "ties")


def test_random_order_is_the_seeded_permutation(lalonde, r_pairs):
    """order 'random', seed 7 = numpy ``default_rng(7).permutation`` of the treated; R cannot
    draw that permutation, so R matched the data put in that order with m.order = "data"."""
    order = [int(v) for v in (DATA / "matching_random_seed7_order.txt").read_text().split(",")]
    treated_ids = lalonde.index[lalonde["treat"] == 1].to_numpy()
    assert treated_ids[np.random.default_rng(7).permutation(len(treated_ids))].tolist() == order
    assert _pairs(_match(lalonde, order="random", seed=7)) == _r(r_pairs, "random_seed7")


@pytest.mark.parametrize(("case", "ratio"), [("replace", 1), ("replace_ratio3", 3)])
def test_with_replacement_matches_the_nearest_controls(lalonde, r_pairs, case, ratio):
    """replace = TRUE (ratio 1 and 3). Treated 71 sits exactly halfway (to the last bit in
    numpy) between controls 585 and 577, and R's score rounds the other way: there the
    choice differs, so the check is on the controls' distances, which must be R's."""
    result = _match(lalonde, replace=True, ratio=ratio)
    logit = result.data["logit_ps"]
    ours, theirs = _pairs(result), _r(r_pairs, case)
    assert len(ours) == len(theirs) == 185 * ratio
    differing = {t for t, _, _ in ours ^ theirs}
    assert differing == {71}
    for t in differing:
        mine = sorted(abs(logit[c] - logit[t]) for tt, c, _ in ours if tt == t)
        r = sorted(abs(logit[c] - logit[t]) for tt, c, _ in theirs if tt == t)
        assert mine == pytest.approx(r, abs=1e-12)


def test_caliper_is_the_sd_of_the_logit_over_all_patients_times_the_multiplier(lalonde):
    """R: ``m$caliper`` = 0.180451196269 = 0.1 × sd(m$distance) (process.caliper:
    ``sd(distance[!discarded])``, both arms)."""
    result = _match(lalonde, caliper_sd=0.1)
    assert result.caliper == pytest.approx(0.180451196269, rel=1e-8)
    assert result.n_pairs == 112  # R summary(m)$nn: Matched 112 / 112, unmatched treated 73
    assert result.unmatched_treated == 73
    assert result.unmatched_control == 317


def _greedy_loop(logit: pd.Series, treated: pd.Series, caliper: float) -> set[tuple[int, int]]:
    """An independent 1:1 greedy match without replacement: treated from the largest score
    down; for each, the nearest unused control, none beyond the caliper. Ties as MatchIt's
    outward scan from the treated patient in the stable sort of all patients by (score, row):
    the lower side first, and on a side the control next to the treated patient (ids are in
    row order). Written as a plain loop, with nothing from the module."""
    treated_ids = sorted(logit.index[treated], key=lambda i: -logit[i])
    free = list(logit.index[~treated])
    pairs = set()
    for t in treated_ids:
        best = None
        for c in free:
            d = abs(logit[c] - logit[t])
            below = (logit[c], c) < (logit[t], t)
            key = (d, 0 if below else 1, -c if below else c)
            if d <= caliper and (best is None or key < best[0]):
                best = (key, c)
        if best is not None:
            pairs.add((t, best[1]))
            free.remove(best[1])
    return pairs


@pytest.mark.parametrize("caliper_sd", [0.05, 0.1, 0.2])
def test_caliper_is_enforced_as_a_plain_greedy_loop_does(lalonde, caliper_sd):
    """MatchIt 4.5.1 as shipped by Debian does not enforce the caliper (see module
    docstring), so the caliper cases are pinned to this loop, not to that build."""
    result = _match(lalonde, caliper_sd=caliper_sd)
    treated = result.data["treat"] == 1
    expected = _greedy_loop(result.data["logit_ps"], treated, result.caliper)
    assert {(t, c) for t, c, _ in _pairs(result)} == expected
    assert (result.pairs["distance"] <= result.caliper).all()


def test_propensity_model_is_rs_glm(lalonde):
    """``coef(m$model)``."""
    result = _match(lalonde)
    expected = [-4.72864932406, 1.57770709858e-2, 1.61306877011e-1, 3.06536772923,
                9.83633610278e-1, -8.32113271326e-1, 7.07296881080e-1, -7.17766856808e-5,
                5.34464463884e-5]  # fmt: skip
    assert result.coefficients.to_numpy() == pytest.approx(expected, rel=1e-6)


# summary(m)$sum.all / $sum.matched, columns 1–6: Means Treated, Means Control, Std. Mean
# Diff., Var. Ratio, eCDF Mean, eCDF Max; row "distance" is the logit.
BEFORE = {
    "distance": (0.265749529982, -2.15001597312, 2.1426388617, 0.539835940132, 0.377423218261, 0.644364644365),
    "age": (25.8162162162, 28.0303030303, -0.309445261998, 0.439995463435, 0.0813390663391, 0.157726957727),
    "educ": (10.3459459459, 10.2354312354, 0.0549646613888, 0.495893371429, 0.0347223189328, 0.111371511372),
    "black": (0.843243243243, 0.202797202797, 1.76154188982, NAN, 0.640446040446, 0.640446040446),
    "hispan": (0.0594594594595, 0.142191142191, -0.349842541598, NAN, 0.0827316827317, 0.0827316827317),
    "married": (0.189189189189, 0.512820512821, -0.826309272341, NAN, 0.323631323631, 0.323631323631),
    "nodegree": (0.708108108108, 0.596736596737, 0.244970232272, NAN, 0.111371511372, 0.111371511372),
    "re74": (2095.57368865, 5619.23650639, -0.721083809072, 0.518128480856, 0.224794889041, 0.447035847036),
    "re75": (1532.05531378, 2466.48444312, -0.290262911185, 0.956293045389, 0.134171446531, 0.287645687646),
}  # fmt: skip
AFTER = {
    "largest": {
        "distance": (0.265749529982, -0.770577203868, 0.919159550259, 0.771183970339, 0.132069242017, 0.421621621622),
        "age": (25.8162162162, 25.3027027027, 0.071769689751, 0.456802731609, 0.0847297297297, 0.254054054054),
        "educ": (10.3459459459, 10.6054054054, -0.129042561546, 0.572113945522, 0.0238975817923, 0.0756756756757),
        "black": (0.843243243243, 0.47027027027, 1.0258592827, NAN, 0.372972972973, 0.372972972973),
        "hispan": (0.0594594594595, 0.216216216216, -0.66286796528, NAN, 0.156756756757, 0.156756756757),
        "married": (0.189189189189, 0.210810810811, -0.0552052447474, NAN, 0.0216216216216, 0.0216216216216),
        "nodegree": (0.708108108108, 0.637837837838, 0.154564881251, NAN, 0.0702702702703, 0.0702702702703),
        "re74": (2095.57368865, 2342.10756351, -0.0504507936054, 1.32890932294, 0.0469424731995, 0.275675675676),
        "re75": (1532.05531378, 1614.74512519, -0.0256860414881, 1.49562003479, 0.0452019435166, 0.205405405405),
    },
    "ratio2": {
        "distance": (0.265749529982, -1.85108093095, 1.87750143936, 0.614746000655, 0.320786755342, 0.613513513514),
        "age": (25.8162162162, 26.9081081081, -0.152605024523, 0.47303758141, 0.0712162162162, 0.135135135135),
        "educ": (10.3459459459, 10.2486486486, 0.0483909605797, 0.525800586383, 0.0318634423898, 0.0891891891892),
        "black": (0.843243243243, 0.235135135135, 1.67259665658, NAN, 0.608108108108, 0.608108108108),
        "married": (0.189189189189, 0.435135135135, -0.627959659002, NAN, 0.245945945946, 0.245945945946),
        "re74": (2095.57368865, 4045.60002227, -0.399054191383, 0.838492924675, 0.15585082289, 0.410810810811),
    },
    "replace_ratio3": {
        "distance": (0.265749529982, 0.255105398685, 0.0094407049597, 1.00644665819, 0.00388032011069, 0.0648648648649),
        "age": (25.8162162162, 24.9243243243, 0.124652619041, 0.473215107069, 0.0859009009009, 0.308108108108),
        "educ": (10.3459459459, 10.4666666667, -0.0600406362748, 0.628245185346, 0.0201991465149, 0.0504504504505),
        "married": (0.189189189189, 0.147747747748, 0.105810052432, NAN, 0.0414414414414, 0.0414414414414),
        "re74": (2095.57368865, 2205.01893703, -0.0223969206668, 1.24221469537, 0.0385021893402, 0.248648648649),
        "re75": (1532.05531378, 1644.99993445, -0.0350841314425, 1.66063007898, 0.0573742281607, 0.214414414414),
    },
    "caliper": {
        "distance": (-0.0458967805434, -0.154743875431, 0.0965408336155, 1.10990869241, 0.0270817751184, 0.160714285714),
        "age": (25.8125, 26.3303571429, -0.0723767641943, 0.44335700198, 0.0825892857143, 0.232142857143),
        "educ": (10.3482142857, 10.4821428571, -0.0666095811551, 0.645439351619, 0.0230263157895, 0.0625),
        "black": (0.741071428571, 0.723214285714, 0.0491159335662, NAN, 0.0178571428571, 0.0178571428571),
        "re74": (2674.81664286, 2505.90232357, 0.0345666958099, 1.56711317856, 0.040652434158, 0.232142857143),
        "re75": (1845.49461473, 1824.05091429, 0.00666108399528, 1.47752517884, 0.034911717496, 0.142857142857),
    },
}  # fmt: skip
AFTER_OPTIONS = {
    "largest": {},
    "ratio2": {"ratio": 2},
    "replace_ratio3": {"replace": True, "ratio": 3},
    "caliper": {"caliper_sd": 0.1},
}


def _check(balance: pd.DataFrame, suffix: str, expected: dict) -> None:
    rows = balance.set_index("covariate")
    for covariate, values in expected.items():
        got = [rows.loc[covariate, f"{s}_{suffix}"] for s in STATISTICS]
        # 1e-6: R's glm and statsmodels stop their iterations at slightly different scores.
        assert got == pytest.approx(list(values), rel=1e-6, abs=1e-9, nan_ok=True), covariate


def test_balance_before_matching_is_summary_matchit_sum_all(lalonde):
    _check(_match(lalonde).balance, "before", BEFORE)


@pytest.mark.parametrize("case", list(AFTER))
def test_balance_after_matching_is_summary_matchit_sum_matched(lalonde, case):
    """Weighted by MatchIt's matching weights (1/k per control, summed over reuse)."""
    _check(_match(lalonde, **AFTER_OPTIONS[case]).balance, "after", AFTER[case])


def test_pooled_sd_denominator_is_matchits_pooled_one(lalonde):
    """``MatchIt:::bal1var(x, tt, ww = <NULL | m$weights>, s.weights = 1, s.d.denom =
    "pooled", standardize = TRUE)`` for the default 1:1 match: √((s₁² + s₀²)/2) before
    matching, for both columns."""
    expected = {
        "distance": (1.79414544494, 0.769661163971),
        "age": (-0.241903622926, 0.056104746458),
        "educ": (0.0447550851109, -0.105073162992),
        "black": (1.67082635004, 0.973029781963),
        "hispan": (-0.277397614749, -0.525602151247),
        "married": (-0.720755399603, -0.0481532515367),
        "nodegree": (0.235490623723, 0.148583686899),
        "re74": (-0.595751591005, -0.0416818963063),
        "re75": (-0.287002108743, -0.0253974854804),
    }
    rows = _match(lalonde, smd_denominator="pooled").balance.set_index("covariate")
    for covariate, (before, after) in expected.items():
        assert rows.loc[covariate, "smd_before"] == pytest.approx(before, rel=1e-6)
        assert rows.loc[covariate, "smd_after"] == pytest.approx(after, rel=1e-6)


def test_weights_with_replacement_are_matchits(lalonde, r_pairs):
    """replace = TRUE: ``m$weights`` of R's own match matrix (a treated patient's controls
    share its weight 1, summed over reuse, scaled to sum to the 82 matched controls), e.g.
    control 381 matched to 12 treated patients: 12 × 82/185."""
    rows = r_pairs[r_pairs["case"] == "replace"]
    position = {pid: i for i, pid in enumerate(lalonde.index)}
    sets = [
        (position[t], [position[c] for c in group["control_id"]])
        for t, group in rows.groupby("treated_id")
    ]
    weights = pd.Series(matching_weights(len(lalonde), sets), index=lalonde.index)
    expected = {190: 0.443243243243, 244: 1.329729729730, 303: 3.989189189189,
                381: 5.318918918919, 411: 3.545945945946, 530: 2.659459459459}  # fmt: skip
    for control, weight in expected.items():
        assert weights[control] == pytest.approx(weight, rel=1e-9)
    assert (weights > 0).sum() == 185 + 82
    assert (weights[lalonde["treat"] == 1] == 1).all()


def test_matched_counts_and_ess_with_replacement_are_summary_matchits(lalonde):
    """replace = TRUE, ratio = 3: ``summary(m)$nn`` Matched 153 controls, Matched (ESS)
    67.0640104507 (ESS = (Σw)²/Σw²)."""
    result = _match(lalonde, replace=True, ratio=3)
    assert result.matched_control == 153
    assert result.ess_control == pytest.approx(67.0640104507, rel=1e-9)
    assert result.ess_treated == pytest.approx(185)
    assert not result.unit_weights  # reused controls: the matched cohort needs the weights


def test_ratio_two_without_replacement_gives_every_matched_patient_weight_one(lalonde):
    """ratio = 2: every treated patient gets 2 controls, so 1/2 each, rescaled to 1 (R: all
    370 matched controls weigh 1; summary nn Matched (ESS) 370)."""
    result = _match(lalonde, ratio=2)
    assert (result.matched()["weight"] == 1).all()
    assert result.matched_control == 370
    assert result.ess_control == pytest.approx(370)
    assert result.unit_weights


def test_cox_in_the_matched_cohort_has_rs_pair_clustered_robust_se(lalonde):
    """``md <- match.data(m); md$t2 <- md$months + md$id * 1e-6; coxph(Surv(t2, death) ~
    treat, data = md, cluster = subclass)``: coef −0.301467515504605, robust SE
    0.132826478409581. The matched cohort is R's (pairs above), the pair is ``pair_id``.
    Times are made distinct: with tied times (``Surv(months, death)``) R's Efron robust SE is
    0.132862486671 and lifelines' 0.132783 (its robust variance does not use Efron's tie
    correction), a 6e-4 relative difference that belongs to ``analytics.stats.cox``."""
    from analytics.stats.cox import fit_cox

    matched = _match(lalonde).matched()
    matched = matched.assign(t2=matched["months"] + matched.index.to_numpy() * 1e-6)
    result = fit_cox(matched, "t2", "death", ["treat"], cluster_col="pair_id")
    row = result.coefficients.iloc[0]
    assert row["coef"] == pytest.approx(-0.301467515504605, rel=1e-6)
    assert row["se"] == pytest.approx(0.132826478409581, rel=1e-6)

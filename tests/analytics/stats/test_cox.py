"""Cox model against R ``coxph``/``cox.zph`` output pinned in the literature and in lifelines'
own test-suite (CamDavidsonPilon/lifelines, lifelines/tests/test_estimation.py and
test_statistics.py, which quote the R calls reproduced in each docstring here)."""

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_regression_dataset, load_rossi

from analytics.stats.cox import fit_cox

ROSSI_COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


@pytest.fixture(scope="module")
def rossi_fit():
    return fit_cox(load_rossi(), "week", "arrest", ROSSI_COVARIATES)


def test_rossi_coefficients_match_r(rossi_fit):
    """R: coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = Rossi)
    cat(round(r$coefficients, 8)) → −0.3794222, −0.0574377, 0.3138998, −0.1497957, −0.4337039,
    −0.0848711, 0.0914971 (lifelines test_coef_output_against_R_super_accurate; Fox & Weisberg,
    "Cox Proportional-Hazards Regression for Survival Data in R", print the same to 6 places)."""
    expected = [-0.3794222, -0.0574377, 0.3138998, -0.1497957, -0.4337039, -0.0848711, 0.0914971]
    np.testing.assert_allclose(rossi_fit.coefficients["coef"], expected, atol=1e-6)


def test_rossi_standard_errors_match_r(rossi_fit):
    """R summary(mod.allison) se(coef): 0.19138, 0.02200, 0.30799, 0.21222, 0.38187, 0.19576,
    0.02865 (lifelines test_standard_error_coef_output_against_R; R prints 5 decimals)."""
    expected = [0.19138, 0.02200, 0.30799, 0.21222, 0.38187, 0.19576, 0.02865]
    np.testing.assert_allclose(rossi_fit.coefficients["se"], expected, atol=5e-6)


def test_rossi_wald_z_match_r(rossi_fit):
    """R summary(mod.allison) z: −1.983, −2.611, 1.019, −0.706, −1.136, −0.434, 3.194
    (lifelines test_z_value_output_against_R_to_3_decimal_places)."""
    expected = [-1.983, -2.611, 1.019, -0.706, -1.136, -0.434, 3.194]
    np.testing.assert_allclose(rossi_fit.coefficients["z"], expected, atol=5e-4)


def test_rossi_hazard_ratio_is_exp_coef_with_wald_ci(rossi_fit):
    """HR = exp(coef), CI = exp(coef ± 1.96·se) as R's summary.coxph conf.int."""
    row = rossi_fit.coefficients.set_index("covariate").loc["fin"]
    assert row["hr"] == pytest.approx(np.exp(-0.3794222), abs=1e-6)
    assert row["hr_lower"] == pytest.approx(np.exp(row["coef"] - 1.959964 * row["se"]), rel=1e-6)


def test_rossi_likelihood_ratio_test_matches_r(rossi_fit):
    """R summary: "Likelihood ratio test= 33.27 on 7 df" (Fox & Weisberg; lifelines
    test_log_likelihood_test_against_R)."""
    assert rossi_fit.lr_statistic == pytest.approx(33.27, abs=5e-3)
    assert rossi_fit.lr_df == 7


def test_rossi_concordance_matches_r(rossi_fit):
    """R summary: "Concordance= 0.64" (Fox & Weisberg appendix, printed to 2 decimals)."""
    assert rossi_fit.concordance == pytest.approx(0.64, abs=5e-3)


def test_rossi_counts_patients_and_events(rossi_fit):
    """R: n= 432, number of events= 114."""
    assert (rossi_fit.n, rossi_fit.events, rossi_fit.rows_dropped) == (432, 114, 0)


def test_cluster_robust_standard_errors_match_r():
    """R (lifelines test_cluster_option):
    df <- data.frame(var1 = c(1, 1, 2, 2, 2), var2 = c(0.184677, 0.071893, 1.364646, 0.098375,
      1.663092), id = c(1, 1, 2, 3, 4), T = c(7.335846, 5.269797, 11.684092, 12.678458,
      6.601666), E = 1)
    coxph(Surv(T, E) ~ var1 + var2 + cluster(id), data = df) → robust se 5.9752, 4.0683."""
    df = pd.DataFrame(
        {
            "var1": [1, 1, 2, 2, 2],
            "var2": [0.184677, 0.071893, 1.364646, 0.098375, 1.663092],
            "T": [7.335846, 5.269797, 11.684092, 12.678458, 6.601666],
            "id": [1, 1, 2, 3, 4],
            "E": 1,
        }
    )
    result = fit_cox(df, "T", "E", ["var1", "var2"], cluster_col="id")
    assert result.robust
    np.testing.assert_allclose(result.coefficients["se"], [5.9752, 4.0683], atol=0.01)


@pytest.mark.parametrize(
    ("transform", "expected"),
    [
        ("rank", {"var1": 1.4938293, "var2": 0.8792998, "var3": 2.2686088}),
        ("log", {"var1": 2.227627, "var2": 0.714427, "var3": 1.466321}),
    ],
)
def test_ph_test_per_covariate_matches_r_cox_zph_2x(transform, expected):
    """R (survival 2.x; lifelines test_proportional_hazard_test[_with_log_transform]):
    c = coxph(Surv(T, E) ~ var1 + var2 + var3, data = regression); cox.zph(c, transform = ...)
    rank: 1.4938293, 0.8792998, 2.2686088 (p var3 0.1320184); log: 2.227627, 0.714427,
    1.466321 (p var3 0.225927). lifelines pins these at rtol 1e-3; so does this test."""
    df = load_regression_dataset()
    ph = fit_cox(df, "T", "E", ["var1", "var2", "var3"], ph_transform=transform).ph_test
    ph = ph.set_index("covariate")
    for name, value in expected.items():
        assert ph.loc[name, "chisq"] == pytest.approx(value, rel=1e-3)
    p_var3 = {"rank": 0.1320184, "log": 0.225927}[transform]
    assert ph.loc["var3", "p"] == pytest.approx(p_var3, rel=1e-3)


@pytest.mark.parametrize(
    ("events", "expected"), [([1, 1, 1, 1, 1], 0.00971), ([1, 1, 1, 0, 1], 1.013802)]
)
def test_ph_test_with_km_transform_matches_r(events, expected):
    """R (lifelines test_proportional_hazard_test_with_kmf[_with_some_censorship]):
    df <- data.frame(var1 = c(0.209325, 0.693919, 0.443804, 0.065636, 0.386294),
      T = c(5.269797, 6.601666, 7.335846, 11.684092, 12.678458), E = ...)
    cox.zph(coxph(Surv(T, E) ~ var1, data = df), transform = 'km') → 0.00971 / 1.013802."""
    df = pd.DataFrame(
        {
            "var1": [0.209325, 0.693919, 0.443804, 0.065636, 0.386294],
            "T": [5.269797, 6.601666, 7.335846, 11.684092, 12.678458],
            "E": events,
        }
    )
    ph = fit_cox(df, "T", "E", ["var1"]).ph_test.set_index("covariate")
    assert ph.loc["var1", "chisq"] == pytest.approx(expected, rel=1e-3)


def test_global_ph_test_equals_the_covariate_test_with_one_covariate():
    """With p = 1 the global statistic (gᵀS)V(Sᵀg)·d/Σg² reduces to the covariate one."""
    df = load_regression_dataset()
    ph = fit_cox(df, "T", "E", ["var1"]).ph_test.set_index("covariate")
    assert ph.loc["GLOBAL", "chisq"] == pytest.approx(ph.loc["var1", "chisq"], rel=1e-12)
    assert ph.loc["GLOBAL", "df"] == 1


def test_global_ph_test_has_one_df_per_covariate():
    df = load_regression_dataset()
    ph = fit_cox(df, "T", "E", ["var1", "var2", "var3"]).ph_test.set_index("covariate")
    assert ph.loc["GLOBAL", "df"] == 3
    assert ph.loc["GLOBAL", "chisq"] > 0


def test_rows_with_missing_covariates_are_dropped_and_counted():
    df = load_rossi()
    df.loc[:9, "age"] = np.nan
    result = fit_cox(df, "week", "arrest", ROSSI_COVARIATES)
    assert result.rows_dropped == 10
    assert result.n == 422


def test_constant_covariate_is_dropped_with_a_reason():
    df = load_rossi().assign(site=1)
    result = fit_cox(df, "week", "arrest", ["fin", "site"])
    assert result.estimable
    assert [d.covariate for d in result.dropped_covariates] == ["site"]
    assert result.coefficients["covariate"].tolist() == ["fin"]


def test_no_events_is_not_estimable():
    df = load_rossi().assign(arrest=0)
    result = fit_cox(df, "week", "arrest", ["fin"])
    assert not result.estimable
    assert result.reason == "no events"


def test_too_few_events_is_not_estimable():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 0, 0, 0], "x": [0, 1, 0, 1], "y": [1, 2, 3, 5]})
    result = fit_cox(df, "t", "e", ["x", "y"])
    assert not result.estimable
    assert result.reason.startswith("too few events")


def test_non_convergence_is_reported_not_raised():
    """A covariate that perfectly orders the event times gives a monotone likelihood."""
    df = pd.DataFrame({"t": range(1, 9), "e": 1, "x": [1, 1, 1, 1, 0, 0, 0, 0]})
    result = fit_cox(df, "t", "e", ["x"])
    assert not result.estimable
    assert result.reason.startswith("model did not converge")

"""Cox model against R ``coxph``/``cox.zph`` output pinned in the literature and in lifelines'
own test-suite (CamDavidsonPilon/lifelines, lifelines/tests/test_estimation.py and
test_statistics.py, which quote the R calls reproduced in each docstring here)."""

import re
from pathlib import Path

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


DATA = Path(__file__).parent / "data"
CELLTYPE = ["celltype[smallcell]", "celltype[adeno]", "celltype[large]"]
VETERAN_COLUMNS = ["trt", *CELLTYPE, "karno", "diagtime", "age", "prior"]


@pytest.fixture(scope="module")
def veteran():
    """R survival's ``veteran`` (write.csv(veteran)), celltype dummy-coded against squamous
    (R's treatment contrasts, first level the reference)."""
    df = pd.read_csv(DATA / "veteran.csv")
    for column, level in zip(CELLTYPE, ["smallcell", "adeno", "large"], strict=True):
        df[column] = (df["celltype"] == level).astype(float)
    return df


def _veteran_fit(veteran, transform="km"):
    return fit_cox(
        veteran,
        "time",
        "status",
        VETERAN_COLUMNS,
        terms={"celltype": CELLTYPE},
        ph_transform=transform,
    )


def test_veteran_coefficients_match_r(veteran):
    """R 4.2.2, survival 3.5-3:
    f <- coxph(Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior,
      data = veteran); print(coef(f), digits = 10)
    → 0.2946028215 0.8615604628 1.196066374 0.4012916543 −0.03281532619 8.132051305e-05
      −0.008706474946 0.00715936019 (Efron ties; tied death times)."""
    expected = [
        0.2946028215, 0.8615604628, 1.196066374, 0.4012916543,
        -0.03281532619, 8.132051305e-05, -0.008706474946, 0.00715936019,
    ]  # fmt: skip
    result = _veteran_fit(veteran)
    np.testing.assert_allclose(result.coefficients["coef"], expected, rtol=0, atol=1e-8)
    assert result.coefficients["term"].tolist() == ["trt", *["celltype"] * 3, "karno",
                                                    "diagtime", "age", "prior"]  # fmt: skip


# R 4.2.2, survival 3.5-3, same model:  cox.zph(f)$table / cox.zph(f, transform = "rank")$table
# / cox.zph(f, transform = "identity")$table, printed with options(digits = 10).
VETERAN_ZPH = {
    "km": {
        "trt": (0.26438883575, 1, 6.071208719e-01),
        "celltype": (15.22736392388, 3, 1.632306968e-03),
        "karno": (12.93519782875, 1, 3.224611574e-04),
        "diagtime": (0.01288937071, 1, 9.096092986e-01),
        "age": (1.82882660942, 1, 1.762662034e-01),
        "prior": (2.16556633037, 1, 1.411326189e-01),
        "GLOBAL": (34.55249110573, 8, 3.225193488e-05),
    },
    "rank": {
        "trt": (0.275657437550, 1, 0.5995617160301),
        "celltype": (15.397907588352, 3, 0.0015063309573),
        "karno": (13.531547481008, 1, 0.0002345865367),
        "diagtime": (0.007661553697, 1, 0.9302500006676),
        "age": (1.769993428815, 1, 0.1833828922760),
        "prior": (2.230944055824, 1, 0.1352711737751),
        "GLOBAL": (35.222539173268, 8, 0.0000243544512),
    },
    "identity": {
        "trt": (7.626481745e-04, 1, 0.9779683522407),
        "celltype": (1.890761457e01, 3, 0.0002856910774),
        "karno": (6.140920032e00, 1, 0.0132088570395),
        "diagtime": (5.745048879e-02, 1, 0.8105718934950),
        "age": (7.726059563e-01, 1, 0.3794120842820),
        "prior": (1.538986029e00, 1, 0.2147687958371),
        "GLOBAL": (2.877768706e01, 8, 0.0003468755998),
    },
}


@pytest.mark.parametrize("transform", sorted(VETERAN_ZPH))
def test_ph_test_matches_r_cox_zph_per_term(veteran, transform):
    """cox.zph of survival ≥ 3.0 (score test): one row per term — celltype, 4 levels, is one
    test on 3 df — plus GLOBAL on 8 df; values in ``VETERAN_ZPH`` with the R call above."""
    ph = _veteran_fit(veteran, transform).ph_test.set_index("term")
    expected = VETERAN_ZPH[transform]
    assert ph.index.tolist() == list(expected)
    for term, (chisq, df, p) in expected.items():
        assert ph.loc[term, "chisq"] == pytest.approx(chisq, rel=1e-6), term
        assert ph.loc[term, "df"] == df
        assert ph.loc[term, "p"] == pytest.approx(p, rel=1e-5), term


def test_ph_test_rossi_matches_r():
    """R 4.2.2, survival 3.5-3 (Rossi = lifelines' load_rossi() written to CSV):
    f <- coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = r)
    cox.zph(f)$table: age 5.97398165342 (p 0.01451846277), wexp 4.22459563342, GLOBAL
    17.69441525445 on 7 df (p 0.01342750679); transform = "log": age 8.2314983419, GLOBAL
    17.6615705707."""
    km = fit_cox(load_rossi(), "week", "arrest", ROSSI_COVARIATES).ph_test.set_index("term")
    assert km.loc["age", "chisq"] == pytest.approx(5.97398165342, rel=1e-6)
    assert km.loc["age", "p"] == pytest.approx(0.01451846277, rel=1e-6)
    assert km.loc["wexp", "chisq"] == pytest.approx(4.22459563342, rel=1e-6)
    assert km.loc["GLOBAL", "chisq"] == pytest.approx(17.69441525445, rel=1e-6)
    assert km.loc["GLOBAL", "df"] == 7
    log = fit_cox(load_rossi(), "week", "arrest", ROSSI_COVARIATES, ph_transform="log")
    log_table = log.ph_test.set_index("term")
    assert log_table.loc["age", "chisq"] == pytest.approx(8.2314983419, rel=1e-6)
    assert log_table.loc["GLOBAL", "chisq"] == pytest.approx(17.6615705707, rel=1e-6)


def test_ph_test_regression_dataset_matches_r():
    """R 4.2.2, survival 3.5-3 (lifelines' load_regression_dataset() written to CSV):
    cox.zph(coxph(Surv(T, E) ~ var1 + var2 + var3, data = g))$table → var1 1.4288651163,
    var2 0.4543481576, var3 2.6981880141, GLOBAL 4.9966075496 (3 df, p 0.1720457248)."""
    ph = fit_cox(load_regression_dataset(), "T", "E", ["var1", "var2", "var3"]).ph_test
    ph = ph.set_index("term")
    expected = {"var1": 1.4288651163, "var2": 0.4543481576, "var3": 2.6981880141}
    for name, value in expected.items():
        assert ph.loc[name, "chisq"] == pytest.approx(value, rel=1e-6)
    assert ph.loc["GLOBAL", "chisq"] == pytest.approx(4.9966075496, rel=1e-6)
    assert ph.loc["GLOBAL", "p"] == pytest.approx(0.1720457248, rel=1e-6)


def test_separate_dummies_without_terms_give_one_test_each(veteran):
    """R cox.zph(f, terms = FALSE): each dummy on 1 df — celltypesmallcell 3.98787970866,
    celltypeadeno 6.79287224327, celltypelarge 5.50333574835; GLOBAL unchanged."""
    result = fit_cox(veteran, "time", "status", VETERAN_COLUMNS)
    ph = result.ph_test.set_index("term")
    assert ph.loc[CELLTYPE, "chisq"].tolist() == pytest.approx(
        [3.98787970866, 6.79287224327, 5.50333574835], rel=1e-6
    )
    assert (ph.loc[CELLTYPE, "df"] == 1).all()
    assert ph.loc["GLOBAL", "chisq"] == pytest.approx(34.55249110573, rel=1e-6)


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


def test_monotone_likelihood_falls_back_to_firth_and_names_the_covariate():
    """A covariate that perfectly orders the event times gives a monotone likelihood: the
    covariate is named, and the model is Firth's (R coxphf), marked and warned about."""
    df = pd.DataFrame({"t": range(1, 9), "e": 1, "x": [1, 1, 1, 1, 0, 0, 0, 0]})
    result = fit_cox(df, "t", "e", ["x"])
    assert result.estimable
    assert result.method == "firth"
    assert result.separation == ("x",)
    assert "monotone likelihood" in result.warnings[0].lower()
    assert "Firth" in result.warnings[0]
    assert result.ph_test.empty


def test_firth_fallback_equals_coxphf_on_the_documentation_example():
    """coxphf's help page example (man/coxphf.rd, georgheinze/coxphf): time 1, 2, 3, all
    events, x = 1, 1, 0 — "coxph: no convergence!". coxphf 1.13.1 (R 4.2.2):
    coef 1.329103372, se 1.929071687, profile CI (−1.233056341, 6.270478958) on the log
    scale, p 0.3387499358."""
    df = pd.DataFrame({"time": [1.0, 2.0, 3.0], "cens": [1, 1, 1], "x": [1.0, 1.0, 0.0]})
    result = fit_cox(df, "time", "cens", ["x"])
    row = result.coefficients.iloc[0]
    assert result.method == "firth"
    assert row["coef"] == pytest.approx(1.329103372, abs=1e-6)
    assert row["se"] == pytest.approx(1.929071687, abs=1e-6)
    assert np.log(row["hr_lower"]) == pytest.approx(-1.233056341, abs=1e-5)
    assert np.log(row["hr_upper"]) == pytest.approx(6.270478958, abs=1e-5)
    assert row["p"] == pytest.approx(0.3387499358, abs=1e-6)


def test_no_event_level_in_one_arm_is_named_and_fitted_by_firth():
    """Seed-shaped separation: Child-Pugh B patients of the treatment arm never die, and
    Child-Pugh B occurs only in that arm (so arm + Child-Pugh cannot be estimated); the
    named covariate is child_pugh_b, not the arm."""
    rng = np.random.default_rng(5)
    n = 60
    treatment = np.repeat([0, 1], n // 2)
    child_pugh_b = np.where(treatment == 1, rng.integers(0, 2, n), 0)
    time = rng.exponential(12, n).round(1) + 0.1
    event = np.where(child_pugh_b == 1, 0, (rng.random(n) < 0.7).astype(int))
    df = pd.DataFrame({"t": time, "e": event, "treatment": treatment, "cpb": child_pugh_b})
    result = fit_cox(df, "t", "e", ["treatment", "cpb"])
    assert result.separation == ("cpb",)
    assert result.method == "firth"
    assert result.coefficients["hr"].notna().all()


def test_without_firth_a_monotone_likelihood_is_not_estimable():
    df = pd.DataFrame({"t": range(1, 9), "e": 1, "x": [1, 1, 1, 1, 0, 0, 0, 0]})
    result = fit_cox(df, "t", "e", ["x"], firth=False)
    assert not result.estimable
    assert result.reason.startswith("monotone likelihood")
    assert result.warnings == (result.reason,)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([1, 2, 2, 1, 2, 1], "value(s) 2 not allowed"),
        (["1", "0", "1", "0", "1", "0"], "value(s) '1', '0' not allowed"),
        ([True, False, True, False, True, 3], "value(s) 3 not allowed"),
    ],
)
def test_event_not_zero_one_is_refused_naming_the_column(events, message):
    """R's Surv also takes 1 = censored / 2 = dead; read as booleans every row would be an
    event, so anything but 0/1/boolean is refused."""
    df = pd.DataFrame({"t": [1.0, 2, 3, 4, 5, 6], "status": events, "x": [0, 1, 0, 1, 1, 0]})
    with pytest.raises(ValueError, match=r"column 'status'.*" + re.escape(message)):
        fit_cox(df, "t", "status", ["x"])


def test_negative_time_is_refused_naming_the_column():
    df = pd.DataFrame({"t": [1.0, -2, 3, 4], "e": [1, 0, 1, 1], "x": [0, 1, 0, 1]})
    with pytest.raises(ValueError, match=r"column 't': value\(s\) -2.0 not allowed"):
        fit_cox(df, "t", "e", ["x"])


def test_without_summaries_the_estimates_are_the_same_and_nothing_else_is_computed():
    full = fit_cox(load_rossi(), "week", "arrest", ["fin", "age"])
    lean = fit_cox(load_rossi(), "week", "arrest", ["fin", "age"], summaries=False)
    pd.testing.assert_frame_equal(full.coefficients, lean.coefficients)
    assert lean.lr_p == full.lr_p
    assert lean.concordance is None
    assert lean.ph_test.empty

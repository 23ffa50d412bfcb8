"""Report B on a synthetic cohort: propensity matching as ``analytics.stats.matching`` does it,
resistance and survival in the matched cohort, and the matching options."""

from __future__ import annotations

from analytics.reports.context import SEED002_COVARIATES, prepare_frame
from analytics.stats.cox import fit_cox
from analytics.stats.formatting import format_estimate_ci, format_p, format_stat
from analytics.stats.matching import MatchingOptions, propensity_match
from analytics.stats.survival import logrank
from tests.analytics.reports.cohort import CONTROL, TREATMENT
from tests.analytics.reports.conftest import make_report
from tests.analytics.reports.helpers import arm_column, row, table


def _match(cohort, covariates=SEED002_COVARIATES, caliper_sd=0.2):
    frame, _ = prepare_frame(cohort, CONTROL, TREATMENT)
    options = MatchingOptions(caliper_sd=caliper_sd)
    return propensity_match(frame, "treatment", list(covariates), options=options)


def test_it_has_the_four_sections_of_report_b_all_available(report_b):
    assert [s.key for s in report_b.sections] == [
        "patient_flow",
        "matching",
        "resistance",
        "survival",
    ]
    assert all(s.available for s in report_b.sections)


def test_pairs_and_balance_are_those_of_propensity_match(report_b, cohort):
    expected = _match(cohort)
    summary = table(report_b, "matching", "matching_summary")
    assert row(summary, "", "Matched pairs")[TREATMENT] == str(expected.n_pairs)
    assert row(summary, "", "Caliper")[CONTROL] == f"{format_stat(expected.caliper)} (logit scale)"
    balance = table(report_b, "matching", "matching_balance")
    assert balance.frame["SMD after"].tolist() == [
        format_stat(v) for v in expected.balance["smd_after"]
    ]
    assert report_b.section("matching").figures[0].key == "matching_love_plot"


def test_survival_is_compared_in_the_matched_cohort(report_b, cohort):
    matched = _match(cohort).matched()
    expected = logrank(matched, "pfs_months", "pfs_event", "arm", group_order=[CONTROL, TREATMENT])
    medians = table(report_b, "survival", "pfs_medians")
    assert row(medians, "Arm", CONTROL)["P"] == format_p(expected.p_value)
    assert row(medians, "Arm", CONTROL)["Patients"] == len(matched) // 2


def test_matched_cox_is_clustered_on_the_pair(report_b, cohort):
    matched = _match(cohort).matched()
    expected = fit_cox(matched, "os_months", "os_event", ["treatment"], cluster_col="pair_id")
    coefficient = expected.coefficients.iloc[0]
    cox = table(report_b, "survival", "os_matched_cox")
    line = cox.frame.iloc[0]
    assert line["HR (95% CI)"] == format_estimate_ci(
        coefficient["hr"], coefficient["hr_lower"], coefficient["hr_upper"]
    )
    assert line["Robust SE"] == format_stat(coefficient["se"])
    assert "cluster" in cox.footnotes[0]


def test_resistance_counts_refractory_patients_of_the_matched_cohort(report_b, cohort):
    matched = _match(cohort).matched()
    status = matched["refractory_progression_after_n_cycles"]
    assessed = matched[status.isin(["refractory", "not_refractory"])]
    resistance = table(report_b, "resistance", "resistance")
    line = row(resistance, "", "Resistant after 3 cycles")
    for arm in (CONTROL, TREATMENT):
        n = int(
            (
                assessed.loc[assessed["arm"] == arm, "refractory_progression_after_n_cycles"]
                == "refractory"
            ).sum()
        )
        assert line[arm_column(resistance, arm)].startswith(f"{n} (")
    assert report_b.section("resistance").title == "TACE resistance after 3 cycles"


def test_caliper_and_matching_covariates_come_from_the_options(cohort):
    options = {"matching_covariates": ["age", "bclc_c"], "caliper_sd": 0.05, "resistance_cycles": 4}
    report = make_report("custom", cohort, sections=["matching", "resistance"], options=options)
    expected = _match(cohort, ["age", "bclc_c"], caliper_sd=0.05)
    summary = table(report, "matching", "matching_summary")
    assert row(summary, "", "Matched pairs")[TREATMENT] == str(expected.n_pairs)
    assert table(report, "matching", "matching_balance").frame["Covariate"].tolist() == [
        "Propensity score (logit)",
        "Age (years)",
        "BCLC stage C or D (vs 0/A/B)",
    ]
    assert report.section("resistance").title == "TACE resistance after 4 cycles"

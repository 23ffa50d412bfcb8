"""Report A on a synthetic cohort: every section present, and each number in its tables is
the one ``analytics.stats`` returns when called directly."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analytics.reports.context import SEED002_COVARIATES, prepare_frame
from analytics.stats.categorical import compare_proportions
from analytics.stats.cox import fit_cox
from analytics.stats.formatting import format_estimate_ci, format_p, format_stat
from analytics.stats.survival import kaplan_meier_by_group, logrank
from analytics.stats.table1 import compare_continuous
from tests.analytics.reports.cohort import CONTROL, TREATMENT
from tests.analytics.reports.helpers import arm_column, row, table

ARMS = [CONTROL, TREATMENT]


def test_it_has_the_six_sections_of_report_a_all_available(report_a):
    assert [s.key for s in report_a.sections] == [
        "patient_flow",
        "baseline",
        "survival",
        "cox",
        "response",
        "adverse_events",
    ]
    assert [s.unavailable for s in report_a.sections] == [None] * 6


def test_it_reports_progress_up_to_100_percent(progress_calls, report_a):
    percents = [pct for pct, _ in progress_calls]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert any("Cox" in message for _, message in progress_calls)


@pytest.mark.parametrize(
    ("endpoint", "duration", "event"),
    [("os", "os_months", "os_event"), ("pfs", "pfs_months", "pfs_event")],
)
def test_log_rank_and_medians_are_those_of_analytics_stats(
    report_a, cohort, endpoint, duration, event
):
    expected = logrank(cohort, duration, event, "arm", group_order=ARMS)
    km = kaplan_meier_by_group(cohort, duration, event, "arm", group_order=ARMS)
    medians = table(report_a, "survival", f"{endpoint}_medians")
    first = row(medians, "Arm", CONTROL)
    assert first["Log-rank χ²"] == format_stat(expected.statistic)
    assert first["P"] == format_p(expected.p_value)
    for arm in ARMS:
        curve = km.curve(arm)
        line = row(medians, "Arm", arm)
        assert line["Median, months (95% CI)"] == format_estimate_ci(
            curve.median, curve.median_lower, curve.median_upper
        )
        assert line["Events"] == curve.events


def test_the_synthetic_treatment_effect_shows_in_the_log_rank_test(report_a):
    """The cohort is simulated with HR 0.55 for death: the test must see it (P < 0.05)."""
    medians = table(report_a, "survival", "os_medians")
    assert float(row(medians, "Arm", CONTROL)["P"]) < 0.05


def test_numbers_at_risk_start_with_every_patient_of_the_arm(report_a, cohort):
    at_risk = table(report_a, "survival", "os_at_risk")
    for arm in ARMS:
        assert row(at_risk, "Arm", arm)["0"] == int((cohort["arm"] == arm).sum())


@pytest.mark.parametrize(
    ("endpoint", "duration", "event"),
    [("os", "os_months", "os_event"), ("pfs", "pfs_months", "pfs_event")],
)
def test_cox_hazard_ratios_are_those_of_fit_cox(report_a, cohort, endpoint, duration, event):
    frame, _ = prepare_frame(cohort, CONTROL, TREATMENT)
    expected = fit_cox(frame, duration, event, ["treatment", *SEED002_COVARIATES])
    cox = table(report_a, "cox", f"{endpoint}_cox")
    assert len(cox.frame) == 1 + len(SEED002_COVARIATES)
    for reported, (_, coefficient) in zip(
        cox.frame.itertuples(index=False), expected.coefficients.iterrows(), strict=True
    ):
        assert reported[4] == format_estimate_ci(
            coefficient["hr"], coefficient["hr_lower"], coefficient["hr_upper"]
        )
        assert reported[5] == format_p(coefficient["p"])
    assert f"events = {expected.events}" in cox.footnotes[0]


def test_cox_section_prints_the_covariate_coding_and_ph_test(report_a):
    cox = table(report_a, "cox", "os_cox")
    assert (
        row(cox, "Covariate", "BCLC stage C or D (vs 0/A/B)")["Coding"] == "C or D = 1, 0/A/B = 0"
    )
    ph = table(report_a, "cox", "os_cox_ph")
    assert ph.frame["Covariate"].iloc[-1] == "Global"
    assert {f.key for f in report_a.section("cox").figures} == {"os_forest", "pfs_forest"}


def test_table1_continuous_row_is_compare_continuous(report_a, cohort):
    expected = compare_continuous(cohort, "age", "arm", group_order=ARMS)
    table1 = table(report_a, "baseline", "baseline_table1")
    age = row(table1, "Characteristic", "Age (years)")
    assert age["t/χ²/Z"] == format_stat(expected.statistic)
    assert age["P"] == format_p(expected.p_value)
    assert age[arm_column(table1, CONTROL)] == expected.summaries[0]


def test_table1_has_every_seed_002_row(report_a):
    characteristics = set(table(report_a, "baseline", "baseline_table1").frame["Characteristic"])
    assert {
        "Age (years)",
        "Gender",
        "Albumin (g/L)",
        "Total bilirubin (µmol/L)",
        "ALBI score",
        "Child-Pugh grade",
        "Number of tumours",
        "Maximum tumour diameter (cm)",
        "BCLC stage",
        "AFP (ng/mL)",
        "History of chronic hepatitis",
        "Arteriovenous fistula",
        "Extrahepatic blood supply",
    } <= characteristics


def test_orr_chi_square_is_compare_proportions(report_a, cohort):
    responders = cohort["best_response"].isin(["CR", "PR"])
    expected = compare_proportions(
        [int(responders[cohort["arm"] == arm].sum()) for arm in ARMS],
        [int((cohort["arm"] == arm).sum()) for arm in ARMS],
    )
    orr = row(table(report_a, "response", "best_response"), "Response", "ORR")
    assert (orr["χ²"], orr["P"]) == (format_stat(expected.statistic), format_p(expected.p_value))


def test_overall_adverse_event_incidence_counts_ae_any(report_a, cohort):
    ae = table(report_a, "adverse_events", "adverse_events")
    line = row(ae, "Adverse event", "Any adverse event")
    n = int(cohort.loc[cohort["arm"] == TREATMENT, "ae_any"].sum())
    assert line[arm_column(ae, TREATMENT, "Any grade")].startswith(f"{n} (")


def test_flow_ends_with_the_analysed_patients_per_arm(report_a, cohort):
    flow = table(report_a, "patient_flow", "patient_flow").frame
    assert flow["Step"].iloc[-1] == "Analysed"
    assert flow["n"].iloc[-1] == len(cohort)
    assert flow[CONTROL].iloc[-1] == int((cohort["arm"] == CONTROL).sum())


def test_flow_lists_each_exclusion_reason_before_the_step_it_leads_to(report_a):
    flow = table(report_a, "patient_flow", "patient_flow").frame
    steps = flow["Step"].str.strip().tolist()
    excluded = steps.index("Excluded: ECOG performance status above 1")
    assert steps[excluded + 2] == "Cohort criteria"
    assert flow["n"].iloc[excluded] == 15


def test_endpoint_exclusions_are_reported(report_a):
    assert any(
        "no contact after the index date (2)" in n for n in report_a.section("survival").notes
    )


def test_methods_state_the_covariate_coding(report_a):
    assert any(
        "Child-Pugh B or C (vs A) (B or C = 1, A = 0)" in paragraph
        for paragraph in report_a.methods
    )


def test_methods_are_written_from_the_run(report_a):
    """Cut-off, arms, risk-table step and package versions of this run, in words."""
    text = " ".join(report_a.methods)
    assert "data cut-off of 2024-12-31" in text
    assert f"'{CONTROL}'" in text
    assert f"'{TREATMENT}'" in text
    assert "every 6 months" in text
    assert f"pandas {pd.__version__}" in text
    assert "survival ≥ 3.0" in text


def test_the_study_lines_name_the_cohort_arms_with_sizes_and_cutoff(report_a, cohort):
    study = dict(report_a.study)
    assert study["Cohort"].startswith("TACE-refractory HCC")
    n = int((cohort["arm"] == CONTROL).sum())
    assert study["Control arm"].startswith(f"{CONTROL} (n = {n})")
    assert study["Data cut-off"] == "2024-12-31"


def test_as_dict_is_json_ready(report_a):
    summary = json.loads(json.dumps(report_a.as_dict()))
    assert summary["sections"][0]["key"] == "patient_flow"
    assert summary["sections"][2]["tables"][0]["columns"][0] == "Arm"


def test_options_override_the_cox_covariates(cohort):
    from tests.analytics.reports.conftest import make_report

    report = make_report(
        "custom", cohort, sections=["cox"], options={"covariates": ["age", "male"]}
    )
    cox = table(report, "cox", "os_cox")
    assert cox.frame["Covariate"].tolist()[1:] == ["Age (years)", "Male gender (vs female)"]


def test_table1_follows_the_cohort_bclc_source(cohort):
    """A cohort staged by the derived BCLC stage shows that stage in Table 1 too."""
    frame = cohort.assign(bclc_stage="B", bclc_stage_derived=cohort["bclc_stage"])
    provenance = {"cohort": {"bclc_source": "derived"}}
    from analytics.reports import build_report

    report = build_report(
        "custom",
        frame,
        flow=[],
        endpoint_exclusions={},
        provenance=provenance,
        control_arm=CONTROL,
        treatment_arm=TREATMENT,
        sections=["baseline"],
    )
    table1 = table(report, "baseline", "baseline_table1").frame
    labels = table1["Characteristic"].str.strip().tolist()
    start = labels.index("BCLC stage")
    assert labels[start + 1 : start + 4] == ["A", "B", "C"]
    assert table1["Characteristic"].iloc[start + 1].startswith("\u2003")
    assert any("derived from the CRF" in n for n in report.section("baseline").notes)

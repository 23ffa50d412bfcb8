"""The Cox section: univariable models for every candidate, the multivariable model the run
selects, categorical covariates as one term, and Firth's model where the likelihood is
monotone — each number the one ``fit_cox`` gives when called directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.reports.context import prepare_frame
from analytics.stats.cox import fit_cox
from analytics.stats.formatting import format_estimate_ci, format_p
from tests.analytics.reports.cohort import CONTROL, TREATMENT
from tests.analytics.reports.conftest import make_report
from tests.analytics.reports.helpers import row, table

COVARIATES = ["age", "male", "child_pugh_b", "log10_afp", "albi_score"]


def _hr(result, column):
    line = result.coefficients.set_index("covariate").loc[column]
    return format_estimate_ci(line["hr"], line["hr_lower"], line["hr_upper"]), format_p(line["p"])


def test_univariable_rows_are_single_covariate_models(cohort):
    report = make_report("custom", cohort, sections=["cox"], options={"covariates": COVARIATES})
    frame, _ = prepare_frame(cohort, CONTROL, TREATMENT)
    age = row(table(report, "cox", "os_cox"), "Covariate", "Age (years)")
    expected = _hr(fit_cox(frame, "os_months", "os_event", ["age"]), "age")
    assert (age["Univariable HR (95% CI)"], age["Univariable P"]) == expected


def test_selection_by_univariable_p_keeps_only_those_below_the_threshold(cohort):
    options = {"covariates": COVARIATES, "cox_selection": "univariable_p", "cox_p_threshold": 0.3}
    report = make_report("custom", cohort, sections=["cox"], options=options)
    frame, _ = prepare_frame(cohort, CONTROL, TREATMENT)
    p = {c: fit_cox(frame, "pfs_months", "pfs_event", [c]).coefficients["p"][0] for c in COVARIATES}
    selected = [c for c in COVARIATES if p[c] < 0.3]
    assert 0 < len(selected) < len(COVARIATES)  # the cohort makes the choice matter
    cox = table(report, "cox", "pfs_cox")
    multivariable = fit_cox(frame, "pfs_months", "pfs_event", ["treatment", *selected])
    for column in COVARIATES:
        printed = cox.frame.iloc[1 + COVARIATES.index(column)]
        if column in selected:
            assert printed["Multivariable HR (95% CI)"] == _hr(multivariable, column)[0]
        else:
            assert printed["Multivariable HR (95% CI)"] == "not selected"
    assert any("univariable P < 0.3" in note for note in cox.footnotes)


def test_a_categorical_covariate_is_one_row_per_level_and_one_ph_term(cohort):
    tertile = pd.qcut(cohort["albi_score"], 3, labels=["1", "2", "3"]).astype(str)
    frame = cohort.assign(albi_grade=tertile)
    report = make_report(
        "custom", frame, sections=["cox"], options={"covariates": ["age", "albi_grade"]}
    )
    cox = table(report, "cox", "os_cox")
    assert cox.frame["Covariate"].tolist()[2:] == [
        "ALBI grade: 2 (vs 1)",
        "ALBI grade: 3 (vs 1)",
    ]
    ph = table(report, "cox", "os_cox_ph")
    assert row(ph, "Covariate", "ALBI grade")["df"] == 2
    assert row(ph, "Covariate", "Global")["df"] == 4


def test_separation_is_fitted_by_firth_marked_and_warned(cohort):
    """Child-Pugh B patients never die: OS monotone likelihood in child_pugh_b."""
    frame = cohort.assign(os_event=np.where(cohort["child_pugh_b"] == 1, 0, cohort["os_event"]))
    report = make_report("custom", frame, sections=["cox"], options={"covariates": COVARIATES})
    section = report.section("cox")
    cox = table(report, "cox", "os_cox")
    child_pugh = row(cox, "Covariate", "Child-Pugh B or C (vs A)")
    assert child_pugh["Multivariable HR (95% CI)"].endswith("†")
    assert child_pugh["Univariable HR (95% CI)"].endswith("†")
    assert any(
        "Firth-penalised" in note and "Child-Pugh B or C (vs A)" in note for note in cox.footnotes
    )
    assert "os_cox_ph" not in {t.key for t in section.tables}  # no zph for a Firth fit
    assert "pfs_cox_ph" in {t.key for t in section.tables}
    assert section.warnings[0].startswith(
        "Overall survival, multivariable model: monotone likelihood in Child-Pugh B or C (vs A)"
    )
    assert any(w.startswith(section.title) for w in report.warnings())
    assert not row(table(report, "cox", "pfs_cox"), "Covariate", "Age (years)")[
        "Multivariable HR (95% CI)"
    ].endswith("†")


def test_a_section_not_computed_is_a_report_warning(cohort):
    frame = cohort.assign(os_event=0, pfs_event=0)
    report = make_report("custom", frame, sections=["cox"])
    assert report.section("cox").unavailable
    assert report.warnings() == [
        f"{report.section('cox').title}: not computed — {report.section('cox').unavailable}"
    ]


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_a_clean_model_gives_no_warning(report_a, endpoint):
    assert report_a.section("cox").warnings == []
    assert table(report_a, "cox", f"{endpoint}_cox").frame["Multivariable P"].ne("").all()

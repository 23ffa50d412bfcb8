"""Data that cannot support a section gives that section an explanation, never an exception."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.reports import build_report
from analytics.reports import sections as section_registry
from tests.analytics.reports.cohort import CONTROL, TREATMENT
from tests.analytics.reports.conftest import make_report

COMPARATIVE = [
    "baseline",
    "survival",
    "cox",
    "response",
    "adverse_events",
    "matching",
    "resistance",
]


def test_an_empty_arm_makes_every_comparison_unavailable(cohort):
    only_control = cohort[cohort["arm"] == CONTROL]
    report = make_report("custom", only_control, sections=["patient_flow", *COMPARATIVE])
    assert report.section("patient_flow").available
    for key in COMPARATIVE:
        section = report.section(key)
        assert section.unavailable, key
        assert not section.tables
        assert not section.figures
    assert TREATMENT in report.section("baseline").unavailable


def test_no_events_make_survival_and_cox_unavailable(cohort):
    frame = cohort.assign(os_event=0.0, pfs_event=0.0)
    report = make_report("custom", frame, sections=["survival", "cox"])
    assert "no overall survival events" in report.section("survival").unavailable.lower()
    assert "no events" in report.section("cox").unavailable.lower()


def test_all_missing_survival_times_make_survival_unavailable(cohort):
    frame = cohort.assign(os_months=np.nan, pfs_months=np.nan)
    report = make_report("custom", frame, sections=["survival", "cox"])
    assert "has overall survival data" in report.section("survival").unavailable
    assert report.section("cox").unavailable


def test_a_constant_covariate_makes_matching_unavailable(cohort):
    frame = cohort.assign(male=1)
    report = make_report("custom", frame, sections=["matching", "resistance"])
    assert "male" in report.section("matching").unavailable
    # The matched-cohort outcomes depend on the match: unavailable with the match's reason.
    assert report.section("resistance").unavailable.startswith("Resistance cannot be compared")


def test_a_constant_covariate_is_left_out_of_the_cox_model_with_a_footnote(cohort):
    """As R coxph (NA coefficient): the model is fitted without it, and the report says so."""
    frame = cohort.assign(male=1)
    report = make_report(
        "custom", frame.head(40), sections=["cox"], options={"covariates": ["male"]}
    )
    section = report.section("cox")
    assert section.available
    footnotes = " ".join(section.table("os_cox").footnotes)
    assert "Male gender (vs female) left out of the multivariable model: constant" in footnotes


def test_three_patients_are_too_few_to_match(cohort):
    tiny = cohort.iloc[:3]
    report = make_report("report_b", tiny)
    assert report.section("patient_flow").available
    assert "too few patients to match" in report.section("matching").unavailable.lower()
    assert report.section("survival").unavailable
    assert report.section("resistance").unavailable


def test_a_dataset_without_patients_gives_an_explained_report(cohort):
    report = make_report("report_a", cohort.iloc[:0])
    assert len(report.sections) == 6
    assert all(s.unavailable for s in report.sections[1:])


def test_no_evaluable_response_makes_the_response_section_unavailable(cohort):
    report = make_report("custom", cohort.assign(best_response=""), sections=["response"])
    assert "no patient has an evaluable response" in report.section("response").unavailable.lower()


def test_an_unknown_section_is_reported_not_raised(cohort):
    report = make_report("custom", cohort.head(10), sections=["patient_flow", "no_such_section"])
    assert "unknown section" in report.section("no_such_section").unavailable.lower()


def test_a_failing_section_does_not_take_the_report_down(cohort, monkeypatch, caplog):
    """The report says the section failed in words; the exception goes to the log, never
    into a document an investigator may paste into a manuscript."""

    def broken(ctx):
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(section_registry.BUILDERS, "response", ("Best response", broken))
    report = make_report("custom", cohort.head(10), sections=["patient_flow", "response"])
    assert report.section("patient_flow").available
    text = report.section("response").unavailable
    assert "could not be computed" in text
    assert "ZeroDivision" not in text
    assert "boom" not in text
    assert "ZeroDivisionError: boom" in caplog.text


def test_a_worker_time_limit_is_not_swallowed(cohort, monkeypatch):
    class SoftTimeLimitExceeded(Exception):  # noqa: N818 - Celery's name, matched by name
        pass

    def slow(ctx):
        raise SoftTimeLimitExceeded()

    monkeypatch.setitem(section_registry.BUILDERS, "response", ("Best response", slow))
    with pytest.raises(SoftTimeLimitExceeded):
        make_report("custom", cohort.head(10), sections=["response"])


def test_an_unknown_template_is_a_programming_error(cohort):
    with pytest.raises(ValueError, match="unknown report template"):
        build_report(
            "report_z",
            cohort,
            flow=[],
            endpoint_exclusions={},
            provenance={},
            control_arm=CONTROL,
            treatment_arm=TREATMENT,
            options={},
        )


def test_rows_of_other_arms_and_identifying_columns_are_dropped(cohort):
    frame = cohort.assign(site_patient_ref="SECRET-MRN-1")
    frame.loc[frame.index[:5], "arm"] = "Some third arm"
    report = make_report("custom", frame, sections=["patient_flow"])
    flow = report.section("patient_flow")
    assert flow.table("patient_flow").frame["n"].iloc[-1] == len(cohort) - 5
    assert "5 row(s)" in flow.notes[0]


def test_without_term_columns_only_the_overall_incidence_is_shown(cohort):
    terms = [
        c for c in cohort.columns if c.startswith("ae_") and c not in ("ae_any", "ae_grade3plus")
    ]
    report = make_report("custom", cohort.drop(columns=terms), sections=["adverse_events"])
    section = report.section("adverse_events")
    assert section.table("adverse_events").frame["Adverse event"].unique().tolist() == [
        "Any adverse event"
    ]
    assert "only the overall incidence" in section.notes[0]

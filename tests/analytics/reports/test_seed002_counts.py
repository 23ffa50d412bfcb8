"""Report tables rebuilt from seed 002's published counts reproduce its χ² and P values.

Reference values: ``shared/spec/ANALYSIS.md`` "Expected figures that follow from the seeds'
published counts" (Pearson χ² without continuity correction, seed 002 Tables 1–3).
"""

from __future__ import annotations

import pytest

from analytics.reports import Report, build_report
from tests.analytics.reports.helpers import arm_column, row
from tests.analytics.reports.seed_counts import CONTROL, TREATMENT, seed002_frame


@pytest.fixture(scope="module")
def seed_report() -> Report:
    return build_report(
        "custom",
        seed002_frame(),
        flow=[],
        endpoint_exclusions={},
        provenance={},
        control_arm=CONTROL,
        treatment_arm=TREATMENT,
        options={},
        sections=["baseline", "response", "adverse_events"],
    )


@pytest.mark.parametrize(
    ("label", "chi_square", "p"),
    [
        ("Gender", "0.338", "0.561"),
        ("Child-Pugh grade", "0.735", "0.391"),
        ("Number of tumours", "0.289", "0.591"),
        ("BCLC stage", "1.948", "0.378"),
        ("History of chronic hepatitis", "0.043", "0.836"),
        ("Arteriovenous fistula", "2.011", "0.156"),
        ("Extrahepatic blood supply", "0.036", "0.849"),
    ],
)
def test_table1_rows_give_the_seed_chi_square(seed_report, label, chi_square, p):
    table = seed_report.section("baseline").table("baseline_table1")
    line = row(table, "Characteristic", label)
    assert (line["t/χ²/Z"], line["P"]) == (chi_square, p)


def test_table1_prints_a_yes_no_row_as_its_yes_count(seed_report):
    """Seed 002: "History of chronic hepatitis 32 (82.05) | 45 (80.36)"."""
    table = seed_report.section("baseline").table("baseline_table1")
    line = row(table, "Characteristic", "History of chronic hepatitis")
    assert line[arm_column(table, CONTROL)] == "32 (82.05)"
    assert line[arm_column(table, TREATMENT)] == "45 (80.36)"


def test_table1_lists_the_rows_missing_from_the_dataset(seed_report):
    notes = " ".join(seed_report.section("baseline").notes)
    assert "Age (years)" in notes
    assert "ALBI score" in notes


@pytest.mark.parametrize(
    ("rate", "counts", "chi_square", "p"),
    [
        ("ORR", ("8 (20.51)", "23 (41.07)"), "4.420", "0.036"),
        ("DCR", ("19 (48.72)", "43 (76.79)"), "7.989", "0.005"),
    ],
)
def test_response_table_reproduces_seed_table_2(seed_report, rate, counts, chi_square, p):
    table = seed_report.section("response").table("best_response")
    line = row(table, "Response", rate)
    assert (line[arm_column(table, CONTROL)], line[arm_column(table, TREATMENT)]) == counts
    assert (line["χ²"], line["P"]) == (chi_square, p)


def test_response_table_shows_every_category_with_percentages(seed_report):
    table = seed_report.section("response").table("best_response")
    assert row(table, "Response", "PD")[arm_column(table, CONTROL)] == "20 (51.28)"
    assert row(table, "Response", "CR")[arm_column(table, TREATMENT)] == "3 (5.36)"


@pytest.mark.parametrize(
    ("term", "chi_square", "p"),
    [
        ("Any adverse event", "15.171", "< 0.001"),
        ("Vomiting", "0.967", "0.326"),
        ("Rash maculo-papular", "0.005", "0.943"),
        ("Hypothyroidism", "0.564", "0.453"),
        ("Diarrhea", "0.046", "0.831"),
        ("Alanine aminotransferase increased", "0.002", "0.961"),
        ("Blood bilirubin increased", "0.158", "0.691"),
    ],
)
def test_adverse_event_table_reproduces_seed_table_3(seed_report, term, chi_square, p):
    table = seed_report.section("adverse_events").table("adverse_events")
    line = row(table, "Adverse event", term)
    assert (line["Any grade: χ²"], line["Any grade: P"]) == (chi_square, p)


def test_adverse_event_table_has_one_row_per_term(seed_report):
    """Seed 002 Table 3's ten terms plus the overall row, each once."""
    terms = seed_report.section("adverse_events").table("adverse_events").frame["Adverse event"]
    assert terms.is_unique
    assert len(terms) == 11
    assert terms.iloc[0] == "Any adverse event"


def test_adverse_event_columns_are_grouped_by_severity(seed_report):
    table = seed_report.section("adverse_events").table("adverse_events")
    assert table.groups == (("Any grade", 5), ("Grade ≥ 3", 5))
    assert [c.split(": ")[0] for c in table.frame.columns[1:]] == ["Any grade"] * 5 + [
        "Grade ≥ 3"
    ] * 5


def test_grade_3_columns_without_events_are_not_tested(seed_report):
    """Seed 002 Table 3 prints "0 (0)" and "-" for grade ≥ 3: no event in either arm."""
    table = seed_report.section("adverse_events").table("adverse_events")
    line = row(table, "Adverse event", "Any adverse event")
    assert line[arm_column(table, CONTROL, "Grade ≥ 3")] == "0 (0.00)"
    assert line[arm_column(table, CONTROL, "Any grade")] == "20 (51.28)"
    assert line[arm_column(table, TREATMENT, "Any grade")] == "49 (87.50)"
    assert (line["Grade ≥ 3: χ²"], line["Grade ≥ 3: P"]) == ("-", "-")


def test_sparse_rows_also_give_fisher_p(seed_report):
    """Pain 0/39 vs 5/56: expected counts < 5, so Fisher's exact P is added to the χ² P.

    Fisher's exact two-sided P for [[0, 39], [5, 51]] is 0.0759 (R: fisher.test(matrix(c(0, 39,
    5, 51), 2, byrow = TRUE))$p.value = 0.07586354); the seed's χ² P 0.055 is kept beside it."""
    table = seed_report.section("adverse_events").table("adverse_events")
    line = row(table, "Adverse event", "Pain")
    assert line["Any grade: P"] == "0.055"
    assert line["Any grade: Fisher's exact P"] == "0.076"


def test_a_term_with_large_expected_counts_has_no_fisher_p(seed_report):
    table = seed_report.section("adverse_events").table("adverse_events")
    assert row(table, "Adverse event", "Any adverse event")["Any grade: Fisher's exact P"] == ""

"""Seed 002 rebuilt in the database from its published counts, analysed end to end.

95 patients are entered (enrolment through ``registry.services``, every derived value by
``services.patient_refresh_derived``) so that the registry's own derivations give seed 002's
Tables 1–3: Child-Pugh from the lab panel, BCLC from ECOG and tumour burden, mRECIST responses
from lesion measurements, arms from the treatment rows by the arm definitions seeded by
migration analytics/0002. ``build_analysis_dataset`` then gives the frame that
``analytics.stats`` turns into every χ² and P of ``spec/ANALYSIS.md``'s table (seed 002:
systemic n = 39 vs local + systemic n = 56; Pearson χ² without continuity correction).
"""

from __future__ import annotations

import pytest
from django.db import transaction

from analytics.models import ArmDefinition
from analytics.selectors import adverse_events_long, build_analysis_dataset
from analytics.stats.adverse_events import adverse_event_table
from analytics.stats.formatting import format_p, format_stat
from analytics.stats.response import best_response_table
from analytics.stats.table1 import compare_categorical
from tests.analytics.seed002_registry import (
    ADVERSE_EVENTS,
    ARMS,
    COMBINED,
    SYSTEMIC,
    add_seed002_patients,
    seed002_cohort,
)
from tests.registry.factories import make_site, make_user

# The tests read the module's dataset; the mark makes pytest-django set up the test database.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def dataset(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        add_seed002_patients(make_site("NT", "Nantong"))
        cohort = seed002_cohort()
        built = build_analysis_dataset(
            user=make_user("seed002-investigator", is_superuser=True),
            cohort=cohort,
            control_arm=ArmDefinition.objects.get(name=SYSTEMIC, version=1),
            treatment_arm=ArmDefinition.objects.get(name=COMBINED, version=1),
        )
        transaction.set_rollback(True)
    return built


def rounded(result) -> tuple[str, str]:
    return format_stat(result.statistic), format_p(result.p_value)


def test_every_patient_is_refractory_eligible_and_in_an_arm(dataset):
    assert [step["n"] for step in dataset.flow] == [95, 95, 95]
    assert dataset.flow[-1]["by_arm"] == {SYSTEMIC: 39, COMBINED: 56}
    assert dataset.endpoint_exclusions == {}


def test_the_derivations_give_the_published_counts(dataset):
    frame = dataset.frame
    by_arm = frame.groupby("arm")
    assert by_arm["male"].sum().to_dict() == {SYSTEMIC: 35, COMBINED: 48}
    assert by_arm["child_pugh_b"].sum().to_dict() == {SYSTEMIC: 9, COMBINED: 9}
    assert frame.groupby(["arm", "bclc_stage"]).size().to_dict() == {
        (COMBINED, "A"): 5,
        (COMBINED, "B"): 29,
        (COMBINED, "C"): 22,
        (SYSTEMIC, "A"): 7,
        (SYSTEMIC, "B"): 20,
        (SYSTEMIC, "C"): 12,
    }
    assert (frame["bclc_stage"] == frame["bclc_stage_derived"]).all()


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("sex", ("0.338", "0.561")),
        ("child_pugh_class", ("0.735", "0.391")),
        ("tumour_multiple", ("0.289", "0.591")),
        ("bclc_stage", ("1.948", "0.378")),
        ("chronic_hepatitis", ("0.043", "0.836")),
        ("arteriovenous_fistula", ("2.011", "0.156")),
        ("extrahepatic_blood_supply", ("0.036", "0.849")),
    ],
)
def test_table_1_chi_square(dataset, variable, expected):
    """ANALYSIS.md table, Table 1 rows (seed 002 Table 1)."""
    comparison = compare_categorical(dataset.frame, variable, "arm", group_order=ARMS)
    assert rounded(comparison.chi_square) == expected


def test_table_2_best_response(dataset):
    """ORR 8/39 vs 23/56: χ² 4.420, P 0.036; DCR 19/39 vs 43/56: χ² 7.989, P 0.005."""
    table = best_response_table(dataset.frame, "best_response", "arm", group_order=ARMS)
    assert table.counts.to_dict() == {
        SYSTEMIC: {"CR": 1, "PR": 7, "SD": 11, "PD": 20},
        COMBINED: {"CR": 3, "PR": 20, "SD": 20, "PD": 13},
    }
    assert rounded(table.orr.chi_square) == ("4.420", "0.036")
    assert rounded(table.dcr.chi_square) == ("7.989", "0.005")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("vomiting", ("0.967", "0.326")),
        ("rash_maculo_papular", ("0.005", "0.943")),
        ("hypothyroidism", ("0.564", "0.453")),
        ("diarrhea", ("0.046", "0.831")),
        ("alt_increased", ("0.002", "0.961")),
        ("bilirubin_increased", ("0.158", "0.691")),
    ],
)
def test_table_3_adverse_events(dataset, term, expected):
    """ANALYSIS.md table, Table 3 rows (ALT/AST increased recorded as ALT increased)."""
    table = adverse_event_table(
        dataset.frame, adverse_events_long(dataset.frame), group="arm", group_order=ARMS
    )
    row = next(r for r in table.terms if r.term == term)
    assert row.any_grade == dict(zip(ARMS, ADVERSE_EVENTS[term], strict=True))
    assert rounded(row.any_grade_test) == expected


def test_any_adverse_event(dataset):
    """20/39 vs 49/56: χ² 15.171, P < 0.001."""
    table = adverse_event_table(
        dataset.frame, adverse_events_long(dataset.frame), group="arm", group_order=ARMS
    )
    assert table.overall.any_grade == {SYSTEMIC: 20, COMBINED: 49}
    assert rounded(table.overall.any_grade_test) == ("15.171", "< 0.001")
    assert dataset.frame.groupby("arm")["ae_any"].sum().to_dict() == {SYSTEMIC: 20, COMBINED: 49}

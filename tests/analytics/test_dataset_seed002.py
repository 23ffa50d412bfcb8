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

import datetime as dt

import pytest
from django.db import transaction

from analytics.models import ArmDefinition, CohortDefinition
from analytics.selectors import adverse_events_long, build_analysis_dataset
from analytics.stats.adverse_events import adverse_event_table
from analytics.stats.formatting import format_p, format_stat
from analytics.stats.response import best_response_table
from analytics.stats.table1 import compare_categorical
from tests.analytics.dataset_factories import add_patient
from tests.registry.factories import make_site, make_user

SYSTEMIC, COMBINED = "Systemic therapy alone", "Local + systemic therapy"
ARMS = (SYSTEMIC, COMBINED)
# The tests read the module's dataset; the mark makes pytest-django set up the test database.
pytestmark = pytest.mark.django_db
SIZES = {SYSTEMIC: 39, COMBINED: 56}

# Seed 002 Table 1-3 counts per arm (systemic, local + systemic).
MALE = (35, 48)
CHILD_PUGH_B = (9, 9)
SINGLE = (4, 4)
BCLC = {"A": (7, 5), "B": (20, 29), "C": (12, 22)}
CHRONIC_HEPATITIS = (32, 45)
AV_FISTULA = (3, 10)
EXTRAHEPATIC_SUPPLY = (9, 12)
RESPONSE = {"CR": (1, 3), "PR": (7, 20), "SD": (11, 20), "PD": (20, 13)}
# Table 3 terms as CTCAE v5.0 codes; every event is grade 1-2, one term per patient.
ADVERSE_EVENTS = {
    "abdominal_pain": (0, 5),  # "pain"
    "fever": (0, 4),
    "vomiting": (1, 4),
    "hypertension": (4, 7),
    "palmar_plantar_erythrodysesthesia": (1, 4),  # "hand-foot syndrome"
    "rash_maculo_papular": (4, 6),  # "rash"
    "hypothyroidism": (3, 7),
    "diarrhea": (3, 5),
    "alt_increased": (2, 3),  # "ALT/AST increased"
    "bilirubin_increased": (2, 4),
}


def column(arm: int, size: int, *levels: tuple[object, int], rest: object) -> list[object]:
    values = [value for value, counts in levels for _ in range(counts)]
    return values + [rest] * (size - len(values))


def patient_specs(arm: int) -> list[dict]:
    """Keyword arguments of ``add_patient`` for every patient of an arm (0 systemic, 1 combined).

    Each variable is laid out independently (χ² depends only on the marginal counts), except
    that tumour burden and BCLC stage go together: the single lesions are stage A, the other
    stage A patients have two lesions ≤ 3 cm.
    """
    size = SIZES[ARMS[arm]]
    single, stage_a = SINGLE[arm], BCLC["A"][arm]
    stages = column(
        arm,
        size,
        ("A", single),
        ("A2", stage_a - single),
        ("B", BCLC["B"][arm]),
        rest="C",
    )
    responses = column(arm, size, *((r, n[arm]) for r, n in RESPONSE.items()), rest=None)
    events = column(arm, size, *((t, n[arm]) for t, n in ADVERSE_EVENTS.items()), rest=None)
    sexes = column(arm, size, ("male", MALE[arm]), rest="female")
    child_pugh = column(arm, size, ("B", CHILD_PUGH_B[arm]), rest="A")
    hepatitis = column(arm, size, (True, CHRONIC_HEPATITIS[arm]), rest=False)
    fistula = column(arm, size, (True, AV_FISTULA[arm]), rest=False)
    supply = column(arm, size, (True, EXTRAHEPATIC_SUPPLY[arm]), rest=False)
    specs = []
    for i in range(size):
        specs.append(
            {
                "arm": ("systemic", "combined")[arm],
                "index_date": dt.date(2022, 1, 3) + dt.timedelta(days=9 * i + arm),
                "sex": sexes[i],
                "chronic_hepatitis": hepatitis[i],
                "child_pugh": child_pugh[i],
                "stage": stages[i],
                "arteriovenous_fistula": fistula[i],
                "extrahepatic_blood_supply": supply[i],
                "response": responses[i],
                "adverse_events": ((events[i], 1 + i % 2),) if events[i] else (),
                # Some deaths, so that OS has events; the rest alive at the cut-off.
                "death_date": dt.date(2024, 3, 1) + dt.timedelta(days=5 * i) if i % 3 else None,
                "alive_on": dt.date(2024, 2, 1) if i % 3 else dt.date(2024, 12, 31),
            }
        )
    return specs


@pytest.fixture(scope="module")
def dataset(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        site = make_site("NT", "Nantong")
        for arm in (0, 1):
            for spec in patient_specs(arm):
                add_patient(site, **spec)
        cohort = CohortDefinition.objects.create(
            name="Seed 002 cohort",
            cutoff_date=dt.date(2024, 12, 31),
            refractoriness_rule_set="seed002_operational",
            require_refractory=True,
            exclude_ineligible=True,
        )
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

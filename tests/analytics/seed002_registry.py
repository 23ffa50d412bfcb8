"""Seed 002's registry: 95 patients whose CRFs give the published Tables 1–3 counts.

Shared by the dataset test (``test_dataset_seed002``) and the end-to-end Report A run on a
Celery worker (``test_run_worker_seed002``). Each variable is laid out independently (a χ²
depends only on the marginal counts), so the registry reproduces every χ² and P of
``spec/ANALYSIS.md``'s table but no association between variables.
"""

from __future__ import annotations

import datetime as dt

from analytics.models import CohortDefinition
from tests.analytics.dataset_factories import add_patient

SYSTEMIC, COMBINED = "Systemic therapy alone", "Local + systemic therapy"
ARMS = (SYSTEMIC, COMBINED)
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


def add_seed002_patients(site) -> None:
    """Enter both arms' patients at ``site`` (through the registry's services)."""
    for arm in (0, 1):
        for spec in patient_specs(arm):
            add_patient(site, **spec)


def seed002_cohort(**fields) -> CohortDefinition:
    """Seed 002's cohort: refractory under its operational rule, eligible, cut-off 2024-12-31."""
    return CohortDefinition.objects.create(
        name=fields.pop("name", "Seed 002 cohort"),
        cutoff_date=dt.date(2024, 12, 31),
        refractoriness_rule_set="seed002_operational",
        require_refractory=True,
        exclude_ineligible=True,
        **fields,
    )

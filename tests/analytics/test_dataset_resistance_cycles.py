"""TACE resistance after N cycles is evaluated with the run's N, at the cut-off (issue 12 item 7).

Rule (CRF.md §6, seed 000): "TACE resistance" is progression after N TACE cycles — an imaging
assessment dated after the N-th session showing mRECIST PD or a new intrahepatic lesion. The
patients are entered through the services (``registry.demo_seed000.enrol_tace_course``:
sessions on days 0, 42, 84; a scan 35 days after each session, then every 91 days; PD only on
``pd_day``), so by hand:

- "after 3": 3 sessions, PD on day 119 (> day 84) — resistant for N = 2 and N = 3.
- "2 sessions": 2 sessions, PD on day 77 (> day 42) — resistant for N = 2; for N = 3 fewer than
  3 sessions with imaging after TACE: not resistant.
- "between": 3 sessions, PD on day 77 (after session 2, before session 3 on day 84), later scans
  PR — resistant for N = 2 only.
- "none": 3 sessions, no PD — resistant for neither.
- "one session": 1 session, a scan on day 35 (PR) — not resistant for N = 2 or 3.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.models import ArmDefinition, CohortDefinition
from analytics.selectors import build_analysis_dataset
from registry.demo_seed000 import TaceCourse, enrol_tace_course
from tests.registry.factories import make_site, make_user

pytestmark = pytest.mark.django_db
INDEX = dt.date(2022, 3, 7)
COURSES = {
    "after 3": {"sessions": 3, "pd_day": 119, "death_day": 300, "last_contact_day": 299},
    "2 sessions": {"sessions": 2, "pd_day": 77},
    "between": {"sessions": 3, "pd_day": 77, "recovers": True},
    "none": {"sessions": 3},
    "one session": {"sessions": 1, "last_contact_day": 100},
}


@pytest.fixture
def registry_patients():
    site = make_site("HZ", "Hangzhou")
    patients = {
        name: enrol_tace_course(
            site=site,
            course=TaceCourse(combined=False, index_date=INDEX, **fields),
            ref=f"HZ-{name}",
        )
        for name, fields in COURSES.items()
    }
    return site, patients


def statuses(site, patients, n: int, cutoff=dt.date(2024, 12, 31)) -> dict[str, str | None]:
    cohort = CohortDefinition.objects.create(name=f"N={n} {cutoff}", cutoff_date=cutoff)
    cohort.sites.add(site)
    dataset = build_analysis_dataset(
        user=make_user(f"inv-{n}-{cutoff}", is_superuser=True),
        cohort=cohort,
        control_arm=ArmDefinition.objects.get(rule="tace_alone", version=1),
        treatment_arm=ArmDefinition.objects.get(rule="tace_pd1_mtt", version=1),
        resistance_cycles=n,
    )
    by_id = dict(
        zip(
            dataset.frame["patient_id"],
            dataset.frame["refractory_progression_after_n_cycles"],
            strict=True,
        )
    )
    return {name: by_id[patient.pk] for name, patient in patients.items()}


def test_three_cycles_counts_only_progression_after_the_third_session(registry_patients):
    assert statuses(*registry_patients, 3) == {
        "after 3": "refractory",
        "2 sessions": "not_refractory",
        "between": "not_refractory",
        "none": "not_refractory",
        "one session": "not_refractory",
    }


def test_two_cycles_also_counts_progression_after_the_second_session(registry_patients):
    assert statuses(*registry_patients, 2) == {
        "after 3": "refractory",
        "2 sessions": "refractory",
        "between": "refractory",
        "none": "not_refractory",
        "one session": "not_refractory",
    }


def test_at_three_cycles_the_dataset_agrees_with_the_stored_derivation(registry_patients):
    site, patients = registry_patients
    stored = {
        name: p.tace_refractoriness["progression_after_n_cycles"]["status"]
        for name, p in patients.items()
    }
    assert statuses(site, patients, 3) == stored


def test_a_progression_after_the_cut_off_is_not_seen(registry_patients):
    """Cut-off on day 100 (after session 3 on day 84, before the PD scan on day 119): "after 3"
    has no scan after session 3 by the cut-off, so its status is indeterminate."""
    site, patients = registry_patients
    found = statuses(site, patients, 3, cutoff=INDEX + dt.timedelta(days=100))
    assert found["after 3"] == "indeterminate"
    assert patients["after 3"].tace_refractoriness["progression_after_n_cycles"]["status"] == (
        "refractory"
    )

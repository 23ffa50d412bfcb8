"""OS, PFS, response and adverse events at the data cut-off: what happens after it is not seen.

Hand-computed reference values (CRF.md §8; months = days / 30.4375). Index date 2023-03-01:
- to the cut-off 2024-01-01: 306 days = 10.0534 months (never a censoring date by itself:
  CRF.md §8 censors at the last date known alive on or before the cut-off);
- to the death on 2024-06-01: 458 days = 15.0472 months;
- to the PD scan of 2024-02-01: 337 days = 11.0719 months;
- to the first follow-up scan of 2023-04-30: 60 days = 1.9713 months;
- to the progression event of 2023-10-01: 214 days = 7.0308 months;
- to the last contact alive on 2023-09-01: 184 days = 6.0452 months.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.models import ArmDefinition, CohortDefinition
from analytics.selectors import build_analysis_dataset
from registry.models import LabPanel
from tests.analytics.dataset_factories import add_patient
from tests.registry.factories import make_site, make_user

pytestmark = pytest.mark.django_db

EARLY_CUTOFF = dt.date(2024, 1, 1)
LATE_CUTOFF = dt.date(2024, 12, 31)


def row(patient, cutoff: dt.date):
    cohort, _ = CohortDefinition.objects.get_or_create(name=f"cut {cutoff}", cutoff_date=cutoff)
    dataset = build_analysis_dataset(
        user=make_user(f"admin-{cutoff}-{patient.pk}", is_superuser=True),
        cohort=cohort,
        control_arm=ArmDefinition.objects.get(name="Systemic therapy alone", version=1),
        treatment_arm=ArmDefinition.objects.get(name="Local + systemic therapy", version=1),
    )
    frame = dataset.frame.set_index("patient_id")
    return frame.loc[patient.pk], dataset


@pytest.fixture
def progressing_patient():
    """SD on 2023-04-30, PD on 2024-02-01, an AE on 2024-03-01, last seen alive 2024-05-01,
    died 2024-06-01."""
    return add_patient(
        make_site(),
        response="SD",
        extra_scans=((dt.date(2024, 2, 1), "PD"),),
        adverse_events=(("vomiting", 2),),
        ae_onset=dt.date(2024, 3, 1),
        alive_on=dt.date(2024, 5, 1),
        death_date=dt.date(2024, 6, 1),
    )


class TestEarlyCutoff:
    def test_a_death_after_the_cutoff_is_not_seen(self, progressing_patient):
        """CRF.md §8: anything after the cut-off is ignored; censoring falls on the last date
        known alive on or before it, the SD scan of 2023-04-30. (This test used to expect
        censoring on the cut-off date itself, 10.0534 months.)"""
        r, _ = row(progressing_patient, EARLY_CUTOFF)
        assert r["os_months"] == pytest.approx(60 / 30.4375)
        assert round(r["os_months"], 4) == 1.9713
        assert r["os_event"] == 0
        assert r["death_date"] is None
        assert r["death_cause"] is None

    def test_progression_after_the_cutoff_is_not_seen(self, progressing_patient):
        r, _ = row(progressing_patient, EARLY_CUTOFF)
        assert round(r["pfs_months"], 4) == 1.9713  # censored at the last scan by the cut-off
        assert r["pfs_event"] == 0
        assert r["best_response"] == "SD"
        assert r["disease_control"] == 1
        assert r["imaging_progression_date"] is None
        assert r["progression_date"] is None

    def test_adverse_events_after_the_cutoff_are_not_seen(self, progressing_patient):
        r, _ = row(progressing_patient, EARLY_CUTOFF)
        assert r["ae_any"] == 0
        assert "ae_vomiting" not in r.index


class TestLateCutoff:
    def test_death_is_the_os_event(self, progressing_patient):
        r, _ = row(progressing_patient, LATE_CUTOFF)
        assert round(r["os_months"], 4) == 15.0472
        assert r["os_event"] == 1
        assert r["death_date"] == dt.date(2024, 6, 1)
        assert r["death_cause"] == "tumour_progression"

    def test_the_pd_scan_is_the_pfs_event(self, progressing_patient):
        r, _ = row(progressing_patient, LATE_CUTOFF)
        assert round(r["pfs_months"], 4) == 11.0719
        assert r["pfs_event"] == 1
        assert r["progression_date"] == dt.date(2024, 2, 1)
        assert r["best_response"] == "SD"  # best, not last

    def test_the_adverse_event_is_counted(self, progressing_patient):
        r, _ = row(progressing_patient, LATE_CUTOFF)
        assert (r["ae_any"], r["ae_vomiting"], r["ae_vomiting_grade"]) == (1, 1, 2.0)


def test_a_recorded_progression_event_comes_before_a_later_pd_scan():
    patient = add_patient(
        make_site(),
        response="SD",
        extra_scans=((dt.date(2024, 2, 1), "PD"),),
        progression_events=(dt.date(2022, 12, 20), dt.date(2023, 10, 1)),
    )
    r, _ = row(patient, LATE_CUTOFF)
    # The event of 2022-12-20 is before the index date (the TACE series): not this line's.
    assert round(r["pfs_months"], 4) == 7.0308
    assert r["progression_date"] == dt.date(2023, 10, 1)


def test_lost_to_follow_up_is_censored_at_the_last_contact():
    patient = add_patient(make_site(), alive_on=dt.date(2023, 9, 1))
    r, _ = row(patient, LATE_CUTOFF)
    assert round(r["os_months"], 4) == 6.0452
    assert r["os_event"] == 0


def test_seen_alive_after_the_cutoff_is_censored_at_the_last_date_known_alive_before_it():
    """CRF.md §8: a contact after the cut-off is ignored; the last date known alive on or
    before it is the SD scan of 2023-04-30 (60 days). This test used to expect censoring at
    the cut-off (10.0534 months): the issue 12 audit, rule (b)."""
    patient = add_patient(make_site(), alive_on=dt.date(2024, 6, 1))
    r, _ = row(patient, EARLY_CUTOFF)
    assert round(r["os_months"], 4) == 1.9713
    assert r["os_event"] == 0


def test_treatment_and_lab_dates_prove_the_patient_alive():
    """CRF.md §8: the last date known alive is the latest of follow-up contacts, imaging,
    treatment and lab dates on or before the cut-off. No contact, no scan after the index
    date, but systemic therapy started on it and a lab on 2023-06-01 -> censored there
    (92 days = 3.0226 months)."""
    patient = add_patient(make_site(), response=None, alive_on=None)
    LabPanel.objects.create(patient=patient, sample_date=dt.date(2023, 6, 1), albumin_g_l=38)
    r, _ = row(patient, LATE_CUTOFF)
    assert round(r["os_months"], 4) == 3.0226
    assert r["os_event"] == 0


def test_missing_survival_and_imaging_exclude_from_those_endpoints_only():
    """CRF.md §9: missing critical data excludes the patient from the affected endpoint only."""
    site = make_site()
    no_data = add_patient(site, response=None, tace_history=0, alive_on=None)
    complete = add_patient(site)
    r, dataset = row(no_data, LATE_CUTOFF)
    assert len(dataset.frame) == 2
    assert complete.pk in set(dataset.frame["patient_id"])
    assert r[["os_months", "pfs_months", "os_event", "pfs_event"]].isna().all()
    assert r["best_response"] is None
    assert dataset.endpoint_exclusions == {
        "overall survival": {"no follow-up after the index date": 1},
        "progression-free survival": {"no imaging assessment after the index date": 1},
        "tumour response": {"no response assessment by the cut-off": 1},
    }

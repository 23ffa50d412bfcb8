"""Clinical endpoint rules through the registry's own write path and the analysis dataset.

Sources: CRF.md §5 (NE for a partial target-lesion follow-up; best overall response up to
and including the first PD, RECIST 1.1 §4.4, Eisenhauer EA et al. Eur J Cancer
2009;45:228-47) and §6 (JSH-LCSGJ 2014, Kudo M et al. Oncology 2014;87 Suppl 1:22-31).
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.models import ArmDefinition, CohortDefinition
from analytics.selectors import build_analysis_dataset
from registry import services
from registry.models import ImagingAssessment, LesionMeasurement, TaceSession
from tests.analytics.dataset_factories import add_patient
from tests.registry.factories import make_patient, make_site, make_user

pytestmark = pytest.mark.django_db


def dataset_row(patient, cutoff=dt.date(2024, 12, 31)):
    cohort, _ = CohortDefinition.objects.get_or_create(name=f"cut {cutoff}", cutoff_date=cutoff)
    dataset = build_analysis_dataset(
        user=make_user(f"admin-{patient.pk}", is_superuser=True),
        cohort=cohort,
        control_arm=ArmDefinition.objects.get(name="Systemic therapy alone", version=1),
        treatment_arm=ArmDefinition.objects.get(name="Local + systemic therapy", version=1),
    )
    return dataset.frame.set_index("patient_id").loc[patient.pk]


def test_a_partial_scan_with_lesion_1_at_0_mm_is_ne_in_the_registry_and_the_dataset():
    """CRF.md §5: baseline 30 + 20 mm, the follow-up measures lesion 1 = 0 mm only: NE, not CR;
    the patient is neither a responder nor disease-controlled (today CR reached ORR and DCR)."""
    patient = add_patient(make_site(), response="NE")
    scan = ImagingAssessment.objects.get(patient=patient, is_baseline=False, response="NE")
    assert scan.target_sum_mm is None
    assert patient.best_overall_response == "NE"
    assert (patient.objective_response, patient.disease_control) == (False, False)
    r = dataset_row(patient)
    assert r["best_response"] == "NE"
    assert (r["objective_response"], r["disease_control"]) == (0, 0)


def test_a_pr_after_a_pd_does_not_make_a_responder_in_the_registry_or_the_dataset():
    """RECIST 1.1 §4.4 / CRF.md §5: PD on day 60, PR on day 120: best overall response PD."""
    patient = add_patient(
        make_site(),
        response="PD",
        extra_scans=((dt.date(2023, 3, 1) + dt.timedelta(days=120), "PR"),),
    )
    assert patient.best_overall_response == "PD"
    assert patient.objective_response is False
    r = dataset_row(patient)
    assert r["best_response"] == "PD"
    assert (r["objective_response"], r["disease_control"]) == (0, 0)


def _scan(patient, day, *, baseline=False, count=None, lesions=()):
    assessment = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient,
            assessment_date=day,
            modality="ct",
            is_baseline=baseline,
            intrahepatic_lesion_count=count,
        )
    )
    for number, diameter in enumerate(lesions, start=1):
        services.crf_record_save(
            record=LesionMeasurement(
                assessment=assessment, lesion_number=number, diameter_mm=diameter
            )
        )
    return assessment


def _tace(patient, day, adequate=True):
    services.crf_record_save(
        record=TaceSession(
            patient=patient, start_date=day, technique="ctace", technically_adequate=adequate
        )
    )


def test_jsh_the_baseline_scan_count_is_the_reference_in_the_registry():
    """CRF.md §6 / Kudo 2014 JSH (a): 2 lesions on the baseline scan before the TACE series,
    3 after the first and 4 after the second adequate session: refractory at the second
    (today the baseline scan was not passed to the rule, so the count 2 -> 3 went unseen)."""
    patient = make_patient()
    _scan(patient, dt.date(2022, 9, 1), baseline=True, count=2, lesions=(30, 20))
    _tace(patient, dt.date(2022, 9, 10))
    _scan(patient, dt.date(2022, 10, 10), count=3, lesions=(30, 20))
    _tace(patient, dt.date(2022, 10, 20))
    _scan(patient, dt.date(2022, 11, 20), count=4, lesions=(30, 20))
    patient.refresh_from_db()
    jsh = patient.tace_refractoriness["jsh_lcsgj_2014"]
    assert (jsh["status"], jsh["date"]) == ("refractory", "2022-11-20")
    assert jsh["criterion"] == "(a) two consecutive intrahepatic progressions"


def test_tace_resistance_after_n_cycles_at_an_analysis_cutoff():
    """CRF.md §6, seed 000: "TACE resistance" = progression (mRECIST PD or a new intrahepatic
    lesion) after the N-th TACE session. Three adequate sessions, PD 40 days after the third:
    resistant after 3 (and after 2) cycles, not after 4 (fewer sessions, imaged); at a cut-off
    before the PD scan, not resistant (the scan after the third session is SD). The stored
    N = 3 status is the same rule without a cut-off."""
    from registry.endpoints import tace_resistance
    from registry.models import Patient

    patient = make_patient()
    _scan(patient, dt.date(2022, 9, 1), baseline=True, lesions=(30, 20))
    for day in (dt.date(2022, 9, 10), dt.date(2022, 10, 15), dt.date(2022, 11, 19)):
        _tace(patient, day)
    _scan(patient, dt.date(2022, 12, 10), lesions=(28, 20))  # SD
    _scan(patient, dt.date(2022, 12, 29), lesions=(40, 25))  # 65 >= 1.2 x 48: PD
    patients = Patient.objects.filter(pk=patient.pk)
    late, early = dt.date(2024, 12, 31), dt.date(2022, 12, 20)

    def status(cutoff, n):
        return tace_resistance(patients, cutoff, n_cycles=n).loc[patient.pk, "status"]

    assert status(late, 3) == "refractory"
    assert (
        tace_resistance(patients, late, n_cycles=3).loc[patient.pk, "day"]
        == (dt.date(2022, 12, 29) - dt.date(1970, 1, 1)).days
    )
    assert status(late, 2) == "refractory"
    assert status(late, 4) == "not_refractory"
    assert status(early, 3) == "not_refractory"
    patient.refresh_from_db()
    stored = patient.tace_refractoriness["progression_after_n_cycles"]
    assert (stored["status"], stored["date"]) == ("refractory", "2022-12-29")

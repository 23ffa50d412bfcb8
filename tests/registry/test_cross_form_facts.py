"""The cross-form checks reject the same rows, with the same messages, when their facts are
preloaded for a bulk import (``validation.facts_preloaded``) as when each row queries them."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import services
from registry.models import (
    AdverseEvent,
    Death,
    FollowUp,
    ImagingAssessment,
    LabPanel,
    LesionMeasurement,
    TaceSession,
)
from registry.validation import facts_preloaded

from .factories import ctcae, make_patient

pytestmark = pytest.mark.django_db


def errors_of(record) -> dict | None:
    try:
        record.full_clean()
    except ValidationError as error:
        return error.message_dict
    return None


def errors_row_by_row_and_preloaded(record) -> tuple[dict | None, dict | None]:
    row_by_row = errors_of(record)
    with facts_preloaded(record.owner_patient().site_id):
        preloaded = errors_of(record)
    return row_by_row, preloaded


def tace(patient, day):
    return services.crf_record_save(
        record=TaceSession(patient=patient, start_date=day, technique="ctace")
    )


def scan(patient, day, *diameters, baseline=False):
    assessment = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient, assessment_date=day, modality="ct", is_baseline=baseline
        )
    )
    for number, diameter in enumerate(diameters, start=1):
        services.crf_record_save(
            record=LesionMeasurement(
                assessment=assessment, lesion_number=number, diameter_mm=diameter
            )
        )
    return assessment


def adverse_event(patient, day):
    return AdverseEvent(
        patient=patient, term=ctcae("fever"), grade=1, onset_date=day, attribution="local"
    )


def test_an_adverse_event_before_the_first_treatment():
    patient = make_patient()
    tace(patient, dt.date(2023, 3, 10))
    tace(patient, dt.date(2023, 3, 1))

    row_by_row, preloaded = errors_row_by_row_and_preloaded(
        adverse_event(patient, dt.date(2023, 2, 27))
    )

    assert preloaded == row_by_row
    assert "before the first treatment (2023-03-01)" in preloaded["onset_date"][0]


def test_an_adverse_event_after_the_first_treatment_passes():
    patient = make_patient()
    tace(patient, dt.date(2023, 3, 1))

    assert errors_row_by_row_and_preloaded(adverse_event(patient, dt.date(2023, 3, 2))) == (
        None,
        None,
    )


def test_a_follow_up_scan_without_a_baseline():
    patient = make_patient()
    follow_up = ImagingAssessment(
        patient=patient, assessment_date=dt.date(2023, 5, 1), modality="ct"
    )

    row_by_row, preloaded = errors_row_by_row_and_preloaded(follow_up)

    assert preloaded == row_by_row
    assert "needs a baseline scan" in preloaded["assessment_date"][0]


def test_a_follow_up_scan_whose_baseline_has_no_measurable_lesion():
    patient = make_patient()
    scan(patient, dt.date(2023, 2, 1), baseline=True)
    follow_up = ImagingAssessment(
        patient=patient, assessment_date=dt.date(2023, 5, 1), modality="ct"
    )

    row_by_row, preloaded = errors_row_by_row_and_preloaded(follow_up)

    assert preloaded == row_by_row
    assert "no measurable target lesion" in preloaded["__all__"][0]


def test_a_follow_up_scan_is_checked_against_the_latest_baseline_before_it():
    patient = make_patient()
    scan(patient, dt.date(2023, 2, 1), 30, baseline=True)
    scan(patient, dt.date(2023, 6, 1), baseline=True)  # a later line's baseline, no lesions yet
    before_second = ImagingAssessment(
        patient=patient, assessment_date=dt.date(2023, 5, 1), modality="ct"
    )
    after_second = ImagingAssessment(
        patient=patient, assessment_date=dt.date(2023, 7, 1), modality="ct"
    )

    assert errors_row_by_row_and_preloaded(before_second) == (None, None)
    row_by_row, preloaded = errors_row_by_row_and_preloaded(after_second)
    assert preloaded == row_by_row
    assert "baseline scan of 2023-06-01" in preloaded["__all__"][0]


def test_a_second_baseline_scan_on_the_same_day():
    patient = make_patient()
    scan(patient, dt.date(2023, 2, 1), 30, baseline=True)
    again = ImagingAssessment(
        patient=patient, assessment_date=dt.date(2023, 2, 1), modality="mri", is_baseline=True
    )

    row_by_row, preloaded = errors_row_by_row_and_preloaded(again)

    assert preloaded == row_by_row
    assert "already a baseline scan" in preloaded["assessment_date"][0]


def test_a_stored_baseline_scan_is_not_its_own_same_day_duplicate():
    patient = make_patient()
    stored = scan(patient, dt.date(2023, 2, 1), 30, baseline=True)

    assert errors_row_by_row_and_preloaded(stored) == (None, None)


def test_a_follow_up_lesion_not_measured_at_baseline():
    patient = make_patient()
    scan(patient, dt.date(2023, 2, 1), 30, baseline=True)
    follow_up = scan(patient, dt.date(2023, 5, 1), 25)
    lesion = LesionMeasurement(assessment=follow_up, lesion_number=2, diameter_mm=12)

    row_by_row, preloaded = errors_row_by_row_and_preloaded(lesion)

    assert preloaded == row_by_row
    assert "not measured on the baseline" in preloaded["lesion_number"][0]


def test_a_date_after_the_death():
    patient = make_patient()
    services.crf_record_save(
        record=Death(patient=patient, death_date=dt.date(2023, 6, 1), cause="other")
    )
    late = FollowUp(patient=patient, contact_date=dt.date(2023, 7, 1), vital_status="alive")

    row_by_row, preloaded = errors_row_by_row_and_preloaded(late)

    assert preloaded == row_by_row
    assert "after the death date 2023-06-01" in preloaded["contact_date"][0]


def test_a_death_before_the_latest_event():
    patient = make_patient()
    tace(patient, dt.date(2023, 3, 1))
    services.crf_record_save(
        record=FollowUp(patient=patient, contact_date=dt.date(2023, 8, 1), vital_status="alive")
    )
    death = Death(patient=patient, death_date=dt.date(2023, 7, 1), cause="other")

    row_by_row, preloaded = errors_row_by_row_and_preloaded(death)

    assert preloaded == row_by_row
    assert (
        "before a follow-up where the patient was alive on 2023-08-01"
        in (preloaded["death_date"][0])
    )


def test_preloaded_facts_read_the_database_once_per_kind():
    patients = [make_patient() for _ in range(3)]
    for patient in patients:
        tace(patient, dt.date(2023, 3, 1))
    events = [adverse_event(patient, dt.date(2023, 3, 5)) for patient in patients]

    with facts_preloaded(patients[0].site_id), CaptureQueriesContext(connection) as queries:
        for event in events:
            event.clean()

    # death dates + one first-start-date query per treatment modality (5), for all patients
    assert len(queries) == 6


def test_saving_a_row_inside_the_block_forgets_the_preloaded_facts():
    patient = make_patient()
    tace(patient, dt.date(2023, 3, 10))
    event = adverse_event(patient, dt.date(2023, 3, 5))

    with facts_preloaded(patient.site_id):
        assert "onset_date" in errors_of(event)
        tace(patient, dt.date(2023, 3, 1))
        assert errors_of(event) is None


def test_a_lab_panel_saved_inside_the_block_is_checked_against_a_death_saved_before_it():
    patient = make_patient()
    with facts_preloaded(patient.site_id):
        assert errors_of(LabPanel(patient=patient, sample_date=dt.date(2023, 7, 1))) is None
        services.crf_record_save(
            record=Death(patient=patient, death_date=dt.date(2023, 6, 1), cause="other")
        )

        errors = errors_of(LabPanel(patient=patient, sample_date=dt.date(2023, 7, 1)))

    assert "after the death date 2023-06-01" in errors["sample_date"][0]

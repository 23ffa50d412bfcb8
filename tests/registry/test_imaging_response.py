import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from registry import services
from registry.models import ImagingAssessment, LesionMeasurement

from .factories import make_patient

pytestmark = pytest.mark.django_db


def scan(patient, day, *diameters, baseline=False, **extra):
    assessment = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient, assessment_date=day, modality="ct", is_baseline=baseline, **extra
        )
    )
    for number, diameter in enumerate(diameters, start=1):
        services.crf_record_save(
            record=LesionMeasurement(
                assessment=assessment, lesion_number=number, diameter_mm=diameter
            )
        )
    assessment.refresh_from_db()
    return assessment


def test_a_response_assessment_needs_a_baseline_scan():
    patient = make_patient()

    with pytest.raises(ValidationError) as error:
        scan(patient, dt.date(2023, 5, 1), 30)

    assert "baseline scan" in str(error.value)


def test_a_baseline_target_lesion_must_be_measurable():
    patient = make_patient()
    baseline = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient, assessment_date=dt.date(2023, 2, 15), modality="ct", is_baseline=True
        )
    )

    with pytest.raises(ValidationError) as error:
        services.crf_record_save(
            record=LesionMeasurement(assessment=baseline, lesion_number=1, diameter_mm=8)
        )

    assert "≥ 10 mm" in error.value.message_dict["diameter_mm"][0]


def test_mrecist_follows_at_most_two_target_lesions():
    patient = make_patient()

    with pytest.raises(ValidationError) as error:
        scan(patient, dt.date(2023, 2, 15), 30, 20, 15, baseline=True)

    assert "at most 2" in error.value.message_dict["lesion_number"][0]


def test_responses_use_the_nadir_and_feed_the_best_overall_response():
    """mRECIST (Lencioni & Llovet 2010): PR at ≤ −30% of baseline, PD at ≥ +20% over the nadir."""
    patient = make_patient()
    scan(patient, dt.date(2023, 2, 15), 30, 20, baseline=True)  # sum 50
    first = scan(patient, dt.date(2023, 4, 1), 20, 10)  # 30: −40% → PR
    second = scan(patient, dt.date(2023, 6, 1), 22, 14)  # 36: +20% over nadir 30 → PD

    first.refresh_from_db()
    patient.refresh_from_db()

    assert (first.response, second.response) == ("PR", "PD")
    assert second.nadir_before_mm == pytest.approx(30)
    assert patient.best_overall_response == "PR"
    assert patient.objective_response is True
    assert patient.first_progression_date == dt.date(2023, 6, 1)


def test_a_reader_who_disagrees_raises_a_flag():
    patient = make_patient()
    scan(patient, dt.date(2023, 2, 15), 30, baseline=True)

    scan(patient, dt.date(2023, 4, 1), 29, reader_response="PR")

    assert patient.quality_flags.filter(code="reader_disagrees", status="open").exists()


def test_a_follow_up_lesion_must_have_been_measured_at_baseline():
    patient = make_patient()
    scan(patient, dt.date(2023, 2, 15), 30, baseline=True)

    with pytest.raises(ValidationError) as error:
        scan(patient, dt.date(2023, 4, 1), 20, 10)

    assert "not measured on the baseline" in error.value.message_dict["lesion_number"][0]


def test_a_new_baseline_scan_starts_the_response_series_of_the_studied_line():
    """Scans during TACE keep their own responses; the patient's best response is the index line's."""
    patient = make_patient()  # index date 2023-03-01
    scan(patient, dt.date(2022, 9, 1), 40, baseline=True)
    during_tace = scan(patient, dt.date(2022, 11, 1), 50)  # +25% over 40 → PD
    scan(patient, dt.date(2023, 2, 15), 50, 30, baseline=True)  # new series: sum 80
    after_index = scan(patient, dt.date(2023, 4, 1), 30, 20)  # 50: −37.5% → PR

    patient.refresh_from_db()

    assert during_tace.response == "PD"
    assert after_index.response == "PR"
    assert after_index.nadir_before_mm == pytest.approx(80)
    assert patient.best_overall_response == "PR"
    assert patient.first_progression_date is None


def test_two_baseline_scans_on_the_same_day_are_refused():
    patient = make_patient()
    scan(patient, dt.date(2023, 2, 15), 30, baseline=True)

    with pytest.raises(ValidationError) as error:
        scan(patient, dt.date(2023, 2, 15), 30, baseline=True)

    assert "already a baseline scan" in error.value.message_dict["assessment_date"][0]

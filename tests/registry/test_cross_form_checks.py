"""CRF.md §9 cross-form checks."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from registry import services
from registry.models import AdverseEvent, Death, FollowUp, LabPanel, TaceSession

from .factories import ctcae, make_patient

pytestmark = pytest.mark.django_db


def tace(patient, day=dt.date(2023, 3, 1)):
    return services.crf_record_save(
        record=TaceSession(
            patient=patient, start_date=day, technique="ctace", technically_adequate=True
        )
    )


def adverse_event(patient, code="fever", grade=1, day=dt.date(2023, 3, 3), **extra):
    return services.crf_record_save(
        record=AdverseEvent(
            patient=patient,
            term=ctcae(code),
            grade=grade,
            onset_date=day,
            attribution="local",
            **extra,
        )
    )


def test_no_event_before_the_diagnosis():
    patient = make_patient(diagnosis_date=dt.date(2023, 1, 1))

    with pytest.raises(ValidationError) as error:
        services.crf_record_save(record=LabPanel(patient=patient, sample_date=dt.date(2022, 12, 1)))

    assert "before the diagnosis date 2023-01-01" in error.value.message_dict["sample_date"][0]


def test_no_event_after_the_death():
    patient = make_patient()
    tace(patient)
    services.crf_record_save(
        record=Death(patient=patient, death_date=dt.date(2023, 6, 1), cause="other")
    )

    with pytest.raises(ValidationError) as error:
        services.crf_record_save(
            record=FollowUp(patient=patient, contact_date=dt.date(2023, 7, 1), vital_status="alive")
        )

    assert "after the death date 2023-06-01" in error.value.message_dict["contact_date"][0]


def test_a_death_must_be_the_last_dated_event():
    patient = make_patient()
    tace(patient, dt.date(2023, 5, 1))

    with pytest.raises(ValidationError) as error:
        services.crf_record_save(
            record=Death(patient=patient, death_date=dt.date(2023, 4, 1), cause="other")
        )

    assert "death must be the last dated event" in error.value.message_dict["death_date"][0]


def test_an_adverse_event_grade_must_exist_for_its_term():
    patient = make_patient()
    tace(patient)

    with pytest.raises(ValidationError) as error:
        adverse_event(patient, code="abdominal_pain", grade=4)

    assert error.value.message_dict["grade"] == [
        "Grade 4 is not defined for 'Abdominal pain': CTCAE v5.0 allows grades 1–3."
    ]


def test_an_adverse_event_cannot_precede_the_first_treatment():
    patient = make_patient()
    tace(patient, dt.date(2023, 3, 1))

    with pytest.raises(ValidationError) as error:
        adverse_event(patient, day=dt.date(2023, 2, 1))

    assert "before the first treatment" in error.value.message_dict["onset_date"][0]


def test_a_grade_5_event_without_a_death_that_day_is_flagged_and_blocks_completion():
    patient = make_patient()
    tace(patient)

    adverse_event(patient, code="hepatic_failure", grade=5, outcome="fatal")

    assert patient.quality_flags.filter(code="grade5_without_death", status="open").exists()
    with pytest.raises(ValidationError, match="needs a death record"):
        services.patient_mark_complete(patient=patient)


def test_the_grade_5_flag_resolves_when_the_death_is_recorded():
    patient = make_patient()
    tace(patient)
    adverse_event(
        patient, code="hepatic_failure", grade=5, day=dt.date(2023, 4, 1), outcome="fatal"
    )

    services.crf_record_save(
        record=Death(patient=patient, death_date=dt.date(2023, 4, 1), cause="treatment_related")
    )

    assert not patient.quality_flags.filter(code="grade5_without_death", status="open").exists()
    assert not patient.quality_flags.filter(
        code="treatment_death_without_ae", status="open"
    ).exists()


def test_a_treatment_related_death_needs_a_related_adverse_event():
    patient = make_patient()
    tace(patient)

    services.crf_record_save(
        record=Death(patient=patient, death_date=dt.date(2023, 4, 1), cause="treatment_related")
    )

    assert patient.quality_flags.filter(code="treatment_death_without_ae", status="open").exists()


def test_an_end_date_before_the_start_is_rejected():
    patient = make_patient()

    with pytest.raises(ValidationError) as error:
        services.crf_record_save(
            record=TaceSession(
                patient=patient,
                start_date=dt.date(2023, 3, 1),
                end_date=dt.date(2023, 2, 1),
                technique="ctace",
            )
        )

    assert "end_date" in error.value.message_dict


def test_a_tace_dose_above_150_mg_is_rejected():
    patient = make_patient()

    with pytest.raises(ValidationError) as error:
        services.crf_record_save(
            record=TaceSession(
                patient=patient,
                start_date=dt.date(2023, 3, 1),
                technique="ctace",
                chemo_dose_mg=151,
            )
        )

    assert error.value.message_dict["chemo_dose_mg"] == [
        "Chemotherapy dose 151 mg is outside the allowed range 0–150 mg."
    ]

"""Rules of issue 15 that every entry path meets: they live in the models' ``clean()`` and in
``registry.numbers``, so the admin, the API and the import refuse the same input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from registry import services
from registry.models import Death, FollowUp, LabPanel, TaceSession
from registry.numbers import NotANumber, read_decimal
from tests.registry.factories import make_patient

TOMORROW = dt.date.today() + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "number"),
    [("1,2", "1.2"), (" 1.2 ", "1.2"), ("17", "17"), ("-0,5", "-0.5"), ("1,2345", "1.2345")],
)
def test_a_decimal_comma_is_a_decimal_point(text, number):
    assert read_decimal(text) == Decimal(number)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1,200", "ambiguous: write 1200 for 1 thousand 200, or 1.2"),
        ("1,234.5", "without thousands separators"),
        ("1,2,3", "without thousands separators"),
        ("abc", "'abc' is not a number."),
        ("12a", "'12a' is not a number."),
        ("1.2.3", "is not a number"),
        ("NaN", "is not a number"),
    ],
)
def test_text_that_may_not_be_the_number_meant_is_refused_naming_it(text, says):
    with pytest.raises(NotANumber) as refused:
        read_decimal(text)
    assert says in str(refused.value)


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (LabPanel, {"sample_date": TOMORROW}, "sample_date"),
        (TaceSession, {"start_date": TOMORROW, "technique": "ctace"}, "start_date"),
        (
            TaceSession,
            {"start_date": dt.date(2023, 3, 1), "end_date": TOMORROW, "technique": "ctace"},
            "end_date",
        ),
        (FollowUp, {"contact_date": TOMORROW, "vital_status": "alive"}, "contact_date"),
    ],
)
def test_a_date_in_the_future_is_refused_at_its_field(model, fields, field):
    patient = make_patient()
    errors = errors_of(lambda: services.crf_record_save(record=model(patient=patient, **fields)))
    assert "is in the future" in " ".join(errors[field])
    assert not model.objects.exists()


@pytest.mark.django_db
def test_an_index_date_in_the_future_is_refused_at_enrolment():
    errors = errors_of(lambda: make_patient(index_date=TOMORROW))
    assert f"Index date {TOMORROW.isoformat()} is in the future" in errors["index_date"][0]


@pytest.mark.django_db
def test_the_index_date_cannot_follow_the_death_date():
    patient = make_patient(index_date=dt.date(2023, 3, 1))
    services.crf_record_save(
        record=Death(patient=patient, death_date=dt.date(2024, 1, 10), cause="unknown")
    )
    errors = errors_of(
        lambda: services.patient_update(patient=patient, index_date=dt.date(2024, 3, 1))
    )
    assert errors["index_date"] == [
        "Index date 2024-03-01 is after the death date 2024-01-10: the treatment line "
        "studied must start before the death."
    ]


@pytest.mark.django_db
def test_a_death_before_the_index_date_is_refused():
    patient = make_patient(index_date=dt.date(2023, 3, 1))
    errors = errors_of(
        lambda: services.crf_record_save(
            record=Death(patient=patient, death_date=dt.date(2023, 2, 1), cause="unknown")
        )
    )
    assert "before the index date 2023-03-01" in errors["death_date"][0]


@pytest.mark.django_db
def test_unknown_etiology_cannot_be_ticked_with_a_known_one():
    errors = errors_of(lambda: make_patient(etiology_hbv=True, etiology_unknown=True))
    assert "unknown and as HBV" in errors["etiology_unknown"][0]


@pytest.mark.django_db
def test_unknown_etiology_alone_is_accepted():
    patient = make_patient(etiology_hbv=False, antiviral_therapy=None, etiology_unknown=True)
    assert patient.etiologies == ["unknown"]

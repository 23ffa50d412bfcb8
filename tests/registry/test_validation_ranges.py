import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from registry import services
from registry.models import DataQualityFlag, LabPanel
from registry.rules import to_canonical

from .factories import make_patient

pytestmark = pytest.mark.django_db


def lab(patient, **values):
    fields = {"sample_date": dt.date(2023, 2, 20), "ascites": "none", "encephalopathy": "none"}
    fields.update(values)
    return services.crf_record_save(record=LabPanel(patient=patient, **fields))


def test_a_hard_range_names_the_field_the_value_and_the_range():
    patient = make_patient()

    with pytest.raises(ValidationError) as error:
        lab(patient, albumin_g_l=500)

    assert error.value.message_dict["albumin_g_l"] == [
        "Albumin 500 g/L is outside the allowed range 10–60 g/L."
    ]
    assert LabPanel.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_bilirubin_umol_l", 0.5),
        ("inr", 11),
        ("platelets_10e9_l", 2001),
        ("creatinine_umol_l", 9),
    ],
)
def test_each_lab_hard_range_rejects(field, value):
    with pytest.raises(ValidationError) as error:
        lab(make_patient(), **{field: value})

    assert field in error.value.message_dict


def test_body_weight_hard_range():
    with pytest.raises(ValidationError) as error:
        make_patient(body_weight_kg=20)

    assert "Body weight 20 kg is outside the allowed range 25–250 kg." in error.value.messages


def test_a_soft_range_saves_and_raises_a_flag():
    patient = make_patient()

    panel = lab(patient, albumin_g_l=22, total_bilirubin_umol_l=17, inr=1.1)

    flag = DataQualityFlag.objects.get(patient=patient, field="albumin_g_l")
    assert panel.pk is not None
    assert flag.status == "open"
    assert "Albumin 22 g/L is outside the expected range 25–55 g/L" in flag.message


def test_a_flag_is_resolved_when_the_value_is_corrected():
    patient = make_patient()
    panel = lab(patient, albumin_g_l=22)

    panel.albumin_g_l = 40
    services.crf_record_save(record=panel, reason="transcription error")

    assert DataQualityFlag.objects.get(patient=patient, field="albumin_g_l").status == "resolved"


@pytest.mark.parametrize(
    ("field", "value", "unit", "canonical"),
    [
        ("total_bilirubin_umol_l", 1.0, "mg/dL", "17.1"),
        ("albumin_g_l", 4.0, "g/dL", "40.0"),
        ("creatinine_umol_l", 1.0, "mg/dL", "88.4"),
        ("albumin_g_l", 40, "g/L", "40.0"),
        ("total_bilirubin_umol_l", "17", "µmol/L", "17.0"),
        ("total_bilirubin_umol_l", "1", "MG/DL", "17.1"),
    ],
)
def test_units_are_converted_to_the_canonical_unit(field, value, unit, canonical):
    assert to_canonical(field, value, unit) == Decimal(canonical)


@pytest.mark.parametrize(
    ("field", "entered", "unit", "stored"),
    [
        # CRF.md §2: converted at full precision, rounded once (half away from zero) to the
        # stored precision. Each case was rounded twice before (to 2 places, then to 1, half
        # to even) and stored the other way.
        ("total_bilirubin_umol_l", "1.997", "mg/dL", "34.1"),  # 34.1487, not 34.15 -> 34.2
        ("albumin_g_l", "2.7949", "g/dL", "27.9"),  # 27.949, not 27.95 -> 28.0
        ("albumin_g_l", "3.505", "g/dL", "35.1"),  # exactly 35.05: half away from zero
        ("creatinine_umol_l", "0.194", "mg/dL", "17.1"),  # 17.1496, not 17.15 -> 17.2
        ("creatinine_umol_l", "0.203", "mg/dL", "17.9"),  # 17.9452, not 17.95 -> 18.0
    ],
)
def test_a_converted_value_is_rounded_once_to_the_stored_precision(field, entered, unit, stored):
    assert to_canonical(field, Decimal(entered), unit) == Decimal(stored)


def test_an_unknown_unit_is_refused_by_name():
    with pytest.raises(ValidationError) as error:
        to_canonical("albumin_g_l", 4, "mmol/L")

    assert "'mmol/L' is not accepted" in str(error.value)


def test_birth_year_in_the_future_is_rejected():
    with pytest.raises(ValidationError) as error:
        make_patient(birth_year=dt.date.today().year + 1)

    assert "birth_year" in error.value.message_dict

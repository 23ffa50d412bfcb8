import pytest
from django.core.exceptions import ValidationError

from registry import services
from registry.models import Patient

from .factories import make_patient, make_site

pytestmark = pytest.mark.django_db


def test_it_assigns_study_ids_from_the_site_code_and_a_sequence():
    site = make_site("NT")

    first, second = make_patient(site), make_patient(site)

    assert (first.study_id, second.study_id) == ("NT-0001", "NT-0002")


def test_it_never_reuses_a_study_id_after_a_delete():
    site = make_site("NT")
    first = make_patient(site)
    first.delete()

    assert make_patient(site).study_id == "NT-0002"


def test_it_rejects_a_second_patient_with_the_same_site_reference():
    site = make_site()
    make_patient(site, site_patient_ref="MRN-1")

    with pytest.raises(ValidationError) as error:
        make_patient(site, site_patient_ref="MRN-1")

    assert "__all__" in error.value.message_dict
    assert Patient.objects.count() == 1


def test_it_requires_at_least_one_etiology():
    with pytest.raises(ValidationError) as error:
        make_patient(etiology_hbv=False)

    assert "at least one" in str(error.value.message_dict["etiology_unknown"])


def test_it_requires_antiviral_status_when_hbv():
    with pytest.raises(ValidationError) as error:
        make_patient(antiviral_therapy=None)

    assert "antiviral_therapy" in error.value.message_dict


def test_it_rejects_a_diagnosis_after_the_index_date():
    import datetime as dt

    with pytest.raises(ValidationError) as error:
        make_patient(diagnosis_date=dt.date(2024, 1, 1), index_date=dt.date(2023, 1, 1))

    assert "2024-01-01" in error.value.message_dict["diagnosis_date"][0]


def test_bclc_override_needs_a_reason():
    patient = make_patient()

    with pytest.raises(ValidationError) as error:
        services.patient_update(patient=patient, bclc_stage_override="C")

    assert "bclc_override_reason" in error.value.message_dict

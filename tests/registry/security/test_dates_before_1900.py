"""Issue 17 item 10: dates before 1900 are refused (CRF §1: birth year 1900 at the earliest, so
no date of a case can precede it), at the field, by every entry path."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from registry import services
from registry.models import LabPanel
from tests.registry.api.conftest import token_client
from tests.registry.factories import make_data_manager, make_patient, make_site

pytestmark = pytest.mark.django_db


def test_a_lab_date_of_1899_is_refused_at_its_field():
    site = make_site("NT")
    patient = make_patient(site, make_data_manager(site))
    panel = LabPanel(patient=patient, sample_date=dt.date(1899, 12, 31), albumin_g_l=40)

    with pytest.raises(ValidationError) as refused:
        services.crf_record_save(record=panel, user=None)

    assert "sample_date" in refused.value.message_dict
    assert "before 1900" in refused.value.message_dict["sample_date"][0]


def test_a_diagnosis_date_of_1899_is_refused_through_the_api():
    site = make_site("NT")
    manager = make_data_manager(site)
    patient = make_patient(site, manager)

    response = token_client(manager).patch(
        f"/api/v1/patients/{patient.study_id}/",
        {"diagnosis_date": "1899-12-31", "version": patient.version},
        format="json",
    )

    assert response.status_code == 400
    assert "diagnosis_date" in response.json()


def test_the_first_day_of_1900_is_not_refused_for_being_early():
    from registry.validation import typed_date_errors

    assert typed_date_errors(LabPanel(sample_date=dt.date(1900, 1, 1))) == {}
    assert "sample_date" in typed_date_errors(LabPanel(sample_date=dt.date(1899, 12, 31)))

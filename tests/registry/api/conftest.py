"""Two sites, a data manager with an API token at each, and a patient with a full record."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from registry import services
from registry.models import LabPanel, TaceSession, TumourAssessment

from ..factories import INDEX_DATE, make_data_manager, make_patient, make_site


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def site(db):
    return make_site("NT", "Nantong Tumor Hospital")


@pytest.fixture
def other_site(db):
    return make_site("ZS", "Zhongshan Hospital")


@pytest.fixture
def manager(site):
    return make_data_manager(site)


@pytest.fixture
def other_manager(other_site):
    return make_data_manager(other_site)


@pytest.fixture
def api(manager) -> APIClient:
    return token_client(manager)


@pytest.fixture
def other_api(other_manager) -> APIClient:
    return token_client(other_manager)


@pytest.fixture
def patient(site, manager):
    patient = make_patient(site, manager, site_patient_ref="NT-SECRET-0001")
    services.crf_record_save(
        record=LabPanel(
            patient=patient,
            sample_date=INDEX_DATE - dt.timedelta(days=5),
            albumin_g_l=40,
            total_bilirubin_umol_l=17,
            inr=1.1,
            ascites="none",
            encephalopathy="none",
        ),
        user=manager,
    )
    services.crf_record_save(
        record=TumourAssessment(
            patient=patient,
            imaging_date=INDEX_DATE - dt.timedelta(days=10),
            tumour_number=2,
            max_diameter_cm=4,
        ),
        user=manager,
    )
    services.crf_record_save(
        record=TaceSession(patient=patient, start_date=INDEX_DATE, technique="ctace"),
        user=manager,
    )
    patient.refresh_from_db()
    return patient

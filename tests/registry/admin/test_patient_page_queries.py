"""The patient page reads each CRF section once, however many rows the section has."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import services
from registry.models import (
    AdverseEvent,
    DataQuery,
    FollowUp,
    ImagingAssessment,
    LabPanel,
    LesionMeasurement,
    SystemicTherapy,
    TaceSession,
)
from tests.registry.factories import ctcae, make_patient

from .conftest import change_url

pytestmark = pytest.mark.django_db

START = dt.date(2023, 3, 1)
TERMS = ("fever", "diarrhea", "vomiting", "hypertension", "abdominal_pain", "rash_maculo_papular")


def add_rows(patient, user, monitor, n: int) -> None:
    """``n`` rows in every section a full record grows: sessions, scans, events, labs, ..."""

    def save(record):
        return services.crf_record_save(record=record, user=user)

    with services.patient_refresh_deferred():
        for i in range(n):
            day = START + dt.timedelta(days=40 * i)
            save(
                LabPanel(
                    patient=patient,
                    sample_date=day - dt.timedelta(days=5),
                    albumin_g_l=38,
                    total_bilirubin_umol_l=17,
                    inr=1.1,
                    ascites="none",
                    encephalopathy="none",
                )
            )
            save(
                TaceSession(
                    patient=patient, start_date=day, technique="ctace", session_number=i + 1
                )
            )
            save(SystemicTherapy(patient=patient, start_date=day, agent="lenvatinib"))
            scan = save(
                ImagingAssessment(
                    patient=patient,
                    assessment_date=day - dt.timedelta(days=2),
                    modality="ct",
                    is_baseline=i == 0,
                )
            )
            save(LesionMeasurement(assessment=scan, lesion_number=1, diameter_mm=40 - i))
            save(
                AdverseEvent(
                    patient=patient,
                    term=ctcae(TERMS[i % len(TERMS)]),
                    grade=1,
                    onset_date=day + dt.timedelta(days=3),
                    attribution="local",
                )
            )
            save(
                FollowUp(
                    patient=patient, contact_date=day + dt.timedelta(days=30), vital_status="alive"
                )
            )
            DataQuery.objects.create(patient=patient, opened_by=monitor, field="ecog_ps")


def page_queries(client, patient) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(change_url(patient))
    assert response.status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_rows_of_each_section(
    client_for, manager, monitor, nantong
):
    one, six = make_patient(nantong, user=manager), make_patient(nantong, user=manager)
    add_rows(one, manager, monitor, 1)
    add_rows(six, manager, monitor, 6)
    client = client_for(manager)
    client.get(change_url(one))  # session and permission caches warm, as for a user at work

    assert page_queries(client, six) == page_queries(client, one)


def test_each_adverse_event_row_offers_only_its_own_term_not_the_whole_ctcae_list(
    client_for, manager, monitor, patient
):
    add_rows(patient, manager, monitor, 2)

    page = client_for(manager).get(change_url(patient)).content.decode()

    for row in (0, 1):
        select = re.search(rf'<select name="adverse_events-{row}-term".*?</select>', page, re.S)
        assert select is not None
        assert select.group(0).count("<option") == 1
        assert "admin-autocomplete" in select.group(0)

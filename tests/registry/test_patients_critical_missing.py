"""What many records miss before completion, read in a fixed number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import services
from registry.models import Death, FollowUp, SystemicTherapy

from .admin.helpers import complete_case
from .factories import make_patient, make_site

pytestmark = pytest.mark.django_db


def test_it_agrees_with_the_one_patient_check_for_every_kind_of_gap():
    site = make_site()
    bare = make_patient(site, ecog_ps=None)
    complete = make_patient(site)
    complete_case(complete)
    treated = make_patient(site)
    services.crf_record_save(
        record=SystemicTherapy(patient=treated, start_date=dt.date(2023, 3, 2), agent="lenvatinib")
    )
    dead = make_patient(site)
    services.crf_record_save(
        record=Death(patient=dead, death_date=dt.date(2023, 9, 1), cause="unknown")
    )
    patients = [bare, complete, treated, dead]

    many = services.patients_critical_missing(p.pk for p in patients)

    assert many == {p.pk: services.critical_missing(p) for p in patients}
    assert many[complete.pk] == []
    assert "treatment" not in many[treated.pk]


def test_it_reads_two_tables_however_many_patients():
    site = make_site()
    few = [make_patient(site)]
    many = few + [make_patient(site) for _ in range(5)]
    for patient in many:
        complete_case(patient)
        services.crf_record_save(
            record=FollowUp(
                patient=patient, contact_date=dt.date(2023, 10, 1), vital_status="alive"
            )
        )

    with CaptureQueriesContext(connection) as one:
        services.patients_critical_missing(p.pk for p in few)
    with CaptureQueriesContext(connection) as six:
        services.patients_critical_missing(p.pk for p in many)

    assert len(one) == len(six) == 2

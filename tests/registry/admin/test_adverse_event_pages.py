"""The adverse-event list and page: the CTCAE term is read with the rows and searched, not listed."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import services
from registry.models import AdverseEvent
from tests.registry.factories import ctcae

from .conftest import change_url

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/registry/adverseevent/"


def add_events(patient, user, terms) -> list[AdverseEvent]:
    return [
        services.crf_record_save(
            record=AdverseEvent(
                patient=patient,
                term=ctcae(code),
                grade=1,
                onset_date=dt.date(2023, 3, 3),
                attribution="local",
            ),
            user=user,
        )
        for code in terms
    ]


def list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL)
    assert response.status_code == 200
    return len(queries)


def test_the_list_does_not_query_each_rows_term(client_for, manager, patient):
    client = client_for(manager)
    add_events(patient, manager, ["fever"])
    one = list_queries(client)
    add_events(patient, manager, ["diarrhea", "vomiting", "hypertension"])

    assert list_queries(client) == one


def test_the_event_page_offers_its_term_not_the_whole_ctcae_list(client_for, manager, patient):
    (event,) = add_events(patient, manager, ["fever"])

    page = client_for(manager).get(change_url(event)).content.decode()

    start = page.index('<select name="term"')
    select = page[start : page.index("</select>", start)]
    assert select.count("<option") == 1
    assert ">Fever</option>" in select

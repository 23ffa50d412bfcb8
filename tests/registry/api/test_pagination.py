"""Keyset pages without COUNT(*), and the bounded limit/offset kept for small lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator

from registry.api import pagination

from ..factories import make_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def five(site, manager, patient):
    return [patient] + [make_patient(site, manager) for _ in range(4)]


def test_following_next_reads_every_patient_once_in_study_id_order(api, five):
    seen, url, pages = [], "/api/v1/patients/?page_size=2", 0
    while url:
        body = api.get(url).json()
        seen += [p["study_id"] for p in body["results"]]
        url, pages = body["next"], pages + 1

    assert seen == sorted(p.study_id for p in five)
    assert pages == 3
    assert "count" not in body


def test_previous_leads_back_to_the_same_rows(api, five):
    first = api.get("/api/v1/patients/?page_size=2").json()
    second = api.get(first["next"]).json()

    back = api.get(second["previous"]).json()

    assert back["results"] == first["results"]


def test_a_cursor_page_never_counts_the_list(api, five):
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/patients/", {"page_size": 2})

    assert response.status_code == 200
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_a_cursor_filtered_by_a_field_keeps_the_filter_on_the_next_page(api, five):
    first = api.get("/api/v1/patients/", {"sex": "male", "page_size": 3}).json()
    rest = api.get(first["next"]).json()

    assert len(first["results"]) + len(rest["results"]) == 5
    assert "sex=male" in first["next"]


def test_limit_and_offset_still_page_a_small_list_with_its_count(api, five):
    body = api.get("/api/v1/patients/", {"limit": 2, "offset": 2}).json()

    assert body["count"] == 5
    assert body["count_capped"] is False
    assert [p["study_id"] for p in body["results"]] == sorted(p.study_id for p in five)[2:4]
    assert "offset=4" in body["next"]


def test_the_last_offset_page_has_no_next(api, five):
    body = api.get("/api/v1/patients/", {"limit": 2, "offset": 4}).json()

    assert len(body["results"]) == 1
    assert body["next"] is None


def test_above_the_cap_the_count_is_null_not_a_guess(api, five, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)

    body = api.get("/api/v1/patients/", {"limit": 2}).json()

    assert body["count"] is None
    assert body["count_capped"] is True
    assert len(body["results"]) == 2
    assert "offset=2" in body["next"]


def test_an_offset_beyond_the_largest_offered_is_refused_naming_the_rule(api, five):
    response = api.get("/api/v1/patients/", {"offset": pagination.MAX_OFFSET + 1})

    assert response.status_code == 400
    message = str(response.json())
    assert "offset" in message
    assert str(pagination.MAX_OFFSET + 1) in message
    assert "cursor" in message


def test_an_offset_that_is_not_a_number_is_refused(api, five):
    response = api.get("/api/v1/patients/", {"offset": "ten"})

    assert response.status_code == 400
    assert "'ten'" in str(response.json())


def test_the_page_size_is_capped(api, five, monkeypatch):
    monkeypatch.setattr(pagination.RegistryPagination, "max_page_size", 2)

    body = api.get("/api/v1/patients/", {"page_size": 100}).json()

    assert len(body["results"]) == 2


def test_the_schema_documents_the_cursor_and_the_missing_count():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/patients/"]["get"]
    page = schema["components"]["schemas"]["PaginatedPatientList"]

    assert {"cursor", "page_size", "limit", "offset"} <= {
        p["name"] for p in operation["parameters"]
    }
    assert page["required"] == ["results"]
    assert "No total" in page["description"]
    assert page["properties"]["count"]["nullable"] is True

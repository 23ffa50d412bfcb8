"""Admin lists never count a whole table: a bounded count, the planner's estimate above it."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.admin import large_lists
from registry.admin.base import RegistryModelAdmin
from registry.admin.large_lists import EstimatedCountPaginator, planner_estimate
from registry.models import Patient
from tests.registry.factories import make_patient

pytestmark = pytest.mark.django_db

LIST = "/admin/registry/patient/"


@pytest.fixture
def five(nantong, manager):
    return [make_patient(nantong, manager) for _ in range(5)]


def test_every_registry_list_hides_the_full_count_and_bounds_its_count():
    lists = [a for a in admin.site._registry.values() if isinstance(a, RegistryModelAdmin)]
    assert {"Patient", "LabPanel", "DataQualityFlag"} <= {a.model.__name__ for a in lists}
    for model_admin in lists:
        model = model_admin.model
        assert model_admin.show_full_result_count is False, model
        assert model_admin.paginator is EstimatedCountPaginator, model


def test_the_patient_list_counts_no_more_rows_than_the_cap(client_for, manager, five):
    client = client_for(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)

    assert response.status_code == 200
    counts = [q["sql"] for q in queries if q["sql"].upper().startswith("SELECT COUNT(")]
    assert counts, "the paginator counts the filtered list"
    assert all("LIMIT" in sql.upper() for sql in counts), counts
    for patient in five:
        assert patient.study_id in response.content.decode()


def test_up_to_the_cap_the_count_is_exact(five):
    assert EstimatedCountPaginator(Patient.objects.all(), 2).count == 5
    assert EstimatedCountPaginator(Patient.objects.filter(pk=five[0].pk), 2).count == 1


def test_above_the_cap_without_a_planner_the_count_stays_exact(five, monkeypatch):
    monkeypatch.setattr(large_lists, "COUNT_CAP", 3)
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL estimates: see the next test")

    assert planner_estimate(Patient.objects.all()) is None
    assert EstimatedCountPaginator(Patient.objects.all(), 2).count == 5


def test_above_the_cap_postgresql_gives_its_estimate_never_below_the_cap(five, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's planner")
    monkeypatch.setattr(large_lists, "COUNT_CAP", 3)

    estimate = planner_estimate(Patient.objects.all())
    paginator = EstimatedCountPaginator(Patient.objects.all(), 2)

    assert isinstance(estimate, int)
    assert paginator.count == max(estimate, 4)
    assert len(paginator.page(1).object_list) == 2

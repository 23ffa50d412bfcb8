"""The admin patient list costs the same number of queries at 5 and at 50 patients: per
filter, search and sort, not a query per row shown."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics.models import ArmDefinition
from tests.registry.factories import make_patient
from tests.registry.scale import fill_record, grow_site

pytestmark = pytest.mark.django_db

LIST = "/admin/registry/patient/"


def _views(nantong) -> dict[str, dict]:
    arm = ArmDefinition.objects.order_by("pk").first()
    views = {
        "default": {},
        "site": {"site": str(nantong.pk)},
        "status": {"status__exact": "draft"},
        "bclc": {"bclc_stage__exact": "B"},
        "refractory": {"refractory": "jsh_lcsgj_2014:not_refractory"},
        "search": {"q": "NT-00"},
        "sort by open flags": {"o": "8"},
        "sort by completeness": {"o": "-5"},
    }
    if arm is not None:
        views["arm"] = {"arm": str(arm.pk)}
    return views


def _queries(client, params) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, params)
    assert response.status_code == 200, params
    return len(queries), response.content.decode()


def test_the_patient_list_costs_the_same_at_5_and_50_patients(
    client_for, manager, monitor, nantong
):
    template = fill_record(make_patient(nantong, manager), manager, monitor)
    grow_site(nantong, manager, template, 5)
    client = client_for(manager)
    client.get(LIST)  # session and permission caches warm, as for a user at work
    views = _views(nantong)
    assert "arm" in views  # Report A's arms come with the migrations
    small = {name: _queries(client, params)[0] for name, params in views.items()}

    patients = grow_site(nantong, manager, template, 50)
    large = {name: _queries(client, params)[0] for name, params in views.items()}

    assert small == large
    page = _queries(client, {})[1]
    assert sum(p.study_id in page for p in patients) == 50

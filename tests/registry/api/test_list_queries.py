"""Every list of the API reads a page in the same number of queries at 5 and at 50 patients.

A serializer that reaches into a relation per row, or a list that counts its rows, shows as a
query count that grows with the site: 5 and 50 patients (each with a row in every section) must
cost the same. The pages hold every row (page_size 100), so a per-row query would show.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.api.urls import router
from registry.models import ImportJob

from ..factories import make_patient
from ..scale import fill_record, grow_site

pytestmark = pytest.mark.django_db

LISTS = [
    f"/api/v1/{prefix}/"
    for prefix, viewset, _ in router.registry
    if prefix != "exports" and hasattr(viewset, "list")
]


def _jobs(site, user, n: int) -> None:
    ImportJob.objects.bulk_create(
        ImportJob(
            site=site,
            created_by=user,
            original_filename=f"file-{i}.xlsx",
            status=ImportJob.Status.COMMITTED,
        )
        for i in range(n - ImportJob.objects.filter(site=site).count())
    )


def _queries(api, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, {"page_size": 100})
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries), len(response.json()["results"])


def test_every_list_is_read_in_as_many_queries_for_50_patients_as_for_5(api, site, manager):
    template = fill_record(make_patient(site, manager), manager)
    grow_site(site, manager, template, 5)
    _jobs(site, manager, 5)
    api.get("/api/v1/sites/")  # token and session caches warm, as for a client at work
    small = {url: _queries(api, url) for url in LISTS}

    grow_site(site, manager, template, 50)
    _jobs(site, manager, 50)
    large = {url: _queries(api, url) for url in LISTS}

    grew = {url: (small[url], large[url]) for url in LISTS if small[url][0] != large[url][0]}
    assert grew == {}
    # The lists did grow: the same query count reads ten times the rows.
    assert small["/api/v1/patients/"][1] == 5
    assert large["/api/v1/patients/"][1] == 50
    assert large["/api/v1/lesion-measurements/"][1] == 50
    assert large["/api/v1/imports/"][1] == 50
    assert len(LISTS) >= 17

"""The analytics API lists (runs, cohorts, arms) read a page in the same number of queries
whatever the number of patients and runs: no per-row query, no count of the list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.analytics.test_run_helpers import queue_run, seed_arms, world
from tests.registry.factories import make_data_manager, make_patient
from tests.registry.scale import fill_record, grow_site

__all__ = ["world"]

LISTS = ("/api/v1/analytics/runs/", "/api/v1/analytics/cohorts/", "/api/v1/analytics/arms/")


def _queries(api, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, {"page_size": 100})
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries), len(response.json()["results"])


@pytest.mark.django_db
def test_the_analytics_lists_cost_the_same_at_5_and_50_patients(world):
    manager = make_data_manager(world.nt, "dm-nt-entry")
    template = fill_record(make_patient(world.nt, manager), manager)
    seed_arms()
    api = APIClient()
    api.force_authenticate(world.nt_investigator)
    grow_site(world.nt, manager, template, 5)
    for _ in range(2):
        queue_run(world.nt_investigator, world.nt_cohort)
    api.get(LISTS[0])  # permission caches warm
    small = {url: _queries(api, url) for url in LISTS}

    grow_site(world.nt, manager, template, 50)
    for _ in range(10):
        queue_run(world.nt_investigator, world.nt_cohort)
    large = {url: _queries(api, url) for url in LISTS}

    assert {url: small[url][0] for url in LISTS} == {url: large[url][0] for url in LISTS}
    assert (small[LISTS[0]][1], large[LISTS[0]][1]) == (2, 12)

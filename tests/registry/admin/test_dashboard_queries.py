"""The site dashboard runs the same queries for one draft record or many."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.admin.dashboard import site_dashboard
from tests.registry.factories import make_patient

from .helpers import complete_case

pytestmark = pytest.mark.django_db


def dashboard_queries(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        site_dashboard(user)
    return len(queries)


def test_the_missing_fields_check_does_not_query_per_draft(manager, nantong):
    complete_case(make_patient(nantong, user=manager), user=manager)
    one_draft = dashboard_queries(manager)
    for _ in range(5):
        complete_case(make_patient(nantong, user=manager), user=manager)
    make_patient(nantong, user=manager)  # and a bare one

    assert dashboard_queries(manager) == one_draft

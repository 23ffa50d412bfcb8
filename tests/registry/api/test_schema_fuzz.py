"""Schemathesis against the OpenAPI schema: generated requests never get a 5xx answer.

Every operation of ``/api/v1/`` (analytics endpoints excluded: another app's schema) gets up to
``MAX_EXAMPLES`` generated requests, authenticated as a site data manager whose site holds a
patient with records — several hundred requests in all (``test_it_fuzzes_several_hundred``
checks the operation count).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from config.wsgi import application

MAX_EXAMPLES = 6


def _load_schema():
    """The schema as /api/schema/ serves it; that page now needs a signed-in user, which does
    not exist while tests are collected, so the generator behind it is asked directly."""
    import json

    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.renderers import JSONRenderer

    raw = json.loads(JSONRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application
    return loaded


schema = _load_schema().include(path_regex=r"^/api/v1/(?!analytics)")


@pytest.fixture
def fuzz_token(patient, manager) -> str:
    """The data manager's token; requests go straight to the WSGI app inside the test
    transaction, so the app must not close the connection at the end of each request (Django's
    own test client disconnects the same handlers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    token, _ = Token.objects.get_or_create(user=manager)
    yield token.key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_it_fuzzes_several_hundred_requests():
    operations = list(schema.get_all_operations())

    assert len(operations) * MAX_EXAMPLES >= 300


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_never_answers_with_a_server_error(case, fuzz_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {fuzz_token}"}, checks=[not_a_server_error]
    )

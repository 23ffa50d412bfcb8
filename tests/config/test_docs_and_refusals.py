"""Issue 15 (around the screens) and issue 17 item 10: the API documentation works offline and
for signed-in users only; a refused page is a page in the registry's layout and one log line."""

from __future__ import annotations

import logging

import pytest

from tests.registry.factories import make_data_manager, make_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return make_data_manager(make_site("NT"))


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_load_their_scripts_from_the_registry_not_a_cdn(client, manager, path):
    client.force_login(manager)

    page = client.get(path).content.decode()

    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn.jsdelivr.net" not in page
    assert "unpkg.com" not in page


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_the_schema_and_docs_are_for_signed_in_users_only(client, path):
    assert client.get(path).status_code in (401, 403)


def test_the_schema_is_served_to_a_signed_in_user(client, manager):
    client.force_login(manager)

    assert client.get("/api/schema/").status_code == 200


def test_a_refused_page_says_why_in_the_registry_layout_and_logs_one_line(client, manager, caplog):
    client.force_login(manager)

    with caplog.at_level(logging.INFO):
        response = client.get("/analytics/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "You do not have access to this page" in page
    assert "Analyses need analysis rights" in page
    assert 'href="/admin/"' in page
    refusals = [r for r in caplog.records if r.name == "django.request"]
    assert len(refusals) == 1
    assert refusals[0].exc_info is None
    assert "Traceback" not in caplog.text

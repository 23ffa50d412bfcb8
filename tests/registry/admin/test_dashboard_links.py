"""The dashboard links only to pages the user may open (no dead ends)."""

import pytest

from tests.registry.factories import make_data_manager, make_site, make_user

pytestmark = pytest.mark.django_db


def test_a_data_manager_sees_import_and_export_but_not_analyses(client):
    site = make_site()
    client.force_login(make_data_manager(site))

    page = client.get("/admin/").content.decode()

    assert 'href="/imports/"' in page
    assert 'href="/exports/"' in page
    assert 'href="/analytics/"' not in page


def test_a_registry_investigator_sees_analyses_but_not_import(client):
    make_site()
    client.force_login(make_user("inv", "registry_investigator", None, is_staff=True))

    page = client.get("/admin/").content.decode()

    assert 'href="/analytics/"' in page
    assert 'href="/imports/"' not in page


def test_the_admin_is_titled_as_the_registry(client):
    client.force_login(make_data_manager(make_site()))

    assert "HCC registry" in client.get("/admin/").content.decode()

"""The site dashboard on the admin index, and every admin page with demo data."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command

from registry.models import DataQuery

pytestmark = pytest.mark.django_db


def test_the_dashboard_counts_patients_of_the_users_site_by_status(
    client_for, manager, patient, other_patient
):
    response = client_for(manager).get("/admin/")

    page = response.content.decode()
    assert "Site dashboard" in page
    assert "<td>NT</td><td>1</td>" in page
    assert "<td>SH</td>" not in page


def test_the_dashboard_lists_missing_critical_fields(client_for, manager, patient):
    page = client_for(manager).get("/admin/").content.decode()

    assert patient.study_id in page
    assert "baseline lab panel" in page


def test_the_dashboard_lists_open_queries(client_for, manager, monitor, patient):
    DataQuery.objects.create(patient=patient, opened_by=monitor, field="ecog_ps")

    page = client_for(manager).get("/admin/").content.decode()

    assert "Open queries: 1" in page


def test_the_dashboard_links_to_bulk_import_and_exports(client_for, manager, patient):
    page = client_for(manager).get("/admin/").content.decode()

    assert 'href="/imports/"' in page
    assert 'href="/exports/"' in page


@pytest.mark.parametrize("username", ["dm_nt", "monitor_nt", "investigator", "admin"])
def test_every_admin_page_renders_with_demo_data(client, username):
    call_command("seed_demo", "--patients-scale", "0.01", stdout=open("/dev/null", "w"))  # noqa: SIM115
    user = get_user_model().objects.get(username=username)
    client.force_login(user)
    urls = ["/admin/"]
    for model in admin.site._registry:
        if model._meta.app_label != "registry":
            continue
        base = f"/admin/registry/{model._meta.model_name}/"
        urls.append(base)
        urls += [f"{base}{pk}/change/" for pk in model.objects.values_list("pk", flat=True)[:2]]

    failures = [(url, code) for url in urls if (code := client.get(url).status_code) >= 500]

    assert failures == []

"""The /imports/ page for logged-in staff: upload, dry run report, commit, template download."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.imports.synthetic import as_workbook, synthetic_rows
from registry.models import ImportJob, Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, manager):
    client.force_login(manager)
    return client


def test_it_sends_anonymous_users_to_the_login(client):
    response = client.get("/imports/")

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_dry_run_upload_shows_its_errors(logged_in, site):
    rows = synthetic_rows(2)
    rows["labs"][2]["inr"] = 42
    upload = SimpleUploadedFile("registry.xlsx", as_workbook(rows))

    response = logged_in.post(
        "/imports/", {"site": site.pk, "files": [upload], "dry_run": "on"}, follow=True
    )

    page = response.content.decode()
    assert "1 error" in page
    assert "INR 42 is outside the allowed range" in page
    assert Patient.objects.count() == 0


def test_a_clean_dry_run_can_be_committed(logged_in, site):
    upload = SimpleUploadedFile("registry.xlsx", as_workbook(synthetic_rows(2)))
    logged_in.post("/imports/", {"site": site.pk, "files": [upload], "dry_run": "on"})
    dry_run = ImportJob.objects.get()
    assert dry_run.status == "valid"

    response = logged_in.post(f"/imports/jobs/{dry_run.pk}/commit/", follow=True)

    assert "Committed" in response.content.decode()
    assert Patient.objects.filter(site=site).count() == 2


def test_it_offers_the_template_workbook(logged_in):
    response = logged_in.get("/imports/template.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_export_page_links_the_downloads(logged_in):
    response = logged_in.get("/exports/")

    assert response.status_code == 200
    assert "/exports/download/workbook/" in response.content.decode()

"""Import through the API: dry run then commit, and the background job through a real worker."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from registry.imports.synthetic import as_csv_files, as_workbook, synthetic_rows
from registry.models import ImportJob, Patient

from .conftest import token_client


def upload(api, data, name="registry.xlsx", **fields):
    return api.post(
        "/api/v1/imports/",
        {"site": "NT", "file": [SimpleUploadedFile(name, data)], **fields},
        format="multipart",
    )


@pytest.mark.django_db
def test_a_dry_run_returns_errors_and_counts(api, site):
    rows = synthetic_rows(2)
    rows["tace"][1]["chemo_dose_mg"] = 500

    response = upload(api, as_workbook(rows), dry_run=True)

    assert response.status_code == 201
    assert response.data["status"] == "invalid"
    assert response.data["errors"][0]["sheet"] == "tace"
    assert response.data["errors"][0]["row"] == 3
    assert response.data["errors"][0]["column"] == "chemo_dose_mg"
    assert response.data["counts"]["patients"]["created"] == 2
    assert Patient.objects.count() == 0


@pytest.mark.django_db
def test_it_commits_one_csv_per_section(api, site):
    files = [SimpleUploadedFile(n, d) for n, d in as_csv_files(synthetic_rows(2))]

    response = api.post(
        "/api/v1/imports/", {"site": "NT", "file": files, "dry_run": False}, format="multipart"
    )

    assert response.status_code == 201, response.data
    assert response.data["status"] == "committed"
    assert Patient.objects.filter(site=site).count() == 2


@pytest.mark.django_db
def test_an_unreadable_file_is_rejected_with_a_reason(api, site):
    response = upload(api, b"not a workbook", "registry.xlsx", dry_run=False)

    assert response.data["status"] == "invalid"
    assert "not a readable XLSX" in response.data["errors"][0]["reason"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_large_file_runs_as_a_background_job_through_a_real_worker(
    celery_worker_process, site, manager
):
    api = token_client(manager)
    with override_settings(REGISTRY_IMPORT_SYNC_MAX_ROWS=10):
        response = upload(api, as_workbook(synthetic_rows(3)), dry_run=False)

    assert response.status_code == 202, response.data
    job_id = response.data["id"]
    deadline = time.monotonic() + 180
    job = ImportJob.objects.get(pk=job_id)
    while job.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        job.refresh_from_db()
    assert job.status == "committed", (job.status, job.errors, job.error_message)
    assert job.progress_pct == 100
    assert Patient.objects.filter(site=site).count() == 3


@pytest.mark.django_db
def test_a_registry_admin_does_not_see_the_sites_references_in_job_errors(api, site):
    from registry.choices import Role

    from ..factories import make_user

    rows = synthetic_rows(1, ref_prefix="NT-SECRET")
    rows["labs"][0]["site_patient_ref"] = "NT-SECRET-UNKNOWN"
    job_id = upload(api, as_workbook(rows), dry_run=True).data["id"]
    admin = token_client(make_user("admin", Role.REGISTRY_ADMIN))

    response = admin.get(f"/api/v1/imports/{job_id}/")

    assert response.data["errors"][0]["column"] == "site_patient_ref"
    assert response.data["errors"][0]["value"] == "(hidden)"
    assert "NT-SECRET" not in response.content.decode()

"""Issue 17 item 5: every upload is bounded, each bound a setting, each refusal a clear message.

Nothing is a server error and no job is left queued or running: a refused file is an
"invalid" job (or a 400 before anything is stored) whose message names the bound.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.imports.parsing import ImportFileError, read_upload
from registry.imports.synthetic import as_csv_files, as_workbook, synthetic_rows
from registry.imports.workbook import csv_bytes
from registry.models import ImportJob, Patient
from tests.registry.api.conftest import token_client
from tests.registry.factories import make_data_manager, make_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return make_site("NT")


@pytest.fixture
def manager(site):
    return make_data_manager(site)


def upload(client, site, name: str, data: bytes):
    return client.post(
        "/imports/",
        {"site": site.pk, "files": [SimpleUploadedFile(name, data)], "dry_run": "on"},
        follow=True,
    )


def test_a_file_above_the_upload_size_is_refused_before_it_is_stored(
    client, site, manager, settings
):
    settings.REGISTRY_IMPORT_MAX_UPLOAD_BYTES = 1000
    client.force_login(manager)

    response = upload(client, site, "labs.csv", b"x" * 1001)

    assert response.status_code == 200
    assert "REGISTRY_IMPORT_MAX_UPLOAD_BYTES" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_the_api_refuses_an_oversized_upload_with_400(site, manager, settings):
    settings.REGISTRY_IMPORT_MAX_UPLOAD_BYTES = 1000
    api = token_client(manager)

    response = api.post(
        "/api/v1/imports/",
        {"site": "NT", "file": [SimpleUploadedFile("labs.csv", b"x" * 1001)]},
        format="multipart",
    )

    assert response.status_code == 400
    assert "at most 0.0 MB" in str(response.json()) or "MAX_UPLOAD" in str(response.json())
    assert ImportJob.objects.count() == 0


def test_a_million_columns_is_one_clear_error_not_a_million(client, site, manager):
    client.force_login(manager)
    header = ",".join(["site_patient_ref", *[f"c{i}" for i in range(1_000_000)]])

    response = upload(client, site, "labs.csv", (header + "\nMRN-1\n").encode())

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.INVALID
    assert len(job.errors) == 1
    assert "1,000,001 columns" in job.errors[0]["reason"]
    assert "REGISTRY_IMPORT_MAX_COLUMNS" in response.content.decode()


def test_a_zip_expanding_beyond_the_bound_is_refused_unread(settings):
    settings.REGISTRY_IMPORT_MAX_EXPANDED_BYTES = 100_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("labs.csv", "site_patient_ref,inr\n" + "MRN-1,1.0\n" * 20_000)

    with pytest.raises(ImportFileError, match="REGISTRY_IMPORT_MAX_EXPANDED_BYTES"):
        read_upload(buffer.getvalue(), "bomb.zip")


def test_an_xlsx_expanding_beyond_the_bound_is_refused_unread(settings):
    data = as_workbook(synthetic_rows(50))
    settings.REGISTRY_IMPORT_MAX_EXPANDED_BYTES = 10_000

    with pytest.raises(ImportFileError, match="expands to"):
        read_upload(data, "registry.xlsx")


def test_too_many_rows_across_the_files_of_a_zip_are_refused(settings):
    settings.REGISTRY_IMPORT_MAX_ROWS = 30
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in as_csv_files(synthetic_rows(10)):
            archive.writestr(name, data)

    with pytest.raises(ImportFileError, match="more than 30 data rows"):
        read_upload(buffer.getvalue(), "sections.zip")


def test_a_200_kb_cell_is_a_clear_error_and_the_job_ends(client, site, manager):
    client.force_login(manager)
    data = b"site_patient_ref,sample_date,inr\nMRN-1,2023-01-01," + b"9" * 200_000 + b"\n"

    response = upload(client, site, "labs.csv", data)

    job = ImportJob.objects.get()
    assert response.status_code == 200
    assert job.status == ImportJob.Status.INVALID
    assert "row 2: a cell of more than 131,072 characters" in job.errors[0]["reason"]
    assert "REGISTRY_IMPORT_MAX_CELL_CHARS" in job.errors[0]["reason"]


def test_a_cell_above_the_cell_bound_names_its_row_and_column(client, site, manager):
    client.force_login(manager)
    data = b"site_patient_ref,sample_date,inr\nMRN-1,2023-01-01," + b"9" * 2_001 + b"\n"

    upload(client, site, "labs.csv", data)

    reason = ImportJob.objects.get().errors[0]["reason"]
    assert "row 2, column inr: a cell of 2,001 characters" in reason


def test_a_nul_byte_in_a_cell_is_a_clear_error(client, site, manager):
    client.force_login(manager)
    rows = synthetic_rows(1)
    rows["patients"][0]["other_comorbidities"] = "gout\x00"
    name, data = next((n, d) for n, d in as_csv_files(rows) if n == "patients.csv")

    response = upload(client, site, name, data)

    job = ImportJob.objects.get()
    assert response.status_code == 200
    assert "NUL character" in job.errors[0]["reason"]
    assert Patient.objects.count() == 0


def test_a_job_stores_at_most_the_configured_errors_and_counts_them_all(
    client, site, manager, settings
):
    settings.REGISTRY_IMPORT_MAX_ERRORS = 5
    client.force_login(manager)
    rows = [[f"MRN-{i}", "2023-01-01", "42"] for i in range(12)]  # INR 42: out of range

    response = upload(
        client, site, "labs.csv", csv_bytes(["site_patient_ref", "sample_date", "inr"], rows)
    )

    job = ImportJob.objects.get()
    assert len(job.errors) == 5
    assert job.counts["error_count"] >= 12
    assert f"{job.counts['error_count']} errors" in response.content.decode()

"""Issue 17 item 9: malformed or concurrent requests are 4xx with a message, never a 500, and
no identifying value reaches the logs."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import connection
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from registry.models import Patient
from tests.registry.api.conftest import token_client
from tests.registry.factories import (
    INDEX_DATE,
    make_data_manager,
    make_patient,
    make_site,
)


def suffixed_action_urls(study_id: str) -> list[str]:
    """Every API route that takes a ``.json``-style format suffix, reversed with ``.json``."""
    values = {"study_id": study_id, "pk": "1", "code": "x", "section": "labs", "output_pk": "1"}
    urls = []

    def walk(patterns, namespace: str):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner.strip(":"))
            elif pattern.name and "format" in pattern.pattern.regex.groupindex:
                kwargs = {k: values[k] for k in pattern.pattern.regex.groupindex if k != "format"}
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                urls.append(reverse(name, kwargs={**kwargs, "format": "json"}))

    walk(get_resolver().url_patterns, "")
    return sorted(set(urls))


@pytest.mark.django_db
def test_every_api_route_with_a_json_suffix_answers_without_a_server_error():
    site = make_site("NT")
    manager = make_data_manager(site)
    patient = make_patient(site, manager)
    api = token_client(manager)

    urls = suffixed_action_urls(patient.study_id)
    assert len(urls) >= 15
    assert f"/api/v1/patients/{patient.study_id}/record.json" in urls
    for url in urls:
        for method in ("get", "post"):
            response = getattr(api, method)(url)
            assert response.status_code < 500, (method, url, response.status_code)


@pytest.mark.django_db
def test_a_record_read_with_the_json_suffix_is_the_record():
    site = make_site("NT")
    manager = make_data_manager(site)
    patient = make_patient(site, manager)

    response = token_client(manager).get(f"/api/v1/patients/{patient.study_id}/record.json")

    assert response.status_code == 200
    assert response.json()["patient"]["study_id"] == patient.study_id


@pytest.mark.django_db
def test_json_nested_ten_thousand_deep_is_a_400():
    manager = make_data_manager(make_site("NT"))
    body = "[" * 10_000 + "]" * 10_000

    response = token_client(manager).generic(
        "POST", "/api/v1/patients/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.django_db
def test_a_nul_byte_in_an_api_field_is_a_400():
    site = make_site("NT")
    manager = make_data_manager(site)
    patient = make_patient(site, manager)

    response = token_client(manager).patch(
        f"/api/v1/patients/{patient.study_id}/",
        {"other_comorbidities": "gout\x00", "version": patient.version},
        format="json",
    )

    assert response.status_code == 400
    assert "other_comorbidities" in response.json()


ENROLMENT = {
    "site": "NT",
    "site_patient_ref": "RACE-REF-7731",
    "sex": "female",
    "birth_year": 1960,
    "body_weight_kg": "60",
    "etiology_hbv": True,
    "antiviral_therapy": True,
    "chronic_hepatitis_history": True,
    "diagnosis_date": "2022-08-01",
    "index_date": INDEX_DATE.isoformat(),
    "ecog_ps": 0,
    "histology_subtype": "conventional",
}


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_enrolments_of_one_reference_enrol_one_and_refuse_the_rest(caplog):
    site = make_site("NT")
    manager = make_data_manager(site)
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=manager).key
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def enrol():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        barrier.wait()
        try:
            statuses.append(client.post("/api/v1/patients/", ENROLMENT, format="json").status_code)
        finally:
            connection.close()

    with caplog.at_level(logging.DEBUG):
        threads = [threading.Thread(target=enrol) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(statuses).count(201) == 1
    # SQLite refuses a concurrent writer outright ("database is locked"): a 503 "try again".
    allowed = {400, 409} | ({503} if connection.vendor == "sqlite" else set())
    assert len(statuses) == 20
    assert set(statuses) - {201} <= allowed
    assert Patient.objects.filter(site_patient_ref="RACE-REF-7731").count() == 1
    assert "RACE-REF-7731" not in caplog.text


@pytest.mark.django_db
def test_a_duplicate_reference_in_the_admin_is_an_error_at_the_form(client):
    site = make_site("NT")
    manager = make_data_manager(site)
    make_patient(site, manager, site_patient_ref="DUP-1")
    client.force_login(manager)

    response = client.post(
        "/admin/registry/patient/add/",
        {**ENROLMENT, "site": site.pk, "site_patient_ref": "DUP-1"},
    )

    assert response.status_code == 200
    assert Patient.objects.filter(site_patient_ref="DUP-1").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="drops a real PostgreSQL backend")
def test_a_dropped_database_connection_during_an_import_is_a_clear_try_again(shared_media):
    """The import's own connection is terminated by the server mid-import (as a restart or a
    failover would): the job says "try again" and nothing was written."""
    import psycopg
    from django.core.files.base import ContentFile

    from registry.imports.services import CONNECTION_LOST, import_job_run
    from registry.imports.synthetic import as_workbook, synthetic_rows
    from registry.models import ImportJob

    site = make_site("NT")
    manager = make_data_manager(site)
    job = ImportJob(site=site, created_by=manager, dry_run=False, original_filename="r.xlsx")
    job.file.save("r.xlsx", ContentFile(as_workbook(synthetic_rows(20))), save=False)
    job.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    settings_dict = connection.settings_dict
    dropped = []

    def drop_connection(pct: int) -> None:
        if not dropped:
            dropped.append(pct)
            with psycopg.connect(
                host=settings_dict["HOST"] or "127.0.0.1",
                port=settings_dict["PORT"] or 5432,
                user=settings_dict["USER"] or "postgres",
                password=settings_dict["PASSWORD"] or None,
                dbname=settings_dict["NAME"],
                autocommit=True,
            ) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    job = import_job_run(job_id=job.pk, progress=drop_connection)

    assert dropped
    assert job.status == ImportJob.Status.FAILED
    assert job.error_message == CONNECTION_LOST
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.FAILED
    assert Patient.objects.count() == 0

"""Another site's token sees and changes nothing of this site."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.imports.synthetic import as_workbook, synthetic_rows
from registry.models import LabPanel, Patient, TaceSession

pytestmark = pytest.mark.django_db


def test_it_lists_none_of_the_other_sites_patients(other_api, patient):
    response = other_api.get("/api/v1/patients/")

    assert response.status_code == 200
    assert response.data["results"] == []


def test_it_lists_none_of_the_other_sites_records(other_api, patient):
    response = other_api.get("/api/v1/lab-panels/")

    assert response.data["results"] == []


def test_it_answers_404_for_the_other_sites_patient(other_api, patient):
    response = other_api.get(f"/api/v1/patients/{patient.study_id}/")

    assert response.status_code == 404
    assert "NT-SECRET-0001" not in response.content.decode()


def test_it_answers_404_for_the_other_sites_whole_record(other_api, patient):
    assert other_api.get(f"/api/v1/patients/{patient.study_id}/record/").status_code == 404


def test_it_cannot_update_the_other_sites_record(other_api, patient):
    lab = LabPanel.objects.get(patient=patient)

    response = other_api.patch(
        f"/api/v1/lab-panels/{lab.pk}/", {"inr": "2.5", "version": lab.version}, format="json"
    )

    assert response.status_code == 404
    lab.refresh_from_db()
    assert float(lab.inr) == 1.1


def test_it_cannot_delete_the_other_sites_record(other_api, patient):
    session = TaceSession.objects.get(patient=patient)

    response = other_api.delete(f"/api/v1/tace-sessions/{session.pk}/")

    assert response.status_code == 404
    assert TaceSession.objects.filter(pk=session.pk).exists()


def test_it_cannot_add_a_record_to_the_other_sites_patient(other_api, patient):
    response = other_api.post(
        "/api/v1/follow-ups/",
        {"patient": patient.study_id, "contact_date": "2023-06-01", "vital_status": "alive"},
        format="json",
    )

    assert response.status_code == 400
    assert patient.follow_ups.count() == 0


def test_it_cannot_enrol_into_the_other_site(other_api, patient):
    response = other_api.post(
        "/api/v1/patients/",
        {"site": "NT", "site_patient_ref": "X", "sex": "male", "birth_year": 1960},
        format="json",
    )

    assert response.status_code == 400
    assert Patient.objects.filter(site__code="NT").count() == 1


def test_it_cannot_lock_the_other_sites_patient(other_api, patient):
    response = other_api.post(f"/api/v1/patients/{patient.study_id}/lock/", {})

    assert response.status_code == 404


def test_it_cannot_import_into_the_other_site(other_api, patient):
    rows = synthetic_rows(1, ref_prefix="NT-SECRET")
    upload = SimpleUploadedFile("registry.xlsx", as_workbook(rows))

    response = other_api.post(
        "/api/v1/imports/", {"site": "NT", "file": [upload], "dry_run": False}, format="multipart"
    )

    assert response.status_code == 400
    assert "site" in response.data
    assert Patient.objects.filter(site__code="NT").count() == 1


def test_importing_the_other_sites_references_touches_only_its_own_site(other_api, patient):
    """The same reference at another site is another patient: the import never reaches ours."""
    rows = synthetic_rows(1)
    rows["patients"][0]["site_patient_ref"] = patient.site_patient_ref
    for section in rows.values():
        for row in section:
            row["site_patient_ref"] = patient.site_patient_ref
    upload = SimpleUploadedFile("registry.xlsx", as_workbook(rows))
    before = patient.version

    response = other_api.post(
        "/api/v1/imports/", {"site": "ZS", "file": [upload], "dry_run": False}, format="multipart"
    )

    assert response.status_code == 201, response.data
    assert response.data["status"] == "committed"
    patient.refresh_from_db()
    assert patient.version == before
    assert LabPanel.objects.filter(patient=patient).count() == 1
    assert Patient.objects.get(site__code="ZS").study_id.startswith("ZS-")


def test_it_sees_none_of_the_other_sites_import_jobs(api, other_api, patient):
    upload = SimpleUploadedFile("registry.xlsx", as_workbook(synthetic_rows(1)))
    api.post("/api/v1/imports/", {"site": "NT", "file": [upload]}, format="multipart")

    response = other_api.get("/api/v1/imports/")

    assert response.data["results"] == []

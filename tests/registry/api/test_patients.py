import pytest

from registry.choices import Role
from registry.models import LabPanel, Patient

from ..factories import make_user
from .conftest import token_client

pytestmark = pytest.mark.django_db

NEW_PATIENT = {
    "site": "NT",
    "site_patient_ref": "NT-NEW-42",
    "sex": "female",
    "birth_year": 1960,
    "etiology_hcv": True,
    "antiviral_therapy": False,
    "index_date": "2023-03-01",
    "diagnosis_date": "2023-01-10",
}


def test_it_enrols_a_patient_and_assigns_the_study_id(api, site):
    response = api.post("/api/v1/patients/", NEW_PATIENT, format="json")

    assert response.status_code == 201, response.data
    assert response.data["study_id"] == "NT-0001"
    assert Patient.objects.get(study_id="NT-0001").site_patient_ref == "NT-NEW-42"


def test_it_returns_field_level_messages_for_a_hard_range(api, site):
    response = api.post("/api/v1/patients/", {**NEW_PATIENT, "body_weight_kg": 400}, format="json")

    assert response.status_code == 400
    assert "body_weight_kg" in response.data
    assert "25–250" in str(response.data["body_weight_kg"])


def test_it_returns_model_clean_errors_by_field(api, site):
    response = api.post(
        "/api/v1/patients/", {**NEW_PATIENT, "diagnosis_date": "2023-05-01"}, format="json"
    )

    assert response.status_code == 400
    assert "after the index date" in str(response.data["diagnosis_date"])


def test_it_shows_the_site_reference_to_its_own_site(api, patient):
    response = api.get(f"/api/v1/patients/{patient.study_id}/")

    assert response.data["site_patient_ref"] == "NT-SECRET-0001"


def test_it_hides_the_site_reference_from_a_registry_investigator(patient):
    investigator = make_user("inv", Role.REGISTRY_INVESTIGATOR)

    response = token_client(investigator).get(f"/api/v1/patients/{patient.study_id}/")

    assert response.status_code == 200
    assert "site_patient_ref" not in response.data
    assert "NT-SECRET-0001" not in response.content.decode()


def test_it_updates_with_the_current_version(api, patient):
    response = api.patch(
        f"/api/v1/patients/{patient.study_id}/",
        {"body_weight_kg": 70, "version": patient.version},
        format="json",
    )

    assert response.status_code == 200, response.data
    assert response.data["version"] == patient.version + 1


def test_it_rejects_a_stale_version(api, patient):
    response = api.patch(
        f"/api/v1/patients/{patient.study_id}/",
        {"body_weight_kg": 70, "version": patient.version - 1 or 99},
        format="json",
    )

    assert response.status_code == 409
    assert response.data["current_version"] == patient.version
    patient.refresh_from_db()
    assert float(patient.body_weight_kg) == 65


def test_it_accepts_the_version_as_if_match(api, patient):
    response = api.patch(
        f"/api/v1/patients/{patient.study_id}/",
        {"body_weight_kg": 71},
        format="json",
        HTTP_IF_MATCH=f'"{patient.version}"',
    )

    assert response.status_code == 200, response.data


def test_it_requires_a_version_to_update(api, patient):
    response = api.patch(
        f"/api/v1/patients/{patient.study_id}/", {"body_weight_kg": 70}, format="json"
    )

    assert response.status_code == 428


def test_it_rejects_a_stale_version_of_a_crf_record(api, patient):
    lab = LabPanel.objects.get(patient=patient)
    url = f"/api/v1/lab-panels/{lab.pk}/"
    first = api.patch(url, {"inr": "1.2", "version": lab.version}, format="json")

    second = api.patch(url, {"inr": "1.3", "version": lab.version}, format="json")

    assert first.status_code == 200
    assert second.status_code == 409
    lab.refresh_from_db()
    assert float(lab.inr) == 1.2


def test_it_returns_soft_range_warnings_with_the_saved_record(api, patient):
    response = api.post(
        "/api/v1/lab-panels/",
        {
            "patient": patient.study_id,
            "sample_date": "2023-02-01",
            "albumin_g_l": "58",
            "total_bilirubin_umol_l": "17",
        },
        format="json",
    )

    assert response.status_code == 201, response.data
    assert [w["field"] for w in response.data["warnings"]] == ["albumin_g_l"]
    assert "expected range" in response.data["warnings"][0]["message"]


def test_it_answers_423_when_the_record_is_locked(api, patient):
    Patient.objects.filter(pk=patient.pk).update(status="locked")
    lab = LabPanel.objects.get(patient=patient)

    response = api.patch(
        f"/api/v1/lab-panels/{lab.pk}/", {"inr": "1.2", "version": lab.version}, format="json"
    )

    assert response.status_code == 423
    assert "locked" in response.data["detail"]


def test_it_needs_a_reason_to_unlock(patient, site):
    monitor = make_user("monitor", Role.MONITOR, site)
    Patient.objects.filter(pk=patient.pk).update(status="locked")

    response = token_client(monitor).post(f"/api/v1/patients/{patient.study_id}/unlock/", {})

    assert response.status_code == 400
    assert "reason" in response.data


def test_it_moves_a_verified_record_to_locked(patient, site):
    monitor = make_user("monitor", Role.MONITOR, site)
    Patient.objects.filter(pk=patient.pk).update(status="verified")

    response = token_client(monitor).post(f"/api/v1/patients/{patient.study_id}/lock/", {})

    assert response.status_code == 200, response.data
    assert response.data["status"] == "locked"


def test_a_data_manager_may_not_lock(api, patient):
    Patient.objects.filter(pk=patient.pk).update(status="verified")

    response = api.post(f"/api/v1/patients/{patient.study_id}/lock/", {})

    assert response.status_code == 403


def test_it_reads_the_whole_record_nested(api, patient):
    response = api.get(f"/api/v1/patients/{patient.study_id}/record/")

    assert response.status_code == 200
    assert response.data["patient"]["study_id"] == patient.study_id
    assert len(response.data["lab_panels"]) == 1
    assert response.data["tumour_assessment"]["tumour_number"] == 2
    assert len(response.data["tace_sessions"]) == 1


def test_it_filters_records_by_patient(api, patient, site, manager):
    from ..factories import make_patient

    make_patient(site, manager)

    response = api.get("/api/v1/tace-sessions/", {"patient": patient.study_id})

    assert [r["patient"] for r in response.data["results"]] == [patient.study_id]


def test_it_paginates_with_limit_and_offset(api, patient, site, manager):
    from ..factories import make_patient

    make_patient(site, manager)

    response = api.get("/api/v1/patients/", {"limit": 1, "offset": 1})

    assert response.data["count"] == 2
    assert len(response.data["results"]) == 1


def test_it_refuses_anonymous_requests(client, patient):
    assert client.get("/api/v1/patients/").status_code in (401, 403)

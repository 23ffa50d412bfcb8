"""Status changes and data queries from the patient page, through the services."""

import pytest

from registry.choices import RecordStatus
from registry.models import DataQuery, LabPanel

from .conftest import change_url
from .helpers import complete_case

pytestmark = pytest.mark.django_db


def status_url(patient, name: str) -> str:
    return f"/admin/registry/patient/{patient.pk}/status/{name}/"


def test_a_data_manager_marks_a_complete_case_complete(client_for, manager, patient):
    complete_case(patient)

    client_for(manager).post(status_url(patient, "mark_complete"))

    patient.refresh_from_db()
    assert patient.status == RecordStatus.COMPLETE


def test_marking_an_incomplete_case_complete_says_what_is_missing(client_for, manager, patient):
    response = client_for(manager).post(status_url(patient, "mark_complete"), follow=True)

    patient.refresh_from_db()
    assert patient.status == RecordStatus.DRAFT
    assert "missing baseline lab panel" in response.content.decode()


def test_a_data_manager_cannot_verify(client_for, manager, patient):
    complete_case(patient)
    client = client_for(manager)
    client.post(status_url(patient, "mark_complete"))

    response = client.post(status_url(patient, "verify"), follow=True)

    patient.refresh_from_db()
    assert patient.status == RecordStatus.COMPLETE
    assert "You may not verify" in response.content.decode()


def lock(client_for, manager, monitor, patient):
    complete_case(patient)
    client_for(manager).post(status_url(patient, "mark_complete"))
    client = client_for(monitor)
    client.post(status_url(patient, "verify"))
    client.post(status_url(patient, "lock"))
    return client


def test_a_monitor_verifies_and_locks(client_for, manager, monitor, patient):
    lock(client_for, manager, monitor, patient)

    patient.refresh_from_db()
    assert patient.status == RecordStatus.LOCKED


def test_unlocking_without_a_reason_is_refused(client_for, manager, monitor, patient):
    client = lock(client_for, manager, monitor, patient)

    client.post(status_url(patient, "unlock"), {"reason": ""})

    patient.refresh_from_db()
    assert patient.status == RecordStatus.LOCKED


def test_unlocking_with_a_reason_is_recorded(client_for, manager, monitor, patient):
    client = lock(client_for, manager, monitor, patient)

    client.post(status_url(patient, "unlock"), {"reason": "query 12: albumin re-checked"})

    patient.refresh_from_db()
    assert patient.status == RecordStatus.VERIFIED
    assert patient.history.latest().history_change_reason == "query 12: albumin re-checked"


def test_the_list_action_marks_selected_records_complete(client_for, manager, patient):
    complete_case(patient)

    client_for(manager).post(
        "/admin/registry/patient/", {"action": "mark_complete", "_selected_action": [patient.pk]}
    )

    patient.refresh_from_db()
    assert patient.status == RecordStatus.COMPLETE


def open_query(client, patient, text="Albumin 22 g/L: please check the source."):
    lab = LabPanel.objects.create(patient=patient, sample_date="2023-02-20", albumin_g_l=22)
    client.post(
        f"/admin/registry/patient/{patient.pk}/queries/open/",
        {"target": f"labpanel:{lab.pk}", "field": "albumin_g_l", "text": text},
    )
    return DataQuery.objects.get(patient=patient)


def test_a_monitor_opens_a_query_on_a_field(client_for, monitor, patient):
    query = open_query(client_for(monitor), patient)

    assert (query.record_type, query.field, query.opened_by) == ("labpanel", "albumin_g_l", monitor)
    assert query.messages.get().text.startswith("Albumin 22 g/L")


def test_a_data_manager_cannot_open_a_query(client_for, manager, patient):
    client_for(manager).post(
        f"/admin/registry/patient/{patient.pk}/queries/open/", {"text": "Is this right?"}
    )

    assert not DataQuery.objects.exists()


def test_the_data_manager_answers_and_the_monitor_closes(client_for, manager, monitor, patient):
    query = open_query(client_for(monitor), patient)
    base = f"/admin/registry/patient/{patient.pk}/queries/{query.pk}"
    client_for(manager).post(f"{base}/answer/", {"text": "Source says 32 g/L; corrected."})
    client_for(monitor).post(f"{base}/close/", {"text": ""})

    query.refresh_from_db()
    authors = [m.author for m in query.messages.all()]
    assert (query.status, query.closed_by) == (DataQuery.Status.CLOSED, monitor)
    assert authors == [monitor, manager]


def test_queries_are_shown_on_the_patient_page(client_for, monitor, patient):
    client = client_for(monitor)
    open_query(client, patient, text="Please confirm the albumin.")

    page = client.get(change_url(patient)).content.decode()

    assert "Please confirm the albumin." in page
    assert f"opened by {monitor.username}" in page

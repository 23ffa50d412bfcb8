"""Roles decide who may add, change, complete, verify, lock and unlock (registry.access)."""

import pytest

from registry import services
from registry.models import FollowUp, Patient

from .conftest import change_url
from .helpers import complete_case, page_data

pytestmark = pytest.mark.django_db


def test_a_monitor_cannot_add_a_patient(client_for, monitor):
    assert client_for(monitor).get("/admin/registry/patient/add/").status_code == 403


def test_a_monitor_sees_the_patient_read_only(client_for, monitor, patient):
    response = client_for(monitor).get(change_url(patient))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_a_monitor_cannot_post_changes(client_for, monitor, patient):
    response = client_for(monitor).post(change_url(patient), {"sex": "female"})

    patient.refresh_from_db()
    assert response.status_code == 403
    assert patient.sex == "male"


def test_a_data_manager_is_offered_mark_complete_but_not_verify(client_for, manager, patient):
    response = client_for(manager).get(change_url(patient))

    names = [a["name"] for a in response.context["status_actions"]]
    assert names == ["mark_complete"]


def test_a_locked_record_refuses_a_change_with_a_message(client_for, manager, monitor, patient):
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))
    complete_case(patient)
    services.patient_mark_complete(patient=patient, user=manager)
    services.patient_verify(patient=patient, user=monitor)
    services.patient_lock(patient=patient, user=monitor)
    data["birth_year"] = "1950"

    response = client.post(change_url(patient), data, follow=True)

    patient.refresh_from_db()
    assert patient.birth_year == 1962
    assert "is locked: nothing was saved" in response.content.decode()


def test_a_locked_record_is_shown_read_only(client_for, manager, monitor, patient):
    complete_case(patient)
    for service, user in [
        (services.patient_mark_complete, manager),
        (services.patient_verify, monitor),
        (services.patient_lock, monitor),
    ]:
        service(patient=patient, user=user)

    response = client_for(manager).get(change_url(patient))

    assert response.context["has_change_permission"] is False
    assert "This record is locked" in response.content.decode()


def test_a_locked_records_row_cannot_be_deleted(client_for, manager, monitor, patient):
    complete_case(patient)
    for service, user in [
        (services.patient_mark_complete, manager),
        (services.patient_verify, monitor),
        (services.patient_lock, monitor),
    ]:
        service(patient=patient, user=user)
    follow_up = FollowUp.objects.get(patient=patient)

    response = client_for(manager).post(
        change_url(follow_up).replace("change", "delete"), {"post": "yes"}
    )

    assert response.status_code == 403
    assert FollowUp.objects.filter(pk=follow_up.pk).exists()


def test_nobody_deletes_a_patient_in_the_admin(client_for, manager, patient):
    url = change_url(patient).replace("change", "delete")

    assert client_for(manager).post(url, {"post": "yes"}).status_code == 403
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_a_complete_record_needs_a_reason_for_change(client_for, manager, patient):
    complete_case(patient)
    services.patient_mark_complete(patient=patient, user=manager)
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))
    data.update(body_weight_kg="70.0", change_reason="")

    response = client.post(change_url(patient), data)

    patient.refresh_from_db()
    assert "change_reason" in response.context["adminform"].form.errors
    assert patient.body_weight_kg == 65


def test_opening_a_complete_record_does_not_make_enrolment_need_a_reason(
    client_for, manager, patient
):
    complete_case(patient)
    services.patient_mark_complete(patient=patient, user=manager)
    client = client_for(manager)
    client.get(change_url(patient))

    response = client.get("/admin/registry/patient/add/")

    assert response.context["adminform"].form.fields["change_reason"].required is False

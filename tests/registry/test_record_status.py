import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry import services
from registry.choices import Role
from registry.models import FollowUp, LabPanel, RecordLocked, TaceSession, TumourAssessment

from .factories import make_data_manager, make_patient, make_site, make_user

pytestmark = pytest.mark.django_db


def complete_case(patient):
    services.crf_record_save(
        record=LabPanel(
            patient=patient,
            sample_date=dt.date(2023, 2, 20),
            albumin_g_l=40,
            total_bilirubin_umol_l=17,
            inr=1.1,
            ascites="none",
            encephalopathy="none",
        )
    )
    services.crf_record_save(
        record=TumourAssessment(
            patient=patient, imaging_date=dt.date(2023, 2, 15), tumour_number=2, max_diameter_cm=4
        )
    )
    services.crf_record_save(
        record=TaceSession(patient=patient, start_date=dt.date(2023, 3, 1), technique="ctace")
    )
    services.crf_record_save(
        record=FollowUp(patient=patient, contact_date=dt.date(2023, 9, 1), vital_status="alive")
    )


def test_complete_requires_the_critical_fields():
    patient = make_patient()

    with pytest.raises(ValidationError) as error:
        services.patient_mark_complete(patient=patient)

    assert "missing baseline lab panel" in str(error.value)
    assert "missing treatment" in str(error.value)


def test_a_record_moves_draft_complete_verified_locked():
    patient = make_patient()
    complete_case(patient)

    services.patient_mark_complete(patient=patient)
    services.patient_verify(patient=patient)
    services.patient_lock(patient=patient)

    patient.refresh_from_db()
    assert patient.status == "locked"
    assert patient.completeness_pct == 100


def locked_patient():
    patient = make_patient()
    complete_case(patient)
    for step in (services.patient_mark_complete, services.patient_verify, services.patient_lock):
        step(patient=patient)
    return patient


def test_a_locked_record_refuses_changes_to_the_patient():
    patient = locked_patient()

    with pytest.raises(RecordLocked, match="is locked"):
        services.patient_update(patient=patient, ecog_ps=1, reason="typo")


def test_a_locked_record_refuses_new_and_changed_and_deleted_rows():
    patient = locked_patient()
    session = patient.tace_sessions.get()

    with pytest.raises(RecordLocked):
        services.crf_record_save(
            record=TaceSession(patient=patient, start_date=dt.date(2023, 4, 1), technique="ctace")
        )
    session.technically_adequate = True
    with pytest.raises(RecordLocked):
        services.crf_record_save(record=session)
    with pytest.raises(RecordLocked):
        services.crf_record_delete(record=session)
    assert patient.tace_sessions.count() == 1


def test_unlock_needs_a_reason_and_then_allows_changes():
    patient = locked_patient()

    with pytest.raises(ValidationError):
        services.patient_unlock(patient=patient, reason=" ")
    services.patient_unlock(patient=patient, reason="late lab result")
    services.patient_update(patient=patient, ecog_ps=1, reason="late lab result")

    patient.refresh_from_db()
    assert (patient.status, patient.ecog_ps) == ("verified", 1)


def test_a_data_manager_cannot_verify_or_lock():
    site = make_site()
    manager = make_data_manager(site)
    patient = make_patient(site, user=manager)
    complete_case(patient)
    services.patient_mark_complete(patient=patient, user=manager)

    with pytest.raises(PermissionDenied):
        services.patient_verify(patient=patient, user=manager)


def test_a_monitor_verifies_and_locks():
    site = make_site()
    monitor = make_user("monitor", Role.MONITOR, site)
    patient = make_patient(site)
    complete_case(patient)
    services.patient_mark_complete(patient=patient)

    services.patient_verify(patient=patient, user=monitor)
    services.patient_lock(patient=patient, user=monitor, reason="database lock 2024")

    patient.refresh_from_db()
    assert patient.status == "locked"

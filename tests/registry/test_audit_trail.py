import datetime as dt

import pytest

from registry import services
from registry.models import LabPanel

from .factories import make_data_manager, make_patient, make_site

pytestmark = pytest.mark.django_db


def test_create_update_and_delete_each_leave_an_audit_row_with_user_and_reason():
    site = make_site()
    manager = make_data_manager(site)
    patient = make_patient(site, user=manager)
    panel = services.crf_record_save(
        record=LabPanel(patient=patient, sample_date=dt.date(2023, 2, 1), albumin_g_l=40),
        user=manager,
    )
    panel.albumin_g_l = 38
    services.crf_record_save(record=panel, user=manager, reason="lab corrected the value")
    panel_id = panel.pk
    services.crf_record_delete(record=panel, user=manager, reason="entered twice")

    rows = list(LabPanel.history.filter(id=panel_id).order_by("history_date"))

    assert [row.history_type for row in rows] == ["+", "~", "-"]
    assert all(row.history_user == manager for row in rows)
    assert [row.history_change_reason for row in rows[1:]] == [
        "lab corrected the value",
        "entered twice",
    ]
    change = rows[1].diff_against(rows[0])
    assert [
        (d.field, float(d.old), float(d.new)) for d in change.changes if d.field == "albumin_g_l"
    ] == [("albumin_g_l", 40.0, 38.0)]


def test_a_patient_change_is_audited_with_the_old_and_new_value():
    patient = make_patient(ecog_ps=0)

    services.patient_update(patient=patient, ecog_ps=1, reason="re-assessed")

    latest, previous = patient.history.order_by("-history_date")[:2]
    diff = latest.diff_against(previous)
    assert [(d.field, d.old, d.new) for d in diff.changes if d.field == "ecog_ps"] == [
        ("ecog_ps", 0, 1)
    ]
    assert latest.history_change_reason == "re-assessed"

import datetime as dt

import pytest

from registry import services
from registry.models import ImagingAssessment, LabPanel, LesionMeasurement, Patient

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


def test_a_scans_derived_response_follows_a_lesion_change_into_its_history():
    """mRECIST (Lencioni & Llovet 2010; CRF.md §5), one target lesion of 40 mm at baseline:
    20 mm is PR (≤ 0.70 × 40 = 28); re-measured at 50 mm it is PD (≥ 1.20 × nadir 40 = 48)."""
    site = make_site()
    manager = make_data_manager(site)
    patient = make_patient(site, user=manager)
    baseline = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient, assessment_date=dt.date(2023, 2, 15), modality="ct", is_baseline=True
        ),
        user=manager,
    )
    services.crf_record_save(
        record=LesionMeasurement(assessment=baseline, lesion_number=1, diameter_mm=40),
        user=manager,
    )
    follow_up = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient, assessment_date=dt.date(2023, 5, 1), modality="ct"
        ),
        user=manager,
    )
    lesion = services.crf_record_save(
        record=LesionMeasurement(assessment=follow_up, lesion_number=1, diameter_mm=20),
        user=manager,
    )
    assert follow_up.history.latest().response == "PR"

    lesion.diameter_mm = 50
    services.crf_record_save(record=lesion, user=manager, reason="re-measured")

    scan_rows = list(follow_up.history.order_by("history_date", "history_id"))
    assert [row.response for row in scan_rows[-2:]] == ["PR", "PD"]
    latest_scan, latest_patient = scan_rows[-1], patient.history.latest()
    lesion_row = lesion.history.latest()
    for row in (latest_scan, latest_patient):
        assert (row.history_user, row.history_change_reason, row.history_date) == (
            manager,
            "re-measured",
            lesion_row.history_date,
        )
    assert latest_patient.best_overall_response == "PD"


def test_a_refresh_no_change_caused_is_attributed_to_the_system():
    patient = make_patient()
    Patient.objects.filter(pk=patient.pk).update(albi_grade="3")  # e.g. an older derivation

    services.patient_refresh_derived(patient)

    latest = patient.history.latest()
    assert latest.albi_grade == ""
    assert (latest.history_user, latest.history_change_reason) == (
        None,
        "Derived values recomputed",
    )


def test_a_refresh_that_changes_nothing_adds_no_audit_row():
    patient = make_patient()
    count = patient.history.count()

    services.patient_refresh_derived(patient)

    assert patient.history.count() == count


def test_the_changes_of_a_deferred_block_share_one_time_with_their_derived_values():
    site = make_site()
    manager = make_data_manager(site)
    patient = make_patient(site, user=manager)

    with services.patient_refresh_deferred():
        for day in (1, 2):
            services.crf_record_save(
                record=LabPanel(
                    patient=patient,
                    sample_date=dt.date(2023, 2, day),
                    albumin_g_l=40,
                    total_bilirubin_umol_l=17,
                ),
                user=manager,
                reason="two panels at once",
            )

    labs = LabPanel.history.filter(patient_id=patient.pk)
    derived = patient.history.latest()
    assert derived.albi_grade == "2"  # CRF.md §2's example: 17 µmol/L, 40 g/L → −2.588
    assert {row.history_date for row in labs} == {derived.history_date}
    assert derived.history_change_reason == "two panels at once"


def test_deleting_the_baseline_panel_leaves_the_emptied_scores_in_history_with_its_reason():
    """Without a lab panel ALBI and Child-Pugh have no inputs: empty, never guessed (CRF.md §2)."""
    site = make_site()
    manager = make_data_manager(site)
    patient = make_patient(site, user=manager)
    panel = services.crf_record_save(
        record=LabPanel(
            patient=patient,
            sample_date=dt.date(2023, 2, 1),
            albumin_g_l=40,
            total_bilirubin_umol_l=17,
        ),
        user=manager,
    )
    assert patient.history.latest().albi_grade == "2"

    services.crf_record_delete(record=panel, user=manager, reason="wrong patient")

    latest = patient.history.latest()
    assert (latest.albi_grade, latest.baseline_lab_id) == ("", None)
    assert (latest.history_user, latest.history_change_reason) == (manager, "wrong patient")

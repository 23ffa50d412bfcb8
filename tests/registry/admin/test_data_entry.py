"""Entering data on the patient page: services save, rules answer at the field, units convert."""

import datetime as dt
from decimal import Decimal

import pytest

from registry.models import AdverseEvent, ImagingAssessment, LabPanel, Patient, TaceSession
from tests.registry.factories import ctcae

from .conftest import change_url
from .helpers import add_row, page_data

pytestmark = pytest.mark.django_db

LAB = {
    "sample_date": "2023-02-20",
    "albumin_g_l": "40",
    "albumin_unit": "g/L",
    "total_bilirubin_umol_l": "17",
    "total_bilirubin_unit": "umol/L",
    "inr": "1.1",
    "ascites": "none",
    "encephalopathy": "none",
    "creatinine_unit": "umol/L",
}


def post_lab(client, patient, **values):
    data = add_row(page_data(client.get(change_url(patient))), "lab_panels", **{**LAB, **values})
    data["_continue"] = "1"
    return client.post(change_url(patient), data, follow=True)


def enrolment(site) -> dict:
    return {
        "site": str(site.pk),
        "site_patient_ref": "NT-NEW-1",
        "sex": "female",
        "birth_year": "1958",
        "etiology_hcv": "on",
        "antiviral_therapy": "true",
        "chronic_hepatitis_history": "unknown",
        "diabetes": "unknown",
        "hypertension": "unknown",
        "diagnosis_date": "2023-01-10",
        "index_date": "2023-03-01",
        "ecog_ps": "0",
    }


def test_it_enrols_a_patient_with_a_study_id_and_opens_its_page(client_for, manager, nantong):
    response = client_for(manager).post("/admin/registry/patient/add/", enrolment(nantong))

    patient = Patient.objects.get(site_patient_ref="NT-NEW-1")
    assert patient.study_id.startswith("NT-")
    assert response.url == change_url(patient)


def test_enrolment_is_attributed_to_the_data_manager(client_for, manager, nantong):
    client_for(manager).post("/admin/registry/patient/add/", enrolment(nantong))

    record = Patient.objects.get(site_patient_ref="NT-NEW-1").history.earliest()
    assert record.history_user == manager
    assert record.history_change_reason == "Enrolment"


def test_it_rejects_albumin_500_at_the_field_and_saves_nothing(client_for, manager, patient):
    response = post_lab(client_for(manager), patient, albumin_g_l="500")

    form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert "Albumin 500 g/L is outside the allowed range 10–60 g/L." in form.errors["albumin_g_l"]
    assert not LabPanel.objects.filter(patient=patient).exists()


def test_it_shows_the_derived_scores_after_a_lab_panel_is_saved(client_for, manager, patient):
    response = post_lab(client_for(manager), patient)

    page = response.content.decode()
    patient.refresh_from_db()
    assert patient.albi_grade == "2"
    assert patient.child_pugh_class == "A"
    assert "-2.588 · grade 2 (mALBI 2a)" in page
    assert "5 points · class A" in page


def test_it_stores_2_mg_dl_bilirubin_as_34_2_umol_l(client_for, manager, patient):
    post_lab(
        client_for(manager), patient, total_bilirubin_umol_l="2.0", total_bilirubin_unit="mg/dL"
    )

    assert LabPanel.objects.get(patient=patient).total_bilirubin_umol_l == Decimal("34.2")


def test_it_stores_4_g_dl_albumin_as_40_g_l(client_for, manager, patient):
    post_lab(client_for(manager), patient, albumin_g_l="4", albumin_unit="g/dL")

    assert LabPanel.objects.get(patient=patient).albumin_g_l == Decimal("40.0")


def test_it_saves_a_soft_range_value_and_shows_a_warning(client_for, manager, patient):
    response = post_lab(client_for(manager), patient, albumin_g_l="22")

    shown = [str(m) for m in response.context["messages"]]
    assert LabPanel.objects.filter(patient=patient, albumin_g_l=22).exists()
    assert any("Albumin 22 g/L is outside the expected range" in m for m in shown)


def test_a_soft_warning_is_listed_on_the_patient_page(client_for, manager, patient):
    client = client_for(manager)
    post_lab(client, patient, albumin_g_l="22")

    response = client.get(change_url(patient))

    assert any("Albumin 22 g/L" in flag.message for flag in response.context["open_flags"])


def test_a_saved_change_records_who_and_why(client_for, manager, patient):
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))
    data.update(body_weight_kg="70.0", change_reason="weighed again")

    client.post(change_url(patient), data)

    latest = patient.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (manager, "weighed again")


def test_the_history_shows_old_and_new_values_with_the_reason(client_for, manager, patient):
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))
    data.update(body_weight_kg="70.0", change_reason="weighed again")
    client.post(change_url(patient), data)

    history = client.get(change_url(patient)).context["history"]

    change = history[0]
    assert (change.who, change.reason) == (manager.username, "weighed again")
    assert [(c.field, c.old, c.new) for c in change.changes] == [
        ("body weight (kg)", "65.0", "70.0")
    ]


def test_a_refusal_by_the_service_is_shown_at_the_field(client_for, manager, patient):
    """The AE passes form validation (no treatment yet), but the TACE saved just before it in the
    same submission makes its onset precede the first treatment: the service refuses it."""
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))
    add_row(data, "tace_sessions", start_date="2023-03-01", technique="ctace", intent="initial")
    term = ctcae("fever")
    add_row(
        data,
        "adverse_events",
        term=str(term.pk),
        grade="1",
        onset_date="2023-02-01",
        attribution="local",
    )

    response = client.post(change_url(patient), data)

    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    errors = formsets["adverse_events"].forms[0].errors
    assert "before the first treatment" in errors["onset_date"][0]
    assert not TaceSession.objects.filter(patient=patient).exists()
    assert not AdverseEvent.objects.filter(patient=patient).exists()


def test_target_lesions_are_entered_on_the_assessments_page(client_for, manager, patient):
    client = client_for(manager)
    assessment = ImagingAssessment.objects.create(
        patient=patient, assessment_date=dt.date(2023, 2, 25), is_baseline=True, modality="ct"
    )
    data = page_data(client.get(change_url(assessment)))
    add_row(data, "measurements", lesion_number="1", organ="liver", diameter_mm="40")
    add_row(data, "measurements", lesion_number="2", organ="liver", diameter_mm="25")

    client.post(change_url(assessment), data)

    assessment.refresh_from_db()
    assert assessment.target_sum_mm == 65


def test_the_lab_panel_page_converts_units_too(client_for, manager, patient):
    client_for(manager).post(
        "/admin/registry/labpanel/add/",
        {**LAB, "patient": str(patient.pk), "creatinine_umol_l": "1", "creatinine_unit": "mg/dL"},
    )

    assert LabPanel.objects.get(patient=patient).creatinine_umol_l == Decimal("88.4")


def test_deleting_rows_from_the_list_goes_through_the_services(client_for, manager, patient):
    from registry.models import FollowUp

    follow_up = FollowUp.objects.create(
        patient=patient, contact_date=dt.date(2023, 9, 1), vital_status="alive"
    )

    client_for(manager).post(
        "/admin/registry/followup/",
        {"action": "delete_selected", "_selected_action": [follow_up.pk], "post": "yes"},
    )

    deleted = FollowUp.history.filter(id=follow_up.pk, history_type="-").get()
    assert (deleted.history_user, deleted.history_change_reason) == (
        manager,
        "Deleted in the admin",
    )
    assert patient.follow_ups.count() == 0


def test_an_assessment_and_its_lesions_are_added_in_one_save(client_for, manager, patient):
    client = client_for(manager)
    data = page_data(client.get("/admin/registry/imagingassessment/add/"))
    data.update(
        patient=str(patient.pk),
        assessment_date="2023-02-25",
        is_baseline="on",
        modality="ct",
        criteria="mrecist",
    )
    add_row(data, "measurements", lesion_number="1", organ="liver", diameter_mm="30")

    client.post("/admin/registry/imagingassessment/add/", data)

    assessment = ImagingAssessment.objects.get(patient=patient)
    assert assessment.target_sum_mm == 30


def test_a_third_lung_target_entered_in_one_save_is_refused_at_its_field(
    client_for, manager, patient
):
    """RECIST 1.1 §3.3 (Eisenhauer 2009): at most 2 target lesions per organ. Three lung rows
    typed in one save of the assessment page: the page answers at the third row's organ and
    nothing is saved."""
    client = client_for(manager)
    assessment = ImagingAssessment.objects.create(
        patient=patient,
        assessment_date=dt.date(2023, 2, 25),
        is_baseline=True,
        modality="ct",
        criteria="recist11",
    )
    data = page_data(client.get(change_url(assessment)))
    for number in (1, 2, 3):
        add_row(data, "measurements", lesion_number=str(number), organ="lung", diameter_mm="20")

    response = client.post(change_url(assessment), data)

    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    errors = formsets["measurements"].forms[2].errors
    assert "at most 2 target lesions per organ" in errors["organ"][0]
    assert not assessment.measurements.exists()

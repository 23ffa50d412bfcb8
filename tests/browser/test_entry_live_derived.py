"""Derived values update as the data manager types, computed by the server (issue 15)."""

from __future__ import annotations

import datetime as dt

import pytest

from registry import services
from registry.models import ImagingAssessment, LabPanel, LesionMeasurement, TumourAssessment
from tests.registry.factories import make_data_manager, make_patient, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scores_stage_response_and_dose_check_follow_the_typing(ctcae_terms, login, live_server):
    site = make_site("NT")
    make_data_manager(site, "dm-nt")
    patient = make_patient(site, index_date=dt.date(2023, 3, 1), ecog_ps=0, body_weight_kg=65)
    services.crf_record_save(
        record=TumourAssessment(
            patient=patient,
            imaging_date=dt.date(2023, 2, 15),
            tumour_number=1,
            max_diameter_cm=1.5,
            macrovascular_invasion="none",
            extrahepatic_spread=False,
        )
    )
    baseline = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient, assessment_date=dt.date(2023, 2, 25), is_baseline=True, modality="ct"
        )
    )
    for number, diameter in ((1, 40), (2, 25)):
        services.crf_record_save(
            record=LesionMeasurement(
                assessment=baseline, lesion_number=number, diameter_mm=diameter
            )
        )
    page = login("dm-nt")
    page.goto(f"{live_server.url}/admin/registry/patient/{patient.pk}/change/")

    page.click("#lab_panels-group .add-row a")
    page.fill("#id_lab_panels-0-sample_date", "2023-02-20")
    page.fill("#id_lab_panels-0-albumin_g_l", "40")
    page.fill("#id_lab_panels-0-total_bilirubin_umol_l", "17")
    page.fill("#id_lab_panels-0-inr", "1.1")
    page.select_option("#id_lab_panels-0-ascites", "none")
    page.select_option("#id_lab_panels-0-encephalopathy", "none")

    row_albi = page.locator("#lab_panels-0 .fieldBox.field-albi .readonly")
    row_albi.filter(has_text="-2.588 · grade 2 (mALBI 2a)").wait_for()
    top = page.locator("#patient_form > div > fieldset")
    top.locator(".fieldBox.field-child_pugh .readonly").filter(has_text="5 points").wait_for()
    top.locator(".fieldBox.field-bclc_used .readonly").filter(has_text="0 (very early)").wait_for()

    page.click("#imaging_assessments-group .add-row a")
    page.fill("#id_imaging_assessments-1-assessment_date", "2023-06-20")
    page.select_option("#id_imaging_assessments-1-modality", "ct")
    page.fill("#id_imaging_assessments-1-target_lesions_mm_0", "15")
    page.fill("#id_imaging_assessments-1-target_lesions_mm_1", "10")
    # mRECIST: 25 mm vs 65 mm at baseline = −62 % → PR (≤ −30 %, Lencioni & Llovet 2010).
    page.locator("#imaging_assessments-1 .fieldBox.field-derived_response").filter(
        has_text="PR (-62% vs baseline)"
    ).wait_for()

    page.click("#systemic_therapies-group .add-row a")
    page.select_option("#id_systemic_therapies-0-agent", "lenvatinib")
    page.fill("#id_systemic_therapies-0-start_date", "2023-03-01")
    page.fill("#id_systemic_therapies-0-dose", "8")
    page.select_option("#id_systemic_therapies-0-dose_unit", "mg")
    page.locator("#systemic_therapies-0 td.field-dose_check").filter(
        has_text="weight-based dose of 12 mg/day"
    ).wait_for()

    assert not LabPanel.objects.exists()  # nothing was saved while typing
    assert ImagingAssessment.objects.count() == 1

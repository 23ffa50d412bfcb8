"""A new partial lab panel no longer blanks ALBI, Child-Pugh and BCLC (issue 15, CRF.md §2)."""

from __future__ import annotations

import datetime as dt

import pytest

from registry import services
from registry.models import LabPanel, Patient, TumourAssessment
from tests.registry.factories import make_data_manager, make_patient, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_afp_only_panel_keeps_the_scores_and_a_lacking_baseline_is_named(
    ctcae_terms, login, live_server
):
    site = make_site("NT")
    make_data_manager(site, "dm-nt")
    patient = make_patient(site, index_date=dt.date(2023, 3, 1), ecog_ps=0)
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
            patient=patient,
            imaging_date=dt.date(2023, 2, 15),
            tumour_number=1,
            max_diameter_cm=1.5,
            macrovascular_invasion="none",
            extrahepatic_spread=False,
        )
    )
    page = login("dm-nt")
    page.goto(f"{live_server.url}/admin/registry/patient/{patient.pk}/change/")
    page.click("#lab_panels-group .add-row a")
    page.fill("#id_lab_panels-1-sample_date", "2023-02-28")
    page.fill("#id_lab_panels-1-afp_ng_ml", "250")
    page.click("#patient_form input[name=_continue] >> nth=-1")
    page.wait_for_load_state("load")

    assert page.locator(".errorlist").count() == 0, page.locator(".errorlist").all_inner_texts()
    derived = page.locator(
        "#patient_form > div fieldset .fieldBox.field-albi .readonly"
    ).first.inner_text()
    assert "-2.588 · grade 2 (mALBI 2a) (panel of 2023-02-20)" in derived
    assert (
        "5 points · class A"
        in page.locator(
            "#patient_form > div fieldset .fieldBox.field-child_pugh .readonly"
        ).first.inner_text()
    )
    assert (
        "0 (very early) — derived"
        in page.locator(".fieldBox.field-bclc_used .readonly").inner_text()
    )
    patient.refresh_from_db()
    assert (patient.albi_grade, patient.child_pugh_class, patient.bclc_stage) == ("2", "A", "0")

    # A baseline that lacks Child-Pugh's inputs: incomplete, the inputs named on the page.
    panel = LabPanel.objects.get(sample_date=dt.date(2023, 2, 20))
    panel.inr = None
    services.crf_record_save(record=panel)
    page.reload()
    assert (
        "Child-Pugh needs inr"
        in page.locator(".fieldBox.field-critical_missing .readonly").inner_text()
    )
    flags = page.locator("#flags").inner_text()
    assert (
        "Child-Pugh at baseline cannot be derived: no lab panel on or before the index date has inr"
        in flags
    )
    assert Patient.objects.get(pk=patient.pk).completeness_pct < 100

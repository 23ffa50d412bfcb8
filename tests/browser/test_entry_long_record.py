"""A patient with many rows still saves from the patient page (issue 17, item 8): 42 lab panels
once passed Django's 1,000-field limit and the edit was lost with a 400."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings

from registry import services
from registry.models import FollowUp, LabPanel, TaceSession
from tests.registry.factories import make_data_manager, make_patient, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_with_42_lab_panels_saves_an_edit(ctcae_terms, login, live_server):
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 1000  # Django's default guard, kept
    site = make_site("NT")
    make_data_manager(site, "dm-nt")
    patient = make_patient(
        site, index_date=dt.date(2023, 3, 1), diagnosis_date=dt.date(2020, 12, 1)
    )
    first = dt.date(2021, 1, 4)
    with services.patient_refresh_deferred():
        for week in range(42):
            services.crf_record_save(
                record=LabPanel(
                    patient=patient,
                    sample_date=first + dt.timedelta(weeks=week),
                    albumin_g_l=40,
                    total_bilirubin_umol_l=17,
                    inr="1.1",
                    ascites="none",
                    encephalopathy="none",
                    afp_ng_ml=10 + week,
                )
            )
        for session in range(6):
            services.crf_record_save(
                record=TaceSession(
                    patient=patient,
                    start_date=dt.date(2023, 3, 1) + dt.timedelta(weeks=6 * session),
                    technique="ctace",
                )
            )
        services.crf_record_save(
            record=FollowUp(patient=patient, contact_date=dt.date(2024, 1, 5), vital_status="alive")
        )
    page = login("dm-nt")
    page.goto(f"{live_server.url}/admin/registry/patient/{patient.pk}/change/")
    note = page.inner_text("#section-windows")
    assert "lab panels" in note
    assert "of 42" in note
    assert page.eval_on_selector("#patient_form", "f => [...new FormData(f)].length") < 1000

    # The latest panel is on the page: correct its AFP and add a follow-up contact.
    latest = LabPanel.objects.filter(patient=patient).latest("sample_date")
    index = page.eval_on_selector_all(
        "[id^=id_lab_panels-][id$=-sample_date]",
        f"es => es.findIndex(e => e.value === '{latest.sample_date.isoformat()}')",
    )
    assert index >= 0
    page.fill(f"#id_lab_panels-{index}-afp_ng_ml", "99,5")
    page.click("#follow_ups-group .add-row a")
    page.fill("#id_follow_ups-1-contact_date", "2024-03-05")
    page.select_option("#id_follow_ups-1-vital_status", "alive")
    response = None

    def remember(r):
        nonlocal response
        if r.request.method == "POST":
            response = r

    page.on("response", remember)
    page.click("#patient_form input[name=_continue] >> nth=-1")
    page.wait_for_load_state("load")

    assert response is not None
    assert response.status in (200, 302)
    assert page.locator(".errorlist").count() == 0, page.locator(".errorlist").all_inner_texts()
    latest.refresh_from_db()
    assert latest.afp_ng_ml == Decimal("99.5")
    assert FollowUp.objects.filter(patient=patient).count() == 2
    assert LabPanel.objects.filter(patient=patient).count() == 42  # none lost or deleted


def test_what_was_typed_comes_back_after_a_save_the_server_refused(
    ctcae_terms, login, live_server, settings
):
    site = make_site("NT")
    make_data_manager(site, "dm-nt")
    patient = make_patient(site, index_date=dt.date(2023, 3, 1))
    url = f"{live_server.url}/admin/registry/patient/{patient.pk}/change/"
    page = login("dm-nt")
    page.goto(url)
    page.click("#lab_panels-group .add-row a")
    page.fill("#id_lab_panels-0-sample_date", "2023-02-20")
    page.fill("#id_lab_panels-0-albumin_g_l", "38")
    page.select_option("#id_lab_panels-0-ascites", "mild")
    page.fill("#id_body_weight_kg", "71")

    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20  # the server now refuses this page: a 400
    page.click("#patient_form input[name=_continue] >> nth=-1")
    page.wait_for_load_state("load")
    assert not LabPanel.objects.exists()

    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
    page.goto(url)  # the data manager comes back to the record
    assert "did not reach the registry" in page.inner_text("#draft-restore")
    page.click("#draft-restore-button")

    assert page.input_value("#id_lab_panels-0-albumin_g_l") == "38"
    assert page.input_value("#id_lab_panels-0-ascites") == "mild"
    assert page.input_value("#id_body_weight_kg") == "71"
    page.click("#patient_form input[name=_continue] >> nth=-1")
    page.wait_for_load_state("load")
    assert page.locator(".errorlist").count() == 0, page.locator(".errorlist").all_inner_texts()
    assert LabPanel.objects.get().albumin_g_l == Decimal("38.0")
    page.reload()
    assert page.locator("#draft-restore").count() == 0  # saved: nothing more to offer

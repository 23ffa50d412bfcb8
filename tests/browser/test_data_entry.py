"""A data manager enters a whole case through the browser; another site cannot see it."""

from __future__ import annotations

import re

import pytest

from registry.choices import RecordStatus
from registry.models import AdverseEvent, LabPanel, Patient
from tests.registry.factories import make_data_manager, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sites(ctcae_terms):
    nantong, shanghai = make_site("NT"), make_site("SH", "Shanghai Liver Centre")
    make_data_manager(nantong, "dm-nt")
    make_data_manager(shanghai, "dm-sh")
    return nantong, shanghai


def enrol(page, live_server) -> str:
    page.goto(f"{live_server.url}/admin/registry/patient/add/")
    page.fill("#id_site_patient_ref", "NT-MRN-77")
    page.select_option("#id_sex", "female")
    page.fill("#id_birth_year", "1958")
    page.fill("#id_body_weight_kg", "62")
    page.check("#id_etiology_hbv")
    page.select_option("#id_antiviral_therapy", "true")
    page.fill("#id_diagnosis_date", "2023-01-10")
    page.select_option("#id_diagnosis_basis", "imaging")
    page.select_option("#id_histology_subtype", "conventional")
    page.fill("#id_index_date", "2023-03-01")
    page.fill("#id_ecog_ps", "0")
    page.click("input[name=_save]")
    page.wait_for_load_state("load")
    rows = page.locator(".form-row:has(.errorlist)")
    assert rows.count() == 0, rows.all_inner_texts()
    page.wait_for_selector("#patient-status")
    return Patient.objects.get(site_patient_ref="NT-MRN-77").study_id


def add_row(page, group: str) -> None:
    """Click 'Add another …' of an inline (the new row of a new patient has index 0)."""
    page.click(f"#{group}-group .add-row a")


def fill_lab(page, albumin: str) -> None:
    page.fill("#id_lab_panels-0-sample_date", "2023-02-20")
    page.fill("#id_lab_panels-0-albumin_g_l", albumin)
    page.fill("#id_lab_panels-0-total_bilirubin_umol_l", "17")
    page.fill("#id_lab_panels-0-inr", "1.1")
    page.select_option("#id_lab_panels-0-ascites", "none")
    page.select_option("#id_lab_panels-0-encephalopathy", "none")


def pick_term(page, row: str, term: str) -> None:
    """Search the CTCAE list in the row's autocomplete and pick ``term``."""
    page.click(f"#id_{row}-term + .select2")
    page.fill(".select2-container--open .select2-search__field", term[:4])
    page.click(f".select2-results__option:text-is('{term}')")
    assert page.locator(f"#id_{row}-term option:checked").inner_text() == term


def save_and_continue(page) -> None:
    page.click("#patient_form input[name=_continue] >> nth=-1")
    page.wait_for_load_state("load")


def test_a_data_manager_enters_a_case_and_another_site_cannot_see_it(sites, login, live_server):
    page = login("dm-nt")
    study_id = enrol(page, live_server)
    patient_url = page.url

    # Baseline labs: ALBI and Child-Pugh appear once saved.
    add_row(page, "lab_panels")
    fill_lab(page, albumin="40")
    save_and_continue(page)
    derived = page.locator(".field-albi").first.inner_text()
    assert "-2.588 · grade 2 (mALBI 2a)" in derived
    assert "5 points · class A" in page.locator(".field-child_pugh").first.inner_text()

    # Baseline tumour, a TACE session and a baseline scan, in one save.
    add_row(page, "tumour_assessment")
    page.fill("#id_tumour_assessment-0-imaging_date", "2023-02-15")
    page.fill("#id_tumour_assessment-0-tumour_number", "2")
    page.fill("#id_tumour_assessment-0-max_diameter_cm", "4")
    add_row(page, "tace_sessions")
    page.fill("#id_tace_sessions-0-session_number", "1")
    page.select_option("#id_tace_sessions-0-technique", "ctace")
    page.fill("#id_tace_sessions-0-start_date", "2023-03-01")
    page.select_option("#id_tace_sessions-0-chemo_agent", "epirubicin")
    page.fill("#id_tace_sessions-0-chemo_dose_mg", "50")
    page.select_option("#id_tace_sessions-0-technically_adequate", "true")
    add_row(page, "imaging_assessments")
    page.fill("#id_imaging_assessments-0-assessment_date", "2023-02-25")
    page.check("#id_imaging_assessments-0-is_baseline")
    page.select_option("#id_imaging_assessments-0-modality", "ct")
    save_and_continue(page)
    assert page.locator(".errornote").count() == 0, page.locator(".errorlist").all_inner_texts()

    # Target lesions on the assessment's own page, then back to the patient.
    page.click("a.target-lesions-link")
    page.click("#measurements-group .add-row a")
    page.fill("#id_measurements-0-lesion_number", "1")
    page.fill("#id_measurements-0-diameter_mm", "40")
    page.click("#measurements-group .add-row a")
    page.fill("#id_measurements-1-lesion_number", "2")
    page.fill("#id_measurements-1-diameter_mm", "25")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(re.escape(patient_url)))
    assert "2 lesions, sum 65 mm" in page.locator("a.target-lesions-link").inner_text()

    # An adverse event and a follow-up contact.
    add_row(page, "adverse_events")
    pick_term(page, "adverse_events-0", "Fever")
    page.select_option("#id_adverse_events-0-grade", "1")  # a list of the term's grades
    page.fill("#id_adverse_events-0-onset_date", "2023-03-03")
    page.select_option("#id_adverse_events-0-attribution", "local")
    add_row(page, "follow_ups")
    page.fill("#id_follow_ups-0-contact_date", "2023-09-01")
    page.select_option("#id_follow_ups-0-vital_status", "alive")
    save_and_continue(page)
    assert page.locator(".errornote").count() == 0, page.locator(".errorlist").all_inner_texts()
    assert AdverseEvent.objects.get(patient__study_id=study_id).term.term == "Fever"
    assert page.locator("#id_adverse_events-0-term option:checked").inner_text() == "Fever"

    page.click("#status-mark_complete")
    page.wait_for_load_state("load")
    assert page.locator("#patient-status").inner_text() == "Complete"
    assert Patient.objects.get(study_id=study_id).status == RecordStatus.COMPLETE

    # Another site's data manager can neither find nor open the patient.
    other = login("dm-sh")
    other.goto(f"{live_server.url}/admin/registry/patient/?q={study_id}")
    assert other.locator("#result_list").count() == 0
    assert "0 patients" in other.locator(".paginator").inner_text()
    response = other.goto(patient_url)
    assert response.status == 404


def test_albumin_500_shows_the_field_error_and_nothing_is_saved(sites, login, live_server):
    page = login("dm-nt")
    study_id = enrol(page, live_server)
    add_row(page, "lab_panels")
    fill_lab(page, albumin="500")

    save_and_continue(page)

    error = page.locator(".field-albumin_g_l .errorlist, .errors.field-albumin_g_l .errorlist")
    assert "Albumin 500 g/L is outside the allowed range 10–60 g/L." in error.first.inner_text()
    assert not LabPanel.objects.filter(patient__study_id=study_id).exists()

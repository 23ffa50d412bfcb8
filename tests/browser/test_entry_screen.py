"""The entry screen itself (issue 15): grades per CTCAE term, a 1366-px laptop without sideways
scrolling, numbers at their stored precision, and a keyboard that never saves by surprise."""

from __future__ import annotations

import datetime as dt

import pytest

from registry import services
from registry.models import CtcaeTerm, ImagingAssessment, LabPanel, LesionMeasurement, Patient
from tests.registry.factories import make_data_manager, make_patient, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def patient(ctcae_terms) -> Patient:
    site = make_site("NT")
    make_data_manager(site, "dm-nt")
    return make_patient(site, index_date=dt.date(2023, 3, 1))


def open_patient(login, live_server, patient, width: int = 1400):
    page = login("dm-nt")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/registry/patient/{patient.pk}/change/")
    return page


def test_the_grade_list_offers_only_the_grades_of_the_chosen_term(patient, login, live_server):
    hepatic_failure = CtcaeTerm.objects.get(term="Hepatic failure")
    assert (hepatic_failure.min_grade, hepatic_failure.max_grade) == (3, 5)  # CRF.md §7
    page = open_patient(login, live_server, patient)
    page.click("#adverse_events-group .add-row a")
    page.click("#id_adverse_events-0-term + .select2")
    page.fill(".select2-container--open .select2-search__field", "Hepatic fa")
    page.click(".select2-results__option:text-is('Hepatic failure')")

    offered = page.eval_on_selector(
        "#id_adverse_events-0-grade",
        "s => Array.from(s.options).filter(o => !o.disabled && o.value).map(o => o.value)",
    )
    assert offered == ["3", "4", "5"]


def test_tace_and_imaging_rows_fit_a_1366_px_screen(patient, login, live_server):
    page = open_patient(login, live_server, patient, width=1366)
    page.click("#tace_sessions-group .add-row a")
    page.click("#imaging_assessments-group .add-row a")
    overflow = {
        group: page.eval_on_selector(
            f"#{group}-group fieldset.module", "f => f.scrollWidth - f.clientWidth"
        )
        for group in ("tace_sessions", "imaging_assessments", "systemic_therapies")
    }
    assert overflow == dict.fromkeys(overflow, 0), "px of sideways scrolling at 1366 px"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_sums_are_shown_at_the_stored_precision(patient, login, live_server):
    baseline = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient, assessment_date=dt.date(2023, 2, 25), is_baseline=True, modality="ct"
        )
    )
    for number, diameter in ((1, "10.1"), (2, "20.2")):
        services.crf_record_save(
            record=LesionMeasurement(
                assessment=baseline, lesion_number=number, diameter_mm=diameter
            )
        )
    page = login("dm-nt")
    page.goto(f"{live_server.url}/admin/registry/imagingassessment/{baseline.pk}/change/")

    assert page.inner_text(".fieldBox.field-target_sum .readonly") == "30.3"
    page.goto(f"{live_server.url}/admin/registry/patient/{patient.pk}/change/")
    assert "sum 30.3 mm" in page.inner_text("a.target-lesions-link")
    assert "30.29999" not in page.content()


def test_enter_in_a_row_does_not_save_and_tab_follows_the_form(patient, login, live_server):
    page = open_patient(login, live_server, patient)
    page.click("#lab_panels-group .add-row a")
    page.fill("#id_lab_panels-0-sample_date", "2023-02-20")
    page.fill("#id_lab_panels-0-albumin_g_l", "40")
    url = page.url

    page.press("#id_lab_panels-0-albumin_g_l", "Enter")
    page.wait_for_timeout(300)  # a submission would have started navigating by now

    assert page.url == url
    assert page.input_value("#id_lab_panels-0-albumin_g_l") == "40"
    assert not LabPanel.objects.exists()
    page.press("#id_lab_panels-0-albumin_g_l", "Tab")
    assert page.evaluate("document.activeElement.id") == "id_lab_panels-0-albumin_unit"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_lab_panels-0-total_bilirubin_umol_l"
    positive = page.eval_on_selector_all("[tabindex]", "e => e.filter(x => x.tabIndex > 0).length")
    assert positive == 0

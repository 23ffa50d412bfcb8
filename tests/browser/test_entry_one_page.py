"""Fewer screens (issue 15): scans and their lesions in one save on the patient page; the add
page says what comes next; a section that holds data is open."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from registry import services
from registry.models import Death, ImagingAssessment, LesionMeasurement
from tests.registry.factories import make_data_manager, make_patient, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(ctcae_terms):
    site = make_site("NT")
    make_data_manager(site, "dm-nt")
    return site


def add_scan(page, index: int, day: str, lesions: list[str], baseline: bool = False) -> None:
    page.click("#imaging_assessments-group .add-row a")
    row = f"imaging_assessments-{index}"
    page.fill(f"#id_{row}-assessment_date", day)
    if baseline:
        page.check(f"#id_{row}-is_baseline")
    page.select_option(f"#id_{row}-modality", "ct")
    for number, diameter in enumerate(lesions):
        page.fill(f"#id_{row}-target_lesions_mm_{number}", diameter)


def test_a_baseline_and_its_follow_ups_with_lesions_are_saved_in_one_save(site, login, live_server):
    patient = make_patient(site, index_date=dt.date(2023, 3, 1))
    page = login("dm-nt")
    page.goto(f"{live_server.url}/admin/registry/patient/{patient.pk}/change/")
    # Entered out of date order on purpose: the follow-ups first, the baseline last.
    add_scan(page, 0, "2023-04-20", ["30", "20"])
    add_scan(page, 1, "2023-06-20", ["15", "10"])
    add_scan(page, 2, "2023-02-25", ["40", "25"], baseline=True)
    assert not page.is_visible("#id_imaging_assessments-0-target_lesions_mm_2")  # mRECIST: 2

    page.click("#patient_form input[name=_continue] >> nth=-1")
    page.wait_for_load_state("load")

    assert page.locator(".errorlist").count() == 0, page.locator(".errorlist").all_inner_texts()
    scans = list(ImagingAssessment.objects.filter(patient=patient).order_by("assessment_date"))
    assert [s.is_baseline for s in scans] == [True, False, False]
    assert [s.target_sum_mm for s in scans] == [65, 50, 25]
    # mRECIST (Lencioni & Llovet 2010): 50/65 = -23% → SD; 25/65 = -62% → PR (≤ -30%).
    assert [s.response for s in scans[1:]] == ["SD", "PR"]
    assert LesionMeasurement.objects.filter(assessment__patient=patient).count() == 6
    # The page shows the lesions in their rows, ready to be corrected in place.
    assert page.input_value("#id_imaging_assessments-0-target_lesions_mm_0") == "40.0"

    page.fill("#id_imaging_assessments-2-target_lesions_mm_1", "12")
    page.click("#patient_form input[name=_continue] >> nth=-1")
    page.wait_for_load_state("load")
    assert page.locator(".errorlist").count() == 0, page.locator(".errorlist").all_inner_texts()
    assert LesionMeasurement.objects.get(
        assessment=scans[2], lesion_number=2
    ).diameter_mm == Decimal("12")


def test_a_follow_up_without_a_baseline_in_the_submission_is_refused_at_its_row(
    site, login, live_server
):
    patient = make_patient(site, index_date=dt.date(2023, 3, 1))
    page = login("dm-nt")
    page.goto(f"{live_server.url}/admin/registry/patient/{patient.pk}/change/")
    add_scan(page, 0, "2023-04-20", ["30", "20"])

    page.click("#patient_form input[name=_continue] >> nth=-1")
    page.wait_for_load_state("load")

    errors = page.locator("#imaging_assessments-group .errorlist").all_inner_texts()
    assert any("needs a baseline scan" in e for e in errors), errors
    assert page.input_value("#id_imaging_assessments-0-target_lesions_mm_0") == "30"
    assert not ImagingAssessment.objects.exists()


def test_the_add_page_says_what_comes_next_and_opens_the_workspace(site, login, live_server):
    page = login("dm-nt")
    page.goto(f"{live_server.url}/admin/registry/patient/add/")
    assert "opens the patient workspace" in page.inner_text("#next-steps")
    page.fill("#id_site_patient_ref", "NT-MRN-1")
    page.select_option("#id_sex", "male")
    page.fill("#id_birth_year", "1960")
    page.check("#id_etiology_unknown")
    page.fill("#id_index_date", "2023-03-01")
    page.click("input[name=_save]")
    page.wait_for_load_state("load")

    assert page.locator("#patient-status").inner_text() == "Draft"
    assert page.is_visible("#lab_panels-group")
    assert page.is_visible("#imaging_assessments-group")


def test_a_section_with_data_is_open(site, login, live_server):
    patient = make_patient(site, index_date=dt.date(2023, 3, 1))
    services.crf_record_save(
        record=Death(patient=patient, death_date=dt.date(2024, 1, 10), cause="unknown")
    )
    page = login("dm-nt")
    page.goto(f"{live_server.url}/admin/registry/patient/{patient.pk}/change/")

    assert page.is_visible("#id_death-0-death_date")
    assert page.locator("#haic_cycles-group details").count() == 1  # empty: still folded

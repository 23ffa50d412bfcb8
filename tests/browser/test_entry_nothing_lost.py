"""Nothing typed is silently lost or changed (issue 15): each case through a real Chromium."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from registry import services
from registry.models import Death, LabPanel, Patient
from tests.registry.factories import make_data_manager, make_patient, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


@pytest.fixture
def patient(ctcae_terms) -> Patient:
    site = make_site("NT")
    make_data_manager(site, "dm-nt")
    return make_patient(site, index_date=dt.date(2023, 3, 1))


def open_patient(login, live_server, patient):
    page = login("dm-nt")
    page.goto(f"{live_server.url}/admin/registry/patient/{patient.pk}/change/")
    return page


def save(page) -> None:
    page.click("#patient_form input[name=_continue] >> nth=-1")
    page.wait_for_load_state("load")


def new_lab_row(page) -> str:
    page.click("#lab_panels-group .add-row a")
    prefix = "lab_panels-0"
    page.fill(f"#id_{prefix}-sample_date", "2023-02-20")
    return prefix


def field_error(page, row: str, field: str) -> str:
    return page.locator(f".field-{field}:has(#id_{row}-{field}) .errorlist").first.inner_text()


def test_letters_in_a_number_are_an_error_at_the_field(patient, login, live_server):
    page = open_patient(login, live_server, patient)
    row = new_lab_row(page)
    page.fill(f"#id_{row}-albumin_g_l", "4o")  # a letter o for a zero

    save(page)

    assert field_error(page, row, "albumin_g_l") == "'4o' is not a number."
    assert page.input_value(f"#id_{row}-albumin_g_l") == "4o"  # kept, to be corrected
    assert not LabPanel.objects.exists()


def test_a_decimal_comma_is_read_as_a_decimal_point(patient, login, live_server):
    page = open_patient(login, live_server, patient)
    row = new_lab_row(page)
    page.fill(f"#id_{row}-total_bilirubin_umol_l", "1,2")
    page.select_option(f"#id_{row}-total_bilirubin_unit", "mg/dL")

    save(page)

    assert page.locator(".errorlist").count() == 0, page.locator(".errorlist").all_inner_texts()
    # 1.2 mg/dL x 17.1 = 20.52 µmol/L, stored to one decimal; never 12 mg/dL (205.2).
    assert LabPanel.objects.get().total_bilirubin_umol_l == Decimal("20.5")


def test_an_ambiguous_thousands_comma_is_refused_with_a_message(patient, login, live_server):
    page = open_patient(login, live_server, patient)
    row = new_lab_row(page)
    page.fill(f"#id_{row}-platelets_10e9_l", "1,200")

    save(page)

    assert "'1,200' is ambiguous" in field_error(page, row, "platelets_10e9_l")
    assert not LabPanel.objects.exists()


def test_the_unit_label_and_range_follow_the_chosen_unit(patient, login, live_server):
    page = open_patient(login, live_server, patient)
    row = new_lab_row(page)
    label = page.locator(f"label[for=id_{row}-total_bilirubin_umol_l]")
    help_text = page.locator(f"#id_{row}-total_bilirubin_umol_l_helptext")
    assert label.inner_text() == "total bilirubin (µmol/L):"
    assert "allowed 1–1000" in help_text.inner_text()

    page.select_option(f"#id_{row}-total_bilirubin_unit", "mg/dL")

    assert label.inner_text() == "total bilirubin (mg/dL):"
    assert "mg/dL · allowed 0.0585–58.5" in help_text.inner_text()
    page.select_option(f"#id_{row}-albumin_unit", "g/dL")
    assert "g/dL · allowed 1–6" in page.inner_text(f"#id_{row}-albumin_g_l_helptext")


def test_future_dates_are_refused_at_their_fields(patient, login, live_server):
    page = open_patient(login, live_server, patient)
    page.fill("#id_index_date", TOMORROW)
    page.click("#tace_sessions-group .add-row a")
    page.fill("#id_tace_sessions-0-start_date", TOMORROW)
    page.select_option("#id_tace_sessions-0-technique", "ctace")

    save(page)

    assert "is in the future" in page.locator(".field-index_date .errorlist").inner_text()
    assert "is in the future" in field_error(page, "tace_sessions-0", "start_date")
    patient.refresh_from_db()
    assert patient.index_date == dt.date(2023, 3, 1)
    assert not patient.tace_sessions.exists()


def test_the_index_date_cannot_follow_the_death(patient, login, live_server):
    services.crf_record_save(
        record=Death(patient=patient, death_date=dt.date(2024, 1, 10), cause="unknown")
    )
    page = open_patient(login, live_server, patient)
    page.fill("#id_index_date", "2024-03-01")

    save(page)

    error = page.locator(".field-index_date .errorlist").inner_text()
    assert "Index date 2024-03-01 is after the death date 2024-01-10" in error
    patient.refresh_from_db()
    assert patient.index_date == dt.date(2023, 3, 1)


def test_unknown_etiology_with_a_known_one_is_refused(patient, login, live_server):
    page = open_patient(login, live_server, patient)
    page.check("#id_etiology_unknown")  # HBV is ticked already

    save(page)

    error = page.locator(".field-etiology_unknown .errorlist, .errors .errorlist").first
    assert "unknown and as HBV" in error.inner_text()
    patient.refresh_from_db()
    assert not patient.etiology_unknown

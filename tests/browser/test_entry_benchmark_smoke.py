"""The entry benchmark (benchmarks/bench_entry.py) at a small size: the same flow, its counts."""

from __future__ import annotations

import pytest

from benchmarks.bench_entry import Case, Meter, enrol, enter_case
from registry.models import ImagingAssessment, LesionMeasurement, Patient
from tests.registry.factories import make_data_manager, make_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_small_case_takes_three_page_loads_and_no_rejected_save(ctcae_terms, login, live_server):
    make_data_manager(make_site("NT"), "dm-nt")
    page = login("dm-nt")
    meter = Meter(counting=True)
    page.on("response", meter.on_response)

    enrol(page, live_server.url, "NT-SMOKE-1")
    enter_case(page, Case(tace_sessions=1, follow_up_scans=1, adverse_events=1))

    assert (meter.page_loads, meter.submissions, meter.rejected) == (3, 2, 0)
    patient = Patient.objects.get(site_patient_ref="NT-SMOKE-1")
    assert ImagingAssessment.objects.filter(patient=patient).count() == 2
    assert LesionMeasurement.objects.filter(assessment__patient=patient).count() == 4
    assert hasattr(patient, "death")

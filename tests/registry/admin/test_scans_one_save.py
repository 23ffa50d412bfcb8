"""A baseline scan and its follow-ups, lesions typed in their rows, saved in one POST of the
patient page (issue 15): the checks see the baseline of the same submission."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.models import ImagingAssessment, LesionMeasurement

from .conftest import change_url
from .helpers import add_row, page_data

pytestmark = pytest.mark.django_db


def scan(data, day: str, lesions: list[str], baseline: bool = False) -> None:
    values = {"assessment_date": day, "modality": "ct", "criteria": "mrecist"}
    if baseline:
        values["is_baseline"] = "on"
    values.update({f"target_lesions_mm_{i}": mm for i, mm in enumerate(lesions)})
    add_row(data, "imaging_assessments", **values)


def test_follow_ups_before_their_baseline_in_the_same_post_are_saved(client_for, manager, patient):
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))
    scan(data, "2023-04-20", ["30", "20"])
    scan(data, "2023-02-25", ["40", "25"], baseline=True)
    data["_continue"] = "1"

    response = client.post(change_url(patient), data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    follow_up = ImagingAssessment.objects.get(is_baseline=False)
    assert follow_up.target_sum_mm == 50
    # mRECIST (Lencioni & Llovet 2010): 50 vs 65 mm = −23 %: neither PR (≤ −30 %) nor PD.
    assert follow_up.response == "SD"
    assert LesionMeasurement.objects.count() == 4


def test_a_follow_up_lesion_not_measured_at_baseline_is_refused_and_nothing_is_saved(
    client_for, manager, patient
):
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))
    scan(data, "2023-02-25", ["40"], baseline=True)
    scan(data, "2023-04-20", ["30", "20"])

    response = client.post(change_url(patient), data)

    assert response.status_code == 200
    errors = str(response.context["inline_admin_formsets"][7].formset.errors)
    assert "Lesion 2: Lesion 2 was not measured on the baseline scan" in errors
    assert not ImagingAssessment.objects.exists()


def test_a_baseline_lesion_under_10_mm_is_refused_at_the_scan(client_for, manager, patient):
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))
    scan(data, "2023-02-25", ["8"], baseline=True)

    response = client.post(change_url(patient), data)

    assert response.status_code == 200
    assert "not measurable" in str(response.context["inline_admin_formsets"][7].formset.errors)
    assert not ImagingAssessment.objects.filter(assessment_date=dt.date(2023, 2, 25)).exists()

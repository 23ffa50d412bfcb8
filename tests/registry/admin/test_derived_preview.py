"""The patient page's derived values as typed: computed by the server's own derivations from the
posted form, nothing saved (issue 15)."""

from __future__ import annotations

import datetime as dt

import pytest

from registry import services
from registry.models import LabPanel, SystemicTherapy, TumourAssessment

from .conftest import change_url
from .helpers import add_row, page_data

pytestmark = pytest.mark.django_db


def preview(client, patient, data) -> dict:
    response = client.post(f"/admin/registry/patient/{patient.pk}/derived/", data)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def value(answer, prefix, field) -> str:
    return next(v["text"] for v in answer["values"] if (v["prefix"], v["field"]) == (prefix, field))


def test_a_typed_panel_gives_albi_child_pugh_and_bclc_before_it_is_saved(
    client_for, manager, patient
):
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
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))
    add_row(
        data,
        "lab_panels",
        sample_date=str(patient.index_date - dt.timedelta(days=5)),
        albumin_g_l="40",
        total_bilirubin_umol_l="1",
        total_bilirubin_unit="mg/dL",  # 17.1 µmol/L
        inr="1,1",
        ascites="none",
        encephalopathy="none",
    )

    answer = preview(client, patient, data)

    # ALBI = 0.66·log10(17.1) − 0.085·40 = −2.586 (Johnson 2015): grade 2, mALBI 2a.
    assert value(answer, "lab_panels-0", "albi") == "-2.586 · grade 2 (mALBI 2a)"
    assert value(answer, "lab_panels-0", "child_pugh") == "5 points · class A"
    assert value(answer, "", "child_pugh").startswith("5 points · class A")
    assert value(answer, "", "bclc_used") == "0 (very early) — derived"
    assert answer["errors"] == {}
    assert not LabPanel.objects.exists()


def test_the_lenvatinib_dose_check_and_errors_are_shown_before_saving(client_for, manager, patient):
    client = client_for(manager)
    data = page_data(client.get(change_url(patient)))  # body weight 65 kg: 12 mg/day
    add_row(
        data,
        "systemic_therapies",
        agent="lenvatinib",
        start_date=str(patient.index_date),
        intent="initial",
        dose="8",
        dose_unit="mg",
    )
    add_row(data, "follow_ups", contact_date="2999-01-01", vital_status="alive")

    answer = preview(client, patient, data)

    check = value(answer, "systemic_therapies-0", "dose_check")
    assert "differs from the weight-based dose of 12 mg/day" in check
    assert "is in the future" in " ".join(answer["errors"]["follow_ups-0"]["contact_date"])
    assert not SystemicTherapy.objects.exists()

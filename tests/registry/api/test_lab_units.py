"""Lab values sent to the API in another unit: the same conversion as the web form and the
import (``registry.rules.to_canonical``), rounded once to the stored precision (CRF.md §2)."""

import pytest

from registry.models import LabPanel

pytestmark = pytest.mark.django_db

PANEL = {
    "sample_date": "2023-01-20",
    "albumin_g_l": "40",
    "total_bilirubin_umol_l": "17",
    "inr": "1.1",
    "ascites": "none",
    "encephalopathy": "none",
}


def post_panel(api, patient, **values):
    return api.post(
        "/api/v1/lab-panels/",
        {"patient": patient.study_id, **PANEL, **values},
        format="json",
    )


def test_1_997_mg_dl_bilirubin_is_34_1_umol_l_and_1_child_pugh_point(api, patient):
    """1.997 × 17.1 = 34.1487 µmol/L → 34.1; bilirubin < 34.2 µmol/L is 1 point (CRF.md §2)."""
    response = post_panel(
        api, patient, total_bilirubin_umol_l="1.997", total_bilirubin_unit="mg/dL"
    )

    assert response.status_code == 201, response.data
    assert response.data["total_bilirubin_umol_l"] == "34.1"
    lab = LabPanel.objects.get(pk=response.data["id"])
    assert lab.child_pugh_points["total_bilirubin"] == 1


@pytest.mark.parametrize(
    ("entered", "stored", "points"),
    [("3.505", "35.1", 1), ("2.7949", "27.9", 3), ("2.795", "28.0", 2)],
)
def test_albumin_in_g_dl_scores_from_the_stored_value(api, patient, entered, stored, points):
    response = post_panel(api, patient, albumin_g_l=entered, albumin_unit="g/dL")

    assert response.status_code == 201, response.data
    lab = LabPanel.objects.get(pk=response.data["id"])
    assert str(lab.albumin_g_l) == stored
    assert lab.child_pugh_points["albumin"] == points


def test_creatinine_in_mg_dl_is_stored_rounded_once(api, patient):
    response = post_panel(api, patient, creatinine_umol_l=0.194, creatinine_unit="mg/dL")

    assert response.status_code == 201, response.data
    assert response.data["creatinine_umol_l"] == "17.1"  # 17.1496


def test_an_unknown_unit_is_a_400_naming_the_unit_field(api, patient):
    response = post_panel(api, patient, albumin_g_l="4", albumin_unit="mmol/L")

    assert response.status_code == 400
    assert "'mmol/L' is not accepted" in str(response.data["albumin_unit"])


def test_a_value_without_a_unit_is_in_the_stored_unit(api, patient):
    response = post_panel(api, patient, total_bilirubin_umol_l="34.15")

    assert response.status_code == 201, response.data
    assert response.data["total_bilirubin_umol_l"] == "34.2"

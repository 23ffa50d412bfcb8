"""A lab value entered in another unit on the patient page: converted at full precision and
rounded once to the stored precision; the scores come from the stored value (CRF.md §2)."""

from decimal import Decimal

import pytest

from registry.models import LabPanel

from .conftest import change_url
from .helpers import add_row, page_data

pytestmark = pytest.mark.django_db

LAB = {
    "sample_date": "2023-02-20",
    "albumin_g_l": "40",
    "albumin_unit": "g/L",
    "total_bilirubin_umol_l": "17",
    "total_bilirubin_unit": "umol/L",
    "inr": "1.1",
    "ascites": "none",
    "encephalopathy": "none",
    "creatinine_unit": "umol/L",
}


def post_lab(client, patient, **values):
    data = add_row(page_data(client.get(change_url(patient))), "lab_panels", **{**LAB, **values})
    data["_continue"] = "1"
    return client.post(change_url(patient), data, follow=True)


def test_1_997_mg_dl_bilirubin_is_34_1_umol_l_and_1_child_pugh_point(client_for, manager, patient):
    """1.997 × 17.1 = 34.1487 µmol/L, stored as 34.1; Child-Pugh (Pugh 1973, CRF.md §2):
    bilirubin < 34.2 µmol/L is 1 point. Rounded twice (34.15, then 34.2) it scored 2."""
    post_lab(
        client_for(manager),
        patient,
        total_bilirubin_umol_l="1.997",
        total_bilirubin_unit="mg/dL",
    )

    lab = LabPanel.objects.get(patient=patient)
    assert lab.total_bilirubin_umol_l == Decimal("34.1")
    assert lab.child_pugh_points["total_bilirubin"] == 1


@pytest.mark.parametrize(
    ("entered", "stored", "points"),
    [
        # Albumin > 35 g/L is 1 point, 28–35 (boundaries included) 2, < 28 3 (CRF.md §2).
        ("3.5", "35.0", 2),
        ("3.504", "35.0", 2),
        ("3.505", "35.1", 1),  # exactly 35.05: rounded half away from zero
        ("2.7949", "27.9", 3),  # 27.949; rounded twice (27.95, then 28.0) it scored 2
        ("2.795", "28.0", 2),
    ],
)
def test_albumin_in_g_dl_scores_from_the_stored_value(
    client_for, manager, patient, entered, stored, points
):
    post_lab(client_for(manager), patient, albumin_g_l=entered, albumin_unit="g/dL")

    lab = LabPanel.objects.get(patient=patient)
    assert lab.albumin_g_l == Decimal(stored)
    assert lab.child_pugh_points["albumin"] == points


@pytest.mark.parametrize(
    ("entered", "stored"),
    [("1.5", "132.6"), ("0.194", "17.1"), ("22.624", "2000.0")],  # 17.1496; 1999.9616
)
def test_creatinine_in_mg_dl_is_stored_rounded_once(client_for, manager, patient, entered, stored):
    post_lab(client_for(manager), patient, creatinine_umol_l=entered, creatinine_unit="mg/dL")

    assert LabPanel.objects.get(patient=patient).creatinine_umol_l == Decimal(stored)


def test_creatinine_above_the_hard_range_after_conversion_is_refused_at_the_field(
    client_for, manager, patient
):
    """22.63 mg/dL is 2000.492 µmol/L, stored 2000.5: above the hard range 10–2000 µmol/L."""
    response = post_lab(
        client_for(manager), patient, creatinine_umol_l="22.63", creatinine_unit="mg/dL"
    )

    assert not LabPanel.objects.filter(patient=patient).exists()
    assert "Creatinine 2000.5 µmol/L is outside the allowed range" in response.content.decode()

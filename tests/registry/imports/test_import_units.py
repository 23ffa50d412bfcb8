"""Lab values imported in another unit: converted at full precision and rounded once to the
stored precision, as on the web form and the API (CRF.md §2)."""

from decimal import Decimal

import pytest

from registry.imports.importer import import_sheets
from registry.imports.parsing import read_upload
from registry.imports.synthetic import as_workbook, synthetic_rows
from registry.models import LabPanel

pytestmark = pytest.mark.django_db


def import_first_lab(site, manager, **values):
    rows = synthetic_rows(1)
    rows["labs"][0].update(values)
    result = import_sheets(
        site=site,
        user=manager,
        sheets=read_upload(as_workbook(rows), "registry.xlsx"),
        dry_run=False,
    )
    assert result.errors == []
    return LabPanel.objects.order_by("sample_date").first()


def test_1_997_mg_dl_bilirubin_is_34_1_umol_l_and_1_child_pugh_point(site, manager):
    """1.997 × 17.1 = 34.1487 µmol/L → 34.1; bilirubin < 34.2 µmol/L is 1 point (CRF.md §2)."""
    lab = import_first_lab(site, manager, total_bilirubin=1.997, total_bilirubin_unit="mg/dL")

    assert lab.total_bilirubin_umol_l == Decimal("34.1")
    assert lab.child_pugh_points["total_bilirubin"] == 1


@pytest.mark.parametrize(
    ("entered", "stored", "points"),
    [(3.505, "35.1", 1), (2.7949, "27.9", 3), (2.795, "28.0", 2)],
)
def test_albumin_in_g_dl_scores_from_the_stored_value(site, manager, entered, stored, points):
    lab = import_first_lab(site, manager, albumin=entered, albumin_unit="g/dL")

    assert lab.albumin_g_l == Decimal(stored)
    assert lab.child_pugh_points["albumin"] == points


def test_creatinine_in_mg_dl_is_stored_rounded_once(site, manager):
    lab = import_first_lab(site, manager, creatinine=0.194, creatinine_unit="mg/dl")

    assert lab.creatinine_umol_l == Decimal("17.1")  # 17.1496

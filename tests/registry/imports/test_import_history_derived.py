"""Derived values in the audit trail, through the import: the import is one change (its user,
time and reason) and each patient whose derived values it changed has an audit row holding
them (issue 12)."""

from decimal import Decimal

import pytest

from registry.imports.importer import import_sheets
from registry.imports.parsing import read_upload
from registry.imports.synthetic import as_workbook, synthetic_rows
from registry.models import LabPanel, Patient

pytestmark = pytest.mark.django_db


def run(site, user, rows, reason="Bulk import"):
    result = import_sheets(
        site=site,
        user=user,
        sheets=read_upload(as_workbook(rows), "registry.xlsx"),
        dry_run=False,
        reason=reason,
    )
    assert result.errors == []
    return result


def test_a_new_patient_has_its_derived_values_in_history_at_the_import_time(site, manager):
    run(site, manager, synthetic_rows(1))

    patient = Patient.objects.get()
    created, derived = patient.history.order_by("history_date", "history_id")
    assert created.history_type == "+"
    assert derived.history_type == "~"
    assert derived.albi_grade == patient.albi_grade != ""
    assert derived.child_pugh_class == patient.child_pugh_class != ""
    assert derived.bclc_stage == patient.bclc_stage != ""
    assert (derived.history_user, derived.history_change_reason) == (manager, "Bulk import")
    assert derived.history_date == created.history_date


def test_a_reimported_bilirubin_leaves_the_old_and_new_child_pugh_in_history(site, manager):
    """The baseline panel (3 days before index) gets bilirubin 60 µmol/L: > 51.3 µmol/L is
    3 Child-Pugh points instead of 1 (CRF.md §2), so the score grows by 2."""
    rows = synthetic_rows(1)
    run(site, manager, rows)
    patient = Patient.objects.get()
    score = patient.child_pugh_score
    rows["labs"][1].update(total_bilirubin=60, total_bilirubin_unit="umol/L")

    run(site, manager, rows, reason="corrected file")

    latest = patient.history.latest()
    assert latest.child_pugh_score == score + 2
    assert patient.history.exclude(history_id=latest.history_id).latest().child_pugh_score == (
        score
    )
    lab = LabPanel.objects.get(patient=patient, total_bilirubin_umol_l=Decimal("60.0"))
    lab_row = lab.history.latest()
    assert (latest.history_user, latest.history_change_reason, latest.history_date) == (
        manager,
        "corrected file",
        lab_row.history_date,
    )


def test_an_import_that_changes_nothing_adds_no_history(site, manager):
    rows = synthetic_rows(2)
    run(site, manager, rows)
    count = Patient.history.count()

    run(site, manager, rows)

    assert Patient.history.count() == count

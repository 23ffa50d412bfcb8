"""Bulk import: all-or-nothing, idempotent upsert by the site's own reference, dry run counts."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from registry.choices import Role
from registry.imports.importer import import_sheets
from registry.imports.parsing import read_upload
from registry.imports.synthetic import as_csv_zip, as_workbook, synthetic_rows
from registry.models import LabPanel, LesionMeasurement, Patient, TaceSession

from ..factories import make_user

pytestmark = pytest.mark.django_db


def run(site, user, data: bytes, name: str = "registry.xlsx", *, dry_run: bool = False):
    return import_sheets(site=site, user=user, sheets=read_upload(data, name), dry_run=dry_run)


def history_rows() -> int:
    return sum(
        model.history.count() for model in (Patient, LabPanel, TaceSession, LesionMeasurement)
    )


def test_a_thousand_row_file_with_one_bad_row_writes_nothing_and_names_it(site, manager):
    rows = synthetic_rows(62)  # 62 patients → 1,000+ rows over every section
    assert sum(len(r) for r in rows.values()) >= 1000
    rows["labs"][57]["albumin"] = 75  # hard range 10–60 g/L

    result = run(site, manager, as_workbook(rows))

    assert not result.committed
    assert result.errors == [
        {
            "sheet": "labs",
            "row": 59,  # header is row 1, so the 58th data row
            "column": "albumin",
            "value": "75",
            "reason": "Albumin 75 g/L is outside the allowed range 10–60 g/L.",
        }
    ]
    assert Patient.objects.count() == 0
    assert LabPanel.objects.count() == 0


def test_it_writes_every_section_of_a_clean_file(site, manager):
    rows = synthetic_rows(3)

    result = run(site, manager, as_workbook(rows))

    assert result.committed, result.errors
    assert Patient.objects.filter(site=site).count() == 3
    assert TaceSession.objects.count() == 9
    assert LesionMeasurement.objects.count() == 12
    assert result.totals["created"] == sum(len(r) for r in rows.values())


def test_the_same_file_imported_twice_changes_nothing_the_second_time(site, manager):
    data = as_workbook(synthetic_rows(5))
    run(site, manager, data)
    versions = sorted(Patient.objects.values_list("version", flat=True))
    audit = history_rows()

    again = run(site, manager, data)

    assert again.committed
    assert again.totals["created"] == 0
    assert again.totals["updated"] == 0
    assert history_rows() == audit
    assert sorted(Patient.objects.values_list("version", flat=True)) == versions


def test_a_csv_zip_upserts_the_rows_a_workbook_created(site, manager):
    rows = synthetic_rows(2)
    run(site, manager, as_workbook(rows))

    again = run(site, manager, as_csv_zip(rows), "sections.zip")

    assert again.totals == {"created": 0, "updated": 0, "unchanged": again.rows}


def test_a_changed_cell_updates_only_that_row(site, manager):
    rows = synthetic_rows(2)
    run(site, manager, as_workbook(rows))
    rows["tace"][0]["chemo_dose_mg"] = 60

    again = run(site, manager, as_workbook(rows))

    assert again.counts["tace"] == {"created": 0, "updated": 1, "unchanged": 5}
    assert again.totals["updated"] == 1
    session = TaceSession.objects.get(chemo_dose_mg=60)
    assert session.version == 2


def test_a_dry_run_counts_creates_and_writes_nothing(site, manager):
    result = run(site, manager, as_workbook(synthetic_rows(2)), dry_run=True)

    assert result.errors == []
    assert result.counts["patients"]["created"] == 2
    assert not result.committed
    assert Patient.objects.count() == 0


def test_a_dry_run_lists_every_error(site, manager):
    rows = synthetic_rows(3)
    rows["patients"][0]["birth_year"] = 1800
    rows["tace"][4]["start_date"] = "2023-02-30"
    rows["adverse_events"][2]["ctcae_term"] = "not_a_term"

    result = run(site, manager, as_workbook(rows), dry_run=True)

    found = {(e["sheet"], e["row"], e["column"]) for e in result.errors}
    assert found == {
        ("patients", 2, "birth_year"),
        ("tace", 6, "start_date"),
        ("adverse_events", 4, "ctcae_term"),
    }


def test_it_converts_bilirubin_in_mg_dl_to_umol_l(site, manager):
    rows = synthetic_rows(1)
    rows["labs"][0].update(total_bilirubin=1.0, total_bilirubin_unit="mg/dL")

    run(site, manager, as_workbook(rows))

    lab = LabPanel.objects.order_by("sample_date").first()
    assert lab.total_bilirubin_umol_l == Decimal("17.1")


def test_it_rejects_an_unknown_unit(site, manager):
    rows = synthetic_rows(1)
    rows["labs"][0].update(albumin_unit="mmol/L")

    result = run(site, manager, as_workbook(rows))

    assert [(e["column"], e["value"]) for e in result.errors] == [("albumin_unit", "mmol/L")]


def test_it_names_a_row_whose_patient_is_unknown(site, manager):
    rows = synthetic_rows(1)
    rows["labs"][1]["site_patient_ref"] = "NOBODY"

    result = run(site, manager, as_workbook(rows))

    assert result.errors[0]["row"] == 3
    assert result.errors[0]["column"] == "site_patient_ref"
    assert Patient.objects.count() == 0


def test_it_runs_the_cross_form_checks(site, manager):
    rows = synthetic_rows(1)
    rows["follow_up"][0]["contact_date"] = "2019-01-01"  # before the diagnosis

    result = run(site, manager, as_workbook(rows))

    assert result.errors[0]["column"] == "contact_date"
    assert "before the diagnosis date" in result.errors[0]["reason"]


def test_it_computes_the_derived_values_of_imported_patients(site, manager):
    run(site, manager, as_workbook(synthetic_rows(1)))

    patient = Patient.objects.get()
    assert patient.albi_grade
    assert patient.child_pugh_class == "A"
    assert patient.bclc_stage
    assert patient.best_overall_response


def test_it_refuses_a_user_without_import_rights(site):
    monitor = make_user("monitor", Role.MONITOR, site)

    with pytest.raises(PermissionDenied):
        run(site, monitor, as_workbook(synthetic_rows(1)))


def test_it_refuses_changes_to_a_locked_patient(site, manager):
    rows = synthetic_rows(1)
    run(site, manager, as_workbook(rows))
    Patient.objects.update(status="locked")
    rows["labs"][0]["inr"] = 1.5

    result = run(site, manager, as_workbook(rows))

    assert "locked" in result.errors[0]["reason"]
    assert not result.committed


def test_it_reports_an_unknown_column(site, manager):
    data = b"site_patient_ref,sample_date,albumine\nMRN-1,2023-01-01,40\n"

    result = run(site, manager, data, "labs.csv")

    assert ("labs.csv", 1, "albumine") in {
        (e["sheet"], e["row"], e["column"]) for e in result.errors
    }


def test_a_re_import_adding_a_lab_after_the_stored_death_names_the_row(site, manager):
    """CRF.md §9: no event after the death — checked in bulk against the stored death dates."""
    import datetime as dt

    rows = synthetic_rows(1)
    rows["follow_up"] = []
    rows["death"] = [
        {
            "site_patient_ref": rows["patients"][0]["site_patient_ref"],
            "death_date": dt.date(2022, 6, 1),
            "cause": "tumour_progression",
        }
    ]
    assert run(site, manager, as_workbook(rows)).committed
    late = dict(rows["labs"][0], sample_date=dt.date(2022, 7, 1))
    rows["labs"].append(late)

    result = run(site, manager, as_workbook(rows))

    assert not result.committed
    assert [(e["sheet"], e["column"]) for e in result.errors] == [("labs", "sample_date")]
    assert "after the death date 2022-06-01" in result.errors[0]["reason"]


def test_the_garbage_collector_is_unfrozen_after_an_import_with_errors(site, manager):
    import gc

    rows = synthetic_rows(1)
    rows["labs"][0]["albumin"] = 75

    result = run(site, manager, as_workbook(rows))

    assert result.errors
    assert gc.get_freeze_count() == 0

"""insert_with_history: the rows and audit rows ``bulk_create_with_history`` would write (COPY on
PostgreSQL, bulk_create elsewhere)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from simple_history.utils import bulk_create_with_history

from registry import services
from registry.imports import writing
from registry.imports.importer import import_sheets
from registry.imports.parsing import read_upload
from registry.imports.synthetic import as_csv_zip, synthetic_rows
from registry.imports.writing import insert_with_history
from registry.models import LabPanel, Patient, TaceSession

from ..factories import make_patient

pytestmark = pytest.mark.django_db


def lab(patient, day, albumin="38.5"):
    panel = LabPanel(
        patient=patient,
        sample_date=day,
        albumin_g_l=Decimal(albumin),
        total_bilirubin_umol_l=Decimal("17.1"),
        inr=Decimal("1.10"),
        ascites="none",
        encephalopathy="none",
    )
    panel.full_clean()
    panel.derive()
    return panel


def test_the_rows_are_stored_with_their_ids_and_values(manager):
    patient = make_patient()
    panels = [lab(patient, dt.date(2023, 1, day)) for day in (5, 6)]

    insert_with_history(panels, LabPanel, user=manager, reason="Bulk import")

    stored = LabPanel.objects.get(pk=panels[1].pk)
    assert stored.sample_date == dt.date(2023, 1, 6)
    assert stored.albumin_g_l == Decimal("38.5")
    assert stored.albi_grade == panels[1].albi_grade != ""
    assert stored.child_pugh_points == panels[1].child_pugh_points != {}
    assert stored.version == 1
    assert stored.created_at is not None


def test_each_row_gets_a_created_audit_row_with_the_user_and_reason(manager):
    patient = make_patient()
    panels = [lab(patient, dt.date(2023, 1, day)) for day in (5, 6)]

    insert_with_history(panels, LabPanel, user=manager, reason="Bulk import")

    audit = LabPanel.history.filter(id__in=[p.pk for p in panels])
    assert sorted(
        audit.values_list("id", "history_type", "history_user", "history_change_reason")
    ) == sorted((p.pk, "+", manager.pk, "Bulk import") for p in panels)
    assert audit.get(id=panels[0].pk).albumin_g_l == Decimal("38.5")


def test_a_row_saved_afterwards_gets_a_new_id(manager):
    patient = make_patient()
    panels = [lab(patient, dt.date(2023, 1, day)) for day in (5, 6)]
    insert_with_history(panels, LabPanel, user=manager, reason="Bulk import")

    later = services.crf_record_save(record=lab(patient, dt.date(2023, 1, 7)))

    assert later.pk not in {p.pk for p in panels}
    assert LabPanel.objects.count() == 3


def test_an_inserted_row_can_be_updated_through_the_services(manager):
    patient = make_patient()
    session = TaceSession(patient=patient, start_date=dt.date(2023, 3, 1), technique="ctace")
    session.full_clean()
    insert_with_history([session], TaceSession, user=manager, reason="Bulk import")

    session.chemo_dose_mg = Decimal("50")
    services.crf_record_save(record=session, reason="dose")

    assert TaceSession.objects.get().version == 2
    assert session.history.count() == 2


def test_a_patient_keeps_its_choice_codes(manager, site):
    patient = Patient(
        site=site,
        site_patient_ref="MRN-X",
        study_id="NT-9999",
        sex="female",
        birth_year=1960,
        etiology_unknown=True,
    )
    patient.full_clean()

    insert_with_history([patient], Patient, user=manager, reason="Enrolment")

    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.status, stored.sex) == ("draft", "female")


def test_the_rows_equal_those_bulk_create_with_history_writes(manager):
    patient = make_patient()
    ours = [lab(patient, dt.date(2023, 1, 5))]
    theirs = [lab(patient, dt.date(2023, 1, 5))]

    insert_with_history(ours, LabPanel, user=manager, reason="Bulk import")
    bulk_create_with_history(
        theirs, LabPanel, default_user=manager, default_change_reason="Bulk import"
    )

    varying = {"id", "created_at", "updated_at", "history_id", "history_date"}

    def stored(manager_, pk):
        row = manager_.filter(id=pk).values().get()
        return {name: value for name, value in row.items() if name not in varying}

    assert stored(LabPanel.objects, ours[0].pk) == stored(LabPanel.objects, theirs[0].pk)
    assert stored(LabPanel.history, ours[0].pk) == stored(LabPanel.history, theirs[0].pk)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics of PostgreSQL")
def test_an_import_analyzes_the_tables_it_filled_before_reading_them_back(
    site, manager, monkeypatch
):
    monkeypatch.setattr(writing, "ANALYZE_FROM_ROWS", 2)
    rows = synthetic_rows(3)

    import_sheets(
        site=site, user=manager, sheets=read_upload(as_csv_zip(rows), "f.zip"), dry_run=False
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'registry_labpanel'")
        assert cursor.fetchone()[0] == len(rows["labs"])

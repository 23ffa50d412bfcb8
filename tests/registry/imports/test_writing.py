"""insert_with_history: the rows and audit rows ``bulk_create_with_history`` would write (COPY on
PostgreSQL, bulk_create elsewhere)."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from psycopg.types.json import Jsonb
from simple_history.utils import bulk_create_with_history

from registry import services
from registry.choices import RecordStatus
from registry.copying import copy_rows
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


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's"
)


# Values COPY's text format escapes, with a character outside ASCII.
AWKWARD = "a\tb\\c\nd µ\r\x08"
# What differs between two inserts of the same values.
VARYING = {"id", "created_at", "updated_at", "history_id", "history_date"}


def stored_like_bulk_create_with_history(model, ours, theirs, *, user, varying=()):
    """Insert ``ours`` with insert_with_history and ``theirs`` (the same values) with
    simple_history's bulk_create_with_history; their rows and audit rows, without what varies."""
    insert_with_history(ours, model, user=user, reason="Bulk import")
    bulk_create_with_history(theirs, model, default_user=user, default_change_reason="Bulk import")
    skipped = VARYING | set(varying)

    def stored(manager_, records):
        rows = manager_.filter(id__in=[r.pk for r in records]).order_by("id").values()
        return [{k: v for k, v in row.items() if k not in skipped} for row in rows]

    assert stored(model.objects, ours) == stored(model.objects, theirs) != []
    assert stored(model.history, ours) == stored(model.history, theirs)
    return stored(model.objects, ours), stored(model.history, ours)


def tace(patient, **values):
    session = TaceSession(patient=patient, start_date=dt.date(2023, 3, 1), technique="ctace")
    for name, value in values.items():
        setattr(session, name, value)
    session.full_clean()
    return session


def test_text_with_tabs_newlines_backslashes_and_unicode_is_stored_as_written(manager):
    patient = make_patient()

    def sessions():
        return [
            tace(patient, notes=AWKWARD, microsphere_size_um="a\tb\\c\nd µ"),
            tace(patient, notes="\\N", microsphere_size_um="\\"),
            tace(patient, notes="", microsphere_size_um=""),
        ]

    rows, audit = stored_like_bulk_create_with_history(
        TaceSession, sessions(), sessions(), user=manager
    )

    assert [row["notes"] for row in rows] == [AWKWARD, "\\N", ""]
    assert [row["microsphere_size_um"] for row in audit] == ["a\tb\\c\nd µ", "\\", ""]


def test_nulls_decimals_booleans_and_dates_are_stored_as_bulk_create_stores_them(manager):
    patient = make_patient()

    def sessions():
        return [
            tace(
                patient,
                end_date=None,
                line_number=None,
                chemo_dose_mg=None,
                technically_adequate=None,
                gelatin_sponge=True,
            ),
            tace(
                patient,
                end_date=dt.date(2023, 3, 2),
                line_number=2,
                chemo_dose_mg=Decimal("50.5"),
                lipiodol_ml=Decimal("0.5"),
                technically_adequate=False,
                microspheres=True,
            ),
        ]

    rows, _ = stored_like_bulk_create_with_history(
        TaceSession, sessions(), sessions(), user=manager
    )

    assert [(r["end_date"], r["chemo_dose_mg"], r["technically_adequate"]) for r in rows] == [
        (None, None, None),
        (dt.date(2023, 3, 2), Decimal("50.5"), False),
    ]


def test_json_fields_are_stored_as_bulk_create_stores_them(manager, site):
    def patients(prefix):
        made = []
        for number, missing in enumerate([{}, {"note": [AWKWARD, None, 1.5, True]}]):
            patient = Patient(
                site=site,
                site_patient_ref=f"{prefix}-{number}",
                study_id=f"{prefix}-{number}",
                sex="male",
                birth_year=1960,
                etiology_unknown=True,
                antiviral_therapy=None if number else False,
                other_comorbidities=AWKWARD,
            )
            patient.full_clean()
            patient.missing_inputs = missing
            patient.derivation_versions = {"albi": "1.0"}
            made.append(patient)
        return made

    rows, audit = stored_like_bulk_create_with_history(
        Patient,
        patients("OURS"),
        patients("THEIRS"),
        user=manager,
        varying={"site_patient_ref", "study_id"},
    )

    assert rows[1]["missing_inputs"] == {"note": [AWKWARD, None, 1.5, True]}
    assert audit[1]["other_comorbidities"] == AWKWARD


def test_without_a_user_the_audit_rows_have_none(manager):
    patient = make_patient()

    _, audit = stored_like_bulk_create_with_history(
        LabPanel,
        [lab(patient, dt.date(2023, 1, 5))],
        [lab(patient, dt.date(2023, 1, 5))],
        user=None,
    )

    assert [row["history_user_id"] for row in audit] == [None]


@postgresql_only
def test_the_rows_of_one_call_share_their_creation_time_with_their_audit_rows(manager):
    patient = make_patient()
    panels = [lab(patient, dt.date(2023, 1, day)) for day in (5, 6)]

    insert_with_history(panels, LabPanel, user=manager, reason="Bulk import")

    stored = LabPanel.objects.filter(pk__in=[p.pk for p in panels])
    audit = LabPanel.history.filter(id__in=[p.pk for p in panels])
    times = {t for row in stored.values_list("created_at", "updated_at") for t in row}
    assert times == set(audit.values_list("history_date", flat=True))
    assert len(times) == 1


@postgresql_only
def test_copy_rows_sends_what_psycopg_write_row_sends():
    """Every type and escape, through registry.copying and through psycopg, into twin tables."""
    moment = timezone.now()
    rows = [
        [
            1,
            AWKWARD,
            Decimal("38.50"),
            0.1,
            True,
            dt.date(2023, 1, 5),
            moment,
            Jsonb({"a": AWKWARD}),
        ],
        [2, "", Decimal("NaN"), float("inf"), False, dt.date(1, 1, 1), moment, Jsonb([])],
        [3, None, None, None, None, None, None, None],
        [
            4,
            RecordStatus.DRAFT,
            Decimal("-1E+3"),
            -0.0,
            None,
            None,
            moment.replace(tzinfo=None),
            Jsonb(None),
        ],
        [5, "\\N", Decimal("Infinity"), float("nan"), True, None, None, Jsonb({})],
    ]
    rows = [[*row, uuid.UUID(int=row[0])] for row in rows]  # a type left to psycopg's dumper
    columns = (
        "n bigint, t text, d numeric, f float8, b boolean, day date, at timestamptz, j jsonb, "
        "u uuid"
    )
    with connection.cursor() as cursor:
        for table in ("ours", "psycopgs"):
            cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")
        copy_rows(cursor.cursor, "COPY ours FROM STDIN", rows)
        with cursor.cursor.copy("COPY psycopgs FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            "SELECT count(*) FROM ours FULL JOIN psycopgs USING (n)"
            " WHERE (ours.*)::text IS DISTINCT FROM (psycopgs.*)::text"
        )
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT t FROM ours ORDER BY n")
        assert [t for (t,) in cursor.fetchall()] == [AWKWARD, "", None, "draft", "\\N"]


@postgresql_only
def test_copy_rows_sends_a_column_of_mixed_types_and_many_chunks(monkeypatch):
    monkeypatch.setattr("registry.copying.CHUNK_ROWS", 3)
    rows = [[n, n if n % 2 else str(n), "x\ty" if n == 7 else "plain"] for n in range(10)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE mixed (n bigint, v text, t text)")
        copy_rows(cursor.cursor, "COPY mixed FROM STDIN", rows)
        cursor.execute("SELECT n, v, t FROM mixed ORDER BY n")
        assert cursor.fetchall() == [(n, str(n), "x\ty" if n == 7 else "plain") for n in range(10)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics of PostgreSQL")
def test_an_import_commits_planner_statistics_of_the_tables_it_filled(site, manager, monkeypatch):
    monkeypatch.setattr(writing, "ANALYZE_FROM_ROWS", 2)
    rows = synthetic_rows(3)

    import_sheets(
        site=site, user=manager, sheets=read_upload(as_csv_zip(rows), "f.zip"), dry_run=False
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'registry_labpanel'")
        assert cursor.fetchone()[0] == len(rows["labs"])

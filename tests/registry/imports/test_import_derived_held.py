"""Bulk import: the derived values computed from the rows the import holds (``HeldRows``) are
those a fresh read of the database gives.

Each test imports, records every derived value, quality flag and scan response, then runs
``services.patients_refresh_derived`` without held rows — the path that reads everything from
the database — and expects it to find nothing to change.
"""

import copy
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import services
from registry.imports.importer import import_sheets
from registry.imports.parsing import read_upload
from registry.imports.synthetic import as_csv_zip, synthetic_rows
from registry.models import DataQualityFlag, ImagingAssessment, LabPanel, Patient

pytestmark = pytest.mark.django_db

PATIENTS = 8


@pytest.fixture(autouse=True)
def joined_updates(monkeypatch):
    # A few patients take the COPY + joined UPDATE path on PostgreSQL, as a large import does.
    monkeypatch.setattr(services, "JOINED_UPDATE_ROWS", 2)


def run(site, user, rows):
    result = import_sheets(
        site=site, user=user, sheets=read_upload(as_csv_zip(rows), "file.zip"), dry_run=False
    )
    assert result.committed, result.errors
    return result


def derived_state(site) -> dict:
    """Every derived value and quality flag of the site's patients, as stored."""
    patient_fields = [Patient._meta.get_field(name).attname for name in services.DERIVED]
    return {
        "patients": list(
            Patient.objects.filter(site=site).order_by("pk").values_list("pk", *patient_fields)
        ),
        "scans": list(
            ImagingAssessment.objects.filter(patient__site=site)
            .order_by("pk")
            .values_list("pk", *services.SCAN_DERIVED)
        ),
        "flags": list(
            DataQualityFlag.objects.filter(patient__site=site)
            .order_by("pk")
            .values_list(
                "pk", "patient_id", "record_type", "record_id", "field", "code", "message", "status"
            )
        ),
    }


def assert_as_read_afresh(site) -> dict:
    imported = derived_state(site)
    ids = list(Patient.objects.filter(site=site).values_list("pk", flat=True))

    services.patients_refresh_derived(ids)

    fresh = derived_state(site)
    for name, stored in imported.items():
        assert [r for r in fresh[name] if r not in stored] == [], name
    assert fresh == imported
    return imported


def patient_pk(ref: str) -> int:
    return Patient.objects.get(site_patient_ref=ref).pk


def test_a_full_file_derives_what_the_database_gives(site, manager):
    run(site, manager, synthetic_rows(PATIENTS))

    state = assert_as_read_afresh(site)

    assert all(row[3] is not None for row in state["patients"])  # ALBI of every patient
    assert any(row[2] for row in state["scans"])  # the follow-up scans' responses


def changed(rows: dict) -> dict:
    """The file with a row of every section changed or added, each raising or moving a value."""
    rows = copy.deepcopy(rows)
    rows["patients"][2]["ecog_ps"] = 2  # eligibility flag, BCLC
    rows["labs"][1]["albumin"] = 22  # patient 1's baseline panel: ALBI, soft-range flag
    new_panel = rows["labs"][7]["sample_date"] - dt.timedelta(days=7)
    rows["labs"].append({**rows["labs"][7], "sample_date": new_panel, "albumin": 24})
    rows["tumour"][4]["max_diameter_cm"] = 11.5
    rows["tace"][0]["technically_adequate"] = "no"
    rows["imaging"][1]["reader_response"] = "CR"  # the reader disagrees: inconsistency flag
    rows["lesions"][2]["diameter_mm"] = 90  # patient 1's follow-up: progression
    rows["adverse_events"][3].update(grade=5, outcome="fatal")  # grade 5 without a death
    rows["follow_up"][5]["contact_date"] += dt.timedelta(days=10)
    return rows


def test_a_re_import_that_changes_rows_derives_what_the_database_gives(site, manager):
    rows = synthetic_rows(PATIENTS)
    run(site, manager, rows)
    first = derived_state(site)

    run(site, manager, changed(rows))
    state = assert_as_read_afresh(site)

    assert state["patients"] != first["patients"]
    assert len(state["flags"]) > len(first["flags"])


def test_a_re_import_that_reverts_the_changes_resolves_their_flags(site, manager):
    rows = synthetic_rows(PATIENTS)
    run(site, manager, changed(rows))

    run(site, manager, rows)
    state = assert_as_read_afresh(site)

    assert any(flag[-1] == "resolved" for flag in state["flags"])


def only(rows: dict, section: str) -> dict:
    return {section: copy.deepcopy(rows[section])}


PARTIAL_FILES = {
    # section → a change that moves a derived value, in a file of only that section
    "labs": lambda partial, _: partial["labs"][1].update(albumin=22),
    "patients": lambda partial, _: partial["patients"][0].update(ecog_ps=2, birth_year=1930),
    "tumour": lambda partial, _: partial["tumour"][0].update(tumour_number=1, max_diameter_cm=1.5),
    "imaging": lambda partial, _: partial["imaging"][1].update(reader_response="PD"),
    "lesions": lambda partial, _: partial["lesions"][2].update(diameter_mm=95),
    "tace": lambda partial, _: partial["tace"][1].update(technically_adequate="no"),
    "adverse_events": lambda partial, _: partial["adverse_events"][0].update(
        grade=5, outcome="fatal"
    ),
}


@pytest.mark.parametrize("section", list(PARTIAL_FILES))
def test_a_file_of_one_section_derives_with_the_stored_rows_of_the_others(site, manager, section):
    rows = synthetic_rows(PATIENTS)
    run(site, manager, rows)
    first = derived_state(site)
    partial = only(rows, section)
    PARTIAL_FILES[section](partial, rows)

    run(site, manager, partial)
    state = assert_as_read_afresh(site)

    assert state != first


def test_a_death_sheet_derives_with_the_stored_rows_of_the_others(site, manager):
    rows = synthetic_rows(PATIENTS)
    dead = {death["site_patient_ref"] for death in rows["death"]}
    patient = next(p for p in rows["patients"] if p["site_patient_ref"] not in dead)
    ref = patient["site_patient_ref"]
    for event in rows["adverse_events"]:
        if event["site_patient_ref"] == ref:
            event["relatedness"] = "unlikely"
    run(site, manager, rows)
    death = {
        "site_patient_ref": ref,
        "death_date": patient["index_date"] + dt.timedelta(days=400),
        "cause": "treatment_related",
    }

    run(site, manager, {"death": [death]})
    state = assert_as_read_afresh(site)

    assert [flag[5] for flag in state["flags"]] == ["treatment_death_without_ae"]


def test_a_lab_sheet_that_changes_albumin_changes_albi(site, manager):
    rows = synthetic_rows(PATIENTS)
    run(site, manager, rows)
    ref = rows["patients"][0]["site_patient_ref"]
    before = Patient.objects.get(pk=patient_pk(ref)).albi_score
    partial = only(rows, "labs")
    partial["labs"][1]["albumin"] = 22  # the baseline panel, 3 days before the index date

    run(site, manager, partial)
    assert_as_read_afresh(site)

    assert Patient.objects.get(pk=patient_pk(ref)).albi_score > before


def test_a_stored_duplicate_the_upsert_key_cannot_tell_apart_is_derived_from(site, manager):
    """Two stored panels of one date (entered on the web): the baseline is the later-entered
    one, whichever the import's upsert updates."""
    rows = synthetic_rows(PATIENTS)
    run(site, manager, rows)
    ref = rows["patients"][0]["site_patient_ref"]
    baseline = LabPanel.objects.get(
        patient_id=patient_pk(ref), sample_date=rows["labs"][1]["sample_date"]
    )
    duplicate = LabPanel.objects.get(pk=baseline.pk)
    duplicate.pk = None
    duplicate.albumin_g_l = 20
    services.crf_record_save(record=duplicate)
    partial = only(rows, "labs")
    partial["labs"][1]["albumin"] = 50

    run(site, manager, partial)
    state = assert_as_read_afresh(site)

    row = next(r for r in state["patients"] if r[0] == patient_pk(ref))
    assert row[2] == duplicate.pk  # baseline_lab_id


def watch_reads(monkeypatch) -> list[str]:
    """The tables the derived-value refresh reads (SELECTs), as the import calls it."""
    read: list[str] = []
    refresh = services.patients_refresh_derived

    def watched(ids, held=None, **attributed):
        with CaptureQueriesContext(connection) as queries:
            refreshed = refresh(ids, held=held, **attributed)
        read.extend(
            re.search(r'FROM "(\w+)"', q["sql"])[1]
            for q in queries.captured_queries
            if q["sql"].startswith("SELECT")
        )
        return refreshed

    monkeypatch.setattr(services, "patients_refresh_derived", watched)
    return read


def test_the_import_reads_back_only_the_sections_the_file_has_no_sheet_for(
    site, manager, monkeypatch
):
    """The synthetic file has no HAIC, radiotherapy or local procedure rows: for patients
    stored before the import, those are read, with the open quality flags; every other section
    is handed over."""
    rows = synthetic_rows(PATIENTS)
    run(site, manager, rows)
    rows["labs"][1]["albumin"] = 22
    read = watch_reads(monkeypatch)

    run(site, manager, rows)

    assert sorted(read) == [
        "registry_dataqualityflag",
        "registry_haiccycle",
        "registry_localprocedure",
        "registry_radiotherapycourse",
    ]


def test_nothing_is_read_back_for_patients_the_import_enrols(site, manager, monkeypatch):
    """A new patient has no stored rows but the file's and no quality flags yet."""
    read = watch_reads(monkeypatch)

    run(site, manager, synthetic_rows(PATIENTS))

    assert read == []
    assert_as_read_afresh(site)


def test_a_file_of_new_and_stored_patients_derives_what_the_database_gives(site, manager):
    rows = synthetic_rows(PATIENTS)
    stored = {p["site_patient_ref"] for p in rows["patients"][: PATIENTS // 2]}
    run(
        site,
        manager,
        {
            name: [r for r in section if r["site_patient_ref"] in stored]
            for name, section in rows.items()
        },
    )
    # A stored patient's scan is left out of the file: its row, read back, still counts.
    ref = next(iter(sorted(stored)))
    rows["imaging"] = [r for r in rows["imaging"] if r["site_patient_ref"] != ref]
    rows["lesions"] = [r for r in rows["lesions"] if r["site_patient_ref"] != ref]
    rows["labs"][1]["albumin"] = 22

    run(site, manager, rows)
    state = assert_as_read_afresh(site)

    assert len(state["patients"]) == PATIENTS
    assert ImagingAssessment.objects.filter(patient_id=patient_pk(ref)).exists()

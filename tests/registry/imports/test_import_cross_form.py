"""Bulk import: the cross-form checks, run on preloaded facts, reject the rows the web and API
path (``services.crf_record_save`` → ``full_clean()``) rejects, with the same reason."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from registry import services
from registry.imports.importer import import_sheets
from registry.imports.parsing import read_upload
from registry.imports.sections import sections
from registry.imports.synthetic import as_csv_zip, synthetic_rows
from registry.models import AdverseEvent, Death, ImagingAssessment, LesionMeasurement, Patient

from ..factories import ctcae

pytestmark = pytest.mark.django_db


def run(site, user, rows):
    return import_sheets(
        site=site, user=user, sheets=read_upload(as_csv_zip(rows), "file.zip"), dry_run=False
    )


def web_path_reason(record) -> str:
    with pytest.raises(ValidationError) as error:
        services.crf_record_save(record=record)
    return next(iter(error.value.message_dict.values()))[0]


def without(rows, section: str, index: int):
    return dict(rows, **{section: [r for i, r in enumerate(rows[section]) if i != index]})


def test_an_adverse_event_before_the_first_treatment_in_the_same_file(site, manager):
    rows = synthetic_rows(2)
    first_tace = rows["tace"][3]["start_date"]  # patient 2's first session
    rows["adverse_events"][1]["onset_date"] = first_tace - dt.timedelta(days=1)

    result = run(site, manager, rows)

    assert not result.committed
    assert [(e["sheet"], e["row"], e["column"]) for e in result.errors] == [
        ("adverse_events.csv", 3, "onset_date")
    ]
    assert run(site, manager, without(rows, "adverse_events", 1)).committed
    event = AdverseEvent(
        patient=Patient.objects.get(site_patient_ref=rows["patients"][1]["site_patient_ref"]),
        term=ctcae("hypertension"),
        grade=1,
        onset_date=first_tace - dt.timedelta(days=1),
        attribution="systemic",
    )
    assert result.errors[0]["reason"] == web_path_reason(event)


def test_a_follow_up_scan_without_a_baseline_in_the_file_or_the_registry(site, manager):
    rows = synthetic_rows(1)
    rows["imaging"] = [r for r in rows["imaging"] if r["is_baseline"] == "no"]
    rows["lesions"] = []

    result = run(site, manager, rows)

    assert [(e["sheet"], e["row"], e["column"]) for e in result.errors] == [
        ("imaging.csv", 2, "assessment_date")
    ]
    rows["imaging"] = []
    assert run(site, manager, rows).committed
    follow_up = ImagingAssessment(
        patient=Patient.objects.get(),
        assessment_date=result.errors[0]["value"],
        modality="ct",
    )
    assert result.errors[0]["reason"] == web_path_reason(follow_up)


def test_a_death_before_another_event_of_the_same_file(site, manager):
    rows = synthetic_rows(1)
    death_day = rows["follow_up"][0]["contact_date"] - dt.timedelta(days=1)
    ref = rows["patients"][0]["site_patient_ref"]
    rows["death"] = [{"site_patient_ref": ref, "death_date": death_day, "cause": "other"}]

    result = run(site, manager, rows)

    assert [(e["sheet"], e["row"], e["column"]) for e in result.errors] == [
        ("death.csv", 2, "death_date")
    ]
    assert run(site, manager, dict(rows, death=[])).committed
    death = Death(patient=Patient.objects.get(), death_date=death_day, cause="other")
    assert result.errors[0]["reason"] == web_path_reason(death)


def test_two_deaths_of_one_patient_are_refused(site, manager):
    rows = synthetic_rows(1)
    ref = rows["patients"][0]["site_patient_ref"]
    day = rows["follow_up"][0]["contact_date"] + dt.timedelta(days=5)
    rows["death"] = [
        {"site_patient_ref": ref, "death_date": day, "cause": "other"},
        {"site_patient_ref": ref, "death_date": day, "cause": "tumour_progression"},
    ]

    result = run(site, manager, rows)

    assert [(e["sheet"], e["row"]) for e in result.errors] == [("death.csv", 3)]
    assert "Duplicate of row 2" in result.errors[0]["reason"]


def test_a_death_for_a_patient_with_a_stored_death_updates_it(site, manager):
    rows = synthetic_rows(1)
    ref = rows["patients"][0]["site_patient_ref"]
    day = rows["follow_up"][0]["contact_date"] + dt.timedelta(days=5)
    rows["death"] = [{"site_patient_ref": ref, "death_date": day, "cause": "other"}]
    assert run(site, manager, rows).committed
    rows["death"][0]["cause"] = "tumour_progression"

    result = run(site, manager, rows)

    assert result.counts["death"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert Death.objects.get().cause == "tumour_progression"


def upsert_key(section) -> set[str]:
    """The model fields by which the importer matches a row of the section to a stored one."""
    if section.model is Patient:
        return {"site", "site_patient_ref"}
    if section.model is LesionMeasurement:
        return {"assessment", "lesion_number"}  # the scan is found by its date and kind
    return {"patient"} | {section.column(name).field for name in section.key}


def test_the_upsert_keys_cover_every_unique_check_on_the_owner():
    """The importer skips the unique checks that involve a row's owner (one query per row).
    Sound only while each such unique set contains the section's upsert key: two rows equal on
    the unique fields are then equal on the key, so the second one is reported as a duplicate
    of the file or updates the stored row instead of adding one."""
    for section in sections().values():
        model = section.model
        owner = {Patient: "site", LesionMeasurement: "assessment"}.get(model, "patient")
        unique_sets = [
            {f.name}
            for f in model._meta.local_fields
            if f.unique and not f.primary_key and f.name != "study_id"
        ]
        unique_sets += [set(fields) for fields in model._meta.unique_together]
        unique_sets += [
            set(constraint.fields)
            for constraint in model._meta.constraints
            if isinstance(constraint, models.UniqueConstraint)
        ]
        for fields in unique_sets:
            if owner in fields:
                assert upsert_key(section) <= fields, (section.name, fields)


def test_constraint_checks_are_skipped_only_when_each_would_skip_itself(site):
    """The importer leaves out validate_constraints() when every constraint is a unique one over
    an excluded owner field — exactly the case where each constraint's validate() returns at
    once without a query. Any other constraint keeps the check."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.imports.importer import _constraints_left
    from registry.models import SiteMembership

    for section in sections().values():
        model = section.model
        owner = {Patient: "site", LesionMeasurement: "assessment"}.get(model, "patient")
        exclude = frozenset({owner, "study_id"} if model is Patient else {owner})
        if _constraints_left(model, exclude):
            continue
        record = model()
        for constraint in model._meta.constraints:
            with CaptureQueriesContext(connection) as queries:
                constraint.validate(model, record, exclude=set(exclude))
            assert not queries.captured_queries, (section.name, constraint.name)
    assert _constraints_left(SiteMembership, frozenset())
    assert not _constraints_left(SiteMembership, frozenset({"site"}))

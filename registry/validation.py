"""Cross-form checks of CRF.md §9 that reach beyond one row.

Hard checks (dates out of order) are called from the models' ``clean()``; consistency checks
that depend on the order data arrive in (a grade 5 event before its death record is entered)
are data-quality flags raised by ``registry.quality``.

The checks ask for *facts* about a patient's other rows (the death date, the first treatment
date, the baseline scans, the latest dated event). Row by row, each fact is one or a few
queries. Within ``facts_preloaded(site_id)`` — a bulk import validating thousands of rows — each
kind of fact is read for the whole site with a fixed number of queries the first time a check
needs it; the rule that uses the fact is the same in both cases, in the model's ``clean()``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from django.core.exceptions import ValidationError
from django.db import models

from registry.rules import not_in_future


@dataclass(frozen=True)
class BaselineScan:
    """What a follow-up scan or lesion is checked against: a baseline scan and its lesions."""

    pk: int
    assessment_date: dt.date
    # Target lesion number → longest diameter (mm) measured on this baseline scan.
    lesions: dict[int, Decimal] = field(default_factory=dict, compare=False)


@dataclass
class _SiteFacts:
    site_id: int
    # Kind of fact → patient id → fact, read when a check first needs it.
    loaded: dict[str, dict] = field(default_factory=dict)
    # Target lesions validated in this block but not yet written: scan id → number → organ.
    pending_lesions: dict[int, dict[int, str]] = field(default_factory=dict)


_site_facts: ContextVar[_SiteFacts | None] = ContextVar("cross_form_facts", default=None)


@contextmanager
def facts_preloaded(site_id: int) -> Iterator[None]:
    """Within the block, the cross-form checks read the site's stored rows once per kind of fact.

    A preloaded fact is what the per-row query would return as long as no row is written
    between loading and checking. So every write forgets them: ``CrfRecord.save()`` and
    ``delete()`` call ``stored_rows_changed()``, and code that writes rows in bulk (which
    bypasses ``save()``) must call it after each write.
    """
    token = _site_facts.set(_SiteFacts(site_id))
    try:
        yield
    finally:
        _site_facts.reset(token)


def stored_rows_changed() -> None:
    """Forget the preloaded facts: the next check reads them again."""
    facts = _site_facts.get()
    if facts is not None:
        facts.loaded.clear()
        facts.pending_lesions.clear()


def validated_not_written(record) -> None:
    """Tell the checks about a row validated inside ``facts_preloaded`` that is written later
    (the bulk import writes a section's rows after validating them all), so that a check
    counting a scan's target lesions also counts the ones before it in the same file."""
    from registry.models import LesionMeasurement

    facts = _site_facts.get()
    if facts is not None and isinstance(record, LesionMeasurement):
        lesions = facts.pending_lesions.setdefault(record.assessment_id, {})
        lesions[record.lesion_number] = record.organ


def other_target_lesions(assessment_id: int, lesion_number: int | None) -> dict[int, str]:
    """Lesion number → organ of the scan's target lesions other than ``lesion_number``: the
    stored ones and, within an import, those validated but not yet written."""
    known = _preloaded("target_lesions", _load_target_lesions)
    if known is not None:
        lesions = dict(known.get(assessment_id, {}))
        lesions.update(_site_facts.get().pending_lesions.get(assessment_id, {}))
    else:
        from registry.models import LesionMeasurement

        stored = LesionMeasurement.objects.filter(assessment_id=assessment_id)
        lesions = dict(stored.values_list("lesion_number", "organ"))
    lesions.pop(lesion_number, None)
    return lesions


def _load_target_lesions(site_id: int) -> dict[int, dict[int, str]]:
    from registry.models import LesionMeasurement

    by_scan: dict[int, dict[int, str]] = defaultdict(dict)
    rows = LesionMeasurement.objects.filter(assessment__patient__site_id=site_id)
    for scan_pk, number, organ in rows.order_by().values_list(
        "assessment_id", "lesion_number", "organ"
    ):
        by_scan[scan_pk][number] = organ
    return dict(by_scan)


def _preloaded(kind: str, load: Callable[[int], dict]) -> dict | None:
    """The site-wide fact of this kind (patient id → fact), or None outside a preload block."""
    facts = _site_facts.get()
    if facts is None:
        return None
    if kind not in facts.loaded:
        facts.loaded[kind] = load(facts.site_id)
    return facts.loaded[kind]


@cache
def _date_fields(model) -> tuple[tuple[str, str], ...]:
    """(name, label) of every date a person types on ``model`` (not the derived ones)."""
    return tuple(
        (f.name, str(f.verbose_name))
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField)
        and not isinstance(f, models.DateTimeField)
        and f.editable
    )


# CRF §1: birth year 1900 at the earliest, so no date of a case can precede 1900 (a typed
# "0023-05-01" or "1823-05-01" is a typing error).
EARLIEST_DATE = dt.date(1900, 1, 1)


def typed_date_errors(record) -> dict[str, ValidationError]:
    """Every typed date lies between 1900-01-01 (CRF §1) and today (CRF §2: no date of any form
    in the future): one error per field, naming the field, the value and the rule.

    Every entry path calls it through the models' ``clean()``; "today" is the server's date
    (``registry.rules.not_in_future``).
    """
    errors: dict[str, ValidationError] = {}
    for name, label in _date_fields(type(record)):
        value = getattr(record, name, None)
        if not isinstance(value, dt.date):
            continue
        if value < EARLIEST_DATE:
            errors[name] = ValidationError(
                f"{label.capitalize()} {value.isoformat()} is before {EARLIEST_DATE.year}: the "
                "registry's earliest birth year (CRF §1).",
                code="before_1900",
            )
            continue
        try:
            not_in_future(value)
        except ValidationError:
            errors[name] = ValidationError(
                f"{label.capitalize()} {value.isoformat()} is in the future: only dates that "
                "have already happened can be recorded.",
                code="future_date",
            )
    return errors


def check_event_dates(patient, record, fields: tuple[str, ...]) -> None:
    """No event dated before the diagnosis; no event dated after the death."""
    errors: dict[str, str] = {}
    death_date = _death_date(patient, record)
    for field_name in fields:
        value: dt.date | None = getattr(record, field_name, None)
        if value is None:
            continue
        label = record._meta.get_field(field_name).verbose_name
        if patient.diagnosis_date and value < patient.diagnosis_date:
            errors[field_name] = (
                f"{label.capitalize()} {value} is before the diagnosis date "
                f"{patient.diagnosis_date}: no event can precede the diagnosis."
            )
        elif death_date and value > death_date and field_name != "death_date":
            errors[field_name] = (
                f"{label.capitalize()} {value} is after the death date {death_date}: "
                "no event can follow the death."
            )
    if errors:
        raise ValidationError(errors)


def _death_date(patient, record) -> dt.date | None:
    from registry.models import Death

    if isinstance(record, Death):
        return None
    return death_date_of(patient)


def death_date_of(patient) -> dt.date | None:
    """The stored death date of a patient, if any (what its index date must not follow)."""
    from registry.models import Death

    if patient.pk is None:
        return None
    known = _preloaded("death_date", _load_death_dates)
    if known is not None:
        return known.get(patient.pk)
    return Death.objects.filter(patient=patient).values_list("death_date", flat=True).first()


def _load_death_dates(site_id: int) -> dict[int, dt.date]:
    from registry.models import Death

    return dict(
        Death.objects.filter(patient__site_id=site_id).values_list("patient_id", "death_date")
    )


def first_treatment_date(patient) -> dt.date | None:
    known = _preloaded("first_treatment_date", _load_first_treatment_dates)
    if known is not None:
        return known.get(patient.pk)
    dates = [
        model.objects.filter(patient=patient)
        .order_by("start_date")
        .values_list("start_date", flat=True)
        .first()
        for model in treatment_models()
    ]
    dates = [value for value in dates if value is not None]
    return min(dates) if dates else None


def _load_first_treatment_dates(site_id: int) -> dict[int, dt.date]:
    from django.db.models import Min

    first: dict[int, dt.date] = {}
    for model in treatment_models():
        rows = (
            model.objects.filter(patient__site_id=site_id)
            .order_by()
            .values_list("patient_id")
            .annotate(first=Min("start_date"))
        )
        for patient_id, day in rows:
            if patient_id not in first or day < first[patient_id]:
                first[patient_id] = day
    return first


def latest_event_before_death(patient) -> tuple[dt.date, str] | None:
    """The latest dated event of the patient other than the death, with what it is."""
    known = _preloaded("latest_events", _load_latest_events)
    if known is not None:
        candidates = known.get(patient.pk, [])
    else:
        candidates = []
        for model, date_field, label, only in _dated_events():
            latest = (
                model.objects.filter(patient=patient, **only)
                .order_by(f"-{date_field}")
                .values_list(date_field, flat=True)
                .first()
            )
            if latest is not None:
                candidates.append((latest, label))
    return max(candidates) if candidates else None


def _dated_events() -> list[tuple[type, str, str, dict]]:
    """(model, date field, what it is, filter) of every event a death must not precede."""
    from registry.models import (
        AdverseEvent,
        FollowUp,
        ImagingAssessment,
        LabPanel,
        ProgressionEvent,
    )

    events = [
        (LabPanel, "sample_date", "a lab panel", {}),
        (ImagingAssessment, "assessment_date", "an imaging assessment", {}),
        (AdverseEvent, "onset_date", "an adverse event", {}),
        (ProgressionEvent, "event_date", "a progression event", {}),
        (FollowUp, "contact_date", "a follow-up contact", {}),
    ]
    events += [
        (model, "start_date", f"a {model._meta.verbose_name}", {}) for model in treatment_models()
    ]
    alive = {"vital_status": "alive"}
    events.append((FollowUp, "contact_date", "a follow-up where the patient was alive", alive))
    return events


def _load_latest_events(site_id: int) -> dict[int, list[tuple[dt.date, str]]]:
    from django.db.models import Max

    candidates: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for model, date_field, label, only in _dated_events():
        rows = (
            model.objects.filter(patient__site_id=site_id, **only)
            .order_by()
            .values_list("patient_id")
            .annotate(latest=Max(date_field))
        )
        for patient_id, latest in rows:
            candidates[patient_id].append((latest, label))
    return dict(candidates)


@dataclass
class _Submission:
    """Scans of one patient submitted together (the patient page): checked as if saved."""

    patient_id: int
    baselines: list[BaselineScan]
    # Stored scans this submission rewrites (or deletes): their stored version no longer counts.
    rewritten: set[int]
    # The stored baselines with their lesions, read once per submission (nothing is written
    # while it is validated).
    stored: list[BaselineScan] | None = None


_submission: ContextVar[_Submission | None] = ContextVar("scan_submission", default=None)


@contextmanager
def scans_submitted_together(
    patient_id: int, baselines: list[BaselineScan], rewritten: set[int]
) -> Iterator[None]:
    """Within the block, the baseline checks of ``patient_id`` see ``baselines`` (with their
    lesions) as stored, and no longer the stored version of the scans in ``rewritten``.

    A baseline scan and its follow-ups entered in one save are validated together, before any
    of them is written; a new scan is identified by a negative ``pk`` (``scan_key``). Saving
    writes the baseline and its lesions first, and each save validates again from the database.
    """
    token = _submission.set(_Submission(patient_id, baselines, rewritten))
    try:
        yield
    finally:
        _submission.reset(token)


def scan_key(scan) -> int | None:
    """The identity of a scan in the checks: its pk, or for a new scan of a submission its key."""
    return scan.pk if scan.pk is not None else getattr(scan, "submission_key", None)


def _submitted_baselines(patient) -> list[BaselineScan] | None:
    submission = _submission.get()
    if submission is None or submission.patient_id != patient.pk:
        return None
    if submission.stored is None:
        from registry.models import ImagingAssessment, LesionMeasurement

        stored = {
            pk: BaselineScan(pk, day, {})
            for pk, day in ImagingAssessment.objects.filter(patient=patient, is_baseline=True)
            .exclude(pk__in=submission.rewritten)
            .values_list("pk", "assessment_date")
        }
        lesions = LesionMeasurement.objects.filter(assessment_id__in=stored)
        for scan_pk, number, diameter in lesions.values_list(
            "assessment_id", "lesion_number", "diameter_mm"
        ):
            stored[scan_pk].lesions[number] = diameter
        submission.stored = list(stored.values())
    return [*submission.stored, *submission.baselines]


def governing_baseline(patient, day: dt.date, *, exclude_pk=None) -> BaselineScan | None:
    """The baseline scan a follow-up assessment on ``day`` is compared with: the latest before it.

    A patient may have one baseline scan per treatment line (e.g. before the first TACE and again
    before systemic therapy after TACE refractoriness); each starts a new series of responses.
    """
    submitted = _submitted_baselines(patient)
    if submitted is not None:
        scans = [s for s in submitted if s.assessment_date <= day and s.pk != exclude_pk]
        return max(scans, key=lambda scan: (scan.assessment_date, scan.pk), default=None)
    known = _preloaded("baseline_scans", _load_baseline_scans)
    if known is not None:
        scans = [
            scan
            for scan in known.get(patient.pk, ())
            if scan.assessment_date <= day and scan.pk != exclude_pk
        ]
        return max(scans, key=lambda scan: (scan.assessment_date, scan.pk), default=None)
    from registry.models import ImagingAssessment, LesionMeasurement

    baselines = ImagingAssessment.objects.filter(
        patient=patient, is_baseline=True, assessment_date__lte=day
    )
    if exclude_pk is not None:
        baselines = baselines.exclude(pk=exclude_pk)
    found = baselines.order_by("-assessment_date").values_list("pk", "assessment_date").first()
    if found is None:
        return None
    lesions = LesionMeasurement.objects.filter(assessment_id=found[0])
    return BaselineScan(*found, dict(lesions.values_list("lesion_number", "diameter_mm")))


def baseline_scan_on(patient, day: dt.date, *, exclude_pk=None) -> bool:
    """Whether the patient has a baseline scan on ``day`` other than ``exclude_pk``."""
    submitted = _submitted_baselines(patient)
    if submitted is not None:
        return any(s.assessment_date == day and s.pk != exclude_pk for s in submitted)
    known = _preloaded("baseline_scans", _load_baseline_scans)
    if known is not None:
        return any(
            scan.assessment_date == day and scan.pk != exclude_pk
            for scan in known.get(patient.pk, ())
        )
    from registry.models import ImagingAssessment

    return (
        ImagingAssessment.objects.filter(patient=patient, is_baseline=True, assessment_date=day)
        .exclude(pk=exclude_pk)
        .exists()
    )


def _load_baseline_scans(site_id: int) -> dict[int, list[BaselineScan]]:
    from registry.models import ImagingAssessment, LesionMeasurement

    by_patient: dict[int, list[BaselineScan]] = defaultdict(list)
    by_pk: dict[int, BaselineScan] = {}
    scans = ImagingAssessment.objects.filter(patient__site_id=site_id, is_baseline=True)
    for pk, patient_id, day in scans.order_by().values_list("pk", "patient_id", "assessment_date"):
        by_pk[pk] = BaselineScan(pk, day, {})
        by_patient[patient_id].append(by_pk[pk])
    lesions = LesionMeasurement.objects.filter(
        assessment__patient__site_id=site_id, assessment__is_baseline=True
    )
    for scan_pk, number, diameter in lesions.order_by().values_list(
        "assessment_id", "lesion_number", "diameter_mm"
    ):
        by_pk[scan_pk].lesions[number] = diameter
    return dict(by_patient)


def treatment_models() -> list:
    from registry.models import (
        HaicCycle,
        LocalProcedure,
        RadiotherapyCourse,
        SystemicTherapy,
        TaceSession,
    )

    return [TaceSession, HaicCycle, RadiotherapyCourse, LocalProcedure, SystemicTherapy]

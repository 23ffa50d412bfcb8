"""Cross-form checks of CRF.md §9 that reach beyond one row.

Hard checks (dates out of order) are called from the models' ``clean()``; consistency checks
that depend on the order data arrive in (a grade 5 event before its death record is entered)
are data-quality flags raised by ``registry.quality``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import ValidationError

# Death dates read once for a whole bulk import rather than once per validated row.
_known_death_dates: ContextVar[dict[int, dt.date] | None] = ContextVar(
    "known_death_dates", default=None
)


@contextmanager
def death_dates_preloaded(site_id: int) -> Iterator[None]:
    """Within the block, the date checks take a site's death dates from one query.

    For bulk imports, which validate thousands of rows of the same patients: the death dates
    are those stored when the block starts, which is what a row-by-row check would read as long
    as deaths are written after the other rows (the importer's death section comes last).
    A death saved one at a time inside the block updates the preloaded dates.
    """
    from registry.models import Death

    dates = dict(
        Death.objects.filter(patient__site_id=site_id).values_list("patient_id", "death_date")
    )
    token = _known_death_dates.set(dates)
    try:
        yield
    finally:
        _known_death_dates.reset(token)


def remember_death_date(patient_id: int, death_date: dt.date | None) -> None:
    dates = _known_death_dates.get()
    if dates is None:
        return
    if death_date is None:
        dates.pop(patient_id, None)
    else:
        dates[patient_id] = death_date


def check_event_dates(patient, record, fields: tuple[str, ...]) -> None:
    """No event dated before the diagnosis; no event dated after the death."""
    errors: dict[str, str] = {}
    death_date = _death_date(patient, record)
    for field in fields:
        value: dt.date | None = getattr(record, field, None)
        if value is None:
            continue
        label = record._meta.get_field(field).verbose_name
        if patient.diagnosis_date and value < patient.diagnosis_date:
            errors[field] = (
                f"{label.capitalize()} {value} is before the diagnosis date "
                f"{patient.diagnosis_date}: no event can precede the diagnosis."
            )
        elif death_date and value > death_date and field != "death_date":
            errors[field] = (
                f"{label.capitalize()} {value} is after the death date {death_date}: "
                "no event can follow the death."
            )
    if errors:
        raise ValidationError(errors)


def _death_date(patient, record) -> dt.date | None:
    from registry.models import Death

    if isinstance(record, Death) or patient.pk is None:
        return None
    known = _known_death_dates.get()
    if known is not None:
        return known.get(patient.pk)
    return Death.objects.filter(patient=patient).values_list("death_date", flat=True).first()


def first_treatment_date(patient) -> dt.date | None:
    dates = [
        model.objects.filter(patient=patient)
        .order_by("start_date")
        .values_list("start_date", flat=True)
        .first()
        for model in treatment_models()
    ]
    dates = [value for value in dates if value is not None]
    return min(dates) if dates else None


def latest_event_before_death(patient) -> tuple[dt.date, str] | None:
    """The latest dated event of the patient other than the death, with what it is."""
    from registry.models import (
        AdverseEvent,
        FollowUp,
        ImagingAssessment,
        LabPanel,
        ProgressionEvent,
    )

    candidates: list[tuple[dt.date, str]] = []
    queries = [
        (LabPanel, "sample_date", "a lab panel"),
        (ImagingAssessment, "assessment_date", "an imaging assessment"),
        (AdverseEvent, "onset_date", "an adverse event"),
        (ProgressionEvent, "event_date", "a progression event"),
        (FollowUp, "contact_date", "a follow-up contact"),
    ]
    queries += [
        (model, "start_date", f"a {model._meta.verbose_name}") for model in treatment_models()
    ]
    for model, field, label in queries:
        latest = (
            model.objects.filter(patient=patient)
            .order_by(f"-{field}")
            .values_list(field, flat=True)
            .first()
        )
        if latest is not None:
            candidates.append((latest, label))
    alive = (
        FollowUp.objects.filter(patient=patient, vital_status="alive")
        .order_by("-contact_date")
        .values_list("contact_date", flat=True)
        .first()
    )
    if alive is not None:
        candidates.append((alive, "a follow-up where the patient was alive"))
    return max(candidates) if candidates else None


def treatment_models() -> list:
    from registry.models import (
        HaicCycle,
        LocalProcedure,
        RadiotherapyCourse,
        SystemicTherapy,
        TaceSession,
    )

    return [TaceSession, HaicCycle, RadiotherapyCourse, LocalProcedure, SystemicTherapy]

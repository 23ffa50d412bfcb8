"""Cross-form checks of CRF.md §9 that reach beyond one row.

Hard checks (dates out of order) are called from the models' ``clean()``; consistency checks
that depend on the order data arrive in (a grade 5 event before its death record is entered)
are data-quality flags raised by ``registry.quality``.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError


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

"""The patient's audit trail, readable: who, when, which row, field, old → new, and why.

Read from django-simple-history: the patient's own rows and those of every CRF row that belongs
to it (including deleted rows and target-lesion measurements), one query per model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from registry.disclosure import site_only_fields
from registry.models import (
    AdverseEvent,
    CtcaeTerm,
    Death,
    FollowUp,
    HaicCycle,
    ImagingAssessment,
    LabPanel,
    LesionMeasurement,
    LocalProcedure,
    Patient,
    ProgressionEvent,
    RadiotherapyCourse,
    SystemicTherapy,
    TaceSession,
    TumourAssessment,
)

PATIENT_ROW_MODELS = [
    LabPanel,
    TumourAssessment,
    TaceSession,
    HaicCycle,
    RadiotherapyCourse,
    LocalProcedure,
    SystemicTherapy,
    ImagingAssessment,
    AdverseEvent,
    FollowUp,
    ProgressionEvent,
    Death,
]
# Bookkeeping, not data: never shown as a change.
SKIPPED = {"id", "version", "created_at", "updated_at", "patient", "assessment"}
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str
    record: str
    action: str
    reason: str
    changes: list[Change] = field(default_factory=list)


def _tracked_fields(model, *, identifiers: bool) -> list:
    fields = []
    for f in model._meta.concrete_fields:
        if f.name in SKIPPED or (not f.editable and f.name != "status"):
            continue
        if not identifiers and f.name in site_only_fields(model):
            # Identifying and free-text values: the site's own staff only (registry.disclosure).
            continue
        fields.append(f)
    return fields


def _display(f, value, terms: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if f.name == "term":
        return terms.get(value, str(value))
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _entries_for(model, rows, *, identifiers: bool, terms) -> list[HistoryEntry]:
    fields = _tracked_fields(model, identifiers=identifiers)
    label = model._meta.verbose_name
    previous: dict[int, object] = {}
    entries = []
    for row in rows:
        before = previous.get(row.id)
        previous[row.id] = row
        changes = []
        if row.history_type == "~" and before is not None:
            for f in fields:
                old, new = getattr(before, f.attname), getattr(row, f.attname)
                if old != new:
                    changes.append(
                        Change(f.verbose_name, _display(f, old, terms), _display(f, new, terms))
                    )
            if not changes:
                continue  # a save that changed nothing a reader cares about
        user = row.history_user
        entries.append(
            HistoryEntry(
                when=row.history_date,
                who=user.get_username() if user else "system",
                record=f"{label} {_describe(row)}".strip(),
                action=ACTIONS.get(row.history_type, row.history_type),
                reason=row.history_change_reason or "",
                changes=changes,
            )
        )
    return entries


def _describe(row) -> str:
    for name in ("study_id", "sample_date", "start_date", "assessment_date", "onset_date"):
        value = getattr(row, name, None)
        if value:
            return str(value)
    for name in ("imaging_date", "contact_date", "event_date", "death_date"):
        value = getattr(row, name, None)
        if value:
            return str(value)
    number = getattr(row, "lesion_number", None)
    return f"#{number}" if number else ""


def patient_history(patient: Patient, *, identifiers: bool, limit: int = 300) -> list[HistoryEntry]:
    """Newest first. ``identifiers``: whether the viewer may see the site's own reference."""
    terms = dict(CtcaeTerm.objects.values_list("pk", "term"))
    order = ("id", "history_date", "history_id")
    entries = _entries_for(
        Patient,
        Patient.history.filter(id=patient.pk).select_related("history_user").order_by(*order),
        identifiers=identifiers,
        terms=terms,
    )
    for model in PATIENT_ROW_MODELS:
        rows = model.history.filter(patient_id=patient.pk).select_related("history_user")
        entries += _entries_for(model, rows.order_by(*order), identifiers=identifiers, terms=terms)
    assessment_ids = ImagingAssessment.history.filter(patient_id=patient.pk).values("id")
    lesions = LesionMeasurement.history.filter(assessment_id__in=assessment_ids)
    entries += _entries_for(
        LesionMeasurement,
        lesions.select_related("history_user").order_by(*order),
        identifiers=identifiers,
        terms=terms,
    )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]

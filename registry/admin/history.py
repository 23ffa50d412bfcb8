"""The patient's audit trail, readable: who, when, which row, field, old → new, and why.

Read from django-simple-history: the patient's own rows and those of every CRF row that belongs
to it (including deleted rows and target-lesion measurements), one query per model. Derived
values (ALBI, Child-Pugh, BCLC, responses, refractoriness…) are shown as changes of their own,
marked derived: the registry writes them after the change they follow from, attributed to the
same user, time and reason (``registry.audit``), and they are listed just above it.
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


# Entered by nobody, yet not derived: the registry's own bookkeeping of the record.
NOT_DERIVED = {"status", "study_id"}
DERIVED_ACTION = "derived values recomputed"
# Derived fields whose verbose name Django made from the attribute name, in the clinic's words.
LABELS = {
    "child_pugh_points": "Child-Pugh points",
    "child_pugh_score": "Child-Pugh score",
    "child_pugh_class": "Child-Pugh class",
    "up_to_seven_within": "within up-to-seven",
    "tace_refractoriness": "TACE refractoriness",
    "target_sum_mm": "target sum (mm)",
    "nadir_before_mm": "nadir before (mm)",
    "change_from_baseline_pct": "change from baseline (%)",
    "change_from_nadir_pct": "change from nadir (%)",
    "completeness_pct": "completeness (%)",
}


@dataclass
class Change:
    field: str
    old: str
    new: str
    derived: bool = False


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str
    record: str
    action: str
    reason: str
    changes: list[Change] = field(default_factory=list)
    # Order among entries of the same time: derived values after what they follow from.
    sequence: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class _Lookups:
    terms: dict[int, str]
    lab_dates: dict[int, dt.date]


def _tracked_fields(model, *, identifiers: bool) -> list:
    fields = []
    for f in model._meta.concrete_fields:
        if f.name in SKIPPED:
            continue
        if not identifiers and f.name in site_only_fields(model):
            # Identifying and free-text values: the site's own staff only (registry.disclosure).
            continue
        fields.append(f)
    return fields


def is_derived(f) -> bool:
    """A value the registry derives (never typed): the fields the entry screens do not edit."""
    return not f.editable and f.name not in NOT_DERIVED


def _display(f, value, lookups: _Lookups) -> str:
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if f.name == "term":
        return lookups.terms.get(value, str(value))
    if f.name == "baseline_lab":
        day = lookups.lab_dates.get(value)
        return f"panel of {day}" if day else f"panel #{value}"
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):  # derived: 3 places say all (69.8, not 69.80000000000001)
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, dict | list):
        return _json_text(value)
    return str(value)


def _json_text(value) -> str:
    """A derived JSON value in words: ``key: value`` pairs; a rule set's result as its status,
    criterion and date (the reason text is on the patient page)."""
    if isinstance(value, list):
        return ", ".join(_json_text(item) for item in value) or "—"
    if not isinstance(value, dict):
        return "—" if value in (None, "") else str(value)
    if "status" in value:
        shown = [value.get(name) for name in ("status", "criterion", "date")]
        return " ".join(str(part) for part in shown if part not in (None, ""))
    return "; ".join(f"{key}: {_json_text(item)}" for key, item in value.items()) or "—"


def _entries_for(model, rows, *, identifiers: bool, lookups: _Lookups) -> list[HistoryEntry]:
    fields = _tracked_fields(model, identifiers=identifiers)
    label = model._meta.verbose_name
    previous: dict[int, object] = {}
    entries = []
    for number, row in enumerate(rows):
        before = previous.get(row.id)
        previous[row.id] = row
        changes = []
        if row.history_type == "~" and before is not None:
            for f in fields:
                old, new = getattr(before, f.attname), getattr(row, f.attname)
                if old != new:
                    changes.append(
                        Change(
                            LABELS.get(f.name, str(f.verbose_name)),
                            _display(f, old, lookups),
                            _display(f, new, lookups),
                            derived=is_derived(f),
                        )
                    )
            if not changes:
                continue  # a save that changed nothing a reader cares about
        derived_only = bool(changes) and all(change.derived for change in changes)
        user = row.history_user
        entries.append(
            HistoryEntry(
                when=row.history_date,
                who=user.get_username() if user else "system",
                record=f"{label} {_describe(row)}".strip(),
                action=DERIVED_ACTION
                if derived_only
                else ACTIONS.get(row.history_type, row.history_type),
                reason=row.history_change_reason or "",
                changes=changes,
                sequence=(int(derived_only), number),
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
    lookups = _Lookups(
        terms=dict(CtcaeTerm.objects.values_list("pk", "term")),
        lab_dates=dict(
            LabPanel.history.filter(patient_id=patient.pk).values_list("id", "sample_date")
        ),
    )
    order = ("id", "history_date", "history_id")
    entries = _entries_for(
        Patient,
        Patient.history.filter(id=patient.pk).select_related("history_user").order_by(*order),
        identifiers=identifiers,
        lookups=lookups,
    )
    for model in PATIENT_ROW_MODELS:
        rows = model.history.filter(patient_id=patient.pk).select_related("history_user")
        entries += _entries_for(
            model, rows.order_by(*order), identifiers=identifiers, lookups=lookups
        )
    assessment_ids = ImagingAssessment.history.filter(patient_id=patient.pk).values("id")
    lesions = LesionMeasurement.history.filter(assessment_id__in=assessment_ids)
    entries += _entries_for(
        LesionMeasurement,
        lesions.select_related("history_user").order_by(*order),
        identifiers=identifiers,
        lookups=lookups,
    )
    entries.sort(key=lambda e: (e.when, e.sequence), reverse=True)
    return entries[:limit]

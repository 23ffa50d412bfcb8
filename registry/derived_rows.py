"""The rows a patient's derived values are computed from: read from the database, or handed over.

``registry.services.patients_refresh_derived`` derives from plain lists on each patient
(``rows_<relation>``, ``rows_measurements`` on each scan, ``open_quality_flags``) and from the
cached one-to-one ``tumour_assessment`` and ``death``. Most callers let them be read here. The bulk
import already holds every stored row of the sections in its file, plus the rows it has just
validated and saved, so it hands those over as ``HeldRows`` and only the rest is read; reading
the rows back into model instances cost more than deriving from them.

Either way a patient's rows come in the same order — the related model's ``Meta.ordering``
within the patient, ties broken by id — because some derivations keep the first or the last of
equal dates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter

from django.db import models
from django.db.models import Prefetch

from registry import choices as c
from registry.models import (
    AdverseEvent,
    DataQualityFlag,
    ImagingAssessment,
    LesionMeasurement,
    Patient,
)

TREATMENT_RELATIONS = (
    "tace_sessions",
    "haic_cycles",
    "radiotherapy_courses",
    "local_procedures",
    "systemic_therapies",
)
# The patient's rows the derivations read: lists, and rows of which a patient has at most one.
MANY_RELATIONS = (
    "lab_panels",
    "imaging_assessments",
    *TREATMENT_RELATIONS,
    "adverse_events",
    "follow_ups",
)
ONE_RELATIONS = ("tumour_assessment", "death")
MEASUREMENTS = "measurements"  # of a scan, not of a patient


@dataclass
class HeldRows:
    """Rows a caller holds as saved model instances: what the refresh need not read back.

    ``patients`` are the held patients by id. ``rows`` maps a relation — a patient accessor
    such as ``lab_panels`` or ``death``, or ``measurements`` of a scan — to owner id → rows.
    A relation in ``rows`` must hold *every* current row of it for every held patient (for
    ``measurements``: of every held scan); a relation not in it is read from the database.
    Adverse events come with their ``term``. ``created`` are the held patients the caller
    created itself: every row they have is held, and they have no quality flags yet, so
    nothing is read for them.
    """

    patients: dict[int, Patient] = field(default_factory=dict)
    rows: dict[str, dict[int, list]] = field(default_factory=dict)
    created: set[int] = field(default_factory=set)

    def hold(self, model: type[models.Model], records: Iterable[models.Model]) -> None:
        """Hold ``records`` of ``model``; the first call declares the relation held."""
        owner = _owner_field(model)
        owned = self.rows.setdefault(owner.remote_field.get_accessor_name(), {})
        for record in records:
            owned.setdefault(getattr(record, owner.attname), []).append(record)


def patients_with_rows(ids: list[int], held: HeldRows | None = None) -> list[Patient]:
    """The patients ``ids`` with every row the derivations read, the held ones as handed over."""
    held = held or HeldRows()
    kept = [held.patients[pk] for pk in ids if pk in held.patients]
    read = [pk for pk in ids if pk not in held.patients]
    patients = list(_read(read)) if read else []
    if kept:
        _attach(kept, held)
    return patients + kept


@cache
def row_order(model: type[models.Model]) -> tuple[str, ...]:
    """``Meta.ordering`` within one owner, then the id: the order both paths give the rows."""
    owner = _owner_field(model).name
    return (*(name for name in model._meta.ordering if name.lstrip("-") != owner), "pk")


def _read(ids: list[int]):
    # The prefetches need no join for the owner's own ordering: the rows are grouped by owner.
    return (
        Patient.objects.filter(pk__in=ids)
        .select_related(*ONE_RELATIONS)
        .prefetch_related(*(_prefetch(name) for name in MANY_RELATIONS), _open_flags())
    )


def _attach(patients: list[Patient], held: HeldRows) -> None:
    # Plain queries by owner id rather than prefetch_related_objects, which builds each
    # lookup from the model instances (a third of this function's time on 500 patients).
    # Only patients that existed before the caller's rows can have others stored.
    ids = [patient.pk for patient in patients if patient.pk not in held.created]
    for relation in MANY_RELATIONS:
        if relation in held.rows:
            model = Patient._meta.get_field(relation).related_model
            owned = held.rows[relation]
            for patient in patients:
                setattr(patient, f"rows_{relation}", _in_order(model, owned.get(patient.pk, ())))
        else:
            owned = _by_owner(_rows_of(relation), "patient_id", ids) if ids else {}
            for patient in patients:
                setattr(patient, f"rows_{relation}", owned.get(patient.pk, []))
    flags = _by_owner(_open_flags().queryset, "patient_id", ids) if ids else {}
    for patient in patients:
        patient.open_quality_flags = flags.get(patient.pk, [])
    if "imaging_assessments" in held.rows:
        _attach_measurements(
            [scan for patient in patients for scan in patient.rows_imaging_assessments], held
        )
    for relation in ONE_RELATIONS:
        _attach_one(patients, relation, held)


def _attach_measurements(scans: list[ImagingAssessment], held: HeldRows) -> None:
    if MEASUREMENTS in held.rows:
        owned = held.rows[MEASUREMENTS]
        for scan in scans:
            scan.rows_measurements = _in_order(LesionMeasurement, owned.get(scan.pk, ()))
        return
    stored = [scan.pk for scan in scans if scan.patient_id not in held.created]
    owned = _by_owner(_measurements().queryset, "assessment_id", stored) if stored else {}
    for scan in scans:
        scan.rows_measurements = owned.get(scan.pk, [])


def _by_owner(queryset, owner: str, ids: list[int]) -> dict[int, list]:
    """The rows of ``queryset`` owned by ``ids``, in the queryset's order, by owner id."""
    owned: dict[int, list] = defaultdict(list)
    for row in queryset.filter(**{f"{owner}__in": ids}):
        owned[getattr(row, owner)].append(row)
    return owned


def _attach_one(patients: list[Patient], relation: str, held: HeldRows) -> None:
    """Cache the patient's one row (or its absence) as ``select_related`` would."""
    rel = Patient._meta.get_field(relation)
    if relation in held.rows:
        found = {pk: rows[0] for pk, rows in held.rows[relation].items() if rows}
    else:
        ids = [p.pk for p in patients if p.pk not in held.created]
        rows = rel.related_model.objects.filter(patient_id__in=ids) if ids else ()
        found = {row.patient_id: row for row in rows}
    for patient in patients:
        rel.set_cached_value(patient, found.get(patient.pk))


def _in_order(model: type[models.Model], rows: Iterable) -> list:
    names = row_order(model)
    if not any(name.startswith("-") for name in names):
        return sorted(rows, key=attrgetter(*names))
    ordered = list(rows)
    for name in reversed(names):  # stable sorts, the last key first
        ordered.sort(key=attrgetter(name.lstrip("-")), reverse=name.startswith("-"))
    return ordered


def _prefetch(relation: str) -> Prefetch:
    # to_attr: plain lists spare Django a queryset per patient and relation.
    return Prefetch(relation, queryset=_rows_of(relation), to_attr=f"rows_{relation}")


def _rows_of(relation: str) -> models.QuerySet:
    model = Patient._meta.get_field(relation).related_model
    queryset = model.objects.order_by(*row_order(model))
    if model is ImagingAssessment:
        return queryset.prefetch_related(_measurements())
    if model is AdverseEvent:
        return queryset.select_related("term")
    return queryset


def _measurements() -> Prefetch:
    return Prefetch(
        MEASUREMENTS,
        queryset=LesionMeasurement.objects.order_by(*row_order(LesionMeasurement)),
        to_attr="rows_measurements",
    )


def _open_flags() -> Prefetch:
    return Prefetch(
        "quality_flags",
        queryset=DataQualityFlag.objects.exclude(status=c.FlagStatus.RESOLVED).order_by(
            *row_order(DataQualityFlag)
        ),
        to_attr="open_quality_flags",
    )


def _owner_field(model: type[models.Model]) -> models.ForeignKey:
    return model._meta.get_field("assessment" if model is LesionMeasurement else "patient")

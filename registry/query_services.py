"""Data queries (data clarification requests): a monitor opens, the data manager answers, the
monitor closes. Every step is a dated, attributed ``QueryMessage``; who may take a step is decided
by ``registry.access``.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registry.access import Action, can
from registry.models import DataQuery, Patient, QueryMessage


def _require(user, action: Action, patient: Patient) -> None:
    if not can(user, action, patient.site_id):
        raise PermissionDenied(f"You may not {action.value.replace('_', ' ')} at this site.")


def _text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write a message."})
    return text


def _check_target(patient: Patient, record_type: str, record_id: int | None, field: str) -> None:
    """The queried row must be the patient's own, and the field one of that row's fields."""
    model = Patient
    if record_type not in ("", "patient"):
        try:
            model = apps.get_model("registry", record_type)
        except LookupError:
            raise ValidationError({"target": f"Unknown record type {record_type!r}."}) from None
        row = model.objects.filter(pk=record_id).first() if record_id else None
        owner = getattr(row, "owner_patient", None)
        if owner is None or owner().pk != patient.pk:
            raise ValidationError({"target": "The queried record is not this patient's."})
    if field:
        try:
            model._meta.get_field(field)
        except FieldDoesNotExist:
            raise ValidationError(
                {"field": f"{model._meta.verbose_name} has no field {field!r}."}
            ) from None


@transaction.atomic
def query_open(
    *,
    patient: Patient,
    user,
    text: str,
    record_type: str = "",
    record_id: int | None = None,
    field: str = "",
) -> DataQuery:
    """Open a query on the patient record, one of its CRF rows, or one field of it."""
    _require(user, Action.OPEN_QUERY, patient)
    text = _text(text)
    _check_target(patient, record_type, record_id, field)
    query = DataQuery(
        patient=patient,
        record_type=record_type,
        record_id=record_id,
        field=field,
        opened_by=user,
    )
    query.full_clean()
    query.save()
    QueryMessage.objects.create(query=query, author=user, text=text)
    return query


@transaction.atomic
def query_answer(*, query: DataQuery, user, text: str) -> DataQuery:
    """The data manager answers (and usually corrects the data on the CRF page)."""
    _require(user, Action.ANSWER_QUERY, query.patient)
    if query.status == DataQuery.Status.CLOSED:
        raise ValidationError("This query is closed.")
    QueryMessage.objects.create(query=query, author=user, text=_text(text))
    query.status = DataQuery.Status.ANSWERED
    query.save(update_fields=["status"])
    return query


@transaction.atomic
def query_follow_up(*, query: DataQuery, user, text: str) -> DataQuery:
    """The monitor is not satisfied with the answer: the query is open again."""
    _require(user, Action.OPEN_QUERY, query.patient)
    if query.status == DataQuery.Status.CLOSED:
        raise ValidationError("This query is closed.")
    QueryMessage.objects.create(query=query, author=user, text=_text(text))
    query.status = DataQuery.Status.OPEN
    query.save(update_fields=["status"])
    return query


@transaction.atomic
def query_close(*, query: DataQuery, user, text: str = "") -> DataQuery:
    _require(user, Action.CLOSE_QUERY, query.patient)
    if query.status == DataQuery.Status.CLOSED:
        raise ValidationError("This query is already closed.")
    if text and text.strip():
        QueryMessage.objects.create(query=query, author=user, text=text.strip())
    query.status = DataQuery.Status.CLOSED
    query.closed_by = user
    query.closed_at = timezone.now()
    query.save(update_fields=["status", "closed_by", "closed_at"])
    return query

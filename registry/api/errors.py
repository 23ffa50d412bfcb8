"""How the API answers the registry's exceptions.

- a Django ``ValidationError`` from ``full_clean()`` or a service → 400 with field-level messages;
- ``RecordLocked`` → 423 Locked (the record exists and the request is well formed, but the
  record is read-only until a monitor unlocks it with a reason);
- a stale ``version`` → 409 Conflict with the current version; no version at all → 428;
- a database ``IntegrityError`` (two requests saving the same unique value at once, the second
  past the model's own uniqueness check) → 409 Conflict, without the value: the database's
  message quotes it, and it may be a site's patient reference;
- a database ``OperationalError`` (connection lost, database restarting, SQLite busy) → 503
  "try again", also without the database's message;
- a body the JSON parser cannot read, nested too deep included → 400 (``parsers``).
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

from registry.models import RecordLocked


class Locked(exceptions.APIException):
    status_code = status.HTTP_423_LOCKED
    default_detail = "The patient record is locked: unlock it with a reason before changing it."
    default_code = "locked"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record changed since you read it."
    default_code = "stale_version"

    def __init__(self, detail: str | None = None, *, current_version: int | None = None):
        super().__init__(detail)
        self.current_version = current_version


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send the version you read, as 'version' in the body or as an If-Match header, so an "
        "update cannot silently overwrite someone else's change."
    )
    default_code = "version_required"


def as_drf_detail(error: DjangoValidationError) -> dict | list:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == NON_FIELD_ERRORS else field): messages
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


class SavedConcurrently(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "Another request saved a record with the same unique values at the same moment (for "
        "example the same site patient reference): nothing was saved. Read the records again "
        "before retrying."
    )
    default_code = "conflict"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "The database could not complete the request (connection lost or busy): nothing was "
        "saved. Try again in a minute."
    )
    default_code = "database_unavailable"


def translate(exc: Exception) -> Exception:
    if isinstance(exc, IntegrityError):
        return SavedConcurrently()
    if isinstance(exc, OperationalError):
        return DatabaseUnavailable()
    if isinstance(exc, RecordLocked):
        return Locked(" ".join(exc.messages))
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_drf_detail(exc))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    return exc


def api_exception_handler(exc, context):
    response = exception_handler(translate(exc), context)
    if isinstance(exc, Conflict) and response is not None:
        response.data["current_version"] = exc.current_version
    return response

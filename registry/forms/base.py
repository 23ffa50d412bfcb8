"""What every data-entry form shares: help texts from the CRF ranges, service errors at the field."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)

from registry.rules import RANGES, HardRange, describe

# django-simple-history stores the reason in a 100-character column.
REASON_MAX_LENGTH = 100


def range_help_text(model_field) -> str:
    """'g/L · allowed 10–60 · expected 25–55', read from ``registry.rules`` (never retyped)."""
    keys = [v.key for v in getattr(model_field, "validators", []) if isinstance(v, HardRange)]
    if not keys:
        return ""
    spec = RANGES[keys[0]]
    parts = [spec.unit] if spec.unit else []
    if spec.hard:
        parts.append(f"allowed {describe(spec.label, '', spec.hard)}")
    if spec.soft:
        parts.append(f"expected {describe(spec.label, '', spec.soft)} (outside: a warning)")
    return " · ".join(parts)


def add_service_error(form: forms.BaseForm, error: ValidationError | PermissionDenied) -> None:
    """Put an error raised by a service onto the form: at its field when the form has it."""
    if isinstance(error, PermissionDenied):
        error = ValidationError(str(error) or "You may not make this change.")
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        if field in form.fields:
            form.add_error(field, errors)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, errors)
        else:
            label = field.replace("_", " ")
            form.add_error(None, [f"{label}: {message}" for e in errors for message in e])


class RegistryModelForm(forms.ModelForm):
    """A model form that shows errors a service raised on an earlier attempt at the same save.

    The admin saves through ``registry.services``; when a service refuses a row the transaction
    is rolled back and the same POST is validated again with ``service_errors`` (form prefix →
    error) set on the form class, so the refusal appears at the field like any other error.
    """

    service_errors: ClassVar[dict[str, ValidationError]] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            try:
                model_field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:  # a form-only field (unit, reason)
                continue
            text = range_help_text(model_field)
            if text and text not in (field.help_text or ""):
                field.help_text = f"{field.help_text} {text}".strip() if field.help_text else text

    def _post_clean(self) -> None:
        super()._post_clean()
        error = self.service_errors.get(self.prefix or "")
        if error is not None:
            add_service_error(self, error)

"""What every case-report-form row shares: an owner patient, a version, history, the lock."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from registry import fieldcheck
from registry.validation import stored_rows_changed

# DecimalInput._get_unique_checks answers: (class, excluded names, meta constraints too) ->
# (unique checks, date checks).
_unique_checks: dict[tuple, tuple[list, list]] = {}


class RecordLocked(ValidationError):  # noqa: N818 - reads as the state the user meets
    """Raised on any write to a locked patient record."""


class DecimalInput(models.Model):
    """Accept a Python float for a decimal field as the number it prints as.

    A float typed in a script or parsed from JSON (1.1) is not the binary fraction behind it
    (1.100000000000000088...), which would otherwise fail "no more than 2 decimal places".
    """

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None) -> None:
        """Django's ``Model.clean_fields()``, answered by ``registry.fieldcheck`` (see why there).

        It stands in for Django's method, so no class between this one and ``models.Model``
        may override ``clean_fields()``.
        """
        plan = fieldcheck.plan_for(type(self))
        for attname in plan.decimal_attnames:
            value = getattr(self, attname, None)
            if isinstance(value, float):
                setattr(self, attname, Decimal(repr(value)))
        fieldcheck.clean_fields(self, exclude=exclude, plan=plan)

    def _get_unique_checks(self, exclude=None, include_meta_constraints=False):
        """Django's answer, remembered per class and arguments: it reads only the class's meta.

        ``validate_unique()`` asks it on every row of an import. Copies are returned, so a
        caller that changes its lists cannot change the remembered answer.
        """
        if exclude is not None and not isinstance(exclude, (set, frozenset, list, tuple)):
            return super()._get_unique_checks(exclude, include_meta_constraints)
        key = (type(self), frozenset(exclude or ()), include_meta_constraints)
        checks = _unique_checks.get(key)
        if checks is None:
            if len(_unique_checks) >= 10_000:  # rows with errors exclude many combinations
                _unique_checks.clear()
            checks = _unique_checks[key] = super()._get_unique_checks(
                exclude, include_meta_constraints
            )
        unique_checks, date_checks = checks
        return list(unique_checks), list(date_checks)


class CrfRecord(DecimalInput):
    """Base of every CRF row that belongs to one patient.

    ``version`` grows by one on each save: the API compares it to refuse stale updates (409).
    The lock is checked in ``save()`` and ``delete()`` rather than only in ``clean()`` so that
    no entry path — admin, API, import, shell — can write to a locked record.
    """

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(inherit=True)

    # Names of the date fields that cross-form checks compare with diagnosis and death.
    event_date_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        patient = self.owner_patient()
        if patient is not None:
            patient.assert_editable()
        if self.pk is not None:
            self.version = (self.version or 0) + 1
        self.derive()
        super().save(*args, **kwargs)
        stored_rows_changed()

    def delete(self, *args, **kwargs):
        patient = self.owner_patient()
        if patient is not None:
            patient.assert_editable()
        deleted = super().delete(*args, **kwargs)
        stored_rows_changed()
        return deleted

    def owner_patient(self):
        return self.patient

    def derive(self) -> None:
        """Recompute this row's own derived fields from its inputs (overridden where any)."""

    def clean(self) -> None:
        super().clean()
        from registry.validation import check_event_dates, typed_date_errors

        errors = typed_date_errors(self)
        patient = self.owner_patient() if self._owner_is_set() else None
        if patient is not None:
            try:
                check_event_dates(patient, self, self.event_date_fields)
            except ValidationError as error:
                for name, field_errors in error.error_dict.items():
                    errors.setdefault(name, field_errors)
        if errors:
            raise ValidationError(errors)

    def _owner_is_set(self) -> bool:
        try:
            return self.owner_patient() is not None
        except models.ObjectDoesNotExist:
            return False

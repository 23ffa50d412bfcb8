"""What every case-report-form row shares: an owner patient, a version, history, the lock."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from registry.validation import stored_rows_changed


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
        for field in self._meta.concrete_fields:
            value = getattr(self, field.attname, None)
            if isinstance(field, models.DecimalField) and isinstance(value, float):
                setattr(self, field.attname, Decimal(repr(value)))
        super().clean_fields(exclude=exclude)


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
        patient = self.owner_patient() if self._owner_is_set() else None
        if patient is None:
            return
        from registry.validation import check_event_dates

        check_event_dates(patient, self, self.event_date_fields)

    def _owner_is_set(self) -> bool:
        try:
            return self.owner_patient() is not None
        except models.ObjectDoesNotExist:
            return False

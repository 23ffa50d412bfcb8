from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from registry import choices as c

from .indexes import keyset_indexes


class DataQualityFlag(models.Model):
    """A non-blocking finding about a patient's data: a soft range, a cross-form inconsistency,
    or a reason the patient falls outside the seeds' eligibility.

    Recomputed by ``registry.services.patient_refresh_derived`` after every write; a flag that
    no longer applies is marked resolved rather than deleted, so its history stays visible.
    """

    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="quality_flags"
    )
    record_type = models.CharField(max_length=40)
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    field = models.CharField(max_length=60, blank=True)
    code = models.CharField(max_length=60)
    severity = models.CharField(max_length=16, choices=c.FlagSeverity.choices)
    message = models.CharField(max_length=500)
    status = models.CharField(
        max_length=16, choices=c.FlagStatus.choices, default=c.FlagStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["patient", "-created_at"]
        indexes = [
            models.Index(fields=["patient", "status"]),
            # The admin flag list's filters, and the patient list's open-flag count/sort:
            # a partial index holds only the open flags, not every flag ever raised.
            *keyset_indexes("flag", "status", "severity", "code"),
            models.Index(
                fields=["patient"], condition=models.Q(status="open"), name="flag_open_patient"
            ),
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def key(self) -> tuple:
        return (self.record_type, self.record_id, self.field, self.code)


class DataQuery(models.Model):
    """A data clarification request opened by a monitor on a record or a field."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="queries"
    )
    record_type = models.CharField(max_length=40, blank=True)
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    field = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["patient", "-opened_at"]
        indexes = keyset_indexes("query", "status")
        verbose_name_plural = "data queries"

    def __str__(self) -> str:
        target = ".".join(part for part in (self.record_type, self.field) if part) or "record"
        return f"Query on {target} ({self.get_status_display()})"


class QueryMessage(models.Model):
    query = models.ForeignKey(DataQuery, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    text = models.TextField()

    class Meta:
        ordering = ["query", "created_at"]

    def __str__(self) -> str:
        return f"{self.author} at {self.created_at:%Y-%m-%d %H:%M}"

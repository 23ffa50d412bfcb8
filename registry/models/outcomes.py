from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from registry import choices as c

from .base import CrfRecord
from .indexes import keyset_indexes


class FollowUp(CrfRecord):
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="follow_ups"
    )
    contact_date = models.DateField()
    vital_status = models.CharField(max_length=8, choices=c.VitalStatus.choices)
    notes = models.CharField(max_length=500, blank=True)

    event_date_fields = ("contact_date",)

    class Meta:
        ordering = ["patient", "contact_date"]
        indexes = keyset_indexes("followup", "contact_date", "vital_status")
        verbose_name = "follow-up contact"

    def __str__(self) -> str:
        return f"Follow-up {self.contact_date}: {self.get_vital_status_display()}"


class ProgressionEvent(CrfRecord):
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="progression_events"
    )
    event_date = models.DateField()
    progression_type = models.CharField(max_length=20, choices=c.ProgressionType.choices)
    notes = models.CharField(max_length=500, blank=True)

    event_date_fields = ("event_date",)

    class Meta:
        ordering = ["patient", "event_date"]
        indexes = keyset_indexes("progression", "event_date", "progression_type")

    def __str__(self) -> str:
        return f"Progression {self.event_date} ({self.get_progression_type_display()})"


class Death(CrfRecord):
    patient = models.OneToOneField(
        "registry.Patient", on_delete=models.CASCADE, related_name="death"
    )
    death_date = models.DateField()
    cause = models.CharField(max_length=20, choices=c.DeathCause.choices)
    notes = models.CharField(max_length=500, blank=True)

    event_date_fields = ("death_date",)

    class Meta:
        indexes = keyset_indexes("death", "death_date", "cause")

    def __str__(self) -> str:
        return f"Death {self.death_date}"

    def clean(self) -> None:
        super().clean()
        if self._owner_is_set() and self.patient.pk and self.death_date:
            from registry.validation import latest_event_before_death

            index_date = self.patient.index_date
            if index_date and self.death_date < index_date:
                raise ValidationError(
                    {
                        "death_date": f"Death date {self.death_date} is before the index date "
                        f"{index_date}: the treatment line studied must start before the death."
                    }
                )
            latest = latest_event_before_death(self.patient)
            if latest and latest[0] > self.death_date:
                raise ValidationError(
                    {
                        "death_date": f"Death date {self.death_date} is before {latest[1]} on "
                        f"{latest[0]}: death must be the last dated event."
                    }
                )


class DataCutoff(models.Model):
    """A study's or analysis's data cut-off (e.g. seed 002: 2024-12-31)."""

    name = models.CharField(max_length=100, unique=True)
    cutoff_date = models.DateField()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["-cutoff_date"]
        verbose_name = "data cut-off"

    def __str__(self) -> str:
        return f"{self.name} ({self.cutoff_date})"

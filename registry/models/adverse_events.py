from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from registry import choices as c

from .base import CrfRecord
from .indexes import keyset_indexes


class CtcaeTerm(models.Model):
    """A CTCAE v5.0 term with its system organ class and the grades CTCAE defines for it.

    The list is data (loaded by a migration from ``registry/data/ctcae_v5_terms.csv``) and can be
    extended without code.
    """

    code = models.CharField(max_length=64, unique=True)
    term = models.CharField(max_length=200)
    system_organ_class = models.CharField(max_length=200)
    min_grade = models.PositiveSmallIntegerField(default=1)
    max_grade = models.PositiveSmallIntegerField(default=5)
    is_other_specify = models.BooleanField(default=False)

    class Meta:
        ordering = ["system_organ_class", "term"]
        indexes = keyset_indexes("ctcae", "system_organ_class")
        verbose_name = "CTCAE v5.0 term"

    def __str__(self) -> str:
        return self.term


class AdverseEvent(CrfRecord):
    patient = models.ForeignKey(
        "registry.Patient", on_delete=models.CASCADE, related_name="adverse_events"
    )
    term = models.ForeignKey(CtcaeTerm, on_delete=models.PROTECT, related_name="+")
    other_specify = models.CharField(max_length=200, blank=True)
    grade = models.PositiveSmallIntegerField()
    onset_date = models.DateField()
    resolution_date = models.DateField(null=True, blank=True)
    serious = models.BooleanField(default=False)
    attribution = models.CharField(max_length=10, choices=c.AeAttribution.choices)
    relatedness = models.CharField(max_length=10, choices=c.Relatedness.choices, blank=True)
    action = models.CharField(max_length=14, choices=c.AeAction.choices, blank=True)
    outcome = models.CharField(max_length=10, choices=c.AeOutcome.choices, blank=True)

    event_date_fields = ("onset_date", "resolution_date")

    class Meta:
        ordering = ["patient", "onset_date"]
        indexes = keyset_indexes("ae", "onset_date", "grade", "serious")
        verbose_name = "adverse event"

    def __str__(self) -> str:
        # Shown to every role (lists, history, messages): never the free-text other-specify.
        return f"{self.term} grade {self.grade}"

    @property
    def is_treatment_related(self) -> bool:
        return self.attribution != c.AeAttribution.UNRELATED and self.relatedness not in (
            c.Relatedness.UNRELATED,
            c.Relatedness.UNLIKELY,
        )

    def clean(self) -> None:
        super().clean()
        errors = {}
        term = self.term if self.term_id else None
        if (
            term is not None
            and self.grade is not None
            and not (term.min_grade <= self.grade <= term.max_grade)
        ):
            errors["grade"] = (
                f"Grade {self.grade} is not defined for '{term.term}': CTCAE v5.0 allows "
                f"grades {term.min_grade}–{term.max_grade}."
            )
        if term is not None and term.is_other_specify and not self.other_specify.strip():
            errors["other_specify"] = f"'{term.term}' needs the event named (other, specify)."
        if self.resolution_date and self.onset_date and self.resolution_date < self.onset_date:
            errors["resolution_date"] = (
                f"Resolution date {self.resolution_date} is before the onset date {self.onset_date}."
            )
        if self.grade == 5 and self.outcome and self.outcome != c.AeOutcome.FATAL:
            errors["outcome"] = "A grade 5 event is fatal: set the outcome to fatal."
        if self._owner_is_set() and self.onset_date and self.patient.pk:
            from registry.validation import first_treatment_date

            first = first_treatment_date(self.patient)
            if first and self.onset_date < first:
                errors["onset_date"] = (
                    f"Onset date {self.onset_date} is before the first treatment ({first})."
                )
        if errors:
            raise ValidationError(errors)

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from analytics.choices import ReportTemplate


class AnalysisDefinition(models.Model):
    """A named, versioned analysis an investigator wrote: which report (template and
    sections), over which cohort (or one chosen when run), comparing the groups of which
    grouping definition, with which endpoints and model options (covariates from the
    variable dictionary, selection, matching…). A run refers to one version and copies
    everything into its parameters; editing saves the next version.

    Report A and Report B ship as two definitions (migration ``seed_analysis_definitions``).
    """

    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    description = models.TextField(blank=True)
    template = models.CharField(max_length=12, choices=ReportTemplate.choices)
    sections = models.JSONField(default=list, blank=True, help_text="Custom template only.")
    cohort = models.ForeignKey(
        "analytics.CohortDefinition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the cohort is chosen when the analysis is run.",
    )
    grouping = models.ForeignKey(
        "analytics.GroupingDefinition", on_delete=models.PROTECT, related_name="+"
    )
    endpoints = models.JSONField(default=list, blank=True, help_text='e.g. ["os", "pfs"]')
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text='Run options, e.g. {"covariates": ["age", {"variable": "ecog_ps", '
        '"coding": "categorical", "reference": "0"}], "caliper_sd": 0.2}.',
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_analysis_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def clean(self) -> None:
        from analytics.services import ENDPOINTS

        unknown = [e for e in self.endpoints if e not in ENDPOINTS]
        if unknown:
            raise ValidationError(
                {"endpoints": f"Unknown endpoint(s) {', '.join(map(str, unknown))}; "
                f"known: {', '.join(ENDPOINTS)}."}
            )  # fmt: skip

    def describe(self) -> dict:
        return {
            "id": self.pk,
            "name": self.name,
            "version": self.version,
            "template": self.template,
            "sections": self.sections,
            "cohort": self.cohort_id,
            "grouping": {"id": self.grouping_id, **self.grouping.describe()},
            "endpoints": self.endpoints,
            "options": self.options,
        }

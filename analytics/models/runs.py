from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from analytics.choices import FINISHED_RUN_STATUSES, ReportTemplate, RunStatus


class AnalysisRun(models.Model):
    """One analysis over a frozen cohort: its parameters, progress, provenance and files.

    Immutable once queued: every parameter is copied into ``parameters`` at creation, and
    running again makes a new run.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    template = models.CharField(max_length=12, choices=ReportTemplate.choices)
    title = models.CharField(max_length=200, blank=True)
    sections = models.JSONField(default=list, blank=True)
    cohort = models.ForeignKey(
        "analytics.CohortDefinition", on_delete=models.PROTECT, related_name="runs"
    )
    control_arm = models.ForeignKey(
        "analytics.ArmDefinition",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Reference arm (e.g. systemic therapy alone, TACE alone); empty when the "
        "run compares the groups of a grouping definition.",
    )
    treatment_arm = models.ForeignKey(
        "analytics.ArmDefinition",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Compared arm (e.g. local + systemic therapy).",
    )
    definition = models.ForeignKey(
        "analytics.AnalysisDefinition",
        on_delete=models.PROTECT,
        related_name="runs",
        null=True,
        blank=True,
        help_text="The saved analysis definition (one version) this run computes, if any.",
    )
    grouping = models.ForeignKey(
        "analytics.GroupingDefinition",
        on_delete=models.PROTECT,
        related_name="runs",
        null=True,
        blank=True,
        help_text="The groups compared, instead of two arms (one version of a grouping).",
    )
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text="Endpoints, covariates and their coding, matching options, rule sets, cut-off.",
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress_pct = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    warnings = models.JSONField(
        default=list,
        blank=True,
        help_text="Sections or models that could not be computed as planned, one line each.",
    )
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dataset_sha256 = models.CharField(max_length=64, blank=True)
    provenance = models.JSONField(default=dict, blank=True)
    result = models.JSONField(
        default=dict, blank=True, help_text="Tables and notes of each section."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Run {self.pk} — {self.get_template_display()} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES

    def clean(self) -> None:
        if self.grouping_id is None and not (self.control_arm_id and self.treatment_arm_id):
            raise ValidationError(
                {"treatment_arm": "Choose two arms to compare, or a grouping definition."}
            )
        if self.grouping_id is not None and (self.control_arm_id or self.treatment_arm_id):
            raise ValidationError(
                {"grouping": "Choose either a grouping definition or two arms, not both."}
            )
        if self.control_arm_id and self.control_arm_id == self.treatment_arm_id:
            raise ValidationError({"treatment_arm": "Choose two different arms to compare."})

    @property
    def compared_groups(self) -> tuple[str, str]:
        """(reference, compared) group names, as the report calls its control and treatment
        arms: the two arms' names, or the grouping's reference and other group."""
        parameters = self.parameters or {}
        return (
            parameters.get("control_arm", {}).get("name") or self.control_arm.name,
            parameters.get("treatment_arm", {}).get("name") or self.treatment_arm.name,
        )


class RunOutput(models.Model):
    class Kind(models.TextChoices):
        PDF = "pdf", "PDF report"
        HTML = "html", "HTML report"
        XLSX = "xlsx", "Workbook (one sheet per table)"
        CSV = "csv", "Table (CSV)"
        PNG = "png", "Figure (PNG)"
        SVG = "svg", "Figure (SVG)"
        DATASET_CSV = "dataset_csv", "Analysis dataset (CSV)"
        DICTIONARY = "dictionary", "Data dictionary (CSV)"
        SAV = "sav", "Analysis dataset (SPSS .sav)"
        DTA = "dta", "Analysis dataset (Stata .dta)"

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="outputs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=200)
    file = models.FileField(upload_to="runs/%Y/%m/")
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["run", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="unique_output_name_per_run")
        ]

    def __str__(self) -> str:
        return self.name

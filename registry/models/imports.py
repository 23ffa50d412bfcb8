from __future__ import annotations

from django.conf import settings
from django.db import models

from .indexes import keyset_indexes


class ImportJob(models.Model):
    """One uploaded file (CSV or XLSX) imported into one site, all-or-nothing.

    A dry run validates and counts without writing; a commit writes everything in one
    transaction or nothing. Large files run as a background job that updates ``progress_pct``.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        VALID = "valid", "Dry run: no errors"
        INVALID = "invalid", "Rejected: errors found"
        COMMITTED = "committed", "Committed"
        FAILED = "failed", "Failed"

    site = models.ForeignKey("registry.Site", on_delete=models.PROTECT, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When a worker (or the request) started it: a job running past its hard time limit from
    # here has lost its worker (registry.imports.services.import_jobs_sweep).
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=True)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_filename = models.CharField(max_length=255)
    section = models.CharField(
        max_length=40,
        blank=True,
        help_text="CRF section of a single-section CSV; empty for a workbook.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress_pct = models.PositiveSmallIntegerField(default=0)
    counts = models.JSONField(
        default=dict, blank=True, help_text="Section → created/updated/unchanged."
    )
    errors = models.JSONField(
        default=list, blank=True, help_text="Sheet, row, column and reason of each error."
    )
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = keyset_indexes("importjob", "status", "dry_run")

    def __str__(self) -> str:
        return f"Import {self.original_filename} ({self.get_status_display()})"

from django.db import models


class ArmRule(models.TextChoices):
    """Kinds of arm rule over a patient's treatment rows (see ``analytics.arms``)."""

    TACE_ALONE = "tace_alone", "TACE alone"
    TACE_PD1_MTT = "tace_pd1_mtt", "TACE + PD-(L)1 inhibitor + molecular targeted therapy"
    SYSTEMIC_ALONE = "systemic_alone", "Systemic therapy alone (after TACE refractoriness)"
    LOCAL_PLUS_SYSTEMIC = (
        "local_plus_systemic",
        "Local + systemic therapy (after TACE refractoriness)",
    )


class ReportTemplate(models.TextChoices):
    REPORT_A = "report_a", "Report A — local + systemic vs systemic alone after TACE refractoriness"
    REPORT_B = "report_b", "Report B — TACE + PD-(L)1 + MTT vs TACE alone (propensity-matched)"
    CUSTOM = "custom", "Custom set of sections"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    # Every output was produced, but a section (or a model in it) could not be computed as
    # planned: the run's ``warnings`` list them, and the report says so where it happens.
    SUCCEEDED_WITH_WARNINGS = "warnings", "Succeeded with warnings"
    FAILED = "failed", "Failed"


# A run in one of these states is never computed again (a redelivered task skips it).
FINISHED_RUN_STATUSES = (
    RunStatus.SUCCEEDED,
    RunStatus.SUCCEEDED_WITH_WARNINGS,
    RunStatus.FAILED,
)


class BclcSource(models.TextChoices):
    USED = "used", "Stage used (override where recorded)"
    DERIVED = "derived", "Derived stage only"

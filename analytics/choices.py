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
    FAILED = "failed", "Failed"


class BclcSource(models.TextChoices):
    USED = "used", "Stage used (override where recorded)"
    DERIVED = "derived", "Derived stage only"

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from analytics.choices import ArmRule, BclcSource
from registry.choices import RefractorinessRuleSet


class CohortDefinition(models.Model):
    """Which patients an analysis starts from, and at which data cut-off.

    Named and versioned: a run refers to one version, so editing a cohort means saving a new
    version (same name, version + 1) and old runs keep reproducing.
    """

    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    description = models.TextField(blank=True)
    sites = models.ManyToManyField(
        "registry.Site", blank=True, help_text="Empty: every site the investigator may see."
    )
    index_date_from = models.DateField(null=True, blank=True)
    index_date_to = models.DateField(null=True, blank=True)
    bclc_stages = models.JSONField(
        default=list, blank=True, help_text='e.g. ["A", "B", "C"]; empty: any'
    )
    bclc_source = models.CharField(
        max_length=8, choices=BclcSource.choices, default=BclcSource.USED
    )
    child_pugh_classes = models.JSONField(default=list, blank=True, help_text='e.g. ["A", "B"]')
    refractoriness_rule_set = models.CharField(
        max_length=32,
        choices=RefractorinessRuleSet.choices,
        blank=True,
        help_text="TACE refractoriness rule set used by the cohort and reported.",
    )
    require_refractory = models.BooleanField(
        default=False, help_text="Keep only patients refractory under the rule set."
    )
    exclude_ineligible = models.BooleanField(
        default=True,
        help_text="Exclude patients outside the seeds' eligibility (counted in the flow).",
    )
    cutoff_date = models.DateField(help_text="Data cut-off: follow-up after it is censored.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_cohort_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def clean(self) -> None:
        if self.require_refractory and not self.refractoriness_rule_set:
            raise ValidationError(
                {"refractoriness_rule_set": "Choose the rule set that decides refractoriness."}
            )
        if (
            self.index_date_from
            and self.index_date_to
            and self.index_date_from > self.index_date_to
        ):
            raise ValidationError({"index_date_to": "The index-date window ends before it starts."})

    def describe(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "sites": sorted(self.sites.values_list("code", flat=True)) or "all visible",
            "index_date_window": [
                self.index_date_from.isoformat() if self.index_date_from else None,
                self.index_date_to.isoformat() if self.index_date_to else None,
            ],
            "bclc_stages": self.bclc_stages or "any",
            "bclc_source": self.bclc_source,
            "child_pugh_classes": self.child_pugh_classes or "any",
            "refractoriness_rule_set": self.refractoriness_rule_set or None,
            "require_refractory": self.require_refractory,
            "exclude_ineligible": self.exclude_ineligible,
            "cutoff_date": self.cutoff_date.isoformat(),
        }


class ArmDefinition(models.Model):
    """A named, versioned rule that assigns a patient to a treatment arm from treatment rows."""

    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    rule = models.CharField(max_length=32, choices=ArmRule.choices)
    window_days = models.PositiveIntegerField(
        default=30,
        help_text="Days from the anchor (first TACE, or the index date) within which the "
        "qualifying treatments must start.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_arm_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def describe(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "rule": self.rule,
            "rule_text": self.get_rule_display(),
            "window_days": self.window_days,
        }

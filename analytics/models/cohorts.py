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
    """A named, versioned treatment-pattern arm (``analytics.groupings.TreatmentPattern``).

    ``pattern`` is the definition. ``rule`` names the seed rule an arm was first written as
    (the four arms of the reference reports); an arm saved with a ``rule`` and no pattern gets
    that rule's pattern with ``window_days``. For a pattern, ``window_days`` mirrors its
    window end.
    """

    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    rule = models.CharField(
        max_length=32,
        choices=ArmRule.choices,
        blank=True,
        help_text="The seed rule this arm was written as, if any (a label: the pattern decides).",
    )
    window_days = models.PositiveIntegerField(
        default=30,
        help_text="Days from the anchor (first TACE, or the index date) within which the "
        "qualifying treatments must start.",
    )
    pattern = models.JSONField(
        default=dict,
        blank=True,
        help_text='Treatment pattern, e.g. {"anchor": "first_tace", "window_end_days": 90, '
        '"clauses": [{"combine": "all_of", "terms": ["pd1_pdl1", "tki"]}]}.',
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

    def save(self, *args, **kwargs) -> None:
        from analytics.groupings import TreatmentPattern, seed_pattern

        if not self.pattern and self.rule:
            self.pattern = seed_pattern(self.rule, self.window_days).to_dict()
        elif self.pattern:
            self.window_days = TreatmentPattern.from_dict(self.pattern).window_end_days
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from analytics.groupings import DefinitionError

        if not self.pattern and not self.rule:
            raise ValidationError({"pattern": "An arm needs a treatment pattern."})
        try:
            self.treatment_pattern  # noqa: B018 - parsing validates
        except DefinitionError as error:
            raise ValidationError({"pattern": str(error)}) from None

    @property
    def treatment_pattern(self):
        """The parsed pattern (``analytics.groupings.TreatmentPattern``)."""
        from analytics.groupings import TreatmentPattern, seed_pattern

        if not self.pattern:
            return seed_pattern(self.rule, self.window_days)
        return TreatmentPattern.from_dict(self.pattern)

    def describe(self) -> dict:
        pattern = self.treatment_pattern
        return {
            "name": self.name,
            "version": self.version,
            "rule": self.rule,
            "rule_text": self.get_rule_display() if self.rule else pattern.text(),
            "window_days": self.window_days,
            "pattern": pattern.to_dict(),
            "pattern_text": pattern.text(),
        }


class GroupingDefinition(models.Model):
    """A named, versioned way of splitting a cohort into two or more groups.

    ``kind`` "treatment_pattern": ``spec`` = {"arms": [{"label", "pattern"}, ...]}, tried in
    order (the first matching arm wins); "variable": ``spec`` = {"variable", "groups":
    [{"label", "values"}, ...]} or {"variable", "cuts": [...]} over a column of the analysis
    dataset (``analytics.variables``). ``reference`` is the group the others are compared
    with (default: the first). Evaluated by ``analytics.groupings``.
    """

    class Kind(models.TextChoices):
        TREATMENT_PATTERN = "treatment_pattern", "Treatment-pattern arms"
        VARIABLE = "variable", "Groups of a patient variable"

    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    spec = models.JSONField(default=dict)
    reference = models.CharField(
        max_length=120, blank=True, help_text="Reference group label; empty: the first group."
    )
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_grouping_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def grouping(self):
        """The parsed grouping (``PatternGrouping`` or ``VariableGrouping``)."""
        from analytics.groupings import PatternGrouping, VariableGrouping

        if self.kind == self.Kind.TREATMENT_PATTERN:
            return PatternGrouping.from_dict(self.spec)
        return VariableGrouping.from_dict(self.spec)

    @property
    def reference_label(self) -> str:
        return self.reference or self.grouping().labels[0]

    def clean(self) -> None:
        from analytics.groupings import DefinitionError
        from analytics.variables import check_grouping_variable

        try:
            grouping = self.grouping()
            if self.kind == self.Kind.VARIABLE:
                check_grouping_variable(grouping)
        except DefinitionError as error:
            raise ValidationError({"spec": str(error)}) from None
        if self.reference and self.reference not in grouping.labels:
            raise ValidationError(
                {
                    "reference": f"{self.reference!r} is not one of the groups "
                    f"({', '.join(grouping.labels)})"
                }
            )

    def describe(self) -> dict:
        grouping = self.grouping()
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "spec": grouping.to_dict(),
            "groups": grouping.labels,
            "reference": self.reference_label,
        }

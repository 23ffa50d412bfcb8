"""The patient list's own filters: site, treatment arm and TACE refractoriness.

Every filter narrows the list's queryset, which is already limited to the user's sites.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from analytics.arm_members import latest_arm_definitions, patients_in_arm
from analytics.models import ArmDefinition
from registry import access
from registry.choices import RefractorinessRuleSet


class SiteFilter(admin.SimpleListFilter):
    title = "site"
    parameter_name = "site"

    def lookups(self, request, model_admin):
        return [(str(site.pk), site.code) for site in access.sites_for(request.user)]

    def queryset(self, request, queryset):
        # The queryset is already limited to the user's sites: another id gives nothing.
        return queryset.filter(site_id=self.value()) if self.value() else queryset


class RefractorinessFilter(admin.SimpleListFilter):
    """The status each refractoriness rule set stored for the patient."""

    title = "TACE refractoriness"
    parameter_name = "refractory"

    def lookups(self, request, model_admin):
        return [
            (f"{rule}:{status}", f"{label}: {status.replace('_', ' ')}")
            for rule, label in RefractorinessRuleSet.choices
            for status in ("refractory", "not_refractory", "indeterminate")
        ]

    def queryset(self, request, queryset):
        if not self.value() or ":" not in self.value():
            return queryset
        rule, status = self.value().split(":", 1)
        if rule not in RefractorinessRuleSet.values:
            return queryset.none()
        return queryset.filter(**{f"tace_refractoriness__{rule}__status": status})


class ArmFilter(admin.SimpleListFilter):
    """Patients whose treatment history satisfies an arm definition's rule as of today.

    Arms are analysis definitions, not stored per patient: the rule is evaluated on the list's
    patients when the filter is chosen, by the same selector an analysis uses.
    """

    title = "arm"
    parameter_name = "arm"

    def lookups(self, request, model_admin):
        return [(str(arm.pk), str(arm)) for arm in latest_arm_definitions()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        arm = (
            ArmDefinition.objects.filter(pk=self.value()).first()
            if self.value().isdigit()
            else None
        )
        if arm is None:
            return queryset.none()
        members = patients_in_arm(queryset, arm, cutoff=timezone.localdate())
        return queryset.filter(pk__in=members)

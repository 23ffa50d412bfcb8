"""Admin for cohort and arm definitions; analysis runs are read-only records here."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from analytics.models import (
    AnalysisDefinition,
    AnalysisRun,
    ArmDefinition,
    CohortDefinition,
    GroupingDefinition,
    RunOutput,
)


@admin.register(CohortDefinition)
class CohortDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "cutoff_date", "site_codes", "require_refractory"]
    list_filter = ["require_refractory", "bclc_source"]
    search_fields = ["name", "description"]
    filter_horizontal = ["sites"]
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description="Sites")
    def site_codes(self, cohort: CohortDefinition) -> str:
        return ", ".join(cohort.sites.values_list("code", flat=True)) or "all"

    def save_model(self, request, obj, form, change) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ArmDefinition)
class ArmDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "rule", "window_days", "pattern_text"]
    list_filter = ["rule"]
    search_fields = ["name", "description"]

    @admin.display(description="Treatment pattern")
    def pattern_text(self, arm: ArmDefinition) -> str:
        return arm.treatment_pattern.text()


class _VersionedAdmin(admin.ModelAdmin):
    """A saved version is never edited: adding one with an existing name saves the next
    version; an existing version is shown read-only."""

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [f.name for f in self.model._meta.fields]
        return ["version", "created_by", "created_at"]

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        from analytics.cohorts import _next_version

        obj.version = _next_version(self.model, obj.name)
        obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(GroupingDefinition)
class GroupingDefinitionAdmin(_VersionedAdmin):
    list_display = ["name", "version", "kind", "reference", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]


@admin.register(AnalysisDefinition)
class AnalysisDefinitionAdmin(_VersionedAdmin):
    list_display = ["name", "version", "template", "grouping", "cohort", "created_at"]
    list_filter = ["template"]
    search_fields = ["name", "description"]


class RunOutputInline(admin.TabularInline):
    model = RunOutput
    fields = ["name", "kind", "size_bytes", "sha256"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    """Runs are immutable: started from /analytics/, inspected here."""

    list_display = ["id", "title", "template", "cohort", "status", "progress_pct", "created_by", "created_at", "page"]  # fmt: skip
    list_filter = ["status", "template"]
    search_fields = ["title"]
    inlines = [RunOutputInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Run page")
    def page(self, run: AnalysisRun) -> str:
        return format_html('<a href="{}">open</a>', reverse("analytics:run_detail", args=[run.pk]))

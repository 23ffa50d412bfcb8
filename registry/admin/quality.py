"""Data-quality flags and data queries across the user's patients (worked on the patient page)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from registry.models import DataQualityFlag, DataQuery, QueryMessage

from .base import RegistryModelAdmin, RegistryPermissionsMixin


class ReadOnlyScopedAdmin(RegistryModelAdmin):
    show_in_index = True
    list_select_related = ["patient", "patient__site"]
    search_fields = ["patient__study_id"]
    search_help_text = "Study id"

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="patient", ordering="patient__study_id")
    def patient_link(self, obj) -> str:
        url = reverse("admin:registry_patient_change", args=[obj.patient_id])
        return format_html('<a href="{}#{}">{}</a>', url, self.anchor, obj.patient.study_id)

    anchor = ""


@admin.register(DataQualityFlag)
class DataQualityFlagAdmin(ReadOnlyScopedAdmin):
    list_display = ["message", "patient_link", "severity", "status", "created_at"]
    list_filter = ["status", "severity", "code"]
    anchor = "flags"


class QueryMessageInline(RegistryPermissionsMixin, admin.TabularInline):
    model = QueryMessage
    fields = ["created_at", "author", "text"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DataQuery)
class DataQueryAdmin(ReadOnlyScopedAdmin):
    """The queue of queries; they are opened, answered and closed on the patient page."""

    list_display = ["__str__", "patient_link", "status", "opened_by", "opened_at", "closed_at"]
    list_filter = ["status"]
    list_select_related = ["patient", "patient__site", "opened_by"]
    inlines = [QueryMessageInline]
    anchor = "queries"

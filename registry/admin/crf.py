"""CRF rows on their own pages: imaging assessments with their target lesions (Django's admin
has no nested inlines), and scoped lists of every other section for searching across patients."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from registry.forms import LabPanelForm
from registry.forms.base import RegistryModelForm
from registry.forms.patients import reason_field
from registry.models import (
    AdverseEvent,
    Death,
    FollowUp,
    HaicCycle,
    ImagingAssessment,
    LabPanel,
    LesionMeasurement,
    LocalProcedure,
    ProgressionEvent,
    RadiotherapyCourse,
    SystemicTherapy,
    TaceSession,
    TumourAssessment,
)

from .base import RegistryModelAdmin
from .inlines import EMPTY, LesionMeasurementInline


class CrfRecordForm(RegistryModelForm):
    change_reason = reason_field()


class LabPanelRecordForm(LabPanelForm):
    change_reason = reason_field()


class CrfRecordAdmin(RegistryModelAdmin):
    """A scoped list of one CRF section across the user's patients; edits go through services."""

    form = CrfRecordForm
    autocomplete_fields = ["patient"]

    class Media:
        js = ["registry/workspace.js"]

    list_select_related = ["patient", "patient__site"]
    search_fields = ["patient__study_id"]
    search_help_text = "Study id"

    def get_list_display(self, request):
        return ["__str__", "patient_link", *self.list_display_extra]

    list_display_extra: list[str] = []

    @admin.display(description="patient", ordering="patient__study_id")
    def patient_link(self, obj) -> str:
        patient = obj.owner_patient()
        url = reverse("admin:registry_patient_change", args=[patient.pk])
        return format_html('<a href="{}">{}</a>', url, patient.study_id)


@admin.register(ImagingAssessment)
class ImagingAssessmentAdmin(CrfRecordAdmin):
    """One assessment with its target lesions; opened from the patient page."""

    inlines = [LesionMeasurementInline]
    list_display_extra = ["assessment_date", "is_baseline", "criteria", "response"]
    list_filter = ["is_baseline", "criteria", "response"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "patient",
                    ("assessment_date", "is_baseline"),
                    ("modality", "criteria", "reviewer"),
                    "treated_viable_fraction_pct",
                    ("new_lesion", "new_lesion_site", "intrahepatic_lesion_count"),
                    ("non_target_progression", "new_vascular_invasion"),
                    "reader_response",
                ]
            },
        ),
        (
            "Derived (mRECIST / RECIST 1.1)",
            {
                "fields": [
                    ("target_sum", "nadir_before"),
                    ("change_from_baseline", "change_from_nadir"),
                    ("response", "reader_disagrees"),
                    "response_reason",
                ]
            },
        ),
        ("Reason for change", {"fields": ["change_reason"]}),
    ]
    readonly_fields = [
        "target_sum",
        "nadir_before",
        "change_from_baseline",
        "change_from_nadir",
        "response",
        "reader_disagrees",
        "response_reason",
    ]

    # Sums of decimals are floats (40.1 + 29.7 = 69.80000000000001): shown to the lesions'
    # stored precision, one decimal of a mm, and percentages to one decimal.
    @admin.display(description="target sum (mm)")
    def target_sum(self, obj) -> str:
        return rounded(obj.target_sum_mm, 1)

    @admin.display(description="nadir before (mm)")
    def nadir_before(self, obj) -> str:
        return rounded(obj.nadir_before_mm, 1)

    @admin.display(description="change from baseline (%)")
    def change_from_baseline(self, obj) -> str:
        return rounded(obj.change_from_baseline_pct, 1, sign=True)

    @admin.display(description="change from nadir (%)")
    def change_from_nadir(self, obj) -> str:
        return rounded(obj.change_from_nadir_pct, 1, sign=True)

    def get_readonly_fields(self, request, obj=None):
        # The patient of an existing assessment is fixed: its lesions belong to that patient.
        return [*self.readonly_fields, "patient"] if obj is not None else self.readonly_fields

    def get_changeform_initial_data(self, request):
        return super().get_changeform_initial_data(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        patient_url = reverse("admin:registry_patient_change", args=[obj.patient_id])
        context = {"patient_url": patient_url, "patient_study_id": obj.patient.study_id}
        return super().change_view(
            request, object_id, form_url, {**context, **(extra_context or {})}
        )

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            url = reverse("admin:registry_patient_change", args=[obj.patient_id])
            response["Location"] = f"{url}#imaging_assessments-group"
        return response


def rounded(value: float | None, places: int, sign: bool = False) -> str:
    if value is None:
        return EMPTY
    return f"{value:{'+' if sign else ''}.{places}f}"


def register_section(model, extra=(), filters=(), form=CrfRecordForm):
    attrs = {"list_display_extra": list(extra), "list_filter": list(filters), "form": form}
    admin.site.register(model, type(f"{model.__name__}Admin", (CrfRecordAdmin,), attrs))


register_section(
    LabPanel,
    ["sample_date", "albi_grade", "child_pugh_class"],
    ["albi_grade", "child_pugh_class"],
    form=LabPanelRecordForm,
)
register_section(TumourAssessment, ["imaging_date", "tumour_number", "max_diameter_cm"])
register_section(TaceSession, ["start_date", "technique", "technically_adequate"], ["technique"])
register_section(HaicCycle, ["start_date", "regimen"], ["regimen"])
register_section(RadiotherapyCourse, ["start_date", "technique", "bed10_gy"], ["technique"])
register_section(LocalProcedure, ["start_date", "procedure"], ["procedure"])
register_section(SystemicTherapy, ["start_date", "agent", "drug_class"], ["drug_class", "agent"])
register_section(FollowUp, ["contact_date", "vital_status"], ["vital_status"])
register_section(ProgressionEvent, ["event_date", "progression_type"], ["progression_type"])
register_section(Death, ["death_date", "cause"], ["cause"])


@admin.register(LesionMeasurement)
class LesionMeasurementAdmin(CrfRecordAdmin):
    site_path = "assessment__patient__site"
    autocomplete_fields = []
    list_select_related = ["assessment__patient__site"]
    search_fields = ["assessment__patient__study_id"]
    list_display_extra = ["lesion_number", "diameter_mm"]

    def get_queryset(self, request):
        return super().get_queryset(request)

    @admin.display(description="patient", ordering="assessment__patient__study_id")
    def patient_link(self, obj) -> str:
        return super().patient_link(obj) if obj.assessment_id else EMPTY


@admin.register(AdverseEvent)
class AdverseEventAdmin(CrfRecordAdmin):
    """The CTCAE term is searched, not picked from a <select> of the whole list, and read with
    each listed row (a row's label is its term)."""

    autocomplete_fields = ["patient", "term"]
    list_select_related = [*CrfRecordAdmin.list_select_related, "term"]
    list_display_extra = ["onset_date", "grade", "serious"]
    list_filter = ["grade", "serious"]

"""Every CRF section of the patient page, as inlines with their derived values beside the inputs."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from registry import quality, services
from registry.forms import LabPanelForm, RegistryModelForm
from registry.forms.imaging import ScanForm, ScanFormSet
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

from .base import RegistryInlineMixin, ServiceRefused, reason_from
from .widgets import RowLabelledAutocomplete, unwrapped
from .windows import WindowedInlineMixin

EMPTY = "—"


def missing_text(missing: dict) -> str:
    """'ALBI needs albumin; Child-Pugh needs ascites' from a derived value → inputs mapping."""
    if not missing:
        return ""
    names = {"albi": "ALBI", "child_pugh": "Child-Pugh", "bclc": "BCLC"}
    return "; ".join(
        f"{names.get(key, key.replace('_', ' '))} needs {', '.join(str(v) for v in inputs)}"
        for key, inputs in missing.items()
    )


def albi_text(obj) -> str:
    if obj is None or obj.albi_score is None:
        return EMPTY
    malbi = f" (mALBI {obj.malbi_grade})" if obj.malbi_grade else ""
    return f"{obj.albi_score:.3f} · grade {obj.albi_grade}{malbi}"


def child_pugh_text(obj) -> str:
    if obj is None or obj.child_pugh_score is None:
        return EMPTY
    return f"{obj.child_pugh_score} points · class {obj.child_pugh_class}"


class LabPanelInline(WindowedInlineMixin, RegistryInlineMixin, admin.StackedInline):
    model = LabPanel
    form = LabPanelForm
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "sample_date",
                    ("albumin_g_l", "albumin_unit"),
                    ("total_bilirubin_umol_l", "total_bilirubin_unit"),
                    ("inr", "ascites", "encephalopathy"),
                    ("albi", "child_pugh", "child_pugh_points_text"),
                    "missing",
                ]
            },
        ),
        (
            "Other laboratory values",
            {
                "fields": [
                    ("platelets_10e9_l", "alt_u_l", "ast_u_l"),
                    ("creatinine_umol_l", "creatinine_unit"),
                    ("afp_ng_ml", "pivka_ii_mau_ml", "hbv_dna_iu_ml"),
                ]
            },
        ),
    ]
    readonly_fields = ["albi", "child_pugh", "child_pugh_points_text", "missing"]

    @admin.display(description="ALBI (derived)")
    def albi(self, obj) -> str:
        return albi_text(obj)

    @admin.display(description="Child-Pugh (derived)")
    def child_pugh(self, obj) -> str:
        return child_pugh_text(obj)

    @admin.display(description="Child-Pugh points")
    def child_pugh_points_text(self, obj) -> str:
        points = getattr(obj, "child_pugh_points", None) or {}
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in points.items()) or EMPTY

    @admin.display(description="Missing for the scores")
    def missing(self, obj) -> str:
        return missing_text(getattr(obj, "missing_inputs", None) or {}) or EMPTY


class TumourAssessmentInline(WindowedInlineMixin, RegistryInlineMixin, admin.StackedInline):
    model = TumourAssessment
    max_num = 1
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("imaging_date", "modality"),
                    ("tumour_number", "max_diameter_cm", "distribution", "burden"),
                    "macrovascular_invasion",
                    "extrahepatic_spread",
                    (
                        "ehs_lung",
                        "ehs_bone",
                        "ehs_lymph_node",
                        "ehs_adrenal",
                        "ehs_peritoneum",
                        "ehs_other",
                    ),
                    ("arteriovenous_fistula", "extrahepatic_blood_supply"),
                ]
            },
        )
    ]
    readonly_fields = ["burden"]

    @admin.display(description="burden / up-to-seven (derived)")
    def burden(self, obj) -> str:
        if obj is None or obj.tumour_number is None or obj.max_diameter_cm is None:
            return EMPTY
        total = float(obj.max_diameter_cm) + obj.tumour_number
        within = "within" if total <= 7 else "beyond"
        return f"{obj.tumour_burden}; {within} up-to-seven ({total:g})"


class TreatmentInline(WindowedInlineMixin, RegistryInlineMixin, admin.TabularInline):
    common = ["start_date", "end_date", "intent", "line_number"]


class TaceSessionInline(WindowedInlineMixin, RegistryInlineMixin, admin.StackedInline):
    """Stacked, three short lines per session: its 17 inputs in one table row were three
    screens wide on a 1366-px laptop."""

    model = TaceSession
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("session_number", "technique", *TreatmentInline.common),
                    (
                        "chemo_agent",
                        "chemo_dose_mg",
                        "lipiodol_ml",
                        "gelatin_sponge",
                        "microspheres",
                        "microsphere_size_um",
                    ),
                    ("selectivity", "embolization_endpoint", "technically_adequate", "notes"),
                ]
            },
        )
    ]


class HaicCycleInline(TreatmentInline):
    model = HaicCycle
    classes = ["collapse"]
    fields = [
        "cycle_number",
        "regimen",
        *TreatmentInline.common,
        "fluorouracil_g_m2",
        "platinum_mg_m2",
        "infusion_hours",
        "notes",
    ]


class RadiotherapyCourseInline(TreatmentInline):
    model = RadiotherapyCourse
    classes = ["collapse"]
    fields = [
        "technique",
        *TreatmentInline.common,
        "total_dose_gy",
        "fractions",
        "dose_per_fraction",
        "bed10",
        "notes",
    ]
    readonly_fields = ["dose_per_fraction", "bed10"]

    @admin.display(description="Gy/fraction (derived)")
    def dose_per_fraction(self, obj) -> str:
        value = getattr(obj, "dose_per_fraction_gy", None)
        return EMPTY if value is None else f"{value:g}"

    @admin.display(description="BED10 Gy (derived)")
    def bed10(self, obj) -> str:
        value = getattr(obj, "bed10_gy", None)
        return EMPTY if value is None else f"{value:g}"


class LocalProcedureInline(TreatmentInline):
    model = LocalProcedure
    classes = ["collapse"]
    fields = ["procedure", "technique", *TreatmentInline.common, "notes"]


class SystemicTherapyInline(TreatmentInline):
    model = SystemicTherapy
    fields = [
        "agent",
        "agent_other",
        "drug_class",
        *TreatmentInline.common,
        "dose",
        "dose_unit",
        "dose_check",
        "schedule",
        "stop_reason",
        "notes",
    ]
    readonly_fields = ["dose_check"]

    def get_queryset(self, request):
        # dose_check reads each row's patient (body weight): one join, not a query per row.
        return super().get_queryset(request).select_related("patient")

    @admin.display(description="dose check (derived)")
    def dose_check(self, obj) -> str:
        # The data-quality rule itself (lenvatinib by body weight), on this one regimen.
        if obj is None or obj.patient_id is None:
            return EMPTY
        findings = quality.dosing_findings(obj.patient, [obj])
        return findings[0].message if findings else EMPTY


class ImagingAssessmentInline(WindowedInlineMixin, RegistryInlineMixin, admin.StackedInline):
    """Scans with their target lesions typed in the row (``ScanForm``); a baseline and its
    follow-ups are validated and saved together (``ScanFormSet``, ``save_scans``). Stacked on
    three short lines: as a table row its 16 inputs were 770 px too wide for a laptop."""

    model = ImagingAssessment
    form = ScanForm
    formset = ScanFormSet
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("assessment_date", "is_baseline", "modality", "criteria", "reviewer"),
                    ("target_lesions_mm", "target_lesions", "derived_response", "reader_response"),
                    (
                        "treated_viable_fraction_pct",
                        "new_lesion",
                        "new_lesion_site",
                        "non_target_progression",
                        "new_vascular_invasion",
                        "intrahepatic_lesion_count",
                    ),
                ]
            },
        )
    ]
    readonly_fields = ["target_lesions", "derived_response"]

    @admin.display(description="sum · lesion details")
    def target_lesions(self, obj) -> str:
        if obj is None or obj.pk is None:
            return EMPTY
        url = reverse("admin:registry_imagingassessment_change", args=[obj.pk])
        count = len(obj.measurements.all())
        total = f", sum {round(obj.target_sum_mm, 1):g} mm" if obj.target_sum_mm is not None else ""
        # Organ and location of a lesion (RECIST 1.1 outside the liver) on the scan's own page.
        return format_html(
            '<a href="{}" class="target-lesions-link" title="organ and location of each lesion">'
            "{} lesion{}{} ›</a>",
            url,
            count,
            "" if count == 1 else "s",
            total,
        )

    @admin.display(description="response (derived)")
    def derived_response(self, obj) -> str:
        if obj is None or obj.is_baseline:
            return "baseline" if obj is not None else EMPTY
        if not obj.response:
            return obj.response_reason or EMPTY
        change = (
            f" ({obj.change_from_baseline_pct:+.0f}% vs baseline)"
            if obj.change_from_baseline_pct is not None
            else ""
        )
        disagree = " · reader disagrees" if obj.reader_disagrees else ""
        return f"{obj.response}{change}{disagree}"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("measurements")


GRADES = range(1, 6)  # CTCAE v5.0; a term allows a sub-range (CtcaeTerm.min/max_grade)


class AdverseEventInlineForm(RegistryModelForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        term = AdverseEvent._meta.get_field("term")
        if "term" in self.fields and term.is_cached(self.instance):
            unwrapped(self.fields["term"].widget).selected_object = self.instance.term
        if "grade" in self.fields:
            # A list of grades, narrowed in the page to those the chosen term allows
            # (workspace.js); the model refuses any other grade on every path.
            old = self.fields["grade"]
            self.fields["grade"] = forms.TypedChoiceField(
                label=old.label,
                required=old.required,
                help_text=old.help_text,
                coerce=int,
                empty_value=None,
                choices=[("", "—"), *((g, str(g)) for g in GRADES)],
                widget=forms.Select(attrs={"class": "ae-grade"}),
            )


class AdverseEventInline(WindowedInlineMixin, RegistryInlineMixin, admin.TabularInline):
    """The CTCAE term is an autocomplete: the list has ~800 terms in CTCAE v5.0, and a <select>
    of all of them per row made a long record's page megabytes and seconds to render."""

    model = AdverseEvent
    form = AdverseEventInlineForm
    autocomplete_fields = ["term"]
    fields = [
        "term",
        "other_specify",
        "grade",
        "onset_date",
        "resolution_date",
        "serious",
        "attribution",
        "relatedness",
        "action",
        "outcome",
    ]

    def get_queryset(self, request):
        # The term of each row labels its autocomplete (``AdverseEventInlineForm``).
        return super().get_queryset(request).select_related("term")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "term":
            kwargs["widget"] = RowLabelledAutocomplete(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class FollowUpInline(WindowedInlineMixin, RegistryInlineMixin, admin.TabularInline):
    model = FollowUp
    fields = ["contact_date", "vital_status", "notes"]


class ProgressionEventInline(WindowedInlineMixin, RegistryInlineMixin, admin.TabularInline):
    model = ProgressionEvent
    classes = ["collapse"]
    fields = ["event_date", "progression_type", "notes"]


class DeathInline(WindowedInlineMixin, RegistryInlineMixin, admin.StackedInline):
    model = Death
    max_num = 1
    classes = ["collapse"]
    fields = [("death_date", "cause"), "notes"]


PATIENT_INLINES = [
    LabPanelInline,
    TumourAssessmentInline,
    TaceSessionInline,
    HaicCycleInline,
    RadiotherapyCourseInline,
    LocalProcedureInline,
    SystemicTherapyInline,
    ImagingAssessmentInline,
    AdverseEventInline,
    FollowUpInline,
    ProgressionEventInline,
    DeathInline,
]


class LesionMeasurementInline(RegistryInlineMixin, admin.TabularInline):
    """Target lesions of one imaging assessment (on the assessment's own page)."""

    model = LesionMeasurement
    site_path = "assessment__patient__site"
    fields = ["lesion_number", "organ", "location", "diameter_mm"]


def save_scans(request, form, formset) -> None:
    """Save a patient's scans with the lesions typed in their rows, baselines first.

    Each scan is saved, then its lesions, in date order with a baseline before a follow-up of
    the same day: every save validates again from the database (``crf_record_save``), so a
    follow-up finds the baseline and its lesions written just before it. One refusal anywhere
    rolls the whole page back and shows the error at its row.
    """
    reason = reason_from(form)
    formset.save(commit=False)
    form_of = {id(f.instance): f for f in formset.forms}
    errors: dict[str, ValidationError | PermissionDenied] = {}
    with services.patient_refresh_deferred():
        for scan in formset.deleted_objects:
            try:
                services.crf_record_delete(
                    record=scan, user=request.user, reason=reason or "Deleted in the admin"
                )
            except (ValidationError, PermissionDenied) as error:
                errors[""] = ValidationError(f"{scan} was not deleted: {error}")
        changed = [scan for scan, _ in formset.changed_objects] + list(formset.new_objects)
        changed.sort(key=lambda scan: (scan.assessment_date, not scan.is_baseline))
        for scan in changed:
            scan_form = form_of[id(scan)]
            try:
                services.crf_record_save(record=scan, user=request.user, reason=reason)
                _save_lesions(scan, scan_form.lesions(), request.user, reason)
            except (ValidationError, PermissionDenied) as error:
                errors[scan_form.prefix] = error
    if errors:
        raise ServiceRefused(errors)


def _save_lesions(scan: ImagingAssessment, typed: dict, user, reason: str) -> None:
    stored = {m.lesion_number: m for m in LesionMeasurement.objects.filter(assessment=scan)}
    for number, diameter in typed.items():
        lesion = stored.get(number)
        if diameter is None:
            if lesion is not None:
                services.crf_record_delete(record=lesion, user=user, reason=reason or "Cleared")
        elif lesion is None:
            lesion = LesionMeasurement(assessment=scan, lesion_number=number, diameter_mm=diameter)
            services.crf_record_save(record=lesion, user=user, reason=reason)
        elif lesion.diameter_mm != diameter:
            lesion.diameter_mm = diameter
            services.crf_record_save(record=lesion, user=user, reason=reason)


def format_list(items) -> str:
    return format_html_join("", "<li>{}</li>", ((item,) for item in items))

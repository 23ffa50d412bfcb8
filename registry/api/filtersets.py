"""Filters of the CRF API: by patient (study id), by date range, and by the main codes."""

from __future__ import annotations

import django_filters as filters

from registry.models import (
    AdverseEvent,
    Death,
    FollowUp,
    HaicCycle,
    ImagingAssessment,
    ImportJob,
    LabPanel,
    LesionMeasurement,
    LocalProcedure,
    Patient,
    ProgressionEvent,
    RadiotherapyCourse,
    SystemicTherapy,
    TaceSession,
    TumourAssessment,
)


class PatientFilterSet(filters.FilterSet):
    site = filters.CharFilter(field_name="site__code")
    index_date_after = filters.DateFilter(field_name="index_date", lookup_expr="gte")
    index_date_before = filters.DateFilter(field_name="index_date", lookup_expr="lte")

    class Meta:
        model = Patient
        fields = ("study_id", "status", "sex", "bclc_stage", "child_pugh_class", "albi_grade")


def _record_filterset(model, date_field: str | None, codes: tuple[str, ...] = ()):
    """patient=<study id>, <date>_after / <date>_before, and exact filters on ``codes``."""
    owner = "assessment__patient__study_id" if model is LesionMeasurement else "patient__study_id"
    attrs = {"patient": filters.CharFilter(field_name=owner, help_text="Study id of the patient.")}
    if date_field:
        attrs[f"{date_field}_after"] = filters.DateFilter(field_name=date_field, lookup_expr="gte")
        attrs[f"{date_field}_before"] = filters.DateFilter(field_name=date_field, lookup_expr="lte")
    attrs["Meta"] = type("Meta", (), {"model": model, "fields": codes})
    return type(f"{model.__name__}FilterSet", (filters.FilterSet,), attrs)


LabPanelFilterSet = _record_filterset(LabPanel, "sample_date", ("albi_grade", "child_pugh_class"))
TumourAssessmentFilterSet = _record_filterset(TumourAssessment, "imaging_date")
TaceSessionFilterSet = _record_filterset(TaceSession, "start_date", ("technique", "intent"))
HaicCycleFilterSet = _record_filterset(HaicCycle, "start_date", ("regimen", "intent"))
RadiotherapyCourseFilterSet = _record_filterset(
    RadiotherapyCourse, "start_date", ("technique", "intent")
)
LocalProcedureFilterSet = _record_filterset(LocalProcedure, "start_date", ("procedure", "intent"))
SystemicTherapyFilterSet = _record_filterset(
    SystemicTherapy, "start_date", ("agent", "drug_class", "intent")
)
ImagingAssessmentFilterSet = _record_filterset(
    ImagingAssessment, "assessment_date", ("is_baseline", "response", "criteria")
)
LesionMeasurementFilterSet = _record_filterset(LesionMeasurement, None, ("assessment",))
AdverseEventFilterSet = _record_filterset(AdverseEvent, "onset_date", ("grade", "serious"))
FollowUpFilterSet = _record_filterset(FollowUp, "contact_date", ("vital_status",))
ProgressionEventFilterSet = _record_filterset(ProgressionEvent, "event_date", ("progression_type",))
DeathFilterSet = _record_filterset(Death, "death_date", ("cause",))


class ImportJobFilterSet(filters.FilterSet):
    site = filters.CharFilter(field_name="site__code")

    class Meta:
        model = ImportJob
        fields = ("status", "dry_run")

"""Viewsets of the CRF API (``/api/v1/``).

Scoping is ``registry.access``: a list holds only the sites the user may view, so another
site's record is a 404, never a 403 that would confirm it exists. Writes go through the
serializers to ``registry.services``. Updates need the version the client read (``version`` in
the body or an ``If-Match`` header): a stale one is 409 Conflict with the current version.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from registry import exports, services
from registry.access import Action, site_ids_for
from registry.api import filtersets
from registry.api import serializers as s
from registry.api.errors import Conflict, PreconditionRequired, api_exception_handler
from registry.endpoints import cutoff_in_force, endpoints_of
from registry.imports.services import bundle_uploads, import_jobs_sweep, import_upload
from registry.models import (
    AdverseEvent,
    CtcaeTerm,
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
    Site,
    SystemicTherapy,
    TaceSession,
    TumourAssessment,
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The version you read (alternative to 'version' in the body).",
)


def _scoped(queryset, user, owner: str):
    ids = site_ids_for(user, Action.VIEW)
    return queryset if ids is None else queryset.filter(**{f"{owner}__in": ids})


def expected_version(request) -> int:
    raw = request.data.get("version") if hasattr(request.data, "get") else None
    if raw in (None, ""):
        raw = request.headers.get("If-Match", "").strip().strip('"').removeprefix("W/").strip('"')
    if raw in (None, ""):
        raise PreconditionRequired()
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationError({"version": ["The version must be a whole number."]}) from None


WRITE_CONTRACT = """

Writes run the registry's validation: 400 with messages per field. An update must carry the
version you read (`version` in the body or an `If-Match` header): 409 Conflict with
`current_version` when it is stale, 428 when it is missing. A locked patient record answers
423 Locked until a monitor unlocks it with a reason. Saved records come back with `warnings`:
the open data-quality flags (soft ranges, inconsistencies) of that record."""


class RegistryViewSetMixin:
    def get_exception_handler(self):
        return api_exception_handler


class VersionedViewSet(RegistryViewSetMixin, viewsets.ModelViewSet):
    """Create, read, update (with optimistic concurrency) and delete through the services."""

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["with_warnings"] = self.action in (
            "retrieve",
            "create",
            "update",
            "partial_update",
        )
        return context

    @extend_schema(parameters=[IF_MATCH])
    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            instance = self.get_object()
            stored = type(instance).objects.select_for_update().filter(pk=instance.pk)
            current = stored.values_list("version", flat=True).first()
            expected = expected_version(request)
            if expected != current:
                raise Conflict(
                    f"The record is at version {current}, not {expected}: someone changed it "
                    "since you read it. Read it again and redo your change.",
                    current_version=current,
                )
            return super().update(request, *args, **kwargs)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("reason", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False)
        ]
    )
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.crf_record_delete(
            record=instance,
            user=self.request.user,
            reason=self.request.query_params.get("reason", "")[:100],
        )


def crf_viewset(model, serializer, filterset, owner: str = "patient__site_id"):
    related = ["assessment__patient__site" if model is LesionMeasurement else "patient__site"]
    if model is AdverseEvent:
        related.append("term")  # the serializer names the term by code: one join, not N reads
    attrs = {
        "serializer_class": serializer,
        "filterset_class": filterset,
        "queryset": model.objects.select_related(*related).order_by("pk"),
        "get_queryset": lambda self: _scoped(
            model.objects.select_related(*related).order_by("pk"), self.request.user, owner
        ),
        "__doc__": f"{model._meta.verbose_name_plural.capitalize()} of the patients you may see."
        + WRITE_CONTRACT,
    }
    return type(f"{model.__name__}ViewSet", (VersionedViewSet,), attrs)


LabPanelViewSet = crf_viewset(LabPanel, s.LabPanelSerializer, filtersets.LabPanelFilterSet)
TumourAssessmentViewSet = crf_viewset(
    TumourAssessment, s.TumourAssessmentSerializer, filtersets.TumourAssessmentFilterSet
)
TaceSessionViewSet = crf_viewset(
    TaceSession, s.TaceSessionSerializer, filtersets.TaceSessionFilterSet
)
HaicCycleViewSet = crf_viewset(HaicCycle, s.HaicCycleSerializer, filtersets.HaicCycleFilterSet)
RadiotherapyCourseViewSet = crf_viewset(
    RadiotherapyCourse, s.RadiotherapyCourseSerializer, filtersets.RadiotherapyCourseFilterSet
)
LocalProcedureViewSet = crf_viewset(
    LocalProcedure, s.LocalProcedureSerializer, filtersets.LocalProcedureFilterSet
)
SystemicTherapyViewSet = crf_viewset(
    SystemicTherapy, s.SystemicTherapySerializer, filtersets.SystemicTherapyFilterSet
)
ImagingAssessmentViewSet = crf_viewset(
    ImagingAssessment, s.ImagingAssessmentSerializer, filtersets.ImagingAssessmentFilterSet
)
LesionMeasurementViewSet = crf_viewset(
    LesionMeasurement,
    s.LesionMeasurementSerializer,
    filtersets.LesionMeasurementFilterSet,
    owner="assessment__patient__site_id",
)
AdverseEventViewSet = crf_viewset(
    AdverseEvent, s.AdverseEventSerializer, filtersets.AdverseEventFilterSet
)
FollowUpViewSet = crf_viewset(FollowUp, s.FollowUpSerializer, filtersets.FollowUpFilterSet)
ProgressionEventViewSet = crf_viewset(
    ProgressionEvent, s.ProgressionEventSerializer, filtersets.ProgressionEventFilterSet
)
DeathViewSet = crf_viewset(Death, s.DeathSerializer, filtersets.DeathFilterSet)


class PatientViewSet(VersionedViewSet):
    __doc__ = (
        "Patients, addressed by study id; `site_patient_ref` only for the patient's own site. "
        "Record status moves by the actions mark-complete, verify, lock, unlock (with a "
        "reason) and reopen." + WRITE_CONTRACT
    )

    serializer_class = s.PatientSerializer
    filterset_class = filtersets.PatientFilterSet
    queryset = Patient.objects.select_related("site")
    lookup_field = "study_id"
    cursor_ordering = "study_id"  # unique; pages as the admin list does
    # There is no patient delete service: a registry keeps its study ids.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return _scoped(Patient.objects.select_related("site"), self.request.user, "site_id")

    @extend_schema(responses=s.PatientRecordSerializer)
    @action(detail=True, methods=["get"])
    def record(self, request, study_id=None, format=None):
        """The whole case report form of the patient, nested."""
        patient = self.get_object()
        return Response(
            s.PatientRecordSerializer(patient, context=self.get_serializer_context()).data
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "cutoff",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                required=False,
                description="Data cut-off (default: the latest registered one, else today).",
            )
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def endpoints(self, request, study_id=None, format=None):
        """Best overall response, ORR/DCR, progression, OS and PFS at a data cut-off, and the
        TACE refractoriness statuses: the values the workspace, exports and analyses show."""
        patient = self.get_object()
        raw = request.query_params.get("cutoff")
        if raw:
            try:
                cutoff = dt.date.fromisoformat(raw)
            except ValueError:
                raise ValidationError(
                    {"cutoff": [f"{raw!r} is not a date (YYYY-MM-DD)."]}
                ) from None
        else:
            cutoff = cutoff_in_force()[0]
        return Response(endpoints_of(patient, cutoff))

    def _transition(self, request, service, *, reason_required: bool = False):
        patient = self.get_object()
        payload = s.TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reason = payload.validated_data.get("reason", "")
        patient = service(patient=patient, user=request.user, reason=reason)
        patient.refresh_from_db()
        context = {**self.get_serializer_context(), "with_warnings": True}
        return Response(s.PatientSerializer(patient, context=context).data)

    @extend_schema(request=s.TransitionSerializer, responses=s.PatientSerializer)
    @action(detail=True, methods=["post"], url_path="mark-complete")
    def mark_complete(self, request, study_id=None, format=None):
        return self._transition(request, services.patient_mark_complete)

    @extend_schema(request=s.TransitionSerializer, responses=s.PatientSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, study_id=None, format=None):
        return self._transition(request, services.patient_verify)

    @extend_schema(request=s.TransitionSerializer, responses=s.PatientSerializer)
    @action(detail=True, methods=["post"])
    def lock(self, request, study_id=None, format=None):
        return self._transition(request, services.patient_lock)

    @extend_schema(request=s.TransitionSerializer, responses=s.PatientSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, study_id=None, format=None):
        """Unlock a locked record; needs a reason."""
        return self._transition(request, services.patient_unlock)

    @extend_schema(request=s.TransitionSerializer, responses=s.PatientSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, study_id=None, format=None):
        """Return a complete or verified record to draft; needs a reason."""
        return self._transition(request, services.patient_reopen)


class SiteViewSet(RegistryViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The sites you may see."""

    serializer_class = s.SiteSerializer
    queryset = Site.objects.all()
    filterset_fields = ("code", "country")

    def get_queryset(self):
        ids = site_ids_for(self.request.user, Action.VIEW)
        return Site.objects.all() if ids is None else Site.objects.filter(pk__in=ids)


class CtcaeTermViewSet(RegistryViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The controlled CTCAE v5.0 term list (reference data, the same for every site)."""

    serializer_class = s.CtcaeTermSerializer
    queryset = CtcaeTerm.objects.all()
    lookup_field = "code"
    filterset_fields = ("system_organ_class",)


class ImportJobViewSet(
    RegistryViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Bulk import into one of your sites: upload with ``dry_run`` true to get every error and
    the counts without writing, then again with ``dry_run`` false to commit all or nothing.
    Files above the configured row count run as background jobs: poll the job for progress."""

    serializer_class = s.ImportJobSerializer
    filterset_class = filtersets.ImportJobFilterSet
    parser_classes = [MultiPartParser, FormParser]
    cursor_ordering = "-pk"  # newest first
    queryset = ImportJob.objects.select_related("site")

    def get_queryset(self):
        ids = site_ids_for(self.request.user, Action.IMPORT)
        jobs = ImportJob.objects.select_related("site")
        jobs = jobs if ids is None else jobs.filter(site_id__in=ids)
        if self.action in ("list", "retrieve"):
            # A job whose worker died reads as failed, with or without Celery beat running.
            import_jobs_sweep(jobs=jobs)
        return jobs

    @extend_schema(
        request={"multipart/form-data": s.ImportUploadSerializer},
        responses={201: s.ImportJobSerializer, 202: s.ImportJobSerializer},
    )
    def create(self, request, *args, **kwargs):
        upload = s.ImportUploadSerializer(data=request.data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        files = [(f.name, f.read()) for f in data["file"]]
        filename, content = bundle_uploads(files)
        job = import_upload(
            site=data["site"],
            user=request.user,
            filename=filename,
            data=content,
            dry_run=data["dry_run"],
            section=data.get("section", ""),
        )
        done = job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
        return Response(
            s.ImportJobSerializer(job, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED,
        )


FILE_RESPONSE = {
    (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="File")
}


class ExportViewSet(RegistryViewSetMixin, viewsets.ViewSet):
    """De-identified exports of the patients you may export: never a site patient reference."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def list(self, request, format=None):
        return Response(
            {
                "sections": list(exports.export_sections()),
                "files": {
                    "workbook": request.build_absolute_uri("workbook/"),
                    "csv_zip": request.build_absolute_uri("csv/"),
                    "flat_csv": request.build_absolute_uri("flat/"),
                    "dictionary": request.build_absolute_uri("dictionary/"),
                },
            }
        )

    @extend_schema(responses=FILE_RESPONSE)
    @action(detail=False, methods=["get"])
    def workbook(self, request, format=None):
        """XLSX: one sheet per section, the flat one-row-per-patient sheet and the dictionary."""
        return _download(exports.export_workbook(request.user), "registry-export.xlsx")

    @extend_schema(responses=FILE_RESPONSE)
    @action(detail=False, methods=["get"])
    def csv(self, request, format=None):
        """ZIP of one CSV per section, the flat file and the dictionary."""
        return _download(exports.export_csv_zip(request.user), "registry-export.zip")

    @extend_schema(responses=FILE_RESPONSE)
    @action(detail=False, methods=["get"])
    def flat(self, request, format=None):
        """CSV with one row per patient."""
        return _download(exports.export_flat_csv(request.user), "registry-flat.csv")

    @extend_schema(responses=FILE_RESPONSE)
    @action(detail=False, methods=["get"])
    def dictionary(self, request, format=None):
        """CSV data dictionary of every exported column."""
        return _download(exports.export_dictionary_csv(), "registry-dictionary.csv")

    @extend_schema(responses=FILE_RESPONSE)
    @action(detail=False, methods=["get"], url_path=r"sections/(?P<section>[a-z_]+)")
    def section(self, request, section=None, format=None):
        """CSV of one section."""
        if section not in exports.export_sections():
            raise NotFound(f"No section {section!r}.")
        return _download(exports.export_section_csv(request.user, section), f"{section}.csv")


CONTENT_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip",
    ".csv": "text/csv; charset=utf-8",
}


def _download(data: bytes, filename: str) -> HttpResponse:
    suffix = filename[filename.rfind(".") :]
    response = HttpResponse(data, content_type=CONTENT_TYPES[suffix])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from analytics.api.serializers import (
    AnalysisDefinitionSerializer,
    AnalysisRunSerializer,
    ArmDefinitionSerializer,
    CohortDefinitionSerializer,
    GroupingDefinitionSerializer,
    RunCreateSerializer,
    RunOutputSerializer,
)
from analytics.cohorts import (
    analysis_create_version,
    arm_create_version,
    grouping_create_version,
)
from analytics.definitions import preview, run_definition
from analytics.models import AnalysisDefinition, ArmDefinition, GroupingDefinition, RunOutput
from analytics.services import (
    RunNotAllowed,
    cohorts_visible_to,
    run_create,
    run_rerun,
    runs_visible_to,
    user_can_analyse,
)


class CanAnalyse(permissions.BasePermission):
    message = "Analyses need analysis rights on at least one site."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and user_can_analyse(
            request.user
        )


def _validation_error(exc: ValidationError) -> ApiValidationError:
    return ApiValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class AnalysisRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Analysis runs the user may see: every site of the run's cohort within their rights."""

    serializer_class = AnalysisRunSerializer
    permission_classes = [CanAnalyse]
    cursor_ordering = "-pk"  # newest first (registry.api.pagination)
    filterset_fields = ["status", "template", "cohort"]

    def get_queryset(self):
        return runs_visible_to(self.request.user).select_related("created_by")

    @extend_schema(request=RunCreateSerializer, responses={201: AnalysisRunSerializer})
    def create(self, request, *args, **kwargs):
        choice = RunCreateSerializer(data=request.data)
        choice.is_valid(raise_exception=True)
        data = choice.validated_data
        try:
            run = self._create(request, data, choice)
        except RunNotAllowed as exc:
            raise ApiPermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            raise _validation_error(exc) from exc
        body = AnalysisRunSerializer(run, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def _create(self, request, data, choice):
        if data.get("definition") is not None:
            return run_definition(
                user=request.user,
                definition=data["definition"],
                cohort=data.get("cohort"),
                title=data.get("title", ""),
            )
        if not data.get("template"):
            raise ValidationError({"template": "Choose a report template or a definition."})
        return run_create(
            user=request.user,
            template=data["template"],
            cohort=data["cohort"],
            control_arm=data.get("control_arm"),
            treatment_arm=data.get("treatment_arm"),
            grouping=data.get("grouping"),
            options=choice.options(),
            sections=data.get("sections") or None,
            title=data.get("title", ""),
        )

    @extend_schema(request=None, responses={201: AnalysisRunSerializer})
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None, format=None):
        """Run again with the same parameters: a new run (runs are immutable)."""
        try:
            run = run_rerun(run=self.get_object(), user=request.user)
        except RunNotAllowed as exc:
            raise ApiPermissionDenied(str(exc)) from exc
        except ValidationError as exc:
            raise _validation_error(exc) from exc
        body = AnalysisRunSerializer(run, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses=RunOutputSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="outputs", url_name="outputs")
    def outputs(self, request, pk=None, format=None):
        run = self.get_object()
        serializer = RunOutputSerializer(
            run.outputs.all(), many=True, context=self.get_serializer_context()
        )
        return Response(serializer.data)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"outputs/(?P<output_pk>\d+)/download",
        url_name="output-download",
    )
    def download(self, request, pk=None, output_pk=None, format=None):
        run = self.get_object()
        try:
            output = run.outputs.get(pk=output_pk)
        except RunOutput.DoesNotExist as exc:
            raise Http404("No such file.") from exc
        try:
            handle = output.file.open("rb")
        except FileNotFoundError as missing:  # restored database without its media volume
            raise Http404("The file is missing from the media volume.") from missing
        return FileResponse(handle, as_attachment=True, filename=output.name)


class CohortDefinitionViewSet(viewsets.ReadOnlyModelViewSet):
    """Cohorts the user may start a run on."""

    serializer_class = CohortDefinitionSerializer
    permission_classes = [CanAnalyse]

    def get_queryset(self):
        return cohorts_visible_to(self.request.user)


class ArmDefinitionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Treatment-pattern arms; POST saves the next version of the name."""

    serializer_class = ArmDefinitionSerializer
    permission_classes = [CanAnalyse]
    queryset = ArmDefinition.objects.all()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = arm_create_version(user=self.request.user, **data)
        except ValidationError as exc:
            raise _validation_error(exc) from exc


class AnalysisDefinitionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Saved analysis definitions (Report A and B among them). POST saves the next version
    of the name; run one with POST /runs/ {"definition": id, "cohort": id}."""

    serializer_class = AnalysisDefinitionSerializer
    permission_classes = [CanAnalyse]
    queryset = AnalysisDefinition.objects.select_related("grouping")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = analysis_create_version(user=self.request.user, **data)
        except ValidationError as exc:
            raise _validation_error(exc) from exc


class GroupingDefinitionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Groupings: treatment-pattern arms or groups of a patient variable. POST saves the next
    version of the name; ``preview`` counts each group's patients in a cohort."""

    serializer_class = GroupingDefinitionSerializer
    permission_classes = [CanAnalyse]
    queryset = GroupingDefinition.objects.all()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = grouping_create_version(user=self.request.user, **data)
        except ValidationError as exc:
            raise _validation_error(exc) from exc

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None, format=None):
        """Patients per group in ``?cohort=<id>`` (a cohort the user may analyse)."""
        grouping = self.get_object()
        cohort = cohorts_visible_to(request.user).filter(pk=request.query_params.get("cohort"))
        cohort = cohort.first() if str(request.query_params.get("cohort", "")).isdigit() else None
        if cohort is None:
            raise ApiValidationError({"cohort": "Give ?cohort=<id> of a cohort you may analyse."})
        return Response(preview(request.user, cohort, grouping=grouping))

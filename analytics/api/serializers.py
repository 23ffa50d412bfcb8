from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from analytics.choices import ReportTemplate
from analytics.models import (
    AnalysisDefinition,
    AnalysisRun,
    ArmDefinition,
    CohortDefinition,
    GroupingDefinition,
    RunOutput,
)
from analytics.services import (
    COX_SELECTIONS,
    EXACT_MATCHING_COVARIATES,
    MATCHING_OPTION_FIELDS,
    SECTION_LABELS,
)
from analytics.stats.matching import ORDERS, SMD_DENOMINATORS


class ArmDefinitionSerializer(serializers.ModelSerializer):
    pattern_text = serializers.SerializerMethodField()

    class Meta:
        model = ArmDefinition
        fields = [
            "id",
            "name",
            "version",
            "rule",
            "window_days",
            "pattern",
            "pattern_text",
            "description",
            "created_at",
        ]
        read_only_fields = ["version", "created_at"]
        validators = []  # the service saves the next version of the name

    def get_pattern_text(self, arm: ArmDefinition) -> str:
        return arm.treatment_pattern.text()


class AnalysisDefinitionSerializer(serializers.ModelSerializer):
    """A saved analysis; POSTing one saves it as the next version of its name."""

    class Meta:
        model = AnalysisDefinition
        fields = [
            "id",
            "name",
            "version",
            "description",
            "template",
            "sections",
            "cohort",
            "grouping",
            "endpoints",
            "options",
            "created_at",
        ]
        read_only_fields = ["version", "created_at"]
        validators = []  # the service saves the next version of the name


class GroupingDefinitionSerializer(serializers.ModelSerializer):
    """A grouping; POSTing one saves it as the next version of its name."""

    groups = serializers.SerializerMethodField()

    class Meta:
        model = GroupingDefinition
        fields = [
            "id",
            "name",
            "version",
            "kind",
            "spec",
            "reference",
            "groups",
            "description",
            "created_at",
        ]
        read_only_fields = ["version", "created_at"]
        validators = []  # the service saves the next version of the name

    def get_groups(self, grouping: GroupingDefinition) -> list[str]:
        return grouping.grouping().labels


class CohortDefinitionSerializer(serializers.ModelSerializer):
    sites = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = CohortDefinition
        fields = [
            "id",
            "name",
            "version",
            "description",
            "sites",
            "index_date_from",
            "index_date_to",
            "bclc_stages",
            "bclc_source",
            "child_pugh_classes",
            "refractoriness_rule_set",
            "require_refractory",
            "exclude_ineligible",
            "cutoff_date",
            "created_at",
        ]


class RunOutputSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = RunOutput
        fields = ["id", "kind", "name", "size_bytes", "sha256", "download_url"]

    def get_download_url(self, output: RunOutput) -> str:
        url = reverse("analytics-api:run-output-download", args=[output.run_id, output.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class AnalysisRunSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.get_username", read_only=True)
    outputs_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisRun
        fields = [
            "id",
            "title",
            "template",
            "sections",
            "cohort",
            "control_arm",
            "treatment_arm",
            "definition",
            "grouping",
            "parameters",
            "status",
            "progress_pct",
            "progress_message",
            "error",
            "warnings",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "dataset_sha256",
            "provenance",
            "outputs_url",
            "page_url",
        ]
        read_only_fields = fields

    def get_outputs_url(self, run: AnalysisRun) -> str:
        url = reverse("analytics-api:run-outputs", args=[run.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_page_url(self, run: AnalysisRun) -> str:
        url = reverse("analytics:run_detail", args=[run.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class RunCreateSerializer(serializers.Serializer):
    """What a client chooses; ``run_create`` decides whether it is allowed and valid."""

    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    definition = serializers.PrimaryKeyRelatedField(
        queryset=AnalysisDefinition.objects.all(),
        required=False,
        allow_null=True,
        help_text="Run one version of a saved analysis definition (then give only a cohort "
        "if the definition leaves it open, and a title).",
    )
    template = serializers.ChoiceField(choices=ReportTemplate.choices, required=False)
    sections = serializers.ListField(
        child=serializers.ChoiceField(choices=list(SECTION_LABELS)), required=False
    )
    cohort = serializers.PrimaryKeyRelatedField(queryset=CohortDefinition.objects.all())
    control_arm = serializers.PrimaryKeyRelatedField(
        queryset=ArmDefinition.objects.all(), required=False, allow_null=True
    )
    treatment_arm = serializers.PrimaryKeyRelatedField(
        queryset=ArmDefinition.objects.all(), required=False, allow_null=True
    )
    grouping = serializers.PrimaryKeyRelatedField(
        queryset=GroupingDefinition.objects.all(),
        required=False,
        allow_null=True,
        help_text="Compare the groups of this grouping definition instead of two arms.",
    )
    # A registry name (e.g. "age", "male") or a spec from the variable dictionary, e.g.
    # {"variable": "ecog_ps", "coding": "categorical", "reference": "0"}: run_create checks.
    covariates = serializers.ListField(child=serializers.JSONField(), required=False)
    landmark_months = serializers.FloatField(required=False, allow_null=True)
    cox_include_grouping = serializers.BooleanField(required=False)
    subgroup_variables = serializers.ListField(child=serializers.CharField(), required=False)
    caliper_sd = serializers.FloatField(required=False)
    resistance_cycles = serializers.IntegerField(required=False)
    # Matching options (R MatchIt's): validated by run_create through MatchingOptions.
    matching_order = serializers.ChoiceField(choices=list(ORDERS), required=False)
    matching_ratio = serializers.IntegerField(required=False)
    matching_replace = serializers.BooleanField(required=False)
    matching_exact = serializers.ListField(
        child=serializers.ChoiceField(choices=EXACT_MATCHING_COVARIATES), required=False
    )
    matching_seed = serializers.IntegerField(required=False, allow_null=True)
    smd_denominator = serializers.ChoiceField(choices=list(SMD_DENOMINATORS), required=False)
    cox_selection = serializers.ChoiceField(choices=list(COX_SELECTIONS.items()), required=False)
    cox_p_threshold = serializers.FloatField(required=False)

    def options(self) -> dict:
        return {
            key: self.validated_data[key]
            for key in (
                "covariates",
                "resistance_cycles",
                "cox_selection",
                "cox_p_threshold",
                "landmark_months",
                "subgroup_variables",
                "cox_include_grouping",
                *MATCHING_OPTION_FIELDS,
            )
            if key in self.validated_data
        }

"""Serializers of the CRF API.

They translate JSON to model instances and back, and nothing more: every write is handed to
``registry.services`` (which runs ``full_clean()``, the permission check, the audit attribution
and the derivations), so the API and the web screens share one set of rules.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry import choices as c
from registry import services
from registry.access import Action, hidden_fields, patients_for, sites_for
from registry.api.errors import translate
from registry.models import (
    AdverseEvent,
    CtcaeTerm,
    DataQualityFlag,
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
from registry.rules import UNIT_FACTORS, to_canonical, unit_field_name

SYSTEM_FIELDS = ("id", "version", "created_at", "updated_at")


def _service(call):
    try:
        return call()
    except DjangoValidationError as error:
        raise translate(error) from error


def _user(serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()


class WarningsMixin(serializers.Serializer):
    """Open data-quality flags of the record, in single-record responses (null in lists)."""

    warnings = serializers.SerializerMethodField()
    flag_record_type = ""

    @extend_schema_field(WarningSerializer(many=True, allow_null=True))
    def get_warnings(self, instance) -> list[dict] | None:
        if not self.context.get("with_warnings") or instance.pk is None:
            return None
        patient_id = instance.pk if isinstance(instance, Patient) else instance.owner_patient().pk
        flags = DataQualityFlag.objects.filter(
            patient_id=patient_id,
            record_type=instance._meta.model_name,
            record_id=instance.pk,
        ).exclude(status=c.FlagStatus.RESOLVED)
        return [
            {"code": f.code, "field": f.field, "severity": f.severity, "message": f.message}
            for f in flags
        ]


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ("id", "code", "name", "country")


class CtcaeTermSerializer(serializers.ModelSerializer):
    class Meta:
        model = CtcaeTerm
        fields = (
            "code",
            "term",
            "system_organ_class",
            "min_grade",
            "max_grade",
            "is_other_specify",
        )


class VersionedSerializer(WarningsMixin, serializers.ModelSerializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="On update: the version you read (or send it as If-Match); a stale version "
        "gets 409 Conflict.",
    )
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Why the change was made; kept in the audit trail.",
    )

    # --- identifying and free-text fields: the patient's own site only ----------------------
    def _site_id(self, instance) -> int | None:
        if isinstance(instance, Patient):
            return instance.site_id
        patient = instance.owner_patient()
        return patient.site_id if patient is not None else None

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in hidden_fields(_user(self), self.Meta.model, self._site_id(instance)):
            data.pop(name, None)
        return data

    def refuse_hidden_writes(self, validated_data: dict, site_id: int | None) -> None:
        """A user who may not read a field may not change it either (a blind edit); a new record
        carries what its author typed, so creating is not refused."""
        hidden = hidden_fields(_user(self), self.Meta.model, site_id)
        refused = sorted(name for name in validated_data if name in hidden)
        if refused:
            raise serializers.ValidationError(
                dict.fromkeys(refused, "Only the patient's own site may read or write this field.")
            )


class CrfRecordSerializer(VersionedSerializer):
    """A CRF row owned by a patient, who is named by study id."""

    patient = serializers.SlugRelatedField(slug_field="study_id", queryset=Patient.objects.none())

    def get_fields(self):
        fields = super().get_fields()
        if "patient" in fields:
            if self.instance is not None and not isinstance(self.instance, list | tuple):
                fields["patient"].read_only = True
            fields["patient"].queryset = patients_for(_user(self), Action.VIEW)
        return fields

    def create(self, validated_data):
        validated_data.pop("version", None)
        reason = validated_data.pop("reason", "")
        record = self.Meta.model(**validated_data)
        return _service(
            lambda: services.crf_record_save(record=record, user=_user(self), reason=reason)
        )

    def update(self, instance, validated_data):
        validated_data.pop("version", None)
        reason = validated_data.pop("reason", "")
        self.refuse_hidden_writes(validated_data, self._site_id(instance))
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return _service(
            lambda: services.crf_record_save(record=instance, user=_user(self), reason=reason)
        )


def crf_serializer(model, *, extra: dict | None = None, base=None):
    """A declarative serializer for one CRF model: every field, derived ones read-only."""
    read_only = tuple(
        f.name for f in model._meta.concrete_fields if not f.editable and f.name not in ("version",)
    )
    meta = type("Meta", (), {"model": model, "fields": "__all__", "read_only_fields": read_only})
    attrs = {"Meta": meta, **(extra or {})}
    return type(f"{model.__name__}Serializer", (base or CrfRecordSerializer,), attrs)


def _entered_in_a_unit() -> dict:
    """A lab value that may be sent in another unit, with its ``<name>_unit`` (CRF.md §2).

    The number may have more places than are stored: ``registry.rules.to_canonical`` converts
    it and rounds it once, as the web form and the import do.
    """
    fields: dict = {}
    for name, factors in UNIT_FACTORS.items():
        model_field = LabPanel._meta.get_field(name)
        fields[name] = serializers.DecimalField(
            max_digits=None,
            decimal_places=None,
            required=False,
            allow_null=True,
            help_text=f"{model_field.verbose_name}, in the unit given by "
            f"{unit_field_name(name)}; stored in {next(iter(factors))} with "
            f"{model_field.decimal_places} decimal place(s).",
        )
        fields[unit_field_name(name)] = serializers.CharField(
            write_only=True,
            required=False,
            allow_blank=True,
            help_text=f"One of {', '.join(factors)}; empty means {next(iter(factors))}.",
        )
    return fields


class _LabValuesInUnits(CrfRecordSerializer):
    def validate(self, attrs):
        attrs = super().validate(attrs)
        for name in UNIT_FACTORS:
            unit = attrs.pop(unit_field_name(name), None)
            if attrs.get(name) is None:
                continue
            try:
                attrs[name] = to_canonical(name, attrs[name], unit)
            except DjangoValidationError as error:
                raise serializers.ValidationError(
                    {unit_field_name(name): error.message_dict[name]}
                ) from error
        return attrs


LabPanelSerializer = crf_serializer(LabPanel, extra=_entered_in_a_unit(), base=_LabValuesInUnits)
TumourAssessmentSerializer = crf_serializer(TumourAssessment)
TaceSessionSerializer = crf_serializer(TaceSession)
HaicCycleSerializer = crf_serializer(HaicCycle)
RadiotherapyCourseSerializer = crf_serializer(RadiotherapyCourse)
LocalProcedureSerializer = crf_serializer(LocalProcedure)
SystemicTherapySerializer = crf_serializer(SystemicTherapy)
ImagingAssessmentSerializer = crf_serializer(ImagingAssessment)
AdverseEventSerializer = crf_serializer(
    AdverseEvent,
    extra={
        "term": serializers.SlugRelatedField(slug_field="code", queryset=CtcaeTerm.objects.all())
    },
)
FollowUpSerializer = crf_serializer(FollowUp)
ProgressionEventSerializer = crf_serializer(ProgressionEvent)
DeathSerializer = crf_serializer(Death)


class LesionMeasurementSerializer(VersionedSerializer):
    assessment = serializers.PrimaryKeyRelatedField(queryset=ImagingAssessment.objects.none())

    class Meta:
        model = LesionMeasurement
        fields = "__all__"

    def get_fields(self):
        fields = super().get_fields()
        patients = patients_for(_user(self), Action.VIEW)
        fields["assessment"].queryset = ImagingAssessment.objects.filter(patient__in=patients)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["assessment"].read_only = True
        return fields

    create = CrfRecordSerializer.create
    update = CrfRecordSerializer.update


class PatientSerializer(VersionedSerializer):
    """A patient, addressed by study id. ``site_patient_ref`` is shown to the patient's own
    site only (``registry.access.can_see_identifiers``)."""

    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.none())

    class Meta:
        model = Patient
        fields = "__all__"
        read_only_fields = tuple(
            f.name for f in Patient._meta.concrete_fields if not f.editable and f.name != "version"
        )
        validators = []  # the unique (site, reference) rule is the model's: full_clean checks it

    def get_fields(self):
        fields = super().get_fields()
        fields["site"].queryset = sites_for(_user(self), Action.ADD)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["site"].read_only = True
        fields["id"].help_text = "Registry id (not identifying)."
        return fields

    def create(self, validated_data):
        validated_data.pop("version", None)
        reason = validated_data.pop("reason", "")
        site = validated_data.pop("site")
        return _service(
            lambda: services.patient_enrol(
                site=site, user=_user(self), reason=reason, **validated_data
            )
        )

    def update(self, instance, validated_data):
        validated_data.pop("version", None)
        reason = validated_data.pop("reason", "")
        self.refuse_hidden_writes(validated_data, instance.site_id)
        return _service(
            lambda: services.patient_update(
                patient=instance, user=_user(self), reason=reason, **validated_data
            )
        )


class TransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=100)


class PatientRecordSerializer(serializers.Serializer):
    """The whole case report form of one patient, nested."""

    patient = serializers.SerializerMethodField()
    lab_panels = LabPanelSerializer(many=True, read_only=True)
    tumour_assessment = serializers.SerializerMethodField()
    tace_sessions = TaceSessionSerializer(many=True, read_only=True)
    haic_cycles = HaicCycleSerializer(many=True, read_only=True)
    radiotherapy_courses = RadiotherapyCourseSerializer(many=True, read_only=True)
    local_procedures = LocalProcedureSerializer(many=True, read_only=True)
    systemic_therapies = SystemicTherapySerializer(many=True, read_only=True)
    imaging_assessments = serializers.SerializerMethodField()
    adverse_events = AdverseEventSerializer(many=True, read_only=True)
    follow_ups = FollowUpSerializer(many=True, read_only=True)
    progression_events = ProgressionEventSerializer(many=True, read_only=True)
    death = serializers.SerializerMethodField()
    quality_flags = serializers.SerializerMethodField()

    @extend_schema_field(PatientSerializer)
    def get_patient(self, patient):
        return PatientSerializer(patient, context=self.context).data

    @extend_schema_field(TumourAssessmentSerializer(allow_null=True))
    def get_tumour_assessment(self, patient):
        tumour = TumourAssessment.objects.filter(patient=patient).first()
        return TumourAssessmentSerializer(tumour, context=self.context).data if tumour else None

    @extend_schema_field(DeathSerializer(allow_null=True))
    def get_death(self, patient):
        death = Death.objects.filter(patient=patient).first()
        return DeathSerializer(death, context=self.context).data if death else None

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_imaging_assessments(self, patient):
        result = []
        for scan in patient.imaging_assessments.prefetch_related("measurements"):
            data = ImagingAssessmentSerializer(scan, context=self.context).data
            data["measurements"] = LesionMeasurementSerializer(
                scan.measurements.all(), many=True, context=self.context
            ).data
            result.append(data)
        return result

    @extend_schema_field(WarningSerializer(many=True))
    def get_quality_flags(self, patient):
        flags = patient.quality_flags.exclude(status=c.FlagStatus.RESOLVED)
        return [
            {"code": f.code, "field": f.field, "severity": f.severity, "message": f.message}
            for f in flags
        ]


class ImportJobSerializer(serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    progress_pct = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = (
            "id",
            "site",
            "created_at",
            "finished_at",
            "dry_run",
            "original_filename",
            "section",
            "status",
            "progress_pct",
            "counts",
            "errors",
            "error_message",
        )
        read_only_fields = fields

    def get_progress_pct(self, job) -> int:
        from registry.imports.services import job_progress

        return job_progress(job)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_errors(self, job) -> list[dict]:
        """Sheet, row, column, value and reason of each error."""
        from registry.imports.services import visible_errors

        return visible_errors(job, _user(self))


class ImportUploadSerializer(serializers.Serializer):
    site = serializers.SlugRelatedField(slug_field="code", queryset=Site.objects.none())
    file = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        help_text="One workbook (a sheet per section), one CSV per section, or a ZIP of CSVs.",
    )
    section = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Section of a single CSV file whose name does not say it.",
    )
    dry_run = serializers.BooleanField(default=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["site"].queryset = sites_for(_user(self), Action.IMPORT)
        return fields

    def validate_file(self, files):
        from registry.imports.services import upload_refusal

        refused = upload_refusal(files)
        if refused:
            raise serializers.ValidationError(refused)
        return files

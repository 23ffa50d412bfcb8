"""The CRF sections of an import file and their columns, generated from the models.

Columns are the models' editable fields (so a new field appears in templates, the dictionary and
the importer without anything typed twice). Three exceptions are written down here because the
file format differs from the stored form:

- rows name their patient by the site's own ``site_patient_ref`` (never the registry's id), so a
  re-import of the same file finds the same rows;
- lab values with a unit choice (bilirubin, albumin, creatinine) come as ``<name>`` plus
  ``<name>_unit`` and are converted with ``registry.rules.to_canonical``;
- an adverse event names its CTCAE term by code (``ctcae_term``); a lesion names its imaging
  assessment by ``assessment_date`` and ``is_baseline``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.db import models

from registry.models import (
    AdverseEvent,
    Death,
    FollowUp,
    HaicCycle,
    ImagingAssessment,
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
from registry.rules import RANGES, UNIT_FACTORS, UNIT_NAMES, HardRange

PATIENT_REF = "site_patient_ref"
# Never columns of a file: the owner is named by reference, the rest is the registry's own.
SKIPPED_FIELDS = {"id", "patient", "assessment", "site", "version", "created_at", "updated_at"}
# Lab fields entered with a unit: column name → canonical model field.
UNIT_COLUMNS = {name: field for field, name in UNIT_NAMES.items()}


@dataclass(frozen=True)
class Column:
    name: str
    field: str  # model attribute the value lands in ("" for a helper column)
    kind: str  # date, integer, decimal, boolean, text, choice, ctcae_term, unit
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    unit: str = ""
    hard: tuple[float, float] | None = None
    soft: tuple[float, float] | None = None
    help: str = ""
    nullable: bool = True
    decimal_places: int | None = None


@dataclass(frozen=True)
class Section:
    name: str
    model: type[models.Model]
    title: str
    # Columns that, with the patient reference, identify a row for the upsert.
    key: tuple[str, ...] = ()
    columns: tuple[Column, ...] = field(default=(), compare=False)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def column_for_field(self, field_name: str) -> str:
        """The file column a model field's validation error belongs to."""
        for column in self.columns:
            if column.field == field_name:
                return column.name
        return "" if field_name == "__all__" else field_name


def _kind(model_field: models.Field) -> str:
    if model_field.choices:
        return "choice"
    if isinstance(model_field, models.DateField):
        return "date"
    if isinstance(model_field, models.BooleanField):
        return "boolean"
    if isinstance(model_field, models.DecimalField | models.FloatField):
        return "decimal"
    if isinstance(model_field, models.IntegerField):
        return "integer"
    return "text"


def _range(model_field: models.Field):
    for validator in model_field.validators:
        if isinstance(validator, HardRange):
            return RANGES[validator.key]
    return None


def column_from_field(model_field: models.Field, *, name: str | None = None) -> Column:
    spec = _range(model_field)
    kind = _kind(model_field)
    nullable = model_field.null or kind == "text" or kind == "choice"
    required = not model_field.blank and not model_field.has_default()
    return Column(
        name=name or model_field.name,
        field=model_field.attname,
        kind=kind,
        required=required,
        choices=tuple((str(code), str(label)) for code, label in (model_field.choices or ())),
        unit=spec.unit if spec else "",
        hard=spec.hard if spec else None,
        soft=spec.soft if spec else None,
        help=str(model_field.help_text or model_field.verbose_name),
        nullable=nullable,
        decimal_places=getattr(model_field, "decimal_places", None),
    )


def _ref_column(help_text: str) -> Column:
    return Column(PATIENT_REF, "", "text", required=True, nullable=False, help=help_text)


def _model_columns(model: type[models.Model]) -> list[Column]:
    columns = []
    unit_fields = {value: key for key, value in UNIT_COLUMNS.items()}
    for model_field in model._meta.concrete_fields:
        if not model_field.editable or model_field.name in SKIPPED_FIELDS:
            continue
        if model_field.name == PATIENT_REF:
            continue
        if model_field.name in unit_fields:
            base = column_from_field(model_field, name=unit_fields[model_field.name])
            units = tuple((unit, unit) for unit in UNIT_FACTORS[model_field.name])
            columns.append(base)
            columns.append(
                Column(
                    f"{base.name}_unit",
                    "",
                    "unit",
                    choices=units,
                    help=_unit_help(base.name, model_field),
                )
            )
            continue
        if model_field.name == "term":
            columns.append(
                Column(
                    "ctcae_term",
                    "term_id",
                    "ctcae_term",
                    required=True,
                    nullable=False,
                    help="CTCAE v5.0 term code (see the CTCAE sheet of the template).",
                )
            )
            continue
        columns.append(column_from_field(model_field))
    return columns


def _unit_help(name: str, model_field: models.Field) -> str:
    factors = UNIT_FACTORS[model_field.name]
    canonical = next(iter(factors))
    others = ", ".join(f"{unit} ×{factor}" for unit, factor in factors.items() if unit != canonical)
    return (
        f"Unit of {name}; empty means {canonical}. Stored in {canonical}: another unit "
        f"({others}) is converted at full precision and rounded once to "
        f"{model_field.decimal_places} decimal place(s)."
    )


def _section(name, model, title, key=(), *, extra_first=()) -> Section:
    ref_help = "Your hospital's own patient reference (identifying: never leaves your site)."
    columns = [_ref_column(ref_help), *extra_first, *_model_columns(model)]
    return Section(name=name, model=model, title=title, key=key, columns=tuple(columns))


@cache
def sections() -> dict[str, Section]:
    """Every section in the order an import writes them (a row's dependencies come first)."""
    lesion_assessment = (
        Column(
            "assessment_date",
            "",
            "date",
            required=True,
            nullable=False,
            help="Date of the imaging assessment the lesion was measured on.",
        ),
        Column(
            "is_baseline",
            "",
            "boolean",
            help="yes when the assessment is the baseline scan (as in the imaging sheet).",
        ),
    )
    patient_columns = [
        _ref_column("Your hospital's own patient reference; rows of every sheet refer to it."),
        *_model_columns(Patient),
    ]
    listed = [
        Section("patients", Patient, "Patients (enrolment)", (), tuple(patient_columns)),
        _section("labs", LabPanel, "Laboratory panels", ("sample_date",)),
        _section("tumour", TumourAssessment, "Baseline tumour assessment"),
        _section("tace", TaceSession, "TACE sessions", ("start_date",)),
        _section("haic", HaicCycle, "HAIC cycles", ("start_date",)),
        _section("radiotherapy", RadiotherapyCourse, "Radiotherapy courses", ("start_date",)),
        _section(
            "local_procedures",
            LocalProcedure,
            "Ablation / resection / TARE",
            ("start_date", "procedure"),
        ),
        _section("systemic", SystemicTherapy, "Systemic therapy", ("start_date", "agent")),
        _section(
            "imaging", ImagingAssessment, "Imaging assessments", ("assessment_date", "is_baseline")
        ),
        _section(
            "lesions",
            LesionMeasurement,
            "Target lesion measurements",
            ("assessment_date", "is_baseline", "lesion_number"),
            extra_first=lesion_assessment,
        ),
        _section("adverse_events", AdverseEvent, "Adverse events", ("ctcae_term", "onset_date")),
        _section("follow_up", FollowUp, "Follow-up contacts", ("contact_date",)),
        _section(
            "progression",
            ProgressionEvent,
            "Progression events",
            ("event_date", "progression_type"),
        ),
        _section("death", Death, "Death"),
    ]
    return {section.name: section for section in listed}


def section_for_name(name: str) -> Section | None:
    """The section a sheet or file is named after ('Labs', 'site1_labs.csv', 'follow-up')."""
    normalised = name.rsplit("/", 1)[-1].lower().replace("-", "_").replace(" ", "_")
    for suffix in (".csv", ".xlsx"):
        normalised = normalised.removesuffix(suffix)
    known = sections()
    if normalised in known:
        return known[normalised]
    # A file named e.g. "nt_2024_follow_up.csv": the longest section name it ends with.
    matches = [s for s in known if normalised.endswith(s)]
    return known[max(matches, key=len)] if matches else None

"""De-identified exports of what a user may export (``Action.EXPORT``).

Patients are named by the registry's study id only. Identifying and free-text fields, as
``registry.disclosure`` declares them on each model (the site reference, notes, other
comorbidities, other agent, schedule, technique, microsphere size, AE other-specify, lesion
location, override reasons), are never columns, because a hospital's free text may carry names
or local numbers. Columns come from the models (inputs and derived values), so the dictionary
is generated, not typed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal

from django.db import models

from registry.access import Action, patients_for
from registry.disclosure import site_only_fields
from registry.endpoints import cutoff_in_force, endpoint_values, patient_endpoints
from registry.imports.sections import Column, column_from_field, sections
from registry.imports.workbook import DICTIONARY_HEADER, csv_bytes, xlsx_bytes, zip_bytes
from registry.models import LesionMeasurement, Patient

SKIPPED = {"id", "patient", "assessment", "site", "created_at", "updated_at", "version"}


def export_sections() -> list[str]:
    return list(sections())


def _fields(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if f.name not in SKIPPED and f.name not in site_only_fields(model)
    ]


def _lookup(model, field: models.Field) -> tuple[str, str]:
    """(column name, ORM lookup) of one exported field."""
    if field.name == "term":
        return "ctcae_term", "term__code"
    if field.is_relation:
        return field.attname, field.attname
    return field.name, field.name


def _owner_columns(model) -> list[tuple[str, str]]:
    if model is LesionMeasurement:
        return [
            ("study_id", "assessment__patient__study_id"),
            ("site", "assessment__patient__site__code"),
            ("assessment_id", "assessment_id"),
            ("assessment_date", "assessment__assessment_date"),
            ("is_baseline", "assessment__is_baseline"),
        ]
    if model is Patient:
        return [("study_id", "study_id"), ("site", "site__code")]
    return [("study_id", "patient__study_id"), ("site", "patient__site__code")]


def section_table(user, name: str) -> tuple[list[str], list[list]]:
    model = sections()[name].model
    columns = [*_owner_columns(model), ("record_id", "id")]
    columns += [_lookup(model, f) for f in _fields(model)]
    patients = patients_for(user, Action.EXPORT)
    if model is Patient:
        queryset = patients
    elif model is LesionMeasurement:
        queryset = model.objects.filter(assessment__patient__in=patients)
    else:
        queryset = model.objects.filter(patient__in=patients)
    rows = queryset.order_by(columns[0][1], "pk").values_list(*(lookup for _, lookup in columns))
    return [header for header, _ in columns], [[_value(v) for v in row] for row in rows]


def _value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --- flat file -----------------------------------------------------------------------------

FLAT_PATIENT = [
    "study_id",
    "site",
    "status",
    "sex",
    "birth_year",
    "age_at_index",
    "body_weight_kg",
    "etiology_hbv",
    "etiology_hcv",
    "etiology_alcohol",
    "etiology_masld",
    "etiology_other",
    "etiology_unknown",
    "chronic_hepatitis_history",
    "antiviral_therapy",
    "cirrhosis",
    "diabetes",
    "hypertension",
    "diagnosis_date",
    "diagnosis_basis",
    "histology_subtype",
    "index_date",
    "ecog_ps",
    "albi_score",
    "albi_grade",
    "malbi_grade",
    "child_pugh_score",
    "child_pugh_class",
    "bclc_stage_derived",
    "bclc_stage_override",
    "bclc_stage",
    "up_to_seven_within",
    "best_overall_response",
    "objective_response",
    "disease_control",
    "first_progression_date",
    "eligibility_flags",
    "completeness_pct",
]
FLAT_LAB = [
    "sample_date",
    "albumin_g_l",
    "total_bilirubin_umol_l",
    "inr",
    "platelets_10e9_l",
    "alt_u_l",
    "ast_u_l",
    "creatinine_umol_l",
    "afp_ng_ml",
    "ascites",
    "encephalopathy",
]
FLAT_TUMOUR = [
    "imaging_date",
    "tumour_number",
    "max_diameter_cm",
    "distribution",
    "macrovascular_invasion",
    "extrahepatic_spread",
    "arteriovenous_fistula",
    "extrahepatic_blood_supply",
]
FLAT_SUMMARY = [
    "tace_sessions",
    "first_tace_date",
    "haic_cycles",
    "radiotherapy_courses",
    "local_procedures",
    "systemic_agents",
    "first_systemic_date",
    "adverse_events",
    "max_ae_grade",
    "last_contact_date",
    "last_vital_status",
    "death_date",
    "death_cause",
    "refractory_jsh_lcsgj_2014",
    "refractory_seed002_operational",
    "refractory_progression_after_n_cycles",
]
# Endpoints at the cut-off in force (registry.endpoints: the function every path uses).
FLAT_ENDPOINTS = {
    "endpoints_cutoff_date": "cutoff_date",
    "best_response_at_cutoff": "best_response",
    "objective_response_at_cutoff": "objective_response",
    "disease_control_at_cutoff": "disease_control",
    "progression_date_at_cutoff": "progression_date",
    "os_months": "os_months",
    "os_event": "os_event",
    "pfs_months": "pfs_months",
    "pfs_event": "pfs_event",
    # Seed 000's TACE resistance after 3 cycles, judged on what is dated by the cut-off (the
    # stored refractory_progression_after_n_cycles above uses all data).
    "tace_resistance_3_cycles_at_cutoff": "refractory_progression_after_n_cycles",
}


def flat_header() -> list[str]:
    return (
        FLAT_PATIENT
        + [f"baseline_lab_{n}" for n in FLAT_LAB]
        + [f"tumour_{n}" for n in FLAT_TUMOUR]
        + FLAT_SUMMARY
        + list(FLAT_ENDPOINTS)
    )


def flat_table(user) -> tuple[list[str], list[list]]:
    """One row per patient: enrolment, derived scores, baseline labs and tumour, a treatment
    and outcome summary."""
    exported = patients_for(user, Action.EXPORT)
    patients = list(
        exported.select_related("site", "baseline_lab", "tumour_assessment", "death").order_by(
            "study_id"
        )
    )
    endpoints = patient_endpoints(exported, cutoff_in_force()[0])
    ids = [p.pk for p in patients]
    summary: dict[int, dict] = defaultdict(dict)
    _summarise(summary, ids)
    rows = []
    for patient in patients:
        values = {name: getattr(patient, name) for name in FLAT_PATIENT if name not in ("site",)}
        values["site"] = patient.site.code
        row = [_value(values[name]) for name in FLAT_PATIENT]
        lab = patient.baseline_lab
        row += [_value(getattr(lab, n)) if lab else None for n in FLAT_LAB]
        tumour = getattr(patient, "tumour_assessment", None)
        row += [_value(getattr(tumour, n)) if tumour else None for n in FLAT_TUMOUR]
        facts = summary[patient.pk]
        death = getattr(patient, "death", None)
        facts["death_date"] = death.death_date if death else None
        facts["death_cause"] = death.cause if death else None
        for rule_set in ("jsh_lcsgj_2014", "seed002_operational", "progression_after_n_cycles"):
            result = (patient.tace_refractoriness or {}).get(rule_set) or {}
            facts[f"refractory_{rule_set}"] = result.get("status")
        row += [_value(facts.get(name)) for name in FLAT_SUMMARY]
        values = endpoint_values(endpoints.loc[patient.pk])
        row += [_value(values[name]) for name in FLAT_ENDPOINTS.values()]
        rows.append(row)
    return flat_header(), rows


def _summarise(summary: dict[int, dict], ids: list[int]) -> None:
    from django.db.models import Count, Max, Min

    from registry.models import (
        AdverseEvent,
        FollowUp,
        HaicCycle,
        LocalProcedure,
        RadiotherapyCourse,
        SystemicTherapy,
        TaceSession,
    )

    def per_patient(model, **aggregates):
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = (
                model.objects.filter(patient_id__in=chunk)
                .values("patient_id")
                .annotate(**aggregates)
            )
            for row in rows:
                summary[row.pop("patient_id")].update(row)

    per_patient(TaceSession, tace_sessions=Count("id"), first_tace_date=Min("start_date"))
    per_patient(HaicCycle, haic_cycles=Count("id"))
    per_patient(RadiotherapyCourse, radiotherapy_courses=Count("id"))
    per_patient(LocalProcedure, local_procedures=Count("id"))
    per_patient(SystemicTherapy, first_systemic_date=Min("start_date"))
    per_patient(AdverseEvent, adverse_events=Count("id"), max_ae_grade=Max("grade"))
    per_patient(FollowUp, last_contact_date=Max("contact_date"))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        agents = SystemicTherapy.objects.filter(patient_id__in=chunk).order_by("start_date")
        for patient_id, agent in agents.values_list("patient_id", "agent"):
            listed = summary[patient_id].setdefault("systemic_agents", "")
            if agent not in listed.split("+"):
                summary[patient_id]["systemic_agents"] = f"{listed}+{agent}" if listed else agent
        contacts = FollowUp.objects.filter(patient_id__in=chunk).order_by("contact_date")
        for patient_id, vital in contacts.values_list("patient_id", "vital_status"):
            summary[patient_id]["last_vital_status"] = vital
    for facts in summary.values():
        for name in ("tace_sessions", "haic_cycles", "radiotherapy_courses", "local_procedures"):
            facts.setdefault(name, 0)


# --- dictionary and files ------------------------------------------------------------------


def dictionary_rows() -> list[list]:
    rows = []
    for name, section in sections().items():
        model = section.model
        rows.append([name, "study_id", "text", "", "yes", "", "", "", "Registry study id."])
        rows.append([name, "site", "text", "", "yes", "", "", "", "Site code."])
        rows.append([name, "record_id", "integer", "", "yes", "", "", "", "Registry row id."])
        if model is LesionMeasurement:
            rows.append([name, "assessment_id", "integer", "", "yes", "", "", "", "Scan row id."])
            rows.append([name, "assessment_date", "date", "", "yes", "", "", "", "Scan date."])
            rows.append([name, "is_baseline", "yes / no", "", "yes", "", "", "", "Baseline scan."])
        for field in _fields(model):
            column = column_from_field(field, name=_lookup(model, field)[0])
            if not field.editable:
                column = Column(**{**column.__dict__, "help": f"Derived: {column.help}"})
            rows.append(_dictionary_row(name, column))
    rows += [
        ["flat", name, "", "", "", "", "", "", "See the section columns."] for name in flat_header()
    ]
    return rows


def _dictionary_row(section: str, column: Column) -> list:
    from registry.imports.workbook import dictionary_row as import_row

    return import_row(section, column)


def export_dictionary_csv() -> bytes:
    return csv_bytes(DICTIONARY_HEADER, dictionary_rows())


def export_section_csv(user, name: str) -> bytes:
    return csv_bytes(*section_table(user, name))


def export_flat_csv(user) -> bytes:
    return csv_bytes(*flat_table(user))


def export_csv_zip(user) -> bytes:
    files = [(f"{name}.csv", export_section_csv(user, name)) for name in export_sections()]
    files.append(("flat_one_row_per_patient.csv", export_flat_csv(user)))
    files.append(("dictionary.csv", export_dictionary_csv()))
    return zip_bytes(files)


def export_workbook(user) -> bytes:
    sheets = [(name, *section_table(user, name)) for name in export_sections()]
    sheets.append(("flat", *flat_table(user)))
    sheets.append(("Dictionary", DICTIONARY_HEADER, dictionary_rows()))
    return xlsx_bytes(sheets)

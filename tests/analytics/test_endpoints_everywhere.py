"""One clinical answer everywhere: the patient workspace, the de-identified export, the API and
the analysis dataset give identical endpoints for every patient of random histories.

Histories (seeded) include partial target-lesion scans (NE, CRF.md §5), PR after PD (RECIST 1.1
§4.4), progressions dated before the index date (CRF.md §8: not a PFS event), contacts, scans,
labs, progressions and deaths after the data cut-off (CRF.md §8: not seen), and TACE sessions
performed inadequately or with adequacy unrecorded (CRF.md §6). Compared per patient: best
overall response, ORR and DCR membership, progression date, OS and PFS (months and event) at the
cut-off, and the TACE refractoriness statuses of the three rule sets (JSH-LCSGJ 2014, seed 002,
resistance after N cycles).
"""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from django.contrib import admin as django_admin
from rest_framework.test import APIClient

from analytics.models import ArmDefinition, CohortDefinition
from analytics.selectors import build_analysis_dataset
from registry import services
from registry.admin.patients import PatientAdmin
from registry.exports import flat_table
from registry.models import (
    DataCutoff,
    Death,
    FollowUp,
    HaicCycle,
    ImagingAssessment,
    LabPanel,
    LesionMeasurement,
    Patient,
    ProgressionEvent,
    SystemicTherapy,
    TaceSession,
)
from tests.registry.factories import make_site, make_user

pytestmark = pytest.mark.django_db

CUTOFF = dt.date(2024, 6, 30)
PATIENTS = 200
RULE_SETS = ("jsh_lcsgj_2014", "seed002_operational", "progression_after_n_cycles")
# Stored with all data (the registry's own refresh); resistance after N cycles is judged at the
# cut-off with the analysis's N by every path.
STORED = RULE_SETS[:2]
RESISTANCE = RULE_SETS[2]
FOLLOW_UPS = {
    "CR": {1: 0, 2: 0},
    "PR": {1: 15, 2: 10},
    "SD": {1: 27, 2: 18},
    "PD": {1: 40, 2: 25},
    "partial_zero": {1: 0},  # NE: lesion 2 not measured
    "partial_small": {1: 20},  # NE
    "none": {},  # NE
}


def _bulk(rows: list) -> None:
    by_model: dict[type, list] = {}
    for row in rows:
        row.derive()
        by_model.setdefault(type(row), []).append(row)
    for model, objects in by_model.items():
        model.objects.bulk_create(objects)


def _random_patient(rng: random.Random, site, number: int) -> None:
    index = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(0, 300))

    def day(low: int, high: int) -> dt.date:
        return index + dt.timedelta(days=rng.randrange(low, high))

    with services.patient_refresh_deferred():
        patient = services.patient_enrol(
            site=site,
            site_patient_ref=f"PROP-{number:05d}",
            sex=rng.choice(["male", "female"]),
            etiology_hbv=True,
            antiviral_therapy=True,
            chronic_hepatitis_history=True,
            birth_year=1960,
            body_weight_kg=65,
            diagnosis_date=index - dt.timedelta(days=400),
            index_date=index,
            ecog_ps=0,
            histology_subtype="conventional",
        )
        rows: list = [
            LabPanel(
                patient=patient,
                sample_date=day(-300, 700),
                albumin_g_l=40,
                total_bilirubin_umol_l=15,
                inr=1.0,
                afp_ng_ml=rng.choice([50, 100, 200, 400]),
            )
            for _ in range(rng.randrange(1, 4))
        ]
        first_tace = index - dt.timedelta(days=rng.randrange(90, 200))
        sessions = rng.randrange(0, 5)
        for i in range(sessions):
            rows.append(
                TaceSession(
                    patient=patient,
                    start_date=first_tace + dt.timedelta(days=35 * i + rng.randrange(-3, 4)),
                    technique="ctace",
                    technically_adequate=rng.choice([True, True, True, False, None]),
                )
            )
        rows.append(SystemicTherapy(patient=patient, start_date=index, agent="lenvatinib"))
        if rng.random() < 0.5:
            rows.append(HaicCycle(patient=patient, start_date=day(1, 20), regimen="folfox"))
        rows += [
            FollowUp(patient=patient, contact_date=day(-30, 800), vital_status="alive")
            for _ in range(rng.randrange(0, 3))
        ]
        rows += [
            ProgressionEvent(
                patient=patient, event_date=day(-60, 700), progression_type="intrahepatic"
            )
            for _ in range(rng.randrange(0, 2))
        ]
        if rng.random() < 0.35:
            rows.append(Death(patient=patient, death_date=day(30, 900), cause="other"))
        _bulk(rows)

        scans: list[tuple[dt.date, bool, dict, dict]] = []
        if sessions:
            scans.append((first_tace - dt.timedelta(days=10), True, {1: 30, 2: 20}, {}))
            for i in range(sessions):
                when = first_tace + dt.timedelta(days=35 * i + 28)
                extra = {
                    "treated_viable_fraction_pct": rng.choice([None, 20, 60, 80]),
                    "intrahepatic_lesion_count": rng.choice([None, 2, 3, 4]),
                    "new_lesion": rng.random() < 0.15,
                }
                scans.append((when, False, FOLLOW_UPS[rng.choice(list(FOLLOW_UPS))], extra))
        scans.append((index - dt.timedelta(days=5), True, {1: 30, 2: 20}, {}))
        for _ in range(rng.randrange(0, 5)):
            extra = {"new_lesion": rng.random() < 0.1}
            scans.append((day(20, 700), False, FOLLOW_UPS[rng.choice(list(FOLLOW_UPS))], extra))
        if rng.random() < 0.2:
            scans.append((day(300, 500), True, {1: 35, 2: 25}, {}))
        seen_days = set()
        assessments, lesions = [], []
        for when, baseline, sizes, extra in scans:
            if (when, baseline) in seen_days:
                continue
            seen_days.add((when, baseline))
            if extra.get("new_lesion"):
                extra = {**extra, "new_lesion_site": "intrahepatic"}
            scan = ImagingAssessment(
                patient=patient,
                assessment_date=when,
                modality="ct",
                is_baseline=baseline,
                **extra,
            )
            assessments.append(scan)
            lesions.append(sizes)
        _bulk(assessments)
        _bulk(
            [
                LesionMeasurement(assessment=scan, lesion_number=n, diameter_mm=mm)
                for scan, sizes in zip(assessments, lesions, strict=True)
                for n, mm in sizes.items()
            ]
        )


@pytest.fixture
def histories():
    DataCutoff.objects.create(name="property cut-off", cutoff_date=CUTOFF)
    site = make_site()
    rng = random.Random(12)
    for number in range(PATIENTS):
        _random_patient(rng, site, number)
    return site


def _number(value):
    if value in (None, ""):
        return None
    value = float(value)
    return None if math.isnan(value) else round(value, 4)


def _flag(value):
    if value in (None, ""):
        return None
    if isinstance(value, str):
        return {"yes": True, "no": False}[value]
    return None if isinstance(value, float) and math.isnan(value) else bool(value)


def _text(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return str(value)


def _normal(values: dict) -> dict:
    return {
        "best_response": _text(values["best_response"]),
        "objective_response": _flag(values["objective_response"]),
        "disease_control": _flag(values["disease_control"]),
        "progression_date": _text(values["progression_date"]),
        "os_months": _number(values["os_months"]),
        "os_event": _flag(values["os_event"]),
        "pfs_months": _number(values["pfs_months"]),
        "pfs_event": _flag(values["pfs_event"]),
        **{rule: _text(values[rule]) for rule in RULE_SETS},
    }


def test_workspace_export_api_and_dataset_agree_for_every_patient(histories):
    user = make_user("admin", is_superuser=True, is_staff=True)
    patients = {p.pk: p for p in Patient.objects.all()}

    workspace = {}
    admin = PatientAdmin(Patient, django_admin.site)
    for pk, patient in patients.items():
        values = admin.endpoints_at_cutoff(patient)
        stored = patient.tace_refractoriness or {}
        workspace[pk] = _normal(
            {
                **values,
                "progression_date": values["progression_date"]
                and values["progression_date"].isoformat(),
                **{rule: (stored.get(rule) or {}).get("status") for rule in STORED},
                # Resistance after N cycles is judged at the cut-off, as the dataset does.
                RESISTANCE: values[f"refractory_{RESISTANCE}"],
            }
        )

    header, rows = flat_table(user)
    by_study = {row[header.index("study_id")]: dict(zip(header, row, strict=True)) for row in rows}
    export = {}
    for pk, patient in patients.items():
        row = by_study[patient.study_id]
        export[pk] = _normal(
            {
                "best_response": row["best_response_at_cutoff"],
                "objective_response": row["objective_response_at_cutoff"],
                "disease_control": row["disease_control_at_cutoff"],
                "progression_date": row["progression_date_at_cutoff"],
                **{k: row[k] for k in ("os_months", "os_event", "pfs_months", "pfs_event")},
                **{rule: row[f"refractory_{rule}"] for rule in STORED},
                RESISTANCE: row["tace_resistance_3_cycles_at_cutoff"],
            }
        )

    client = APIClient()
    client.force_authenticate(user)
    api = {}
    for pk, patient in patients.items():
        answer = client.get(f"/api/v1/patients/{patient.study_id}/endpoints/").json()
        record = client.get(f"/api/v1/patients/{patient.study_id}/").json()
        stored = record["tace_refractoriness"] or {}
        api[pk] = _normal(
            {
                **answer,
                **{rule: (stored.get(rule) or {}).get("status") for rule in STORED},
                RESISTANCE: answer[f"refractory_{RESISTANCE}"],
            }
        )

    cohort = CohortDefinition.objects.create(name="property", cutoff_date=CUTOFF)
    frame = build_analysis_dataset(
        user=user,
        cohort=cohort,
        control_arm=ArmDefinition.objects.get(name="Systemic therapy alone", version=1),
        treatment_arm=ArmDefinition.objects.get(name="Local + systemic therapy", version=1),
    ).frame
    dataset = {
        row["patient_id"]: _normal(
            {
                **row,
                "progression_date": row["progression_date"] and row["progression_date"].isoformat(),
                **{rule: row[f"refractory_{rule}"] for rule in RULE_SETS},
            }
        )
        for row in frame.to_dict("records")
    }

    assert len(dataset) > PATIENTS * 0.9
    for pk in patients:
        assert workspace[pk] == export[pk] == api[pk], pk
        if pk in dataset:
            assert dataset[pk] == workspace[pk], pk
    # The histories do exercise the rules compared.
    answers = list(workspace.values())
    assert {a["best_response"] for a in answers} >= {"CR", "PR", "SD", "PD", "NE"}
    assert sum(a["os_event"] is True for a in answers) > 10
    assert sum(a["pfs_event"] is False for a in answers) > 10
    assert sum(a["os_months"] is None for a in answers) >= 0
    for rule in RULE_SETS:
        assert {"refractory", "not_refractory"} <= {a[rule] for a in answers}, rule

"""Analysis dataset and Report A statistics on 10,000 and 100,000 patients (PostgreSQL).

Method
------
1. Create a scratch PostgreSQL database (``--admin-url``, default the local ``postgres``) and
   migrate it.
2. Generate the patients with bulk inserts (``bulk_create``, 5,000 patients per batch): per
   patient a baseline lab panel, a baseline tumour assessment, two TACE sessions before the
   index date, lenvatinib + a PD-1 antibody from the index date, for about half of them a
   local therapy (HAIC, radiotherapy or mTACE) in the 30 days after it, two imaging series
   (the TACE series: baseline + post-TACE scan; the studied line: baseline + 1–2 follow-ups),
   follow-up contacts, deaths, progression events and 0–2 adverse events. Derived values are
   set by calling the registry's pure derivations directly (ALBI and Child-Pugh through the
   panel's ``derive()``, ``derive_bclc``, ``up_to_seven``, ``derive_responses``,
   ``line_responses``, ``evaluate_refractoriness``, ``resistance_after_n_cycles``); lesion
   measurements are not generated (the scans carry their derived target sums).
3. Time ``analytics.selectors.build_analysis_dataset`` (superuser, a cohort of every patient,
   seed 002 arms, cut-off 2024-12-31) against a raw SQL ``COPY (SELECT …) TO STDOUT (CSV)``
   through psycopg of the same data: one row per patient with the patient, site, baseline
   lab, tumour and death columns plus, aggregated per patient as text, the treatment rows,
   the scans, the last contact alive, the progression events and the adverse events — all
   that the selector reads. "COPY + parse" adds ``pandas.read_csv`` of that text. Each is run
   ``--repeat`` times (default 3) after one warm-up; the best and the median are reported.
4. Time every statistic of Report A from ``analytics.stats`` on the dataset: Table 1
   (13 rows), Kaplan–Meier OS and PFS by arm with numbers at risk, log-rank OS and PFS,
   multivariable Cox for OS and for PFS (8 covariates of seed 002 + arm, Efron, with the
   Schoenfeld PH test), the best-response table and the adverse-event table.
5. Drop the scratch database (``--keep`` keeps it).

Usage: ``.venv/bin/python benchmarks/bench_analytics.py --sizes 10000,100000``
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import math
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CUTOFF = dt.date(2024, 12, 31)
BATCH = 5000


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


# --- data ----------------------------------------------------------------------------------


def generate(count: int, *, start: int = 0, seed: int = 1) -> None:
    """Add ``count`` patients (numbered from ``start``) in batches of ``BATCH``."""
    from registry.models import CtcaeTerm, Site

    sites = [
        Site.objects.get_or_create(code=code, defaults={"name": code, "country": "China"})[0]
        for code in ("NT", "SH", "BJ", "GZ", "WH")
    ]
    terms = dict(CtcaeTerm.objects.values_list("code", "id"))
    rng = random.Random(seed + start)
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        _batch(rng, sites, terms, start + done, size)
        done += size


def _batch(rng: random.Random, sites, terms: dict[str, int], first: int, size: int) -> None:
    from django.db import connection

    from registry import models as m

    patients, plans = [], []
    for number in range(first, first + size):
        site = sites[number % len(sites)]
        plan = _plan(rng)
        plans.append(plan)
        patients.append(
            m.Patient(
                site=site,
                study_id=f"{site.code}-{number:07d}",
                site_patient_ref=f"MRN-{number:08d}",
                sex=plan["sex"],
                birth_year=plan["index_date"].year - plan["age"],
                body_weight_kg=65,
                etiology_hbv=plan["hbv"],
                etiology_alcohol=not plan["hbv"],
                antiviral_therapy=True if plan["hbv"] else None,
                chronic_hepatitis_history=plan["hbv"],
                diagnosis_date=plan["first_tace"] - dt.timedelta(days=20),
                index_date=plan["index_date"],
                ecog_ps=plan["ecog"],
                histology_subtype="conventional",
            )
        )
    rows: dict[type, list] = {}
    for patient, plan in zip(patients, plans, strict=True):
        plan["rows"] = _rows(m, patient, plan, terms)
        _derive_patient(patient, plan)
    _derive_batch(patients, plans)
    m.Patient.objects.bulk_create(patients, batch_size=BATCH)
    for patient, plan in zip(patients, plans, strict=True):
        for row in plan["rows"]:
            row.patient = patient  # the patient has its primary key now
            rows.setdefault(type(row), []).append(row)
    for model, objects in rows.items():
        model.objects.bulk_create(objects, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_patient p SET baseline_lab_id = l.id FROM registry_labpanel l "
            "WHERE l.patient_id = p.id AND p.baseline_lab_id IS NULL"
        )
    connection.close()  # keep the server's per-connection memory flat between batches


def _plan(rng: random.Random) -> dict:
    combined = rng.random() < 0.55
    index_date = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(0, 1000))
    months = rng.expovariate(math.log(2) / (22.0 if combined else 15.0))
    death = index_date + dt.timedelta(days=max(70, int(months * 30.4375)))
    progression_months = rng.expovariate(math.log(2) / (10.0 if combined else 7.0))
    child_pugh_b = rng.random() < 0.15
    return {
        "combined": combined,
        "no_arm": rng.random() < 0.04,
        "local": rng.choice(["haic", "radiotherapy", "mtace"]),
        "sex": "male" if rng.random() < 0.87 else "female",
        "age": max(25, min(90, int(rng.gauss(60.6, 10.7)))),
        "hbv": rng.random() < 0.8,
        "ecog": 0 if rng.random() < 0.7 else 1,
        "index_date": index_date,
        "first_tace": index_date - dt.timedelta(days=rng.randrange(120, 200)),
        "albumin": 30.0 if child_pugh_b else round(min(max(rng.gauss(41.5, 4), 36), 55), 1),
        "bilirubin": round(min(max(rng.lognormvariate(math.log(17), 0.35), 4), 33), 1),
        "ascites": "mild" if child_pugh_b else "none",
        "afp": round(10 ** rng.uniform(0.5, 4.2), 1),
        "number": 1 if rng.random() < 0.08 else rng.randrange(2, 6),
        "diameter": round(min(max(rng.lognormvariate(math.log(5.5), 0.5), 1.0), 18.0), 1),
        "mvi": rng.random() < 0.2,
        "ehs": rng.random() < 0.15,
        "avf": rng.random() < (0.18 if combined else 0.08),
        "ebs": rng.random() < 0.22,
        "refractory": rng.random() < 0.9,
        "shrink": rng.uniform(0.35, 1.3) * (0.8 if combined else 1.0),
        "second_scan": rng.random() < 0.7,
        "new_lesion": rng.random() < 0.1,
        "death": death if death <= CUTOFF else None,
        "progression": index_date + dt.timedelta(days=int(progression_months * 30.4375)),
        "alive_on": min(death - dt.timedelta(days=30), CUTOFF - dt.timedelta(rng.randrange(60))),
        "adverse_events": [
            (
                rng.choice(
                    ["hypertension", "rash_maculo_papular", "hypothyroidism", "diarrhea"]
                    + (["abdominal_pain", "fever"] if combined else [])
                ),
                rng.choice([1, 1, 2, 3]),
            )
            for _ in range(rng.randrange(1, 3) if rng.random() < (0.85 if combined else 0.5) else 0)
        ],
    }


def _rows(m, patient, plan: dict, terms: dict[str, int]) -> list:
    index_date, first_tace = plan["index_date"], plan["first_tace"]
    lab = m.LabPanel(
        patient=patient,
        sample_date=index_date - dt.timedelta(days=3),
        albumin_g_l=plan["albumin"],
        total_bilirubin_umol_l=plan["bilirubin"],
        inr=1.1,
        afp_ng_ml=plan["afp"],
        ascites=plan["ascites"],
        encephalopathy="none",
    )
    lab.derive()
    plan["lab"] = lab
    rows = [
        lab,
        m.TumourAssessment(
            patient=patient,
            imaging_date=index_date - dt.timedelta(days=5),
            modality="ct",
            tumour_number=plan["number"],
            max_diameter_cm=plan["diameter"],
            macrovascular_invasion="vp2" if plan["mvi"] else "none",
            extrahepatic_spread=plan["ehs"],
            arteriovenous_fistula=plan["avf"],
            extrahepatic_blood_supply=plan["ebs"],
        ),
    ]
    plan["tace"] = [first_tace, first_tace + dt.timedelta(days=35)]
    rows += [
        m.TaceSession(
            patient=patient,
            start_date=day,
            technique="ctace",
            session_number=i + 1,
            technically_adequate=True,
        )
        for i, day in enumerate(plan["tace"])
    ]
    if not plan["no_arm"]:
        rows += [
            m.SystemicTherapy(
                patient=patient, start_date=index_date, agent="lenvatinib", drug_class="tki"
            ),
            m.SystemicTherapy(
                patient=patient, start_date=index_date, agent="sintilimab", drug_class="pd1"
            ),
        ]
        if plan["combined"]:
            start = index_date + dt.timedelta(days=5)
            if plan["local"] == "haic":
                rows.append(m.HaicCycle(patient=patient, start_date=start, regimen="folfox"))
            elif plan["local"] == "radiotherapy":
                course = m.RadiotherapyCourse(
                    patient=patient,
                    start_date=start,
                    technique="imrt",
                    total_dose_gy=50,
                    fractions=20,
                )
                course.derive()
                rows.append(course)
            else:
                rows.append(m.TaceSession(patient=patient, start_date=start, technique="mtace"))
    rows += _scans(m, patient, plan)
    rows.append(m.FollowUp(patient=patient, contact_date=plan["alive_on"], vital_status="alive"))
    if plan["death"] is not None:
        rows.append(m.Death(patient=patient, death_date=plan["death"], cause="tumour_progression"))
    last_scan = max(s.assessment_date for s in plan["scans"])
    if last_scan < plan["progression"] < (plan["death"] or CUTOFF):
        rows.append(
            m.ProgressionEvent(
                patient=patient, event_date=plan["progression"], progression_type="intrahepatic"
            )
        )
    rows += [
        m.AdverseEvent(
            patient=patient,
            term_id=terms[code],
            grade=grade,
            onset_date=index_date + dt.timedelta(days=20),
            attribution="systemic",
        )
        for code, grade in plan["adverse_events"]
    ]
    return rows


def _scans(m, patient, plan: dict) -> list:
    """Both imaging series with their derived responses (``derive_responses``)."""
    from registry.derivations.response import AssessmentInput, derive_responses

    index_date = plan["index_date"]
    tace_baseline, line_baseline = 60.0, 50.0
    post_tace = tace_baseline * (1.3 if plan["refractory"] else 0.9)
    follow = [(index_date + dt.timedelta(days=60), line_baseline * plan["shrink"])]
    if plan["second_scan"]:
        follow.append((index_date + dt.timedelta(days=120), line_baseline * plan["shrink"] * 1.15))
    series = [
        (
            plan["tace"][0] - dt.timedelta(days=10),
            tace_baseline,
            [(index_date - dt.timedelta(days=20), post_tace)],
        ),
        (index_date - dt.timedelta(days=5), line_baseline, follow),
    ]
    scans = []
    for position, (baseline_day, baseline_sum, follow_ups) in enumerate(series):
        scans.append(
            m.ImagingAssessment(
                patient=patient,
                assessment_date=baseline_day,
                modality="ct",
                is_baseline=True,
                target_sum_mm=baseline_sum,
            )
        )
        new_lesion = plan["new_lesion"] and position == 1
        results = derive_responses(
            criteria="mrecist",
            baseline_lesions_mm={1: baseline_sum},
            assessments=[
                AssessmentInput(day, {1: total}, new_lesion and i == 0, False)
                for i, (day, total) in enumerate(follow_ups)
            ],
        )
        for (day, total), result in zip(follow_ups, results, strict=True):
            scans.append(
                m.ImagingAssessment(
                    patient=patient,
                    assessment_date=day,
                    modality="ct",
                    target_sum_mm=round(total, 1),
                    new_lesion=bool(result.reason == "new lesion"),
                    new_lesion_site="intrahepatic" if result.reason == "new lesion" else "",
                    response=result.response or "",
                    response_reason=result.reason[:300],
                    nadir_before_mm=result.nadir_before_mm,
                    change_from_baseline_pct=result.change_from_baseline_pct,
                    change_from_nadir_pct=result.change_from_nadir_pct,
                )
            )
    plan["scans"] = scans
    return scans


def _derive_patient(patient, plan: dict) -> None:
    from registry.derivations.bclc import derive_bclc
    from registry.derivations.refractoriness import (
        PostTaceAssessment,
        TaceSession,
        evaluate_refractoriness,
    )
    from registry.derivations.tumour import up_to_seven

    lab = plan["lab"]
    patient.age_at_index = plan["age"]
    patient.albi_score, patient.albi_grade = lab.albi_score, lab.albi_grade
    patient.malbi_grade = lab.malbi_grade
    patient.child_pugh_score, patient.child_pugh_class = lab.child_pugh_score, lab.child_pugh_class
    bclc = derive_bclc(
        ecog_ps=plan["ecog"],
        child_pugh_class=lab.child_pugh_class or None,
        tumour_number=plan["number"],
        max_diameter_cm=plan["diameter"],
        macrovascular_invasion=plan["mvi"],
        extrahepatic_spread=plan["ehs"],
    )
    patient.bclc_stage_derived = patient.bclc_stage = bclc.stage or ""
    patient.up_to_seven_within = up_to_seven(
        max_diameter_cm=plan["diameter"], tumour_number=plan["number"]
    )
    sessions = [TaceSession(day, True) for day in plan["tace"]]
    assessments = [
        PostTaceAssessment(
            s.assessment_date,
            s.response or None,
            s.target_sum_mm,
            None,
            s.new_lesion,
            None,
            False,
            False,
        )
        for s in plan["scans"]
        if not s.is_baseline
    ]
    results = {}
    for rule_set, extra in (
        ("jsh_lcsgj_2014", {"markers": []}),
        ("seed002_operational", {"baseline_sum_mm": plan["scans"][0].target_sum_mm}),
    ):
        r = evaluate_refractoriness(rule_set, sessions=sessions, assessments=assessments, **extra)
        results[rule_set] = {
            "status": r.status,
            "criterion": r.criterion,
            "date": r.criterion_date.isoformat() if r.criterion_date else None,
            "version": r.version,
            "reason": r.reason,
        }
    patient.tace_refractoriness = results
    flags = []
    if (lab.child_pugh_score or 0) > 7:
        flags.append("child_pugh_gt_7")
    patient.eligibility_flags = flags
    patient.derivation_versions = {**lab.derivation_versions, "bclc": "bclc-2022-reig:1"}


def _derive_batch(patients: list, plans: list[dict]) -> None:
    """The column-wise rules (the registry's refresh runs them per chunk the same way): the
    studied line's best response, ORR/DCR and first PD, and resistance after 3 TACE cycles."""
    import numpy as np
    import pandas as pd

    from registry.derivations.days import date_of, day_number
    from registry.derivations.refractoriness import (
        REFRACTORINESS_VERSION,
        RESISTANCE_SCAN_COLUMNS,
        SESSION_COLUMNS,
        resistance_after_n_cycles,
    )
    from registry.derivations.response import SCAN_COLUMNS, line_responses, response_rates

    scans = pd.DataFrame(
        [
            (i, day_number(s.assessment_date), s.is_baseline, s.response or "")
            for i, plan in enumerate(plans)
            for s in plan["scans"]
        ],
        columns=SCAN_COLUMNS,
    )
    ids = pd.Series(range(len(plans)), dtype="int64")
    index_days = np.array([day_number(plan["index_date"]) for plan in plans])
    lines, _ = line_responses(scans, ids, index_days)
    orr, dcr = response_rates(lines["best_response"].to_numpy())
    sessions = pd.DataFrame(
        [(i, day_number(day)) for i, plan in enumerate(plans) for day in plan["tace"]],
        columns=SESSION_COLUMNS,
    )
    follow_ups = pd.DataFrame(
        [
            (i, day_number(s.assessment_date), s.response or "", s.new_lesion)
            for i, plan in enumerate(plans)
            for s in plan["scans"]
            if not s.is_baseline
        ],
        columns=RESISTANCE_SCAN_COLUMNS,
    )
    resistance = resistance_after_n_cycles(sessions, follow_ups, ids, n_cycles=3)
    for i, patient in enumerate(patients):
        best = lines["best_response"].iloc[i]
        patient.best_overall_response = best or ""
        patient.objective_response = None if np.isnan(orr[i]) else bool(orr[i])
        patient.disease_control = None if np.isnan(dcr[i]) else bool(dcr[i])
        patient.first_progression_date = date_of(lines["first_pd_day"].iloc[i])
        r = resistance.iloc[i]
        when = date_of(r["day"])
        patient.tace_refractoriness["progression_after_n_cycles"] = {
            "status": r["status"],
            "criterion": r["criterion"],
            "date": when.isoformat() if when else None,
            "version": REFRACTORINESS_VERSION,
            "reason": r["reason"],
        }


# --- measurements ----------------------------------------------------------------------------

COPY_SQL = """
COPY (
  SELECT p.id, p.study_id, s.code AS site, p.sex, p.age_at_index, p.index_date, p.ecog_ps,
    p.chronic_hepatitis_history, p.etiology_hbv, p.etiology_hcv, p.albi_score, p.albi_grade,
    p.child_pugh_score, p.child_pugh_class, p.bclc_stage, p.bclc_stage_derived,
    p.up_to_seven_within, p.eligibility_flags,
    p.tace_refractoriness -> 'jsh_lcsgj_2014' ->> 'status' AS refractory_jsh_lcsgj_2014,
    p.tace_refractoriness -> 'seed002_operational' ->> 'status' AS refractory_seed002,
    p.tace_refractoriness -> 'progression_after_n_cycles' ->> 'status' AS refractory_n_cycles,
    l.albumin_g_l::float, l.total_bilirubin_umol_l::float, l.afp_ng_ml::float,
    t.tumour_number, t.max_diameter_cm::float, t.macrovascular_invasion,
    t.extrahepatic_spread, t.arteriovenous_fistula, t.extrahepatic_blood_supply,
    d.death_date, d.cause AS death_cause,
    tr.treatments, im.scans, fu.last_alive, pe.progressions, ae.adverse_events
  FROM registry_patient p
  JOIN registry_site s ON s.id = p.site_id
  LEFT JOIN registry_labpanel l ON l.id = p.baseline_lab_id
  LEFT JOIN registry_tumourassessment t ON t.patient_id = p.id
  LEFT JOIN registry_death d ON d.patient_id = p.id
  LEFT JOIN (
    SELECT patient_id, string_agg(modality || ':' || start_date || ':' || drug, ';') AS treatments
    FROM (
      SELECT patient_id, 'tace' AS modality, start_date, '' AS drug FROM registry_tacesession
      UNION ALL SELECT patient_id, 'haic', start_date, '' FROM registry_haiccycle
      UNION ALL SELECT patient_id, 'radiotherapy', start_date, '' FROM registry_radiotherapycourse
      UNION ALL SELECT patient_id, 'local_procedure', start_date, '' FROM registry_localprocedure
      UNION ALL SELECT patient_id, 'systemic', start_date, drug_class FROM registry_systemictherapy
    ) x WHERE start_date <= %(cutoff)s GROUP BY patient_id
  ) tr ON tr.patient_id = p.id
  LEFT JOIN (
    SELECT patient_id,
      string_agg(id || ':' || assessment_date || ':' || is_baseline || ':' || response, ';')
        AS scans
    FROM registry_imagingassessment GROUP BY patient_id
  ) im ON im.patient_id = p.id
  LEFT JOIN (
    SELECT patient_id, max(contact_date) AS last_alive FROM registry_followup
    WHERE vital_status = 'alive' GROUP BY patient_id
  ) fu ON fu.patient_id = p.id
  LEFT JOIN (
    SELECT patient_id, string_agg(event_date::text, ';') AS progressions
    FROM registry_progressionevent WHERE event_date <= %(cutoff)s GROUP BY patient_id
  ) pe ON pe.patient_id = p.id
  LEFT JOIN (
    SELECT a.patient_id, string_agg(c.code || ':' || a.grade || ':' || a.onset_date, ';')
      AS adverse_events
    FROM registry_adverseevent a JOIN registry_ctcaeterm c ON c.id = a.term_id
    WHERE a.onset_date <= %(cutoff)s GROUP BY a.patient_id
  ) ae ON ae.patient_id = p.id
  ORDER BY p.study_id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def copy_text() -> bytes:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection  # psycopg 3 connection
    buffer = io.BytesIO()
    sql = COPY_SQL.replace("%(cutoff)s", f"'{CUTOFF.isoformat()}'::date")
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for block in copy:
            buffer.write(block)
    return buffer.getvalue()


def copy_and_parse():
    import pandas as pd

    return pd.read_csv(io.BytesIO(copy_text()), low_memory=False)


def build_dataset():
    from django.contrib.auth import get_user_model

    from analytics.models import ArmDefinition, CohortDefinition
    from analytics.selectors import build_analysis_dataset

    user = get_user_model().objects.get(username="bench-admin")
    return build_analysis_dataset(
        user=user,
        cohort=CohortDefinition.objects.get(name="bench: every patient"),
        control_arm=ArmDefinition.objects.get(name="Systemic therapy alone", version=1),
        treatment_arm=ArmDefinition.objects.get(name="Local + systemic therapy", version=1),
    )


def report_a_statistics(frame) -> dict[str, float]:
    """Every statistic of Report A on the dataset; seconds per part."""
    from analytics.selectors import adverse_events_long
    from analytics.stats.adverse_events import adverse_event_table
    from analytics.stats.cox import fit_cox
    from analytics.stats.response import best_response_table
    from analytics.stats.survival import kaplan_meier_by_group, logrank, numbers_at_risk
    from analytics.stats.table1 import VariableSpec, table_one

    arms = ("Systemic therapy alone", "Local + systemic therapy")
    frame = frame.copy()
    frame["local_plus_systemic"] = (frame["arm"] == arms[1]).astype(float)
    seconds: dict[str, float] = {}

    def timed(name, function):
        started = time.perf_counter()
        function()
        seconds[name] = time.perf_counter() - started

    variables = [
        VariableSpec("age", "Age (years)", "continuous"),
        VariableSpec("sex", "Gender", "categorical", levels=("male", "female")),
        VariableSpec("child_pugh_class", "Child-Pugh", "categorical", levels=("A", "B")),
        VariableSpec("tumour_multiple", "Tumours (multiple)", "categorical", levels=(0.0, 1.0)),
        VariableSpec("max_diameter_cm", "Max diameter (cm)", "continuous"),
        VariableSpec("bclc_stage", "BCLC", "categorical", levels=("A", "B", "C")),
        VariableSpec("chronic_hepatitis", "Chronic hepatitis", "categorical"),
        VariableSpec("arteriovenous_fistula", "AV fistula", "categorical"),
        VariableSpec("extrahepatic_blood_supply", "Extrahepatic supply", "categorical"),
        VariableSpec("afp_ng_ml", "AFP (ng/mL)", "continuous"),
        VariableSpec("albumin_g_l", "Albumin (g/L)", "continuous"),
        VariableSpec("total_bilirubin_umol_l", "Bilirubin (µmol/L)", "continuous"),
        VariableSpec("albi_score", "ALBI score", "continuous"),
    ]
    covariates = [
        "local_plus_systemic",
        "age",
        "male",
        "child_pugh_b",
        "bclc_c",
        "max_diameter_cm",
        "tumour_multiple",
        "log10_afp",
        "albi_score",
    ]
    timed("Table 1 (13 rows)", lambda: table_one(frame, "arm", variables, group_order=arms))
    for endpoint in ("os", "pfs"):
        duration, event = f"{endpoint}_months", f"{endpoint}_event"
        timed(
            f"Kaplan–Meier {endpoint.upper()} by arm + numbers at risk",
            lambda d=duration, e=event: (
                kaplan_meier_by_group(frame, d, e, "arm", group_order=arms),
                numbers_at_risk(frame, d, "arm", [0, 6, 12, 18, 24, 30, 36]),
            ),
        )
        timed(
            f"log-rank {endpoint.upper()}",
            lambda d=duration, e=event: logrank(frame, d, e, "arm", group_order=arms),
        )
        timed(
            f"Cox {endpoint.upper()} (9 covariates, Efron, PH test)",
            lambda d=duration, e=event: fit_cox(frame, d, e, covariates),
        )
    timed(
        "best response (Table 2)",
        lambda: best_response_table(frame, "best_response", "arm", group_order=arms),
    )
    timed(
        "adverse events (Table 3)",
        lambda: adverse_event_table(
            frame, adverse_events_long(frame), group="arm", group_order=arms
        ),
    )
    return seconds


def _timings(function, repeat: int) -> tuple[float, float, float, object]:
    """Best and median wall time, best CPU time of this process, and the last result."""
    function()  # warm-up: connections, imports, the server's caches
    values, cpu, result = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        values.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return min(values), statistics.median(values), min(cpu), result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default=f"bench_analytics_{os.getpid()}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--reuse", action="store_true", help="use an existing --database; add missing patients"
    )
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    import psycopg

    admin_url = args.admin_url
    if not args.reuse:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{args.database}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        _setup_django(f"{base}/{args.database}")
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from analytics.models import CohortDefinition
        from registry.models import Patient

        call_command("migrate", verbosity=0)
        if not get_user_model().objects.filter(username="bench-admin").exists():
            get_user_model().objects.create_superuser("bench-admin", password="x")
        CohortDefinition.objects.get_or_create(name="bench: every patient", cutoff_date=CUTOFF)
        print(
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        )
        total = Patient.objects.count()
        for size in sizes:
            started = time.perf_counter()
            if size > total:
                generate(size - total, start=total)
                total = size
            generated = time.perf_counter() - started
            print(f"{size:,} patients: generated in {generated:.1f} s", flush=True)
            if not args.generate_only:
                _measure(size, generated, args.repeat)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0


def _measure(size: int, generated: float, repeat: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    best_ds, median_ds, cpu_ds, dataset = _timings(build_dataset, repeat)
    best_copy, median_copy, cpu_copy, text = _timings(copy_text, repeat)
    best_parse, median_parse, cpu_parse, _ = _timings(copy_and_parse, repeat)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        build_dataset()
    query_seconds = sum(float(q["time"]) for q in queries.captured_queries)
    frame = dataset.frame
    report_a_statistics(frame.head(500))  # warm-up: imports (lifelines, statsmodels)
    started, started_cpu = time.perf_counter(), time.process_time()
    parts = report_a_statistics(frame)
    stats_total = time.perf_counter() - started
    stats_cpu = time.process_time() - started_cpu
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n### {size:,} patients (generated in {generated:.1f} s; load average {load})\n")
    print(
        f"Dataset: {len(frame):,} rows × {frame.shape[1]} columns; flow {dataset.flow[-1]['by_arm']}"
    )
    print("\n| step | best wall (s) | median wall (s) | client CPU (s) |\n|---|---|---|---|")
    print(f"| build_analysis_dataset | {best_ds:.2f} | {median_ds:.2f} | {cpu_ds:.2f} |")
    megabytes = len(text) / 1e6
    print(
        f"| COPY … TO STDOUT ({megabytes:.0f} MB CSV) | {best_copy:.2f} | {median_copy:.2f} "
        f"| {cpu_copy:.2f} |"
    )
    print(f"| COPY + pandas.read_csv | {best_parse:.2f} | {median_parse:.2f} | {cpu_parse:.2f} |")
    print(
        f"\nThe dataset's {len(queries.captured_queries)} queries took {query_seconds:.2f} s "
        "(execute + transfer, one more run)."
    )
    print(
        f"\nDataset / COPY: {best_ds / best_copy:.2f}x; dataset / (COPY + parse): {best_ds / best_parse:.2f}x"
    )
    print("\n| Report A statistic | s |\n|---|---|")
    for name, value in parts.items():
        print(f"| {name} | {value:.2f} |")
    print(f"| **all statistics** | **{stats_total:.2f}** (CPU of this process {stats_cpu:.2f}) |")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

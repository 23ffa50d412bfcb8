"""A synthetic analysis dataset with the selector's columns, for report tests without a database.

Deterministic (numpy seeded). The treatment arm has a true effect: a lower hazard of death
(HR ≈ 0.55) and progression (HR ≈ 0.5), better responses and less TACE resistance, and more
local-treatment adverse events, as in seeds 000 and 002.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

CONTROL = "Systemic therapy alone"
TREATMENT = "Local + systemic therapy"
AE_TERMS = ("fever", "hypertension", "rash_maculo_papular", "vomiting")
INDEX_START = dt.date(2021, 1, 4)


def _dates(index: list[dt.date], months: np.ndarray, keep: np.ndarray) -> list[dt.date | None]:
    return [
        start + dt.timedelta(days=round(m * 30.4375)) if k else None
        for start, m, k in zip(index, months, keep, strict=True)
    ]


def synthetic_cohort(n: int = 120, seed: int = 20260207) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treated = np.arange(n) % 2 == 1
    arm = np.where(treated, TREATMENT, CONTROL)
    sex = np.where(rng.random(n) < 0.85, "male", "female")
    age = rng.normal(60, 10, n).round(1)
    albumin = rng.normal(41, 4, n).round(1)
    bilirubin = rng.lognormal(np.log(17), 0.35, n).round(1)
    albi = (0.66 * np.log10(bilirubin) - 0.085 * albumin).round(3)
    child_b = rng.random(n) < 0.2
    bclc = rng.choice(["A", "B", "C"], size=n, p=[0.15, 0.5, 0.35])
    tumours = np.where(rng.random(n) < 0.1, 1, rng.integers(2, 7, n))
    diameter = rng.lognormal(np.log(6), 0.4, n).round(1)
    afp = rng.lognormal(np.log(200), 2.0, n).round(1)
    index = [INDEX_START + dt.timedelta(days=int(d)) for d in rng.integers(0, 700, n)]

    # Survival: exponential times, treatment and stage shift the hazard; administrative censoring.
    linear = np.where(bclc == "C", 0.4, 0.0) + np.where(child_b, 0.3, 0.0)
    death_rate = 0.045 * np.exp(linear + np.where(treated, np.log(0.55), 0.0))
    progression_rate = 0.08 * np.exp(linear + np.where(treated, np.log(0.5), 0.0))
    death_time = rng.exponential(1 / death_rate)
    progression_time = np.minimum(rng.exponential(1 / progression_rate), death_time)
    censor_time = rng.uniform(8, 36, n)
    os_months = np.minimum(death_time, censor_time).round(2)
    os_event = (death_time <= censor_time).astype(float)
    pfs_months = np.minimum(progression_time, censor_time).round(2)
    pfs_event = (progression_time <= censor_time).astype(float)

    response = np.array(
        [
            rng.choice(["CR", "PR", "SD", "PD", ""], p=[0.06, 0.35, 0.35, 0.2, 0.04])
            if t
            else rng.choice(["CR", "PR", "SD", "PD", ""], p=[0.02, 0.18, 0.3, 0.46, 0.04])
            for t in treated
        ]
    )
    resistant = rng.random(n) < np.where(treated, 0.1, 0.4)
    resistance = np.where(resistant, "refractory", "not_refractory").astype(object)
    resistance[rng.random(n) < 0.05] = "indeterminate"

    frame = pd.DataFrame(
        {
            "patient_id": np.arange(1, n + 1),
            "study_id": [f"HCC-{i:05d}" for i in range(1, n + 1)],
            "site": np.where(np.arange(n) % 3 == 0, "NTH", "SHA"),
            "sex": sex,
            "age": age,
            "index_date": index,
            "ecog_ps": rng.integers(0, 2, n),
            "chronic_hepatitis": (rng.random(n) < 0.8).astype(float),
            "hbv": rng.random(n) < 0.7,
            "hcv": rng.random(n) < 0.1,
            "albi_score": albi,
            "albi_grade": np.where(albi <= -2.60, "1", np.where(albi <= -1.39, "2", "3")),
            "child_pugh_score": np.where(child_b, 7, rng.integers(5, 7, n)),
            "child_pugh_class": np.where(child_b, "B", "A"),
            "bclc_stage": bclc,
            "bclc_stage_derived": bclc,
            "up_to_seven_within": (tumours + diameter) <= 7,
            "best_response": response,
            "objective_response": [None if r == "" else r in ("CR", "PR") for r in response],
            "disease_control": [None if r == "" else r in ("CR", "PR", "SD") for r in response],
            "imaging_progression_date": _dates(index, pfs_months, pfs_event == 1),
            "albumin_g_l": albumin,
            "total_bilirubin_umol_l": bilirubin,
            "afp_ng_ml": afp,
            "tumour_number": tumours,
            "max_diameter_cm": diameter,
            "macrovascular_invasion": (bclc == "C").astype(float),
            "extrahepatic_spread": ((bclc == "C") & (rng.random(n) < 0.3)).astype(float),
            "arteriovenous_fistula": (rng.random(n) < 0.12).astype(float),
            "extrahepatic_blood_supply": (rng.random(n) < 0.22).astype(float),
            "death_date": _dates(index, os_months, os_event == 1),
            "death_cause": np.where(os_event == 1, "tumour_progression", None),
            "arm": arm,
            "tace_sessions": rng.integers(2, 6, n),
            "refractory_jsh_lcsgj_2014": np.where(
                rng.random(n) < 0.9, "refractory", "indeterminate"
            ),
            "refractory_seed002_operational": "refractory",
            "refractory_progression_after_n_cycles": resistance,
            "os_months": os_months,
            "os_event": os_event,
            "pfs_months": pfs_months,
            "pfs_event": pfs_event,
            "progression_date": _dates(index, pfs_months, pfs_event == 1),
        }
    )
    return _with_adverse_events_and_covariates(frame, treated, rng)


def _with_adverse_events_and_covariates(
    frame: pd.DataFrame, treated: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    n = len(frame)
    risk = {
        "fever": (0.02, 0.15),
        "hypertension": (0.1, 0.12),
        "rash_maculo_papular": (0.1, 0.1),
        "vomiting": (0.03, 0.08),
    }
    terms = {}
    for term in AE_TERMS:
        low, high = risk[term]
        has = rng.random(n) < np.where(treated, high, low)
        grade = np.where(has, rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1]), np.nan)
        terms[f"ae_{term}"] = has.astype(int)
        terms[f"ae_{term}_grade"] = grade
    grades = np.column_stack([terms[f"ae_{t}_grade"] for t in AE_TERMS])
    frame["ae_any"] = (~np.isnan(grades)).any(axis=1).astype(int)
    frame["ae_grade3plus"] = (np.nan_to_num(grades) >= 3).any(axis=1).astype(int)
    for column in sorted(terms):
        frame[column] = terms[column]
    frame["male"] = (frame["sex"] == "male").astype(int)
    frame["child_pugh_b"] = (frame["child_pugh_class"] == "B").astype(float)
    frame["bclc_c"] = (frame["bclc_stage"] == "C").astype(float)
    frame["tumour_multiple"] = (frame["tumour_number"] > 1).astype(float)
    frame["log10_afp"] = np.log10(frame["afp_ng_ml"])
    return frame


def flow_for(frame: pd.DataFrame) -> list[dict]:
    sizes = frame["arm"].value_counts().to_dict()
    return [
        {
            "step": "Registered patients visible to the analysis",
            "n": len(frame) + 31,
            "excluded": {},
        },
        {
            "step": "Cohort criteria",
            "n": len(frame) + 7,
            "excluded": {"ECOG performance status above 1": 15, "Child-Pugh above 7": 9},
        },
        {
            "step": "Assigned to an arm",
            "n": len(frame),
            "excluded": {"treatments match neither arm definition": 7},
            "by_arm": {CONTROL: sizes.get(CONTROL, 0), TREATMENT: sizes.get(TREATMENT, 0)},
        },
    ]


def provenance_for(frame: pd.DataFrame) -> dict:
    return {
        "run_id": 42,
        "title": "Synthetic cohort report",
        "registry_version": "0.1.0",
        "cutoff_date": "2024-12-31",
        "started_by": "analyst",
        "cohort": {"name": "TACE-refractory HCC", "bclc_stages": ["A", "B", "C"]},
        "control_arm": {"name": CONTROL, "rule": "systemic_alone"},
        "treatment_arm": {"name": TREATMENT, "rule": "local_plus_systemic"},
        "rule_sets": {"tace_refractoriness": "seed002_operational"},
        "package_versions": {"pandas": pd.__version__, "numpy": np.__version__},
        "dataset_sha256": "0" * 64,
    }

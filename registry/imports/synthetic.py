"""Synthetic import files with the whole CRF filled in, for the tests and the import benchmark.

Every row is valid (dates in clinical order, measurable baseline lesions, lenvatinib dosed by
weight), so a test can break exactly one cell and expect exactly one error.
"""

from __future__ import annotations

import datetime as dt
import random

from registry.imports.sections import sections
from registry.imports.workbook import csv_bytes, xlsx_bytes, zip_bytes

Rows = dict[str, list[dict]]


def synthetic_rows(patients: int, *, ref_prefix: str = "MRN", seed: int = 5) -> Rows:
    rng = random.Random(seed)
    rows: Rows = {name: [] for name in sections()}
    for number in range(1, patients + 1):
        _patient(rows, rng, f"{ref_prefix}-{number:07d}", number)
    return rows


def _patient(rows: Rows, rng: random.Random, ref: str, number: int) -> None:
    index = dt.date(2021, 1, 1) + dt.timedelta(days=number % 700)
    weight = round(rng.uniform(48, 90), 1)
    hbv = rng.random() < 0.8
    rows["patients"].append(
        {
            "site_patient_ref": ref,
            "sex": "male" if rng.random() < 0.85 else "female",
            "birth_year": index.year - rng.randrange(40, 80),
            "body_weight_kg": weight,
            "etiology_hbv": "yes" if hbv else "no",
            "etiology_alcohol": "no" if hbv else "yes",
            "antiviral_therapy": "yes" if hbv else "",
            "chronic_hepatitis_history": "yes" if hbv else "no",
            "cirrhosis": "yes",
            "diagnosis_date": index - dt.timedelta(days=60),
            "diagnosis_basis": "imaging",
            "histology_subtype": "not_done",
            "index_date": index,
            "ecog_ps": rng.choice([0, 0, 1]),
        }
    )
    for days_before, unit in ((30, "mg/dL"), (3, "umol/L")):
        bilirubin = round(rng.uniform(8, 30), 1)
        rows["labs"].append(
            {
                "site_patient_ref": ref,
                "sample_date": index - dt.timedelta(days=days_before),
                "albumin": round(rng.uniform(32, 48), 1),
                "albumin_unit": "g/L",
                "total_bilirubin": round(bilirubin / 17.1, 2) if unit == "mg/dL" else bilirubin,
                "total_bilirubin_unit": unit,
                "inr": round(rng.uniform(0.9, 1.4), 2),
                "platelets_10e9_l": rng.randrange(80, 300),
                "alt_u_l": rng.randrange(15, 90),
                "ast_u_l": rng.randrange(15, 110),
                "creatinine": rng.randrange(55, 110),
                "creatinine_unit": "umol/L",
                "afp_ng_ml": round(10 ** rng.uniform(0.5, 4), 1),
                "ascites": "none",
                "encephalopathy": "none",
            }
        )
    tumours = rng.randrange(1, 5)
    rows["tumour"].append(
        {
            "site_patient_ref": ref,
            "imaging_date": index - dt.timedelta(days=10),
            "modality": "ct",
            "tumour_number": tumours,
            "max_diameter_cm": round(rng.uniform(2, 12), 1),
            "distribution": "bilobar" if tumours > 2 else "unilobar",
            "macrovascular_invasion": "none",
            "extrahepatic_spread": "no",
        }
    )
    for session in range(3):
        rows["tace"].append(
            {
                "site_patient_ref": ref,
                "start_date": index + dt.timedelta(days=35 * session),
                "technique": "ctace",
                "session_number": session + 1,
                "chemo_agent": "epirubicin",
                "chemo_dose_mg": 50,
                "lipiodol_ml": round(rng.uniform(5, 15), 1),
                "selectivity": "segmental",
                "embolization_endpoint": "near_stasis",
                "technically_adequate": "yes",
            }
        )
    rows["systemic"].append(
        {
            "site_patient_ref": ref,
            "start_date": index + dt.timedelta(days=80),
            "intent": "after_refractoriness",
            "line_number": 1,
            "agent": "lenvatinib",
            "dose": 8 if weight < 60 else 12,
            "dose_unit": "mg",
            "schedule": "once daily",
            "stop_reason": "ongoing",
        }
    )
    sizes = [round(rng.uniform(20, 60), 1), round(rng.uniform(12, 30), 1)]
    shrink = rng.uniform(0.5, 1.1)
    for baseline, day in (
        (True, index - dt.timedelta(days=5)),
        (False, index + dt.timedelta(days=60)),
    ):
        rows["imaging"].append(
            {
                "site_patient_ref": ref,
                "assessment_date": day,
                "is_baseline": "yes" if baseline else "no",
                "modality": "ct",
                "criteria": "mrecist",
                "reviewer": "site",
            }
        )
        for lesion, size in enumerate(sizes, start=1):
            rows["lesions"].append(
                {
                    "site_patient_ref": ref,
                    "assessment_date": day,
                    "is_baseline": "yes" if baseline else "no",
                    "lesion_number": lesion,
                    "organ": "liver",
                    "diameter_mm": size if baseline else round(size * shrink, 1),
                }
            )
    rows["adverse_events"].append(
        {
            "site_patient_ref": ref,
            "ctcae_term": "hypertension",
            "grade": rng.choice([1, 2]),
            "onset_date": index + dt.timedelta(days=20),
            "attribution": "systemic",
            "relatedness": "probable",
            "outcome": "resolved",
        }
    )
    rows["follow_up"].append(
        {
            "site_patient_ref": ref,
            "contact_date": index + dt.timedelta(days=200),
            "vital_status": "alive",
        }
    )
    if rng.random() < 0.2:
        rows["death"].append(
            {
                "site_patient_ref": ref,
                "death_date": index + dt.timedelta(days=300),
                "cause": "tumour_progression",
            }
        )


def _table(name: str, section_rows: list[dict]) -> tuple[list[str], list[list]]:
    header = [c for c in sections()[name].column_names if any(c in r for r in section_rows[:50])]
    return header, [[row.get(column) for column in header] for row in section_rows]


def as_workbook(rows: Rows) -> bytes:
    return xlsx_bytes((name, *_table(name, data)) for name, data in rows.items() if data)


def as_csv_files(rows: Rows) -> list[tuple[str, bytes]]:
    files = []
    for name, data in rows.items():
        if data:
            header, table = _table(name, data)
            files.append((f"{name}.csv", csv_bytes(header, table)))
    return files


def as_csv_zip(rows: Rows) -> bytes:
    return zip_bytes(as_csv_files(rows))

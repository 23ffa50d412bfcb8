"""The data dictionary of the analysis dataset: label, type, unit and coding of every column.

Investigators re-run analyses in SPSS or Stata from the exported dataset, so each column is
described where they will look for it (the dictionary CSV and the variable labels of the .sav
and .dta files). Adverse-event columns depend on the CTCAE terms present in the data, so they
are described from their name; any other unknown column gets a generic description rather
than being left out.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from analytics import covariates

YES_NO = "1 = yes, 0 = no, empty = unknown"
REFRACTORY = "refractory / not_refractory / indeterminate; empty = not evaluated"
# The registry's CTCAE list (plain CSV, read without Django) gives readable term names.
CTCAE_TERMS_CSV = Path(__file__).resolve().parents[2] / "registry" / "data" / "ctcae_v5_terms.csv"


@dataclass(frozen=True)
class ColumnInfo:
    label: str
    type: str  # integer, float, string, date, boolean
    unit: str = ""
    coding: str = ""


COLUMNS: dict[str, ColumnInfo] = {
    "patient_id": ColumnInfo("Registry patient number (internal)", "integer"),
    "study_id": ColumnInfo("Pseudonymous study identifier", "string"),
    "site": ColumnInfo("Enrolling site code", "string"),
    "sex": ColumnInfo("Sex", "string", coding="male / female"),
    "age": ColumnInfo("Age at the index date", "float", "years"),
    "index_date": ColumnInfo("Index date (start of the studied treatment line)", "date"),
    "ecog_ps": ColumnInfo("ECOG performance status at baseline", "integer", coding="0-4"),
    "chronic_hepatitis": ColumnInfo("History of chronic hepatitis", "integer", coding=YES_NO),
    "hbv": ColumnInfo("Hepatitis B aetiology", "boolean", coding=YES_NO),
    "hcv": ColumnInfo("Hepatitis C aetiology", "boolean", coding=YES_NO),
    "albi_score": ColumnInfo("ALBI score at baseline", "float", coding="continuous"),
    "albi_grade": ColumnInfo("ALBI grade at baseline", "string", coding="1 / 2 / 3"),
    "child_pugh_score": ColumnInfo("Child-Pugh score at baseline", "integer", "points", "5-15"),
    "child_pugh_class": ColumnInfo("Child-Pugh class at baseline", "string", coding="A / B / C"),
    "bclc_stage": ColumnInfo(
        "BCLC stage used (override where recorded)", "string", coding="0 / A / B / C / D"
    ),
    "bclc_stage_derived": ColumnInfo(
        "BCLC stage derived from the CRF (Reig 2022)", "string", coding="0 / A / B / C / D"
    ),
    "up_to_seven_within": ColumnInfo("Within the up-to-seven criterion", "boolean", coding=YES_NO),
    "best_response": ColumnInfo(
        "Best overall response (mRECIST) from the index date to the cut-off",
        "string",
        coding="CR / PR / SD / PD; empty = no evaluable assessment",
    ),
    "objective_response": ColumnInfo("Objective response (CR or PR)", "boolean", coding=YES_NO),
    "disease_control": ColumnInfo("Disease control (CR, PR or SD)", "boolean", coding=YES_NO),
    "imaging_progression_date": ColumnInfo("First mRECIST progression on imaging", "date"),
    "albumin_g_l": ColumnInfo("Serum albumin at baseline", "float", "g/L"),
    "total_bilirubin_umol_l": ColumnInfo("Total bilirubin at baseline", "float", "µmol/L"),
    "afp_ng_ml": ColumnInfo("Alpha-fetoprotein at baseline", "float", "ng/mL"),
    "tumour_number": ColumnInfo("Number of intrahepatic tumours", "integer", "lesions"),
    "max_diameter_cm": ColumnInfo("Maximum tumour diameter", "float", "cm"),
    "macrovascular_invasion": ColumnInfo("Macrovascular invasion", "integer", coding=YES_NO),
    "extrahepatic_spread": ColumnInfo("Extrahepatic spread", "integer", coding=YES_NO),
    "arteriovenous_fistula": ColumnInfo("Arteriovenous fistula", "integer", coding=YES_NO),
    "extrahepatic_blood_supply": ColumnInfo(
        "Extrahepatic blood supply to the tumour", "integer", coding=YES_NO
    ),
    "death_date": ColumnInfo("Date of death (up to the cut-off)", "date"),
    "death_cause": ColumnInfo("Cause of death", "string"),
    "arm": ColumnInfo("Treatment arm (arm definition name)", "string"),
    "tace_sessions": ColumnInfo("TACE sessions from the index date to the cut-off", "integer"),
    "refractory_jsh_lcsgj_2014": ColumnInfo(
        "TACE refractoriness, JSH-LCSGJ 2014 rule set", "string", coding=REFRACTORY
    ),
    "refractory_seed002_operational": ColumnInfo(
        "TACE refractoriness, seed 002 operational rule set", "string", coding=REFRACTORY
    ),
    "refractory_progression_after_n_cycles": ColumnInfo(
        "TACE resistance: progression after N TACE cycles, N = the run's 'TACE resistance "
        "assessed after (cycles)' (seed 000: 3), at the data cut-off",
        "string",
        coding=REFRACTORY,
    ),
    "os_months": ColumnInfo("Overall survival time", "float", "months"),
    "os_event": ColumnInfo("Overall survival event", "integer", coding="1 = death, 0 = censored"),
    "pfs_months": ColumnInfo("Progression-free survival time", "float", "months"),
    "pfs_event": ColumnInfo(
        "Progression-free survival event",
        "integer",
        coding="1 = progression or death, 0 = censored",
    ),
    "progression_date": ColumnInfo("Date of first progression", "date"),
    "ae_any": ColumnInfo(
        "Any adverse event from the index date to the cut-off", "integer", "", YES_NO
    ),
    "ae_grade3plus": ColumnInfo("Any adverse event of CTCAE grade ≥ 3", "integer", coding=YES_NO),
}


def _covariate_column(covariate: covariates.Covariate) -> ColumnInfo:
    """A coded model covariate, described by the covariate registry that codes it."""
    binary = covariate.coding == covariates.Coding.BINARY
    unit = covariate.unit
    if covariate.coding == covariates.Coding.LOG10:
        unit = f"log10 {unit}"
    return ColumnInfo(
        f"Model covariate: {covariate.label}",
        "integer" if binary else "float",
        "" if binary else unit,
        coding=f"{covariate.coding_text}; empty = unknown",
    )


COLUMNS.update({c.name: _covariate_column(c) for c in covariates.derived_covariates()})


@cache
def ctcae_term_names() -> dict[str, str]:
    """CTCAE term code → term name from the registry's term list; empty if it is absent."""
    if not CTCAE_TERMS_CSV.exists():
        return {}
    with CTCAE_TERMS_CSV.open(encoding="utf-8") as handle:
        return {row["code"]: row["term"] for row in csv.DictReader(handle)}


def ae_term_label(code: str) -> str:
    """A readable name for a CTCAE term code, e.g. ``rash_maculo_papular`` → "Rash maculo-papular"."""
    return ctcae_term_names().get(code) or code.replace("_", " ").capitalize()


def ae_term_codes(columns: pd.Index | list[str]) -> list[str]:
    """Term codes of the per-term adverse-event columns (``ae_<code>`` with ``ae_<code>_grade``)."""
    names = set(columns)
    return sorted(
        c[3:-6] for c in names if c.startswith("ae_") and c.endswith("_grade") and c[:-6] in names
    )


def describe_column(column: str, dtype: object = None) -> ColumnInfo:
    """The dictionary entry of one column (generic for a column this module does not know)."""
    if column in COLUMNS:
        return COLUMNS[column]
    if column.startswith("ae_") and column.endswith("_grade"):
        term = ae_term_label(column[3:-6])
        return ColumnInfo(
            f"Adverse event {term}: worst CTCAE v5.0 grade",
            "float",
            "CTCAE grade",
            "1-5; empty = no event",
        )
    if column.startswith("ae_"):
        term = ae_term_label(column[3:])
        return ColumnInfo(f"Adverse event {term}: any grade", "integer", coding=YES_NO)
    from analytics import covariates  # the coding of a covariate built for a run

    covariate = covariates.COVARIATES.get(column)
    if covariate is not None:
        kind = "string" if covariate.coding == covariates.Coding.CATEGORICAL else "float"
        return ColumnInfo(
            f"Model covariate: {covariate.label} (from {covariate.source})",
            kind,
            covariate.unit,
            covariate.coding_text,
        )
    return ColumnInfo(column, _generic_type(dtype), coding="no description in the dictionary")


def _generic_type(dtype: object) -> str:
    if dtype is None:
        return "string"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    return "string"


DICTIONARY_COLUMNS = ["column", "label", "type", "unit", "coding"]


def default_dictionary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column of ``frame`` (in order): column, label, type, unit, coding."""
    rows = []
    for column in frame.columns:
        info = describe_column(str(column), frame[column].dtype)
        rows.append(
            {
                "column": str(column),
                "label": info.label,
                "type": info.type,
                "unit": info.unit,
                "coding": info.coding,
            }
        )
    return pd.DataFrame(rows, columns=DICTIONARY_COLUMNS)

"""A dataset laid out from seed 002's published counts (Tables 1–3), in the selector's columns.

Only the marginal counts are real, so the frame reproduces each table row's χ² but carries no
association between variables (see ``analytics.stats.table1.patients_from_counts``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.stats.table1 import patients_from_counts
from tests.analytics.stats.seed002 import (
    ADVERSE_EVENTS,
    ANY_ADVERSE_EVENT,
    ARM_SIZES,
    BEST_RESPONSE,
    COMBINED,
    SYSTEMIC,
    TABLE1_COUNTS,
    yes_no,
)

CONTROL, TREATMENT = SYSTEMIC, COMBINED
# Seed 002 Table 3 terms as CTCAE v5.0 codes of the registry (pain has none: a custom code).
TERM_CODES = {
    "pain": "pain",
    "fever": "fever",
    "vomiting": "vomiting",
    "hypertension": "hypertension",
    "hand-foot syndrome": "palmar_plantar_erythrodysesthesia",
    "rash": "rash_maculo_papular",
    "hypothyroidism": "hypothyroidism",
    "diarrhea": "diarrhea",
    "ALT/AST increased": "alt_increased",
    "bilirubin increased": "bilirubin_increased",
}
YES_NO_FLAGS = ("chronic_hepatitis", "arteriovenous_fistula", "extrahepatic_blood_supply")


def seed002_frame() -> pd.DataFrame:
    variables = {
        "sex": TABLE1_COUNTS["gender"],
        "child_pugh_class": TABLE1_COUNTS["child_pugh_class"],
        "tumour_count": TABLE1_COUNTS["tumour_number"],
        "bclc_stage": TABLE1_COUNTS["bclc_stage"],
        **{flag: TABLE1_COUNTS[flag] for flag in YES_NO_FLAGS},
        "best_response": BEST_RESPONSE,
        "ae_any": yes_no(*ANY_ADVERSE_EVENT),
        **{f"ae_{TERM_CODES[t]}": yes_no(*counts) for t, counts in ADVERSE_EVENTS.items()},
    }
    frame = patients_from_counts(ARM_SIZES, variables)
    frame.insert(0, "patient_id", np.arange(1, len(frame) + 1))
    for flag in YES_NO_FLAGS:
        frame[flag] = frame[flag].map({"yes": 1.0, "no": 0.0})
    frame["tumour_multiple"] = frame.pop("tumour_count").map({"single": 0.0, "multiple": 1.0})
    frame["tumour_number"] = frame["tumour_multiple"].map({0.0: 1, 1.0: 3})
    for column in [c for c in frame.columns if c.startswith("ae_")]:
        flag = frame[column].map({"yes": 1, "no": 0})
        frame[column] = flag
        if column != "ae_any":
            frame[f"{column}_grade"] = np.where(flag == 1, 1.0, np.nan)
    frame["ae_grade3plus"] = 0
    return frame

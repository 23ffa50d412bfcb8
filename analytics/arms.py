"""The four arms of the seed reports (CRF.md §4) by their rule names, as treatment patterns.

The arms are data: each saved ``ArmDefinition`` holds a treatment pattern evaluated by
``analytics.groupings`` (one implementation, column-wise, for the dataset selector, the
patient list's arm filter and one patient's page alike). This module only names the four
seed rules — ``tace_alone``, ``tace_pd1_mtt``, ``systemic_alone``,
``local_plus_systemic`` — as their patterns (``analytics.groupings.seed_pattern``), for code
and tests that speak of a rule and a window:

* TACE alone: has a TACE; none of [systemic therapy] started from the first TACE to
  ``window_days`` after it.
* TACE + PD-(L)1 + MTT: has a TACE; all of [PD-1/PD-L1 antibody, TKI] started in that window.
* Systemic therapy alone: has an index date; all of [systemic therapy] and none of [local
  therapy: TACE, HAIC, radiotherapy, other local procedure] started from the index date to
  ``window_days`` after it.
* Local + systemic: has an index date; all of [systemic therapy, local therapy] in that window.

Until patterns-v1 these were four functions; ``tests/analytics/test_arm_patterns_equal_rules.py``
keeps a frozen copy of them and checks the patterns select the same patients.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.groupings import (
    LOCAL_MODALITIES,
    PATTERN_VERSION,
    TreatmentRow,
    pattern_matches,
    seed_pattern,
)
from analytics.groupings import matches as pattern_matches_one

ARM_RULES_VERSION = PATTERN_VERSION
RULES = ("tace_alone", "tace_pd1_mtt", "systemic_alone", "local_plus_systemic")
# The least a treatment frame has (the selector's also carries the systemic agent).
TREATMENT_COLUMNS = ["patient_id", "modality", "day", "drug_class"]

__all__ = [
    "ARM_RULES_VERSION",
    "LOCAL_MODALITIES",
    "RULES",
    "TREATMENT_COLUMNS",
    "TreatmentRow",
    "matches",
    "rule_matches",
]


def _pattern(rule: str, window_days: int):
    if rule not in RULES:
        raise KeyError(f"unknown arm rule {rule!r}; known: {', '.join(RULES)}")
    return seed_pattern(rule, window_days)


def rule_matches(
    rule: str,
    window_days: int,
    treatments: pd.DataFrame,
    patient_ids: pd.Series,
    index_days: np.ndarray,
) -> np.ndarray:
    """Boolean per patient of ``patient_ids``: does the patient satisfy the seed ``rule``?
    ``index_days`` are the patients' index days, NaN if none."""
    patients = pd.DataFrame(
        {
            "patient_id": patient_ids.to_numpy(),
            "index_day": np.asarray(index_days, dtype=float),
        }
    )
    return pattern_matches(_pattern(rule, window_days), treatments, patients)


def matches(
    rule: str,
    treatments: Sequence[TreatmentRow],
    *,
    window_days: int,
    index_date: dt.date | None = None,
) -> bool:
    """``rule_matches`` for one patient's treatment rows (``index_date`` None: no index date)."""
    return pattern_matches_one(_pattern(rule, window_days), treatments, index_date=index_date)

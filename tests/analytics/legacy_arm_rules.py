"""FROZEN COPY of the column-wise arm rules (analytics/arms.py at arms-v1), kept only as the
reference the treatment patterns of analytics.groupings are compared with; never imported by
the product.

Original docstring: arm rules over patients' treatment rows (CRF.md §4): arms are derived, never typed.

Each rule is written once, column-wise: over a frame of treatment rows (``TREATMENT_COLUMNS``:
patient_id, modality, day as days since 1970-01-01, drug_class) for any number of patients at
once, as the dataset selector and the patient list's arm filter apply it to 100,000 patients.
``matches`` answers for one patient's ``TreatmentRow`` tuples by calling the same rule on a
one-patient frame, so there is no second implementation to keep in step.

A window is inclusive at both ends: a treatment started on day ``anchor + window_days`` is in
it. Pure pandas/numpy, no Django import: tested without a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

ARM_RULES_VERSION = "arms-v1"
LOCAL_MODALITIES = frozenset({"tace", "haic", "radiotherapy", "local_procedure"})
CHECKPOINT_INHIBITORS = frozenset({"pd1", "pdl1"})  # the "PD-(L)1" of TACE + PD-(L)1 + MTT
MOLECULAR_TARGETED = "tki"  # the "MTT"
TREATMENT_COLUMNS = ["patient_id", "modality", "day", "drug_class"]

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class TreatmentRow:
    modality: str  # tace | haic | radiotherapy | local_procedure | systemic
    start_date: dt.date
    drug_class: str = ""  # systemic only: tki | pd1 | pdl1 | ctla4 | anti_vegf
    intent: str = "initial"


# --- the rules, for all patients at once ------------------------------------------------------
#
# Each takes the treatment rows (only those of ``patient_ids`` matter), the patients and their
# index days (NaN: no index date) and returns a boolean per patient, in ``patient_ids`` order.


def tace_alone(
    rows: pd.DataFrame, patient_ids: pd.Series, index_days: np.ndarray, *, window_days: int
) -> np.ndarray:
    """TACE, and no systemic therapy started within the window after the first TACE.

    The window runs from the day of the patient's first TACE to ``window_days`` after it. A
    patient without TACE is never in this arm; the index date plays no part.
    """
    first = _first_tace_day(rows)
    has_tace = patient_ids.isin(first.index).to_numpy()
    systemic_in = _systemic_after(rows, rows["patient_id"].map(first), window_days)
    return has_tace & ~_any_per_patient(rows, systemic_in, patient_ids)


def tace_pd1_mtt(
    rows: pd.DataFrame, patient_ids: pd.Series, index_days: np.ndarray, *, window_days: int
) -> np.ndarray:
    """TACE, and a PD-1/PD-L1 antibody and a TKI each started within the window of the first TACE.

    The window runs from the day of the patient's first TACE to ``window_days`` after it; both
    drugs must start in it (one of them alone is not enough). A patient without TACE is never
    in this arm; the index date plays no part.
    """
    systemic_in = _systemic_after(rows, rows["patient_id"].map(_first_tace_day(rows)), window_days)
    drug = rows["drug_class"]
    checkpoint = systemic_in & drug.isin(CHECKPOINT_INHIBITORS).to_numpy()
    targeted = systemic_in & (drug == MOLECULAR_TARGETED).to_numpy()
    return _any_per_patient(rows, checkpoint, patient_ids) & _any_per_patient(
        rows, targeted, patient_ids
    )


def systemic_alone(
    rows: pd.DataFrame, patient_ids: pd.Series, index_days: np.ndarray, *, window_days: int
) -> np.ndarray:
    """Seed 002 control: systemic therapy from the index date, no local therapy in the window.

    The window runs from the index date to ``window_days`` after it. Local therapy is any of
    ``LOCAL_MODALITIES`` (TACE, HAIC, radiotherapy, other local procedures). A patient without
    an index date is never in this arm.
    """
    systemic_in, local_in = _systemic_and_local_after_index(
        rows, patient_ids, index_days, window_days
    )
    return systemic_in & ~local_in


def local_plus_systemic(
    rows: pd.DataFrame, patient_ids: pd.Series, index_days: np.ndarray, *, window_days: int
) -> np.ndarray:
    """Seed 002: systemic therapy plus a local therapy (mTACE, HAIC, radiotherapy, ...) in the window.

    The window runs from the index date to ``window_days`` after it, and both the systemic and
    the local therapy (any of ``LOCAL_MODALITIES``) must start in it. A patient without an
    index date is never in this arm.
    """
    systemic_in, local_in = _systemic_and_local_after_index(
        rows, patient_ids, index_days, window_days
    )
    return systemic_in & local_in


Rule = Callable[..., np.ndarray]
RULES: dict[str, Rule] = {
    "tace_alone": tace_alone,
    "tace_pd1_mtt": tace_pd1_mtt,
    "systemic_alone": systemic_alone,
    "local_plus_systemic": local_plus_systemic,
}


def rule_matches(
    rule: str,
    window_days: int,
    treatments: pd.DataFrame,
    patient_ids: pd.Series,
    index_days: np.ndarray,
) -> np.ndarray:
    """Boolean per patient of ``patient_ids``: does the patient's treatment history satisfy
    ``rule`` (a key of ``RULES``)? ``index_days`` are the patients' index days, NaN if none.

    ``treatments`` may hold other patients' rows too: they are dropped first and never change
    the answer for a patient.
    """
    evaluate = RULES[rule]
    rows = treatments[treatments["patient_id"].isin(patient_ids)]
    return evaluate(rows, patient_ids, np.asarray(index_days, dtype=float), window_days=window_days)


def matches(
    rule: str,
    treatments: Sequence[TreatmentRow],
    *,
    window_days: int,
    index_date: dt.date | None = None,
) -> bool:
    """``rule_matches`` for one patient's treatment rows (``index_date`` None: no index date)."""
    rows = pd.DataFrame(
        {
            "patient_id": np.zeros(len(treatments), dtype=np.int64),
            "modality": pd.Series([t.modality for t in treatments], dtype=object),
            "day": np.array([_epoch_day(t.start_date) for t in treatments], dtype=float),
            "drug_class": pd.Series([t.drug_class for t in treatments], dtype=object),
        },
        columns=TREATMENT_COLUMNS,
    )
    index_day = np.nan if index_date is None else _epoch_day(index_date)
    hit = rule_matches(rule, window_days, rows, pd.Series([0]), np.array([index_day]))
    return bool(hit[0])


# --- helpers ----------------------------------------------------------------------------------


def _epoch_day(day: dt.date) -> float:
    return float(day.toordinal() - _EPOCH_ORDINAL)


def _within(day: np.ndarray, anchor: np.ndarray, window_days: int) -> np.ndarray:
    """Started in the window: from the anchor day to ``window_days`` after it, both included.

    A NaN anchor (no first TACE, no index date) puts no row in the window.
    """
    return (day >= anchor) & (day <= anchor + window_days)


def _any_per_patient(rows: pd.DataFrame, mask: np.ndarray, patient_ids: pd.Series) -> np.ndarray:
    """Per patient of ``patient_ids``: does any of the patient's rows satisfy ``mask``?"""
    return patient_ids.isin(rows["patient_id"].to_numpy()[mask]).to_numpy()


def _first_tace_day(rows: pd.DataFrame) -> pd.Series:
    """Day of each patient's first TACE, by patient id (patients without TACE are absent)."""
    return rows.loc[rows["modality"] == "tace"].groupby("patient_id")["day"].min()


def _systemic_after(rows: pd.DataFrame, anchor: pd.Series, window_days: int) -> np.ndarray:
    """Row mask: systemic therapy started in the window from each row's patient's ``anchor``."""
    systemic = (rows["modality"] == "systemic").to_numpy()
    return systemic & _within(
        rows["day"].to_numpy(dtype=float), anchor.to_numpy(dtype=float), window_days
    )


def _systemic_and_local_after_index(
    rows: pd.DataFrame, patient_ids: pd.Series, index_days: np.ndarray, window_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per patient: systemic therapy, and local therapy, started in the window from the index."""
    anchor = rows["patient_id"].map(pd.Series(index_days, index=patient_ids.to_numpy()))
    within = _within(rows["day"].to_numpy(dtype=float), anchor.to_numpy(dtype=float), window_days)
    systemic = (rows["modality"] == "systemic").to_numpy()
    local = rows["modality"].isin(LOCAL_MODALITIES).to_numpy()
    return (
        _any_per_patient(rows, systemic & within, patient_ids),
        _any_per_patient(rows, local & within, patient_ids),
    )

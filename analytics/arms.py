"""Arm rules over a patient's treatment rows (CRF.md §4): arms are derived, never typed.

Pure functions over plain tuples so they are tested without a database and applied to 100,000
patients in one pass by the dataset selector.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

ARM_RULES_VERSION = "arms-v1"
LOCAL_MODALITIES = frozenset({"tace", "haic", "radiotherapy", "local_procedure"})


@dataclass(frozen=True)
class TreatmentRow:
    modality: str  # tace | haic | radiotherapy | local_procedure | systemic
    start_date: dt.date
    drug_class: str = ""  # systemic only: tki | pd1 | pdl1 | ctla4 | anti_vegf
    intent: str = "initial"


def _within(day: dt.date, anchor: dt.date, window_days: int) -> bool:
    return anchor <= day <= anchor + dt.timedelta(days=window_days)


def first_tace(treatments: Sequence[TreatmentRow]) -> dt.date | None:
    days = [t.start_date for t in treatments if t.modality == "tace"]
    return min(days) if days else None


def tace_alone(treatments: Sequence[TreatmentRow], *, window_days: int, index_date=None) -> bool:
    """TACE, and no systemic therapy started within the window after the first TACE."""
    anchor = first_tace(treatments)
    if anchor is None:
        return False
    return not any(
        t.modality == "systemic" and _within(t.start_date, anchor, window_days) for t in treatments
    )


def tace_pd1_mtt(treatments: Sequence[TreatmentRow], *, window_days: int, index_date=None) -> bool:
    """TACE, and a PD-1/PD-L1 antibody and a TKI each started within the window of the first TACE."""
    anchor = first_tace(treatments)
    if anchor is None:
        return False
    started = {
        t.drug_class
        for t in treatments
        if t.modality == "systemic" and _within(t.start_date, anchor, window_days)
    }
    return bool(started & {"pd1", "pdl1"}) and "tki" in started


def _after_index(treatments, index_date, window_days):
    if index_date is None:
        return None, None
    systemic = any(
        t.modality == "systemic" and _within(t.start_date, index_date, window_days)
        for t in treatments
    )
    local = any(
        t.modality in LOCAL_MODALITIES and _within(t.start_date, index_date, window_days)
        for t in treatments
    )
    return systemic, local


def systemic_alone(
    treatments: Sequence[TreatmentRow], *, window_days: int, index_date=None
) -> bool:
    """Seed 002 control: systemic therapy from the index date, no local therapy in the window."""
    systemic, local = _after_index(treatments, index_date, window_days)
    return bool(systemic) and not local


def local_plus_systemic(
    treatments: Sequence[TreatmentRow], *, window_days: int, index_date=None
) -> bool:
    """Seed 002: systemic therapy plus a local therapy (mTACE, HAIC, radiotherapy, ...) in the window."""
    systemic, local = _after_index(treatments, index_date, window_days)
    return bool(systemic) and bool(local)


RULES = {
    "tace_alone": tace_alone,
    "tace_pd1_mtt": tace_pd1_mtt,
    "systemic_alone": systemic_alone,
    "local_plus_systemic": local_plus_systemic,
}


def matches(
    rule: str, treatments: Sequence[TreatmentRow], *, window_days: int, index_date=None
) -> bool:
    return RULES[rule](treatments, window_days=window_days, index_date=index_date)

"""Tumour response per imaging assessment (mRECIST, RECIST 1.1) and per patient and line.

Sources: Lencioni R, Llovet JM. Modified RECIST (mRECIST) assessment for hepatocellular carcinoma.
Semin Liver Dis 2010;30:52-60 (viable, arterially enhancing diameters); Eisenhauer EA et al.
New response evaluation criteria in solid tumours: RECIST 1.1. Eur J Cancer 2009;45:228-47.

Rules as in CRF.md §5, per follow-up assessment, against the line's baseline scan:
- CR: all target lesions have no viable tumour (sum 0) and no new lesion.
- PD: sum >= 1.20 x nadir sum (the smallest sum recorded so far, baseline included), or new
  lesion, or non-target progression. RECIST 1.1 PD also needs an absolute increase >= 5 mm.
- PR: sum <= 0.70 x baseline sum (and not PD). SD: otherwise.
- NE (not evaluable): a follow-up assessment that does not measure every baseline target lesion,
  unless it shows PD by a new lesion or non-target progression. A partial sum never gives CR or
  PR, and never becomes the nadir.

Per patient (per treatment line): best overall response = the best response recorded from the
line's baseline up to and including the first PD (RECIST 1.1 §4.4: nothing after a PD counts);
CR > PR > SD > PD > NE. Objective response = CR or PR; disease control = CR, PR or SD. No
confirmation scan is required (the seeds report unconfirmed best response).

The per-patient rules are written once, column-wise (``line_responses``, ``response_rates``),
for the analysis dataset's 100,000 patients and the registry's refresh of a chunk of patients;
``best_overall_response``/``objective_response``/``disease_control`` run them on one patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

RESPONSE_VERSION = "mrecist-2010/recist-1.1:3"

PD_INCREASE = 0.20
PR_DECREASE = 0.30
RECIST_MIN_ABSOLUTE_INCREASE_MM = 5.0
NOT_EVALUABLE = "NE"
# Best first. NE ranks last: it is the best overall response only when nothing else is known.
RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3, NOT_EVALUABLE: 4}
OBJECTIVE_RESPONSE = ("CR", "PR")
DISEASE_CONTROL = ("CR", "PR", "SD")
EVALUABLE = ("CR", "PR", "SD", "PD")
# Sums are in mm with at most 1-2 decimals; a tolerance far below that keeps the cut-offs inclusive
# under floating point (0.7 x 11 is 7.699999999999999, 16.4 - 11.4 is 4.999999999999998).
EPS_MM = 1e-9


class AssessmentInput(NamedTuple):
    assessment_date: dt.date
    # Target lesion number -> longest (viable) diameter in mm measured on this scan.
    target_lesions_mm: Mapping[int, float]
    new_lesion: bool
    non_target_progression: bool


class AssessmentResponse(NamedTuple):
    assessment_date: dt.date
    response: str | None
    target_sum_mm: float | None  # None unless every baseline target lesion is measured
    nadir_before_mm: float | None
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    reason: str
    missing: tuple[str, ...]


def target_sum(lesions_mm: Mapping[int, float]) -> float | None:
    return float(sum(lesions_mm.values())) if lesions_mm else None


def derive_responses(
    *,
    criteria: str,
    baseline_lesions_mm: Mapping[int, float] | None,
    assessments: Sequence[AssessmentInput],
) -> list[AssessmentResponse]:
    """One response per follow-up assessment, in date order (ties keep their given order)."""
    baseline_lesions = dict(baseline_lesions_mm or {})
    baseline = target_sum(baseline_lesions)
    results = []
    nadir = baseline
    for assessment in sorted(assessments, key=lambda a: a.assessment_date):
        result = _respond(criteria, baseline_lesions, baseline, nadir, assessment)
        results.append(result)
        if result.target_sum_mm is not None and nadir is not None:
            nadir = min(nadir, result.target_sum_mm)
    return results


def _respond(
    criteria: str,
    baseline_lesions: dict[int, float],
    baseline: float | None,
    nadir: float | None,
    a: AssessmentInput,
) -> AssessmentResponse:
    unmeasured = sorted(set(baseline_lesions) - set(a.target_lesions_mm))
    complete = baseline is not None and not unmeasured
    total = target_sum(a.target_lesions_mm) if complete else None
    from_baseline = _pct(total, baseline)
    from_nadir = _pct(total, nadir)

    def result(
        response: str | None, reason: str, missing: tuple[str, ...] = ()
    ) -> AssessmentResponse:
        return AssessmentResponse(
            a.assessment_date, response, total, nadir, from_baseline, from_nadir, reason, missing
        )

    if a.new_lesion:
        return result("PD", "new lesion")
    if a.non_target_progression:
        return result("PD", "unequivocal progression of non-target disease")
    if baseline is None:
        return result(None, "no baseline target sum", ("baseline target lesions",))
    if unmeasured:
        numbers = ", ".join(str(n) for n in unmeasured)
        return result(
            NOT_EVALUABLE,
            f"not evaluable: baseline target lesion {numbers} not measured",
            tuple(f"target lesion {n}" for n in unmeasured),
        )
    if _is_progression(criteria, total, nadir):  # type: ignore[arg-type]
        return result("PD", f"target sum {total:g} mm is >= 120% of the nadir {nadir:g} mm")
    if total == 0:
        return result("CR", "no viable target tumour and no new lesion")
    if total <= (1 - PR_DECREASE) * baseline + EPS_MM:  # type: ignore[operator]
        return result("PR", f"target sum {total:g} mm is <= 70% of the baseline {baseline:g} mm")
    return result("SD", "neither PR nor PD")


def _is_progression(criteria: str, total: float, nadir: float) -> bool:
    # A zero nadir (complete response) makes any reappearing viable tumour progression.
    if total <= 0 or total < (1 + PD_INCREASE) * nadir - EPS_MM:
        return False
    if criteria == "recist11":
        return total - nadir >= RECIST_MIN_ABSOLUTE_INCREASE_MM - EPS_MM
    return True


def _pct(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return round(100 * (value - reference) / reference, 2)


def first_progression_date(results: Iterable[AssessmentResponse]) -> dt.date | None:
    return min((r.assessment_date for r in results if r.response == "PD"), default=None)


# --- per patient and treatment line, column-wise ------------------------------------------------

SCAN_COLUMNS = ["patient_id", "day", "is_baseline", "response"]
LINE_COLUMNS = ["best_response", "first_pd_day", "last_evaluable_day"]


def line_responses(
    scans: pd.DataFrame,
    patient_ids: pd.Series,
    index_days: np.ndarray,
    cutoff_day: float = np.inf,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Best overall response, first PD and last evaluable scan of each patient's studied line.

    ``scans``: ``SCAN_COLUMNS`` (day: days since 1970-01-01; response: the derived per-scan
    response, "" when none), for any number of patients; rows of other patients are ignored.
    The studied line is the latest baseline scan on or before the index date (without an index
    date or such a baseline: the first baseline) and the follow-ups after it up to the next
    baseline (a follow-up on the day of a baseline belongs to that baseline's series). Only
    follow-ups dated by ``cutoff_day`` count (inf: no cut-off).

    Returns (per patient, indexed by ``patient_ids`` values, ``LINE_COLUMNS``; the line's
    follow-up rows by the cut-off). The best response is taken up to and including the first
    PD: a response after it does not count (RECIST 1.1 §4.4).
    """
    ids = patient_ids.to_numpy()
    index = pd.Series(np.asarray(index_days, dtype=float), index=ids)
    scans = scans[scans["patient_id"].isin(ids)]
    baselines = scans.loc[scans["is_baseline"].astype(bool), ["patient_id", "day"]]
    before = baselines[baselines["day"] <= baselines["patient_id"].map(index)]
    governing = (
        before.groupby("patient_id")["day"]
        .max()
        .combine_first(baselines.groupby("patient_id")["day"].min())
    )
    later = baselines[baselines["day"] > baselines["patient_id"].map(governing)]
    following = later.groupby("patient_id")["day"].min()
    follow_ups = scans.loc[~scans["is_baseline"].astype(bool)]
    start = follow_ups["patient_id"].map(governing)
    end = follow_ups["patient_id"].map(following).fillna(np.inf)
    day = follow_ups["day"]
    line = follow_ups[(day >= start) & (day < end) & (day <= cutoff_day)]
    first_pd = line[line["response"] == "PD"].groupby("patient_id")["day"].min()
    # Nothing after the first PD counts towards the best response.
    until_pd = line[line["day"] <= line["patient_id"].map(first_pd).fillna(np.inf)]
    rank = until_pd["response"].map(RANK)
    best_rank = until_pd.assign(rank=rank).groupby("patient_id")["rank"].min()
    names = {v: k for k, v in RANK.items()}
    evaluable = line[line["response"].isin(EVALUABLE)]
    result = pd.DataFrame(index=ids)
    best = best_rank.map(names).reindex(result.index).astype(object)
    result["best_response"] = best.where(best.notna(), None)
    result["first_pd_day"] = first_pd.reindex(result.index).astype(float)
    last = evaluable.groupby("patient_id")["day"].max()
    result["last_evaluable_day"] = last.reindex(result.index).astype(float)
    return result, line


def response_rates(best: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Objective response (CR or PR) and disease control (CR, PR or SD) per best response:
    1.0 / 0.0, NaN where the best response is unknown (None). NE counts as neither."""
    best = np.asarray(best, dtype=object)
    known = pd.notna(best)
    orr = np.where(known, np.isin(best, OBJECTIVE_RESPONSE), np.nan).astype(float)
    dcr = np.where(known, np.isin(best, DISEASE_CONTROL), np.nan).astype(float)
    return orr, dcr


def best_overall_response(responses: Iterable[str | None]) -> str | None:
    """``line_responses`` for one line's follow-up responses in date order."""
    responses = list(responses)
    scans = pd.DataFrame(
        {
            "patient_id": np.zeros(len(responses) + 1, dtype=np.int64),
            "day": np.arange(len(responses) + 1, dtype=float),
            "is_baseline": [True] + [False] * len(responses),
            "response": [""] + [r or "" for r in responses],
        },
        columns=SCAN_COLUMNS,
    )
    result, _ = line_responses(scans, pd.Series([0]), np.array([0.0]))
    return result["best_response"].iloc[0]


def objective_response(best: str | None) -> bool | None:
    value = response_rates(np.array([best], dtype=object))[0][0]
    return None if np.isnan(value) else bool(value)


def disease_control(best: str | None) -> bool | None:
    value = response_rates(np.array([best], dtype=object))[1][0]
    return None if np.isnan(value) else bool(value)

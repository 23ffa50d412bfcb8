"""Tumour response per imaging assessment (mRECIST, RECIST 1.1) and per patient.

Sources: Lencioni R, Llovet JM. Modified RECIST (mRECIST) assessment for hepatocellular carcinoma.
Semin Liver Dis 2010;30:52-60 (viable, arterially enhancing diameters); Eisenhauer EA et al.
New response evaluation criteria in solid tumours: RECIST 1.1. Eur J Cancer 2009;45:228-47.
Rules as in CRF.md §5: PD is judged against the nadir (smallest sum so far, baseline included);
RECIST 1.1 PD also needs an absolute increase of at least 5 mm. Best overall response is the best
response recorded (the seeds report unconfirmed best response).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

RESPONSE_VERSION = "mrecist-2010/recist-1.1:2"

PD_INCREASE = 0.20
PR_DECREASE = 0.30
RECIST_MIN_ABSOLUTE_INCREASE_MM = 5.0
RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}
# Sums are in mm with at most 1-2 decimals; a tolerance far below that keeps the cut-offs inclusive
# under floating point (0.7 x 11 is 7.699999999999999, 16.4 - 11.4 is 4.999999999999998).
EPS_MM = 1e-9


class AssessmentInput(NamedTuple):
    assessment_date: dt.date
    target_sum_mm: float | None
    new_lesion: bool
    non_target_progression: bool


class AssessmentResponse(NamedTuple):
    assessment_date: dt.date
    response: str | None
    nadir_before_mm: float | None
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    reason: str
    missing: tuple[str, ...]


def derive_responses(
    *, criteria: str, baseline_sum_mm: float | None, assessments: Sequence[AssessmentInput]
) -> list[AssessmentResponse]:
    """One response per follow-up assessment, in date order (ties keep their given order)."""
    results = []
    nadir = baseline_sum_mm
    for assessment in sorted(assessments, key=lambda a: a.assessment_date):
        result = _respond(criteria, baseline_sum_mm, nadir, assessment)
        results.append(result)
        if assessment.target_sum_mm is not None and nadir is not None:
            nadir = min(nadir, assessment.target_sum_mm)
    return results


def _respond(
    criteria: str, baseline: float | None, nadir: float | None, a: AssessmentInput
) -> AssessmentResponse:
    total = a.target_sum_mm
    from_baseline = _pct(total, baseline)
    from_nadir = _pct(total, nadir)

    def result(
        response: str | None, reason: str, missing: tuple[str, ...] = ()
    ) -> AssessmentResponse:
        return AssessmentResponse(
            a.assessment_date, response, nadir, from_baseline, from_nadir, reason, missing
        )

    if a.new_lesion:
        return result("PD", "new lesion")
    if a.non_target_progression:
        return result("PD", "unequivocal progression of non-target disease")
    if baseline is None:
        return result(None, "no baseline target sum", ("baseline target lesions",))
    if total is None:
        return result(None, "target lesions not measured", ("target lesion measurements",))
    if _is_progression(criteria, total, nadir):  # type: ignore[arg-type]
        return result("PD", f"target sum {total:g} mm is >= 120% of the nadir {nadir:g} mm")
    if total == 0:
        return result("CR", "no viable target tumour and no new lesion")
    if total <= (1 - PR_DECREASE) * baseline + EPS_MM:
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


def best_overall_response(responses: Iterable[str | None]) -> str | None:
    known = [r for r in responses if r in RANK]
    return min(known, key=RANK.__getitem__) if known else None


def objective_response(best: str | None) -> bool | None:
    return None if best is None else best in ("CR", "PR")


def disease_control(best: str | None) -> bool | None:
    return None if best is None else best in ("CR", "PR", "SD")


def first_progression_date(results: Iterable[AssessmentResponse]) -> dt.date | None:
    return min((r.assessment_date for r in results if r.response == "PD"), default=None)

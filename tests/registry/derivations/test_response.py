"""mRECIST / RECIST 1.1 response per assessment and per patient.

Source: CRF.md §5; Lencioni R, Llovet JM. Semin Liver Dis 2010;30:52-60 (mRECIST); Eisenhauer EA
et al. Eur J Cancer 2009;45:228-47 (RECIST 1.1). CR: sum 0 and no new lesion; PD: sum >= 1.20 x nadir
(smallest sum so far, baseline included), or new lesion, or non-target progression (RECIST 1.1 also
needs +5 mm absolute); PR: sum <= 0.70 x baseline; SD otherwise.
"""

import datetime as dt

import pytest

from registry.derivations.response import (
    AssessmentInput,
    best_overall_response,
    derive_responses,
    disease_control,
    first_progression_date,
    objective_response,
)

D0 = dt.date(2024, 1, 1)


def visit(week: int, total, *, new: bool = False, non_target: bool = False):
    """A follow-up scan; ``total`` is lesion 1's diameter, a dict of lesions, or None (none
    measured)."""
    lesions = total if isinstance(total, dict) else ({} if total is None else {1: total})
    return AssessmentInput(
        assessment_date=D0 + dt.timedelta(weeks=week),
        target_lesions_mm=lesions,
        new_lesion=new,
        non_target_progression=non_target,
    )


def responses(baseline, *visits, criteria="mrecist"):
    lesions = (
        baseline if isinstance(baseline, dict) else (None if baseline is None else {1: baseline})
    )
    return derive_responses(
        criteria=criteria, baseline_lesions_mm=lesions, assessments=list(visits)
    )


def last(baseline, *visits, criteria="mrecist"):
    return responses(baseline, *visits, criteria=criteria)[-1]


# CR


def test_sum_0_without_new_lesion_is_cr():
    """CRF.md §5: CR when all targets have no viable tumour (sum 0) and no new lesion."""
    result = last(40, visit(6, 0))
    assert result.response == "CR"
    assert result.missing == ()


def test_sum_0_with_new_lesion_is_pd_not_cr():
    """CRF.md §5: CR needs no new lesion; a new lesion is PD."""
    assert last(40, visit(6, 0, new=True)).response == "PD"


# PR / SD


def test_sum_exactly_70_percent_of_baseline_is_pr():
    """CRF.md §5: PR when sum <= 0.70 x baseline (100 -> 70)."""
    result = last(100, visit(6, 70))
    assert result.response == "PR"
    assert result.change_from_baseline_pct == -30.0


def test_sum_just_above_70_percent_of_baseline_is_sd():
    """CRF.md §5: 70.1 mm of a 100 mm baseline is not PR (and not PD) -> SD."""
    assert last(100, visit(6, 70.1)).response == "SD"


@pytest.mark.parametrize(("baseline", "total"), [(11, 7.7), (22, 15.4), (43, 30.1), (48, 33.6)])
def test_sum_exactly_70_percent_is_pr_whatever_the_baseline(baseline, total):
    """CRF.md §5: exactly 70% of the baseline is PR (no floating-point miss at 0.7 x baseline)."""
    assert last(baseline, visit(6, total)).response == "PR"


def test_sum_unchanged_is_sd():
    """CRF.md §5: neither PR nor PD -> SD."""
    assert last(50, visit(6, 50)).response == "SD"


def test_sum_just_below_120_percent_of_nadir_is_sd():
    """CRF.md §5: 59.9 mm against a 50 mm nadir (< 120%) is SD."""
    assert last(50, visit(6, 59.9)).response == "SD"


# PD


def test_sum_exactly_120_percent_of_baseline_nadir_is_pd():
    """CRF.md §5: PD when sum >= 1.20 x nadir; the baseline is the first nadir (50 -> 60)."""
    result = last(50, visit(6, 60))
    assert result.response == "PD"
    assert result.nadir_before_mm == 50
    assert result.change_from_nadir_pct == 20.0


def test_pd_is_judged_against_the_nadir_not_the_baseline():
    """CRF.md §5: baseline 100, then 50 (PR), then 60 = 120% of the nadir 50 -> PD, though 60% of baseline."""
    first, second = responses(100, visit(6, 50), visit(12, 60))
    assert first.response == "PR"
    assert second.response == "PD"
    assert second.nadir_before_mm == 50
    assert second.change_from_baseline_pct == -40.0


def test_nadir_includes_every_earlier_assessment():
    """CRF.md §5: the nadir is the smallest sum so far (100, 60, 80, 71 -> nadir 60 before the 4th)."""
    results = responses(100, visit(6, 60), visit(12, 80), visit(18, 71))
    assert [r.response for r in results] == ["PR", "PD", "SD"]
    assert results[-1].nadir_before_mm == 60


@pytest.mark.parametrize(("nadir", "total"), [(25, 30), (35, 42), (45, 54), (55, 66)])
def test_sum_exactly_120_percent_is_pd_whatever_the_nadir(nadir, total):
    """CRF.md §5: exactly 120% of the nadir is PD (no floating-point miss)."""
    assert last(nadir, visit(6, total)).response == "PD"


def test_new_lesion_is_pd_whatever_the_sum():
    """CRF.md §5: a new lesion is PD even when the target sum shrinks."""
    result = last(100, visit(6, 30, new=True))
    assert (result.response, result.reason) == ("PD", "new lesion")


def test_non_target_progression_is_pd():
    """CRF.md §5: unequivocal progression of non-target disease is PD."""
    result = last(100, visit(6, 30, non_target=True))
    assert result.response == "PD"
    assert "non-target" in result.reason


def test_reappearance_after_cr_is_pd_under_mrecist():
    """CRF.md §5: after a CR the nadir is 0, so any reappearing viable tumour (>= 1.2 x 0) is PD."""
    results = responses(40, visit(6, 0), visit(12, 5))
    assert [r.response for r in results] == ["CR", "PD"]
    assert results[-1].nadir_before_mm == 0


def test_cr_maintained_after_cr_stays_cr():
    """CRF.md §5: sum 0 after a nadir of 0 is still CR, not PD (0 >= 1.2 x 0 is no growth)."""
    assert [r.response for r in responses(40, visit(6, 0), visit(12, 0))] == ["CR", "CR"]


# RECIST 1.1 absolute +5 mm


def test_recist11_nadir_10_to_12_is_not_pd_without_5_mm_increase():
    """CRF.md §5: RECIST 1.1 PD also needs an absolute increase >= 5 mm (10 -> 12 is +20%, +2 mm)."""
    assert last(10, visit(6, 12), criteria="recist11").response == "SD"


def test_mrecist_nadir_10_to_12_is_pd():
    """CRF.md §5: mRECIST has no absolute minimum: 10 -> 12 is +20% -> PD."""
    assert last(10, visit(6, 12), criteria="mrecist").response == "PD"


def test_recist11_increase_of_exactly_5_mm_and_20_percent_is_pd():
    """CRF.md §5: RECIST 1.1 PD at +20% and +5 mm (25 -> 30)."""
    assert last(25, visit(6, 30), criteria="recist11").response == "PD"


@pytest.mark.parametrize(("nadir", "total"), [(11.4, 16.4), (12.4, 17.4), (15.9, 20.9)])
def test_recist11_increase_of_exactly_5_mm_on_decimal_sums_is_pd(nadir, total):
    """CRF.md §5: +5.0 mm exactly meets RECIST 1.1's absolute increase (no floating-point miss)."""
    assert last(nadir, visit(6, total), criteria="recist11").response == "PD"


def test_recist11_new_lesion_is_pd_without_size_rule():
    """CRF.md §5: RECIST 1.1 uses the same new-lesion rule."""
    assert last(40, visit(6, 40, new=True), criteria="recist11").response == "PD"


def test_recist11_pr_at_70_percent():
    """CRF.md §5: RECIST 1.1 uses the same PR rule (<= 70% of baseline)."""
    assert last(50, visit(6, 35), criteria="recist11").response == "PR"


# Missing inputs


def test_missing_baseline_gives_no_response_and_names_baseline():
    """CRF.md §2 convention and §5: no baseline sum -> no response, the input named."""
    result = last(None, visit(6, 40))
    assert result.response is None
    assert result.missing == ("baseline target lesions",)


def test_unmeasured_scan_is_not_evaluable_and_names_the_lesions():
    """CRF.md §5 (RECIST 1.1 §4.3.5, Eisenhauer 2009): a follow-up that measures no target
    lesion is NE, and the unmeasured lesions are named. (This test used to pin "no response";
    CRF.md §5 now names the category.)"""
    result = last(40, visit(6, None))
    assert result.response == "NE"
    assert result.target_sum_mm is None
    assert result.missing == ("target lesion 1",)


def test_new_lesion_without_baseline_is_still_pd():
    """CRF.md §5: a new lesion is PD on its own, whatever the target sums."""
    assert last(None, visit(6, None, new=True)).response == "PD"


def test_unmeasured_assessment_does_not_change_the_nadir():
    """CRF.md §5: the nadir is the smallest recorded sum; an unmeasured visit records none."""
    results = responses(50, visit(6, None), visit(12, 60))
    assert results[-1].nadir_before_mm == 50
    assert results[-1].response == "PD"


def test_responses_are_returned_in_date_order():
    """CRF.md §5: the nadir is "so far", so assessments are taken in date order."""
    results = responses(100, visit(12, 60), visit(6, 50))
    assert [r.assessment_date for r in results] == [D0 + dt.timedelta(weeks=w) for w in (6, 12)]
    assert [r.response for r in results] == ["PR", "PD"]


# Per patient


def test_best_overall_response_is_the_best_recorded_up_to_the_first_pd():
    """CRF.md §5, RECIST 1.1 §4.4 (Eisenhauer 2009): the best response recorded from the
    line's baseline up to and including the first PD (CR > PR > SD > PD). This test used to
    expect CR for PD, CR, SD: the CR after the PD does not count."""
    assert best_overall_response(["SD", "PR", "PD"]) == "PR"
    assert best_overall_response(["PD", "CR", "SD"]) == "PD"


def test_best_overall_response_ignores_empty_responses():
    """CRF.md §5: an assessment without a derived response does not count."""
    assert best_overall_response([None, "SD", None]) == "SD"
    assert best_overall_response([None]) is None
    assert best_overall_response([]) is None


@pytest.mark.parametrize(
    ("best", "orr", "dcr"),
    [("CR", True, True), ("PR", True, True), ("SD", False, True), ("PD", False, False)],
)
def test_objective_response_and_disease_control(best, orr, dcr):
    """CRF.md §5: objective response = CR or PR; disease control = CR, PR or SD."""
    assert objective_response(best) is orr
    assert disease_control(best) is dcr


def test_no_best_response_gives_no_orr_or_dcr():
    """CRF.md §2 convention: no response -> ORR and DCR empty, not False."""
    assert objective_response(None) is None
    assert disease_control(None) is None


def test_first_progression_date_is_the_earliest_pd():
    """CRF.md §5: date of first progression."""
    results = responses(100, visit(6, 50), visit(12, 60), visit(18, 90), visit(24, 40, new=True))
    assert [r.response for r in results] == ["PR", "PD", "PD", "PD"]
    assert first_progression_date(results) == D0 + dt.timedelta(weeks=12)


def test_first_progression_date_is_none_without_pd():
    """CRF.md §5: no PD -> no progression date."""
    assert first_progression_date(responses(100, visit(6, 50), visit(12, 55))) is None


# Partial target-lesion follow-up (CRF.md §5; RECIST 1.1 §4.3.5 "Missing assessments and
# inevaluable designation", Eisenhauer 2009; mRECIST follows the same lesions, Lencioni 2010)

BASELINE_TWO = {1: 40.0, 2: 30.0}


def test_partial_follow_up_is_ne_not_pr():
    """CRF.md §5: baseline 40 + 30 mm, follow-up measures lesion 1 only (20 mm): NE, never PR
    (today: PR, from the partial sum 20 <= 0.7 x 70)."""
    result = last(BASELINE_TWO, visit(6, {1: 20.0}))
    assert result.response == "NE"
    assert result.target_sum_mm is None
    assert result.missing == ("target lesion 2",)


def test_partial_follow_up_with_lesion_1_at_0_is_ne_not_cr():
    """CRF.md §5: lesion 1 = 0 mm with lesion 2 unmeasured is NE: a partial sum never gives CR."""
    assert last(BASELINE_TWO, visit(6, {1: 0.0})).response == "NE"


@pytest.mark.parametrize(("new", "non_target"), [(True, False), (False, True)])
def test_partial_follow_up_with_a_new_lesion_or_non_target_progression_is_pd(new, non_target):
    """CRF.md §5: a partial follow-up is NE unless it shows PD by a new lesion or by non-target
    progression."""
    result = last(BASELINE_TWO, visit(6, {1: 10.0}, new=new, non_target=non_target))
    assert result.response == "PD"


def test_a_partial_sum_never_becomes_the_nadir():
    """CRF.md §5: the nadir is the smallest *sum* recorded; a partial scan (20 mm of lesion 1
    only) records none, so 75 mm later is judged against the baseline 70 (SD), not 20 (PD)."""
    results = responses(BASELINE_TWO, visit(6, {1: 20.0}), visit(12, {1: 45.0, 2: 30.0}))
    assert [r.response for r in results] == ["NE", "SD"]
    assert results[-1].nadir_before_mm == 70.0


def test_complete_follow_up_of_two_lesions_is_judged_on_the_whole_sum():
    """CRF.md §5: both lesions measured, 20 + 0 = 20 <= 0.7 x 70 -> PR; 0 + 0 -> CR."""
    assert last(BASELINE_TWO, visit(6, {1: 20.0, 2: 0.0})).response == "PR"
    assert last(BASELINE_TWO, visit(6, {1: 0.0, 2: 0.0})).response == "CR"


def test_ne_does_not_count_as_a_response_in_the_best_overall_response():
    """CRF.md §5 / RECIST 1.1 §4.4: NE is not CR, PR or SD; it is the best response only when
    no assessment is evaluable, and then neither an objective response nor disease control."""
    assert best_overall_response(["NE", "SD", "NE"]) == "SD"
    assert best_overall_response(["NE"]) == "NE"
    assert objective_response("NE") is False
    assert disease_control("NE") is False


def test_a_pr_after_a_pd_does_not_make_a_responder():
    """RECIST 1.1 §4.4: SD, PD, then PR -> best SD; no objective response, disease control."""
    best = best_overall_response(["SD", "PD", "PR"])
    assert best == "SD"
    assert objective_response(best) is False
    assert disease_control(best) is True

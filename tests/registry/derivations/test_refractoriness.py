"""TACE refractoriness under the rule sets of CRF.md §6.

Source: CRF.md §6. JSH-LCSGJ 2014 (Kudo M et al. Oncology 2014;87 Suppl 1:22-31): after >= 2
consecutive adequately performed TACE sessions, (a) two consecutive insufficient responses (viable
> 50%) or two consecutive intrahepatic progressions, (b) continuous tumour-marker elevation right
after TACE, (c) new vascular invasion, (d) new extrahepatic spread. Seed 002: >= 2 consecutive
adequate sessions 4-6 weeks apart, then progression (>= 20% target sum increase or new intrahepatic
lesion) within 6 months of the last TACE. Seed 000: progression after N TACE cycles.
"""

import datetime as dt

import pytest

from registry.derivations.refractoriness import (
    INDETERMINATE,
    NOT_REFRACTORY,
    REFRACTORINESS_VERSION,
    REFRACTORY,
    MarkerValue,
    PostTaceAssessment,
    TaceSession,
    evaluate_refractoriness,
)

D0 = dt.date(2024, 1, 1)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def tace(n: int, adequate: bool | None = True) -> TaceSession:
    return TaceSession(session_date=day(n), technically_adequate=adequate)


def imaging(
    n: int,
    *,
    response: str | None = "SD",
    total: float | None = 40.0,
    viable: float | None = None,
    new_intrahepatic: bool = False,
    count: int | None = None,
    vascular: bool = False,
    extrahepatic: bool = False,
) -> PostTaceAssessment:
    return PostTaceAssessment(
        assessment_date=day(n),
        response=response,
        target_sum_mm=total,
        treated_viable_fraction_pct=viable,
        new_intrahepatic_lesion=new_intrahepatic,
        intrahepatic_lesion_count=count,
        new_vascular_invasion=vascular,
        new_extrahepatic_spread=extrahepatic,
    )


def afp(n: int, value: float) -> MarkerValue:
    return MarkerValue(sample_date=day(n), afp_ng_ml=value)


def jsh(sessions, assessments=(), markers=()):
    return evaluate_refractoriness(
        "jsh_lcsgj_2014",
        sessions=list(sessions),
        assessments=list(assessments),
        markers=list(markers),
    )


def seed002(sessions, assessments=(), baseline=40.0):
    return evaluate_refractoriness(
        "seed002_operational",
        sessions=list(sessions),
        assessments=list(assessments),
        baseline_sum_mm=baseline,
    )


def n_cycles(sessions, assessments=(), n=3):
    return evaluate_refractoriness(
        "progression_after_n_cycles",
        sessions=list(sessions),
        assessments=list(assessments),
        n_cycles=n,
    )


# Common


def test_unknown_rule_set_raises_value_error_naming_the_known_ones():
    """CRF.md §6: rule sets are selectable by name; an unknown one is refused, listing the known."""
    with pytest.raises(ValueError, match="Unknown TACE refractoriness rule set 'kudo'") as error:
        evaluate_refractoriness("kudo", sessions=[], assessments=[])
    for name in ("jsh_lcsgj_2014", "seed002_operational", "progression_after_n_cycles"):
        assert name in str(error.value)


def test_result_records_rule_set_and_version():
    """CRF.md §6: the rule set is recorded with the result (and the derivation version)."""
    result = jsh([tace(0), tace(35)], [imaging(30), imaging(70)])
    assert result.rule_set == "jsh_lcsgj_2014"
    assert result.version == REFRACTORINESS_VERSION


@pytest.mark.parametrize(
    "evaluate",
    [jsh, seed002, n_cycles],
    ids=["jsh_lcsgj_2014", "seed002_operational", "progression_after_n_cycles"],
)
def test_no_tace_session_is_indeterminate(evaluate):
    """CRF.md §6: without any TACE session refractoriness cannot be judged."""
    result = evaluate([])
    assert (result.status, result.criterion, result.criterion_date) == (INDETERMINATE, "", None)


# JSH-LCSGJ 2014


def test_jsh_two_consecutive_viable_over_50_percent_is_refractory_at_the_second():
    """CRF.md §6 JSH (a): two consecutive insufficient responses (viable > 50%) -> refractory."""
    result = jsh([tace(0), tace(35)], [imaging(28, viable=60), imaging(70, viable=55)])
    assert result.status == REFRACTORY
    assert result.criterion == "(a) two consecutive insufficient responses (viable > 50%)"
    assert result.criterion_date == day(70)


def test_jsh_viable_exactly_50_percent_is_not_an_insufficient_response():
    """CRF.md §5-6: insufficient is viable > 50%; exactly 50% twice is not refractory."""
    result = jsh([tace(0), tace(35)], [imaging(28, viable=50), imaging(70, viable=50)])
    assert (result.status, result.criterion_date) == (NOT_REFRACTORY, None)


def test_jsh_one_insufficient_response_then_a_sufficient_one_is_not_refractory():
    """CRF.md §6 JSH (a): the insufficient responses must be two consecutive ones."""
    result = jsh([tace(0), tace(35)], [imaging(28, viable=80), imaging(70, viable=20)])
    assert result.status == NOT_REFRACTORY


def test_jsh_two_consecutive_new_intrahepatic_lesions_is_refractory():
    """CRF.md §6 JSH (a): two consecutive progressions in the liver -> refractory."""
    result = jsh(
        [tace(0), tace(35)],
        [imaging(28, new_intrahepatic=True), imaging(70, new_intrahepatic=True)],
    )
    assert result.status == REFRACTORY
    assert result.criterion == "(a) two consecutive intrahepatic progressions"
    assert result.criterion_date == day(70)


def test_jsh_lesion_count_rising_after_each_tace_is_refractory():
    """CRF.md §6 JSH (a): more lesions than before the previous TACE, twice in a row (2 -> 3 -> 4)."""
    result = jsh(
        [tace(0), tace(35)],
        [imaging(-10, count=2), imaging(28, count=3), imaging(70, count=4)],
    )
    assert result.status == REFRACTORY
    assert result.criterion == "(a) two consecutive intrahepatic progressions"
    assert result.criterion_date == day(70)


def test_jsh_a_response_after_an_inadequate_session_does_not_count():
    """CRF.md §6 / Kudo 2014 JSH (a): each of the two insufficient responses must follow an
    adequately performed TACE. Adequate, adequate, inadequate: the insufficient response after
    the inadequate third session does not complete (a) (today: refractory at day 100)."""
    result = jsh(
        [tace(0), tace(35), tace(70, adequate=False)],
        [imaging(28, viable=20), imaging(60, viable=80), imaging(100, viable=80)],
    )
    assert (result.status, result.criterion_date) == (NOT_REFRACTORY, None)


def test_jsh_a_response_after_an_inadequate_session_neither_counts_nor_breaks_the_run():
    """Kudo 2014 JSH (a): insufficient after adequate session 2, the inadequate session 3 is
    skipped, insufficient after adequate session 4 -> two consecutive counted responses."""
    result = jsh(
        [tace(0), tace(35), tace(70, adequate=False), tace(105)],
        [
            imaging(28, viable=20),
            imaging(60, viable=80),
            imaging(100, viable=10),
            imaging(135, viable=80),
        ],
    )
    assert (result.status, result.criterion_date) == (REFRACTORY, day(135))
    assert result.criterion.startswith("(a) two consecutive insufficient")


def test_jsh_the_baseline_scan_is_the_reference_count_for_the_first_progression():
    """CRF.md §6 JSH (a): the lesion count of the scan before the TACE series is the reference:
    2 on the baseline scan, then 3 and 4 after two adequate sessions -> refractory at the
    second."""
    baseline = imaging(-10, response=None, count=2)._replace(is_baseline=True)
    result = jsh([tace(0), tace(35)], [baseline, imaging(28, count=3), imaging(70, count=4)])
    assert (result.status, result.criterion_date) == (REFRACTORY, day(70))
    assert result.criterion == "(a) two consecutive intrahepatic progressions"


def test_jsh_one_intrahepatic_progression_is_not_refractory():
    """CRF.md §6 JSH (a): a single intrahepatic progression is not enough (2 -> 3 -> 3)."""
    result = jsh(
        [tace(0), tace(35)],
        [imaging(-10, count=2), imaging(28, count=3), imaging(70, count=3)],
    )
    assert result.status == NOT_REFRACTORY


def test_jsh_afp_rising_after_two_consecutive_taces_is_refractory():
    """CRF.md §6 JSH (b): continuous elevation of tumour markers right after TACE."""
    result = jsh(
        [tace(0), tace(35)],
        [imaging(28), imaging(70)],
        [afp(-2, 100), afp(14, 150), afp(49, 300)],
    )
    assert result.status == REFRACTORY
    assert result.criterion == "(b) continuous tumour-marker elevation after TACE"
    assert result.criterion_date == day(49)


def test_jsh_afp_rising_after_two_taces_is_refractory_without_imaging():
    """CRF.md §6 JSH (b) is a marker criterion: it needs no imaging assessment."""
    result = jsh([tace(0), tace(35)], [], [afp(-2, 100), afp(14, 150), afp(49, 300)])
    assert (result.status, result.criterion_date) == (REFRACTORY, day(49))
    assert result.criterion.startswith("(b)")


def test_jsh_afp_falling_after_the_second_tace_is_not_refractory():
    """CRF.md §6 JSH (b): the elevation must be continuous (after each consecutive TACE)."""
    result = jsh(
        [tace(0), tace(35)],
        [imaging(28), imaging(70)],
        [afp(-2, 100), afp(14, 150), afp(33, 160), afp(49, 90)],
    )
    assert result.status == NOT_REFRACTORY


def test_jsh_new_vascular_invasion_after_the_second_adequate_tace_is_refractory():
    """CRF.md §6 JSH (c): new vascular invasion -> refractory, dated by the imaging."""
    result = jsh([tace(0), tace(35)], [imaging(28), imaging(70, vascular=True)])
    assert (result.status, result.criterion, result.criterion_date) == (
        REFRACTORY,
        "(c) new vascular invasion",
        day(70),
    )


def test_jsh_new_extrahepatic_spread_after_the_second_adequate_tace_is_refractory():
    """CRF.md §6 JSH (d): new extrahepatic spread -> refractory, dated by the imaging."""
    result = jsh([tace(0), tace(35)], [imaging(28), imaging(70, extrahepatic=True)])
    assert (result.status, result.criterion, result.criterion_date) == (
        REFRACTORY,
        "(d) new extrahepatic spread",
        day(70),
    )


def test_jsh_earliest_criterion_is_reported():
    """CRF.md §6: the criterion met and its date: the first one met."""
    result = jsh(
        [tace(0), tace(35)],
        [imaging(28, viable=70), imaging(60, viable=70), imaging(90, vascular=True)],
    )
    assert (result.criterion_date, result.criterion[:3]) == (day(60), "(a)")


def test_jsh_vascular_invasion_before_two_adequate_sessions_does_not_count():
    """CRF.md §6 JSH: criteria apply after >= 2 consecutive adequate sessions."""
    result = jsh([tace(0), tace(35)], [imaging(28, vascular=True), imaging(70)])
    assert result.status == NOT_REFRACTORY


def test_jsh_only_one_adequate_session_is_not_refractory():
    """CRF.md §6 JSH: < 2 consecutive adequate sessions cannot make a patient refractory."""
    result = jsh(
        [tace(0), tace(35, adequate=False)],
        [imaging(28, viable=80), imaging(70, viable=80, vascular=True)],
    )
    assert (result.status, result.criterion, result.criterion_date) == (NOT_REFRACTORY, "", None)
    assert "fewer than 2 consecutive adequate" in result.reason


def test_jsh_adequate_sessions_that_are_not_consecutive_do_not_count():
    """CRF.md §6 JSH: the two adequate sessions must be consecutive (adequate, not, adequate)."""
    result = jsh(
        [tace(0), tace(35, adequate=False), tace(70)],
        [imaging(28, viable=80), imaging(60, viable=80), imaging(100, viable=80)],
    )
    assert result.status == NOT_REFRACTORY


def test_jsh_single_session_is_not_refractory():
    """CRF.md §6 JSH: one session is fewer than 2 consecutive adequate sessions."""
    assert jsh([tace(0)], [imaging(28, viable=90)]).status == NOT_REFRACTORY


def test_jsh_unknown_adequacy_is_indeterminate():
    """CRF.md §6: if adequacy of a session is not recorded, "no" cannot be concluded."""
    result = jsh([tace(0), tace(35, adequate=None)], [imaging(28, viable=80), imaging(70)])
    assert result.status == INDETERMINATE
    assert "adequacy" in result.reason


def test_jsh_no_imaging_after_tace_is_indeterminate():
    """CRF.md §6: without imaging after TACE (and no marker criterion) nothing can be judged."""
    result = jsh([tace(0), tace(35)], [imaging(-10)])
    assert result.status == INDETERMINATE


def test_jsh_no_imaging_after_the_second_adequate_tace_is_indeterminate():
    """CRF.md §6 JSH: criteria are judged after the consecutive adequate sessions; imaging after
    only the first of them cannot show they are not met."""
    result = jsh([tace(0), tace(35)], [imaging(28, viable=80)])
    assert result.status == INDETERMINATE
    assert result.criterion_date is None


# Seed 002 operational definition


def test_seed002_progression_within_6_months_after_spaced_adequate_taces_is_refractory():
    """CRF.md §6 seed 002: 2 adequate sessions 4-6 weeks apart, then >= 20% target sum increase."""
    result = seed002([tace(0), tace(35)], [imaging(28, total=40), imaging(90, total=48)])
    assert result.status == REFRACTORY
    assert result.criterion == ">= 20% increase of the target sum within 6 months of TACE"
    assert result.criterion_date == day(90)


def test_seed002_new_intrahepatic_lesion_within_6_months_is_refractory():
    """CRF.md §6 seed 002: a new intrahepatic lesion within 6 months of the last TACE."""
    result = seed002([tace(0), tace(35)], [imaging(90, total=30, new_intrahepatic=True)])
    assert result.status == REFRACTORY
    assert result.criterion == "new intrahepatic lesion within 6 months of TACE"
    assert result.criterion_date == day(90)


def test_seed002_increase_is_measured_from_the_nadir():
    """CRF.md §6: >= 20% increase of the mRECIST target sum (nadir-based, as in §5): 40 -> 20 -> 24."""
    result = seed002([tace(0), tace(35)], [imaging(28, total=20), imaging(90, total=24)])
    assert (result.status, result.criterion_date) == (REFRACTORY, day(90))


def test_seed002_increase_below_20_percent_is_not_refractory():
    """CRF.md §6 seed 002: 40 -> 47.9 is < 20% -> not refractory."""
    result = seed002([tace(0), tace(35)], [imaging(28, total=40), imaging(90, total=47.9)])
    assert (result.status, result.criterion, result.criterion_date) == (NOT_REFRACTORY, "", None)


def test_seed002_sessions_27_days_apart_do_not_qualify():
    """CRF.md §6 seed 002: sessions 4-6 weeks apart; 27 days is under 4 weeks."""
    result = seed002([tace(0), tace(27)], [imaging(90, total=60)])
    assert result.status == NOT_REFRACTORY
    assert "4-6 weeks" in result.reason


def test_seed002_sessions_exactly_28_days_apart_qualify():
    """CRF.md §6 seed 002: 28 days = 4 weeks is within 4-6 weeks."""
    result = seed002([tace(0), tace(28)], [imaging(90, total=60)])
    assert (result.status, result.criterion_date) == (REFRACTORY, day(90))


def test_seed002_sessions_exactly_42_days_apart_qualify():
    """CRF.md §6 seed 002: 42 days = 6 weeks is within 4-6 weeks."""
    result = seed002([tace(0), tace(42)], [imaging(90, total=60)])
    assert (result.status, result.criterion_date) == (REFRACTORY, day(90))


def test_seed002_sessions_43_days_apart_do_not_qualify():
    """CRF.md §6 seed 002: 43 days is over 6 weeks."""
    result = seed002([tace(0), tace(43)], [imaging(90, total=60)])
    assert result.status == NOT_REFRACTORY


def test_seed002_progression_on_day_183_after_the_last_tace_is_within_6_months():
    """CRF.md §6 seed 002: progression within 6 months (183 days) after the last TACE."""
    result = seed002([tace(0), tace(35)], [imaging(35 + 183, total=60)])
    assert (result.status, result.criterion_date) == (REFRACTORY, day(35 + 183))


def test_seed002_progression_on_day_184_after_the_last_tace_is_not_within_6_months():
    """CRF.md §6 seed 002: progression later than 6 months after the last TACE does not count."""
    result = seed002([tace(0), tace(35)], [imaging(35 + 184, total=60)])
    assert result.status == NOT_REFRACTORY


def test_seed002_progression_before_the_second_session_does_not_count():
    """CRF.md §6 seed 002: progression after the consecutive sessions, not between them."""
    result = seed002([tace(0), tace(35)], [imaging(28, total=60), imaging(90, total=45)])
    assert result.status == NOT_REFRACTORY


def test_seed002_inadequate_embolization_does_not_qualify():
    """CRF.md §6 seed 002: the consecutive sessions need adequate embolization."""
    result = seed002([tace(0), tace(35, adequate=False)], [imaging(90, total=60)])
    assert result.status == NOT_REFRACTORY


def test_seed002_unknown_adequacy_is_indeterminate():
    """CRF.md §6: adequacy not recorded -> "no" cannot be concluded."""
    result = seed002([tace(0), tace(35, adequate=None)], [imaging(90, total=60)])
    assert result.status == INDETERMINATE


def test_seed002_no_imaging_after_the_last_qualifying_tace_is_indeterminate():
    """CRF.md §6 seed 002: progression after the last TACE cannot be excluded without imaging."""
    result = seed002([tace(0), tace(35)], [imaging(28, total=40)])
    assert result.status == INDETERMINATE


def test_seed002_single_session_is_not_refractory():
    """CRF.md §6 seed 002: >= 2 consecutive sessions are needed."""
    assert seed002([tace(0)], [imaging(60, total=60)]).status == NOT_REFRACTORY


# Progression after N TACE cycles (seed 000)


def three_taces():
    return [tace(0), tace(35), tace(70)]


def test_n_cycles_pd_after_the_third_session_is_refractory():
    """CRF.md §6 seed 000: progression after 3 TACE cycles -> TACE resistance."""
    result = n_cycles(three_taces(), [imaging(60, response="SD"), imaging(100, response="PD")])
    assert result.status == REFRACTORY
    assert result.criterion == "progression after 3 TACE sessions"
    assert result.criterion_date == day(100)


def test_n_cycles_pd_after_the_second_session_only_is_not_refractory():
    """CRF.md §6 seed 000: PD between the 2nd and 3rd sessions, SD after the 3rd -> not resistant."""
    result = n_cycles(three_taces(), [imaging(60, response="PD"), imaging(100, response="SD")])
    assert (result.status, result.criterion_date) == (NOT_REFRACTORY, None)


def test_n_cycles_new_intrahepatic_lesion_after_the_third_session_is_refractory():
    """CRF.md §6 seed 000: a new intrahepatic lesion after the N-th session is progression."""
    result = n_cycles(three_taces(), [imaging(100, response=None, new_intrahepatic=True)])
    assert (result.status, result.criterion_date) == (REFRACTORY, day(100))


def test_n_cycles_no_imaging_after_the_third_session_is_indeterminate():
    """CRF.md §6 seed 000: without imaging after the 3rd session nothing can be judged."""
    result = n_cycles(three_taces(), [imaging(60, response="PD")])
    assert result.status == INDETERMINATE


def test_n_cycles_fewer_sessions_than_n_is_not_refractory():
    """CRF.md §6 seed 000: fewer than 3 sessions cannot give progression after 3 cycles."""
    result = n_cycles([tace(0), tace(35)], [imaging(60, response="PD")])
    assert result.status == NOT_REFRACTORY
    assert "fewer than 3" in result.reason


def test_n_cycles_ignores_unrecorded_adequacy():
    """CRF.md §6 seed 000: progression after N cycles does not depend on adequacy."""
    result = n_cycles([tace(0), tace(35, adequate=None)], [imaging(60, response="PD")])
    assert result.status == NOT_REFRACTORY
    result = n_cycles(
        [tace(0), tace(35, adequate=None), tace(70, adequate=None)],
        [imaging(100, response="PD")],
    )
    assert result.status == REFRACTORY


def test_n_cycles_is_a_parameter():
    """CRF.md §6: the number of cycles is an analysis parameter (N = 2 here)."""
    result = n_cycles(three_taces(), [imaging(60, response="PD")], n=2)
    assert (result.status, result.criterion, result.criterion_date) == (
        REFRACTORY,
        "progression after 2 TACE sessions",
        day(60),
    )


def test_sessions_given_out_of_order_are_sorted_by_date():
    """CRF.md §4: TACE sessions are ordered by date."""
    result = n_cycles([tace(70), tace(0), tace(35)], [imaging(60, response="PD")])
    assert result.status == INDETERMINATE

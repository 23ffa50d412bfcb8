"""TACE refractoriness under the rule sets of CRF.md §6.

- "jsh_lcsgj_2014": Kudo M et al. Oncology 2014;87 Suppl 1:22-31 (JSH-LCSGJ consensus). After two
  or more consecutive adequately performed TACE sessions: (a) two consecutive insufficient
  responses of the treated tumour (viable lesion > 50%) or two consecutive intrahepatic
  progressions (more lesions than before the previous TACE); (b) continuous elevation of tumour
  markers right after TACE; (c) new vascular invasion; (d) new extrahepatic spread.
- "seed002_operational": the definition of seed 002: two or more consecutive TACE sessions 4-6 weeks
  apart with adequate embolization, then progression within 6 months of the last TACE (target sum
  >= 120% of its nadir, or a new intrahepatic lesion).
- "progression_after_n_cycles": seed 000's "TACE resistance": progression (mRECIST PD or a new
  intrahepatic lesion) after the N-th TACE session (N = 3 in seed 000).

Each gives refractory / not_refractory / indeterminate with the criterion met and its date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

REFRACTORINESS_VERSION = "tace-refractoriness:2"
REFRACTORY, NOT_REFRACTORY, INDETERMINATE = "refractory", "not_refractory", "indeterminate"
INSUFFICIENT_VIABLE_PCT = 50.0
SEED002_GAP_DAYS = (28, 42)  # 4-6 weeks between consecutive sessions
SEED002_WINDOW_DAYS = 183  # 6 months after the last TACE
PD_INCREASE = 0.20


class TaceSession(NamedTuple):
    session_date: dt.date
    technically_adequate: bool | None


class PostTaceAssessment(NamedTuple):
    assessment_date: dt.date
    response: str | None
    target_sum_mm: float | None
    treated_viable_fraction_pct: float | None
    new_intrahepatic_lesion: bool
    intrahepatic_lesion_count: int | None
    new_vascular_invasion: bool
    new_extrahepatic_spread: bool


class MarkerValue(NamedTuple):
    sample_date: dt.date
    afp_ng_ml: float


class Refractoriness(NamedTuple):
    status: str
    criterion: str
    criterion_date: dt.date | None
    rule_set: str
    version: str
    reason: str


def evaluate_refractoriness(rule_set: str, **inputs) -> Refractoriness:
    evaluators = {
        "jsh_lcsgj_2014": _jsh_lcsgj_2014,
        "seed002_operational": _seed002_operational,
        "progression_after_n_cycles": _progression_after_n_cycles,
    }
    if rule_set not in evaluators:
        raise ValueError(
            f"Unknown TACE refractoriness rule set {rule_set!r}; known: {', '.join(evaluators)}."
        )
    status, criterion, when, reason = evaluators[rule_set](**inputs)
    return Refractoriness(status, criterion, when, rule_set, REFRACTORINESS_VERSION, reason)


Outcome = tuple[str, str, dt.date | None, str]


def _sorted(items, key):
    return sorted(items, key=lambda item: getattr(item, key))


def _after(assessments, start: dt.date, end: dt.date | None):
    """Assessments after a session and before the next one."""
    return [
        a
        for a in assessments
        if a.assessment_date > start and (end is None or a.assessment_date <= end)
    ]


def _consecutive_adequate(sessions: Sequence[TaceSession]) -> int | None:
    """Index of the session that completes the first run of two adequate sessions, if any."""
    for i in range(1, len(sessions)):
        if sessions[i - 1].technically_adequate and sessions[i].technically_adequate:
            return i
    return None


def _no_criterion(sessions, assessments, why_not: str, since: dt.date | None = None) -> Outcome:
    """No criterion met: "no" only when imaging after `since` (default: the first TACE) could show one."""
    if since is None:
        since = sessions[0].session_date
    if not any(a.assessment_date > since for a in assessments):
        return INDETERMINATE, "", None, f"no imaging assessment after the TACE of {since}"
    if any(s.technically_adequate is None for s in sessions):
        return INDETERMINATE, "", None, f"{why_not}; adequacy of a TACE session is not recorded"
    return NOT_REFRACTORY, "", None, why_not


def _jsh_lcsgj_2014(
    *,
    sessions: Sequence[TaceSession],
    assessments: Sequence[PostTaceAssessment],
    markers: Sequence[MarkerValue],
) -> Outcome:
    sessions = _sorted(sessions, "session_date")
    assessments = _sorted(assessments, "assessment_date")
    markers = _sorted(markers, "sample_date")
    if not sessions:
        return INDETERMINATE, "", None, "no TACE session"
    start = _consecutive_adequate(sessions)
    if start is None:
        return _no_criterion(
            sessions, assessments, "fewer than 2 consecutive adequate TACE sessions"
        )
    # Outcomes after each session, beginning with the first of the two consecutive adequate ones.
    per_session = []
    for i in range(start - 1, len(sessions)):
        following = sessions[i + 1].session_date if i + 1 < len(sessions) else None
        after = _after(assessments, sessions[i].session_date, following)
        per_session.append(
            (
                after[0] if after else None,
                _marker_rise(markers, sessions[i], following),
            )
        )
    found: list[tuple[dt.date, str]] = []
    previous_count = _count_before(assessments, sessions[start - 1].session_date)
    prev = None
    for first, rise in per_session:
        # (b) needs no imaging: a rise right after this session and right after the previous one.
        if prev is not None and prev[2] is not None and rise is not None:
            found.append((rise, "(b) continuous tumour-marker elevation after TACE"))
        if first is not None:
            insufficient = (
                first.treated_viable_fraction_pct is not None
                and first.treated_viable_fraction_pct > INSUFFICIENT_VIABLE_PCT
            )
            more_lesions = first.new_intrahepatic_lesion or (
                first.intrahepatic_lesion_count is not None
                and previous_count is not None
                and first.intrahepatic_lesion_count > previous_count
            )
            if prev is not None and prev[0] and insufficient:
                found.append(
                    (
                        first.assessment_date,
                        "(a) two consecutive insufficient responses (viable > 50%)",
                    )
                )
            if prev is not None and prev[1] and more_lesions:
                found.append(
                    (first.assessment_date, "(a) two consecutive intrahepatic progressions")
                )
            prev = (insufficient, more_lesions, rise)
            if first.intrahepatic_lesion_count is not None:
                previous_count = first.intrahepatic_lesion_count
        else:
            prev = (False, False, rise) if prev is None else (prev[0], prev[1], rise)
    completed = sessions[start].session_date
    for a in assessments:
        if a.assessment_date > completed and a.new_vascular_invasion:
            found.append((a.assessment_date, "(c) new vascular invasion"))
        if a.assessment_date > completed and a.new_extrahepatic_spread:
            found.append((a.assessment_date, "(d) new extrahepatic spread"))
    if found:
        when, criterion = min(found)
        return REFRACTORY, criterion, when, f"{criterion} on {when}"
    return _no_criterion(
        sessions,
        assessments,
        "no JSH-LCSGJ criterion met after consecutive adequate sessions",
        since=completed,
    )


def _count_before(assessments, day: dt.date) -> int | None:
    counts = [a.intrahepatic_lesion_count for a in assessments if a.assessment_date <= day]
    return counts[-1] if counts else None


def _marker_rise(markers, session: TaceSession, following: dt.date | None) -> dt.date | None:
    """Date of the first AFP after the session when it is higher than the last AFP before it."""
    before = [m for m in markers if m.sample_date <= session.session_date]
    after = [
        m
        for m in markers
        if m.sample_date > session.session_date
        and (following is None or m.sample_date <= following)
    ]
    if before and after and after[0].afp_ng_ml > before[-1].afp_ng_ml:
        return after[0].sample_date
    return None


def _seed002_operational(
    *,
    sessions: Sequence[TaceSession],
    assessments: Sequence[PostTaceAssessment],
    baseline_sum_mm: float | None,
) -> Outcome:
    sessions = _sorted(sessions, "session_date")
    assessments = _sorted(assessments, "assessment_date")
    if not sessions:
        return INDETERMINATE, "", None, "no TACE session"
    low, high = SEED002_GAP_DAYS
    qualifying = [
        sessions[i]
        for i in range(1, len(sessions))
        if sessions[i - 1].technically_adequate
        and sessions[i].technically_adequate
        and low <= (sessions[i].session_date - sessions[i - 1].session_date).days <= high
    ]
    if not qualifying:
        return _no_criterion(
            sessions, assessments, "no 2 consecutive adequate TACE sessions 4-6 weeks apart"
        )
    nadir = baseline_sum_mm
    for a in assessments:
        last = max(
            (s.session_date for s in qualifying if s.session_date < a.assessment_date), default=None
        )
        if last is not None and (a.assessment_date - last).days <= SEED002_WINDOW_DAYS:
            if a.new_intrahepatic_lesion:
                return (
                    REFRACTORY,
                    "new intrahepatic lesion within 6 months of TACE",
                    a.assessment_date,
                    (
                        f"new intrahepatic lesion on {a.assessment_date}, {(a.assessment_date - last).days} days "
                        f"after the TACE of {last}"
                    ),
                )
            if (
                a.target_sum_mm is not None
                and nadir is not None
                and a.target_sum_mm > 0
                and a.target_sum_mm >= (1 + PD_INCREASE) * nadir - 1e-9
            ):
                return (
                    REFRACTORY,
                    ">= 20% increase of the target sum within 6 months of TACE",
                    a.assessment_date,
                    (
                        f"target sum {a.target_sum_mm:g} mm vs nadir {nadir:g} mm on {a.assessment_date}, "
                        f"{(a.assessment_date - last).days} days after the TACE of {last}"
                    ),
                )
        if a.target_sum_mm is not None:
            nadir = a.target_sum_mm if nadir is None else min(nadir, a.target_sum_mm)
    return _no_criterion(
        sessions,
        assessments,
        "no progression within 6 months after consecutive adequate TACE",
        since=qualifying[-1].session_date,
    )


def _progression_after_n_cycles(
    *, sessions: Sequence[TaceSession], assessments: Sequence[PostTaceAssessment], n_cycles: int
) -> Outcome:
    sessions = _sorted(sessions, "session_date")
    assessments = _sorted(assessments, "assessment_date")
    if not sessions:
        return INDETERMINATE, "", None, "no TACE session"
    if len(sessions) < n_cycles:
        # This rule does not look at adequacy, so unrecorded adequacy leaves the answer "no".
        if not any(a.assessment_date > sessions[0].session_date for a in assessments):
            return INDETERMINATE, "", None, "no imaging assessment after TACE"
        return NOT_REFRACTORY, "", None, f"fewer than {n_cycles} TACE sessions"
    nth = sessions[n_cycles - 1].session_date
    for a in assessments:
        if a.assessment_date > nth and (a.response == "PD" or a.new_intrahepatic_lesion):
            criterion = f"progression after {n_cycles} TACE sessions"
            return (
                REFRACTORY,
                criterion,
                a.assessment_date,
                f"{criterion}: {a.response or 'new lesion'} on {a.assessment_date}",
            )
    if not any(a.assessment_date > nth for a in assessments):
        return INDETERMINATE, "", None, f"no imaging assessment after TACE session {n_cycles}"
    return NOT_REFRACTORY, "", None, f"no progression after {n_cycles} TACE sessions"

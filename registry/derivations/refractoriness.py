"""TACE refractoriness under the rule sets of CRF.md §6.

- "jsh_lcsgj_2014": Kudo M et al. Oncology 2014;87 Suppl 1:22-31 (JSH-LCSGJ consensus). After two
  or more consecutive adequately performed TACE sessions: (a) two consecutive insufficient
  responses of the treated tumour (viable lesion > 50%) or two consecutive intrahepatic
  progressions (more lesions than before the previous TACE), each assessed after an adequately
  performed session, the scan before the TACE series giving the first reference count;
  (b) continuous elevation of tumour markers right after TACE; (c) new vascular invasion;
  (d) new extrahepatic spread (full text on ``_jsh_lcsgj_2014``).
- "seed002_operational": the definition of seed 002: two or more consecutive TACE sessions 4-6 weeks
  apart with adequate embolization, then progression within 6 months of the last TACE (target sum
  >= 120% of its nadir, or a new intrahepatic lesion).
- "progression_after_n_cycles": seed 000's "TACE resistance": progression (mRECIST PD or a new
  intrahepatic lesion) after the N-th TACE session (N = 3 in seed 000). Written once,
  column-wise, as ``resistance_after_n_cycles`` for an analysis's N and cut-off; the rule set
  runs it on one patient.

Assessments are the patient's scans in date order; baseline scans (``is_baseline``) only give
the JSH reference lesion count.

Each gives refractory / not_refractory / indeterminate with the criterion met and its date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from registry.derivations.days import date_of, day_number

REFRACTORINESS_VERSION = "tace-refractoriness:3"
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
    # A baseline scan gives a lesion count (the JSH reference) and nothing else.
    is_baseline: bool = False


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
    """JSH-LCSGJ 2014 (Kudo M et al. Oncology 2014;87 Suppl 1:22-31), in CRF.md §6's words:

    after >= 2 consecutive adequately performed TACE sessions, (a) two consecutive insufficient
    responses of the treated tumour (viable lesion > 50%) or two consecutive progressions in the
    liver (more lesions than before the previous TACE), where each of the two responses is
    assessed after an *adequately performed* session (a response after an inadequately
    performed session does not count), and the lesion count of the scan before the TACE series
    is the reference for the first progression; or (b) continuous elevation of tumour markers
    right after TACE; or (c) new vascular invasion; or (d) new extrahepatic spread.

    For (a), each session's response is the first follow-up scan after it (before the next
    session). A response after an inadequate (or unrecorded) session is skipped: it neither
    counts nor breaks the run, since it says nothing about what an adequate TACE achieves.
    "Before the previous TACE" is the latest lesion count on or before that session (a baseline
    scan included), so count 2 on the baseline scan, then 3 and 4 after two adequate sessions is
    refractory at the second.
    """
    sessions = _sorted(sessions, "session_date")
    assessments = _sorted(assessments, "assessment_date")
    markers = _sorted(markers, "sample_date")
    follow_ups = [a for a in assessments if not a.is_baseline]
    if not sessions:
        return INDETERMINATE, "", None, "no TACE session"
    start = _consecutive_adequate(sessions)
    if start is None:
        return _no_criterion(
            sessions, follow_ups, "fewer than 2 consecutive adequate TACE sessions"
        )
    found: list[tuple[dt.date, str]] = []
    previous_rise: dt.date | None = None
    previous_response: tuple[bool, bool] | None = None  # (insufficient, more lesions)
    for i in range(start - 1, len(sessions)):
        session = sessions[i]
        following = sessions[i + 1].session_date if i + 1 < len(sessions) else None
        # (b) needs no imaging: a rise right after this session and right after the previous one.
        rise = _marker_rise(markers, session, following)
        if previous_rise is not None and rise is not None:
            found.append((rise, "(b) continuous tumour-marker elevation after TACE"))
        previous_rise = rise
        if not session.technically_adequate:
            continue  # (a): a response after an inadequately performed session does not count
        after = _after(follow_ups, session.session_date, following)
        if not after:
            continue
        first = after[0]
        reference = _count_before(assessments, session.session_date)
        insufficient = (
            first.treated_viable_fraction_pct is not None
            and first.treated_viable_fraction_pct > INSUFFICIENT_VIABLE_PCT
        )
        more_lesions = first.new_intrahepatic_lesion or (
            first.intrahepatic_lesion_count is not None
            and reference is not None
            and first.intrahepatic_lesion_count > reference
        )
        if previous_response is not None and previous_response[0] and insufficient:
            found.append(
                (first.assessment_date, "(a) two consecutive insufficient responses (viable > 50%)")
            )
        if previous_response is not None and previous_response[1] and more_lesions:
            found.append((first.assessment_date, "(a) two consecutive intrahepatic progressions"))
        previous_response = (insufficient, more_lesions)
    completed = sessions[start].session_date
    for a in follow_ups:
        if a.assessment_date > completed and a.new_vascular_invasion:
            found.append((a.assessment_date, "(c) new vascular invasion"))
        if a.assessment_date > completed and a.new_extrahepatic_spread:
            found.append((a.assessment_date, "(d) new extrahepatic spread"))
    if found:
        when, criterion = min(found)
        return REFRACTORY, criterion, when, f"{criterion} on {when}"
    return _no_criterion(
        sessions,
        follow_ups,
        "no JSH-LCSGJ criterion met after consecutive adequate sessions",
        since=completed,
    )


def _count_before(assessments, day: dt.date) -> int | None:
    """The latest lesion count recorded on or before ``day`` (baseline scans included)."""
    counts = [
        a.intrahepatic_lesion_count
        for a in assessments
        if a.assessment_date <= day and a.intrahepatic_lesion_count is not None
    ]
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
    assessments = [a for a in _sorted(assessments, "assessment_date") if not a.is_baseline]
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
    """``resistance_after_n_cycles`` for one patient."""
    session_rows = pd.DataFrame(
        {
            "patient_id": np.zeros(len(sessions), dtype=np.int64),
            "day": np.array([day_number(s.session_date) for s in sessions], dtype=float),
        },
        columns=SESSION_COLUMNS,
    )
    follow_ups = [a for a in assessments if not a.is_baseline]
    scan_rows = pd.DataFrame(
        {
            "patient_id": np.zeros(len(follow_ups), dtype=np.int64),
            "day": np.array([day_number(a.assessment_date) for a in follow_ups], dtype=float),
            "response": pd.Series([a.response or "" for a in follow_ups], dtype=object),
            "new_intrahepatic_lesion": np.array(
                [bool(a.new_intrahepatic_lesion) for a in follow_ups], dtype=bool
            ),
        },
        columns=RESISTANCE_SCAN_COLUMNS,
    )
    row = resistance_after_n_cycles(
        session_rows, scan_rows, pd.Series([0]), n_cycles=n_cycles
    ).iloc[0]
    when = date_of(row["day"])
    return row["status"], row["criterion"], when, row["reason"]


# --- TACE resistance after N cycles, column-wise ---------------------------------------------

SESSION_COLUMNS = ["patient_id", "day"]
# A new lesion at these sites (or with the site not given) is a new intrahepatic lesion.
INTRAHEPATIC_SITES = ("intrahepatic", "both", "")
RESISTANCE_SCAN_COLUMNS = ["patient_id", "day", "response", "new_intrahepatic_lesion"]
RESISTANCE_COLUMNS = ["status", "criterion", "day", "reason"]
# The reason given to a patient without any TACE session (by the cut-off): the registry stores
# no TACE-refractoriness status for such a patient, and the analysis dataset leaves it empty.
NO_TACE_SESSION = "no TACE session"


def resistance_after_n_cycles(
    sessions: pd.DataFrame,
    scans: pd.DataFrame,
    patient_ids: pd.Series,
    *,
    n_cycles: int,
    cutoff_day: float = np.inf,
) -> pd.DataFrame:
    """Seed 000's "TACE resistance" (CRF.md §6): progression after the N-th TACE session.

    Progression is an mRECIST PD or a new intrahepatic lesion on a follow-up scan dated after
    the N-th session (N = 3 in seed 000); the date is that of the first such scan. Without any
    TACE session: indeterminate. With fewer than N sessions: not resistant, unless no scan
    follows the first session (indeterminate). With N or more: resistant at the first
    progression after the N-th session; else indeterminate without a scan after it, otherwise
    not resistant. Adequacy of the sessions plays no part in this rule.

    Column-wise for any number of patients: ``sessions`` (``SESSION_COLUMNS``: one row per TACE
    session), ``scans`` (``RESISTANCE_SCAN_COLUMNS``: follow-up scans only; response "" when
    none) with day numbers (any common origin; NaN: unknown). Sessions and scans after
    ``cutoff_day`` are not seen. Returns ``RESISTANCE_COLUMNS`` per patient of ``patient_ids``
    (indexed by them): status (refractory / not_refractory / indeterminate), criterion, day of
    the criterion (NaN when none) and reason.
    """
    if n_cycles < 1:
        raise ValueError(f"n_cycles must be a whole number >= 1, not {n_cycles!r}.")
    ids = patient_ids.to_numpy()
    sessions = sessions[sessions["patient_id"].isin(ids) & (sessions["day"] <= cutoff_day)]
    scans = scans[scans["patient_id"].isin(ids) & (scans["day"] <= cutoff_day)]
    ordered = sessions.sort_values(["patient_id", "day"], kind="stable")
    count = ordered.groupby("patient_id").size().reindex(ids, fill_value=0).to_numpy()
    first = ordered.groupby("patient_id")["day"].min()
    nth = ordered[ordered.groupby("patient_id").cumcount() == n_cycles - 1]
    nth = nth.set_index("patient_id")["day"]
    scan_first = scans["patient_id"].map(first)
    imaged_after_first = _per_patient_any(scans, scans["day"] > scan_first, ids)
    after_nth = scans["day"] > scans["patient_id"].map(nth)
    imaged_after_nth = _per_patient_any(scans, after_nth, ids)
    progressed = after_nth & (
        (scans["response"] == "PD") | scans["new_intrahepatic_lesion"].astype(bool)
    )
    hits = scans[progressed].sort_values(["patient_id", "day"], kind="stable")
    hits = hits.drop_duplicates("patient_id").set_index("patient_id")
    hit_day = hits["day"].reindex(ids).to_numpy(dtype=float)
    hit_what = hits["response"].where(hits["response"] != "", "new lesion").reindex(ids)

    criterion = f"progression after {n_cycles} TACE sessions"
    n = len(ids)
    status = np.full(n, NOT_REFRACTORY, dtype=object)
    criteria = np.full(n, "", dtype=object)
    reason = np.full(n, f"no progression after {n_cycles} TACE sessions", dtype=object)
    enough = count >= n_cycles
    hit = enough & ~np.isnan(hit_day)
    blind = enough & ~hit & ~imaged_after_nth
    reason[enough & ~hit & imaged_after_nth] = f"no progression after {n_cycles} TACE sessions"
    status[blind] = INDETERMINATE
    reason[blind] = f"no imaging assessment after TACE session {n_cycles}"
    status[hit] = REFRACTORY
    criteria[hit] = criterion
    for i in np.flatnonzero(hit):
        reason[i] = f"{criterion}: {hit_what.iloc[i]} on {date_of(hit_day[i])}"
    few = (count > 0) & ~enough
    # This rule does not look at adequacy, so unrecorded adequacy leaves the answer "no".
    reason[few] = f"fewer than {n_cycles} TACE sessions"
    status[few & ~imaged_after_first] = INDETERMINATE
    reason[few & ~imaged_after_first] = "no imaging assessment after TACE"
    none = count == 0
    status[none] = INDETERMINATE
    reason[none] = NO_TACE_SESSION
    return pd.DataFrame(
        {
            "status": status,
            "criterion": criteria,
            "day": np.where(hit, hit_day, np.nan),
            "reason": reason,
        },
        index=ids,
        columns=RESISTANCE_COLUMNS,
    )


def _per_patient_any(rows: pd.DataFrame, mask: pd.Series, ids: np.ndarray) -> np.ndarray:
    return np.isin(ids, rows.loc[mask.to_numpy(dtype=bool), "patient_id"].to_numpy())

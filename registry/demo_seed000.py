"""Synthetic patients shaped like seed 000, with the whole case report form filled in.

Seed 000: advanced HCC treated with TACE alone or with TACE plus a PD-(L)1 antibody and a
molecular targeted agent (a TKI) started within the arm window of the first TACE; about 7 in 10
receive TACE alone. The combination arm is younger, more often BCLC C (vascular invasion,
extrahepatic spread) and more often Child-Pugh A: the baseline imbalance that the propensity
match of Report B removes. After 3 TACE cycles about 10 % vs 39 % are resistant (imaging
progression after the third session); median PFS about 17.5 vs 9.1 months.

A patient is described by a ``TaceCourse`` (baseline and the course of TACE, imaging and outcome)
and written by ``enrol_tace_course`` through ``registry.services`` exactly as a data manager's
entries: every row validated, every derived value (Child-Pugh, ALBI, BCLC, mRECIST responses,
refractoriness) computed by the registry. ``random_course`` draws the demo's courses; the
end-to-end test of Report B writes courses designed by hand.

Imaging follows one rule, so that a course's resistance can be read off its fields: a baseline
scan 7 days before the first TACE (target lesions 40 + 30 mm), a scan 35 days after each session
and then every ``FOLLOW_UP_SCAN_DAYS``. A scan is mRECIST PR (28 + 20 mm, 69 % of baseline) unless
it is the progression scan on ``pd_day`` (40 + 30 mm, ≥ 120 % of the 48 mm nadir: PD); after it,
imaging stops unless ``recovers`` (later scans back to PR).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from registry import services
from registry.models import (
    AdverseEvent,
    CtcaeTerm,
    Death,
    FollowUp,
    ImagingAssessment,
    LabPanel,
    LesionMeasurement,
    Patient,
    ProgressionEvent,
    Site,
    SystemicTherapy,
    TaceSession,
    TumourAssessment,
)

CUTOFF = dt.date(2024, 12, 31)
MONTH = 30.4375
# Days after the first TACE: three scheduled sessions 6 weeks apart, then TACE on demand.
SESSION_DAYS = (0, 42, 84, 168, 252, 336)
SCAN_AFTER_SESSION_DAYS = 35
FOLLOW_UP_SCAN_DAYS = 91  # every 3 months, the usual interval of mRECIST follow-up after TACE
BASELINE_LESIONS_MM = (40.0, 30.0)
RESPONDING_LESIONS_MM = (28.0, 20.0)  # sum 48: PR against 70, and the nadir
PROGRESSING_LESIONS_MM = (40.0, 30.0)  # sum 70 ≥ 1.2 × 48: PD
# The targeted agent and the antibody start this many days after the first TACE (arm window 90).
SYSTEMIC_START_DAY = 10


@dataclass(frozen=True)
class TaceCourse:
    """One seed-000 patient: baseline covariates and the course after the first TACE (day 0).

    Days are counted from the index date (the first TACE). ``pd_day`` is the day of the scan
    that shows mRECIST progression (None: never); ``extrahepatic_progression_day`` a progression
    outside the liver, recorded as a progression event (a PFS event, not TACE resistance).
    """

    combined: bool
    index_date: dt.date
    sex: str = "male"
    birth_year: int = 1962
    ecog_ps: int = 0
    body_weight_kg: float = 66.0
    hbv: bool = True
    albumin_g_l: float = 40.0
    bilirubin_umol_l: float = 15.0
    inr: float = 1.05
    ascites: str = "none"
    afp_ng_ml: float = 200.0
    tumour_number: int = 3
    max_diameter_cm: float = 7.0
    macrovascular_invasion: str = "none"
    extrahepatic_spread: bool = False
    sessions: int = 3
    pd_day: int | None = None
    recovers: bool = False
    extrahepatic_progression_day: int | None = None
    death_day: int | None = None
    last_contact_day: int = 540
    adverse_events: tuple[tuple[str, int], ...] = ()


def session_days(course: TaceCourse) -> list[int]:
    return list(SESSION_DAYS[: course.sessions])


def scan_days(course: TaceCourse) -> list[int]:
    """The follow-up scans of the course (see the module docstring)."""
    end = min(
        day
        for day in (
            course.last_contact_day,
            course.death_day,
            course.extrahepatic_progression_day,
        )
        if day is not None
    )
    planned = [day + SCAN_AFTER_SESSION_DAYS for day in session_days(course)]
    day = planned[-1] + FOLLOW_UP_SCAN_DAYS
    while day <= end:
        planned.append(day)
        day += FOLLOW_UP_SCAN_DAYS
    days = sorted(d for d in set(planned) if d <= end)
    if course.pd_day is None:
        return days
    before = [d for d in days if d < course.pd_day]
    after = [d for d in days if d > course.pd_day] if course.recovers else []
    return [*before, course.pd_day, *after]


def enrol_tace_course(*, site: Site, course: TaceCourse, ref: str, user=None) -> Patient:
    """Enter one course through ``registry.services``; the derived values are refreshed once."""
    with services.patient_refresh_deferred():
        patient = _enrol(site, course, ref, user)
        _labs(patient, course, user)
        _tumour(patient, course, user)
        _treatments(patient, course, user)
        _imaging(patient, course, user)
        _adverse_events(patient, course, user)
        _outcome(patient, course, user)
    patient.refresh_from_db()
    return patient


def _day(course: TaceCourse, days: int) -> dt.date:
    return course.index_date + dt.timedelta(days=days)


def _save(record, user):
    return services.crf_record_save(record=record, user=user)


def _enrol(site: Site, course: TaceCourse, ref: str, user) -> Patient:
    return services.patient_enrol(
        site=site,
        user=user,
        site_patient_ref=ref,
        sex=course.sex,
        birth_year=course.birth_year,
        body_weight_kg=course.body_weight_kg,
        etiology_hbv=course.hbv,
        etiology_alcohol=not course.hbv,
        antiviral_therapy=True if course.hbv else None,
        chronic_hepatitis_history=course.hbv,
        cirrhosis="yes",
        diabetes=course.birth_year % 5 == 0,
        hypertension=course.birth_year % 3 == 0,
        diagnosis_date=_day(course, -45),
        diagnosis_basis="imaging",
        histology_subtype="not_done",
        index_date=course.index_date,
        ecog_ps=course.ecog_ps,
    )


def _labs(patient: Patient, course: TaceCourse, user) -> None:
    """A screening panel and the baseline panel (3 days before the first TACE)."""
    for days, albumin, bilirubin in (
        (-30, min(course.albumin_g_l + 1.5, 55), course.bilirubin_umol_l),
        (-3, course.albumin_g_l, course.bilirubin_umol_l),
    ):
        _save(
            LabPanel(
                patient=patient,
                sample_date=_day(course, days),
                albumin_g_l=albumin,
                total_bilirubin_umol_l=bilirubin,
                inr=course.inr,
                platelets_10e9_l=120 + course.birth_year % 90,
                alt_u_l=25 + course.birth_year % 40,
                ast_u_l=30 + course.birth_year % 50,
                creatinine_umol_l=70,
                afp_ng_ml=course.afp_ng_ml,
                ascites=course.ascites,
                encephalopathy="none",
            ),
            user,
        )


def _tumour(patient: Patient, course: TaceCourse, user) -> None:
    _save(
        TumourAssessment(
            patient=patient,
            imaging_date=_day(course, -7),
            modality="ct",
            tumour_number=course.tumour_number,
            max_diameter_cm=course.max_diameter_cm,
            distribution="bilobar" if course.tumour_number > 2 else "unilobar",
            macrovascular_invasion=course.macrovascular_invasion,
            extrahepatic_spread=course.extrahepatic_spread,
            ehs_lung=course.extrahepatic_spread,
            arteriovenous_fistula=course.tumour_number >= 5,
            extrahepatic_blood_supply=course.max_diameter_cm >= 10,
        ),
        user,
    )


def _treatments(patient: Patient, course: TaceCourse, user) -> None:
    for number, days in enumerate(session_days(course), start=1):
        _save(
            TaceSession(
                patient=patient,
                start_date=_day(course, days),
                intent="initial",
                line_number=1,
                technique="ctace" if number % 2 else "deb_tace",
                session_number=number,
                chemo_agent="epirubicin",
                chemo_dose_mg=50,
                lipiodol_ml=10 if number % 2 else None,
                microspheres=not number % 2,
                microsphere_size_um="" if number % 2 else "100-300",
                selectivity="segmental",
                embolization_endpoint="near_stasis",
                technically_adequate=True,
            ),
            user,
        )
    if not course.combined:
        return
    start = _day(course, SYSTEMIC_START_DAY)
    stop = "progression" if course.pd_day is not None else "ongoing"
    _save(
        SystemicTherapy(
            patient=patient,
            start_date=start,
            intent="initial",
            line_number=1,
            agent="lenvatinib",
            dose=8 if course.body_weight_kg < 60 else 12,
            dose_unit="mg",
            schedule="once daily",
            stop_reason=stop,
        ),
        user,
    )
    antibody = ("camrelizumab", "sintilimab", "tislelizumab")[course.birth_year % 3]
    _save(
        SystemicTherapy(
            patient=patient,
            start_date=start,
            intent="initial",
            line_number=1,
            agent=antibody,
            dose=200,
            dose_unit="mg",
            schedule="q3w",
            stop_reason=stop,
        ),
        user,
    )


def _imaging(patient: Patient, course: TaceCourse, user) -> None:
    _scan(patient, _day(course, -7), BASELINE_LESIONS_MM, user, baseline=True)
    for days in scan_days(course):
        progressing = days == course.pd_day
        _scan(
            patient,
            _day(course, days),
            PROGRESSING_LESIONS_MM if progressing else RESPONDING_LESIONS_MM,
            user,
            viable=60.0 if progressing else 20.0,
        )


def _scan(patient, day, sizes, user, *, baseline=False, viable=None) -> ImagingAssessment:
    assessment = _save(
        ImagingAssessment(
            patient=patient,
            assessment_date=day,
            modality="mri" if baseline else "ct",
            is_baseline=baseline,
            reviewer="blinded_independent",
            treated_viable_fraction_pct=viable,
        ),
        user,
    )
    for number, size in enumerate(sizes, start=1):
        _save(
            LesionMeasurement(
                assessment=assessment,
                lesion_number=number,
                diameter_mm=size,
                location=f"segment {number + 5}",
            ),
            user,
        )
    return assessment


def _adverse_events(patient: Patient, course: TaceCourse, user) -> None:
    terms = {
        t.code: t for t in CtcaeTerm.objects.filter(code__in=[c for c, _ in course.adverse_events])
    }
    for number, (code, grade) in enumerate(course.adverse_events):
        onset = _day(course, 2 + 12 * number)
        _save(
            AdverseEvent(
                patient=patient,
                term=terms[code],
                grade=grade,
                onset_date=onset,
                resolution_date=onset + dt.timedelta(days=7),
                attribution="local" if code in ("abdominal_pain", "fever") else "systemic",
                relatedness="probable",
                action="none",
                outcome="resolved",
            ),
            user,
        )


def _outcome(patient: Patient, course: TaceCourse, user) -> None:
    if course.extrahepatic_progression_day is not None:
        _save(
            ProgressionEvent(
                patient=patient,
                event_date=_day(course, course.extrahepatic_progression_day),
                progression_type="new_extrahepatic",
            ),
            user,
        )
    if course.death_day is not None:
        _save(
            FollowUp(
                patient=patient,
                contact_date=_day(course, course.death_day - 20),
                vital_status="alive",
            ),
            user,
        )
        _save(
            Death(
                patient=patient,
                death_date=_day(course, course.death_day),
                cause="tumour_progression",
            ),
            user,
        )
    else:
        _save(
            FollowUp(
                patient=patient,
                contact_date=_day(course, course.last_contact_day),
                vital_status="alive",
            ),
            user,
        )


# --- the demo population ---------------------------------------------------------------------

# Seed 000's outcomes. Each arm's PFS times are the quantiles of an exponential with the
# seed's median (not random draws), and exactly the seed's share of each arm progresses in the
# liver after the third session (TACE resistance); the arm's other progressions come before the
# third session (TACE stops) or outside the liver. So a few dozen patients show the seed's
# shape rather than the noise of a small sample.
PFS_MEDIAN_MONTHS = {True: 17.5, False: 9.1}
RESISTANT_AFTER_3 = {True: 0.10, False: 0.39}
POST_PROGRESSION_MEDIAN_MONTHS = {True: 5.0, False: 7.0}


def generate_tace_patients(
    *, site: Site, count: int, seed: int = 0, combined_share: float = 0.3, user=None
) -> list[Patient]:
    """``count`` seed-000 patients at ``site``; ``combined_share`` of them (rounded) in the
    TACE + PD-(L)1 + MTT arm, the others TACE alone."""
    rng = random.Random(f"{site.code}-seed000-{seed}")
    combined = round(count * combined_share)
    courses = _arm_courses(rng, combined, True) + _arm_courses(rng, count - combined, False)
    rng.shuffle(courses)
    return [
        enrol_tace_course(
            site=site,
            course=course,
            ref=f"{site.code}-MRN-{rng.randrange(10**6, 10**7)}",
            user=user,
        )
        for course in courses
    ]


def _quantiles(rng: random.Random, n: int, median_months: float) -> list[int]:
    """Days: the n quantiles of an exponential with this median, in random order."""
    days = [
        int(-math.log(1 - (i + 0.5) / n) * median_months / math.log(2) * MONTH) + 1
        for i in range(n)
    ]
    rng.shuffle(days)
    return days


def _arm_courses(rng: random.Random, n: int, combined: bool) -> list[TaceCourse]:
    if n == 0:
        return []
    baselines = [_baseline(rng, combined) for _ in range(n)]
    pfs = _quantiles(rng, n, PFS_MEDIAN_MONTHS[combined])
    post = _quantiles(rng, n, POST_PROGRESSION_MEDIAN_MONTHS[combined])
    follow_up = [(CUTOFF - b["index_date"]).days - rng.randrange(5, 40) for b in baselines]
    candidates = [
        i for i in range(n) if SESSION_DAYS[2] + 14 < pfs[i] < follow_up[i] - FOLLOW_UP_SCAN_DAYS
    ]
    resistant = set(
        rng.sample(candidates, min(len(candidates), round(RESISTANT_AFTER_3[combined] * n)))
    )
    return [
        _course(rng, baselines[i], pfs[i], post[i], follow_up[i], i in resistant, combined)
        for i in range(n)
    ]


def _baseline(rng: random.Random, combined: bool) -> dict:
    """Baseline covariates with seed 000's imbalance: the combination arm younger, more often
    BCLC C (vascular invasion, extrahepatic spread), less often Child-Pugh B, higher AFP."""
    index_date = dt.date(2021, 1, 4) + dt.timedelta(days=rng.randrange(0, 640))
    age = int(min(max(rng.gauss(56.5 if combined else 60.5, 9.5), 30), 85))
    child_pugh_b = rng.random() < (0.14 if combined else 0.22)
    invasion = rng.random() < (0.38 if combined else 0.24)
    return {
        "index_date": index_date,
        "sex": "male" if rng.random() < 0.86 else "female",
        "birth_year": index_date.year - age,
        "ecog_ps": 0 if rng.random() < 0.65 else 1,
        "body_weight_kg": round(rng.uniform(50, 82), 1),
        "hbv": rng.random() < 0.82,
        "albumin_g_l": round(rng.uniform(29.5, 34.5), 1)
        if child_pugh_b
        else round(rng.uniform(36, 47), 1),
        "bilirubin_umol_l": round(rng.uniform(8, 30), 1),
        "inr": round(rng.uniform(0.95, 1.35), 2),
        "ascites": "mild" if child_pugh_b else "none",
        "afp_ng_ml": round(min(10 ** rng.gauss(2.4 if combined else 2.1, 0.9), 10**6), 1),
        "tumour_number": rng.randrange(1, 7),
        "max_diameter_cm": round(min(max(rng.lognormvariate(math.log(7.5), 0.4), 2.0), 20.0), 1),
        "macrovascular_invasion": rng.choice(["vp1", "vp2", "vp3"]) if invasion else "none",
        "extrahepatic_spread": rng.random() < (0.15 if combined else 0.10),
    }


def _course(
    rng: random.Random,
    baseline: dict,
    pfs_days: int,
    post_days: int,
    follow_up_end: int,
    resistant: bool,
    combined: bool,
) -> TaceCourse:
    pd_day = extrahepatic = None
    sessions = 3 + (rng.random() < 0.5) + (rng.random() < 0.3)
    if resistant:
        # Progression in the liver after the third session, seen on the next scan.
        pd_day = pfs_days
        sessions = max(3, min(sessions, sum(day < pfs_days for day in SESSION_DAYS)))
    elif pfs_days <= SESSION_DAYS[2]:
        # Progression before the third session: TACE stops; PD on the next scheduled scan.
        sessions = sum(day < pfs_days for day in SESSION_DAYS) or 1
        pd_day = min(
            day + SCAN_AFTER_SESSION_DAYS
            for day in SESSION_DAYS
            if day + SCAN_AFTER_SESSION_DAYS >= pfs_days
        )
    elif pfs_days < follow_up_end:
        extrahepatic = pfs_days
        sessions = max(3, min(sessions, sum(day < pfs_days for day in SESSION_DAYS)))
    progression = pd_day if pd_day is not None else extrahepatic
    death = None
    if progression is not None and progression + post_days < follow_up_end:
        death = max(progression + post_days, progression + 21)
        death = death if death < follow_up_end else None
    events = [("abdominal_pain", 1), ("fever", 1)] if rng.random() < 0.6 else []
    if combined:
        events += rng.sample(
            [
                ("hypertension", 2),
                ("palmar_plantar_erythrodysesthesia", 1),
                ("hypothyroidism", 1),
                ("rash_maculo_papular", 1),
                ("alt_increased", 1),
            ],
            k=rng.randrange(1, 3),
        )
    return TaceCourse(
        combined=combined,
        **baseline,
        sessions=sessions,
        pd_day=pd_day,
        extrahepatic_progression_day=extrahepatic,
        death_day=death,
        last_contact_day=death - 1 if death is not None else follow_up_end,
        adverse_events=tuple(events),
    )

"""Synthetic patients with the whole case report form filled in, for the demo and the tests.

Shaped like seed 002: patients refractory to TACE who then receive systemic therapy (lenvatinib
+ a PD-1 antibody), half of them with a local therapy added (mTACE, HAIC or IMRT). Survival
is simulated with a known hazard ratio for the local + systemic arm so that analyses have an
effect to find. Everything is written through ``registry.services``, so every row is validated
and every derived value computed exactly as for a data manager's entry.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from registry import services
from registry.models import (
    AdverseEvent,
    CtcaeTerm,
    Death,
    FollowUp,
    HaicCycle,
    ImagingAssessment,
    LabPanel,
    LesionMeasurement,
    Patient,
    ProgressionEvent,
    RadiotherapyCourse,
    Site,
    SystemicTherapy,
    TaceSession,
    TumourAssessment,
)

CUTOFF = dt.date(2024, 12, 31)
MONTH = 30.4375
CHILD_PUGH_B_SHARE = 0.2
SOFT_FLAG_SHARE = 0.08


def generate_patients(
    *, site: Site, count: int, seed: int = 2, user=None, hazard_ratio: float = 0.6
) -> list[Patient]:
    rng = random.Random(f"{site.code}-{seed}")
    terms = {term.code: term for term in CtcaeTerm.objects.all()}
    patients = []
    for _ in range(count):
        with services.patient_refresh_deferred():
            patient = _one_patient(
                site=site, rng=rng, user=user, terms=terms, hazard_ratio=hazard_ratio, seed=seed
            )
        patient.refresh_from_db()
        patients.append(patient)
    return patients


def _one_patient(
    *, site, rng: random.Random, user, terms, hazard_ratio: float, seed: int
) -> Patient:
    combined = rng.random() < 0.55
    index_date = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randrange(0, 900))
    first_tace = index_date - dt.timedelta(days=rng.randrange(150, 260))
    diagnosis = first_tace - dt.timedelta(days=rng.randrange(5, 40))
    weight = round(rng.uniform(48, 85), 1)
    hbv = rng.random() < 0.8
    hcv = not hbv and rng.random() < 0.3
    patient = services.patient_enrol(
        site=site,
        user=user,
        site_patient_ref=f"{site.code}-MRN-{rng.randrange(10**6, 10**7)}",
        sex="male" if rng.random() < 0.87 else "female",
        birth_year=index_date.year - int(rng.gauss(60.6, 10.7)),
        body_weight_kg=weight,
        etiology_hbv=hbv,
        etiology_hcv=hcv,
        etiology_alcohol=(alcohol := not hbv and rng.random() < 0.5),
        # Unknown only when none is known (a model rule since issue 15); same random draws.
        etiology_unknown=not (hbv or hcv or alcohol),
        antiviral_therapy=(rng.random() < 0.9) if (hbv or hcv) else None,
        chronic_hepatitis_history=hbv or rng.random() < 0.2,
        cirrhosis="yes" if rng.random() < 0.7 else "no",
        diabetes=rng.random() < 0.2,
        hypertension=rng.random() < 0.3,
        diagnosis_date=diagnosis,
        diagnosis_basis="imaging",
        histology_subtype="not_done",
        index_date=index_date,
        ecog_ps=0 if rng.random() < 0.7 else 1,
    )
    # Choices drawn from a stream of their own, so the main stream (and every other value of
    # the demo) stays what it was: about 1 in 5 Child-Pugh B at baseline, as in seed 002
    # (18 of 95), and a few values outside the soft ranges, which raise data-quality flags.
    extra = random.Random(f"{patient.study_id}-extra-{seed}")
    child_pugh_b = extra.random() < CHILD_PUGH_B_SHARE
    soft_flag = extra.random() < SOFT_FLAG_SHARE
    _labs(patient, rng, first_tace, index_date, user, child_pugh_b=child_pugh_b, extra=extra)
    if soft_flag:
        _soft_flag(patient, extra, user)
    number = 1 if rng.random() < 0.08 else rng.randrange(2, 6)
    diameter = round(min(max(rng.lognormvariate(math.log(5.5), 0.5), 1.0), 18.0), 1)
    services.crf_record_save(
        record=TumourAssessment(
            patient=patient,
            imaging_date=index_date - dt.timedelta(days=rng.randrange(3, 25)),
            modality="ct",
            tumour_number=number,
            max_diameter_cm=diameter,
            distribution="bilobar" if number > 2 else "unilobar",
            macrovascular_invasion="vp2" if rng.random() < 0.2 else "none",
            extrahepatic_spread=rng.random() < 0.15,
            arteriovenous_fistula=rng.random() < (0.18 if combined else 0.08),
            extrahepatic_blood_supply=rng.random() < 0.22,
        ),
        user=user,
    )
    _tace_history(patient, rng, first_tace, index_date, user)
    _systemic(patient, rng, index_date, weight, user)
    if combined:
        _local(patient, rng, index_date, user)
    _imaging(patient, rng, index_date, combined, user)
    _adverse_events(patient, rng, index_date, combined, terms, user)
    _outcome(patient, rng, index_date, combined, hazard_ratio, user)
    patient.refresh_from_db()
    return patient


def _labs(patient, rng, first_tace, index_date, user, *, child_pugh_b: bool, extra) -> None:
    """Two panels; the second is the baseline. A Child-Pugh B baseline has albumin 28-35 g/L
    and mild ascites (2 + 2 points): 7 points with bilirubin < 34.2 µmol/L, as seed 002's B
    patients (eligible); a higher bilirubin makes 8, flagged as outside the eligibility."""
    for number, day in enumerate(
        (
            first_tace - dt.timedelta(days=3),
            index_date - dt.timedelta(days=rng.randrange(1, 7)),
        )
    ):
        albumin = round(min(max(rng.gauss(41.5, 5.5), 22), 55), 1)
        bilirubin = round(min(max(rng.lognormvariate(math.log(17), 0.4), 4), 80), 1)
        # Drawn in the order the values always were, so the main stream is unchanged.
        values = {
            "inr": round(rng.uniform(0.9, 1.5), 2),
            "platelets_10e9_l": rng.randrange(60, 300),
            "alt_u_l": rng.randrange(12, 90),
            "ast_u_l": rng.randrange(15, 110),
            "creatinine_umol_l": rng.randrange(50, 110),
            "afp_ng_ml": round(10 ** rng.uniform(0.5, 4.2), 1),
        }
        ascites = "mild" if rng.random() < 0.15 else "none"
        if number == 1:
            if child_pugh_b:
                albumin, ascites = round(extra.uniform(29, 34.5), 1), "mild"
            elif albumin <= 35 or ascites != "none":
                # Class A: at most one point above the minimum.
                albumin, ascites = max(albumin, 36.0), "none"
        services.crf_record_save(
            record=LabPanel(
                patient=patient,
                sample_date=day,
                albumin_g_l=albumin,
                total_bilirubin_umol_l=bilirubin,
                ascites=ascites,
                encephalopathy="none",
                **values,
            ),
            user=user,
        )


def _soft_flag(patient, extra, user) -> None:
    """A follow-up lab panel with a value outside its soft range: accepted, and flagged."""
    baseline = patient.lab_panels.order_by("-sample_date").first()
    field, value = extra.choice(
        [("ast_u_l", 540), ("alt_u_l", 620), ("platelets_10e9_l", 26), ("inr", 3.2)]
    )
    panel = LabPanel(
        patient=patient,
        # After the index date: a follow-up panel, never the baseline the scores come from.
        sample_date=patient.index_date + dt.timedelta(days=14),
        albumin_g_l=baseline.albumin_g_l,
        total_bilirubin_umol_l=baseline.total_bilirubin_umol_l,
        inr=baseline.inr,
        platelets_10e9_l=baseline.platelets_10e9_l,
        alt_u_l=baseline.alt_u_l,
        ast_u_l=baseline.ast_u_l,
        creatinine_umol_l=baseline.creatinine_umol_l,
        ascites=baseline.ascites,
        encephalopathy=baseline.encephalopathy,
    )
    setattr(panel, field, value)
    services.crf_record_save(record=panel, user=user)


def _tace_history(patient, rng, first_tace, index_date, user) -> None:
    """TACE sessions 4-6 weeks apart with a scan after each; most patients become refractory."""
    refractory = rng.random() < 0.9
    sizes = [round(rng.uniform(30, 70), 1), round(rng.uniform(15, 35), 1)]
    _scan(patient, first_tace - dt.timedelta(days=3), sizes, user, baseline=True)
    day = first_tace
    sessions = []
    for number in range(1, rng.choice([2, 3, 3, 4]) + 1):
        if day >= index_date - dt.timedelta(days=35):
            break
        services.crf_record_save(
            record=TaceSession(
                patient=patient,
                start_date=day,
                technique="ctace",
                session_number=number,
                chemo_agent="epirubicin",
                chemo_dose_mg=50,
                lipiodol_ml=round(rng.uniform(5, 15), 1),
                selectivity="segmental",
                embolization_endpoint="near_stasis",
                technically_adequate=True,
            ),
            user=user,
        )
        sessions.append(day)
        day += dt.timedelta(days=rng.randrange(30, 42))
    for number, session in enumerate(sessions, start=1):
        last = number == len(sessions)
        grow = 1.3 if (last and refractory) else 0.9
        _scan(
            patient,
            session + dt.timedelta(days=rng.randrange(20, 27)),
            [round(size * grow, 1) for size in sizes],
            user,
            viable=round(rng.uniform(55, 80), 1) if refractory else round(rng.uniform(10, 45), 1),
            new_lesion=last and refractory and rng.random() < 0.5,
        )


def _scan(patient, day, sizes, user, *, baseline=False, viable=None, new_lesion=False):
    assessment = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient,
            assessment_date=day,
            modality="ct",
            is_baseline=baseline,
            reviewer="site",
            treated_viable_fraction_pct=viable,
            new_lesion=new_lesion,
            new_lesion_site="intrahepatic" if new_lesion else "",
        ),
        user=user,
    )
    for number, size in enumerate(sizes, start=1):
        services.crf_record_save(
            record=LesionMeasurement(assessment=assessment, lesion_number=number, diameter_mm=size),
            user=user,
        )
    return assessment


def _systemic(patient, rng, index_date, weight, user) -> None:
    services.crf_record_save(
        record=SystemicTherapy(
            patient=patient,
            start_date=index_date,
            intent="after_refractoriness",
            line_number=1,
            agent="lenvatinib",
            dose=8 if weight < 60 else 12,
            dose_unit="mg",
            schedule="once daily",
            stop_reason="ongoing",
        ),
        user=user,
    )
    services.crf_record_save(
        record=SystemicTherapy(
            patient=patient,
            start_date=index_date,
            intent="after_refractoriness",
            line_number=1,
            agent=rng.choice(["sintilimab", "camrelizumab", "tislelizumab"]),
            dose=200,
            dose_unit="mg",
            schedule="q3w",
            stop_reason="ongoing",
        ),
        user=user,
    )


def _local(patient, rng, index_date, user) -> None:
    kind = rng.choice(["mtace", "haic", "imrt"])
    start = index_date + dt.timedelta(days=rng.randrange(0, 10))
    if kind == "mtace":
        record = TaceSession(
            patient=patient,
            start_date=start,
            intent="after_refractoriness",
            technique="mtace",
            chemo_agent="epirubicin",
            chemo_dose_mg=50,
            microspheres=True,
            microsphere_size_um="100-300",
            selectivity="superselective",
            embolization_endpoint="near_stasis",
            technically_adequate=True,
        )
    elif kind == "haic":
        record = HaicCycle(
            patient=patient,
            start_date=start,
            intent="after_refractoriness",
            regimen="fu_cisplatin",
            fluorouracil_g_m2=2.5,
            platinum_mg_m2=80,
            infusion_hours=48,
            cycle_number=1,
        )
    else:
        record = RadiotherapyCourse(
            patient=patient,
            start_date=start,
            end_date=start + dt.timedelta(days=27),
            intent="after_refractoriness",
            technique="imrt",
            total_dose_gy=50,
            fractions=20,
        )
    services.crf_record_save(record=record, user=user)


def _imaging(patient, rng, index_date, combined, user) -> None:
    baseline = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient,
            assessment_date=index_date - dt.timedelta(days=2),
            modality="ct",
            is_baseline=True,
            reviewer="blinded_independent",
        ),
        user=user,
    )
    sizes = [round(rng.uniform(25, 80), 1), round(rng.uniform(12, 40), 1)]
    for number, size in enumerate(sizes, start=1):
        services.crf_record_save(
            record=LesionMeasurement(
                assessment=baseline,
                lesion_number=number,
                diameter_mm=size,
                location=f"segment {number + 4}",
            ),
            user=user,
        )
    shrink = rng.uniform(0.35, 1.3) * (0.8 if combined else 1.0)
    day = index_date + dt.timedelta(days=rng.randrange(50, 70))
    new_lesion = rng.random() < 0.1
    assessment = services.crf_record_save(
        record=ImagingAssessment(
            patient=patient,
            assessment_date=day,
            modality="ct",
            reviewer="blinded_independent",
            new_lesion=new_lesion,
            new_lesion_site="intrahepatic" if new_lesion else "",
        ),
        user=user,
    )
    for number, size in enumerate(sizes, start=1):
        services.crf_record_save(
            record=LesionMeasurement(
                assessment=assessment,
                lesion_number=number,
                diameter_mm=round(min(size * shrink, 300), 1),
            ),
            user=user,
        )


def _adverse_events(patient, rng, index_date, combined, terms, user) -> None:
    pool = [
        "hypertension",
        "palmar_plantar_erythrodysesthesia",
        "rash_maculo_papular",
        "hypothyroidism",
        "diarrhea",
        "alt_increased",
        "bilirubin_increased",
        "vomiting",
    ]
    if combined:
        pool += ["abdominal_pain", "fever", "abdominal_pain", "fever"]
    if rng.random() < (0.85 if combined else 0.5):
        for code in rng.sample(pool, k=rng.randrange(1, 3)):
            onset = index_date + dt.timedelta(days=rng.randrange(3, 60))
            services.crf_record_save(
                record=AdverseEvent(
                    patient=patient,
                    term=terms[code],
                    grade=rng.choice([1, 1, 2]),
                    onset_date=onset,
                    resolution_date=onset + dt.timedelta(days=rng.randrange(3, 20)),
                    attribution="local" if code in ("abdominal_pain", "fever") else "systemic",
                    relatedness="probable",
                    action="none",
                    outcome="resolved",
                ),
                user=user,
            )


def _outcome(patient, rng, index_date, combined, hazard_ratio, user) -> None:
    median_months = 15.0 / (hazard_ratio if combined else 1.0)
    months = rng.expovariate(math.log(2) / median_months)
    death_day = index_date + dt.timedelta(days=max(100, int(months * MONTH)))
    latest_known = patient.imaging_assessments.order_by("-assessment_date").first().assessment_date
    progression_months = rng.expovariate(math.log(2) / (median_months * 0.6))
    progression_day = index_date + dt.timedelta(days=int(progression_months * MONTH))
    already_progressed = patient.first_progression_date is not None
    if not already_progressed and latest_known < progression_day < min(death_day, CUTOFF):
        services.crf_record_save(
            record=ProgressionEvent(
                patient=patient, event_date=progression_day, progression_type="intrahepatic"
            ),
            user=user,
        )
    if death_day <= CUTOFF:
        services.crf_record_save(
            record=FollowUp(
                patient=patient,
                contact_date=max(latest_known, death_day - dt.timedelta(days=30)),
                vital_status="alive",
            ),
            user=user,
        )
        services.crf_record_save(
            record=Death(patient=patient, death_date=death_day, cause="tumour_progression"),
            user=user,
        )
    else:
        services.crf_record_save(
            record=FollowUp(
                patient=patient,
                contact_date=CUTOFF - dt.timedelta(days=rng.randrange(0, 60)),
                vital_status="alive",
            ),
            user=user,
        )

"""Patients with a whole case report form, created fast enough for cohorts of a hundred.

The patient is enrolled through ``registry.services.patient_enrol`` (validated, study id
assigned); the child rows are bulk-inserted after running each row's own ``derive()`` (drug
class, ALBI/Child-Pugh of the panel), and ``services.patient_refresh_derived`` computes
every patient-level value, once, at the end of ``services.patient_refresh_deferred``
(baseline lab, Child-Pugh, BCLC, per-assessment mRECIST responses,
best response, refractoriness, eligibility flags) exactly as after a data manager's entry.

Inputs are chosen so that the derivations give the wanted class, stage and response:
- Child-Pugh A: albumin 40 g/L, bilirubin 15 µmol/L, INR 1.0, no ascites → 5 points;
  B: albumin 30 g/L (2) and mild ascites (2) → 7 points (B, still eligible: > 7 is not).
- BCLC (Reig 2022): "A" single 4 cm lesion; "A2" two lesions ≤ 3 cm; "B" four lesions of
  6 cm with ECOG 0; "C" four lesions of 6 cm with ECOG 1.
- mRECIST: each baseline scan measures target lesions 30 + 20 mm (sum 50); a follow-up
  measures 0 + 0 (CR), 15 + 10 (PR, 50 %), 27 + 18 (SD, 90 %) or 40 + 25 (PD, 130 %).
- Two imaging series, as in seed 002: the TACE series (baseline 10 days before the first
  TACE, then a scan 20 days before the index date: PD when ``refractory``, else SD) and the
  studied line's series (baseline 5 days before the index date, then ``response`` on day
  ``response_day`` and any ``extra_scans``). With two adequate TACE 35 days apart, the PD
  scan 65 days after the last one makes the patient refractory under seed 002's rule.
"""

from __future__ import annotations

import datetime as dt
import itertools

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
    Site,
    SystemicTherapy,
    TaceSession,
    TumourAssessment,
)

INDEX_DATE = dt.date(2023, 3, 1)
CUTOFF = dt.date(2024, 12, 31)

FOLLOW_UP_SUMS = {
    "CR": (0, 0),
    "PR": (15, 10),
    "SD": (27, 18),
    "PD": (40, 25),
    # Lesion 1 measured at 0 mm, lesion 2 not measured: not evaluable (CRF.md §5), not CR.
    "NE": (0,),
}
TUMOURS = {
    # stage: (tumour_number, max_diameter_cm, ecog_ps)
    "A": (1, 4.0, 0),
    "A2": (2, 2.5, 0),
    "B": (4, 6.0, 0),
    "C": (4, 6.0, 1),
}
_refs = itertools.count(1)


def add_patient(
    site: Site,
    *,
    arm: str | None = "systemic",
    index_date: dt.date = INDEX_DATE,
    sex: str = "male",
    chronic_hepatitis: bool = True,
    child_pugh: str = "A",
    stage: str = "B",
    ecog_ps: int | None = None,
    bclc_override: str = "",
    arteriovenous_fistula: bool = False,
    extrahepatic_blood_supply: bool = False,
    histology: str = "conventional",
    response: str | None = "SD",
    response_day: int = 60,
    refractory: bool = True,
    extra_scans: tuple[tuple[dt.date, str], ...] = (),
    tace_history: int = 2,
    adverse_events: tuple[tuple[str, int], ...] = (),
    ae_onset: dt.date | None = None,
    death_date: dt.date | None = None,
    alive_on: dt.date | None = CUTOFF,
    progression_events: tuple[dt.date, ...] = (),
    afp_ng_ml: float = 100.0,
    birth_year: int = 1962,
) -> Patient:
    """One patient; ``arm`` is the treatment pattern: "systemic" (lenvatinib + sintilimab on
    the index date), "combined" (the same plus HAIC 3 days later), "tace_alone" (TACE on the
    index date), "tace_pd1_mtt" (TACE plus lenvatinib and camrelizumab 10 days later),
    "tace_late_systemic" (TACE, systemic therapy 120 days later) or None (nothing after the
    index date)."""
    number, diameter, stage_ecog = TUMOURS[stage]
    # One refresh of the derived values, after every row is in (not one per write).
    with services.patient_refresh_deferred():
        patient = services.patient_enrol(
            site=site,
            site_patient_ref=f"SECRET-MRN-{next(_refs):06d}",
            sex=sex,
            birth_year=birth_year,
            body_weight_kg=65,
            etiology_hbv=chronic_hepatitis,
            etiology_alcohol=not chronic_hepatitis,
            antiviral_therapy=True if chronic_hepatitis else None,
            chronic_hepatitis_history=chronic_hepatitis,
            diagnosis_date=index_date - dt.timedelta(days=200),
            index_date=index_date,
            ecog_ps=stage_ecog if ecog_ps is None else ecog_ps,
            histology_subtype=histology,
            bclc_stage_override=bclc_override,
            bclc_override_reason="multidisciplinary board" if bclc_override else "",
        )
        rows: list = [
            LabPanel(
                patient=patient,
                sample_date=index_date - dt.timedelta(days=7),
                albumin_g_l=40 if child_pugh == "A" else 30,
                total_bilirubin_umol_l=15,
                inr=1.0,
                afp_ng_ml=afp_ng_ml,
                ascites="none" if child_pugh == "A" else "mild",
                encephalopathy="none",
            ),
            TumourAssessment(
                patient=patient,
                imaging_date=index_date - dt.timedelta(days=5),
                modality="ct",
                tumour_number=number,
                max_diameter_cm=diameter,
                macrovascular_invasion="none",
                extrahepatic_spread=False,
                arteriovenous_fistula=arteriovenous_fistula,
                extrahepatic_blood_supply=extrahepatic_blood_supply,
            ),
        ]
        rows += _tace_history(patient, index_date, tace_history)
        rows += _treatments(patient, index_date, arm)
        onset = ae_onset or index_date + dt.timedelta(days=20)
        terms = {
            t.code: t for t in CtcaeTerm.objects.filter(code__in=[c for c, _ in adverse_events])
        }
        rows += [
            AdverseEvent(
                patient=patient,
                term=terms[code],
                grade=grade,
                onset_date=onset,
                attribution="systemic",
                relatedness="probable",
                outcome="resolved",
            )
            for code, grade in adverse_events
        ]
        if alive_on is not None:
            rows.append(FollowUp(patient=patient, contact_date=alive_on, vital_status="alive"))
        if death_date is not None:
            rows.append(Death(patient=patient, death_date=death_date, cause="tumour_progression"))
        rows += [
            ProgressionEvent(patient=patient, event_date=day, progression_type="intrahepatic")
            for day in progression_events
        ]
        _bulk(rows)
        scans: list[tuple[dt.date, str | None]] = []
        if tace_history:
            first_tace = index_date - dt.timedelta(days=85 + 35 * (tace_history - 1))
            scans.append((first_tace - dt.timedelta(days=10), None))
            scans.append((index_date - dt.timedelta(days=20), "PD" if refractory else "SD"))
        if response is not None or extra_scans:
            scans.append((index_date - dt.timedelta(days=5), None))
            if response is not None:
                scans.append((index_date + dt.timedelta(days=response_day), response))
            scans += list(extra_scans)
        _imaging(patient, scans)
    patient.refresh_from_db()
    return patient


def _tace_history(patient, index_date: dt.date, sessions: int) -> list:
    """Adequate TACE sessions 35 days apart, the last one 85 days before the index date."""
    first = index_date - dt.timedelta(days=85 + 35 * (sessions - 1))
    return [
        TaceSession(
            patient=patient,
            start_date=first + dt.timedelta(days=35 * i),
            technique="ctace",
            session_number=i + 1,
            technically_adequate=True,
        )
        for i in range(sessions)
    ]


def _treatments(patient, index_date: dt.date, arm: str | None) -> list:
    def systemic(agent: str, day: dt.date) -> SystemicTherapy:
        return SystemicTherapy(
            patient=patient, start_date=day, agent=agent, intent="after_refractoriness"
        )

    later = index_date + dt.timedelta(days=10)
    if arm == "systemic":
        return [systemic("lenvatinib", index_date), systemic("sintilimab", index_date)]
    if arm == "combined":
        return [
            systemic("lenvatinib", index_date),
            systemic("sintilimab", index_date),
            HaicCycle(
                patient=patient,
                start_date=index_date + dt.timedelta(days=3),
                regimen="fu_cisplatin",
                intent="after_refractoriness",
            ),
        ]
    if arm in ("tace_alone", "tace_pd1_mtt", "tace_late_systemic"):
        rows: list = [TaceSession(patient=patient, start_date=index_date, technique="ctace")]
        if arm == "tace_pd1_mtt":
            rows += [systemic("lenvatinib", later), systemic("camrelizumab", later)]
        if arm == "tace_late_systemic":
            rows += [systemic("lenvatinib", index_date + dt.timedelta(days=120))]
        return rows
    if arm is None:
        return []
    raise ValueError(f"unknown arm pattern {arm!r}")


def _imaging(patient, scans: list[tuple[dt.date, str | None]]) -> None:
    if not scans:
        return
    assessments = [
        ImagingAssessment(
            patient=patient, assessment_date=day, modality="ct", is_baseline=response is None
        )
        for day, response in scans
    ]
    _bulk(assessments)
    lesions = []
    for assessment, (_, response) in zip(assessments, scans, strict=True):
        sums = (30, 20) if response is None else FOLLOW_UP_SUMS[response]
        lesions += [
            LesionMeasurement(assessment=assessment, lesion_number=i + 1, diameter_mm=size)
            for i, size in enumerate(sums)
        ]
    _bulk(lesions)


def _bulk(rows: list) -> None:
    """Insert rows grouped by model, after each row derives its own values."""
    by_model: dict[type, list] = {}
    for row in rows:
        row.derive()
        by_model.setdefault(type(row), []).append(row)
    for model, objects in by_model.items():
        model.objects.bulk_create(objects)

"""A site of N patients, each with ``rows`` rows in every CRF section, built quickly.

One template patient is written through ``registry.services`` (every row validated, every
derived value computed, its flags and queries real); the others are enrolled through the
service and get copies of the template's rows by ``bulk_create``. The copies are what a
read path sees (lists, pages): identical rows per patient, so a query count that differs
between 5 and 50 patients can only come from the number of patients or rows.
"""

from __future__ import annotations

import copy
import datetime as dt

from registry import services
from registry.models import (
    AdverseEvent,
    DataQualityFlag,
    DataQuery,
    Death,
    FollowUp,
    HaicCycle,
    ImagingAssessment,
    LabPanel,
    LesionMeasurement,
    LocalProcedure,
    Patient,
    ProgressionEvent,
    RadiotherapyCourse,
    SystemicTherapy,
    TaceSession,
    TumourAssessment,
)

from .factories import INDEX_DATE, ctcae, make_patient

TERMS = ("fever", "diarrhea", "vomiting", "hypertension", "abdominal_pain", "rash_maculo_papular")
PER_PATIENT = (
    LabPanel,
    TumourAssessment,
    TaceSession,
    HaicCycle,
    RadiotherapyCourse,
    LocalProcedure,
    SystemicTherapy,
    AdverseEvent,
    FollowUp,
    ProgressionEvent,
    Death,
    DataQualityFlag,
    DataQuery,
)


def fill_record(patient: Patient, user, monitor=None, rows: int = 1) -> Patient:
    """``rows`` rows in every repeatable section, a baseline tumour assessment, a progression
    and a death, through the services; a data query per row when a monitor is given."""

    def save(record):
        return services.crf_record_save(record=record, user=user)

    with services.patient_refresh_deferred():
        save(
            TumourAssessment(
                patient=patient,
                imaging_date=INDEX_DATE - dt.timedelta(days=10),
                modality="ct",
                tumour_number=2,
                max_diameter_cm=4,
            )
        )
        for i in range(rows):
            day = INDEX_DATE + dt.timedelta(days=40 * i)
            save(
                LabPanel(
                    patient=patient,
                    sample_date=day - dt.timedelta(days=5),
                    albumin_g_l=38,
                    total_bilirubin_umol_l=17,
                    inr=1.1,
                    ascites="none",
                    encephalopathy="none",
                )
            )
            save(
                TaceSession(
                    patient=patient, start_date=day, technique="ctace", session_number=i + 1
                )
            )
            save(
                HaicCycle(
                    patient=patient,
                    start_date=day + dt.timedelta(days=1),
                    regimen="fu_cisplatin",
                    fluorouracil_g_m2=2.5,
                    platinum_mg_m2=80,
                    infusion_hours=48,
                    cycle_number=i + 1,
                )
            )
            save(
                RadiotherapyCourse(
                    patient=patient,
                    start_date=day + dt.timedelta(days=2),
                    end_date=day + dt.timedelta(days=29),
                    technique="imrt",
                    total_dose_gy=50,
                    fractions=20,
                )
            )
            save(
                LocalProcedure(
                    patient=patient, start_date=day + dt.timedelta(days=3), procedure="ablation"
                )
            )
            save(SystemicTherapy(patient=patient, start_date=day, agent="lenvatinib"))
            scan = save(
                ImagingAssessment(
                    patient=patient,
                    assessment_date=day - dt.timedelta(days=2),
                    modality="ct",
                    is_baseline=i == 0,
                )
            )
            save(LesionMeasurement(assessment=scan, lesion_number=1, diameter_mm=40 - i))
            save(
                AdverseEvent(
                    patient=patient,
                    term=ctcae(TERMS[i % len(TERMS)]),
                    grade=1,
                    onset_date=day + dt.timedelta(days=3),
                    attribution="local",
                )
            )
            save(
                FollowUp(
                    patient=patient, contact_date=day + dt.timedelta(days=30), vital_status="alive"
                )
            )
            if monitor is not None:
                DataQuery.objects.create(patient=patient, opened_by=monitor, field="ecog_ps")
        last = INDEX_DATE + dt.timedelta(days=40 * rows + 60)
        save(ProgressionEvent(patient=patient, event_date=last, progression_type="intrahepatic"))
        save(Death(patient=patient, death_date=last + dt.timedelta(days=30), cause="other"))
    patient.refresh_from_db()
    return patient


def _copy(row, **owner):
    clone = copy.copy(row)
    clone.pk = clone.id = None
    clone._state = type(row._state)()
    for name, value in owner.items():
        setattr(clone, name, value)
    return clone


def copy_record(template: Patient, patient: Patient) -> None:
    """Every row of ``template``'s record, copied to ``patient`` (bulk, no services)."""
    for model in PER_PATIENT:
        model.objects.bulk_create(
            _copy(row, patient_id=patient.pk) for row in model.objects.filter(patient=template)
        )
    for scan in ImagingAssessment.objects.filter(patient=template):
        lesions = list(scan.measurements.all())
        new_scan = _copy(scan, patient_id=patient.pk)
        new_scan.save_base(raw=True)
        LesionMeasurement.objects.bulk_create(
            _copy(lesion, assessment_id=new_scan.pk) for lesion in lesions
        )
    Patient.objects.filter(pk=patient.pk).update(
        **{
            f.attname: getattr(template, f.attname)
            for f in Patient._meta.concrete_fields
            if f.name not in ("id", "site", "study_id", "site_patient_ref", "version", "created_at")
            and not f.is_relation
        }
    )


def grow_site(site, user, template: Patient, total: int) -> list[Patient]:
    """Enrol patients at ``site`` until it holds ``total``, each a copy of ``template``."""
    patients = list(Patient.objects.filter(site=site))
    while len(patients) < total:
        patient = make_patient(site, user)
        copy_record(template, patient)
        patients.append(patient)
    return patients

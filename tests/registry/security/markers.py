"""A patient whose every identifying and free-text field holds a unique, searchable marker."""

from __future__ import annotations

import datetime as dt

from registry import services
from registry.disclosure import DECLARED, Kind
from registry.models import (
    AdverseEvent,
    CtcaeTerm,
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
from tests.registry.factories import INDEX_DATE, make_patient


def marker(model, field: str, tag: str) -> str:
    return f"ZQX{tag}{model.__name__[:4].upper()}{field.replace('_', '')[:10].upper()}"


def planted_patient(site, user, tag: str = "A"):
    """Enrol a patient at ``site`` with a marker in every site-only field; return (patient,
    markers)."""
    markers: dict[str, str] = {}

    def plant(model, **values):
        for name, kind in DECLARED.get(model, {}).items():
            if kind != Kind.CODED and name not in values:
                values[name] = markers[f"{model.__name__}.{name}"] = marker(model, name, tag)
        return values

    day = INDEX_DATE
    # The site reference and other comorbidities at enrolment; the override reason below.
    patient_values = plant(Patient, bclc_override_reason="")
    del patient_values["bclc_override_reason"]
    patient = make_patient(site, user, **patient_values)
    save = lambda record: services.crf_record_save(record=record, user=user)  # noqa: E731
    save(
        LabPanel(
            patient=patient,
            sample_date=day - dt.timedelta(days=3),
            albumin_g_l=40,
            total_bilirubin_umol_l=17,
            inr=1.1,
            ascites="none",
            encephalopathy="none",
        )
    )
    save(
        TumourAssessment(
            patient=patient,
            imaging_date=day - dt.timedelta(days=5),
            tumour_number=1,
            max_diameter_cm=3,
        )
    )
    save(
        TaceSession(
            patient=patient,
            start_date=day + dt.timedelta(days=1),
            technique="ctace",
            microspheres=True,
            **plant(TaceSession),
        )
    )
    save(
        HaicCycle(
            patient=patient,
            start_date=day + dt.timedelta(days=10),
            regimen="folfox",
            **plant(HaicCycle),
        )
    )
    save(
        RadiotherapyCourse(
            patient=patient,
            start_date=day + dt.timedelta(days=20),
            technique="sbrt",
            total_dose_gy=40,
            fractions=5,
            **plant(RadiotherapyCourse),
        )
    )
    save(
        LocalProcedure(
            patient=patient,
            start_date=day + dt.timedelta(days=30),
            procedure="ablation",
            **plant(LocalProcedure),
        )
    )
    save(
        SystemicTherapy(
            patient=patient,
            start_date=day + dt.timedelta(days=40),
            agent="other",
            **plant(SystemicTherapy),
        )
    )
    scan = save(
        ImagingAssessment(
            patient=patient,
            assessment_date=day - dt.timedelta(days=4),
            is_baseline=True,
            criteria="mrecist",
            modality="ct",
        )
    )
    save(
        LesionMeasurement(
            assessment=scan,
            lesion_number=1,
            organ="liver",
            diameter_mm=30,
            **plant(LesionMeasurement),
        )
    )
    term = CtcaeTerm.objects.filter(is_other_specify=True).first()
    save(
        AdverseEvent(
            patient=patient,
            term=term,
            grade=min(max(2, term.min_grade), term.max_grade),
            onset_date=day + dt.timedelta(days=5),
            attribution="local",
            **plant(AdverseEvent),
        )
    )
    save(
        FollowUp(
            patient=patient,
            contact_date=day + dt.timedelta(days=45),
            vital_status="alive",
            **plant(FollowUp),
        )
    )
    save(
        ProgressionEvent(
            patient=patient,
            event_date=day + dt.timedelta(days=50),
            progression_type="intrahepatic",
            **plant(ProgressionEvent),
        )
    )
    save(
        Death(
            patient=patient,
            death_date=day + dt.timedelta(days=60),
            cause="tumour_progression",
            **plant(Death),
        )
    )
    patient.refresh_from_db()
    reason = markers["Patient.bclc_override_reason"] = marker(Patient, "bclc_override_reason", tag)
    services.patient_update(
        patient=patient,
        user=user,
        bclc_stage_override="B" if patient.bclc_stage_derived != "B" else "C",
        bclc_override_reason=reason,
    )
    patient.refresh_from_db()
    return patient, markers

"""Data-quality findings of a patient: soft ranges, cross-form consistency, eligibility.

Pure evaluation over already-loaded rows; ``registry.services`` stores the result as
``DataQualityFlag`` rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry import choices as c
from registry.derivations.drugs import check_lenvatinib_dose
from registry.rules import soft_range_message

LAB_SOFT_FIELDS = (
    "albumin_g_l",
    "total_bilirubin_umol_l",
    "inr",
    "platelets_10e9_l",
    "alt_u_l",
    "ast_u_l",
    "creatinine_umol_l",
)
BASELINE_IMAGING_WINDOW_DAYS = 60
HBV_DNA_UNTREATED_LIMIT = 1e5


@dataclass(frozen=True)
class Finding:
    record_type: str
    record_id: int | None
    field: str
    code: str
    severity: str
    message: str

    @property
    def key(self) -> tuple:
        return (self.record_type, self.record_id, self.field, self.code)


def patient_findings(
    patient, *, labs, tumour, systemic, imaging, adverse_events, death
) -> list[Finding]:
    findings: list[Finding] = []
    findings += _soft_ranges(patient, labs)
    findings += _baseline_scores(patient)
    findings += _eligibility(patient, labs)
    findings += _timing(patient, tumour)
    findings += dosing_findings(patient, systemic)
    findings += _imaging(imaging)
    findings += _adverse_events_vs_death(adverse_events, death)
    return findings


BASELINE_SCORE_NAMES = {"albi": "ALBI", "child_pugh": "Child-Pugh"}


def _baseline_scores(patient) -> list[Finding]:
    """A score none of whose baseline panels holds its inputs (CRF.md §2), inputs named.

    Reads ``patient.missing_inputs`` as the refresh has just set it; a patient with no panel
    before the index date at all is only incomplete (no flag per score)."""
    findings = []
    for score, name in BASELINE_SCORE_NAMES.items():
        inputs = (patient.missing_inputs or {}).get(score)
        if not inputs or inputs == ["baseline lab panel"]:
            continue
        findings.append(
            Finding(
                "patient",
                patient.pk,
                score,
                "baseline_inputs_missing",
                c.FlagSeverity.WARNING,
                f"{name} at baseline cannot be derived: no lab panel on or before the index date "
                f"has {', '.join(str(i).replace('_', ' ') for i in inputs)}.",
            )
        )
    return findings


def _soft_ranges(patient, labs) -> list[Finding]:
    findings = []
    age_message = soft_range_message("age_at_index", patient.age_at_index)
    if age_message:
        findings.append(
            Finding(
                "patient",
                patient.pk,
                "age_at_index",
                "soft_range",
                c.FlagSeverity.WARNING,
                age_message,
            )
        )
    for lab in labs:
        for field in LAB_SOFT_FIELDS:
            message = soft_range_message(field, getattr(lab, field))
            if message:
                findings.append(
                    Finding(
                        "labpanel",
                        lab.pk,
                        field,
                        "soft_range",
                        c.FlagSeverity.WARNING,
                        f"Lab panel {lab.sample_date}: {message}",
                    )
                )
    return findings


def _eligibility(patient, labs) -> list[Finding]:
    """Reasons the patient is outside both seeds' eligibility (kept, but counted)."""
    findings = []
    if patient.child_pugh_score is not None and patient.child_pugh_score > 7:
        findings.append(
            Finding(
                "patient",
                patient.pk,
                "child_pugh_score",
                "child_pugh_gt_7",
                c.FlagSeverity.ELIGIBILITY,
                f"Child-Pugh score {patient.child_pugh_score} > 7: outside the seeds' eligibility.",
            )
        )
    if patient.ecog_ps is not None and patient.ecog_ps >= 2:
        findings.append(
            Finding(
                "patient",
                patient.pk,
                "ecog_ps",
                "ecog_ge_2",
                c.FlagSeverity.ELIGIBILITY,
                f"ECOG PS {patient.ecog_ps} ≥ 2: outside the seeds' eligibility.",
            )
        )
    if patient.histology_subtype not in (
        "",
        c.HistologySubtype.CONVENTIONAL,
        c.HistologySubtype.NOT_DONE,
    ):
        findings.append(
            Finding(
                "patient",
                patient.pk,
                "histology_subtype",
                "non_conventional_histology",
                c.FlagSeverity.ELIGIBILITY,
                f"Histology {patient.get_histology_subtype_display()}: non-conventional HCC is "
                "excluded in both seeds.",
            )
        )
    if not patient.antiviral_therapy:
        for lab in labs:
            if (
                lab.hbv_dna_iu_ml is not None
                and float(lab.hbv_dna_iu_ml) >= HBV_DNA_UNTREATED_LIMIT
            ):
                findings.append(
                    Finding(
                        "labpanel",
                        lab.pk,
                        "hbv_dna_iu_ml",
                        "hbv_dna_untreated",
                        c.FlagSeverity.ELIGIBILITY,
                        f"HBV DNA {float(lab.hbv_dna_iu_ml):g} IU/mL ≥ 10^5 without antiviral therapy "
                        f"({lab.sample_date}): exclusion criterion.",
                    )
                )
    return findings


def _timing(patient, tumour) -> list[Finding]:
    if tumour is None or patient.index_date is None:
        return []
    gap = (patient.index_date - tumour.imaging_date).days
    if 0 <= gap <= BASELINE_IMAGING_WINDOW_DAYS:
        return []
    return [
        Finding(
            "tumourassessment",
            tumour.pk,
            "imaging_date",
            "baseline_imaging_window",
            c.FlagSeverity.WARNING,
            f"Baseline imaging {tumour.imaging_date} is {gap} days before the index date "
            f"{patient.index_date}; expected within {BASELINE_IMAGING_WINDOW_DAYS} days before.",
        )
    ]


def dosing_findings(patient, systemic) -> list[Finding]:
    """The lenvatinib weight-based dose check of each regimen (public: the entry screen shows it)."""
    findings = []
    for regimen in systemic:
        if regimen.agent != c.SystemicAgent.LENVATINIB or regimen.dose is None:
            continue
        if regimen.dose_unit not in ("", c.DoseUnit.MG):
            continue
        message = check_lenvatinib_dose(
            body_weight_kg=None
            if patient.body_weight_kg is None
            else float(patient.body_weight_kg),
            daily_dose_mg=float(regimen.dose),
        )
        if message:
            findings.append(
                Finding(
                    "systemictherapy",
                    regimen.pk,
                    "dose",
                    "lenvatinib_dose",
                    c.FlagSeverity.WARNING,
                    message,
                )
            )
    return findings


def _imaging(imaging) -> list[Finding]:
    return [
        Finding(
            "imagingassessment",
            a.pk,
            "reader_response",
            "reader_disagrees",
            c.FlagSeverity.INCONSISTENCY,
            f"Assessment {a.assessment_date}: the reader recorded {a.reader_response}, the registry "
            f"derives {a.response} ({a.response_reason}).",
        )
        for a in imaging
        if a.reader_disagrees
    ]


def _adverse_events_vs_death(adverse_events, death) -> list[Finding]:
    findings = []
    for event in adverse_events:
        if event.grade == 5 and (death is None or death.death_date != event.onset_date):
            when = (
                f"on {event.onset_date}"
                if death is None
                else f"({death.death_date} ≠ {event.onset_date})"
            )
            findings.append(
                Finding(
                    "adverseevent",
                    event.pk,
                    "grade",
                    "grade5_without_death",
                    c.FlagSeverity.INCONSISTENCY,
                    f"Grade 5 {event.term} needs a death record on the same date {when}.",
                )
            )
    if (
        death is not None
        and death.cause == c.DeathCause.TREATMENT_RELATED
        and not any(event.is_treatment_related for event in adverse_events)
    ):
        findings.append(
            Finding(
                "death",
                death.pk,
                "cause",
                "treatment_death_without_ae",
                c.FlagSeverity.INCONSISTENCY,
                "Death is treatment-related but no treatment-related adverse event is recorded.",
            )
        )
    return findings


def age_at(birth_year: int | None, on: dt.date | None) -> int | None:
    if birth_year is None or on is None:
        return None
    return on.year - birth_year

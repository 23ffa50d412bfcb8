"""The analysis dataset: one row per patient, built in a constant number of queries.

Identifying data never enters it: the site's own patient reference is not selected at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
from django.db.models import Max, Min

from analytics.arms import TreatmentRow, matches
from analytics.models import ArmDefinition, CohortDefinition
from registry.access import Action, site_ids_for
from registry.derivations.survival import overall_survival, progression_free_survival
from registry.models import (
    AdverseEvent,
    FollowUp,
    HaicCycle,
    ImagingAssessment,
    LocalProcedure,
    Patient,
    ProgressionEvent,
    RadiotherapyCourse,
    SystemicTherapy,
    TaceSession,
)

PATIENT_COLUMNS = {
    "id": "patient_id",
    "study_id": "study_id",
    "site__code": "site",
    "sex": "sex",
    "age_at_index": "age",
    "index_date": "index_date",
    "ecog_ps": "ecog_ps",
    "chronic_hepatitis_history": "chronic_hepatitis",
    "etiology_hbv": "hbv",
    "etiology_hcv": "hcv",
    "albi_score": "albi_score",
    "albi_grade": "albi_grade",
    "child_pugh_score": "child_pugh_score",
    "child_pugh_class": "child_pugh_class",
    "bclc_stage": "bclc_stage",
    "bclc_stage_derived": "bclc_stage_derived",
    "up_to_seven_within": "up_to_seven_within",
    "best_overall_response": "best_response",
    "objective_response": "objective_response",
    "disease_control": "disease_control",
    "first_progression_date": "imaging_progression_date",
    "eligibility_flags": "eligibility_flags",
    "tace_refractoriness": "tace_refractoriness",
    "baseline_lab__albumin_g_l": "albumin_g_l",
    "baseline_lab__total_bilirubin_umol_l": "total_bilirubin_umol_l",
    "baseline_lab__afp_ng_ml": "afp_ng_ml",
    "tumour_assessment__tumour_number": "tumour_number",
    "tumour_assessment__max_diameter_cm": "max_diameter_cm",
    "tumour_assessment__macrovascular_invasion": "macrovascular_invasion",
    "tumour_assessment__extrahepatic_spread": "extrahepatic_spread",
    "tumour_assessment__arteriovenous_fistula": "arteriovenous_fistula",
    "tumour_assessment__extrahepatic_blood_supply": "extrahepatic_blood_supply",
    "death__death_date": "death_date",
    "death__cause": "death_cause",
}

TREATMENT_SOURCES = [
    (TaceSession, "tace"),
    (HaicCycle, "haic"),
    (RadiotherapyCourse, "radiotherapy"),
    (LocalProcedure, "local_procedure"),
    (SystemicTherapy, "systemic"),
]


@dataclass
class AnalysisDataset:
    frame: pd.DataFrame
    flow: list[dict] = field(default_factory=list)  # ordered steps: label, n, excluded reasons
    endpoint_exclusions: dict[str, dict[str, int]] = field(default_factory=dict)
    sha256: str = ""


def build_analysis_dataset(
    *, user, cohort: CohortDefinition, control_arm: ArmDefinition, treatment_arm: ArmDefinition
) -> AnalysisDataset:
    patients = _cohort_patients(user, cohort)
    frame = pd.DataFrame.from_records(
        list(patients.values_list(*PATIENT_COLUMNS)), columns=list(PATIENT_COLUMNS.values())
    )
    flow = [
        {"step": "Registered patients visible to the analysis", "n": len(frame), "excluded": {}}
    ]
    if frame.empty:
        return AnalysisDataset(frame=_empty_columns(frame), flow=flow)
    frame, step = _apply_cohort_filters(frame, cohort)
    flow.append(step)
    ids = frame["patient_id"].tolist()
    treatments = _treatments(ids)
    frame["arm"] = [
        _arm_of(treatments.get(pid, []), index_date, control_arm, treatment_arm)
        for pid, index_date in zip(frame["patient_id"], frame["index_date"], strict=True)
    ]
    no_arm = frame["arm"].isna()
    flow.append(
        {
            "step": "Assigned to an arm",
            "n": int((~no_arm).sum()),
            "excluded": {"treatments match neither arm definition": int(no_arm.sum())}
            if no_arm.any()
            else {},
            "by_arm": {str(k): int(v) for k, v in frame.loc[~no_arm, "arm"].value_counts().items()},
        }
    )
    frame = frame.loc[~no_arm].copy()
    ids = frame["patient_id"].tolist()
    frame = _add_tace_counts(frame, treatments, cohort)
    frame = _add_endpoints(frame, ids, cohort.cutoff_date)
    frame = _add_adverse_events(frame, ids)
    frame = _derive_covariates(frame)
    dataset = AnalysisDataset(frame=frame.reset_index(drop=True), flow=flow)
    dataset.endpoint_exclusions = _endpoint_exclusions(dataset.frame)
    dataset.sha256 = dataset_hash(dataset.frame)
    return dataset


def _cohort_patients(user, cohort: CohortDefinition):
    patients = Patient.objects.all()
    visible = site_ids_for(user, Action.ANALYSE)
    if visible is not None:
        patients = patients.filter(site_id__in=visible)
    site_ids = list(cohort.sites.values_list("id", flat=True))
    if site_ids:
        patients = patients.filter(site_id__in=site_ids)
    return patients.order_by("study_id")


def _apply_cohort_filters(
    frame: pd.DataFrame, cohort: CohortDefinition
) -> tuple[pd.DataFrame, dict]:
    reasons: dict[str, pd.Series] = {}
    reasons["no index date"] = frame["index_date"].isna()
    if cohort.index_date_from:
        reasons["index date before the window"] = frame["index_date"].notna() & (
            frame["index_date"] < cohort.index_date_from
        )
    if cohort.index_date_to:
        reasons["index date after the window"] = frame["index_date"].notna() & (
            frame["index_date"] > cohort.index_date_to
        )
    reasons["index date after the data cut-off"] = frame["index_date"].notna() & (
        frame["index_date"] > cohort.cutoff_date
    )
    stage = frame["bclc_stage"] if cohort.bclc_source == "used" else frame["bclc_stage_derived"]
    if cohort.bclc_stages:
        reasons["BCLC stage outside " + "/".join(cohort.bclc_stages)] = ~stage.isin(
            cohort.bclc_stages
        )
    if cohort.child_pugh_classes:
        reasons["Child-Pugh class outside " + "/".join(cohort.child_pugh_classes)] = ~frame[
            "child_pugh_class"
        ].isin(cohort.child_pugh_classes)
    if cohort.exclude_ineligible:
        for code in sorted({c for flags in frame["eligibility_flags"] for c in (flags or [])}):
            reasons[f"ineligible: {code}"] = frame["eligibility_flags"].map(
                lambda f, c=code: c in (f or [])
            )
    if cohort.refractoriness_rule_set:
        rule_set = cohort.refractoriness_rule_set
        frame["refractory_status"] = frame["tace_refractoriness"].map(
            lambda r: (r or {}).get(rule_set, {}).get("status", "indeterminate")
        )
        if cohort.require_refractory:
            reasons[f"not refractory ({rule_set})"] = frame["refractory_status"] != "refractory"
    # Each patient is counted once, under the first reason that excludes them.
    excluded = pd.Series(False, index=frame.index)
    counts: dict[str, int] = {}
    for label, mask in reasons.items():
        newly = mask.fillna(False).astype(bool) & ~excluded
        if newly.any():
            counts[label] = int(newly.sum())
        excluded |= newly
    kept = frame.loc[~excluded].copy()
    return kept, {"step": "Meeting the cohort definition", "n": len(kept), "excluded": counts}


def _treatments(ids: list[int]) -> dict[int, list[TreatmentRow]]:
    rows: dict[int, list[TreatmentRow]] = defaultdict(list)
    for model, modality in TREATMENT_SOURCES:
        columns = ["patient_id", "start_date", "intent"]
        if model is SystemicTherapy:
            columns.append("drug_class")
        for values in (
            model.objects.filter(patient_id__in=ids).values_list(*columns).iterator(chunk_size=5000)
        ):
            drug = values[3] if len(values) > 3 else ""
            rows[values[0]].append(TreatmentRow(modality, values[1], drug or "", values[2]))
    return rows


def _arm_of(treatments, index_date, control: ArmDefinition, treatment: ArmDefinition) -> str | None:
    # The compared arm is tested first: a combination patient also satisfies "systemic".
    if matches(
        treatment.rule, treatments, window_days=treatment.window_days, index_date=index_date
    ):
        return treatment.name
    if matches(control.rule, treatments, window_days=control.window_days, index_date=index_date):
        return control.name
    return None


def _add_tace_counts(frame: pd.DataFrame, treatments, cohort) -> pd.DataFrame:
    frame["tace_sessions"] = [
        sum(1 for t in treatments.get(pid, []) if t.modality == "tace")
        for pid in frame["patient_id"]
    ]
    refractoriness = frame["tace_refractoriness"].map(lambda r: r or {})
    for rule_set in ("jsh_lcsgj_2014", "seed002_operational", "progression_after_n_cycles"):
        frame[f"refractory_{rule_set}"] = refractoriness.map(
            lambda r, k=rule_set: r.get(k, {}).get("status") if r.get(k) else None
        )
    return frame


def _add_endpoints(frame: pd.DataFrame, ids: list[int], cutoff: dt.date) -> pd.DataFrame:
    last_alive = dict(
        FollowUp.objects.filter(patient_id__in=ids, vital_status="alive", contact_date__lte=cutoff)
        .values("patient_id")
        .annotate(d=Max("contact_date"))
        .values_list("patient_id", "d")
    )
    imaging = dict(
        ImagingAssessment.objects.filter(patient_id__in=ids, assessment_date__lte=cutoff)
        .values("patient_id")
        .annotate(d=Max("assessment_date"))
        .values_list("patient_id", "d")
    )
    progression = dict(
        ProgressionEvent.objects.filter(patient_id__in=ids)
        .values("patient_id")
        .annotate(d=Min("event_date"))
        .values_list("patient_id", "d")
    )
    os_rows, pfs_rows = [], []
    for row in frame[
        ["patient_id", "index_date", "death_date", "imaging_progression_date"]
    ].itertuples(index=False):
        known_alive = max(
            [
                d
                for d in (last_alive.get(row.patient_id), imaging.get(row.patient_id))
                if d is not None
            ],
            default=None,
        )
        os = overall_survival(
            index_date=row.index_date,
            death_date=_date(row.death_date),
            last_known_alive_date=known_alive,
            cutoff_date=cutoff,
        )
        first_progression = min(
            [
                d
                for d in (_date(row.imaging_progression_date), progression.get(row.patient_id))
                if d
            ],
            default=None,
        )
        pfs = progression_free_survival(
            index_date=row.index_date,
            progression_date=first_progression,
            death_date=_date(row.death_date),
            last_adequate_imaging_date=imaging.get(row.patient_id),
            cutoff_date=cutoff,
        )
        os_rows.append((os.time_months, _event(os.event)))
        pfs_rows.append((pfs.time_months, _event(pfs.event), first_progression))
    frame["os_months"] = [r[0] for r in os_rows]
    frame["os_event"] = [r[1] for r in os_rows]
    frame["pfs_months"] = [r[0] for r in pfs_rows]
    frame["pfs_event"] = [r[1] for r in pfs_rows]
    frame["progression_date"] = [r[2] for r in pfs_rows]
    return frame


def _date(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return value.date() if isinstance(value, pd.Timestamp) else value


def _event(value: bool | None):
    return None if value is None else int(value)


def _add_adverse_events(frame: pd.DataFrame, ids: list[int]) -> pd.DataFrame:
    events = pd.DataFrame.from_records(
        list(
            AdverseEvent.objects.filter(patient_id__in=ids).values_list(
                "patient_id", "term__code", "grade"
            )
        ),
        columns=["patient_id", "term", "grade"],
    )
    frame = frame.set_index("patient_id", drop=False)
    frame["ae_any"] = frame.index.isin(events["patient_id"]).astype(int)
    severe = events.loc[events["grade"] >= 3, "patient_id"]
    frame["ae_grade3plus"] = frame.index.isin(severe).astype(int)
    if not events.empty:
        worst = events.groupby(["patient_id", "term"])["grade"].max().unstack("term")
        for term in worst.columns:
            grades = worst[term].reindex(frame.index)
            frame[f"ae_{term}"] = grades.notna().astype(int)
            frame[f"ae_{term}_grade"] = grades
    return frame.reset_index(drop=True)


def _derive_covariates(frame: pd.DataFrame) -> pd.DataFrame:
    """Covariate coding of seed 002's Cox models, written once here and reported."""
    frame["male"] = (frame["sex"] == "male").astype(int)
    frame["child_pugh_b"] = frame["child_pugh_class"].map({"A": 0, "B": 1, "C": 1})
    frame["bclc_c"] = frame["bclc_stage"].map({"0": 0, "A": 0, "B": 0, "C": 1, "D": 1})
    frame["tumour_multiple"] = frame["tumour_number"].map(
        lambda n: None if pd.isna(n) else int(n > 1)
    )
    for column in ("albumin_g_l", "total_bilirubin_umol_l", "afp_ng_ml", "max_diameter_cm"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["log10_afp"] = frame["afp_ng_ml"].map(lambda v: math.log10(v) if v and v > 0 else None)
    for column in (
        "chronic_hepatitis",
        "arteriovenous_fistula",
        "extrahepatic_blood_supply",
        "extrahepatic_spread",
    ):
        frame[column] = frame[column].map(
            lambda v: None if v is None or pd.isna(v) else int(bool(v))
        )
    frame["macrovascular_invasion"] = frame["macrovascular_invasion"].map(
        lambda v: None if v is None else int(v not in ("", "none"))
    )
    return frame.drop(columns=["eligibility_flags", "tace_refractoriness"])


def _endpoint_exclusions(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Missing critical data excludes a patient from the affected endpoint only."""
    exclusions: dict[str, dict[str, int]] = {}
    for endpoint, column, reason in (
        ("overall survival", "os_months", "no survival status"),
        ("progression-free survival", "pfs_months", "no survival or imaging status"),
        ("tumour response", "best_response", "no response evaluation"),
    ):
        values = frame[column]
        missing = values.isna() | (values == "")
        if missing.any():
            exclusions[endpoint] = {reason: int(missing.sum())}
    return exclusions


def _empty_columns(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def dataset_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the dataset's CSV text: the same data gives the same hash on any machine."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


__all__ = ["AnalysisDataset", "build_analysis_dataset", "dataset_hash"]

"""The analysis dataset: one row per patient, built in a constant number of queries.

``build_analysis_dataset`` reads what the user may ANALYSE (``registry.access``), applies the
cohort definition, assigns each patient to one of two arms with the arm rules of
``analytics.arms`` and derives the endpoints at the cohort's data cut-off with the pure
derivations of ``registry.derivations.survival``. It issues the same handful of queries for
five patients or a hundred thousand: every child table is read once, filtered by a sub-query
on the visible patients (never by a list of ids, which SQLite caps and which grows the SQL).

Identifying data never enters the dataset: the site's own patient reference is not selected
at all (``IDENTIFYING_COLUMNS`` is checked against the frame before it is returned).

What happens after the cut-off is not seen: treatments, imaging, progression events, adverse
events and deaths dated after it are ignored (a death after the cut-off means alive at it).
The response columns describe the treatment line being studied: they are recomputed from the
per-assessment derived responses dated from the index date to the cut-off.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from django.db.models import CharField, F, FloatField, Max, QuerySet, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from analytics.arms import TreatmentRow, matches
from analytics.models import ArmDefinition, CohortDefinition
from registry.access import Action, site_ids_for
from registry.derivations.response import (
    best_overall_response,
    disease_control,
    objective_response,
)
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
from registry.services import index_series, response_series

REFRACTORINESS_RULE_SETS = ("jsh_lcsgj_2014", "seed002_operational", "progression_after_n_cycles")
IDENTIFYING_COLUMNS = frozenset({"site_patient_ref"})

# Patient columns: ORM path -> dataset column. Decimals are cast to float in SQL so that the
# rows arrive as plain Python numbers (no Decimal per cell).
PATIENT_FIELDS = {
    "id": "patient_id",
    "study_id": "study_id",
    "site_id": "site_id",
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
    "eligibility_flags": "eligibility_flags",
    "tumour_assessment__tumour_number": "tumour_number",
    "tumour_assessment__macrovascular_invasion": "macrovascular_invasion",
    "tumour_assessment__extrahepatic_spread": "extrahepatic_spread",
    "tumour_assessment__arteriovenous_fistula": "arteriovenous_fistula",
    "tumour_assessment__extrahepatic_blood_supply": "extrahepatic_blood_supply",
    "death__death_date": "death_date",
    "death__cause": "death_cause",
}
FLOAT_FIELDS = {
    "baseline_lab__albumin_g_l": "albumin_g_l",
    "baseline_lab__total_bilirubin_umol_l": "total_bilirubin_umol_l",
    "baseline_lab__afp_ng_ml": "afp_ng_ml",
    "tumour_assessment__max_diameter_cm": "max_diameter_cm",
}

# The columns every dataset has, in order (adverse-event term columns follow ``ae_grade3plus``).
BASE_COLUMNS = [
    "patient_id",
    "study_id",
    "site",
    "sex",
    "age",
    "index_date",
    "ecog_ps",
    "chronic_hepatitis",
    "hbv",
    "hcv",
    "albi_score",
    "albi_grade",
    "child_pugh_score",
    "child_pugh_class",
    "bclc_stage",
    "bclc_stage_derived",
    "up_to_seven_within",
    "best_response",
    "objective_response",
    "disease_control",
    "imaging_progression_date",
    "albumin_g_l",
    "total_bilirubin_umol_l",
    "afp_ng_ml",
    "tumour_number",
    "max_diameter_cm",
    "macrovascular_invasion",
    "extrahepatic_spread",
    "arteriovenous_fistula",
    "extrahepatic_blood_supply",
    "death_date",
    "death_cause",
    "arm",
    "tace_sessions",
    *(f"refractory_{rule_set}" for rule_set in REFRACTORINESS_RULE_SETS),
    "os_months",
    "os_event",
    "pfs_months",
    "pfs_event",
    "progression_date",
    "ae_any",
    "ae_grade3plus",
]
COVARIATE_COLUMNS = ["male", "child_pugh_b", "bclc_c", "tumour_multiple", "log10_afp"]

NO_ARM = "treatments match neither arm definition"


@dataclass
class AnalysisDataset:
    frame: pd.DataFrame
    flow: list[dict] = field(default_factory=list)  # ordered steps: step, n, excluded reasons
    endpoint_exclusions: dict[str, dict[str, int]] = field(default_factory=dict)
    sha256: str = ""


def build_analysis_dataset(
    *, user, cohort: CohortDefinition, control_arm: ArmDefinition, treatment_arm: ArmDefinition
) -> AnalysisDataset:
    cutoff = cohort.cutoff_date
    patients = visible_patients(user)
    frame = _patient_frame(patients)
    flow: list[dict] = [
        {"step": "Registered patients visible to the analysis", "n": len(frame), "excluded": {}}
    ]
    frame, step = _apply_cohort_filters(frame, cohort)
    flow.append(step)

    treatments = _treatments(patients, cutoff)
    frame["arm"] = pd.Series(
        [
            _arm_of(treatments.get(pid, ()), index_date, control_arm, treatment_arm)
            for pid, index_date in zip(frame["patient_id"], frame["index_date"], strict=True)
        ],
        index=frame.index,
        dtype=object,
    )
    no_arm = frame["arm"].isna()
    arm_counts = frame.loc[~no_arm, "arm"].value_counts()
    flow.append(
        {
            "step": "Assigned to an arm",
            "n": int((~no_arm).sum()),
            "excluded": {NO_ARM: int(no_arm.sum())} if no_arm.any() else {},
            "by_arm": {
                arm.name: int(arm_counts.get(arm.name, 0)) for arm in (control_arm, treatment_arm)
            },
        }
    )
    frame = frame.loc[~no_arm].reset_index(drop=True)

    frame["tace_sessions"] = [
        sum(1 for t in treatments.get(pid, ()) if t.modality == "tace")
        for pid in frame["patient_id"]
    ]
    exclusions: dict[str, dict[str, int]] = {}
    frame, last_scan, last_any_scan = _add_response(frame, patients, cutoff, exclusions)
    frame = _add_survival(frame, patients, cutoff, last_scan, last_any_scan, exclusions)
    frame = _add_adverse_events(frame, patients, cutoff)
    frame = _derive_covariates(frame, cohort)
    frame = _ordered(frame)
    leaked = IDENTIFYING_COLUMNS & set(frame.columns)
    if leaked:  # pragma: no cover - a guard: the columns are never selected
        raise RuntimeError(f"identifying columns in the analysis dataset: {sorted(leaked)}")
    return AnalysisDataset(
        frame=frame, flow=flow, endpoint_exclusions=exclusions, sha256=dataset_hash(frame)
    )


def visible_patients(user) -> QuerySet[Patient]:
    """Patients the user may analyse; nobody without an ANALYSE membership sees any."""
    visible = site_ids_for(user, Action.ANALYSE)
    patients = Patient.objects.all()
    return patients if visible is None else patients.filter(site_id__in=visible)


def _patient_frame(patients: QuerySet[Patient]) -> pd.DataFrame:
    annotations = {f"_{column}": Cast(path, FloatField()) for path, column in FLOAT_FIELDS.items()}
    for rule_set in REFRACTORINESS_RULE_SETS:
        annotations[f"_refractory_{rule_set}"] = KT(f"tace_refractoriness__{rule_set}__status")
    rows = (
        patients.annotate(**annotations)
        .order_by("study_id")
        .values_list(*PATIENT_FIELDS, *annotations)
    )
    columns = [
        *PATIENT_FIELDS.values(),
        *FLOAT_FIELDS.values(),
        *(f"refractory_{rule_set}" for rule_set in REFRACTORINESS_RULE_SETS),
    ]
    return pd.DataFrame.from_records(list(rows), columns=columns)


def _apply_cohort_filters(
    frame: pd.DataFrame, cohort: CohortDefinition
) -> tuple[pd.DataFrame, dict]:
    """Keep the patients meeting the cohort definition.

    Each excluded patient is counted once, under the first reason (in the order below) that
    excludes them, so the reasons add up to the number excluded.
    """
    index = frame["index_date"]
    has_index = index.notna()
    reasons: dict[str, pd.Series] = {}
    site_ids = set(cohort.sites.values_list("id", flat=True))
    if site_ids:
        reasons["site outside the cohort"] = ~frame["site_id"].isin(site_ids)
    reasons["no index date"] = ~has_index
    if cohort.index_date_from:
        reasons["index date before the window"] = has_index & (
            index.map(lambda d: d is not None and d < cohort.index_date_from)
        )
    if cohort.index_date_to:
        reasons["index date after the window"] = has_index & (
            index.map(lambda d: d is not None and d > cohort.index_date_to)
        )
    reasons["index date after the data cut-off"] = has_index & (
        index.map(lambda d: d is not None and d > cohort.cutoff_date)
    )
    if cohort.bclc_stages:
        column = "bclc_stage" if cohort.bclc_source == "used" else "bclc_stage_derived"
        which = "" if cohort.bclc_source == "used" else " (derived)"
        reasons[f"BCLC stage{which} outside {'/'.join(cohort.bclc_stages)}"] = ~frame[column].isin(
            cohort.bclc_stages
        )
    if cohort.child_pugh_classes:
        reasons[f"Child-Pugh class outside {'/'.join(cohort.child_pugh_classes)}"] = ~frame[
            "child_pugh_class"
        ].isin(cohort.child_pugh_classes)
    if cohort.refractoriness_rule_set and cohort.require_refractory:
        status = frame[f"refractory_{cohort.refractoriness_rule_set}"]
        reasons[f"not refractory to TACE ({cohort.refractoriness_rule_set})"] = (
            status != "refractory"
        )
    if cohort.exclude_ineligible:
        flags = frame["eligibility_flags"].map(lambda f: f or [])
        for code in sorted({c for f in flags for c in f}):
            reasons[f"ineligible: {code}"] = flags.map(lambda f, c=code: c in f)

    excluded = pd.Series(False, index=frame.index)
    counts: dict[str, int] = {}
    for label, mask in reasons.items():
        newly = mask.fillna(True).astype(bool) & ~excluded
        if newly.any():
            counts[label] = int(newly.sum())
        excluded |= newly
    kept = frame.loc[~excluded].reset_index(drop=True)
    return kept, {"step": "Meeting the cohort definition", "n": len(kept), "excluded": counts}


TREATMENT_SOURCES = (
    (TaceSession, "tace"),
    (HaicCycle, "haic"),
    (RadiotherapyCourse, "radiotherapy"),
    (LocalProcedure, "local_procedure"),
    (SystemicTherapy, "systemic"),
)


def _treatments(patients: QuerySet[Patient], cutoff: dt.date) -> dict[int, list[TreatmentRow]]:
    """Every treatment row started by the cut-off, in one UNION query."""
    parts = []
    for model, modality in TREATMENT_SOURCES:
        drug = F("drug_class") if model is SystemicTherapy else Value("", CharField())
        parts.append(
            model.objects.filter(patient__in=patients, start_date__lte=cutoff)
            .annotate(_modality=Value(modality, CharField()), _drug=drug)
            .values_list("patient_id", "_modality", "start_date", "_drug", "intent")
            .order_by()
        )
    rows: dict[int, list[TreatmentRow]] = defaultdict(list)
    for patient_id, modality, start, drug, intent in parts[0].union(*parts[1:], all=True):
        rows[patient_id].append(TreatmentRow(modality, _as_date(start), drug or "", intent))
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


class _Scan(NamedTuple):
    pk: int
    assessment_date: dt.date
    is_baseline: bool
    response: str


def _add_response(
    frame: pd.DataFrame, patients, cutoff: dt.date, exclusions: dict
) -> tuple[pd.DataFrame, dict[int, dt.date], dict[int, dt.date]]:
    """Best overall response of the studied treatment line at the cut-off.

    The line's scans are those of ``registry.services.index_series`` (the latest baseline scan
    on or before the index date and its follow-ups), as for the patient's stored best
    response, but only the follow-ups dated by the cut-off count. The per-assessment
    responses are the registry's, derived on every save. Returns the frame, the last
    follow-up scan of the line by the cut-off (PFS censoring) and the last scan of any kind
    (a day the patient was known alive, for OS).
    """
    rows = (
        ImagingAssessment.objects.filter(patient__in=patients)
        .values_list("patient_id", "id", "assessment_date", "is_baseline", "response")
        .order_by()
    )
    scans: dict[int, list[_Scan]] = defaultdict(list)
    last_any: dict[int, dt.date] = {}
    for patient_id, pk, day, is_baseline, response in rows:
        day = _as_date(day)
        scans[patient_id].append(_Scan(pk, day, bool(is_baseline), response or ""))
        if patient_id not in last_any or day > last_any[patient_id]:
            last_any[patient_id] = day
    best, first_pd = [], []
    last_scan: dict[int, dt.date] = {}
    for patient_id, index_date in zip(frame["patient_id"], frame["index_date"], strict=True):
        follow_ups = _studied_follow_ups(scans.get(patient_id, ()), index_date, cutoff)
        best.append(best_overall_response(a.response for a in follow_ups))
        first_pd.append(next((a.assessment_date for a in follow_ups if a.response == "PD"), None))
        if follow_ups:
            last_scan[patient_id] = follow_ups[-1].assessment_date
    frame["best_response"] = pd.Series(best, index=frame.index, dtype=object)
    frame["objective_response"] = [_flag(objective_response(b)) for b in best]
    frame["disease_control"] = [_flag(disease_control(b)) for b in best]
    frame["imaging_progression_date"] = pd.Series(first_pd, index=frame.index, dtype=object)
    missing = sum(1 for b in best if b is None)
    if missing:
        exclusions["tumour response"] = {"no response assessment by the cut-off": missing}
    return frame, last_scan, last_any


def _studied_follow_ups(scans, index_date: dt.date, cutoff: dt.date) -> list[_Scan]:
    if not scans:
        return []
    ordered = sorted(scans, key=lambda a: (a.assessment_date, not a.is_baseline, a.pk))
    studied = index_series(_IndexDate(index_date), response_series(ordered))
    if studied is None:
        return []
    return [a for a in studied[1] if a.assessment_date <= cutoff]


class _IndexDate(NamedTuple):
    index_date: dt.date | None


def _add_survival(
    frame: pd.DataFrame,
    patients,
    cutoff: dt.date,
    last_scan: dict[int, dt.date],
    last_any_scan: dict[int, dt.date],
    exclusions: dict,
) -> pd.DataFrame:
    """OS and PFS time (months) and event at the cut-off (``registry.derivations.survival``)."""
    last_alive = dict(
        FollowUp.objects.filter(patient__in=patients, vital_status="alive")
        .values("patient_id")
        .annotate(d=Max("contact_date"))
        .values_list("patient_id", "d")
        .order_by()
    )
    # Any scan is a day the patient was known alive, also one after the cut-off.
    progression: dict[int, list[dt.date]] = defaultdict(list)
    for patient_id, day in ProgressionEvent.objects.filter(
        patient__in=patients, event_date__lte=cutoff
    ).values_list("patient_id", "event_date"):
        progression[patient_id].append(_as_date(day))

    os_time, os_event, pfs_time, pfs_event, progressed = [], [], [], [], []
    os_missing: dict[str, int] = defaultdict(int)
    pfs_missing: dict[str, int] = defaultdict(int)
    death_dates = []
    for pid, index_date, death, imaging_pd in zip(
        frame["patient_id"],
        frame["index_date"],
        frame["death_date"],
        frame["imaging_progression_date"],
        strict=True,
    ):
        death = _as_date(death)
        alive_days = [_as_date(d) for d in (last_alive.get(pid), last_any_scan.get(pid)) if d]
        os = overall_survival(
            index_date=index_date,
            death_date=death,
            last_known_alive_date=max(alive_days, default=None),
            cutoff_date=cutoff,
        )
        candidates = [d for d in progression.get(pid, ()) if d >= index_date]
        if imaging_pd is not None:
            candidates.append(imaging_pd)
        first_progression = min(candidates, default=None)
        pfs = progression_free_survival(
            index_date=index_date,
            progression_date=first_progression,
            death_date=death,
            last_adequate_imaging_date=last_scan.get(pid),
            cutoff_date=cutoff,
        )
        for result, times, events, missing in (
            (os, os_time, os_event, os_missing),
            (pfs, pfs_time, pfs_event, pfs_missing),
        ):
            times.append(result.time_months)
            events.append(_flag(result.event))
            if result.time_months is None:
                missing[result.censor_reason] += 1
        progressed.append(first_progression)
        death_dates.append(death if death is not None and death <= cutoff else None)
    frame["os_months"] = pd.Series(os_time, index=frame.index, dtype=float)
    frame["os_event"] = pd.Series(os_event, index=frame.index, dtype=float)
    frame["pfs_months"] = pd.Series(pfs_time, index=frame.index, dtype=float)
    frame["pfs_event"] = pd.Series(pfs_event, index=frame.index, dtype=float)
    frame["progression_date"] = pd.Series(progressed, index=frame.index, dtype=object)
    # A death after the cut-off is not seen.
    seen = pd.Series(death_dates, index=frame.index, dtype=object)
    frame["death_cause"] = frame["death_cause"].where(seen.notna(), None)
    frame["death_date"] = seen
    if os_missing:
        exclusions["overall survival"] = dict(os_missing)
    if pfs_missing:
        exclusions["progression-free survival"] = dict(pfs_missing)
    return frame


def _add_adverse_events(frame: pd.DataFrame, patients, cutoff: dt.date) -> pd.DataFrame:
    """Worst CTCAE grade per term of the events with onset from the index date to the cut-off."""
    events = pd.DataFrame.from_records(
        list(
            AdverseEvent.objects.filter(patient__in=patients, onset_date__lte=cutoff).values_list(
                "patient_id", "term__code", "grade", "onset_date"
            )
        ),
        columns=["patient_id", "term", "grade", "onset_date"],
    )
    index_of = dict(zip(frame["patient_id"], frame["index_date"], strict=True))
    if not events.empty:
        starts = events["patient_id"].map(index_of)
        keep = [
            start is not None and not _is_missing(start) and _as_date(onset) >= start
            for start, onset in zip(starts, events["onset_date"], strict=True)
        ]
        events = events.loc[keep]
    ids = frame["patient_id"]
    frame["ae_any"] = ids.isin(events["patient_id"]).astype(int)
    frame["ae_grade3plus"] = ids.isin(events.loc[events["grade"] >= 3, "patient_id"]).astype(int)
    if not events.empty:
        worst = events.groupby(["patient_id", "term"])["grade"].max().unstack("term")
        for term in sorted(worst.columns):
            grades = ids.map(worst[term]).astype(float)
            frame[f"ae_{term}"] = grades.notna().astype(int)
            frame[f"ae_{term}_grade"] = grades
    return frame


def _derive_covariates(frame: pd.DataFrame, cohort: CohortDefinition) -> pd.DataFrame:
    """Covariate coding of seed 002's Cox models, written once here and reported.

    ``bclc_c`` follows the cohort's BCLC source (stage used, or derived only).
    """
    stage = frame["bclc_stage"] if cohort.bclc_source == "used" else frame["bclc_stage_derived"]
    frame["male"] = (frame["sex"] == "male").astype(int)
    frame["child_pugh_b"] = frame["child_pugh_class"].map({"A": 0, "B": 1, "C": 1}).astype(float)
    frame["bclc_c"] = stage.map({"0": 0, "A": 0, "B": 0, "C": 1, "D": 1}).astype(float)
    numbers = pd.to_numeric(frame["tumour_number"], errors="coerce").astype(float)
    frame["tumour_number"] = numbers
    frame["tumour_multiple"] = np.where(numbers.isna(), np.nan, (numbers > 1).astype(float))
    for column in (
        "age",
        "ecog_ps",
        "albi_score",
        "child_pugh_score",
        *FLOAT_FIELDS.values(),
    ):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    afp = frame["afp_ng_ml"]
    frame["log10_afp"] = np.log10(afp.where(afp > 0))
    for column in (
        "hbv",
        "hcv",
        "chronic_hepatitis",
        "up_to_seven_within",
        "arteriovenous_fistula",
        "extrahepatic_blood_supply",
        "extrahepatic_spread",
    ):
        frame[column] = frame[column].map(_flag).astype(float)
    frame["macrovascular_invasion"] = (
        frame["macrovascular_invasion"]
        .map(lambda v: np.nan if _is_missing(v) else float(v not in ("", "none")))
        .astype(float)
    )
    for column in ("albi_grade", "child_pugh_class", "bclc_stage", "bclc_stage_derived"):
        frame[column] = frame[column].map(lambda v: None if _is_missing(v) or v == "" else v)
    return frame


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    ae_columns = sorted(c for c in frame.columns if c.startswith("ae_") and c not in BASE_COLUMNS)
    columns = [*BASE_COLUMNS, *ae_columns, *COVARIATE_COLUMNS]
    return frame.reindex(columns=columns).reset_index(drop=True)


def adverse_events_long(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per patient and CTCAE term with the worst grade: the ``events`` input of
    ``analytics.stats.adverse_events.adverse_event_table``."""
    terms = [
        c[3:-6]
        for c in frame.columns
        if c.startswith("ae_") and c.endswith("_grade") and c != "ae_grade3plus"
    ]
    parts = [
        pd.DataFrame(
            {"patient_id": frame["patient_id"], "term": term, "grade": frame[f"ae_{term}_grade"]}
        ).dropna(subset=["grade"])
        for term in terms
    ]
    if not parts:
        return pd.DataFrame({"patient_id": [], "term": [], "grade": []})
    events = pd.concat(parts, ignore_index=True)
    events["grade"] = events["grade"].astype(int)
    return events


def _as_date(value):
    """A ``datetime.date`` from what a backend returns (SQLite UNION rows come back as text)."""
    if value is None or isinstance(value, dt.datetime):
        return value.date() if isinstance(value, dt.datetime) else None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, pd.Timestamp):
        return value.date()
    return None if _is_missing(value) else value


def _is_missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _flag(value) -> float:
    """1.0 / 0.0 for a yes/no value, NaN when unknown."""
    return np.nan if _is_missing(value) else float(bool(value))


def dataset_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the dataset's CSV text: the same data gives the same hash on any machine."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


__all__ = [
    "BASE_COLUMNS",
    "AnalysisDataset",
    "adverse_events_long",
    "build_analysis_dataset",
    "dataset_hash",
    "visible_patients",
]

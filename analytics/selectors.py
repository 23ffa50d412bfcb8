"""The analysis dataset: one row per patient, built in a constant number of queries.

``build_analysis_dataset`` reads what the user may ANALYSE (``registry.access``), applies the
cohort definition, assigns each patient to one of two arms with the (column-wise) arm rules of
``analytics.arms`` and derives the endpoints at the cohort's data cut-off with the one
column-wise derivation every registry screen, export and API answer also uses
(``registry.derivations.endpoints.endpoints_at_cutoff``, fed by ``registry.endpoints.
endpoint_rows``), for all patients at once. It issues the same seven queries for five
patients or a hundred thousand: every table is read once, filtered by a sub-query on the
visible patients (never by a list of ids, which SQLite caps and which grows the SQL).

Identifying data never enters the dataset: the site's own patient reference is not selected
at all (``IDENTIFYING_COLUMNS`` is checked against the frame before it is returned).

What happens after the cut-off is not seen: treatments, imaging, progression events, adverse
events, contacts and deaths dated after it are ignored (CRF.md §8: censoring falls on the last
date known alive on or before the cut-off). The response columns describe the treatment line
being studied (``registry.derivations.response.line_responses``), from the registry's
per-assessment responses of that line dated by the cut-off.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models import (
    CharField,
    F,
    FloatField,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from analytics import covariates
from analytics.columns import _dates, adverse_events_long, dataset_hash
from analytics.groupings import TREATMENT_COLUMNS, assign_pattern_groups
from analytics.models import ArmDefinition, CohortDefinition, GroupingDefinition
from registry.access import Action, site_ids_for
from registry.derivations.days import day_number as _day
from registry.derivations.endpoints import endpoints_at_cutoff
from registry.endpoints import (
    DEFAULT_RESISTANCE_CYCLES,
    REFRACTORINESS_RULE_SETS,
    RESISTANCE_COLUMN,
    endpoint_rows,
    tace_resistance,
)
from registry.frames import EpochDays
from registry.frames import fetch_frame as _fetch
from registry.frames import rows_of as _of
from registry.models import (
    AdverseEvent,
    HaicCycle,
    LocalProcedure,
    Patient,
    RadiotherapyCourse,
    SystemicTherapy,
    TaceSession,
)

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
    "tumour_assessment__tumour_number": "tumour_number",
    "tumour_assessment__macrovascular_invasion": "macrovascular_invasion",
    "tumour_assessment__extrahepatic_spread": "extrahepatic_spread",
    "tumour_assessment__arteriovenous_fistula": "arteriovenous_fistula",
    "tumour_assessment__extrahepatic_blood_supply": "extrahepatic_blood_supply",
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
# Coded covariate columns the registry derives (age, ALBI score, diameter are already columns).
COVARIATE_COLUMNS = [c.name for c in covariates.derived_covariates()]

NO_ARM = "treatments match neither arm definition"
NO_GROUP = "in none of the grouping's groups (or its variable is missing)"


@dataclass
class AnalysisDataset:
    frame: pd.DataFrame
    flow: list[dict] = field(default_factory=list)  # ordered steps: step, n, excluded reasons
    endpoint_exclusions: dict[str, dict[str, int]] = field(default_factory=dict)
    sha256: str = ""


def build_analysis_dataset(
    *,
    user,
    cohort: CohortDefinition,
    control_arm: ArmDefinition | None = None,
    treatment_arm: ArmDefinition | None = None,
    grouping: GroupingDefinition | None = None,
    resistance_cycles: int = DEFAULT_RESISTANCE_CYCLES,
) -> AnalysisDataset:
    """The dataset of ``cohort`` with each patient's group in ``arm``: one of the two arms,
    or (``grouping``) one of the grouping definition's groups (``analytics.groupings``).

    ``refractory_progression_after_n_cycles`` is TACE resistance after ``resistance_cycles``
    sessions, evaluated here with the run's N on what is dated by the cut-off, by the registry's
    one rule (``registry.endpoints.tace_resistance`` → ``registry.derivations.refractoriness.
    resistance_after_n_cycles``), not read from the N = 3 the registry stores.
    """
    cutoff = cohort.cutoff_date
    patients = visible_patients(user)
    frame = _patient_frame(patients)
    resistance = tace_resistance(patients, cutoff, n_cycles=resistance_cycles)["status"]
    frame[RESISTANCE_COLUMN] = (
        frame["patient_id"].map(resistance).astype(object).where(lambda s: s.notna(), None)
    )
    flow: list[dict] = [
        {"step": "Registered patients visible to the analysis", "n": len(frame), "excluded": {}}
    ]
    frame, step = _apply_cohort_filters(frame, cohort)
    flow.append(step)

    treatments = _treatments(patients, cutoff)
    if grouping is None:
        frame["arm"] = assign_arms(treatments, frame, control_arm, treatment_arm)
        labels = [control_arm.name, treatment_arm.name]
        step, reason = "Assigned to an arm", NO_ARM
    else:
        frame["arm"] = assign_groups(grouping, treatments, frame)
        labels = grouping.grouping().labels
        step, reason = "Assigned to a group", NO_GROUP
    no_arm = frame["arm"].isna()
    arm_counts = frame.loc[~no_arm, "arm"].value_counts()
    flow.append(
        {
            "step": step,
            "n": int((~no_arm).sum()),
            "excluded": {reason: int(no_arm.sum())} if no_arm.any() else {},
            "by_arm": {label: int(arm_counts.get(label, 0)) for label in labels},
        }
    )
    frame = frame.loc[~no_arm].reset_index(drop=True)

    tace = treatments.loc[treatments["modality"] == "tace", "patient_id"].value_counts()
    frame["tace_sessions"] = frame["patient_id"].map(tace).fillna(0).astype(int)
    exclusions: dict[str, dict[str, int]] = {}
    index_days = frame["index_day"].to_numpy(dtype=float)
    frame = _add_endpoints(frame, patients, index_days, cutoff, exclusions)
    frame = _add_adverse_events(frame, patients, index_days, cutoff)
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
    for rule_set in REFRACTORINESS_RULE_SETS:  # the anchor of a treatment-pattern arm
        annotations[f"_refractory_{rule_set}_date"] = KT(f"tace_refractoriness__{rule_set}__date")
    # As JSON text: almost every patient has "[]", which needs no decoding.
    annotations["_eligibility_flags"] = Cast("eligibility_flags", TextField())
    annotations["_index_day"] = EpochDays("index_date")
    annotations["_death_day"] = EpochDays("death__death_date")
    rows = (
        patients.annotate(**annotations)
        .order_by("study_id")
        .values_list(*PATIENT_FIELDS, *annotations)
    )
    columns = [
        *PATIENT_FIELDS.values(),
        *FLOAT_FIELDS.values(),
        *(f"refractory_{rule_set}" for rule_set in REFRACTORINESS_RULE_SETS),
        *(f"refractory_{rule_set}_date" for rule_set in REFRACTORINESS_RULE_SETS),
        "eligibility_flags",
        "index_day",
        "death_day",
    ]
    frame = _fetch(rows, columns)
    for rule_set in REFRACTORINESS_RULE_SETS:
        frame[f"refractory_{rule_set}_day"] = iso_days(frame.pop(f"refractory_{rule_set}_date"))
    for column in ("index_day", "death_day"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["index_date"] = _dates(frame["index_day"].to_numpy())
    frame["death_date"] = _dates(frame["death_day"].to_numpy())
    frame["eligibility_flags"] = [
        json.loads(text) if text and text != "[]" else [] for text in frame["eligibility_flags"]
    ]
    return frame


def iso_days(values: pd.Series) -> pd.Series:
    """Day numbers (days since 1970-01-01, NaN when missing) of ISO date texts."""
    known = values.where(values.notna() & (values != ""), None)
    stamps = pd.to_datetime(known, errors="coerce", format="ISO8601")
    days = (stamps - pd.Timestamp("1970-01-01")).dt.days
    return days.astype(float)


def _apply_cohort_filters(
    frame: pd.DataFrame, cohort: CohortDefinition
) -> tuple[pd.DataFrame, dict]:
    """Keep the patients meeting the cohort definition.

    Each excluded patient is counted once, under the first reason (in the order below) that
    excludes them, so the reasons add up to the number excluded.
    """
    index = frame["index_day"]
    has_index = index.notna()
    reasons: dict[str, pd.Series] = {}
    site_ids = set(cohort.sites.values_list("id", flat=True))
    if site_ids:
        reasons["site outside the cohort"] = ~frame["site_id"].isin(site_ids)
    reasons["no index date"] = ~has_index
    if cohort.index_date_from:
        reasons["index date before the window"] = index < _day(cohort.index_date_from)
    if cohort.index_date_to:
        reasons["index date after the window"] = index > _day(cohort.index_date_to)
    reasons["index date after the data cut-off"] = index > _day(cohort.cutoff_date)
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
        flagged = {i: f for i, f in zip(frame.index, frame["eligibility_flags"], strict=True) if f}
        for code in sorted({c for f in flagged.values() for c in f}):
            hit = [i for i, f in flagged.items() if code in f]
            reasons[f"ineligible: {code}"] = pd.Series(frame.index.isin(hit), index=frame.index)

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


def _treatments(patients: QuerySet[Patient], cutoff: dt.date) -> pd.DataFrame:
    """Every treatment row started by the cut-off, in one UNION query: the frame the arm rules
    of ``analytics.arms`` read.

    Columns: patient_id, modality, day (days since 1970-01-01, float), drug_class, agent.
    """
    parts = []
    for model, modality in TREATMENT_SOURCES:
        systemic = model is SystemicTherapy
        drug = F("drug_class") if systemic else Value("", CharField())
        agent = F("agent") if systemic else Value("", CharField())
        parts.append(
            _of(model, patients)
            .filter(start_date__lte=cutoff)
            .annotate(
                _modality=Value(modality, CharField()),
                _drug=drug,
                _agent=agent,
                _day=EpochDays("start_date"),
            )
            .values_list("patient_id", "_modality", "_day", "_drug", "_agent")
            .order_by()
        )
    frame = _fetch(parts[0].union(*parts[1:], all=True), TREATMENT_COLUMNS)
    frame["day"] = pd.to_numeric(frame["day"], errors="coerce").astype(float)
    frame["drug_class"] = frame["drug_class"].fillna("")
    frame["agent"] = frame["agent"].fillna("")
    return frame


# --- arms ------------------------------------------------------------------------------------


def assign_arms(
    treatments: pd.DataFrame,
    patients: pd.DataFrame,
    control: ArmDefinition,
    treatment: ArmDefinition,
) -> pd.Series:
    """The arm name of each row of ``patients`` (patient_id and anchor days), or None; the
    compared arm is tested first (a combination patient also satisfies "systemic").

    Each arm is its saved treatment pattern, evaluated for all patients at once by
    ``analytics.groupings`` (the one implementation the patient list's arm filter also runs).
    """
    return assign_pattern_groups(
        [(treatment.name, treatment.treatment_pattern), (control.name, control.treatment_pattern)],
        treatments,
        patients,
    )


def assign_groups(
    grouping: GroupingDefinition, treatments: pd.DataFrame, frame: pd.DataFrame
) -> pd.Series:
    """Each patient's group of a grouping definition (None: in none): treatment-pattern arms
    over the treatment rows, or a patient variable's levels/cut points over ``frame``'s
    columns as the database returns them (levels compared as text: 1, "1" and True alike)."""
    spec = grouping.grouping()
    if grouping.kind == GroupingDefinition.Kind.TREATMENT_PATTERN:
        return spec.assign(treatments, frame)
    return spec.assign(frame)


# --- response, survival, adverse events ------------------------------------------------------


def _add_endpoints(
    frame: pd.DataFrame, patients, index_days: np.ndarray, cutoff: dt.date, exclusions: dict
) -> pd.DataFrame:
    """Best response, ORR/DCR, progression, OS and PFS at the cut-off: the rows every path
    reads (``registry.endpoints.endpoint_rows``) through the one derivation
    (``registry.derivations.endpoints.endpoints_at_cutoff``), for all patients at once."""
    rows = endpoint_rows(patients, cutoff)
    cutoff_day = _day(cutoff)
    death_day = frame["death_day"].to_numpy(dtype=float)
    result = endpoints_at_cutoff(
        patient_ids=frame["patient_id"],
        index_days=index_days,
        death_days=death_day,
        scans=rows.scans,
        alive=rows.alive,
        progression_events=rows.progression_events,
        cutoff_day=cutoff_day,
    )
    best = result["best_response"].to_numpy()
    frame["best_response"] = pd.Series(best, index=frame.index, dtype=object)
    frame["objective_response"] = result["objective_response"].to_numpy()
    frame["disease_control"] = result["disease_control"].to_numpy()
    frame["imaging_progression_date"] = _dates(result["imaging_progression_day"].to_numpy())
    missing = int(pd.isna(best).sum())
    if missing:
        exclusions["tumour response"] = {"no response assessment by the cut-off": missing}
    frame["os_months"] = result["os_months"].to_numpy()
    frame["os_event"] = result["os_event"].to_numpy()
    frame["pfs_months"] = result["pfs_months"].to_numpy()
    frame["pfs_event"] = result["pfs_event"].to_numpy()
    frame["progression_date"] = _dates(result["progression_day"].to_numpy())
    # A death after the cut-off is not seen.
    seen = death_day <= cutoff_day
    frame["death_date"] = frame["death_date"].where(seen, None)
    frame["death_cause"] = frame["death_cause"].where(seen, None)
    for endpoint, column in (("overall survival", "os"), ("progression-free survival", "pfs")):
        reasons = result.loc[result[f"{column}_days"].isna(), f"{column}_reason"].value_counts()
        if len(reasons):
            exclusions[endpoint] = {str(k): int(v) for k, v in reasons.items()}
    return frame


def _add_adverse_events(frame: pd.DataFrame, patients, index_days, cutoff: dt.date) -> pd.DataFrame:
    """Worst CTCAE grade per term of the events with onset from the index date to the cut-off."""
    events = _fetch(
        _of(AdverseEvent, patients)
        .filter(onset_date__lte=cutoff)
        .annotate(_day=EpochDays("onset_date"))
        .values_list("patient_id", "term__code", "grade", "_day")
        .order_by(),
        ["patient_id", "term", "grade", "day"],
    )
    ids = frame["patient_id"]
    index = pd.Series(index_days, index=ids.to_numpy())
    onset = pd.to_numeric(events["day"], errors="coerce").to_numpy(dtype=float)
    events = events[onset >= events["patient_id"].map(index).to_numpy(dtype=float)]
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
    """Types of the baseline columns, then the coded Cox/PS covariates from the covariate
    registry (``analytics.covariates``), the one place their coding is written.

    ``bclc_c`` follows the cohort's BCLC source (stage used, or derived only).
    """
    frame["tumour_number"] = pd.to_numeric(frame["tumour_number"], errors="coerce").astype(float)
    for column in (
        "age",
        "ecog_ps",
        "albi_score",
        "child_pugh_score",
        *FLOAT_FIELDS.values(),
    ):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    stage = "bclc_stage" if cohort.bclc_source == "used" else "bclc_stage_derived"
    covariates.derive_columns(frame, sources={"bclc_c": stage})
    for column in (
        "hbv",
        "hcv",
        "chronic_hepatitis",
        "up_to_seven_within",
        "arteriovenous_fistula",
        "extrahepatic_blood_supply",
        "extrahepatic_spread",
    ):
        # True / False / None -> 1.0 / 0.0 / NaN
        frame[column] = pd.to_numeric(frame[column].astype(object), errors="coerce").astype(float)
    invasion = frame["macrovascular_invasion"]
    frame["macrovascular_invasion"] = np.where(
        invasion.isna(), np.nan, (~invasion.isin(("", "none"))).astype(float)
    )
    for column in ("albi_grade", "child_pugh_class", "bclc_stage", "bclc_stage_derived"):
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna() & (values != ""), None)
    return frame


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    ae_columns = sorted(c for c in frame.columns if c.startswith("ae_") and c not in BASE_COLUMNS)
    columns = [*BASE_COLUMNS, *ae_columns, *COVARIATE_COLUMNS]
    return frame.reindex(columns=columns).reset_index(drop=True)


__all__ = [
    "BASE_COLUMNS",
    "AnalysisDataset",
    "adverse_events_long",
    "build_analysis_dataset",
    "dataset_hash",
    "visible_patients",
]

"""Patients' endpoints at a data cut-off, read from the database: what the patient workspace,
the exports, the API and the analysis dataset show.

Every path reads the same rows here (``endpoint_rows``) and hands them to the one derivation,
``registry.derivations.endpoints.endpoints_at_cutoff``: a fixed number of queries for one
patient or a hundred thousand. The TACE refractoriness statuses are the stored ones
(``registry.services`` derives them with ``registry.derivations.refractoriness``); TACE
resistance after N cycles is evaluated at the cut-off with the analysis's N (``tace_resistance``),
so a screen and an analysis at the same cut-off and N give the same answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Max, QuerySet
from django.db.models.fields.json import KT

from registry.derivations.days import date_of, day_number
from registry.derivations.endpoints import DAY_COLUMNS, endpoints_at_cutoff
from registry.derivations.refractoriness import (
    INTRAHEPATIC_SITES,
    NO_TACE_SESSION,
    RESISTANCE_SCAN_COLUMNS,
    SESSION_COLUMNS,
    resistance_after_n_cycles,
)
from registry.derivations.response import SCAN_COLUMNS
from registry.frames import EpochDays, fetch_frame, rows_of
from registry.models import (
    DataCutoff,
    FollowUp,
    ImagingAssessment,
    LabPanel,
    Patient,
    ProgressionEvent,
    TaceSession,
)

REFRACTORINESS_RULE_SETS = ("jsh_lcsgj_2014", "seed002_operational", "progression_after_n_cycles")
# Seed 000's "TACE resistance after 3 cycles"; an analysis passes its own N.
DEFAULT_RESISTANCE_CYCLES = 3
RESISTANCE_COLUMN = "refractory_progression_after_n_cycles"


def cutoff_in_force(on: dt.date | None = None) -> tuple[dt.date, str]:
    """The cut-off a screen shows endpoints at: the latest registered data cut-off, else today
    (``on``); with its label."""
    cutoff = DataCutoff.objects.order_by("-cutoff_date").first()
    if cutoff is not None:
        return cutoff.cutoff_date, f"cut-off {cutoff.name} ({cutoff.cutoff_date})"
    today = on or dt.date.today()
    return today, f"today ({today})"


@dataclass
class EndpointRows:
    scans: pd.DataFrame  # SCAN_COLUMNS
    alive: pd.DataFrame  # DAY_COLUMNS: latest date known alive per source, by the cut-off
    progression_events: pd.DataFrame  # DAY_COLUMNS


def endpoint_rows(patients: QuerySet[Patient], cutoff: dt.date) -> EndpointRows:
    """The rows the endpoints are derived from, in three queries."""
    scans = fetch_frame(
        rows_of(ImagingAssessment, patients)
        .annotate(_day=EpochDays("assessment_date"))
        .values_list("patient_id", "_day", "is_baseline", "response")
        .order_by(),
        SCAN_COLUMNS,
    )
    scans["day"] = pd.to_numeric(scans["day"], errors="coerce").astype(float)
    scans["is_baseline"] = pd.to_numeric(scans["is_baseline"]).astype(bool)
    scans["response"] = scans["response"].fillna("").astype(object)
    alive = fetch_frame(_known_alive(patients, cutoff), DAY_COLUMNS)
    alive["day"] = pd.to_numeric(alive["day"], errors="coerce").astype(float)
    events = fetch_frame(
        rows_of(ProgressionEvent, patients)
        .filter(event_date__lte=cutoff)
        .annotate(_day=EpochDays("event_date"))
        .values_list("patient_id", "_day")
        .order_by(),
        DAY_COLUMNS,
    )
    events["day"] = pd.to_numeric(events["day"], errors="coerce").astype(float)
    return EndpointRows(scans=scans, alive=alive, progression_events=events)


def _known_alive(patients: QuerySet[Patient], cutoff: dt.date):
    """CRF.md §8: per source, the latest date on or before the cut-off the patient was known
    alive — follow-up contacts (alive), treatment start and end dates, lab dates — as one
    UNION ALL query (scans are read with the scans)."""
    from registry.validation import treatment_models

    sources = [(FollowUp, "contact_date", {"vital_status": "alive"}), (LabPanel, "sample_date", {})]
    for model in treatment_models():
        sources += [(model, "start_date", {}), (model, "end_date", {})]
    parts = [
        rows_of(model, patients)
        .filter(**{f"{field}__lte": cutoff}, **only)
        .values("patient_id")
        .annotate(_day=EpochDays(Max(field)))
        .values_list("patient_id", "_day")
        .order_by()
        for model, field, only in sources
    ]
    return parts[0].union(*parts[1:], all=True)


def patient_endpoints(
    patients: QuerySet[Patient],
    cutoff: dt.date,
    *,
    rows: EndpointRows | None = None,
    resistance_cycles: int = DEFAULT_RESISTANCE_CYCLES,
) -> pd.DataFrame:
    """Endpoints at ``cutoff`` per patient (indexed by patient id), with the dates as dates,
    the months, the stored TACE refractoriness statuses and TACE resistance after
    ``resistance_cycles`` sessions at ``cutoff``."""
    annotations = {
        f"_refractory_{rule_set}": KT(f"tace_refractoriness__{rule_set}__status")
        for rule_set in REFRACTORINESS_RULE_SETS
    }
    frame = fetch_frame(
        patients.annotate(
            _index_day=EpochDays("index_date"),
            _death_day=EpochDays("death__death_date"),
            **annotations,
        )
        .order_by("pk")
        .values_list("pk", "_index_day", "_death_day", *annotations),
        ["patient_id", "index_day", "death_day", *REFRACTORINESS_RULE_SETS],
    )
    for column in ("index_day", "death_day"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    rows = rows or endpoint_rows(patients, cutoff)
    result = endpoints_at_cutoff(
        patient_ids=frame["patient_id"],
        index_days=frame["index_day"].to_numpy(),
        death_days=frame["death_day"].to_numpy(),
        scans=rows.scans,
        alive=rows.alive,
        progression_events=rows.progression_events,
        cutoff_day=day_number(cutoff),
    )
    for rule_set in REFRACTORINESS_RULE_SETS:
        result[f"refractory_{rule_set}"] = frame[rule_set].to_numpy()
    resistance = tace_resistance(patients, cutoff, n_cycles=resistance_cycles)["status"]
    result[RESISTANCE_COLUMN] = (
        resistance.reindex(frame["patient_id"].to_numpy()).astype(object).to_numpy()
    )
    result["cutoff_date"] = cutoff
    return result


def endpoints_of(patient: Patient, cutoff: dt.date) -> dict:
    """One patient's endpoints at ``cutoff`` as plain values (dates, None for unknown)."""
    row = patient_endpoints(Patient.objects.filter(pk=patient.pk), cutoff).iloc[0]
    return endpoint_values(row)


def endpoint_values(row: pd.Series) -> dict:
    """A row of ``patient_endpoints`` as JSON-ready values (None for unknown)."""

    def number(value, digits: int | None = None):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        return round(float(value), digits) if digits is not None else float(value)

    def flag(value):
        return None if number(value) is None else bool(value)

    return {
        "cutoff_date": row["cutoff_date"],
        "best_response": row["best_response"] or None,
        "objective_response": flag(row["objective_response"]),
        "disease_control": flag(row["disease_control"]),
        "imaging_progression_date": date_of(row["imaging_progression_day"]),
        "progression_date": date_of(row["progression_day"]),
        "last_known_alive_date": date_of(row["last_alive_day"]),
        "os_days": None if number(row["os_days"]) is None else int(row["os_days"]),
        "os_months": number(row["os_months"], 4),
        "os_event": flag(row["os_event"]),
        "os_reason": row["os_reason"] or "",
        "pfs_days": None if number(row["pfs_days"]) is None else int(row["pfs_days"]),
        "pfs_months": number(row["pfs_months"], 4),
        "pfs_event": flag(row["pfs_event"]),
        "pfs_reason": row["pfs_reason"] or "",
        **{
            f"refractory_{rule_set}": row[f"refractory_{rule_set}"] or None
            for rule_set in REFRACTORINESS_RULE_SETS
        },
    }


def tace_resistance(patients: QuerySet[Patient], cutoff: dt.date, *, n_cycles: int) -> pd.DataFrame:
    """Seed 000's TACE resistance after ``n_cycles`` sessions at ``cutoff``, per patient of
    ``patients`` (indexed by patient id), in two queries: the one rule
    ``registry.derivations.refractoriness.resistance_after_n_cycles`` on the patients' TACE
    sessions and follow-up scans (what an analysis with its own N evaluates)."""
    sessions = fetch_frame(
        rows_of(TaceSession, patients)
        .annotate(_day=EpochDays("start_date"))
        .values_list("patient_id", "_day")
        .order_by(),
        SESSION_COLUMNS,
    )
    sessions["day"] = pd.to_numeric(sessions["day"], errors="coerce").astype(float)
    scans = fetch_frame(
        rows_of(ImagingAssessment, patients)
        .filter(is_baseline=False)
        .annotate(_day=EpochDays("assessment_date"))
        .values_list("patient_id", "_day", "response", "new_lesion", "new_lesion_site")
        .order_by(),
        [*RESISTANCE_SCAN_COLUMNS[:3], "new_lesion", "new_lesion_site"],
    )
    scans["day"] = pd.to_numeric(scans["day"], errors="coerce").astype(float)
    scans["response"] = scans["response"].fillna("").astype(object)
    # As the registry's refresh reads a scan (registry.services._new_intrahepatic).
    scans["new_intrahepatic_lesion"] = pd.to_numeric(scans["new_lesion"]).fillna(0).astype(
        bool
    ) & scans["new_lesion_site"].fillna("").isin(INTRAHEPATIC_SITES)
    ids = pd.Series(list(patients.order_by("pk").values_list("pk", flat=True)), dtype="int64")
    result = resistance_after_n_cycles(
        sessions,
        scans[RESISTANCE_SCAN_COLUMNS],
        ids,
        n_cycles=n_cycles,
        cutoff_day=day_number(cutoff),
    )
    # No TACE session by the cut-off: no status, as the registry stores it (services).
    result["status"] = result["status"].where(result["reason"] != NO_TACE_SESSION, None)
    return result

"""Overall and progression-free survival time and event at a data cut-off (CRF.md §8).

In CRF.md §8's words:
- OS: index_date → death; censored at the last date known alive (or at cut-off, whichever is
  earlier).
- PFS: index_date → first progression or death, whichever first; censored at the last adequate
  imaging assessment. A progression dated before index_date (e.g. the one that ended TACE in
  seed 002) is not a PFS event.
- Last date known alive: the latest of follow-up contacts, imaging assessments, treatment dates
  and lab dates. Anything after the cut-off is ignored: censoring falls on the last such date on
  or before it.
- One function computes each of these per patient; every screen, export and analysis uses it.

So a death, a progression, a contact or a scan dated after the cut-off is not seen at all: a
patient who died after the cut-off is censored at the last date known alive on or before it.
A patient with no date known alive after the index date has no OS time ("no follow-up after the
index date"). The "last adequate imaging assessment" is the last evaluable (CR/PR/SD/PD)
follow-up scan of the studied line (``registry.derivations.response.line_responses``).
Months are days / 30.4375 (CRF.md conventions).

Written once, column-wise (``survival_at_cutoff`` and the two helpers that pick each patient's
dates), for the analysis dataset's 100,000 patients; ``overall_survival`` and
``progression_free_survival`` run it on one patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

from registry.derivations.days import date_of, day_number

SURVIVAL_VERSION = "os-pfs-cutoff:2"
DAYS_PER_MONTH = 30.4375
NO_INDEX = "no index date"
NO_FOLLOW_UP = "no follow-up after the index date"
NO_IMAGING = "no imaging assessment after the index date"
END_BEFORE_INDEX = "end date before the index date"
SURVIVAL_COLUMNS = [
    "os_days",
    "os_event",
    "os_end_day",
    "os_reason",
    "pfs_days",
    "pfs_event",
    "pfs_end_day",
    "pfs_reason",
]


# --- the rule, for all patients at once -------------------------------------------------------


def latest_on_or_before(
    days: pd.DataFrame, patient_ids: pd.Series, cutoff_day: float
) -> np.ndarray:
    """Per patient of ``patient_ids``: the latest ``day`` of their rows in ``days``
    (patient_id, day) on or before the cut-off; NaN if none. E.g. the last date known alive."""
    seen = days[days["day"] <= cutoff_day]
    latest = seen.groupby("patient_id")["day"].max()
    return patient_ids.map(latest).to_numpy(dtype=float)


def first_from_index(
    days: pd.DataFrame, patient_ids: pd.Series, index_days: np.ndarray, cutoff_day: float
) -> np.ndarray:
    """Per patient: the earliest ``day`` from the index date to the cut-off (both included);
    NaN if none. E.g. the first progression that is a PFS event."""
    index = pd.Series(np.asarray(index_days, dtype=float), index=patient_ids.to_numpy())
    start = days["patient_id"].map(index)
    seen = days[(days["day"] >= start) & (days["day"] <= cutoff_day)]
    first = seen.groupby("patient_id")["day"].min()
    return patient_ids.map(first).to_numpy(dtype=float)


def survival_at_cutoff(
    *,
    index_day: np.ndarray,
    death_day: np.ndarray,
    last_alive_day: np.ndarray,
    progression_day: np.ndarray,
    last_imaging_day: np.ndarray,
    cutoff_day: float,
) -> pd.DataFrame:
    """OS and PFS for whole columns of day numbers (any common origin; NaN: missing).

    ``last_alive_day``: the last date known alive on or before the cut-off
    (``latest_on_or_before``); ``progression_day``: the first progression from the index date
    (``first_from_index``); ``last_imaging_day``: the last adequate imaging assessment. Values
    after the cut-off (or a progression before the index date) are not seen, whoever passes
    them. Returns ``SURVIVAL_COLUMNS``: days, event (1.0/0.0), end day and, when the time is
    unknown, the reason (else "").
    """
    index_day = np.asarray(index_day, dtype=float)
    n = len(index_day)

    def seen(days) -> np.ndarray:
        days = np.asarray(days, dtype=float)
        return np.where(days <= cutoff_day, days, np.nan)  # NaN compares False

    death = seen(death_day)
    alive = seen(last_alive_day)
    progression = seen(progression_day)
    progression = np.where(progression >= index_day, progression, np.nan)
    imaging = seen(last_imaging_day)
    no_index = np.isnan(index_day)

    def finish(end, event, reason_unknown):
        unknown = no_index | np.isnan(end)
        before = ~unknown & (end < index_day)
        out = unknown | before
        reason = np.full(n, "", dtype=object)
        reason[unknown] = reason_unknown[unknown]
        reason[before] = END_BEFORE_INDEX
        reason[no_index] = NO_INDEX
        return (
            np.where(out, np.nan, end - index_day),
            np.where(out, np.nan, event.astype(float)),
            np.where(out, np.nan, end),
            reason,
        )

    died = ~np.isnan(death)
    # Known alive only on (or before) the index date: no follow-up to censor at.
    followed = alive > index_day
    os_end = np.where(died, death, np.where(followed, alive, np.nan))
    os_days, os_event, os_end_day, os_reason = finish(
        os_end, died, np.full(n, NO_FOLLOW_UP, dtype=object)
    )
    event_day = np.fmin(progression, death)
    progressed = ~np.isnan(event_day)
    pfs_end = np.where(progressed, event_day, imaging)
    pfs_days, pfs_event, pfs_end_day, pfs_reason = finish(
        pfs_end, progressed, np.full(n, NO_IMAGING, dtype=object)
    )
    return pd.DataFrame(
        {
            "os_days": os_days,
            "os_event": os_event,
            "os_end_day": os_end_day,
            "os_reason": os_reason,
            "pfs_days": pfs_days,
            "pfs_event": pfs_event,
            "pfs_end_day": pfs_end_day,
            "pfs_reason": pfs_reason,
        },
        columns=SURVIVAL_COLUMNS,
    )


# --- one patient ------------------------------------------------------------------------------


class SurvivalTime(NamedTuple):
    time_days: int | None
    time_months: float | None
    event: bool | None
    end_date: dt.date | None
    censor_reason: str  # why the time is unknown, or why it is censored; "" for an event
    missing: tuple[str, ...]


def _one(
    *,
    index_date: dt.date | None,
    death_date: dt.date | None,
    alive_dates: Iterable[dt.date],
    progression_dates: Iterable[dt.date],
    imaging_date: dt.date | None,
    cutoff_date: dt.date,
) -> pd.Series:
    ids = pd.Series([0])
    cutoff = day_number(cutoff_date)
    index = np.array([day_number(index_date)])

    def frame(dates: Iterable[dt.date]) -> pd.DataFrame:
        days = [day_number(d) for d in dates if d is not None]
        return pd.DataFrame({"patient_id": np.zeros(len(days), dtype=np.int64), "day": days})

    return survival_at_cutoff(
        index_day=index,
        death_day=np.array([day_number(death_date)]),
        last_alive_day=latest_on_or_before(frame(alive_dates), ids, cutoff),
        progression_day=first_from_index(frame(progression_dates), ids, index, cutoff),
        last_imaging_day=np.array([day_number(imaging_date)]),
        cutoff_day=cutoff,
    ).iloc[0]


def _result(row: pd.Series, prefix: str, censored: str, missing: str) -> SurvivalTime:
    days = row[f"{prefix}_days"]
    if np.isnan(days):
        reason = row[f"{prefix}_reason"]
        needs = "index_date" if reason == NO_INDEX else missing
        return SurvivalTime(None, None, None, None, reason, (needs,))
    event = bool(row[f"{prefix}_event"])
    return SurvivalTime(
        int(days),
        days / DAYS_PER_MONTH,
        event,
        date_of(row[f"{prefix}_end_day"]),
        "" if event else censored,
        (),
    )


def overall_survival(
    *,
    index_date: dt.date | None,
    death_date: dt.date | None,
    known_alive_dates: Iterable[dt.date],
    cutoff_date: dt.date,
) -> SurvivalTime:
    """``survival_at_cutoff`` for one patient: ``known_alive_dates`` are every date the patient
    was known alive (follow-up contacts alive, scans, treatment and lab dates), any of them."""
    row = _one(
        index_date=index_date,
        death_date=death_date,
        alive_dates=known_alive_dates,
        progression_dates=(),
        imaging_date=None,
        cutoff_date=cutoff_date,
    )
    return _result(row, "os", "censored at the last date known alive", "last date known alive")


def progression_free_survival(
    *,
    index_date: dt.date | None,
    progression_dates: Iterable[dt.date],
    death_date: dt.date | None,
    last_adequate_imaging_date: dt.date | None,
    cutoff_date: dt.date,
) -> SurvivalTime:
    """``survival_at_cutoff`` for one patient: ``progression_dates`` are every recorded
    progression (events and PD scans), before the index date or after the cut-off included."""
    row = _one(
        index_date=index_date,
        death_date=death_date,
        alive_dates=(),
        progression_dates=progression_dates,
        imaging_date=last_adequate_imaging_date,
        cutoff_date=cutoff_date,
    )
    return _result(
        row,
        "pfs",
        "censored at the last adequate imaging assessment",
        "last adequate imaging assessment",
    )

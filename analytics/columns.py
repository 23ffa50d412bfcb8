"""Column-wise endpoint derivations of the analysis dataset: pure pandas/numpy, no ORM.

``analytics.selectors`` fetches the rows and calls these on whole columns of day numbers
(days since 1970-01-01, NaN when missing) for every patient at once. They evaluate the rules of
``registry.derivations.survival`` and ``registry.services.index_series``/``response_series``
column-wise, for speed at 100,000 patients; ``tests/analytics/test_dataset_endpoints.py``
pins them to those one-patient functions on random histories, so a change to a rule there
fails here until this follows.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd


def survival_at_cutoff(
    *,
    index_day: np.ndarray,
    death_day: np.ndarray,
    last_alive_day: np.ndarray,
    progression_day: np.ndarray,
    last_imaging_day: np.ndarray,
    cutoff_day: float,
) -> pd.DataFrame:
    """OS and PFS of ``registry.derivations.survival`` for whole columns of day numbers (NaN:
    missing); ``tests/analytics/test_dataset_endpoints.py`` checks it against the pure
    functions row by row. Columns: os_days, os_event, os_reason, pfs_days, pfs_event,
    pfs_reason (reason: why the time is unknown, else "")."""
    n = len(index_day)
    no_index = np.isnan(index_day)

    def finish(end, event, unknown, reason_unknown):
        before = ~unknown & (end < index_day)
        days = np.where(unknown | before, np.nan, end - index_day)
        events = np.where(unknown | before, np.nan, event.astype(float))
        reason = np.full(n, "", dtype=object)
        reason[unknown] = reason_unknown[unknown]
        reason[before] = "end date before the index date"
        reason[no_index] = "no index date"
        return days, events, reason

    died = death_day <= cutoff_day  # NaN compares False
    died_after = death_day > cutoff_day
    no_follow_up = ~died & ~died_after & np.isnan(last_alive_day)
    os_end = np.where(
        died, death_day, np.where(died_after, cutoff_day, np.fmin(last_alive_day, cutoff_day))
    )
    os_days, os_event, os_reason = finish(
        os_end,
        died,
        no_index | no_follow_up,
        np.full(n, "no follow-up after the index date", dtype=object),
    )
    seen = [np.where(d <= cutoff_day, d, np.nan) for d in (progression_day, death_day)]
    event_day = np.fmin(*seen)
    progressed = ~np.isnan(event_day)
    no_imaging = ~progressed & np.isnan(last_imaging_day)
    pfs_end = np.where(progressed, event_day, np.fmin(last_imaging_day, cutoff_day))
    pfs_days, pfs_event, pfs_reason = finish(
        pfs_end,
        progressed,
        no_index | no_imaging,
        np.full(n, "no imaging assessment after the index date", dtype=object),
    )
    return pd.DataFrame(
        {
            "os_days": os_days,
            "os_event": os_event,
            "os_reason": os_reason,
            "pfs_days": pfs_days,
            "pfs_event": pfs_event,
            "pfs_reason": pfs_reason,
        }
    )


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


EPOCH = np.datetime64("1970-01-01", "D")


def _day(value: dt.date) -> float:
    return float((value - dt.date(1970, 1, 1)).days)


def _dates(days: np.ndarray) -> pd.Series:
    """Python dates (object column, None when missing) from day numbers."""
    days = np.asarray(days, dtype=float)
    out = np.full(len(days), None, dtype=object)
    known = ~np.isnan(days)
    if known.any():
        stamps = (EPOCH + days[known].astype("int64")).astype("datetime64[D]").astype(object)
        out[known] = stamps
    return pd.Series(out, dtype=object)


def dataset_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a canonical encoding of the dataset: the same data gives the same hash on any
    machine and with any row-processing order (rows are in study-id order).

    Per column, in order: its name, then numbers as little-endian float64 (NaN as one fixed
    pattern) or, for other columns, each value's text (``None``/NaN as an empty field) joined
    by the unit separator. Faster than hashing CSV text, which dominates on 100,000 rows.
    """
    digest = hashlib.sha256()
    digest.update(f"rows={len(frame)}".encode())
    for name in frame.columns:
        values = frame[name]
        digest.update(b"\x1e" + str(name).encode())
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            numbers = values.to_numpy(dtype="<f8", na_value=np.nan)
            numbers = np.where(np.isnan(numbers), np.nan, numbers + 0.0)  # one NaN, no -0.0
            digest.update(numbers.tobytes())
        else:
            texts = values.astype(object).where(values.notna(), "").astype(str)
            digest.update("\x1f".join(texts.tolist()).encode())
    return digest.hexdigest()

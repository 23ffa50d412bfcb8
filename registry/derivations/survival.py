"""Overall and progression-free survival time and event at a data cut-off (CRF.md §8).

OS: index date to death; alive patients are censored at the last date known alive or at the
cut-off, whichever is earlier. PFS: index date to first progression or death, whichever comes
first; otherwise censored at the last adequate imaging assessment (not later than the cut-off).
Events after the cut-off are not seen. Months are days / 30.4375 (CRF.md conventions).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

SURVIVAL_VERSION = "os-pfs-cutoff:1"
DAYS_PER_MONTH = 30.4375


class SurvivalTime(NamedTuple):
    time_days: int | None
    time_months: float | None
    event: bool | None
    end_date: dt.date | None
    censor_reason: str
    missing: tuple[str, ...]


def _unknown(reason: str, *missing: str) -> SurvivalTime:
    return SurvivalTime(None, None, None, None, reason, missing)


def _time(index_date: dt.date, end: dt.date, event: bool, reason: str) -> SurvivalTime:
    if end < index_date:
        return _unknown(
            f"end date {end} is before the index date {index_date}", "end date after index date"
        )
    days = (end - index_date).days
    return SurvivalTime(days, days / DAYS_PER_MONTH, event, end, reason, ())


def overall_survival(
    *,
    index_date: dt.date | None,
    death_date: dt.date | None,
    last_known_alive_date: dt.date | None,
    cutoff_date: dt.date,
) -> SurvivalTime:
    if index_date is None:
        return _unknown("no index date", "index_date")
    if death_date is not None and death_date <= cutoff_date:
        return _time(index_date, death_date, True, "")
    if death_date is not None:
        # Died after the cut-off: alive on the cut-off date by definition.
        return _time(index_date, cutoff_date, False, "alive at the data cut-off")
    if last_known_alive_date is None:
        return _unknown("no follow-up after the index date", "last date known alive")
    if last_known_alive_date >= cutoff_date:
        return _time(index_date, cutoff_date, False, "alive at the data cut-off")
    return _time(
        index_date, last_known_alive_date, False, "lost to follow-up: last date known alive"
    )


def progression_free_survival(
    *,
    index_date: dt.date | None,
    progression_date: dt.date | None,
    death_date: dt.date | None,
    last_adequate_imaging_date: dt.date | None,
    cutoff_date: dt.date,
) -> SurvivalTime:
    if index_date is None:
        return _unknown("no index date", "index_date")
    events = [d for d in (progression_date, death_date) if d is not None and d <= cutoff_date]
    if events:
        return _time(index_date, min(events), True, "")
    if last_adequate_imaging_date is None:
        return _unknown(
            "no imaging assessment after the index date", "last adequate imaging assessment"
        )
    end = min(last_adequate_imaging_date, cutoff_date)
    return _time(index_date, end, False, "censored at the last adequate imaging assessment")

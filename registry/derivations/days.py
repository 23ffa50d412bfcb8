"""Day numbers: the column-wise derivations compare and subtract dates as floats (days since
1970-01-01, NaN when missing), as the database hands them over (``registry.frames.EpochDays``)."""

from __future__ import annotations

import datetime as dt
import math

EPOCH = dt.date(1970, 1, 1)


def day_number(value: dt.date | None) -> float:
    return math.nan if value is None else float((value - EPOCH).days)


def date_of(day: float | None) -> dt.date | None:
    return None if day is None or math.isnan(day) else EPOCH + dt.timedelta(days=int(day))

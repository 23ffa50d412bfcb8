"""Input checks shared by every public statistics function: one rule, one implementation.

A survival analysis silently gives wrong numbers when its inputs are coded another way than it
assumes: R's ``Surv(time, status)`` also accepts 1 = censored / 2 = dead, and a 1/2 column
turned into booleans counts every patient as an event. So the event indicator must be 0/1 or
boolean, and times must be non-negative numbers; anything else is a ``ValueError`` naming the
column, the offending values and the rule, never a coerced guess.

Missing values: functions documented as R ``na.action = na.omit`` (the frame-level ones) leave
out and count rows with a missing time or event before checking; the array-level functions
have nothing to leave rows out of, so a missing value there is an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

EVENT_RULE = "the event indicator must be 0/1 or boolean (1 = event, 0 = censored)"
TIME_RULE = "times must be non-negative numbers"
BINARY_RULE = "the indicator must be 0/1 or boolean"
MAX_SHOWN = 5


def _shown(values: Sequence[object]) -> str:
    unique = list(dict.fromkeys(repr(v) for v in values))
    more = f" (and {len(unique) - MAX_SHOWN} more)" if len(unique) > MAX_SHOWN else ""
    return ", ".join(unique[:MAX_SHOWN]) + more


def check_binary(
    values: pd.Series | np.ndarray | Sequence[object],
    name: str,
    *,
    allow_missing: bool = False,
    rule: str = BINARY_RULE,
) -> np.ndarray:
    """``values`` as a boolean array, or ``ValueError`` unless every value is 0/1/True/False.

    Strings ("1", "yes"), other numbers (R's 2 = dead) and, unless ``allow_missing``, missing
    values are refused. With ``allow_missing`` the missing positions are returned as False and
    must be excluded by the caller (``missing_mask``).
    """
    series = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
    missing = series.isna().to_numpy()
    if missing.any() and not allow_missing:
        raise ValueError(
            f"column {name!r}: {int(missing.sum())} missing value(s); {rule}, "
            "and a missing value is not censoring"
        )
    present = series[~missing]
    if present.dtype == bool or str(present.dtype) == "boolean":
        return np.where(missing, False, series.fillna(False).astype(bool).to_numpy())
    if pd.api.types.is_numeric_dtype(present.dtype):
        numbers = present.to_numpy(dtype=float)
        wrong = np.unique(numbers[(numbers != 0) & (numbers != 1)]).tolist()
        bad = [int(v) if v.is_integer() else v for v in wrong]  # R's 2 shown as 2
    else:
        # Checked per distinct value: a column of 100,000 rows has two or three of them.
        distinct = pd.unique(present)
        bad = [v for v in distinct if not _is_zero_one(v)]
        if not bad:
            numbers = present.map({v: float(v) for v in distinct}).to_numpy(dtype=float)
    if bad:
        raise ValueError(f"column {name!r}: value(s) {_shown(bad)} not allowed; {rule}")
    out = np.zeros(len(series), dtype=bool)
    out[~missing] = numbers == 1.0
    return out


def _is_zero_one(value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return True
    if isinstance(value, str | bytes):
        return False
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return number in (0.0, 1.0)


def check_times(
    values: pd.Series | np.ndarray | Sequence[object],
    name: str,
    *,
    allow_missing: bool = False,
) -> np.ndarray:
    """``values`` as a float array, or ``ValueError`` for a non-number, an infinite or
    negative time, or (unless ``allow_missing``) a missing one."""
    series = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
    if series.dtype == object or str(series.dtype) in ("string", "category"):
        text = [v for v in pd.unique(series.dropna()) if not _is_number(v)]
        if text:
            raise ValueError(f"column {name!r}: value(s) {_shown(text)} not allowed; {TIME_RULE}")
    if series.dtype == bool:
        raise ValueError(f"column {name!r}: boolean values not allowed; {TIME_RULE}")
    times = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    missing = np.isnan(times)
    if missing.any() and not allow_missing:
        raise ValueError(f"column {name!r}: {int(missing.sum())} missing time(s); {TIME_RULE}")
    present = times[~missing]
    bad = present[(present < 0) | ~np.isfinite(present)]
    if bad.size:
        raise ValueError(
            f"column {name!r}: value(s) {_shown(bad.tolist())} not allowed; {TIME_RULE}"
        )
    return times


def _is_number(value: object) -> bool:
    if isinstance(value, bool | np.bool_ | str | bytes):
        return False
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def check_survival_frame(df: pd.DataFrame, duration: str, event: str) -> pd.DataFrame:
    """The rows of ``df`` with both a time and an event, checked (R na.omit on the pair).

    Raises ``ValueError`` naming the column when a column is absent or a present value
    breaks its rule; returns ``df`` restricted to complete rows with ``event`` as 0/1 int.
    """
    for column in (duration, event):
        if column not in df.columns:
            raise ValueError(f"column {column!r} is not in the data")
    complete = df[df[duration].notna() & df[event].notna()]
    check_times(complete[duration], duration)
    events = check_binary(complete[event], event, rule=EVENT_RULE)
    complete = complete.copy()
    complete[duration] = pd.to_numeric(complete[duration]).astype(float)
    complete[event] = events.astype(int)
    return complete

"""Column helpers of the analysis dataset: pure pandas/numpy, no ORM.

The endpoint rules themselves (best response, OS, PFS) are not here: they are written once,
column-wise, in ``registry.derivations`` and called by ``analytics.selectors`` and by every
registry screen alike.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


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

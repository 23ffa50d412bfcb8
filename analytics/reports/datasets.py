"""The de-identified analysis dataset as files: CSV with its data dictionary, SPSS and Stata.

SPSS and Stata accept fewer types and names than pandas, so the frame is converted for them:
dates stay dates, yes/no columns become 0/1 numbers (with value labels), free text becomes
strings with "" for missing, and column names are made valid in both packages (letters,
digits and "_", starting with a letter, ≤ 32 characters, no reserved word, unique). The
dictionary records the name each column got, so nothing is renamed silently.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
from collections.abc import Callable

import numpy as np
import pandas as pd

from analytics.reports.dictionary import YES_NO, default_dictionary
from registry.spreadsheets import safe_cell

IDENTIFYING_COLUMNS = ("site_patient_ref",)
MAX_NAME = 32  # Stata's limit (SPSS allows 64)
STATA_LABEL_MAX = 80
RESERVED = {
    # Stata
    "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
    "_n", "_pi", "_pred", "_rc", "_skip", "strl", "using", "with",
    # SPSS
    "all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to",
}  # fmt: skip
VALUE_LABELS: dict[str, dict[float, str]] = {
    "os_event": {0: "censored", 1: "death"},
    "pfs_event": {0: "censored", 1: "progression or death"},
}
YES_NO_LABELS = {0: "no", 1: "yes"}


def export_name(column: str, taken: set[str]) -> str:
    """A name valid in SPSS and Stata, unique (case-insensitively) among ``taken``."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", column) or "v"
    if not name[0].isalpha():
        name = f"v_{name}"
    if name.lower() in RESERVED:
        name = f"{name}_"
    name = name[:MAX_NAME]
    candidate, number = name, 2
    while candidate.lower() in taken:
        suffix = f"_{number}"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
        number += 1
    taken.add(candidate.lower())
    return candidate


def deidentified(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without identifying columns (never selected, dropped again defensively)."""
    return frame.drop(columns=[c for c in IDENTIFYING_COLUMNS if c in frame.columns])


def dictionary_with_names(frame: pd.DataFrame, dictionary: pd.DataFrame | None) -> pd.DataFrame:
    """The dictionary limited to the frame's columns, with the SPSS/Stata ``export_name``."""
    described = default_dictionary(frame)
    if dictionary is not None and not dictionary.empty:
        given = dictionary.set_index("column")
        for field in ("label", "type", "unit", "coding"):
            if field in given.columns:
                override = described["column"].map(given[field])
                described[field] = override.where(override.notna(), described[field])
    taken: set[str] = set()
    described["export_name"] = [export_name(c, taken) for c in described["column"]]
    return described


def _is_missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and np.isnan(value))
    )


def _all_values(series: pd.Series, test: Callable[[object], bool]) -> bool:
    values = [v for v in series.tolist() if not _is_missing(v)]
    return bool(values) and all(test(v) for v in values)


def stats_package_column(series: pd.Series) -> pd.Series:
    """One column in a type SPSS and Stata store: number, date/datetime or string."""
    if pd.api.types.is_bool_dtype(series) or _all_values(
        series, lambda v: isinstance(v, bool | np.bool_)
    ):
        return series.map(lambda v: np.nan if _is_missing(v) else float(bool(v))).astype(float)
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.tz_localize(None) if series.dt.tz is not None else series
    if pd.api.types.is_numeric_dtype(series):
        return (
            series.astype(float)
            if not pd.api.types.is_integer_dtype(series) or series.hasnans
            else series
        )
    if _all_values(series, lambda v: isinstance(v, dt.datetime | pd.Timestamp)):
        return pd.to_datetime(series, errors="coerce")
    if _all_values(series, lambda v: isinstance(v, dt.date)):
        return series.map(lambda v: None if _is_missing(v) else v).astype(object)
    if _all_values(series, lambda v: isinstance(v, int | float | np.number)):
        return pd.to_numeric(series, errors="coerce").astype(float)
    return series.map(lambda v: "" if _is_missing(v) else str(v)).astype(object)


def stats_package_frame(frame: pd.DataFrame, described: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for column, name in zip(described["column"], described["export_name"], strict=True):
        out[name] = stats_package_column(frame[column])
    return out.reset_index(drop=True)


def _labels(described: pd.DataFrame, limit: int | None) -> dict[str, str]:
    labels = {}
    for name, label, unit in zip(
        described["export_name"], described["label"], described["unit"], strict=True
    ):
        text = f"{label} ({unit})" if unit else str(label)
        labels[name] = text[:limit] if limit else text
    return labels


def _value_labels(described: pd.DataFrame, data: pd.DataFrame) -> dict[str, dict[float, str]]:
    labels = {}
    for column, name, coding in zip(
        described["column"], described["export_name"], described["coding"], strict=True
    ):
        if not pd.api.types.is_numeric_dtype(data[name]):
            continue
        if column in VALUE_LABELS:
            labels[name] = VALUE_LABELS[column]
        elif coding == YES_NO:
            labels[name] = YES_NO_LABELS
    return labels


def _write(writer: Callable[..., None], data: pd.DataFrame, suffix: str, **kwargs: object) -> bytes:
    """pyreadstat writes only to paths: write to a temporary file and read the bytes back."""
    handle, path = tempfile.mkstemp(suffix=suffix)
    os.close(handle)
    try:
        writer(data, path, **kwargs)
        with open(path, "rb") as stream:
            return stream.read()
    finally:
        os.unlink(path)


def _stata_value_labels(value_labels: dict[str, dict[float, str]]) -> dict[str, dict[float, str]]:
    """Value labels Stata can store: pyreadstat names each label set ``<variable><n>`` (n counts
    the labelled variables), and Stata refuses names over 32 characters, so a long variable
    name keeps its variable label but not its value labels (its coding is in the dictionary)."""
    kept: dict[str, dict[float, str]] = {}
    for name, labels in value_labels.items():
        if len(name) + len(str(len(kept))) <= MAX_NAME:
            kept[name] = labels
    return kept


def dataset_files(frame: pd.DataFrame, dictionary: pd.DataFrame | None = None) -> dict[str, bytes]:
    """``analysis_dataset.csv``, ``data_dictionary.csv``, ``analysis_dataset.sav``, ``.dta``."""
    import pyreadstat

    data = deidentified(frame).reset_index(drop=True)
    described = dictionary_with_names(data, dictionary)
    converted = stats_package_frame(data, described)
    value_labels = _value_labels(described, converted)
    sav = _write(
        pyreadstat.write_sav,
        converted,
        ".sav",
        column_labels=_labels(described, None),
        variable_value_labels=value_labels,
    )
    dta = _write(
        pyreadstat.write_dta,
        converted,
        ".dta",
        column_labels=_labels(described, STATA_LABEL_MAX),
        variable_value_labels=_stata_value_labels(value_labels),
    )
    return {
        "analysis_dataset.csv": _csv(data),
        "data_dictionary.csv": _csv(described),
        "analysis_dataset.sav": sav,
        "analysis_dataset.dta": dta,
    }


def _csv(frame: pd.DataFrame) -> bytes:
    """The frame as CSV; text cells through ``safe_cell`` (a value such as "=1+1" in a
    free-text column must not become a formula when the file is opened in a spreadsheet),
    numbers untouched so a negative value stays a number."""
    safe = frame.copy()
    safe.columns = [safe_cell(str(c)) for c in safe.columns]
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(safe_cell)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")

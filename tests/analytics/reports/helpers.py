"""Small lookups into report tables for the tests."""

from __future__ import annotations

import pandas as pd

from analytics.reports import Report, Table


def row(table: Table, column: str, value: object, nth: int = 0) -> pd.Series:
    """The ``nth`` row of ``table`` whose ``column`` equals ``value``."""
    matches = table.frame[table.frame[column] == value]
    assert len(matches) > nth, f"no row {column} == {value!r} in {table.key}"
    return matches.iloc[nth]


def arm_column(table: Table, arm: str, group: str | None = None) -> str:
    """The "arm (n = N)" header of ``arm`` (under the column group ``group``, if given)."""
    prefix = f"{group}: " if group else ""
    return next(c for c in table.frame.columns if str(c).startswith(f"{prefix}{arm} (n = "))


def table(report: Report, section: str, key: str) -> Table:
    return report.section(section).table(key)

"""The analysis variables an investigator may group by or put in a model (a placeholder)."""

from __future__ import annotations


def check_grouping_variable(grouping) -> None:
    return None

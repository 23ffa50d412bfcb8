"""Which patients a treatment arm holds: the arm rules applied to a list of patients at once.

For screens that select patients by arm (the patient list's "Arm" filter). The rules are
``analytics.arms.rule_matches`` over the treatment frame the dataset selector reads, so a
patient listed under an arm is the patient an analysis would put in it on the same day. Two
queries, whatever the number of patients.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db.models import QuerySet

from analytics.arms import rule_matches
from analytics.models import ArmDefinition
from analytics.selectors import EpochDays, _fetch, _treatments
from registry.models import Patient


def latest_arm_definitions() -> list[ArmDefinition]:
    """The newest version of each named arm, by name (a handful of rows: picked in Python,
    because SQLite has no DISTINCT ON)."""
    latest: dict[str, ArmDefinition] = {}
    for arm in ArmDefinition.objects.order_by("name", "-version"):
        latest.setdefault(arm.name, arm)
    return list(latest.values())


def patients_in_arm(
    patients: QuerySet[Patient], arm: ArmDefinition, *, cutoff: dt.date
) -> list[int]:
    """Ids of ``patients`` whose treatments started by ``cutoff`` satisfy ``arm``'s rule.

    The index date the seed-002 rules anchor on is the patient's stored ``index_date``.
    """
    # Only the ids of ``patients``: a list page's queryset carries annotations and ordering
    # that the sub-queries below do not need.
    plain = Patient.objects.filter(pk__in=patients.values("pk"))
    index = _fetch(
        plain.annotate(_index_day=EpochDays("index_date"))
        .values_list("pk", "_index_day")
        .order_by(),
        ["patient_id", "index_day"],
    )
    if index.empty:
        return []
    index_days = pd.to_numeric(index["index_day"], errors="coerce").astype(float).to_numpy()
    hit = rule_matches(
        arm.rule, arm.window_days, _treatments(plain, cutoff), index["patient_id"], index_days
    )
    return [int(pid) for pid in index["patient_id"][hit]]

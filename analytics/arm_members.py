"""Which patients a treatment arm holds: the arm rules applied to a list of patients at once.

For screens that select patients by arm (the patient list's "Arm" filter). The rules are the
arms' treatment patterns (``analytics.groupings.pattern_matches``) over the treatment frame the dataset selector reads, so a
patient listed under an arm is the patient an analysis would put in it on the same day. Two
queries, whatever the number of patients.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db.models import QuerySet
from django.db.models.fields.json import KT

from analytics.groupings import REFRACTORINESS_RULE_SETS, pattern_matches
from analytics.models import ArmDefinition
from analytics.selectors import EpochDays, _fetch, _treatments, iso_days
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
    """Ids of ``patients`` whose treatments started by ``cutoff`` satisfy ``arm``'s pattern.

    The anchors are the patient's stored ``index_date`` and refractoriness dates.
    """
    # Only the ids of ``patients``: a list page's queryset carries annotations and ordering
    # that the sub-queries below do not need.
    plain = Patient.objects.filter(pk__in=patients.values("pk"))
    dates = {
        f"_{rule_set}": KT(f"tace_refractoriness__{rule_set}__date")
        for rule_set in REFRACTORINESS_RULE_SETS
    }
    index = _fetch(
        plain.annotate(_index_day=EpochDays("index_date"), **dates)
        .values_list("pk", "_index_day", *dates)
        .order_by(),
        ["patient_id", "index_day", *(f"refractory_{r}_date" for r in REFRACTORINESS_RULE_SETS)],
    )
    if index.empty:
        return []
    index["index_day"] = pd.to_numeric(index["index_day"], errors="coerce").astype(float)
    for rule_set in REFRACTORINESS_RULE_SETS:
        index[f"refractory_{rule_set}_day"] = iso_days(index.pop(f"refractory_{rule_set}_date"))
    hit = pattern_matches(arm.treatment_pattern, _treatments(plain, cutoff), index)
    return [int(pid) for pid in index["patient_id"][hit]]

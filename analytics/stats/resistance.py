"""TACE resistance (refractoriness) rate compared between arms (seed 000: 9.7% vs 38.8%).

Which patient is resistant is decided upstream by the versioned TACE-refractoriness rule set
(``registry`` derivations); this module only compares the resulting rates with Pearson χ²
without continuity correction. Patients whose status could not be assessed (missing) are left
out of numerator and denominator and counted in ``not_assessed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analytics.stats.formatting import format_count_pct, format_p, format_stat
from analytics.stats.response import RateComparison, compare_rate
from analytics.stats.validation import check_binary


@dataclass(frozen=True)
class ResistanceComparison:
    rate: RateComparison
    not_assessed: dict[object, int]

    def to_frame(self) -> pd.DataFrame:
        rate = self.rate
        arms = list(rate.events)
        row = {"row": "TACE resistance"}
        row.update({arm: format_count_pct(rate.events[arm], rate.totals[arm]) for arm in arms})
        row.update(
            {
                "chi_square": format_stat(rate.chi_square.statistic),
                "p": format_p(rate.chi_square.p_value),
            }
        )
        return pd.DataFrame([row], columns=["row", *arms, "chi_square", "p"])


def compare_resistance(
    df: pd.DataFrame,
    resistant: str,
    group: str,
    *,
    group_order: Sequence[object] | None = None,
) -> ResistanceComparison:
    """Resistance rate per arm from a boolean ``resistant`` column, compared with χ².

    ``resistant`` is 0/1 or boolean, missing = not assessed; any other value is a
    ``ValueError`` naming the column (``validation.check_binary``)."""
    check_binary(df[resistant], resistant, allow_missing=True)
    arms = (
        tuple(group_order)
        if group_order is not None
        else tuple(sorted(df[group].dropna().unique()))
    )
    data = df[df[group].isin(arms)]
    assessed = data[data[resistant].notna()]
    not_assessed = {arm: int(((data[group] == arm) & data[resistant].isna()).sum()) for arm in arms}
    outcome = assessed[resistant].astype(bool)
    rate = compare_rate(assessed, outcome, group, arms, "TACE resistance")
    return ResistanceComparison(rate=rate, not_assessed=not_assessed)

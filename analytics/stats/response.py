"""Best overall response table (seed 002 Table 2): CR/PR/SD/PD n (%), ORR and DCR with χ².

ORR = (CR + PR) / all patients of the arm and DCR = (CR + PR + SD) / all patients, as defined
in seed 002 §3.6; patients without an evaluable response stay in the denominator (they are
shown on a "NE" row) so the rates are not inflated by dropping them. ORR and DCR are compared
with Pearson χ² without continuity correction (seed 002 Table 2 footnote b).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from analytics.stats.categorical import ChiSquareResult, compare_proportions
from analytics.stats.formatting import format_count_pct, format_p, format_stat
from analytics.stats.validation import check_binary

RESPONSE_CATEGORIES = ("CR", "PR", "SD", "PD")
OBJECTIVE_RESPONSE = ("CR", "PR")
DISEASE_CONTROL = ("CR", "PR", "SD")
NOT_EVALUABLE = "NE"


@dataclass(frozen=True)
class RateComparison:
    """Patients with an outcome out of all patients, per arm, compared with χ²."""

    name: str
    events: dict[object, int]
    totals: dict[object, int]
    chi_square: ChiSquareResult = field(repr=False)

    def rate(self, arm: object) -> float | None:
        total = self.totals[arm]
        return self.events[arm] / total if total else None


@dataclass(frozen=True)
class BestResponseTable:
    """Counts per response category and arm, plus ORR and DCR comparisons."""

    arms: tuple[object, ...]
    counts: pd.DataFrame = field(repr=False)
    totals: dict[object, int]
    orr: RateComparison
    dcr: RateComparison

    def to_frame(self) -> pd.DataFrame:
        """Rows CR, PR, SD, PD (and NE if any), ORR, DCR; columns per arm, χ², P as text."""
        rows = []
        for category in self.counts.index:
            row = {"row": category}
            row.update(
                {
                    arm: format_count_pct(int(self.counts.loc[category, arm]), self.totals[arm])
                    for arm in self.arms
                }
            )
            row.update({"chi_square": "", "p": ""})
            rows.append(row)
        for rate in (self.orr, self.dcr):
            row = {"row": rate.name}
            row.update(
                {arm: format_count_pct(rate.events[arm], rate.totals[arm]) for arm in self.arms}
            )
            row.update(
                {
                    "chi_square": format_stat(rate.chi_square.statistic),
                    "p": format_p(rate.chi_square.p_value),
                }
            )
            rows.append(row)
        return pd.DataFrame(rows, columns=["row", *self.arms, "chi_square", "p"])


def compare_rate(
    df: pd.DataFrame,
    outcome: pd.Series,
    group: str,
    arms: Sequence[object],
    name: str,
) -> RateComparison:
    """χ² comparison of a boolean per-patient ``outcome`` between ``arms`` (denominator: all).

    ``outcome`` must be 0/1 or boolean with no missing value (a patient without the outcome
    is 0): anything else is a ``ValueError`` naming it (``validation.check_binary``)."""
    outcome = pd.Series(check_binary(outcome, name), index=outcome.index)
    events = {arm: int(outcome[df[group] == arm].sum()) for arm in arms}
    totals = {arm: int((df[group] == arm).sum()) for arm in arms}
    chi = compare_proportions([events[a] for a in arms], [totals[a] for a in arms])
    return RateComparison(name=name, events=events, totals=totals, chi_square=chi)


def best_response_table(
    df: pd.DataFrame,
    response: str,
    group: str,
    *,
    group_order: Sequence[object] | None = None,
) -> BestResponseTable:
    """Seed 002 Table 2 from one row per patient with its best overall response (mRECIST)."""
    arms = (
        tuple(group_order)
        if group_order is not None
        else tuple(sorted(df[group].dropna().unique()))
    )
    data = df[df[group].isin(arms)]
    categories = data[response].where(data[response].isin(RESPONSE_CATEGORIES), NOT_EVALUABLE)
    counts = pd.crosstab(categories, data[group]).reindex(columns=list(arms), fill_value=0)
    order = list(RESPONSE_CATEGORIES) + ([NOT_EVALUABLE] if NOT_EVALUABLE in counts.index else [])
    counts = counts.reindex(index=order, fill_value=0).astype(int)
    totals = {arm: int((data[group] == arm).sum()) for arm in arms}
    orr = compare_rate(data, categories.isin(OBJECTIVE_RESPONSE), group, arms, "ORR")
    dcr = compare_rate(data, categories.isin(DISEASE_CONTROL), group, arms, "DCR")
    return BestResponseTable(arms=arms, counts=counts, totals=totals, orr=orr, dcr=dcr)

"""The k-group section (analytics.reports.sections.groups) on R's lung, pinned to R.

Data: tests/analytics/data/lung.csv (see test_comparisons.py), time in days, grouped by ECOG
0 / 1 / 2-3 (the "arm" column, as the dataset of a run over a grouping).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.reports.sections.groups import build_groups_section

LUNG = Path(__file__).parent / "data" / "lung.csv"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    lung = pd.read_csv(LUNG).rename(columns={"ph.ecog": "ecog_ps"})
    return pd.DataFrame(
        {
            "os_months": lung["time"],
            "os_event": lung["event"],
            "age": lung["age"].astype(float),
            "arm": np.select(
                [lung["ecog_ps"] == 0, lung["ecog_ps"] == 1, lung["ecog_ps"] >= 2],
                ["0", "1", "2-3"],
                default=None,
            ),
        }
    )


def tables(section):
    return {table.key: table.frame for table in section.tables}


def test_three_groups_medians_log_rank_holm_and_cox_match_r(frame):
    """R: d$eg <- factor(ECOG 0 / 1 / 2-3, levels = c("0", "1", "2-3"))
    survfit(Surv(time, event) ~ eg): 0: 63, 37 events, median 394 (348, 574); 1: 113, 82,
      306 (268, 429); 2-3: 51, 45, 183 (153, 288)
    survdiff: chisq 18.97927765 on 2 df, p 7.563141468e-05; pairwise survdiff on each pair,
      p.adjust(, "holm"): 0.06299094905, 8.996742275e-05, 0.005154373317
    coxph(Surv(time, event) ~ eg): HR 1.445111136 (0.9790524579, 2.133027887),
      2.536890985 (1.6370913319, 3.931250349)
    coxph(Surv(time, event) ~ eg + age): eg1 1.430265902 (0.9686399931, 2.111889418)
      p 0.0719; eg2-3 2.386794506 (1.5226951583, 3.741253122) p 0.000149; age 1.011066628
      (0.9926489409, 1.029826038) p 0.2407; likelihood-ratio test 18.73012970 on 3 df."""
    section = build_groups_section(frame, ["0", "1", "2-3"], "0", {"covariates": ["age"]})

    got = tables(section)
    medians = got["os_group_medians"]
    assert medians.iloc[:, :4].values.tolist() == [
        ["0", 63, 37, "394.00 (348.00, 574.00)"],
        ["1", 113, 82, "306.00 (268.00, 429.00)"],
        ["2-3", 51, 45, "183.00 (153.00, 288.00)"],
    ]
    assert medians.loc[0, ["Log-rank χ²", "df", "P"]].tolist() == ["18.979", "2", "< 0.001"]
    assert got["os_group_pairs"]["P (Holm)"].tolist() == ["0.063", "< 0.001", "0.005"]
    cox = got["os_group_cox"].set_index("Term")
    assert cox.loc["Group 1 (vs 0)"].tolist() == [
        "1.45 (0.98, 2.13)",
        "0.064",
        "1.43 (0.97, 2.11)",
        "0.072",
    ]
    assert cox.loc["Group 2-3 (vs 0)"].tolist() == [
        "2.54 (1.64, 3.93)",
        "< 0.001",
        "2.39 (1.52, 3.74)",
        "< 0.001",
    ]
    assert cox.loc["Age (years)", "Multivariable HR (95% CI)"] == "1.01 (0.99, 1.03)"
    assert "likelihood-ratio χ² = 18.730, df = 3, P < 0.001" in got_footnotes(section)
    assert section.figures[0].key == "os_group_km"


def got_footnotes(section) -> str:
    return " ".join(note for table in section.tables for note in table.footnotes)


def test_the_grouping_may_be_left_out_of_the_multivariable_model(frame):
    """R, on the 227 patients with an ECOG group: coxph(Surv(time, event) ~ age): HR 1.01915
    (1.000876, 1.037757)."""
    section = build_groups_section(
        frame, ["0", "1", "2-3"], "0", {"covariates": ["age"], "cox_include_grouping": False}
    )

    cox = tables(section)["os_group_cox"].set_index("Term")
    assert cox.loc["Group 1 (vs 0)", "Multivariable HR (95% CI)"] == "not in the model"
    assert cox.loc["Group 1 (vs 0)", "Univariable HR (95% CI)"] == "1.45 (0.98, 2.13)"
    assert cox.loc["Age (years)", "Multivariable HR (95% CI)"] == "1.02 (1.00, 1.04)"
    assert "left out of the multivariable model" in got_footnotes(section)


def test_an_empty_group_makes_the_section_unavailable_naming_it(frame):
    section = build_groups_section(frame, ["0", "1", "9"], "0", {"covariates": []})

    assert section.unavailable == "No patient in group(s) 9"

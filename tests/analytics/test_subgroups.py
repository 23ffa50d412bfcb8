"""Landmark and subgroup analyses (analytics.subgroups) pinned to R survival 3.5 on ``lung``.

Data: tests/analytics/data/lung.csv (see test_comparisons.py for the export). In R:
    d <- read.csv("lung.csv"); d$female <- as.integer(d$sex == "female")
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.reports.figures import forest_figure
from analytics.subgroups import COMPARED, landmark, subgroup_forest_rows, subgroups

LUNG = Path(__file__).parent / "data" / "lung.csv"


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    frame = pd.read_csv(LUNG).rename(columns={"ph.ecog": "ecog_ps"})
    # ECOG 0 / 1 / 2+ (the one ECOG 3 patient with the 2s).
    frame["ecog_group"] = np.where(frame["ecog_ps"].isna(), None, np.minimum(frame["ecog_ps"], 2))
    return frame


def test_landmark_at_180_days_matches_r(lung):
    """R: x <- subset(d, time > 180); x$t <- x$time - 180  (159 patients, 69 left out)
    survdiff(Surv(t, event) ~ sex, data = x): chisq 2.538040589, p 0.111132622
    coxph(Surv(t, event) ~ female, data = x): coef -0.3240617743, HR 0.7232055655
    (0.4844434218, 1.079643703), p 0.1129372891."""
    result = landmark(lung, "time", "event", "sex", "male", "female", at=180)

    assert (result.n, result.excluded) == (159, 69)
    assert result.logrank.statistic == pytest.approx(2.538040589, rel=1e-8)
    assert result.logrank.p_value == pytest.approx(0.111132622, rel=1e-7)
    row = result.cox.coefficients.set_index("covariate").loc[COMPARED]
    assert row["coef"] == pytest.approx(-0.3240617743, rel=1e-6)
    assert (row["hr_lower"], row["hr_upper"]) == pytest.approx(
        (0.4844434218, 1.079643703), rel=1e-6
    )


def test_a_patient_censored_at_the_landmark_is_not_followed_beyond_it():
    frame = pd.DataFrame(
        {"time": [10.0, 10.0, 11.0, 12.0], "event": [1, 0, 1, 0], "g": ["a", "b", "a", "b"]}
    )

    result = landmark(frame, "time", "event", "g", "a", "b", at=10)

    assert (result.n, result.excluded) == (2, 2)


def test_subgroups_by_ecog_with_interaction_p_match_r(lung):
    """R, by ECOG 0 / 1 / 2+ (d$eg): coxph(Surv(time, event) ~ female, data = <level>):
      0: n 63, 37 events, HR 0.5406104717 (0.2530937719, 1.1547486130), p 0.1121990355
      1: n 113, 82 events, HR 0.5308804049 (0.3334825388, 0.8451237215), p 0.007600737784
      2+: n 51, 45 events, HR 0.6794550372 (0.3653136335, 1.2637336939), p 0.2222184827
    anova(coxph(~ female + factor(eg)), coxph(~ female * factor(eg))) on the 227 with ECOG:
      Chisq 0.47274, Df 2, P 0.78949."""
    analysis = subgroups(
        lung, "time", "event", "sex", "male", "female", {"ecog_group": ["0", "1", "2"]}
    )

    expected = {
        "0": (63, 37, 0.5406104717, 0.2530937719, 1.1547486130),
        "1": (113, 82, 0.5308804049, 0.3334825388, 0.8451237215),
        "2": (51, 45, 0.6794550372, 0.3653136335, 1.2637336939),
    }
    for row in analysis.rows:
        n, events, hr, lower, upper = expected[row.level]
        got = row.cox.coefficients.iloc[0]
        assert (row.n, row.events) == (n, events)
        assert (got["hr"], got["hr_lower"], got["hr_upper"]) == pytest.approx(
            (hr, lower, upper), rel=1e-6
        )
    assert analysis.interaction_df["ecog_group"] == 2
    assert analysis.interaction_p["ecog_group"] == pytest.approx(0.78949, abs=5e-6)


def test_the_subgroup_forest_plot_has_one_row_per_level_and_the_interaction_p(lung):
    analysis = subgroups(
        lung, "time", "event", "sex", "male", "female", {"ecog_group": ["0", "1", "2"]}
    )

    rows = subgroup_forest_rows(analysis, {"ecog_group": "ECOG"})
    figure = forest_figure("os_subgroups", "OS: female vs male by subgroup", rows)

    assert rows["label"].tolist() == ["ECOG: 0", "ECOG: 1", "ECOG: 2"]
    assert rows["text"].iloc[0] == "0.54 (0.25, 1.15); n = 63; interaction P = 0.789"
    assert rows["text"].iloc[1] == "0.53 (0.33, 0.85); n = 113"
    assert figure.key == "os_subgroups"

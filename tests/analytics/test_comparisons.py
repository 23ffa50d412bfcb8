"""Group comparisons and Cox models with dictionary covariates, pinned to R survival 3.5.

Data: R's ``lung`` (survival package; NCCTG advanced lung cancer), exported by

    d <- lung[, c("time","status","sex","age","ph.ecog")]
    d$event <- as.integer(d$status == 2); d$sex <- ifelse(d$sex == 1, "male", "female")
    write.csv(d[, c("time","event","sex","age","ph.ecog")], "lung.csv", row.names=FALSE, na="")

into ``tests/analytics/data/lung.csv`` (228 patients; ph.ecog 0/1/2/3 = 63/113/50/1, 1 NA).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analytics.comparisons import GROUP_TERM, compare_survival, cox_models, holm
from analytics.groupings import VariableGrouping
from analytics.variables import covariate_from_spec

LUNG = Path(__file__).parent / "data" / "lung.csv"


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    frame = pd.read_csv(LUNG).rename(columns={"ph.ecog": "ecog_ps"})
    frame["sex_group"] = VariableGrouping.from_dict(
        {
            "variable": "sex",
            "groups": [
                {"label": "Male", "values": ["male"]},
                {"label": "Female", "values": ["female"]},
            ],
        }
    ).assign(frame)
    frame["ecog_group"] = VariableGrouping.from_dict(
        {
            "variable": "ecog_ps",
            "groups": [
                {"label": "0", "values": [0]},
                {"label": "1", "values": [1]},
                {"label": "2-3", "values": [2, 3]},
            ],
        }
    ).assign(frame)
    return frame


def test_holm_matches_r_p_adjust():
    """R: p.adjust(c(0.01, 0.04, 0.03, 0.5, NA), "holm") = 0.04 0.09 0.09 0.50 NA."""
    assert holm([0.01, 0.04, 0.03, 0.5, None]) == pytest.approx([0.04, 0.09, 0.09, 0.5, None])


def test_two_groups_log_rank_matches_r(lung):
    """R: survdiff(Surv(time, event) ~ sex, data = d) → chisq 10.32674195, p 0.00131116452."""
    result = compare_survival(lung, "time", "event", "sex_group", ["Male", "Female"])

    assert result.overall.df == 1
    assert result.overall.statistic == pytest.approx(10.32674195, rel=1e-8)
    assert result.overall.p_value == pytest.approx(0.00131116452, rel=1e-7)


def test_three_groups_log_rank_on_two_df_and_holm_pairs_match_r(lung):
    """R: d$eg <- ecog 0 / 1 / 2-3; survdiff(Surv(time, event) ~ eg) → chisq 18.97927765 on
    2 df, p 7.563141468e-05. Pairwise survdiff on each pair's patients: p = 0.06299094905
    (0 vs 1), 2.998914092e-05 (0 vs 2-3), 0.002577186658 (1 vs 2-3); p.adjust(p, "holm") =
    0.06299094905, 8.996742275e-05, 0.005154373317."""
    result = compare_survival(lung, "time", "event", "ecog_group", ["0", "1", "2-3"])

    assert result.overall.df == 2
    assert result.overall.statistic == pytest.approx(18.97927765, rel=1e-8)
    assert result.overall.p_value == pytest.approx(7.563141468e-05, rel=1e-7)
    assert result.pairwise["p"].tolist() == pytest.approx(
        [0.06299094905, 2.998914092e-05, 0.002577186658], rel=1e-7
    )
    assert result.pairwise["p_adjusted"].tolist() == pytest.approx(
        [0.06299094905, 8.996742275e-05, 0.005154373317], rel=1e-7
    )
    assert "Holm" in result.adjustment


def test_cox_grouped_by_sex_with_age_and_categorical_ecog_matches_r(lung):
    """R: d$sexf <- relevel(factor(d$sex), ref = "male"); d$ecogf <- factor(d$ph.ecog)
    coxph(Surv(time, event) ~ sexf + age + ecogf, data = d):
      sexffemale coef -0.54583051921 se 0.16822786775 p 1.176196901e-03
                 HR 0.5793604135 (0.4166323581, 0.8056467103)
      age 0.01079467553 (se 0.00931212447); ecogf1 0.41004801492; ecogf2 0.90330300965;
      ecogf3 1.95454337814 (se 1.02970126483)
    univariable: coxph(~ age) coef 0.0187201792 p 0.04185313134; coxph(~ sexf) coef
    -0.5310235376 p 0.001491229205; coxph(~ ecogf) likelihood-ratio test 18.44454563 on 3 df,
    p 3.560958918e-04."""
    age = covariate_from_spec({"variable": "age", "coding": "continuous"})
    ecog = covariate_from_spec(
        {"variable": "ecog_ps", "coding": "categorical", "reference": 0}, lung
    )

    models = cox_models(
        lung, "time", "event", [age, ecog], group="sex_group", groups=["Male", "Female"]
    )

    coefficients = models.multivariable.coefficients.set_index("covariate")
    expected = {
        f"{GROUP_TERM}[Female]": -0.54583051921,
        "age": 0.01079467553,
        f"{ecog.name}[1]": 0.41004801492,
        f"{ecog.name}[2]": 0.90330300965,
        f"{ecog.name}[3]": 1.95454337814,
    }
    assert coefficients["coef"].to_dict() == pytest.approx(expected, rel=1e-6)
    female = coefficients.loc[f"{GROUP_TERM}[Female]"]
    assert female["se"] == pytest.approx(0.16822786775, rel=1e-6)
    assert (female["hr_lower"], female["hr_upper"]) == pytest.approx(
        (0.4166323581, 0.8056467103), rel=1e-6
    )
    assert models.term_p[age.name] == pytest.approx(0.04185313134, rel=1e-6)
    assert models.term_p[GROUP_TERM] == pytest.approx(0.001491229205, rel=1e-6)
    assert models.term_p[ecog.name] == pytest.approx(3.560958918e-04, rel=1e-6)
    assert models.labels[f"{ecog.name}[2]"].endswith("2 (vs 0)")
    # ECOG 4 is a level of the CRF but of no lung patient: left out, as R's NA.
    dropped = [d.covariate for d in models.multivariable.dropped_covariates]
    assert dropped == [f"{ecog.name}[4]"]


def test_the_grouping_may_be_left_out_and_selection_by_univariable_p(lung):
    """R: coxph(Surv(time, event) ~ age + ph.ecog, data = d): age 0.01128123873,
    ph.ecog 0.4434853528 (se 0.115831218066). With selection at P < 0.01 only ECOG
    (univariable P 1.3e-5 continuous) is kept; age (P 0.042) is not."""
    age = covariate_from_spec({"variable": "age"})
    ecog = covariate_from_spec({"variable": "ecog_ps", "coding": "continuous"})

    models = cox_models(lung, "time", "event", [age, ecog])
    coefficients = models.multivariable.coefficients.set_index("covariate")["coef"]
    assert GROUP_TERM not in models.univariable
    assert coefficients.to_dict() == pytest.approx(
        {"age": 0.01128123873, "ecog_ps": 0.4434853528}, rel=1e-6
    )

    selected = cox_models(
        lung, "time", "event", [age, ecog], selection="univariable_p", threshold=0.01
    )
    assert selected.selected == ["ecog_ps"]
    assert selected.multivariable.coefficients["covariate"].tolist() == ["ecog_ps"]

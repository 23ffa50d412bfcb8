"""Report B's matching section with R MatchIt's options: what the run chose is what the
section computes (``propensity_match`` with the same options), shows and describes."""

from __future__ import annotations

import pytest

from analytics.reports.context import SEED002_COVARIATES, prepare_frame
from analytics.stats.formatting import format_stat
from analytics.stats.matching import MatchingOptions, propensity_match
from tests.analytics.reports.cohort import CONTROL, TREATMENT
from tests.analytics.reports.conftest import make_report
from tests.analytics.reports.helpers import row, table

OPTIONS = {
    "matching_order": "smallest",
    "matching_ratio": 2,
    "matching_exact": ["bclc_c"],
    "smd_denominator": "pooled",
    "caliper_sd": 0.5,
}


def _expected(cohort, **options):
    frame, _ = prepare_frame(cohort, CONTROL, TREATMENT)
    return propensity_match(
        frame, "treatment", list(SEED002_COVARIATES), options=MatchingOptions(**options)
    )


@pytest.fixture(scope="module")
def two_to_one(cohort):
    return make_report("report_b", cohort, options=OPTIONS)


def test_the_section_matches_with_the_runs_options(two_to_one, cohort):
    expected = _expected(
        cohort,
        order="smallest",
        ratio=2,
        exact=("bclc_c",),
        smd_denominator="pooled",
        caliper_sd=0.5,
    )
    summary = table(two_to_one, "matching", "matching_summary")
    assert row(summary, "", "Matched")[CONTROL] == str(expected.matched_control)
    assert row(summary, "", "Matched")[TREATMENT] == str(expected.n_pairs)
    assert row(summary, "", "Unmatched")[CONTROL] == str(expected.unmatched_control)
    assert row(summary, "", "Controls per treated patient")[CONTROL] == "2"
    assert row(summary, "", "Matching order")[CONTROL] == "smallest"
    assert row(summary, "", "Exact matching on")[CONTROL] == "bclc_c"
    balance = table(two_to_one, "matching", "matching_balance")
    assert balance.frame["SMD after"].tolist() == [
        format_stat(v) for v in expected.balance["smd_after"]
    ]
    assert "pooled SD" in balance.title
    assert "pooled SD" in balance.footnotes[0]


def test_variance_ratios_and_ecdf_statistics_are_shown_before_and_after(two_to_one, cohort):
    expected = _expected(
        cohort,
        order="smallest",
        ratio=2,
        exact=("bclc_c",),
        smd_denominator="pooled",
        caliper_sd=0.5,
    ).balance.set_index("covariate")
    distribution = table(two_to_one, "matching", "matching_distribution")
    age = row(distribution, "Covariate", "Age (years)")
    assert age["Variance ratio, after"] == format_stat(expected.loc["age", "variance_ratio_after"])
    assert age["eCDF max, before"] == format_stat(expected.loc["age", "ecdf_max_before"])
    male = row(distribution, "Covariate", "Male gender (vs female)")
    assert male["Variance ratio, before"] == ""  # 0/1 covariate: no variance ratio
    assert male["eCDF mean, after"] == format_stat(expected.loc["male", "ecdf_mean_after"])


def test_the_methods_paragraph_names_every_option(two_to_one):
    methods = " ".join(two_to_one.methods)
    assert "2:1 greedy nearest-neighbour matching on the logit" in methods
    assert "from the smallest score up" in methods
    assert "caliper 0.5 SD of the logit" in methods
    assert "exact matching on bclc_c" in methods
    assert "pooled SD" in methods


def test_outcomes_are_not_compared_when_matched_patients_weigh_differently(two_to_one):
    """60 controls for 60 treated at 2:1: some treated get one control, so MatchIt's weights
    differ and unweighted KM/log-rank/χ² would not be the matched-cohort analysis."""
    assert not two_to_one.section("survival").available
    assert "weights" in two_to_one.section("survival").explanation
    assert not two_to_one.section("resistance").available


def test_with_replacement_the_summary_shows_matched_sets_and_effective_size(cohort):
    report = make_report(
        "custom", cohort, sections=["matching"], options={"matching_replace": True}
    )
    expected = _expected(cohort, replace=True)
    summary = table(report, "matching", "matching_summary")
    assert row(summary, "", "Matched sets")[TREATMENT] == str(expected.n_pairs)
    assert row(summary, "", "Matched, effective sample size")[CONTROL] == format_stat(
        expected.ess_control, 2
    )
    assert row(summary, "", "Matching order")[CONTROL] == "does not matter with replacement"


def test_a_missing_exact_variable_makes_the_section_unavailable(cohort):
    frame = cohort.drop(columns=[c for c in ("male", "sex") if c in cohort.columns])
    report = make_report(
        "custom", frame, sections=["matching"], options={"matching_exact": ["male"]}
    )
    assert not report.section("matching").available
    assert "male" in report.section("matching").explanation

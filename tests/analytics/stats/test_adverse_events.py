"""Adverse-event table against seed 002 Table 3 and spec/ANALYSIS.md's expected figures."""

import pandas as pd
import pytest

from analytics.stats.adverse_events import ANY_EVENT, adverse_event_table
from analytics.stats.formatting import format_p
from tests.analytics.stats import seed002


def _seed_002_safety_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-patient data with Table 3's counts; each event goes to a different patient, so the
    union is 20/39 vs 49/56, the seed's overall incidence. All grade 1–2, as in the seed."""
    patients = pd.DataFrame(
        {
            "patient_id": range(95),
            "arm": [seed002.SYSTEMIC] * 39 + [seed002.COMBINED] * 56,
        }
    )
    next_free = {seed002.SYSTEMIC: 0, seed002.COMBINED: 39}
    events = []
    for term, counts in seed002.ADVERSE_EVENTS.items():
        for arm, count in zip(seed002.ARMS, counts, strict=True):
            for _ in range(count):
                events.append({"patient_id": next_free[arm], "term": term, "grade": 1})
                next_free[arm] += 1
    return patients, pd.DataFrame(events)


@pytest.fixture(scope="module")
def table_frame() -> pd.DataFrame:
    patients, events = _seed_002_safety_data()
    table = adverse_event_table(
        patients, events, group="arm", terms=list(seed002.ADVERSE_EVENTS), group_order=seed002.ARMS
    )
    return table.to_frame()


def _row(frame: pd.DataFrame, term: str, severity: str = "any grade") -> pd.Series:
    """The ``severity`` columns of ``term``'s row, named without the severity prefix."""
    row = frame[frame["term"] == term].iloc[0]
    prefix = f"{severity} "
    return pd.Series({k.removeprefix(prefix): v for k, v in row.items() if k.startswith(prefix)})


def test_one_row_per_term_with_any_grade_first(table_frame):
    """Seed 002 Table 3: one row per term, "Any adverse event" first, in the given order."""
    assert table_frame["term"].tolist() == [ANY_EVENT, *seed002.ADVERSE_EVENTS]


@pytest.mark.parametrize(
    ("term", "chi_square", "p"),
    [
        ("vomiting", 0.967, "0.326"),
        ("rash", 0.005, "0.943"),
        ("hypothyroidism", 0.564, "0.453"),
        ("diarrhea", 0.046, "0.831"),
        ("ALT/AST increased", 0.002, "0.961"),
        ("bilirubin increased", 0.158, "0.691"),
    ],
)
def test_term_reproduces_spec_expected_figures(table_frame, term, chi_square, p):
    """spec/ANALYSIS.md expected figures (from seed 002 Table 3 counts)."""
    row = _row(table_frame, term)
    assert round(row["chi_square"], 3) == chi_square
    assert format_p(row["p"]) == p


@pytest.mark.parametrize(
    ("term", "p"), [("pain", "0.055"), ("hypertension", "0.737"), ("hand-foot syndrome", "0.326")]
)
def test_term_reproduces_seed_002_table_3_p(table_frame, term, p):
    """P printed in seed 002 Table 3 for pain (0 vs 5), hypertension (4 vs 7), hand-foot (1 vs 4)."""
    assert format_p(_row(table_frame, term)["p"]) == p


def test_overall_incidence_reproduces_seed_002(table_frame):
    """Seed 002 §4.5: any AE 20/39 (51.28%) vs 49/56 (87.50%), χ² 15.171, P < 0.001."""
    row = _row(table_frame, ANY_EVENT)
    assert round(row["chi_square"], 3) == 15.171
    assert row["p"] < 0.001
    assert (row[f"{seed002.SYSTEMIC} n"], row[f"{seed002.COMBINED} n"]) == (20, 49)
    assert round(row[f"{seed002.SYSTEMIC} %"], 2) == 51.28
    assert round(row[f"{seed002.COMBINED} %"], 2) == 87.50


def test_no_grade_3_events_prints_a_dash(table_frame):
    """Seed 002 Table 3: grade ≥ 3, 0 (0) vs 0 (0), P "-" (not estimable)."""
    row = _row(table_frame, ANY_EVENT, "grade ≥ 3")
    assert pd.isna(row["p"])
    assert format_p(row["p"]) == "-"
    assert row["reason"] is not None


def test_sparse_term_carries_fisher_p(table_frame):
    """Pain 0 vs 5: expected 5·39/95 = 2.05 < 5 → Fisher P shown beside the seed's χ² P."""
    assert 0 < _row(table_frame, "pain")["fisher_p"] < 1


def test_a_term_with_large_expected_counts_has_no_fisher_p(table_frame):
    """Any AE 20/39 vs 49/56: smallest expected count 39·26/95 = 10.7 ≥ 5."""
    assert pd.isna(_row(table_frame, ANY_EVENT)["fisher_p"])


def test_a_patient_counts_once_per_term_at_worst_grade():
    patients = pd.DataFrame({"patient_id": [1, 2, 3, 4], "arm": ["a", "a", "b", "b"]})
    events = pd.DataFrame(
        {"patient_id": [1, 1, 3], "term": ["rash", "rash", "rash"], "grade": [1, 3, 2]}
    )
    table = adverse_event_table(patients, events, group="arm")
    rash = table.terms[0]
    assert rash.any_grade == {"a": 1, "b": 1}
    assert rash.grade_3_plus == {"a": 1, "b": 0}

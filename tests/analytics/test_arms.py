"""The four arm rules of CRF.md §4 on hand-written treatment histories.

``matches`` runs the column-wise rules of ``analytics.arms`` on one patient's rows, so these
cases check the rules the dataset selector and the patient list's arm filter apply.
"""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics.arms import LOCAL_MODALITIES, TREATMENT_COLUMNS, TreatmentRow, matches, rule_matches

D0 = dt.date(2023, 1, 10)
INDEX = dt.date(2023, 6, 1)


def days(n: int, start: dt.date = D0) -> dt.date:
    return start + dt.timedelta(days=n)


def tace(day=D0):
    return TreatmentRow("tace", day)


def drug(cls, day=D0):
    return TreatmentRow("systemic", day, cls)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([tace(), tace(D0 + dt.timedelta(days=40))], True),
        ([tace(), drug("tki", D0 + dt.timedelta(days=20))], False),
        ([tace(), drug("tki", D0 + dt.timedelta(days=200))], True),
        ([drug("tki")], False),
    ],
)
def test_tace_alone_means_no_systemic_therapy_within_the_window(rows, expected):
    assert matches("tace_alone", rows, window_days=90) is expected


def test_tace_pd1_mtt_needs_both_a_checkpoint_inhibitor_and_a_tki_in_the_window():
    rows = [tace(), drug("pd1", D0 + dt.timedelta(days=7)), drug("tki", D0 + dt.timedelta(days=7))]

    assert matches("tace_pd1_mtt", rows, window_days=30)
    assert not matches("tace_pd1_mtt", rows[:2], window_days=30)
    assert not matches("tace_pd1_mtt", rows, window_days=5)


def test_pd_l1_counts_as_the_checkpoint_inhibitor():
    rows = [tace(), drug("pdl1", D0), drug("tki", D0)]

    assert matches("tace_pd1_mtt", rows, window_days=30)


def test_seed_002_arms_split_on_local_therapy_after_the_index_date():
    index = dt.date(2023, 6, 1)
    history = [tace(D0), tace(D0 + dt.timedelta(days=35))]
    systemic = [drug("tki", index), drug("pd1", index)]
    haic = [TreatmentRow("haic", index + dt.timedelta(days=5))]

    assert matches("systemic_alone", history + systemic, window_days=30, index_date=index)
    assert not matches("local_plus_systemic", history + systemic, window_days=30, index_date=index)
    assert matches(
        "local_plus_systemic", history + systemic + haic, window_days=30, index_date=index
    )
    assert not matches(
        "systemic_alone", history + systemic + haic, window_days=30, index_date=index
    )


# --- the TACE window ---------------------------------------------------------------------------


def test_systemic_therapy_on_the_last_day_of_the_tace_window_is_in_it():
    rows = [tace(), drug("pd1", days(90)), drug("tki", days(90))]

    assert matches("tace_pd1_mtt", rows, window_days=90)
    assert not matches("tace_alone", rows, window_days=90)


def test_systemic_therapy_the_day_after_the_tace_window_is_not_in_it():
    rows = [tace(), drug("pd1", days(91)), drug("tki", days(91))]

    assert not matches("tace_pd1_mtt", rows, window_days=90)
    assert matches("tace_alone", rows, window_days=90)


def test_systemic_therapy_on_the_day_of_the_first_tace_is_in_the_window():
    rows = [tace(), drug("pd1"), drug("tki")]

    assert matches("tace_pd1_mtt", rows, window_days=0)
    assert not matches("tace_alone", rows, window_days=0)


def test_systemic_therapy_the_day_before_the_first_tace_does_not_count():
    rows = [tace(), drug("pd1", days(-1)), drug("tki", days(-1))]

    assert not matches("tace_pd1_mtt", rows, window_days=90)
    assert matches("tace_alone", rows, window_days=90)


def test_the_tace_window_opens_at_the_first_tace_not_a_later_one():
    # Listed out of date order: the anchor is the earliest TACE, not the first row.
    rows = [tace(days(100)), drug("pd1", days(110)), drug("tki", days(110)), tace()]

    assert not matches("tace_pd1_mtt", rows, window_days=30)
    assert matches("tace_alone", rows, window_days=30)


def test_a_patient_without_tace_is_in_neither_tace_arm():
    rows = [TreatmentRow("haic", D0), drug("pd1", D0), drug("tki", D0)]

    assert not matches("tace_pd1_mtt", rows, window_days=90)
    assert not matches("tace_alone", rows, window_days=90)


def test_a_patient_without_any_treatment_is_in_no_arm():
    for rule in ("tace_alone", "tace_pd1_mtt", "systemic_alone", "local_plus_systemic"):
        assert not matches(rule, [], window_days=90, index_date=INDEX), rule


@pytest.mark.parametrize(
    "drugs",
    [("pd1",), ("pdl1",), ("tki",), ("pd1", "anti_vegf"), ("ctla4", "tki"), ("pd1", "pdl1")],
)
def test_tace_pd1_mtt_is_not_met_without_both_drug_classes(drugs):
    rows = [tace(), *(drug(cls, days(7)) for cls in drugs)]

    assert not matches("tace_pd1_mtt", rows, window_days=30)


def test_tace_pd1_mtt_needs_both_drugs_inside_the_window_not_just_one():
    rows = [tace(), drug("pd1", days(7)), drug("tki", days(31))]

    assert not matches("tace_pd1_mtt", rows, window_days=30)


def test_the_tace_rules_ignore_the_index_date():
    rows = [tace(), drug("pd1", days(7)), drug("tki", days(7))]

    for index_date in (None, D0, INDEX):
        assert matches("tace_pd1_mtt", rows, window_days=30, index_date=index_date)
        assert not matches("tace_alone", rows, window_days=30, index_date=index_date)


# --- the index-date window (seed 002) ------------------------------------------------------------


def test_local_therapy_on_the_last_day_of_the_index_window_makes_it_local_plus_systemic():
    rows = [drug("tki", INDEX), TreatmentRow("radiotherapy", days(30, INDEX))]

    assert matches("local_plus_systemic", rows, window_days=30, index_date=INDEX)
    assert not matches("systemic_alone", rows, window_days=30, index_date=INDEX)


def test_local_therapy_the_day_after_the_index_window_leaves_systemic_alone():
    rows = [drug("tki", INDEX), TreatmentRow("radiotherapy", days(31, INDEX))]

    assert matches("systemic_alone", rows, window_days=30, index_date=INDEX)
    assert not matches("local_plus_systemic", rows, window_days=30, index_date=INDEX)


def test_local_therapy_before_the_index_date_does_not_count():
    rows = [TreatmentRow("haic", days(-1, INDEX)), drug("tki", INDEX)]

    assert matches("systemic_alone", rows, window_days=30, index_date=INDEX)
    assert not matches("local_plus_systemic", rows, window_days=30, index_date=INDEX)


def test_systemic_therapy_on_the_last_day_of_the_index_window_counts():
    rows = [drug("pd1", days(30, INDEX))]

    assert matches("systemic_alone", rows, window_days=30, index_date=INDEX)
    assert not matches("systemic_alone", rows, window_days=29, index_date=INDEX)


def test_systemic_therapy_before_the_index_date_is_not_the_studied_line():
    rows = [drug("pd1", days(-1, INDEX)), TreatmentRow("haic", INDEX)]

    assert not matches("systemic_alone", rows, window_days=30, index_date=INDEX)
    assert not matches("local_plus_systemic", rows, window_days=30, index_date=INDEX)


@pytest.mark.parametrize("modality", sorted(LOCAL_MODALITIES))
def test_every_local_modality_counts_as_local_therapy(modality):
    rows = [drug("tki", INDEX), TreatmentRow(modality, days(3, INDEX))]

    assert matches("local_plus_systemic", rows, window_days=30, index_date=INDEX)
    assert not matches("systemic_alone", rows, window_days=30, index_date=INDEX)


@pytest.mark.parametrize("rule", ["systemic_alone", "local_plus_systemic"])
def test_without_an_index_date_a_patient_is_in_neither_seed_002_arm(rule):
    rows = [drug("tki", INDEX), TreatmentRow("haic", INDEX)]

    assert not matches(rule, rows, window_days=30, index_date=None)
    assert not matches(rule, rows[:1], window_days=30, index_date=None)


# --- many patients at once -----------------------------------------------------------------------


def test_patients_without_treatment_rows_are_in_no_arm():
    empty = pd.DataFrame({column: pd.Series(dtype=object) for column in TREATMENT_COLUMNS})
    empty["day"] = empty["day"].astype(float)
    ids = pd.Series([1, 2])

    for rule in ("tace_alone", "tace_pd1_mtt", "systemic_alone", "local_plus_systemic"):
        got = rule_matches(rule, 30, empty, ids, np.array([19000.0, np.nan]))
        assert got.tolist() == [False, False], rule


def test_an_unknown_rule_is_an_error():
    with pytest.raises(KeyError):
        matches("tace_forever", [tace()], window_days=30)

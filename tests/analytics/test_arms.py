import datetime as dt

import pytest

from analytics.arms import TreatmentRow, matches

D0 = dt.date(2023, 1, 10)


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

"""OS and PFS time and event at a data cut-off.

Source: CRF.md §8 — OS: index -> death, censored at the last date known alive; PFS: index ->
first progression or death, censored at the last adequate imaging assessment; a progression
dated before the index date is not a PFS event; the last date known alive is the latest of
follow-up contacts, imaging, treatment and lab dates, and anything after the cut-off is
ignored: censoring falls on the last such date on or before it. Months = days / 30.4375.

Several tests here used to pin the opposite for data after the cut-off (censoring on the
cut-off date itself); issue 12 (rule b) and CRF.md §8 say otherwise.
"""

import datetime as dt

import pytest

from registry.derivations.survival import overall_survival, progression_free_survival

INDEX = dt.date(2023, 1, 1)
CUTOFF = dt.date(2024, 12, 31)  # seed 002's data cut-off (CRF.md §8)


def os_(**kwargs):
    args = {
        "index_date": INDEX,
        "death_date": None,
        "known_alive_dates": (),
        "cutoff_date": CUTOFF,
    }
    return overall_survival(**{**args, **kwargs})


def pfs(**kwargs):
    args = {
        "index_date": INDEX,
        "progression_dates": (),
        "death_date": None,
        "last_adequate_imaging_date": None,
        "cutoff_date": CUTOFF,
    }
    return progression_free_survival(**{**args, **kwargs})


# OS


def test_os_death_before_cutoff_is_an_event_with_days_and_months():
    """CRF.md §8: OS index -> death; months = days / 30.4375."""
    result = os_(death_date=dt.date(2023, 7, 1), known_alive_dates=[dt.date(2023, 6, 1)])
    assert result.event is True
    assert result.time_days == 181
    assert result.time_months == pytest.approx(181 / 30.4375)
    assert result.end_date == dt.date(2023, 7, 1)
    assert result.missing == ()


def test_os_death_on_the_cutoff_date_is_an_event():
    """CRF.md §8: a death on the cut-off date is seen at that cut-off."""
    result = os_(death_date=CUTOFF)
    assert (result.event, result.end_date) == (True, CUTOFF)


def test_os_death_after_cutoff_is_not_seen():
    """CRF.md §8: anything after the cut-off is ignored; censored at the last date known alive
    on or before it (2024-10-01), not at the cut-off."""
    result = os_(
        death_date=dt.date(2025, 2, 1),
        known_alive_dates=[dt.date(2024, 10, 1), dt.date(2025, 1, 15)],
    )
    assert (result.event, result.end_date) == (False, dt.date(2024, 10, 1))
    assert result.time_days == 639


def test_os_alive_with_last_contact_before_cutoff_is_censored_at_last_contact():
    """CRF.md §8: censored at the last date known alive."""
    result = os_(known_alive_dates=[dt.date(2023, 8, 1), dt.date(2024, 3, 1)])
    assert result.event is False
    assert result.end_date == dt.date(2024, 3, 1)
    assert result.time_days == 425
    assert result.time_months == pytest.approx(425 / 30.4375)


def test_os_dates_after_cutoff_are_ignored_for_the_last_date_known_alive():
    """CRF.md §8 (issue 12 rule b): a contact or scan after the cut-off is ignored; censoring
    falls on the last such date on or before it."""
    result = os_(known_alive_dates=[dt.date(2024, 6, 30), dt.date(2025, 3, 1)])
    assert (result.event, result.end_date) == (False, dt.date(2024, 6, 30))
    assert result.time_days == 546


def test_os_known_alive_on_the_cutoff_date_is_censored_there():
    """CRF.md §8: "on or before" the cut-off includes the cut-off date."""
    result = os_(known_alive_dates=[CUTOFF])
    assert (result.event, result.end_date, result.time_days) == (False, CUTOFF, 730)


def test_os_without_index_date_is_empty_and_names_index_date():
    """CRF.md §9: missing index date excludes the patient from the endpoint; reason named."""
    result = os_(index_date=None, death_date=dt.date(2023, 7, 1))
    assert (result.time_days, result.time_months, result.event) == (None, None, None)
    assert result.missing == ("index_date",)


def test_os_without_follow_up_is_empty_and_names_last_date_known_alive():
    """CRF.md §9: missing survival status excludes the patient from OS; reason named."""
    result = os_()
    assert (result.time_days, result.event) == (None, None)
    assert result.missing == ("last date known alive",)
    assert result.censor_reason == "no follow-up after the index date"


def test_os_known_alive_only_up_to_the_index_date_is_no_follow_up():
    """CRF.md §8-9: a lab before the index and the treatment on it give no follow-up time."""
    result = os_(known_alive_dates=[dt.date(2022, 12, 20), INDEX])
    assert (result.time_days, result.event) == (None, None)
    assert result.censor_reason == "no follow-up after the index date"


def test_os_death_before_index_date_is_empty_not_negative():
    """CRF.md §8-9: an end before the index date is an error, not a negative time."""
    result = os_(death_date=dt.date(2022, 12, 1))
    assert (result.time_days, result.event) == (None, None)
    assert "before the index date" in result.censor_reason


def test_os_death_on_index_date_is_event_at_day_0():
    """CRF.md §8: time is the number of days from index to death (0 on the same day)."""
    result = os_(death_date=INDEX)
    assert (result.time_days, result.time_months, result.event) == (0, 0.0, True)


# PFS


def test_pfs_progression_before_death_is_the_event():
    """CRF.md §8: PFS ends at the first of progression or death."""
    result = pfs(progression_dates=[dt.date(2023, 5, 1)], death_date=dt.date(2023, 9, 1))
    assert (result.event, result.end_date, result.time_days) == (True, dt.date(2023, 5, 1), 120)
    assert result.time_months == pytest.approx(120 / 30.4375)


def test_pfs_death_before_progression_is_the_event():
    """CRF.md §8: PFS ends at the first of progression or death."""
    result = pfs(progression_dates=[dt.date(2023, 9, 1)], death_date=dt.date(2023, 5, 1))
    assert (result.event, result.end_date) == (True, dt.date(2023, 5, 1))


def test_pfs_death_without_progression_is_an_event():
    """CRF.md §8: death without progression is a PFS event."""
    result = pfs(death_date=dt.date(2023, 5, 1))
    assert (result.event, result.end_date) == (True, dt.date(2023, 5, 1))


def test_pfs_the_first_of_several_progressions_is_the_event():
    """CRF.md §8: first progression."""
    result = pfs(progression_dates=[dt.date(2023, 9, 1), dt.date(2023, 4, 1)])
    assert (result.event, result.end_date) == (True, dt.date(2023, 4, 1))


def test_pfs_progression_after_cutoff_is_ignored_and_censored_at_last_imaging():
    """CRF.md §8: a progression after the cut-off is not seen at that cut-off."""
    result = pfs(
        progression_dates=[dt.date(2025, 2, 1)],
        last_adequate_imaging_date=dt.date(2024, 10, 1),
    )
    assert (result.event, result.end_date) == (False, dt.date(2024, 10, 1))


def test_pfs_death_after_cutoff_is_ignored():
    """CRF.md §8: a death after the cut-off is not seen."""
    result = pfs(death_date=dt.date(2025, 2, 1), last_adequate_imaging_date=dt.date(2024, 10, 1))
    assert (result.event, result.end_date) == (False, dt.date(2024, 10, 1))


def test_pfs_without_event_is_censored_at_last_adequate_imaging():
    """CRF.md §8: PFS censored at the last adequate imaging assessment."""
    result = pfs(last_adequate_imaging_date=dt.date(2023, 11, 15))
    assert (result.event, result.end_date, result.time_days) == (False, dt.date(2023, 11, 15), 318)
    assert "imaging" in result.censor_reason


def test_pfs_imaging_after_cutoff_is_not_seen():
    """CRF.md §8: nothing after the cut-off is seen, imaging included (the caller's last
    adequate imaging by the cut-off would be an earlier one)."""
    result = pfs(last_adequate_imaging_date=dt.date(2025, 3, 1))
    assert (result.time_days, result.event) == (None, None)
    assert result.missing == ("last adequate imaging assessment",)


def test_pfs_without_index_date_is_empty_and_names_index_date():
    """CRF.md §9: missing index date excludes the patient from the endpoint; reason named."""
    result = pfs(index_date=None, progression_dates=[dt.date(2023, 5, 1)])
    assert (result.time_days, result.event) == (None, None)
    assert result.missing == ("index_date",)


def test_pfs_without_event_or_imaging_is_empty_and_names_imaging():
    """CRF.md §9: missing response evaluation excludes the patient from PFS; reason named."""
    result = pfs()
    assert (result.time_days, result.event) == (None, None)
    assert result.missing == ("last adequate imaging assessment",)


def test_pfs_progression_before_the_index_date_is_not_an_event():
    """CRF.md §8 (issue 12 rule c): the progression that ended TACE in seed 002, dated before
    the index date, is not a PFS event: censored at the last adequate imaging (this test used
    to expect an empty time)."""
    result = pfs(
        progression_dates=[dt.date(2022, 11, 1)],
        last_adequate_imaging_date=dt.date(2023, 6, 1),
    )
    assert (result.event, result.end_date) == (False, dt.date(2023, 6, 1))


def test_pfs_progression_on_the_index_date_is_an_event_at_day_0():
    """CRF.md §8: "before index_date" excludes; on the index date counts."""
    result = pfs(progression_dates=[INDEX])
    assert (result.event, result.time_days) == (True, 0)

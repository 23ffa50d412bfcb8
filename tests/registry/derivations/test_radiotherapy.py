"""Radiotherapy dose per fraction and BED10.

Source: CRF.md §4 (BED10 = D x (1 + d/10); 50 Gy / 20 fx -> 2.5 Gy, BED10 62.5); Fowler JF.
Br J Radiol 1989;62:679-94.
"""

import pytest

from registry.derivations.radiotherapy import derive_radiotherapy_dose


def test_50_gy_in_20_fractions_gives_2_5_gy_per_fraction():
    """CRF.md §4 example: 50 Gy / 20 fx -> 2.5 Gy per fraction."""
    assert derive_radiotherapy_dose(total_dose_gy=50, fractions=20).dose_per_fraction_gy == 2.5


def test_50_gy_in_20_fractions_gives_bed10_62_5():
    """CRF.md §4 example: 50 Gy / 20 fx -> BED10 = 50 x (1 + 2.5/10) = 62.5 Gy."""
    result = derive_radiotherapy_dose(total_dose_gy=50, fractions=20)
    assert result.bed10_gy == 62.5
    assert result.missing == ()


def test_sbrt_40_gy_in_5_fractions_gives_bed10_72():
    """BED10 = D x (1 + d/10): 40 Gy / 5 fx -> d 8 Gy, BED10 = 40 x 1.8 = 72 Gy."""
    result = derive_radiotherapy_dose(total_dose_gy=40, fractions=5)
    assert (result.dose_per_fraction_gy, result.bed10_gy) == (8.0, 72.0)


def test_single_fraction_bed10():
    """BED10 = D x (1 + d/10): 20 Gy / 1 fx -> BED10 = 20 x 3 = 60 Gy."""
    result = derive_radiotherapy_dose(total_dose_gy=20, fractions=1)
    assert (result.dose_per_fraction_gy, result.bed10_gy) == (20.0, 60.0)


def test_missing_fractions_gives_empty_values_naming_fractions():
    """CRF.md §2 convention: a missing input leaves derived values empty and is named."""
    result = derive_radiotherapy_dose(total_dose_gy=50, fractions=None)
    assert (result.dose_per_fraction_gy, result.bed10_gy) == (None, None)
    assert result.missing == ("fractions",)


def test_zero_fractions_gives_empty_values_not_a_division_error():
    """Zero fractions cannot be divided by: derived values empty, fractions named."""
    result = derive_radiotherapy_dose(total_dose_gy=50, fractions=0)
    assert (result.dose_per_fraction_gy, result.bed10_gy) == (None, None)
    assert result.missing == ("fractions",)


def test_missing_total_dose_gives_empty_values_naming_total_dose():
    """CRF.md §2 convention: a missing input leaves derived values empty and is named."""
    result = derive_radiotherapy_dose(total_dose_gy=None, fractions=20)
    assert (result.dose_per_fraction_gy, result.bed10_gy) == (None, None)
    assert result.missing == ("total_dose",)


@pytest.mark.parametrize("fractions", [None, 0])
def test_both_missing_are_both_named(fractions):
    """CRF.md §2 convention: the record shows which inputs are missing."""
    result = derive_radiotherapy_dose(total_dose_gy=None, fractions=fractions)
    assert result.missing == ("total_dose", "fractions")

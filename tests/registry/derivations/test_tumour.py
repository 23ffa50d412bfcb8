"""Up-to-seven criterion.

Source: CRF.md §3; Mazzaferro V et al. Lancet Oncol 2009;10:35-43: within when the largest
diameter (cm) plus the number of tumours is at most 7.
"""

from registry.derivations.tumour import up_to_seven


def test_sum_exactly_7_is_within_up_to_seven():
    """CRF.md §3: within when max_diameter + tumour_number <= 7 (4.0 cm + 3 = 7)."""
    assert up_to_seven(max_diameter_cm=4.0, tumour_number=3) is True


def test_sum_7_1_is_beyond_up_to_seven():
    """CRF.md §3: 4.1 cm + 3 = 7.1 > 7 is beyond."""
    assert up_to_seven(max_diameter_cm=4.1, tumour_number=3) is False


def test_single_6_cm_lesion_is_within():
    """CRF.md §3: 6 cm + 1 = 7."""
    assert up_to_seven(max_diameter_cm=6.0, tumour_number=1) is True


def test_single_6_1_cm_lesion_is_beyond():
    """CRF.md §3: 6.1 cm + 1 = 7.1."""
    assert up_to_seven(max_diameter_cm=6.1, tumour_number=1) is False


def test_missing_diameter_gives_none():
    """CRF.md §2 convention: a missing input leaves the derived value empty."""
    assert up_to_seven(max_diameter_cm=None, tumour_number=2) is None


def test_missing_number_gives_none():
    """CRF.md §2 convention: a missing input leaves the derived value empty."""
    assert up_to_seven(max_diameter_cm=3.0, tumour_number=None) is None

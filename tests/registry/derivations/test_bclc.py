"""BCLC stage, 2022 update: every rule of CRF.md §3 in order, its boundaries and precedence.

Source: CRF.md §3 (first rule that matches: D, C, 0, A, B); Reig M et al. J Hepatol 2022;76:681-93.
"""

import pytest

from registry.derivations.bclc import derive_bclc

EARLY = {
    "ecog_ps": 0,
    "child_pugh_class": "A",
    "tumour_number": 1,
    "max_diameter_cm": 1.5,
    "macrovascular_invasion": False,
    "extrahepatic_spread": False,
}


def stage(**changes):
    return derive_bclc(**{**EARLY, **changes})


# Rule 1: D


@pytest.mark.parametrize("ecog", [3, 4])
def test_ecog_3_or_more_is_stage_d(ecog):
    """CRF.md §3 rule 1: ECOG >= 3 -> D."""
    result = stage(ecog_ps=ecog)
    assert (result.stage, result.rule) == ("D", "ECOG PS >= 3")


def test_child_pugh_c_is_stage_d():
    """CRF.md §3 rule 1: Child-Pugh C -> D."""
    result = stage(child_pugh_class="C")
    assert (result.stage, result.rule) == ("D", "Child-Pugh C")


def test_child_pugh_c_with_extrahepatic_spread_is_d_not_c():
    """CRF.md §3: the first matching rule wins, so Child-Pugh C with extrahepatic spread is D."""
    assert stage(child_pugh_class="C", extrahepatic_spread=True).stage == "D"


def test_ecog_3_with_macrovascular_invasion_is_d_not_c():
    """CRF.md §3: rule 1 (D) precedes rule 2 (C)."""
    assert stage(ecog_ps=3, macrovascular_invasion=True).stage == "D"


def test_child_pugh_c_is_d_even_when_tumour_burden_is_missing():
    """CRF.md §3 rule 1 needs only ECOG or Child-Pugh: D is decided without tumour data."""
    result = stage(child_pugh_class="C", tumour_number=None, max_diameter_cm=None)
    assert (result.stage, result.missing) == ("D", ())


def test_ecog_3_is_d_even_when_child_pugh_is_missing():
    """CRF.md §3 rule 1: ECOG >= 3 alone gives D."""
    result = stage(ecog_ps=3, child_pugh_class=None)
    assert (result.stage, result.missing) == ("D", ())


# Rule 2: C


def test_macrovascular_invasion_is_stage_c():
    """CRF.md §3 rule 2: macrovascular invasion -> C."""
    result = stage(macrovascular_invasion=True)
    assert (result.stage, result.rule) == ("C", "macrovascular invasion")


def test_extrahepatic_spread_is_stage_c():
    """CRF.md §3 rule 2: extrahepatic spread -> C."""
    result = stage(extrahepatic_spread=True)
    assert (result.stage, result.rule) == ("C", "extrahepatic spread")


@pytest.mark.parametrize("ecog", [1, 2])
def test_ecog_1_or_2_is_stage_c(ecog):
    """CRF.md §3 rule 2: ECOG 1-2 -> C, even with a single small lesion."""
    result = stage(ecog_ps=ecog)
    assert (result.stage, result.rule) == ("C", "ECOG PS 1-2")


def test_child_pugh_b_with_macrovascular_invasion_is_c():
    """CRF.md §3: Child-Pugh B is not rule 1, so rule 2 applies."""
    assert stage(child_pugh_class="B", macrovascular_invasion=True).stage == "C"


# Rule 3: 0


def test_single_lesion_exactly_2_cm_is_stage_0():
    """CRF.md §3 rule 3: single lesion <= 2 cm -> 0 (2.0 cm included)."""
    result = stage(tumour_number=1, max_diameter_cm=2.0)
    assert (result.stage, result.rule) == ("0", "single lesion <= 2 cm")


def test_single_lesion_2_1_cm_is_stage_a():
    """CRF.md §3 rules 3-4: a single lesion of 2.1 cm is not 0 but A."""
    result = stage(tumour_number=1, max_diameter_cm=2.1)
    assert (result.stage, result.rule) == ("A", "single lesion")


# Rule 4: A


def test_single_lesion_of_any_size_is_stage_a():
    """CRF.md §3 rule 4: single lesion (any size) -> A."""
    assert stage(tumour_number=1, max_diameter_cm=12.0).stage == "A"


@pytest.mark.parametrize("number", [2, 3])
def test_two_or_three_lesions_exactly_3_cm_are_stage_a(number):
    """CRF.md §3 rule 4: 2-3 lesions each <= 3 cm (max_diameter 3.0 included) -> A."""
    result = stage(tumour_number=number, max_diameter_cm=3.0)
    assert (result.stage, result.rule) == ("A", "2-3 lesions each <= 3 cm")


def test_two_lesions_with_largest_3_1_cm_are_stage_b():
    """CRF.md §3 rules 4-5: 2 lesions with max_diameter 3.1 cm are not A -> B."""
    result = stage(tumour_number=2, max_diameter_cm=3.1)
    assert (result.stage, result.rule) == ("B", "multinodular")


def test_two_lesions_of_2_cm_are_a_not_0():
    """CRF.md §3 rule 3 is for a single lesion only; 2 small lesions are A."""
    assert stage(tumour_number=2, max_diameter_cm=2.0).stage == "A"


# Rule 5: B


def test_four_small_lesions_are_stage_b():
    """CRF.md §3 rules 4-5: 4 lesions (even <= 3 cm) are not A -> B."""
    assert stage(tumour_number=4, max_diameter_cm=2.0).stage == "B"


def test_three_large_lesions_are_stage_b():
    """CRF.md §3 rule 5: multinodular beyond rule 4 -> B."""
    assert stage(tumour_number=3, max_diameter_cm=5.0).stage == "B"


def test_child_pugh_b_multinodular_is_b():
    """CRF.md §3: Child-Pugh B is not rule 1; with ECOG 0 and no invasion the burden decides."""
    assert stage(child_pugh_class="B", tumour_number=5, max_diameter_cm=4.0).stage == "B"


# Missing inputs


@pytest.mark.parametrize(
    ("argument", "name"),
    [
        ("ecog_ps", "ecog_ps"),
        ("child_pugh_class", "child_pugh_class"),
        ("tumour_number", "tumour_number"),
        ("max_diameter_cm", "max_diameter"),
        ("macrovascular_invasion", "macrovascular_invasion"),
        ("extrahepatic_spread", "extrahepatic_spread"),
    ],
)
def test_missing_input_gives_no_stage_and_names_the_input(argument, name):
    """CRF.md §2-3: a missing input leaves the stage empty (never guessed) and is named."""
    result = stage(**{argument: None})
    assert (result.stage, result.rule) == (None, None)
    assert result.missing == (name,)


def test_macrovascular_invasion_is_c_even_when_tumour_burden_is_missing():
    """CRF.md §3: rule 2 matches once rule 1 is excluded; the tumour burden (rules 3-5) is not needed."""
    result = stage(tumour_number=None, max_diameter_cm=None, macrovascular_invasion=True)
    assert (result.stage, result.rule, result.missing) == ("C", "macrovascular invasion", ())


def test_extrahepatic_spread_is_c_even_when_invasion_is_unknown():
    """CRF.md §3 rule 2: extrahepatic spread alone matches rule 2."""
    result = stage(macrovascular_invasion=None, extrahepatic_spread=True)
    assert (result.stage, result.rule, result.missing) == ("C", "extrahepatic spread", ())


def test_ecog_1_is_c_even_when_tumour_data_are_missing():
    """CRF.md §3 rule 2: ECOG 1-2 alone matches rule 2 once rule 1 is excluded."""
    result = stage(
        ecog_ps=1,
        tumour_number=None,
        max_diameter_cm=None,
        macrovascular_invasion=None,
        extrahepatic_spread=None,
    )
    assert (result.stage, result.missing) == ("C", ())


def test_no_invasion_with_unknown_spread_gives_no_stage():
    """CRF.md §2-3: with extrahepatic spread unknown, rule 2 cannot be excluded; nothing guessed."""
    result = stage(extrahepatic_spread=None)
    assert (result.stage, result.missing) == (None, ("extrahepatic_spread",))


def test_missing_child_pugh_with_ecog_0_cannot_exclude_d():
    """CRF.md §3 rule 1: without Child-Pugh, D cannot be excluded, so even C is not guessed."""
    result = stage(child_pugh_class=None, macrovascular_invasion=True)
    assert result.stage is None
    assert "child_pugh_class" in result.missing

"""Child-Pugh points, score and class: every band and boundary of CRF.md §2.

Source: CRF.md §2; Pugh RNH et al. Br J Surg 1973;60:646-9 in SI units: bilirubin < 34.2 /
34.2-51.3 / > 51.3 µmol/L; albumin > 35 / 28-35 / < 28 g/L; INR < 1.7 / 1.7-2.3 / > 2.3; boundaries
belong to the middle band; class A 5-6, B 7-9, C 10-15.
"""

import pytest

from registry.derivations.child_pugh import (
    albumin_points,
    bilirubin_points,
    child_pugh_class,
    derive_child_pugh,
    inr_points,
)

NORMAL = {
    "bilirubin_umol_l": 15.0,
    "albumin_g_l": 40.0,
    "inr": 1.0,
    "ascites": "none",
    "encephalopathy": "none",
}


def derive(**changes):
    return derive_child_pugh(**{**NORMAL, **changes})


# bilirubin


def test_bilirubin_34_1_gives_1_point():
    """CRF.md §2: bilirubin < 34.2 µmol/L -> 1 point."""
    assert bilirubin_points(34.1) == 1


def test_bilirubin_exactly_34_2_gives_2_points():
    """CRF.md §2: bilirubin exactly 34.2 µmol/L belongs to the middle band -> 2 points."""
    assert bilirubin_points(34.2) == 2


def test_bilirubin_2_mg_dl_converted_gives_2_points():
    """CRF.md §2: 2 mg/dL x 17.1 = 34.2 µmol/L is the lower edge of the 2-point band."""
    assert bilirubin_points(2 * 17.1) == 2


def test_bilirubin_exactly_51_3_gives_2_points():
    """CRF.md §2: bilirubin exactly 51.3 µmol/L belongs to the middle band -> 2 points."""
    assert bilirubin_points(51.3) == 2


def test_bilirubin_51_4_gives_3_points():
    """CRF.md §2: bilirubin > 51.3 µmol/L -> 3 points."""
    assert bilirubin_points(51.4) == 3


# albumin


def test_albumin_35_1_gives_1_point():
    """CRF.md §2: albumin > 35 g/L -> 1 point."""
    assert albumin_points(35.1) == 1


def test_albumin_exactly_35_gives_2_points():
    """CRF.md §2: albumin exactly 35 g/L belongs to the middle band -> 2 points."""
    assert albumin_points(35) == 2


def test_albumin_exactly_28_gives_2_points():
    """CRF.md §2: albumin exactly 28 g/L belongs to the middle band -> 2 points."""
    assert albumin_points(28) == 2


def test_albumin_27_9_gives_3_points():
    """CRF.md §2: albumin < 28 g/L -> 3 points."""
    assert albumin_points(27.9) == 3


# INR


def test_inr_1_69_gives_1_point():
    """CRF.md §2: INR < 1.7 -> 1 point."""
    assert inr_points(1.69) == 1


def test_inr_exactly_1_7_gives_2_points():
    """CRF.md §2: INR exactly 1.7 belongs to the middle band -> 2 points."""
    assert inr_points(1.7) == 2


def test_inr_exactly_2_3_gives_2_points():
    """CRF.md §2: INR exactly 2.3 belongs to the middle band -> 2 points."""
    assert inr_points(2.3) == 2


def test_inr_2_31_gives_3_points():
    """CRF.md §2: INR > 2.3 -> 3 points."""
    assert inr_points(2.31) == 3


# ascites and encephalopathy


@pytest.mark.parametrize(("ascites", "points"), [("none", 1), ("mild", 2), ("moderate_severe", 3)])
def test_ascites_none_mild_moderate_severe_give_1_2_3_points(ascites, points):
    """CRF.md §2: ascites none / mild (controlled) / moderate-severe (refractory) -> 1 / 2 / 3."""
    assert derive(ascites=ascites).points["ascites"] == points


@pytest.mark.parametrize(
    ("encephalopathy", "points"), [("none", 1), ("grade_1_2", 2), ("grade_3_4", 3)]
)
def test_encephalopathy_none_grade_1_2_grade_3_4_give_1_2_3_points(encephalopathy, points):
    """CRF.md §2: encephalopathy none / grade 1-2 / grade 3-4 -> 1 / 2 / 3."""
    assert derive(encephalopathy=encephalopathy).points["encephalopathy"] == points


# score and class


def test_all_normal_gives_score_5_class_a_with_points_per_parameter():
    """CRF.md §2: score 5-15 is the sum of the five parameters' points; 5 is class A."""
    result = derive()
    assert result.points == {
        "total_bilirubin": 1,
        "albumin": 1,
        "inr": 1,
        "ascites": 1,
        "encephalopathy": 1,
    }
    assert (result.score, result.child_pugh_class, result.missing) == (5, "A", ())


def test_score_6_is_class_a():
    """CRF.md §2: class A is 5-6."""
    result = derive(bilirubin_umol_l=34.2)
    assert (result.score, result.child_pugh_class) == (6, "A")


def test_score_7_is_class_b():
    """CRF.md §2: class B is 7-9."""
    result = derive(bilirubin_umol_l=34.2, albumin_g_l=35)
    assert (result.score, result.child_pugh_class) == (7, "B")


def test_score_9_is_class_b():
    """CRF.md §2: class B is 7-9."""
    result = derive(bilirubin_umol_l=51.3, albumin_g_l=28, inr=1.7, ascites="mild")
    assert (result.score, result.child_pugh_class) == (9, "B")


def test_score_10_is_class_c():
    """CRF.md §2: class C is 10-15."""
    result = derive(
        bilirubin_umol_l=51.3, albumin_g_l=28, inr=1.7, ascites="mild", encephalopathy="grade_1_2"
    )
    assert (result.score, result.child_pugh_class) == (10, "C")


def test_all_worst_gives_score_15_class_c():
    """CRF.md §2: the maximum score is 15, class C."""
    result = derive(
        bilirubin_umol_l=51.4,
        albumin_g_l=27.9,
        inr=2.31,
        ascites="moderate_severe",
        encephalopathy="grade_3_4",
    )
    assert (result.score, result.child_pugh_class) == (15, "C")


@pytest.mark.parametrize(
    ("score", "klass"), [(5, "A"), (6, "A"), (7, "B"), (9, "B"), (10, "C"), (15, "C")]
)
def test_class_of_a_score(score, klass):
    """CRF.md §2: class A 5-6, B 7-9, C 10-15."""
    assert child_pugh_class(score) == klass


# missing inputs


@pytest.mark.parametrize(
    ("argument", "name"),
    [
        ("bilirubin_umol_l", "total_bilirubin"),
        ("albumin_g_l", "albumin"),
        ("inr", "inr"),
        ("ascites", "ascites"),
        ("encephalopathy", "encephalopathy"),
    ],
)
def test_missing_input_gives_no_score_and_names_the_input(argument, name):
    """CRF.md §2: missing input -> score and class empty (never guessed), the input is named."""
    result = derive(**{argument: None})
    assert (result.score, result.child_pugh_class) == (None, None)
    assert result.missing == (name,)
    assert name not in result.points


def test_unknown_ascites_choice_is_treated_as_missing():
    """CRF.md §2: only none / mild / moderate-severe score; anything else is not guessed."""
    result = derive(ascites="unknown")
    assert result.score is None
    assert result.missing == ("ascites",)


def test_several_missing_inputs_are_all_named():
    """CRF.md §2: the record shows which inputs are missing."""
    result = derive(inr=None, encephalopathy=None)
    assert result.missing == ("inr", "encephalopathy")

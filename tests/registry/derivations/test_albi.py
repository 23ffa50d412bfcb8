"""ALBI score, grade and mALBI grade: reference values and every boundary of CRF.md §2.

Source: CRF.md §2; Johnson PJ et al. J Clin Oncol 2015;33:550-8 (ALBI = 0.66 log10(bilirubin µmol/L)
- 0.085 albumin g/L; grade 1 <= -2.60, grade 2 <= -1.39, grade 3 above); Hiraoka A et al. Liver
Cancer 2017;6:325-36 (mALBI 2a <= -2.27 < 2b).
"""

import math

import pytest

from registry.derivations.albi import ALBI_VERSION, albi_grade, derive_albi, malbi_grade


def bilirubin_for(score: float, albumin_g_l: float = 40.0) -> float:
    """The bilirubin (µmol/L) that gives exactly `score` with this albumin (solved from the formula)."""
    return 10 ** ((score + 0.085 * albumin_g_l) / 0.66)


def test_crf_example_bilirubin_17_albumin_40_gives_minus_2_588():
    """CRF.md §2 example: bilirubin 17 µmol/L, albumin 40 g/L -> -2.588."""
    result = derive_albi(bilirubin_umol_l=17, albumin_g_l=40)
    assert round(result.score, 3) == -2.588
    assert result.score == pytest.approx(0.66 * math.log10(17) - 0.085 * 40)


def test_crf_example_is_grade_2():
    """CRF.md §2 example: -2.588 is grade 2 (> -2.60 and <= -1.39)."""
    assert derive_albi(bilirubin_umol_l=17, albumin_g_l=40).grade == "2"


def test_crf_example_is_malbi_2a():
    """CRF.md §2 example: -2.588 is mALBI 2a (<= -2.27)."""
    result = derive_albi(bilirubin_umol_l=17, albumin_g_l=40)
    assert result.malbi_grade == "2a"
    assert result.missing == ()


def test_score_exactly_minus_2_60_is_grade_1():
    """CRF.md §2: grade 1 <= -2.60, so -2.600 exactly is grade 1 (issue 3 names this boundary)."""
    result = derive_albi(bilirubin_umol_l=bilirubin_for(-2.60), albumin_g_l=40)
    assert round(result.score, 3) == -2.600
    assert result.grade == "1"
    assert result.malbi_grade == "1"


def test_score_minus_2_599_just_above_grade_1_cut_off_is_grade_2():
    """CRF.md §2: grade 2 is > -2.60."""
    result = derive_albi(bilirubin_umol_l=bilirubin_for(-2.599), albumin_g_l=40)
    assert round(result.score, 3) == -2.599
    assert result.grade == "2"


def test_score_exactly_minus_1_39_is_grade_2():
    """CRF.md §2: grade 2 is <= -1.39."""
    result = derive_albi(bilirubin_umol_l=bilirubin_for(-1.39, albumin_g_l=30), albumin_g_l=30)
    assert round(result.score, 3) == -1.390
    assert result.grade == "2"
    assert result.malbi_grade == "2b"


def test_score_minus_1_389_just_above_grade_2_cut_off_is_grade_3():
    """CRF.md §2: grade 3 is > -1.39."""
    result = derive_albi(bilirubin_umol_l=bilirubin_for(-1.389, albumin_g_l=30), albumin_g_l=30)
    assert round(result.score, 3) == -1.389
    assert result.grade == "3"
    assert result.malbi_grade == "3"


def test_score_exactly_minus_2_27_is_malbi_2a():
    """CRF.md §2 (Hiraoka 2017): mALBI 2a is <= -2.27."""
    result = derive_albi(bilirubin_umol_l=bilirubin_for(-2.27), albumin_g_l=40)
    assert round(result.score, 3) == -2.270
    assert result.grade == "2"
    assert result.malbi_grade == "2a"


def test_score_minus_2_269_just_above_malbi_cut_off_is_2b():
    """CRF.md §2 (Hiraoka 2017): mALBI 2b is > -2.27."""
    result = derive_albi(bilirubin_umol_l=bilirubin_for(-2.269), albumin_g_l=40)
    assert round(result.score, 3) == -2.269
    assert result.malbi_grade == "2b"


@pytest.mark.parametrize(
    ("score", "grade", "malbi"),
    [
        (-3.5, "1", "1"),
        (-2.600, "1", "1"),
        (-2.599, "2", "2a"),
        (-2.270, "2", "2a"),
        (-2.269, "2", "2b"),
        (-1.390, "2", "2b"),
        (-1.389, "3", "3"),
        (0.5, "3", "3"),
    ],
)
def test_grade_and_malbi_of_a_score_follow_the_crf_cut_offs(score, grade, malbi):
    """CRF.md §2: grade 1 <= -2.60 < grade 2 <= -1.39 < grade 3; 2a <= -2.27 < 2b."""
    assert albi_grade(score) == grade
    assert malbi_grade(score) == malbi


def test_missing_bilirubin_gives_empty_values_and_names_bilirubin():
    """CRF.md §2: a missing input leaves the derived value empty and names the input."""
    result = derive_albi(bilirubin_umol_l=None, albumin_g_l=40)
    assert (result.score, result.grade, result.malbi_grade) == (None, None, None)
    assert result.missing == ("total_bilirubin",)


def test_missing_albumin_gives_empty_values_and_names_albumin():
    """CRF.md §2: a missing input leaves the derived value empty and names the input."""
    result = derive_albi(bilirubin_umol_l=17, albumin_g_l=None)
    assert (result.score, result.grade, result.malbi_grade) == (None, None, None)
    assert result.missing == ("albumin",)


def test_both_inputs_missing_are_both_named():
    """CRF.md §2: the record shows which inputs are missing."""
    assert derive_albi(bilirubin_umol_l=None, albumin_g_l=None).missing == (
        "total_bilirubin",
        "albumin",
    )


@pytest.mark.parametrize("bilirubin", [0, -1.0])
def test_bilirubin_zero_or_negative_gives_no_score_instead_of_a_math_error(bilirubin):
    """log10 is undefined for bilirubin <= 0 (CRF.md §2 hard range 1..1000): no score, bilirubin named."""
    result = derive_albi(bilirubin_umol_l=bilirubin, albumin_g_l=40)
    assert (result.score, result.grade, result.malbi_grade) == (None, None, None)
    assert result.missing == ("total_bilirubin",)


def test_version_names_the_sources():
    """CRF/issue 3: each derivation carries a version naming its source."""
    assert "johnson-2015" in ALBI_VERSION
    assert "hiraoka-2017" in ALBI_VERSION

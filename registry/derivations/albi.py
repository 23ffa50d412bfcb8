"""ALBI score, grade and mALBI grade.

Source: Johnson PJ et al. Assessment of liver function in patients with hepatocellular carcinoma:
a new evidence-based approach — the ALBI grade. J Clin Oncol 2015;33:550-8. mALBI split of grade 2
at -2.27: Hiraoka A et al. Liver Cancer 2017;6:325-36.
"""

from __future__ import annotations

import math
from typing import NamedTuple

ALBI_VERSION = "albi-johnson-2015/malbi-hiraoka-2017:1"

GRADE_1_MAX = -2.60
GRADE_2_MAX = -1.39
MALBI_2A_MAX = -2.27


class AlbiResult(NamedTuple):
    score: float | None
    grade: str | None  # "1", "2", "3"
    malbi_grade: str | None  # "1", "2a", "2b", "3"
    missing: tuple[str, ...]


def albi_score(*, bilirubin_umol_l: float, albumin_g_l: float) -> float:
    return 0.66 * math.log10(bilirubin_umol_l) - 0.085 * albumin_g_l


def albi_grade(score: float) -> str:
    # Graded on the score as stored and shown (3 decimals), so a reader never sees -2.600 beside
    # grade 2; this also keeps floating-point noise off the cut-offs (-2.60 exactly is grade 1).
    rounded = round(score, 3)
    if rounded <= GRADE_1_MAX:
        return "1"
    if rounded <= GRADE_2_MAX:
        return "2"
    return "3"


def malbi_grade(score: float) -> str:
    grade = albi_grade(score)
    if grade != "2":
        return grade
    return "2a" if round(score, 3) <= MALBI_2A_MAX else "2b"


def derive_albi(*, bilirubin_umol_l: float | None, albumin_g_l: float | None) -> AlbiResult:
    missing = tuple(
        name
        for name, value in (("total_bilirubin", bilirubin_umol_l), ("albumin", albumin_g_l))
        if value is None
    )
    if missing or bilirubin_umol_l <= 0:  # type: ignore[operator]
        return AlbiResult(None, None, None, missing or ("total_bilirubin",))
    score = albi_score(bilirubin_umol_l=bilirubin_umol_l, albumin_g_l=albumin_g_l)  # type: ignore[arg-type]
    return AlbiResult(score, albi_grade(score), malbi_grade(score), ())

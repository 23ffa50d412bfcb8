"""Child-Pugh points, score and class.

Source: Pugh RNH et al. Br J Surg 1973;60:646-9, in the SI units of CRF.md §2: bilirubin
< 34.2 / 34.2-51.3 / > 51.3 µmol/L; albumin > 35 / 28-35 / < 28 g/L; INR < 1.7 / 1.7-2.3 / > 2.3.
Boundaries belong to the middle band (CRF.md §2).
"""

from __future__ import annotations

from typing import NamedTuple

CHILD_PUGH_VERSION = "child-pugh-1973-si:1"

ASCITES_POINTS = {"none": 1, "mild": 2, "moderate_severe": 3}
ENCEPHALOPATHY_POINTS = {"none": 1, "grade_1_2": 2, "grade_3_4": 3}


class ChildPughResult(NamedTuple):
    points: dict[str, int]
    score: int | None
    child_pugh_class: str | None
    missing: tuple[str, ...]


def bilirubin_points(umol_l: float) -> int:
    if umol_l < 34.2:
        return 1
    return 2 if umol_l <= 51.3 else 3


def albumin_points(g_l: float) -> int:
    if g_l > 35:
        return 1
    return 2 if g_l >= 28 else 3


def inr_points(inr: float) -> int:
    if inr < 1.7:
        return 1
    return 2 if inr <= 2.3 else 3


def child_pugh_class(score: int) -> str:
    if score <= 6:
        return "A"
    return "B" if score <= 9 else "C"


def derive_child_pugh(
    *,
    bilirubin_umol_l: float | None,
    albumin_g_l: float | None,
    inr: float | None,
    ascites: str | None,
    encephalopathy: str | None,
) -> ChildPughResult:
    points: dict[str, int] = {}
    missing: list[str] = []
    for name, value, rule in (
        ("total_bilirubin", bilirubin_umol_l, bilirubin_points),
        ("albumin", albumin_g_l, albumin_points),
        ("inr", inr, inr_points),
        ("ascites", ascites, ASCITES_POINTS.get),
        ("encephalopathy", encephalopathy, ENCEPHALOPATHY_POINTS.get),
    ):
        got = None if value is None else rule(value)
        if got is None:
            missing.append(name)
        else:
            points[name] = got
    if missing:
        return ChildPughResult(points, None, None, tuple(missing))
    score = sum(points.values())
    return ChildPughResult(points, score, child_pugh_class(score), ())

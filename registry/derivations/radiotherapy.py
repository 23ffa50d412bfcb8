"""Radiotherapy dose per fraction and biologically effective dose (alpha/beta = 10 Gy).

Source: Fowler JF. The linear-quadratic formula and progress in fractionated radiotherapy.
Br J Radiol 1989;62:679-94: BED = D x (1 + d / (alpha/beta)).
"""

from __future__ import annotations

from typing import NamedTuple

RADIOTHERAPY_VERSION = "bed-lq-fowler-1989:1"
ALPHA_BETA_GY = 10.0


class RadiotherapyDose(NamedTuple):
    dose_per_fraction_gy: float | None
    bed10_gy: float | None
    missing: tuple[str, ...]


def derive_radiotherapy_dose(
    *, total_dose_gy: float | None, fractions: int | None
) -> RadiotherapyDose:
    missing = tuple(
        name
        for name, value in (("total_dose", total_dose_gy), ("fractions", fractions))
        if not value
    )
    if missing:
        return RadiotherapyDose(None, None, missing)
    per_fraction = total_dose_gy / fractions  # type: ignore[operator]
    bed = total_dose_gy * (1 + per_fraction / ALPHA_BETA_GY)  # type: ignore[operator]
    return RadiotherapyDose(round(per_fraction, 3), round(bed, 3), ())

"""Tumour burden: the up-to-seven criterion.

Source: Mazzaferro V et al. Lancet Oncol 2009;10:35-43: within when the diameter of the largest
tumour (cm) plus the number of tumours is at most 7.
"""

from __future__ import annotations

UP_TO_SEVEN_VERSION = "up-to-seven-mazzaferro-2009:1"


def up_to_seven(*, max_diameter_cm: float | None, tumour_number: int | None) -> bool | None:
    if max_diameter_cm is None or tumour_number is None:
        return None
    return max_diameter_cm + tumour_number <= 7

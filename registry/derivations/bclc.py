"""BCLC stage, 2022 update.

Source: Reig M et al. BCLC strategy for prognosis prediction and treatment recommendation:
the 2022 update. J Hepatol 2022;76:681-93, as operationalised in CRF.md §3 (first rule that matches).
"""

from __future__ import annotations

from typing import NamedTuple

BCLC_VERSION = "bclc-2022-reig:2"


class BclcResult(NamedTuple):
    stage: str | None
    rule: str | None
    missing: tuple[str, ...]


def derive_bclc(
    *,
    ecog_ps: int | None,
    child_pugh_class: str | None,
    tumour_number: int | None,
    max_diameter_cm: float | None,
    macrovascular_invasion: bool | None,
    extrahepatic_spread: bool | None,
) -> BclcResult:
    # Rule D can be decided on ECOG or Child-Pugh alone, before anything else is known.
    if ecog_ps is not None and ecog_ps >= 3:
        return BclcResult("D", "ECOG PS >= 3", ())
    if child_pugh_class == "C":
        return BclcResult("D", "Child-Pugh C", ())
    # Once rule D is excluded, rule C can be decided without the tumour burden (e.g. an
    # infiltrative tumour with portal vein invasion whose diameter cannot be measured).
    if ecog_ps is not None and child_pugh_class is not None:
        if macrovascular_invasion:
            return BclcResult("C", "macrovascular invasion", ())
        if extrahepatic_spread:
            return BclcResult("C", "extrahepatic spread", ())
        if ecog_ps in (1, 2):
            return BclcResult("C", "ECOG PS 1-2", ())
    missing = tuple(
        name
        for name, value in (
            ("ecog_ps", ecog_ps),
            ("child_pugh_class", child_pugh_class),
            ("tumour_number", tumour_number),
            ("max_diameter", max_diameter_cm),
            ("macrovascular_invasion", macrovascular_invasion),
            ("extrahepatic_spread", extrahepatic_spread),
        )
        if value is None
    )
    if missing:
        return BclcResult(None, None, missing)
    if tumour_number == 1 and max_diameter_cm <= 2:  # type: ignore[operator]
        return BclcResult("0", "single lesion <= 2 cm", ())
    if tumour_number == 1:
        return BclcResult("A", "single lesion", ())
    if tumour_number <= 3 and max_diameter_cm <= 3:  # type: ignore[operator]
        return BclcResult("A", "2-3 lesions each <= 3 cm", ())
    return BclcResult("B", "multinodular", ())

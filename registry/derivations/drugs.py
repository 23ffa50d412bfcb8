"""Drug class of a systemic agent, and the lenvatinib weight-based dose check.

Sources: agent classes from the products' labels (WHO ATC L01EX / L01FF / L01FG / L01FX);
lenvatinib in HCC: 12 mg/day for body weight >= 60 kg, 8 mg/day below (Kudo M et al.,
REFLECT, Lancet 2018;391:1163-73).
"""

from __future__ import annotations

DRUGS_VERSION = "drug-class-atc/lenvatinib-reflect-2018:1"

DRUG_CLASSES: dict[str, str] = {
    "lenvatinib": "tki",
    "sorafenib": "tki",
    "donafenib": "tki",
    "apatinib": "tki",
    "regorafenib": "tki",
    "camrelizumab": "pd1",
    "tislelizumab": "pd1",
    "sintilimab": "pd1",
    "pembrolizumab": "pd1",
    "nivolumab": "pd1",
    "atezolizumab": "pdl1",
    "durvalumab": "pdl1",
    "tremelimumab": "ctla4",
    "bevacizumab": "anti_vegf",
}

LENVATINIB_WEIGHT_THRESHOLD_KG = 60.0


def drug_class(agent: str) -> str | None:
    """The class of a listed agent; None for "other", whose class the data manager states."""
    return DRUG_CLASSES.get(agent)


def expected_lenvatinib_dose_mg(body_weight_kg: float) -> int:
    return 12 if body_weight_kg >= LENVATINIB_WEIGHT_THRESHOLD_KG else 8


def check_lenvatinib_dose(*, body_weight_kg: float | None, daily_dose_mg: float) -> str | None:
    """A warning when the starting dose does not follow the weight rule; None when it does."""
    if body_weight_kg is None:
        return (
            f"Lenvatinib dose {daily_dose_mg:g} mg/day cannot be checked: body weight is missing "
            "(rule: 8 mg/day below 60 kg, 12 mg/day at 60 kg or more)."
        )
    expected = expected_lenvatinib_dose_mg(body_weight_kg)
    if daily_dose_mg == expected:
        return None
    return (
        f"Lenvatinib dose {daily_dose_mg:g} mg/day differs from the weight-based dose of {expected} mg/day "
        f"for body weight {body_weight_kg:g} kg (rule: 8 mg/day below 60 kg, 12 mg/day at 60 kg or more)."
    )

"""Published counts of seed 002 (``shared/seeds/002_*.txt``, Tables 1–3), shared by the tests.

Arms: systemic therapy (n = 39) vs local + systemic therapy (n = 56).
"""

SYSTEMIC = "systemic"
COMBINED = "local+systemic"
ARM_SIZES = {SYSTEMIC: 39, COMBINED: 56}
ARMS = (SYSTEMIC, COMBINED)


def yes_no(systemic_yes: int, combined_yes: int) -> dict[str, dict[str, int]]:
    """``{arm: {"yes": n, "no": N - n}}`` for a binary row of the seed's tables."""
    return {
        SYSTEMIC: {"yes": systemic_yes, "no": ARM_SIZES[SYSTEMIC] - systemic_yes},
        COMBINED: {"yes": combined_yes, "no": ARM_SIZES[COMBINED] - combined_yes},
    }


# Seed 002 Table 1, categorical rows.
TABLE1_COUNTS = {
    "gender": {SYSTEMIC: {"male": 35, "female": 4}, COMBINED: {"male": 48, "female": 8}},
    "child_pugh_class": {SYSTEMIC: {"A": 30, "B": 9}, COMBINED: {"A": 47, "B": 9}},
    "tumour_number": {
        SYSTEMIC: {"single": 4, "multiple": 35},
        COMBINED: {"single": 4, "multiple": 52},
    },
    "bclc_stage": {SYSTEMIC: {"A": 7, "B": 20, "C": 12}, COMBINED: {"A": 5, "B": 29, "C": 22}},
    "chronic_hepatitis": yes_no(32, 45),
    "arteriovenous_fistula": yes_no(3, 10),
    "extrahepatic_blood_supply": yes_no(9, 12),
}

# Seed 002 Table 2: best overall response (mRECIST).
BEST_RESPONSE = {
    SYSTEMIC: {"CR": 1, "PR": 7, "SD": 11, "PD": 20},
    COMBINED: {"CR": 3, "PR": 20, "SD": 20, "PD": 13},
}

# Seed 002 Table 3: patients with the event (all grade 1–2) per arm.
ADVERSE_EVENTS = {
    "pain": (0, 5),
    "fever": (0, 4),
    "vomiting": (1, 4),
    "hypertension": (4, 7),
    "hand-foot syndrome": (1, 4),
    "rash": (4, 6),
    "hypothyroidism": (3, 7),
    "diarrhea": (3, 5),
    "ALT/AST increased": (2, 3),
    "bilirubin increased": (2, 4),
}
ANY_ADVERSE_EVENT = (20, 49)

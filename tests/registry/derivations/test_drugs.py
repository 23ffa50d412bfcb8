"""Drug class from agent and the lenvatinib weight-based dose check.

Source: CRF.md §4 (agents and classes TKI / PD-1 / PD-L1 / CTLA-4 / anti-VEGF mAb; lenvatinib 8 mg/day
below 60 kg, 12 mg/day at 60 kg or more, any other dose a soft warning); Kudo M et al. REFLECT,
Lancet 2018;391:1163-73.
"""

import pytest

from registry.choices import DrugClass, SystemicAgent
from registry.derivations.drugs import (
    check_lenvatinib_dose,
    drug_class,
    expected_lenvatinib_dose_mg,
)


@pytest.mark.parametrize(
    ("agent", "klass"),
    [
        ("lenvatinib", "tki"),
        ("sorafenib", "tki"),
        ("donafenib", "tki"),
        ("apatinib", "tki"),
        ("regorafenib", "tki"),
        ("camrelizumab", "pd1"),
        ("tislelizumab", "pd1"),
        ("sintilimab", "pd1"),
        ("pembrolizumab", "pd1"),
        ("nivolumab", "pd1"),
        ("atezolizumab", "pdl1"),
        ("durvalumab", "pdl1"),
        ("tremelimumab", "ctla4"),
        ("bevacizumab", "anti_vegf"),
    ],
)
def test_every_crf_agent_has_its_class(agent, klass):
    """CRF.md §4: class derived from agent (TKI / PD-1 / PD-L1 / CTLA-4 / anti-VEGF mAb)."""
    assert drug_class(agent) == klass


def test_other_agent_has_no_derived_class():
    """CRF.md §4: "other" is not a listed agent; its class is not guessed."""
    assert drug_class("other") is None


def test_every_agent_choice_but_other_has_a_class_among_the_drug_class_choices():
    """CRF.md §4: the agent list of the form and the derivation agree (no agent left unclassed)."""
    for agent in SystemicAgent.values:
        if agent == SystemicAgent.OTHER:
            continue
        assert drug_class(agent) in DrugClass.values, agent


def test_lenvatinib_59_9_kg_expects_8_mg():
    """CRF.md §4: 8 mg/day when body weight < 60 kg."""
    assert expected_lenvatinib_dose_mg(59.9) == 8


def test_lenvatinib_exactly_60_kg_expects_12_mg():
    """CRF.md §4: 12 mg/day when body weight >= 60 kg."""
    assert expected_lenvatinib_dose_mg(60) == 12


def test_lenvatinib_59_9_kg_8_mg_is_accepted_without_warning():
    """CRF.md §4: 8 mg/day below 60 kg follows the rule."""
    assert check_lenvatinib_dose(body_weight_kg=59.9, daily_dose_mg=8) is None


def test_lenvatinib_60_kg_12_mg_is_accepted_without_warning():
    """CRF.md §4: 12 mg/day at 60 kg follows the rule."""
    assert check_lenvatinib_dose(body_weight_kg=60, daily_dose_mg=12) is None


def test_lenvatinib_60_kg_8_mg_warns_naming_weight_and_expected_dose():
    """CRF.md §4: any other dose is a soft warning; the message names weight and expected dose."""
    warning = check_lenvatinib_dose(body_weight_kg=60, daily_dose_mg=8)
    assert warning is not None
    assert "60 kg" in warning
    assert "12 mg/day" in warning
    assert "8 mg/day" in warning


def test_lenvatinib_59_9_kg_12_mg_warns_expecting_8_mg():
    """CRF.md §4: below 60 kg the dose is 8 mg/day; 12 mg/day warns."""
    warning = check_lenvatinib_dose(body_weight_kg=59.9, daily_dose_mg=12)
    assert warning is not None
    assert "59.9 kg" in warning
    assert "weight-based dose of 8 mg/day" in warning


def test_lenvatinib_4_mg_warns_even_at_low_weight():
    """CRF.md §4: "any other dose" (not 8 or 12) is a soft warning."""
    assert check_lenvatinib_dose(body_weight_kg=50, daily_dose_mg=4) is not None


def test_lenvatinib_dose_with_missing_weight_warns_that_weight_is_missing():
    """CRF.md §1: body weight is needed for weight-based dosing checks; missing -> warning."""
    warning = check_lenvatinib_dose(body_weight_kg=None, daily_dose_mg=12)
    assert warning is not None
    assert "body weight is missing" in warning

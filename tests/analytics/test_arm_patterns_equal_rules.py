"""The four arm rules re-expressed as treatment patterns (data) select the same patients.

The reference is the column-wise rule code the seed reports ran on (``analytics.arms``
before this change). They are compared on random treatment histories (every modality and
drug class, days around every window edge, patients without TACE or without an index date)
and on seed-shaped registries built by ``dataset_factories`` and read by the dataset
selector's own treatment query.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.groupings import pattern_matches, seed_pattern
from tests.analytics import legacy_arm_rules as legacy

RULES = ["tace_alone", "tace_pd1_mtt", "systemic_alone", "local_plus_systemic"]
MODALITIES = ["tace", "haic", "radiotherapy", "local_procedure", "systemic"]
DRUGS = ["tki", "pd1", "pdl1", "ctla4", "anti_vegf"]


def random_registry(seed: int, n: int = 1500) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    rows = []
    for pid in range(n):
        base = float(rng.integers(19000, 19100))
        if rng.random() < 0.6:  # most patients start with a TACE on their base day
            rows.append((pid, "tace", base, "", ""))
        for _ in range(rng.integers(0, 9)):
            # Half the rows systemic, so that both drugs of a combination often meet.
            modality = rng.choice(MODALITIES, p=[0.125, 0.125, 0.125, 0.125, 0.5])
            # Days clustered near the window edges (0, 30, 90 and one past) and anywhere.
            offset = rng.choice(
                [0, 0, 0, -1, 1, 29, 30, 31, 89, 90, 91, int(rng.integers(-200, 300))]
            )
            drug = DRUGS[rng.integers(0, len(DRUGS))] if modality == "systemic" else ""
            rows.append((pid, str(modality), base + offset, drug, ""))
    treatments = pd.DataFrame(
        rows, columns=["patient_id", "modality", "day", "drug_class", "agent"]
    )
    # The index date: none (10 %), the base day (60 %) or another day near it.
    bases = treatments.groupby("patient_id")["day"].min().reindex(range(n)).fillna(19000)
    draw = rng.random(n)
    index_days = np.where(
        draw < 0.1,
        np.nan,
        np.where(draw < 0.7, bases, bases + rng.integers(-40, 100, n)),
    ).astype(float)
    patients = pd.DataFrame({"patient_id": np.arange(n), "index_day": index_days})
    return treatments, patients


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("window", [0, 30, 90])
def test_patterns_equal_the_rules_on_random_histories(seed, rule, window):
    treatments, patients = random_registry(seed)
    expected = legacy.rule_matches(
        rule,
        window,
        treatments[legacy.TREATMENT_COLUMNS],
        patients["patient_id"],
        patients["index_day"].to_numpy(),
    )

    got = pattern_matches(seed_pattern(rule, window), treatments, patients)

    assert expected.any()  # the comparison is not vacuous
    assert (~expected).any()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.django_db
def test_patterns_equal_the_rules_on_a_seed_shaped_registry():
    from analytics.selectors import _treatments
    from registry.models import Patient
    from tests.analytics.dataset_factories import CUTOFF, add_patient
    from tests.registry.factories import make_site

    site = make_site()
    for arm in ("systemic", "combined", "tace_alone", "tace_pd1_mtt", "tace_late_systemic", None):
        for history in (0, 2):
            add_patient(site, arm=arm, tace_history=history)
    add_patient(site, arm="systemic", index_date=CUTOFF.replace(year=2025))
    patients = Patient.objects.all()
    treatments = _treatments(patients, CUTOFF)
    frame = pd.DataFrame(
        [(p.pk, p.index_date) for p in patients.order_by("pk")],
        columns=["patient_id", "index_date"],
    )
    frame["index_day"] = [
        float((d - pd.Timestamp("1970-01-01").date()).days) for d in frame["index_date"]
    ]
    expected_members = {}
    for rule, window in [
        ("systemic_alone", 30),
        ("local_plus_systemic", 30),
        ("tace_alone", 90),
        ("tace_pd1_mtt", 90),
    ]:
        expected = legacy.rule_matches(
            rule,
            window,
            treatments[legacy.TREATMENT_COLUMNS],
            frame["patient_id"],
            frame["index_day"].to_numpy(),
        )
        got = pattern_matches(seed_pattern(rule, window), treatments, frame)
        np.testing.assert_array_equal(got, expected)
        expected_members[rule] = int(expected.sum())
    # Each arm holds someone, so the comparison is not vacuous.
    assert all(expected_members.values()), expected_members

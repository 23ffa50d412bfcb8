"""The selector's column-wise arms, studied-line responses and OS/PFS on random histories
(no database).

The selector evaluates ``registry.services.index_series`` / ``response_series`` and
``registry.derivations.survival`` for 100,000 patients at once with pandas and numpy; these
tests pin the vectorised versions to those one-patient reference functions. The arm rules are
written once, column-wise, in ``analytics.arms``: here a patient's arm, decided among many
patients at once, must be the arm the same rule gives the patient's rows alone.
"""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analytics.arms import TREATMENT_COLUMNS, TreatmentRow, matches, rule_matches
from analytics.columns import studied_line_responses, survival_at_cutoff
from analytics.models import ArmDefinition
from analytics.selectors import assign_arms
from registry.derivations.response import best_overall_response
from registry.derivations.survival import overall_survival, progression_free_survival
from registry.services import index_series, response_series

EPOCH = dt.date(1970, 1, 1)
BASE = dt.date(2023, 1, 1)
CUTOFF = dt.date(2024, 6, 30)


def day_number(value: dt.date | None) -> float:
    return np.nan if value is None else float((value - EPOCH).days)


def maybe_day(rng: random.Random, low: int, high: int, p_missing: float = 0.2):
    if rng.random() < p_missing:
        return None
    return BASE + dt.timedelta(days=rng.randrange(low, high))


class TestArmRules:
    def histories(self, n: int = 400):
        rng = random.Random(6)
        patients, rows = [], []
        for pid in range(1, n + 1):
            index_date = maybe_day(rng, 0, 60, p_missing=0.05)
            history = []
            for _ in range(rng.randrange(0, 6)):
                modality = rng.choice(["tace", "tace", "haic", "radiotherapy", "systemic"])
                drug = (
                    rng.choice(["tki", "pd1", "pdl1", "anti_vegf"])
                    if modality == "systemic"
                    else ""
                )
                start = BASE + dt.timedelta(days=rng.randrange(-60, 200))
                history.append(TreatmentRow(modality, start, drug))
                rows.append((pid, modality, day_number(start), drug))
            patients.append((pid, index_date, history))
        # Rows arrive in no particular order (a UNION of tables), patients interleaved.
        rng.shuffle(rows)
        treatments = pd.DataFrame(rows, columns=TREATMENT_COLUMNS)
        return patients, treatments

    @pytest.mark.parametrize(
        ("rule", "window"),
        [
            ("systemic_alone", 30),
            ("local_plus_systemic", 30),
            ("tace_alone", 90),
            ("tace_pd1_mtt", 90),
            ("tace_pd1_mtt", 365),
        ],
    )
    def test_a_patients_arm_does_not_depend_on_the_other_patients(self, rule, window):
        patients, treatments = self.histories()
        ids = pd.Series([p[0] for p in patients])
        index_days = np.array([day_number(p[1]) for p in patients])

        together = rule_matches(rule, window, treatments, ids, index_days)

        alone = [
            matches(rule, history, window_days=window, index_date=index_date)
            for _, index_date, history in patients
        ]
        assert together.tolist() == alone
        assert 0 < sum(alone) < len(alone)  # both outcomes occur

    @pytest.mark.parametrize("rule", ["systemic_alone", "local_plus_systemic", "tace_pd1_mtt"])
    def test_rows_of_patients_not_asked_about_change_nothing(self, rule):
        patients, treatments = self.histories()
        asked = patients[::2]
        ids = pd.Series([p[0] for p in asked], index=range(1000, 1000 + len(asked)))
        index_days = np.array([day_number(p[1]) for p in asked])

        got = rule_matches(rule, 30, treatments, ids, index_days)

        assert got.tolist() == [
            matches(rule, history, window_days=30, index_date=index_date)
            for _, index_date, history in asked
        ]

    def test_the_compared_arm_is_tested_first(self):
        patients, treatments = self.histories()
        ids = pd.Series([p[0] for p in patients])
        index_days = np.array([day_number(p[1]) for p in patients])
        control = ArmDefinition(name="S", rule="systemic_alone", window_days=30)
        compared = ArmDefinition(name="L+S", rule="local_plus_systemic", window_days=30)
        frame = pd.DataFrame({"patient_id": ids, "index_day": index_days})
        arms = assign_arms(treatments, frame, control, compared)
        for (_, index_date, history), arm in zip(patients, arms, strict=True):
            if matches("local_plus_systemic", history, window_days=30, index_date=index_date):
                assert arm == "L+S"
            elif matches("systemic_alone", history, window_days=30, index_date=index_date):
                assert arm == "S"
            else:
                assert arm is None


class TestStudiedLineResponses:
    def test_it_agrees_with_the_registry_series(self):
        rng = random.Random(7)
        patients, rows = [], []
        for pid in range(1, 400):
            index_date = BASE + dt.timedelta(days=rng.randrange(0, 60))
            scans = []
            for pk in range(rng.randrange(0, 7)):
                day = BASE + dt.timedelta(days=rng.randrange(-120, 600))
                baseline = rng.random() < 0.3
                response = "" if baseline else rng.choice(["CR", "PR", "SD", "PD", ""])
                if baseline and any(s.is_baseline and s.assessment_date == day for s in scans):
                    continue  # one baseline scan per day (validation)
                scans.append(
                    SimpleNamespace(
                        pk=pk, assessment_date=day, is_baseline=baseline, response=response
                    )
                )
                rows.append((pid, day_number(day), baseline, response))
            patients.append((pid, index_date, scans))
        frame = pd.DataFrame(rows, columns=["patient_id", "day", "is_baseline", "response"])
        ids = pd.Series([p[0] for p in patients])
        index_days = np.array([day_number(p[1]) for p in patients])
        got = studied_line_responses(frame, ids, index_days, day_number(CUTOFF))
        for pid, index_date, scans in patients:
            ordered = sorted(scans, key=lambda a: (a.assessment_date, not a.is_baseline, a.pk))
            studied = index_series(SimpleNamespace(index_date=index_date), response_series(ordered))
            follow = [a for a in (studied[1] if studied else []) if a.assessment_date <= CUTOFF]
            best = best_overall_response(a.response for a in follow)
            first_pd = next((a.assessment_date for a in follow if a.response == "PD"), None)
            last = follow[-1].assessment_date if follow else None
            row = got.loc[pid]
            assert row["best_response"] == best, pid
            assert _same(row["first_pd_day"], day_number(first_pd)), pid
            assert _same(row["last_scan_day"], day_number(last)), pid


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def test_survival_at_cutoff_agrees_with_the_derivations():
    rng = random.Random(8)
    rows = []
    for _ in range(3000):
        index_date = maybe_day(rng, 0, 30, p_missing=0.03)
        rows.append(
            {
                "index": index_date,
                "death": maybe_day(rng, -10, 800, p_missing=0.5),
                "alive": maybe_day(rng, -10, 800, p_missing=0.2),
                "progression": maybe_day(rng, -10, 800, p_missing=0.5),
                "imaging": maybe_day(rng, -10, 700, p_missing=0.2),
            }
        )
    got = survival_at_cutoff(
        index_day=np.array([day_number(r["index"]) for r in rows]),
        death_day=np.array([day_number(r["death"]) for r in rows]),
        last_alive_day=np.array([day_number(r["alive"]) for r in rows]),
        progression_day=np.array([day_number(r["progression"]) for r in rows]),
        last_imaging_day=np.array([day_number(r["imaging"]) for r in rows]),
        cutoff_day=day_number(CUTOFF),
    )
    events = {"os": 0, "pfs": 0}
    for r, (_, g) in zip(rows, got.iterrows(), strict=True):
        os = overall_survival(
            index_date=r["index"],
            death_date=r["death"],
            last_known_alive_date=r["alive"],
            cutoff_date=CUTOFF,
        )
        pfs = progression_free_survival(
            index_date=r["index"],
            progression_date=r["progression"],
            death_date=r["death"],
            last_adequate_imaging_date=r["imaging"],
            cutoff_date=CUTOFF,
        )
        for name, expected in (("os", os), ("pfs", pfs)):
            if expected.time_days is None:
                assert np.isnan(g[f"{name}_days"]), r
                assert g[f"{name}_reason"], r
            else:
                assert g[f"{name}_days"] == expected.time_days, r
                assert g[f"{name}_event"] == float(expected.event), r
                events[name] += expected.event
    assert events["os"] > 100
    assert events["pfs"] > 100

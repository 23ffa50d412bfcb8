"""The column-wise rules on random histories (no database): a patient's answer, decided among
many patients at once, is the one the rule gives the patient's rows alone.

Arms (``analytics.arms``), the studied line's best response (``registry.derivations.response.
line_responses``, checked against CRF.md §5 read scan by scan) and OS/PFS
(``registry.derivations.endpoints.endpoints_at_cutoff`` against ``overall_survival`` /
``progression_free_survival`` for one patient) are each written once, column-wise.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pandas as pd
import pytest

from analytics.arms import TREATMENT_COLUMNS, TreatmentRow, matches, rule_matches
from analytics.models import ArmDefinition
from analytics.selectors import assign_arms
from registry.derivations.endpoints import endpoints_at_cutoff
from registry.derivations.response import line_responses
from registry.derivations.survival import overall_survival, progression_free_survival

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


class TestLineResponses:
    """``registry.derivations.response.line_responses`` (the one implementation of the studied
    line's best response, used by the registry's refresh and the dataset) against CRF.md §5
    read scan by scan: the line is the latest baseline on or before the index date and its
    follow-ups up to the next baseline; the best response counts up to and including the first
    PD (RECIST 1.1 §4.4); a patient's answer does not depend on the other patients."""

    def test_it_follows_the_rule_scan_by_scan(self):
        rng = random.Random(7)
        patients, rows = [], []
        for pid in range(1, 400):
            index_date = BASE + dt.timedelta(days=rng.randrange(0, 60))
            scans = []
            for _ in range(rng.randrange(0, 7)):
                day = BASE + dt.timedelta(days=rng.randrange(-120, 600))
                baseline = rng.random() < 0.3
                response = "" if baseline else rng.choice(["CR", "PR", "SD", "PD", "NE", ""])
                if baseline and any(b and d == day for d, b, _ in scans):
                    continue  # one baseline scan per day (validation)
                scans.append((day, baseline, response))
                rows.append((pid, day_number(day), baseline, response))
            patients.append((pid, index_date, scans))
        rng.shuffle(rows)
        frame = pd.DataFrame(rows, columns=["patient_id", "day", "is_baseline", "response"])
        ids = pd.Series([p[0] for p in patients])
        index_days = np.array([day_number(p[1]) for p in patients])
        got, _ = line_responses(frame, ids, index_days, day_number(CUTOFF))
        responders = 0
        for pid, index_date, scans in patients:
            best, first_pd, last = _by_hand(index_date, scans)
            row = got.loc[pid]
            assert row["best_response"] == best, pid
            assert _same(row["first_pd_day"], day_number(first_pd)), pid
            assert _same(row["last_evaluable_day"], day_number(last)), pid
            responders += best in ("CR", "PR")
        assert responders > 20


RANK = ["CR", "PR", "SD", "PD", "NE"]


def _by_hand(index_date, scans):
    baselines = sorted(d for d, b, _ in scans if b)
    if not baselines:
        return None, None, None
    before = [d for d in baselines if d <= index_date]
    start = before[-1] if before else baselines[0]
    after = [d for d in baselines if d > start]
    end = after[0] if after else dt.date.max
    line = sorted((d, r) for d, b, r in scans if not b and start <= d < end and d <= CUTOFF)
    first_pd = next((d for d, r in line if r == "PD"), None)
    counted = [r for d, r in line if r in RANK and (first_pd is None or d <= first_pd)]
    best = min(counted, key=RANK.index) if counted else None
    last = max((d for d, r in line if r in ("CR", "PR", "SD", "PD")), default=None)
    return best, first_pd, last


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def test_a_patients_survival_does_not_depend_on_the_other_patients():
    """``endpoints_at_cutoff`` for 3,000 random histories at once (rows shuffled) gives each
    patient what ``overall_survival``/``progression_free_survival`` give them alone."""
    rng = random.Random(8)
    patients, alive_rows, progression_rows = [], [], []
    for pid in range(3000):
        index_date = maybe_day(rng, 0, 30, p_missing=0.03)
        alive = [maybe_day(rng, -10, 800, p_missing=0.3) for _ in range(rng.randrange(0, 4))]
        alive = [d for d in alive if d is not None]
        progressions = [d for d in (maybe_day(rng, -40, 800, p_missing=0.5),) if d]
        patients.append(
            {
                "id": pid,
                "index": index_date,
                "death": maybe_day(rng, -10, 800, p_missing=0.5),
                "alive": alive,
                "progressions": progressions,
            }
        )
        alive_rows += [(pid, day_number(d)) for d in alive]
        progression_rows += [(pid, day_number(d)) for d in progressions]
    rng.shuffle(alive_rows)
    ids = pd.Series([p["id"] for p in patients])
    got = endpoints_at_cutoff(
        patient_ids=ids,
        index_days=np.array([day_number(p["index"]) for p in patients]),
        death_days=np.array([day_number(p["death"]) for p in patients]),
        scans=pd.DataFrame(columns=["patient_id", "day", "is_baseline", "response"]).astype(
            {"day": float, "is_baseline": bool}
        ),
        alive=pd.DataFrame(alive_rows, columns=["patient_id", "day"]),
        progression_events=pd.DataFrame(progression_rows, columns=["patient_id", "day"]),
        cutoff_day=day_number(CUTOFF),
    )
    events = {"os": 0, "pfs": 0}
    for p in patients:
        g = got.loc[p["id"]]
        os = overall_survival(
            index_date=p["index"],
            death_date=p["death"],
            known_alive_dates=p["alive"],
            cutoff_date=CUTOFF,
        )
        pfs = progression_free_survival(
            index_date=p["index"],
            progression_dates=p["progressions"],
            death_date=p["death"],
            last_adequate_imaging_date=None,
            cutoff_date=CUTOFF,
        )
        for name, expected in (("os", os), ("pfs", pfs)):
            if expected.time_days is None:
                assert np.isnan(g[f"{name}_days"]), p
                assert g[f"{name}_reason"] == expected.censor_reason, p
            else:
                assert g[f"{name}_days"] == expected.time_days, p
                assert g[f"{name}_event"] == float(expected.event), p
                events[name] += expected.event
    assert events["os"] > 100
    assert events["pfs"] > 100

"""Cox model and log-rank of ``analytics.stats`` before/after vectorisation, on synthetic data.

Method
------
1. Build a synthetic analysis frame of ``--sizes`` rows (default 10,000 and 100,000) shaped like
   Report A's dataset (``benchmarks/bench_analytics.py``): two arms (55 % combined), the nine
   Cox covariates of Report A (arm, age, male, Child-Pugh B, BCLC C, max diameter, multiple
   tumours, log10 AFP, ALBI score), OS in months from whole days (so ~1,400 distinct times and
   many ties, as in the registry), exponential survival with a covariate effect, uniform
   administrative censoring (~46 % events). No database, no Django.
2. Time, on that frame, the "after" code (this tree's ``analytics/stats``) and the "before"
   code (``cox.py`` and ``survival.py`` read with ``git show <--before-rev>:…`` and loaded as
   standalone modules; they import nothing else from the project): ``fit_cox`` with the nine
   covariates (Efron, LR test, concordance, PH test with the KM transform), ``logrank`` by arm
   and ``kaplan_meier_by_group`` + ``numbers_at_risk``. Each is run once to warm up (imports),
   then ``--repeat`` times (``--repeat-before`` for the old code, default 1, since the old
   ``fit_cox`` takes minutes at 100,000 rows); best CPU time of this process
   (``time.process_time``) and best wall time are printed.
3. Compare the results of before and after (largest absolute difference of coef, SE, LR χ²,
   concordance, PH χ², log-rank χ² and p).
4. With ``--report-a``: every statistic of Report A (as ``bench_analytics.report_a_statistics``:
   Table 1, KM + numbers at risk, log-rank and Cox for OS and PFS, Tables 2 and 3) with this
   tree's code on synthetic columns of the same frame (PFS, the Table 1 variables, best
   response, 0–2 adverse events per patient), CPU and wall per part.
5. Print the load average (``os.getloadavg``) before and after each size: the host is shared,
   so wall times depend on the other processes; CPU times much less.

Usage: ``.venv/bin/python benchmarks/bench_stats.py --sizes 10000,100000``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COVARIATES = [
    "local_plus_systemic",
    "age",
    "male",
    "child_pugh_b",
    "bclc_c",
    "max_diameter_cm",
    "tumour_multiple",
    "log10_afp",
    "albi_score",
]
ARMS = ("Systemic therapy alone", "Local + systemic therapy")


def synthetic_frame(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    combined = rng.random(n) < 0.55
    age = np.clip(rng.normal(60.6, 10.7, n).astype(int), 25, 90).astype(float)
    cpb = (rng.random(n) < 0.15).astype(float)
    bclc_c = (rng.random(n) < 0.35).astype(float)
    diameter = np.round(np.clip(rng.lognormal(np.log(5.5), 0.5, n), 1, 18), 1)
    log10_afp = rng.uniform(0.5, 4.2, n)
    albi = rng.normal(-2.6, 0.4, n).round(2)
    linear = (
        -0.3 * combined
        + 0.01 * (age - 60)
        + 0.4 * cpb
        + 0.5 * bclc_c
        + 0.05 * diameter
        + 0.1 * log10_afp
        + 0.3 * albi
    )
    death_days = np.maximum(
        70, rng.exponential(22 * 30.4375 / np.log(2), n) * np.exp(-linear)
    ).astype(int)
    censor_days = rng.integers(60, 1460, n)
    days = np.minimum(death_days, censor_days)
    progression_days = np.maximum(
        1, rng.exponential(10 * 30.4375 / np.log(2), n) * np.exp(-linear)
    ).astype(int)
    pfs_days = np.minimum(np.minimum(progression_days, death_days), censor_days)
    return pd.DataFrame(
        {
            "patient_id": np.arange(n),
            "pfs_months": pfs_days / 30.4375,
            "pfs_event": (np.minimum(progression_days, death_days) <= censor_days).astype(float),
            "sex": np.where(rng.random(n) < 0.87, "male", "female"),
            "child_pugh_class": np.where(cpb == 1, "B", "A"),
            "bclc_stage": np.where(bclc_c == 1, "C", rng.choice(["A", "B"], n)),
            "chronic_hepatitis": rng.random(n) < 0.8,
            "arteriovenous_fistula": rng.random(n) < 0.13,
            "extrahepatic_blood_supply": rng.random(n) < 0.22,
            "afp_ng_ml": 10**log10_afp,
            "albumin_g_l": rng.normal(41.5, 4, n).round(1),
            "total_bilirubin_umol_l": rng.lognormal(np.log(17), 0.35, n).round(1),
            "best_response": rng.choice(["CR", "PR", "SD", "PD", None], n),
            "os_months": days / 30.4375,
            "os_event": (death_days <= censor_days).astype(float),
            "arm": np.where(combined, ARMS[1], ARMS[0]),
            "local_plus_systemic": combined.astype(float),
            "age": age,
            "male": (rng.random(n) < 0.87).astype(float),
            "child_pugh_b": cpb,
            "bclc_c": bclc_c,
            "max_diameter_cm": diameter,
            "tumour_multiple": (rng.random(n) < 0.92).astype(float),
            "log10_afp": log10_afp,
            "albi_score": albi,
        }
    )


def _load_before(rev: str, directory: Path) -> tuple[object, object]:
    modules = []
    for name in ("cox", "survival"):
        source = subprocess.run(
            ["git", "show", f"{rev}:analytics/stats/{name}.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        path = directory / f"before_{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"before_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while executing
        spec.loader.exec_module(module)
        modules.append(module)
    return modules[0], modules[1]


def _time(function, repeat: int) -> tuple[float, float, object]:
    """Best CPU and best wall seconds over ``repeat`` runs after one warm-up on 2,000 rows is
    done by the caller; returns the last result."""
    cpu, wall, result = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return min(cpu), min(wall), result


def _steps(cox, survival, frame: pd.DataFrame) -> dict[str, object]:
    return {
        "fit_cox (9 covariates, Efron, LR, C, PH test)": lambda: cox.fit_cox(
            frame, "os_months", "os_event", COVARIATES
        ),
        "logrank by arm": lambda: survival.logrank(
            frame, "os_months", "os_event", "arm", group_order=ARMS
        ),
        "kaplan_meier_by_group + numbers_at_risk": lambda: (
            survival.kaplan_meier_by_group(frame, "os_months", "os_event", "arm", group_order=ARMS),
            survival.numbers_at_risk(frame, "os_months", "arm", [0, 6, 12, 18, 24, 30, 36]),
        ),
    }


def adverse_events_frame(frame: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """0–2 adverse events per patient (term, CTCAE grade), the shape of
    ``analytics.selectors.adverse_events_long``."""
    rng = np.random.default_rng(seed)
    count = rng.integers(0, 3, len(frame))
    terms = ["hypertension", "rash_maculo_papular", "hypothyroidism", "diarrhea", "fever"]
    return pd.DataFrame(
        {
            "patient_id": np.repeat(frame["patient_id"].to_numpy(), count),
            "term": rng.choice(terms, count.sum()),
            "grade": rng.choice([1, 1, 2, 3], count.sum()),
        }
    ).drop_duplicates(["patient_id", "term"])


def report_a(frame: pd.DataFrame, events: pd.DataFrame) -> dict[str, float]:
    """Every statistic of Report A as ``bench_analytics.report_a_statistics`` runs them (this
    tree's code); CPU seconds per part."""
    from analytics.stats.adverse_events import adverse_event_table
    from analytics.stats.cox import fit_cox
    from analytics.stats.response import best_response_table
    from analytics.stats.survival import kaplan_meier_by_group, logrank, numbers_at_risk
    from analytics.stats.table1 import VariableSpec, table_one

    variables = [
        VariableSpec("age", "Age (years)", "continuous"),
        VariableSpec("sex", "Gender", "categorical", levels=("male", "female")),
        VariableSpec("child_pugh_class", "Child-Pugh", "categorical", levels=("A", "B")),
        VariableSpec("tumour_multiple", "Tumours (multiple)", "categorical", levels=(0.0, 1.0)),
        VariableSpec("max_diameter_cm", "Max diameter (cm)", "continuous"),
        VariableSpec("bclc_stage", "BCLC", "categorical", levels=("A", "B", "C")),
        VariableSpec("chronic_hepatitis", "Chronic hepatitis", "categorical"),
        VariableSpec("arteriovenous_fistula", "AV fistula", "categorical"),
        VariableSpec("extrahepatic_blood_supply", "Extrahepatic supply", "categorical"),
        VariableSpec("afp_ng_ml", "AFP (ng/mL)", "continuous"),
        VariableSpec("albumin_g_l", "Albumin (g/L)", "continuous"),
        VariableSpec("total_bilirubin_umol_l", "Bilirubin (µmol/L)", "continuous"),
        VariableSpec("albi_score", "ALBI score", "continuous"),
    ]
    parts = {
        "Table 1 (13 rows)": lambda: table_one(frame, "arm", variables, group_order=ARMS),
    }
    for endpoint in ("os", "pfs"):
        d, e = f"{endpoint}_months", f"{endpoint}_event"
        parts[f"KM {endpoint.upper()} + numbers at risk"] = lambda d=d, e=e: (
            kaplan_meier_by_group(frame, d, e, "arm", group_order=ARMS),
            numbers_at_risk(frame, d, "arm", [0, 6, 12, 18, 24, 30, 36]),
        )
        parts[f"log-rank {endpoint.upper()}"] = lambda d=d, e=e: logrank(
            frame, d, e, "arm", group_order=ARMS
        )
        parts[f"Cox {endpoint.upper()}"] = lambda d=d, e=e: fit_cox(frame, d, e, COVARIATES)
    parts["best response (Table 2)"] = lambda: best_response_table(
        frame, "best_response", "arm", group_order=ARMS
    )
    parts["adverse events (Table 3)"] = lambda: adverse_event_table(
        frame, events, group="arm", group_order=ARMS
    )
    seconds = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy's Shapiro–Wilk note for N > 5000
        for name, part in parts.items():
            started_cpu, started = time.process_time(), time.perf_counter()
            part()
            seconds[name] = (time.process_time() - started_cpu, time.perf_counter() - started)
    return seconds


def _differences(before: dict, after: dict) -> dict[str, float]:
    name = "fit_cox (9 covariates, Efron, LR, C, PH test)"
    old, new = before[name], after[name]
    lr_old, lr_new = before["logrank by arm"], after["logrank by arm"]

    def largest(a, b) -> float:
        return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))

    return {
        "coef": largest(old.coefficients["coef"], new.coefficients["coef"]),
        "se": largest(old.coefficients["se"], new.coefficients["se"]),
        "p (Wald)": largest(old.coefficients["p"], new.coefficients["p"]),
        "LR chisq": abs(old.lr_statistic - new.lr_statistic),
        "concordance": abs(old.concordance - new.concordance),
        "PH chisq (per covariate + global)": largest(old.ph_test["chisq"], new.ph_test["chisq"]),
        "log-rank chisq": abs(lr_old.statistic - lr_new.statistic),
        "log-rank p": abs(lr_old.p_value - lr_new.p_value),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-before", type=int, default=1)
    parser.add_argument("--before-rev", default="6893f11")
    parser.add_argument("--skip-before", action="store_true")
    parser.add_argument(
        "--report-a", action="store_true", help="also time every Report A statistic (after)"
    )
    args = parser.parse_args(argv)

    from analytics.stats import cox, survival

    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        old_cox, old_survival = (None, None)
        if not args.skip_before:
            old_cox, old_survival = _load_before(args.before_rev, Path(tmp))
        warm = synthetic_frame(2000, seed=2)
        for module_pair in [(cox, survival)] + (
            [] if args.skip_before else [(old_cox, old_survival)]
        ):
            for step in _steps(*module_pair, warm).values():
                step()
        for n in (int(s) for s in args.sizes.split(",")):
            frame = synthetic_frame(n)
            load = os.getloadavg()
            print(
                f"\n## {n:,} rows ({int(frame['os_event'].sum()):,} events, "
                f"{frame['os_months'].nunique():,} distinct times); "
                f"load average at start {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"
            )
            print("\n| step | before CPU (s) | before wall (s) | after CPU (s) | after wall (s) |")
            print("|---|---|---|---|---|")
            results_before, results_after = {}, {}
            for name, step in _steps(cox, survival, frame).items():
                cpu, wall, results_after[name] = _time(step, args.repeat)
                if args.skip_before:
                    print(f"| {name} | – | – | {cpu:.3f} | {wall:.3f} |")
                    continue
                old_step = _steps(old_cox, old_survival, frame)[name]
                old_cpu, old_wall, results_before[name] = _time(old_step, args.repeat_before)
                print(f"| {name} | {old_cpu:.2f} | {old_wall:.2f} | {cpu:.3f} | {wall:.3f} |")
            if args.report_a:
                events = adverse_events_frame(frame)
                report_a(frame.head(2000), events)  # warm-up (imports)
                runs = [report_a(frame, events) for _ in range(args.repeat)]
                best = min(runs, key=lambda r: sum(c for c, _ in r.values()))
                print("\nAll Report A statistics, this tree (best of the runs by total CPU):\n")
                print("| statistic | CPU (s) | wall (s) |\n|---|---|---|")
                for name, (cpu, wall) in best.items():
                    print(f"| {name} | {cpu:.3f} | {wall:.3f} |")
                total_cpu = sum(c for c, _ in best.values())
                total_wall = sum(w for _, w in best.values())
                print(f"| **all** | **{total_cpu:.2f}** | **{total_wall:.2f}** |")
            load = os.getloadavg()
            print(f"\nload average at end {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
            if results_before:
                print("\nlargest |before − after|:")
                for key, value in _differences(results_before, results_after).items():
                    print(f"- {key}: {value:.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

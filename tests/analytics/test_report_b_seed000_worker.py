"""Seed 000 through the product: a registry enrolled through the services, Report B on a worker.

168 patients are entered through ``registry.services`` (``registry.demo_seed000.
enrol_tace_course``: enrolment, lab panels, tumour assessment, TACE sessions, systemic
therapy, scans with target lesions, adverse events, follow-up, death), so every derived value
is the registry's own. Their treatment rows put 72 in "TACE + PD-(L)1 + MTT" and 96 in "TACE
alone" (the arm definitions of migration analytics/0002). A real Celery worker computes Report B
and the resistance table is read back from the XLSX the investigator downloads.

The matching is deterministic by design. Pair k (k = 0..71) is a treated patient and a control
with identical baseline covariates (all eight of the propensity model vary with k; AFP
20 + 10k ng/mL is unique to the pair), so the two have the same propensity score and each
treated patient's nearest control is its twin, at distance 0. The 24 extra controls copy pair
j's covariates (j = 0..23) but with AFP 5 ng/mL higher: never at distance 0 from a treated
patient, so never anyone's nearest neighbour. The match is therefore the 72 twin pairs whatever
the matching order (MatchIt's "largest" or the data order) and with any caliper. Twins cannot
be separated by the model, so the logistic fit converges.

Courses (``registry.demo_seed000``: sessions on days 0, 42, 84; a scan 35 days after each,
then every 91 days; PR scans except the PD scan):
- "after 3": 3 sessions, PD on day 119 (after session 3) — resistant for N = 3 and N = 2.
- "2 sessions": 2 sessions, PD on day 77 (after session 2), no further TACE — resistant for
  N = 2; for N = 3 "fewer than 3 TACE sessions", i.e. not resistant (and assessable).
- "between": 3 sessions, PD on day 77 (after session 2, before session 3), later scans back to
  PR — resistant for N = 2 only.
- "none": 3 sessions, PR throughout (scans after day 84) — resistant for neither.

Treated: 7 after 3, 2 two sessions, 1 between, 62 none. Matched controls: 28 after 3,
5 two sessions, 3 between, 36 none. By hand, then:
- N = 3: 7/72 (9.72 %) vs 28/72 (38.89 %) — seed 000's published counts; Pearson χ² without
  continuity correction 16.646, P < 0.001 (spec/ANALYSIS.md).
- N = 2: 7 + 2 + 1 = 10/72 (13.89 %) vs 28 + 5 + 3 = 36/72 (50.00 %);
  R 4.2: ``chisq.test(matrix(c(10, 62, 36, 36), nrow = 2), correct = FALSE)`` →
  X-squared = 21.594, df = 1, p-value = 3.37e-06.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from analytics.choices import ReportTemplate, RunStatus
from analytics.models import ArmDefinition, RunOutput
from registry.choices import Role
from registry.demo_seed000 import TaceCourse, enrol_tace_course
from tests.analytics.test_run_helpers import make_cohort, queue_run
from tests.analytics.test_run_worker import output, wait_for
from tests.registry.factories import make_site, make_user

PAIRS = 72
EXTRA_CONTROLS = 24
FIRST_INDEX = dt.date(2021, 1, 4)
# Patterns of resistance (see the module docstring): (sessions, pd_day, recovers).
AFTER_3, TWO_SESSIONS, BETWEEN, NONE = (
    (3, 119, False),
    (2, 77, False),
    (3, 77, True),
    (3, None, False),
)
TREATED_PATTERNS = [AFTER_3] * 7 + [TWO_SESSIONS] * 2 + [BETWEEN] * 1 + [NONE] * 62
CONTROL_PATTERNS = [AFTER_3] * 28 + [TWO_SESSIONS] * 5 + [BETWEEN] * 3 + [NONE] * 36


def baseline(k: int, *, afp_offset: float = 0.0) -> dict:
    """The covariates of pair k: every one of the eight propensity covariates varies with k."""
    child_pugh_b = k % 4 == 1
    return {
        "index_date": FIRST_INDEX + dt.timedelta(days=5 * k),
        "sex": "female" if k % 5 == 0 else "male",
        "birth_year": 1945 + (7 * k) % 25,
        "albumin_g_l": 32.0 if child_pugh_b else 38.0 + (k % 9) * 0.5,
        "ascites": "mild" if child_pugh_b else "none",
        "bilirubin_umol_l": 10.0 + k % 11,
        "afp_ng_ml": 20.0 + 10 * k + afp_offset,
        "tumour_number": 1 if k % 6 == 2 else 2 + k % 4,
        "max_diameter_cm": 4.0 + (k % 7) * 0.9,
        "macrovascular_invasion": "vp2" if k % 3 == 0 else "none",
    }


def course(k: int, combined: bool, pattern: tuple, *, afp_offset: float = 0.0) -> TaceCourse:
    sessions, pd_day, recovers = pattern
    # Deaths after progression and some progressions outside the liver, so that PFS and OS
    # have events in both arms; none of it changes resistance.
    death = pd_day + 240 if pd_day is not None and not recovers else None
    extrahepatic = 330 if pd_day is None and k % 4 == 0 else None
    return TaceCourse(
        combined=combined,
        sessions=sessions,
        pd_day=pd_day,
        recovers=recovers,
        extrahepatic_progression_day=extrahepatic,
        death_day=death,
        last_contact_day=death - 1 if death is not None else 400,
        adverse_events=(("abdominal_pain", 1),) if k % 2 else (),
        **baseline(k, afp_offset=afp_offset),
    )


def enrol_registry(site) -> None:
    for k in range(PAIRS):
        enrol_tace_course(site=site, course=course(k, True, TREATED_PATTERNS[k]), ref=f"T-{k}")
        enrol_tace_course(site=site, course=course(k, False, CONTROL_PATTERNS[k]), ref=f"C-{k}")
    for j in range(EXTRA_CONTROLS):
        pattern = AFTER_3 if j % 3 == 0 else NONE
        enrol_tace_course(site=site, course=course(j, False, pattern, afp_offset=5.0), ref=f"X-{j}")


def seed_000_arms() -> tuple[ArmDefinition, ArmDefinition]:
    """Report B's arms; created again because transactional tests flush migration data."""
    control, _ = ArmDefinition.objects.get_or_create(
        name="TACE alone", version=1, defaults={"rule": "tace_alone", "window_days": 90}
    )
    treatment, _ = ArmDefinition.objects.get_or_create(
        name="TACE + PD-(L)1 + MTT", version=1, defaults={"rule": "tace_pd1_mtt", "window_days": 90}
    )
    return control, treatment


def resistance_rows(run) -> dict[str, dict[str, object]]:
    """The resistance sheet of the run's XLSX as {row label: {column header: cell value}}:
    n and % of each arm and the statistics are number cells."""
    workbook = openpyxl.load_workbook(io.BytesIO(output(run, RunOutput.Kind.XLSX)))
    rows = [list(r) for r in workbook["resistance"].iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if "χ²" in r)
    header = [str(c) for c in rows[header_at]]
    table = {}
    for values in rows[header_at + 1 :]:
        if not values or values[0] in (None, ""):
            break
        table[str(values[0])] = dict(zip(header, values, strict=False))
    return table


def assert_counts(row: dict, column: str, n: int, pct: float) -> None:
    assert row[f"{column} n"] == n
    assert round(row[f"{column} %"], 2) == pct


@pytest.mark.worker
def test_report_b_on_a_worker_gives_seed_000_resistance_and_n_changes_the_counts(
    shared_media, celery_worker_process
):
    site = make_site("HZ", "Hangzhou Hepatobiliary Centre")
    enrol_registry(site)
    investigator = make_user("investigator", Role.REGISTRY_INVESTIGATOR)
    cohort = make_cohort("Seed 000", [site])
    control, treatment = seed_000_arms()

    runs = {}
    for n in (3, 2):
        # One at a time: the worker and this process never write to the database together.
        run = queue_run(
            investigator,
            cohort,
            template=ReportTemplate.REPORT_B,
            control_arm=control,
            treatment_arm=treatment,
            options={"resistance_cycles": n},
        )
        runs[n] = wait_for(run, celery_worker_process)
        assert runs[n].status in (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_WARNINGS), runs[
            n
        ].error

    sections = {s["key"]: s for s in runs[3].result["sections"]}
    assert all(s.get("available", True) for s in sections.values()), sections

    workbook = openpyxl.load_workbook(io.BytesIO(output(runs[3], RunOutput.Kind.XLSX)))
    summary = [list(r) for r in workbook["matching_summary"].iter_rows(values_only=True)]
    pairs = next(r for r in summary if r[0] == "Matched pairs")
    unmatched = next(r for r in summary if r[0] == "Unmatched")
    assert [str(pairs[1]), str(pairs[2])] == ["72", "72"]
    assert [str(unmatched[1]), str(unmatched[2])] == [str(EXTRA_CONTROLS), "0"]

    control_col, treated_col = "TACE alone (n = 72)", "TACE + PD-(L)1 + MTT (n = 72)"
    three = resistance_rows(runs[3])["Resistant after 3 cycles"]
    assert_counts(three, treated_col, 7, 9.72)
    assert_counts(three, control_col, 28, 38.89)
    assert round(three["χ²"], 3) == 16.646
    assert three["P"] < 0.001

    two = resistance_rows(runs[2])["Resistant after 2 cycles"]
    assert_counts(two, treated_col, 10, 13.89)
    assert_counts(two, control_col, 36, 50.00)
    assert round(two["χ²"], 3) == 21.594
    assert two["P"] < 0.001

    # The N is in the methods the report prints, not only in the title.
    provenance = [list(r) for r in workbook["Methods and provenance"].iter_rows(values_only=True)]
    methods = " ".join(str(r[1]) for r in provenance if r[0] == "Statistical methods")
    assert "N = 3 TACE cycles" in methods

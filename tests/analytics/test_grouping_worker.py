"""A registry of R's ``lung`` shape, grouped by sex with age + ECOG, run by a real worker.

The patients are enrolled through the registry's services (``dataset_factories.add_patient``:
``services.patient_enrol`` and the CRF rows) from the first LUNG_ROWS complete rows of
``tests/analytics/data/lung.csv`` with ECOG ≤ 2: sex, ECOG, age (as the birth year), death on
day ``time`` after the index date if ``event``, else alive then. A grouping "By sex" (reference
Male) and the covariates age (continuous) and ECOG (categorical, reference 0) — a variable the
seed's covariate list refused — are saved and run through the API, with a landmark analysis
at 6 months and subgroups by ECOG (forest plot); the worker computes the report; the numbers are read back from the workbook and compared with R survival 3.5 run on
the exported dataset CSV (the R calls and their output are in the test's docstring).
"""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from rest_framework.test import APIClient

from analytics.choices import RunStatus
from analytics.models import AnalysisRun, RunOutput
from registry.choices import Role
from tests.analytics.dataset_factories import add_patient
from tests.analytics.test_run_helpers import make_cohort
from tests.registry.factories import make_site, make_user

LUNG = Path(__file__).parent / "data" / "lung.csv"
LUNG_ROWS = 60
INDEX = dt.date(2023, 3, 1)


def enrol_lung(site) -> pd.DataFrame:
    lung = pd.read_csv(LUNG).rename(columns={"ph.ecog": "ecog_ps"}).dropna()
    lung = lung[lung["ecog_ps"] <= 2].head(LUNG_ROWS).reset_index(drop=True)
    for row in lung.itertuples():
        end = INDEX + dt.timedelta(days=int(row.time))
        add_patient(
            site,
            sex=row.sex,
            ecog_ps=int(row.ecog_ps),
            birth_year=INDEX.year - int(row.age),
            response=None,
            death_date=end if row.event == 1 else None,
            alive_on=None if row.event == 1 else end,
        )
    return lung


def wait_for(run: AnalysisRun, worker, limit_seconds: float = 900) -> AnalysisRun:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished:  # succeeded, succeeded with warnings or failed
            return run
        assert worker.poll() is None, "the worker process died"
        time.sleep(1)
    raise AssertionError(f"run {run.pk} still {run.status} ({run.progress_message})")


def output(run: AnalysisRun, kind: str) -> bytes:
    with run.outputs.get(kind=kind).file.open("rb") as handle:
        return handle.read()


SEXES = ("Male", "Female")


def assert_numbers(actual, expected) -> None:
    """Number cells equal to R's values to 1e-6 (relative)."""
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert isinstance(got, float), (got, want)
        assert got == pytest.approx(want, rel=1e-6), (got, want)


def cells(workbook, sheet: str) -> list[list[object]]:
    return [list(row) for row in workbook[sheet].iter_rows(values_only=True)]


@pytest.mark.worker
def test_lung_by_sex_with_age_and_ecog_matches_r(shared_media, celery_worker_process):
    site = make_site("LU", "Lung-shaped site")
    enrol_lung(site)
    investigator = make_user("investigator", Role.REGISTRY_INVESTIGATOR)
    # Every enrolled patient is analysed (ECOG 2 is outside the seed eligibility).
    cohort = make_cohort("Lung", [site], cutoff_date=dt.date(2026, 6, 30), exclude_ineligible=False)
    api = APIClient()
    api.force_authenticate(investigator)
    grouping = api.post(
        "/api/v1/analytics/groupings/",
        {
            "name": "By sex",
            "kind": "variable",
            "spec": {
                "variable": "sex",
                "groups": [
                    {"label": "Male", "values": ["male"]},
                    {"label": "Female", "values": ["female"]},
                ],
            },
            "reference": "Male",
        },
        format="json",
    ).json()
    response = api.post(
        "/api/v1/analytics/runs/",
        {
            "template": "custom",
            "sections": ["patient_flow", "survival", "cox", "subgroups"],
            "landmark_months": 6,
            "subgroup_variables": ["ecog_ps"],
            "cohort": cohort.pk,
            "grouping": grouping["id"],
            "covariates": [
                "age",
                {"variable": "ecog_ps", "coding": "categorical", "reference": 0},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()

    run = wait_for(AnalysisRun.objects.get(pk=response.json()["id"]), celery_worker_process)

    assert run.status == RunStatus.SUCCEEDED, run.error
    dataset = pd.read_csv(io.BytesIO(output(run, RunOutput.Kind.DATASET_CSV)))
    # The exported dataset R was run on (d below): every variable the definition used is in
    # it, with the ECOG coding as its own column.
    assert len(dataset) == LUNG_ROWS
    assert dataset["arm"].value_counts().to_dict() == {"Male": 38, "Female": 22}
    assert dataset["os_months"].sum() == pytest.approx(780.911704312, abs=1e-6)
    assert int(dataset["os_event"].sum()) == 57
    assert int(dataset["age"].sum()) == 3816
    assert dataset["ecog_ps"].value_counts().to_dict() == {1: 26, 2: 19, 0: 15}
    assert dataset["ecog_ps_cat_ref_0"].tolist() == dataset["ecog_ps"].tolist()

    workbook = openpyxl.load_workbook(io.BytesIO(output(run, RunOutput.Kind.XLSX)))
    medians = {row[0]: tuple(row[1:]) for row in cells(workbook, "os_medians") if row[0] in SEXES}
    cox = {row[0]: tuple(row[2:10]) for row in cells(workbook, "os_cox") if row[0]}
    notes = " ".join(str(row[0]) for row in cells(workbook, "os_cox"))

    # R (survival 3.5), d <- read.csv(<the exported dataset CSV>):
    # survfit(Surv(os_months, os_event) ~ arm, data = d): Female 22 records, 21 events, median
    #   13.04312115 (5.026694045, 22.57084189); Male 38, 36, 11.12114990 (7.162217659, 18.62833676)
    # survdiff(Surv(os_months, os_event) ~ arm, data = d): chisq 0.08053326242, p 0.7765760468
    # The XLSX holds the unrounded numbers: compared with R to 1e-6.
    assert medians["Male"][:2] == (38, 36)
    assert medians["Male"][6] == 1
    assert_numbers(medians["Male"][2:6], (11.12114990, 7.162217659, 18.62833676, 0.08053326242))
    assert_numbers(medians["Male"][7:8], (0.7765760468,))
    assert medians["Female"][:2] == (22, 21)
    assert_numbers(medians["Female"][2:5], (13.04312115, 5.026694045, 22.57084189))
    # d$female <- as.integer(d$arm == "Female")
    # coxph(Surv(os_months, os_event) ~ female + age + factor(ecog_ps), data = d):
    #   female HR 0.9766683112 (0.5417754095, 1.760657596) p 0.9374148279
    #   age 0.9975701034 (0.9618795593, 1.034584945) p 0.8958717386
    #   ecog 1: 0.7343192118 (0.3614989356, 1.491635664) p 0.3930717127
    #   ecog 2: 1.6097803771 (0.7761623183, 3.338725420) p 0.2008415468
    #   likelihood-ratio test 6.1093061489 on 4 df, p 0.1911325819
    # univariable: ~ female 0.9240770429 (0.5373028694, 1.589268232) p 0.7753306701;
    #   ~ age p 0.9702829791; ~ factor(ecog_ps): 1 0.7243949823 p 0.3414023198,
    #   2 1.5875865963 p 0.1953102417
    univariable, multivariable = slice(0, 4), slice(4, 8)
    female = cox["Female (vs Male)"]
    assert_numbers(female[univariable], (0.9240770429, 0.5373028694, 1.589268232, 0.7753306701))
    assert_numbers(female[multivariable], (0.9766683112, 0.5417754095, 1.760657596, 0.9374148279))
    age = cox["Age (years)"]
    assert_numbers(age[3:4], (0.9702829791,))
    assert_numbers(age[multivariable], (0.9975701034, 0.9618795593, 1.034584945, 0.8958717386))
    ecog1 = cox["ECOG performance status at baseline: 1 (vs 0)"]
    ecog2 = cox["ECOG performance status at baseline: 2 (vs 0)"]
    assert_numbers((ecog1[0], ecog1[3]), (0.7243949823, 0.3414023198))
    assert_numbers(ecog1[multivariable], (0.7343192118, 0.3614989356, 1.491635664, 0.3930717127))
    assert_numbers((ecog2[0], ecog2[3]), (1.5875865963, 0.1953102417))
    assert_numbers(ecog2[multivariable], (1.6097803771, 0.7761623183, 3.338725420, 0.2008415468))
    assert "χ² = 6.109, df = 4, P = 0.191" in notes

    # x <- subset(d, os_months > 6); x$t <- x$os_months - 6   (41 patients, 19 left out)
    # survdiff(Surv(t, os_event) ~ arm, data = x): chisq 0.5418202632, p 0.4616793279
    # coxph(Surv(t, os_event) ~ female, data = x): HR 0.7761566168 (0.394614613,
    #   1.526601079), p 0.4628169053
    # (This table holds the numbers at the precision it prints.)
    landmark_row = cells(workbook, "os_landmark")[3]
    assert landmark_row == ["6", 41, 19, 0.542, 0.462, 0.78, 0.39, 1.53, 0.463]
    # coxph(Surv(os_months, os_event) ~ female, data = d[d$ecog_ps == k, ]):
    #   ECOG 0: 15 patients, 14 events, HR 2.6634113087 (0.6816945751, 10.4060675527)
    #   ECOG 1: 26, 24, HR 0.3829473401 (0.1576054251, 0.9304798052)
    #   ECOG 2: 19, 19, HR 1.2864737895 (0.4786707338, 3.4575224556)
    # anova(coxph(~ female + factor(ecog_ps)), coxph(~ female * factor(ecog_ps))):
    #   Chisq 6.97226, Df 2, P 0.030619
    subgroup_rows = [tuple(row) for row in cells(workbook, "os_subgroups")[3:6]]
    assert subgroup_rows == [
        ("ECOG performance status at baseline: 0", 15, 14, 2.66, 0.68, 10.41, 0.031),
        ("ECOG performance status at baseline: 1", 26, 24, 0.38, 0.16, 0.93, 0.031),
        ("ECOG performance status at baseline: 2", 19, 19, 1.29, 0.48, 3.46, 0.031),
    ]
    assert run.outputs.filter(name__contains="os_subgroup_forest").exists()

    # The SPSS file carries the coded covariate with its coding in the variable label.
    sav = shared_media / "lung.sav"
    sav.write_bytes(output(run, RunOutput.Kind.SAV))
    spss, meta = pyreadstat.read_sav(str(sav))
    assert spss["ecog_ps_cat_ref_0"].tolist() == dataset["ecog_ps_cat_ref_0"].tolist()
    assert "ECOG" in meta.column_names_to_labels["ecog_ps_cat_ref_0"]
    dictionary = pd.read_csv(io.BytesIO(output(run, RunOutput.Kind.DICTIONARY)))
    coding = dictionary.set_index("column").loc["ecog_ps_cat_ref_0", "coding"]
    assert coding == "categorical: 1, 2, 3, 4 each vs 0 (reference)"

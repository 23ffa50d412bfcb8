"""Runs over a grouping definition with covariates from the variable dictionary, through the
API: groupings saved as versions, group sizes previewed, bad definitions refused before a
run is queued (nothing is queued), good ones frozen on the run."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from analytics.models import AnalysisRun, GroupingDefinition
from tests.analytics.dataset_factories import add_patient
from tests.analytics.test_run_helpers import make_cohort, world

__all__ = ["world"]

RUNS = "/api/v1/analytics/runs/"
GROUPINGS = "/api/v1/analytics/groupings/"
BY_SEX = {
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
}


@pytest.fixture
def api(world):
    client = APIClient()
    client.force_authenticate(world.nt_investigator)
    return client


@pytest.fixture
def nantong(world):
    """Five Nantong patients: 3 men, 2 women; ECOG 0, 1, 0, 1, 1; born 1950–1970."""
    for sex, ecog, born in [
        ("male", 0, 1950),
        ("male", 1, 1955),
        ("male", 0, 1960),
        ("female", 1, 1965),
        ("female", 1, 1970),
    ]:
        add_patient(world.nt, sex=sex, ecog_ps=ecog, birth_year=born)


def grouping(api, body=BY_SEX) -> dict:
    response = api.post(GROUPINGS, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_grouping_is_saved_as_the_next_version_of_its_name(api):
    first = grouping(api)
    second = grouping(api, {**BY_SEX, "reference": "Female"})

    assert (first["version"], second["version"]) == (1, 2)
    assert second["groups"] == ["Male", "Female"]
    assert GroupingDefinition.objects.get(pk=first["id"]).reference == "Male"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**BY_SEX, "spec": {"variable": "shoe_size", "cuts": [40]}}, "unknown variable"),
        ({**BY_SEX, "reference": "Other"}, "'Other' is not one of the groups"),
        (
            {
                **BY_SEX,
                "spec": {
                    "variable": "sex",
                    "groups": [{"label": "M", "values": ["m"]}, {"label": "F", "values": ["f"]}],
                },
            },
            "m, f not a level of sex",
        ),
        (
            {
                "name": "x",
                "kind": "treatment_pattern",
                "spec": {
                    "arms": [
                        {"label": "a", "pattern": {"anchor": "first_tace", "window_end_days": 9}},
                        {"label": "b", "pattern": {"anchor": "moon", "window_end_days": 9}},
                    ]
                },
            },
            "arms[1].anchor",
        ),
    ],
)
def test_a_bad_grouping_is_refused_naming_the_problem(api, body, words):
    response = api.post(GROUPINGS, body, format="json")

    assert response.status_code == 400
    assert words in str(response.json())


def test_the_preview_counts_each_group_in_the_cohort(api, world, nantong):
    saved = grouping(api)

    response = api.get(f"{GROUPINGS}{saved['id']}/preview/", {"cohort": world.nt_cohort.pk})

    assert response.status_code == 200, response.json()
    assert response.json()["groups"] == {"Male": 3, "Female": 2, "(in no group)": 0}


def run_body(world, saved, **options) -> dict:
    return {
        "template": "report_a",
        "cohort": world.nt_cohort.pk,
        "grouping": saved["id"],
        "covariates": ["age", {"variable": "ecog_ps", "coding": "categorical", "reference": 0}],
        **options,
    }


def test_a_run_over_a_grouping_freezes_it_and_the_dictionary_covariates(api, world, nantong):
    saved = grouping(api)

    response = api.post(RUNS, run_body(world, saved), format="json")

    assert response.status_code == 201, response.json()
    run = AnalysisRun.objects.get(pk=response.json()["id"])
    assert run.grouping_id == saved["id"]
    assert run.compared_groups == ("Male", "Female")
    assert run.parameters["grouping"]["spec"] == BY_SEX["spec"]
    options = run.parameters["options"]
    assert options["covariates"] == ["age", "ecog_ps_cat_ref_0"]
    assert options["covariate_specs"] == [
        {"variable": "ecog_ps", "coding": "categorical", "reference": 0}
    ]
    coding = {c["name"]: c["coding"] for c in run.parameters["covariates"]}
    assert coding["ecog_ps_cat_ref_0"].startswith("categorical: 1, 2, 3, 4 each vs 0")


@pytest.mark.parametrize(
    ("covariates", "words"),
    [
        # Every Nantong patient has chronic hepatitis (the factory's default).
        (
            [{"variable": "chronic_hepatitis"}],
            "History of chronic hepatitis: constant in the cohort",
        ),
        (
            [{"variable": "child_pugh_class", "coding": "categorical", "reference": "C"}],
            "reference level 'C'",
        ),
        ([{"variable": "ecog", "coding": "continuous"}], "unknown variable 'ecog'"),
        ([{"variable": "sex", "coding": "log10"}], "may be coded"),
    ],
)
def test_bad_covariates_are_refused_before_a_run_is_queued(api, world, nantong, covariates, words):
    saved = grouping(api)

    response = api.post(RUNS, run_body(world, saved, covariates=covariates), format="json")

    assert response.status_code == 400
    assert words in str(response.json()["covariates"])
    assert not AnalysisRun.objects.exists()


def test_an_empty_group_is_refused_before_a_run_is_queued(api, world, nantong):
    saved = grouping(
        api,
        {
            **BY_SEX,
            "spec": {
                "variable": "ecog_ps",
                "groups": [
                    {"label": "0-1", "values": [0, 1]},
                    {"label": "2+", "values": [2, 3, 4]},
                ],
            },
            "reference": "",
        },
    )

    response = api.post(RUNS, run_body(world, saved, covariates=["age"]), format="json")

    assert response.status_code == 400
    assert "group '2+' has no patient in the cohort" in str(response.json()["grouping"])
    assert not AnalysisRun.objects.exists()


def test_a_three_group_grouping_is_refused_for_the_two_arm_reports(api, world, nantong):
    saved = grouping(
        api,
        {"name": "ALBI", "kind": "variable", "spec": {"variable": "age", "cuts": [55, 65]}},
    )

    response = api.post(RUNS, run_body(world, saved), format="json")

    assert response.status_code == 400
    assert "has 3 groups" in str(response.json())


def test_the_new_run_page_previews_the_group_sizes_then_starts_the_run(client, world, nantong):
    from django.urls import reverse

    saved = GroupingDefinition.objects.create(
        name="By sex", kind="variable", spec=BY_SEX["spec"], reference="Male"
    )
    client.force_login(world.nt_investigator)
    form = {
        "template": "report_a",
        "cohort": world.nt_cohort.pk,
        "grouping": saved.pk,
        "covariates": ["age"],
        "dictionary_covariates": '[{"variable": "ecog_ps", "coding": "continuous"}]',
        "caliper_sd": 0.2,
        "resistance_cycles": 3,
    }

    preview = client.post(reverse("analytics:run_new"), {**form, "action": "preview"})

    assert preview.status_code == 200
    assert preview.context["preview"]["groups"] == {"Male": 3, "Female": 2, "(in no group)": 0}
    assert "Patients per group" in preview.content.decode()
    assert not AnalysisRun.objects.exists()

    started = client.post(reverse("analytics:run_new"), {**form, "action": "start"})

    run = AnalysisRun.objects.get()
    assert started.status_code == 302
    assert run.grouping_id == saved.pk
    assert run.parameters["options"]["covariates"] == ["age", "ecog_ps"]


def test_the_new_run_page_refuses_an_empty_group_naming_it(client, world, nantong):
    from django.urls import reverse

    saved = GroupingDefinition.objects.create(
        name="ECOG", kind="variable",
        spec={"variable": "ecog_ps", "groups": [{"label": "0-1", "values": [0, 1]},
                                                 {"label": "2+", "values": [2, 3, 4]}]},
    )  # fmt: skip
    client.force_login(world.nt_investigator)

    response = client.post(
        reverse("analytics:run_new"),
        {
            "template": "report_a",
            "cohort": world.nt_cohort.pk,
            "grouping": saved.pk,
            "covariates": ["age"],
            "caliper_sd": 0.2,
            "resistance_cycles": 3,
            "action": "start",
        },
    )

    assert response.status_code == 200
    assert "group &#x27;2+&#x27; has no patient in the cohort" in response.content.decode()
    assert not AnalysisRun.objects.exists()


def test_the_run_pages_name_the_compared_groups(api, client, world, nantong):
    from django.urls import reverse

    saved = grouping(api)
    run_id = api.post(RUNS, run_body(world, saved), format="json").json()["id"]
    client.force_login(world.nt_investigator)

    detail = client.get(reverse("analytics:run_detail", args=[run_id])).content.decode()
    listing = client.get(reverse("analytics:run_list")).content.decode()

    assert "Female vs Male (reference) — By sex v1" in detail
    assert "Female vs Male" in listing


def test_three_groups_are_compared_by_the_groups_section_of_a_custom_run(
    api, world, settings, tmp_path
):
    """In-process run (the real report engine and renderers): ECOG 0 / 1 / 2 as three groups;
    the workbook holds the k-group medians with the log-rank test on 2 df."""
    import datetime as dt
    import io

    import openpyxl

    from analytics.choices import RunStatus
    from analytics.models import RunOutput
    from analytics.services import run_execute

    settings.MEDIA_ROOT = tmp_path / "media"
    index = dt.date(2023, 3, 1)
    for i in range(12):
        add_patient(
            world.nt,
            ecog_ps=i % 3,
            sex=("male", "female")[i % 2],
            birth_year=1950 + i,
            death_date=index + dt.timedelta(days=60 + 45 * i) if i % 4 else None,
            alive_on=None if i % 4 else index + dt.timedelta(days=700),
        )
    saved = grouping(
        api,
        {
            "name": "ECOG",
            "kind": "variable",
            "spec": {
                "variable": "ecog_ps",
                "groups": [
                    {"label": "ECOG 0", "values": [0]},
                    {"label": "ECOG 1", "values": [1]},
                    {"label": "ECOG 2", "values": [2]},
                ],
            },
        },
    )
    refused = api.post(RUNS, run_body(world, saved, covariates=["age"]), format="json")
    assert refused.status_code == 400
    assert "'groups' section" in str(refused.json())

    # ECOG 2 is outside the seed eligibility: a cohort that keeps every patient.
    cohort = make_cohort("Nantong, all", [world.nt], exclude_ineligible=False)
    response = api.post(
        RUNS,
        {
            **run_body(world, saved, covariates=["age"]),
            "cohort": cohort.pk,
            "template": "custom",
            "sections": ["patient_flow", "groups"],
            "cox_include_grouping": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()

    assert run_execute(response.json()["id"]) == RunStatus.SUCCEEDED
    run = AnalysisRun.objects.get(pk=response.json()["id"])
    with run.outputs.get(kind=RunOutput.Kind.XLSX).file.open("rb") as handle:
        workbook = openpyxl.load_workbook(io.BytesIO(handle.read()))
    medians = list(workbook["os_group_medians"].iter_rows(values_only=True))
    groups = [row[0] for row in medians if row[0] in ("ECOG 0", "ECOG 1", "ECOG 2")]
    assert groups == ["ECOG 0", "ECOG 1", "ECOG 2"]
    header = medians[2]
    first = medians[3]
    assert first[header.index("df")] == 2  # a number cell: log-rank on k − 1 = 2 df
    cox = [row[0] for row in workbook["os_group_cox"].iter_rows(values_only=True)]
    assert "Group ECOG 1 (vs ECOG 0)" in cox


def test_the_new_run_page_saves_the_choices_as_a_definition_the_run_refers_to(
    client, world, nantong
):
    from django.urls import reverse

    from analytics.models import AnalysisDefinition

    saved = GroupingDefinition.objects.create(
        name="By sex", kind="variable", spec=BY_SEX["spec"], reference="Male"
    )
    client.force_login(world.nt_investigator)

    response = client.post(
        reverse("analytics:run_new"),
        {
            "template": "report_a",
            "cohort": world.nt_cohort.pk,
            "grouping": saved.pk,
            "covariates": ["age"],
            "caliper_sd": 0.2,
            "resistance_cycles": 3,
            "save_as": "Survival by sex",
            "action": "start",
        },
    )

    assert response.status_code == 302
    definition = AnalysisDefinition.objects.get(name="Survival by sex")
    run = AnalysisRun.objects.get()
    assert run.definition == definition
    assert definition.grouping == saved
    assert definition.options["covariates"] == ["age"]

"""The matching options of a run (R MatchIt's choices): accepted from the form and the API,
validated by MatchingOptions with errors naming the field, frozen in the run's parameters."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.choices import ReportTemplate
from analytics.models import AnalysisRun
from tests.analytics.test_run_helpers import queue_run, seed_arms, world

__all__ = ["world"]

RUNS = "/api/v1/analytics/runs/"
EVERY_OPTION = {
    "caliper_sd": 0.25,
    "matching_order": "random",
    "matching_seed": 42,
    "matching_ratio": 2,
    "matching_replace": False,
    "matching_exact": ["bclc_c", "male"],
    "smd_denominator": "pooled",
}


def test_the_run_records_every_matching_option(world):
    run = queue_run(
        world.investigator, world.nt_cohort, ReportTemplate.REPORT_B, options=EVERY_OPTION
    )
    matching = run.parameters["matching"]

    assert {k: matching[k] for k in ("order", "seed", "ratio", "replace", "caliper_sd")} == {
        "order": "random",
        "seed": 42,
        "ratio": 2,
        "replace": False,
        "caliper_sd": 0.25,
    }
    assert matching["exact"] == ["bclc_c", "male"]
    assert matching["smd_denominator"] == "pooled"
    assert "2:1 greedy nearest-neighbour" in matching["method"]
    assert "random order (seed 42)" in matching["method"]
    assert run.parameters["options"]["matching_exact"] == ["bclc_c", "male"]


def test_the_defaults_are_matchits(world):
    run = queue_run(world.investigator, world.nt_cohort, ReportTemplate.REPORT_B)
    matching = run.parameters["matching"]

    assert matching["order"] == "largest"
    assert matching["ratio"] == 1
    assert matching["replace"] is False
    assert matching["caliper_sd"] == 0.2
    assert matching["exact"] == []
    assert matching["seed"] is None
    assert matching["smd_denominator"] == "treated"


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"matching_order": "random"}, "matching_seed", "needs a seed"),
        ({"matching_seed": 3}, "matching_seed", "only with order 'random'"),
        ({"matching_ratio": 0}, "matching_ratio", "between 1 and 10"),
        ({"matching_order": "closest"}, "matching_order", "one of largest"),
        ({"smd_denominator": "control"}, "smd_denominator", "treated, pooled"),
        ({"matching_exact": ["age"]}, "matching_exact", "0/1 covariates"),
        ({"caliper_sd": 0}, "caliper_sd", "> 0"),
    ],
)
def test_a_bad_matching_option_is_refused_naming_the_field(world, options, field, words):
    with pytest.raises(ValidationError) as caught:
        queue_run(world.investigator, world.nt_cohort, ReportTemplate.REPORT_B, options=options)

    assert set(caught.value.message_dict) == {field}
    assert words in caught.value.message_dict[field][0]


def test_a_rerun_keeps_the_matching_options(world):
    from analytics.services import run_rerun

    first = queue_run(
        world.investigator, world.nt_cohort, ReportTemplate.REPORT_B, options=EVERY_OPTION
    )
    second = run_rerun(run=first, user=world.investigator, enqueue=False)

    assert second.parameters["matching"] == first.parameters["matching"]


def test_the_api_accepts_and_validates_matching_options(world):
    control, treatment = seed_arms()
    api = APIClient()
    api.force_authenticate(world.nt_investigator)
    body = {
        "template": "report_b",
        "cohort": world.nt_cohort.pk,
        "control_arm": control.pk,
        "treatment_arm": treatment.pk,
    }

    created = api.post(RUNS, {**body, **EVERY_OPTION}, format="json")
    refused = api.post(RUNS, {**body, "matching_order": "random"}, format="json")

    assert created.status_code == 201, created.json()
    run = AnalysisRun.objects.get(pk=created.json()["id"])
    assert run.parameters["matching"]["seed"] == 42
    assert created.json()["parameters"]["matching"]["exact"] == ["bclc_c", "male"]
    assert refused.status_code == 400
    assert "matching_seed" in refused.json()


def test_the_form_accepts_and_validates_matching_options(client, world):
    control, treatment = seed_arms()
    client.force_login(world.nt_investigator)
    form = {
        "template": "report_b",
        "cohort": world.nt_cohort.pk,
        "control_arm": control.pk,
        "treatment_arm": treatment.pk,
        "caliper_sd": "0.2",
        "resistance_cycles": "3",
        "matching_order": "smallest",
        "matching_ratio": "3",
        "matching_replace": "on",
        "matching_exact": ["child_pugh_b"],
        "smd_denominator": "treated",
    }

    refused = client.post(reverse("analytics:run_new"), {**form, "matching_seed": "5"})
    created = client.post(reverse("analytics:run_new"), form)

    assert refused.status_code == 200
    assert "a seed is used only with order" in refused.content.decode()
    assert created.status_code == 302
    matching = AnalysisRun.objects.get().parameters["matching"]
    assert (matching["order"], matching["ratio"], matching["replace"]) == ("smallest", 3, True)
    assert matching["exact"] == ["child_pugh_b"]

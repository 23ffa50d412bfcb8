"""Saved analysis definitions: Report A and B are two of them, over the seed groupings, and
their datasets are the arms' datasets; definitions are versioned, checked, and run by id."""

from __future__ import annotations

import pandas as pd
import pytest
from rest_framework.test import APIClient

from analytics.models import AnalysisDefinition, AnalysisRun, ArmDefinition
from analytics.selectors import build_analysis_dataset
from tests.analytics.dataset_factories import add_patient
from tests.analytics.test_run_helpers import world

__all__ = ["world"]

DEFINITIONS = "/api/v1/analytics/definitions/"


@pytest.fixture
def registry(world):
    """Nantong patients of every treatment pattern the seed arms tell apart, with baseline
    values that vary (so that no seed covariate is constant in the cohort)."""
    arms = ("systemic", "combined", "tace_alone", "tace_pd1_mtt", "tace_late_systemic", None)
    for i, (arm, history) in enumerate((a, h) for a in arms for h in (0, 2)):
        add_patient(
            world.nt,
            arm=arm,
            tace_history=history,
            sex=("male", "female")[i % 2],
            birth_year=1950 + i,
            stage=("A", "B", "C")[i % 3],
            child_pugh=("A", "B")[(i // 2) % 2],
            afp_ng_ml=10.0 * (i + 1),
        )


@pytest.mark.parametrize(
    ("definition", "control", "treatment"),
    [
        ("Report A", "Systemic therapy alone", "Local + systemic therapy"),
        ("Report B", "TACE alone", "TACE + PD-(L)1 + MTT"),
    ],
)
def test_the_seed_reports_are_definitions_whose_dataset_is_the_arms_dataset(
    world, registry, definition, control, treatment
):
    saved = AnalysisDefinition.objects.get(name=definition, version=1)
    by_arms = build_analysis_dataset(
        user=world.investigator,
        cohort=world.nt_cohort,
        control_arm=ArmDefinition.objects.get(name=control, version=1),
        treatment_arm=ArmDefinition.objects.get(name=treatment, version=1),
    )

    by_definition = build_analysis_dataset(
        user=world.investigator, cohort=world.nt_cohort, grouping=saved.grouping
    )

    assert saved.grouping.reference_label == control
    assert by_definition.frame["arm"].nunique() == 2
    pd.testing.assert_frame_equal(by_definition.frame, by_arms.frame)
    assert by_definition.sha256 == by_arms.sha256
    assert by_definition.flow[-1]["by_arm"] == {
        treatment: by_arms.flow[-1]["by_arm"][treatment],
        control: by_arms.flow[-1]["by_arm"][control],
    }


def test_a_definition_is_run_by_id_and_the_run_refers_to_that_version(world, registry):
    api = APIClient()
    api.force_authenticate(world.nt_investigator)
    saved = AnalysisDefinition.objects.get(name="Report A", version=1)

    response = api.post(
        "/api/v1/analytics/runs/",
        {"definition": saved.pk, "cohort": world.nt_cohort.pk},
        format="json",
    )

    assert response.status_code == 201, response.json()
    run = AnalysisRun.objects.get(pk=response.json()["id"])
    assert run.definition_id == saved.pk
    assert run.template == "report_a"
    assert run.compared_groups == ("Systemic therapy alone", "Local + systemic therapy")
    assert run.parameters["definition"]["version"] == 1
    assert run.parameters["options"]["covariates"][0] == "age"


def test_a_definition_is_saved_as_the_next_version_and_checked(world):
    api = APIClient()
    api.force_authenticate(world.nt_investigator)
    report_a = AnalysisDefinition.objects.get(name="Report A", version=1)
    body = {
        "name": "Report A",
        "template": "report_a",
        "grouping": report_a.grouping_id,
        "endpoints": ["os"],
        "options": {"covariates": ["age", {"variable": "ecog_ps", "coding": "continuous"}]},
    }

    saved = api.post(DEFINITIONS, body, format="json")
    bad_covariate = api.post(
        DEFINITIONS, {**body, "options": {"covariates": [{"variable": "ecog"}]}}, format="json"
    )
    bad_endpoint = api.post(DEFINITIONS, {**body, "endpoints": ["qol"]}, format="json")

    assert saved.status_code == 201, saved.json()
    assert saved.json()["version"] == 2
    assert bad_covariate.status_code == 400
    assert "unknown variable 'ecog'" in str(bad_covariate.json()["covariates"])
    assert bad_endpoint.status_code == 400
    assert "qol" in str(bad_endpoint.json())


def test_the_definitions_page_lists_arms_as_patterns_groupings_and_analyses(client, world):
    from django.urls import reverse

    client.force_login(world.nt_investigator)

    page = client.get(reverse("analytics:definitions")).content.decode()

    assert "Report A arms: local + systemic vs systemic alone v1" in page
    assert "Report B v1" in page
    assert "none of [any systemic therapy]" in page

"""run_create: who may start a run, and what a run freezes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from analytics.choices import ReportTemplate, RunStatus
from analytics.models import AnalysisRun
from analytics.services import RunNotAllowed, run_rerun, runs_visible_to
from tests.analytics.test_run_helpers import queue_run, seed_arms, world

__all__ = ["world"]


def test_a_site_investigator_may_run_a_cohort_of_their_own_site(world):
    run = queue_run(world.nt_investigator, world.nt_cohort)

    assert run.status == RunStatus.QUEUED
    assert run.created_by == world.nt_investigator


@pytest.mark.parametrize("cohort", ["sh_cohort", "both_cohort", "all_cohort"])
def test_a_site_investigator_may_not_run_a_cohort_reaching_other_sites(world, cohort):
    with pytest.raises(RunNotAllowed):
        queue_run(world.nt_investigator, getattr(world, cohort))

    assert not AnalysisRun.objects.exists()


def test_a_cohort_over_the_whole_registry_needs_registry_wide_rights(world):
    run = queue_run(world.investigator, world.all_cohort)

    assert run.parameters["cohort"]["site_ids"] == []


def test_a_data_manager_may_not_start_runs(world):
    with pytest.raises(RunNotAllowed):
        queue_run(world.nt_data_manager, world.nt_cohort)


def test_the_run_freezes_cohort_arms_covariates_matching_and_cutoff(world):
    run = queue_run(
        world.investigator,
        world.both_cohort,
        options={"covariates": ["age", "bclc_c"], "caliper_sd": 0.1, "resistance_cycles": 4},
    )
    params = run.parameters

    assert params["cohort"]["site_ids"] == sorted([world.nt.pk, world.sh.pk])
    assert params["cohort"]["version"] == 1
    assert params["cutoff_date"] == "2024-12-31"
    assert params["control_arm"]["rule"] == "systemic_alone"
    assert params["treatment_arm"]["rule"] == "local_plus_systemic"
    assert [c["name"] for c in params["covariates"]] == ["age", "bclc_c"]
    # the coding the dataset uses, from the covariate registry (stage D is coded 1 too)
    assert params["covariates"][1]["coding"] == "C or D = 1, 0/A/B = 0"
    assert params["covariates"][1]["label"] == "BCLC stage C or D (vs 0/A/B)"
    assert params["cox_models"]["selection"] == "all"
    assert params["matching"]["caliper_sd"] == 0.1
    assert params["resistance_cycles"] == 4
    # The arms are saved treatment patterns, evaluated by analytics.groupings (patterns-v1).
    assert params["rule_sets"]["arms"] == "patterns-v1"
    assert params["treatment_arm"]["pattern"]["anchor"] == "index_date"
    assert run.sections == ["patient_flow", "baseline", "survival", "cox", "response", "adverse_events"]  # fmt: skip


def test_the_run_keeps_its_parameters_when_the_cohort_is_edited_later(world):
    run = queue_run(world.investigator, world.both_cohort)
    world.both_cohort.sites.set([world.nt])

    run.refresh_from_db()
    assert run.parameters["cohort"]["site_ids"] == sorted([world.nt.pk, world.sh.pk])


def test_a_custom_report_needs_sections_and_keeps_the_reference_order(world):
    with pytest.raises(ValidationError, match="at least one section"):
        queue_run(world.investigator, world.nt_cohort, template=ReportTemplate.CUSTOM)

    run = queue_run(
        world.investigator,
        world.nt_cohort,
        template=ReportTemplate.CUSTOM,
        sections=["cox", "patient_flow"],
    )
    assert run.sections == ["patient_flow", "cox"]


def test_unknown_options_and_covariates_are_refused(world):
    with pytest.raises(ValidationError) as caught:
        queue_run(
            world.investigator,
            world.nt_cohort,
            options={"covariates": ["shoe_size"], "caliper_sd": -1},
        )

    assert set(caught.value.message_dict) == {"covariates", "caliper_sd"}


def test_the_two_arms_must_differ(world):
    control, _ = seed_arms()

    with pytest.raises(ValidationError, match="two different arms"):
        queue_run(world.investigator, world.nt_cohort, treatment_arm=control)


def test_the_task_is_queued_only_once_the_run_is_committed(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "analytics.tasks.execute_run.delay",
        lambda run_id: sent.append(run_id) or type("R", (), {"id": "task-1"})(),
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = queue_run(world.investigator, world.nt_cohort)
    assert sent == []
    for callback in callbacks:
        callback()

    assert sent == [run.pk]
    run.refresh_from_db()
    assert run.task_id == "task-1"


def test_running_again_makes_a_new_run_with_the_same_parameters(world):
    first = queue_run(world.investigator, world.both_cohort, options={"caliper_sd": 0.3})

    second = run_rerun(run=first, user=world.investigator)

    assert second.pk != first.pk
    assert second.parameters == first.parameters
    assert AnalysisRun.objects.count() == 2


def test_a_user_sees_only_runs_over_sites_within_their_rights(world):
    nt_run = queue_run(world.investigator, world.nt_cohort)
    sh_run = queue_run(world.investigator, world.sh_cohort)
    both_run = queue_run(world.investigator, world.both_cohort)
    all_run = queue_run(world.investigator, world.all_cohort)

    assert set(runs_visible_to(world.nt_investigator)) == {nt_run}
    assert set(runs_visible_to(world.sh_investigator)) == {sh_run}
    assert set(runs_visible_to(world.investigator)) == {nt_run, sh_run, both_run, all_run}
    assert not runs_visible_to(world.nt_data_manager).exists()


def test_a_cohort_without_sites_is_recorded_as_registry_wide(world):
    run = queue_run(world.investigator, world.all_cohort)

    assert run.parameters["cohort"]["sites"] == "all sites (registry-wide)"

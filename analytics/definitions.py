"""Investigator-written analysis pieces checked against the cohort before a run is queued.

``covariate_options`` turns a run's covariate list — names of the covariate registry and/or
specs from the variable dictionary ({"variable", "coding", ...}, ``analytics.variables``) —
into registry names plus the specs to rebuild them in the worker. ``preview`` builds the
cohort's analysis dataset and counts the patients of each group (the "new run" page and the
API show it before anything is queued); ``preflight`` refuses, with messages naming the
problem, a grouping with an empty group or covariates that cannot be fitted in the cohort
(constant, reference level absent, no value). Both read the dataset through
``analytics.selectors`` with the user's own rights, as the run will.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError

from analytics import covariates as registry
from analytics.groupings import DefinitionError
from analytics.models import (
    AnalysisDefinition,
    AnalysisRun,
    ArmDefinition,
    CohortDefinition,
    GroupingDefinition,
)
from analytics.variables import (
    check_covariates,
    check_groups,
    covariate_from_spec,
    group_sizes,
    materialise,
)


def covariate_options(entries: Sequence[Any], specs: Sequence[dict] = ()) -> tuple[list, list]:
    """(names, specs): registry names for ``entries`` (a registry name, a variable name, or a
    spec dict) and the specs of those built from the dictionary. ``specs`` stored on an
    earlier run are rebuilt first, so a rerun finds its covariates in any process.
    Raises ``ValidationError`` on "covariates" naming the bad entry."""
    for spec in specs:
        covariate_from_spec(spec)
    names: list[str] = []
    built: list[dict] = [dict(s) for s in specs]
    for i, entry in enumerate(entries):
        if isinstance(entry, str) and entry in registry.COVARIATES:
            names.append(entry)
            continue
        try:
            covariate = covariate_from_spec(entry)
        except DefinitionError as error:
            raise ValidationError(
                {"covariates": f"covariate {i + 1} ({entry!r}): {error}"}
            ) from None
        names.append(covariate.name)
        spec = {"variable": entry} if isinstance(entry, str) else dict(entry)
        if spec not in built:
            built.append(spec)
    return list(dict.fromkeys(names)), built


def dataset_for(
    user,
    cohort: CohortDefinition,
    *,
    grouping: GroupingDefinition | None = None,
    control_arm: ArmDefinition | None = None,
    treatment_arm: ArmDefinition | None = None,
):
    from analytics.selectors import build_analysis_dataset

    return build_analysis_dataset(
        user=user,
        cohort=cohort,
        grouping=grouping,
        control_arm=control_arm,
        treatment_arm=treatment_arm,
    )


def group_labels(
    grouping: GroupingDefinition | None,
    control_arm: ArmDefinition | None,
    treatment_arm: ArmDefinition | None,
) -> list[str]:
    if grouping is not None:
        return grouping.grouping().labels
    return [control_arm.name, treatment_arm.name]


def preview(
    user,
    cohort: CohortDefinition,
    *,
    grouping: GroupingDefinition | None = None,
    control_arm: ArmDefinition | None = None,
    treatment_arm: ArmDefinition | None = None,
) -> dict[str, Any]:
    """Patients per group in the cohort today, and the flow that led there."""
    dataset = dataset_for(
        user, cohort, grouping=grouping, control_arm=control_arm, treatment_arm=treatment_arm
    )
    step = dataset.flow[-1]
    sizes = dict(step.get("by_arm", {}))
    sizes["(in no group)"] = sum(step.get("excluded", {}).values())
    return {"groups": sizes, "flow": dataset.flow, "patients": len(dataset.frame)}


def preflight(
    user,
    cohort: CohortDefinition,
    *,
    grouping: GroupingDefinition | None,
    control_arm: ArmDefinition | None,
    treatment_arm: ArmDefinition | None,
    covariate_names: Sequence[str],
) -> dict[str, int]:
    """Refuse what cannot be analysed in this cohort; return the group sizes otherwise."""
    dataset = dataset_for(
        user, cohort, grouping=grouping, control_arm=control_arm, treatment_arm=treatment_arm
    )
    labels = group_labels(grouping, control_arm, treatment_arm)
    frame = dataset.frame
    errors: dict[str, list[str]] = {}
    empty = check_groups(frame["arm"], labels)
    if empty:
        errors["grouping"] = empty
    covariates = [registry.get(name) for name in covariate_names]
    problems = check_covariates(frame, covariates) if len(frame) else []
    if problems:
        errors["covariates"] = problems
    if errors:
        raise ValidationError(errors)
    return group_sizes(frame["arm"], labels)


def materialise_run_covariates(frame, options: dict[str, Any]):
    """The dataset with the coded column of every covariate the run built from the
    dictionary (so the report and the exported dataset carry them)."""
    specs = options.get("covariate_specs") or []
    if not specs:
        return frame
    return materialise(frame, [covariate_from_spec(spec) for spec in specs])


# --- run options and execution of the investigator-defined parts (called by services) ------


def clean_analyses(options: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Landmark time (months, > 0) and subgroup variables (grouping variables of the
    dictionary: categorical, ordinal or binary), or nothing."""
    from analytics.groupings import DefinitionError
    from analytics.variables import Kind
    from analytics.variables import get as variable

    out: dict[str, Any] = {}
    at = options.get("landmark_months")
    if at not in (None, ""):
        try:
            out["landmark_months"] = float(at)
            if not 0 < out["landmark_months"] < 1200:
                raise ValueError
        except (TypeError, ValueError):
            errors["landmark_months"] = f"The landmark is a time in months above 0, not {at!r}."
    names = options.get("subgroup_variables") or []
    for name in names:
        try:
            kind = variable(str(name)).kind
        except DefinitionError as error:
            errors["subgroup_variables"] = str(error)
            break
        if kind == Kind.CONTINUOUS:
            errors["subgroup_variables"] = (
                f"{name} is continuous: subgroups are the levels of a categorical, ordinal or "
                "binary variable"
            )
            break
    else:
        if names:
            out["subgroup_variables"] = [str(n) for n in names]
    return out


def engine_sections(run: AnalysisRun) -> list[str] | None:
    """The sections the report engine computes: all but "groups" (which compares every group
    of the grouping, appended by ``groups_section``)."""
    if not run.sections:
        return None
    return [s for s in run.sections if s != "groups"] or ["patient_flow"]


def groups_section(run: AnalysisRun, frame, options: dict[str, Any]):
    from analytics.reports.sections.groups import build_groups_section

    grouping = run.parameters.get("grouping")
    reference, compared = run.compared_groups
    groups = list(grouping["groups"]) if grouping else [reference, compared]
    return build_groups_section(frame, groups, reference, options)


def run_definition(
    *,
    user,
    definition: AnalysisDefinition,
    cohort: CohortDefinition | None = None,
    title: str = "",
    enqueue: bool = True,
) -> AnalysisRun:
    """Queue a run of one version of a saved analysis definition (over its cohort, or
    ``cohort`` when the definition leaves it to the run)."""
    cohort = definition.cohort or cohort
    if cohort is None:
        raise ValidationError({"cohort": f"{definition} needs a cohort to run on."})
    if definition.cohort is not None and cohort != definition.cohort:
        raise ValidationError(
            {"cohort": f"{definition} runs on its own cohort {definition.cohort}."}
        )
    from analytics.services import run_create

    return run_create(
        user=user,
        template=definition.template,
        cohort=cohort,
        grouping=definition.grouping,
        options=definition.options,
        sections=definition.sections or None,
        title=title or f"{definition} on {cohort}",
        enqueue=enqueue,
        definition=definition,
    )

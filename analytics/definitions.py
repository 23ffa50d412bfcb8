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
from analytics.models import ArmDefinition, CohortDefinition, GroupingDefinition
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

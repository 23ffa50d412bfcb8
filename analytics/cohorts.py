"""Saving cohort and arm definitions as new versions (services; reads are in selectors).

A definition is never edited in place: an analysis run refers to one version, so changing a
cohort or an arm saves the next version under the same name and old runs keep reproducing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from analytics.models import (
    AnalysisDefinition,
    ArmDefinition,
    CohortDefinition,
    GroupingDefinition,
)
from registry.access import Action, site_ids_for
from registry.models import Site

COHORT_FIELDS = (
    "description",
    "index_date_from",
    "index_date_to",
    "bclc_stages",
    "bclc_source",
    "child_pugh_classes",
    "refractoriness_rule_set",
    "require_refractory",
    "exclude_ineligible",
    "cutoff_date",
)
ARM_FIELDS = ("rule", "window_days", "pattern", "description")


def _require_analyst(user) -> set[int] | None:
    """The sites ``user`` may analyse (None: all); refuse a user who may analyse none."""
    if user is None:  # scripts and migrations
        return None
    visible = site_ids_for(user, Action.ANALYSE)
    if visible is not None and not visible:
        raise PermissionDenied("You may not define analyses: you have no site to analyse.")
    return visible


def _next_version(model, name: str) -> int:
    last = (
        model.objects.select_for_update()
        .filter(name=name)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return (last or 0) + 1


@transaction.atomic
def cohort_create_version(
    *, name: str, user=None, sites: Iterable[Site] = (), **fields
) -> CohortDefinition:
    """Save a cohort definition as the next version of ``name`` (version 1 if the name is new).

    ``sites`` must be sites the user may analyse (empty: every site the user may see).
    """
    visible = _require_analyst(user)
    sites = list(sites)
    outside = [s.code for s in sites if visible is not None and s.pk not in visible]
    if outside:
        raise ValidationError(
            {"sites": f"You may not analyse site(s) {', '.join(sorted(outside))}."}
        )
    cohort = CohortDefinition(
        name=name,
        version=_next_version(CohortDefinition, name),
        created_by=user if user is not None and user.is_authenticated else None,
        **fields,
    )
    cohort.full_clean()
    cohort.save()
    cohort.sites.set(sites)
    return cohort


def cohort_revise(*, cohort: CohortDefinition, user=None, **changes) -> CohortDefinition:
    """The next version of ``cohort`` with ``changes`` applied; the given version is unchanged."""
    fields = {name: getattr(cohort, name) for name in COHORT_FIELDS}
    sites = changes.pop("sites", list(cohort.sites.all()))
    unknown = set(changes) - set(COHORT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown cohort field(s): {', '.join(sorted(unknown))}")
    fields.update(changes)
    return cohort_create_version(name=cohort.name, user=user, sites=sites, **fields)


@transaction.atomic
def arm_create_version(*, name: str, user=None, **fields) -> ArmDefinition:
    """Save an arm definition as the next version of ``name`` (version 1 if the name is new)."""
    _require_analyst(user)
    arm = ArmDefinition(name=name, version=_next_version(ArmDefinition, name), **fields)
    arm.full_clean()
    arm.save()
    return arm


def arm_revise(*, arm: ArmDefinition, user=None, **changes) -> ArmDefinition:
    """The next version of ``arm`` with ``changes`` applied; the given version is unchanged."""
    unknown = set(changes) - set(ARM_FIELDS)
    if unknown:
        raise TypeError(f"Unknown arm field(s): {', '.join(sorted(unknown))}")
    fields = {name: getattr(arm, name) for name in ARM_FIELDS} | changes
    if "pattern" not in changes and ({"rule", "window_days"} & set(changes)):
        # The pattern follows a changed seed rule or window (ArmDefinition.save rebuilds a
        # seed rule's pattern; a written pattern keeps its clauses with the new window end).
        if fields["rule"]:
            fields["pattern"] = {}
        else:
            fields["pattern"] = {**arm.pattern, "window_end_days": fields["window_days"]}
    return arm_create_version(name=arm.name, user=user, **fields)


@transaction.atomic
def grouping_create_version(
    *, name: str, kind: str, spec: dict, reference: str = "", description: str = "", user=None
) -> GroupingDefinition:
    """Save a grouping definition as the next version of ``name`` (version 1 if new).

    Validated first (``GroupingDefinition.clean``): an unknown variable, level, anchor or
    treatment term, fewer than two groups or an unknown reference is refused naming it."""
    _require_analyst(user)
    grouping = GroupingDefinition(
        name=name,
        version=_next_version(GroupingDefinition, name),
        kind=kind,
        spec=spec,
        reference=reference,
        description=description,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    grouping.full_clean()
    grouping.save()
    return grouping


@transaction.atomic
def analysis_create_version(*, name: str, user=None, **fields) -> AnalysisDefinition:
    """Save an analysis definition as the next version of ``name`` (version 1 if new).

    Its options are checked as a run's would be (``services._clean_options``: unknown
    covariate, coding not allowed, bad matching option…) and its grouping must have the two
    groups the report sections compare; cohort-dependent checks wait for the run."""
    from analytics.services import _clean_options, _clean_sections, _two_groups

    _require_analyst(user)
    definition = AnalysisDefinition(
        name=name,
        version=_next_version(AnalysisDefinition, name),
        created_by=user if user is not None and user.is_authenticated else None,
        **fields,
    )
    definition.full_clean()
    _clean_sections(definition.template, definition.sections or None)
    _clean_options(definition.template, definition.options)
    _two_groups(definition.grouping, definition.sections or None)
    definition.save()
    return definition

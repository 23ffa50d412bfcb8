"""Analysis runs: create (who may, and with which frozen parameters), execute, rerun.

A run copies everything that defines it into ``AnalysisRun.parameters`` when it is queued, so
it reproduces later even if a cohort or an arm definition is edited; running again makes a new
run (``run_rerun``). Execution happens in a Celery task that calls ``run_execute`` with the id.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import platform
import time
import traceback
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from analytics import covariates as covariate_registry
from analytics.arms import ARM_RULES_VERSION
from analytics.choices import ReportTemplate, RunStatus
from analytics.models import (
    AnalysisDefinition,
    AnalysisRun,
    ArmDefinition,
    CohortDefinition,
    GroupingDefinition,
    RunOutput,
)
from registry.access import Action, site_ids_for
from registry.derivations.albi import ALBI_VERSION
from registry.derivations.bclc import BCLC_VERSION
from registry.derivations.child_pugh import CHILD_PUGH_VERSION
from registry.derivations.refractoriness import REFRACTORINESS_VERSION
from registry.derivations.response import RESPONSE_VERSION
from registry.derivations.survival import SURVIVAL_VERSION
from registry.endpoints import DEFAULT_RESISTANCE_CYCLES

logger = logging.getLogger(__name__)

# Sections of the two reference reports (ANALYSIS.md); the report engine owns what each one
# computes, these are the codes a custom run may pick from.
REPORT_SECTIONS: dict[str, list[str]] = {
    ReportTemplate.REPORT_A: [
        "patient_flow",
        "baseline",
        "survival",
        "cox",
        "response",
        "adverse_events",
    ],
    ReportTemplate.REPORT_B: ["patient_flow", "matching", "resistance", "survival"],
}
SECTION_LABELS: dict[str, str] = {
    "patient_flow": "Patient flow",
    "baseline": "Baseline characteristics (Table 1)",
    "survival": "Kaplan–Meier OS and PFS, log-rank",
    "cox": "Multivariable Cox models for OS and PFS, forest plots",
    "response": "Best response, ORR and DCR",
    "adverse_events": "Adverse events by CTCAE term",
    "matching": "Propensity score matching and balance",
    "resistance": "TACE resistance after N cycles",
    "subgroups": "Landmark and subgroup analyses (forest plot)",
    "groups": "Two or more groups: KM by group, log-rank (k − 1 df), Holm-adjusted pairs, Cox",
}

# Covariates and their coding live in the covariate registry; seed 002's list is the default.
DEFAULT_COVARIATES = list(covariate_registry.SEED002_COVARIATES)
DEFAULT_CALIPER_SD = 0.2
# Matching options of a run (flat keys, as the form and API send them) → the field of
# analytics.stats.matching.MatchingOptions that validates them. caliper_sd predates the others.
MATCHING_OPTION_FIELDS: dict[str, str] = {
    "caliper_sd": "caliper_sd",
    "matching_order": "order",
    "matching_ratio": "ratio",
    "matching_replace": "replace",
    "matching_exact": "exact",
    "matching_seed": "seed",
    "smd_denominator": "smd_denominator",
}
# Exact matching on a 0/1 covariate only: exact matching on a continuous one pairs nobody.
EXACT_MATCHING_COVARIATES = [
    name
    for name in covariate_registry.SEED002_COVARIATES
    if covariate_registry.get(name).coding == covariate_registry.Coding.BINARY
]
# Which covariates enter the multivariable Cox model (univariable models are always fitted).
COX_SELECTIONS = {
    "all": "every listed covariate (a fixed list, as seed 002)",
    "univariable_p": "covariates with a univariable P below the threshold",
}
DEFAULT_COX_SELECTION = "all"
DEFAULT_COX_P_THRESHOLD = 0.1
ENDPOINTS = {
    "os": "overall survival: index date to death from any cause, censored at last contact "
    "or the data cut-off",
    "pfs": "progression-free survival: index date to progression or death, censored at the "
    "last adequate imaging or the data cut-off",
}
PACKAGES = [
    "django",
    "djangorestframework",
    "celery",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "lifelines",
    "firthmodels",
    "matplotlib",
    "weasyprint",
    "openpyxl",
    "pyreadstat",
]
# A run whose worker died this many times (hard time limit, out of memory) is not handed to
# a third worker: it would die again and loop through the queue forever.
MAX_ATTEMPTS = 2


class RunNotAllowed(PermissionDenied):
    """The user may not analyse every patient the cohort covers."""


# --- access ------------------------------------------------------------------------------


def user_can_analyse(user) -> bool:
    """Whether the user may run analyses at all (on at least one site)."""
    ids = site_ids_for(user, Action.ANALYSE)
    return ids is None or bool(ids)


def _covers(user, cohort_site_ids: Iterable[int]) -> bool:
    """Whether ``user`` may analyse every site of a cohort; no sites = the whole registry."""
    visible = site_ids_for(user, Action.ANALYSE)
    if visible is None:
        return True
    wanted = set(cohort_site_ids)
    # A cohort over "all sites" also covers sites registered later, so only registry-wide
    # analysis rights can vouch for it.
    return bool(wanted) and wanted <= visible


def cohort_site_ids(cohort: CohortDefinition) -> list[int]:
    return sorted(cohort.sites.values_list("id", flat=True))


def user_may_analyse_cohort(user, cohort: CohortDefinition) -> bool:
    return user_can_analyse(user) and _covers(user, cohort_site_ids(cohort))


def user_may_see_run(user, run: AnalysisRun) -> bool:
    """Reading a run (page, progress, files) needs the same rights as starting it.

    Checked against the site ids frozen into the run, so narrowing a cohort afterwards never
    opens an old run over more sites to fewer users.
    """
    site_ids = (run.parameters or {}).get("cohort", {}).get("site_ids", [])
    return user_can_analyse(user) and _covers(user, site_ids)


def runs_visible_to(user) -> QuerySet[AnalysisRun]:
    runs = AnalysisRun.objects.select_related("cohort", "control_arm", "treatment_arm", "grouping")
    visible = site_ids_for(user, Action.ANALYSE)
    if visible is None:
        return runs
    if not visible:
        return runs.none()
    allowed = [
        pk
        for pk, site_ids in AnalysisRun.objects.values_list("pk", "parameters__cohort__site_ids")
        if site_ids and set(site_ids) <= visible
    ]
    return runs.filter(pk__in=allowed)


def cohorts_visible_to(user) -> QuerySet[CohortDefinition]:
    """Cohorts the user may start a run on."""
    cohorts = CohortDefinition.objects.prefetch_related("sites")
    visible = site_ids_for(user, Action.ANALYSE)
    if visible is None:
        return cohorts
    return cohorts.filter(sites__isnull=False).exclude(sites__in=_sites_outside(visible)).distinct()


def _sites_outside(visible: set[int]):
    from registry.models import Site

    return Site.objects.exclude(id__in=visible)


# --- create ------------------------------------------------------------------------------


def _clean_options(template: str, options: dict[str, Any] | None) -> dict[str, Any]:
    options = dict(options or {})
    errors: dict[str, str] = {}
    from analytics.definitions import covariate_options

    covariates = options.get("covariates") or DEFAULT_COVARIATES
    try:
        covariates, specs = covariate_options(covariates, options.get("covariate_specs") or [])
    except ValidationError as error:
        errors.update({k: " ".join(v) for k, v in error.message_dict.items()})
        specs = []
    matching = _clean_matching(options, errors)
    selection = options.get("cox_selection") or DEFAULT_COX_SELECTION
    if selection not in COX_SELECTIONS:
        errors["cox_selection"] = f"Choose one of: {', '.join(COX_SELECTIONS)}."
    try:
        threshold = float(options.get("cox_p_threshold", DEFAULT_COX_P_THRESHOLD))
        if not 0 < threshold <= 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["cox_p_threshold"] = "The selection P threshold is a number in (0, 1], e.g. 0.1."
        threshold = DEFAULT_COX_P_THRESHOLD
    try:
        cycles = int(options.get("resistance_cycles", DEFAULT_RESISTANCE_CYCLES))
        if not 1 <= cycles <= 20:
            raise ValueError
    except (TypeError, ValueError):
        errors["resistance_cycles"] = "Resistance is assessed after 1 to 20 TACE cycles."
        cycles = DEFAULT_RESISTANCE_CYCLES
    from analytics.definitions import clean_analyses

    analyses = clean_analyses(options, errors)
    extra = set(options) - {
        "covariates",
        "covariate_specs",
        "landmark_months",
        "subgroup_variables",
        "cox_include_grouping",
        "resistance_cycles",
        "cox_selection",
        "cox_p_threshold",
        *MATCHING_OPTION_FIELDS,
    }
    if extra:
        errors["options"] = f"Unknown option(s): {', '.join(sorted(extra))}."
    if errors:
        raise ValidationError(errors)
    return {
        "covariates": list(covariates),
        **({"covariate_specs": specs} if specs else {}),
        "resistance_cycles": cycles,
        "cox_selection": selection,
        "cox_p_threshold": threshold,
        **analyses,
        **(
            {"cox_include_grouping": bool(options["cox_include_grouping"])}
            if "cox_include_grouping" in options
            else {}
        ),
        **matching,
    }


def _clean_matching(options: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The matching options, every one spelled out; the rules are MatchingOptions'."""
    from analytics.stats.matching import MatchingOptionError, MatchingOptions

    values = {
        field: options[key] for key, field in MATCHING_OPTION_FIELDS.items() if key in options
    }
    values.setdefault("caliper_sd", DEFAULT_CALIPER_SD)
    if isinstance(values["caliper_sd"], int) and not isinstance(values["caliper_sd"], bool):
        values["caliper_sd"] = float(values["caliper_sd"])
    if values["caliper_sd"] is None:
        errors["caliper_sd"] = "The caliper is a positive number of SDs of the logit (e.g. 0.2)."
    elif isinstance(values["caliper_sd"], str):
        try:
            values["caliper_sd"] = float(values["caliper_sd"])
        except ValueError:
            errors["caliper_sd"] = (
                "The caliper is a positive number of SDs of the logit (e.g. 0.2)."
            )
    exact = values.get("exact") or []
    unknown = [v for v in exact if v not in EXACT_MATCHING_COVARIATES]
    if unknown:
        errors["matching_exact"] = (
            f"Exact matching is on 0/1 covariates ({', '.join(EXACT_MATCHING_COVARIATES)}); "
            f"not: {', '.join(map(str, unknown))}."
        )
    if "exact" in values:
        values["exact"] = tuple(exact)
    if "caliper_sd" in errors or "matching_exact" in errors:
        return {}
    try:
        matching = MatchingOptions(**values)
    except MatchingOptionError as error:
        key = next(k for k, f in MATCHING_OPTION_FIELDS.items() if f == error.option)
        errors[key] = str(error)
        return {}
    stored = matching.as_dict()
    return {key: stored[field] for key, field in MATCHING_OPTION_FIELDS.items()}


def _clean_sections(template: str, sections: list[str] | None) -> list[str]:
    if template != ReportTemplate.CUSTOM:
        if sections:
            raise ValidationError({"sections": "Sections are chosen only for a custom report."})
        return list(REPORT_SECTIONS[template])
    if not sections:
        raise ValidationError({"sections": "A custom report needs at least one section."})
    unknown = [s for s in sections if s not in SECTION_LABELS]
    if unknown:
        raise ValidationError({"sections": f"Unknown section(s): {', '.join(unknown)}."})
    # Keep the reading order of the reference reports whatever order they were ticked in.
    return [s for s in SECTION_LABELS if s in set(sections)]


def run_parameters(
    *,
    template: str,
    cohort: CohortDefinition,
    control_arm: ArmDefinition | None,
    treatment_arm: ArmDefinition | None,
    options: dict[str, Any],
    sections: list[str],
    grouping: GroupingDefinition | None = None,
) -> dict[str, Any]:
    """Everything that defines a run, frozen as JSON so it survives later edits.

    With a grouping, "control_arm"/"treatment_arm" name its reference and compared group
    (the report's two columns) and "grouping" holds the definition."""
    if grouping is not None:
        reference, compared = _two_groups(grouping, sections)
        arms = {
            "control_arm": {"name": reference, "grouping_group": True},
            "treatment_arm": {"name": compared, "grouping_group": True},
            "grouping": {"id": grouping.pk, **grouping.describe()},
        }
    else:
        arms = {
            "control_arm": {"id": control_arm.pk, **control_arm.describe()},
            "treatment_arm": {"id": treatment_arm.pk, **treatment_arm.describe()},
        }
    return {
        "template": template,
        "sections": sections,
        "cohort": _cohort_parameters(cohort),
        **arms,
        "cutoff_date": cohort.cutoff_date.isoformat(),
        "endpoints": ENDPOINTS,
        "covariates": [covariate_registry.get(name).describe() for name in options["covariates"]],
        "covariates_version": covariate_registry.COVARIATES_VERSION,
        "cox_models": {
            "univariable": "the arm and every listed covariate, one at a time",
            "multivariable": COX_SELECTIONS[options["cox_selection"]],
            "selection": options["cox_selection"],
            "p_threshold": options["cox_p_threshold"]
            if options["cox_selection"] == "univariable_p"
            else None,
        },
        "matching": _matching_parameters(options),
        "resistance_cycles": options["resistance_cycles"],
        "analyses": {
            key: options[key] for key in ("landmark_months", "subgroup_variables") if key in options
        },
        "rule_sets": {
            "tace_refractoriness": cohort.refractoriness_rule_set or None,
            "refractoriness_derivation": REFRACTORINESS_VERSION,
            "arms": ARM_RULES_VERSION,
            "survival": SURVIVAL_VERSION,
            "response": RESPONSE_VERSION,
            "albi": ALBI_VERSION,
            "child_pugh": CHILD_PUGH_VERSION,
            "bclc": BCLC_VERSION,
        },
        "options": options,
    }


# Sections that compare any number of groups; every other section compares two.
K_GROUP_SECTIONS = frozenset({"patient_flow", "groups"})


def _two_groups(grouping: GroupingDefinition, sections: list[str] | None = None) -> tuple[str, str]:
    """(reference, compared) of a grouping: the report's two columns. A grouping of more
    than two groups is allowed only for a report of the k-group sections, where the pair
    only names the reference (the "groups" section compares them all)."""
    labels = grouping.grouping().labels
    reference = grouping.reference_label
    if len(labels) != 2 and not (sections and set(sections) <= K_GROUP_SECTIONS):
        raise ValidationError(
            {
                "grouping": f"{grouping} has {len(labels)} groups ({', '.join(labels)}); the "
                "report sections compare two groups — for more, choose a custom report with "
                "the 'groups' section (and the patient flow)"
            }
        )
    return reference, next(label for label in labels if label != reference)


def _matching_parameters(options: dict[str, Any]) -> dict[str, Any]:
    """Every matching option of the run, and the method in words (report provenance)."""
    from analytics.stats.matching import MatchingOptions

    matching = MatchingOptions.from_dict(
        {field: options[key] for key, field in MATCHING_OPTION_FIELDS.items() if key in options}
    )
    return {
        "method": matching.describe(),
        "distance": "logit of the propensity score (logistic regression of the arm on the "
        "covariates)",
        "covariates": options["covariates"],
        **matching.as_dict(),
    }


def _cohort_parameters(cohort: CohortDefinition) -> dict[str, Any]:
    described = {"id": cohort.pk, "site_ids": cohort_site_ids(cohort), **cohort.describe()}
    if not described["site_ids"]:
        # Only registry-wide investigators may run such a cohort, so it is every site.
        described["sites"] = "all sites (registry-wide)"
    return described


@transaction.atomic
def run_create(
    *,
    user,
    template: str,
    cohort: CohortDefinition,
    control_arm: ArmDefinition | None = None,
    treatment_arm: ArmDefinition | None = None,
    grouping: GroupingDefinition | None = None,
    options: dict[str, Any] | None = None,
    sections: list[str] | None = None,
    title: str = "",
    enqueue: bool = True,
    definition: AnalysisDefinition | None = None,
) -> AnalysisRun:
    """Queue an analysis run; refuse unless ``user`` may analyse every patient of the cohort.

    The groups are two arms, or a grouping definition. A run with a grouping or with
    covariates from the variable dictionary is checked against the cohort first
    (``analytics.definitions.preflight``): an empty group or a covariate that cannot be
    fitted is refused with a message naming it, and nothing is queued."""
    if not user_may_analyse_cohort(user, cohort):
        raise RunNotAllowed(
            "You may analyse only cohorts restricted to sites where you hold analysis rights; "
            "a cohort over all sites needs registry-wide analysis rights."
        )
    if template not in ReportTemplate.values:
        raise ValidationError({"template": f"Unknown report template {template!r}."})
    clean_sections = _clean_sections(template, sections)
    clean_options = _clean_options(template, options)
    if grouping is not None and (control_arm is not None or treatment_arm is not None):
        raise ValidationError({"grouping": "Choose either a grouping or two arms, not both."})
    if grouping is None and (control_arm is None or treatment_arm is None):
        raise ValidationError({"treatment_arm": "Choose two arms to compare, or a grouping."})
    if grouping is not None:
        _two_groups(grouping, clean_sections)
    if grouping is not None or clean_options.get("covariate_specs"):
        from analytics.definitions import preflight

        preflight(
            user,
            cohort,
            grouping=grouping,
            control_arm=control_arm,
            treatment_arm=treatment_arm,
            covariate_names=clean_options["covariates"],
        )
    run = AnalysisRun(
        created_by=user,
        template=template,
        title=title or f"{ReportTemplate(template).label.split(' — ')[0]} on {cohort}",
        sections=clean_sections,
        cohort=cohort,
        control_arm=control_arm,
        treatment_arm=treatment_arm,
        grouping=grouping,
        definition=definition,
        parameters=run_parameters(
            template=template,
            cohort=cohort,
            control_arm=control_arm,
            treatment_arm=treatment_arm,
            grouping=grouping,
            options=clean_options,
            sections=clean_sections,
        ),
        status=RunStatus.QUEUED,
        progress_message="Waiting for a worker",
    )
    if definition is not None:
        run.parameters["definition"] = definition.describe()
    run.full_clean()
    run.save()
    if enqueue:
        transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from analytics.tasks import execute_run

    result = execute_run.delay(run_id)
    AnalysisRun.objects.filter(pk=run_id, task_id="").update(task_id=result.id or "")


def run_rerun(*, run: AnalysisRun, user, enqueue: bool = True) -> AnalysisRun:
    """A new run with the parameters of ``run`` (runs themselves never change)."""
    options = (run.parameters or {}).get("options") or {}
    return run_create(
        user=user,
        template=run.template,
        cohort=run.cohort,
        control_arm=run.control_arm,
        treatment_arm=run.treatment_arm,
        grouping=run.grouping,
        definition=run.definition,
        options=options,
        sections=run.sections if run.template == ReportTemplate.CUSTOM else None,
        title=run.title,
        enqueue=enqueue,
    )


# --- execute -----------------------------------------------------------------------------


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _progress_writer(run_id: int):
    def progress(pct: float, message: str = "", *args: Any, **kwargs: Any) -> None:
        # The report engine reports 0–100 of its own work; it owns 10–85 % of the run. It
        # calls this twice per section, so one tiny UPDATE per call costs nothing.
        _set_progress(run_id, int(10 + 0.75 * float(pct)), message)

    return progress


def _set_progress(run_id: int, pct: int, message: str) -> None:
    AnalysisRun.objects.filter(pk=run_id).update(
        progress_pct=max(0, min(100, pct)), progress_message=str(message)[:200]
    )


def _error_text(exc: BaseException) -> str:
    """The message and a short traceback: enough to act on, kept on the run forever."""
    summary = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-8)
    return f"{type(exc).__name__}: {exc}\n\n" + "".join(summary)[-6000:]


def _claim(run_id: int) -> AnalysisRun | None:
    """Mark the run running; None when it already finished (a redelivered task)."""
    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().get(pk=run_id)
        if run.finished:
            return None
        attempts = int((run.provenance or {}).get("attempts", 0)) + 1
        if attempts > MAX_ATTEMPTS:
            run.status = RunStatus.FAILED
            run.finished_at = timezone.now()
            run.error = (
                f"The worker computing this run stopped {attempts - 1} times without finishing "
                "(killed at the hard time limit or out of memory); it is not retried again. "
                f"Last step: {run.progress_message or 'unknown'}."
            )
            run.save()
            return None
        # A redelivered run whose worker died mid-way starts again from scratch.
        for output in run.outputs.all():
            output.file.delete(save=False)
        run.outputs.all().delete()
        run.status = RunStatus.RUNNING
        run.started_at = timezone.now()
        run.finished_at = None
        run.error = ""
        run.warnings = []
        run.progress_pct = 1
        run.progress_message = "Building the analysis dataset"
        run.provenance = {"attempts": attempts}
        run.save()
        return run


def run_execute(run_id: int) -> str:
    """Build the dataset, compute the report, render and store every output.

    Returns the final status. Any exception marks the run failed with its error and a short
    traceback; the exception is not re-raised so the broker does not redeliver a run that
    would fail again the same way.
    """
    run = _claim(run_id)
    if run is None:
        logger.info("analysis run %s already finished; not recomputed", run_id)
        return AnalysisRun.objects.values_list("status", flat=True).get(pk=run_id)
    try:
        status = _execute(run)
    except BaseException as exc:
        logger.exception("analysis run %s failed", run_id)
        AnalysisRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED,
            error=_error_text(exc),
            finished_at=timezone.now(),
        )  # progress_message is kept: it says which step failed
        if not isinstance(exc, Exception):
            raise  # SystemExit, KeyboardInterrupt: let the worker die and the task redeliver
        return RunStatus.FAILED
    return status


def build_provenance(run: AnalysisRun, dataset) -> dict[str, Any]:
    parameters = run.parameters
    return {
        "run_id": run.pk,
        "title": run.title,
        "template": run.get_template_display(),
        "registry_version": settings.REGISTRY_VERSION,
        "created_by": run.created_by.get_username(),
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "cutoff_date": parameters["cutoff_date"],
        "cohort": parameters["cohort"],
        "control_arm": parameters["control_arm"],
        "treatment_arm": parameters["treatment_arm"],
        "endpoints": parameters["endpoints"],
        "covariates": parameters["covariates"],
        "cox_models": parameters.get("cox_models"),
        "matching": parameters["matching"],
        "resistance_cycles": parameters["resistance_cycles"],
        "analyses": parameters.get("analyses") or {},
        "rule_sets": parameters["rule_sets"],
        "package_versions": package_versions(),
        "dataset_sha256": dataset.sha256,
        "dataset_rows": len(dataset.frame),
        "patient_flow": dataset.flow,
        "endpoint_exclusions": dataset.endpoint_exclusions,
    }


def _execute(run: AnalysisRun) -> str:
    from analytics.selectors import build_analysis_dataset

    if not user_may_see_run(run.created_by, run):
        # Rights can be withdrawn between queueing and running; the dataset would then
        # silently shrink to the sites still allowed, so refuse instead.
        raise RunNotAllowed(
            f"{run.created_by.get_username()} no longer holds analysis rights on every site "
            "of this run's cohort."
        )
    clock = time.perf_counter()
    from analytics.definitions import engine_sections, groups_section, materialise_run_covariates

    dataset = build_analysis_dataset(
        user=run.created_by,
        cohort=run.cohort,
        control_arm=run.control_arm,
        treatment_arm=run.treatment_arm,
        # Resistance after N cycles is evaluated with the run's N, not read from the N = 3
        # the registry stores.
        resistance_cycles=int(run.parameters.get("resistance_cycles", DEFAULT_RESISTANCE_CYCLES)),
        grouping=run.grouping,
    )
    # Covariates built from the variable dictionary: registered again in this process and
    # their coded columns added, so the report fits them and the exported dataset has them.
    coded = materialise_run_covariates(dataset.frame, run.parameters["options"])
    if coded is not dataset.frame:
        from analytics.columns import dataset_hash

        dataset.frame, dataset.sha256 = coded, dataset_hash(coded)
    if "site_patient_ref" in dataset.frame.columns:  # never, but never is worth a check
        raise RuntimeError("the analysis dataset must not contain site patient references")
    timings = {"dataset_s": round(time.perf_counter() - clock, 1)}
    _set_progress(run.pk, 10, f"Dataset built: {len(dataset.frame)} patients; computing")
    # Imported here, not at module level: the web process never pays for matplotlib/WeasyPrint.
    from analytics.reports import build_report
    from analytics.reports import render as renderers

    provenance = build_provenance(run, dataset)
    options = run.parameters["options"]
    clock = time.perf_counter()
    report = build_report(
        run.template,
        dataset.frame,
        flow=dataset.flow,
        endpoint_exclusions=dataset.endpoint_exclusions,
        provenance=provenance,
        control_arm=run.compared_groups[0],
        treatment_arm=run.compared_groups[1],
        options=options,
        sections=engine_sections(run),
        progress=_progress_writer(run.pk),
    )
    if "groups" in (run.sections or []):
        report.sections.append(groups_section(run, dataset.frame, options))
    timings["statistics_s"] = round(time.perf_counter() - clock, 1)
    clock = time.perf_counter()
    files = _render_all(run, report, dataset.frame, renderers, timings)
    timings["rendering_s"] = round(time.perf_counter() - clock, 1)
    with transaction.atomic():
        for kind, name, content in files:
            _store_output(run, kind, name, content)
        result = _report_summary(report)
        warnings = list(report.warnings())
        status = RunStatus.SUCCEEDED_WITH_WARNINGS if warnings else RunStatus.SUCCEEDED
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=status,
            warnings=warnings,
            progress_pct=100,
            progress_message="Finished",
            finished_at=timezone.now(),
            dataset_sha256=dataset.sha256,
            provenance={
                **provenance,
                "attempts": run.provenance.get("attempts", 1),
                "timings": timings,
            },
            result=result,
        )
    return status


def _render_all(
    run: AnalysisRun, report, frame, renderers, timings: dict[str, float]
) -> list[tuple[str, str, bytes]]:
    """Every output file as (kind, file name, bytes), in the order they are listed."""
    stem = f"run-{run.pk}"
    kinds = RunOutput.Kind
    files: list[tuple[str, str, bytes]] = []
    steps = [
        ("HTML report", lambda: [(kinds.HTML, f"{stem}-report.html", _text(renderers.render_html(report)))]),
        ("PDF report", lambda: [(kinds.PDF, f"{stem}-report.pdf", renderers.render_pdf(report))]),
        ("workbook", lambda: [(kinds.XLSX, f"{stem}-tables.xlsx", renderers.render_xlsx(report))]),
        ("table CSVs", lambda: [
            (kinds.CSV, _named(stem, name, ".csv"), content)
            for name, content in renderers.render_csvs(report).items()
        ]),
        ("figures", lambda: [
            (kinds.SVG if name.lower().endswith(".svg") else kinds.PNG, _named(stem, name, ""), content)
            for name, content in renderers.figure_files(report).items()
        ]),
        ("analysis dataset", lambda: _dataset_outputs(stem, frame, renderers)),
    ]  # fmt: skip
    for number, (label, render) in enumerate(steps):
        _set_progress(run.pk, 85 + number * 2, f"Rendering the {label}")
        clock = time.perf_counter()
        files.extend(render())
        timings[f"render {label}_s"] = round(time.perf_counter() - clock, 1)
    return files


def _dataset_outputs(stem: str, frame, renderers) -> list[tuple[str, str, bytes]]:
    kinds = RunOutput.Kind
    dictionary = renderers.default_dictionary(frame)
    outputs = []
    for name, content in renderers.dataset_files(frame, dictionary).items():
        lower = name.lower()
        if lower.endswith(".sav"):
            kind = kinds.SAV
        elif lower.endswith(".dta"):
            kind = kinds.DTA
        elif "dictionary" in lower:
            kind = kinds.DICTIONARY
        else:
            kind = kinds.DATASET_CSV
        outputs.append((kind, _named(stem, name, ""), content))
    return outputs


def _named(stem: str, name: str, suffix: str) -> str:
    name = name.rsplit("/", 1)[-1]
    if suffix and not name.lower().endswith(suffix):
        name += suffix
    return f"{stem}-{name}"


def _text(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _store_output(run: AnalysisRun, kind: str, name: str, content: bytes) -> RunOutput:
    output = RunOutput(
        run=run,
        kind=kind,
        name=name,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    output.file.save(name, ContentFile(content), save=False)
    output.save()
    return output


def _report_summary(report) -> dict[str, Any]:
    """A JSON view of the report for the run record (the files hold the full detail)."""
    for attribute in ("as_dict", "to_dict"):
        method = getattr(report, attribute, None)
        if callable(method):
            try:
                return _jsonable(method())
            except Exception:  # a summary is a convenience; the files are the record
                logger.warning("report summary failed", exc_info=True)
    sections = getattr(report, "sections", None) or []
    return {
        "sections": [
            {
                "key": getattr(s, "key", ""),
                "title": getattr(s, "title", ""),
                "available": getattr(s, "available", True),
                "explanation": getattr(s, "explanation", "") or getattr(s, "reason", ""),
            }
            for s in sections
        ]
    }


def _jsonable(value):
    import json

    return json.loads(json.dumps(value, default=str))


# --- runs whose worker died -------------------------------------------------------------------

WORKER_LOST = "Failed — worker lost"


def runs_sweep(*, now=None, runs: QuerySet[AnalysisRun] | None = None) -> int:
    """Mark failed every run whose worker is gone; the number marked.

    A run still "running" past the task's hard time limit cannot be running: the worker kills
    a task at that limit, and a worker killed as a whole (SIGKILL, out of memory) never
    reports. A run nobody started within ``REGISTRY_JOB_QUEUED_LIMIT`` has no worker either.
    Called by Celery beat and when a run's page is read, so a run never shows "running"
    longer than its hard limit. A redelivered task then finds the run failed and stops
    (``_claim``).
    """
    import datetime as dt

    now = now or timezone.now()
    runs = AnalysisRun.objects.all() if runs is None else runs
    hard_limit = int(settings.ANALYSIS_RUN_HARD_TIME_LIMIT)
    marked = runs.filter(
        status=RunStatus.RUNNING, started_at__lt=now - dt.timedelta(seconds=hard_limit)
    ).update(
        status=RunStatus.FAILED,
        finished_at=now,
        error=(
            f"{WORKER_LOST}: the worker stopped (killed or out of memory) without finishing "
            f"within the {hard_limit // 60}-minute limit. Start the run again."
        ),
    )
    queued_limit = int(getattr(settings, "REGISTRY_JOB_QUEUED_LIMIT", 24 * 3600))
    marked += runs.filter(
        status=RunStatus.QUEUED, created_at__lt=now - dt.timedelta(seconds=queued_limit)
    ).update(
        status=RunStatus.FAILED,
        finished_at=now,
        error=f"Failed — no worker started this run within {queued_limit // 3600} hours.",
    )
    if marked:
        logger.warning("analysis runs marked failed after losing their worker: %d", marked)
    return marked

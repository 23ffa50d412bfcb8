"""Pages for investigators: runs, the new-run form, a run's live progress, report and files.

Every page needs a login and analysis rights; a run or file the user may not see is a 404, so
its existence is not disclosed either.
"""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST

from analytics.definitions import run_definition
from analytics.forms import RunForm
from analytics.models import (
    AnalysisDefinition,
    AnalysisRun,
    ArmDefinition,
    GroupingDefinition,
    RunOutput,
)
from analytics.services import (
    SECTION_LABELS,
    RunNotAllowed,
    cohorts_visible_to,
    run_create,
    run_rerun,
    runs_sweep,
    runs_visible_to,
    user_can_analyse,
    user_may_analyse_cohort,
    user_may_see_run,
)

# Shown in the browser rather than downloaded.
INLINE_KINDS = {RunOutput.Kind.HTML, RunOutput.Kind.PDF, RunOutput.Kind.PNG, RunOutput.Kind.SVG}


def analyst_required(view):
    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not user_can_analyse(request.user):
            raise PermissionDenied("Analyses need analysis rights on at least one site.")
        return view(request, *args, **kwargs)

    return wrapper


def _visible_run(request: HttpRequest, pk: int) -> AnalysisRun:
    run = get_object_or_404(
        AnalysisRun.objects.select_related("cohort", "control_arm", "treatment_arm", "created_by"),
        pk=pk,
    )
    if not user_may_see_run(request.user, run):
        raise Http404("No such run.")
    return run


@analyst_required
def run_list(request: HttpRequest) -> HttpResponse:
    runs = runs_visible_to(request.user).select_related("created_by")[:200]
    return render(request, "analytics/run_list.html", {"runs": runs})


@analyst_required
@require_http_methods(["GET", "POST"])
def run_new(request: HttpRequest) -> HttpResponse:
    """The "new run" page: pick a saved definition or build one (groups, covariates,
    options); "Preview" counts the patients of each group in the cohort before anything is
    queued, "Start" queues the run (refused, naming the problem, if a group is empty or a
    covariate cannot be fitted)."""
    form = RunForm(request.POST or None, user=request.user)
    preview_result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "preview":
                preview_result = _preview(request.user, data)
            else:
                run = _start(request.user, form)
                return redirect("analytics:run_detail", pk=run.pk)
        except RunNotAllowed as exc:
            form.add_error("cohort", str(exc))
        except ValidationError as exc:
            _add_errors(form, exc)
    return render(request, "analytics/run_new.html", {"form": form, "preview": preview_result})


def _preview(user, data) -> dict:
    from analytics.definitions import preview

    definition = data.get("definition")
    cohort = (definition.cohort if definition else None) or data["cohort"]
    if not user_may_analyse_cohort(user, cohort):
        raise RunNotAllowed("You may not analyse every site of this cohort.")
    grouping = definition.grouping if definition else data.get("grouping")
    if grouping is None and not (data.get("control_arm") and data.get("treatment_arm")):
        raise ValidationError({"grouping": "Choose a grouping or two arms to preview."})
    return preview(
        user,
        cohort,
        grouping=grouping,
        control_arm=None if grouping else data.get("control_arm"),
        treatment_arm=None if grouping else data.get("treatment_arm"),
    )


def _start(user, form: RunForm):
    data = form.cleaned_data
    if data.get("definition") is not None:
        return run_definition(
            user=user, definition=data["definition"], cohort=data["cohort"], title=data["title"]
        )
    grouping = data.get("grouping")
    if data.get("save_as"):
        from analytics.cohorts import analysis_create_version

        if grouping is None:
            raise ValidationError({"grouping": "A saved definition compares a grouping's groups."})
        definition = analysis_create_version(
            name=data["save_as"],
            user=user,
            template=data["template"],
            sections=data["sections"] or [],
            grouping=grouping,
            endpoints=["os", "pfs"],
            options=form.options(),
        )
        return run_definition(
            user=user, definition=definition, cohort=data["cohort"], title=data["title"]
        )
    return run_create(
        user=user,
        template=data["template"],
        cohort=data["cohort"],
        control_arm=None if grouping else data["control_arm"],
        treatment_arm=None if grouping else data["treatment_arm"],
        grouping=grouping,
        options=form.options(),
        sections=data["sections"] or None,
        title=data["title"],
    )


def _add_errors(form: RunForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@analyst_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    runs_sweep(runs=AnalysisRun.objects.filter(pk=pk))  # a dead worker's run reads as failed
    run = _visible_run(request, pk)
    outputs = list(run.outputs.all())
    html_report = next((o for o in outputs if o.kind == RunOutput.Kind.HTML), None)
    return render(
        request,
        "analytics/run_detail.html",
        {
            "run": run,
            "outputs": outputs,
            "html_report": html_report,
            "finished": run.finished,
            "section_labels": [SECTION_LABELS.get(s, s) for s in run.sections],
        },
    )


@analyst_required
def run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    runs_sweep(runs=AnalysisRun.objects.filter(pk=pk))
    run = _visible_run(request, pk)
    return JsonResponse(progress_payload(run))


def progress_payload(run: AnalysisRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "status_display": run.get_status_display(),
        "progress_pct": run.progress_pct,
        "progress_message": run.progress_message,
        "finished": run.finished,
        "error": run.error,
        "warnings": list(run.warnings or []),
        "detail_url": reverse("analytics:run_detail", args=[run.pk]),
    }


@analyst_required
@require_POST
def run_again(request: HttpRequest, pk: int) -> HttpResponse:
    run = _visible_run(request, pk)
    try:
        new = run_rerun(run=run, user=request.user)
    except (RunNotAllowed, ValidationError) as exc:
        raise PermissionDenied(str(exc)) from exc
    return redirect("analytics:run_detail", pk=new.pk)


@analyst_required
@xframe_options_sameorigin  # the HTML report is shown in a sandboxed iframe on the run page
def output_download(request: HttpRequest, pk: int, output_pk: int, name: str) -> FileResponse:
    run = _visible_run(request, pk)
    output = get_object_or_404(RunOutput, pk=output_pk, run=run, name=name)
    inline = output.kind in INLINE_KINDS and request.GET.get("download") is None
    try:
        handle = output.file.open("rb")
    except FileNotFoundError as missing:
        # The database lists the file but the media volume lacks it: a restore without media.
        raise Http404(
            f"The file {output.name} is missing from the media volume; restore the media "
            "backup together with the database (README, Backups)."
        ) from missing
    response = FileResponse(handle, as_attachment=not inline, filename=output.name)
    if output.kind == RunOutput.Kind.HTML:
        # Belt and braces for report HTML served from our origin: no scripts, no fetches.
        response["Content-Security-Policy"] = (
            "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline' 'self'; "
            "font-src data:; sandbox"
        )
    return response


@analyst_required
def definitions(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "analytics/definitions.html",
        {
            "cohorts": cohorts_visible_to(request.user),
            "arms": ArmDefinition.objects.all(),
            "groupings": GroupingDefinition.objects.all(),
            "analyses": AnalysisDefinition.objects.select_related("grouping", "cohort"),
        },
    )

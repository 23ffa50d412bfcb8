"""Web pages for bulk import (``/imports/``) and de-identified export (``/exports/``).

For logged-in staff; what they may do per site comes from ``registry.access`` like everywhere.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from registry import exports
from registry.access import Action, site_ids_for, sites_for
from registry.imports.forms import ImportForm
from registry.imports.sections import sections
from registry.imports.services import (
    bundle_uploads,
    import_jobs_sweep,
    import_upload,
    job_progress,
    visible_errors,
)
from registry.imports.workbook import (
    csv_bytes,
    dictionary_csv,
    template_csv,
    template_workbook,
)
from registry.models import ImportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _jobs_for(user):
    ids = site_ids_for(user, Action.IMPORT)
    jobs = ImportJob.objects.select_related("site", "created_by")
    return jobs if ids is None else jobs.filter(site_id__in=ids)


@staff_member_required
def import_page(request):
    sites = sites_for(request.user, Action.IMPORT)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, sites=sites)
        if form.is_valid():
            files = [(f.name, f.read()) for f in form.cleaned_data["files"]]
            filename, data = bundle_uploads(files)
            job = import_upload(
                site=form.cleaned_data["site"],
                user=request.user,
                filename=filename,
                data=data,
                dry_run=form.cleaned_data["dry_run"],
                section=form.cleaned_data["section"],
            )
            return redirect("imports:job", pk=job.pk)
    else:
        form = ImportForm(sites=sites)
    context = {
        "form": form,
        "can_import": sites.exists(),
        "jobs": _jobs_for(request.user)[:20],
        "sections": sections().values(),
    }
    return render(request, "registry/imports/import.html", context)


@staff_member_required
def job_page(request, pk: int):
    import_jobs_sweep(jobs=ImportJob.objects.filter(pk=pk))
    job = get_object_or_404(_jobs_for(request.user), pk=pk)
    running = job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    context = {
        "job": job,
        "running": running,
        "progress": job_progress(job),
        "counts": {
            k: v for k, v in job.counts.items() if k not in ("total", "rows", "error_count")
        },
        "total": job.counts.get("total"),
        "error_count": job.counts.get("error_count") or len(job.errors),
        "errors": visible_errors(job, request.user),
    }
    return render(request, "registry/imports/job.html", context)


ERROR_REPORT_HEADER = ["sheet", "row", "column", "value", "reason"]


@staff_member_required
def job_errors_csv(request, pk: int):
    """The job's errors as CSV (what the page shows; references hidden from other sites)."""
    job = get_object_or_404(_jobs_for(request.user), pk=pk)
    rows = [[e.get(k) for k in ERROR_REPORT_HEADER] for e in visible_errors(job, request.user)]
    return _download(
        csv_bytes(ERROR_REPORT_HEADER, rows), f"import-{job.pk}-errors.csv", "text/csv"
    )


@staff_member_required
@require_POST
def job_commit(request, pk: int):
    """Commit the file of a clean dry run: the same bytes, this time written."""
    job = get_object_or_404(_jobs_for(request.user), pk=pk)
    if not job.dry_run or job.status != ImportJob.Status.VALID:
        raise PermissionDenied("Only a dry run without errors can be committed.")
    with job.file.open("rb") as stored:
        data = stored.read()
    committed = import_upload(
        site=job.site,
        user=request.user,
        filename=job.original_filename,
        data=data,
        dry_run=False,
        section=job.section,
    )
    return redirect("imports:job", pk=committed.pk)


@staff_member_required
def template_download(request):
    return _download(template_workbook(), "hcc-registry-import-template.xlsx", XLSX)


@staff_member_required
def template_section_download(request, section: str):
    if section not in sections():
        raise Http404(f"No section {section}.")
    return _download(template_csv(sections()[section]), f"{section}.csv", "text/csv")


@staff_member_required
def dictionary_download(request):
    return _download(dictionary_csv(), "hcc-registry-import-dictionary.csv", "text/csv")


# --- exports ---------------------------------------------------------------------------------


@staff_member_required
def export_page(request):
    context = {
        "sites": sites_for(request.user, Action.EXPORT),
        "sections": exports.export_sections(),
    }
    return render(request, "registry/imports/export.html", context)


@staff_member_required
def export_download(request, kind: str):
    user = request.user
    if kind == "workbook":
        return _download(exports.export_workbook(user), "registry-export.xlsx", XLSX)
    if kind == "csv":
        return _download(exports.export_csv_zip(user), "registry-export.zip", "application/zip")
    if kind == "flat":
        return _download(exports.export_flat_csv(user), "registry-flat.csv", "text/csv")
    if kind == "dictionary":
        return _download(exports.export_dictionary_csv(), "registry-dictionary.csv", "text/csv")
    if kind in exports.export_sections():
        return _download(exports.export_section_csv(user, kind), f"{kind}.csv", "text/csv")
    raise Http404(f"No export {kind}.")

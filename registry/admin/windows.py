"""Long sections of the patient page show their latest rows, so the page always saves.

Django refuses a POST of more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields (1,000 by default)
with a 400 and the edit is lost: a patient with 42 lab panels passed it (issue 17, item 8). The
limit guards the server against floods and stays as it is; instead the page is planned within
it: every section keeps all its rows while they fit, and when they do not, the longest sections
show only their latest rows (older ones stay one click away, on the section's own list). Room is
left for the patient's own fields and for rows added with "Add another".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

PLAN_ATTR = "_registry_entry_windows"
# Fields outside the row forms (the patient's own, buttons, token) and rows a data manager adds
# before saving: ~100 fields is five new lab panels.
FIXED_FIELDS = 80
NEW_ROWS_MARGIN = 120
MIN_ROWS = 3


@dataclass
class Window:
    model: type
    label: str
    shown: int
    total: int
    list_url: str
    # The window's row ids as a subquery (``pk IN (SELECT ... LIMIT n)``): no query of its own,
    # so a long section costs the page the same number of queries as a short one.
    ids: QuerySet | list[int] = field(default_factory=list)


def fields_per_row(inline, request, patient) -> int:
    """Inputs one row of the inline posts: its form fields (each part of a multi-part field),
    the row's id and its delete box."""
    form = inline.get_formset(request, patient).form
    return 2 + sum(
        len(f.fields) if isinstance(f, forms.MultiValueField) else 1
        for f in form.base_fields.values()
    )


def plan(request, patient, inlines) -> dict[type, Window]:
    """Model → the window of a section that shows only its latest rows (none when all fit)."""
    planned = getattr(request, PLAN_ATTR, None)
    if planned is not None:
        return planned
    planned = {}
    setattr(request, PLAN_ATTR, planned)
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if limit is None or patient is None:
        return planned
    budget = limit - FIXED_FIELDS - NEW_ROWS_MARGIN - 4 * len(inlines)
    sections = []
    counts = section_counts(patient, [inline.model for inline in inlines])
    for inline in inlines:
        rows = counts[inline.model]
        if rows:
            sections.append([inline, rows, fields_per_row(inline, request, patient), rows])
    total = sum(shown * per for _, _, per, shown in sections)
    while total > budget:
        # The section that takes the most fields gives up its oldest row.
        widest = max(sections, key=lambda s: s[3] * s[2] if s[3] > MIN_ROWS else -1)
        if widest[3] <= MIN_ROWS:
            break
        widest[3] -= 1
        total -= widest[2]
    for inline, rows, _, shown in sections:
        if shown < rows:
            planned[inline.model] = _window(inline, patient, shown, rows)
    return planned


def section_counts(patient, models: list[type]) -> dict[type, int]:
    """The number of rows of each section of ``patient``, in one query (a counted subquery
    per section) rather than one COUNT per section."""
    if not models:
        return {}
    counted = {
        f"n{i}": Coalesce(
            Subquery(
                model.objects.filter(patient=OuterRef("pk"))
                .order_by()
                .values("patient")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        )
        for i, model in enumerate(models)
    }
    row = type(patient).objects.filter(pk=patient.pk).values(**counted).get()
    return {model: row[f"n{i}"] for i, model in enumerate(models)}


def _window(inline, patient, shown: int, total: int) -> Window:
    model = inline.model
    day = next(iter(model.event_date_fields))
    latest = model.objects.filter(patient=patient).order_by(f"-{day}", "-pk")[:shown]
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    return Window(
        model=model,
        label=str(meta.verbose_name_plural),
        shown=shown,
        total=total,
        list_url=f"{url}?q={patient.study_id}",
        ids=latest.values("pk"),
    )


class WindowedInlineMixin:
    """An inline whose rows are limited to the planned window of the page's request."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        window = getattr(request, PLAN_ATTR, {}).get(self.model)
        return queryset if window is None else queryset.filter(pk__in=window.ids)

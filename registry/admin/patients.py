"""The patient workspace: enrolment, every CRF section, derived values, status, queries, history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from registry import access, query_services, services
from registry.access import Action
from registry.choices import FlagStatus, RecordStatus, RefractorinessRuleSet
from registry.endpoints import cutoff_in_force, endpoints_of
from registry.forms import PatientForm, QueryMessageForm, QueryOpenForm, ReasonForm
from registry.forms.patients import reason_field
from registry.models import (
    CtcaeTerm,
    DataQualityFlag,
    DataQuery,
    ImagingAssessment,
    Patient,
)

from . import windows
from .base import (
    SAVED_CONCURRENTLY,
    RegistryModelAdmin,
    ServiceRefused,
    is_locked,
    reason_from,
    without_fields,
)
from .filters import ArmFilter, RefractorinessFilter, SiteFilter
from .history import patient_history
from .inlines import (
    EMPTY,
    PATIENT_INLINES,
    albi_text,
    child_pugh_text,
    missing_text,
    save_scans,
)
from .preview import preview_response

TRANSITIONS = {
    # name: (service, label, permission, from statuses, reason required)
    "mark_complete": (
        services.patient_mark_complete,
        "Mark complete",
        Action.MARK_COMPLETE,
        {RecordStatus.DRAFT},
        False,
    ),
    "verify": (
        services.patient_verify,
        "Verify",
        Action.VERIFY,
        {RecordStatus.COMPLETE},
        False,
    ),
    "lock": (services.patient_lock, "Lock", Action.LOCK, {RecordStatus.VERIFIED}, False),
    "unlock": (services.patient_unlock, "Unlock", Action.UNLOCK, {RecordStatus.LOCKED}, True),
    "reopen": (
        services.patient_reopen,
        "Reopen as draft",
        Action.CHANGE,
        {RecordStatus.COMPLETE, RecordStatus.VERIFIED},
        True,
    ),
}


def identifier_site_ids(user) -> list[int]:
    """Sites whose own patient reference the user may see (and search by)."""
    return [s.pk for s in access.sites_for(user) if access.can_see_identifiers(user, s)]


def error_text(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not do this."


@admin.register(Patient)
class PatientAdmin(RegistryModelAdmin):
    form = PatientForm
    site_path = "site"
    show_in_index = True
    list_display = [
        "study_id",
        "site_code",
        "identifier",
        "status",
        "completeness",
        "bclc_stage",
        "child_pugh_class",
        "open_flag_count",
        "open_query_count",
        "updated_at",
    ]
    list_filter = [
        SiteFilter,
        "status",
        "bclc_stage",
        "child_pugh_class",
        ArmFilter,
        RefractorinessFilter,
    ]
    search_fields = ["study_id"]
    search_help_text = "Study id (e.g. NT-0007), or your own site's patient reference."
    list_per_page = 50
    actions = ["mark_complete", "verify", "lock"]
    change_form_template = "admin/registry/patient/change_form.html"
    inlines = PATIENT_INLINES
    save_on_top = True

    class Media:
        js = ["registry/workspace.js"]

    input_fieldsets = [
        (
            "Enrolment",
            {
                "fields": [
                    "site",
                    "site_patient_ref",
                    ("sex", "birth_year", "body_weight_kg"),
                ]
            },
        ),
        (
            "Etiology and history",
            {
                "fields": [
                    (
                        "etiology_hbv",
                        "etiology_hcv",
                        "etiology_alcohol",
                        "etiology_masld",
                        "etiology_other",
                        "etiology_unknown",
                    ),
                    ("chronic_hepatitis_history", "antiviral_therapy", "cirrhosis"),
                    ("diabetes", "hypertension", "other_comorbidities"),
                ]
            },
        ),
        (
            "Diagnosis and index",
            {
                "fields": [
                    ("diagnosis_date", "diagnosis_basis", "histology_subtype"),
                    ("index_date", "ecog_ps"),
                ]
            },
        ),
    ]
    derived_fieldsets = [
        (
            "Liver function and stage (derived from the baseline panel and tumour assessment)",
            {
                "fields": [
                    ("albi", "child_pugh", "age_at_index"),
                    ("bclc_stage_derived", "bclc_stage_override", "bclc_override_reason"),
                    ("bclc_used", "up_to_seven"),
                ]
            },
        ),
        (
            "Response, refractoriness and survival (derived)",
            {
                "fields": [
                    ("best_overall_response", "response_rates", "first_progression_date"),
                    "refractoriness",
                    "survival",
                ]
            },
        ),
        (
            "Completeness",
            {
                "fields": [
                    ("completeness", "critical_missing"),
                    "missing_inputs_text",
                    "eligibility",
                ]
            },
        ),
    ]
    readonly_derived = [
        "study_id",
        "status",
        "age_at_index",
        "albi",
        "child_pugh",
        "bclc_stage_derived",
        "bclc_used",
        "up_to_seven",
        "best_overall_response",
        "response_rates",
        "first_progression_date",
        "refractoriness",
        "survival",
        "completeness",
        "critical_missing",
        "missing_inputs_text",
        "eligibility",
    ]

    # --- list ---------------------------------------------------------------------------------
    def get_queryset(self, request):
        visible = identifier_site_ids(request.user)
        open_flags = (
            DataQualityFlag.objects.filter(patient=OuterRef("pk"), status=FlagStatus.OPEN)
            .order_by()
            .values("patient")
            .annotate(n=Count("pk"))
            .values("n")
        )
        open_queries = (
            DataQuery.objects.filter(patient=OuterRef("pk"))
            .exclude(status=DataQuery.Status.CLOSED)
            .order_by()
            .values("patient")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .select_related("site")
            .annotate(
                open_flags=Coalesce(Subquery(open_flags, output_field=IntegerField()), 0),
                open_queries=Coalesce(Subquery(open_queries, output_field=IntegerField()), 0),
                visible_ref=Case(
                    When(site_id__in=visible, then=F("site_patient_ref")),
                    default=Value(""),
                    output_field=CharField(),
                ),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        own = Q(site_patient_ref__iexact=term, site_id__in=identifier_site_ids(request.user))
        return queryset.filter(Q(study_id__icontains=term) | own), False

    @admin.display(description="site", ordering="site__code")
    def site_code(self, patient: Patient) -> str:
        return patient.site.code

    @admin.display(description="site patient ref.")
    def identifier(self, patient: Patient) -> str:
        return getattr(patient, "visible_ref", "") or EMPTY

    @admin.display(description="complete", ordering="completeness_pct")
    def completeness(self, patient: Patient) -> str:
        return f"{patient.completeness_pct}%"

    @admin.display(description="open flags", ordering="open_flags")
    def open_flag_count(self, patient: Patient) -> int:
        return getattr(patient, "open_flags", 0)

    @admin.display(description="open queries", ordering="open_queries")
    def open_query_count(self, patient: Patient) -> int:
        return getattr(patient, "open_queries", 0)

    # --- actions on the list --------------------------------------------------------------------
    def has_mark_complete_permission(self, request) -> bool:
        return self._allowed(request, Action.MARK_COMPLETE)

    def has_verify_permission(self, request) -> bool:
        return self._allowed(request, Action.VERIFY)

    def has_lock_permission(self, request) -> bool:
        return self._allowed(request, Action.LOCK)

    def _bulk(self, request, queryset, name: str) -> None:
        service, label = TRANSITIONS[name][:2]
        done, refused = [], []
        for patient in queryset:
            try:
                service(patient=patient, user=request.user, reason=f"{label} (list action)")
                done.append(patient.study_id)
            except (ValidationError, PermissionDenied) as error:
                refused.append(f"{patient.study_id}: {error_text(error)}")
        if done:
            messages.success(request, f"{label}: {', '.join(done)}.")
        for line in refused:
            messages.error(request, line)

    @admin.action(description="Mark selected records complete", permissions=["mark_complete"])
    def mark_complete(self, request, queryset) -> None:
        self._bulk(request, queryset, "mark_complete")

    @admin.action(description="Verify selected records", permissions=["verify"])
    def verify(self, request, queryset) -> None:
        self._bulk(request, queryset, "verify")

    @admin.action(description="Lock selected records", permissions=["lock"])
    def lock(self, request, queryset) -> None:
        self._bulk(request, queryset, "lock")

    # --- the form -----------------------------------------------------------------------------
    def has_delete_permission(self, request, obj=None) -> bool:
        # Study ids are never reused and the audit trail must stay whole: no patient deletion.
        return False

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(name, {**opts}) for name, opts in self.input_fieldsets]
        if obj is not None:
            enrolment = ["site", "study_id", "status"]
            if access.can_see_identifiers(request.user, obj.site_id):
                enrolment.append("site_patient_ref")
            fieldsets[0] = (
                "Enrolment",
                {"fields": [tuple(enrolment), ("sex", "birth_year", "body_weight_kg")]},
            )
            fieldsets += self.derived_fieldsets
        fieldsets.append(("Reason for change", {"fields": ["change_reason"]}))
        return without_fields(fieldsets, self.hidden_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return ["site", *self.readonly_derived] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and obj.status != RecordStatus.DRAFT:
            # A new field object: the declared one is shared by every form class built from it.
            form.base_fields["change_reason"] = reason_field(
                required=True,
                help_text=f"Required: this record is {obj.get_status_display().lower()}.",
            )
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        sites = list(access.sites_for(request.user, Action.ADD)[:2])
        if len(sites) == 1:
            initial.setdefault("site", sites[0].pk)
        return initial

    def get_inline_instances(self, request, obj=None):
        # Enrol first; the CRF sections open once the patient has a study id.
        if obj is None:
            return []
        inlines = super().get_inline_instances(request, obj)
        windows.plan(request, obj, inlines)  # long sections show their latest rows
        for inline in inlines:
            # A section folded away by default is open once it holds data (a recorded death).
            if (
                "collapse" in (inline.classes or ())
                and inline.model.objects.filter(patient=obj).exists()
            ):
                inline.classes = [c for c in inline.classes if c != "collapse"]
        return inlines

    def save_model(self, request, obj, form, change) -> None:
        reason = reason_from(form)
        names = {f.name for f in Patient._meta.concrete_fields if f.editable} - {"site"}
        try:
            if change:
                fields = {n: form.cleaned_data[n] for n in form.changed_data if n in names}
                services.patient_update(patient=obj, user=request.user, reason=reason, **fields)
            else:
                fields = {n: v for n, v in form.cleaned_data.items() if n in names}
                patient = services.patient_enrol(
                    site=form.cleaned_data["site"],
                    user=request.user,
                    reason=reason or "Enrolment",
                    **fields,
                )
                obj.pk, obj.study_id, obj.version = patient.pk, patient.study_id, patient.version
                obj._state.adding = False
        except (ValidationError, PermissionDenied) as error:
            raise ServiceRefused({"": error}) from error
        except IntegrityError as error:  # the same reference enrolled at the same moment
            raise ServiceRefused({"": ValidationError(SAVED_CONCURRENTLY)}) from error

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is ImagingAssessment:
            save_scans(request, form, formset)
        else:
            super().save_formset(request, form, formset, change)

    def response_add(self, request, obj, post_url_continue=None):
        # Straight on to the CRF sections of the new patient.
        if "_addanother" not in request.POST and "_popup" not in request.POST:
            request.POST = request.POST.copy()
            request.POST["_continue"] = "1"
        return super().response_add(request, obj, post_url_continue)

    # --- derived values beside their inputs -------------------------------------------------------
    def _score_panel_text(self, patient: Patient, score: str, text: str) -> str:
        """The value with the date of the panel it comes from (each score has its own)."""
        if text == EMPTY:
            return text
        labs = getattr(patient, "_entry_labs", None)
        if labs is None:
            labs = patient._entry_labs = list(patient.lab_panels.all())
        lab = services.score_baseline_lab(patient, labs, score)
        return f"{text} (panel of {lab.sample_date})" if lab else text

    @admin.display(description="ALBI")
    def albi(self, patient: Patient) -> str:
        return self._score_panel_text(patient, "albi", albi_text(patient))

    @admin.display(description="Child-Pugh")
    def child_pugh(self, patient: Patient) -> str:
        return self._score_panel_text(patient, "child_pugh", child_pugh_text(patient))

    @admin.display(description="BCLC stage (used)")
    def bclc_used(self, patient: Patient) -> str:
        if not patient.bclc_stage:
            return EMPTY
        source = "override" if patient.bclc_stage_override else "derived"
        return f"{patient.get_bclc_stage_display()} — {source}"

    @admin.display(description="up-to-seven")
    def up_to_seven(self, patient: Patient) -> str:
        if patient.up_to_seven_within is None:
            return EMPTY
        return "within" if patient.up_to_seven_within else "beyond"

    @admin.display(description="ORR / DCR")
    def response_rates(self, patient: Patient) -> str:
        def yes_no(value):
            return EMPTY if value is None else ("yes" if value else "no")

        return (
            f"objective response {yes_no(patient.objective_response)} · "
            f"disease control {yes_no(patient.disease_control)}"
        )

    @admin.display(description="TACE refractoriness")
    def refractoriness(self, patient: Patient) -> str:
        results = patient.tace_refractoriness or {}
        if not results:
            return "no TACE session"
        labels = dict(RefractorinessRuleSet.choices)
        rows = (
            (
                labels.get(rule, rule),
                (result.get("status") or "").replace("_", " "),
                " ".join(filter(None, [result.get("criterion"), result.get("date")])) or "",
                result.get("reason") or "",
            )
            for rule, result in results.items()
        )
        return format_html(
            '<table class="derived-table"><tbody>{}</tbody></table>',
            format_html_join(
                "", "<tr><th>{}</th><td><b>{}</b></td><td>{}</td><td>{}</td></tr>", rows
            ),
        )

    def endpoints_at_cutoff(self, patient: Patient) -> dict:
        """The patient's endpoints at the cut-off in force, from ``registry.endpoints`` (the
        function the exports, the API and the analysis dataset use)."""
        cutoff, label = cutoff_in_force()
        return {**endpoints_of(patient, cutoff), "cutoff_label": label}

    @admin.display(description="at the data cut-off")
    def survival(self, patient: Patient) -> str:
        values = self.endpoints_at_cutoff(patient)

        def describe(prefix: str) -> str:
            months = values[f"{prefix}_months"]
            if months is None:
                return f"unknown ({values[f'{prefix}_reason']})"
            return f"{months:.1f} months, {'event' if values[f'{prefix}_event'] else 'censored'}"

        best = values["best_response"] or EMPTY
        resistance = (values["refractory_progression_after_n_cycles"] or EMPTY).replace("_", " ")
        return (
            f"best response {best}; OS {describe('os')}; PFS {describe('pfs')}; TACE resistance "
            f"after 3 cycles {resistance} — at {values['cutoff_label']}"
        )

    @admin.display(description="missing before it can be marked complete")
    def critical_missing(self, patient: Patient) -> str:
        return ", ".join(services.critical_missing(patient)) or "nothing"

    @admin.display(description="derived values waiting for inputs")
    def missing_inputs_text(self, patient: Patient) -> str:
        return missing_text(patient.missing_inputs or {}) or "none"

    @admin.display(description="outside the seeds' eligibility")
    def eligibility(self, patient: Patient) -> str:
        return ", ".join(f.replace("_", " ") for f in patient.eligibility_flags) or "no"

    # --- the workspace page ---------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/derived/",
                wrap(self.derived_preview_view),
                name="registry_patient_derived_preview",
            ),
            path(
                "<path:object_id>/status/<str:name>/",
                wrap(self.transition_view),
                name="registry_patient_transition",
            ),
            path(
                "<path:object_id>/queries/open/",
                wrap(self.query_open_view),
                name="registry_patient_query_open",
            ),
            path(
                "<path:object_id>/queries/<int:query_id>/<str:step>/",
                wrap(self.query_step_view),
                name="registry_patient_query_step",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        patient = self.get_object(request, object_id)
        user = request.user
        self.get_inline_instances(request, patient)  # plans the windows of long sections
        context = {
            "windows": list(getattr(request, windows.PLAN_ATTR, {}).values()),
            "status_actions": [
                {"name": name, "label": label, "needs_reason": needs_reason}
                for name, (_, label, action, statuses, needs_reason) in TRANSITIONS.items()
                if patient.status in statuses and access.can(user, action, patient.site_id)
            ],
            "is_locked": is_locked(patient),
            "open_flags": list(patient.quality_flags.filter(status=FlagStatus.OPEN)),
            "queries": list(
                patient.queries.select_related("opened_by", "closed_by").prefetch_related(
                    "messages__author"
                )
            ),
            "can_open_query": access.can(user, Action.OPEN_QUERY, patient.site_id),
            "can_answer_query": access.can(user, Action.ANSWER_QUERY, patient.site_id),
            "can_close_query": access.can(user, Action.CLOSE_QUERY, patient.site_id),
            "query_open_form": QueryOpenForm(targets=query_targets(patient)),
            "history": patient_history(
                patient, identifiers=access.can_see_identifiers(user, patient.site_id)
            ),
            "term_grades": term_grades(),
            "derived_preview_url": reverse(
                "admin:registry_patient_derived_preview", args=[patient.pk]
            ),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def derived_preview_view(self, request, object_id):
        """The derived values of the page as typed, computed as a save would (nothing saved)."""
        patient = self.get_object(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, patient):
            raise PermissionDenied
        return preview_response(self, request, patient)

    def _back(self, patient: Patient, anchor: str = "") -> HttpResponseRedirect:
        url = reverse("admin:registry_patient_change", args=[patient.pk])
        return HttpResponseRedirect(f"{url}{anchor}")

    def transition_view(self, request, object_id, name):
        patient = self.get_object(request, object_id)
        if name not in TRANSITIONS:
            raise Http404("No such status change.")
        if request.method != "POST":
            return self._back(patient)
        service, label = TRANSITIONS[name][:2]
        form = ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
            return self._back(patient)
        try:
            service(patient=patient, user=request.user, reason=form.cleaned_data["reason"])
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, f"{label}: {error_text(error)}")
        else:
            messages.success(
                request, f"{patient.study_id} is now {patient.get_status_display().lower()}."
            )
        return self._back(patient)

    def query_open_view(self, request, object_id):
        patient = self.get_object(request, object_id)
        if request.method != "POST":
            return self._back(patient, "#queries")
        form = QueryOpenForm(request.POST, targets=query_targets(patient))
        if not form.is_valid():
            messages.error(request, "The query needs a question.")
            return self._back(patient, "#queries")
        record_type, record_id = form.target_parts()
        try:
            query_services.query_open(
                patient=patient,
                user=request.user,
                text=form.cleaned_data["text"],
                record_type=record_type,
                record_id=record_id,
                field=form.cleaned_data["field"],
            )
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, f"Query not opened: {error_text(error)}")
        else:
            messages.success(request, "Query opened.")
        return self._back(patient, "#queries")

    def query_step_view(self, request, object_id, query_id, step):
        patient = self.get_object(request, object_id)
        query = get_object_or_404(DataQuery, pk=query_id, patient=patient)
        steps = {
            "answer": query_services.query_answer,
            "follow_up": query_services.query_follow_up,
            "close": query_services.query_close,
        }
        if step not in steps:
            raise Http404("No such step.")
        if request.method != "POST":
            return self._back(patient, "#queries")
        text = (request.POST.get("text") or "").strip()
        if step != "close" and not QueryMessageForm(request.POST).is_valid():
            messages.error(request, "Write a message.")
            return self._back(patient, "#queries")
        try:
            steps[step](query=query, user=request.user, text=text)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, f"Query: {error_text(error)}")
        else:
            messages.success(request, f"Query {query.get_status_display().lower()}.")
        return self._back(patient, "#queries")


def term_grades() -> dict[str, list[int]]:
    """CTCAE term id → the grades it allows, for the terms that do not allow all of 1–5."""
    narrow = CtcaeTerm.objects.exclude(min_grade=1, max_grade=5)
    return {
        str(pk): list(range(low, high + 1))
        for pk, low, high in narrow.values_list("pk", "min_grade", "max_grade")
    }


def query_targets(patient: Patient) -> list[tuple[str, str]]:
    """Every CRF row of the patient, as 'model:id' → readable label, for a query's target."""
    targets = []
    for inline in PATIENT_INLINES:
        model = inline.model
        # A row's label may name a related row (an adverse event its CTCAE term): read them
        # with the rows, not one query per row.
        related = [f.name for f in model._meta.concrete_fields if f.is_relation]
        for row in model.objects.filter(patient=patient).select_related(*related):
            targets.append(
                (f"{model._meta.model_name}:{row.pk}", f"{model._meta.verbose_name}: {row}")
            )
    return targets

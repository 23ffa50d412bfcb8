"""What every registry admin shares: site scoping, role-based permissions, writes via services.

Data managers and monitors are staff users without Django model permissions: who may view, add,
change or delete is decided by ``registry.access`` alone, and every queryset, foreign-key choice,
filter, search and autocomplete is limited to the user's sites. A record of another site answers
404, exactly as a record that does not exist.

Writes never call ``Model.save()`` directly: ``registry.services`` validates, checks the lock,
attributes the change (user and reason) in the audit trail and refreshes the derived values. When
a service refuses a row, the whole save is rolled back and the same POST is validated again with
the refusal placed on the form at its field (see ``RegistryModelForm``), so the user sees an
error beside the value, never a server error.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404, HttpResponseRedirect

from registry import access, services
from registry.access import Action
from registry.admin.large_lists import LargeListMixin
from registry.choices import FlagStatus, RecordStatus, Role
from registry.forms import RegistryModelForm
from registry.forms.fields import NUMBER_FIELD_OVERRIDES
from registry.models import DataQualityFlag, ImagingAssessment, Patient, Site

SERVICE_ERRORS = "_registry_service_errors"
SAVED_CONCURRENTLY = (
    "Someone saved a record with the same unique values at the same moment; nothing was saved."
)


class ServiceRefused(Exception):  # noqa: N818 - a refusal, not a programming error
    """A service refused part of an admin save; ``errors`` maps form prefix → error."""

    def __init__(self, errors: dict[str, ValidationError | PermissionDenied]) -> None:
        super().__init__("; ".join(_messages(e) for e in errors.values()))
        self.errors = errors


def _messages(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not make this change."


def reason_from(form) -> str:
    cleaned = getattr(form, "cleaned_data", None) or {}
    return (cleaned.get("change_reason") or "").strip()


def is_locked(patient: Patient | None) -> bool:
    return patient is not None and patient.status == RecordStatus.LOCKED


def scoped_choices(db_field, request):
    """The foreign-key choices a user may write to, or None when the field is not site-bound."""
    model = db_field.related_model
    user = request.user
    if model is Site:
        return access.sites_for(user, Action.ADD)
    if model is Patient:
        return access.patients_for(user, Action.CHANGE)
    if model is ImagingAssessment:
        ids = access.site_ids_for(user, Action.CHANGE)
        queryset = ImagingAssessment.objects.select_related("patient")
        return queryset if ids is None else queryset.filter(patient__site__in=ids)
    return None


# --- declared lookups only ----------------------------------------------------------------------


class DeclaredLookupsChangeList(ChangeList):
    """A changelist that filters only by the parameters its declared list filters consume.

    Django's admin lets any query parameter naming a local field filter the list
    (``?site_patient_ref__startswith=NT-0``), which rebuilds a hidden value one character at a
    time from the result counts. Here every list filter the admin declares for this request
    (``get_list_filter``) takes its own parameters out of the query, and whatever is left is
    refused before the query runs. Search (``q``) goes through ``get_search_results`` and
    ordering (``o``) through ``list_display``, which each admin limits to what the role sees.
    """

    def get_filters(self, request):
        before = set(self.get_filters_params())
        result = super().get_filters(request)
        remaining = set(result[2])
        if self.date_hierarchy:
            # The bounds Django builds from year/month/day, on a field the list shows.
            remaining -= {f"{self.date_hierarchy}__gte", f"{self.date_hierarchy}__lt"}
            before -= {f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        undeclared = sorted(remaining & before)
        if undeclared:
            raise DisallowedModelAdminLookup(
                f"Filtering by {', '.join(undeclared)} is not offered on this list."
            )
        return result


class DeclaredLookupsMixin:
    """Every admin of the project lists through ``DeclaredLookupsChangeList``."""

    def get_changelist(self, request, **kwargs):
        return DeclaredLookupsChangeList


def harden_every_admin(site: admin.AdminSite) -> None:
    """Give every registered admin (the project's, and Django's or a package's) the strict
    changelist: one rule for every list, whichever app registered it."""
    for model_admin in site._registry.values():
        if not isinstance(model_admin, DeclaredLookupsMixin):
            model_admin.get_changelist = DeclaredLookupsMixin.get_changelist.__get__(model_admin)


def without_fields(fieldsets, hidden) -> list:
    """``fieldsets`` with the ``hidden`` field names taken out (of rows and of tuples in rows)."""
    if not hidden:
        return list(fieldsets)
    result = []
    for name, options in fieldsets:
        rows = []
        for row in options.get("fields", ()):
            if isinstance(row, list | tuple):
                kept = tuple(f for f in row if f not in hidden)
                if kept:
                    rows.append(kept)
            elif row not in hidden:
                rows.append(row)
        if rows:
            result.append((name, {**options, "fields": rows}))
    return result


class RegistryPermissionsMixin:
    """Permissions from ``registry.access``; ``site_path`` leads from a row to its site."""

    def hidden_fields(self, request, obj=None) -> frozenset[str]:
        """Identifying and free-text fields the user may not read on this record (or, on an
        add page, on any site: they type them on an add page only for a site of their own)."""
        site_id = self.site_id_of(obj) if obj is not None else None
        if site_id is None:
            # An add page: the user enters the record for one of the sites they may add to.
            return frozenset()
        return access.hidden_fields(request.user, self.model, site_id)

    def get_fieldsets(self, request, obj=None):
        return without_fields(super().get_fieldsets(request, obj), self.hidden_fields(request, obj))

    site_path = "patient__site"

    def site_id_of(self, obj) -> int | None:
        patient = self.patient_of(obj)
        if patient is not None:
            return patient.site_id
        *path, last = self.site_path.split("__")
        for name in path:
            obj = getattr(obj, name)
        return getattr(obj, f"{last}_id")

    def patient_of(self, obj) -> Patient | None:
        if obj is None:
            return None
        if isinstance(obj, Patient):
            return obj
        owner = getattr(obj, "owner_patient", None)
        return owner() if owner else None

    def _allowed(self, request, action: Action, obj=None) -> bool:
        if not request.user.is_active or not request.user.is_staff:
            return False
        if obj is None:
            ids = access.site_ids_for(request.user, action)
            return ids is None or bool(ids)
        return access.can(request.user, action, self.site_id_of(obj))

    def has_module_permission(self, request) -> bool:
        return self._allowed(request, Action.VIEW)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request, Action.VIEW, obj)

    def has_add_permission(self, request, *args) -> bool:
        return self._allowed(request, Action.ADD)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request, Action.CHANGE, obj) and not is_locked(self.patient_of(obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request, Action.DELETE, obj) and not is_locked(self.patient_of(obj))


class RegistryModelAdmin(
    LargeListMixin, DeclaredLookupsMixin, RegistryPermissionsMixin, admin.ModelAdmin
):
    """A site-scoped admin for a CRF model that writes through ``registry.services``."""

    form = RegistryModelForm
    show_in_index = False
    formfield_overrides = {
        **NUMBER_FIELD_OVERRIDES,
        models.TextField: {"widget": admin.widgets.AdminTextInputWidget},
    }

    # --- scoping ----------------------------------------------------------------------------
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = access.site_ids_for(request.user, Action.VIEW)
        return queryset if ids is None else queryset.filter(**{f"{self.site_path}__in": ids})

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Another site's record is indistinguishable from a missing one.
            raise Http404("No such record.")
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = scoped_choices(db_field, request)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request) -> bool:
        return self.show_in_index and super().has_module_permission(request)

    # --- forms ------------------------------------------------------------------------------
    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.service_errors = getattr(request, SERVICE_ERRORS, {})
        return form

    # --- writes through the services ----------------------------------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            remember_flags(request)
        if request.method == "POST" and object_id is not None:
            refused = self._refuse_locked(request, object_id)
            if refused is not None:
                return refused
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            # Rolled back: validate the same POST again with the refusals at their fields.
            setattr(request, SERVICE_ERRORS, refused.errors)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            for error in refused.errors.values():
                messages.error(request, _messages(error))
            return HttpResponseRedirect(request.get_full_path())

    def _refuse_locked(self, request, object_id):
        obj = self.get_object(request, object_id)
        patient = self.patient_of(obj)
        if is_locked(patient):
            messages.error(
                request,
                f"Patient {patient.study_id} is locked: nothing was saved. A monitor must unlock "
                "it with a reason first.",
            )
            return HttpResponseRedirect(request.get_full_path())
        return None

    def save_model(self, request, obj, form, change) -> None:
        try:
            services.crf_record_save(record=obj, user=request.user, reason=reason_from(form))
        except (ValidationError, PermissionDenied) as error:
            raise ServiceRefused({form.prefix or "": error}) from error
        except IntegrityError as error:
            # Saved by someone else at the same moment: validated again, the form then shows
            # the duplicate at its field. The database's message (with the value) is not shown.
            raise ServiceRefused(
                {form.prefix or "": ValidationError(SAVED_CONCURRENTLY)}
            ) from error

    def save_formset(self, request, form, formset, change) -> None:
        save_formset_via_services(request, form, formset)

    def delete_model(self, request, obj) -> None:
        try:
            services.crf_record_delete(record=obj, user=request.user, reason="Deleted in the admin")
        except (ValidationError, PermissionDenied) as error:
            raise ServiceRefused({"": error}) from error

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic(), services.patient_refresh_deferred():
            for obj in queryset:
                self.delete_model(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as refused:
            messages.error(request, f"Nothing was deleted: {refused}")
            return HttpResponseRedirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except ServiceRefused as refused:
            messages.error(request, f"Nothing was changed: {refused}")
            return HttpResponseRedirect(request.get_full_path())

    def response_add(self, request, obj, post_url_continue=None):
        warn_new_flags(request, self.patient_of(obj))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        warn_new_flags(request, self.patient_of(obj))
        return super().response_change(request, obj)


def save_formset_via_services(request, form, formset) -> None:
    """Save an inline formset row by row through the services, collecting every refusal."""
    reason = reason_from(form)
    formset.save(commit=False)  # builds the objects (with their parent set) without saving
    prefix_of = {id(f.instance): f.prefix for f in formset.forms}
    errors: dict[str, ValidationError | PermissionDenied] = {}
    with services.patient_refresh_deferred():
        for obj in formset.deleted_objects:
            try:
                services.crf_record_delete(
                    record=obj, user=request.user, reason=reason or "Deleted in the admin"
                )
            except (ValidationError, PermissionDenied) as error:
                # A row marked for deletion is not validated again, so report it on the page.
                errors[""] = ValidationError(f"{obj} was not deleted: {_messages(error)}")
        changed = [obj for obj, _ in formset.changed_objects] + list(formset.new_objects)
        for obj in changed:
            try:
                services.crf_record_save(record=obj, user=request.user, reason=reason)
            except (ValidationError, PermissionDenied) as error:
                errors[prefix_of.get(id(obj), "")] = error
    if errors:
        raise ServiceRefused(errors)


class RegistryInlineMixin(RegistryPermissionsMixin):
    """An inline of a patient's (or an assessment's) rows; permissions follow the parent."""

    form = RegistryModelForm
    extra = 0
    formfield_overrides = {
        **NUMBER_FIELD_OVERRIDES,
        models.TextField: {"widget": admin.widgets.AdminTextInputWidget},
    }

    def has_add_permission(self, request, obj=None) -> bool:
        # Without a parent (an add page) the parent's own choices limit the site.
        return self._allowed(request, Action.ADD, obj) and not is_locked(self.patient_of(obj))

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.service_errors = getattr(request, SERVICE_ERRORS, {})
        return formset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = scoped_choices(db_field, request)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- soft warnings -----------------------------------------------------------------------------

FLAGS_BEFORE = "_registry_flags_before"


def remember_flags(request) -> None:
    """Note the newest flag before a save, so that the flags the save raises can be shown."""
    if hasattr(request, FLAGS_BEFORE):
        return
    last = DataQualityFlag.objects.order_by("-pk").values_list("pk", flat=True).first()
    setattr(request, FLAGS_BEFORE, last or 0)


def warn_new_flags(request, patient: Patient | None) -> None:
    """Soft data-quality warnings raised by this save: shown, never blocking."""
    if patient is None or patient.pk is None:
        return
    before = getattr(request, FLAGS_BEFORE, 0)
    flags = DataQualityFlag.objects.filter(
        patient=patient, pk__gt=before, status=FlagStatus.OPEN
    ).order_by("pk")
    for flag in flags:
        messages.warning(request, f"Data-quality warning: {flag.message}")


def is_registry_admin(user) -> bool:
    return user.is_active and user.is_staff and Role.REGISTRY_ADMIN in access.roles_of(user)

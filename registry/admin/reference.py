"""Sites, memberships and reference lists: registry admins edit them; site staff may look."""

from __future__ import annotations

from django.contrib import admin

from registry import access
from registry.access import Action
from registry.models import CtcaeTerm, DataCutoff, ImportJob, Site, SiteMembership

from .base import is_registry_admin


class RegistryAdminOnly:
    """Editable by registry admins only; every registry user may view."""

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return (
            request.user.is_active and request.user.is_staff and bool(access.roles_of(request.user))
        )

    def has_add_permission(self, request, *args) -> bool:
        return is_registry_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_registry_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_registry_admin(request.user)


@admin.register(Site)
class SiteAdmin(RegistryAdminOnly, admin.ModelAdmin):
    list_display = ["code", "name", "country", "last_sequence"]
    search_fields = ["code", "name"]
    readonly_fields = ["last_sequence"]

    def get_queryset(self, request):
        return access.sites_for(request.user, Action.VIEW)


@admin.register(SiteMembership)
class SiteMembershipAdmin(RegistryAdminOnly, admin.ModelAdmin):
    list_display = ["user", "role", "site"]
    list_filter = ["role", "site"]
    search_fields = ["user__username"]

    def has_module_permission(self, request) -> bool:
        return is_registry_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_registry_admin(request.user)


@admin.register(CtcaeTerm)
class CtcaeTermAdmin(RegistryAdminOnly, admin.ModelAdmin):
    list_display = ["term", "system_organ_class", "min_grade", "max_grade", "is_other_specify"]
    list_filter = ["system_organ_class"]
    search_fields = ["term", "code"]


@admin.register(DataCutoff)
class DataCutoffAdmin(RegistryAdminOnly, admin.ModelAdmin):
    list_display = ["name", "cutoff_date"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: imports are run from /imports/."""

    list_display = ["original_filename", "site", "status", "dry_run", "created_by", "created_at"]
    list_filter = ["status", "dry_run"]
    # Row errors and the file itself can carry the site's own patient references.
    identifying = ["errors", "file", "error_message"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not access.can_see_identifiers(request.user, obj.site_id):
            fields = [f for f in fields if f not in self.identifying]
        return fields

    def get_queryset(self, request):
        ids = access.site_ids_for(request.user, Action.VIEW)
        queryset = super().get_queryset(request).select_related("site", "created_by")
        return queryset if ids is None else queryset.filter(site__in=ids)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        if obj is None:
            ids = access.site_ids_for(request.user, Action.IMPORT)
            return ids is None or bool(ids)
        return access.can(request.user, Action.IMPORT, obj.site_id)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- logins and API tokens: registry admins see lockouts and revoke tokens -------------------


class RegistryAdminsSecurityView:
    """Django's model permissions are not used here: registry admins view, and delete (which
    lifts a lockout or revokes a token); nobody adds or edits these rows by hand."""

    def has_module_permission(self, request) -> bool:
        return is_registry_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_registry_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_registry_admin(request.user)

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _reregister_for_registry_admins() -> None:
    from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from rest_framework.authtoken.admin import TokenAdmin
    from rest_framework.authtoken.models import TokenProxy

    for model, base in (
        (AccessAttempt, AccessAttemptAdmin),
        (AccessLog, AccessLogAdmin),
        (AccessFailureLog, AccessFailureLogAdmin),
        (TokenProxy, TokenAdmin),
    ):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, type(base.__name__, (RegistryAdminsSecurityView, base), {}))


_reregister_for_registry_admins()

"""Who may do what, and on which sites: the one place access rules live.

Deny by default: a user sees a site's patients only through a membership. Registry-wide roles
(membership without a site) see every site but never a site's identifying reference.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import QuerySet

from registry.choices import Role
from registry.models import Patient, Site, SiteMembership


class Action(StrEnum):
    VIEW = "view"
    ADD = "add"
    CHANGE = "change"
    DELETE = "delete"
    MARK_COMPLETE = "mark_complete"
    VERIFY = "verify"
    LOCK = "lock"
    UNLOCK = "unlock"
    OPEN_QUERY = "open_query"
    ANSWER_QUERY = "answer_query"
    CLOSE_QUERY = "close_query"
    IMPORT = "import"
    EXPORT = "export"
    ANALYSE = "analyse"


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.DATA_MANAGER: frozenset(
        {
            Action.VIEW,
            Action.ADD,
            Action.CHANGE,
            Action.DELETE,
            Action.MARK_COMPLETE,
            Action.ANSWER_QUERY,
            Action.IMPORT,
            Action.EXPORT,
        }
    ),
    Role.MONITOR: frozenset(
        {
            Action.VIEW,
            Action.VERIFY,
            Action.LOCK,
            Action.UNLOCK,
            Action.OPEN_QUERY,
            Action.CLOSE_QUERY,
        }
    ),
    Role.SITE_INVESTIGATOR: frozenset({Action.VIEW, Action.EXPORT, Action.ANALYSE}),
    Role.REGISTRY_INVESTIGATOR: frozenset({Action.VIEW, Action.EXPORT, Action.ANALYSE}),
    Role.REGISTRY_ADMIN: frozenset(Action),
}

SITE_ROLES = {Role.DATA_MANAGER, Role.MONITOR, Role.SITE_INVESTIGATOR}


def _memberships(user) -> list[SiteMembership]:
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_registry_memberships", None)
    if cached is None:
        cached = list(SiteMembership.objects.filter(user=user).select_related("site"))
        user._registry_memberships = cached
    return cached


def site_ids_for(user, action: Action | str = Action.VIEW) -> set[int] | None:
    """Site ids where ``user`` may do ``action``; None means every site."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return None
    ids: set[int] = set()
    for membership in _memberships(user):
        if action not in ROLE_ACTIONS.get(membership.role, frozenset()):
            continue
        if membership.site_id is None:
            return None
        ids.add(membership.site_id)
    return ids


def sites_for(user, action: Action | str = Action.VIEW) -> QuerySet[Site]:
    ids = site_ids_for(user, action)
    return Site.objects.all() if ids is None else Site.objects.filter(id__in=ids)


def patients_for(user, action: Action | str = Action.VIEW) -> QuerySet[Patient]:
    ids = site_ids_for(user, action)
    patients = Patient.objects.select_related("site")
    return patients if ids is None else patients.filter(site_id__in=ids)


def can(user, action: Action | str, site: Site | int | None) -> bool:
    ids = site_ids_for(user, action)
    if ids is None:
        return True
    site_id = site.pk if isinstance(site, Site) else site
    return site_id in ids


def can_see_identifiers(user, site: Site | int) -> bool:
    """A site's own patient reference is shown only to that site's own staff."""
    site_id = site.pk if isinstance(site, Site) else site
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    return any(m.site_id == site_id and m.role in SITE_ROLES for m in _memberships(user))


def hidden_fields(user, model, site: Site | int | None) -> frozenset[str]:
    """Fields of ``model`` that ``user`` may not read (nor write) on a record of ``site``.

    Identifying and free-text fields (``registry.disclosure``) are read by the site's own staff
    only: registry-wide roles see coded values of every site and no site's free text, in the
    admin, the API and exports alike.
    """
    from registry.disclosure import site_only_fields

    if site is not None and can_see_identifiers(user, site):
        return frozenset()
    return site_only_fields(model)


def roles_of(user) -> set[str]:
    if user is not None and user.is_authenticated and user.is_superuser:
        return {Role.REGISTRY_ADMIN}
    return {membership.role for membership in _memberships(user)}

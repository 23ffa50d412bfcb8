"""The site dashboard shown on the admin index."""

from __future__ import annotations

from django import template

from registry import access
from registry.access import Action
from registry.admin.dashboard import site_dashboard

register = template.Library()


@register.inclusion_tag("registry/dashboard.html", takes_context=True)
def registry_dashboard(context) -> dict:
    user = context["request"].user
    if not access.roles_of(user):
        return {"hidden": True}
    ids = access.site_ids_for(user, Action.ADD)
    return {**site_dashboard(user), "can_add": ids is None or bool(ids)}

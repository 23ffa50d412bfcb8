"""The new-run form starts from sensible defaults."""

from __future__ import annotations

from django.urls import reverse

from tests.analytics.test_run_helpers import world

__all__ = ["world"]


def test_the_new_run_form_preselects_the_latest_cohort_the_user_may_use(client, world):
    client.force_login(world.nt_investigator)

    form = client.get(reverse("analytics:run_new")).context["form"]

    assert form["cohort"].value() == world.nt_cohort.pk

"""An investigator starts Report A in the browser and watches a real worker finish it.

The run page polls its progress URL while the run is queued or running and reloads itself when
the run ends; this drives that page in Chromium against a real Celery worker process, so the
status the investigator reads changes without touching the keyboard, and the downloads the
finished page offers are real files.
"""

from __future__ import annotations

import re

import pytest

from analytics.choices import RunStatus
from analytics.models import AnalysisRun
from registry.choices import Role
from registry.demo import generate_patients
from tests.analytics.test_run_helpers import make_cohort, seed_arms
from tests.registry.factories import make_site, make_user

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Generous: the worker shares two cores with the browser and the live server. It bounds a hung
# test; nothing is timed.
RUN_LIMIT_MS = 600_000


def test_the_run_page_follows_a_worker_run_to_its_downloads(
    shared_media, celery_worker_process, login, live_server
):
    site = make_site("NT", "Nantong Tumor Hospital")
    generate_patients(site=site, count=30, seed=5)
    make_user("inv", Role.REGISTRY_INVESTIGATOR, is_staff=True)
    seed_arms()
    make_cohort("Nantong, browser run", [site])

    page = login("inv")
    page.goto(f"{live_server.url}/analytics/runs/new/")
    page.check("input[name=template][value=report_a]")
    page.get_by_role("button", name="Start the run").click()
    page.wait_for_url(re.compile(r"/analytics/runs/\d+/$"))
    run = AnalysisRun.objects.get()

    # Before the worker is done the page shows a live status, not a finished one.
    first_status = page.inner_text("#status")
    assert first_status in {"Queued", "Running", "Succeeded", "Succeeded with warnings"}
    if not first_status.startswith("Succeeded"):
        assert page.locator("#progress").is_visible()

    # The page reloads itself when the run ends; nothing here clicks or navigates.
    page.wait_for_function(
        "document.getElementById('status').textContent.trim().startsWith('Succeeded')",
        timeout=RUN_LIMIT_MS,
    )
    run.refresh_from_db()
    # Thirty patients may not support every model: then the page lists what was skipped.
    expected = RunStatus.SUCCEEDED_WITH_WARNINGS if run.warnings else RunStatus.SUCCEEDED
    assert run.status == expected, run.error
    if run.warnings:
        assert page.locator("#warnings li").count() == len(run.warnings)
    assert page.locator("#progress").count() == 0

    # The finished page links the report; the PDF it serves is a PDF.
    pdf_link = page.locator("a[href*='.pdf?']").first
    response = page.request.get(live_server.url + pdf_link.get_attribute("href"))
    assert response.status == 200
    assert response.body()[:5] == b"%PDF-"

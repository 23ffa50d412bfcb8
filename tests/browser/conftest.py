"""Real-browser tests: Playwright's sync API driving Debian's Chromium against ``live_server``."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are ordinary synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "pw-123456789"


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (run `make system-deps`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def ctcae_terms(transactional_db) -> None:
    """The CTCAE list a data migration loads; a flushed transactional database may lack it."""
    from django.apps import apps

    from registry.models import CtcaeTerm

    if not CtcaeTerm.objects.exists():
        migration = importlib.import_module("registry.migrations.0002_ctcae_terms")
        migration.load_terms(apps, None)


@pytest.fixture
def login(browser, live_server):
    """A new browser page logged in to the admin as ``username``."""
    contexts = []

    def _login(username: str):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        return page

    yield _login
    for context in contexts:
        context.close()

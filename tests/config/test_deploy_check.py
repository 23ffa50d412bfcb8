"""Issue 17 item 10: ``manage.py check --deploy`` is clean with the production settings."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_check_deploy_with_production_settings_reports_nothing(tmp_path):
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": "a-production-secret-key-of-more-than-fifty-characters-0123456789",
        "ALLOWED_HOSTS": "registry.example.org",
        "REGISTRY_VAR_DIR": str(tmp_path),
    }
    env.pop("DEBUG", None)
    # Set by the browser tests' conftest for Playwright in this process; never in production.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout

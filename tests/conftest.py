"""Shared fixtures: a real Celery worker process bound to the test database, and the media
folder it shares with the test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_test_db() -> str:
    """The URL of the database pytest-django created, for processes started by a test."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def ctcae_terms_loaded(transactional_db) -> None:
    """The CTCAE list a data migration loads: a transactional test before this one flushed it."""
    import importlib

    from django.apps import apps

    from registry.models import CtcaeTerm

    if not CtcaeTerm.objects.exists():
        importlib.import_module("registry.migrations.0002_ctcae_terms").load_terms(apps, None)


@pytest.fixture
def celery_worker_process(transactional_db, ctcae_terms_loaded) -> Iterator[subprocess.Popen]:
    """Start ``celery worker`` as a separate OS process against the configured broker.

    The worker reads and writes the test database, so tests using it need committed data
    (``transactional_db``), exactly as a production worker sees only committed rows.
    """
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_test_db(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
        "PYTHONUNBUFFERED": "1",
    }
    log_path = Path(settings.VAR_DIR) / f"test-worker-{os.getpid()}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited early:\n{log_path.read_text()}")
        if "ready." in log_path.read_text():
            break
        time.sleep(0.2)
    else:
        process.terminate()
        raise RuntimeError(f"celery worker did not start:\n{log_path.read_text()}")
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def shared_media(tmp_path, settings, monkeypatch):
    """One media folder for this process (and its live server) and the worker it starts, which
    inherits the environment: the run outputs the worker writes are the files a test reads."""
    media = tmp_path / "media"
    monkeypatch.setenv("MEDIA_ROOT", str(media))
    settings.MEDIA_ROOT = media
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    return media


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    """API throttle counts live in the cache, keyed by user id or address, which tests reuse:
    each test starts with none, as a client arriving fresh would."""
    from django.core.cache import cache

    cache.clear()

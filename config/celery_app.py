"""The Celery application: tasks take ids and call services (see STYLE.md)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="registry.ping")
def ping(value: str = "pong") -> str:
    """Round-trip check used by the health tests: proves a worker consumed the broker."""
    return value

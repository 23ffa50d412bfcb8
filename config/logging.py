"""Logging filters: a refused request is one line in the log, never a traceback."""

from __future__ import annotations

import logging


class ClientErrorsOnOneLine(logging.Filter):
    """Drop the traceback of a 4xx record (``django.request``, ``django.security``).

    Django logs a refused request (403 PermissionDenied, 400 SuspiciousOperation, 404) with the
    exception attached, so a user without access to a page filled the log with a traceback of
    an ordinary refusal. The line keeps the status, the path and the reason; server errors
    (5xx) keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.exc_info and (status is None or status < 500) and record.levelno < logging.ERROR:
            record.exc_info = None
            record.exc_text = None
        return True

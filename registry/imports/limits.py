"""How large an upload may be: each bound a setting with a safe default, each refusal a sentence.

An import reads the whole file before it writes anything, so without bounds one upload could
hold a worker for ever or fill its memory: a 7.9 MB CSV of 10^6 columns stored 10^6 errors, a
ZIP expanding to 2 million rows left a job "running", a 200 KB cell was a server error. Every
bound is checked while the file is read (``registry.imports.parsing``), before any row is
validated, and refuses the file with a message naming the bound and how to stay within it.

Settings (or environment variables of the same name):

- ``REGISTRY_IMPORT_MAX_UPLOAD_BYTES``: the uploaded file(s), 100 MB.
- ``REGISTRY_IMPORT_MAX_EXPANDED_BYTES``: an XLSX or ZIP once decompressed, 1 GB.
- ``REGISTRY_IMPORT_MAX_ROWS``: data rows of the whole upload, 2,000,000 (the benchmark's
  100,000 patients with the whole CRF are 1.6 million rows, ``benchmarks/bench_import.py``).
- ``REGISTRY_IMPORT_MAX_COLUMNS``: columns of one sheet, 200 (the widest section has ~40).
- ``REGISTRY_IMPORT_MAX_CELL_CHARS``: characters in one cell, 2,000 (the longest field, 500).
- ``REGISTRY_IMPORT_MAX_ERRORS``: errors stored on a job, 1,000; the total is counted.
"""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS = {
    "REGISTRY_IMPORT_MAX_UPLOAD_BYTES": 100 * 1024 * 1024,
    "REGISTRY_IMPORT_MAX_EXPANDED_BYTES": 1024 * 1024 * 1024,
    "REGISTRY_IMPORT_MAX_ROWS": 2_000_000,
    "REGISTRY_IMPORT_MAX_COLUMNS": 200,
    "REGISTRY_IMPORT_MAX_CELL_CHARS": 2_000,
    "REGISTRY_IMPORT_MAX_ERRORS": 1_000,
}


def limit(name: str) -> int:
    """A bound from the settings, else the environment, else its default."""
    configured = getattr(settings, name, None)
    if configured is None:
        configured = os.environ.get(name) or DEFAULTS[name]
    return int(configured)


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def upload_size_error(name: str, size: int) -> str | None:
    """The refusal of an upload of ``size`` bytes, or None when it is within the bound."""
    maximum = limit("REGISTRY_IMPORT_MAX_UPLOAD_BYTES")
    if size <= maximum:
        return None
    return (
        f"{name} is {megabytes(size)}; an upload may be at most {megabytes(maximum)} "
        "(REGISTRY_IMPORT_MAX_UPLOAD_BYTES). Split the file by section or by site."
    )

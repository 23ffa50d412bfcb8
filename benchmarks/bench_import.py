"""Bulk import of N synthetic patients with the full CRF into PostgreSQL, against raw COPY.

Method
------
1. Create a scratch PostgreSQL database (``--admin-url``, default the local ``postgres``) and
   migrate it. Dropped at the end unless ``--keep``.
2. For each size N: generate N synthetic patients with the whole CRF as one CSV file per section
   in a ZIP (``registry.imports.synthetic``: patients, 2 lab panels, baseline tumour, 3 TACE
   sessions, systemic therapy, baseline + follow-up imaging with 2 target lesions each, an
   adverse event, a follow-up contact, death for ~20 %: about 16 rows per patient). Generation
   is not timed.
3. Timed: ``read_upload`` + ``import_sheets(dry_run=False)`` into a fresh site — the code path of
   the API and the web page: parsing, ``full_clean()`` of every row with the model rules and the
   cross-form checks (their facts — death dates, first treatment dates, baseline scans — read
   once per section, ``registry.validation.facts_preloaded``), bulk inserts with audit rows
   (``COPY`` on PostgreSQL, ``registry.imports.writing``), then the patient-level derivations and
   data-quality flags of every patient (``services.patients_refresh_derived``), all in one
   transaction. The derivation phase is timed separately as well.
4. Timed: the same file imported a second time (idempotent: 0 created, 0 updated).
5. Baseline: the rows the import stored (CRF tables only, not the audit or flag tables) are
   dumped with ``COPY … TO STDOUT`` (not timed) and loaded with ``COPY … FROM STDIN`` through
   psycopg into empty tables of the same shape (``CREATE TABLE … (LIKE … INCLUDING ALL)``): the
   raw-COPY time of the same rows. Ratio = import time / COPY time.
6. Floors, for reading the ratio: the same COPY with the rows' audit rows (one ``+`` row each in
   the ``simple_history`` tables, which the import must also write), and reading the file alone
   (``read_upload``: ZIP, CSV, cells), each timed on its own.

Usage: ``.venv/bin/python benchmarks/bench_import.py --sizes 1000,10000``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup_django(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REGISTRY_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _models():
    from registry import models as m

    return [
        m.Patient,
        m.LabPanel,
        m.TumourAssessment,
        m.TaceSession,
        m.SystemicTherapy,
        m.ImagingAssessment,
        m.LesionMeasurement,
        m.AdverseEvent,
        m.FollowUp,
        m.Death,
    ]


def _owner_filter(model, site_id: int) -> str:
    from registry.models import LesionMeasurement, Patient

    if model is Patient:
        return f"site_id = {site_id}"
    if model is LesionMeasurement:
        return (
            "assessment_id IN (SELECT a.id FROM registry_imagingassessment a JOIN registry_patient p "
            f"ON p.id = a.patient_id WHERE p.site_id = {site_id})"
        )
    return f"patient_id IN (SELECT id FROM registry_patient WHERE site_id = {site_id})"


def copy_baseline(site_id: int) -> tuple[float, int, float]:
    """Seconds to COPY the site's stored CRF rows into empty tables of the same shape, the number
    of rows, and seconds to COPY those rows together with their audit rows (the import writes
    both: the floor of any import that keeps the audit trail)."""
    from django.db import connection
    from simple_history.utils import get_history_manager_for_model

    dumps, audit_dumps = [], []
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for model in _models():
            table = model._meta.db_table
            history = get_history_manager_for_model(model).model._meta.db_table
            owned = f"SELECT * FROM {table} WHERE {_owner_filter(model, site_id)}"
            audited = (
                f"SELECT * FROM {history} WHERE history_type = '+' AND id IN "
                f"(SELECT id FROM {table} WHERE {_owner_filter(model, site_id)})"
            )
            dumps.append((table, _dump(raw, owned)))
            audit_dumps.append((history, _dump(raw, audited)))
            for name in (table, history):
                cursor.execute(f"DROP TABLE IF EXISTS bench_{name}")
                cursor.execute(f"CREATE TABLE bench_{name} (LIKE {name} INCLUDING ALL)")
    rows = sum(data.count(b"\n") for _, data in dumps)
    connection.commit() if not connection.get_autocommit() else None
    elapsed = _timed_copy(dumps)
    with_audit = _timed_copy(dumps + audit_dumps, truncate=True)
    with connection.cursor() as cursor:
        for table, _ in dumps + audit_dumps:
            cursor.execute(f"DROP TABLE bench_{table}")
    return elapsed, rows, with_audit


def _dump(raw, query: str) -> bytes:
    buffer = bytearray()
    with raw.copy(f"COPY ({query}) TO STDOUT") as copy:
        for chunk in copy:
            buffer += chunk
    return bytes(buffer)


def _timed_copy(dumps: list[tuple[str, bytes]], *, truncate: bool = False) -> float:
    from django.db import connection

    if truncate:
        with connection.cursor() as cursor:
            for table, _ in dumps:
                cursor.execute(f"TRUNCATE bench_{table}")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table, data in dumps:
            with raw.copy(f"COPY bench_{table} FROM STDIN") as copy:
                copy.write(data)
    return time.perf_counter() - started


def measure(size: int, index: int) -> dict:
    from django.contrib.auth import get_user_model

    from registry.choices import Role
    from registry.imports import importer as importer_module
    from registry.imports.importer import import_sheets
    from registry.imports.parsing import read_upload
    from registry.imports.synthetic import as_csv_zip, synthetic_rows
    from registry.models import Patient, Site, SiteMembership

    code = "BENCH" + "ABCDEFGHIJ"[index]
    site = Site.objects.create(code=code, name=f"Benchmark {size}", country="-")
    user = get_user_model().objects.create_user(username=f"bench-{code.lower()}")
    SiteMembership.objects.create(user=user, site=site, role=Role.DATA_MANAGER)
    rows = synthetic_rows(size, ref_prefix=f"{code}-MRN")
    data = as_csv_zip(rows)
    row_count = sum(len(section) for section in rows.values())

    # Reading the file alone (ZIP, CSV, cells), the part of the import no design can skip.
    started = time.perf_counter()
    read_upload(data, "bench.zip")
    read_seconds = time.perf_counter() - started

    load_before = os.getloadavg()[0]
    derive_seconds = []
    original = importer_module._Importer.refresh_derived

    def timed_refresh(self):
        started = time.perf_counter()
        original(self)
        derive_seconds.append(time.perf_counter() - started)

    importer_module._Importer.refresh_derived = timed_refresh
    try:
        started = time.perf_counter()
        result = import_sheets(
            site=site, user=user, sheets=read_upload(data, "bench.zip"), dry_run=False
        )
        first = time.perf_counter() - started
    finally:
        importer_module._Importer.refresh_derived = original
    if result.errors:
        raise SystemExit(f"benchmark file has errors: {result.errors[:5]}")
    assert Patient.objects.filter(site=site).count() == size

    started = time.perf_counter()
    again = import_sheets(
        site=site, user=user, sheets=read_upload(data, "bench.zip"), dry_run=False
    )
    second = time.perf_counter() - started
    if again.totals["created"] or again.totals["updated"]:
        raise SystemExit(f"re-import was not a no-op: {again.totals}")

    copy_seconds, copied_rows, copy_audit_seconds = copy_baseline(site.pk)
    return {
        "load": (load_before, os.getloadavg()[0]),
        "patients": size,
        "rows": row_count,
        "import_s": first,
        "derive_s": derive_seconds[0] if derive_seconds else 0.0,
        "reimport_s": second,
        "copy_s": copy_seconds,
        "copy_audit_s": copy_audit_seconds,
        "read_s": read_seconds,
        "copied_rows": copied_rows,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]

    import psycopg

    name = f"hcc_bench_import_{os.getpid()}"
    admin = args.admin_url
    with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    database_url = admin.rsplit("/", 1)[0] + f"/{name}"
    results = []
    try:
        with tempfile.TemporaryDirectory() as var_dir:
            _setup_django(database_url, var_dir)
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            for index, size in enumerate(sizes):
                result = measure(size, index)
                results.append(result)
                print(_line(result), flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(
                admin.replace("postgres://", "postgresql://"), autocommit=True
            ) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
    print()
    print(
        "| patients | rows | import (s) | patients/s | rows/s | of which derivations (s) "
        "| re-import (s) | raw COPY (s) | import / COPY | reading the file (s) "
        "| raw COPY with audit rows (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['patients']:,} | {r['rows']:,} | {r['import_s']:.1f} | "
            f"{r['patients'] / r['import_s']:.0f} | {r['rows'] / r['import_s']:.0f} | "
            f"{r['derive_s']:.1f} | {r['reimport_s']:.1f} | {r['copy_s']:.2f} | "
            f"{r['import_s'] / r['copy_s']:.1f}× | {r['read_s']:.2f} | {r['copy_audit_s']:.2f} |"
        )
    return 0


def _line(r: dict) -> str:
    return (
        f"N={r['patients']}: {r['rows']} rows, import {r['import_s']:.1f} s "
        f"({r['patients'] / r['import_s']:.0f} patients/s; derivations {r['derive_s']:.1f} s), "
        f"re-import {r['reimport_s']:.1f} s, raw COPY of {r['copied_rows']} rows "
        f"{r['copy_s']:.2f} s ({r['copy_audit_s']:.2f} s with the audit rows); reading the file "
        f"{r['read_s']:.2f} s; load average {r['load'][0]:.2f} -> {r['load'][1]:.2f}"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

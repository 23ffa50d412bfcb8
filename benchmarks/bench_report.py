"""Report A end to end on 10,000 and 100,000 patients: wall time and peak memory of the worker.

Method
------
1. Create a scratch PostgreSQL database (``--admin-url``, default the local ``postgres``), migrate.
2. For each size in increasing order, grow the registry to that size with the bulk generator
   of ``benchmarks/bench_analytics.py`` (so both benchmarks measure the same data; see its
   docstring), then ``ANALYZE``. Without that script, a template cohort of
   ``--template-patients`` patients is entered through ``registry.demo`` (validated and
   derived by the services) and copied in bulk until the size is reached.
3. Then a fresh Python process (standing in for a ``--pool solo`` worker) creates a Report A
   run over a cohort of every registered patient and calls ``run_execute`` — the
   same code the Celery task runs: dataset selector, statistics, figures, PDF, XLSX, CSV,
   dataset files. It prints the wall time of ``run_execute`` and its own peak resident memory
   (``resource.getrusage(RUSAGE_SELF).ru_maxrss``).
4. The scratch database is dropped (``--keep`` keeps it).

Usage: ``.venv/bin/python benchmarks/bench_report.py --sizes 10000,100000``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _setup_django(database_url: str, media_root: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["MEDIA_ROOT"] = media_root
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


# --- data ----------------------------------------------------------------------------------


def _copy_models():
    from registry import models as m

    # Order matters: LesionMeasurement points at ImagingAssessment.
    return [
        m.LabPanel,
        m.TumourAssessment,
        m.TaceSession,
        m.HaicCycle,
        m.RadiotherapyCourse,
        m.LocalProcedure,
        m.SystemicTherapy,
        m.ImagingAssessment,
        m.LesionMeasurement,
        m.AdverseEvent,
        m.ProgressionEvent,
        m.FollowUp,
        m.Death,
    ]


def _fields(model, skip=()):
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in skip and f.attname not in skip
    ]


def generate(total: int, template_patients: int) -> None:
    """Grow the registry to ``total`` patients.

    With ``benchmarks/bench_analytics.py`` present, its bulk generator is used so both
    benchmarks measure the same data; otherwise validated demo patients are copied in bulk.
    """
    from django.db import connection

    from registry.models import Patient

    try:
        import bench_analytics
    except ImportError:
        bench_analytics = None
    if bench_analytics is not None:
        have = Patient.objects.count()
        if total > have:
            bench_analytics.generate(total - have, start=have)
    else:
        _generate_by_copies(total, template_patients)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _generate_by_copies(total: int, template_patients: int) -> None:
    """``total`` patients: a validated template cohort, then bulk copies of it."""
    from django.db import transaction

    from registry.demo import generate_patients
    from registry.models import Patient, Site

    sites = []
    for code, name in (("NT", "Nantong Tumor Hospital"), ("SH", "Shanghai Liver Centre")):
        site, _ = Site.objects.get_or_create(code=code, defaults={"name": name, "country": "China"})
        sites.append(site)
    started = time.perf_counter()
    if not Patient.objects.exists():
        for site in sites:
            generate_patients(site=site, count=template_patients // 2, seed=2)
        print(
            f"  template: {Patient.objects.count()} patients through the services in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    template = list(Patient.objects.order_by("id").values_list("id", flat=True)[:template_patients])
    copy = 0
    while Patient.objects.count() < total:
        copy += 1
        wanted = min(len(template), total - Patient.objects.count())
        with transaction.atomic():
            _copy_patients(template[:wanted], copy)
    print(
        f"  {Patient.objects.count()} patients ready after {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def _copy_patients(patient_ids: list[int], copy: int) -> None:
    from registry.models import LesionMeasurement, Patient

    patient_fields = _fields(Patient, skip={"baseline_lab", "created_at", "updated_at"})
    originals = list(Patient.objects.filter(id__in=patient_ids).order_by("id"))
    clones = []
    for patient in originals:
        clone = Patient(**{f.attname: getattr(patient, f.attname) for f in patient_fields})
        clone.study_id = f"{patient.study_id}-C{copy}"
        clone.site_patient_ref = f"BENCH-{copy}-{patient.pk}"
        clones.append(clone)
    Patient.objects.bulk_create(clones, batch_size=2000)
    patient_map = {o.pk: c.pk for o, c in zip(originals, clones, strict=True)}
    id_maps: dict[type, dict[int, int]] = {}
    for model in _copy_models():
        if model is LesionMeasurement:
            parent_field, parent_map = "assessment_id", id_maps[_imaging()]
            rows = list(model.objects.filter(assessment_id__in=list(parent_map)).order_by("id"))
        else:
            parent_field, parent_map = "patient_id", patient_map
            rows = list(model.objects.filter(patient_id__in=patient_ids).order_by("id"))
        fields = _fields(model, skip={"created_at", "updated_at"})
        new_rows = []
        for row in rows:
            values = {f.attname: getattr(row, f.attname) for f in fields}
            values[parent_field] = parent_map[getattr(row, parent_field)]
            new_rows.append(model(**values))
        model.objects.bulk_create(new_rows, batch_size=2000)
        id_maps[model] = {o.pk: n.pk for o, n in zip(rows, new_rows, strict=True)}
    lab_map = id_maps[_lab()]
    for original, clone in zip(originals, clones, strict=True):
        clone.baseline_lab_id = lab_map.get(original.baseline_lab_id)
    Patient.objects.bulk_update(clones, ["baseline_lab"], batch_size=2000)


def _imaging():
    from registry.models import ImagingAssessment

    return ImagingAssessment


def _lab():
    from registry.models import LabPanel

    return LabPanel


# --- one measured run ----------------------------------------------------------------------


def measure(size: int) -> dict:
    """Create and execute a Report A run over ``size`` patients, in this (fresh) process."""
    from django.contrib.auth import get_user_model

    from analytics.choices import RunStatus
    from analytics.models import AnalysisRun, ArmDefinition, CohortDefinition
    from analytics.services import run_create, run_execute
    from registry.models import Patient

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )
    cohort = CohortDefinition.objects.create(
        name=f"bench {size}", cutoff_date=dt.date(2024, 12, 31)
    )
    run = run_create(
        user=user,
        template="report_a",
        cohort=cohort,
        control_arm=ArmDefinition.objects.get(rule="systemic_alone", version=1),
        treatment_arm=ArmDefinition.objects.get(rule="local_plus_systemic", version=1),
        options={},
        enqueue=False,
    )
    started = time.perf_counter()
    status = run_execute(run.pk)
    wall = time.perf_counter() - started
    run = AnalysisRun.objects.get(pk=run.pk)
    if status != RunStatus.SUCCEEDED:
        raise SystemExit(f"run failed:\n{run.error}")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "size": size,
        "registered": Patient.objects.count(),
        "analysed": run.provenance["dataset_rows"],
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(peak_kib / 1024, 0),
        "phases_s": run.provenance.get("timings", {}),
        "outputs": run.outputs.count(),
        "output_mib": round(sum(run.outputs.values_list("size_bytes", flat=True)) / 2**20, 1),
    }


# --- driver --------------------------------------------------------------------------------


def _psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--template-patients", type=int, default=200)
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default=f"bench_report_{os.getpid()}")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # child process mode
    parser.add_argument("--media-root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    base = args.admin_url.rsplit("/", 1)[0]
    database_url = f"{base}/{args.database}"

    if args.measure:
        _setup_django(database_url, args.media_root)
        print("RESULT " + json.dumps(measure(args.measure)), flush=True)
        return 0

    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    _psql(args.admin_url, f'CREATE DATABASE "{args.database}"')
    media = tempfile.mkdtemp(prefix="bench-report-media-")
    try:
        env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        _setup_django(database_url, media)
        results = []
        for size in sizes:
            print(f"Generating {size} patients in {args.database} …", flush=True)
            generate(size, args.template_patients)
            from django.db import connections

            connections.close_all()
            child = [sys.executable, __file__, "--admin-url", args.admin_url]
            child += ["--database", args.database, "--measure", str(size), "--media-root", media]
            out = subprocess.run(
                child, cwd=ROOT, env=env, check=True, capture_output=True, text=True
            )
            line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
            results.append(json.loads(line.removeprefix("RESULT ")))
            print(f"  {results[-1]}", flush=True)
        print()
        print(
            "| registered patients | analysed (in an arm) | wall time, s | peak RSS, MiB | files | MiB |"
        )
        print("|---:|---:|---:|---:|---:|---:|")
        for r in results:
            print(
                f"| {r['registered']:,} | {r['analysed']:,} | {r['wall_s']} | "
                f"{r['peak_rss_mib']:.0f} | {r['outputs']} | {r['output_mib']} |"
            )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            _psql(args.admin_url, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Report A end to end: a real Celery worker process computes a run over two sites' patients.

The run's outputs are read back the way an investigator would: the PDF with pypdf, rendered
to PNG with poppler's pdftoppm, the workbook with openpyxl, the dataset CSV with pandas. The
log-rank χ² printed in the report is recomputed here with lifelines from the downloaded
dataset, so the check does not go through the registry's own statistics code.
"""

from __future__ import annotations

import io
import subprocess
import time

import numpy as np
import openpyxl
import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from lifelines.statistics import logrank_test
from PIL import Image
from pypdf import PdfReader

from analytics.choices import RunStatus
from analytics.models import AnalysisRun, RunOutput
from registry.choices import Role
from registry.demo import generate_patients
from tests.analytics.test_run_helpers import make_cohort, queue_run
from tests.registry.factories import make_site, make_user

PATIENTS_PER_SITE = 30


def wait_for(run: AnalysisRun, worker, limit_seconds: float = 900) -> AnalysisRun:
    """Poll like the run page does; the limit only stops a hung test, it times nothing."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished:
            return run
        assert worker.poll() is None, "the worker process died"
        time.sleep(1)
    raise AssertionError(f"run {run.pk} still {run.status} ({run.progress_message})")


def output(run: AnalysisRun, kind: str) -> bytes:
    with run.outputs.get(kind=kind).file.open("rb") as handle:
        return handle.read()


@pytest.mark.worker
def test_a_worker_computes_report_a_and_every_output_reads_back(
    shared_media, celery_worker_process
):
    nt, sh = make_site("NT", "Nantong Tumor Hospital"), make_site("SH", "Shanghai Liver Centre")
    generate_patients(site=nt, count=PATIENTS_PER_SITE, seed=2)
    generate_patients(site=sh, count=PATIENTS_PER_SITE, seed=2)
    investigator = make_user("investigator", Role.REGISTRY_INVESTIGATOR)
    nt_investigator = make_user("inv-nt", Role.SITE_INVESTIGATOR, nt)
    cohort = make_cohort("Both sites", [nt, sh])

    run = wait_for(queue_run(investigator, cohort), celery_worker_process)

    # Sixty demo patients may not support every model; then the run lists what it skipped.
    expected = RunStatus.SUCCEEDED_WITH_WARNINGS if run.warnings else RunStatus.SUCCEEDED
    assert run.status == expected, run.error
    assert run.progress_pct == 100
    assert {"html", "pdf", "xlsx", "csv", "png", "svg", "dataset_csv", "dictionary", "sav", "dta"} <= set(run.outputs.values_list("kind", flat=True))  # fmt: skip

    # The dataset behind the report, as downloaded, and the report's numbers recomputed from it.
    dataset = pd.read_csv(io.BytesIO(output(run, RunOutput.Kind.DATASET_CSV)))
    assert len(dataset) == run.provenance["dataset_rows"]
    assert "site_patient_ref" not in dataset.columns
    assert set(dataset["site"]) == {"NT", "SH"}
    control = dataset[dataset["arm"] == "Systemic therapy alone"]
    treatment = dataset[dataset["arm"] == "Local + systemic therapy"]
    assert len(control) > 0
    assert len(treatment) > 0
    survival = dataset.dropna(subset=["os_months", "os_event"])
    in_control = survival["arm"] == "Systemic therapy alone"
    chi2 = logrank_test(
        survival.loc[in_control, "os_months"],
        survival.loc[~in_control, "os_months"],
        survival.loc[in_control, "os_event"],
        survival.loc[~in_control, "os_event"],
    ).test_statistic
    chi2_text = f"{chi2:.3f}"

    pdf = PdfReader(io.BytesIO(output(run, RunOutput.Kind.PDF)))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Baseline" in text
    assert "Kaplan" in text
    assert "Cox" in text
    assert "Adverse events" in text
    assert run.dataset_sha256 in text.replace("\n", "").replace(" ", "")
    assert chi2_text in text

    workbook = openpyxl.load_workbook(io.BytesIO(output(run, RunOutput.Kind.XLSX)))
    assert "os_medians" in workbook.sheetnames
    # Numbers are number cells (the report's text "0.811" is their display format).
    medians = list(workbook["os_medians"].iter_rows(min_row=3, values_only=True))
    header, first = medians[0], dict(zip(medians[0], medians[1], strict=True))
    assert round(first["Log-rank χ²"], 3) == round(chi2, 3)
    patients = header.index("Patients")
    assert {row[patients] for row in medians[1:3]} == {len(control), len(treatment)}

    pages_dir = shared_media / "pages"
    pages_dir.mkdir()
    pdf_path = pages_dir / "report.pdf"
    pdf_path.write_bytes(output(run, RunOutput.Kind.PDF))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "3", str(pdf_path), str(pages_dir / "p")],
        check=True,
    )
    pages = sorted(pages_dir.glob("p*.png"))
    assert len(pages) == min(3, len(pdf.pages))
    for page in pages:
        pixels = np.asarray(Image.open(page).convert("L"), dtype=float)
        assert pixels.var() > 0, f"{page.name} is blank"

    # Downloads: a Nantong investigator may not fetch a run that covers Shanghai's patients.
    pdf_output = run.outputs.get(kind=RunOutput.Kind.PDF)
    url = reverse("analytics:output_download", args=[run.pk, pdf_output.pk, pdf_output.name])
    browser = Client()
    browser.force_login(nt_investigator)
    assert browser.get(url).status_code == 404
    browser.force_login(investigator)
    assert browser.get(url).status_code == 200

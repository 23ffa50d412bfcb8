"""Seed 002's registry → a Report A run on a real Celery worker → the numbers in the workbook.

The 95 patients of ``tests.analytics.seed002_registry`` are entered through the registry's
services; a worker process computes the run from the database as in production; the test
reads the χ² and P of seed 002's Table 2 (best response) and Table 3 (adverse events) back
from the XLSX an investigator downloads, as numbers, and compares them with the values
``spec/ANALYSIS.md`` derives from the seed's published counts (Pearson χ² without continuity
correction; systemic n = 39 vs local + systemic n = 56):

| row                 | counts       | χ²     | P       |
| ORR (CR+PR)         | 8 vs 23      | 4.420  | 0.036   |
| DCR (CR+PR+SD)      | 19 vs 43     | 7.989  | 0.005   |
| any adverse event   | 20 vs 49     | 15.171 | < 0.001 |
| vomiting            | 1 vs 4       | 0.967  | 0.326   |
| rash                | 4 vs 6       | 0.005  | 0.943   |
| hypothyroidism      | 3 vs 7       | 0.564  | 0.453   |
| diarrhea            | 3 vs 5       | 0.046  | 0.831   |
| ALT/AST increased   | 2 vs 3       | 0.002  | 0.961   |
| bilirubin increased | 2 vs 4       | 0.158  | 0.691   |
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from pypdf import PdfReader

from analytics.choices import RunStatus
from analytics.models import RunOutput
from registry.choices import Role
from tests.analytics.seed002_registry import add_seed002_patients, seed002_cohort
from tests.analytics.test_run_helpers import queue_run
from tests.analytics.test_run_worker import output, wait_for
from tests.registry.factories import make_site, make_user

SYSTEMIC = "Systemic therapy alone (n = 39)"
COMBINED = "Local + systemic therapy (n = 56)"
P_FORMAT = '[<0.001]"< 0.001";0.000'
# spec/ANALYSIS.md, "Expected figures that follow from the seeds' published counts".
TABLE_2 = {"ORR": (8, 23, 4.420, 0.036), "DCR": (19, 43, 7.989, 0.005)}
TABLE_3 = {
    # report row (CTCAE v5.0 term): (systemic n, combined n, χ², P); P None = "< 0.001"
    "Any adverse event": (20, 49, 15.171, None),
    "Vomiting": (1, 4, 0.967, 0.326),
    "Rash maculo-papular": (4, 6, 0.005, 0.943),
    "Hypothyroidism": (3, 7, 0.564, 0.453),
    "Diarrhea": (3, 5, 0.046, 0.831),
    "Alanine aminotransferase increased": (2, 3, 0.002, 0.961),  # "ALT/AST increased"
    "Blood bilirubin increased": (2, 4, 0.158, 0.691),
}


def sheet_rows(workbook, name: str) -> dict[str, dict[str, openpyxl.cell.Cell]]:
    """The sheet's data rows by their first cell, each as {header: cell}; header on row 3."""
    sheet = workbook[name]
    headers = [c.value for c in sheet[3]]
    rows = {}
    for cells in sheet.iter_rows(min_row=4):
        if cells[0].value is None:
            break  # the blank row before the footnotes
        rows[cells[0].value] = dict(zip(headers, cells, strict=False))
    return rows


def assert_rounds_to(cell, expected: float | None, *, decimals: int = 3) -> None:
    """A number cell whose value rounds to ``expected`` (None: below 0.001, shown so)."""
    assert isinstance(cell.value, float), (cell.coordinate, cell.value)
    if expected is None:
        assert cell.value < 0.001
        assert cell.number_format == P_FORMAT
    else:
        assert round(cell.value, decimals) == pytest.approx(expected, abs=1e-9), cell.coordinate


@pytest.fixture
def seed002_run(shared_media, celery_worker_process):
    site = make_site("NT", "Nantong Tumor Hospital")
    add_seed002_patients(site)
    investigator = make_user("seed002-investigator", Role.REGISTRY_INVESTIGATOR)
    run = wait_for(queue_run(investigator, seed002_cohort()), celery_worker_process)
    # The registry is built to the seed's published counts, not to its survival data: its
    # multivariable Cox model is not estimable (a covariate level without events, where Firth's
    # model is rank deficient too), so the run ends with that warning, and only that one.
    assert run.status in (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED_WITH_WARNINGS), run.error
    assert all(w.startswith("Univariable and multivariable Cox") for w in run.warnings), (
        run.warnings
    )
    return run


@pytest.mark.worker
def test_report_a_workbook_gives_the_published_chi_square_and_p(seed002_run):
    workbook = openpyxl.load_workbook(io.BytesIO(output(seed002_run, RunOutput.Kind.XLSX)))

    response = sheet_rows(workbook, "best_response")
    for rate, (systemic, combined, chi_square, p) in TABLE_2.items():
        line = response[rate]
        assert line[f"{SYSTEMIC} n"].value == systemic
        assert line[f"{COMBINED} n"].value == combined
        assert_rounds_to(line["χ²"], chi_square)
        assert_rounds_to(line["P"], p)
        assert line["P"].number_format == P_FORMAT

    adverse = sheet_rows(workbook, "adverse_events")
    for term, (systemic, combined, chi_square, p) in TABLE_3.items():
        line = adverse[term]
        assert line[f"Any grade: {SYSTEMIC} n"].value == systemic, term
        assert line[f"Any grade: {COMBINED} n"].value == combined, term
        assert_rounds_to(line["Any grade: χ²"], chi_square)
        assert_rounds_to(line["Any grade: P"], p)
        # Seed 002: every event grade 1–2, so grade ≥ 3 is 0 vs 0 and not testable.
        assert line[f"Grade ≥ 3: {SYSTEMIC} n"].value == 0
        assert line["Grade ≥ 3: P"].value is None
    # Vomiting 1/39 vs 4/56: expected counts < 5, so Fisher's exact P is given beside χ²'s.
    # R: fisher.test(matrix(c(1, 38, 4, 52), 2, byrow = TRUE))$p.value = 0.6454895
    assert_rounds_to(adverse["Vomiting"]["Any grade: Fisher's exact P"], 0.645)
    assert adverse["Any adverse event"]["Any grade: Fisher's exact P"].value is None

    # The percentages are numbers too, shown to 2 decimals: 49/56 = 87.50 %.
    any_ae = adverse["Any adverse event"][f"Any grade: {COMBINED} %"]
    assert any_ae.value == pytest.approx(87.5)
    assert any_ae.number_format == "0.00"

    # The same run's PDF: seed 002's order, and no exception text on any page.
    pages = [
        page.extract_text()
        for page in PdfReader(io.BytesIO(output(seed002_run, RunOutput.Kind.PDF))).pages
    ]
    text = "\n".join(pages)
    headings = [
        "Patient flow",
        "Baseline characteristics (Table 1)",
        "Overall and progression-free survival",
        "Univariable and multivariable Cox regression",
        "Best overall response",
        "Adverse events by CTCAE",
        "Methods and provenance",
    ]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    for number, page in enumerate(pages, start=1):
        for marker in ("Traceback", "Error:", "Exception"):
            assert marker not in page, (number, marker)

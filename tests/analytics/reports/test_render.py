"""Rendered outputs: HTML (provenance first), PDF (A4, text, not blank), XLSX, CSV, figures."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from analytics.reports.render import (
    figure_files,
    render_csvs,
    render_html,
    render_xlsx,
    sheet_names,
)
from tests.analytics.reports.cohort import CONTROL
from tests.analytics.reports.conftest import make_report
from tests.analytics.reports.helpers import row, table


def test_html_page_puts_the_provenance_before_the_results(report_a):
    page = render_html(report_a)
    assert page.startswith("<!DOCTYPE html>")
    provenance = page.index('id="provenance"')
    assert provenance < page.index('id="section-patient_flow"')
    for text in (
        "Registry version",
        "Data cut-off date",
        "2024-12-31",
        "Cohort definition",
        "Control arm definition",
        "Rule sets",
        "seed002_operational",
        "Methods",
        "Package versions",
        "0" * 64,
        "Patient flow",
    ):
        assert provenance < page.index(text), text


def test_html_inlines_svg_figures_without_xml_declarations(report_a):
    page = render_html(report_a)
    assert page.count("<svg") == 4
    assert "<?xml" not in page
    assert "<!DOCTYPE svg" not in page


def test_html_fragment_is_a_scoped_div(report_a):
    fragment = render_html(report_a, fragment=True)
    assert fragment.startswith('<div class="hcc-report"><style>')
    assert "<html" not in fragment


def test_html_shows_why_a_section_is_unavailable(cohort):
    report = make_report("custom", cohort[cohort["arm"] == CONTROL], sections=["response"])
    page = render_html(report)
    assert "Not available: Responses cannot be compared" in page


def test_html_escapes_data(cohort):
    frame = cohort.assign(arm=cohort["arm"].replace(CONTROL, "<script>x</script>"))
    from analytics.reports import build_report

    report = build_report(
        "custom",
        frame,
        flow=[],
        endpoint_exclusions={},
        provenance={},
        control_arm="<script>x</script>",
        treatment_arm="Local + systemic therapy",
        options={},
        sections=["response"],
    )
    page = render_html(report)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_pdf_is_a4_with_page_numbers(pdf_a):
    reader = PdfReader(io.BytesIO(pdf_a))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert f"Page 1 of {len(reader.pages)}" in reader.pages[0].extract_text()


def test_pdf_contains_the_table_titles_and_their_numbers(pdf_a, report_a):
    text = _pdf_text(pdf_a)
    for title in (
        "Baseline characteristics by arm",
        "Overall survival: median and log-rank test",
        "Best overall response by arm",
        "Adverse events by arm",
    ):
        assert title in text
    chi_square = row(table(report_a, "survival", "os_medians"), "Arm", CONTROL)["Log-rank χ²"]
    assert chi_square in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_pdf_first_page_is_not_blank(pdf_a, tmp_path):
    from PIL import Image

    (tmp_path / "report.pdf").write_bytes(pdf_a)
    subprocess.run(
        ["pdftoppm", "-r", "30", "-f", "1", "-l", "1", "-png", "report.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    image = next(tmp_path.glob("page*.png"))
    pixels = np.asarray(Image.open(image).convert("L"), dtype=float)
    assert pixels.var() > 0


def test_xlsx_has_provenance_then_one_sheet_per_table(report_a):
    workbook = load_workbook(io.BytesIO(render_xlsx(report_a)))
    keys = [t.key for t in report_a.tables()]
    assert workbook.sheetnames == ["Provenance", *keys]
    provenance = workbook["Provenance"]
    labels = {r[0].value: r[1].value for r in provenance.iter_rows(min_row=2) if r[0].value}
    assert labels["Registry version"] == "0.1.0"
    assert labels["Data cut-off date"] == "2024-12-31"


def test_xlsx_table_sheets_hold_the_table_values(report_a):
    workbook = load_workbook(io.BytesIO(render_xlsx(report_a)))
    expected = table(report_a, "survival", "os_medians")
    sheet = workbook["os_medians"]
    assert sheet["A1"].value == expected.title
    assert [c.value for c in sheet[3]] == list(expected.frame.columns)
    assert [c.value for c in sheet[4]] == list(expected.frame.iloc[0])
    assert sheet.cell(4 + len(expected.frame) + 1, 1).value == expected.footnotes[0]


def test_sheet_names_are_short_clean_and_unique():
    names = sheet_names(["a" * 40, "a" * 40, "x/y:z?", "Provenance"], reserved=["Provenance"])
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == 4
    assert names[2] == "x_y_z_"
    assert names[3].lower() != "provenance"


def test_csvs_one_per_table_read_back_equal(report_a):
    files = render_csvs(report_a)
    assert list(files) == [f"{t.key}.csv" for t in report_a.tables()]
    expected = table(report_a, "response", "best_response").frame
    back = pd.read_csv(io.BytesIO(files["best_response.csv"]), dtype=str, keep_default_na=False)
    assert back.to_numpy().tolist() == expected.astype(str).to_numpy().tolist()


def test_figure_files_give_png_and_svg_of_every_figure(report_a):
    files = figure_files(report_a)
    assert sorted(files) == sorted(
        f"{f.key}.{ext}" for f in report_a.figures() for ext in ("png", "svg")
    )
    assert files["os_km.png"].startswith(b"\x89PNG")

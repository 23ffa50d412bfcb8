"""Rendered outputs: HTML (provenance first), PDF (A4, text, not blank), XLSX, CSV, figures."""

from __future__ import annotations

import io
import re
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
from analytics.stats.formatting import format_p
from tests.analytics.reports.cohort import CONTROL, TREATMENT
from tests.analytics.reports.conftest import make_report
from tests.analytics.reports.helpers import arm_column, row, table


def test_html_page_reads_like_a_manuscript(report_a):
    """Title, the study (cohort, arms, cut-off), the sections in seed 002's order, and the
    methods and provenance last."""
    page = render_html(report_a)
    assert page.startswith("<!DOCTYPE html>")
    order = [
        "<h1>",
        'id="study"',
        'id="section-patient_flow"',
        'id="section-baseline"',
        'id="section-survival"',
        'id="section-cox"',
        'id="section-response"',
        'id="section-adverse_events"',
        'id="methods-provenance"',
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    closing = positions[-1]
    for text in (
        "Registry version",
        "Data cut-off date",
        "Cohort definition",
        "Control arm definition",
        "Rule sets",
        "seed002_operational",
        "Statistical methods",
        "Package versions",
        "0" * 64,
        "Data dictionary of the analysis dataset",
    ):
        assert page.index(text) > closing, text


def test_the_study_lines_come_before_the_first_table(report_a):
    page = render_html(report_a)
    first_table = page.index("<table")
    for text in ("TACE-refractory HCC", f"{CONTROL} (n = ", "2024-12-31"):
        assert page.index(text) < first_table, text


def test_the_patient_flow_table_is_printed_once(report_a):
    page = render_html(report_a)
    assert page.count("Registered patients visible to the analysis") == 1


def test_numbers_at_risk_are_drawn_not_tabled_in_the_document(report_a):
    """The risk table is under the Kaplan–Meier curve; its table is for XLSX/CSV only."""
    page = render_html(report_a)
    assert 'id="table-os_at_risk"' not in page
    assert "os_at_risk" in [t.key for t in report_a.tables()]


def test_each_endpoint_table_is_followed_by_its_figure(report_a):
    page = render_html(report_a)
    keys = ["table-os_medians", "figure-os_km", "table-pfs_medians", "figure-pfs_km"]
    positions = [page.index(f'id="{k}"') for k in keys]
    assert positions == sorted(positions)


def test_adverse_event_header_groups_any_grade_and_grade_3(report_a):
    page = render_html(report_a)
    table_start = page.index('id="table-adverse_events"')
    header = page[table_start : page.index("</thead>", table_start)]
    assert '<th colspan="5">Any grade</th>' in header
    assert '<th colspan="5">Grade ≥ 3</th>' in header
    assert "Any grade: " not in header


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


def _workbook(report):
    return load_workbook(io.BytesIO(render_xlsx(report)))


def test_xlsx_has_one_sheet_per_table_then_methods_and_dictionary(report_a):
    workbook = _workbook(report_a)
    keys = [t.key for t in report_a.tables()]
    assert workbook.sheetnames == [*keys, "Methods and provenance", "Dictionary"]
    provenance = workbook["Methods and provenance"]
    labels = {r[0].value: r[1].value for r in provenance.iter_rows(min_row=2) if r[0].value}
    assert labels["Registry version"] == "0.1.0"
    assert labels["Data cut-off date"] == "2024-12-31"
    assert labels["Statistical methods"] == report_a.methods[-1]


def test_xlsx_table_sheets_hold_the_table_values_as_numbers(report_a):
    workbook = _workbook(report_a)
    expected = table(report_a, "survival", "os_medians")
    sheet = workbook["os_medians"]
    assert sheet["A1"].value == expected.title
    headers = [c.value for c in sheet[3]]
    assert headers == [
        "Arm",
        "Patients",
        "Events",
        "Median, months (95% CI) median",
        "Median, months (95% CI) 95% CI lower",
        "Median, months (95% CI) 95% CI upper",
        "Log-rank χ²",
        "df",
        "P",
    ]
    first = dict(zip(headers, sheet[4], strict=True))
    assert first["Arm"].value == CONTROL
    assert first["Patients"].value == int(expected.frame["Patients"].iloc[0])
    chi_square = first["Log-rank χ²"]
    assert isinstance(chi_square.value, float)
    assert f"{chi_square.value:.3f}" == expected.frame["Log-rank χ²"].iloc[0]
    assert chi_square.number_format == "0.000"
    assert first["P"].number_format == '[<0.001]"< 0.001";0.000'
    assert first["Median, months (95% CI) median"].number_format == "0.00"
    assert sheet.cell(4 + len(expected.frame) + 1, 1).value == expected.footnotes[0]


def test_xlsx_header_rows_are_frozen(report_a):
    workbook = _workbook(report_a)
    for key in ("baseline_table1", "adverse_events", "os_medians"):
        assert workbook[key].freeze_panes == "B4", key


def test_xlsx_splits_n_and_percent_into_number_cells(report_a):
    workbook = _workbook(report_a)
    sheet = workbook["adverse_events"]
    headers = [c.value for c in sheet[3]]
    ae = table(report_a, "adverse_events", "adverse_events")
    column = arm_column(ae, TREATMENT, "Any grade")
    n_cell = sheet.cell(4, headers.index(f"{column} n") + 1)
    pct_cell = sheet.cell(4, headers.index(f"{column} %") + 1)
    text = ae.frame[column].iloc[0]  # "n (pct)"
    assert n_cell.value == int(text.split(" ")[0])
    assert f"{pct_cell.value:.2f}" == text.split("(")[1].rstrip(")")
    assert (n_cell.number_format, pct_cell.number_format) == ("0", "0.00")


# Columns of words that may hold digits ("B or C = 1, A = 0").
TEXT_COLUMNS = {"Coding"}


def _assert_numbers_are_number_cells(report, keys):
    workbook = _workbook(report)
    for key in keys:
        sheet = workbook[key]
        headers = [c.value for c in sheet[3]]
        for row_cells in sheet.iter_rows(min_row=4, max_row=3 + len(table_frame(report, key))):
            for header, cell in zip(headers[1:], row_cells[1:], strict=True):
                if isinstance(cell.value, str) and header not in TEXT_COLUMNS:
                    assert not re.search("[0-9]", cell.value), (key, cell.value)


def test_every_number_of_a_typed_table_is_a_number_cell(report_a):
    """No "< 0.001", "n (%)" or plain number text in Table 1, 2 or 3, the medians or the Cox
    tables (hazard ratios, P and the proportional-hazards tests)."""
    _assert_numbers_are_number_cells(
        report_a,
        (
            "baseline_table1",
            "best_response",
            "adverse_events",
            "os_medians",
            "os_cox",
            "os_cox_ph",
            "pfs_cox",
            "pfs_cox_ph",
        ),
    )


def test_every_number_of_report_b_is_a_number_cell(report_b):
    """Matching balance, resistance and the matched-cohort Cox model: numbers as numbers."""
    # The flow and the matching summary (options in words, e.g. "0.121 (logit scale)") are
    # descriptive tables.
    keys = [t.key for t in report_b.tables() if t.key not in ("patient_flow", "matching_summary")]
    assert any("resistance" in key for key in keys), keys
    _assert_numbers_are_number_cells(report_b, keys)


def table_frame(report, key):
    return next(t for t in report.tables() if t.key == key).frame


def test_a_formula_in_the_title_or_a_label_stays_text(cohort):
    """registry.spreadsheets.safe_cell: '=HYPERLINK(...)' must not become a live formula."""
    from analytics.reports import build_report

    title = '=HYPERLINK("http://evil.example","x")'
    frame = cohort.assign(arm=cohort["arm"].replace(CONTROL, "=1+1"))
    report = build_report(
        "custom",
        frame,
        flow=[],
        endpoint_exclusions={},
        provenance={"title": title},
        control_arm="=1+1",
        treatment_arm=TREATMENT,
        sections=["response"],
    )
    workbook = _workbook(report)
    methods = workbook["Methods and provenance"]
    assert methods["A1"].value == "'" + title
    assert methods["A1"].data_type == "s"
    sheet = workbook["best_response"]
    headers = [c.value for c in sheet[3]]
    assert all(not h.startswith("=") for h in headers)
    for row_cells in sheet.iter_rows():
        for cell in row_cells:
            assert cell.data_type != "f", cell.coordinate
    csv_text = render_csvs(report)["best_response.csv"].decode()
    assert "\n=" not in csv_text
    assert ",=" not in csv_text
    assert not csv_text.startswith("=")


def test_sheet_names_are_short_clean_and_unique():
    names = sheet_names(["a" * 40, "a" * 40, "x/y:z?", "Provenance"], reserved=["Provenance"])
    assert all(len(n) <= 31 for n in names)
    assert len({n.lower() for n in names}) == 4
    assert names[2] == "x_y_z_"
    assert names[3].lower() != "provenance"


def test_csvs_one_per_table_with_machine_readable_numbers(report_a):
    files = render_csvs(report_a)
    assert list(files) == [f"{t.key}.csv" for t in report_a.tables()]
    expected = table(report_a, "response", "best_response")
    back = pd.read_csv(io.BytesIO(files["best_response.csv"]))
    control = arm_column(expected, CONTROL)
    assert back["Response"].tolist() == expected.frame["Response"].tolist()
    assert back[f"{control} n"].dtype.kind == "i"
    assert back[f"{control} %"].dtype.kind == "f"
    orr = back[back["Response"] == "ORR"].iloc[0]
    shown = row(expected, "Response", "ORR")
    assert f"{orr['χ²']:.3f}" == shown["χ²"]
    assert format_p(orr["P"]) == shown["P"]
    text = files["adverse_events.csv"].decode()
    assert "< 0.001" not in text
    assert " (" not in text.split("\n", 1)[1]  # no "n (%)" in the rows


def test_figure_files_give_png_and_svg_of_every_figure(report_a):
    files = figure_files(report_a)
    assert sorted(files) == sorted(
        f"{f.key}.{ext}" for f in report_a.figures() for ext in ("png", "svg")
    )
    assert files["os_km.png"].startswith(b"\x89PNG")


# --- the PDF as a reader gets it ---------------------------------------------------------

SECTION_HEADINGS = (
    "1. Patient flow",
    "2. Baseline characteristics (Table 1)",
    "3. Overall and progression-free survival (Kaplan–Meier)",
    "4. Univariable and multivariable Cox regression for OS and PFS",
    "5. Best overall response (mRECIST), ORR and DCR",
    "6. Adverse events by CTCAE v5.0 term",
    "7. Methods and provenance",
)
# Text of a Python exception or a library's message that must never reach a page. The library
# name is allowed in the methods, where the software is cited.
EXCEPTION_TEXT = ("Traceback", "Error:", "Exception", "Warning:")
LIBRARY_TEXT = ("lifelines", "statsmodels", "scipy", "complete separation")


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_pdf_sections_come_in_seed_002_order(pdf_a):
    text = "\n".join(_pages(pdf_a))
    positions = [text.index(heading) for heading in SECTION_HEADINGS]
    assert positions == sorted(positions)
    for heading in SECTION_HEADINGS:
        assert text.count(heading) == 1, heading


def test_pdf_page_1_starts_with_the_study_not_the_settings(pdf_a):
    first = _pages(pdf_a)[0]
    for text in ("Synthetic cohort report", "Cohort", "Control arm", "Data cut-off", "2024-12-31"):
        assert text in first, text
    assert "1. Patient flow" in first
    for setting in ("Package versions", "SHA-256", "Registry version"):
        assert setting not in first, setting


def test_pdf_holds_no_exception_text(pdf_a):
    pages = _pages(pdf_a)
    for number, page in enumerate(pages, start=1):
        for text in EXCEPTION_TEXT:
            assert text not in page, (number, text)
    results = "\n".join(pages).split(SECTION_HEADINGS[-1])[0]
    for text in LIBRARY_TEXT:
        assert text not in results.lower(), text


def test_pdf_has_no_near_empty_page(pdf_a):
    """Every page but the last carries at least a few lines of text or a figure."""
    reader = PdfReader(io.BytesIO(pdf_a))
    for number, page in enumerate(reader.pages[:-1], start=1):
        has_image = bool(page.images)
        assert has_image or len(page.extract_text()) > 400, number


def test_row_labels_stay_text_even_when_they_look_like_numbers():
    """BCLC stage "0" or ALBI grade "1" label a row: text in the first column, not 0 or 1."""
    from analytics.reports import Table
    from analytics.reports.render import Sheet

    frame = pd.DataFrame({"Characteristic": ["BCLC stage", "\u20030", "1"], "n": ["", "3", "4"]})
    layout = Sheet(Table("t", "t", frame))
    assert [r[0] for r in layout.rows] == ["BCLC stage", "\u20030", "1"]
    assert [r[1] for r in layout.rows] == [None, 3, 4]


def test_table_1_arm_columns_split_into_named_numbers(report_a):
    sheet = _workbook(report_a)["baseline_table1"]
    headers = [c.value for c in sheet[3]]
    arm = arm_column(table(report_a, "baseline", "baseline_table1"), CONTROL)
    assert headers[1:4] == [f"{arm} n / mean / median", f"{arm} % / SD / Q1", f"{arm} Q3"]

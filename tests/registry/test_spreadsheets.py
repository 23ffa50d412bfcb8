"""Formula injection (OWASP "CSV Injection"): text starting with = + - @ tab or CR is text."""

from decimal import Decimal

import numpy as np
import pytest

from registry.spreadsheets import safe_cell, safe_row


@pytest.mark.parametrize(
    "text",
    ["=1+1", '=HYPERLINK("http://x","y")', "+41 79", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_it_prefixes_text_that_a_spreadsheet_would_evaluate(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["", "HBV", "a=b", " =1", "1-2", "'=already"])
def test_it_leaves_other_text_alone(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize("number", [-1, -2.5, Decimal("-0.3"), np.float64(-1.5), 0, None, True])
def test_numbers_stay_numbers(number):
    assert safe_cell(number) is number


def test_a_row_is_made_safe_cell_by_cell():
    assert safe_row(["=x", -1, "ok"]) == ["'=x", -1, "ok"]

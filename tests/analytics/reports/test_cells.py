"""Cells print as the report's text and keep the numbers behind it for XLSX/CSV."""

from __future__ import annotations

import pickle

import numpy as np

from analytics.reports import cells


def test_a_p_value_prints_rounded_and_keeps_its_value():
    cell = cells.p_value(0.0000123)
    assert cell == "< 0.001"
    assert cell.parts == (("P", 0.0000123, cells.P_FORMAT),)


def test_a_missing_p_prints_a_dash_and_is_an_empty_number():
    cell = cells.p_value(None)
    assert cell == "-"
    assert cell.parts[0][1] is None


def test_count_pct_splits_n_and_percent():
    """Seed 002 Table 3: 49 of 56 = "49 (87.50)"."""
    cell = cells.count_pct(49, 56)
    assert cell == "49 (87.50)"
    assert [(name, value) for name, value, _ in cell.parts] == [("n", 49), ("%", 87.5)]


def test_an_unreached_limit_prints_nr_and_is_empty():
    cell = cells.estimate_ci(15.39, 11.73, float("nan"))
    assert cell == "15.39 (11.73, NR)"
    assert [value for _, value, _ in cell.parts] == [15.39, 11.73, None]


def test_numpy_numbers_become_python_numbers():
    cell = cells.statistic(np.float64(4.42))
    assert type(cell.parts[0][1]) is float


def test_cells_survive_pickling():
    cell = cells.count_pct(8, 39)
    back = pickle.loads(pickle.dumps(cell))
    assert back == "8 (20.51)"
    assert back.parts == cell.parts


def test_printed_numbers_of_plain_tables_are_read_as_numbers():
    assert cells.as_cell("0.036").parts == (("", 0.036, "0.000"),)
    assert cells.as_cell("-1.267").parts[0][1] == -1.267
    assert cells.as_cell("42").parts == (("", 42, "0"),)
    assert [v for _, v, _ in cells.as_cell("35 (89.74)").parts] == [35, 89.74]
    assert [v for _, v, _ in cells.as_cell("0.58 (0.34, NR)").parts] == [0.58, 0.34, None]
    assert cells.as_cell("-").parts[0][1] is None


def test_text_stays_text():
    for text in ("< 0.001", "Male gender", "t", "=1+1", "NR"):
        assert not isinstance(cells.as_cell(text), cells.Cell), text

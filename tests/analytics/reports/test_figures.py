"""Figures are valid PNG and SVG, byte-for-byte reproducible, with no timestamp inside."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from analytics.reports.figures import forest_figure, kaplan_meier_figure, love_figure, risk_times
from analytics.stats.survival import kaplan_meier_by_group, numbers_at_risk

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_svg(data: bytes) -> bool:
    return ET.fromstring(data).tag.endswith("svg")


def test_report_figures_are_png_and_svg(report_a):
    figures = list(report_a.figures())
    assert [f.key for f in figures] == ["os_km", "pfs_km", "os_forest", "pfs_forest"]
    for figure in figures:
        assert figure.png.startswith(PNG_MAGIC)
        assert _is_svg(figure.svg)


def _small_km():
    frame = pd.DataFrame(
        {
            "time": [1, 2, 3, 4, 5, 6, 2, 3, 5, 8, 9, 10],
            "event": [1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1],
            "arm": ["A"] * 6 + ["B"] * 6,
        }
    )
    km = kaplan_meier_by_group(frame, "time", "event", "arm")
    at_risk = numbers_at_risk(frame, "time", "arm", risk_times(10, 5))
    return km, at_risk


def test_kaplan_meier_figure_is_reproducible_byte_for_byte():
    km, at_risk = _small_km()
    first = kaplan_meier_figure("km", "Test", km, at_risk, annotation="Log-rank P = 0.5")
    second = kaplan_meier_figure("km", "Test", km, at_risk, annotation="Log-rank P = 0.5")
    assert first.png == second.png
    assert first.svg == second.svg
    assert b"<dc:date>" not in first.svg


def test_the_risk_table_under_the_curve_shows_the_numbers_at_risk():
    km, at_risk = _small_km()
    assert at_risk.loc["A"].tolist() == [6, 2, 0]
    svg = kaplan_meier_figure("km", "Test", km, at_risk).svg.decode()
    assert "Number at risk" in svg


def test_forest_plot_lists_a_non_finite_hazard_ratio_without_failing():
    rows = pd.DataFrame(
        {
            "label": ["Arm", "Separated covariate"],
            "hr": [0.5, np.inf],
            "lower": [0.3, np.nan],
            "upper": [0.8, np.inf],
            "text": ["0.50 (0.30, 0.80); P = 0.004", "not estimable"],
        }
    )
    figure = forest_figure("forest", "Forest", rows)
    assert figure.png.startswith(PNG_MAGIC)
    assert _is_svg(figure.svg)


@pytest.mark.parametrize("smd_after", [0.05, np.nan])
def test_love_plot_draws_before_and_after(smd_after):
    balance = pd.DataFrame(
        {"label": ["Age", "Male"], "smd_before": [0.4, -0.2], "smd_after": [smd_after, 0.01]}
    )
    figure = love_figure("love", "Balance", balance)
    assert figure.png.startswith(PNG_MAGIC)
    assert b"After matching" in figure.svg or _is_svg(figure.svg)

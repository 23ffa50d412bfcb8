"""Report figures with matplotlib: Kaplan–Meier curves with a numbers-at-risk table, a Cox
forest plot and a love plot of covariate balance.

Figures are drawn on ``matplotlib.figure.Figure`` objects with the Agg canvas, never through
``pyplot``: a worker process renders many reports and pyplot's global figure registry would
keep every figure alive and is not thread-safe. Output is deterministic, so the same run
gives byte-identical files: the SVG id salt is fixed and no date or software version is
written into the metadata.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from analytics.reports.model import Figure
from analytics.stats.survival import KaplanMeierResult

ARM_COLOURS = ("#1f4e79", "#c0504d", "#4f7f3a", "#7f5f9f")
PNG_DPI = 150
SVG_SALT = "hcc-registry-report"
BALANCE_THRESHOLD = 0.1  # |SMD| < 0.1: conventionally negligible imbalance (Austin 2009)
RC = {
    "svg.hashsalt": SVG_SALT,
    "svg.fonttype": "path",  # glyphs as paths: the SVG needs no fonts where it is opened
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _new_figure(width: float, height: float) -> MplFigure:
    with matplotlib.rc_context(RC):
        figure = MplFigure(figsize=(width, height))
        FigureCanvasAgg(figure)
    return figure


def to_bytes(figure: MplFigure) -> tuple[bytes, bytes]:
    """PNG and SVG bytes without timestamps or version strings."""
    with matplotlib.rc_context(RC):
        png, svg = io.BytesIO(), io.BytesIO()
        figure.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None})
        figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()


LABEL_WRAP = 30  # characters per line of a y-axis or risk-table label
CHAR_WIDTH_IN = 0.08  # approximate width of one 9 pt DejaVu Sans character, inches
HR_TICKS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 20.0)


def _wrap(label: object) -> str:
    return textwrap.fill(str(label), LABEL_WRAP)


def _left_margin(labels: Sequence[str], width_in: float) -> float:
    """Figure fraction that leaves room for the longest (wrapped) label on the left."""
    longest = max((len(line) for label in labels for line in label.splitlines()), default=0)
    return min(0.5, max(0.12, (longest * CHAR_WIDTH_IN + 0.25) / width_in))


def _make(key: str, title: str, figure: MplFigure) -> Figure:
    png, svg = to_bytes(figure)
    return Figure(key=key, title=title, png=png, svg=svg)


# --- Kaplan–Meier --------------------------------------------------------------------------


KM_HEIGHT_IN = 4.6
MAX_RISK_COLUMNS = 10  # more columns than this do not fit under a 7-inch plot


def risk_times(max_time: float, step: float) -> list[float]:
    """0, step, 2·step, … up to the longest follow-up (at least the origin); the step is
    doubled until the table has at most ``MAX_RISK_COLUMNS`` columns."""
    if not math.isfinite(max_time) or max_time <= 0 or step <= 0:
        return [0.0]
    while max_time / step >= MAX_RISK_COLUMNS:
        step *= 2
    return [float(t) for t in np.arange(0.0, max_time + 1e-9, step)]


def kaplan_meier_figure(
    key: str,
    title: str,
    km: KaplanMeierResult,
    at_risk: pd.DataFrame,
    *,
    xlabel: str = "Months since the index date",
    ylabel: str = "Survival probability",
    annotation: str | None = None,
) -> Figure:
    """Step curves per arm with censoring marks, and the numbers at risk under the x-axis.

    ``at_risk`` is :func:`analytics.stats.survival.numbers_at_risk`'s frame (one row per
    arm, one column per time); its times set the x ticks so the table lines up with them.
    """
    with matplotlib.rc_context(RC):
        # 7 × 4.6 in: at 140 mm wide in the PDF a curve with its risk table is ~92 mm high, so
        # the OS and PFS figures with their median tables share one A4 page.
        figure = _new_figure(7.0, KM_HEIGHT_IN)
        grid = figure.add_gridspec(2, 1, height_ratios=(3.8, 1.0), hspace=0.38)
        axes = figure.add_subplot(grid[0])
        table = figure.add_subplot(grid[1], sharex=axes)
        times = [float(t) for t in at_risk.columns]
        for number, curve in enumerate(km.curves):
            _draw_curve(axes, curve, ARM_COLOURS[number % len(ARM_COLOURS)])
        axes.set_ylim(-0.02, 1.02)
        axes.set_xlim(0, max(times[-1], _last_time(km)) * 1.02 or 1.0)
        axes.set_xticks(times)
        axes.set_ylabel(ylabel)
        axes.set_xlabel(xlabel)
        axes.set_title(title, loc="left", fontsize=10)
        axes.legend(loc="upper right", frameon=False)
        if annotation:
            axes.text(0.02, 0.04, annotation, transform=axes.transAxes, fontsize=8)
        _draw_risk_table(table, at_risk, times)
        left = _left_margin([_wrap(arm) for arm in at_risk.index], 7.0)
        figure.subplots_adjust(left=left, right=0.96, top=0.93, bottom=0.06)
    return _make(key, title, figure)


def _last_time(km: KaplanMeierResult) -> float:
    ends = [float(c.table["time"].max()) for c in km.curves if not c.table.empty]
    return max(ends, default=0.0)


def _draw_curve(axes, curve, colour: str) -> None:
    table = curve.table
    x = np.concatenate([[0.0], table["time"].to_numpy(float)])
    y = np.concatenate([[1.0], table["survival"].to_numpy(float)])
    axes.step(x, y, where="post", color=colour, linewidth=1.5, label=str(curve.group))
    censored = table[table["n_censor"] > 0]
    axes.plot(
        censored["time"],
        censored["survival"],
        linestyle="none",
        marker="|",
        markersize=6,
        color=colour,
    )


def _draw_risk_table(axes, at_risk: pd.DataFrame, times: Sequence[float]) -> None:
    axes.set_title("Number at risk", loc="left", fontsize=8)
    rows = list(at_risk.index)
    for row_number, arm in enumerate(rows):
        y = len(rows) - row_number
        colour = ARM_COLOURS[row_number % len(ARM_COLOURS)]
        for time, count in zip(times, at_risk.loc[arm].tolist(), strict=True):
            axes.text(time, y, str(int(count)), ha="center", va="center", fontsize=8, color=colour)
        axes.text(
            -0.05,
            y,
            _wrap(arm),
            transform=axes.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=8,
            color=colour,
        )
    axes.set_ylim(0.4, len(rows) + 0.6)
    axes.axis("off")


# --- forest plot ---------------------------------------------------------------------------


def forest_figure(key: str, title: str, rows: pd.DataFrame) -> Figure:
    """Hazard ratios with 95% CIs on a log scale; ``rows``: label, hr, lower, upper, text.

    ``text`` (e.g. "0.58 (0.34, 0.98); P = 0.042") is printed at the right of each row.
    Non-finite estimates (an HR that ran off to 0 or ∞) are listed but not drawn.
    """
    with matplotlib.rc_context(RC):
        n = max(len(rows), 1)
        figure = _new_figure(9.0, 1.3 + 0.38 * n)
        axes = figure.add_subplot(1, 1, 1)
        y = np.arange(len(rows))[::-1]
        finite = rows[["hr", "lower", "upper"]].apply(np.isfinite).all(axis=1)
        finite &= (rows[["hr", "lower", "upper"]] > 0).all(axis=1)
        shown = rows[finite]
        hr = shown["hr"].to_numpy(float)
        axes.errorbar(
            hr,
            y[finite.to_numpy()],
            xerr=[hr - shown["lower"].to_numpy(float), shown["upper"].to_numpy(float) - hr],
            fmt="s",
            color=ARM_COLOURS[0],
            ecolor="#555555",
            capsize=3,
            markersize=5,
        )
        axes.axvline(1.0, color="#888888", linestyle="--", linewidth=1)
        axes.set_xscale("log")
        low, high = _forest_limits(shown)
        axes.set_xlim(low, high)
        # Plain HR ticks (0.5, 1, 2) read better than matplotlib's 10^x labels.
        ticks = [t for t in HR_TICKS if low <= t <= high]
        axes.xaxis.set_major_locator(FixedLocator(ticks))
        axes.xaxis.set_minor_locator(NullLocator())
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_xticklabels([f"{t:g}" for t in ticks])
        labels = [_wrap(label) for label in rows["label"]]
        axes.set_yticks(y)
        axes.set_yticklabels(labels)
        axes.set_ylim(-0.7, len(rows) - 0.3)
        axes.set_xlabel("Hazard ratio (95% CI), log scale")
        axes.set_title(title, loc="left", fontsize=10)
        for position, text in zip(y, rows["text"].tolist(), strict=True):
            axes.text(
                1.02, position, text, transform=axes.get_yaxis_transform(), va="center", fontsize=8
            )
        left = _left_margin(labels, 9.0)
        height = 1.3 + 0.38 * n
        figure.subplots_adjust(left=left, right=0.7, top=1 - 0.45 / height, bottom=0.6 / height)
    return _make(key, title, figure)


def _forest_limits(shown: pd.DataFrame) -> tuple[float, float]:
    if shown.empty:
        return 0.1, 10.0
    low = min(float(shown["lower"].min()), 1.0)
    high = max(float(shown["upper"].max()), 1.0)
    return low / 1.3, high * 1.3


# --- love plot -----------------------------------------------------------------------------


def love_figure(key: str, title: str, balance: pd.DataFrame) -> Figure:
    """Absolute SMD per covariate before (open) and after (filled) matching, line at 0.1.

    ``balance``: label, smd_before, smd_after.
    """
    with matplotlib.rc_context(RC):
        n = max(len(balance), 1)
        figure = _new_figure(6.5, 1.4 + 0.35 * n)
        axes = figure.add_subplot(1, 1, 1)
        y = np.arange(len(balance))[::-1]
        before = balance["smd_before"].abs().to_numpy(float)
        after = balance["smd_after"].abs().to_numpy(float)
        axes.scatter(
            before, y, facecolors="none", edgecolors=ARM_COLOURS[1], label="Before matching"
        )
        axes.scatter(after, y, color=ARM_COLOURS[0], label="After matching")
        axes.axvline(BALANCE_THRESHOLD, color="#888888", linestyle="--", linewidth=1)
        labels = [_wrap(label) for label in balance["label"]]
        axes.set_yticks(y)
        axes.set_yticklabels(labels)
        axes.set_ylim(-0.7, len(balance) - 0.3)
        values = np.concatenate([before, after])
        finite = values[np.isfinite(values)]
        axes.set_xlim(0, max(float(finite.max()) if finite.size else 0.0, 0.2) * 1.15)
        axes.set_xlabel("Absolute standardized mean difference")
        axes.set_title(title, loc="left", fontsize=10)
        axes.legend(loc="lower right", frameon=False, fontsize=8)
        height = 1.4 + 0.35 * n
        figure.subplots_adjust(
            left=_left_margin(labels, 6.5), right=0.96, top=1 - 0.4 / height, bottom=0.6 / height
        )
    return _make(key, title, figure)

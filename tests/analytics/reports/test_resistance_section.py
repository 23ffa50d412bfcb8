"""The resistance section prints the run's N wherever a reader looks for it (issue 12 item 7).

Which patients are resistant for a given N is decided by the dataset (``analytics.selectors``,
tested in tests/analytics/test_dataset_resistance_cycles.py and end to end in
tests/analytics/test_report_b_seed000_worker.py); here the report must say which N it used.
"""

from __future__ import annotations

from tests.analytics.reports.conftest import make_report
from tests.analytics.reports.helpers import row, table


def test_the_title_row_label_notes_and_methods_name_n(cohort):
    report = make_report(
        "report_b", cohort, sections=["resistance"], options={"resistance_cycles": 2}
    )
    section = report.section("resistance")
    assert section.title == "TACE resistance after 2 cycles"
    resistance = table(report, "resistance", "resistance")
    assert resistance.title == "TACE resistance after 2 cycles"
    row(resistance, "", "Resistant after 2 cycles")
    assert "after 2 cycles" in resistance.footnotes[0]
    assert "after TACE session 2 (N = 2" in section.notes[0]
    assert any("N = 2 TACE cycles" in sentence for sentence in report.methods)


def test_one_cycle_is_singular(cohort):
    report = make_report(
        "report_b", cohort, sections=["resistance"], options={"resistance_cycles": 1}
    )
    assert report.section("resistance").title == "TACE resistance after 1 cycle"

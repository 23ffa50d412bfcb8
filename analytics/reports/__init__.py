"""Reports of the analytics app, without Django: compute (``build_report``) and render
(``analytics.reports.render``) from the analysis dataset built by ``analytics.selectors``."""

from analytics.reports.build import build_report
from analytics.reports.model import Figure, Report, Section, Table

__all__ = ["Figure", "Report", "Section", "Table", "build_report"]

"""The audit report: a context built from the warehouse, rendered to HTML and PDF."""

from keyaudit.report.context import SEVERITIES, RuleInfo, build_report_context
from keyaudit.report.render import (
    ReportFiles,
    render_html,
    render_pdf,
    template_dir,
    write_report,
)

__all__ = [
    "SEVERITIES",
    "ReportFiles",
    "RuleInfo",
    "build_report_context",
    "render_html",
    "render_pdf",
    "template_dir",
    "write_report",
]

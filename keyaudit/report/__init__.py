"""The report stage: a context built from the warehouse, rendered to HTML and PDF, plus exports
and the run digest.

May import: the warehouse and every stage below it (sources, evidence, rules, config, the
ground floor). Imported by: delivery, review, remediation, the pipeline and the CLI.
"""

from keyaudit.report.context import PAPERS, RuleInfo, build_report_context, build_report_summary
from keyaudit.report.file_names import FILE_NAMES, file_names, view_name
from keyaudit.report.formatting import SEVERITIES
from keyaudit.report.render import (
    FORMATS,
    ReportFiles,
    parse_formats,
    render_html,
    render_pdf,
    template_dir,
    write_findings,
    write_report,
)
from keyaudit.report.sections import ReportContext, ReportSummary

__all__ = [
    "FILE_NAMES",
    "FORMATS",
    "PAPERS",
    "SEVERITIES",
    "ReportContext",
    "ReportFiles",
    "ReportSummary",
    "RuleInfo",
    "build_report_context",
    "build_report_summary",
    "file_names",
    "parse_formats",
    "render_html",
    "render_pdf",
    "template_dir",
    "view_name",
    "write_findings",
    "write_report",
]

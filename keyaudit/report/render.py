"""Render a report context to HTML (Jinja2) and to PDF (WeasyPrint), and write both files."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
from weasyprint import HTML

from keyaudit.evidence import make_private_dir, write_private
from keyaudit.paths import TEMPLATES_DIR
from keyaudit.report.context import RuleInfo, build_report_context, severity_sort_key

log = logging.getLogger("keyaudit.report")

REPORT_TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class ReportFiles:
    """The files `write_report` wrote."""

    html: Path
    pdf: Path
    pdf_pages: int


def template_dir() -> Path:
    """The templates folder of the source tree, or a clear error naming where it was looked for."""
    if not (TEMPLATES_DIR / REPORT_TEMPLATE).is_file():
        raise FileNotFoundError(
            f"report templates not found: {TEMPLATES_DIR / REPORT_TEMPLATE} is missing — "
            "keyaudit renders reports from its source checkout (reports/templates); "
            "run it from the repository or restore that folder"
        )
    return TEMPLATES_DIR


@lru_cache(maxsize=4)
def _environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "j2"),
            default_for_string=True,
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["plural"] = _plural
    return env


def _num(value: int) -> str:
    return f"{value:,}"


def _plural(word: str, count: int) -> str:
    return word if count == 1 else f"{word}s"


def render_html(context: dict[str, Any], *, for_pdf: bool = False) -> str:
    """The report as one self-contained HTML page; `for_pdf` caps the finding detail."""
    findings = context["findings"]
    rows = findings[: context["pdf_detail_limit"]] if for_pdf else findings
    left_out = Counter(f["severity"] for f in findings[len(rows) :])
    detail = {
        "rows": rows,
        "shown": len(rows),
        "total": len(findings),
        "omitted": len(findings) - len(rows),
        # Rows are sorted by severity, so the cap drops the least severe: say which.
        "omitted_by_severity": [
            {"severity": s, "count": left_out[s]} for s in sorted(left_out, key=severity_sort_key)
        ],
    }
    template = _environment(template_dir()).get_template(REPORT_TEMPLATE)
    return template.render(**context, for_pdf=for_pdf, detail=detail)


def render_pdf(html: str, path: Path, base_url: Path) -> int:
    """Lay out `html` with WeasyPrint, write it to `path` (mode 0600, atomically), return pages."""
    document = HTML(string=html, base_url=str(base_url)).render()
    write_private(path, document.write_pdf())
    return len(document.pages)


def write_report(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    out_dir: Path,
    *,
    rules: Sequence[RuleInfo],
    generated_at: datetime,
    pdf_detail_limit: int = 500,
) -> ReportFiles:
    """Write `report.html` (every finding) and `report.pdf` (capped detail) into `out_dir`."""
    started = time.perf_counter()
    context = build_report_context(
        con, run_id, rules=rules, generated_at=generated_at, pdf_detail_limit=pdf_detail_limit
    )
    make_private_dir(out_dir)
    html_path = out_dir / "report.html"
    pdf_path = out_dir / "report.pdf"
    write_private(html_path, render_html(context).encode("utf-8"))
    rendered = time.perf_counter()
    pages = render_pdf(render_html(context, for_pdf=True), pdf_path, base_url=out_dir)
    log.info(
        "run %s: report written to %s (%d findings; HTML %.1f s, PDF %d pages %.1f s)",
        run_id,
        out_dir,
        len(context["findings"]),
        rendered - started,
        pages,
        time.perf_counter() - rendered,
    )
    return ReportFiles(html=html_path, pdf=pdf_path, pdf_pages=pages)

"""Render a report context to HTML (Jinja2) and PDF (WeasyPrint), and write the run's outputs."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from keyaudit.evidence.store import make_private_dir, write_private
from keyaudit.frameworks import lookup
from keyaudit.paths import TEMPLATES_DIR
from keyaudit.report import beside, exports
from keyaudit.report.accounts import accounts_table_for_pdf, section_groups
from keyaudit.report.context import RuleInfo, build_report_context, build_report_summary
from keyaudit.report.file_names import file_names, view_name
from keyaudit.report.formatting import (
    account_filter,
    break_at_underscores,
    clip,
    reason,
)
from keyaudit.report.pdf_archive import PdfArchive, archival_pdf, pdf_archive
from keyaudit.report.records import iter_records
from keyaudit.report.sections import ReportContext, ReportSummary
from keyaudit.words import plural

log = logging.getLogger("keyaudit.report")

REPORT_TEMPLATE = "report.html.j2"
FORMATS = ("html", "pdf", "csv", "json", "ocsf", "xlsx", "tickets")
# Data notes are aggregates' footnotes: the PDF lists this many, the HTML all of them.
PDF_NOTES_LIMIT = 200
# Evidence lines in the PDF. Past it the PDF lists the run's own files and every manifest (each
# lists its account's files with their hashes: still a complete chain to verify); HTML has all.
PDF_EVIDENCE_LIMIT = 1200
# Input files of a files run the PDF lists; past it, a count by status (the HTML has all).
PDF_INPUT_FILES_LIMIT = 200
# Accounts the PDF's Accounts table lists; past it, the ones with the most open findings and a
# line of totals for the others (keyaudit.report.accounts.accounts_table_for_pdf).
PDF_ACCOUNTS_LIMIT = 300


@dataclass(frozen=True)
class ReportFiles:
    """The files `write_report` wrote; a format not asked for is None, one kept as it was is
    named in `kept`."""

    html: Path | None = None
    pdf: Path | None = None
    pdf_pages: int | None = None
    csv: Path | None = None
    json: Path | None = None
    ocsf: Path | None = None
    xlsx: Path | None = None
    tickets: Path | None = None
    view: str | None = None  # the view's name (file_names.view_name); None: the run's report
    kept: tuple[str, ...] = ()  # formats whose file was there already and left unchanged

    def paths(self) -> dict[str, Path]:
        """Format → file, for the formats written."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in FORMATS and getattr(self, f.name) is not None
        }


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
    env.filters["plural"] = plural
    env.filters["svg_data_uri"] = _svg_data_uri
    env.filters["clip"] = clip
    env.filters["reason"] = reason
    env.filters["rule_id"] = break_at_underscores
    return env


def _svg_data_uri(svg: str) -> str:
    """An SVG as an image URL. The PDF embeds the chart as an image: WeasyPrint then draws it
    with its SVG renderer, instead of first reading the elements' `style` attributes as HTML CSS
    (which logs an "unknown property" warning for every fill and stroke)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def detail(context: ReportContext, *, for_pdf: bool) -> dict[str, Any]:
    """The per-account sections cut to the HTML's or the PDF's limits, with what was left out.

    The PDF keeps its size bounded at any organization size: sections for accounts with
    findings, worst first, while its row budget lasts (each section's heading costs one row);
    the HTML has a section for every account and its explorer has every finding.
    """
    limits = context.account_detail.detail_limits
    per_account = limits["pdf_rows_per_account" if for_pdf else "html_rows_per_account"]
    budget = limits["pdf_detail_limit" if for_pdf else "html_detail_limit"]
    sections = []
    left_out_accounts = left_out_findings = 0
    for entry in context.account_detail.account_sections:
        account = entry["account"]
        if for_pdf and not entry["has_findings"]:
            continue  # clean or skipped: the accounts table says so
        if for_pdf and budget <= 0:
            left_out_accounts += 1
            left_out_findings += account["findings_total"]
            continue
        room = budget - 1 if for_pdf else budget
        take = max(0, min(per_account, room, len(entry["rows"])))
        budget -= take + (1 if for_pdf else 0)
        rows = entry["rows"][:take]
        sections.append(
            {
                "account": account,
                "groups": section_groups(
                    entry["rule_counts"],
                    rows,
                    context.summary.rules,
                    account_id=account["account_id"],
                    role=context.summary.run.get("audit_role"),
                ),
                "shown": take,
                "total": account["findings_total"],
                "omitted": account["findings_total"] - take,
                # Past the HTML's inline budget a section lists its rules in a line, not a
                # table, so a large organization's page stays light.
                "compact": not for_pdf and take == 0 and bool(entry["rule_counts"]),
            }
        )
    return {
        "sections": sections,
        "left_out_accounts": left_out_accounts,
        "left_out_findings": left_out_findings,
        "per_account": per_account,
    }


def evidence_shown(files: list[dict[str, Any]], *, for_pdf: bool) -> list[dict[str, Any]]:
    """Every evidence file, or for a large run's PDF the run's files and the manifests."""
    if not for_pdf or len(files) <= PDF_EVIDENCE_LIMIT:
        return files
    chain = [f for f in files if f["account_id"] is None or f["kind"] == "manifest"]
    return chain[:PDF_EVIDENCE_LIMIT]


def anchored_accounts(
    shown_detail: dict[str, Any], sections_shown: list[dict[str, Any]]
) -> frozenset[str]:
    """The accounts this document has a section for (#account-<id>): a link to any other
    account would point at nothing (a per-owner report, an account past the PDF's budget)."""
    if not any(s["id"] == "accounts" for s in sections_shown):
        return frozenset()
    return frozenset(s["account"]["account_id"] for s in shown_detail["sections"])


def render_html(context: ReportContext, *, for_pdf: bool = False) -> str:
    """The report as one self-contained HTML page; `for_pdf` caps detail and drops the explorer."""
    notes = context.methodology.run_notes
    shown_notes = notes[:PDF_NOTES_LIMIT] if for_pdf else notes
    files = context.evidence["files"]
    shown_files = evidence_shown(files, for_pdf=for_pdf)
    inputs = context.methodology.provenance["files"]
    shown_inputs = inputs[:PDF_INPUT_FILES_LIMIT] if for_pdf else inputs
    template = _environment(template_dir()).get_template(REPORT_TEMPLATE)
    shown_detail = detail(context, for_pdf=for_pdf)
    sections_shown = [s for s in context.sections if not (for_pdf and s["html_only"])]
    return template.render(
        **context.template_names(),
        for_pdf=for_pdf,
        detail=shown_detail,
        sections_shown=sections_shown,
        anchored_accounts=anchored_accounts(shown_detail, sections_shown),
        pdf_accounts=accounts_table_for_pdf(
            context.summary.accounts, context.account_detail.ranked_accounts, PDF_ACCOUNTS_LIMIT
        )
        if for_pdf
        else None,
        notes_shown=shown_notes,
        notes_omitted=len(notes) - len(shown_notes),
        evidence_shown=shown_files,
        evidence_omitted=len(files) - len(shown_files),
        input_files_shown=shown_inputs,
        input_files_omitted=len(inputs) - len(shown_inputs),
    )


def render_pdf(html: str, path: Path, base_url: Path, archive: PdfArchive | None = None) -> int:
    """Lay out `html` with WeasyPrint, write it to `path` as PDF/A-3b, tagged, with `archive`'s
    metadata and associated files (mode 0600, atomically), return pages."""
    from weasyprint import HTML  # here: a process that hands the PDF on never loads WeasyPrint

    document = HTML(string=html, base_url=str(base_url)).render()
    write_private(path, archival_pdf(document, archive))
    return len(document.pages)


_RENDER_PDF = render_pdf


def parse_formats(value: str | Sequence[str]) -> tuple[str, ...]:
    """ "html,pdf" or ["html", "pdf"] → ("html", "pdf"), checked, in the canonical order."""
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = {item.strip().lower() for item in items if item.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown or not wanted:
        raise ValueError(
            f"format {', '.join(map(repr, unknown)) or '(none)'} is not supported; "
            f"use one or more of {','.join(FORMATS)}"
        )
    return tuple(f for f in FORMATS if f in wanted)


def write_report(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    out_dir: Path,
    *,
    rules: Sequence[RuleInfo],
    generated_at: datetime | None = None,
    account_ids: Collection[str] | None = None,
    formats: str | Sequence[str] = FORMATS,
    pdf_detail_limit: int = 300,
    pdf_rows_per_account: int = 25,
    paper: str = "A4",
    evidence_dir: Path | None = None,
    framework: str | None = None,
    names: Mapping[str, str] | None = None,
    keep_run_files: bool = False,
) -> ReportFiles:
    """Write the run's report and exports into `out_dir` (0700; files 0600) and name them.

    report.html (every finding), report.pdf (capped detail), findings.csv (spreadsheet-safe),
    findings.json, findings.ocsf.jsonl (OCSF Compliance Finding events), findings.xlsx
    (findings, accounts and control results; ids as text) and findings.tickets.csv (Jira's CSV
    import). `account_ids`
    limits every output to those accounts. Nothing is written when the run is unknown. The PDF
    embeds the run's SHA256SUMS and, from `evidence_dir` (the run's evidence folder), its manifest.

    A view (`framework`, `account_ids`) is written under its own names (report-<view>.pdf, …:
    keyaudit.report.file_names), never the run's, unless `names` says otherwise (an owner's
    report in a folder of its own). `keep_run_files` leaves a file of the run's own report that
    exists as it is (`keyaudit report`: the run's report never changes after the run).
    """
    canonical = lookup(framework).name if framework is not None else None  # UnknownFramework
    view = view_name(canonical, account_ids) if names is None else None
    names = file_names(view) if names is None else names
    asked = parse_formats(formats)
    keep = keep_run_files and view is None and names == file_names(None)
    kept = tuple(f for f in asked if keep and (out_dir / names[f]).exists())
    wanted = tuple(f for f in asked if f not in kept)
    # The PDF goes to a process beside this one when there is something to write meanwhile and
    # the renderer is this module's own (the tests' one-page stub stays here).
    pdf_beside = (
        "pdf" in wanted
        and any(f != "pdf" for f in wanted)
        and render_pdf is _RENDER_PDF
        and beside.second_core()
    )
    if pdf_beside:
        beside.warm_up()  # the child starts while the context is read
    started = time.perf_counter()
    context = build_report_context(
        con,
        run_id,
        rules=rules,
        generated_at=generated_at,
        account_ids=account_ids,
        pdf_detail_limit=pdf_detail_limit,
        pdf_rows_per_account=pdf_rows_per_account,
        paper=paper,
        with_explorer="html" in wanted,
        framework=framework,  # one framework's view (keyaudit report --framework)
    )
    make_private_dir(out_dir)
    written: dict[str, Any] = {}
    timings = [f"context {time.perf_counter() - started:.1f} s"]
    # The longest outputs first, each handed to the second process when it can take one: the
    # workbook of a large report (its share is the larger), else the PDF.
    xlsx_job = None
    if "xlsx" in wanted and len(wanted) > 1:
        xlsx_job = exports.start_xlsx_beside(
            con, run_id, out_dir / names["xlsx"], context, account_filter(account_ids)
        )
    pdf_job = None
    try:  # from here on, whatever fails waits for (or stops) what the second process writes
        if "pdf" in wanted:
            written["pdf"] = out_dir / names["pdf"]
            pdf_job = (beside.submit if pdf_beside and xlsx_job is None else beside.here)(
                "report.pdf",
                render_pdf,
                render_html(context, for_pdf=True),
                written["pdf"],
                out_dir,
                pdf_archive(context, evidence_dir=evidence_dir),
            )
        _write_html_and_exports(
            con, run_id, context, wanted, names, out_dir, account_ids, written, timings, xlsx_job
        )
    except BaseException as failure:
        for job in (pdf_job, xlsx_job):
            if job is not None:
                job.abandon(failure)  # never return while the child still writes into `out_dir`
        raise
    if pdf_job is not None:
        written["pdf_pages"] = pdf_job.result()
        where = " in a second process" if pdf_job.beside else ""
        timings.append(f"PDF {written['pdf_pages']} pages {pdf_job.seconds:.1f} s{where}")
    log.info(
        "run %s: report written to %s (%d findings; %s)",
        run_id,
        out_dir,
        context.summary.totals["total"],
        ", ".join(timings),
    )
    return ReportFiles(**written, view=view, kept=kept)


def _write_html_and_exports(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    context: ReportContext,
    wanted: Sequence[str],
    names: Mapping[str, str],
    out_dir: Path,
    account_ids: Collection[str] | None,
    written: dict[str, Any],
    timings: list[str],
    xlsx_job: beside.Job | None,
) -> None:
    """The outputs besides the PDF, into `written` and `timings` (write_report's); findings.xlsx
    waited for when `xlsx_job` writes it (and abandoned with the rest when they fail)."""
    if "html" in wanted:
        mark = time.perf_counter()
        written["html"] = out_dir / names["html"]
        write_private(written["html"], render_html(context).encode("utf-8"))
        timings.append(f"HTML {time.perf_counter() - mark:.1f} s")
    export_formats = [f for f in exports.EXPORT_FORMATS if f in wanted]
    if export_formats:
        mark = time.perf_counter()
        for fmt in export_formats:
            written[fmt] = out_dir / names[fmt]
        # every finding's lifecycle: the first run of a scope too (every finding new, first seen
        # now, open 0 days)
        exports.write_run_exports(
            con,
            run_id,
            {f: written[f] for f in export_formats},
            context,
            account_ids=account_filter(account_ids),
            xlsx_job=xlsx_job,
        )
        where = " (findings.xlsx in a second process)" if xlsx_job is not None else ""
        timings.append(f"exports {time.perf_counter() - mark:.1f} s{where}")


def write_findings(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    out_dir: Path,
    *,
    rules: Sequence[RuleInfo],
    account_ids: Collection[str],
    finding_ids: Collection[str],
    formats: Sequence[str] = ("json", "csv"),
) -> dict[str, Path]:
    """Write the exports of exactly `finding_ids` (of the accounts in `account_ids`) into
    `out_dir` under the run's file names (format → file): an owner's own findings, whoever owns
    the rest of those accounts."""
    wanted = set(finding_ids)
    context: ReportContext | ReportSummary = (
        build_report_context(
            con,
            run_id,
            rules=rules,
            account_ids=account_ids,
            pdf_detail_limit=0,
            pdf_rows_per_account=0,
            with_explorer=False,
        )
        if "xlsx" in formats  # its accounts, controls and reconciliation sheets
        else build_report_summary(con, run_id, rules=rules, account_ids=account_ids)
    )
    records = [
        r
        for r in iter_records(con, run_id, account_ids=account_filter(account_ids))
        if r["finding_id"] in wanted
    ]
    names = file_names(None)
    counted: ReportContext | ReportSummary
    if isinstance(context, ReportContext):  # the exports' header counts what they hold
        counted = replace(context, summary=_counted(context.summary, len(records)))
    else:
        counted = _counted(context, len(records))
    make_private_dir(out_dir)
    written = {f: out_dir / names[f] for f in formats}
    exports.write_exports(written, records, counted)
    return written


def _counted(summary: ReportSummary, total: int) -> ReportSummary:
    return replace(summary, totals={**summary.totals, "total": total})

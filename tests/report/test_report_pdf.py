"""The PDF report, rendered for real once per module and read back with pypdf."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_rows import GENERATED_AT, NOT_ASSESSED, RULES, RUN_ID, SUSPENDED, make_warehouse

from keyaudit.report import ReportFiles, write_report

PDF_LIMIT = 4  # below the 10 findings, so the PDF must say what it left out


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportFiles]:
    folder = tmp_path_factory.mktemp("pdf")
    con = make_warehouse(folder / "report.duckdb")
    try:
        yield write_report(
            con,
            RUN_ID,
            folder / "reports" / RUN_ID,
            rules=RULES,
            generated_at=GENERATED_AT,
            pdf_detail_limit=PDF_LIMIT,
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def reader(written: ReportFiles) -> PdfReader:
    return PdfReader(written.pdf)


@pytest.fixture(scope="module")
def text(reader: PdfReader) -> str:
    """All pages' text with whitespace collapsed, so line breaks do not matter."""
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_page_count_is_reported_and_sane(written, reader):
    assert written.pdf_pages == len(reader.pages)
    assert 1 <= written.pdf_pages <= 8


def test_files_are_private(written):
    assert stat.S_IMODE(written.html.stat().st_mode) == 0o600
    assert stat.S_IMODE(written.pdf.stat().st_mode) == 0o600
    assert stat.S_IMODE(written.pdf.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in written.pdf.parent.iterdir()) == ["report.html", "report.pdf"]


def test_section_headings_are_in_the_text_and_the_outline(reader, text):
    headings = [
        "Scope and coverage",
        "Summary",
        "Accounts not assessed",
        "Accounts",
        "Findings",
        "Remediation",
        "Data notes",
    ]
    for heading in headings:
        assert heading in text

    def titles(outline) -> list[str]:
        out = []
        for item in outline:
            out.extend(titles(item) if isinstance(item, list) else [item.title])
        return out

    assert set(headings) <= set(titles(reader.outline))


def test_cover_names_the_run(text):
    assert "AWS access key audit" in text
    assert "Organization o-abc123def4 · as of 2026-12-01 06:00 UTC" in text
    assert "2026-12-01 07:30 UTC by keyaudit" in text
    assert "arn:aws:sts::999988887777:assumed-role/KeyAuditRunner/keyaudit" in text


def test_coverage_numbers(text):
    # The number and its label are separate blocks: pypdf may not put a space between them.
    tiles = r"2 ?accounts in scope 1 ?assessed 1 ?not assessed 1 ?skipped \(not ACTIVE\)"
    assert re.search(tiles, text)


def test_incomplete_banner(text):
    assert "INCOMPLETE: 1 account could not be assessed." in text


def test_not_assessed_and_skipped_accounts_are_listed(text):
    assert NOT_ASSESSED in text
    assert "AccessDenied assuming" in text
    assert SUSPENDED in text
    assert "SUSPENDED" in text


def test_left_out_sentence(text):
    assert (
        "This PDF lists the first 4 of 10 findings; "
        "6 rows were left out (2 high, 3 medium, 1 low). "
        "The HTML report (report.html) has all of them."
    ) in text


def test_running_footer_on_every_page(reader, written):
    for number, page in enumerate(reader.pages, start=1):
        footer = " ".join(page.extract_text().split())
        assert f"keyaudit · run {RUN_ID} · page {number} of {written.pdf_pages}" in footer


def test_hostile_name_is_printed_as_text(text):
    assert "<script>alert(1)</" in text


def test_html_written_beside_the_pdf_has_every_finding(written: ReportFiles):
    assert written.html.read_text(encoding="utf-8").count('<tr class="finding') == 10


def test_unknown_run_writes_nothing(tmp_path: Path, report_db):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="run 'nope' is not in the warehouse"):
        write_report(report_db, "nope", out, rules=RULES, generated_at=GENERATED_AT)
    assert not out.exists()

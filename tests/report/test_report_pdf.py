"""The PDF report, rendered for real once per module and read back with pypdf."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_rows import (
    ASSESSED,
    GENERATED_AT,
    NOT_ASSESSED,
    RULES,
    RUN_ID,
    SUSPENDED,
    count,
    open_copy,
)

from keyaudit.report import ReportFiles, write_report
from keyaudit.report.context import build_report_context
from keyaudit.report.render import render_html

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow

PER_ACCOUNT = 4  # below ASSESSED's 9 findings, so its section must say what it left out


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pdf")


@pytest.fixture(scope="module")
def written(folder: Path, shared_db) -> ReportFiles:
    return write_report(
        shared_db,
        RUN_ID,
        folder / "reports" / RUN_ID,
        rules=RULES,
        generated_at=GENERATED_AT,
        pdf_rows_per_account=PER_ACCOUNT,
    )


@pytest.fixture(scope="module")
def reader(written: ReportFiles) -> PdfReader:
    return PdfReader(written.pdf)


@pytest.fixture(scope="module")
def pages(reader: PdfReader) -> list[str]:
    """Each page's text with whitespace collapsed, so line breaks do not matter."""
    return [" ".join(page.extract_text().split()) for page in reader.pages]


@pytest.fixture(scope="module")
def text(pages: list[str]) -> str:
    return " ".join(pages)


def test_page_count_is_reported_and_sane(written, reader):
    assert written.pdf_pages == len(reader.pages)
    # 13 since the key footprint, 14 since the Fix first list, 16 since the Completeness and
    # accuracy section (this fixture's reconciliation differs: its lines fill pages 3-4) and the
    # methodology of the other long-term credentials; the deactivation plan stays capped.
    assert 4 <= written.pdf_pages <= 16


def test_every_format_is_written_privately(written):
    folder = written.pdf.parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == [
        "findings.csv",
        "findings.json",
        "findings.ocsf.jsonl",
        "findings.tickets.csv",
        "findings.xlsx",
        "report.html",
        "report.pdf",
    ]
    for path in written.paths().values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_section_headings_are_in_the_text_and_the_outline(reader, text):
    headings = [
        "Scope and coverage",
        "Completeness and accuracy",
        "Executive summary",
        "Accounts",
        "Waivers",
        "Methodology",
        "Evidence appendix",
    ]
    for heading in headings:
        assert heading in text
    assert "All findings" not in text  # the explorer is the HTML's

    def titles(outline) -> list[str]:
        out = []
        for item in outline:
            out.extend(titles(item) if isinstance(item, list) else [item.title])
        return out

    outline = titles(reader.outline)
    assert set(headings) <= set(outline)
    assert "Accounts not assessed" in outline
    assert any(ASSESSED in title for title in outline)  # a bookmark per account section


def test_table_of_contents_gives_page_numbers(pages):
    assert re.search(
        r"Scope and coverage \.+ ?1 Completeness and accuracy \.+ ?\d+ Executive summary \.+ ?\d+ ",
        pages[0],
    )
    assert re.search(r"Evidence appendix \.+ ?\d+", pages[0])


def test_cover_names_the_run(pages):
    cover = pages[0]
    assert "AWS access key audit" in cover
    assert "Organization o-abc123def4 · as of 2026-12-01 06:00 UTC" in cover
    assert f"Run {RUN_ID} · generated 2026-12-01 07:30 UTC" in cover
    assert "arn:aws:sts::999988887777:assumed-role/KeyAuditRunner/keyaudit" in cover


def test_coverage_numbers_equal_the_warehouse(shared_db, text):
    statuses = dict(
        shared_db.execute(
            "select status, count(*) from accounts where run_id = ? group by 1", [RUN_ID]
        ).fetchall()
    )
    in_scope = statuses["assessed"] + statuses["not_assessed"]
    # The number and its label are separate blocks: pypdf may not put a space between them.
    tiles = (
        rf"{in_scope} ?accounts in scope {statuses['assessed']} ?assessed "
        rf"{statuses['not_assessed']} ?not assessed {statuses['skipped']} ?skipped \(not ACTIVE\)"
    )
    assert re.search(tiles, text)


def test_finding_counts_equal_the_warehouse(shared_db, text):
    open_count = count(
        shared_db, "select count(*) from findings where run_id = ? and not waived", RUN_ID
    )
    waived = count(shared_db, "select count(*) from findings where run_id = ? and waived", RUN_ID)
    assert f"{open_count} open findings and {waived} waived" in text
    for severity, n in shared_db.execute(
        "select severity, count(*) from findings where run_id = ? and not waived group by 1",
        [RUN_ID],
    ).fetchall():
        assert re.search(rf"{severity.upper()} {n} ", text)
    assert re.search(rf"Total {open_count} {waived} ", text)


def test_incomplete_banner(text):
    assert "INCOMPLETE: 1 account could not be assessed." in text


def test_not_assessed_and_skipped_accounts_are_listed(text):
    assert NOT_ASSESSED in text
    assert "AccessDenied assuming" in text
    assert SUSPENDED in text
    assert "SUSPENDED" in text


def test_capped_section_says_what_it_left_out(text):
    assert "showing up to 4 findings each" in text
    assert "of this rule not listed here: see report.html or findings.csv." in text


def test_running_header_and_footer_on_every_page(pages, written):
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {written.pdf_pages}" in page
        assert "keyaudit" in page and "generated 2026-12-01 07:30 UTC" in page
        if number > 1:
            assert f"Run {RUN_ID}" in page
            assert "AWS access key audit" in page


def test_page_size_is_a4(reader):
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_hostile_name_is_printed_as_text(text):
    assert "<script>alert(1)</" in text


def test_trend_chart_is_drawn_as_vector_graphics(reader):
    chart_page = next(p for p in reader.pages if "Trend over the last" in p.extract_text())
    assert "open findings" in chart_page.extract_text()  # the axis label is text, not pixels


def test_evidence_appendix_lists_every_file_with_its_hash(shared_db, text):
    for sha, path in shared_db.execute(
        "select sha256, path from evidence where run_id = ?", [RUN_ID]
    ).fetchall():
        assert f"{sha} {path}" in text


def test_unknown_run_writes_nothing(tmp_path: Path, shared_db):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="run 'nope' is not in the warehouse"):
        write_report(shared_db, "nope", out, rules=RULES)
    assert not out.exists()


def test_unknown_format_writes_nothing(tmp_path: Path, shared_db):
    out = tmp_path / "out"
    with pytest.raises(
        ValueError,
        match=r"^format 'xls' is not supported; use one or more of html,pdf,csv,json,ocsf,xlsx,tickets$",
    ):
        write_report(shared_db, RUN_ID, out, rules=RULES, formats="pdf,xls")
    assert not out.exists()


@pytest.fixture(scope="module")
def letter(warehouse_file, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PdfReader]:
    folder = tmp_path_factory.mktemp("letter")
    con = open_copy(warehouse_file, folder)
    try:
        files = write_report(
            con,
            RUN_ID,
            folder / "out",
            rules=RULES,
            formats="pdf",
            paper="Letter",
            account_ids=[ASSESSED],
        )
    finally:
        con.close()
    assert sorted(p.name for p in (folder / "out").iterdir()) == [f"report-account-{ASSESSED}.pdf"]
    yield PdfReader(files.pdf)


def test_letter_paper(letter):
    box = letter.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_a_slice_pdf_covers_only_its_accounts(letter):
    text = " ".join(" ".join(p.extract_text() for p in letter.pages).split())
    assert f"This report covers 1 selected account of the run: {ASSESSED}." in text
    assert re.search(r"1 ?account in scope 1 ?assessed 0 ?not assessed 0 ?skipped", text)
    assert NOT_ASSESSED not in text


def _text_outside(container, texts) -> list[str]:
    """Texts of `texts` laid out beyond the left or right edge of `container`'s content box."""
    left = container.content_box_x() - 0.5  # half a CSS pixel of rounding
    right = container.content_box_x() + container.width + 0.5
    return [
        t.text
        for t in texts
        if t.text.strip() and (t.position_x < left or t.position_x + t.margin_width() > right)
    ]


def _overflowing_text(html: str) -> list[str]:
    """Text laid out past the edges of a page's content area, or of the badge (inline block)
    that holds it — read from WeasyPrint's own layout (exact glyph widths, unlike estimating
    from the extracted PDF text)."""
    from weasyprint import HTML
    from weasyprint.formatting_structure.boxes import InlineBlockBox, TextBox

    out: list[str] = []
    for page in HTML(string=html).render().pages:
        boxes = list(page._page_box.descendants())
        out += _text_outside(page._page_box, [b for b in boxes if isinstance(b, TextBox)])
        for block in (b for b in boxes if isinstance(b, InlineBlockBox)):
            inside = [b for b in block.descendants() if isinstance(b, TextBox)]
            out += _text_outside(block, inside)
    return out


def test_long_and_hostile_values_wrap_inside_the_page(shared_db):
    context = build_report_context(
        shared_db, RUN_ID, rules=RULES, generated_at=GENERATED_AT, pdf_rows_per_account=PER_ACCOUNT
    )
    assert _overflowing_text(render_html(context, for_pdf=True)) == []


def test_pdf_lays_out_without_a_single_weasyprint_warning(shared_db, caplog):
    """Warnings hide real CSS mistakes and flood the run's log: the chart goes in as an image."""
    from weasyprint import HTML

    context = build_report_context(shared_db, RUN_ID, rules=RULES, generated_at=GENERATED_AT)
    html = render_html(context, for_pdf=True)
    assert 'src="data:image/svg+xml;base64,' in html
    with caplog.at_level("WARNING", logger="weasyprint"):
        pages = HTML(string=html).render().pages
    assert len(pages) > 2
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []


def test_pdf_rendered_without_the_evidence_folder_embeds_sha256sums_from_the_warehouse(
    reader, shared_db
):
    """`keyaudit report` elsewhere: no manifest to embed, SHA256SUMS still built from the rows."""
    from keyaudit.evidence.sums import SHA256SUMS, evidence_sums_text
    from keyaudit.report.queries import rows

    files = rows(shared_db, "evidence_files", {"run_id": RUN_ID, "account_ids": None})
    manifest = rows(shared_db, "run", {"run_id": RUN_ID})[0]["manifest_sha256"]
    assert reader.attachments == {SHA256SUMS: [evidence_sums_text(files, manifest).encode()]}
    assert reader.metadata.creation_date == GENERATED_AT

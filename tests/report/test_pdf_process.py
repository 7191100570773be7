"""The report PDF laid out in a process of its own while the HTML and the exports are written
(keyaudit.report.pdf_process): the same bytes as in this process, WeasyPrint's warnings kept, a
dead child one clear error, and never a child still writing after write_report returned."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pypdf import PdfReader
from report_rows import GENERATED_AT, RULES, RUN_ID

from keyaudit.report import exports, pdf_process, write_report
from keyaudit.report.pdf_process import PdfRenderError, render_pdf

needs_two_cores = pytest.mark.skipif(
    not pdf_process.second_core(), reason="one CPU: the PDF is always laid out in this process"
)


def _write(con, folder: Path, formats: str):
    return write_report(
        con, RUN_ID, folder, rules=RULES, generated_at=GENERATED_AT, formats=formats
    )


@pytest.mark.slow  # lays out whole reports: make test-slow
@needs_two_cores
def test_a_pdf_laid_out_beside_the_exports_is_byte_for_byte_the_one_laid_out_alone(
    shared_db, tmp_path
):
    beside = _write(shared_db, tmp_path / "beside", "pdf,html,csv")
    alone = _write(shared_db, tmp_path / "alone", "pdf")
    assert beside.pdf.read_bytes() == alone.pdf.read_bytes()
    assert beside.pdf_pages == alone.pdf_pages == len(PdfReader(beside.pdf).pages) > 1
    assert oct(beside.pdf.stat().st_mode & 0o777) == "0o600"


@needs_two_cores
def test_weasyprints_warnings_in_the_child_are_logged_in_this_process(tmp_path, caplog):
    html = '<p><a href="#nowhere">a link to an anchor the page does not have</a></p>'
    job = pdf_process.start(render_pdf, html, tmp_path / "r.pdf", tmp_path, None, beside=True)
    assert job.beside
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        assert job.pages() == 1
    said = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")]
    assert any("#nowhere" in message for message in said), said


def test_without_other_outputs_the_pdf_is_laid_out_here_and_now(tmp_path):
    job = pdf_process.start(
        render_pdf, "<p>x</p>", tmp_path / "r.pdf", tmp_path, None, beside=False
    )
    assert not job.beside and job.seconds is not None
    assert job.pages() == 1 and (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")


def test_a_replaced_renderer_runs_here_even_beside_other_outputs(tmp_path):
    calls: list[Path] = []

    def stub(html: str, path: Path, base_url: Path, archive: object) -> int:
        calls.append(path)
        return 7

    job = pdf_process.start(stub, "<p>x</p>", tmp_path / "r.pdf", tmp_path, None, beside=True)
    assert not job.beside and calls == [tmp_path / "r.pdf"] and job.pages() == 7


@needs_two_cores
def test_a_child_that_dies_is_one_clear_error_and_the_next_pdf_gets_a_new_child(tmp_path):
    pool = pdf_process._executor()
    dying = pdf_process.PdfJob(pool.submit(os._exit, 9), pool)
    with pytest.raises(PdfRenderError, match="ended before it finished"):
        dying.pages()
    job = pdf_process.start(render_pdf, "<p>x</p>", tmp_path / "r.pdf", tmp_path, None, beside=True)
    assert job.beside and job.pages() == 1


@pytest.mark.slow  # lays out whole reports: make test-slow
@needs_two_cores
def test_an_export_that_fails_returns_only_after_the_child_wrote_the_pdf(
    shared_db, tmp_path, monkeypatch
):
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(exports, "write_run_exports", broken)
    with pytest.raises(OSError, match="disk full"):
        _write(shared_db, tmp_path, "pdf,csv")
    # returned: the child is done with the folder, and what it wrote is a whole PDF
    assert len(PdfReader(tmp_path / "report.pdf").pages) > 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow  # lays out whole reports: make test-slow
@needs_two_cores
def test_a_process_that_hands_the_pdf_on_never_imports_weasyprint(tmp_path, warehouse_file):
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from report_rows import GENERATED_AT, RULES, RUN_ID, open_copy
        from keyaudit.report import write_report
        from pathlib import Path
        con = open_copy(Path({str(warehouse_file)!r}), Path({str(tmp_path)!r}))
        files = write_report(con, RUN_ID, Path({str(tmp_path / "out")!r}), rules=RULES,
                             generated_at=GENERATED_AT, formats="pdf,html")
        print(files.pdf_pages, "weasyprint" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    pages, imported = done.stdout.split()
    assert int(pages) > 1 and imported == "False", done.stderr[-2000:]

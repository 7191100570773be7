"""report.pdf and findings.xlsx written in a process beside the report's (keyaudit.report.beside)
while the HTML and the other exports are written: the same bytes as in this process, the child's
warnings kept, a dead child one clear error, never a child still writing after the call returned."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader
from report_rows import GENERATED_AT, RULES, RUN_ID

from keyaudit.report import beside, exports, write_report
from keyaudit.report.beside import BesideError
from keyaudit.report.render import render_pdf
from tests.runs import stub_pdf

needs_two_cores = pytest.mark.skipif(
    not beside.second_core(), reason="one CPU: the PDF is always laid out in this process"
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
    job = beside.submit("report.pdf", render_pdf, html, tmp_path / "r.pdf", tmp_path, None)
    assert job.beside
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        assert job.result() == 1
    said = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")]
    assert any("#nowhere" in message for message in said), said


def test_work_done_here_is_finished_when_its_job_is_made(tmp_path):
    job = beside.here("report.pdf", render_pdf, "<p>x</p>", tmp_path / "r.pdf", tmp_path, None)
    assert not job.beside and job.seconds is not None
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-") and job.result() == 1


def test_a_replaced_renderer_stays_in_this_process_beside_other_outputs(shared_db, tmp_path):
    with stub_pdf():  # tests.runs: the one-page stub only this process knows
        written = _write(shared_db, tmp_path, "pdf,html")
    assert written.pdf.read_bytes().startswith(b"%PDF-1.7 stub") and written.pdf_pages == 1


@needs_two_cores
def test_a_child_that_dies_is_one_clear_error_and_the_next_job_gets_a_new_child(tmp_path):
    pool = beside._executor()
    dying = beside.Job("report.pdf", pool.submit(os._exit, 9), pool)
    with pytest.raises(BesideError, match=r"the process writing report\.pdf ended before it"):
        dying.result()
    job = beside.submit("report.pdf", render_pdf, "<p>x</p>", tmp_path / "r.pdf", tmp_path, None)
    assert job.beside and job.result() == 1


@needs_two_cores
def test_a_large_reports_workbook_written_beside_is_the_one_written_here(
    warehouse_file, tmp_path, monkeypatch
):
    """findings.xlsx goes to the second process from XLSX_BESIDE_FROM findings, read from the
    warehouse file by a second read-only connection: the same bytes as written here."""
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(warehouse_file, copy)
    con = duckdb.connect(str(copy), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    try:
        here = _write(con, tmp_path / "here", "xlsx")  # nothing to write meanwhile: here
        monkeypatch.setattr(exports, "XLSX_BESIDE_FROM", 1)
        submitted: list[str] = []
        real_submit = beside.submit
        monkeypatch.setattr(
            beside, "submit", lambda what, *a: submitted.append(what) or real_submit(what, *a)
        )
        there = _write(con, tmp_path / "there", "xlsx,csv")
        both = _write(con, tmp_path / "both", "pdf,xlsx,csv")
    finally:
        con.close()
    # the workbook is the larger share: it goes, and the PDF is laid out here meanwhile
    assert submitted == ["findings.xlsx", "findings.xlsx"]
    assert there.xlsx.read_bytes() == here.xlsx.read_bytes() == both.xlsx.read_bytes()
    assert both.pdf_pages == len(PdfReader(both.pdf).pages) > 1
    assert oct(there.xlsx.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in (tmp_path / "there").iterdir()) == [
        "findings.csv",
        "findings.xlsx",
    ]


def test_a_small_report_or_a_writers_connection_keeps_the_workbook_here(
    shared_db, tmp_path, monkeypatch
):
    def refuse(*args: object) -> None:
        raise AssertionError("nothing goes beside here")

    monkeypatch.setattr(beside, "submit", refuse)
    _write(shared_db, tmp_path / "small", "xlsx,csv")  # a handful of findings
    monkeypatch.setattr(exports, "XLSX_BESIDE_FROM", 1)
    written = _write(shared_db, tmp_path / "writer", "xlsx,csv")  # a read-write connection
    assert written.xlsx.stat().st_size > 0


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


@needs_two_cores
@pytest.mark.parametrize(
    "ctrl_c",
    [KeyboardInterrupt(), RuntimeError("Query interrupted")],  # the second: DuckDB's, mid-query
    ids=["KeyboardInterrupt", "DuckDB's interrupted query"],
)
def test_an_interrupted_report_stops_the_child_and_leaves_no_half_written_pdf(
    shared_db, tmp_path, monkeypatch, ctrl_c
):
    """Ctrl-C while the child lays the PDF out: the child's job is stopped (not waited for: at
    1,000 accounts the workbook takes minutes) and its half-written file removed."""
    beside.warm_up()
    beside._child_pid.result(timeout=60)  # started: the PDF goes straight to work

    def interrupted(*args: object, **kwargs: object) -> None:
        raise ctrl_c

    monkeypatch.setattr(exports, "write_run_exports", interrupted)
    with pytest.raises(type(ctrl_c)):
        _write(shared_db, tmp_path / "out", "pdf,csv")
    assert list((tmp_path / "out").iterdir()) == []  # no report.pdf, no temporary file of it
    job = beside.submit("report.pdf", render_pdf, "<p>x</p>", tmp_path / "r.pdf", tmp_path, None)
    assert job.result() == 1  # and the next PDF is written beside as before


@needs_two_cores
def test_a_relative_path_is_the_callers_after_the_caller_changed_folder(tmp_path, monkeypatch):
    beside.warm_up()
    beside._child_pid.result(timeout=60)  # the child started, in the folder the caller left
    monkeypatch.chdir(tmp_path)
    job = beside.submit("report.pdf", render_pdf, "<p>x</p>", Path("r.pdf"), Path("."), None)
    assert job.result() == 1 and (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")


@needs_two_cores
def test_a_pdf_that_fails_here_waits_for_the_workbook_written_beside(
    warehouse_file, tmp_path, monkeypatch
):
    """With the workbook in the second process the PDF is laid out here, first: when it fails,
    write_report returns only after the child finished the workbook, and says the PDF's error."""
    import keyaudit.report.render

    copy = tmp_path / "w.duckdb"
    shutil.copyfile(warehouse_file, copy)
    con = duckdb.connect(str(copy), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    monkeypatch.setattr(exports, "XLSX_BESIDE_FROM", 1)

    def broken(*args: object) -> int:
        raise OSError("no room for report.pdf")

    monkeypatch.setattr(keyaudit.report.render, "render_pdf", broken)
    try:
        with pytest.raises(OSError, match=r"no room for report\.pdf"):
            _write(con, tmp_path / "out", "pdf,xlsx,csv")
    finally:
        con.close()
    # returned: the child is done with the folder, and what it wrote is a whole workbook
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["findings.xlsx"]
    assert zipfile.ZipFile(tmp_path / "out" / "findings.xlsx").testzip() is None

"""The PDF reads right: readable chart segments and labels, rule ids that wrap only at `_`, long
values clipped (a 120,000-character name once stalled WeasyPrint for minutes), an evidence count
that agrees with `keyaudit verify`, a SHA256SUMS that `sha256sum -c` accepts, and a files run's
provenance stated as it was."""

from __future__ import annotations

import functools
import re
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markupsafe import escape
from pypdf import PdfReader
from report_rows import ASSESSED, NOT_ASSESSED, RULES, RUN_ID

from keyaudit.evidence.sums import SHA256SUMS, sha256sums_line
from keyaudit.integrity.verify import verify_run
from keyaudit.report import build_report_context, render_html, render_pdf
from keyaudit.report import render as render_module
from keyaudit.report.chart import TrendPoint, trend_svg
from keyaudit.report.formatting import REASON_CHARS, break_at_underscores, clip, reason
from keyaudit.report.history import chart_labels
from keyaudit.report.methodology import source_notes
from keyaudit.warehouse.db import connect
from tests.auditor.given import A, audit_files, folder_of, report

# slow end to end: `make test-slow` runs it, `make test` leaves it out, CI runs both
pytestmark = pytest.mark.slow


def pdf_text(path: Path) -> list[str]:
    return list(_pdf_text(path, path.stat().st_mtime_ns))


@functools.cache  # the demo run's PDF is read by several tests; extracting its text takes seconds
def _pdf_text(path: Path, mtime_ns: int) -> tuple[str, ...]:
    return tuple(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)


def test_clip_cuts_a_long_value_in_the_middle_and_says_how_much_it_left_out():
    assert clip("short") == "short"
    assert clip(None) is None
    assert clip("x" * 120_000) == "x" * 83 + " … (119,835 characters left out) … " + "x" * 82


def test_a_reason_is_shown_whole_up_to_600_characters_and_longer_ones_keep_their_fix():
    assert reason("x" * 600) == "x" * 600
    shown = reason("y" * 5000 + " — the fix")
    assert len(shown) <= REASON_CHARS == 600 and shown.endswith("y — the fix")
    assert " characters left out) … " in shown


def test_rule_id_may_wrap_only_after_an_underscore():
    assert str(break_at_underscores("ACCESS_KEY_NOT_ROTATED")) == (
        "ACCESS_<wbr>KEY_<wbr>NOT_<wbr>ROTATED"
    )
    assert "&lt;b&gt;" in str(break_at_underscores("<b>_x"))


def test_rule_ids_in_every_table_break_at_underscores_only(shared_html):
    css = (render_module.template_dir() / "report.css").read_text()
    assert ".rule-id { word-break: normal; overflow-wrap: normal; }" in css
    for table in ("changes-table", "thresholds-list"):
        start = shared_html.index(f'id="{table}"')
        assert "_<wbr>" in shared_html[start : shared_html.index("</", start + 300)]
    assert re.search(r'class="mono rule-id">[A-Z]+_<wbr>', shared_html)


def test_two_runs_on_the_same_day_get_different_chart_labels():
    day = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    recent = [
        {"run_id": "r-nov", "as_of": datetime(2026, 11, 1, 6, 0, tzinfo=UTC)},
        {"run_id": "r-morning", "as_of": day},
        {"run_id": "r-evening", "as_of": day.replace(hour=18)},
        {"run_id": "x-aaaaaa", "as_of": day.replace(hour=18)},
    ]
    labels = chart_labels(recent)
    assert labels[0] == "01 Nov\n2026"
    assert labels[1] == "01 Dec 2026\n06:00 UTC"
    assert labels[2] == "01 Dec 2026\n18:00 …vening"
    assert len(set(labels)) == 4


def test_a_small_severity_segment_is_drawn_tall_enough_and_labelled_with_its_count():
    svg = trend_svg(
        [TrendPoint("01 Dec\n2026", {"critical": 2, "high": 54, "medium": 68, "low": 21}, True)],
        ["critical", "high", "medium", "low"],
    )
    texts = re.findall(r">\s*([0-9,]+)\s*</text>", svg)
    assert {"2", "54", "68", "21", "145"} <= set(texts)


def test_a_120000_character_user_name_is_clipped_and_the_pdf_renders_quickly(report_db, tmp_path):
    huge = "u" * 120_000
    report_db.execute(
        "update findings set user_name = ?, reason = ? where run_id = ? and account_id = ?",
        [huge, huge, RUN_ID, ASSESSED],
    )
    report_db.execute("update accounts set name = ? where account_id = ?", [huge, ASSESSED])
    context = build_report_context(report_db, RUN_ID, rules=RULES)
    html = render_html(context)
    assert huge not in html and " … (119,835 characters left out) … " in html
    started = time.perf_counter()
    render_pdf(render_html(context, for_pdf=True), tmp_path / "r.pdf", tmp_path)
    seconds = time.perf_counter() - started
    assert seconds < 60, f"PDF took {seconds:.1f} s"
    pages = pdf_text(tmp_path / "r.pdf")
    assert "(119,835 characters left out)" in " ".join(pages)
    # the not-assessed account's block (facts, error, its one finding) is never split
    (page,) = [p for p in pages if "not known (not assessed)" in p]
    assert "AccessDenied" in page.split("not known (not assessed)")[1]
    assert "ACCOUNT_NOT_ASSESSED" in page.split("not known (not assessed)")[1]


FIX = "— grant sts:AssumeRole on KeyAuditRole to the audit principal in the role's trust policy"
DENIED = (
    f"account {NOT_ASSESSED}: AccessDenied calling sts:AssumeRole "
    f"arn:aws:iam::{NOT_ASSESSED}:role/KeyAuditRole: User: "
    "arn:aws:sts::999988887777:assumed-role/KeyAuditRunner/keyaudit is not authorized to perform "
    "sts:AssumeRole on this resource "
)


def _squeezed(text: str) -> str:
    """Text with no white space: a PDF wraps lines where it likes."""
    return "".join(text.split())


@pytest.mark.parametrize("length", [353, 5000])
def test_a_not_assessed_reason_keeps_its_fix_in_the_html_and_the_pdf(
    report_db, tmp_path, length: int
):
    """A reason up to 600 characters wraps whole; a longer one loses its middle, never its end:
    the fix is what the reader needs ("sts:AssumeRol… (353 characters)" once hid it)."""
    padding = length - len(DENIED) - len(FIX)
    error = DENIED + ("(the trust policy names another principal) " * 200)[:padding] + FIX
    assert len(error) == length
    report_db.execute(
        "update accounts set error = ? where run_id = ? and account_id = ?",
        [error, RUN_ID, NOT_ASSESSED],
    )
    report_db.execute(
        "update findings set reason = ? where run_id = ? and account_id = ?",
        [error, RUN_ID, NOT_ASSESSED],
    )
    context = build_report_context(report_db, RUN_ID, rules=RULES)
    html = render_html(context)
    render_pdf(render_html(context, for_pdf=True), tmp_path / "r.pdf", tmp_path)
    text = _squeezed(" ".join(pdf_text(tmp_path / "r.pdf")))

    assert _squeezed(FIX) in text and str(escape(FIX)) in html
    assert _squeezed(DENIED) in text
    if length <= REASON_CHARS:
        assert _squeezed(error) in text and str(escape(error)) in html
    else:
        counts = re.findall(r"\(([0-9,]+) characters left out\)", html)
        [mark] = {c for c in counts if int(c.replace(",", "")) > length - REASON_CHARS}
        assert f"({mark}charactersleftout)" in text


# --- on the demo run (its real PDF) -----------------------------------------------------------


def test_evidence_count_agrees_with_keyaudit_verify_and_counts_the_manifest(demo_run):
    con = connect(demo_run.warehouse, read_only=True)
    try:
        checked = verify_run(con, demo_run.evidence_run_dir.parent, demo_run.run_id)
    finally:
        con.close()
    assert checked.ok, checked.differences
    text = " ".join(pdf_text(demo_run.report_dir / "report.pdf"))
    evidence = checked.files_checked - 1
    assert f"The {checked.files_checked} files ({evidence} evidence files of " in text
    assert "and the run's manifest.json) are listed below" in text


def test_sha256sums_in_the_evidence_folder_passes_sha256sum_check(demo_run):
    folder = demo_run.evidence_run_dir
    sums = (folder / SHA256SUMS).read_text()
    assert all(re.fullmatch(r"[0-9a-f]{64}  [^/].*", line) for line in sums.splitlines())
    assert "  manifest.json\n" in sums
    done = subprocess.run(
        ["sha256sum", "-c", "--strict", SHA256SUMS], cwd=folder, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(sums.splitlines()) == sum(1 for p in folder.rglob("*") if p.is_file()) - 1


def test_sha256sums_line_escapes_a_path_as_sha256sum_does():
    assert sha256sums_line("ab", "x/y.csv") == "ab  x/y.csv"
    assert sha256sums_line("ab", "a\\b\nc") == "\\ab  a\\\\b\\nc"


def test_user_level_finding_shows_the_same_last_used_in_html_and_pdf(demo_run):
    html = (demo_run.report_dir / "report.html").read_text()
    match = re.search(
        r"<td>([a-z-]+)</td><td[^>]*>—</td><td[^>]*>—</td><td>([^<]*)</td>"
        r"<td>\d active access keys; limit 1",
        html,
    )
    assert match, "a MULTIPLE_ACTIVE_KEYS row in report.html"
    user, last_used = match.groups()
    text = " ".join(pdf_text(demo_run.report_dir / "report.pdf"))
    assert f"{user} — — {last_used} 2 active access keys; limit 1" in text


def test_demo_methodology_says_the_data_is_simulated(demo_run):
    text = " ".join(pdf_text(demo_run.report_dir / "report.pdf"))
    assert "keyaudit audited a simulated organization" in text
    assert "keyaudit collected, for every account in scope" not in text


# --- a files run ------------------------------------------------------------------------------


def test_files_run_report_names_the_folder_and_files_and_no_api_call(tmp_path, monkeypatch):
    folder = folder_of(
        tmp_path, {f"{A}.csv": report(A), "renamed.csv": report("555566667777"), "x.txt": "x"}
    )
    run = audit_files(folder, tmp_path)
    context = build_report_context(run.con, run.run_id, rules=RULES)
    html = render_html(context)
    methodology = html[html.index('id="methodology-source"') : html.index('id="rules"')]
    for call in ("GetAccessKeyLastUsed", "GetAccountSummary", "ListAccessKeys"):
        assert call not in methodology
    assert "No AWS API was called" in methodology and str(folder.resolve()) in methodology
    assert "Every API response" not in html
    table = html[html.index('id="input-files-table"') :]
    digest = run.rows("select sha256 from input_files where file_name = 'renamed.csv'")[0][0]
    assert digest in table
    assert f"{A} (from the file name)" in table and "555566667777 (from the arns)" in table
    assert "x.txt" in table and "ignored" in table
    monkeypatch.setattr(render_module, "PDF_INPUT_FILES_LIMIT", 1)
    render_pdf(render_html(context, for_pdf=True), tmp_path / "r.pdf", tmp_path)
    text = " ".join(pdf_text(tmp_path / "r.pdf"))
    assert "Input files" in text and "This PDF lists the first 1 of the 3 files" in text
    assert "No AWS API was called" in text
    run.con.close()


def test_files_run_key_notes_name_the_keys_file_not_the_api():
    notes = [
        {"account_id": A, "kind": "key_mismatch", "message": "key K of u is listed by the API but"},
        {"account_id": None, "kind": "input_folder", "message": "/in"},
    ]
    assert source_notes(notes, "files") == [
        {
            "account_id": A,
            "kind": "key_mismatch",
            "message": "key K of u is listed in the access-keys file but",
        }
    ]
    assert source_notes(notes, "aws")[0]["message"].endswith("listed by the API but")

"""findings.xlsx opens as the auditor expects: ids stay text with their leading zeros, the header
is frozen with an autofilter, nothing is a formula, and it holds the CSV's rows."""

from __future__ import annotations

import csv
import json
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from report_rows import ASSESSED, FORMULA_USER, NOT_ASSESSED, RULES, RUN_ID

from keyaudit.report import build_report_context, write_report
from keyaudit.report.exports import COLUMNS, write_exports
from keyaudit.report.records import iter_records
from keyaudit.report.workbook import ACCOUNT_COLUMNS, CONTROL_COLUMNS, Workbook

ID_COLUMNS = ("account_id", "access_key_id", "finding_id", "run_id")


@pytest.fixture(scope="module")
def written(shared_db, tmp_path_factory: pytest.TempPathFactory):
    return write_report(
        shared_db, RUN_ID, tmp_path_factory.mktemp("xlsx"), rules=RULES, formats="csv,xlsx"
    )


@pytest.fixture(scope="module")
def book(written) -> openpyxl.Workbook:
    return openpyxl.load_workbook(written.xlsx)


def table(sheet: Any) -> list[dict[str, Any]]:
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_workbook_has_the_findings_accounts_and_control_results_sheets(book):
    assert book.sheetnames == ["findings", "accounts", "control results", "reconciliation"]
    assert [c.value for c in book["findings"][1]] == list(COLUMNS)
    assert [c.value for c in book["accounts"][1]] == list(ACCOUNT_COLUMNS)
    assert [c.value for c in book["control results"][1]] == list(CONTROL_COLUMNS)


def test_ids_are_text_cells_that_keep_their_leading_zeros(book):
    sheet = book["findings"]
    columns = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if columns[cell.column - 1] in ID_COLUMNS and cell.value is not None:
                assert cell.data_type == "s" and isinstance(cell.value, str)
                assert cell.number_format == "@"  # stays text when someone edits the cell
    findings = table(sheet)
    assert ASSESSED.startswith("0") and ASSESSED in {f["account_id"] for f in findings}
    assert "AKIAALICE00000000001" in {f["access_key_id"] for f in findings}
    accounts = table(book["accounts"])
    assert {a["account_id"] for a in accounts} >= {ASSESSED, NOT_ASSESSED}
    assert all(isinstance(a["account_id"], str) and len(a["account_id"]) == 12 for a in accounts)


def test_every_sheet_has_a_frozen_header_and_an_autofilter_over_its_rows(book):
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        last = openpyxl.utils.get_column_letter(sheet.max_column)
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", sheet.title


def test_workbook_holds_the_csvs_rows_with_the_same_text(written, book):
    with written.csv.open(newline="", encoding="utf-8") as handle:
        csv_rows = list(csv.DictReader(handle))
    findings = table(book["findings"])
    assert len(findings) == len(csv_rows)
    for cells, row in zip(findings, csv_rows, strict=True):
        as_text = {
            k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in cells.items()
        }
        assert as_text == row


def test_no_cell_is_a_formula_and_formula_like_text_is_quoted_as_in_the_csv(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row), sheet.title
    (row,) = [f for f in table(book["findings"]) if f["user_name"] == "'" + FORMULA_USER]
    assert row["reason"] == "'-46 days? +1 @SUM(A1)"


def test_text_past_excels_cell_limit_is_cut_with_a_mark_that_points_to_findings_json(
    tmp_path: Path,
):
    mark = "… [cut at 32,767 characters; full text in findings.json]"
    given = {
        "reason": "=HYPERLINK(" + "x" * 40_000,  # too long, and it starts like a formula
        "user_arn": "\N{KEY}" * 20_000,  # 40,000 UTF-16 units, as Excel counts them
        "remediation_command": "y" * 32_767,  # exactly Excel's limit: kept whole
    }
    path = tmp_path / "findings.xlsx"
    with Workbook(path) as book:
        sheet = book.sheet("findings", tuple(given))
        sheet.add(given)
        sheet.close()
    reason, arn, command = openpyxl.load_workbook(path)["findings"][2]
    assert all(cell.data_type == "s" for cell in (reason, arn, command))
    assert reason.value.startswith("'=HYPERLINK(xxx") and reason.value.endswith(mark)
    assert len(reason.value) == 32_767
    assert arn.value.endswith(mark) and set(arn.value.removesuffix(mark)) == {"\N{KEY}"}
    assert len(arn.value.encode("utf-16-le")) // 2 <= 32_767
    assert command.value == given["remediation_command"]


def test_numbers_and_booleans_are_typed_and_unknowns_are_empty(book):
    (alice,) = [f for f in table(book["findings"]) if f["access_key_id"] == "AKIAALICE00000000001"]
    assert (alice["key_age_days"], alice["days_open"], alice["is_new"]) == (212, 30, False)
    (missing,) = [a for a in table(book["accounts"]) if a["account_id"] == NOT_ASSESSED]
    assert missing["open_findings"] is None  # not assessed: not known, never 0
    assert missing["error"]


def test_control_results_sheet_says_pass_fail_or_not_evaluated_as_the_report(shared_db, book):
    context = build_report_context(shared_db, RUN_ID, rules=RULES)
    rows = table(book["control results"])
    expected = [
        (c["framework"], c["control_id"], c["result"], p["kind"], p["evaluated"])
        for c in context.compliance.controls["rows"]
        for p in c["populations"]  # a row per kind of resource: never a sum across kinds
    ]
    found = [
        (r["framework"], r["control_id"], r["result"], r["kind"], r["evaluated"]) for r in rows
    ]
    assert found == expected
    assert {r["result"] for r in rows} <= {"pass", "fail", "not evaluated"}
    assert "fail" in {r["result"] for r in rows}


def test_workbook_is_owner_only_and_leaves_no_temporary_files(written):
    assert stat.S_IMODE(written.xlsx.stat().st_mode) == 0o600
    assert sorted(p.name for p in written.xlsx.parent.iterdir()) == [
        "findings.csv",
        "findings.xlsx",
    ]


def test_the_same_run_gives_the_same_workbook(shared_db, written, tmp_path: Path):
    again = write_report(shared_db, RUN_ID, tmp_path, rules=RULES, formats="xlsx")
    assert again.xlsx.read_bytes() == written.xlsx.read_bytes()


def test_findings_past_a_sheets_row_limit_go_on_in_a_second_sheet(shared_db, tmp_path: Path):
    context = build_report_context(shared_db, RUN_ID, rules=RULES)
    records = iter_records(shared_db, RUN_ID, account_ids=None, with_lifecycle=True)
    path = tmp_path / "findings.xlsx"
    total = write_exports({"xlsx": path}, records, context, max_sheet_rows=3)
    book = openpyxl.load_workbook(path)
    parts = [name for name in book.sheetnames if name.startswith("findings")]
    assert parts[:2] == ["findings", "findings 2"]
    assert all(book[name].max_row <= 3 for name in parts)
    assert sum(len(table(book[name])) for name in parts) == total > 3
    assert all(book[name].freeze_panes == "A2" for name in parts)


def test_demo_workbook_has_every_row_of_the_demo_csv(demo_run):
    with (demo_run.report_dir / "findings.csv").open(newline="", encoding="utf-8") as handle:
        csv_rows = list(csv.DictReader(handle))
    book = openpyxl.load_workbook(demo_run.report_dir / "findings.xlsx", read_only=True)
    findings = table(book["findings"])
    total = json.loads((demo_run.report_dir / "findings.json").read_text("utf-8"))["run"][
        "findings"
    ]
    assert len(findings) == len(csv_rows) == total > 100
    assert [f["account_id"] for f in findings] == [r["account_id"] for r in csv_rows]


def test_first_runs_workbook_shows_every_finding_new_first_seen_now_and_open_0_days(demo_run):
    book = openpyxl.load_workbook(demo_run.report_dir / "findings.xlsx", read_only=True)
    as_of = json.loads((demo_run.report_dir / "findings.json").read_text("utf-8"))["run"]["as_of"]
    findings = table(book["findings"])
    assert findings and all(f["is_new"] is True and f["days_open"] == 0 for f in findings)
    assert {f["first_seen_as_of"] for f in findings} == {as_of}


@pytest.mark.skipif(not shutil.which("libreoffice"), reason="LibreOffice is not installed")
def test_libreoffice_reads_account_ids_with_their_leading_zeros(written, tmp_path: Path):
    subprocess.run(
        ["libreoffice", "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
         "--outdir", str(tmp_path), str(written.xlsx)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with (tmp_path / "findings.csv").open(newline="", encoding="utf-8") as handle:
        assert ASSESSED in {r["account_id"] for r in csv.DictReader(handle)}


def test_a_cell_is_measured_in_utf16_units_where_emoji_count_twice():
    """16,383 emoji are 32,766 UTF-16 units and fit; 16,384 are 32,768, one too many."""
    from keyaudit.report.workbook import CUT_MARK, MAX_CELL_CHARS, fit_cell

    assert fit_cell("\N{KEY}" * (MAX_CELL_CHARS // 2)) == "\N{KEY}" * (MAX_CELL_CHARS // 2)
    assert fit_cell("y" * MAX_CELL_CHARS) == "y" * MAX_CELL_CHARS
    cut = fit_cell("\N{KEY}" * (MAX_CELL_CHARS // 2 + 1))
    assert cut.endswith(CUT_MARK) and len(cut.encode("utf-16-le")) <= 2 * MAX_CELL_CHARS

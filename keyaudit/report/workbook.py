"""findings.xlsx: the findings, accounts and control results as a workbook auditors can open.

A CSV opened in Excel or LibreOffice loses what makes an id an id: 012345678901 becomes the
number 12345678901. Here every text cell is written as a string (XlsxWriter's write_string never
makes a number, a formula or a link) in the text number format, so an id keeps its leading zeros
even when a cell is edited; text that starts like a formula gets the same quote as in the CSV
(`safe_cell`). Rows stream to the file (constant memory); a sheet past Excel's row limit goes on
in a second one ("findings 2"), and a text longer than a cell holds (32,767 characters) ends with
a mark saying it was cut and that findings.json has it whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import xlsxwriter

from keyaudit.model import HEADLINE_SEVERITIES
from keyaudit.report.sections import ReportContext
from keyaudit.safefile import AtomicFile
from keyaudit.textsafe import safe_cell

MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header included
MAX_CELL_CHARS = 32_767  # Excel's characters per cell (UTF-16 units); XlsxWriter cuts silently
CUT_MARK = f"… [cut at {MAX_CELL_CHARS:,} characters; full text in findings.json]"
FINDINGS_SHEET = "findings"
ACCOUNTS_SHEET = "accounts"
CONTROLS_SHEET = "control results"
RECONCILIATION_SHEET = "reconciliation"
# Every reconciliation line of the run (the warehouse view `reconciliation`), holding or not.
RECONCILIATION_COLUMNS = (
    "check_id",
    "subject",
    "account_id",
    "framework",
    "requirement",
    "compares",
    "expected",
    "found",
    "difference",
    "result",
    "detail",
    "query",
)
ACCOUNT_COLUMNS = (
    "account_id",
    "name",
    "email",
    "ou_path",
    "state",
    "owner",
    "status",
    "error",
    "is_management",
    "report_generated_at",
    "open_findings",
    "open_critical",
    "open_high",
    "open_medium",
    "open_low",
    "open_other",
    "waived_findings",
    "tags",
)
# One row per control and kind of resource it evaluated (key, user, root user, account): a
# control's figures are never added across kinds.
CONTROL_COLUMNS = (
    "framework",
    "control_id",
    "title",
    "result",
    "qualifier",
    "rules",
    "kind",
    "population",
    "evaluated",
    "failing",
    "waived",
    "accounts_in_scope",
    "accounts_evaluated",
)
_POPULATION_COLUMNS = ("kind", "population", "evaluated", "failing", "waived")
# Column widths in characters, by column name; the rest get DEFAULT_WIDTH.
WIDTHS = {
    "run_id": 24,
    "finding_id": 18,
    "rule_id": 28,
    "rule_title": 40,
    "account_id": 14,
    "account_name": 24,
    "user_name": 20,
    "user_arn": 40,
    "credential_kind": 26,
    "credential_id": 24,
    "access_key_id": 22,
    "reason": 50,
    "remediation_command": 60,
    "name": 24,
    "email": 28,
    "ou_path": 28,
    "error": 50,
    "rules": 40,
    "qualifier": 36,
    "tags": 40,
    "population": 40,
}
DEFAULT_WIDTH = 14


def account_row(account: Mapping[str, Any]) -> dict[str, Any]:
    """One account of the report context as the accounts sheet lists it."""
    by_severity = account["open_by_severity"]
    return {
        "account_id": account["account_id"],
        "name": account["name"],
        "email": account["email"],
        "ou_path": account["ou_path"],
        "state": account["state"],
        "owner": account["owner"],
        "status": account["status"],
        "error": account["error"],
        "is_management": account["is_management"],
        "report_generated_at": account["report_generated_at"],
        "open_findings": account["open_findings"],  # empty, never 0, when not assessed
        **{f"open_{s}": by_severity[s] for s in (*HEADLINE_SEVERITIES, "other")},
        "waived_findings": account["waived_findings"],
        "tags": "; ".join(f"{t['key']}={t['value']}" for t in account["tags"]),
    }


def control_rows(control: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One control result (pass / fail / not evaluated) as the control results sheet lists it:
    a row per kind of resource, each with that kind's figures."""
    populations = control["populations"] or [dict.fromkeys(_POPULATION_COLUMNS)]
    return [
        {
            **{c: control.get(c) for c in CONTROL_COLUMNS},
            "rules": ", ".join(control["rules"]),
            **{c: population[c] for c in _POPULATION_COLUMNS},
        }
        for population in populations
    ]


def fit_cell(text: str) -> str:
    """`text`, or when Excel could not hold it, its start and a mark saying it was cut and where
    the whole text is; counted in UTF-16 units as Excel counts (an emoji is two)."""
    units = text.encode("utf-16-le")
    if len(units) <= 2 * MAX_CELL_CHARS:
        return text
    room = 2 * (MAX_CELL_CHARS - len(CUT_MARK))
    # a character cut in half (a surrogate pair's first unit) is dropped whole
    return units[:room].decode("utf-16-le", errors="ignore") + CUT_MARK


class _Sheet:
    """A worksheet written row by row, with a frozen header and an autofilter over its rows."""

    def __init__(
        self, book: Workbook, name: str, columns: Sequence[str], max_rows: int = MAX_ROWS
    ) -> None:
        self.book, self.name, self.columns, self.max_rows = book, name, columns, max_rows
        self.parts = 0
        self.rows = 0
        self._start()

    def _start(self) -> None:
        self.parts += 1
        name = self.name if self.parts == 1 else f"{self.name} {self.parts}"
        self.sheet = self.book.xlsx.add_worksheet(name)
        for col, column in enumerate(self.columns):
            self.sheet.set_column(col, col, WIDTHS.get(column, DEFAULT_WIDTH))
        for col, column in enumerate(self.columns):
            self.sheet.write_string(0, col, column, self.book.header)
        self.sheet.freeze_panes(1, 0)
        self.row = 0

    def add(self, values: Mapping[str, Any]) -> None:
        if self.row + 1 >= self.max_rows:
            self._finish()
            self._start()
        self.row += 1
        self.rows += 1
        for col, column in enumerate(self.columns):
            self.book.cell(self.sheet, self.row, col, values.get(column))

    def _finish(self) -> None:
        self.sheet.autofilter(0, 0, self.row, len(self.columns) - 1)

    def close(self) -> None:
        self._finish()


class Workbook:
    """findings.xlsx beside `path`'s folder, written owner-only and moved into place on close."""

    def __init__(
        self, path: Path, *, created: datetime | None = None, title: str = "keyaudit findings"
    ) -> None:
        self.path = path
        # XlsxWriter gets a file object opened safely (never a path): no link is followed
        self.file = AtomicFile(path)
        self.xlsx = xlsxwriter.Workbook(
            self.file.handle,
            {
                "constant_memory": True,  # rows go to disk as they are written
                "tmpdir": str(path.parent),  # the owner-only report folder, not a shared /tmp
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        # the same run gives the same workbook: its date is the run's, not the clock's
        self.xlsx.set_properties(
            {"title": title, "created": created or datetime(2000, 1, 1, tzinfo=UTC)}
        )
        self.text = self.xlsx.add_format({"num_format": "@"})
        self.header = self.xlsx.add_format({"num_format": "@", "bold": True, "bottom": 1})
        self.findings: _Sheet | None = None

    def cell(self, sheet: Any, row: int, col: int, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value)
        else:
            sheet.write_string(row, col, fit_cell(safe_cell(str(value))), self.text)

    def sheet(self, name: str, columns: Sequence[str], max_rows: int = MAX_ROWS) -> _Sheet:
        return _Sheet(self, name, columns, max_rows)

    def close(self, *, commit: bool) -> None:
        try:
            self.xlsx.close()  # also on failure: it removes its row files in the folder
        except BaseException:
            self.file.discard()
            raise
        if commit:
            self.file.commit()
        else:
            self.file.discard()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(commit=kind is None)


def write_tables(book: Workbook, context: ReportContext, max_rows: int = MAX_ROWS) -> None:
    """The accounts, control results and reconciliation sheets, after the findings sheet."""
    accounts = book.sheet(ACCOUNTS_SHEET, ACCOUNT_COLUMNS, max_rows)
    for account in context.summary.accounts:
        accounts.add(account_row(account))
    accounts.close()
    controls = book.sheet(CONTROLS_SHEET, CONTROL_COLUMNS, max_rows)
    for control in context.compliance.controls["rows"]:
        for row in control_rows(control):
            controls.add(row)
    controls.close()
    reconciliation = book.sheet(RECONCILIATION_SHEET, RECONCILIATION_COLUMNS, max_rows)
    for line in context.completeness["lines"]:
        reconciliation.add(line)
    reconciliation.close()

"""The access review of a run: a filled review file checked row by row, and what it decided kept.

Why refuse a whole file for one bad row: a review is evidence that a named person decided on
every key. A file half recorded would leave the warehouse saying some keys were decided by a file
that, as a whole, was wrong (a stale export, the wrong run, a column shifted). So every row is
checked first, every problem is reported (one line per row, naming the row, the column, what is
wrong and the fix), and nothing is recorded unless all rows pass. Accepted decisions are
appended (review_decisions, review_imports): a later import adds, the latest decision per key
counts, nothing is replaced. Rows left without a decision are undecided, not errors: a review
may be done in several passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from keyaudit.model import KeyauditError, check_address
from keyaudit.textsafe import visible

if TYPE_CHECKING:
    import duckdb

    from keyaudit.sources.review_file import Row

DECISIONS = ("keep", "rotate", "deactivate", "defer")
DEFER_DAYS = 30  # a deferral is decided again within a month
MAX_TEXT = 2000  # characters in a justification, a statement or any other cell read
KEY_COLUMNS = ("run_id", "account_id", "user_name", "access_key_id")
DECISION_COLUMNS = ("decision", "justification", "ticket", "reviewer", "defer_owner", "defer_until")
REQUIRED_COLUMNS = KEY_COLUMNS + DECISION_COLUMNS
_REVIEWER = re.compile(r"(?P<name>[^<>]*?)\s*<(?P<address>[^<>]*)>")
_REVIEWER_FIX = 'write the reviewer as "Name <address>", e.g. "Dana Reviewer <dana@example.com>"'


class ReviewError(KeyauditError, ValueError):
    """A review or a sign-off cannot be recorded; the message names the value and the fix."""


@dataclass(frozen=True)
class Decision:
    """One accepted row of a review file."""

    file_row: str
    key_ref: str
    account_id: str
    user_name: str
    decision: str
    justification: str | None
    ticket: str | None
    reviewer: str
    defer_owner: str | None
    defer_until: date | None


@dataclass(frozen=True)
class KnownKey:
    """What the run knows of a key of its review population."""

    account_id: str
    user_name: str


@dataclass(frozen=True)
class Checked:
    """A review file checked against its run: decisions, how many rows were left undecided, and
    one line per bad row (none: the file may be recorded)."""

    run_id: str
    decisions: tuple[Decision, ...]
    undecided: int
    problems: tuple[str, ...]


def check_reviewer(text: str) -> str:
    """`text` when it is "Name <address>" (a name, an e-mail address); else ValueError saying
    what is wrong (the caller names where it came from)."""
    found = _REVIEWER.fullmatch(text.strip())
    if found is None or not found["name"].strip() or check_text(text):
        raise ValueError(f"{visible(text[:80])!r} is not a name and an address — {_REVIEWER_FIX}")
    try:
        check_address(found["address"].strip())
    except ValueError as exc:
        raise ValueError(f"{exc} — {_REVIEWER_FIX}") from None
    return f"{found['name'].strip()} <{found['address'].strip()}>"


def check_text(text: str) -> str | None:
    """Why `text` cannot be kept as a cell of the review, or None."""
    if len(text) > MAX_TEXT:
        return f"longer than {MAX_TEXT:,} characters"
    if not text.isprintable():
        return "holds a line break or a control character"
    return None


def run_of(rows: Sequence[Row], file_name: str) -> str:
    """The run a review file decides on: the run_id its first row names."""
    for row in rows:
        if row.cells["run_id"]:
            return row.cells["run_id"]
    raise ReviewError(
        f"review file {file_name}: no row names its run (column run_id) — import a review.xlsx "
        "or review.csv that `keyaudit review export` wrote, filled in"
    )


def check_rows(
    file_name: str,
    rows: Sequence[Row],
    run_id: str,
    as_of: datetime,
    population: Mapping[str, KnownKey],
) -> Checked:
    """Every row of the file against the run's review population and the decision rules."""
    decisions: list[Decision] = []
    problems: list[str] = []
    undecided = 0
    seen: dict[str, str] = {}
    for row in rows:
        wrong: list[str] = []
        decision = _check_row(row, run_id, as_of, population, seen, wrong)
        if wrong:
            problems.append(f"review file {file_name} {row.where}: " + "; ".join(wrong))
        elif decision is None:
            undecided += 1
        else:
            decisions.append(decision)
    return Checked(run_id, tuple(decisions), undecided, tuple(problems))


def _check_row(
    row: Row,
    run_id: str,
    as_of: datetime,
    population: Mapping[str, KnownKey],
    seen: dict[str, str],
    wrong: list[str],
) -> Decision | None:
    cells = row.cells

    def problem(column: str, what: str, fix: str) -> None:
        wrong.append(f"column {column}: {what} — {fix}")

    for column in REQUIRED_COLUMNS:
        why = check_text(cells[column])
        if why:
            problem(column, why, "keep each cell to one line of text")
    if wrong:
        return None
    if cells["run_id"] != run_id:
        problem(
            "run_id",
            f"{visible(cells['run_id'])!r} is not run {run_id}, which the file's first row names",
            "a file reviews one run: export each run's review on its own",
        )
    key_ref = cells["access_key_id"]
    known = population.get(key_ref)
    if not key_ref:
        problem("access_key_id", "empty", "keep the key id `keyaudit review export` wrote")
    elif known is None:
        problem(
            "access_key_id",
            f"{visible(key_ref)!r} is not a key of run {run_id}'s review",
            "keep only the rows `keyaudit review export --run " + run_id + "` wrote",
        )
    elif (cells["account_id"], cells["user_name"]) != (known.account_id, known.user_name):
        problem(
            "account_id",
            f"key {key_ref} is user {known.user_name!r}'s in account {known.account_id}, the "
            f"row says {visible(cells['user_name'])!r} in {visible(cells['account_id'])!r}",
            "keep the account and user columns as exported",
        )
    elif key_ref in seen:
        problem(
            "access_key_id",
            f"key {key_ref} is decided in {seen[key_ref]} too",
            "keep one row per key",
        )
    else:
        seen[key_ref] = row.where
    decision = cells["decision"].lower()
    filled = [c for c in ("justification", "reviewer", "defer_owner", "defer_until") if cells[c]]
    if not decision:
        if filled:
            problem(
                "decision",
                f"empty, but {', '.join(filled)} {'is' if len(filled) == 1 else 'are'} filled",
                "write keep, rotate, deactivate or defer, or clear the row to leave the key "
                "undecided",
            )
        return None
    if decision not in DECISIONS:
        problem(
            "decision",
            f"{visible(cells['decision'])!r} is not a decision",
            "write keep, rotate, deactivate or defer",
        )
    if not cells["reviewer"]:
        problem("reviewer", "empty", "name who decided: " + _REVIEWER_FIX)
    else:
        try:
            check_reviewer(cells["reviewer"])
        except ValueError as exc:
            problem("reviewer", str(exc).split(" — ")[0], _REVIEWER_FIX)
    if decision == "keep" and not cells["justification"]:
        problem("justification", "empty for keep", "say why the key is kept")
    if decision in ("rotate", "deactivate") and not cells["ticket"]:
        problem(
            "ticket",
            f"empty for {decision}",
            "name the ticket that tracks the change, e.g. SEC-123",
        )
    until = None
    if decision == "defer":
        if not cells["defer_owner"]:
            problem("defer_owner", "empty for defer", "name who decides by the date")
        until = _defer_date(cells["defer_until"], as_of, problem)
    if wrong:
        return None
    assert known is not None
    return Decision(
        file_row=row.where,
        key_ref=key_ref,
        account_id=known.account_id,
        user_name=known.user_name,
        decision=decision,
        justification=cells["justification"] or None,
        ticket=cells["ticket"] or None,
        reviewer=check_reviewer(cells["reviewer"]),
        defer_owner=(cells["defer_owner"] or None) if decision == "defer" else None,
        defer_until=until,
    )


def _defer_date(
    text: str, as_of: datetime, problem: Callable[[str, str, str], None]
) -> date | None:
    from keyaudit.sources.review_file import excel_date

    first, last = as_of.date(), (as_of + timedelta(days=DEFER_DAYS)).date()
    fix = f"give a date from {first} to {last} (the run's date + {DEFER_DAYS} days), as YYYY-MM-DD"
    if not text:
        problem("defer_until", "empty for defer", fix)
        return None
    until: date | None
    try:
        until = date.fromisoformat(text)
    except ValueError:
        until = excel_date(text)  # a date a spreadsheet stored as its day number
    if until is None:
        problem("defer_until", f"{visible(text)!r} is not a date", fix)
        return None
    if not first <= until <= last:
        problem("defer_until", f"{until} is not within {DEFER_DAYS} days of the run", fix)
        return None
    return until


def record_import(
    con: duckdb.DuckDBPyConnection,
    checked: Checked,
    *,
    file_name: str,
    file_sha256: str,
    evidence_path: str,
    imported_at: datetime,
    imported_by: str,
) -> None:
    """Append the import and its decisions, in one transaction."""
    con.execute("begin transaction")
    try:
        con.execute(
            "insert into review_imports values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                checked.run_id,
                imported_at,
                imported_by,
                file_name,
                file_sha256,
                evidence_path,
                len(checked.decisions),
                checked.undecided,
            ],
        )
        con.executemany(
            "insert into review_decisions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    checked.run_id,
                    imported_at,
                    file_sha256,
                    d.file_row,
                    d.key_ref,
                    d.account_id,
                    d.user_name,
                    d.decision,
                    d.justification,
                    d.ticket,
                    d.reviewer,
                    d.defer_owner,
                    d.defer_until,
                ]
                for d in checked.decisions
            ],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


@dataclass(frozen=True)
class SignOff:
    """A reviewer's sign-off of a run's report: sign_offs, and a JSON record in the evidence."""

    run_id: str
    signed_at: datetime
    signed_by: str
    reviewer: str
    statement: str
    report_file: str
    report_sha256: str

    def record(self) -> dict[str, str]:
        return {
            "run_id": self.run_id,
            "signed_at": self.signed_at.isoformat(timespec="seconds"),
            "signed_by": self.signed_by,
            "reviewer": self.reviewer,
            "statement": self.statement,
            "report_file": self.report_file,
            "report_sha256": self.report_sha256,
        }


def check_statement(statement: str) -> str:
    text = statement.strip()
    why = "empty" if not text else check_text(text)
    if why:
        raise ReviewError(
            f"--statement is {why} — write what the reviewer attests, on one line, e.g. "
            '"I reviewed every key of this run; the decisions are recorded"'
        )
    return text


def record_sign_off(
    con: duckdb.DuckDBPyConnection, sign_off: SignOff, evidence_path: str, evidence_sha256: str
) -> None:
    """Append the sign-off; an earlier one of the same run stays."""
    con.execute(
        "insert into sign_offs values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            sign_off.run_id,
            sign_off.signed_at,
            sign_off.signed_by,
            sign_off.reviewer,
            sign_off.statement,
            sign_off.report_file,
            sign_off.report_sha256,
            evidence_path,
            evidence_sha256,
        ],
    )


def run_as_of(con: duckdb.DuckDBPyConnection, run_id: str) -> datetime:
    """The run's as_of; ReviewError naming the run when the warehouse does not hold it."""
    found = con.execute("select as_of from runs where run_id = ?", [run_id]).fetchone()
    if found is None:
        raise ReviewError(
            f"run {visible(run_id)!r} is not in the warehouse — `keyaudit runs` lists the runs"
        )
    as_of: datetime = found[0]
    return as_of

"""Recording a review file and a sign-off: the file checked, its copy in the run's evidence and
its rows in the warehouse, together or not at all. `keyaudit review import`, `keyaudit sign-off`
and the demo's review of its first month all come through here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from keyaudit.evidence.after_run import add_after_run
from keyaudit.evidence.store import to_json_bytes
from keyaudit.review.sheet import population
from keyaudit.sources.review_file import read_regular, read_review_file
from keyaudit.warehouse.reviews import (
    REQUIRED_COLUMNS,
    Checked,
    KnownKey,
    ReviewError,
    SignOff,
    check_reviewer,
    check_rows,
    check_statement,
    record_import,
    record_sign_off,
    run_as_of,
    run_of,
)

if TYPE_CHECKING:
    import duckdb

MAX_REPORT_BYTES = 1 << 30


class ReviewRefused(ReviewError):
    """A review file with bad rows: `problems` has one line per row; nothing was recorded."""

    def __init__(self, file_name: str, problems: tuple[str, ...]) -> None:
        super().__init__(
            f"review file {file_name} refused: {len(problems):,} "
            f"{'row' if len(problems) == 1 else 'rows'} to fix; nothing was recorded"
        )
        self.problems = problems


@dataclass(frozen=True)
class Imported:
    checked: Checked
    evidence_path: str


def import_review(
    con: duckdb.DuckDBPyConnection,
    file: Path,
    evidence_root: Path,
    *,
    now: datetime,
    user: str,
) -> Imported:
    """Check `file` against its run and record it (ReviewFileError, ReviewError, ReviewRefused
    when it cannot be; AfterRunError when the run's evidence folder is not here)."""
    read = read_review_file(file, REQUIRED_COLUMNS)
    run_id = run_of(read.rows, read.name)
    try:
        as_of = run_as_of(con, run_id)
    except ReviewError as exc:
        raise ReviewError(f"review file {read.name}: {exc}") from None
    known = {k.key_ref: KnownKey(k.account_id, k.user_name) for k in population(con, run_id)}
    checked = check_rows(read.name, read.rows, run_id, as_of, known)
    if checked.problems:
        raise ReviewRefused(read.name, checked.problems)
    if not checked.decisions:
        raise ReviewError(
            f"review file {read.name}: no row has a decision — fill the decision column (keep, "
            "rotate, deactivate or defer) of the keys decided"
        )
    run_dir = evidence_root / run_id
    path, digest = add_after_run(run_dir, "review", read.suffix, read.data, now)
    try:
        record_import(
            con,
            checked,
            file_name=read.name,
            file_sha256=digest,
            evidence_path=path,
            imported_at=now,
            imported_by=user,
        )
    except BaseException:
        (run_dir / path).unlink(missing_ok=True)  # no evidence the warehouse does not record
        raise
    return Imported(checked, path)


def sign_off_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    reviewer: str,
    statement: str,
    report: Path,
    evidence_root: Path,
    now: datetime,
    user: str,
) -> tuple[SignOff, str]:
    """Record a sign-off of the run's `report`; returns it and its evidence path (ValueError
    for a bad reviewer, ReviewError for a bad statement or an unknown run, ReviewFileError for
    a report that cannot be read)."""
    try:
        who = check_reviewer(reviewer)
    except ValueError as exc:
        raise ReviewError(f"--reviewer {exc}") from None
    said = check_statement(statement)
    try:
        run_as_of(con, run_id)
    except ReviewError as exc:
        raise ReviewError(f"--run {exc}") from None
    data = read_regular(report, MAX_REPORT_BYTES, "report")
    made = SignOff(
        run_id=run_id,
        signed_at=now,
        signed_by=user,
        reviewer=who,
        statement=said,
        report_file=report.name,
        report_sha256=hashlib.sha256(data).hexdigest(),
    )
    run_dir = evidence_root / run_id
    path, digest = add_after_run(run_dir, "sign-off", ".json", to_json_bytes(made.record()), now)
    try:
        record_sign_off(con, made, path, digest)
    except BaseException:
        (run_dir / path).unlink(missing_ok=True)
        raise
    return made, path

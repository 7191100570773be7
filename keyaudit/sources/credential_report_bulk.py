"""Parse many credential reports at once, with exactly the results of parsing them one by one.

`parse_credential_report` spends most of its time on the fixed cost of ~40 vectorized checks,
whatever the file's size: ≈ 30 ms for a 100-user report, so 5,000 accounts took minutes. Here
every report is read and shape-checked on its own (header: cheap), then the cell checks run
once over all rows together. They are row-local, so a clean file gets exactly the rows it would
get alone; a file with a row of another width than the header's, any doubtful cell, a row to
refuse, several accounts or a repeated user is parsed again on its own by
`parse_credential_report`, which decides and words the error, the refusals or the notes. The slow path is the reference; the fast path never decides anything it would not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from keyaudit.sources.credential_report import (
    COLUMNS,
    CredentialReportError,
    _account_ids,
    _check_header,
    _decode,
    _drop_blank_lines,
    _gc_paused,
    _lower_booleans,
    _read_records,
    _row_checks,
    _table,
    _to_frame,
    _validate,
    parse_credential_report,
)

REPORT = "report"  # the column holding each row's position in the input


@dataclass(frozen=True)
class ReportResult:
    """How one input went: the account it belongs to, its notes and refused rows, or why the
    whole input was refused."""

    account_id: str | None = None
    notes: list[str] = field(default_factory=list)
    error: CredentialReportError | None = None
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedReports:
    """All accepted rows (`report`, `line_number`, COLUMNS; inputs in order) and per-input results."""

    rows: pd.DataFrame
    results: list[ReportResult]


def parse_credential_reports(items: Sequence[tuple[bytes | str, str]]) -> ParsedReports:
    """Parse `(content, source)` pairs; each result equals `parse_credential_report`'s."""
    results: list[ReportResult | None] = [None] * len(items)
    notes: dict[int, list[str]] = {}
    records: list[list[str]] = []
    lines: list[int] = []
    owners: list[int] = []
    misfit: set[int] = set()  # a row of another width: rejoined, refused or an error, alone
    with _gc_paused():
        for i, (content, source) in enumerate(items):
            try:
                text = _decode(content, source)
                found, starts = _read_records(text, source)
                _check_header(found[0], source)
                body, body_lines, notes[i] = _drop_blank_lines(found[1:], starts[1:])
            except CredentialReportError as exc:
                results[i] = ReportResult(error=exc)
                notes.pop(i, None)
                continue
            if any(len(record) != len(COLUMNS) for record in body):
                misfit.add(i)
                notes.pop(i)
                continue
            records.extend(body)
            lines.extend(body_lines)
            owners.extend([i] * len(body))
        table = _table(records, lines)
    del records, lines
    owner = np.asarray(owners, dtype=np.int64)
    accounts = np.asarray(_account_ids(table), dtype=object)
    alone = _needs_own_parse(table, owner, accounts) | misfit
    frame = _to_frame(_lower_booleans(table))
    del table
    first_account = pd.Series(accounts, index=owner).groupby(level=0).first()
    for i in notes:
        if i not in alone:
            account = first_account.get(i)
            results[i] = ReportResult(
                account_id=None if account is None else str(account), notes=notes[i]
            )
    frame.insert(0, REPORT, owner)
    kept = [frame[~np.isin(owner, sorted(alone))]]
    for i in sorted(alone):
        content, source = items[i]
        try:
            parsed = parse_credential_report(content, source=source)
        except CredentialReportError as exc:
            results[i] = ReportResult(error=exc)
            continue
        results[i] = ReportResult(
            account_id=parsed.account_id, notes=parsed.notes, refused=parsed.refused
        )
        rows = parsed.rows.copy()
        rows.insert(0, REPORT, np.full(len(rows), i, dtype=np.int64))
        kept.append(rows)
    rows = pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0].reset_index(drop=True)
    if len(kept) > 1:  # rows of re-parsed files go back to their place, line order kept
        rows = rows.sort_values(REPORT, kind="stable", ignore_index=True)
    return ParsedReports(rows=rows, results=[r or ReportResult() for r in results])


def _needs_own_parse(table: pa.Table, owner: np.ndarray, accounts: np.ndarray) -> set[int]:
    """Inputs the bulk path must not decide: a doubtful cell, a row to refuse, two accounts, a
    repeated user."""
    if table.num_rows == 0:
        return set()
    bad = np.zeros(table.num_rows, dtype=bool)
    for check in [*_validate(table), *_row_checks(table)]:
        bad |= check.bad
    alone = set(np.unique(owner[bad]).tolist())
    users = np.asarray(table["user"], dtype=object)
    per_owner = pd.DataFrame({"owner": owner, "account": accounts, "user": users})
    mixed = per_owner.groupby("owner")["account"].nunique()
    alone |= set(mixed[mixed > 1].index.tolist())
    repeated = per_owner.duplicated(["owner", "user"]).to_numpy()
    alone |= set(np.unique(owner[repeated]).tolist())
    return alone

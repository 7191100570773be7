"""review.xlsx and review.csv: the keys of a run's access review, for a reviewer to decide on.

One row per active access key with an open finding or an admin/escalation privilege
(sql/report/review_population.sql), with the facts a reviewer needs and empty columns for the
decision. Every row names its run, so `keyaudit review import` knows which run a filled file
decides on, even after the file was renamed or its rows were copied into another. Each key names
its owner and where the owner came from (a user tag, the key's description, the account's owner
tag or the OU map; sql/views/key_owners.sql); where owners are configured the workbook has a
sheet per owner, so each can be handed the keys they answer for. Text cells stay text and
formula-like text is neutralised, as in findings.xlsx.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keyaudit.report.exports import csv_cell
from keyaudit.report.queries import rows
from keyaudit.report.workbook import Workbook
from keyaudit.safefile import atomic_file

if TYPE_CHECKING:
    import duckdb


CSV_NAME = "review.csv"
XLSX_NAME = "review.xlsx"
# What the review knows about each key; `ticket` is pre-filled with the tickets `keyaudit track`
# recorded against the key's findings, and the reviewer may replace it.
FACT_COLUMNS = (
    "run_id",
    "owner",
    "owner_source",
    "account_id",
    "account_name",
    "user_name",
    "access_key_id",
    "age_days",
    "last_used_at",
    "privilege",
    "findings",
)
DECISION_COLUMNS = (
    "decision",
    "justification",
    "ticket",
    "reviewer",
    "defer_owner",
    "defer_until",
)
COLUMNS = FACT_COLUMNS + DECISION_COLUMNS
ONE_SHEET = "review"
NO_OWNER_SHEET = "no owner"
_SHEET_NAME_LIMIT = 31  # Excel's
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\']")


@dataclass(frozen=True)
class ReviewKey:
    """One key of the review population; `key_ref` is its access key id (or account/user/key_N
    for a key the credential report shows without one)."""

    run_id: str
    key_ref: str
    account_id: str
    account_name: str | None
    user_name: str
    age_days: int | None
    last_used_at: datetime | None
    privilege: str
    rule_ids: tuple[str, ...]
    tickets: tuple[str, ...]
    owner: str | None
    owner_source: str | None

    def row(self) -> dict[str, Any]:
        """The key as a row of the review file, its decision columns empty."""
        return {
            "run_id": self.run_id,
            "owner": self.owner,
            "owner_source": self.owner_source,
            "account_id": self.account_id,
            "account_name": self.account_name,
            "user_name": self.user_name,
            "access_key_id": self.key_ref,
            "age_days": self.age_days,
            "last_used_at": _text(self.last_used_at),
            "privilege": self.privilege,
            "findings": ", ".join(self.rule_ids),
            "ticket": ", ".join(self.tickets) or None,
        }


def population(con: duckdb.DuckDBPyConnection, run_id: str) -> list[ReviewKey]:
    """The run's review population, in account, user and key order, each key with its owner
    (sql/views/key_owners.sql: user tag, key description, then the account's owner)."""
    return [
        ReviewKey(
            run_id=row["run_id"],
            key_ref=row["key_ref"],
            account_id=row["account_id"],
            account_name=row["account_name"],
            user_name=row["user_name"],
            age_days=row["age_days"],
            last_used_at=row["last_used_at"],
            privilege=row["privilege"],
            rule_ids=tuple(row["rule_ids"]),
            tickets=tuple(row["tickets"]),
            owner=row["owner"],
            owner_source=row["owner_source"],
        )
        for row in rows(con, "review_population", {"run_id": run_id})
    ]


def sheets(keys: Sequence[ReviewKey]) -> dict[str, list[ReviewKey]]:
    """Sheet name -> its keys: one sheet per owner when any key has one (keys nobody owns on a
    sheet of their own), else one sheet. Names fit Excel's rules and never repeat."""
    if not any(k.owner for k in keys):
        return {ONE_SHEET: list(keys)}
    by_owner: dict[str | None, list[ReviewKey]] = {}
    for key in keys:
        by_owner.setdefault(key.owner, []).append(key)
    named: dict[str, list[ReviewKey]] = {}
    for owner in sorted(by_owner, key=lambda o: (o is None, o or "")):
        base = _NOT_IN_SHEET_NAMES.sub("-", owner)[:_SHEET_NAME_LIMIT] if owner else NO_OWNER_SHEET
        name, n = base, 1
        while name.lower() in {s.lower() for s in named}:
            n += 1
            name = f"{base[: _SHEET_NAME_LIMIT - len(str(n)) - 1]}~{n}"
        named[name] = by_owner[owner]
    return named


def write_review(keys: Sequence[ReviewKey], folder: Path) -> dict[str, Path]:
    """Write review.csv (every key) and review.xlsx (a sheet per owner) into `folder`."""
    written = {CSV_NAME: folder / CSV_NAME, XLSX_NAME: folder / XLSX_NAME}
    with atomic_file(written[CSV_NAME], text=True, encoding="utf-8", newline="") as handle:
        table = csv.writer(handle)
        table.writerow(COLUMNS)
        for key in keys:
            row = key.row()
            table.writerow([csv_cell(row.get(c)) for c in COLUMNS])
    with Workbook(written[XLSX_NAME], title="keyaudit access review") as book:
        for name, owned in sheets(keys).items():
            sheet = book.sheet(name, COLUMNS)
            for key in owned:
                sheet.add(key.row())
            sheet.close()
    return written


def _text(value: Any) -> Any:
    """Times as ISO 8601 text (UTC, as stored), the same in the CSV and the workbook."""
    return value.isoformat() if isinstance(value, datetime | date) else value

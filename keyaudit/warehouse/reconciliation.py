"""Completeness and accuracy: every reconciliation line that does not hold becomes a data note.

The checks themselves are the warehouse view `reconciliation` (sql/views/reconciliation.sql),
re-performed from the raw tables whenever it is read; loading a run records their differences
as run notes (kind `reconciliation`) on the account they concern, so the report, the exports
and `keyaudit query` show a difference wherever data notes are shown.
"""

from __future__ import annotations

import duckdb

from keyaudit.paths import SQL_DIR

NOTE_KIND = "reconciliation"


def record_differences(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Add a run note for each reconciliation line of the run that does not hold; returns how
    many. Called inside the loading transaction, after the findings are written."""
    sql = (SQL_DIR / "summary" / "reconciliation_notes.sql").read_text(encoding="utf-8")
    con.execute(
        f"insert into run_notes (run_id, account_id, kind, message) {sql}", {"run_id": run_id}
    )
    row = con.execute(
        "select count(*) from run_notes where run_id = ? and kind = ?", [run_id, NOTE_KIND]
    ).fetchone()
    return int(row[0]) if row else 0

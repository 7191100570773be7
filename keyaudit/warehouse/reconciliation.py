"""Completeness and accuracy: every reconciliation line that does not hold becomes a data note.

The checks themselves are the warehouse view `reconciliation` (sql/views/reconciliation.sql),
re-performed from the raw tables whenever it is read. Loading keeps each run's lines in the
table `reconciliation_lines` (keyaudit.warehouse.kept: planning the view costs DuckDB about half
a second on any run), which the report, its per-owner slices and the notes read, and records
the differences as run notes (kind `reconciliation`) on the account they concern, so the
report, the exports and `keyaudit query` show a difference wherever data notes are shown.
"""

from __future__ import annotations

import duckdb

from keyaudit.paths import SQL_DIR
from keyaudit.warehouse.kept import HISTORY, KEPT, keep_views

NOTE_KIND = "reconciliation"


def record_differences(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Keep the run's reconciliation lines, control results and Fix first
    (keyaudit.warehouse.kept; loading kept the comparisons with earlier runs, HISTORY, before
    the plan), and add a run note for each line that does not hold; returns how many. Called
    inside the loading transaction, after the findings and their waivers are written."""
    keep_views(con, run_id, tables=[t for t in KEPT if t not in HISTORY])
    sql = (SQL_DIR / "summary" / "reconciliation_notes.sql").read_text(encoding="utf-8")
    con.execute(
        f"insert into run_notes (run_id, account_id, kind, message) {sql}", {"run_id": run_id}
    )
    row = con.execute(
        "select count(*) from run_notes where run_id = ? and kind = ?", [run_id, NOTE_KIND]
    ).fetchone()
    return int(row[0]) if row else 0

"""Completeness and accuracy: each run's reconciliation kept as a table, and every line that does
not hold made a data note.

The checks themselves are the warehouse view `reconciliation` (sql/views/reconciliation.sql),
re-performed from the raw tables whenever it is read. Planning that stack of views costs DuckDB
about half a second whatever the size of the run, so loading a run keeps its lines in the table
`reconciliation_lines`, which the report, its per-owner slices and the notes read: the view is
the one definition, the table its result for the run as loaded. Loading also records the
differences as run notes (kind `reconciliation`) on the account they concern, so the report,
the exports and `keyaudit query` show a difference wherever data notes are shown.

Everything the view reads is written by loading (the raw tables, the marts, the findings and
their waivers, the rules in force); the later writers (`track`, `review`, `sign-off`, `sample`)
write nothing it reads. A writer whose view SQL changed refills the table for every run.
"""

from __future__ import annotations

import duckdb

from keyaudit.paths import SQL_DIR

NOTE_KIND = "reconciliation"
TABLE = "reconciliation_lines"


def record_reconciliation(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> None:
    """Replace the kept lines of `run_id` (of every run when None) with what the view gives now.
    Run it after the last write to what the view reads: loading calls it through
    record_differences, after the findings and waivers."""
    if run_id is None:
        con.execute(f"delete from {TABLE}")
        con.execute(f"insert into {TABLE} by name select * from reconciliation")
        return
    params = {"run_id": run_id}
    con.execute(f"delete from {TABLE} where run_id = $run_id", params)
    con.execute(
        f"insert into {TABLE} by name select * from reconciliation where run_id = $run_id", params
    )


def record_differences(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Keep the run's reconciliation lines, and add a run note for each that does not hold;
    returns how many. Called inside the loading transaction, after the findings are written."""
    record_reconciliation(con, run_id)
    sql = (SQL_DIR / "summary" / "reconciliation_notes.sql").read_text(encoding="utf-8")
    con.execute(
        f"insert into run_notes (run_id, account_id, kind, message) {sql}", {"run_id": run_id}
    )
    row = con.execute(
        "select count(*) from run_notes where run_id = ? and kind = ?", [run_id, NOTE_KIND]
    ).fetchone()
    return int(row[0]) if row else 0

"""Views whose rows loading keeps per run in a table: the view is the one definition, the table
its result for the run as loaded, which the report reads.

DuckDB plans a stack of views anew for every query: about half a second for the reconciliation
and a quarter for the control results on any run, whatever its size, and their execution grows
with the run (tens of seconds at 1,000 accounts; ranking Fix first, 3.7 s there). Every report, per-owner slice and data note
paid it again. The views still answer `keyaudit query` and re-perform every check from the raw
tables; tests/warehouse/test_kept_views.py checks that each table holds the view's rows.

Everything these views read is written by loading (the raw tables, the marts, the findings and
their waivers, the rules in force); the later writers (`track`, `review`, `sign-off`, `sample`)
write nothing they read. So loading keeps them, after the findings and waivers
(keyaudit.warehouse.reconciliation.record_differences), and a writer whose view SQL changed
keeps them again for every run (keyaudit.warehouse.db.migrate).
"""

from __future__ import annotations

import duckdb

# table: the view whose rows it keeps (every column, by name). Names are constants: the SQL
# below formats them in; run_id is bound.
KEPT = {
    "reconciliation_lines": "reconciliation",
    "run_control_results": "control_results",
    "run_control_populations": "control_populations",
    "run_fix_first": "fix_first",
}


def keep_views(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> None:
    """Replace the kept rows of `run_id` (of every run when None) with what each view gives now.
    Run it after the last write to what the views read."""
    for table, view in KEPT.items():
        if run_id is None:
            con.execute(f"delete from {table}")
            con.execute(f"insert into {table} by name select * from {view}")
            continue
        params = {"run_id": run_id}
        con.execute(f"delete from {table} where run_id = $run_id", params)
        con.execute(
            f"insert into {table} by name select * from {view} where run_id = $run_id", params
        )

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

Two of them compare a run with the runs before it (HISTORY): a finding's lifecycle and the
findings resolved since the previous run read `finding_history`, every finding of a scope by
every later run, whose cost grows with the months kept (10 s a query for 1,000 accounts and 12
monthly runs). A run's rows there depend on the runs with an earlier as_of only (previous_runs),
so loading a run keeps them for it and again for every run with a later as_of: a month loaded
late, or reloaded, changes what those runs compare with; in the monthly routine there is none.
Loading keeps these two right after the waivers, since the run's deactivation plan reads when
each finding was first seen, and the others last (record_differences).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

# table: the view whose rows it keeps (every column, by name). Names are constants: the SQL
# below formats them in; run_id is bound.
KEPT = {
    "reconciliation_lines": "reconciliation",
    "run_control_results": "control_results",
    "run_control_populations": "control_populations",
    "run_fix_first": "fix_first",
    "run_finding_lifecycle": "finding_lifecycle",
    "run_findings_resolved": "findings_resolved",
}
# The kept tables whose rows of a run depend on the runs before it (see above).
HISTORY = frozenset({"run_finding_lifecycle", "run_findings_resolved"})


def keep_views(
    con: duckdb.DuckDBPyConnection,
    run_id: str | None = None,
    *,
    tables: Iterable[str] = KEPT,
) -> None:
    """Replace the kept rows of `run_id` (of every run when None) with what each view of
    `tables` gives now, and those of the HISTORY tables for every run after it too. Run it
    after the last write to what the views read."""
    for table in tables:
        view = KEPT[table]
        if run_id is None:
            con.execute(f"delete from {table}")
            con.execute(f"insert into {table} by name select * from {view}")
            continue
        # one statement for every run it concerns: the history is made once, not per run
        runs = _LATER_RUNS if table in HISTORY else "select $run_id"
        params = {"run_id": run_id}
        con.execute(f"delete from {table} where run_id in ({runs})", params)
        con.execute(
            f"insert into {table} by name select * from {view} where run_id in ({runs})", params
        )


# The run and every run with a later as_of: the runs whose comparison with the runs before them
# can include it (previous_runs: the chain run with the latest earlier as_of).
_LATER_RUNS = (
    "select $run_id union "
    "select run_id from runs where as_of > (select as_of from runs where run_id = $run_id)"
)

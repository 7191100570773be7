"""One run's staging and marts, computed once and shared by every rule of an evaluation.

The marts are plain views over every run of the warehouse, and a `where run_id = ...` in a rule
cannot be pushed through the keys mart's full outer join: each rule would rebuild the marts of
the whole history. Inside `run_snapshot`, connection-local temporary tables with the views'
names hold only this run (DuckDB looks in `temp` before `main`, also inside views), so the
marts are built once from the run's own rows. Measured by bench/load_evaluate.py: all rules on
500,000 keys in seconds instead of minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import duckdb

# Staging first (filtered by run), then the marts built on it, in dependency order.
STAGING = ("stg_credential_report", "stg_access_keys")
MARTS = ("keys", "users")


@contextmanager
def run_snapshot(con: duckdb.DuckDBPyConnection, run_id: str) -> Iterator[None]:
    """Shadow the staging views and marts with this run's rows while the block runs."""
    temporary = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where temporary"
        ).fetchall()
    }
    if temporary & {*STAGING, *MARTS}:  # nested: the outer snapshot already holds the run
        yield
        return
    created: list[str] = []
    try:
        for name in STAGING:
            con.execute(
                f"create temp table {name} as select * from main.{name} where run_id = ?",
                [run_id],
            )
            created.append(name)
        for name in MARTS:
            con.execute(f"create temp table {name} as select * from main.{name}")
            created.append(name)
        yield
    finally:
        for name in reversed(created):
            with suppress(duckdb.Error):  # an aborted transaction: its rollback drops them
                con.execute(f"drop table if exists temp.{name}")

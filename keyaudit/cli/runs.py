"""`keyaudit runs`: the runs in the warehouse, newest first, with coverage and open findings."""

from __future__ import annotations

from keyaudit.cli.common import Db, app, fail
from keyaudit.cli.query import Format, QueryFormat, open_read_only, print_rows, run_sql


@app.command()
def runs(db: Db = None, fmt: Format = QueryFormat.table) -> None:
    """List the runs: id, as of, source, coverage and open (not waived) findings by severity.

    Example: keyaudit runs --format markdown
    """
    from keyaudit.warehouse.saved_queries import QueryError, bind, find_query

    try:
        saved = find_query("runs")
        values = bind(saved, {})
    except QueryError as exc:
        raise fail(str(exc)) from None
    con = open_read_only(db)
    try:
        columns, rows = run_sql(con, saved.sql, values)
    finally:
        con.close()
    print_rows(columns, rows, fmt)

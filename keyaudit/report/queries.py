"""The SQL the report runs: one query per file in sql/report/, found by its name.

Every value is a bound parameter (`$run_id`, `$account_ids`, …); nothing is formatted into the
SQL. `$account_ids` is NULL for the whole run or a list of account ids (a per-owner slice), and
every query that reads account data filters on it. Key facts come from the keys mart, as the
rules see them.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

import duckdb

from keyaudit.model import KeyauditError
from keyaudit.paths import SQL_DIR

QUERIES_DIR = SQL_DIR / "report"


class ReportQueryError(KeyauditError, LookupError):
    """A report query file is missing or unreadable; the message names the file."""


@cache
def sql(name: str) -> str:
    """The text of sql/report/<name>.sql."""
    path = QUERIES_DIR / f"{name}.sql"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportQueryError(
            f"{path}: cannot read the report query {name!r} ({exc.strerror or exc}) — "
            "the installation's sql/ folder is incomplete; reinstall keyaudit"
        ) from None


def execute(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Execute the named query with its parameters bound; the connection holds the result."""
    if params is None:  # a file of several statements (settings) takes no parameters
        return con.execute(sql(name))
    return con.execute(sql(name), params)


def arrow_table(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> Any:
    """The named query's result as an Arrow table (pyarrow.Table): for a result counted or cut
    in columns, which as Python rows would cost more than the query.

    DuckDB warns that Arrow from an execute() result is one extra copy and suggests con.sql();
    but con.sql() refuses to run while the connection holds a caller's unfinished result (a
    fetchone()), and the copy is columnar, a fraction of the query: the warning is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning)
        return execute(con, name, params).to_arrow_table()


def rows(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The named query's rows as dicts."""
    cursor = execute(con, name, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

"""`keyaudit query`: SQL or a saved query against the warehouse, opened read-only, with bound
parameters, its rows streamed out (keyaudit.cli.output); also what `runs` shares."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from keyaudit.cli.common import Db, app, fail
from keyaudit.cli.output import QueryFormat, batches, fitted_table, write_result

if TYPE_CHECKING:
    import duckdb

    from keyaudit.warehouse.saved_queries import SavedQuery

__all__ = ["Format", "QueryFormat", "open_read_only", "print_rows", "run_sql"]

Format = Annotated[
    QueryFormat, typer.Option("--format", metavar="FORMAT", help="table, csv, json or markdown.")
]


def open_read_only(db: Path | None) -> duckdb.DuckDBPyConnection:
    """The warehouse, read-only, with file access switched off and the settings locked, so no
    query can change the warehouse or the evidence files beside it."""
    from keyaudit.config import ConfigError, load_config
    from keyaudit.warehouse.db import WarehouseError, connect

    try:
        path = db or load_config().paths.warehouse
        con = connect(path, read_only=True)
    except (ConfigError, WarehouseError) as exc:
        raise fail(str(exc)) from None
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
) -> duckdb.DuckDBPyConnection:
    """The query started, its rows left to fetch; or a one-line error that says what to fix."""
    import duckdb

    try:
        return con.execute(sql, params or None)
    except duckdb.Error as exc:
        raise _failed(exc) from None


def run_sql(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and all rows, for small results (`keyaudit runs`); or a one-line error."""
    import duckdb

    cursor = execute(con, sql, params)
    try:
        return [d[0] for d in cursor.description or []], cursor.fetchall()
    except duckdb.Error as exc:
        raise _failed(exc) from None


def _failed(exc: Exception) -> typer.Exit:
    from keyaudit.warehouse.saved_queries import explain

    return fail(f"query failed: {explain(exc)}")


@app.command()
def query(
    sql: Annotated[
        str | None,
        typer.Argument(metavar="SQL", help="SQL to run against the warehouse (read-only)."),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            metavar="QUERY",
            help="A saved query's name (see --list) or the path of a .sql file.",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="NAME=VALUE",
            help="A value for $NAME in the SQL, repeatable; always bound, never pasted in.",
        ),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the saved queries: question and parameters.")
    ] = False,
    db: Db = None,
    fmt: Format = QueryFormat.table,
) -> None:
    """Ask the warehouse a question in SQL, or run a saved query; it is opened read-only.

    Example: keyaudit query --format json "select rule_id, count(*) n from findings group by 1"

    Example: keyaudit query --file old_keys_by_account --param days=180

    Example: keyaudit query --list
    """
    from keyaudit.warehouse.saved_queries import (
        QueryError,
        bind,
        find_query,
        parse_param_args,
        unknown_runs,
    )

    if list_:
        _list_saved(fmt)
        return
    if (sql is None) == (file is None):
        raise fail(
            "give either the SQL to run or --file NAME, not both"
            if sql is not None
            else "give the SQL to run, or --file NAME (`keyaudit query --list` shows saved queries)"
        )
    try:
        saved: SavedQuery | None = find_query(file) if file is not None else None
        values = bind(saved, parse_param_args(param or []))
    except QueryError as exc:
        raise fail(str(exc)) from None
    con = open_read_only(db)
    try:
        if problem := unknown_runs(con, saved, values):
            raise fail(problem)
        cursor = execute(con, saved.sql if saved else str(sql), values)
        _stream(cursor, fmt)
    finally:
        con.close()


def _stream(cursor: duckdb.DuckDBPyConnection, fmt: QueryFormat) -> None:
    """Fetch and write the rows batch by batch. An error while fetching (e.g. a failed cast in
    a later row) ends the output where it is, with the one-line error and exit 2; a reader that
    stops early (`| head`) ends it quietly."""
    import duckdb

    columns = [d[0] for d in cursor.description or []]
    try:
        write_result(columns, batches(cursor), fmt, sys.stdout)
        sys.stdout.flush()
    except duckdb.Error as exc:
        raise _failed(exc) from None
    except BrokenPipeError:
        _silence_stdout()


def _list_saved(fmt: QueryFormat) -> None:
    from keyaudit.warehouse.saved_queries import QueryError, list_saved

    try:
        saved = list_saved()
    except QueryError as exc:
        raise fail(str(exc)) from None
    rows = [
        (q.name, q.question, "; ".join(f"{p.label()}: {p.description}" for p in q.params))
        for q in saved
    ]
    print_rows(["name", "question", "parameters"], rows, fmt)


def print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: QueryFormat) -> None:
    """Rows already fetched (a small result) in `fmt` on standard output; a table fits the
    terminal (its long cells wrapped)."""
    try:
        if fmt is QueryFormat.table:
            fitted_table(columns, rows, sys.stdout)
        else:
            write_result(columns, [rows], fmt, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    """Point standard output at /dev/null once its reader is gone, so the final flush at exit
    does not fail a second time with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests): nothing to flush
        pass

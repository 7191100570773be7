"""`keyaudit query`: SQL or a saved query against the warehouse, opened read-only, with bound
parameters; also the output formats the other read-only commands (`runs`) share."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from keyaudit.cli.common import Db, app, fail

if TYPE_CHECKING:
    import duckdb

    from keyaudit.warehouse.saved_queries import SavedQuery


class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


Format = Annotated[QueryFormat, typer.Option("--format", help="table, csv, json or markdown.")]


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


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


def run_sql(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Columns and rows, or a one-line error that says what to fix."""
    import duckdb

    from keyaudit.warehouse.saved_queries import explain

    try:
        cursor = con.execute(sql, params or None)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise fail(f"query failed: {explain(exc)}") from None
    return columns, rows


@app.command()
def query(
    sql: Annotated[
        str | None, typer.Argument(help="SQL to run against the warehouse (read-only).")
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file", help="A saved query's name (see --list) or the path of a .sql file."
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="NAME=VALUE for $NAME in the SQL, repeatable; always bound, never pasted in.",
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
        columns, rows = run_sql(con, saved.sql if saved else str(sql), values)
    finally:
        con.close()
    print_rows(columns, rows, fmt)


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
    if fmt is QueryFormat.json:
        sys.stdout.write(
            json.dumps([dict(zip(columns, map(_cell, r), strict=True)) for r in rows], default=str)
            + "\n"
        )
    elif fmt is QueryFormat.csv:
        from keyaudit.report.exports import safe_cell

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows([[safe_cell(_cell(v)) for v in row] for row in rows])
        sys.stdout.write(buffer.getvalue())
    elif fmt is QueryFormat.markdown:
        typer.echo(_markdown(columns, rows))
    else:
        text = [[("" if v is None else str(_cell(v))) for v in row] for row in rows]
        widths = [max([len(c), *(len(r[i]) for r in text)]) for i, c in enumerate(columns)]
        typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        typer.echo("  ".join("-" * w for w in widths))
        for r in text:
            typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
        typer.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _markdown(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """A GitHub-flavoured table; pipes and line breaks inside cells cannot break its layout."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(_cell(value))
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(c) for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
        *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows),
    ]
    return "\n".join(lines)

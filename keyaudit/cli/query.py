"""`keyaudit query`: SQL against the warehouse, opened read-only."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from keyaudit.cli.common import Db, app, fail


class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only).")],
    db: Db = None,
    fmt: Annotated[
        QueryFormat, typer.Option("--format", help="table, csv or json.")
    ] = QueryFormat.table,
) -> None:
    """Ask the warehouse a question in SQL; it is opened read-only.

    Example: keyaudit query --format json "select rule_id, count(*) n from findings group by 1"
    """
    import duckdb

    from keyaudit.config import ConfigError, load_config
    from keyaudit.warehouse import WarehouseError, connect

    try:
        path = db or load_config().paths.warehouse
        con = connect(path, read_only=True)
    except (ConfigError, WarehouseError) as exc:
        raise fail(str(exc)) from None
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise fail(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    _print_rows(columns, rows, fmt)


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: QueryFormat) -> None:
    if fmt is QueryFormat.json:
        sys.stdout.write(
            json.dumps([dict(zip(columns, map(_cell, r), strict=True)) for r in rows], default=str)
            + "\n"
        )
    elif fmt is QueryFormat.csv:
        from keyaudit.exports import safe_cell

        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        writer.writerows([[safe_cell(_cell(v)) for v in row] for row in rows])
        sys.stdout.write(buffer.getvalue())
    else:
        text = [[("" if v is None else str(_cell(v))) for v in row] for row in rows]
        widths = [max([len(c), *(len(r[i]) for r in text)]) for i, c in enumerate(columns)]
        typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        typer.echo("  ".join("-" * w for w in widths))
        for r in text:
            typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
        typer.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")

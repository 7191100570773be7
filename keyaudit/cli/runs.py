"""`keyaudit runs`: the runs in the warehouse, newest first, with coverage and open findings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from keyaudit.cli.common import Db, app, fail
from keyaudit.cli.query import Format, QueryFormat, open_read_only, print_rows, run_sql
from keyaudit.model import HEADLINE_SEVERITIES

_SHORT = {"critical": "crit", "medium": "med"}  # the table's headers, in 100 characters


@app.command()
def runs(db: Db = None, fmt: Format = QueryFormat.table) -> None:
    """List the runs: id, as of, source, coverage and open (not waived) findings by severity.

    The table shows accounts assessed of those in scope and open findings as crit(ical), high,
    med(ium) and low; the other formats have every column, waived findings included.

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
    if fmt is QueryFormat.table:  # the saved query's 16 columns are 212 characters wide
        columns, rows = _compact(columns, rows)
    print_rows(columns, rows, fmt)


def _compact(
    columns: list[str], rows: list[tuple[Any, ...]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The table's columns: what a reader compares across runs, in 100 characters. CSV, JSON
    and markdown keep every column of the saved query (`keyaudit query --file runs`)."""
    shown = ["run_id", "as_of", "source", "status", "assessed"]
    shown += [_SHORT.get(s, s) for s in HEADLINE_SEVERITIES]
    out = []
    for row in rows:
        r = dict(zip(columns, row, strict=True))
        as_of = r["as_of"]
        out.append(
            (
                r["run_id"],
                as_of.strftime("%Y-%m-%d %H:%M") if isinstance(as_of, datetime) else as_of,
                r["source"],
                r["status"],
                f"{r['accounts_assessed']}/{r['accounts_in_scope']}",
                *(r[s] for s in HEADLINE_SEVERITIES),
            )
        )
    return shown, out

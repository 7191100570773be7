"""The `keyaudit` command: run audits, the demo, and queries against the warehouse."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="keyaudit",
    help="Audit AWS access keys across an AWS Organization: collect, evaluate, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")

# Prefect's temporary API server is quiet, offline and patient on these machines.
_PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "keyaudit",
    "PREFECT_UI_ENABLED": "false",
}


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"keyaudit: error: {message}", err=True)
    return typer.Exit(code)


def _parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(
            f"--as-of {value!r} is not an ISO 8601 time; e.g. 2026-12-01T06:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _quiet_prefect() -> None:
    for name, value in _PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


class _Progress(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"  {record.getMessage()}", err=True)


def _show_progress() -> None:
    logger = logging.getLogger("keyaudit")
    if not any(isinstance(h, _Progress) for h in logger.handlers):
        logger.addHandler(_Progress())
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _run_flow(
    source: str, config: Path | None, db: Path | None, out: Path | None, as_of: str | None
) -> None:
    from keyaudit.aws.errors import CollectionError
    from keyaudit.config import ConfigError, load_config
    from keyaudit.rules import CatalogueError
    from keyaudit.warehouse import WarehouseError

    parsed_as_of = _parse_as_of(as_of)
    try:
        # Validate configuration and catalogue before Prefect starts or AWS is called.
        cfg = load_config(config, overrides={"paths": {"warehouse": str(db)}} if db else None)
        from keyaudit.rules import load_catalogue

        load_catalogue(cfg.rules)
    except (ConfigError, CatalogueError) as exc:
        raise _fail(str(exc)) from None
    _quiet_prefect()
    _show_progress()
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.audit import audit_flow

    typer.echo(f"keyaudit: auditing ({source}) …", err=True)
    try:
        result = audit_flow.with_options(
            task_runner=ThreadPoolTaskRunner(max_workers=cfg.collection.concurrency)
        )(
            source=source,
            config_file=str(config) if config else None,
            as_of=parsed_as_of,
            db=str(db) if db else None,
            out=str(out) if out else None,
        )
    except (ConfigError, CatalogueError, CollectionError, WarehouseError, OSError) as exc:
        raise _fail(str(exc)) from None
    _print_summary(result)


def _print_summary(result: dict[str, Any]) -> None:
    s = result["summary"]
    lines = [
        "",
        f"Run {s['run_id']}  (as of {s['as_of']})",
        f"  accounts in scope     {s['accounts_in_scope']}",
        f"  assessed              {s['accounts_assessed'] + s['accounts_partial']}"
        + (f"  ({s['accounts_partial']} partially)" if s["accounts_partial"] else ""),
        f"  not assessed          {s['accounts_not_assessed']}",
        f"  skipped (not ACTIVE)  {s['accounts_skipped']}",
        "  findings by severity  "
        + ", ".join(f"{sev} {s['findings_by_severity'].get(sev, 0)}" for sev in SEVERITY_ORDER[:4]),
        "  findings by rule",
        *(f"    {rule:<28} {n}" for rule, n in sorted(s["findings_by_rule"].items())),
        "",
        f"  HTML report  {result['html']}",
        f"  PDF report   {result['pdf']}  ({result['pdf_pages']} pages)",
        f"  warehouse    {result['warehouse']}",
        f"  evidence     {result['evidence']}",
    ]
    if s["accounts_not_assessed"]:
        lines.insert(
            2, f"  INCOMPLETE: {s['accounts_not_assessed']} account(s) could not be assessed"
        )
    typer.echo("\n".join(lines))


AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Audit instant, ISO 8601 (default: now, UTC). Ages are measured to it."
    ),
]
Db = Annotated[
    Path | None, typer.Option("--db", help="Warehouse file (default data/keyaudit.duckdb).")
]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Folder for this run's report files (default data/reports/<run_id>)."
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="keyaudit.toml to use (default ./keyaudit.toml if present)."),
]


@app.command()
def demo(db: Db = None, out: Out = None, as_of: AsOf = None, config: ConfigOpt = None) -> None:
    """Audit a simulated organization (moto, in-process) end to end.

    Example: keyaudit demo --as-of 2026-12-01T06:00:00Z
    """
    _run_flow("demo", config, db, out, as_of)


@app.command()
def run(config: ConfigOpt = None, db: Db = None, out: Out = None, as_of: AsOf = None) -> None:
    """Audit real AWS accounts with the standard AWS configuration (profile, AWS_REGION, …).

    Example: AWS_PROFILE=org-audit keyaudit run --config keyaudit.toml
    """
    _run_flow("aws", config, db, out, as_of)


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
        raise _fail(str(exc)) from None
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise _fail(f"query failed: {str(exc).splitlines()[0]}") from None
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


if __name__ == "__main__":
    app()

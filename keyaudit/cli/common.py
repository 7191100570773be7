"""Shared pieces of the `keyaudit` command: the Typer app, options and one-line errors."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="keyaudit",
    help="Audit AWS access keys across an AWS Organization: collect, evaluate, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings wrap at 100 columns; markdown joins their lines
)


# Prefect's temporary API server is quiet, offline and patient on these machines.
_PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "keyaudit",
    "PREFECT_UI_ENABLED": "false",
    "DASK_LOGGING__DISTRIBUTED": "warning",  # run.task_runner = "dask": no cluster chatter
}


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line on stderr and give the exit to raise."""
    typer.echo(f"keyaudit: error: {message}", err=True)
    return typer.Exit(code)


def parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise fail(
            f"--as-of {value!r} is not an ISO 8601 time; e.g. 2026-12-01T06:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def quiet_prefect() -> None:
    for name, value in _PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


class _Progress(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"  {record.getMessage()}", err=True)


def show_progress() -> None:
    logger = logging.getLogger("keyaudit")
    if not any(isinstance(h, _Progress) for h in logger.handlers):
        logger.addHandler(_Progress())
    logger.setLevel(logging.INFO)
    logger.propagate = False


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
PrefectOpt = Annotated[
    bool,
    typer.Option(
        "--prefect",
        help="Run as the Prefect flow, visible in the Prefect UI (default when PREFECT_API_URL "
        "is set; without it Prefect starts a temporary server). Otherwise the audit runs in "
        "this process.",
    ),
]

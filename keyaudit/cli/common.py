"""Shared pieces of the `keyaudit` command: the Typer app, options and one-line errors."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from keyaudit.exits import is_interruption
from keyaudit.model import InstantError, utc_instant
from keyaudit.safefile import owner_only_umask
from keyaudit.textsafe import visible


class _NamedArgument(TyperArgument):
    """An argument whose metavar says what it is (`SQL`, `RUN_ID`): no `<str>` beside it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def _plain_metavars(params: list[Any]) -> list[Any]:
    """Help in the usual shape, `--db PATH`, `--list`, `RUN_ID`: Typer would show a Python type
    beside every parameter (`--list <bool>`, `--param <list[str]>`, `run_id <str>`). A flag
    takes no value, so it shows none; the other parameters name theirs with `metavar=`."""
    for param in params:
        if isinstance(param, TyperOption) and (param.is_flag or param.count):
            param.metavar = param.metavar or ""
        elif isinstance(param, TyperArgument) and param.metavar:
            param.__class__ = _NamedArgument
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        """Ctrl-C during a DuckDB query reaches here as DuckDB's RuntimeError: make it the
        KeyboardInterrupt it was, which ends the command as Ctrl-C does anywhere else (exit
        130, no traceback)."""
        try:
            return super().invoke(ctx)
        except RuntimeError as exc:
            if is_interruption(exc):
                raise KeyboardInterrupt from None
            raise


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_metavars(super().get_params(ctx))


class _App(typer.Typer):
    """The Typer app whose commands show plain metavars (`--db PATH`, `--list`)."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


app = _App(
    name="keyaudit",
    help="Audit AWS access keys across an AWS Organization: collect, evaluate, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings wrap at 100 columns; markdown joins their lines
    cls=_Group,
)


def _print_version(value: bool) -> None:
    if value:
        import keyaudit

        typer.echo(f"keyaudit {keyaudit.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print keyaudit's version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """Audit AWS access keys across an AWS Organization: collect, evaluate, report."""
    owner_only_umask()  # every file and folder a command creates is owner-only, DuckDB's too


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
    """--as-of as the flow reads its as_of too (keyaudit.model.utc_instant): no zone means UTC."""
    if value is None:
        return None
    try:
        return utc_instant(value, name="--as-of")
    except InstantError as exc:
        raise fail(str(exc)) from None


def quiet_prefect() -> None:
    for name, value in _PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


class _Progress(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        # one line per record: a reason may quote what AWS or a file said (keyaudit.textsafe)
        typer.echo(f"  {visible(record.getMessage())}", err=True)


def show_progress() -> None:
    logger = logging.getLogger("keyaudit")
    if not any(isinstance(h, _Progress) for h in logger.handlers):
        logger.addHandler(_Progress())
    logger.setLevel(logging.INFO)
    logger.propagate = False


AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="TIME",
        help="Audit instant, ISO 8601 (default: now, UTC). Ages are measured to it.",
    ),
]
Db = Annotated[
    Path | None,
    typer.Option("--db", metavar="PATH", help="Warehouse file (default data/keyaudit.duckdb)."),
]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out",
        metavar="DIR",
        help="Folder for this run's report files (default data/reports/RUN_ID).",
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="PATH",
        help="keyaudit.toml to use (default ./keyaudit.toml if present).",
    ),
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

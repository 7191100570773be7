"""`keyaudit remediate`: deactivate the due keys of an approved deactivation plan (a dry run
unless --apply)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from keyaudit.cli.common import ConfigOpt, Db, app, fail
from keyaudit.exits import KEY_NOT_DEACTIVATED, REMEDIATE_EXIT_CODES, exit_codes_help


@app.command(epilog=exit_codes_help(REMEDIATE_EXIT_CODES))
def remediate(
    run: Annotated[
        str, typer.Option("--run", metavar="RUN_ID", help="The run whose plan was approved.")
    ],
    approved: Annotated[
        Path,
        typer.Option(
            "--approved",
            metavar="PLAN_FILE",
            help='The run\'s remediation-plan.json with an "approval" added (approved_by, '
            "approved_on).",
        ),
    ],
    apply: Annotated[
        bool,
        typer.Option(
            "--apply", help="Deactivate the keys. Without it: a dry run that changes nothing."
        ),
    ] = False,
    config: ConfigOpt = None,
    db: Db = None,
) -> None:
    """Deactivate (set Inactive, never delete) the keys of an approved plan whose day has come.

    Each key is re-read first; one that changed since the plan (deleted, already inactive,
    rotated, used again) is skipped with the reason. A dry run (the default) prints what would be
    done and changes nothing; --apply calls iam:UpdateAccessKey through the [remediation] role
    and records every action and skip in the warehouse and the run's evidence
    (docs/remediation.md).

    Example: keyaudit remediate --run 20261201T060000Z-3f9a --approved approved-plan.json --apply
    """
    from keyaudit.config import load_config
    from keyaudit.model import KeyauditError
    from keyaudit.remediation.runner import run_remediation
    from keyaudit.textsafe import visible

    try:
        cfg = load_config(config, overrides={"paths": {"warehouse": str(db)}} if db else None)
        done = run_remediation(cfg, run, approved, apply=apply, now=lambda: datetime.now(UTC))
    except KeyauditError as exc:  # the configuration, the warehouse, the approved plan
        raise fail(str(exc)) from None
    mode = "applied" if done.applied else "dry run: nothing changed (--apply acts)"
    typer.echo(f"plan {done.plan_id} of run {done.run_id}, {mode}")
    for outcome in done.outcomes:
        typer.echo(f"  {visible(outcome.line())}")
    if done.record_path is not None:
        typer.echo(f"recorded in the warehouse and {done.record_path}")
    if done.failed:
        raise typer.Exit(KEY_NOT_DEACTIVATED)

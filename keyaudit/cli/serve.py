"""`keyaudit serve`: run the monthly-audit deployment of prefect.yaml from this machine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from keyaudit.cli.common import app, fail

NO_API = (
    "keyaudit serve needs a Prefect API server that keeps the schedule: start one with "
    "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api "
    "(or `prefect cloud login`)"
)


@app.command()
def serve(
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            metavar="ZONE",
            help="IANA timezone of the cron schedule, e.g. Europe/Berlin (default: prefect.yaml's).",
        ),
    ] = None,
    prefect_yaml: Annotated[
        Path | None,
        typer.Option(
            "--prefect-yaml", metavar="PATH", help="The deployment file (default: the checkout's)."
        ),
    ] = None,
    deployment: Annotated[
        str,
        typer.Option("--deployment", metavar="NAME", help="Which deployment of the file to serve."),
    ] = "monthly-audit",
) -> None:
    """Serve the monthly audit on its schedule from this machine, without a work pool.

    Registers the `monthly-audit` deployment of prefect.yaml (cron, parameters, description,
    one run at a time) with the Prefect server in PREFECT_API_URL and runs it here when it is
    due, until stopped (Ctrl-C). Start a run at once with
    `prefect deployment run keyaudit-audit/monthly-audit`.

    Example: PREFECT_API_URL=http://127.0.0.1:4200/api keyaudit serve --timezone Europe/Berlin
    """
    from keyaudit.config import ConfigError, load_config

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.settings import get_current_settings

    from keyaudit.flows.deployment import PREFECT_YAML, DeploymentFileError, load_spec

    try:
        spec = load_spec(prefect_yaml or PREFECT_YAML, deployment).with_timezone(timezone)
    except DeploymentFileError as exc:
        raise fail(str(exc)) from None
    config_file = spec.parameters.get("config_file")
    try:  # a broken configuration should stop serve now, not the run on the first of the month
        load_config(Path(config_file) if config_file else None)
    except ConfigError as exc:
        raise fail(f"{exc} (the deployment's config_file, read from {Path.cwd()})") from None
    if not get_current_settings().api.url:
        raise fail(NO_API)
    from prefect import serve as prefect_serve

    from keyaudit.flows.audit import audit_flow

    limit = (
        f", concurrency limit {spec.concurrency_limit} ({spec.collision_strategy})"
        if spec.concurrency_limit
        else ""
    )
    typer.echo(
        f"keyaudit: serving {audit_flow.name}/{spec.name}: cron {spec.cron!r} in {spec.timezone}, "
        f"parameters {spec.parameters}{limit}. Stop with Ctrl-C.",
        err=True,
    )
    # The RunnerDeployment `prefect deploy` would register, concurrency limit included
    # (Flow.serve names that argument differently: global_limit).
    prefect_serve(spec.to_deployment(audit_flow))

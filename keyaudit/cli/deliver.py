"""`keyaudit deliver`: send a past run's report again (S3 and e-mail, as [delivery] configures)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from keyaudit.cli.common import ConfigOpt, Db, app, fail
from keyaudit.exits import DELIVER_EXIT_CODES, DELIVERY_FAILED, exit_codes_help


@app.command(epilog=exit_codes_help(DELIVER_EXIT_CODES))
def deliver(
    run: Annotated[
        str, typer.Option("--run", metavar="RUN_ID", help="The run to send (`keyaudit runs`).")
    ],
    config: ConfigOpt = None,
    db: Db = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="The run's report folder (default data/reports/RUN_ID)."
        ),
    ] = None,
    view: Annotated[
        list[str] | None,
        typer.Option(
            "--view",
            metavar="NAME",
            help="Also upload this view's files (repeatable), by the name `keyaudit report` "
            "printed for it, e.g. pci-dss-v4.0.1. Without it no view is sent.",
        ),
    ] = None,
) -> None:
    """Send a past run's report again, to S3 and by e-mail as keyaudit.toml's delivery section
    says.

    Nothing is collected or evaluated again. The SMTP login comes from the environment variables
    the configuration names. The run's own report is what is sent: a view rendered into the run
    folder (keyaudit report --framework, --account) goes too only when named with --view.

    Example: SMTP_USERNAME=audit SMTP_PASSWORD=… keyaudit deliver --run 20261201T060000Z-3f9a1c
    """
    from keyaudit.config import ConfigError, load_config
    from keyaudit.delivery.dispatch import DeliveryError, prepare_delivery, send_delivery
    from keyaudit.delivery.tickets import deliver_tickets
    from keyaudit.rules.catalogue import CatalogueError, load_catalogue
    from keyaudit.warehouse.db import WarehouseError, connect

    try:
        cfg = load_config(config, overrides={"paths": {"warehouse": str(db)}} if db else None)
        rules = load_catalogue(cfg.rules)
        con = connect(cfg.paths.warehouse, read_only=True)
    except (ConfigError, CatalogueError, WarehouseError) as exc:
        raise fail(str(exc)) from None
    report_dir = out or cfg.paths.reports_dir / run
    try:
        plan = prepare_delivery(
            con,
            run,
            config=cfg,
            rules=rules,
            report_dir=report_dir,
            evidence_run_dir=cfg.paths.evidence_dir / run,
            views=view or (),
        )
    except (DeliveryError, ValueError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot complete the run folder {report_dir}: {exc}") from None
    finally:
        con.close()
    report = send_delivery(plan, cfg.delivery, now=datetime.now(UTC))
    deliver_tickets(cfg.paths.warehouse, run, cfg, report)  # only what was not posted before
    for line in report.lines():
        typer.echo(f"  {line}")
    for note in report.notes:
        typer.echo(f"  note    {note}")
    if not (cfg.delivery.s3.bucket or cfg.delivery.email.enabled or cfg.tickets.url):
        typer.echo(
            "  nothing else to send: set [delivery.s3] bucket or [delivery.email] smtp_host "
            "in keyaudit.toml"
        )
    problem = report.problem()
    if problem:
        raise fail(problem, code=DELIVERY_FAILED)

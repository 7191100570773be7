"""`keyaudit track`: record the ticket that covers a finding, for the report and the exports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from keyaudit.cli.common import ConfigOpt, Db, app, fail


@app.command()
def track(
    finding_id: Annotated[
        str, typer.Argument(metavar="FINDING_ID", help="The finding's id (report, findings.csv).")
    ],
    ticket: Annotated[
        str, typer.Argument(metavar="TICKET", help="The ticket's key, e.g. SEC-123.")
    ],
    config: ConfigOpt = None,
    db: Db = None,
) -> None:
    """Record the ticket that tracks a finding's fix; the report shows it beside the finding.

    The finding id is stable across runs, so the ticket stays with the finding in later runs'
    reports and in findings.tickets.csv. Tracking a finding again replaces its ticket.

    Example: keyaudit track 3f9a1c0d2e4b5a69 SEC-123
    """
    from keyaudit.config import ConfigError, load_config
    from keyaudit.delivery import tickets
    from keyaudit.warehouse.db import WarehouseError, connect

    try:
        cfg = load_config(config, overrides={"paths": {"warehouse": str(db)}} if db else None)
        if not cfg.paths.warehouse.exists():
            raise fail(f"warehouse {cfg.paths.warehouse} does not exist — run `keyaudit run` first")
        con = connect(cfg.paths.warehouse, storage_version=cfg.warehouse.storage_version)
    except (ConfigError, WarehouseError) as exc:
        raise fail(str(exc)) from None
    try:
        replaced = tickets.track(con, finding_id, ticket, now=datetime.now(UTC))
    except tickets.TrackError as exc:
        raise fail(str(exc)) from None
    finally:
        con.close()
    note = f" (was {replaced})" if replaced else ""
    typer.echo(f"finding {finding_id} is tracked by {ticket}{note}")

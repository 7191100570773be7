"""`keyaudit demo` and `keyaudit run`: the audit flow from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from keyaudit.cli.common import (
    SEVERITY_ORDER,
    AsOf,
    ConfigOpt,
    Db,
    Out,
    app,
    fail,
    parse_as_of,
    quiet_prefect,
    show_progress,
)


def _run_flow(
    source: str, config: Path | None, db: Path | None, out: Path | None, as_of: str | None
) -> None:
    from keyaudit.aws.errors import CollectionError
    from keyaudit.config import ConfigError, load_config
    from keyaudit.rules import CatalogueError
    from keyaudit.warehouse import WarehouseError

    parsed_as_of = parse_as_of(as_of)
    try:
        # Validate configuration and catalogue before Prefect starts or AWS is called.
        cfg = load_config(config, overrides={"paths": {"warehouse": str(db)}} if db else None)
        from keyaudit.rules import load_catalogue

        load_catalogue(cfg.rules)
    except (ConfigError, CatalogueError) as exc:
        raise fail(str(exc)) from None
    quiet_prefect()
    show_progress()
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
        raise fail(str(exc)) from None
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

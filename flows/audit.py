"""The monthly audit as a Prefect flow: discover → collect (one task per account) → load and
evaluate (one writer) → report. Tasks wire keyaudit library functions and pass small results."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

import keyaudit
from keyaudit.aws.credential_report import PollPolicy
from keyaudit.aws.organizations import Discovery, discover
from keyaudit.aws.session import AccountSessions
from keyaudit.collect import Clock, CollectSettings, collect_account
from keyaudit.config import Config, load_config
from keyaudit.evidence import EvidenceStore, make_private_dir
from keyaudit.load import RunSummary, load_run, write_run_file
from keyaudit.models import Account, AccountOutcome
from keyaudit.report import write_report
from keyaudit.rules import Rule, load_catalogue, parameters_in_force
from keyaudit.sources import open_source
from keyaudit.warehouse import connect

log = logging.getLogger("keyaudit.flow")


def new_run_id(started_at: datetime) -> str:
    """Sortable by start time and unique: 20261201T060000Z-3f9a1c."""
    return f"{started_at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _default_concurrency() -> int:
    try:
        return max(1, int(os.environ.get("KEYAUDIT_COLLECTION__CONCURRENCY", "8")))
    except ValueError:
        return 8


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(sessions: AccountSessions, config: Config) -> Discovery:
    """Find the accounts in scope."""
    return discover(sessions, config.discovery)


@task(name="collect", task_run_name="collect {account.account_id}", cache_policy=NO_CACHE)
def collect_task(
    account: Account,
    sessions: AccountSessions,
    store: EvidenceStore,
    is_caller_account: bool,
    settings: CollectSettings,
    clock: Clock,
) -> AccountOutcome:
    """Collect one account's credentials into the evidence store."""
    return collect_account(
        account,
        sessions=sessions,
        store=store,
        is_caller_account=is_caller_account,
        settings=settings,
        clock=clock,
    )


@task(name="load-and-report", cache_policy=NO_CACHE)
def load_and_report_task(
    store: EvidenceStore, warehouse: Path, out_dir: Path, rules: list[Rule], pdf_detail_limit: int
) -> dict[str, Any]:
    """The single writer: load the evidence, evaluate rules, render the report."""
    manifest_sha, _ = store.write_run_manifest()
    finished_at = datetime.now(UTC)
    con = connect(warehouse)
    try:
        summary = load_run(
            con, store, rules=rules, finished_at=finished_at, manifest_sha256=manifest_sha
        )
        files = write_report(con, summary.run_id, out_dir, rules=rules, generated_at=finished_at)
    finally:
        con.close()
    return {
        "summary": asdict(summary),
        "html": str(files.html.resolve()),
        "pdf": str(files.pdf.resolve()),
        "pdf_pages": files.pdf_pages,
    }


def prepare_outputs(config: Config, out_dir: Path) -> None:
    """Fail before any AWS call when an output folder cannot be written."""
    for folder in (config.paths.evidence_dir, config.paths.warehouse.parent, out_dir):
        try:
            make_private_dir(Path(folder))
            probe = Path(folder) / ".keyaudit-write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OSError(
                f"output folder {folder} is not writable ({exc.strerror}) — fix permissions or choose another path"
            ) from None


@flow(
    name="keyaudit-audit",
    task_runner=ThreadPoolTaskRunner(max_workers=_default_concurrency()),
    validate_parameters=True,
)
def audit_flow(
    source: str = "aws",
    config_file: str | None = None,
    as_of: datetime | None = None,
    db: str | None = None,
    out: str | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Audit every account in scope and write the warehouse run and the report."""
    overrides: dict[str, Any] = {"paths": {"warehouse": db}} if db else {}
    config = load_config(Path(config_file) if config_file else None, overrides=overrides)
    rules = load_catalogue(config.rules)
    started_at = datetime.now(UTC)
    as_of = (as_of or started_at.replace(microsecond=0)).astimezone(UTC)
    run_id = run_id or new_run_id(started_at)
    out_dir = Path(out) if out else config.paths.reports_dir / run_id
    prepare_outputs(config, out_dir)
    store = EvidenceStore(config.paths.evidence_dir, run_id)
    store.prepare()
    settings = CollectSettings(
        poll=PollPolicy(
            initial_delay=config.collection.report_poll_initial_seconds,
            max_delay=config.collection.report_poll_max_seconds,
            deadline_seconds=config.collection.report_deadline_seconds,
        ),
        with_last_used=config.collection.last_used == "api",
    )
    with open_source(source, config, run_id=run_id, as_of=as_of) as src:
        found = discover_task(src.sessions, config)
        write_run_file(store, _run_meta(run_id, source, started_at, as_of, config, rules, found))
        log.info(
            "run %s: %d accounts in scope (%s), %d skipped; collecting with concurrency %d",
            run_id,
            len(found.in_scope),
            found.scope,
            len(found.skipped),
            config.collection.concurrency,
        )
        futures: list[PrefectFuture[AccountOutcome]] = [
            collect_task.submit(
                account,
                src.sessions,
                store,
                account.account_id == found.caller_account_id,
                settings,
                src.clock,
            )
            for account in found.in_scope
        ]
        for future in futures:
            future.wait()
    result = load_and_report_task(
        store, config.paths.warehouse, out_dir, rules, config.report.pdf_detail_limit
    )
    result["warehouse"] = str(config.paths.warehouse.resolve())
    result["evidence"] = str(store.run_dir.resolve())
    return result


def _run_meta(
    run_id: str,
    source: str,
    started_at: datetime,
    as_of: datetime,
    config: Config,
    rules: list[Rule],
    found: Discovery,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "source": source,
        "started_at": started_at.isoformat(),
        "as_of": as_of.isoformat(),
        "scope": found.scope,
        "scope_note": found.note,
        "organization_id": found.organization_id,
        "management_account_id": found.management_account_id,
        "caller_arn": found.caller_arn,
        "caller_account_id": found.caller_account_id,
        "tool_version": keyaudit.__version__,
        "config_digest": config.digest(),
        "config": config.model_dump(mode="json"),
        "parameters": parameters_in_force(rules),
        "accounts": [a.to_dict() for a in found.in_scope],
        "skipped": [a.to_dict() for a in found.skipped],
        "unknown": found.unknown,
    }


def summary_of(result: dict[str, Any]) -> RunSummary:
    return RunSummary(**result["summary"])

"""The monthly audit as a Prefect flow: discover → collect (one task per account, on threads or
on Dask workers) → load and evaluate (one writer) → report → deliver. Tasks wire keyaudit library
functions and pass small results. The flow returns an AuditResult; it ends Failed, with its report
written and delivered, when coverage is below run.min_coverage or a delivery failed.

Prefect retries (`only_throttling_or_5xx`) sit on the tasks that call AWS and fire only for
throttling, 5xx and dropped connections, after botocore's own retries. In practice that is
discovery: collecting an account never raises — a throttled account ends as a not-assessed
outcome within its deadline, and `keyaudit run --resume` collects it again. Delivery retries
inside keyaudit.delivery.dispatch, per file and per message, so a retry never re-sends what went out."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import typing
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from flows import artifacts
from flows.scale import (
    AWS_RETRIES,
    AWS_RETRY_DELAYS,
    AWS_RETRY_JITTER,
    collect_on_dask,
    only_throttling_or_5xx,
)
from keyaudit.config import Config, load_config
from keyaudit.delivery.dispatch import DeliveryPlan, DeliveryReport, prepare_delivery, send_delivery
from keyaudit.evidence.resume import ResumePlan, plan_resume
from keyaudit.evidence.run_record import run_record
from keyaudit.evidence.runlock import RunLockedError, check_run_id, exclusive_run
from keyaudit.evidence.store import EvidenceStore, make_private_dir
from keyaudit.model import Account, AccountOutcome
from keyaudit.outcome import AuditResult, IncompleteRun, coverage_problem
from keyaudit.report import write_report
from keyaudit.rules.catalogue import Rule, load_catalogue
from keyaudit.rules.waivers import WaiverFile, load_waivers, write_waiver_evidence
from keyaudit.sources.aws.collect import Clock, CollectSettings, collect_account, collect_settings
from keyaudit.sources.aws.organizations import Discovery, discover
from keyaudit.sources.aws.session import AccountSessions
from keyaudit.sources.files import FilesCollection, collect_files
from keyaudit.sources.provider import Source, open_source
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.load import RunSummary, load_run, write_run_file

log = logging.getLogger("keyaudit.flow")
MIN_FREE_BYTES = 50 * 1024 * 1024  # below this a run would fail half-way through writing


def new_run_id(started_at: datetime) -> str:
    """Sortable by start time and unique: 20261201T060000Z-3f9a1c."""
    return f"{started_at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _default_concurrency() -> int:
    try:
        return max(1, int(os.environ.get("KEYAUDIT_COLLECTION__CONCURRENCY", "8")))
    except ValueError:
        return 8


@task(
    name="discover",
    cache_policy=NO_CACHE,
    retries=AWS_RETRIES,
    retry_delay_seconds=AWS_RETRY_DELAYS,
    retry_jitter_factor=AWS_RETRY_JITTER,
    retry_condition_fn=only_throttling_or_5xx,
)
def discover_task(sessions: AccountSessions, config: Config) -> Discovery:
    """Find the accounts in scope."""
    return discover(sessions, config.discovery)


@task(
    name="collect",
    task_run_name="collect {account.account_id}",
    cache_policy=NO_CACHE,
    retries=AWS_RETRIES,
    retry_delay_seconds=AWS_RETRY_DELAYS,
    retry_jitter_factor=AWS_RETRY_JITTER,
    retry_condition_fn=only_throttling_or_5xx,
)
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


@task(name="read-files", cache_policy=NO_CACHE)
def read_files_task(files_dir: str | None, store: EvidenceStore) -> FilesCollection:
    """Read a folder of credential reports into the evidence store (source "files")."""
    return collect_files(files_dir, store)


@task(name="load-and-report", cache_policy=NO_CACHE)
def load_and_report_task(
    store: EvidenceStore,
    warehouse: Path,
    out_dir: Path,
    rules: list[Rule],
    pdf_detail_limit: int,
    waivers: WaiverFile | None = None,
    pdf_rows_per_account: int = 25,
    paper: str = "A4",
) -> dict[str, Any]:
    """The single writer: load the evidence, evaluate rules, render the report."""
    manifest_sha, _ = store.write_run_manifest()
    finished_at = datetime.now(UTC)
    con = connect(warehouse)
    try:
        summary = load_run(
            con,
            store,
            rules=rules,
            finished_at=finished_at,
            manifest_sha256=manifest_sha,
            waivers=waivers,
        )
        files = write_report(
            con,
            summary.run_id,
            out_dir,
            rules=rules,
            generated_at=finished_at,
            pdf_detail_limit=pdf_detail_limit,
            pdf_rows_per_account=pdf_rows_per_account,
            paper=paper,
        )
    finally:
        con.close()
    return {
        "summary": asdict(summary),
        "html": str(files.html.resolve()) if files.html else None,
        "pdf": str(files.pdf.resolve()) if files.pdf else None,
        "pdf_pages": files.pdf_pages,
        "outputs": {fmt: str(path.resolve()) for fmt, path in files.paths().items()},
    }


@task(name="prepare-delivery", cache_policy=NO_CACHE)
def prepare_delivery_task(
    config: Config, run_id: str, rules: list[Rule], out_dir: Path, evidence_run_dir: Path
) -> DeliveryPlan:
    """Complete the run folder (evidence manifest, per-owner reports) from the warehouse."""
    con = connect(config.paths.warehouse, read_only=True)
    try:
        return prepare_delivery(
            con,
            run_id,
            config=config,
            rules=rules,
            report_dir=out_dir,
            evidence_run_dir=evidence_run_dir,
        )
    finally:
        con.close()


@task(name="deliver", cache_policy=NO_CACHE)
def deliver_task(plan: DeliveryPlan, config: Config) -> DeliveryReport:
    """Upload to S3 and send the e-mails, each retried on its own; failures are reported."""
    return send_delivery(plan, config.delivery)


def prepare_outputs(config: Config, out_dir: Path) -> None:
    """Fail before any AWS call when an output folder cannot be written or its disk is full."""
    for folder in (config.paths.evidence_dir, config.paths.warehouse.parent, out_dir):
        try:
            make_private_dir(Path(folder))
            probe = Path(folder) / ".keyaudit-write-test"
            probe.write_bytes(b"")
            probe.unlink()
            free = shutil.disk_usage(folder).free
        except OSError as exc:
            raise OSError(
                f"output folder {folder} is not writable ({exc.strerror}) — fix permissions or choose another path"
            ) from None
        if free < MIN_FREE_BYTES:
            raise OSError(
                f"output folder {folder} has only {free / 2**20:.1f} MiB free; a run needs at "
                f"least {MIN_FREE_BYTES // 2**20} MiB — free some space or choose another path"
            )


def _source_for(
    plan: ResumePlan | None, source: str, config: Config, run_id: str, as_of: datetime
) -> AbstractContextManager[Source]:
    """The run's AWS (or simulated) source; a resumed run with nothing left to collect gets one
    that refuses to make sessions, so it cannot call AWS."""
    if plan is not None and not plan.pending:
        return nullcontext(Source(plan.source, _no_aws, Clock()))
    served = config.run.task_runner == "dask"  # the demo must be reachable from the workers
    return open_source(source, config, run_id=run_id, as_of=as_of, served=served)


def _no_aws() -> AccountSessions:
    raise RuntimeError("a resumed run with nothing left to collect makes no AWS call")


def refuse_existing_evidence(store: EvidenceStore) -> None:
    """A new run never writes into another run's evidence."""
    if store.run_dir.exists() and any(store.run_dir.iterdir()):
        raise RunLockedError(
            f"run {store.run_id} already has evidence in {store.run_dir} — resume it with "
            f"`keyaudit run --resume {store.run_id}`, or start a new run"
        )


@flow(
    name="keyaudit-audit",
    # Prefect types an unparameterised ThreadPoolTaskRunner as TaskRunner[Never]
    task_runner=ThreadPoolTaskRunner(max_workers=_default_concurrency()),  # type: ignore[arg-type]
    validate_parameters=True,
)
def audit_flow(
    source: Literal["aws", "demo", "files"] = "aws",
    config_file: str | None = None,
    as_of: datetime | None = None,
    db: str | None = None,
    out: str | None = None,
    run_id: str | None = None,
    files_dir: str | None = None,
    resume: str | None = None,
) -> AuditResult | State[Any]:
    """Audit every account in scope, write the warehouse run and the report, and deliver it.

    source "files" audits the credential reports in `files_dir` instead of calling AWS.
    `resume=RUN_ID` finishes an interrupted run from its evidence (see keyaudit.evidence.resume): it keeps
    the run's recorded source, as_of and rule settings and collects only unfinished accounts."""
    overrides: dict[str, Any] = {"paths": {"warehouse": db}} if db else {}
    config = load_config(Path(config_file) if config_file else None, overrides=overrides)
    rules = load_catalogue(config.rules)
    waivers = load_waivers(config.waivers_file, rules) if config.waivers_file else None
    started_at = datetime.now(UTC)
    as_of = (as_of or started_at.replace(microsecond=0)).astimezone(UTC)
    run_id = check_run_id(resume or run_id or new_run_id(started_at))
    plan = plan_resume(config, run_id) if resume else None
    if plan is not None:  # a resumed run keeps its recorded source, instant and rule settings
        source, config, as_of = plan.source, plan.config, plan.as_of
        rules = load_catalogue(config.rules)
        waivers = None  # a resumed run applies the waiver file kept in its evidence
    out_dir = Path(out) if out else config.paths.reports_dir / run_id
    prepare_outputs(config, out_dir)
    store = EvidenceStore(config.paths.evidence_dir, run_id)
    settings = collect_settings(config.collection)
    with exclusive_run(config.paths.warehouse, store, started_at):
        if plan is None:
            refuse_existing_evidence(store)
        store.prepare()
        if waivers is not None:
            write_waiver_evidence(store, waivers)
        with _source_for(plan, source, config, run_id, as_of) as src:
            if plan is None:
                files = read_files_task(files_dir, store) if source == "files" else None
                found = (
                    files.discovery() if files is not None else discover_task(src.sessions, config)
                )
                meta = run_record(
                    run_id,
                    source=source,
                    started_at=started_at,
                    as_of=as_of,
                    config=config,
                    rules=rules,
                    found=found,
                )
                write_run_file(store, {**meta, **(files.run_meta() if files is not None else {})})
                pending = found.in_scope if files is None else []  # files: read above
            else:
                found, pending = plan.discovery, plan.pending
            log.info(
                "run %s: %d accounts in scope (%s), %d skipped; collecting %d with concurrency %d",
                run_id,
                len(found.in_scope),
                found.scope,
                len(found.skipped),
                len(pending),
                config.collection.concurrency,
            )
            if config.run.task_runner == "dask":
                if pending:
                    collect_on_dask(
                        pending, src.remote, store, found.caller_account_id, settings, config.run
                    )
            else:
                futures: list[PrefectFuture[AccountOutcome]] = [
                    collect_task.submit(
                        account,
                        src.sessions,
                        store,
                        account.account_id == found.caller_account_id,
                        settings,
                        src.clock,
                    )
                    for account in pending
                ]
                for future in futures:
                    future.wait()
        result = load_and_report_task(
            store,
            config.paths.warehouse,
            out_dir,
            rules,
            config.report.pdf_detail_limit,
            waivers,
            pdf_rows_per_account=config.report.pdf_rows_per_account,
            paper=config.report.paper,
        )
        delivery_plan = prepare_delivery_task(config, run_id, rules, out_dir, store.run_dir)
    delivery = deliver_task(delivery_plan, config)
    summary = RunSummary(**result["summary"])
    outcome = AuditResult(
        summary=summary,
        min_coverage=config.run.min_coverage,
        html=result["html"],
        pdf=result["pdf"],
        pdf_pages=result["pdf_pages"],
        outputs=result["outputs"],
        report_dir=str(out_dir.resolve()),
        warehouse=str(config.paths.warehouse.resolve()),
        evidence=str(store.run_dir.resolve()),
        delivery=delivery.to_dict(),
        coverage_problem=coverage_problem(summary, config.run.min_coverage, result["html"]),
        delivery_problem=delivery.problem(),
    )
    artifacts.publish(delivery_plan.digest, outcome)
    if outcome.problems:  # a Failed state, not a raise: the run's end is no traceback
        error = IncompleteRun(outcome)
        return Failed(message=str(error), data=error)
    return outcome


# `flow.serve` runs pickle the flow function by value, and its copy of the module's globals
# keeps only names the code uses: pydantic could no longer resolve annotation-only names such as
# Literal when it validates the parameters. Resolved annotations travel with the function.
audit_flow.fn.__annotations__ = typing.get_type_hints(audit_flow.fn)

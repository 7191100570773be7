"""The audit as steps, and the one function that runs them in order.

plan → discover → service control policies (once per run) → collect (once per account) → load
and evaluate → report → prepare delivery → deliver. Each step is a plain function over typed
inputs and outputs. `run_audit` runs them in that order through a `Steps` object, which says how
a step is called and how the per-account step is mapped: `LocalSteps` calls them in this process
and maps collection on a thread pool; the Prefect flow (flows/audit.py) makes each step a task.
Nothing else runs the audit.

Heavy parts (pandas, DuckDB, WeasyPrint, moto) are imported by the steps that use them, so a
command that never reaches them never pays for them.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from keyaudit.config import Config, RunConfig, load_config
from keyaudit.evidence.runlock import RunLockedError, check_run_id, exclusive_run
from keyaudit.evidence.store import EvidenceStore
from keyaudit.model import (
    Account,
    AccountOutcome,
    Clock,
    KeyauditError,
    SourceName,
    utc_instant,
)
from keyaudit.outcome import AuditResult, coverage_problem
from keyaudit.safefile import check_can_create, make_private_dirs, remove_empty

if TYPE_CHECKING:
    from keyaudit.delivery.dispatch import DeliveryPlan, DeliveryReport
    from keyaudit.evidence.signing import ManifestSignature
    from keyaudit.integrity.resume import ResumePlan
    from keyaudit.model import Discovery
    from keyaudit.report.digest import RunDigest
    from keyaudit.rules.catalogue import Rule
    from keyaudit.rules.waivers import WaiverFile
    from keyaudit.sources.aws.collect import CollectSettings
    from keyaudit.sources.aws.scps import ScpOutcome
    from keyaudit.sources.aws.session import AccountSessions
    from keyaudit.sources.files import FilesCollection
    from keyaudit.sources.provider import Source
    from keyaudit.warehouse.load import RunSummary

log = logging.getLogger("keyaudit.run")
T = TypeVar("T")
MIN_FREE_BYTES = 50 * 1024 * 1024  # below this a run would fail half-way through writing


@dataclass(frozen=True)
class AuditRequest:
    """What the caller asks for: the CLI's flags and the flow's parameters, one to one."""

    source: SourceName = "aws"
    config_file: Path | None = None
    as_of: datetime | None = None
    db: Path | None = None
    out: Path | None = None
    run_id: str | None = None
    files_dir: Path | None = None
    resume: str | None = None


@dataclass(frozen=True)
class RunPlan:
    """Everything decided before the run touches AWS or the warehouse."""

    run_id: str
    source: SourceName
    config: Config
    rules: list[Rule]
    waivers: WaiverFile | None
    started_at: datetime
    as_of: datetime
    out_dir: Path
    store: EvidenceStore
    files_dir: Path | None = None
    resume: ResumePlan | None = None
    created_dirs: tuple[Path, ...] = ()  # output folders this run made (prepare_outputs)
    # the demo's simulated organization is built at this instant (keyaudit.warehouse.demo_anchor)
    demo_anchor: datetime | None = None


@dataclass(frozen=True)
class Scope:
    """The accounts a run covers and those it still has to collect."""

    found: Discovery
    pending: list[Account]


@dataclass(frozen=True)
class CollectJob:
    """What collecting one account needs; the same for every account of the run."""

    store: EvidenceStore
    source: Source
    caller_account_id: str | None
    settings: CollectSettings
    concurrency: int
    run: RunConfig

    def collect(self, account: Account) -> AccountOutcome:
        from keyaudit.sources.aws.collect import collect_account

        return collect_account(
            account,
            sessions=self.source.sessions,
            store=self.store,
            is_caller_account=account.account_id == self.caller_account_id,
            settings=self.settings,
            clock=self.source.clock,
        )


@dataclass(frozen=True)
class ReportOutputs:
    """The files the report step wrote, as resolved paths (small, JSON-ready)."""

    html: str | None
    pdf: str | None
    pdf_pages: int | None
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Finished:
    """A finished run: its result, and its digest (what the flow's artifacts show)."""

    result: AuditResult
    digest: RunDigest


class Steps(Protocol):
    """How the pipeline's steps are called and how the per-account step is mapped. A step is
    named by its function, one of `STEPS`; anything else is refused (`step_name`)."""

    def run(self, fn: Callable[..., T], *args: Any) -> T: ...

    def collect(self, job: CollectJob, accounts: Sequence[Account]) -> list[AccountOutcome]: ...


class LocalSteps:
    """In this process: steps are plain calls, accounts are collected on a thread pool."""

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        step_name(fn)  # refuse what is not a step, here as under Prefect
        return fn(*args)

    def collect(self, job: CollectJob, accounts: Sequence[Account]) -> list[AccountOutcome]:
        if not accounts:
            return []
        with ThreadPoolExecutor(max_workers=job.concurrency, thread_name_prefix="collect") as pool:
            return list(pool.map(job.collect, accounts))


def new_run_id(started_at: datetime, token: str | None = None) -> str:
    """Sortable by start time and unique: 20261201T060000Z-3f9a1c."""
    return (
        f"{started_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}-{token or secrets.token_hex(3)}"
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- plan


class Settings(NamedTuple):
    """What a run reads from its files before it starts: the configuration (keyaudit.toml, the
    KEYAUDIT_* environment and the --db flag), the rule catalogue and the waivers. Read once by
    `load_settings` and handed on, so the check, the plan and the command that asked for the run
    all work from the same reading."""

    config: Config
    rules: list[Rule]
    waivers: WaiverFile | None


def load_settings(request: AuditRequest) -> Settings:
    """Configuration, rule catalogue and waivers, validated before anything else happens."""
    from keyaudit.rules.catalogue import load_catalogue
    from keyaudit.rules.waivers import load_waivers

    overrides: dict[str, Any] = {"paths": {"warehouse": str(request.db)}} if request.db else {}
    config = load_config(request.config_file, overrides=overrides)
    rules = load_catalogue(config.rules)
    # a resumed run applies the waiver file kept in its evidence
    waivers = (
        load_waivers(config.waivers_file, rules)
        if config.waivers_file and not request.resume
        else None
    )
    return Settings(config, rules, waivers)


def check_request(request: AuditRequest, settings: Settings | None = None) -> str:
    """Refuse a request that cannot run, before any folder is made, in this order: settings,
    output folders, warehouse, input files or the run to resume, then who calls AWS
    (sts:GetCallerIdentity, within seconds). Say what the run will do. `settings` is what
    `load_settings(request)` returned, when the caller has read them already."""
    from keyaudit.integrity.resume import check_evidence, plan_resume
    from keyaudit.sources.files import check_folder
    from keyaudit.warehouse.db import check_warehouse

    config = (settings or load_settings(request)).config
    check_outputs(config, request.out or config.paths.reports_dir)
    check_warehouse(config.paths.warehouse)  # a wrong --db fails now, not after collecting
    if request.source == "files":
        check_folder(request.files_dir, config.files.max_file_bytes)
    if request.resume:
        recorded = plan_resume(config, request.resume)
        check_evidence(config, recorded)
        if recorded.source == "aws" and recorded.pending:
            check_caller(config)
        check_signer(config)
        return f"resuming run {request.resume} ({recorded.source}) from its evidence"
    if request.source == "aws":
        check_caller(config)
    if request.source == "demo":  # an as_of before the warehouse's simulated organization
        from keyaudit.warehouse.demo_anchor import demo_anchor

        demo_anchor(config.paths.warehouse, utc_instant(request.as_of or utc_now()))
    check_signer(config)
    return f"auditing ({request.source})"


def check_signer(config: Config) -> None:
    """The key that will sign the run's manifest ([signing]) is usable: a key file owner-only
    and no link, a KMS key that exists and signs (kms:GetPublicKey), refused in one line now,
    not after collecting."""
    from keyaudit.sources.aws.kms import signer_for
    from keyaudit.sources.provider import session_settings

    signer_for(config, session_settings(config, "check"))


def check_caller(config: Config) -> dict[str, Any]:
    """sts:GetCallerIdentity with the run's AWS settings: missing or expired credentials, an
    unknown AWS_PROFILE or an endpoint nothing answers on stop the run here, in one line."""
    from keyaudit.sources.aws.session import AccountSessions
    from keyaudit.sources.provider import session_settings

    return AccountSessions(settings=session_settings(config, "check")).caller_identity()


def plan_run(
    request: AuditRequest,
    *,
    now: Callable[[], datetime] = utc_now,
    settings: Settings | None = None,
) -> RunPlan:
    """Settings (read here unless the caller passes what it read), run id, instant and output
    folders; fails before any AWS call."""
    from keyaudit.integrity.resume import plan_resume
    from keyaudit.rules.catalogue import load_catalogue

    config, rules, waivers = settings or load_settings(request)
    if config.signing.key_file is not None:  # no AWS call here: a KMS key is checked later
        from keyaudit.evidence.signing import KeyFileSigner

        KeyFileSigner(config.signing.key_file)
    started_at = now()
    as_of = utc_instant(request.as_of or started_at.replace(microsecond=0))
    run_id = check_run_id(request.resume or request.run_id or new_run_id(started_at))
    source = request.source
    resume = plan_resume(config, run_id) if request.resume else None
    if resume is not None:  # a resumed run keeps its recorded source, instant and rule settings
        source, config, as_of = resume.source, resume.config, resume.as_of
        rules = load_catalogue(config.rules)
    anchor = None
    if source == "demo":  # the same simulated keys in every demo run of the warehouse
        from keyaudit.warehouse.demo_anchor import demo_anchor

        anchor = demo_anchor(config.paths.warehouse, as_of)
    out_dir = request.out or config.paths.reports_dir / run_id
    created = prepare_outputs(config, out_dir)
    return RunPlan(
        run_id=run_id,
        source=source,
        config=config,
        rules=rules,
        waivers=waivers,
        started_at=started_at,
        as_of=as_of,
        out_dir=out_dir,
        store=EvidenceStore(config.paths.evidence_dir, run_id),
        files_dir=request.files_dir,
        resume=resume,
        created_dirs=created,
        demo_anchor=anchor,
    )


class OutputFolderError(KeyauditError, OSError):
    """An output folder cannot be made or written, or its disk is (nearly) full."""


def _unwritable(folder: Path | str, why: str | None) -> OutputFolderError:
    return OutputFolderError(
        f"output folder {folder} is not writable ({why}) — fix permissions or choose another path"
    )


def _check_free(folder: Path | str, free: int) -> None:
    if free < MIN_FREE_BYTES:
        raise OutputFolderError(
            f"output folder {folder} has only {free / 2**20:.1f} MiB free; a run needs at "
            f"least {MIN_FREE_BYTES // 2**20} MiB — free some space or choose another path"
        )


def output_folders(config: Config, out_dir: Path) -> tuple[Path, ...]:
    return (Path(config.paths.evidence_dir), Path(config.paths.warehouse).parent, Path(out_dir))


def check_outputs(config: Config, out_dir: Path) -> None:
    """`prepare_outputs` without making anything: each folder, or the nearest folder above it
    that exists, must be a writable folder on a disk with room for a run."""
    for folder in output_folders(config, out_dir):
        existing = next(p for p in (folder.absolute(), *folder.absolute().parents) if p.exists())
        if not existing.is_dir():
            raise _unwritable(folder, f"{existing} is not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise _unwritable(folder, f"{existing}: permission denied")
        try:
            free = shutil.disk_usage(existing).free
        except OSError as exc:
            raise _unwritable(folder, exc.strerror) from None
        _check_free(folder, free)


def prepare_outputs(config: Config, out_dir: Path) -> tuple[Path, ...]:
    """Fail before any AWS call when an output folder cannot be written or its disk is full, or
    when another user can write in the warehouse's folder; return the folders made here (a
    refused run removes them again if still empty)."""
    from keyaudit.warehouse.db import check_folder

    created: list[Path] = []
    try:
        for folder in output_folders(config, out_dir):
            try:
                created += make_private_dirs(folder)
                check_can_create(folder)
                free = shutil.disk_usage(folder).free
            except OSError as exc:
                raise _unwritable(folder, exc.strerror) from None
            _check_free(folder, free)
        check_folder(Path(config.paths.warehouse))  # DuckDB writes there by name
    except BaseException:
        remove_empty(created)
        raise
    return tuple(created)


@contextmanager
def leave_nothing_empty(plan: RunPlan) -> Iterator[None]:
    """A run that fails removes the folders it made that are still empty (an --out it made
    before being refused), and nothing else."""
    try:
        yield
    except BaseException:
        remove_empty(plan.created_dirs)
        raise


def refuse_existing_evidence(store: EvidenceStore) -> None:
    """A new run never writes into another run's evidence."""
    if store.run_dir.exists() and any(store.run_dir.iterdir()):
        raise RunLockedError(
            f"run {store.run_id} already has evidence in {store.run_dir} — resume it with "
            f"`keyaudit run --resume {store.run_id}`, or start a new run"
        )


def open_run_source(plan: RunPlan) -> AbstractContextManager[Source]:
    """The run's AWS (or simulated) source; a resumed run with nothing left to collect gets one
    that refuses to make sessions, so it cannot call AWS."""
    from keyaudit.sources.provider import Source, open_source

    if plan.resume is not None and not plan.resume.pending:
        return nullcontext(Source(plan.resume.source, _no_aws, Clock()))
    served = plan.config.run.task_runner == "dask"  # the demo must be reachable from workers
    return open_source(
        plan.source,
        plan.config,
        run_id=plan.run_id,
        as_of=plan.as_of,
        served=served,
        demo_anchor=plan.demo_anchor,
    )


def _no_aws() -> AccountSessions:
    raise RuntimeError("a resumed run with nothing left to collect makes no AWS call")


# --------------------------------------------------------------------------- steps


def read_files(plan: RunPlan) -> FilesCollection:
    """Source "files": the folder of credential reports becomes the run's evidence."""
    from keyaudit.sources.files import collect_files

    return collect_files(plan.files_dir, plan.store, plan.config.files.max_file_bytes)


def discover_accounts(plan: RunPlan, source: Source) -> Discovery:
    """The accounts in scope, from Organizations, a static list or the caller's own."""
    from keyaudit.sources.aws.organizations import discover

    return discover(source.sessions, plan.config.discovery)


def record_scope(plan: RunPlan, found: Discovery, files: FilesCollection | None) -> None:
    """run.json: what the run covers and how it was configured, written before collecting."""
    from keyaudit.evidence.run_record import run_record, write_run_file

    meta = run_record(
        plan.run_id,
        source=plan.source,
        started_at=plan.started_at,
        as_of=plan.as_of,
        config=plan.config,
        rules=plan.rules,
        found=found,
    )
    write_run_file(plan.store, {**meta, **(files.run_meta() if files is not None else {})})


def record_calls(plan: RunPlan, source: Source) -> None:
    """run.json gets the AWS calls the run made for itself (discovery, SCPs), added to what an
    interrupted run recorded; each account's calls are already in its collection.json."""
    from keyaudit.evidence.run_record import read_run_file, with_api_calls, write_run_file

    meta, calls = read_run_file(plan.store), source.run_calls()
    if calls or "api_calls" not in meta:  # a resume that called nothing leaves run.json as it is
        write_run_file(plan.store, with_api_calls(meta, calls))


def collect_scps(plan: RunPlan, source: Source, found: Discovery) -> ScpOutcome:
    """The organization's service control policies and their attachments, once per run, into
    the run's evidence (service_control_policies.json). A denied or failing call is recorded
    there, not raised: the accounts are collected all the same."""
    from keyaudit.sources.aws.scps import collect_scps as collect

    outcome = collect(
        lambda: source.sessions.base_client("organizations"),
        found,
        plan.store,
        enabled=plan.config.collection.scps,
    )
    if outcome.error:
        log.warning("run %s: service control policies not read: %s", plan.run_id, outcome.error)
    return outcome


def has_scps(plan: RunPlan) -> bool:
    from keyaudit.evidence.scps import SCP_FILE

    return (plan.store.run_dir / SCP_FILE).exists()


def collect_job(plan: RunPlan, source: Source, found: Discovery) -> CollectJob:
    from keyaudit.sources.aws.collect import collect_settings

    return CollectJob(
        store=plan.store,
        source=source,
        caller_account_id=found.caller_account_id,
        settings=collect_settings(plan.config.collection),
        concurrency=plan.config.collection.concurrency,
        run=plan.config.run,
    )


def load_and_evaluate(plan: RunPlan, finished_at: datetime) -> RunSummary:
    """The single warehouse writer: seal the evidence (manifest, signature), load it, evaluate
    the rules. A resume checks the saved evidence once more first and keeps the run manifest's
    entries."""
    from keyaudit.warehouse.db import connect
    from keyaudit.warehouse.load import load_run

    if plan.resume is not None:  # nothing saved changed while the resume collected
        from keyaudit.integrity.resume import check_evidence

        check_evidence(plan.config, plan.resume)
    log.info(  # the wait after the last account's line: say what it is
        "run %s: loading the evidence into %s and evaluating the rules …",
        plan.run_id,
        plan.config.paths.warehouse,
    )
    manifest_sha, _ = plan.store.write_run_manifest(keep=plan.resume is not None)
    signature = sign_run_manifest(plan, manifest_sha, finished_at)
    con = connect(
        plan.config.paths.warehouse, storage_version=plan.config.warehouse.storage_version
    )
    try:
        return load_run(
            con,
            plan.store,
            rules=plan.rules,
            finished_at=finished_at,
            manifest_sha256=manifest_sha,
            waivers=plan.waivers,
            signature=signature,
            waiver_review_days=plan.config.waivers.review_days,
            remediation=plan.config.remediation,
        )
    finally:
        con.close()


def sign_run_manifest(
    plan: RunPlan, manifest_sha256: str, signed_at: datetime
) -> ManifestSignature | None:
    """manifest.sig.json: the run manifest signed with the `[signing]` key; None (and no
    signature file left from an earlier attempt) when runs are not signed."""
    from keyaudit.evidence.signing import SIGNATURE_FILE, sign_manifest
    from keyaudit.sources.aws.kms import signer_for
    from keyaudit.sources.provider import session_settings

    signer = signer_for(plan.config, session_settings(plan.config, plan.run_id))
    if signer is None:
        (plan.store.run_dir / SIGNATURE_FILE).unlink(missing_ok=True)
        return None
    signed = sign_manifest(plan.store.run_dir, plan.run_id, manifest_sha256, signer, signed_at)
    log.info(
        "run %s: manifest signed (%s, public key SHA-256 %s)",
        plan.run_id,
        signed.algorithm,
        signed.public_key_sha256,
    )
    return signed


def write_report(plan: RunPlan, generated_at: datetime) -> ReportOutputs:
    """SHA256SUMS in the evidence folder, then HTML, PDF (embedding it), the exports and the
    deactivation plan files of the run, from the warehouse."""
    from keyaudit.report.remediation import write_plan_files
    from keyaudit.report.render import write_report as render_report
    from keyaudit.warehouse.db import connect

    report = plan.config.report
    log.info("run %s: writing the report (HTML, PDF, exports) to %s …", plan.run_id, plan.out_dir)
    con = connect(plan.config.paths.warehouse, read_only=True)
    try:
        write_evidence_sums(con, plan.run_id, plan.store.run_dir)
        files = render_report(
            con,
            plan.run_id,
            plan.out_dir,
            rules=plan.rules,
            generated_at=generated_at,
            pdf_detail_limit=report.pdf_detail_limit,
            pdf_rows_per_account=report.pdf_rows_per_account,
            paper=report.paper,
            evidence_dir=plan.store.run_dir,
        )
        plan_csv, plan_json = write_plan_files(con, plan.run_id, plan.out_dir)
    finally:
        con.close()
    outputs = {fmt: str(path.resolve()) for fmt, path in files.paths().items()}
    outputs.update({"plan csv": str(plan_csv.resolve()), "plan json": str(plan_json.resolve())})
    return ReportOutputs(
        html=str(files.html.resolve()) if files.html else None,
        pdf=str(files.pdf.resolve()) if files.pdf else None,
        pdf_pages=files.pdf_pages,
        outputs=outputs,
    )


def write_evidence_sums(con: Any, run_id: str, run_dir: Path) -> Path | None:
    """SHA256SUMS in the run's evidence folder, from what the warehouse loaded (every evidence
    file and the run manifest): `sha256sum -c SHA256SUMS` there checks the evidence. None when
    the folder is not on this machine (a report re-rendered elsewhere). report.pdf embeds the same
    text, from the same rows and function."""
    from keyaudit.evidence.sums import evidence_sums_text, write_sha256sums
    from keyaudit.report.queries import rows

    if not run_dir.is_dir():
        return None
    files = rows(con, "evidence_files", {"run_id": run_id, "account_ids": None})
    manifest = rows(con, "run", {"run_id": run_id})[0]["manifest_sha256"]
    return write_sha256sums(run_dir, evidence_sums_text(files, manifest))


def prepare_delivery(plan: RunPlan) -> DeliveryPlan:
    """Complete the run folder (evidence manifest, per-owner reports) from the warehouse."""
    from keyaudit.delivery.dispatch import prepare_delivery as prepare
    from keyaudit.warehouse.db import connect

    con = connect(plan.config.paths.warehouse, read_only=True)
    try:
        return prepare(
            con,
            plan.run_id,
            config=plan.config,
            rules=plan.rules,
            report_dir=plan.out_dir,
            evidence_run_dir=plan.store.run_dir,
        )
    finally:
        con.close()


def deliver(plan: RunPlan, delivery: DeliveryPlan) -> DeliveryReport:
    """Upload to S3, send the e-mails and post the ticket events, each retried on its own;
    failures are reported."""
    from keyaudit.delivery.dispatch import send_delivery
    from keyaudit.delivery.tickets import deliver_tickets

    report = send_delivery(delivery, plan.config.delivery, now=utc_now())
    deliver_tickets(plan.config.paths.warehouse, plan.run_id, plan.config, report)
    return report


def audit_result(
    plan: RunPlan, summary: RunSummary, report: ReportOutputs, delivery: DeliveryReport
) -> AuditResult:
    """The run's result, with what makes it unacceptable (low coverage, failed delivery)."""
    return AuditResult(
        summary=summary,
        min_coverage=plan.config.run.min_coverage,
        html=report.html,
        pdf=report.pdf,
        pdf_pages=report.pdf_pages,
        outputs=report.outputs,
        report_dir=str(plan.out_dir.resolve()),
        warehouse=str(plan.config.paths.warehouse.resolve()),
        evidence=str(plan.store.run_dir.resolve()),
        delivery=delivery.to_dict(),
        coverage_problem=coverage_problem(summary, plan.config.run.min_coverage, report.html),
        delivery_problem=delivery.problem(),
    )


# --------------------------------------------------------------------------- the pipeline


class UnknownStepError(LookupError):
    """`Steps.run` was given a function that is not one of the pipeline's steps."""


# The steps `run_audit` hands to `Steps.run`, keyed by function, with the name a run shows for
# each (the Prefect task's). The flow keys its tasks by these functions: a step missing here or
# there is refused by name, never run without its task and retries.
STEPS: dict[Callable[..., Any], str] = {
    read_files: "read-files",
    discover_accounts: "discover",
    collect_scps: "scps",
    load_and_evaluate: "load",
    write_report: "report",
    prepare_delivery: "prepare-delivery",
    deliver: "deliver",
}


def step_name(fn: Callable[..., Any]) -> str:
    """The name of pipeline step `fn`; an `UnknownStepError` naming it when it is none."""
    name = STEPS.get(fn)
    if name is None:
        raise UnknownStepError(
            f"{getattr(fn, '__qualname__', fn)!s} is not a step of keyaudit.pipeline — add it "
            "to pipeline.STEPS, and give it a task in flows/audit.py"
        )
    return name


SourceOpener = Callable[[RunPlan], AbstractContextManager["Source"]]


def run_audit(
    request: AuditRequest,
    *,
    steps: Steps | None = None,
    now: Callable[[], datetime] = utc_now,
    open_source: SourceOpener = open_run_source,
    settings: Settings | None = None,
) -> Finished:
    """Run the audit: every step in order, through `steps` (this process by default).

    `open_source` gives the run its AWS sessions and clock from its plan (`open_run_source`: real
    AWS or the demo). It is the one seam for callers that bring their own: the test suite's fault
    matrix passes a simulated organization with injected faults and virtual time. `settings`: what
    the caller read with `load_settings(request)` (the CLI, which checked the request with them),
    so a run reads its configuration once."""
    from keyaudit.report import beside

    steps = steps or LocalSteps()
    plan = plan_run(request, now=now, settings=settings)
    with (
        leave_nothing_empty(plan),
        exclusive_run(plan.config.paths.warehouse, plan.store, plan.started_at),
    ):
        if plan.resume is None:
            refuse_existing_evidence(plan.store)
        else:
            from keyaudit.integrity.resume import check_evidence

            check_evidence(plan.config, plan.resume)  # before it collects or loads anything
        plan.store.prepare()
        if plan.waivers is not None:
            from keyaudit.evidence.kept_waivers import write_waiver_evidence

            write_waiver_evidence(plan.store, plan.waivers)
        with open_source(plan) as source:
            scope = _scope(plan, source, steps)
            log.info(
                "run %s: %d accounts in scope (%s), %d skipped; collecting %d with concurrency %d",
                plan.run_id,
                len(scope.found.in_scope),
                scope.found.scope,
                len(scope.found.skipped),
                len(scope.pending),
                plan.config.collection.concurrency,
            )
            if scope.pending:
                # the report's second process starts while the run collects; not before the
                # scope is known, so a run refused early exits without waiting for its start-up
                beside.warm_up()
                steps.collect(collect_job(plan, source, scope.found), scope.pending)
            record_calls(plan, source)
        finished_at = now()
        summary = steps.run(load_and_evaluate, plan, finished_at)
        report = steps.run(write_report, plan, finished_at)
        delivery_plan = steps.run(prepare_delivery, plan)
    delivery = steps.run(deliver, plan, delivery_plan)
    return Finished(audit_result(plan, summary, report, delivery), delivery_plan.digest)


def _scope(plan: RunPlan, source: Source, steps: Steps) -> Scope:
    """What the run covers: recorded by a resumed run, else read or discovered, then recorded;
    with the organization's SCPs read once (a resumed run that still collects reads them when
    the interrupted run had not)."""
    if plan.resume is not None:
        if plan.resume.pending and not has_scps(plan):
            steps.run(collect_scps, plan, source, plan.resume.discovery)
        return Scope(plan.resume.discovery, plan.resume.pending)
    if plan.source == "files":
        files = steps.run(read_files, plan)
        found = files.discovery()
        record_scope(plan, found, files)
        return Scope(found, [])  # the files were read into evidence above
    found = steps.run(discover_accounts, plan, source)
    record_scope(plan, found, None)
    steps.run(collect_scps, plan, source, found)
    return Scope(found, list(found.in_scope))

"""Deliver a finished run: its folder always, then S3 and e-mail when configured.

Two steps. `prepare_delivery` reads the warehouse (digest, per-owner slices written next to the
report) and needs no network; `send_delivery` uploads and mails, retrying what may heal (S3
throttling and 5xx, SMTP 4xx and unreachable servers) with jittered exponential backoff, and
reports every item. Nothing here deletes or moves a file: a mail server that is down never costs
the report, and `keyaudit deliver --run RUN_ID` sends it again.
"""

from __future__ import annotations

import json
import os
import random
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import duckdb

from keyaudit.config import Config
from keyaudit.config.delivery import DeliveryConfig, EmailDelivery, Retention, S3Delivery
from keyaudit.delivery.mail import MailError, SmtpTransport, smtp_login
from keyaudit.delivery.messages import Links, owner_mail, s3_key, summary_mail
from keyaudit.delivery.object_lock import ObjectLockRefused, check_bucket, lock_params
from keyaudit.delivery.owners import DELIVERED_STATUSES, Owner, assign_owners
from keyaudit.delivery.plan import EVIDENCE_SIGNATURE, OWNERS_DIR, DeliveryPlan, OwnerSlice
from keyaudit.evidence.store import MANIFEST, SIGNATURE_FILE, make_private_dir, write_private
from keyaudit.model import HEADLINE_SEVERITIES, KeyauditError
from keyaudit.report import FILE_NAMES, RuleInfo, file_names, write_findings, write_report
from keyaudit.report.digest import run_digest
from keyaudit.report.file_names import slug
from keyaudit.report.fix_first import FIX_FIRST_LIMIT, fix_first
from keyaudit.report.formatting import json_object, severity_sort_key
from keyaudit.report.pdf_archive import EVIDENCE_MANIFEST
from keyaudit.report.queries import rows
from keyaudit.report.remediation import plan_rows
from keyaudit.sources.aws.errors import is_retryable

OWNER_FORMATS = ("html", "pdf")  # the report of the accounts an owner owns
OWNER_EXPORTS = ("json", "csv")  # exactly the owner's findings, owned accounts or keys
FIX_FIRST_ALL = 1_000_000  # an owner's keys are picked from the slice's whole Fix first list
EMAIL_FINDINGS_LIMIT = 50  # per owner e-mail; the attached report has every finding
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
T = TypeVar("T")


class DeliveryError(KeyauditError):
    """A run cannot be delivered at all (e.g. its report folder is gone); names the fix."""


@dataclass(frozen=True)
class DeliveryResult:
    """One delivered (or not) item: the folder, one S3 object, one e-mail, one webhook event."""

    target: Literal["folder", "s3", "email", "webhook"]
    name: str
    ok: bool
    detail: str
    attempts: int = 1


@dataclass
class DeliveryReport:
    """Every item of a delivery, and what the reader should know (e.g. unusable owner tags)."""

    run_id: str
    report_dir: str
    results: list[DeliveryResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    s3_location: str | None = None  # s3://bucket/prefix/yyyy/mm/run_id/ when S3 is set up
    # "GOVERNANCE until 2027-12-01T06:00:00+00:00" when the objects were written with Object Lock
    s3_retention: str | None = None

    @property
    def failures(self) -> list[DeliveryResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    def problem(self) -> str | None:
        """One line for the run summary and the exit status, or None when all went out."""
        if self.ok:
            return None
        failed = self.failures
        first = f"{failed[0].target} {failed[0].name}: {failed[0].detail}"
        more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
        return (
            f"delivery of run {self.run_id} failed for {len(failed)} of {len(self.results)} "
            f"items ({first}{more}) — the report files are safe in {self.report_dir}; "
            f"resend with `keyaudit deliver --run {self.run_id}`"
        )

    def lines(self) -> list[str]:
        """Short lines for the command's output: what went where."""
        by_target: dict[str, list[DeliveryResult]] = {}
        for result in self.results:
            by_target.setdefault(result.target, []).append(result)
        out = []
        for target, results in by_target.items():
            done = [r for r in results if r.ok]
            if target == "folder":
                out.append(f"folder  {results[0].detail}")
            elif target == "s3":
                if not self.s3_location:  # refused before any upload: the FAILED line says why
                    continue
                locked = f", locked {self.s3_retention}" if self.s3_retention else ""
                out.append(
                    f"S3      {len(done)} of {len(results)} files uploaded to "
                    f"{self.s3_location}{locked}"
                )
            elif target == "webhook":
                out.append(f"tickets {len(done)} of {len(results)} events posted")
            else:
                out.append(f"e-mail  {len(done)} of {len(results)} messages sent")
        out += [f"FAILED  {r.target} {r.name}: {r.detail}" for r in self.failures]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "report_dir": self.report_dir,
            "ok": self.ok,
            "results": [asdict(r) for r in self.results],
            "notes": list(self.notes),
            "s3_location": self.s3_location,
            "s3_retention": self.s3_retention,
        }


@dataclass(frozen=True)
class Backoff:
    """Attempts with jittered exponential waits between them; sleep is injected for tests."""

    attempts: int = 4
    first_seconds: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random

    def wait(self, attempt: int) -> float:
        """Before retry `attempt` (1 = first retry): half the step plus a random half."""
        step = self.first_seconds * 2 ** (attempt - 1)
        return step / 2 + self.rand() * step / 2

    def run(
        self, action: Callable[[], T], transient: Callable[[Exception], bool]
    ) -> tuple[T | None, int, Exception | None]:
        """(result, attempts, last error): retries only errors `transient` accepts."""
        for attempt in range(1, self.attempts + 1):
            try:
                return action(), attempt, None
            except Exception as exc:  # classified below; anything else is final
                if attempt == self.attempts or not transient(exc):
                    return None, attempt, exc
                self.sleep(self.wait(attempt))
        raise AssertionError("unreachable")  # pragma: no cover


def prepare_delivery(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    config: Config,
    rules: Sequence[RuleInfo],
    report_dir: Path,
    evidence_run_dir: Path | None = None,
    views: Sequence[str] = (),
) -> DeliveryPlan:
    """Complete the run folder (evidence manifest, per-owner reports) and gather what to send:
    the run's own report, and a view (keyaudit report --framework, --account) only when named in
    `views`."""
    digest = run_digest(con, run_id, rules=rules)  # first: an unknown run id says so
    recorded = json_object(rows(con, "run", {"run_id": run_id})[0]["config_json"])
    retention = Retention.from_section(json_object(recorded.get("delivery")).get("s3"))
    if not (report_dir / FILE_NAMES["pdf"]).is_file():
        raise DeliveryError(
            f"run {run_id}: {report_dir / FILE_NAMES['pdf']} is missing — render the report again "
            f"with `keyaudit report --run {run_id} --out {report_dir}`"
        )
    for view in views:
        _check_view(run_id, report_dir, view)
    if evidence_run_dir is not None and (evidence_run_dir / MANIFEST).is_file():
        manifest = (evidence_run_dir / MANIFEST).read_bytes()
        write_private(report_dir / EVIDENCE_MANIFEST, manifest)  # never through a link
        if (evidence_run_dir / SIGNATURE_FILE).is_file():  # a signed run: its signature with it
            signature = (evidence_run_dir / SIGNATURE_FILE).read_bytes()
            write_private(report_dir / EVIDENCE_SIGNATURE, signature)
    email = config.delivery.email
    slices: list[OwnerSlice] = []
    notes: list[str] = []
    if email.enabled and email.owners:
        owners, notes = _owners(con, run_id, email.compliance)
        for owner in owners:
            slices.append(_write_slice(con, run_id, owner, config, rules, report_dir))
    return DeliveryPlan(
        run_id, report_dir, digest, tuple(slices), tuple(notes), retention, tuple(views)
    )


def _owners(
    con: duckdb.DuckDBPyConnection, run_id: str, compliance: Sequence[str]
) -> tuple[list[Owner], list[str]]:
    """Who receives which findings (the warehouse's finding_owners), and the notes on owner tags
    that could not be used."""
    params = {"run_id": run_id}
    owners = assign_owners(
        rows(con, "owner_accounts", params),
        rows(con, "owner_findings", params),
        compliance=compliance,
    )
    notes = rows(con, "owner_notes", {**params, "statuses": list(DELIVERED_STATUSES)})
    return owners, [n["owner_note"] for n in notes]


def _check_view(run_id: str, report_dir: Path, view: str) -> None:
    """A view to send must be a view's name (as `keyaudit report` prints it) with files in the
    run folder."""
    names = file_names(view).values()
    if slug(view, len(view)) != view or not any((report_dir / n).is_file() for n in names):
        raise DeliveryError(
            f"--view {view!r}: no such view in {report_dir} — render it with `keyaudit report "
            f"--run {run_id} --framework NAME` or `--account ID`, and pass the name it prints "
            "(e.g. pci-dss-v4.0.1)"
        )


def _write_slice(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    owner: Owner,
    config: Config,
    rules: Sequence[RuleInfo],
    report_dir: Path,
) -> OwnerSlice:
    """One owner's folder: the report of the accounts they own (when they own any), and the
    exports of exactly their findings, which their e-mail lists."""
    folder = make_private_dir(report_dir / OWNERS_DIR / owner.slug)
    if owner.account_ids:
        write_report(
            con,
            run_id,
            folder,
            rules=rules,
            account_ids=owner.account_ids,
            formats=OWNER_FORMATS,
            names=FILE_NAMES,  # the owner's own report, in a folder of its own
            pdf_detail_limit=config.report.pdf_detail_limit,
            pdf_rows_per_account=config.report.pdf_rows_per_account,
            paper=config.report.paper,
        )
    files = write_findings(
        con,
        run_id,
        folder,
        rules=rules,
        account_ids=owner.all_account_ids,
        finding_ids=owner.finding_ids,
        formats=OWNER_EXPORTS,
    )
    records = json.loads(files["json"].read_text(encoding="utf-8"))["findings"]
    open_findings = sorted(
        (r for r in records if r["status"] == "open"),
        key=lambda r: (severity_sort_key(r["severity"]), r["account_id"], r["rule_id"]),
    )
    whose = owner.recipients[0] if owner.via == "owner" else None
    keys = fix_first(con, run_id, account_ids=owner.all_account_ids, limit=FIX_FIRST_ALL)
    mine = {r["access_key_id"] for r in records if r["access_key_id"]}  # keys planned: theirs only
    return OwnerSlice(
        owner=owner,
        digest=run_digest(con, run_id, rules=rules, account_ids=owner.all_account_ids),
        folder=folder,
        findings=tuple(open_findings[:EMAIL_FINDINGS_LIMIT]),
        findings_total=len(open_findings),
        fix_first=tuple([k for k in keys if k["owner"] == whose][:FIX_FIRST_LIMIT]),
        waivers_to_review=tuple(
            rows(
                con,
                "waivers_to_review",
                {"run_id": run_id, "account_ids": list(owner.account_ids)},
            )
        ),
        deactivations=tuple(
            k for k in plan_rows(con, run_id, owner.all_account_ids) if k["access_key_id"] in mine
        ),
        open_by_severity={
            s: sum(r["severity"] == s for r in open_findings) for s in HEADLINE_SEVERITIES
        },
    )


def _transient_s3(exc: Exception) -> bool:
    return is_retryable(exc)


def _upload(
    client: Any, cfg: S3Delivery, path: Path, key: str, lock: Mapping[str, Any] | None = None
) -> None:
    extra: dict[str, Any] = {"ServerSideEncryption": cfg.sse, **(lock or {})}
    if cfg.sse == "aws:kms" and cfg.kms_key_id:
        extra["SSEKMSKeyId"] = cfg.kms_key_id
    with path.open("rb") as body:
        client.put_object(
            Bucket=cfg.bucket,
            Key=key,
            Body=body,
            ContentType=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
            **extra,
        )


def s3_client(cfg: S3Delivery) -> Any:
    """An S3 client from the standard AWS configuration (profile, role, AWS_ENDPOINT_URL)."""
    import boto3
    from botocore.config import Config as BotoConfig

    from keyaudit.sources.aws.session import configured_region

    return boto3.Session(region_name=configured_region(cfg.region)).client(
        "s3", config=BotoConfig(retries={"mode": "standard", "total_max_attempts": 3})
    )


def smtp_transport(cfg: EmailDelivery, environ: Mapping[str, str] | None = None) -> SmtpTransport:
    """The SMTP transport the config names, logged in with the environment's credentials."""
    context = None
    if cfg.ca_file is not None:
        try:
            context = ssl.create_default_context(cafile=str(cfg.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise MailError(
                f"delivery.email.ca_file {cfg.ca_file} is not a readable CA bundle ({exc}) — "
                "point it at the PEM file of the CA that signed the SMTP server's certificate",
                transient=False,
            ) from None
    login = smtp_login(cfg, os.environ if environ is None else environ)
    return SmtpTransport(cfg, login, ssl_context=context)


def send_delivery(
    plan: DeliveryPlan,
    config: DeliveryConfig,
    *,
    s3: Any = None,
    transport: SmtpTransport | Callable[[], SmtpTransport] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    now: datetime | None = None,
) -> DeliveryReport:
    """Upload and mail what the plan holds; every item ends up in the report, ok or not.

    With `[delivery.s3] retention_days`, the bucket's Object Lock is checked first (`now`, UTC,
    tells whether the run's retain-until date is still ahead); a bucket that cannot keep the
    run gets nothing, and the refusal is the one S3 item of the report.
    """
    report = DeliveryReport(plan.run_id, str(plan.report_dir), notes=list(plan.notes))
    files = plan.files()
    report.results.append(
        DeliveryResult("folder", "run folder", True, f"{plan.report_dir} ({len(files)} files)")
    )
    backoff = Backoff(config.attempts, config.backoff_seconds, sleep, rand)
    uploaded: dict[Path, str] = {}
    client = None
    if config.s3.bucket:
        client = s3 if s3 is not None else s3_client(config.s3)
        uploaded = _send_s3(plan, config.s3, client, backoff, now or datetime.now(UTC), report)
    if config.email.enabled:
        links = Links(config.s3, client, uploaded)
        mails = [summary_mail(plan, config, links)] + [
            owner_mail(plan, piece, config, links) for piece in plan.slices
        ]
        try:
            sender = transport() if callable(transport) else transport
            sender = sender or smtp_transport(config.email)
        except MailError as exc:
            report.results += [
                DeliveryResult("email", ", ".join(m.to), False, str(exc), 0) for m in mails
            ]
            return report
        for mail in mails:
            message = mail.to_message(config.email.sender)
            _, attempts, error = backoff.run(
                partial(sender.send, message),
                lambda e: isinstance(e, MailError) and e.transient,
            )
            report.results.append(
                DeliveryResult(
                    "email",
                    ", ".join(mail.to),
                    error is None,
                    mail.subject if error is None else str(error),
                    attempts,
                )
            )
    return report


def _send_s3(
    plan: DeliveryPlan,
    cfg: S3Delivery,
    client: Any,
    backoff: Backoff,
    now: datetime,
    report: DeliveryReport,
) -> dict[Path, str]:
    """Check the bucket's Object Lock when retention is asked for, then upload every file of
    the run folder; each outcome goes into `report`. The uploaded files and their keys."""
    uploaded: dict[Path, str] = {}
    retention = _retention(plan, cfg, report)
    if retention is not None:
        check = partial(
            check_bucket, client, cfg.bucket, retention, as_of=plan.digest.as_of, now=now
        )
        _, attempts, error = backoff.run(check, _transient_s3)
        if error is not None:
            detail = str(error) if isinstance(error, ObjectLockRefused) else _lock_error(error)
            report.results.append(
                DeliveryResult("s3", f"bucket {cfg.bucket}", False, detail, attempts)
            )
            return uploaded
        report.s3_retention = (
            f"{retention.s3_mode} until {retention.until(plan.digest.as_of).isoformat()}"
        )
    lock = lock_params(retention, plan.digest.as_of)
    folder = s3_key(cfg.prefix, plan.digest.as_of, plan.run_id, "")
    report.s3_location = f"s3://{cfg.bucket}/{folder}/"
    for path in plan.files():
        relative = path.relative_to(plan.report_dir).as_posix()
        key = s3_key(cfg.prefix, plan.digest.as_of, plan.run_id, relative)
        _, attempts, error = backoff.run(
            partial(_upload, client, cfg, path, key, lock), _transient_s3
        )
        if error is None:
            uploaded[path] = key
        detail = (
            f"s3://{cfg.bucket}/{key}" if error is None else _s3_error(error, locked=bool(lock))
        )
        report.results.append(DeliveryResult("s3", relative, error is None, detail, attempts))
    return uploaded


def _retention(plan: DeliveryPlan, cfg: S3Delivery, report: DeliveryReport) -> Retention | None:
    """The run's recorded retention when it has one, so that what its report states holds on
    every delivery (a resend with a changed keyaudit.toml included); else the configured one.
    A difference between the two is a note, never silent."""
    configured, recorded = cfg.retention, plan.retention
    if recorded == configured:
        return configured
    if recorded is not None:
        now = f"the {configured}" if configured else "no retention"
        report.notes.append(
            f"run {plan.run_id} was configured with {recorded}, which its report states: that "
            f"retention is applied, not {now} that keyaudit.toml sets now"
        )
        return recorded
    report.notes.append(
        f"the report of run {plan.run_id} says its copies are not retained (none was "
        f"configured when it ran); this delivery locks them with the {configured} that "
        "keyaudit.toml sets now"
    )
    return configured


def _lock_error(exc: Exception) -> str:
    """An error of the Object Lock check that is neither "not enabled" nor "denied"."""
    from keyaudit.sources.aws.errors import describe

    return describe(exc, action="s3:GetBucketObjectLockConfiguration") + (
        " — check the bucket name, its region and the network; nothing was uploaded"
    )


def _s3_error(exc: Exception, *, locked: bool = False) -> str:
    from keyaudit.sources.aws.errors import describe

    needs = "s3:PutObject and s3:PutObjectRetention" if locked else "s3:PutObject"
    return describe(exc, action="s3:PutObject") + (
        f" — check the bucket, its region and {needs} (and kms:GenerateDataKey with a KMS key)"
    )

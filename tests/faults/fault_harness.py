"""Fault injection around the simulated organization, and virtual time so nothing sleeps.

`FaultInjector.customize` is a SessionCustomizer added next to `org.customize`: it answers chosen
calls of chosen accounts with AWS error responses on the wire (`before-send`, so botocore parses
them and its retry logic runs exactly as against AWS), or rewrites successful answers
(`after-call`). It also records every API call a run makes, per account.

`VirtualTime` replaces every wait on the run's path: botocore's retry sleep (the
`time.sleep` in `botocore.endpoint`), the adaptive retry mode's token bucket, and keyaudit's own
poll clock. Any other real `time.sleep` fails the test.

`run_audit` runs keyaudit's pipeline (keyaudit.pipeline.run_audit) on the organization with the
injector's customizer and virtual time (through the pipeline's `open_source` seam), collecting one
account after the other, and ends it after load (the report is the report suite's business). It
returns the run summary, the accounts and findings as loaded, and virtual time per account.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries import bucket

from keyaudit.config import Config
from keyaudit.model import AccountOutcome, Clock
from keyaudit.pipeline import AuditRequest
from keyaudit.warehouse.db import connect
from keyaudit.warehouse.load import RunSummary
from tests.runs import RecordingSteps, run_until, simulated_source, write_config

BASE = "base"  # the caller's session: STS and Organizations calls
_JSON_SERVICES = {"organizations"}
_MESSAGES = {
    "Throttling": "Rate exceeded",
    "LimitExceeded": "Rate exceeded",
    "TooManyRequestsException": "AWS Organizations can't complete your request because "
    "another request is already in progress. Try again later.",
    "ReportInProgress": "Report generation is in progress.",
    "ReportExpired": "The report has expired. Reports are only retained for 4 hours.",
}
_STATUS = {
    "Throttling": 400,
    "LimitExceeded": 409,
    "TooManyRequestsException": 400,
    "AccessDenied": 403,
    "AccessDeniedException": 400,
    "ReportInProgress": 404,
    "ReportExpired": 410,
    "ServiceFailure": 500,
}


# --------------------------------------------------------------------------- virtual time


class VirtualTime:
    """Monotonic time that moves only when something waits; every wait is recorded by kind."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: dict[str, list[float]] = {"botocore": [], "token_bucket": [], "keyaudit": []}

    def advance(self, kind: str, seconds: float) -> None:
        assert seconds >= 0, f"negative wait {seconds}"
        self.waits[kind].append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now

    def clock(self) -> Clock:
        return Clock(sleep=lambda s: self.advance("keyaudit", s), monotonic=self.monotonic)


def install_virtual_time(monkeypatch: pytest.MonkeyPatch, vt: VirtualTime) -> None:
    """Route botocore's retry sleep and adaptive token bucket to `vt`; forbid real sleeping."""

    def botocore_sleep(seconds: float) -> None:
        vt.advance("botocore", seconds)

    class BucketClock(bucket.Clock):
        def sleep(self, amount: float) -> None:
            vt.advance("token_bucket", amount)

        def current_time(self) -> float:
            return vt.now

    class VirtualTokenBucket(bucket.TokenBucket):
        """botocore's bucket waits on a condition variable in real time; this one advances vt."""

        def _acquire(self, amount: float, block: bool) -> bool:
            self._refill()
            while amount > self._current_capacity + 1e-9:
                self._clock.sleep(self._sleep_amount(amount))
                self._refill()
            self._current_capacity -= amount
            return True

    def real_sleep(seconds: float) -> None:
        raise AssertionError(f"a real time.sleep({seconds}) on the collection path")

    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=botocore_sleep))
    monkeypatch.setattr(bucket, "Clock", BucketClock)
    monkeypatch.setattr(bucket, "TokenBucket", VirtualTokenBucket)
    monkeypatch.setattr(time, "sleep", real_sleep)


# --------------------------------------------------------------------------- fault injection


@dataclass
class Fault:
    """Answer `operation` ("iam.ListAccessKeys") of `accounts` with an error, `times` times each."""

    operation: str
    code: str
    status: int
    message: str
    accounts: frozenset[str] | None = None  # None: every account
    times: int | None = None  # per account; None: forever
    served: Counter[str] = field(default_factory=Counter)


@dataclass
class Rewrite:
    """Change the parsed answer of `operation` for `accounts`, `times` times each."""

    operation: str
    change: Callable[[dict[str, Any]], None]
    accounts: frozenset[str] | None = None
    times: int | None = None
    served: Counter[str] = field(default_factory=Counter)


def _wants(rule: Fault | Rewrite, account: str) -> bool:
    if rule.accounts is not None and account not in rule.accounts:
        return False
    return rule.times is None or rule.served[account] < rule.times


def _account_in_role_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else BASE


def error_response(service: str, code: str, status: int, message: str) -> AWSResponse:
    """An HTTP error response exactly as the service's protocol sends it."""
    if service in _JSON_SERVICES:
        body = json.dumps({"__type": code, "Message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "fault"}
    else:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>fault</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": "fault"}
    response = AWSResponse(f"https://{service}.amazonaws.com/", status, headers, None)
    response._content = body
    return response


class FaultInjector:
    """Faults and rewrites for chosen accounts, and a record of every call made."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.rewrites: list[Rewrite] = []
        self.calls: list[tuple[str, str]] = []  # (account id or "base", "iam:ListUsers")
        # the same calls by the session that made them: "base" is the caller's own session
        self.principal_calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def fail(
        self,
        operation: str,
        code: str,
        *,
        accounts: Iterable[str] | None = None,
        times: int | None = None,
        status: int | None = None,
        message: str | None = None,
    ) -> Fault:
        action = operation.replace(".", ":")
        fault = Fault(
            operation,
            code,
            status or _STATUS.get(code, 400),
            message
            or _MESSAGES.get(code)
            or f"User is not authorized to perform: {action} because no identity-based policy "
            f"allows the {action} action",
            frozenset(accounts) if accounts is not None else None,
            times,
        )
        self.faults.append(fault)
        return fault

    def rewrite(
        self,
        operation: str,
        change: Callable[[dict[str, Any]], None],
        *,
        accounts: Iterable[str] | None = None,
        times: int | None = None,
    ) -> Rewrite:
        rule = Rewrite(operation, change, frozenset(accounts) if accounts else None, times)
        self.rewrites.append(rule)
        return rule

    def count(self, action: str, account: str) -> int:
        return sum(1 for who, what in self.calls if who == account and what == action)

    def accounts_called(self) -> set[str]:
        return {who for who, _ in self.calls}

    # -- the customizer

    def customize(self, account_id: str, session: boto3.Session) -> None:
        events = session.events
        # before-parameter-build is emitted to every handler (before-call stops at the first
        # answer, e.g. the demo's AssumeRole denial), so every call is recorded
        events.register("before-parameter-build", self._recorder(account_id))
        events.register("before-parameter-build.sts.AssumeRole", _remember_role)
        for operation in {f.operation for f in self.faults}:
            events.register(f"before-send.{operation}", self._sender(account_id, operation))
        for operation in {r.operation for r in self.rewrites}:
            events.register(f"after-call.{operation}", self._rewriter(account_id, operation))

    def _recorder(self, account_id: str) -> Callable[..., None]:
        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            who = account_id
            if model.name == "AssumeRole":
                who = _account_in_role_arn(str(params.get("RoleArn", "")))
            action = f"{model.service_model.signing_name}:{model.name}"
            with self._lock:
                self.calls.append((who, action))
                self.principal_calls.append((account_id, action))

        return record

    def _sender(self, account_id: str, operation: str) -> Callable[..., AWSResponse | None]:
        service = operation.split(".")[0]

        def send(request: Any, **_: Any) -> AWSResponse | None:
            who = account_id
            if operation == "sts.AssumeRole":
                body = request.body.decode() if isinstance(request.body, bytes) else request.body
                who = _account_in_role_arn(parse_qs(body or "").get("RoleArn", [""])[0])
            with self._lock:
                for fault in self.faults:
                    if fault.operation == operation and _wants(fault, who):
                        fault.served[who] += 1
                        return error_response(service, fault.code, fault.status, fault.message)
            return None

        return send

    def _rewriter(self, account_id: str, operation: str) -> Callable[..., None]:
        def rewrite(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            if "Error" in parsed:
                return
            who = account_id
            if operation == "sts.AssumeRole":
                who = _account_in_role_arn(context.get("fault_role_arn", ""))
            with self._lock:
                for rule in self.rewrites:
                    if rule.operation == operation and _wants(rule, who):
                        rule.served[who] += 1
                        rule.change(parsed)

        return rewrite


def _remember_role(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["fault_role_arn"] = params.get("RoleArn", "")


def expired_credentials(parsed: dict[str, Any]) -> None:
    """An AssumeRole answer whose credentials ran out an hour ago (a run longer than 1 h)."""
    parsed["Credentials"]["Expiration"] = datetime.now(UTC) - timedelta(hours=1)


# --------------------------------------------------------------------------- running a run


@dataclass(frozen=True)
class AccountRow:
    status: str
    state: str | None
    error: str | None


@dataclass
class AuditResult:
    """What a run left behind: the summary, accounts and findings as loaded, and timings."""

    run_id: str
    summary: RunSummary
    accounts: dict[str, AccountRow]
    findings: frozenset[tuple[Any, ...]]
    outcomes: dict[str, AccountOutcome]
    elapsed: dict[str, float]  # virtual seconds spent per account
    evidence: Path
    warehouse: Path

    def statuses(self) -> dict[str, str]:
        return {account: row.status for account, row in self.accounts.items()}

    def error(self, account_id: str) -> str:
        return self.accounts[account_id].error or ""


def run_audit(
    org: Any,
    folder: Path,
    *,
    vt: VirtualTime,
    injector: FaultInjector | None = None,
    config: Config | None = None,
    run_id: str = "fault-run",
    base: boto3.Session | None = None,
    extra_customizers: Iterable[Callable[[str, boto3.Session], None]] = (),
) -> AuditResult:
    """The pipeline up to load on `org` with `injector`'s faults, everything under `folder`;
    `base` is the caller's session (default: the environment's credentials, as `keyaudit run`)."""
    customizers = [*([injector.customize] if injector else []), *extra_customizers]
    steps = RecordingSteps(stop_after="load", one_by_one=True, monotonic=vt.monotonic)
    request = AuditRequest(
        source="demo",
        config_file=write_config(folder / "keyaudit.toml", config, data_dir=folder),
        as_of=org.as_of,
        run_id=run_id,
    )
    opener = simulated_source(org, *customizers, base=base, clock=vt.clock())
    run_until(request, steps, now=lambda: org.as_of, open_source=opener)
    warehouse = folder / "keyaudit.duckdb"
    con = connect(warehouse, read_only=True)
    try:
        rows = con.execute(
            "select account_id, status, state, error from accounts where run_id = ?", [run_id]
        ).fetchall()
        findings = con.execute(
            "select rule_id, account_id, user_name, key_slot, access_key_id, reason "
            "from findings where run_id = ?",
            [run_id],
        ).fetchall()
    finally:
        con.close()
    return AuditResult(
        run_id=run_id,
        summary=steps.results["load"],
        accounts={r[0]: AccountRow(r[1], r[2], r[3]) for r in rows},
        findings=frozenset(tuple(f) for f in findings),
        outcomes=steps.outcomes,
        elapsed=steps.elapsed,
        evidence=folder / "evidence" / run_id,
        warehouse=warehouse,
    )

"""Sessions per account: the caller's own for the management account, AssumeRole for members.

Member sessions use refreshable credentials, so a run longer than the role session's lifetime
re-assumes the role instead of failing. Customizers are called on every session created; the
simulated organization and fault-injection tests use them to attach botocore event hooks, so
the collection code stays exactly the code that runs against AWS.

Retries: botocore retries throttling (`Throttling`, `TooManyRequestsException`, …) and 5xx with
jittered exponential backoff. IAM's `LimitExceeded` (HTTP 409, "too many requests") is not in
botocore's throttle list, so every session also retries it, with the same kind of jittered
backoff and the same attempt budget. The waits are botocore's own (`botocore.endpoint`'s sleep).
A connection nothing answers (refused, unknown host, connect timeout) is retried at most twice:
an endpoint that is down does not come back within botocore's backoff, and ten attempts per call
kept a run busy for minutes before it said anything.

The caller check (`caller_identity`, sts:GetCallerIdentity) is a run's first AWS call. It has its
own short budget (a few seconds) and no retry of a connection nothing answers, and it turns the
usual ways to be without working credentials into one line naming the fix (errors.caller_problem).
"""

from __future__ import annotations

import copy
import os
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.hooks import HierarchicalEmitter
from botocore.utils import parse_timestamp

from keyaudit.sources.aws.calls import CallRecord
from keyaudit.sources.aws.errors import (
    CollectionError,
    caller_problem,
    connection_problem,
    describe,
)

SessionCustomizer = Callable[[str, boto3.Session], None]

ROLE_SESSION_SECONDS = 3600
IAM_LIMIT_EXCEEDED = "LimitExceeded"
LIMIT_BACKOFF_BASE_SECONDS = 1.0
LIMIT_BACKOFF_CAP_SECONDS = 20.0  # botocore's own cap for throttling backoff
CONNECT_TIMEOUT_SECONDS = 10.0  # botocore's default of 60 s, times every attempt, hid a dead host
CONNECTION_ATTEMPTS = 3  # a connection nothing answers: the first try and two retries
# sts:GetCallerIdentity before anything else: an answer within seconds, or a reason
CALLER_CHECK_CONFIG = Config(
    connect_timeout=5,
    read_timeout=10,
    retries={"mode": "standard", "total_max_attempts": 3},  # throttling: two more tries
)


class CallerCheckError(CollectionError):
    """The audit cannot start: nobody can be identified as the caller, or AWS is unreachable."""


@dataclass(frozen=True)
class SessionSettings:
    """How to reach member accounts and how hard to retry."""

    role_name: str = "OrganizationAccountAccessRole"
    external_id: str | None = None
    session_name: str = "keyaudit"
    retry_mode: str = "adaptive"
    max_attempts: int = 10
    region: str | None = None


def fast_timestamp(value: Any) -> datetime:
    """Response timestamps, read by `datetime.fromisoformat` when they carry a UTC offset.

    IAM's XML answers write every timestamp as ISO 8601 with `Z` ("2024-01-01T00:00:00Z").
    botocore's default parser (dateutil) spent ≈ 12 % of a collection's CPU on them, and the
    collecting threads share one GIL (bench/concurrency.py). The result is the same aware
    datetime; anything else (epoch numbers, naive or unusual forms) goes to botocore's parser.
    """
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    return parse_timestamp(value)


def use_fast_timestamps(session: boto3.Session) -> None:
    """Make every client of `session` parse timestamps with `fast_timestamp`."""
    factory = session._session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=fast_timestamp)


def configured_region(explicit: str | None = None) -> str | None:
    """The region keyaudit's config names, else AWS_REGION, else None (botocore then reads
    AWS_DEFAULT_REGION and the profile). botocore itself ignores AWS_REGION, which the AWS CLI
    v2 and the other SDKs honour first: without this, `AWS_REGION=…` alone would be dropped."""
    return explicit or os.environ.get("AWS_REGION") or None


def client_config(settings: SessionSettings, *, max_pool_connections: int = 10) -> Config:
    """botocore retries for throttling; adaptive mode rate-limits per client, so share one."""
    return Config(
        retries={"mode": settings.retry_mode, "total_max_attempts": settings.max_attempts},
        max_pool_connections=max_pool_connections,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )


def role_arn(account_id: str, role_name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{role_name}"


def jittered_backoff(
    attempt: int,
    *,
    base: float = LIMIT_BACKOFF_BASE_SECONDS,
    cap: float = LIMIT_BACKOFF_CAP_SECONDS,
    rand: Callable[[], float] = random.random,
) -> float:
    """Wait before retry `attempt` (1 = first retry): half the capped exponential step plus a
    random part of the other half, so a wait is never zero and retries do not march in step."""
    step = min(cap, base * 2 ** (attempt - 1))
    return step / 2 + rand() * step / 2


def retry_limit_exceeded(
    max_attempts: int, rand: Callable[[], float] = random.random
) -> Callable[..., float | None]:
    """A botocore `needs-retry` handler: retry IAM's LimitExceeded within the attempt budget.

    Anything else gets None, which leaves the decision to botocore's own retry handler."""

    def handler(response: Any = None, attempts: int = 1, **_: Any) -> float | None:
        if response is None:
            return None
        code = (response[1] or {}).get("Error", {}).get("Code")
        if code != IAM_LIMIT_EXCEEDED or attempts >= max_attempts:
            return None
        return jittered_backoff(attempts, rand=rand)

    return handler


def stop_connection_retries(max_attempts: int) -> Callable[..., None]:
    """A botocore `needs-retry` handler: after `max_attempts` attempts that could not connect,
    end the call with that error instead of letting botocore's retry handler try again.

    botocore retries connection errors like throttling, up to the whole attempt budget with
    backoff; raising here is the one way to stop it (a `needs-retry` answer of None only defers
    to the next handler). Throttling and 5xx answers are left alone."""

    def handler(caught_exception: Any = None, attempts: int = 1, **_: Any) -> None:
        if isinstance(caught_exception, BotoConnectionError) and attempts >= max_attempts:
            raise caught_exception

    return handler


class AccountSessions:
    """Hands out one boto3 session per account, reusing the caller's base session."""

    def __init__(
        self,
        base: boto3.Session | None = None,
        settings: SessionSettings | None = None,
        customizers: Sequence[SessionCustomizer] = (),
    ) -> None:
        self.settings = settings or SessionSettings()
        self._customizers = tuple(customizers)
        self.calls = CallRecord()  # every call of every session handed out (sources.aws.calls)
        self._base = base or _base_session(configured_region(self.settings.region))
        self._prepare("base", self._base)
        self._caller: dict[str, Any] | None = None
        self._sts: Any = None
        self._sts_lock = threading.Lock()
        # botocore's built-in event handlers, registered once and copied into each account's
        # session: registering them anew costs ≈ 5 ms of CPU per account (bench/concurrency.py)
        self._builtin_events = HierarchicalEmitter()
        botocore.session.Session(event_hooks=self._builtin_events)

    @property
    def region(self) -> str:
        return configured_region(self.settings.region) or self._base.region_name or "us-east-1"

    def _prepare(self, account_id: str, session: boto3.Session) -> None:
        """Fast timestamps, keyaudit's own retry of IAM LimitExceeded, the call record, the
        customizers' hooks."""
        use_fast_timestamps(session)
        self.calls.attach(session, None if account_id == "base" else account_id)
        session.events.register("needs-retry.iam", retry_limit_exceeded(self.settings.max_attempts))
        session.events.register_first("needs-retry", stop_connection_retries(CONNECTION_ATTEMPTS))
        for customizer in self._customizers:
            customizer(account_id, session)

    def base_client(self, service: str) -> Any:
        return self._base.client(
            service, region_name=self.region, config=client_config(self.settings)
        )

    def caller_identity(self) -> dict[str, Any]:
        """Who runs the audit (account and ARN), asked once, within seconds: the run's first AWS
        call, so missing or expired credentials and an unreachable endpoint stop it at once."""
        if self._caller is None:
            problem = None
            try:
                sts = self._base.client("sts", region_name=self.region, config=CALLER_CHECK_CONFIG)
                sts.meta.events.register_first("needs-retry", stop_connection_retries(1))
                found = sts.get_caller_identity()
            except (ClientError, BotoCoreError) as exc:
                problem = caller_problem(exc)
            if problem is not None:
                # raised outside the except block: with the botocore error as its cause, the
                # flow's retry condition would retry a refused connection (flows/scale.py)
                raise CallerCheckError(problem)
            self._caller = {"account_id": found["Account"], "arn": found["Arn"]}
        return self._caller

    def session_for(self, account_id: str, *, is_caller_account: bool) -> boto3.Session:
        """The caller's session for its own account, else an assumed-role session."""
        if is_caller_account:
            return self._session_with(account_id, self._base._session.get_credentials())
        return self._assume(account_id)

    def _session_with(self, account_id: str, credentials: Any) -> boto3.Session:
        """A fresh botocore session (own event hooks) on the caller's profile and config."""
        profile = self._base.profile_name if self._base.profile_name != "default" else None
        core = botocore.session.Session(
            profile=profile,
            event_hooks=copy.copy(self._builtin_events),
            include_builtin_handlers=False,
        )
        core._credentials = credentials
        # Share the base session's (caching) data loader: a new one would parse the service
        # models and endpoints again, ≈ 70 ms of CPU per account under the GIL (bench/concurrency.py).
        core.register_component("data_loader", self._base._session.get_component("data_loader"))
        session = boto3.Session(botocore_session=core, region_name=self.region)
        loader = core.get_component("data_loader")  # boto3 appended its data folder once more
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
        self._prepare(account_id, session)
        return session

    def _sts_client(self) -> Any:
        """One STS client for every AssumeRole (clients are thread-safe): a new client per
        account cost ≈ 10 ms of CPU each (bench/concurrency.py)."""
        with self._sts_lock:
            if self._sts is None:
                self._sts = self.base_client("sts")
            return self._sts

    def _assume(self, account_id: str) -> boto3.Session:
        arn = role_arn(account_id, self.settings.role_name)
        sts = self._sts_client()
        params: dict[str, Any] = {
            "RoleArn": arn,
            "RoleSessionName": self.settings.session_name[:64],
            "DurationSeconds": ROLE_SESSION_SECONDS,
        }
        if self.settings.external_id:
            params["ExternalId"] = self.settings.external_id

        def fetch() -> dict[str, str]:
            creds = sts.assume_role(**params)["Credentials"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": creds["Expiration"].isoformat(),
            }

        try:
            first = fetch()
        except BotoConnectionError as exc:
            raise CollectionError(connection_problem(exc)) from exc
        except (ClientError, BotoCoreError) as exc:
            raise CollectionError(
                describe(exc, action=f"sts:AssumeRole {arn}")
                + " — check that the role exists and its trust policy admits the auditing account"
                + (" and ExternalId" if self.settings.external_id else "")
            ) from exc
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=first, refresh_using=fetch, method="sts-assume-role"
        )
        return self._session_with(account_id, credentials)


def _base_session(region: str | None) -> boto3.Session:
    """The caller's session from the standard configuration; a missing AWS_PROFILE or a broken
    AWS config file in one line."""
    try:
        return boto3.Session(region_name=region)
    except BotoCoreError as exc:  # an unknown AWS_PROFILE, an AWS config file that does not parse
        problem = caller_problem(exc)
    raise CallerCheckError(problem)

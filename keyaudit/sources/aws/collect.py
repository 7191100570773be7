"""Collect one account: credential report, key inventory and account summary, as raw evidence.

Evidence is written as soon as each response arrives, so whatever was collected survives a
later failure. An account that fails is returned as not assessed with the reason; a failure
after the credential report leaves the account partially assessed, with what is missing named.

Each account has a deadline (collection.account_deadline_seconds) on the injected clock, checked
before every request attempt, botocore's retries included: throttling that never stops ends
that account's collection in bounded time, and the other accounts carry on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ConnectionError as BotoConnectionError

from keyaudit.config import CollectionConfig
from keyaudit.evidence.store import EvidenceFile, EvidenceStore
from keyaudit.model import ROOT_USER, Account, AccountOutcome, Clock
from keyaudit.sources.aws.access_keys import account_summary, collect_key_inventory, list_users
from keyaudit.sources.aws.credential_report import PollPolicy, fetch_credential_report
from keyaudit.sources.aws.credentials import collect_credentials, report_holders
from keyaudit.sources.aws.errors import (
    AccountDeadlineExceeded,
    CollectionError,
    connection_problem,
)
from keyaudit.sources.aws.privilege import FAILED, collect_privilege
from keyaudit.sources.aws.session import AccountSessions, client_config
from keyaudit.sources.credential_report import (
    CredentialReportError,
    ParsedReport,
    parse_credential_report,
)

log = logging.getLogger("keyaudit.sources.aws.collect")


@dataclass(frozen=True)
class CollectSettings:
    poll: PollPolicy = field(default_factory=PollPolicy)
    with_last_used: bool = True  # False: last use comes from the credential report
    account_deadline_seconds: float = 1800.0
    privilege: bool = True  # False: user permissions are not collected ([collection] privilege)
    # False: SSH keys, service-specific credentials, certificates ([collection] other_credentials)
    other_credentials: bool = True


def collect_settings(config: CollectionConfig) -> CollectSettings:
    """The collection settings a configuration asks for."""
    return CollectSettings(
        poll=PollPolicy(
            initial_delay=config.report_poll_initial_seconds,
            max_delay=config.report_poll_max_seconds,
            deadline_seconds=config.report_deadline_seconds,
        ),
        with_last_used=config.last_used == "api",
        account_deadline_seconds=config.account_deadline_seconds,
        privilege=config.privilege,
        other_credentials=config.other_credentials,
    )


class AccountDeadline:
    """Refuses every request attempt of one account's session once its time is up.

    Registered on `before-send`, which botocore emits for each attempt, retries included; the
    error it raises ends the API call at once (botocore does not retry it). It also remembers
    the last error AWS answered, so the message says why the time ran out."""

    def __init__(self, seconds: float, monotonic: Callable[[], float]) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._ends = monotonic() + seconds
        self.last_error: str | None = None
        self.failed_attempts = 0

    def attach(self, session: Any) -> None:
        session.events.register("before-send", self._check)
        session.events.register("needs-retry", self._note)

    def _note(self, response: Any = None, operation: Any = None, **_: Any) -> None:
        code = (response[1] or {}).get("Error", {}).get("Code") if response else None
        if code and operation is not None:
            self.last_error = f"{code} on {operation.service_model.signing_name}:{operation.name}"
            self.failed_attempts += 1

    def _check(self, **_: Any) -> None:
        if self._monotonic() >= self._ends:
            because = (
                f" while AWS kept answering {self.last_error} "
                f"({self.failed_attempts} failed attempts)"
                if self.last_error
                else ""
            )
            raise AccountDeadlineExceeded(
                f"collection deadline of {self.seconds:g} s passed{because} — "
                "raise collection.account_deadline_seconds or rerun later"
            )


def users_with_keys(report: ParsedReport, live_users: list[dict[str, Any]]) -> list[str]:
    """Users whose keys must be listed: those the report shows with a key slot, plus users
    created after the report (it can be 4 hours old), never root (it has no user name)."""
    rows = report.rows
    has_key = (rows["access_key_1_last_rotated"] != "N/A") | (
        rows["access_key_2_last_rotated"] != "N/A"
    )
    return report_holders(report, live_users, has_key)


def collect_account(
    account: Account,
    *,
    sessions: AccountSessions,
    store: EvidenceStore,
    is_caller_account: bool,
    settings: CollectSettings | None = None,
    clock: Clock | None = None,
) -> AccountOutcome:
    """Collect one account into the evidence store and say how it went."""
    settings = settings or CollectSettings()
    clock = clock or Clock()
    files: list[EvidenceFile] = []
    outcome = AccountOutcome(account_id=account.account_id, status="not_assessed")
    try:
        session = sessions.session_for(account.account_id, is_caller_account=is_caller_account)
        AccountDeadline(settings.account_deadline_seconds, clock.monotonic).attach(session)
        iam = session.client("iam", config=client_config(sessions.settings))
        fetched = fetch_credential_report(
            iam, policy=settings.poll, sleep=clock.sleep, monotonic=clock.monotonic
        )
        files.append(
            store.write(
                account.account_id, "credential_report.csv", fetched.content, "credential_report"
            )
        )
        files.append(
            store.write_json(
                account.account_id,
                "credential_report.json",
                {
                    "GeneratedTime": fetched.generated_at,
                    "GenerateCalls": fetched.generate_calls,
                    "GetCalls": fetched.get_calls,
                },
                "credential_report_meta",
            )
        )
        outcome.report_generated_at = fetched.generated_at
        report = parse_credential_report(
            fetched.content, source=f"account {account.account_id} credential report"
        )
        if report.account_id not in (None, account.account_id):
            raise CollectionError(
                f"credential report belongs to account {report.account_id}, not {account.account_id}"
                " — check the role ARN and the account mapping"
            )
        outcome.users = int((report.rows["user"] != ROOT_USER).sum())
        outcome.status = "assessed"
        _collect_inventory(iam, account, report, store, files, outcome, settings)
    except (CollectionError, CredentialReportError) as exc:
        cause = exc.__cause__  # a connection error: name the endpoint and its fix
        reason = connection_problem(cause) if isinstance(cause, BotoConnectionError) else exc
        outcome.error = f"account {account.account_id}: {reason}"
    except BotoConnectionError as exc:  # given up after a few attempts (session.py), not minutes
        outcome.status = "partial" if outcome.status == "assessed" else "not_assessed"
        outcome.error = f"account {account.account_id}: {connection_problem(exc)}"
    except Exception as exc:  # an answer nobody expected: recorded, never a silent success
        log.warning("account %s: unexpected error", account.account_id, exc_info=True)
        outcome.status = "partial" if outcome.status == "assessed" else "not_assessed"
        outcome.error = (
            f"account {account.account_id}: unexpected {type(exc).__name__}: {exc} — "
            "rerun; if it persists, report it with the log"
        )
    finally:
        # the account's calls, its AssumeRole included (denied or not), as the run made them
        outcome.calls = sessions.calls.take(account.account_id)
        outcome.api_calls = sum(outcome.calls.values())
        files.append(
            store.write_json(
                account.account_id, "collection.json", outcome.to_dict(), "collection_outcome"
            )
        )
        store.write_account_manifest(account.account_id, files)
        outcome.evidence_dir = str(store.account_dir(account.account_id))
    log.info(
        "collected %s: %s%s",
        account.account_id,
        outcome.status,
        f" — {outcome.error}"
        if outcome.error
        else f" ({outcome.users} users, {outcome.access_keys} keys)",
    )
    return outcome


def _collect_inventory(
    iam: Any,
    account: Account,
    report: ParsedReport,
    store: EvidenceStore,
    files: list[EvidenceFile],
    outcome: AccountOutcome,
    settings: CollectSettings,
) -> None:
    """Key inventory and root summary; a failure here leaves the report-based audit standing."""
    inventory_problem: str | None = None
    users: list[dict[str, Any]] | None = None
    try:
        users = list_users(iam)
        files.append(store.write_json(account.account_id, "users.json", users, "list_users"))
        keys = collect_key_inventory(
            iam, users_with_keys(report, users), with_last_used=settings.with_last_used
        )
        files.append(store.write_json(account.account_id, "access_keys.json", keys, "access_keys"))
        outcome.access_keys = len(keys)
        summary = account_summary(iam)
        files.append(
            store.write_json(account.account_id, "account_summary.json", summary, "account_summary")
        )
    except CollectionError as exc:
        outcome.status = "partial"
        inventory_problem = str(exc)
        outcome.error = (
            f"account {account.account_id}: {exc}; findings use the credential report only"
        )
    privilege = collect_privilege(iam, account.account_id, store, files, enabled=settings.privilege)
    credentials = collect_credentials(
        iam,
        account.account_id,
        store,
        files,
        report=report,
        users=users,
        enabled=settings.other_credentials,
        users_problem=inventory_problem,
    )
    for part in (privilege, credentials):
        if part.status == FAILED:
            outcome.status = "partial"
            problem = str(part.error)
            if inventory_problem and problem.startswith(inventory_problem):
                # the same cause (a passed deadline, a dead endpoint): say its consequence only
                problem = problem[len(inventory_problem) :].lstrip("; ")
            _add_problem(outcome, account, problem)


def _add_problem(outcome: AccountOutcome, account: Account, problem: str) -> None:
    """The account's reason gains one more problem, after what it already says."""
    before = f"{outcome.error}; " if outcome.error else f"account {account.account_id}: "
    outcome.error = before + problem

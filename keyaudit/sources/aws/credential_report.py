"""Fetch the IAM credential report: generate, wait with capped backoff, get.

Polling strategy: GenerateCredentialReport once; if it answers COMPLETE, get. If it answers
STARTED or INPROGRESS, wait and poll with GetCredentialReport, not with Generate. While the
report is being built both calls cost one request and both say "not yet" (State INPROGRESS
vs. error ReportInProgress), but the Get that finally succeeds already carries the report,
whereas a Generate that says COMPLETE still needs a Get after it: polling with Get saves a
request per account and keeps Generate calls (the ones IAM answers with LimitExceeded) rare.
Get answering ReportNotPresent/ReportExpired means there is nothing to wait for, so generate
again, a bounded number of times.

Every wait sleeps (the backoff starts above zero and grows to a cap), and an overall deadline
counted from the first call ends the loop with a CollectionError instead of a hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keyaudit.sources.aws.errors import CollectionError, describe, error_code

GENERATE = "iam:GenerateCredentialReport"
GET = "iam:GetCredentialReport"
_REGENERATE = frozenset({"ReportNotPresent", "ReportExpired"})
# LimitExceeded (HTTP 409) is IAM's "too many requests" and not in botocore's throttle list.
_WAIT_AND_GET = {"ReportInProgress": "INPROGRESS", "LimitExceeded": "LimitExceeded"}


@dataclass(frozen=True)
class FetchedReport:
    """The report exactly as IAM returned it, and how many calls it took to get it."""

    content: bytes
    generated_at: datetime
    generate_calls: int
    get_calls: int


@dataclass(frozen=True)
class PollPolicy:
    """How long to wait between polls and in total; see the module docstring for the flow."""

    initial_delay: float = 2.0
    max_delay: float = 30.0
    multiplier: float = 2.0
    deadline_seconds: float = 300.0  # overall, from the first call
    max_regenerations: int = 2  # ReportExpired/ReportNotPresent after a generate

    def __post_init__(self) -> None:
        if not (0 < self.initial_delay <= self.max_delay):
            raise ValueError(
                f"poll delays must satisfy 0 < initial_delay <= max_delay, got "
                f"{self.initial_delay} and {self.max_delay} — polling without sleeping is refused"
            )
        if self.multiplier < 1 or self.deadline_seconds <= 0 or self.max_regenerations < 0:
            raise ValueError(
                "poll policy needs multiplier >= 1, deadline_seconds > 0 and "
                f"max_regenerations >= 0, got {self.multiplier}, {self.deadline_seconds} and "
                f"{self.max_regenerations}"
            )


class _Poll:
    """One fetch's bookkeeping: call counts, the growing delay, the deadline, the last state."""

    def __init__(
        self, policy: PollPolicy, sleep: Callable[[float], None], monotonic: Callable[[], float]
    ) -> None:
        self.policy, self.sleep, self.monotonic = policy, sleep, monotonic
        self.started = monotonic()
        self.delay = policy.initial_delay
        self.generate_calls = self.get_calls = self.regenerations = 0
        self.last_state = "none"

    def wait(self, state: str) -> None:
        """Sleep the next backoff step, shortened to what is left; none left is an error."""
        self.last_state = state
        remaining = self.policy.deadline_seconds - (self.monotonic() - self.started)
        if remaining <= 0:
            raise CollectionError(
                f"credential report not ready after {self.policy.deadline_seconds:g} s "
                f"(last state {state}) — raise collection.report_deadline_seconds or rerun later"
            )
        self.sleep(min(self.delay, remaining))
        self.delay = min(self.delay * self.policy.multiplier, self.policy.max_delay)

    def regenerate(self, exc: ClientError) -> None:
        """Count one more Generate after Get found no usable report; too many is an error."""
        if self.regenerations >= self.policy.max_regenerations:
            raise CollectionError(
                f"{describe(exc, action=GET)} — still so after {self.regenerations} "
                "regeneration(s) of the report; rerun later"
            ) from exc
        self.regenerations += 1


def fetch_credential_report(
    iam_client: Any,
    *,
    policy: PollPolicy = PollPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> FetchedReport:
    """Generate the report, wait until IAM has it, and return it with its GeneratedTime."""
    poll = _Poll(policy, sleep, monotonic)
    ready = _generate(iam_client, poll)
    while True:
        if not ready:
            poll.wait(poll.last_state)
        outcome = _get(iam_client, poll)
        if not isinstance(outcome, ClientError):
            return _fetched(outcome, poll)
        code = error_code(outcome) or ""
        if code in _REGENERATE:
            poll.regenerate(outcome)
            ready = _generate(iam_client, poll)
        else:
            poll.last_state, ready = _WAIT_AND_GET[code], False


def _generate(iam_client: Any, poll: _Poll) -> bool:
    """Ask IAM to (re)build the report; True when it is already COMPLETE."""
    while True:
        poll.generate_calls += 1
        try:
            state = str(iam_client.generate_credential_report()["State"])
        except ClientError as exc:
            if error_code(exc) != "LimitExceeded":
                raise CollectionError(describe(exc, action=GENERATE, permission=GENERATE)) from exc
            poll.wait("LimitExceeded")
            continue
        except BotoCoreError as exc:
            raise CollectionError(describe(exc, action=GENERATE, permission=GENERATE)) from exc
        poll.last_state = state
        return state == "COMPLETE"


def _get(iam_client: Any, poll: _Poll) -> dict[str, Any] | ClientError:
    """The Get response, or the error that says to wait or to regenerate; others raise."""
    poll.get_calls += 1
    try:
        return dict(iam_client.get_credential_report())
    except ClientError as exc:
        code = error_code(exc)
        if code in _REGENERATE or code in _WAIT_AND_GET:
            return exc
        raise CollectionError(describe(exc, action=GET, permission=GET)) from exc
    except BotoCoreError as exc:
        raise CollectionError(describe(exc, action=GET, permission=GET)) from exc


def _fetched(response: dict[str, Any], poll: _Poll) -> FetchedReport:
    generated = response["GeneratedTime"]
    if generated.tzinfo is None:  # botocore parses it aware; a stub or proxy might not
        generated = generated.replace(tzinfo=UTC)
    return FetchedReport(
        content=bytes(response["Content"]),
        generated_at=generated,
        generate_calls=poll.generate_calls,
        get_calls=poll.get_calls,
    )

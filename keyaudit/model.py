"""Shared types and facts, one definition each: accounts in scope, the outcome of collecting one,
severities, the account-id and e-mail address checks, how an instant is read (UTC), the injected clock, and the base
of keyaudit's errors."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal


class KeyauditError(Exception):
    """An error keyaudit expects and explains: the message names the thing and the fix, and the
    command line prints it as one line."""


# Most severe first: the order of every table, count and chart.
Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
# The severities every count shows even at 0 (critical to low): the headline of the report, the
# digest, the e-mails, the flow's artifact and the command's summary. The others (info, and any
# severity a catalogue adds) appear only where they occur, or together as "other".
HEADLINE_SEVERITIES: tuple[Severity, ...] = SEVERITIES[:4]

# An AWS account id: 12 ASCII digits (str.isdigit() would also take full-width and other Unicode
# digits). The regex text, for patterns that hold an account id (ARNs, file names, pydantic
# fields); quote it, never restate it.
ACCOUNT_ID_PATTERN = "[0-9]{12}"
_ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN)

# The credential report's name for the root user: its row's `user`, and the user_name of every
# finding about root. SQL reads it as the macro ka_root_user() (sql/staging/_macros.sql).
ROOT_USER = "<root_account>"


def is_account_id(value: object) -> bool:
    """An AWS account id: a string of exactly 12 ASCII digits (leading zeros kept)."""
    return isinstance(value, str) and _ACCOUNT_ID.fullmatch(value) is not None


def check_address(value: str) -> str:
    """`value` when it is one deliverable-looking address (syntax only: no DNS lookup), checked
    by email-validator: no display name, quotes, comments or separators, so it cannot smuggle a
    second recipient or a header into a message; a non-ASCII domain comes back in its xn-- form.
    """
    from email_validator import EmailNotValidError, validate_email  # 60 ms: only when needed

    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        reason = " ".join(str(exc).split()).rstrip(".")
        raise ValueError(
            f"{value!r} is not an e-mail address like team@example.com ({reason})"
        ) from None
    return value if value.isascii() else checked.ascii_email or value


@lru_cache(maxsize=65536)  # email-validator takes 0.2 ms a value; owner tags repeat (teams)
def address_in(value: str) -> str | None:
    """The e-mail address a tag value holds (spaces around it ignored), or None when the value
    is anything else (`team-payments`, `jenkins deploy key`): an owner is a mailbox or nobody."""
    text = value.strip()
    if "@" not in text:  # most tag values: no need to ask email-validator
        return None
    try:
        return check_address(text)
    except ValueError:
        return None


INSTANT_EXAMPLE = "2026-12-01T06:00:00Z"


class InstantError(KeyauditError, ValueError):
    """A time keyaudit was given (an audit's as_of) that is not an ISO 8601 time."""


def utc_instant(value: datetime | str, *, name: str = "as_of") -> datetime:
    """An instant as keyaudit holds every one: timezone-aware UTC. A time without a zone is UTC,
    never the machine's local time (the CLI, the flow and a deployment on another machine must
    audit the same instant); one with a zone is converted. `name` is what the caller calls it,
    for the one-line error."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InstantError(
                f"{name} {value!r} is not an ISO 8601 time; e.g. {INSTANT_EXAMPLE}"
            ) from None
    if not isinstance(value, datetime):
        raise InstantError(
            f"{name} {value!r} is not a time; give an ISO 8601 time, e.g. {INSTANT_EXAMPLE}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass
class Clock:
    """Injected so tests never wait: sleep and a monotonic reading."""

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic


@dataclass
class VirtualClock:
    """A clock whose sleep advances time instantly: for the simulated organization, which
    answers at once."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now

    def as_clock(self) -> Clock:
        return Clock(sleep=self.sleep, monotonic=self.monotonic)


# Where a run's credential data comes from: AWS APIs, the simulated organization, or files.
SourceName = Literal["aws", "demo", "files"]

AccountStatus = Literal["assessed", "partial", "not_assessed", "skipped"]


@dataclass(frozen=True)
class Account:
    """An AWS account in (or out of) the audit's scope, as discovered."""

    account_id: str
    name: str = ""
    email: str = ""
    state: str = "ACTIVE"
    ou_path: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    is_management: bool = False
    # The organization root and every OU above the account, root first (organization discovery
    # only; empty otherwise and in runs recorded before it was kept): the levels whose service
    # control policies apply to the account.
    ou_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not is_account_id(self.account_id):
            raise ValueError(
                f"account id {self.account_id!r} is not 12 digits — "
                'write account ids as quoted strings, e.g. "012345678901"'
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        data = dict(data)
        data["ou_ids"] = tuple(data.get("ou_ids") or ())  # a JSON list; absent in older runs
        return cls(**data)


@dataclass
class AccountOutcome:
    """What collecting one account produced: small enough to travel between tasks."""

    account_id: str
    status: AccountStatus
    error: str | None = None
    report_generated_at: datetime | None = None
    users: int = 0
    access_keys: int = 0
    api_calls: int = 0
    calls: dict[str, int] = field(default_factory=dict)  # service:Operation -> calls made
    evidence_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.report_generated_at is not None:
            data["report_generated_at"] = self.report_generated_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccountOutcome:
        data = dict(data)
        if data.get("report_generated_at"):
            data["report_generated_at"] = datetime.fromisoformat(data["report_generated_at"])
        return cls(**data)


@dataclass
class Discovery:
    """The accounts of one run: in scope (ACTIVE), skipped (other states) and unknown ids."""

    scope: str  # organization | accounts | caller
    caller_account_id: str
    caller_arn: str
    organization_id: str | None = None
    management_account_id: str | None = None
    in_scope: list[Account] = field(default_factory=list)
    skipped: list[Account] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # configured ids the organization lacks
    note: str = ""
    # What ListAccounts answered (None when the scope is no organization listing) and the ids
    # of it the [discovery] filters left out: the reconciliation's first line adds them up.
    listed: int | None = None
    filtered_out: list[str] = field(default_factory=list)


# service:Operation -> calls, e.g. {"iam:GetCredentialReport": 1}
Calls = dict[str, int]


def add_calls(*records: Mapping[str, int]) -> Calls:
    """Several records as one (a resumed run adds its calls to the interrupted run's)."""
    total: Counter[str] = Counter()
    for record in records:
        total.update(record)
    return dict(sorted(total.items()))

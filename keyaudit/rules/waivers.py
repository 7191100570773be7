"""Waivers: accepted risks with an approver, a ticket and an expiry date.

The waiver file (config `waivers_file`) is a YAML list. Each entry waives one rule in one
account, optionally narrowed to a user (an IAM user name, `<root_account>`, or a glob pattern
such as `svc-*`) and to an access key id:

    - id: W-2026-014
      rule: ACCESS_KEY_NOT_ROTATED
      account: "111122223333"
      user: svc-legacy-*
      reason: vendor appliance cannot rotate its key; replacement ordered
      approved_by: jane.doe@example.com
      ticket: RISK-1234
      granted: 2026-09-30
      expires_on: 2027-03-31

The file is validated before a run starts; every problem is refused as `<file>:<line>: problem —
fix`. After evaluation, inside the load transaction (keyaudit.warehouse.waivers), a finding matched by a waiver that has not
expired is marked waived with the waiver id and stays in the data. `expires_on` is inclusive: the
waiver holds through 23:59:59 UTC of that day and stops at the next midnight UTC, so a run whose
as_of is that instant or later is not suppressed (an expired waiver suppresses nothing).

Exceptions are given for the keys that existed when the risk was accepted: a waiver naming a key
id covers that key only (its replacement is a new finding), and a waiver without a key id that
has a `granted` day is reopened for a key created on a later day (UTC) — that key's finding is not
suppressed and the report lists the reopening. A waiver is `needs_review` when it expires within
`review_days` (config `[waivers]`) of the run's as_of date. Each waiver is stored with the run as
`active`, `unused` (matched nothing), `reopened` (matched only keys created after it was granted)
or `expired`. User names match case-insensitively, as IAM treats them.

The file is read with bounds (it may come from anyone who can edit the configuration): only a
regular file is opened (never a pipe or a device), at most WAIVER_FILE_MAX_BYTES (1 MiB, about
3,000 waivers) is read, and YAML anchors and aliases or nesting deeper than a waiver needs are
refused (keyaudit.rules.waiver_yaml); each of those is one line, in well under a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from keyaudit.model import KeyauditError
from keyaudit.rules.catalogue import Rule
from keyaudit.rules.waiver_yaml import check_waiver_yaml
from keyaudit.safefile import FileTooLarge, NotRegularFile, read_regular

STATUSES = ("active", "unused", "reopened", "expired")
DEFAULT_REVIEW_DAYS = 14
WAIVER_FILE_MAX_BYTES = 1024 * 1024
_CHECK_FILE = "check waivers_file in the configuration and the file's permissions"


class WaiverError(KeyauditError, ValueError):
    """The waiver file cannot be used; one line per problem, each naming the line and the fix."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Waiver:
    """One accepted risk. `user_name` may be a glob pattern; `line` is its line in the file."""

    waiver_id: str
    rule_id: str
    account_id: str
    reason: str
    approved_by: str
    ticket: str
    expires_on: date
    user_name: str | None = None
    access_key_id: str | None = None
    line: int = 0
    granted_on: date | None = None

    def is_expired(self, as_of: datetime) -> bool:
        """Expired once the run's as_of date (UTC) is after expires_on; the last day still counts."""
        return self.expires_on < as_of.astimezone(UTC).date()


@dataclass(frozen=True)
class WaiverFile:
    """A validated waiver file: its waivers, and its bytes and hash for the run's evidence."""

    path: str
    content: bytes
    waivers: tuple[Waiver, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def load_waivers(path: Path | str, rules: Iterable[Rule] | Mapping[str, str]) -> WaiverFile:
    """Read and validate a waiver file against the catalogue (rules, or rule id → scope)."""
    name = str(path)
    return parse_waivers(read_waiver_bytes(path, name), name, rules)


def read_waiver_bytes(path: Path | str, name: str) -> bytes:
    """The file's bytes, refused (one line) when it is not a regular file (a link too) or
    exceeds the cap; never reads more than cap + 1 bytes, and never blocks on a FIFO."""
    try:
        content, _ = read_regular(path, WAIVER_FILE_MAX_BYTES)
    except NotRegularFile as exc:
        raise WaiverError(
            [f"{name}: the waiver file is {exc.kind}, not a regular file — {_CHECK_FILE}"]
        ) from None
    except FileTooLarge:
        raise _too_large(name) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise WaiverError(
            [f"{name}: cannot read the waiver file: {reason} — {_CHECK_FILE}"]
        ) from None
    return content


def _too_large(name: str) -> WaiverError:
    return WaiverError(
        [
            f"{name}: the waiver file is larger than {WAIVER_FILE_MAX_BYTES:,} bytes (1 MiB, "
            "about 3,000 waivers) — keep only current waivers in it (each past run keeps "
            "its own copy)"
        ]
    )


def parse_waivers(
    content: bytes | str, name: str, rules: Iterable[Rule] | Mapping[str, str]
) -> WaiverFile:
    """Validate waiver YAML; `name` is how messages refer to the file."""
    scopes = _rule_scopes(rules)
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > WAIVER_FILE_MAX_BYTES:
        raise _too_large(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise WaiverError([f"{name}:{line}: not UTF-8 text — save the file as UTF-8"]) from None
    valid, problems = check_waiver_yaml(text, name, scopes)
    if problems:
        raise WaiverError(problems)
    return WaiverFile(
        name,
        raw,
        tuple(
            Waiver(
                waiver_id=spec.id,
                rule_id=spec.rule,
                account_id=spec.account,
                user_name=spec.user,
                access_key_id=spec.key,
                reason=spec.reason,
                approved_by=spec.approved_by,
                ticket=spec.ticket,
                expires_on=spec.expires_on,
                granted_on=spec.granted,
                line=line,
            )
            for spec, line in valid
        ),
    )


def _rule_scopes(rules: Iterable[Rule] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(rules, Mapping):
        return dict(rules)
    return {rule.rule_id: rule.scope for rule in rules}

"""Deactivate the due keys of an approved plan, each only if it is as the plan saw it.

Two sessions per account, on purpose: the key is re-read (ListAccessKeys, GetAccessKeyLastUsed)
with the audit role, which may read, and changed (UpdateAccessKey to Inactive, nothing else)
with the remediation role, which may do only that (deploy/remediation-role.yaml). A key that
changed since the plan's as-of is skipped with the reason: deleted or its user gone, already
inactive, rotated (its user has a key created after the as-of), or used again after the as-of.
Nothing here deletes a key or calls any other writing API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from keyaudit.remediation.approval import Approved, ApprovedKey
from keyaudit.sources.aws.access_keys import access_key_last_used, list_access_keys
from keyaudit.sources.aws.errors import CollectionError, describe, error_code

Outcome = Literal["deactivated", "would deactivate", "skipped", "failed"]
ClientFor = Callable[[str], Any]  # account id -> an IAM client


@dataclass(frozen=True)
class KeyOutcome:
    """What became of one approved key, and why."""

    account_id: str
    user_name: str
    access_key_id: str
    outcome: Outcome
    reason: str

    def line(self) -> str:
        return (
            f"{self.outcome.upper():<16} {self.account_id} {self.user_name} "
            f"{self.access_key_id}: {self.reason}"
        )

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def remediate(
    approved: Approved,
    *,
    reader: ClientFor,
    writer: ClientFor | None,
    today: date,
) -> list[KeyOutcome]:
    """Each approved key, in account and user order: skipped before its day or when it changed
    since the plan, else deactivated (`writer` given) or only said (`writer` None: a dry run)."""
    as_of = datetime.fromisoformat(approved.plan.as_of)
    keys = sorted(approved.plan.keys, key=lambda k: (k.account_id, k.user_name, k.access_key_id))
    return [_one(key, as_of, reader, writer, today) for key in keys]


def _one(
    key: ApprovedKey, as_of: datetime, reader: ClientFor, writer: ClientFor | None, today: date
) -> KeyOutcome:
    def outcome(kind: Outcome, reason: str) -> KeyOutcome:
        return KeyOutcome(key.account_id, key.user_name, key.access_key_id, kind, reason)

    if key.deactivate_on > today:
        return outcome("skipped", f"not due: deactivated on {key.deactivate_on}, not before")
    try:
        changed = _changed_since(reader(key.account_id), key, as_of)
    except CollectionError as exc:
        return outcome("failed", f"cannot re-read the key: {exc}")
    if changed:
        return outcome("skipped", changed)
    due = f"due since {key.deactivate_on}; unchanged since the plan's as-of {as_of.isoformat()}"
    if writer is None:
        return outcome("would deactivate", due)
    try:
        writer(key.account_id).update_access_key(
            UserName=key.user_name, AccessKeyId=key.access_key_id, Status="Inactive"
        )
    except CollectionError as exc:  # the remediation role could not be assumed
        return outcome("failed", str(exc))
    except (ClientError, BotoCoreError) as exc:
        return outcome("failed", describe(exc, action="iam:UpdateAccessKey"))
    return outcome("deactivated", f"set Inactive; {due}")


def _changed_since(iam: Any, key: ApprovedKey, as_of: datetime) -> str | None:
    """Why the key is not as the plan saw it, or None."""
    try:
        listed = list_access_keys(iam, key.user_name)
    except CollectionError as exc:
        cause = exc.__cause__
        if cause is not None and error_code(cause) == "NoSuchEntity":
            return f"changed: user {key.user_name} no longer exists"
        raise
    found = next((k for k in listed if k["AccessKeyId"] == key.access_key_id), None)
    if found is None:
        return "changed: the key no longer exists (deleted since the plan)"
    if found["Status"] != "Active":
        return f"changed: the key is already {found['Status']}"
    newer = _created_after(listed, as_of)
    if newer:
        return (
            f"changed: rotated — {key.user_name} has key {newer['AccessKeyId']} created "
            f"{newer['CreateDate'].isoformat()}, after the plan's as-of"
        )
    used = access_key_last_used(iam, key.access_key_id)["LastUsedDate"]
    if used is not None and used > as_of:
        return f"changed: used again on {used.isoformat()}, after the plan's as-of"
    return None


def _created_after(listed: Iterable[dict[str, Any]], as_of: datetime) -> dict[str, Any] | None:
    return next((k for k in listed if k["CreateDate"] > as_of), None)

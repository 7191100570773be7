"""Time passing in the simulated organization: the same organization, audited again later.

`simulated_organization(as_of, changes=DemoChanges(built_at=earlier))` builds the organization
exactly as `simulated_organization(earlier)` did — same accounts, users, key ids and timestamps —
then applies what happened in between (keys rotated or deleted) and is audited at `as_of`.
Nothing else is used in between, so every age and idle time grows by `as_of - built_at`: some
findings appear, the keys that were rotated or deleted take theirs away.

`simulated_organization(as_of, anchor=first)` is how `keyaudit demo` audits the same organization
again: built as of `first` (the warehouse's first demo run), then, once per calendar month since,
the demo's own month of changes (`month_changes`: one old key in use rotated, three stale keys
deleted), each at its month's instant, so a key keeps one id and one creation time across runs
and a run shows only what the simulation changed.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from moto.iam.models import AccessKeyLastUsed, iam_backends

from keyaudit.sources.demo.iam import REGION, iam_client
from keyaudit.sources.demo.personas import (
    MAX_KEY_AGE_DAYS,
    RECENT,
    USAGE,
    KeyTruth,
    UserTruth,
    ago,
    expected_findings,
)

if TYPE_CHECKING:
    from keyaudit.sources.demo.simulated import SimulatedOrganization

# A rotated key's replacement: created this many days before the later audit, and in use.
REPLACEMENT_AGE = (5.0, 20.0)
OLD = timedelta(days=MAX_KEY_AGE_DAYS)


@dataclass(frozen=True)
class DemoChanges:
    """What happened between an earlier audit (`built_at`, its as_of) and this one."""

    built_at: datetime
    rotate_keys: tuple[str, ...] = ()  # deleted and replaced by a new key that is in use
    delete_keys: tuple[str, ...] = ()  # deleted without replacement

    def check(self, as_of: datetime) -> None:
        if self.built_at.tzinfo is None:
            raise ValueError("DemoChanges.built_at must be timezone-aware, like as_of")
        if self.built_at > as_of:
            raise ValueError(
                f"DemoChanges.built_at {self.built_at.isoformat()} is after as_of "
                f"{as_of.isoformat()} — the organization must be built before it is audited"
            )
        both = sorted(set(self.rotate_keys) & set(self.delete_keys))
        if both:
            raise ValueError(f"keys {', '.join(both)} are both rotated and deleted — pick one")


def advance(
    org: SimulatedOrganization, changes: DemoChanges, as_of: datetime, seed: int
) -> SimulatedOrganization:
    """The organization built at `changes.built_at`, changed, as it stands at `as_of`."""
    as_of = as_of.astimezone(UTC)
    changes.check(as_of)
    users = apply_changes(_iam_of(org), list(org.users), changes, as_of, seed)
    return _audited_at(org, users, as_of)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (the month's last day if shorter)."""
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    last = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last))


def month_changes(users: list[UserTruth], at: datetime, missing_account_id: str) -> DemoChanges:
    """What the organization changes in the month that ends at `at`, as its owners would: the
    first old key in use (persona old-key-in-use, in the organization's order) is rotated; the
    first idle old key, the older of the first pair of active keys and the first inactive key
    are deleted. Only in accounts the audit reaches, and picked from the truth as it stands: a
    change already made is not made again, and a month with nothing left to change changes
    nothing."""
    reached = [u for u in users if u.account_id != missing_account_id]

    def first(persona: str, wanted: Callable[[UserTruth], KeyTruth | None]) -> list[str]:
        for user in reached:
            key = wanted(user) if user.persona == persona else None
            if key is not None:
                return [key.access_key_id]
        return []

    def old_key(user: UserTruth) -> KeyTruth | None:
        return next((k for k in user.keys if k.active and at - k.created > OLD), None)

    def older_of_two(user: UserTruth) -> KeyTruth | None:
        return user.keys[0] if sum(k.active for k in user.keys) == 2 else None

    def any_key(user: UserTruth) -> KeyTruth | None:
        return user.keys[0] if user.keys else None

    deleted = [
        *first("idle-old-key", any_key),
        *first("two-active-keys", older_of_two),
        *first("inactive-key-only", any_key),
    ]
    return DemoChanges(
        built_at=at,
        rotate_keys=tuple(first("old-key-in-use", old_key)),
        delete_keys=tuple(deleted),
    )


def age_monthly(org: SimulatedOrganization, as_of: datetime, seed: int) -> SimulatedOrganization:
    """The organization built at `org.as_of` (the anchor), with the demo's month of changes
    applied at each calendar month since, as it stands at `as_of`."""
    as_of = as_of.astimezone(UTC)
    users = list(org.users)
    iam_for = _iam_of(org)
    month = 1
    while (at := add_months(org.as_of, month)) <= as_of:
        changes = month_changes(users, at, org.missing_role_account_id)
        users = apply_changes(iam_for, users, changes, at, seed)
        month += 1
    return _audited_at(org, users, as_of)


def _iam_of(org: SimulatedOrganization) -> Callable[[str], Any]:
    base = boto3.Session(region_name=REGION)
    sts = base.client("sts")
    return lambda account_id: iam_client(base, sts, account_id, org.management_account_id)


def _audited_at(
    org: SimulatedOrganization, users: list[UserTruth], as_of: datetime
) -> SimulatedOrganization:
    """The organization as it stands at `as_of`, with the truth of that instant."""
    shift = as_of - org.as_of
    return replace(
        org,
        as_of=as_of,
        users=tuple(users),
        expected=expected_findings(
            as_of,
            users,
            list(org.roots.values()),
            {org.missing_role_account_id},
            org.iam_denied_by_scp,
        ),
        report_times={account: at + shift for account, at in org.report_times.items()},
    )


def apply_changes(
    iam_for: Callable[[str], Any],
    users: list[UserTruth],
    changes: DemoChanges,
    as_of: datetime,
    seed: int,
) -> list[UserTruth]:
    """Rotate and delete keys through the IAM API of each account; return the updated truth."""
    wanted = set(changes.rotate_keys) | set(changes.delete_keys)
    unknown = wanted - {key.access_key_id for user in users for key in user.keys}
    if unknown:
        raise ValueError(
            f"demo changes name keys the simulated organization does not have: "
            f"{', '.join(sorted(unknown))} — take key ids from the earlier run's truth"
        )
    return [
        _change_user(iam_for(user.account_id), user, changes, as_of, seed)
        if any(key.access_key_id in wanted for key in user.keys)
        else user
        for user in users
    ]


def _change_user(
    iam: Any, user: UserTruth, changes: DemoChanges, as_of: datetime, seed: int
) -> UserTruth:
    # delete first: a user holds at most two keys, so a rotation needs the free slot
    gone = set(changes.rotate_keys) | set(changes.delete_keys)
    kept = [key for key in user.keys if key.access_key_id not in gone]
    for key in user.keys:
        if key.access_key_id in gone:
            iam.delete_access_key(UserName=user.user_name, AccessKeyId=key.access_key_id)
    for key in user.keys:
        if key.access_key_id in changes.rotate_keys:
            kept.append(_replacement(iam, user, key, as_of, seed))
    # moto, like the credential report, lists the remaining keys first, the new one after
    keys = tuple(replace(key, slot=slot) for slot, key in enumerate(kept, start=1))
    return replace(user, keys=keys)


def _replacement(iam: Any, user: UserTruth, old: KeyTruth, as_of: datetime, seed: int) -> KeyTruth:
    rng = random.Random(f"{seed}/rotated/{old.access_key_id}")  # noqa: S311 (demo data only)
    created = ago(as_of, rng, REPLACEMENT_AGE)
    used = ago(as_of, rng, RECENT).replace(second=0)
    service, region = rng.choice(USAGE)
    key_id = iam.create_access_key(UserName=user.user_name)["AccessKey"]["AccessKeyId"]
    fake = next(
        k
        for k in iam_backends[user.account_id]["global"].users[user.user_name].access_keys
        if k.access_key_id == key_id
    )
    fake.create_date = _naive(created)
    fake.last_used = AccessKeyLastUsed(_naive(used), service, region)
    return KeyTruth(0, created, used, service, region, True, key_id)


def _naive(moment: datetime) -> datetime:
    """moto stores naive UTC datetimes."""
    return moment.astimezone(UTC).replace(tzinfo=None)

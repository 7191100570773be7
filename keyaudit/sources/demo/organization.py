"""A deterministic AWS Organization in moto: accounts, OUs, users and keys, with ground truth.

Everything random comes from the seed: moto's own generator (account ids, key ids) is seeded
and the personas are drawn from `random.Random(seed)`, so the same seed and `as_of` give the
same organization and the same expected findings on every run.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws
from moto.iam.models import AccessKeyLastUsed, iam_backends
from moto.moto_api._internal import mock_random
from moto.organizations.models import organizations_backends

from keyaudit.model import Account
from keyaudit.sources.demo.changes import DemoChanges, advance, age_monthly
from keyaudit.sources.demo.credentials import create_credentials
from keyaudit.sources.demo.iam import REGION, ROLE_NAME, grant, iam_client
from keyaudit.sources.demo.moto_service_credentials import install as install_service_credentials
from keyaudit.sources.demo.personas import (
    ROOT_RECENT,
    USAGE,
    RootTruth,
    UserTruth,
    ago,
    expected_findings,
    owner_tags,
    plan_users,
)
from keyaudit.sources.demo.simulated import SimulatedOrganization

OU_PATHS = ("Root/Security", "Root/Workloads/Prod", "Root/Workloads/Dev", "Root/Sandbox")
MEMBER_SLOTS = (
    ("security-tooling", "Root/Security"),
    ("log-archive", "Root/Security"),
    ("payments-prod", "Root/Workloads/Prod"),
    ("identity-prod", "Root/Workloads/Prod"),
    ("data-platform-prod", "Root/Workloads/Prod"),
    ("payments-dev", "Root/Workloads/Dev"),
    ("data-platform-dev", "Root/Workloads/Dev"),
    ("sandbox-ml", "Root/Sandbox"),
)
SUSPENDED_SLOT = ("sandbox-legacy", "Root/Sandbox")
# Service control policies: enabled at the root (FullAWSAccess stays attached everywhere, as AWS
# does), and a customer SCP denying every IAM action attached to the Sandbox OU, so principals of
# the accounts below it (sandbox-ml) can do nothing in IAM whatever their own policies allow.
DENY_IAM_SCP_OU = "Root/Sandbox"
DENY_IAM_SCP_NAME = "SandboxDenyIAM"
DENY_IAM_SCP_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "DenyIAM", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}],
}
_OWNERS = ("platform-team", "security-team", "payments-team", "data-team", "identity-team")
_COST_CENTERS = ("CC-1040", "CC-2210", "CC-2250", "CC-3100", "CC-4400")

_ENV_SET = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials, never real ones
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,  # keep the user's profiles and endpoints out of the demo
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_ENV_UNSET = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_ORGANIZATIONS",
)  # fmt: skip


@contextmanager
def simulated_organization(
    as_of: datetime,
    *,
    seed: int = 7,
    members: int = 8,
    users_per_account: int = 14,
    changes: DemoChanges | None = None,
    anchor: datetime | None = None,
) -> Iterator[SimulatedOrganization]:
    """Start moto, build the organization, and yield it; everything is undone on exit.

    With `changes`, the organization is built as of `changes.built_at` (an earlier audit) and
    changed since then (keys rotated or deleted), then audited at `as_of`: see demo.changes.
    With `anchor` (the first audit of this organization), it is built as of `anchor` and lives
    the demo's own months until `as_of` (demo.changes.age_monthly): every audit of one anchor
    sees the same keys, with the same ids and creation times.
    """
    if as_of.tzinfo is None or (anchor is not None and anchor.tzinfo is None):
        raise ValueError("as_of must be timezone-aware, e.g. datetime(2026, 1, 31, tzinfo=UTC)")
    if members < 3 or users_per_account < 1:
        raise ValueError("the demo needs at least 3 members and 1 user per account")
    if changes is not None and anchor is not None:
        raise ValueError("give the simulated organization changes or an anchor, not both")
    if anchor is not None and anchor > as_of:
        raise ValueError(
            f"the simulated organization's anchor {anchor.isoformat()} is after as_of "
            f"{as_of.isoformat()} — it must be built before it is audited"
        )
    with _aws_environment():
        mock = mock_aws()
        mock.start()
        try:
            if getattr(type(mock), "_nested_count", 1) > 1:
                raise RuntimeError(
                    "simulated_organization cannot run inside another active moto mock_aws: "
                    "it needs moto's state to itself — leave the outer mock first"
                )
            install_service_credentials()  # moto 5.2 lacks them: demo.moto_service_credentials
            mock_random.seed(seed)
            built_at = (changes.built_at if changes else anchor or as_of).astimezone(UTC)
            org = _build(built_at, seed, members, users_per_account)
            if changes is not None:
                org = advance(org, changes, as_of, seed)
            elif built_at != as_of:
                org = age_monthly(org, as_of, seed)
            yield org
        finally:
            mock.stop()


@contextmanager
def _aws_environment() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in (*_ENV_SET, *_ENV_UNSET)}
    os.environ.update(_ENV_SET)
    for name in _ENV_UNSET:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def demo_random(seed: int | str) -> random.Random:
    """The demo's data generator: reproducible, and never used for secrets."""
    return random.Random(seed)  # noqa: S311


def _naive(moment: datetime) -> datetime:
    """moto stores naive UTC datetimes."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _build(
    as_of: datetime, seed: int, members: int, users_per_account: int
) -> SimulatedOrganization:
    rng = demo_random(seed)
    base = boto3.Session(region_name=REGION)
    org = base.client("organizations")
    sts = base.client("sts")
    management = sts.get_caller_identity()["Account"]
    org.create_organization(FeatureSet="ALL")
    ou_ids = _create_ous(org)

    slots = []
    for i in range(members):
        name, path = MEMBER_SLOTS[i % len(MEMBER_SLOTS)]
        lap = i // len(MEMBER_SLOTS)
        slots.append((f"{name}-{lap + 1}" if lap else name, path))
    ages = sorted(rng.sample(range(1000, 2600), members + 2), reverse=True)
    backend = organizations_backends[management]["aws"]
    accounts = [_describe(backend, management, "management", "Root", ages[0], rng, as_of)]
    _tag(org, management, accounts[0].tags)
    for (name, path), age in zip([*slots, SUSPENDED_SLOT], ages[1:], strict=True):
        tags = _tags(rng)
        status = org.create_account(
            AccountName=name,
            Email=f"aws+{name}@example.com",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["CreateAccountStatus"]
        account_id = status["AccountId"]
        org.move_account(
            AccountId=account_id,
            SourceParentId=ou_ids["Root"],
            DestinationParentId=ou_ids[path],
        )
        if (name, path) == SUSPENDED_SLOT:
            org.close_account(AccountId=account_id)
        accounts.append(_describe(backend, account_id, name, path, age, rng, as_of))

    active = [a for a in accounts if a.state == "ACTIVE"]
    member_ids = [a.account_id for a in active if not a.is_management]
    # three different members: one unreachable, one with a root key, one without root MFA
    missing, root_key, root_no_mfa = rng.sample(member_ids, 3)
    special = {root_key: "root-key", root_no_mfa: "root-without-mfa"}
    roots = {
        a.account_id: _root(rng, as_of, a, _joined(backend, a), special.get(a.account_id))
        for a in active
    }

    users: list[UserTruth] = []
    for account in active:
        iam = iam_client(base, sts, account.account_id, management)
        planned = plan_users(rng, as_of, account.account_id, users_per_account)
        users += _create_users(iam, account.account_id, planned)
        if account.account_id == missing:
            iam.delete_role(RoleName=ROLE_NAME)

    _service_control_policies(org, ou_ids)
    report_times = {
        a.account_id: as_of
        - timedelta(minutes=demo_random(f"{seed}/{a.account_id}").randint(20, 200))
        for a in active
    }
    iam_denied = frozenset(
        a.account_id for a in active if f"{a.ou_path}/".startswith(f"{DENY_IAM_SCP_OU}/")
    )
    return SimulatedOrganization(
        as_of=as_of,
        management_account_id=management,
        accounts=accounts,
        missing_role_account_id=missing,
        expected=expected_findings(as_of, users, list(roots.values()), {missing}, iam_denied),
        users=tuple(users),
        roots=roots,
        report_times=report_times,
        iam_denied_by_scp=iam_denied,
    )


def _service_control_policies(org: Any, ou_ids: dict[str, str]) -> None:
    """Enable SCPs at the root and attach the deny-IAM SCP to its OU. moto's random generator is
    left as it was: the ids it makes afterwards (keys rotated by demo.changes) stay the same as
    before the organization had SCPs."""
    state = mock_random.getstate()
    try:
        org.enable_policy_type(RootId=ou_ids["Root"], PolicyType="SERVICE_CONTROL_POLICY")
        created = org.create_policy(
            Name=DENY_IAM_SCP_NAME,
            Description="Sandbox accounts may not use IAM",
            Type="SERVICE_CONTROL_POLICY",
            Content=json.dumps(DENY_IAM_SCP_DOCUMENT),
        )
        policy_id = created["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=policy_id, TargetId=ou_ids[DENY_IAM_SCP_OU])
    finally:
        mock_random.setstate(state)


def _create_ous(org: Any) -> dict[str, str]:
    ids = {"Root": org.list_roots()["Roots"][0]["Id"]}
    for path in OU_PATHS:
        parts = path.split("/")
        for depth in range(2, len(parts) + 1):
            parent, here = "/".join(parts[: depth - 1]), "/".join(parts[:depth])
            if here not in ids:
                ou = org.create_organizational_unit(ParentId=ids[parent], Name=parts[depth - 1])
                ids[here] = ou["OrganizationalUnit"]["Id"]
    return ids


def _tags(rng: random.Random) -> dict[str, str]:
    return {
        "owner-email": f"{rng.choice(_OWNERS)}@example.com",
        "cost-center": rng.choice(_COST_CENTERS),
    }


def _tag(org: Any, account_id: str, tags: dict[str, str]) -> None:
    org.tag_resource(ResourceId=account_id, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


def _describe(
    backend: Any,
    account_id: str,
    name: str,
    path: str,
    age: int,
    rng: random.Random,
    as_of: datetime,
) -> Account:
    """Pin the account's join date (moto uses the wall clock) and return it as discovered."""
    fake = backend.get_account_by_id(account_id)
    is_management = path == "Root"
    if is_management:
        fake.name, fake.email = name, f"aws+{name}@example.com"
    fake.create_time = _naive(as_of - timedelta(days=age, seconds=rng.randint(0, 86399)))
    tags = dict(fake.tags) if not is_management else _tags(rng)
    return Account(account_id, fake.name, fake.email, fake.state, path, tags, is_management)


def _joined(backend: Any, account: Account) -> datetime:
    return backend.get_account_by_id(account.account_id).create_time.replace(tzinfo=UTC)


def _root(
    rng: random.Random, as_of: datetime, account: Account, joined: datetime, special: str | None
) -> RootTruth:
    """Root users: MFA on and never signed in, except the management (signed in within the
    last day) and the special ones."""
    if account.is_management:  # someone signed in as root this morning
        used = ago(as_of, rng, ROOT_RECENT).replace(second=0)
        return RootTruth(account.account_id, joined, password_last_used=used)
    if special == "root-without-mfa":
        used = ago(as_of, rng, (100, 300)).replace(second=0)
        return RootTruth(account.account_id, joined, mfa_active=False, password_last_used=used)
    if special == "root-key":
        service, region = rng.choice(USAGE)
        return RootTruth(
            account.account_id, joined,
            key_created=ago(as_of, rng, (400, 900)),
            key_last_used=ago(as_of, rng, (2, 20)).replace(second=0),
            key_service=service, key_region=region,
        )  # fmt: skip
    return RootTruth(account.account_id, joined)


def _create_users(iam: Any, account_id: str, planned: list[UserTruth]) -> list[UserTruth]:
    """Create the users through the API, then backdate them in moto's backend."""
    backend = iam_backends[account_id]["global"]
    created = []
    for user in planned:
        name = user.user_name
        iam.create_user(UserName=name)
        grant(iam, account_id, name, user.grants)
        if user.console:
            iam.create_login_profile(UserName=name, Password="Demo-Passw0rd!")  # noqa: S106
        if user.mfa:
            device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
            iam.enable_mfa_device(
                UserName=name,
                SerialNumber=device["SerialNumber"],
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
            backend.virtual_mfa_devices[device["SerialNumber"]].enable_date = _naive(
                user.created + timedelta(hours=1)
            )
        key_ids = []
        for key in user.keys:
            key_id = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
            if not key.active:
                iam.update_access_key(UserName=name, AccessKeyId=key_id, Status="Inactive")
            key_ids.append(key_id)
        fake = backend.users[name]
        fake.create_date = _naive(user.created)
        last_used = _naive(user.password_last_used) if user.password_last_used else None
        fake.password_last_used = last_used  # type: ignore[assignment]  # moto annotates it None
        for fake_key, key in zip(fake.access_keys, user.keys, strict=True):
            fake_key.create_date = _naive(key.created)
            fake_key.last_used = (
                AccessKeyLastUsed(_naive(key.last_used), key.service, key.region)
                if key.last_used
                else None
            )
        user = user.with_key_ids(key_ids)
        tags = owner_tags(user)
        if tags:
            iam.tag_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        created.append(create_credentials(iam, account_id, user))
    return created

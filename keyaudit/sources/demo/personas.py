"""The demo's people and machines: one table of personas, turned into users and ground truth.

Every user of the simulated organization is drawn from `PERSONAS`; the same realized plan
creates the user in moto and yields the findings keyaudit must report, so the truth is never
maintained twice. Ages are in days before `as_of` and every range keeps at least one day away
from each rule threshold (half a day from the one-day root-use window), so no finding depends on
rounding. Together the personas and the root users make every rule of the catalogue fire.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from keyaudit.model import ROOT_USER
from keyaudit.rules.catalogue import default_parameter

Days = tuple[float, float]

# Rule thresholds that demo ages must stay clear of: the catalogue's defaults (sql/rules/*.yml),
# read from there, so a changed default moves the demo's ground truth with it.
MAX_KEY_AGE_DAYS = default_parameter("ACCESS_KEY_NOT_ROTATED", "max_key_age_days")
MAX_UNUSED_DAYS = default_parameter("ACCESS_KEY_UNUSED", "max_unused_days")
NEVER_USED_GRACE_DAYS = default_parameter("ACCESS_KEY_NEVER_USED", "grace_days")
INACTIVE_KEY_DAYS = default_parameter("INACTIVE_KEY_NOT_REMOVED", "max_inactive_days")
PASSWORD_UNUSED_DAYS = default_parameter("PASSWORD_UNUSED", "max_unused_days")
ROOT_RECENT_USE_DAYS = default_parameter("ROOT_USED_RECENTLY", "recent_use_days")
MAX_SSH_KEY_AGE_DAYS = default_parameter("SSH_PUBLIC_KEY_NOT_ROTATED", "max_ssh_key_age_days")
MAX_SERVICE_CREDENTIAL_AGE_DAYS = default_parameter(
    "SERVICE_CREDENTIAL_NOT_ROTATED", "max_credential_age_days"
)
MAX_CERTIFICATE_AGE_DAYS = default_parameter(
    "SIGNING_CERTIFICATE_NOT_ROTATED", "max_certificate_age_days"
)
# Last use is always older than this, so it precedes the report's GeneratedTime.
MIN_USE_AGE_DAYS = 0.25

RECENT: Days = (0.25, 1.5)  # "used yesterday"
ROOT_RECENT: Days = (0.25, 0.5)  # a root sign-in this morning: within the one-day window
USAGE = (("s3", "us-east-1"), ("ec2", "eu-west-1"), ("sts", "us-east-1"), ("iam", "N/A"))


@dataclass(frozen=True)
class KeyPlan:
    """One access key of a persona, in creation order (slot 1 first)."""

    age: Days
    used: Days | None = None  # None: never used
    active: bool = True
    at_user_creation: bool = False  # created in the same second as its user


@dataclass(frozen=True)
class CredentialPlan:
    """A long-term credential besides access keys (issue 22.1): an SSH public key, a
    service-specific credential of `service` (expiring `expires_days` after creation: Bedrock
    API keys only) or a signing certificate."""

    kind: str  # ssh_public_key | service_specific_credential | signing_certificate
    age: Days
    service: str | None = None
    expires_days: int | None = None


@dataclass(frozen=True)
class Persona:
    kind: str
    description: str
    human: bool = False
    console: bool = False
    mfa: bool = False
    password_used: Days | None = None  # console users only; None: never signed in
    keys: tuple[KeyPlan, ...] = ()
    user_age: Days = (60, 900)  # users without keys; else counted from the oldest key
    # permissions (demo.iam.grant): "aws:<AWS-managed policy>", "group:<name>", "inline:<name>",
    # "customer:<name>", a role ("role:<name>") or group ("makegroup:<name>") made to exist; and
    # what the effective-privilege evaluation must say: admin | escalation | other
    grants: tuple[str, ...] = ()
    expected_privilege: str = "other"
    # who owns the keys before the account's owner (owner_tags): "user_tag" (an address in the
    # user's owner tag), "key_description" (an address as the first key's description), or
    # "not_an_address" (an owner tag that names a team, which falls through to the account)
    owned_by: str | None = None
    credentials: tuple[CredentialPlan, ...] = ()  # SSH keys, service credentials, certificates


SSH, SERVICE, CERTIFICATE = "ssh_public_key", "service_specific_credential", "signing_certificate"
CODECOMMIT, BEDROCK = "codecommit.amazonaws.com", "bedrock.amazonaws.com"

PERSONAS: tuple[Persona, ...] = (
    Persona("rotated-in-use", "recently rotated key used yesterday",
            keys=(KeyPlan((10, 80), RECENT),)),
    Persona("old-key-in-use", "key older than 90 days, used yesterday; owner tag on the user",
            keys=(KeyPlan((120, 900), RECENT),), owned_by="user_tag"),
    Persona("idle-old-key", "old key idle for months; its description names its owner",
            keys=(KeyPlan((200, 900), (60, 180)),), owned_by="key_description"),
    Persona("idle-rotated-key", "key younger than 90 days, idle since 50+ days",
            keys=(KeyPlan((70, 85), (50, 65)),)),
    Persona("never-used-old-key", "key created long ago, never used; owner tag names a team",
            keys=(KeyPlan((100, 500)),), owned_by="not_an_address"),
    Persona("new-unused-key", "key created two days ago, not used yet",
            keys=(KeyPlan((2.0, 2.4)),)),
    Persona("two-active-keys", "rotation left half-done: two active keys",
            keys=(KeyPlan((100, 400), (2, 20)), KeyPlan((10, 40), RECENT))),
    Persona("rotated-inactive-old", "old key deactivated, not deleted; new key in use",
            keys=(KeyPlan((200, 600), (50, 88), active=False), KeyPlan((10, 40), RECENT))),
    Persona("inactive-key-only", "only an old inactive key",
            keys=(KeyPlan((150, 500), (100, 140), active=False),)),
    Persona("console-no-mfa", "console user without MFA", human=True, console=True,
            password_used=(1.5, 30)),
    Persona("console-setup-key", "console user, no MFA, key made with the user, never used",
            human=True, console=True,
            keys=(KeyPlan((150, 700), at_user_creation=True),)),
    Persona("console-mfa", "console user with MFA", human=True, console=True, mfa=True,
            password_used=(0.25, 10)),
    Persona("console-mfa-key", "console user with MFA and a fresh key in use", human=True,
            console=True, mfa=True, password_used=(1, 19), keys=(KeyPlan((20, 85), (0.5, 15)),)),
    Persona("console-mfa-stale", "console user with MFA, password unused for months",
            human=True, console=True, mfa=True, password_used=(60, 200), user_age=(250, 900)),
    Persona("no-credentials", "service user without password or keys", user_age=(10, 900)),
    # each way to be an administrator, and a read-only user (issue 15.2)
    Persona("admin-direct", "AdministratorAccess attached to the user, old key in use",
            keys=(KeyPlan((120, 900), RECENT),), grants=("aws:AdministratorAccess",),
            expected_privilege="admin"),
    Persona("admin-group", "administrator through the admins group, fresh key in use",
            keys=(KeyPlan((10, 80), RECENT),), grants=("group:admins",),
            expected_privilege="admin"),
    Persona("admin-inline-star", "inline policy allowing * on *, old key idle for months",
            keys=(KeyPlan((200, 900), (60, 180)),), grants=("inline:allow-everything",),
            expected_privilege="admin"),
    Persona("admin-iam-star", "customer-managed policy allowing iam:* on *, key in use",
            keys=(KeyPlan((10, 80), RECENT),), grants=("customer:iam-full-access",),
            expected_privilege="admin"),
    Persona("admin-inactive-key", "administrator through a group whose only key is inactive",
            keys=(KeyPlan((150, 500), (100, 140), active=False),), grants=("group:admins",),
            expected_privilege="admin"),
    Persona("admin-no-keys", "console administrator with MFA and no keys", human=True,
            console=True, mfa=True, password_used=(0.25, 10), grants=("aws:AdministratorAccess",),
            expected_privilege="admin"),
    Persona("read-only-old-key", "ReadOnlyAccess attached, key older than 90 days in use",
            keys=(KeyPlan((120, 900), RECENT),), grants=("aws:ReadOnlyAccess",)),
    # effective privilege as IAM evaluates it (issue 19): each case the string match got wrong
    Persona("admin-iam-arn", "inline iam:* on arn:aws:iam::*:* (not on *), fresh key in use",
            keys=(KeyPlan((10, 80), RECENT),), grants=("inline:iam-on-iam-arns",),
            expected_privilege="admin"),
    Persona("admin-not-resource", "inline Allow * on every resource but one bucket, key in use",
            keys=(KeyPlan((10, 80), RECENT),), grants=("inline:everything-but-one-bucket",),
            expected_privilege="admin"),
    Persona("admin-conditional", "inline iam:* on * only with MFA (conditional), key in use",
            keys=(KeyPlan((10, 80), RECENT),), grants=("inline:iam-with-mfa",),
            expected_privilege="admin"),
    Persona("admin-denied", "AdministratorAccess and AWSDenyAll: no administrator, key in use",
            keys=(KeyPlan((10, 80), RECENT),), grants=("aws:AdministratorAccess", "aws:AWSDenyAll")),
    Persona("escalation-self-attach", "may attach any policy to itself (${aws:username}), key in use",
            keys=(KeyPlan((10, 80), RECENT),), grants=("inline:attach-to-self",),
            expected_privilege="escalation"),
    Persona("escalation-amplify", "AdministratorAccess-Amplify: may create a role and assume it",
            keys=(KeyPlan((10, 80), RECENT),), grants=("aws:AdministratorAccess-Amplify",),
            expected_privilege="escalation"),
    Persona("escalation-pass-role", "may pass the ec2-admin role to EC2 and run instances",
            keys=(KeyPlan((10, 80), RECENT),), grants=("role:ec2-admin", "inline:pass-ec2-admin"),
            expected_privilege="escalation"),
    Persona("escalation-join-admins", "may add itself to the admins group, key in use",
            keys=(KeyPlan((10, 80), RECENT),), grants=("makegroup:admins", "inline:join-admins"),
            expected_privilege="escalation"),
    Persona("quarantined-key", "AWS attached AWSCompromisedKeyQuarantineV2: its key leaked",
            keys=(KeyPlan((10, 80), RECENT),),
            grants=("aws:ReadOnlyAccess", "aws:AWSCompromisedKeyQuarantineV2")),
    # long-term credentials besides access keys (issue 22.1); no API reports their last use
    Persona("old-ssh-key", "SSH public key for CodeCommit uploaded long ago", user_age=(950, 1400),
            credentials=(CredentialPlan(SSH, (120, 900)),)),
    Persona("idle-codecommit-credential", "CodeCommit Git credential made long ago for a "
            "departed tool; nobody can say when it was last used", user_age=(950, 1400),
            credentials=(CredentialPlan(SERVICE, (150, 700), CODECOMMIT),)),
    Persona("bedrock-key-no-expiry", "Bedrock API key created without an expiry, and a "
            "second one that expires", user_age=(100, 400),
            credentials=(CredentialPlan(SERVICE, (20, 60), BEDROCK),
                         CredentialPlan(SERVICE, (5, 15), BEDROCK, expires_days=30))),
    Persona("old-signing-certificate", "X.509 signing certificate uploaded years ago",
            user_age=(950, 1400), credentials=(CredentialPlan(CERTIFICATE, (400, 900)),)),
)  # fmt: skip

QUARANTINE_GRANTS = frozenset(
    f"aws:{name}"
    for name in (
        "AWSCompromisedKeyQuarantine",
        "AWSCompromisedKeyQuarantineV2",
        "AWSCompromisedKeyQuarantineV3",
    )
)


@dataclass(frozen=True)
class KeyTruth:
    slot: int
    created: datetime
    last_used: datetime | None
    service: str
    region: str
    active: bool
    access_key_id: str = ""  # known once moto created the key


@dataclass(frozen=True)
class CredentialTruth:
    kind: str  # as CredentialPlan.kind
    created: datetime
    service: str | None = None
    expires: datetime | None = None
    credential_id: str = ""  # known once moto created it


@dataclass(frozen=True)
class UserTruth:
    account_id: str
    user_name: str
    persona: str
    created: datetime
    console: bool
    mfa: bool
    password_last_used: datetime | None
    keys: tuple[KeyTruth, ...]
    password_set: datetime | None = None  # the console password's last change (console users)
    grants: tuple[str, ...] = ()  # as the persona's
    expected_privilege: str = "other"  # admin | escalation | other (effective privilege)
    owned_by: str | None = None  # as the persona's
    credentials: tuple[CredentialTruth, ...] = ()

    def with_credential_ids(self, ids: list[str]) -> UserTruth:
        found = tuple(
            replace(c, credential_id=i) for c, i in zip(self.credentials, ids, strict=True)
        )
        return replace(self, credentials=found)

    def with_key_ids(self, key_ids: list[str]) -> UserTruth:
        keys = tuple(replace(k, access_key_id=i) for k, i in zip(self.keys, key_ids, strict=True))
        return replace(self, keys=keys)


@dataclass(frozen=True)
class RootTruth:
    """What AWS knows about an account's root user (moto has no root user)."""

    account_id: str
    created: datetime
    mfa_active: bool = True
    password_last_used: datetime | None = None  # None: no_information
    key_created: datetime | None = None  # an active root access key, slot 1
    key_last_used: datetime | None = None
    key_service: str = "N/A"
    key_region: str = "N/A"


@dataclass(frozen=True)
class ExpectedFinding:
    rule_id: str
    account_id: str
    user_name: str | None  # ROOT_USER for root findings, None for account-level
    key_slot: int | None  # 1 or 2 for key findings (credential report slot)
    access_key_id: str | None  # moto's id for IAM-user keys; None for root / non-key findings


# The IAM user tag the demo names owners with: [owners] user_tag's default.
OWNER_TAG = "owner"


def owner_tags(user: UserTruth) -> dict[str, str]:
    """The tags that name the owner of the user's keys (after its keys exist, for their ids)."""
    if user.owned_by == "user_tag":
        return {OWNER_TAG: f"{user.user_name}-owner@example.com"}
    if user.owned_by == "key_description" and user.keys:
        return {user.keys[0].access_key_id: f"{user.user_name}-key-owner@example.com"}
    if user.owned_by == "not_an_address":
        return {OWNER_TAG: "platform team"}
    return {}


def expected_key_owner(user: UserTruth, key: KeyTruth) -> tuple[str | None, str | None]:
    """(owner, owner_source) of a key when its owner is not its account's; else (None, None)."""
    tags = owner_tags(user)
    if user.owned_by == "user_tag":
        return tags[OWNER_TAG], "user_tag"
    if key.access_key_id in tags:
        return tags[key.access_key_id], "key_description"
    return None, None


# A user with keys is created 1 hour to 40 days before its first key (see realize_user).
USER_BEFORE_KEY: Days = (1 / 24, 40)


def user_age_range(persona: Persona) -> Days:
    """The range of the user's age, which is also its console password's age (set at creation)."""
    if not persona.keys:
        return persona.user_age
    first = persona.keys[0]
    if first.at_user_creation:
        return first.age
    return (first.age[0] + USER_BEFORE_KEY[0], first.age[1] + USER_BEFORE_KEY[1])


def margin(threshold: float) -> float:
    """How far (days) a demo age keeps from a threshold: a day, or half of a shorter window."""
    return min(1.0, threshold / 2)


def _guarded(persona: Persona) -> list[tuple[Days, tuple[int, ...]]]:
    """Each range of a persona with the thresholds a rule compares it with."""
    pairs: list[tuple[Days, tuple[int, ...]]] = []
    for key in persona.keys:
        inactive = () if key.active else (INACTIVE_KEY_DAYS,)
        never = (NEVER_USED_GRACE_DAYS, MAX_UNUSED_DAYS) if key.used is None else ()
        pairs.append((key.age, (MAX_KEY_AGE_DAYS, *never, *inactive)))
        if key.used:
            pairs.append((key.used, (MAX_UNUSED_DAYS, *inactive)))
    limits = {
        SSH: MAX_SSH_KEY_AGE_DAYS,
        SERVICE: MAX_SERVICE_CREDENTIAL_AGE_DAYS,
        CERTIFICATE: MAX_CERTIFICATE_AGE_DAYS,
    }
    pairs += [(c.age, (limits[c.kind],)) for c in persona.credentials]
    if persona.password_used:
        pairs.append((persona.password_used, (PASSWORD_UNUSED_DAYS,)))
    elif persona.console:  # never signed in: idle since the password was set
        pairs.append((user_age_range(persona), (PASSWORD_UNUSED_DAYS,)))
    return pairs


def _check_ranges(persona: Persona) -> None:
    """Fail at import when a range could land within a day of a threshold or be inconsistent."""
    for (lo, hi), thresholds in _guarded(persona):
        near = [t for t in thresholds if not (hi <= t - margin(t) or lo >= t + margin(t))]
        if near or lo > hi or lo < MIN_USE_AGE_DAYS:
            raise ValueError(f"persona {persona.kind}: range {(lo, hi)} is ambiguous near {near}")
    for key in persona.keys:
        if key.used and key.used[1] >= key.age[0]:
            raise ValueError(f"persona {persona.kind}: a key is used before it exists")
    for older, newer in zip(persona.keys, persona.keys[1:], strict=False):
        if older.age[0] <= newer.age[1]:
            raise ValueError(f"persona {persona.kind}: keys are not in creation order")
    if any(c.age[1] >= persona.user_age[0] for c in persona.credentials) and not persona.keys:
        raise ValueError(f"persona {persona.kind}: a credential exists before its user")
    oldest = persona.keys[0].age[0] if persona.keys else persona.user_age[0]
    if persona.password_used and persona.password_used[1] >= oldest:
        raise ValueError(f"persona {persona.kind}: password used before the user exists")


for _persona in PERSONAS:
    _check_ranges(_persona)
if not ROOT_RECENT[1] <= ROOT_RECENT_USE_DAYS - margin(ROOT_RECENT_USE_DAYS):
    raise ValueError(f"ROOT_RECENT {ROOT_RECENT} is too close to {ROOT_RECENT_USE_DAYS} day")

# fmt: off
_FIRST = ("ana", "ben", "chen", "dara", "emil", "fatima", "goran", "hana", "ivan", "jules",
          "kofi", "lena", "mateo", "nora", "omar", "priya", "quinn", "rosa", "sven", "tara")
_LAST = ("almeida", "brandt", "costa", "dubois", "eriksen", "fischer", "garcia", "haddad",
         "ito", "jensen", "kowalski", "lopez", "moreau", "nakamura", "okafor", "petrov")
_APPS = ("billing", "etl", "backup", "deploy", "grafana", "jenkins", "terraform", "reports",
         "ingest", "search", "mailer", "payments", "scanner", "exporter", "sync", "ledger")
# fmt: on


def ago(as_of: datetime, rng: random.Random, days: Days) -> datetime:
    """A whole-second instant `days` (drawn from the range) before as_of."""
    seconds = rng.randint(int(days[0] * 86400), int(days[1] * 86400))
    return as_of - timedelta(seconds=seconds)


def _user_name(rng: random.Random, persona: Persona, taken: set[str]) -> str:
    if persona.human:
        base = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}"
    else:
        base = f"svc-{rng.choice(_APPS)}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


def realize_user(
    rng: random.Random, as_of: datetime, account_id: str, persona: Persona, name: str
) -> UserTruth:
    """Draw concrete timestamps for one persona (key ids are filled in after creation)."""
    keys: list[KeyTruth] = []
    for slot, plan in enumerate(persona.keys, start=1):
        created = ago(as_of, rng, plan.age)
        if plan.used:
            used = ago(as_of, rng, plan.used).replace(second=0)  # minute granularity
            service, region = rng.choice(USAGE)
        else:
            used, service, region = None, "N/A", "N/A"
        keys.append(KeyTruth(slot, created, used, service, region, plan.active))
    if persona.keys and persona.keys[0].at_user_creation:
        created = keys[0].created
    elif keys:
        before = rng.randint(int(USER_BEFORE_KEY[0] * 86400), int(USER_BEFORE_KEY[1] * 86400))
        created = keys[0].created - timedelta(seconds=before)
    else:
        created = ago(as_of, rng, persona.user_age)
    password_used = None
    if persona.password_used:
        password_used = ago(as_of, rng, persona.password_used).replace(second=0)
    credentials = []
    for wanted in persona.credentials:
        made = ago(as_of, rng, wanted.age)
        expires = made + timedelta(days=wanted.expires_days) if wanted.expires_days else None
        credentials.append(CredentialTruth(wanted.kind, made, wanted.service, expires))
    return UserTruth(
        account_id=account_id,
        user_name=name,
        persona=persona.kind,
        created=created,
        console=persona.console,
        mfa=persona.mfa,
        password_last_used=password_used,
        keys=tuple(keys),
        password_set=created if persona.console else None,  # login profile made with the user
        grants=persona.grants,
        expected_privilege=persona.expected_privilege,
        owned_by=persona.owned_by,
        credentials=tuple(credentials),
    )


def plan_users(rng: random.Random, as_of: datetime, account_id: str, count: int) -> list[UserTruth]:
    """`count` users of one account: every persona once (shuffled) before any repeats."""
    order = list(PERSONAS)
    rng.shuffle(order)
    chosen = [order[i] if i < len(order) else rng.choice(PERSONAS) for i in range(count)]
    taken: set[str] = set()
    return [realize_user(rng, as_of, account_id, p, _user_name(rng, p, taken)) for p in chosen]


def expected_findings(
    as_of: datetime,
    users: list[UserTruth],
    roots: list[RootTruth],
    not_assessed: set[str],
    iam_denied: frozenset[str] = frozenset(),
) -> frozenset[ExpectedFinding]:
    """The findings keyaudit must report, derived from the same truth that built the users."""
    found: set[ExpectedFinding] = set()
    for account in not_assessed:
        found.add(ExpectedFinding("ACCOUNT_NOT_ASSESSED", account, None, None, None))
    for root in roots:
        if root.account_id not in not_assessed:
            found.update(_root_findings(as_of, root))
    for user in users:
        if user.account_id not in not_assessed:
            found.update(_user_findings(as_of, user, iam_denied=user.account_id in iam_denied))
    return frozenset(found)


def _over(as_of: datetime, moment: datetime, days: int) -> bool:
    """The rules' comparison: the interval as_of - moment is strictly longer than `days`."""
    return as_of - moment > timedelta(days=days)


def _root_findings(as_of: datetime, root: RootTruth) -> list[ExpectedFinding]:
    account, found = root.account_id, []
    if root.key_created is not None:
        found.append(ExpectedFinding("ROOT_ACCESS_KEY_PRESENT", account, ROOT_USER, 1, None))
    if not root.mfa_active:
        found.append(ExpectedFinding("ROOT_MFA_DISABLED", account, ROOT_USER, None, None))
    uses = [t for t in (root.password_last_used, root.key_last_used) if t is not None]
    if any(not _over(as_of, t, ROOT_RECENT_USE_DAYS) for t in uses):
        found.append(ExpectedFinding("ROOT_USED_RECENTLY", account, ROOT_USER, None, None))
    return found


def _user_findings(
    as_of: datetime, user: UserTruth, *, iam_denied: bool = False
) -> list[ExpectedFinding]:
    """`iam_denied`: an SCP of the account's chain denies iam:*, so no user there is an
    administrator or one step from it."""
    found = []
    privileged = user.expected_privilege in ("admin", "escalation") and not iam_denied
    for key in user.keys:
        if not key.active:
            if _over(as_of, key.created, INACTIVE_KEY_DAYS):
                found.append(_key_finding("INACTIVE_KEY_NOT_REMOVED", user, key))
            continue
        if _over(as_of, key.created, MAX_KEY_AGE_DAYS):
            found.append(_key_finding("ACCESS_KEY_NOT_ROTATED", user, key))
        if _over(as_of, key.last_used or key.created, MAX_UNUSED_DAYS):
            found.append(_key_finding("ACCESS_KEY_UNUSED", user, key))
        if key.last_used is None and _over(as_of, key.created, NEVER_USED_GRACE_DAYS):
            found.append(_key_finding("ACCESS_KEY_NEVER_USED", user, key))
        if user.console and key.last_used is None and key.created == user.created:
            found.append(_key_finding("ACCESS_KEY_CREATED_AT_SETUP", user, key))
        if privileged:  # the demo collects privilege in every account
            found.append(_key_finding("ACCESS_KEY_ON_PRIVILEGED_USER", user, key))
        if QUARANTINE_GRANTS & set(user.grants):
            found.append(_key_finding("ACCESS_KEY_QUARANTINED", user, key))
    per_user = []
    if sum(k.active for k in user.keys) > 1:
        per_user.append("MULTIPLE_ACTIVE_KEYS")
    if user.console and not user.mfa:
        per_user.append("CONSOLE_USER_WITHOUT_MFA")
    idle_since = user.password_last_used or user.password_set
    if user.console and idle_since and _over(as_of, idle_since, PASSWORD_UNUSED_DAYS):
        per_user.append("PASSWORD_UNUSED")
    found += [ExpectedFinding(r, user.account_id, user.user_name, None, None) for r in per_user]
    return found + _credential_findings(as_of, user)


def _credential_findings(as_of: datetime, user: UserTruth) -> list[ExpectedFinding]:
    """SSH keys, service-specific credentials and certificates (all active in the demo)."""
    rules = {
        SSH: ("SSH_PUBLIC_KEY_NOT_ROTATED", MAX_SSH_KEY_AGE_DAYS),
        SERVICE: ("SERVICE_CREDENTIAL_NOT_ROTATED", MAX_SERVICE_CREDENTIAL_AGE_DAYS),
        CERTIFICATE: ("SIGNING_CERTIFICATE_NOT_ROTATED", MAX_CERTIFICATE_AGE_DAYS),
    }
    found = []
    for cred in user.credentials:
        rule_id, limit = rules[cred.kind]
        names = [rule_id] if _over(as_of, cred.created, limit) else []
        if cred.service == BEDROCK and cred.expires is None:
            names.append("BEDROCK_API_KEY_WITHOUT_EXPIRY")
        found += [
            ExpectedFinding(r, user.account_id, user.user_name, None, cred.credential_id)
            for r in names
        ]
    return found


def _key_finding(rule_id: str, user: UserTruth, key: KeyTruth) -> ExpectedFinding:
    return ExpectedFinding(rule_id, user.account_id, user.user_name, key.slot, key.access_key_id)

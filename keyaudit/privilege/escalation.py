"""One step from administrator: the known escalation paths, decided on the account's own data.

Each path is a request (or two) the principal may make today that leaves it, or a principal it
can act as, an administrator. "May make" is the evaluator's concrete check (Deny, boundary and
SCPs included), and "leaves it an administrator" is the evaluator run again on the changed
principal: attaching AdministratorAccess to oneself does not lift a permissions boundary or an
SCP, so it is no path under them. A path to an existing administrator (a user to mint a key for,
a role to pass or assume, a group to join) counts only where one exists in the account.

Sources (docs/permissions.md lists each path with its source): Rhino Security Labs, "AWS IAM
Privilege Escalation - Methods and Mitigation" (the 21 methods); PMapper's edge checkers
(iam, sts, ec2, lambda, cloudformation); Prowler's iam_policy_allows_privilege_escalation;
Cloudsplaining's privilege-escalation list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from keyaudit.privilege.documents import ALLOW_EVERYTHING, Policy, Statement, action_mask
from keyaudit.privilege.evaluator import (
    ALLOWED,
    CONDITIONAL,
    NOT_ALLOWED,
    AccountContext,
    Attached,
    Principal,
)
from keyaudit.privilege.patterns import action_matches, arn_matches

ANY_POLICY = Attached("a policy of its choosing", ALLOW_EVERYTHING)

# Services a role can be passed to that then act with the role's permissions, and the calls that
# make them do so (PMapper's ec2/lambda/cloudformation edges, Rhino methods 3-7).
PASS_ROLE_SERVICES: dict[str, tuple[str, ...]] = {
    "ec2.amazonaws.com": ("ec2:RunInstances",),
    "lambda.amazonaws.com": ("lambda:CreateFunction", "lambda:InvokeFunction"),
    "cloudformation.amazonaws.com": ("cloudformation:CreateStack",),
    "glue.amazonaws.com": ("glue:CreateDevEndpoint",),
}


@lru_cache(maxsize=1)
def starting_mask() -> int:
    """Every IAM action some path starts with: a principal whose policies grant none of them,
    on any resource, and that no admin role trusts, is not checked further."""
    mask = 0
    for _, starts in _checks():
        mask |= starts
    return mask


@dataclass(frozen=True)
class Step:
    """A path found: what the principal can do, in words, and whether a Condition gates it."""

    summary: str
    conditional: bool


@dataclass(frozen=True)
class Trust:
    """A role's trust policy: who may assume it (sts:AssumeRole)."""

    statements: tuple[dict[str, Any], ...]
    error: str | None = None

    @classmethod
    def parse(cls, document: Any) -> Trust:
        try:
            raw = json.loads(document) if isinstance(document, str) else document
            body = raw.get("Statement") if isinstance(raw, dict) else None
            listed = body if isinstance(body, list) else [body] if isinstance(body, dict) else None
            if listed is None or not all(isinstance(s, dict) for s in listed):
                raise ValueError("Statement is neither an object nor a list of objects")
        except (ValueError, TypeError) as exc:
            return cls((), error=f"trust policy does not parse: {exc}")
        return cls(tuple(listed))

    def admits(
        self, principal_arn: str, account_id: str, service: str | None = None
    ) -> tuple[int, bool]:
        """(level, named directly) for sts:AssumeRole by the principal (or a service principal).

        Naming the account (`arn:aws:iam::<id>:root` or the bare id) delegates the decision to
        the caller's identity policies; naming the principal itself (or "*") admits it directly.
        """
        level, direct = NOT_ALLOWED, False
        for s in self.statements:
            if not _lists_assume_role(s):
                continue
            hit = _names(s.get("Principal"), principal_arn, account_id, service)
            if hit is None:
                continue
            if s.get("Effect") == "Deny":
                if not s.get("Condition"):
                    return NOT_ALLOWED, False
                level = min(level, CONDITIONAL) if level else level
                continue
            if s.get("Effect") != "Allow":
                continue
            got = CONDITIONAL if s.get("Condition") else ALLOWED
            if got > level or (got == level and hit):
                level, direct = got, hit or direct
        return level, direct


def _values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _lists_assume_role(statement: dict[str, Any]) -> bool:
    actions = _values(statement.get("Action"))
    return any(action_matches(a, "sts:AssumeRole") for a in actions)


def _names(principal: Any, arn: str, account_id: str, service: str | None) -> bool | None:
    """None: the Principal element does not name it; True: named itself; False: its account."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return None
    if service is not None:
        return True if service in _values(principal.get("Service")) else None
    found: bool | None = None
    for value in _values(principal.get("AWS")):
        if value == "*" or value == arn:
            return True
        if value in (account_id, f"arn:{arn.split(':')[1]}:iam::{account_id}:root"):
            found = False
    return found


@dataclass
class Target:
    """Another principal of the account: a user or role, with whether it is an administrator."""

    principal: Principal
    admin: bool
    admin_conditional: bool = False  # an administrator only under a Condition
    trust: Trust | None = None  # roles
    instance_profiles: int = 0  # roles
    key_count: int | None = None  # users
    has_password: bool | None = None  # users


@dataclass
class Account:
    """What the paths need to know of the account besides the principal itself."""

    context: AccountContext
    users: dict[str, Target]
    roles: dict[str, Target]
    groups: dict[str, tuple[str, tuple[Attached, ...]]]  # name -> (arn, its policies)
    policy_versions: dict[str, list[tuple[str, Policy]]]  # customer policy arn -> other versions
    scp_levels: tuple[tuple[Attached, ...], ...] = ()


# A candidate path: what it is, in words, and its requirements, each a thunk returning a level,
# checked in order and only until one is NOT_ALLOWED (the cheap request checks come first).
Candidate = tuple[str, tuple[Callable[[], int], ...]]
Check = Callable[[Principal, "Account"], Iterator[Candidate]]


def escalation(principal: Principal, account: Account, *, has_grant: int) -> Step | None:
    """The first one-step path from `principal` to administrator, or None.

    `has_grant`: the IAM actions its identity policies allow on some resource (a cheap filter).
    """
    if not has_grant & starting_mask() and not _trusted_by_admin_role(principal, account):
        return None
    for check, starts in _checks():
        if starts and not has_grant & starts:
            continue  # its first request needs an IAM action no identity statement allows
        for summary, requirements in check(principal, account):
            level = ALLOWED
            for requirement in requirements:
                level = min(level, requirement())
                if level == NOT_ALLOWED:
                    break
            else:
                return Step(summary, conditional=level == CONDITIONAL)
    return None


def _level(account: Account, p: Principal, action: str, resource: str, **kw: Any) -> int:
    return account.context.level(p, action.lower(), resource, **kw)[0]


def _request(a: Account, p: Principal, action: str, resource: str, **kw: Any) -> Callable[[], int]:
    return lambda: _level(a, p, action, resource, **kw)


def _known(level: int) -> Callable[[], int]:
    return lambda: level


def _admin_after(a: Account, p: Principal, **change: Any) -> Callable[[], int]:
    """The changed principal's standing: ALLOWED (admin), CONDITIONAL or NOT_ALLOWED."""

    def standing() -> int:
        effective = a.context.effective(p, **change)
        if not effective.is_admin(a.context.needs):
            return NOT_ALLOWED
        return CONDITIONAL if effective.is_conditional(a.context.needs) else ALLOWED

    return standing


def _self_policy(p: Principal, a: Account) -> Iterator[Candidate]:
    if p.kind != "user":
        return
    for action, how in (
        ("iam:AttachUserPolicy", "can attach any policy to itself"),
        ("iam:PutUserPolicy", "can write itself any inline policy"),
    ):
        yield (
            f"{how}: {action} on {p.arn}",
            (_request(a, p, action, p.arn), _admin_after(a, p, extra=[ANY_POLICY])),
        )


def _group_policy(p: Principal, a: Account) -> Iterator[Candidate]:
    for group in p.groups:
        arn = a.groups[group][0] if group in a.groups else a.context.arn(f"group/{group}")
        for action in ("iam:AttachGroupPolicy", "iam:PutGroupPolicy"):
            yield (
                f"can give its own group {group} any policy: {action} on {arn}",
                (_request(a, p, action, arn), _admin_after(a, p, extra=[ANY_POLICY])),
            )


def _own_policies(p: Principal) -> list[Attached]:
    return [x for x in p.identity if x.policy.arn and ":iam::aws:" not in x.policy.arn]


def _policy_version(p: Principal, a: Account) -> Iterator[Candidate]:
    for held in _own_policies(p):
        arn = str(held.policy.arn)
        without = frozenset({held.label})
        yield (
            f"can rewrite a policy it holds as its default version: iam:CreatePolicyVersion on {arn}",
            (
                _request(a, p, "iam:CreatePolicyVersion", arn),
                _admin_after(a, p, without=without, extra=[ANY_POLICY]),
            ),
        )
        for version, document in a.policy_versions.get(arn, []):
            swapped = Attached(f"{held.label}, version {version}", document)
            yield (
                f"can make version {version} of a policy it holds the default, which makes it "
                f"an administrator: iam:SetDefaultPolicyVersion on {arn}",
                (
                    _request(a, p, "iam:SetDefaultPolicyVersion", arn),
                    _admin_after(a, p, without=without, extra=[swapped]),
                ),
            )


def _join_group(p: Principal, a: Account) -> Iterator[Candidate]:
    if p.kind != "user":
        return
    for group, (arn, policies) in sorted(a.groups.items()):
        if group not in p.groups:
            yield (
                f"can add itself to the administrators' group {group}: iam:AddUserToGroup on {arn}",
                (
                    _request(a, p, "iam:AddUserToGroup", arn),
                    _admin_after(a, p, extra=list(policies)),
                ),
            )


def _other_user(p: Principal, a: Account) -> Iterator[Candidate]:
    admins = _administrators(a.users, but=p.arn)
    if not admins:
        return
    for action, how, fits in (
        ("iam:CreateAccessKey", "can create an access key for", _room_for_key),
        ("iam:CreateLoginProfile", "can set a console password for", _no_password),
        ("iam:UpdateLoginProfile", "can reset the console password of", _has_password),
    ):
        grants = _grants(p, action)
        for name, user in admins if grants else ():
            arn = user.principal.arn
            if fits(user) and any(_resource_hit(s, arn) for s in grants):
                yield (
                    f"{how} administrator {name}: {action} on {arn}",
                    (_request(a, p, action, arn), _as_admin(user)),
                )


def _room_for_key(user: Target) -> bool:
    return user.key_count is None or user.key_count < 2  # IAM allows two keys a user


def _no_password(user: Target) -> bool:
    return user.has_password is not True  # CreateLoginProfile fails where one exists


def _has_password(user: Target) -> bool:
    return user.has_password is not False


def _grants(p: Principal, action: str) -> list[Statement]:
    """The identity Allow statements naming the action: a quick filter before the full check."""
    lowered = action.lower()
    return [
        s
        for held in p.identity
        for s in held.policy.statements
        if s.allow and s.matches_action(lowered)
    ]


def _resource_hit(s: Statement, resource: str) -> bool:
    return any(arn_matches(r, resource) for r in s.resources) != s.not_resource


def _trusted_by_admin_role(p: Principal, a: Account) -> bool:
    return any(
        r.admin and r.trust is not None and r.trust.admits(p.arn, a.context.account_id)[0]
        for r in a.roles.values()
    )


def _assume(a: Account, p: Principal, role: Target) -> Callable[[], int]:
    """How far p may assume the role today (trust policy, then its own permissions)."""

    def level() -> int:
        assert role.trust is not None
        trusted, direct = role.trust.admits(p.arn, a.context.account_id)
        if not trusted:
            return NOT_ALLOWED
        allowed = _level(a, p, "sts:AssumeRole", role.principal.arn, named_by_resource=direct)
        return min(trusted, allowed)

    return level


def _administrators(targets: dict[str, Target], but: str = "") -> list[tuple[str, Target]]:
    """The administrators among users or roles, unconditional ones first (then by name)."""
    found = [(n, t) for n, t in targets.items() if t.admin and t.principal.arn != but]
    return sorted(found, key=lambda item: (item[1].admin_conditional, item[0]))


def _as_admin(target: Target) -> Callable[[], int]:
    """The target's own standing as a requirement: a conditional administrator makes the path
    conditional."""
    return _known(CONDITIONAL if target.admin_conditional else ALLOWED)


def _admin_roles(a: Account) -> list[tuple[str, Target]]:
    return [(n, r) for n, r in _administrators(a.roles) if r.trust is not None]


def _assume_admin_role(p: Principal, a: Account) -> Iterator[Candidate]:
    for name, role in _admin_roles(a):
        yield (
            f"can assume the administrator role {name}, whose trust policy admits it: "
            f"sts:AssumeRole on {role.principal.arn}",
            (_assume(a, p, role), _as_admin(role)),
        )


def _rewrite_trust(p: Principal, a: Account) -> Iterator[Candidate]:
    for name, role in _admin_roles(a):
        arn = role.principal.arn
        yield (
            f"can make the administrator role {name} trust it, then assume it: "
            f"iam:UpdateAssumeRolePolicy and sts:AssumeRole on {arn}",
            (
                _request(a, p, "iam:UpdateAssumeRolePolicy", arn),
                _request(a, p, "sts:AssumeRole", arn, named_by_resource=True),
                _as_admin(role),
            ),
        )


def _pass_role(p: Principal, a: Account) -> Iterator[Candidate]:
    account = a.context.account_id
    for name, role in _admin_roles(a):
        assert role.trust is not None
        arn = role.principal.arn
        for service, actions in PASS_ROLE_SERVICES.items():
            trusted = role.trust.admits(p.arn, account, service=service)[0]
            if not trusted:
                continue
            prefix = service.split(".")[0]
            probe = f"arn:{a.context.partition}:{prefix}:*:{account}:*"
            requirements = [_request(a, p, "iam:PassRole", arn), _known(trusted), _as_admin(role)]
            requirements += [_request(a, p, x, probe) for x in actions]
            if prefix == "ec2" and not role.instance_profiles:
                profile = a.context.arn("instance-profile/*")
                requirements += [
                    _request(a, p, "iam:CreateInstanceProfile", profile),
                    _request(a, p, "iam:AddRoleToInstanceProfile", profile),
                ]
            yield (
                f"can pass the administrator role {name} to {service} and run code as it: "
                f"iam:PassRole on {arn} with {' and '.join(actions)}",
                tuple(requirements),
            )


def _role_policy(p: Principal, a: Account) -> Iterator[Candidate]:
    """A role it can assume today, which it can also give any policy."""
    for name, role in sorted(a.roles.items()):
        if role.admin or role.trust is None:
            continue
        arn = role.principal.arn
        for action in ("iam:AttachRolePolicy", "iam:PutRolePolicy"):
            yield (
                f"can give the role {name}, which it can assume, any policy: {action} and "
                f"sts:AssumeRole on {arn}",
                (
                    _request(a, p, action, arn),
                    _assume(a, p, role),
                    _admin_after(a, role.principal, extra=[ANY_POLICY]),
                ),
            )


def _new_role(p: Principal, a: Account) -> Iterator[Candidate]:
    """Create a role that trusts it, give it any policy and assume it (three calls, one plan)."""
    arn = a.context.arn("role/keyaudit-escalation-probe")
    new = Principal("role", "new role", arn, (ANY_POLICY,), scp_levels=a.scp_levels)
    for action in ("iam:AttachRolePolicy", "iam:PutRolePolicy"):
        yield (
            f"can create a role that trusts it, give the role any policy and assume it: "
            f"iam:CreateRole and {action} on {a.context.arn('role/*')}",
            (
                _request(a, p, "iam:CreateRole", arn),
                _request(a, p, action, arn),
                _request(a, p, "sts:AssumeRole", arn, named_by_resource=True),
                _admin_after(a, new),
            ),
        )


def _lift_limits(p: Principal, a: Account) -> Iterator[Candidate]:
    """Remove what keeps it from administrator: its boundary, or a policy that denies."""
    if p.kind != "user":
        return
    if p.boundary is not None:
        for action in ("iam:DeleteUserPermissionsBoundary", "iam:PutUserPermissionsBoundary"):
            yield (
                f"can remove its own permissions boundary: {action} on {p.arn}",
                (_request(a, p, action, p.arn), _admin_after(a, p, boundary=False)),
            )
    for held in p.identity:
        if held.direct and any(not s.allow for s in held.policy.statements):
            action = "iam:DetachUserPolicy" if held.policy.arn else "iam:DeleteUserPolicy"
            yield (
                f"can remove the policy that denies it ({held.label}): {action} on {p.arn}",
                (
                    _request(a, p, action, p.arn),
                    _admin_after(a, p, without=frozenset({held.label})),
                ),
            )


# Each path, in the order tried, with the IAM actions its every candidate first requests of the
# principal's identity policies (`_request(a, p, action, …)` leads each requirement list): a
# principal none of whose Allow statements names one of them cannot take the path, whatever the
# resource, so the path is skipped unbuilt. () = the path starts with no IAM request (sts).
_CHECKS: tuple[tuple[Check, tuple[str, ...]], ...] = (
    (_self_policy, ("iam:AttachUserPolicy", "iam:PutUserPolicy")),
    (_group_policy, ("iam:AttachGroupPolicy", "iam:PutGroupPolicy")),
    (_policy_version, ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion")),
    (_join_group, ("iam:AddUserToGroup",)),
    (
        _lift_limits,
        (
            "iam:DeleteUserPermissionsBoundary",
            "iam:PutUserPermissionsBoundary",
            "iam:DetachUserPolicy",
            "iam:DeleteUserPolicy",
        ),
    ),
    (_other_user, ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile")),
    (_assume_admin_role, ()),
    (_rewrite_trust, ("iam:UpdateAssumeRolePolicy",)),
    (_pass_role, ("iam:PassRole",)),
    (_role_policy, ("iam:AttachRolePolicy", "iam:PutRolePolicy")),
    (_new_role, ("iam:CreateRole",)),
)


@lru_cache(maxsize=1)
def _checks() -> tuple[tuple[Check, int], ...]:
    """The paths with the mask of their starting actions (0: no IAM start, always tried)."""
    found = []
    for check, actions in _CHECKS:
        mask = 0
        for action in actions:
            mask |= action_mask(action.lower())
        found.append((check, mask))
    return tuple(found)


# The path names docs/permissions.md lists, with their source, in the order they are tried.
PATHS = (
    ("iam:AttachUserPolicy / iam:PutUserPolicy on itself", "Rhino 8, 11; PMapper iam edges; Prowler"),
    ("iam:AttachGroupPolicy / iam:PutGroupPolicy on its own group", "Rhino 9, 12; Prowler"),
    ("iam:CreatePolicyVersion / iam:SetDefaultPolicyVersion on a policy it holds", "Rhino 1, 2; Prowler"),
    ("iam:AddUserToGroup to an administrators' group", "Rhino 13; PMapper; Prowler"),
    ("iam:DeleteUserPermissionsBoundary / PutUserPermissionsBoundary, iam:DetachUserPolicy / DeleteUserPolicy of a Deny on itself", "Cloudsplaining; PMapper"),
    ("iam:CreateAccessKey / CreateLoginProfile / UpdateLoginProfile for an administrator user", "Rhino 4, 5, 6; PMapper iam edges"),
    ("sts:AssumeRole of an administrator role whose trust policy admits it", "PMapper sts edges"),
    ("iam:UpdateAssumeRolePolicy + sts:AssumeRole of an administrator role", "Rhino 14; PMapper"),
    ("iam:PassRole of an administrator role + ec2:RunInstances / lambda:CreateFunction+InvokeFunction / cloudformation:CreateStack / glue:CreateDevEndpoint", "Rhino 3, 15, 18, 19; PMapper ec2/lambda/cloudformation edges"),
    ("iam:AttachRolePolicy / iam:PutRolePolicy on a role it can assume", "Rhino 10; Prowler"),
    ("iam:CreateRole + iam:AttachRolePolicy / PutRolePolicy + sts:AssumeRole", "Cloudsplaining; AWS's AdministratorAccess-Amplify"),
)  # fmt: skip

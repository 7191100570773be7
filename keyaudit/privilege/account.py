"""One account's users, evaluated: admin, escalation, other or unknown, with the reasoning.

Input: the pages of GetAccountAuthorizationDetails (User, Group, Role, LocalManagedPolicy), the
AWS-managed policy documents fetched for it, and the SCP levels that apply to the account (None
when they could not be read: then no SCP is assumed to deny, and the reason says so).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from keyaudit.model import ACCOUNT_ID_PATTERN
from keyaudit.privilege.documents import Policy, for_principal, parse_policy
from keyaudit.privilege.escalation import Account, Target, Trust, escalation
from keyaudit.privilege.evaluator import AccountContext, Attached, Principal, partition_of
from keyaudit.privilege.patterns import arn_matches

ADMIN, ESCALATION, OTHER, UNKNOWN = "admin", "escalation", "other", "unknown"
# AWS attaches one of these to a user whose key it found exposed (AWS-FACTS.md).
QUARANTINE_POLICIES = (
    "AWSCompromisedKeyQuarantine",
    "AWSCompromisedKeyQuarantineV2",
    "AWSCompromisedKeyQuarantineV3",
)
SCPS_UNREAD = "SCPs not read, none assumed to deny"
ADMINISTRATOR_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_ARN_IN_TEXT = re.compile(rf"arn:[a-z-]+:iam::{ACCOUNT_ID_PATTERN}:user/[^\"\s]+")

ScpLevels = list[tuple[str, list[tuple[str, Any]]]]  # (target id, [(label, document)])


@dataclass(frozen=True)
class UserPrivilege:
    user_name: str
    privilege: str  # admin | escalation | other | unknown
    reason: str
    is_conditional: bool
    quarantine_policy: str | None


def _pages(pages: Iterable[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    return [item for page in pages for item in page.get(key, []) or []]


_PARSED: dict[tuple[str, str | None, str], Policy] = {}
_PARSED_LIMIT = 65536


def _parsed(name: str, arn: str | None, document: Any) -> Policy:
    """A document parsed once per process whatever holds it: AWS-managed policies are the same
    in every account, and inline policies are often copies of one another. The key is the
    document's repr(): equal repr, equal JSON value, and four times cheaper than sorted JSON
    text (a copy whose keys come in another order is merely parsed again)."""
    key = (name, arn, repr(document))
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) >= _PARSED_LIMIT:  # bounded: an organization's documents, not a leak
            _PARSED.clear()
        found = _PARSED[key] = parse_policy(name, arn, document)
    return found


class _Builder:
    def __init__(
        self,
        account_id: str,
        pages: list[Mapping[str, Any]],
        aws_policies: Iterable[Mapping[str, Any]],
        scp_levels: ScpLevels | None,
    ) -> None:
        self.account_id = account_id
        self.documents: dict[str, tuple[str, Any]] = {}
        self.versions: dict[str, list[tuple[str, Any]]] = {}
        for p in _pages(pages, "Policies"):
            for v in p.get("PolicyVersionList", []) or []:
                if v.get("IsDefaultVersion"):
                    self.documents[p["Arn"]] = (str(v.get("VersionId")), v.get("Document"))
                else:
                    self.versions.setdefault(p["Arn"], []).append(
                        (str(v.get("VersionId")), v.get("Document"))
                    )
        self.aws: dict[str, Policy] = {}
        for found in aws_policies:
            arn = found["Policy"]["Arn"]
            version = found["PolicyVersion"]
            self.aws[arn] = self.policy(found["Policy"]["PolicyName"], arn, version.get("Document"))
        self.resolutions: dict[tuple[int, tuple[tuple[str, str], ...]], Policy] = {}
        self.scp_levels = (
            None
            if scp_levels is None
            else tuple(
                tuple(Attached(label, self.policy(label, None, doc)) for label, doc in level)
                for _, level in scp_levels
            )
        )

    def policy(self, name: str, arn: str | None, document: Any) -> Policy:
        if arn and arn in self.aws:
            return self.aws[arn]
        if document is None or isinstance(document, str):  # missing, or text: never shared
            return parse_policy(name, arn, document)
        return _parsed(name, arn, document)

    def resolved(self, policy: Policy, variables: dict[str, str]) -> Policy:
        """The policy with one principal's variables filled in (once per policy and values)."""
        if not policy.has_principal_variables:
            return policy
        key = (id(policy), tuple(sorted(variables.items())))
        found = self.resolutions.get(key)
        if found is None:
            found = self.resolutions[key] = for_principal(policy, variables)
        return found

    def managed(self, arn: str, name: str) -> Policy:
        if arn in self.aws:
            return self.aws[arn]
        if arn.endswith(":iam::aws:policy/AdministratorAccess") and arn not in self.documents:
            # AWS's AdministratorAccess is one statement, Allow * on * (IAM User Guide, "AWS
            # managed policies for job functions"): known without fetching it
            return self.policy(name, arn, ADMINISTRATOR_ACCESS)
        document = self.documents.get(arn, (None, None))[1]
        return self.policy(name, arn, document)

    def attached(
        self, holder: Mapping[str, Any], inline_key: str, owner: str, direct: bool
    ) -> list[Attached]:
        """The inline and managed policies of a user, group or role ('the user', 'group x')."""
        found = [
            Attached(
                f"inline policy {p['PolicyName']} of {owner}",
                self.policy(p["PolicyName"], None, p.get("PolicyDocument")),
                direct,
            )
            for p in holder.get(inline_key, []) or []
        ]
        found += [
            Attached(
                f"managed policy {p['PolicyName']} attached to {owner}",
                self.managed(p["PolicyArn"], p["PolicyName"]),
                direct,
            )
            for p in holder.get("AttachedManagedPolicies", []) or []
        ]
        return found

    def boundary(self, holder: Mapping[str, Any]) -> Attached | None:
        arn = (holder.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if not arn:
            return None
        return Attached(
            f"permissions boundary {arn.rsplit('/', 1)[-1]}",
            self.managed(arn, arn.rsplit("/", 1)[-1]),
        )


def _variables(item: Mapping[str, Any], name_key: str, account_id: str) -> dict[str, str]:
    found = {"aws:principalaccount": account_id}
    if name_key == "UserName":
        found["aws:username"] = str(item.get("UserName"))
        if item.get("UserId"):
            found["aws:userid"] = str(item["UserId"])
    return found


def _principal(
    b: _Builder,
    kind: str,
    item: Mapping[str, Any],
    groups: dict[str, tuple[str, tuple[Attached, ...]]],
    *,
    resolve: bool = True,
) -> Principal:
    """A user or role with its policies; `resolve=False` leaves policy variables unfilled (for
    what needs only its name, ARN and policy list)."""
    name_key = "UserName" if kind == "user" else "RoleName"
    variables = _variables(item, name_key, b.account_id)
    inline_key = "UserPolicyList" if kind == "user" else "RolePolicyList"
    owner = "the user" if kind == "user" else f"role {item[name_key]}"
    identity = b.attached(item, inline_key, owner, True)
    member_of = tuple(item.get("GroupList", []) or ()) if kind == "user" else ()
    for group in member_of:
        identity += list(groups.get(group, ("", ()))[1])
    if resolve:
        identity = [Attached(a.label, b.resolved(a.policy, variables), a.direct) for a in identity]
    return Principal(
        kind=kind,
        name=str(item[name_key]),
        arn=str(item.get("Arn") or ""),
        identity=tuple(identity),
        boundary=b.boundary(item),
        scp_levels=b.scp_levels or (),
        groups=member_of,
    )


def _standing(context: AccountContext, p: Principal) -> tuple[str, bool]:
    if p.undecidable() is not None:
        return UNKNOWN, False
    effective = context.effective(p)
    if effective.is_admin(context.needs):
        return ADMIN, effective.is_conditional(context.needs)
    return OTHER, False


def _admin_standing(context: AccountContext, p: Principal) -> tuple[bool, bool]:
    """(is an administrator, only under a Condition), for a role a path may lead to."""
    privilege, conditional = _standing(context, p)
    return privilege == ADMIN, conditional


def _grant_mask(p: Principal) -> int:
    mask = 0
    for a in p.identity:
        for s in a.policy.statements:
            if s.allow:
                mask |= s.iam_mask
    return mask


def _admin_reason(context: AccountContext, p: Principal) -> str:
    """The identity statement(s) that make the principal an administrator."""
    needs = context.catalogue.needs
    contributing = []
    for a in p.identity:
        for s in a.policy.statements:
            if not s.allow:
                continue
            cover, _ = context.families(s)
            whole = all(
                cover >> f & 1 and need & ~s.iam_mask == 0 for f, need in enumerate(needs) if need
            )
            if whole:
                return f"{a.label}, {s.ref}: {s.describe()}"
            if s.iam_mask and cover:
                contributing.append(f"{a.label}, {s.ref}")
    return "together: " + "; ".join(contributing[:3]) + (" …" if len(contributing) > 3 else "")


def _blocker(context: AccountContext, p: Principal) -> str | None:
    """Why identity policies that would make the principal an administrator do not."""
    alone = Principal(p.kind, p.name, p.arn, p.identity)
    if not context.effective(alone, denies=False).is_admin(context.needs):
        return None
    for a in p.identity:
        for s in a.policy.statements:
            if not s.allow and not s.conditional and s.iam_mask:
                _, meet = context.families(s)
                if meet:
                    return f"{a.label}, {s.ref} {s.describe()}"
    if p.boundary is not None:
        with_boundary = Principal(p.kind, p.name, p.arn, p.identity, p.boundary)
        if not context.effective(with_boundary).is_admin(context.needs):
            return f"its {p.boundary.label} does not allow every IAM action"
    for level in p.scp_levels:
        names = ", ".join(a.label for a in level)
        capped = Principal(p.kind, p.name, p.arn, p.identity, scp_levels=(level,))
        if not context.effective(capped).is_admin(context.needs):
            return f"the SCPs at one level ({names}) do not allow every IAM action"
    return "Deny statements together remove IAM actions"


def _iam_count(context: AccountContext, p: Principal) -> str:
    effective = context.effective(p)
    granted = context.catalogue.all_actions
    for f, need in enumerate(context.catalogue.needs):
        granted &= ~(need & ~context.family_mask(effective.any, f))
    total = len(context.catalogue.actions)
    return f"it may make {bin(granted).count('1')} of the {total} IAM actions on every resource they act on"


PROBE_USER = "keyaudit-probe-user"


def _policy_key(a: Attached) -> tuple[Any, ...] | None:
    """What of one attached policy can decide a privilege, as a value: its label (which reasons
    quote) with the statements that matter, or its error; None when nothing in it matters."""
    if a.policy.error is not None:
        return (a.label, a.policy.error)
    mattering = tuple(s for s in a.policy.statements if s.matters)
    return (a.label, a.direct, mattering) if mattering else None


def _self_patterns(context: AccountContext, policy: Policy) -> tuple[str, ...]:
    """The Resource values of a policy written without variables that name some users and not
    others (`user/alice`): only they can treat one user apart from another."""
    user_family = 1 << context.catalogue.families.index("user")
    found = []
    for s in policy.statements:
        if s.matters and not s.has_variables:
            for r in s.resources:
                cover, meet = context.pattern_families(r)
                if meet & user_family and not cover & user_family:
                    found.append(r)
    return tuple(found)


class Probed(NamedTuple):
    user: Principal  # its policy variables unfilled
    probe: Principal  # the same policies under the probe user's name and ARN
    key: Any  # what its decision is shared under; None: its own
    quarantine: str | None  # the AWS quarantine policy attached to it, if any


def _signature(b: _Builder, raw: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What of a user's listing can decide its privilege, except its name: the ARN's path, the
    inline policies with a statement that matters (or that cannot be read), attachments, groups
    and boundary. An inline policy of S3 or DynamoDB grants only cannot change a decision, and
    no reason quotes it, so users who differ only in such policies are built once. A listing
    without the expected shape gets None and is built on its own."""
    try:
        arn = str(raw.get("Arn") or "")
        inline = []
        for p in raw.get("UserPolicyList") or ():
            policy = b.policy(p["PolicyName"], None, p.get("PolicyDocument"))
            if policy.error is not None or any(s.matters for s in policy.statements):
                inline.append((p["PolicyName"], id(policy)))  # kept alive by the template
        return (
            arn[: len(arn) - len(str(raw["UserName"]))],
            tuple(inline),
            tuple(
                (p["PolicyArn"], p["PolicyName"]) for p in raw.get("AttachedManagedPolicies") or ()
            ),
            tuple(raw.get("GroupList") or ()),
            repr(raw.get("PermissionsBoundary")),
        )
    except (KeyError, TypeError, AttributeError):
        return None


def _quarantine(user: Principal) -> str | None:
    """The AWS-managed quarantine policy attached directly to the user, if any."""
    return next(
        (
            a.policy.name
            for a in user.identity
            if a.direct
            and a.policy.name in QUARANTINE_POLICIES
            and a.policy.arn
            and ":iam::aws:" in a.policy.arn
        ),
        None,
    )


class _Decisions:
    """Each user's privilege, computed once per distinct key and shared by the users it fits."""

    def __init__(
        self,
        context: AccountContext,
        b: _Builder,
        groups: dict[str, tuple[str, tuple[Attached, ...]]],
    ) -> None:
        self.context, self.b, self.groups = context, b, groups
        self.standing: dict[Any, tuple[str, bool]] = {}
        self.outcome: dict[Any, tuple[str, str, bool]] = {}
        self.self_patterns: dict[int, tuple[str, ...]] = {}  # by id(policy), kept alive by users
        self.policy_keys: dict[tuple[str, int], tuple[tuple[Any, ...] | None]] = {}
        self.templates: dict[tuple[Any, ...], Probed] = {}
        self.probe_variables = _variables(
            {"UserName": PROBE_USER, "UserId": "AIDAKEYAUDITPROBE"}, "UserName", b.account_id
        )

    def names_self(self, user: Principal, probe_arn: str) -> bool:
        """Whether the user's own ARN changes its decision, so it cannot be shared."""
        for attached in (*user.identity, *((user.boundary,) if user.boundary else ())):
            policy = attached.policy
            patterns = self.self_patterns.get(id(policy))
            if patterns is None:
                patterns = self.self_patterns[id(policy)] = _self_patterns(self.context, policy)
            for r in patterns:
                if arn_matches(r, user.arn) != arn_matches(r, probe_arn):
                    return True
        return False

    def probe(self, raw: Mapping[str, Any]) -> Probed:
        """The user (variables unfilled), the same user under the probe's name, and the key its
        decision is shared under (None when its own ARN can change the decision).

        Users whose listings hold the same policies that matter (`_signature`) differ only in
        name and ARN: the first one is built, the rest copy it, which is most of an account."""
        signature = _signature(self.b, raw)
        template = self.templates.get(signature) if signature is not None else None
        if template is None:
            user = _principal(self.b, "user", raw, self.groups, resolve=False)
            identity = tuple(
                Attached(a.label, self.b.resolved(a.policy, self.probe_variables), a.direct)
                for a in user.identity
            )
            probe = replace(user, name=PROBE_USER, arn=self.probe_arn(raw), identity=identity)
            template = Probed(user, probe, self.relevant_key(probe), _quarantine(user))
            if signature is not None:
                self.templates[signature] = template
        else:
            user = replace(template.user, name=str(raw["UserName"]), arn=str(raw.get("Arn") or ""))
        key = None if self.names_self(user, template.probe.arn) else template.key
        return Probed(user, template.probe, key, template.quarantine)

    def relevant_key(self, p: Principal) -> tuple[Any, ...]:
        """What decides a user's privilege, as a value: the keys of its policies (unreadable
        ones, those with statements that matter), its boundary's and its groups."""

        def key(a: Attached) -> tuple[Any, ...] | None:
            found = self.policy_keys.get((a.label, id(a.policy)))
            if found is None:
                found = self.policy_keys[(a.label, id(a.policy))] = (_policy_key(a),)
            return found[0]

        identity = tuple(k for k in map(key, p.identity) if k is not None)
        # the probe's ARN carries the user's path: a pattern such as user/dev/* tells users on
        # two paths apart even where it names neither of them
        return (identity, key(p.boundary) if p.boundary else None, p.groups, p.arn)

    def probe_arn(self, raw: Mapping[str, Any]) -> str:
        arn = str(raw.get("Arn") or "")
        return arn[: len(arn) - len(str(raw["UserName"]))] + PROBE_USER


def evaluate_account(
    account_id: str,
    pages: list[Mapping[str, Any]],
    aws_policies: Iterable[Mapping[str, Any]],
    scp_levels: ScpLevels | None,
    *,
    key_counts: Mapping[str, int] | None = None,
    passwords: Mapping[str, bool] | None = None,
) -> list[UserPrivilege]:
    """Every IAM user of the account's authorization details, judged."""
    users_raw = _pages(pages, "UserDetailList")
    partition = partition_of(str(users_raw[0].get("Arn"))) if users_raw else "aws"
    context = AccountContext(partition, account_id)
    b = _Builder(account_id, pages, aws_policies, scp_levels)
    groups = {
        g["GroupName"]: (
            str(g.get("Arn") or context.arn(f"group/{g['GroupName']}")),
            tuple(b.attached(g, "GroupPolicyList", f"group {g['GroupName']}", False)),
        )
        for g in _pages(pages, "GroupDetailList")
    }
    decisions = _Decisions(context, b, groups)
    raw_users = {u["UserName"]: u for u in users_raw}
    probed = {name: decisions.probe(u) for name, u in raw_users.items()}
    trusted = _trust_named(_pages(pages, "RoleDetailList"))
    own: dict[str, Principal] = {}

    def shared(name: str) -> tuple[Principal, Any]:
        """The principal to evaluate for the user, and the key its decision is shared under."""
        user, probe, key, _ = probed[name]
        if key is not None and user.arn not in trusted:
            return probe, key
        if name not in own:  # evaluated as itself, its variables filled in
            own[name] = _principal(b, "user", raw_users[name], groups)
        return own[name], None

    standing: dict[str, tuple[str, bool]] = {}
    for name in probed:
        principal, key = shared(name)
        if key is not None and key in decisions.standing:
            standing[name] = decisions.standing[key]
        else:
            standing[name] = _standing(context, principal)
            if key is not None:
                decisions.standing[key] = standing[name]
    roles = {
        r["RoleName"]: (r, _principal(b, "role", r, groups))
        for r in _pages(pages, "RoleDetailList")
    }
    account = Account(
        context=context,
        users={
            name: Target(
                probed[name][0],
                standing[name][0] == ADMIN,
                admin_conditional=standing[name][1],
                key_count=key_counts.get(name) if key_counts is not None else None,
                has_password=passwords.get(name) if passwords is not None else None,
            )
            for name in probed
        },
        roles={
            name: Target(
                p,
                *_admin_standing(context, p),
                trust=Trust.parse(raw.get("AssumeRolePolicyDocument")),
                instance_profiles=len(raw.get("InstanceProfileList", []) or []),
            )
            for name, (raw, p) in roles.items()
        },
        groups={name: (arn, policies) for name, (arn, policies) in groups.items()},
        policy_versions={
            arn: [(v, b.policy(f"{arn} {v}", arn + "#" + v, d)) for v, d in versions]
            for arn, versions in b.versions.items()
        },
        scp_levels=b.scp_levels or (),
    )
    scp_note = "; " + SCPS_UNREAD if scp_levels is None else ""
    results = []
    for name, (user, _, _, quarantine) in probed.items():
        principal, key = shared(name)
        if key is not None and key in decisions.outcome:
            privilege, reason, conditional = decisions.outcome[key]
        else:
            privilege, reason, conditional = _decide(context, account, principal, standing[name])
            if key is not None:
                decisions.outcome[key] = (privilege, reason, conditional)
        if key is not None:
            reason = reason.replace(principal.arn, user.arn).replace(PROBE_USER, user.name)
        results.append(UserPrivilege(name, privilege, reason + scp_note, conditional, quarantine))
    return results


def _trust_named(roles: Iterable[Mapping[str, Any]]) -> set[str]:
    """User ARNs some trust policy names: such a user's decision is its own."""
    text = " ".join(json.dumps(r.get("AssumeRolePolicyDocument"), sort_keys=True) for r in roles)
    return {arn for arn in _ARN_IN_TEXT.findall(text) if ":user/" in arn}


def _decide(
    context: AccountContext, account: Account, p: Principal, standing: tuple[str, bool]
) -> tuple[str, str, bool]:
    privilege, conditional = standing
    if privilege == UNKNOWN:
        bad = p.undecidable()
        assert bad is not None
        return UNKNOWN, f"cannot be evaluated: {bad.label}: {bad.policy.error}", False
    if privilege == ADMIN:
        reason = _admin_reason(context, p)
        if conditional:
            reason += " — conditional: a Condition gates a grant or a Deny"
        return ADMIN, reason, conditional
    step = escalation(p, account, has_grant=_grant_mask(p))
    if step is not None:
        suffix = " — conditional: a Condition gates a step" if step.conditional else ""
        return ESCALATION, step.summary + suffix, step.conditional
    blocked = _blocker(context, p)
    if blocked:
        return (
            OTHER,
            f"not an administrator: its identity policies would make it one, but {blocked}",
            False,
        )
    return OTHER, f"no one-step path to administrator; {_iam_count(context, p)}", False

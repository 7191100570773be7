"""What a principal may do, as IAM evaluates a request inside one account.

IAM User Guide, "Policy evaluation logic" (identity-based policies with permissions boundaries
and SCPs, same account): a request is denied by an explicit Deny in any of these policies;
otherwise it is allowed only when each applicable kind allows it - the identity policies
(inline, attached managed, and those of the principal's groups), the permissions boundary when
one is set, and the SCPs of every level from the organization root through each OU to the
account (the management account is not subject to SCPs). Resource-based and session policies are
not in the collected data.

Levels: ALLOWED, CONDITIONAL (allowed only under a Condition the auditor cannot check, or with a
Deny whose Condition may or may not apply) and NOT_ALLOWED.

For the question "administrator?", a resource family (every user of the account, every role,
...; see `catalogue`) is granted by an Allow whose Resource covers the whole family, and lost to a
Deny whose Resource meets any of it. Bit masks over the catalogue's IAM actions keep this to a few
integer operations per principal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from keyaudit.privilege.catalogue import IamCatalogue, fill_template, iam_catalogue
from keyaudit.privilege.documents import Policy, Statement
from keyaudit.privilege.patterns import arn_matches, covers, meets

NOT_ALLOWED, CONDITIONAL, ALLOWED = 0, 1, 2
# (pattern, partition) -> (covered, met) families, for patterns whose account segment is only
# wildcards (`arn:aws:iam::*:role/ec2-*`): the same answer in every account
_ACCOUNT_FREE: dict[tuple[str, str], tuple[int, int]] = {}


@dataclass(frozen=True)
class Attached:
    """A policy where it applies: 'managed policy ReadOnlyAccess attached to the user'."""

    label: str
    policy: Policy
    direct: bool = False  # attached to the principal itself (not through a group)


@dataclass(frozen=True)
class Principal:
    """A user or role with every policy that applies to it."""

    kind: str  # "user" | "role"
    name: str
    arn: str
    identity: tuple[Attached, ...]
    boundary: Attached | None = None
    scp_levels: tuple[tuple[Attached, ...], ...] = ()  # root first; () = not subject / none
    groups: tuple[str, ...] = ()

    def layers(self) -> list[tuple[str, tuple[Attached, ...]]]:
        found = [("identity policies", self.identity)]
        if self.boundary is not None:
            found.append(("permissions boundary", (self.boundary,)))
        found += [("SCPs", level) for level in self.scp_levels]
        return found

    def undecidable(self) -> Attached | None:
        """The first applicable policy that cannot be read, if any."""
        for _, attached in self.layers():
            for a in attached:
                if a.policy.error is not None:
                    return a
        return None


@dataclass
class Masks:
    """IAM actions allowed (at all / unconditionally) and denied, for every resource family at
    once: family f holds bits [f * width, (f + 1) * width) of each integer."""

    allow_any: int = 0
    allow_full: int = 0
    deny_full: int = 0
    deny_cond: int = 0

    def merge(self, other: Masks) -> Masks:
        return Masks(
            self.allow_any | other.allow_any,
            self.allow_full | other.allow_full,
            self.deny_full | other.deny_full,
            self.deny_cond | other.deny_cond,
        )


@dataclass
class Effective:
    """What the principal may do on each resource family, after every layer (packed as Masks)."""

    any: int  # allowed at least conditionally
    full: int  # allowed without any condition

    def is_admin(self, needs: int) -> bool:
        return needs & ~self.any == 0

    def is_conditional(self, needs: int) -> bool:
        return needs & ~self.full != 0


@dataclass
class AccountContext:
    """One account's partition and id, with the per-statement results cached for it."""

    partition: str
    account_id: str
    catalogue: IamCatalogue = field(default_factory=iam_catalogue)
    _templates: list[tuple[str | None, ...]] = field(default_factory=list)
    # keyed by id(): each value keeps its object alive, so an id is never reused while cached
    _families: dict[tuple[tuple[str, ...], bool], tuple[int, int]] = field(default_factory=dict)
    _policies: dict[int, tuple[Policy, Masks]] = field(default_factory=dict)
    _layers: dict[tuple[int, ...], Masks] = field(default_factory=dict)
    _patterns: dict[str, tuple[int, int]] = field(default_factory=dict)
    _prefixes: list[str | None] = field(default_factory=list)
    _literal: list[str] = field(default_factory=list)  # each template's text before a name
    _needs: int = 0

    def __post_init__(self) -> None:
        self._templates = [
            tuple(fill_template(t, self.partition, self.account_id))
            for t in self.catalogue.templates
        ]
        self._needs = 0
        for f, need in enumerate(self.catalogue.needs):
            self._needs |= need << (f * self.width)
        self._literal = [_literal_prefix(template) for template in self._templates]
        # a template ending in its only chosen name: its literal prefix decides a literal ARN
        self._prefixes = [
            "".join(t for t in template[:-1] if t is not None)
            if template and template[-1] is None and template.count(None) == 1
            else None
            for template in self._templates
        ]

    @property
    def width(self) -> int:
        return len(self.catalogue.actions)

    @property
    def needs(self) -> int:
        """Every IAM action on every family it acts on, packed."""
        return self._needs

    def spread(self, mask: int, families: int) -> int:
        """An action mask repeated into each family of a family bit set."""
        packed, f = 0, 0
        while families:
            if families & 1:
                packed |= mask << (f * self.width)
            families >>= 1
            f += 1
        return packed

    def family_mask(self, packed: int, family: int) -> int:
        return packed >> (family * self.width) & self.catalogue.all_actions

    def arn(self, kind_and_name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:{kind_and_name}"

    def families(self, statement: Statement) -> tuple[int, int]:
        """(families the statement's resources cover, families they meet) as bit masks."""
        key = (statement.resources, statement.not_resource)
        cached = self._families.get(key)
        if cached is not None:
            return cached
        every = (1 << len(self._templates)) - 1
        bits = [self.pattern_families(r) for r in statement.resources]
        cover = meet = 0
        for c, m in bits:
            cover |= c
            meet |= m
        if statement.not_resource:  # applies to what no NotResource value matches
            cover, meet = every & ~meet, every & ~cover
        self._families[key] = (cover, meet)
        return cover, meet

    def pattern_families(self, pattern: str) -> tuple[int, int]:
        """(covered, met) families of one Resource value; most values are decided by a glance:
        `*`, another service's ARN, or an ARN without wildcards."""
        found = self._patterns.get(pattern)
        if found is not None:
            return found
        every = (1 << len(self._templates)) - 1
        parts = pattern.split(":", 5)
        if pattern == "*":
            found = (every, every)
        elif len(parts) < 6 or parts[0] != "arn":
            found = (0, 0) if "*" not in pattern and "?" not in pattern else self._slow(pattern)
        elif "*" not in parts[2] and "?" not in parts[2] and parts[2] != "iam":
            found = (0, 0)  # another service's resource
        elif "*" not in pattern and "?" not in pattern:
            meet = 0
            for f, prefix in enumerate(self._prefixes):
                if prefix is None:
                    hit = meets(pattern, self._templates[f])
                else:
                    hit = pattern.startswith(prefix) and ":" not in pattern[len(prefix) :]
                if hit:
                    meet |= 1 << f
            found = (0, meet)
        else:
            found = self._slow(pattern)
        self._patterns[pattern] = found
        return found

    def _slow(self, pattern: str) -> tuple[int, int]:
        """Every family matched against a wildcard pattern; a pattern whose account segment is
        all wildcards answers the same in every account of the partition (kept per process)."""
        parts = pattern.split(":", 5)
        shared = len(parts) == 6 and parts[4] and not parts[4].strip("*?")
        key = (pattern, self.partition)
        if shared and key in _ACCOUNT_FREE:
            return _ACCOUNT_FREE[key]
        cover = meet = 0
        literal = re.split(r"[*?]", pattern, maxsplit=1)[0]
        for f, template in enumerate(self._templates):
            fixed = self._literal[f]
            if not (literal.startswith(fixed) or fixed.startswith(literal)):
                continue  # the two disagree on a character both spell out
            if covers(pattern, template):
                cover |= 1 << f
            if meets(pattern, template):
                meet |= 1 << f
        if shared:
            _ACCOUNT_FREE[key] = (cover, meet)
        return cover, meet

    def policy_masks(self, policy: Policy) -> Masks:
        key = id(policy)
        cached = self._policies.get(key)
        if cached is not None:
            return cached[1]
        found = Masks()
        for s in policy.statements:
            if not s.iam_mask:
                continue
            cover, meet = self.families(s)
            if s.allow and cover:
                packed = self.spread(s.iam_mask, cover)
                found.allow_any |= packed
                if not s.conditional:
                    found.allow_full |= packed
            elif not s.allow and meet:
                packed = self.spread(s.iam_mask, meet)
                if s.conditional:
                    found.deny_cond |= packed
                else:
                    found.deny_full |= packed
        self._policies[key] = (policy, found)
        return found

    def layer_masks(self, attached: Iterable[Attached]) -> Masks:
        policies = tuple(a.policy for a in attached)
        key = tuple(id(p) for p in policies)
        found = self._layers.get(key)
        if found is None:
            found = Masks()
            for p in policies:
                found = found.merge(self.policy_masks(p))
            self._layers[key] = found
        return found

    def effective(
        self,
        principal: Principal,
        *,
        extra: Iterable[Attached] = (),
        without: frozenset[str] = frozenset(),
        boundary: bool = True,
        denies: bool = True,
    ) -> Effective:
        """The principal's IAM permissions per family; `extra`, `without` (labels) and
        `boundary` describe a changed principal (after an escalation step); `denies=False`
        asks what the Allows alone would give."""
        identity = [a for a in principal.identity if a.label not in without] + list(extra)
        layers = [self.layer_masks(identity)]
        if boundary and principal.boundary is not None:
            layers.append(self.layer_masks((principal.boundary,)))
        layers += [self.layer_masks(level) for level in principal.scp_levels]
        got_any = got_full = -1
        denied = denied_cond = 0
        for m in layers:
            got_any &= m.allow_any
            got_full &= m.allow_full
            if denies:
                denied |= m.deny_full
                denied_cond |= m.deny_cond
        return Effective(got_any & ~denied, got_full & ~denied & ~denied_cond)

    # concrete requests (escalation steps): one action on one resource ARN

    def level(
        self, principal: Principal, action: str, resource: str, *, named_by_resource: bool = False
    ) -> tuple[int, str | None]:
        """How far the principal may make one request, and the identity statement granting it.

        `named_by_resource`: a resource-based policy in the same account names this principal
        (a role's trust policy naming the user): then identity policies and the boundary need
        not allow it (IAM User Guide, "Policy evaluation logic"), but Denies and SCPs still count.
        """
        layers = principal.layers()
        if named_by_resource:
            layers = [(kind, level) for kind, level in layers if kind == "SCPs"]
        result, grant = ALLOWED, None
        for kind, attached in layers:
            best, why = NOT_ALLOWED, None
            for a in attached:
                for s in a.policy.statements:
                    if s.allow and _matches(s, action, resource):
                        level = CONDITIONAL if s.conditional else ALLOWED
                        if level > best:
                            best, why = level, f"{a.label}, {s.ref}"
            if kind == "identity policies":
                grant = why
            result = min(result, best)
            if result == NOT_ALLOWED:  # one kind that does not allow it decides
                return NOT_ALLOWED, None
        for _, attached in principal.layers():
            for a in attached:
                for s in a.policy.statements:
                    if not s.allow and _matches(s, action, resource):
                        if not s.conditional:
                            return NOT_ALLOWED, None
                        result = min(result, CONDITIONAL)
        return result, grant


def _literal_prefix(template: tuple[str | None, ...]) -> str:
    """The text of a template before its first chosen name."""
    found = []
    for piece in template:
        if piece is None:
            break
        found.append(piece)
    return "".join(found)


def _matches(statement: Statement, action: str, resource: str) -> bool:
    if not statement.matches_action(action):
        return False
    found = any(arn_matches(r, resource) for r in statement.resources)
    return found != statement.not_resource


def partition_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"
